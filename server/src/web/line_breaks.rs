//! One kind of line break in what forms send. A browser encodes a textarea's line breaks as
//! CRLF in a plain form post (HTML's form encoding), a page's script sends LF (FormData through
//! URLSearchParams), and a script of a user's own sends what it has. Stored as sent, a rule saved
//! without JavaScript and edited with it had its line breaks rewritten (a change in its history
//! that changed nothing), and a CR went into Prometheus' rule files and notifications. Every
//! server function's form body has its CRLF and lone CR as LF before it is decoded, but for
//! passwords ([`AS_SENT`]).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The server functions whose bodies are left as sent: a password is its bytes, whatever
/// line break it holds (one set from a file with CRLF line endings by `promgen create-user`
/// must still log in).
const AS_SENT: [&str; 2] = ["/api/login", "/api/change_password"];

/// Rewrites a server function's form body ([`lf_only`]): whatever its declared type, as the
/// functions read every body as a form (but a multipart one, which none takes); other requests
/// pass. A body that cannot be read is a 400 (or the body limit's 413, which that layer
/// answers). The body is read whole, as the function's decoding does anyway, and scanned
/// once: linear in its size, which the request body limit bounds.
pub async fn normalize(req: Request, next: Next) -> Response {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/"));
    let path = req.uri().path();
    if req.method() != Method::POST || multipart || !super::anonymous::is_server_fn(path) || AS_SENT.contains(&path) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::BAD_REQUEST, "the request body could not be read").into_response();
    };
    let body = match lf_only(&bytes) {
        Some(rewritten) => {
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(rewritten.len()));
            Body::from(rewritten)
        }
        None => Body::from(bytes),
    };
    next.run(Request::from_parts(parts, body)).await
}

/// `body` (URL-encoded) with every CRLF and lone CR as LF, encoded (`%0D%0A`, `%0D` in either
/// case) or not; `None` when it has no CR. An escaped percent sign stays what it is
/// (`%250D` is the text `%0D`).
pub fn lf_only(body: &[u8]) -> Option<Vec<u8>> {
    let cr_at = |i: usize| -> usize {
        match body.get(i..) {
            Some([b'\r', ..]) => 1,
            Some([b'%', b'0', b'd' | b'D', ..]) => 3,
            _ => 0,
        }
    };
    let lf_at = |i: usize| matches!(body.get(i..), Some([b'\n', ..] | [b'%', b'0', b'a' | b'A', ..]));
    if !(0..body.len()).any(|i| cr_at(i) > 0) {
        return None;
    }
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        let cr = cr_at(i);
        if cr > 0 {
            i += cr;
            if !lf_at(i) {
                out.extend_from_slice(b"%0A");
            }
            continue;
        }
        // An escape is copied whole, so its last two characters are not read as the start of one.
        let step = if body[i] == b'%' { 3.min(body.len() - i) } else { 1 };
        out.extend_from_slice(&body[i..i + step]);
        i += step;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{AS_SENT, lf_only};
    use leptos::server_fn::ServerFn;

    /// The functions left alone are the ones that take passwords.
    #[test]
    fn password_functions_are_left_as_sent() {
        assert_eq!(AS_SENT, [app::api::auth::Login::PATH, app::api::auth::ChangePassword::PATH]);
    }

    fn lf(body: &str) -> String {
        lf_only(body.as_bytes()).map_or_else(|| body.to_string(), |b| String::from_utf8(b).unwrap())
    }

    /// What a plain form sends is what the page's script sends.
    #[test]
    fn line_breaks_become_lf() {
        assert_eq!(lf("expr=up%0D%0A%3D%3D+0&for=5m"), "expr=up%0A%3D%3D+0&for=5m");
        assert_eq!(lf("a=x%0d%0ay"), "a=x%0ay");
        assert_eq!(lf("a=x%0Dy%0D"), "a=x%0Ay%0A");
        assert_eq!(lf("a=x\r\ny\rz"), "a=x\ny%0Az");
        assert_eq!(lf("a=x%0D%0D%0Ay"), "a=x%0A%0Ay");
        assert!(lf_only(b"expr=up%0A%3D%3D+0").is_none());
    }

    /// An escaped percent sign followed by `0D` is text, not a line break.
    #[test]
    fn escaped_percent_is_text() {
        assert!(lf_only(b"a=100%250D").is_none());
        assert_eq!(lf("a=%250D%0D%0A"), "a=%250D%0A");
        assert_eq!(lf("a=%0D%"), "a=%0A%");
    }
}
