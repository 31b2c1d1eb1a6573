//! Request limits. Bodies: the webhook has its own (`--max-webhook-bytes`, checked where it
//! reads the body); every other request body is held to `--max-request-bytes`, so no form,
//! server function or import can make the server buffer without end; and every body must
//! come on, each part within `--client-timeout` of the last (a body declared and never sent
//! held its connection and what was buffered of it). Paths: no longer than a file system
//! takes (the static files are looked up by path).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy)]
pub struct BodyLimits {
    pub request: usize,
    /// The longest wait for the next part of a body.
    pub stall: std::time::Duration,
}

/// 413 for a declared length above the limit; a body without one is cut off at the limit.
/// 408 for a body that stalls (tower-http's `TimeoutBody`); its connection is closed.
pub async fn body(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let stalled = Arc::new(AtomicBool::new(false));
    let flag = stalled.clone();
    let timed = tower_http::timeout::TimeoutBody::new(limits.stall, body).map_err(move |e| {
        if e.is::<tower_http::timeout::TimeoutError>() {
            flag.store(true, Ordering::Relaxed);
        }
        axum::Error::new(e)
    });
    let req = Request::from_parts(parts, Body::new(timed));
    let res = limited(limits, req, next).await;
    if stalled.load(Ordering::Relaxed) {
        let message = format!("the request body stalled: no part of it came for {:?} (--client-timeout)", limits.stall);
        return (StatusCode::REQUEST_TIMEOUT, [(header::CONNECTION, "close")], message).into_response();
    }
    res
}

async fn limited(limits: BodyLimits, req: Request, next: Next) -> Response {
    if req.uri().path() == "/api/v1/alerts" {
        return next.run(req).await;
    }
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limits.request) {
        return too_large(limits.request);
    }
    // A body without a declared length is cut off at the limit; the handler then fails to
    // read it, and the answer says why (413), whatever the handler made of it.
    let (parts, body) = req.into_parts();
    let cut = Arc::new(AtomicBool::new(false));
    let flag = cut.clone();
    let limited = http_body_util::Limited::new(body, limits.request).map_err(move |e| {
        if e.is::<http_body_util::LengthLimitError>() {
            flag.store(true, Ordering::Relaxed);
        }
        axum::Error::new(e)
    });
    let res = next.run(Request::from_parts(parts, Body::new(limited))).await;
    if cut.load(Ordering::Relaxed) {
        return too_large(limits.request);
    }
    res
}

fn too_large(limit: usize) -> Response {
    let message = format!("the request body is larger than {limit} bytes (--max-request-bytes)");
    (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
}

/// The longest request path, in bytes: half of Linux's `PATH_MAX`, which the site root's
/// own path shares when a static file is looked up.
pub const MAX_PATH_BYTES: usize = 2048;
/// The longest segment of a request path, in bytes (a file name's limit, `NAME_MAX`).
pub const MAX_SEGMENT_BYTES: usize = 255;

/// The methods some route of the server answers: pages and reads, server functions, REST v2.
pub const SERVED_METHODS: &str = "GET, HEAD, POST, PUT, PATCH, DELETE";

/// 414 for a path no page or file can have: longer than [`MAX_PATH_BYTES`], or with a segment
/// longer than [`MAX_SEGMENT_BYTES`]. Without this, the static files' lookup failed with "file
/// name too long", answered 500 and logged an error for what is the caller's mistake. A
/// request without a path (`CONNECT host:port`, which this server does not proxy) is a 405
/// with the methods the server does answer (`Allow`, as RFC 9110 asks of a 405): the page
/// renderer needs a path and panicked.
pub async fn path(req: Request, next: Next) -> Response {
    if req.uri().path_and_query().is_none() || req.method() == axum::http::Method::CONNECT {
        let message = format!("{} is not served here", req.method());
        let allow = [(axum::http::header::ALLOW, SERVED_METHODS)];
        return (StatusCode::METHOD_NOT_ALLOWED, allow, message).into_response();
    }
    let path = req.uri().path();
    if path.len() > MAX_PATH_BYTES || path.split('/').any(|s| s.len() > MAX_SEGMENT_BYTES) {
        let message = format!(
            "the request path is too long (at most {MAX_PATH_BYTES} bytes, {MAX_SEGMENT_BYTES} between slashes)"
        );
        return (StatusCode::URI_TOO_LONG, message).into_response();
    }
    next.run(req).await
}
