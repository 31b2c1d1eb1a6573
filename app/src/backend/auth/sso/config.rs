//! The identity providers of a site, read from a YAML file (`--sign-in-providers`):
//!
//! ```yaml
//! providers:
//!   - id: corp                  # [a-z0-9-], in the URLs /login/sso/corp[/callback]
//!     name: Corporate SSO       # the login button says "Sign in with Corporate SSO"
//!     issuer: https://sso.example.com/realms/main   # OpenID discovery
//!     client_id: promgen
//!     client_secret_env: PROMGEN_SSO_CORP_SECRET    # or client_secret: ...
//!     groups_claim: groups      # optional: the claim listing the user's groups
//!   - id: github
//!     kind: github              # OAuth2 without an ID token: the user comes from its user API
//!     name: GitHub
//!     client_id: ...
//!     client_secret_env: PROMGEN_SSO_GITHUB_SECRET
//! ```

use serde::Deserialize;

/// What kind of protocol a provider speaks.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenID Connect: discovery from the issuer, an ID token verified by its keys.
    #[default]
    Oidc,
    /// OAuth2 in GitHub's way: no ID token; the user is read from `user_url` with the access
    /// token. The URLs default to github.com's (set them for GitHub Enterprise).
    Github,
    /// OAuth2 with a user API at other URLs (all three must be set); fields as `github`'s
    /// unless set.
    Oauth2,
}

/// One identity provider, as configured.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub kind: ProviderKind,
    /// OIDC: the issuer URL (`/.well-known/openid-configuration` is read from it).
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The environment variable holding the client secret (keeps it out of the file).
    pub client_secret_env: Option<String>,
    /// Scopes asked for; by default `openid profile email` (OIDC), `read:user user:email`
    /// (GitHub), none (OAuth2). `openid` is always asked of OIDC providers.
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    /// The claim (or user API field) that becomes the username: by default
    /// `preferred_username` (OIDC) or `login` (GitHub).
    pub username_claim: Option<String>,
    /// The claim or field with the user's email (default `email`).
    pub email_claim: Option<String>,
    /// The claim or field naming the user (default `name`).
    pub name_claim: Option<String>,
    /// OAuth2: the user API's field with the stable user id (default `id`).
    pub subject_field: Option<String>,
    /// The claim listing the user's groups (strings); the user is a member of this
    /// provider's groups of those names (made at first sight, marked as the provider's), set
    /// at every sign-in. None: groups are managed here.
    pub groups_claim: Option<String>,
    /// Only users in one of these groups (of the groups claim) may sign in; others are
    /// refused (403). None: every user the provider signs in.
    pub allowed_groups: Option<Vec<String>>,
    /// At a first sign-in whose username exists already without any provider (a local or
    /// imported account): link the two when the provider's verified email is the account's
    /// email (never a site admin's account). Off, such a sign-in is refused.
    #[serde(default)]
    pub link_existing: bool,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub user_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    providers: Vec<ProviderConfig>,
}

/// A provider's configuration with every default applied and checked.
#[derive(Clone, Debug)]
pub struct Provider {
    pub id: String,
    pub name: String,
    pub kind: ProviderKind,
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    pub username_claim: String,
    pub email_claim: String,
    pub name_claim: String,
    pub subject_field: String,
    pub groups_claim: Option<String>,
    pub allowed_groups: Option<Vec<String>>,
    pub link_existing: bool,
    pub authorize_url: Option<url::Url>,
    pub token_url: Option<url::Url>,
    pub user_url: Option<url::Url>,
}

/// Reads a providers file. Errors name each wrong setting, one per line.
pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Vec<Provider>, String> {
    let file: File = serde_yaml::from_str(text).map_err(|e| format!("the providers file: {e}"))?;
    let mut errors = Vec::new();
    let mut providers = Vec::new();
    for p in file.providers {
        match check(p, &env) {
            Ok(p) if providers.iter().any(|q: &Provider| q.id == p.id) => {
                errors.push(format!("provider {}: the id is used twice", p.id))
            }
            Ok(p) => providers.push(p),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(providers) } else { Err(errors.join("\n")) }
}

fn check(p: ProviderConfig, env: &impl Fn(&str) -> Option<String>) -> Result<Provider, Vec<String>> {
    let mut errors = Vec::new();
    let id = p.id.clone();
    let mut wrong = |what: String| errors.push(format!("provider {id}: {what}"));
    if p.id.is_empty()
        || p.id.len() > 40
        || !p.id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        wrong("the id must be 1 to 40 of a-z, 0-9 and -".into());
    }
    if p.name.trim().is_empty() {
        wrong("name is required".into());
    }
    if p.client_id.trim().is_empty() {
        wrong("client_id is required".into());
    }
    let secret = match (&p.client_secret, &p.client_secret_env) {
        (Some(_), Some(_)) => {
            wrong("set client_secret or client_secret_env, not both".into());
            None
        }
        (Some(s), None) => Some(s.clone()),
        (None, Some(var)) => match env(var) {
            Some(s) if !s.is_empty() => Some(s),
            _ => {
                wrong(format!("client_secret_env names {var}, which is not set"));
                None
            }
        },
        (None, None) => None,
    };
    let mut url = |field: &str, value: &Option<String>, default: Option<&str>| -> Option<url::Url> {
        let v = value.as_deref().or(default)?;
        match url::Url::parse(v) {
            // Tokens and secrets travel on these: plain http only to this machine (tests,
            // a provider beside the server).
            Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && loopback(&u)) => Some(u),
            _ => {
                wrong(format!("{field} must be an https URL (http only to this machine), not {v:?}"));
                None
            }
        }
    };
    let github = p.kind == ProviderKind::Github;
    let authorize_url =
        url("authorize_url", &p.authorize_url, github.then_some("https://github.com/login/oauth/authorize"));
    let token_url = url("token_url", &p.token_url, github.then_some("https://github.com/login/oauth/access_token"));
    let user_url = url("user_url", &p.user_url, github.then_some("https://api.github.com/user"));
    let issuer = url("issuer", &p.issuer, None);
    match p.kind {
        ProviderKind::Oidc if issuer.is_none() && p.issuer.is_none() => wrong("issuer is required".into()),
        ProviderKind::Oauth2 if p.authorize_url.is_none() || p.token_url.is_none() || p.user_url.is_none() => {
            wrong("kind oauth2 needs authorize_url, token_url and user_url".into())
        }
        _ => {}
    }
    if p.allowed_groups.is_some() && p.groups_claim.is_none() {
        wrong("allowed_groups needs groups_claim".into());
    }
    if p.kind != ProviderKind::Oidc && p.issuer.is_some() {
        wrong("issuer is for OIDC providers; this one has authorize_url, token_url and user_url".into());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let oidc = p.kind == ProviderKind::Oidc;
    let default_scopes: &[&str] = match p.kind {
        ProviderKind::Oidc => &["openid", "profile", "email"],
        ProviderKind::Github => &["read:user", "user:email"],
        ProviderKind::Oauth2 => &[],
    };
    Ok(Provider {
        id: p.id,
        name: p.name.trim().to_string(),
        kind: p.kind,
        // The issuer as written: ID tokens must name it exactly.
        issuer: p.issuer.filter(|_| oidc),
        client_id: p.client_id,
        client_secret: secret,
        scopes: p.scopes.unwrap_or_else(|| default_scopes.iter().map(|s| s.to_string()).collect()),
        username_claim: p.username_claim.unwrap_or_else(|| if oidc { "preferred_username" } else { "login" }.into()),
        email_claim: p.email_claim.unwrap_or_else(|| "email".into()),
        name_claim: p.name_claim.unwrap_or_else(|| "name".into()),
        subject_field: p.subject_field.unwrap_or_else(|| if oidc { "sub" } else { "id" }.into()),
        groups_claim: p.groups_claim,
        allowed_groups: p.allowed_groups,
        link_existing: p.link_existing,
        authorize_url,
        token_url,
        user_url,
    })
}

/// Whether a URL's host is this machine.
fn loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_kind() {
        let ps = parse(
            "providers:\n- {id: corp, name: Corp, issuer: 'https://sso.example.com/', client_id: p, client_secret_env: S}\n\
             - {id: github, kind: github, name: GitHub, client_id: g, client_secret: x}\n",
            |v| (v == "S").then(|| "secret".to_string()),
        )
        .unwrap();
        assert_eq!(ps[0].client_secret.as_deref(), Some("secret"));
        assert_eq!(ps[0].username_claim, "preferred_username");
        assert_eq!(ps[0].scopes, ["openid", "profile", "email"]);
        assert_eq!(ps[1].username_claim, "login");
        assert_eq!(ps[1].user_url.as_ref().unwrap().as_str(), "https://api.github.com/user");
    }

    #[test]
    fn every_wrong_setting_is_named() {
        let e = parse(
            "providers:\n- {id: Corp!, name: '', client_id: p, client_secret_env: NOPE}\n\
             - {id: x, kind: oauth2, name: X, client_id: g}\n\
             - {id: y, kind: github, name: Y, client_id: g}\n- {id: y, kind: github, name: Z, client_id: g}\n",
            |_| None,
        )
        .unwrap_err();
        for part in [
            "provider Corp!: the id must be",
            "provider Corp!: name is required",
            "NOPE, which is not set",
            "provider Corp!: issuer is required",
            "provider x: kind oauth2 needs",
            "provider y: the id is used twice",
        ] {
            assert!(e.contains(part), "{part:?} missing from:\n{e}");
        }
        assert!(parse("providers: [{id: a, name: A, client_id: c, issuer: x, bogus: 1}]", |_| None).is_err());
        // Secrets do not travel over plain http to another machine.
        let e = parse("providers: [{id: a, name: A, client_id: c, issuer: 'http://sso.example.com'}]", |_| None);
        assert!(e.unwrap_err().contains("must be an https URL"));
        assert!(
            parse("providers: [{id: a, name: A, client_id: c, issuer: 'http://127.0.0.1:8080'}]", |_| None).is_ok()
        );
    }
}
