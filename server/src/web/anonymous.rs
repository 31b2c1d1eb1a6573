//! Who calls a server function, settled before its arguments are decoded. A script's
//! `Authorization: Token <key>` is checked here (401 when it is not valid) and handed to the
//! function. `Bearer <key>` too, except that a bearer token that is not ours, with a session,
//! leaves the session in charge (a proxy in front, such as oauth2-proxy, may forward its own);
//! other schemes (`Basic`, from a proxy's login) are not ours and are ignored. Without a token,
//! an anonymous caller is refused (401) before anything else is read: arguments are decoded before the function runs, so without this an anonymous
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
    // The session's user id is enough here: the function itself asks the database who it is
    // (a deactivated user is refused there), so this costs no query.
    let signed_in = match session.get::<i64>(SESSION_USER_KEY).await {
        Ok(id) => id.is_some(),
        Err(e) => return response(AppError::fault("reading the session", e)),
    };
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let scheme = header.as_deref().and_then(|h| h.split_whitespace().next()).map(str::to_ascii_lowercase);
    let mut by_token = false;
    if let (Some(h), Some("token" | "bearer")) = (header.as_deref(), scheme.as_deref()) {
        match s.backend.auth.actor_from_header(Some(h)).await {
            Ok(actor) => {
                req.extensions_mut().insert(TokenCaller(actor));
                by_token = true;
            }
            Err(AppError::Invalid(_)) if scheme.as_deref() == Some("bearer") && signed_in => {}
            Err(AppError::Invalid(why)) => return refusal(&path, StatusCode::UNAUTHORIZED, &AppError::Invalid(why)),
            Err(e) => return response(e),
        }
    }
    if !by_token && !signed_in {
        if !PUBLIC.contains(&path.as_str()) {
            return refusal(&path, StatusCode::UNAUTHORIZED, &AppError::Unauthenticated);
        }
        req = match small_body(req).await {
            Ok(req) => req,
            Err((status, e)) => return refusal(&path, status, &e),
        };
    }
    match json_as_form(req).await {
        Ok(req) => next.run(req).await,
        Err(e) => refusal(&path, StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST), &e),
    }
}

/// The largest body of a call anyone may make (a login's username, password and page to
/// return to): under `--max-request-bytes`, a visitor could have the server hold megabytes
/// per connection while the body came slowly.
pub const PUBLIC_BODY_BYTES: usize = 16 * 1024;

/// The request with its body read, if it is at most [`PUBLIC_BODY_BYTES`]; else 413, or
/// 400 for a body that cannot be read (a bad chunk).
async fn small_body(req: Request) -> Result<Request, (StatusCode, AppError)> {
    let too_large = || {
        let why = format!("a call without a login takes at most {PUBLIC_BODY_BYTES} bytes");
        (StatusCode::PAYLOAD_TOO_LARGE, AppError::invalid("arguments", why))
    };
    let (parts, body) = req.into_parts();
    // A body that stalls fails here too, and `limits::body` answers 408 for it.
    let bytes =
        super::limits::read_at_most(&parts.headers, body, PUBLIC_BODY_BYTES).await.map_err(|unread| match unread {
            super::limits::Unread::TooLarge => too_large(),
            super::limits::Unread::Broken => {
                (StatusCode::BAD_REQUEST, AppError::invalid("arguments", "the body could not be read"))
            }
        })?;
    Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
}

/// The most a JSON body may hold (the request body limit applies first).
const JSON_LIMIT: usize = 64 << 20;

/// The form a JSON body becomes may be at most this many times its size (plus a little):
/// every value repeats its key path (`a[b][0]=`), so a long key over many values would grow
/// without end.
const GROWTH: usize = 4;

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
    let form = to_form(&value, GROWTH * bytes.len() + 4096)?;
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(form.len()));
    Ok(Request::from_parts(parts, Body::from(form)))
}

/// `{"a": 1, "b": {"c": [true]}}` as `a=1&b[c][0]=true`, the form server functions decode
/// (serde_qs' brackets). Nulls are left out (an absent optional argument). Refused when the
/// form would pass `cap` bytes.
fn to_form(value: &serde_json::Value, cap: usize) -> Result<String, AppError> {
    let serde_json::Value::Object(map) = value else {
        return Err(AppError::invalid("arguments", "the JSON body must be an object of the function's arguments"));
    };
    let mut out = String::new();
    for (k, v) in map {
        let key: String = url::form_urlencoded::byte_serialize(k.as_bytes()).collect();
        encode(&key, v, &mut out, cap)?;
    }
    Ok(out)
}

/// Appends `prefix=value` pairs for `value` (nested as `prefix[k]`, `prefix[0]`). serde_json
/// bounds nesting at 128 levels when parsing, and so this recursion.
fn encode(prefix: &str, value: &serde_json::Value, out: &mut String, cap: usize) -> Result<(), AppError> {
    use serde_json::Value;
    let mut pair = |text: &str| {
        if out.len() + prefix.len() + text.len() + 2 > cap {
            return Err(AppError::invalid("arguments", "the JSON body nests too many values under long names"));
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(prefix);
        out.push('=');
        out.extend(url::form_urlencoded::byte_serialize(text.as_bytes()));
        Ok(())
    };
    match value {
        Value::Null => Ok(()),
        Value::Bool(b) => pair(if *b { "true" } else { "false" }),
        Value::Number(n) => pair(&n.to_string()),
        Value::String(s) => pair(s),
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                encode(&format!("{prefix}[{i}]"), v, out, cap)?;
            }
            Ok(())
        }
        Value::Object(map) => {
            for (k, v) in map {
                let k: String = url::form_urlencoded::byte_serialize(k.as_bytes()).collect();
                encode(&format!("{prefix}[{k}]"), v, out, cap)?;
            }
            Ok(())
        }
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
        let v = json!({"name": "a b", "n": 3, "on": true, "gone": null, "input": {"filters": [{"k": "x"}]}});
        let form = to_form(&v, 1 << 20).unwrap();
        assert_eq!(form, "input[filters][0][k]=x&n=3&name=a+b&on=true");
        assert!(to_form(&json!([1]), 1 << 20).is_err());
    }

    #[test]
    fn a_long_name_over_many_values_is_refused_not_multiplied() {
        let body = format!(r#"{{"{}": [{}]}}"#, "a".repeat(100_000), vec!["0"; 100_000].join(","));
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let e = to_form(&v, super::GROWTH * body.len() + 4096).unwrap_err();
        assert!(e.to_string().contains("too many values"), "{e}");
    }
}
