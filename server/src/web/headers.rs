//! Security headers on every response, and the endpoint browsers report CSP violations to.

use super::AppState;
use app::backend::csp;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Adds `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` to every
/// response, the page policy with this request's nonce and `Cache-Control: private, no-store`
/// to pages (HTML) that set no caching of their own, and to everything else but redirects
/// (which have no content) a policy that lets nothing run.
///
/// The nonce is made here and handed to Leptos through the request ([`provide_page_nonce`]),
/// so the policy does not depend on the page setting a header while it renders: set through
/// Leptos' response options, it was missing from about one page in twenty under load.
pub async fn security(mut req: Request, next: Next) -> Response {
    let nonce = leptos::nonce::Nonce::new();
    req.extensions_mut().insert(nonce.clone());
    let mut res = next.run(req).await;
    let redirect = res.status().is_redirection();
    let h = res.headers_mut();
    h.insert(csp::NOSNIFF.0, HeaderValue::from_static(csp::NOSNIFF.1));
    h.insert(csp::REFERRER_POLICY.0, HeaderValue::from_static(csp::REFERRER_POLICY.1));
    let html = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if html {
        if let Ok(policy) = HeaderValue::from_str(&csp::page_policy(&nonce)) {
            h.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        // A page is the signed-in user's view (secrets of notifiers, who is signed in): no
        // cache keeps it, so Back after logging out asks the server again instead of showing
        // it. (Its nonce is for this answer only, too.)
        if !h.contains_key(header::CACHE_CONTROL) {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        }
    } else if !redirect && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp::RESOURCE_POLICY));
    }
    res
}

/// Gives the page being rendered the nonce [`security`] put in its policy (a Leptos context,
/// called where the request's parts are known).
pub fn provide_page_nonce() {
    let nonce = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<leptos::nonce::Nonce>().cloned());
    if let Some(nonce) = nonce {
        leptos::prelude::provide_context(nonce);
    }
}

/// The largest violation report read.
pub const REPORT_LIMIT: usize = 16 * 1024;

/// Violation reports logged a minute, at most: anyone may post them, and each was a line.
const REPORTS_LOGGED_PER_MINUTE: u32 = 10;

/// `POST /csp-report`: a browser blocked something on one of our pages. Counted; logged (the
/// report's text escaped, it comes from the page) up to [`REPORTS_LOGGED_PER_MINUTE`], the
/// next line saying how many were not; answered 204.
pub async fn csp_report(State(s): State<AppState>, body: Bytes) -> StatusCode {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LOGGED: std::sync::LazyLock<governor::DefaultDirectRateLimiter> = std::sync::LazyLock::new(|| {
        governor::RateLimiter::direct(governor::Quota::per_minute(
            std::num::NonZeroU32::new(REPORTS_LOGGED_PER_MINUTE).expect("not zero"),
        ))
    });
    static UNLOGGED: AtomicU64 = AtomicU64::new(0);
    s.backend.metrics.csp_violation();
    if LOGGED.check().is_err() {
        UNLOGGED.fetch_add(1, Ordering::Relaxed);
        return StatusCode::NO_CONTENT;
    }
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let r = report.get("csp-report").unwrap_or(&report);
    let field = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").chars().take(200).collect::<String>();
    tracing::warn!(
        document = ?field("document-uri"),
        directive = ?field("violated-directive"),
        blocked = ?field("blocked-uri"),
        unlogged_before = UNLOGGED.swap(0, Ordering::Relaxed),
        "the browser blocked content by the Content-Security-Policy"
    );
    StatusCode::NO_CONTENT
}
