//! Request body limits: the webhook has its own (`--max-webhook-bytes`, checked where it reads
//! the body); every other request body is held to `--max-request-bytes`, so no form, server
//! function or import can make the server buffer without end.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

#[derive(Clone, Copy)]
pub struct BodyLimits {
    pub request: usize,
}

/// 413 for a declared length above the limit; a body without one is cut off at the limit.
pub async fn body(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    if req.uri().path() == "/api/v1/alerts" {
        return next.run(req).await;
    }
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limits.request) {
        let message = format!("the request body is larger than {} bytes (--max-request-bytes)", limits.request);
        return (StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    }
    let (parts, body) = req.into_parts();
    let limited = Body::new(http_body_util::Limited::new(body, limits.request));
    next.run(Request::from_parts(parts, limited)).await
}
