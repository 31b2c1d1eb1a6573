//! Who calls a server function, settled before its arguments are decoded. A script's
//! `Authorization: Token <key>` (or `Bearer`) is checked here (401 when it is not valid) and
//! handed to the function; without one, an anonymous caller is refused (401) before anything
//! else is read: arguments are decoded before the function runs, so without this an anonymous
//! call with a missing argument was a 400, and said which argument the function takes.
//! Logging in, out, the login page's options and asking who one is stay open.
//!
//! Server functions take their arguments as a form (`application/x-www-form-urlencoded`, what
//! pages send) or as a JSON object (`application/json`, for scripts), which is re-encoded here
//! as the form the function decodes (nested objects and lists as `a[b]=`, `a[0]=`).

use super::AppState;
use super::errors::response;
use app::backend::auth::{SESSION_USER_KEY, TokenCaller};
use app::error::AppError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The server functions anyone may call.
pub const PUBLIC: [&str; 4] = ["/api/login", "/api/logout", "/api/whoami", "/api/login_options"];

/// Whether `path` is a server function's (not Prometheus' `/api/v1/…` nor the webhook).
pub fn is_server_fn(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/v1/")
}

pub async fn require_login(
    State(s): State<AppState>,
    session: tower_sessions::Session,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if req.method() != Method::POST || !is_server_fn(&path) {
        return next.run(req).await;
    }
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        match s.backend.auth.actor_from_header(auth.to_str().ok()).await {
            Ok(actor) => {
                req.extensions_mut().insert(TokenCaller(actor));
            }
            Err(AppError::Invalid(why)) => return refusal(&path, StatusCode::UNAUTHORIZED, &AppError::Invalid(why)),
            Err(e) => return response(e),
        }
    } else if !PUBLIC.contains(&path.as_str()) {
        // The session's user id is enough here: the function itself asks the database who it
        // is (a deactivated user is refused there), so this costs no query.
        match session.get::<i64>(SESSION_USER_KEY).await {
            Ok(Some(_)) => {}
            Ok(None) => return refusal(&path, StatusCode::UNAUTHORIZED, &AppError::Unauthenticated),
            Err(e) => return response(AppError::fault("reading the session", e)),
        }
    }
    match json_as_form(req).await {
        Ok(req) => next.run(req).await,
        Err(e) => refusal(&path, StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST), &e),
    }
}

/// The most a JSON body may hold (the request body limit applies first).
const JSON_LIMIT: usize = 64 << 20;

/// A JSON object body, re-encoded as the form body server functions decode; others as sent.
async fn json_as_form(req: Request) -> Result<Request, AppError> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json")));
    if !json {
        return Ok(req);
    }
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, JSON_LIMIT)
        .await
        .map_err(|_| AppError::invalid("arguments", "the body could not be read (or is too large)"))?;
    let value: serde_json::Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| AppError::invalid("arguments", format!("the JSON body: {e}")))?
    };
    let form = to_form(value)?;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(form.len()));
    Ok(Request::from_parts(parts, Body::from(form)))
}

/// `{"a": 1, "b": {"c": [true]}}` as `a=1&b[c][0]=true`. Nulls are left out (an absent
/// optional argument).
fn to_form(value: serde_json::Value) -> Result<String, AppError> {
    let serde_json::Value::Object(_) = value else {
        return Err(AppError::invalid("arguments", "the JSON body must be an object of the function's arguments"));
    };
    serde_qs::to_string(&without_nulls(value))
        .map_err(|e| AppError::invalid("arguments", format!("the JSON body cannot be taken: {e}")))
}

/// Drops `null` members. serde_json bounds nesting at 128 levels when parsing, and so this.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The refusal as the server function itself would have answered it (its error as JSON,
/// marked by `serverfnerror`), so the page that called it reads it as any other error.
fn refusal(path: &str, status: StatusCode, e: &AppError) -> Response {
    let body = serde_json::to_string(e).unwrap_or_default();
    let mut res = axum::response::IntoResponse::into_response((status, body));
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(path) {
        h.insert("serverfnerror", v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::to_form;
    use serde_json::json;

    #[test]
    fn json_arguments_become_the_form_server_functions_decode() {
        let form =
            to_form(json!({"name": "a b", "n": 3, "on": true, "gone": null, "input": {"filters": [{"k": "x"}]}}))
                .unwrap();
        assert_eq!(form, "input[filters][0][k]=x&n=3&name=a+b&on=true");
        assert!(to_form(json!([1])).is_err());
    }
}
