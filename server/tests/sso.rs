//! Sign-in through a real OpenID provider (npm `oidc-provider`, started here; see
//! end2end/support/oidc-provider.mjs): the whole authorization code flow with PKCE, state and
//! nonce, and each way an answer must be refused: a wrong state, a replayed code, a nonce of
//! another sign-in, an expired ID token. Also the GitHub-style OAuth2 kind (the user from a
//! user API: here the provider's userinfo endpoint), groups from the claim, and local
//! accounts turned off.

mod common;
use app::backend::auth::sso::{SignInSettings, config};
use app::backend::{Actor, Backend, Settings};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tokio::io::AsyncBufReadExt;

/// The site's external URL in these tests; the provider sends the browser back under it.
const SITE: &str = "http://promgen.test/";

struct OpenIdProvider {
    issuer: String,
    _child: tokio::process::Child,
}

/// Starts the provider with `env` (see the script for the settings) and waits for its issuer.
async fn provider(env: &[(&str, &str)]) -> OpenIdProvider {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end");
    assert!(
        root.join("node_modules/oidc-provider").is_dir(),
        "npm oidc-provider is missing from end2end/node_modules: run .ci/setup test"
    );
    let mut child = tokio::process::Command::new("node")
        .arg(root.join("support/oidc-provider.mjs"))
        .env("OIDC_REDIRECT_URIS", format!("{SITE}login/sso/corp/callback,{SITE}login/sso/hub/callback"))
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node (Debian's nodejs) runs the OpenID provider");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
        .await
        .expect("the OpenID provider starts within 30 s")
        .unwrap()
        .expect("the OpenID provider prints its issuer");
    let issuer = common::json(&line)["issuer"].as_str().unwrap().to_string();
    // Whatever it prints later is read, so it never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    OpenIdProvider { issuer, _child: child }
}

/// A backend over `b`'s database with these providers (YAML list items) configured.
fn with_providers(b: &Backend, providers: &str, local_accounts: bool) -> Backend {
    let providers = config::parse(&format!("providers:\n{providers}"), |_| None).unwrap();
    let settings = Settings {
        sign_in: SignInSettings { providers, local_accounts, external_url: Some(url::Url::parse(SITE).unwrap()) },
        ..Default::default()
    };
    Backend::with_settings(b.db.clone(), &settings).unwrap()
}

fn corp(issuer: &str) -> String {
    format!(
        "- {{id: corp, name: Corp SSO, issuer: '{issuer}', client_id: promgen, client_secret: promgen-secret, groups_claim: groups, \
         scopes: [openid, profile, email, groups]}}\n"
    )
}

async fn get(app: &Router, path: &str, cookie: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::get(path).header(header::HOST, "promgen.test").header(header::ACCEPT, "text/html");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    common::send(app, req.body(Body::empty()).unwrap()).await
}

fn cookie_of(headers: &axum::http::HeaderMap) -> Option<String> {
    let c = headers.get(header::SET_COOKIE)?.to_str().ok()?;
    Some(c.split(';').next()?.to_string())
}

fn location(headers: &axum::http::HeaderMap) -> String {
    headers.get(header::LOCATION).expect("a redirect").to_str().unwrap().to_string()
}

/// Starts a sign-in through `provider`: the session cookie and the provider's URL.
async fn begin(app: &Router, provider: &str, next: &str) -> (String, url::Url) {
    let (status, headers, body) = get(app, &format!("/login/sso/{provider}?next={}", common::query(next)), None).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    (cookie_of(&headers).expect("a session for the flow"), url::Url::parse(&location(&headers)).unwrap())
}

/// What a user does at the provider: signs in as `login` and consents. Returns the URL the
/// provider sends the browser back to (ours, with the code and state).
async fn at_provider(start: &url::Url, login: &str) -> url::Url {
    let browser =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut res = browser.get(start.clone()).send().await.unwrap();
    for _ in 0..12 {
        let here = res.url().clone();
        if res.status().is_redirection() {
            let to = here.join(res.headers()[header::LOCATION].to_str().unwrap()).unwrap();
            if to.as_str().starts_with(SITE) {
                return to;
            }
            res = browser.get(to).send().await.unwrap();
            continue;
        }
        let page = res.text().await.unwrap();
        let action = between(&page, "action=\"", "\"").unwrap_or_else(|| panic!("a form at the provider:\n{page}"));
        let prompt = between(&page, "name=\"prompt\" value=\"", "\"").unwrap();
        let mut form = vec![("prompt", prompt.to_string())];
        if prompt == "login" {
            form.push(("login", login.to_string()));
            form.push(("password", "any".to_string()));
        }
        res = browser.post(here.join(action).unwrap()).form(&form).send().await.unwrap();
    }
    panic!("the provider never sent the browser back");
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = s.find(start)? + start.len();
    Some(&s[from..from + s[from..].find(end)?])
}

/// Our callback, as the browser follows the provider's redirect.
async fn callback(app: &Router, back: &url::Url, cookie: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    get(app, &back[url::Position::BeforePath..], Some(cookie)).await
}

/// Who the session with `cookie` is logged in as.
async fn whoami(app: &Router, cookie: &str) -> Option<String> {
    use leptos::server_fn::ServerFn;
    let (status, _, body) = common::send(app, common::form(app::api::auth::Whoami::PATH, "", Some(cookie), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    common::json(&body)["username"].as_str().map(str::to_string)
}

fn with_param(url: &url::Url, key: &str, value: &str) -> url::Url {
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.to_string(), if k == key { value.to_string() } else { v.to_string() }))
        .collect();
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

on_both_databases!(signs_in_and_lands_where_it_started, |b: Backend| async move {
    let groups_file = std::env::temp_dir().join(format!(
        "promgen-oidc-groups-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&groups_file, r#"{"alice": ["ops", "sre"]}"#).unwrap();
    let op = provider(&[("OIDC_GROUPS_FILE", groups_file.to_str().unwrap())]).await;
    let b = with_providers(&b, &corp(&op.issuer), true);
    let admin = common::admin(&b).await;
    let dev = b.roles.create_group(&admin, "dev").await.unwrap();
    // Someone made a group named as the provider's "sre": the claim does not fill it.
    let squatter = common::user(&b, "mallory").await;
    b.roles.create_own_group(&squatter, "sre").await.unwrap();
    let app = common::router(&b);

    // The login page offers the provider, keeping where the user was going.
    let (_, _, page) = get(&app, "/login?next=/project/7", None).await;
    assert!(page.contains("Sign in with Corp SSO") && page.contains("/login/sso/corp?next=%2Fproject%2F7"), "{page}");

    let (cookie, start) = begin(&app, "corp", "/project/7").await;
    let q: std::collections::HashMap<_, _> = start.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q.contains_key("state") && q.contains_key("nonce") && q["scope"].contains("openid"), "{q:?}");
    let back = at_provider(&start, "alice").await;
    let (status, headers, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location(&headers), "/project/7");
    let session = cookie_of(&headers).expect("a new session id at sign-in");
    assert_ne!(session, cookie);
    assert_eq!(whoami(&app, &session).await.as_deref(), Some("alice"));
    // The session of the flow is not the signed-in one (the id changed).
    assert_eq!(whoami(&app, &cookie).await, None);

    let (email, first, last): (String, String, String) =
        sqlx::query_as("SELECT email, first_name, last_name FROM users WHERE username = 'alice'")
            .fetch_one(&b.db.pool)
            .await
            .unwrap();
    assert_eq!((email.as_str(), first.as_str(), last.as_str()), ("alice@example.com", "Alice", "Example"));
    let alice = b.auth.directory(&admin, Some("alice")).await.unwrap()[0].id;
    let member_of = |b: Backend| async move {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT g.name FROM group_member m JOIN user_group g ON g.id = m.group_id WHERE m.user_id = $1 ORDER BY g.name",
        )
        .bind(alice.0)
        .fetch_all(&b.db.pool)
        .await
        .unwrap();
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>()
    };
    // The provider's "ops" is made at first sight, marked as the provider's.
    assert_eq!(member_of(b.clone()).await, ["ops"]);
    let (by,): (Option<String>,) =
        sqlx::query_as("SELECT provider FROM user_group WHERE name = 'ops'").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!(by.as_deref(), Some("corp"));

    // The claim is read again at every sign-in; what an admin made stays.
    b.roles.add_group_members(&admin, dev.id, &[alice], app::model::GroupRole::Member).await.unwrap();
    std::fs::write(&groups_file, r#"{"alice": []}"#).unwrap();
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "alice").await;
    let (status, _, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(member_of(b.clone()).await, ["dev"]);
    let (users,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE username = 'alice'").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!(users, 1, "the second sign-in is the same user");

    // A provider that admits only some of its groups refuses the others.
    let only = corp(&op.issuer).replace("groups_claim: groups,", "groups_claim: groups, allowed_groups: [admins],");
    let b = with_providers(&b, &only, true);
    let app = common::router(&b);
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "alice").await;
    let (status, _, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("no group allowed to sign in here"), "{body}");
    let _ = std::fs::remove_file(&groups_file);
});

on_both_databases!(answers_that_do_not_hold_are_refused, |b: Backend| async move {
    let op = provider(&[]).await;
    let b = with_providers(&b, &corp(&op.issuer), true);
    let app = common::router(&b);

    // A wrong state: refused, nobody signed in, and the flow is gone.
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "mallory").await;
    let (status, _, body) = callback(&app, &with_param(&back, "state", "forged"), &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("state does not match"), "{body}");
    assert_eq!(whoami(&app, &cookie).await, None);
    let (status, _, _) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one answer per sign-in");

    // A replayed code: once used, neither the same answer nor the code in a new sign-in works.
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "bob").await;
    let (status, headers, _) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let bob = cookie_of(&headers).unwrap();
    let (status, _, body) = callback(&app, &back, &bob).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (other, start) = begin(&app, "corp", "/").await;
    let state: String = start.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let (status, _, body) = callback(&app, &with_param(&back, "state", &state), &other).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("refused the code (invalid_grant)"), "{body}");
    assert_eq!(whoami(&app, &other).await, None);

    // A nonce of another sign-in: the provider's token names it, and it is refused.
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&with_param(&start, "nonce", "another-sign-in"), "eve").await;
    let (status, _, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("nonce is not this sign-in"), "{body}");
    assert_eq!(whoami(&app, &cookie).await, None);

    // The provider's refusal (the user cancelled) is the user's answer, escaped.
    let (cookie, start) = begin(&app, "corp", "/").await;
    let state: String = start.query_pairs().find(|(k, _)| k == "state").unwrap().1.into_owned();
    let path = format!("/login/sso/corp/callback?state={}&error=access_denied%3Cscript%3E", common::query(&state));
    let (status, _, body) = get(&app, &path, Some(&cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("(access_deniedscript)") && !body.contains("<script"), "{body}");

    // No flow at all, and an unknown provider.
    let (status, _, _) = get(&app, "/login/sso/corp/callback?code=x&state=y", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = get(&app, "/login/sso/nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (users,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE username IN ('mallory', 'eve')")
        .fetch_one(&b.db.pool)
        .await
        .unwrap();
    assert_eq!(users, 0, "no refused sign-in made a user");
});

on_both_databases!(an_expired_id_token_is_refused, |b: Backend| async move {
    // The provider's clock is two minutes behind and its ID tokens live one: each is issued
    // already expired by a minute.
    let op = provider(&[("OIDC_CLOCK_OFFSET", "-120"), ("OIDC_ID_TOKEN_TTL", "60")]).await;
    let b = with_providers(&b, &corp(&op.issuer), true);
    let app = common::router(&b);
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "late").await;
    let (status, _, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(body.contains("it has expired"), "{body}");
    assert_eq!(whoami(&app, &cookie).await, None);
});

on_both_databases!(oauth2_providers_and_local_accounts, |b: Backend| async move {
    // GitHub's way: no ID token; the user comes from a user API with the access token. The
    // provider's userinfo endpoint plays GitHub's /user (its fields named in the settings).
    let op = provider(&[]).await;
    let hub = format!(
        "- {{id: hub, kind: oauth2, name: Hub, client_id: promgen, client_secret: promgen-secret, \
         authorize_url: '{0}/auth', token_url: '{0}/token', user_url: '{0}/me', scopes: [openid, profile], \
         subject_field: sub, username_claim: preferred_username}}\n",
        op.issuer
    );
    let b = with_providers(&b, &format!("{}{hub}", corp(&op.issuer)), false);
    common::user(&b, "carol").await;
    let app = common::router(&b);

    let (cookie, start) = begin(&app, "hub", "/search?q=x").await;
    assert!(!start.query_pairs().any(|(k, _)| k == "nonce"), "{start}");
    let back = at_provider(&start, "dave").await;
    let (status, headers, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(location(&headers), "/search?q=x");
    assert_eq!(whoami(&app, &cookie_of(&headers).unwrap()).await.as_deref(), Some("dave"));

    // A first sign-in may not take over an account of the same name made here...
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "carol").await;
    let (status, _, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // ...unless the provider may link, and its verified email is the account's (never an
    // admin's account).
    let linking = with_providers(&b, &corp(&op.issuer).replace("groups_claim: groups,", "link_existing: true,"), true);
    let app = common::router(&linking);
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "carol").await;
    let (status, _, _) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::CONFLICT, "the account's email is not the provider's");
    sqlx::query("UPDATE users SET email = 'Carol@example.com' WHERE username = 'carol'")
        .execute(&b.db.pool)
        .await
        .unwrap();
    let (cookie, start) = begin(&app, "corp", "/").await;
    let back = at_provider(&start, "carol").await;
    let (status, headers, body) = callback(&app, &back, &cookie).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(whoami(&app, &cookie_of(&headers).unwrap()).await.as_deref(), Some("carol"));
    let b = with_providers(&b, &format!("{}{hub}", corp(&op.issuer)), false);
    let app = common::router(&b);

    // Local accounts are off: the password form is gone and a password login is refused.
    let (_, _, page) = get(&app, "/login", None).await;
    assert!(page.contains("Sign in with Hub") && !page.contains("type=\"password\""), "{page}");
    let (status, _, body) =
        common::send(&app, common::form("/api/login", "username=carol&password=password-of-test", None, None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("identity providers"), "{body}");
    let _ = Actor::System;
});
