//! The HTTP edge of [`AppError`]: one mapping from the error to its status, for axum handlers
//! and for server functions alike. A refusal is a 4xx (400 invalid, 401, 403, 404, 409, 413,
//! 429), a 5xx only a fault or a busy server; 429 and 503 say when to come back.

use app::error::AppError;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Seconds a client should wait after a 503.
const UNAVAILABLE_RETRY: u64 = 5;

/// The status of `e`, and `Retry-After` where one applies.
fn status_and_retry(e: &AppError) -> (StatusCode, Option<u64>) {
    let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let retry = match e {
        AppError::TooManyRequests { retry_after, .. } => Some(*retry_after),
        AppError::Unavailable(_) => Some(UNAVAILABLE_RETRY),
        _ => None,
    };
    (status, retry)
}

/// A plain-text answer for an axum handler: the status and the message, no internals.
pub fn response(e: AppError) -> Response {
    let (status, retry) = status_and_retry(&e);
    let mut res = (status, e.to_string()).into_response();
    if let Some(s) = retry {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    res
}

/// The largest server-function error body read to find its status.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// Server functions answer every error with 500 and the error as JSON (marked by the
/// `serverfnerror` header); this reads the error back and gives the response its real status,
/// so a refused form is a 4xx to the browser, to monitoring and to scripts.
pub async fn server_fn_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, ERROR_BODY_LIMIT).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the error could not be read").into_response();
    };
    if let Ok(e) = serde_json::from_slice::<AppError>(&bytes) {
        let (status, retry) = status_and_retry(&e);
        parts.status = status;
        if let Some(s) = retry {
            parts.headers.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
