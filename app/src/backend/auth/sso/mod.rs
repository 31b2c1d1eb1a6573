//! Sign-in through identity providers. OpenID Connect: the authorization code flow with PKCE
//! (S256), `state` and `nonce`, the ID token's signature, issuer, audience and expiry verified
//! by the `openidconnect` crate. OAuth2 providers in GitHub's way (no ID token): the same flow
//! without a nonce, and the user read from the provider's user API with the access token.
//!
//! A sign-in is two requests of one browser: [`SignIn::start`] makes the [`Flow`] (kept in the
//! session) and the provider's URL; [`SignIn::finish`] takes the provider's answer with that
//! flow, which it consumes, so a replayed answer finds none.

mod accounts;
pub mod config;

use super::super::Db;
use super::super::http_body::read_capped;
use crate::model::{CurrentUser, LoginOptions, SignInProvider};
use config::{Provider, ProviderKind};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The session key under which a sign-in in progress is kept.
pub const FLOW_KEY: &str = "sso_flow";

/// How long a user may take at the provider.
const FLOW_LIFETIME_SECS: i64 = 600;

/// How long a provider's discovery document (and its keys) is reused.
const METADATA_LIFETIME: Duration = Duration::from_secs(600);

/// A sign-in in progress: what the answer must match. Kept in the user's session between the
/// two requests, never sent to the browser.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flow {
    provider: String,
    state: String,
    nonce: Option<String>,
    verifier: String,
    next: String,
    /// Unix seconds.
    started: i64,
}

impl Flow {
    /// Where the user goes once signed in (a path of this site).
    pub fn next(&self) -> &str {
        &self.next
    }
}

/// The provider's answer at the callback URL (its query string).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Why a sign-in was refused: the HTTP status and a sentence for the user (provider-sent text
/// in it is reduced to letters, digits and `_`).
#[derive(Debug, Clone, PartialEq)]
pub struct SignInError {
    pub status: u16,
    pub message: String,
}

impl SignInError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        SignInError { status, message: message.into() }
    }

    /// The caller's mistake (a stale, foreign or replayed answer).
    fn bad(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    /// The provider's answer does not prove who the user is.
    fn refused(message: impl Into<String>) -> Self {
        Self::new(401, message)
    }

    /// The provider could not be reached or answered what cannot be used.
    fn upstream(provider: &Provider, what: &str, e: impl std::fmt::Display) -> Self {
        tracing::warn!(provider = %provider.id, error = %e, "{what}");
        Self::new(502, format!("{} did not answer as expected ({what}); the server's log says more", provider.name))
    }
}

impl std::fmt::Display for SignInError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// How the site's users sign in: the configured providers, and whether local accounts (a
/// username and a password kept here) may log in.
#[derive(Clone, Debug)]
pub struct SignInSettings {
    pub providers: Vec<Provider>,
    pub local_accounts: bool,
    /// The site's address as browsers reach it (`--external-url`): the providers send users
    /// back to `<external_url>/login/sso/<id>/callback`.
    pub external_url: Option<url::Url>,
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings { providers: Vec::new(), local_accounts: true, external_url: None }
    }
}

/// The most a provider's answer may hold (discovery, keys, tokens, user records are small).
const ANSWER_LIMIT: usize = 1 << 20;

/// The HTTP client of sign-ins: reqwest, reading at most [`ANSWER_LIMIT`] of any answer, so a
/// provider (or anyone between) cannot make the server hold gigabytes.
#[derive(Clone)]
struct Capped(reqwest::Client);

impl<'c> openidconnect::AsyncHttpClient<'c> for Capped {
    type Error = openidconnect::HttpClientError<reqwest::Error>;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<openidconnect::HttpResponse, Self::Error>> + Send + Sync + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request: reqwest::Request = request.try_into().map_err(Box::new)?;
            let res = self.0.execute(request).await.map_err(Box::new)?;
            let mut builder = openidconnect::http::Response::builder().status(res.status());
            for (name, value) in res.headers() {
                builder = builder.header(name, value);
            }
            let body = read_capped(res, ANSWER_LIMIT).await.map_err(openidconnect::HttpClientError::Other)?;
            builder.body(body).map_err(openidconnect::HttpClientError::Http)
        })
    }
}

struct Configured {
    provider: Provider,
    redirect: RedirectUrl,
    /// The discovery document, or the last failure to read it (retried after
    /// [`FAILURE_RETRY`], so a provider that is down is not asked on every click).
    metadata: tokio::sync::Mutex<Option<(Instant, Result<CoreProviderMetadata, String>)>>,
}

/// How long a failed discovery is remembered.
const FAILURE_RETRY: Duration = Duration::from_secs(30);

/// Sign-in through the configured providers. Cheap to clone.
#[derive(Clone)]
pub struct SignIn {
    db: Db,
    providers: Arc<Vec<Configured>>,
    local_accounts: bool,
    http: Capped,
    roles: super::super::roles::Roles,
}

impl SignIn {
    /// Fails when providers are configured without the site's external URL (their redirect
    /// URI is made from it).
    pub fn new(db: Db, settings: &SignInSettings) -> Result<SignIn, String> {
        let mut providers = Vec::new();
        for p in &settings.providers {
            let base = settings.external_url.as_ref().ok_or_else(|| {
                format!("provider {}: --external-url is needed (the provider sends users back to it)", p.id)
            })?;
            let callback = base
                .join(&format!("login/sso/{}/callback", p.id))
                .map_err(|e| format!("provider {}: the callback URL: {e}", p.id))?;
            providers.push(Configured {
                provider: p.clone(),
                redirect: RedirectUrl::from_url(callback),
                metadata: tokio::sync::Mutex::new(None),
            });
        }
        // Providers are the operator's own configuration; still, redirects are not followed
        // (the token and user endpoints answer directly) and no call waits for ever.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("promgen-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map(Capped)
            .map_err(|e| format!("the HTTP client for sign-in: {e}"))?;
        Ok(SignIn {
            roles: super::super::roles::Roles::new(db.clone()),
            db,
            providers: Arc::new(providers),
            local_accounts: settings.local_accounts,
            http,
        })
    }

    /// The login page's choices.
    pub fn options(&self) -> LoginOptions {
        LoginOptions {
            providers: self
                .providers
                .iter()
                .map(|c| SignInProvider { id: c.provider.id.clone(), name: c.provider.name.clone() })
                .collect(),
            local_accounts: self.local_accounts,
            logged_in_next: None,
        }
    }

    /// The display name of provider `id`.
    pub fn name_of(&self, id: &str) -> Option<String> {
        self.provider(id).ok().map(|c| c.provider.name.clone())
    }

    /// Whether usernames and passwords kept here may log in.
    pub fn local_accounts(&self) -> bool {
        self.local_accounts
    }

    fn provider(&self, id: &str) -> Result<&Configured, SignInError> {
        self.providers
            .iter()
            .find(|c| c.provider.id == id)
            .ok_or_else(|| SignInError::new(404, "there is no such sign-in provider"))
    }

    /// Starts a sign-in: the provider's authorization URL to send the browser to, and the
    /// flow to keep in its session. `next` is where the user goes afterwards (only a path of
    /// this site is kept; anything else becomes `/`).
    pub async fn start(&self, id: &str, next: Option<&str>) -> Result<(url::Url, Flow), SignInError> {
        let c = self.provider(id)?;
        let p = &c.provider;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let extra = p.scopes.iter().filter(|s| s.as_str() != "openid").map(|s| Scope::new(s.clone()));
        let (url, state, nonce) = match p.kind {
            ProviderKind::Oidc => {
                let client = self.oidc_client(c).await?;
                let (url, state, nonce) = client
                    .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
                    .add_scopes(extra)
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, Some(nonce.secret().clone()))
            }
            ProviderKind::Github | ProviderKind::Oauth2 => {
                let client = oauth2_client(c);
                let (url, state) = client
                    .authorize_url(CsrfToken::new_random)
                    .add_scopes(p.scopes.iter().map(|s| Scope::new(s.clone())))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, state, None)
            }
        };
        let flow = Flow {
            provider: p.id.clone(),
            state: state.secret().clone(),
            nonce,
            verifier: verifier.secret().clone(),
            next: super::local_redirect(next),
            started: unix_now(),
        };
        Ok((url, flow))
    }

    /// Finishes a sign-in with the provider's answer and the flow this browser started (taken
    /// out of its session: `None` when there is none). Returns the user, made or updated from
    /// the provider's claims.
    pub async fn finish(&self, id: &str, flow: Option<Flow>, answer: Callback) -> Result<CurrentUser, SignInError> {
        let c = self.provider(id)?;
        let p = &c.provider;
        let flow = flow.ok_or_else(|| {
            SignInError::bad(
                "no sign-in is in progress in this browser (it finished, or was started elsewhere); start again",
            )
        })?;
        if flow.provider != p.id {
            return Err(SignInError::bad("this answer is from another provider than the sign-in started with"));
        }
        if unix_now() - flow.started > FLOW_LIFETIME_SECS {
            return Err(SignInError::bad("the sign-in took longer than 10 minutes; start again"));
        }
        let state = answer.state.unwrap_or_default();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(state.as_bytes(), flow.state.as_bytes())) {
            return Err(SignInError::bad("the answer's state does not match the sign-in this browser started"));
        }
        if let Some(error) = answer.error {
            return Err(SignInError::refused(format!("{} refused the sign-in ({})", p.name, word(&error))));
        }
        let code = answer.code.filter(|c| !c.is_empty()).ok_or_else(|| SignInError::bad("the answer has no code"))?;
        let claims = match p.kind {
            ProviderKind::Oidc => self.oidc_claims(c, code, &flow).await?,
            ProviderKind::Github | ProviderKind::Oauth2 => self.oauth2_claims(c, code, &flow).await?,
        };
        let identity = accounts::Identity::from_claims(p, &claims)?;
        let (user, left) = accounts::sign_in(&self.db, p, identity).await?;
        if let Err(e) = self.roles.left_groups(&left).await {
            // The sign-in stands; the subscriptions are checked again at the next change.
            tracing::warn!(error = %e, "cannot end the subscriptions of groups a user left");
        }
        Ok(user)
    }

    async fn metadata(&self, c: &Configured) -> Result<CoreProviderMetadata, SignInError> {
        let mut cached = c.metadata.lock().await;
        match cached.as_ref() {
            Some((at, Ok(m))) if at.elapsed() < METADATA_LIFETIME => return Ok(m.clone()),
            Some((at, Err(e))) if at.elapsed() < FAILURE_RETRY => {
                return Err(SignInError::upstream(&c.provider, "OpenID discovery", e));
            }
            _ => {}
        }
        let issuer = IssuerUrl::new(c.provider.issuer.clone().unwrap_or_default())
            .map_err(|e| SignInError::upstream(&c.provider, "the issuer URL", e))?;
        let found = CoreProviderMetadata::discover_async(issuer, &self.http).await.map_err(|e| e.to_string());
        *cached = Some((Instant::now(), found.clone()));
        found.map_err(|e| SignInError::upstream(&c.provider, "OpenID discovery", e))
    }

    async fn oidc_client(
        &self,
        c: &Configured,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        SignInError,
    > {
        let metadata = self.metadata(c).await?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(c.provider.client_id.clone()),
            c.provider.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(c.redirect.clone()))
    }

    /// The ID token's claims, verified: signature by the provider's keys, issuer, audience,
    /// expiry, nonce, and the access token's hash when the token has one. Claims missing from
    /// the ID token are read from the userinfo endpoint when the provider has one.
    async fn oidc_claims(
        &self,
        c: &Configured,
        code: String,
        flow: &Flow,
    ) -> Result<serde_json::Map<String, serde_json::Value>, SignInError> {
        let p = &c.provider;
        let client = self.oidc_client(c).await?;
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| SignInError::upstream(p, "the provider has no token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| token_refused(p, e))?;
        let id_token = token.id_token().ok_or_else(|| SignInError::refused(format!("{} sent no ID token", p.name)))?;
        let verifier = client.id_token_verifier();
        let nonce = Nonce::new(flow.nonce.clone().unwrap_or_default());
        let verified = id_token.claims(&verifier, &nonce).map_err(|e| {
            tracing::info!(provider = %p.id, error = %e, "an ID token was refused");
            SignInError::refused(format!("{}'s ID token does not hold: {}", p.name, claims_error(&e)))
        })?;
        if let Some(expected) = verified.access_token_hash() {
            let signing = id_token.signing_alg().map_err(|e| SignInError::refused(format!("the ID token: {e}")))?;
            let key =
                id_token.signing_key(&verifier).map_err(|e| SignInError::refused(format!("the ID token: {e}")))?;
            let actual = openidconnect::AccessTokenHash::from_token(token.access_token(), signing, key)
                .map_err(|e| SignInError::refused(format!("the ID token: {e}")))?;
            if actual != *expected {
                return Err(SignInError::refused("the ID token does not belong to the access token"));
            }
        }
        // The token's signature holds, so its payload is what the provider said; read it as
        // JSON to reach any claim the configuration names.
        let mut claims = jwt_payload(&id_token.to_string())
            .ok_or_else(|| SignInError::refused("the ID token's claims cannot be read"))?;
        let wanted = [Some(&p.username_claim), Some(&p.email_claim), Some(&p.name_claim), p.groups_claim.as_ref()];
        let missing = wanted.iter().flatten().any(|k| !claims.contains_key(k.as_str()));
        if missing && let Some(endpoint) = client.user_info_url() {
            let info = self.user_api(p, endpoint.url().clone(), token.access_token().secret()).await?;
            // The userinfo answer must be about the same user (OIDC Core 5.3.2).
            if info.get("sub") != claims.get("sub") {
                return Err(SignInError::refused("the userinfo answer is about another user than the ID token"));
            }
            for (k, v) in info {
                claims.entry(k).or_insert(v);
            }
        }
        Ok(claims)
    }

    /// The user API's answer for the access token the code is exchanged for.
    async fn oauth2_claims(
        &self,
        c: &Configured,
        code: String,
        flow: &Flow,
    ) -> Result<serde_json::Map<String, serde_json::Value>, SignInError> {
        let p = &c.provider;
        let token = oauth2_client(c)
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| token_refused(p, e))?;
        let url = p.user_url.clone().ok_or_else(|| SignInError::upstream(p, "no user_url", "unset"))?;
        self.user_api(p, url, token.access_token().secret()).await
    }

    async fn user_api(
        &self,
        p: &Provider,
        url: url::Url,
        token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, SignInError> {
        let res = self
            .http
            .0
            .get(url)
            .bearer_auth(token)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| SignInError::upstream(p, "the user API", e))?;
        if !res.status().is_success() {
            return Err(SignInError::upstream(p, "the user API", res.status()));
        }
        let body = read_capped(res, ANSWER_LIMIT).await.map_err(|e| SignInError::upstream(p, "the user API", e))?;
        serde_json::from_slice(&body).map_err(|e| SignInError::upstream(p, "the user API's JSON", e))
    }
}

type OAuth2Client = oauth2::basic::BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// A client for an OAuth2 provider (no discovery, no ID token): its two endpoints as set.
fn oauth2_client(c: &Configured) -> OAuth2Client {
    let p = &c.provider;
    let mut client = oauth2::basic::BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_auth_uri(oauth2::AuthUrl::from_url(p.authorize_url.clone().expect("checked in config")))
        .set_token_uri(oauth2::TokenUrl::from_url(p.token_url.clone().expect("checked in config")))
        .set_redirect_uri(c.redirect.clone());
    if let Some(secret) = &p.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    client
}

/// A refused code exchange: the provider's error code (a replayed or expired code is
/// `invalid_grant`) is the user's answer; a transport failure is the provider's.
fn token_refused<RE: std::error::Error + 'static, T: openidconnect::ErrorResponse + 'static>(
    p: &Provider,
    e: openidconnect::RequestTokenError<RE, T>,
) -> SignInError {
    match e {
        openidconnect::RequestTokenError::ServerResponse(r) => {
            let code = serde_json::to_value(&r)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(word))
                .unwrap_or_default();
            if matches!(code.as_str(), "server_error" | "temporarily_unavailable") {
                return SignInError::new(502, format!("{} failed to answer ({code}); try again later", p.name));
            }
            SignInError::refused(format!("{} refused the code ({code}); start again", p.name))
        }
        other => SignInError::upstream(p, "exchanging the code", other),
    }
}

/// What an ID token failed on, in words (the crate's errors name the claim).
fn claims_error(e: &openidconnect::ClaimsVerificationError) -> String {
    use openidconnect::ClaimsVerificationError as E;
    match e {
        E::Expired(_) => "it has expired".into(),
        E::InvalidNonce(_) => "its nonce is not this sign-in's".into(),
        E::InvalidAudience(_) => "it is for another client".into(),
        E::InvalidIssuer(_) => "it is from another issuer".into(),
        E::SignatureVerification(_) => "its signature does not verify".into(),
        other => other.to_string(),
    }
}

/// A provider-sent word as it may be shown: letters, digits, `_` and `-`, at most 64.
fn word(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').take(64).collect()
}

fn jwt_payload(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
