//! Security headers on every response, and the endpoint browsers report CSP violations to.

use super::AppState;
use app::backend::csp;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Adds `X-Content-Type-Options: nosniff` and `Referrer-Policy: same-origin` to every response,
/// and to those that are not pages (which set their own policy) a CSP that lets nothing run.
/// Redirects carry no policy: they have no content, and the page they lead to brings its own
/// (a browser test saw, once in a while, a form post's redirect policy on the page after it).
pub async fn security(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut res = next.run(req).await;
    let redirect = res.status().is_redirection();
    let h = res.headers_mut();
    h.insert(csp::NOSNIFF.0, HeaderValue::from_static(csp::NOSNIFF.1));
    h.insert(csp::REFERRER_POLICY.0, HeaderValue::from_static(csp::REFERRER_POLICY.1));
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) && !redirect {
        let html =
            h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
        if html {
            // Pages set their policy with their nonce; one without is a bug to hear about.
            tracing::warn!(path = %path.chars().take(200).collect::<String>(), "a page without its Content-Security-Policy");
        }
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp::RESOURCE_POLICY));
    }
    res
}

/// The largest violation report read.
pub const REPORT_LIMIT: usize = 16 * 1024;

/// `POST /csp-report`: a browser blocked something on one of our pages. Logged (the report's
/// text escaped, it comes from the page) and counted; answered 204.
pub async fn csp_report(State(s): State<AppState>, body: Bytes) -> StatusCode {
    s.backend.metrics.csp_violation();
    let report: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let r = report.get("csp-report").unwrap_or(&report);
    let field = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("").chars().take(200).collect::<String>();
    tracing::warn!(
        document = ?field("document-uri"),
        directive = ?field("violated-directive"),
        blocked = ?field("blocked-uri"),
        "the browser blocked content by the Content-Security-Policy"
    );
    StatusCode::NO_CONTENT
}
