//! Server functions refuse anonymous callers (401) before anything else is read: their
//! arguments are decoded before the function runs, so without this an anonymous call with a
//! missing argument was a 400, and said which argument the function takes. Logging in, out
//! and asking who one is stay open.

use super::errors::response;
use app::backend::auth::SESSION_USER_KEY;
use app::error::AppError;
use axum::extract::Request;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;

/// The server functions anyone may call.
pub const PUBLIC: [&str; 4] = ["/api/login", "/api/logout", "/api/whoami", "/api/login_options"];

/// Whether `path` is a server function's (not Prometheus' `/api/v1/…` nor the webhook).
pub fn is_server_fn(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/v1/")
}

pub async fn require_login(session: tower_sessions::Session, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if req.method() == Method::POST && is_server_fn(path) && !PUBLIC.contains(&path) {
        // The session's user id is enough here: the function itself asks the database who it
        // is (a deactivated user is refused there), so this costs no query.
        match session.get::<i64>(SESSION_USER_KEY).await {
            Ok(Some(_)) => {}
            Ok(None) => return refusal(path, AppError::Unauthenticated),
            Err(e) => return response(AppError::fault("reading the session", e)),
        }
    }
    next.run(req).await
}

/// The refusal as the server function itself would have answered it (its error as JSON,
/// marked by `serverfnerror`), so the page that called it reads it as any other error.
fn refusal(path: &str, e: AppError) -> Response {
    let status = axum::http::StatusCode::from_u16(e.status()).unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
    let body = serde_json::to_string(&e).unwrap_or_default();
    let mut res = axum::response::IntoResponse::into_response((status, body));
    let h = res.headers_mut();
    h.insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("application/json"));
    if let Ok(v) = axum::http::HeaderValue::from_str(path) {
        h.insert("serverfnerror", v);
    }
    res
}
