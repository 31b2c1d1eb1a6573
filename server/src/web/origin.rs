//! Cross-site request forgery guard: a browser request that changes something must come from
//! a page of ours. Browsers send `Origin` (and `Sec-Fetch-Site`) with such requests; we compare
//! them to the request's own host and to the configured public origins. Requests without those
//! headers (curl, Alertmanager, scripts) are not from a browser page and pass.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    pub fn new(origins: &[String]) -> Self {
        AllowedOrigins(
            origins
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .filter(|o| !o.is_empty())
                .collect(),
        )
    }
}

/// Whether a browser request comes from one of our pages: its `Origin` is the request's own
/// host or a configured origin. Requests without `Origin` (curl, Alertmanager) are not from a
/// browser page and pass, unless `Sec-Fetch-Site` says they come from elsewhere.
pub fn same_origin(headers: &HeaderMap, allowed: &AllowedOrigins) -> bool {
    let site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match origin {
        None | Some("null") if site.is_none() || site == Some("none") => true,
        None | Some("null") => site == Some("same-origin"),
        Some(origin) => {
            let origin = origin.trim_end_matches('/').to_ascii_lowercase();
            let authority = origin.split_once("://").map(|(_, a)| a);
            authority.is_some() && authority == host.map(|h| h.to_ascii_lowercase()).as_deref()
                || allowed.0.contains(&origin)
        }
    }
}

pub async fn check(State(allowed): State<Arc<AllowedOrigins>>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) || same_origin(req.headers(), &allowed) {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "cross-site request refused: the Origin does not match this server").into_response()
    }
}
