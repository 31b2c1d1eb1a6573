//! Who calls the REST API, and how its refusals read: Django REST framework's shapes
//! (`{"detail": "…"}`, and `{"<field>": ["…"]}` for invalid input) with the statuses of
//! [`AppError`].

use crate::web::AppState;
use app::backend::Actor;
use app::backend::auth::actor_from_session;
use app::error::AppError;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The logged-in caller: a token's user when an `Authorization` header is sent, else the
/// session's. Anonymous callers are refused (401) before anything is looked up.
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Self::Rejection> {
        let actor = match parts.headers.get(header::AUTHORIZATION) {
            // A token that is not one is a failed authentication: 401, with the reason.
            Some(auth) => s.backend.auth.actor_from_header(auth.to_str().ok()).await.map_err(|e| match e {
                AppError::Invalid(f) if f.field == "authorization" => RestError::unauthorized(f.message),
                other => other.into(),
            })?,
            None => {
                let session = tower_sessions::Session::from_request_parts(parts, s)
                    .await
                    .map_err(|(_, why)| AppError::fault("reading the session", why))?;
                actor_from_session(&s.backend.auth, &session).await?
            }
        };
        actor.require()?;
        Ok(Caller(actor))
    }
}

/// An [`AppError`] answered as Django REST framework does; `status` overrides the error's
/// own (a token that is not valid is the caller's mistake in the model, a 401 here).
pub struct RestError {
    error: AppError,
    status: Option<StatusCode>,
    /// Answered as `{"detail": message}` (about the request, not one of its fields).
    detail: bool,
}

impl RestError {
    /// 401 with `why` as the detail.
    fn unauthorized(why: String) -> RestError {
        RestError {
            error: AppError::invalid("authorization", why),
            status: Some(StatusCode::UNAUTHORIZED),
            detail: true,
        }
    }

    /// 400 for a body that is not JSON, worded as Django REST framework's `ParseError`.
    fn parse_error(why: String) -> RestError {
        RestError { error: AppError::invalid("", format!("JSON parse error - {why}")), status: None, detail: true }
    }
}

impl From<RestError> for AppError {
    /// The error alone, for answers in another shape (the silence proxy's `messages`).
    fn from(e: RestError) -> Self {
        e.error
    }
}

impl From<AppError> for RestError {
    fn from(error: AppError) -> Self {
        RestError { error, status: None, detail: false }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let e = self.error;
        let status = self
            .status
            .unwrap_or_else(|| StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
        let body = match &e {
            AppError::Invalid(f) if self.detail => serde_json::json!({ "detail": f.message }),
            // About no one field: Django REST framework's key for that.
            AppError::Invalid(f) | AppError::Conflict(f) if f.field.is_empty() => {
                serde_json::json!({ "non_field_errors": [f.message.clone()] })
            }
            // A field given empty (one left out is serde's "This field is required.").
            AppError::Invalid(f) if f.message == app::model::validate::REQUIRED => {
                serde_json::json!({ promgen_field(&f.field): ["This field may not be blank."] })
            }
            AppError::Invalid(f) | AppError::Conflict(f) => {
                serde_json::json!({ promgen_field(&f.field): [f.message.clone()] })
            }
            _ => serde_json::json!({ "detail": e.to_string() }),
        };
        let mut res = (status, Json(body)).into_response();
        if let AppError::TooManyRequests { retry_after, .. } = e {
            res.headers_mut().insert(header::RETRY_AFTER, retry_after.into());
        }
        res
    }
}

/// A field as Promgen's REST bodies name it, where Promgen-rs' forms (and so its errors) name it
/// otherwise: a project's `shard`, a URL's `probe`, a rule's `clause` (its expression).
fn promgen_field(field: &str) -> &str {
    match field {
        "shard_id" => "shard",
        "probe_id" => "probe",
        "expr" => "clause",
        other => other,
    }
}

pub type RestResult<T> = Result<T, RestError>;

/// A JSON body, read after the caller's rights were checked (Django REST framework answers
/// 403 before it looks at the body): 400 naming what is wrong, as DRF does. Text that is not
/// JSON is a `detail` ("JSON parse error - …"); a body that is not an object is about no field
/// (`non_field_errors`, DRF's words); a value of the wrong kind is under its field's path
/// (`labels.severity`).
pub fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, RestError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| RestError::parse_error(e.to_string()))?;
    // serde would also read a struct from a list of its fields in order.
    let kind = match &value {
        serde_json::Value::Object(_) => None,
        serde_json::Value::Array(_) => Some("list"),
        serde_json::Value::String(_) => Some("str"),
        serde_json::Value::Number(n) if n.is_f64() => Some("float"),
        serde_json::Value::Number(_) => Some("int"),
        serde_json::Value::Bool(_) => Some("bool"),
        serde_json::Value::Null => Some("NoneType"),
    };
    if let Some(kind) = kind {
        return Err(AppError::invalid("", format!("Invalid data. Expected a dictionary, but got {kind}.")).into());
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let (field, message) = drf_words(&path, &e.into_inner().to_string());
        AppError::invalid(&field, message).into()
    })
}

/// For a body's optional field that may not be null (`#[serde(default, deserialize_with =
/// "super::caller::not_null")]`): absent is `None`, `null` is refused under the field in Django
/// REST framework's words ("This field may not be null."). serde reads a null `Option` as
/// absent, so `{"shard": null}` kept the project's shard and answered 200.
pub fn not_null<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// serde's words for a missing or null field as Django REST framework says them, under the
/// field: `missing field \`name\`` at the body → `name`: "This field is required.".
fn drf_words(path: &str, message: &str) -> (String, String) {
    let under = |name: &str| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
    if let Some(name) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
        return (under(name), "This field is required.".to_string());
    }
    if message.starts_with("invalid type: null") {
        return (path.to_string(), "This field may not be null.".to_string());
    }
    (path.to_string(), message.to_string())
}
