//! Refusals carried in a page's address are ours only. A form posted without JavaScript that
//! the server refuses is sent back to its page with the refusal in the query (server_fn:
//! `?__path=/api/…&__err=<base64 of the error>`), and the page shows it, as does the browser's
//! router after hydration. Anyone could write such a link ("Your session expired: call …" on
//! our page, in our style). So:
//! - the refusal a server function sends a plain form back with is signed (`__sig`): an
//!   HMAC-SHA256, under a key made at start, of the function, the error, the page's path, the
//!   session (its id, none for a visitor, whose only refusals are a login's) and when the
//!   signature lapses (ten minutes on); a script's (a token's) is not signed;
//! - a request whose address holds a refusal that is not signed so, or holds one of the three
//!   parameters twice, is sent to the same address without them (`303 See Other`), names
//!   compared as the router reads them (decoded: `%5F_err` is `__err`);
//! - any other redirect (a login's `next`) loses refusal parameters, and a signed refusal
//!   carries only the one just made (server_fn adds its own to the page's address, after any
//!   already there).

use app::error::AppError;
use app::model::validate::FieldError;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// How long a signed refusal is shown for, in seconds (a reload within it shows it again).
const LIFETIME_SECS: i64 = 600;

use app::error::ADDRESS_REFUSAL_PARAMS as PARAMS;

/// The header server_fn marks its refusals with (`server_fn::error::SERVER_FN_ERROR_HEADER`).
const REFUSAL_HEADER: &str = "serverfnerror";

/// The key refusals are signed with: 32 random bytes, made at start (after a restart an old
/// refusal link is drawn without its message).
#[derive(Clone)]
pub struct RefusalKey(Arc<[u8; 32]>);

/// What a refusal's signature binds: the server function, its error (as in the address), the
/// page's path and the session the refusal was made for.
struct Bound<'a> {
    function: &'a str,
    err: &'a str,
    page: &'a str,
    session: &'a str,
}

impl RefusalKey {
    /// A new random key.
    pub fn new() -> Self {
        RefusalKey(Arc::new(rand::random()))
    }

    fn mac(&self, bound: &Bound, expires: i64) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0[..]).expect("HMAC takes any key length");
        // Each part's length first: no two different bindings write the same bytes.
        for part in [bound.function, bound.err, bound.page, bound.session, &expires.to_string()] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The signature of `bound`, lapsing at `expires` (Unix seconds): `<expires>-<32 hex
    /// digits>` (the first 16 bytes of the HMAC).
    fn sign(&self, bound: &Bound, expires: i64) -> String {
        let tag: String =
            self.mac(bound, expires).finalize().into_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{expires}-{tag}")
    }

    /// Whether `sig` signs `bound` and has not lapsed at `now`; compared in constant time.
    fn verify(&self, bound: &Bound, sig: &str, now: i64) -> bool {
        let Some((expires, tag)) = sig.split_once('-') else { return false };
        let Ok(expires) = expires.parse::<i64>() else { return false };
        let Some(tag) = hex(tag).filter(|t| t.len() == 16) else { return false };
        now < expires && self.mac(bound, expires).verify_truncated_left(&tag).is_ok()
    }
}

impl Default for RefusalKey {
    fn default() -> Self {
        Self::new()
    }
}

/// Signs the refusal a server function sends a plain form back with (its `Location`), keeps
/// a server function's redirect on this site (server_fn sends a plain form back to its
/// `Referer`, which a script may set to anywhere), takes refusal parameters out of every
/// other redirect, and sends a request with an unsigned (or
/// wrongly signed, lapsed, repeated) refusal to the same address without it (`303 See
/// Other`; any other method than GET and HEAD has it taken out and goes on).
pub async fn signed(State(key): State<RefusalKey>, mut req: Request, next: Next) -> Response {
    let session = session_id(&req);
    // A script's call (a token: `require_login` marked it) is not a page's: its refusal is
    // not signed. (Signed without a session, it would show on anyone's page, in the script's
    // words.) A proxy's own `Authorization` (basic auth) is no token.
    let signable = req.extensions().get::<app::backend::auth::TokenCaller>().is_none();
    if let Some(pairs) = req.uri().query().map(pairs).filter(|p| p.iter().any(is_refusal)) {
        let one = |name: &str| {
            let mut values = pairs.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str());
            values.next().filter(|_| values.next().is_none())
        };
        let genuine = match (one("__path"), one("__err"), one("__sig")) {
            // A visitor's refusal (a login's, whose words are fixed) was signed before the
            // session had an id, which it may have now.
            (Some(function), Some(err), Some(sig)) => [session.as_str(), ""]
                .into_iter()
                .any(|session| key.verify(&Bound { function, err, page: req.uri().path(), session }, sig, now())),
            _ => false,
        };
        if !genuine && let Some(uri) = without_refusal(req.uri()) {
            if req.method() == Method::GET || req.method() == Method::HEAD {
                let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
                return (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response();
            }
            *req.uri_mut() = uri;
        }
    }
    let server_function = req.method() == Method::POST && req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let refused = signable && res.headers().contains_key(REFUSAL_HEADER);
    if res.status().is_redirection()
        && let Some(location) = res.headers().get(header::LOCATION).and_then(|l| l.to_str().ok())
    {
        let here = server_function.then(|| on_this_site(location)).filter(|l| l != location);
        let location = here.as_deref().unwrap_or(location);
        if let Some(tidy) = tidy_location(&key, location, refused.then_some(session.as_str())).or(here)
            && let Ok(value) = HeaderValue::from_str(&tidy)
        {
            res.headers_mut().insert(header::LOCATION, value);
        }
    }
    res
}

/// A redirect's target as a path of this site: an absolute URL (a `Referer`'s, whatever its
/// host) by its path and query, read as a browser reads it (tabs and line breaks dropped, `\\`
/// as `/`), and starting with one `/` (`//host` is another host).
fn on_this_site(target: &str) -> String {
    let Some(u) = read_target(target) else { return "/".to_string() };
    match u.query() {
        Some(q) => format!("{}?{q}", page_path_of(&u)),
        None => page_path_of(&u),
    }
}

/// A redirect's target (absolute, or from the root) as the browser reads it.
fn read_target(target: &str) -> Option<url::Url> {
    let root = url::Url::parse("http://localhost/").expect("a URL");
    url::Url::options().base_url(Some(&root)).parse(target).ok()
}

/// The target's path, with one leading `/`.
fn page_path_of(u: &url::Url) -> String {
    format!("/{}", u.path().trim_start_matches(['/', '\\']))
}

/// The id of the request's session (its cookie's), empty for a visitor without one.
fn session_id(req: &Request) -> String {
    req.extensions().get::<tower_sessions::Session>().and_then(|s| s.id()).map(|id| id.to_string()).unwrap_or_default()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn is_refusal((name, _): &(String, String)) -> bool {
    PARAMS.contains(&name.as_str())
}

/// `location` (a redirect's) without refusal parameters, but for a refusal just made
/// (`session`: the refusing request's), whose last `__path` and `__err` (the ones server_fn
/// added) stay, signed. `None` when there is nothing to change.
fn tidy_location(key: &RefusalKey, location: &str, session: Option<&str>) -> Option<String> {
    let (base, query) = location.split_once('?')?;
    let all = pairs(query);
    if !all.iter().any(is_refusal) {
        return None;
    }
    let last = |name: &str| all.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut kept: Vec<(String, String)> = all.iter().filter(|p| !is_refusal(p)).cloned().collect();
    if let (Some(session), Some(function), Some(err)) = (session, last("__path"), last("__err"))
        && let Some(err) = shown_refusal(&function, &err, session.is_empty())
    {
        let page = page_path(base);
        let sig = key.sign(&Bound { function: &function, err: &err, page: &page, session }, now() + LIFETIME_SECS);
        kept.extend([("__path".into(), function), ("__err".into(), err), ("__sig".into(), sig)]);
    }
    let query = encode(&kept);
    Some(if query.is_empty() { base.to_string() } else { format!("{base}?{query}") })
}

/// The refusal `err` (of the server function `function`) as it may go back into the address:
/// for a visitor (no session, so the signature would do for anyone) only a refusal in fixed
/// words (a login's: wrong credentials, too many tries), else `None`; a long message cut to
/// [`SHOWN_CHARS`] (a host name of 50 KB made an address browsers answer with a bare 414).
fn shown_refusal(function: &str, err: &str, visitor: bool) -> Option<String> {
    use leptos::server_fn::error::ServerFnUrlError;
    let refusal = ServerFnUrlError::<AppError>::decode_err(err);
    if visitor && !matches!(refusal, AppError::WrongCredentials | AppError::TooManyRequests { .. }) {
        return None;
    }
    if err.len() <= SHOWN_CHARS {
        return Some(err.to_string());
    }
    let cut = |text: &str| app::model::shortened(text, SHOWN_CHARS);
    let shorter = match refusal {
        AppError::Invalid(f) => AppError::Invalid(FieldError { message: cut(&f.message), ..f }),
        AppError::Conflict(f) => AppError::Conflict(FieldError { message: cut(&f.message), ..f }),
        other => AppError::Request(cut(&other.to_string())),
    };
    let url = ServerFnUrlError::new(function, shorter).to_url("http://localhost/").ok()?;
    url.query_pairs().find(|(k, _)| k == "__err").map(|(_, v)| v.into_owned())
}

/// How much of a refusal's message goes back in an address, in characters.
const SHOWN_CHARS: usize = 1000;

/// The path of a redirect's target: absolute (`http://host/project/1`) or from the root.
fn page_path(target: &str) -> String {
    read_target(target).map(|u| page_path_of(&u)).unwrap_or_default()
}

/// `uri` without a refusal's parameters (and without a `?` when nothing else was asked).
fn without_refusal(uri: &Uri) -> Option<Uri> {
    let query = app::error::without_address_refusal(uri.query()?)?;
    let path = uri.path();
    let target = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(target.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// A query's pairs, names and values decoded (as the router reads them).
fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Bytes from hex digits; `None` for anything else.
fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig_of(location: &str) -> String {
        pairs(location.split_once('?').unwrap().1).into_iter().find(|(k, _)| k == "__sig").unwrap().1
    }

    #[test]
    fn a_server_functions_redirect_stays_on_this_site() {
        assert_eq!(on_this_site("/project/1?x=1"), "/project/1?x=1");
        assert_eq!(on_this_site("https://evil.example/x?__err=a"), "/x?__err=a");
        assert_eq!(on_this_site("//evil.example/x"), "/x");
        assert_eq!(on_this_site("/\\evil.example/x"), "/x");
        assert_eq!(on_this_site("http://127.0.0.1:3000/"), "/");
        // An attacker's (the second review's): a path of two slashes, a tab, a backslash.
        assert_eq!(on_this_site("https://evil.example//evil2.example/x"), "/evil2.example/x");
        assert_eq!(on_this_site("http://127.0.0.1:3000//evil.example/x"), "/evil.example/x");
        assert_eq!(on_this_site("http://127.0.0.1:3000/\\evil.example/x"), "/evil.example/x");
        assert_eq!(on_this_site("http://127.0.0.1:3000/\t/evil.example"), "/evil.example");
        assert_eq!(on_this_site("/\t/evil.example/x"), "/x");
        assert_eq!(on_this_site("javascript:alert(1)"), "/alert(1)");
    }

    #[test]
    fn a_signed_refusal_verifies_for_its_page_and_session_only() {
        let key = RefusalKey::new();
        let made = "http://x/project/1?tab=a&__path=%2Fapi%2Fadd&__err=abc";
        let signed = tidy_location(&key, made, Some("s1")).unwrap();
        let sig = sig_of(&signed);
        let bound = |function, err, page, session| Bound { function, err, page, session };
        let now = now();
        assert!(key.verify(&bound("/api/add", "abc", "/project/1", "s1"), &sig, now));
        assert!(!key.verify(&bound("/api/add", "abd", "/project/1", "s1"), &sig, now), "another error");
        assert!(!key.verify(&bound("/api/other", "abc", "/project/1", "s1"), &sig, now), "another function");
        assert!(!key.verify(&bound("/api/add", "abc", "/project/2", "s1"), &sig, now), "another page");
        assert!(!key.verify(&bound("/api/add", "abc", "/project/1", "s2"), &sig, now), "another session");
        assert!(!key.verify(&bound("/api/add", "abc", "/project/1", "s1"), &sig, now + LIFETIME_SECS), "lapsed");
        assert!(!RefusalKey::new().verify(&bound("/api/add", "abc", "/project/1", "s1"), &sig, now), "another key");
        assert!(!key.verify(&bound("/api/add", "abc", "/project/1", "s1"), &sig[..sig.len() - 2], now), "cut short");
        assert!(!key.verify(&bound("/api/add", "abc", "/project/1", "s1"), "", now));
    }

    #[test]
    fn only_the_refusal_just_made_is_signed() {
        let key = RefusalKey::new();
        // An address that already held a refusal (a forged one) gets server_fn's after it.
        let real = encoded(AppError::WrongCredentials);
        let made =
            format!("http://x/login?__path=%2Fapi%2Flogin&__err=FORGED&__sig=1-00&__path=%2Fapi%2Flogin&__err={real}");
        let signed = tidy_location(&key, &made, Some("")).unwrap();
        let pairs = pairs(signed.split_once('?').unwrap().1);
        assert_eq!(pairs.iter().filter(|(k, _)| k == "__err").map(|(_, v)| v.as_str()).collect::<Vec<_>>(), [real]);
        assert_eq!(pairs.iter().filter(|(k, _)| k == "__sig").count(), 1);
        // Any other redirect loses them (a login's `next`), and is left alone without them.
        assert_eq!(tidy_location(&key, "/?a=1&%5F_err=x&__path=y", None).unwrap(), "/?a=1");
        assert_eq!(tidy_location(&key, "/?__err=x", None).unwrap(), "/");
        assert!(tidy_location(&key, "/?q=__err", None).is_none());
    }

    fn encoded(e: AppError) -> String {
        let url = leptos::server_fn::error::ServerFnUrlError::new("/api/add_hosts", e).to_url("http://x/").unwrap();
        pairs(url.query().unwrap()).into_iter().find(|(k, _)| k == "__err").unwrap().1
    }

    #[test]
    fn a_visitors_refusal_goes_back_only_in_fixed_words_and_a_long_one_is_cut() {
        let chosen = encoded(AppError::Invalid(FieldError::new("arguments", "Call 555-0100")));
        assert_eq!(shown_refusal("/api/login", &chosen, true), None);
        assert_eq!(shown_refusal("/api/login", &chosen, false), Some(chosen.clone()));
        let fixed = encoded(AppError::WrongCredentials);
        assert_eq!(shown_refusal("/api/login", &fixed, true), Some(fixed.clone()));
        // A 50 KB host quoted in a message made an address browsers answer with a bare 414.
        let long = encoded(AppError::Invalid(FieldError::new("hosts", "h".repeat(50_000))));
        let short = shown_refusal("/api/add_hosts", &long, false).unwrap();
        assert!(short.len() < 2 * SHOWN_CHARS, "{}", short.len());
        let back = leptos::server_fn::error::ServerFnUrlError::<AppError>::decode_err(&short);
        assert_eq!(back, AppError::Invalid(FieldError::new("hosts", format!("{}…", "h".repeat(SHOWN_CHARS)))));
    }

    #[test]
    fn a_refusal_is_taken_out_of_an_address_by_its_decoded_names() {
        let uri: Uri = "/project/1?__path=%2Fapi%2Fx&%5F%5Ferr=e30&tab=a".parse().unwrap();
        assert_eq!(without_refusal(&uri).unwrap(), "/project/1?tab=a");
        let uri: Uri = "/project/1?__err=e30".parse().unwrap();
        assert_eq!(without_refusal(&uri).unwrap(), "/project/1");
        assert_eq!(page_path("http://127.0.0.1:3000/project/1?x"), "/project/1");
        assert_eq!(page_path("/"), "/");
    }
}
