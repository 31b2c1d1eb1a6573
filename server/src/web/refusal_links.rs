//! Refusals carried in a page's address are ours only. A form posted without JavaScript that
//! the server refuses is sent back to its page with the refusal in the query (leptos_axum:
//! `?__path=/api/…&__err=<base64 of the error>`), and the page shows it. Anyone could write such
//! a link ("Your session expired: call …" on our page, in our style). So each refusal the
//! server sends back is signed (`__sig`, an HMAC-SHA256 of the path and the error under a key
//! made at start), and a page asked for with a refusal that is not signed is sent to its
//! address without it (a redirect: the browser's router reads the refusal from the address
//! too, so drawing the page without it would not be enough).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// The key refusals are signed with: 32 random bytes, made at start (a refusal link lives for
/// one redirect; after a restart an old one is drawn without its message).
#[derive(Clone)]
pub struct RefusalKey(Arc<[u8; 32]>);

impl RefusalKey {
    /// A new random key.
    pub fn new() -> Self {
        RefusalKey(Arc::new(rand::random()))
    }

    /// The signature of the refusal `err` of the server function at `path`: hex, 32 digits
    /// (the first 16 bytes of the HMAC).
    fn sign(&self, path: &str, err: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0[..]).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(err.as_bytes());
        mac.finalize().into_bytes()[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Whether `sig` is the signature of `path` and `err`, compared in constant time.
    fn verify(&self, path: &str, err: &str, sig: &str) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0[..]).expect("HMAC takes any key length");
        mac.update(path.as_bytes());
        mac.update(b"\n");
        mac.update(err.as_bytes());
        let Some(bytes) = hex(sig) else { return false };
        mac.verify_truncated_left(&bytes).is_ok() && bytes.len() == 16
    }
}

impl Default for RefusalKey {
    fn default() -> Self {
        Self::new()
    }
}

/// The three parameters of a refusal in an address.
const PARAMS: [&str; 3] = ["__path", "__err", "__sig"];

/// Signs the refusal a server function sends a plain form back with (its `Location`), and
/// sends a request with an unsigned (or wrongly signed) refusal to the same address without
/// it (`303 See Other`; any other method than GET and HEAD has it taken out and goes on).
pub async fn signed(State(key): State<RefusalKey>, mut req: Request, next: Next) -> Response {
    if let Some(query) = req.uri().query()
        && PARAMS.iter().any(|p| query.contains(p))
    {
        let pairs = pairs(query);
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        // Only a parameter by that name (a search for "__err" is not one).
        let genuine = match (get("__path"), get("__err"), get("__sig")) {
            (None, None, None) => true,
            (Some(path), Some(err), Some(sig)) => key.verify(path, err, sig),
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
    let mut res = next.run(req).await;
    if res.status().is_redirection()
        && let Some(location) = res.headers().get(header::LOCATION).and_then(|l| l.to_str().ok())
        && let Some(signed) = sign_location(&key, location)
        && let Ok(value) = HeaderValue::from_str(&signed)
    {
        res.headers_mut().insert(header::LOCATION, value);
    }
    res
}

/// `location` with the refusal in its query signed (an earlier signature dropped); `None`
/// when it carries none.
fn sign_location(key: &RefusalKey, location: &str) -> Option<String> {
    let (base, query) = location.split_once('?')?;
    let mut pairs = pairs(query);
    pairs.retain(|(k, _)| k != "__sig");
    let path = pairs.iter().find(|(k, _)| k == "__path")?.1.clone();
    let err = pairs.iter().find(|(k, _)| k == "__err")?.1.clone();
    pairs.push(("__sig".into(), key.sign(&path, &err)));
    Some(format!("{base}?{}", encode(&pairs)))
}

/// `uri` without a refusal's parameters (and without a `?` when nothing else was asked).
fn without_refusal(uri: &Uri) -> Option<Uri> {
    let mut pairs = pairs(uri.query()?);
    pairs.retain(|(k, _)| !PARAMS.contains(&k.as_str()));
    let query = encode(&pairs);
    let path = uri.path();
    let target = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(target.parse().ok()?);
    Uri::from_parts(parts).ok()
}

fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Bytes from lowercase or uppercase hex; `None` for anything else.
fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_refusal_verifies_and_nothing_else_does() {
        let key = RefusalKey::new();
        let signed = sign_location(&key, "http://x/project/1?tab=a&__path=%2Fapi%2Fadd&__err=abc").unwrap();
        let pairs = pairs(signed.split_once('?').unwrap().1);
        let sig = &pairs.iter().find(|(k, _)| k == "__sig").unwrap().1;
        assert!(key.verify("/api/add", "abc", sig));
        assert!(!key.verify("/api/add", "abd", sig), "another error");
        assert!(!key.verify("/api/other", "abc", sig), "another function");
        assert!(!RefusalKey::new().verify("/api/add", "abc", sig), "another key");
        assert!(!key.verify("/api/add", "abc", &sig[..30]), "cut short");
        assert!(!key.verify("/api/add", "abc", ""));
        // Signing again replaces the signature.
        let again = sign_location(&key, &signed).unwrap();
        assert_eq!(again.matches("__sig").count(), 1);
        assert!(sign_location(&key, "http://x/project/1?tab=a").is_none());
    }

    #[test]
    fn a_refusal_is_taken_out_of_an_address() {
        let uri: Uri = "/project/1?__path=%2Fapi%2Fx&__err=e30&tab=a".parse().unwrap();
        assert_eq!(without_refusal(&uri).unwrap(), "/project/1?tab=a");
        let uri: Uri = "/project/1?__err=e30".parse().unwrap();
        assert_eq!(without_refusal(&uri).unwrap(), "/project/1");
    }
}
