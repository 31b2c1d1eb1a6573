//! A request id for every request: the caller's `X-Request-Id` when it is a plain token (a
//! proxy's), else a new one; every log line written while the request is served carries it (a
//! `request` span with the id, method and path), and the answer returns it in `X-Request-Id`.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

/// An id not seen before in this process: the start time and a counter, in hex.
fn new_id() -> String {
    static STARTED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let started = *STARTED.get_or_init(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
    });
    format!("{started:x}-{:x}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A caller's id is kept only when it is short and plain (it goes into every log line).
fn usable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

pub async fn tag(req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| usable(v))
        .map(str::to_string)
        .unwrap_or_else(new_id);
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path());
    let mut res = next.run(req).instrument(span).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_new_and_only_plain_ones_are_taken() {
        assert_ne!(super::new_id(), super::new_id());
        assert!(super::usable("abc-123_x.y"));
        assert!(!super::usable("a b") && !super::usable("a\nb") && !super::usable(&"a".repeat(65)));
    }
}
