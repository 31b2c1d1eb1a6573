//! Promgen's Alertmanager proxy (spec 5.2), with its paths, bodies and messages, so its UI's
//! scripts and users' tools keep working: `/proxy/v1/silences` (GET, POST with `labels`),
//! `/proxy/v2/silences` (POST with `matchers`), `/proxy/v1/silences/{id}` (DELETE: expire) and
//! `/proxy/v1/alerts`. Login or token required. Refusals are Promgen's
//! `{"messages": [{"class", "message", "label"}]}`: 422 for input, 403, 401, 503 without an
//! Alertmanager.

use super::AppState;
use super::rest::caller::{Caller, json_body};
use app::backend::silences::Window;
use app::error::AppError;
use app::model::silences::Matcher;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_silences, post_silence_v1))
        .routes(routes!(post_silence_v2))
        .routes(routes!(expire_silence))
        .routes(routes!(list_alerts))
}

/// Promgen's v1 silence: `labels` become equality matchers (a value ending in `*` a regex, as
/// Promgen does), for `duration` or from `startsAt` to `endsAt`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct V1Silence {
    #[serde(default)]
    labels: BTreeMap<String, String>,
    duration: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    comment: Option<String>,
    /// Ignored: a silence is made by the caller.
    #[allow(dead_code)]
    created_by: Option<String>,
}

/// Promgen's v2 silence (its current UI): Alertmanager's matchers; `id` replaces that silence.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
struct V2Silence {
    id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    matchers: Vec<Matcher>,
    duration: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    comment: Option<String>,
}

fn window(duration: Option<String>, starts_at: Option<String>, ends_at: Option<String>) -> Window {
    match duration.filter(|d| !d.trim().is_empty()) {
        Some(d) => Window::For(d),
        None => Window::Between(starts_at.unwrap_or_default(), ends_at.unwrap_or_default()),
    }
}

/// The silences of every Alertmanager that the caller may see, as Alertmanager sends them.
#[utoipa::path(get, path = "/proxy/v1/silences", tag = "alertmanager",
    responses((status = 200, description = "Alertmanager's gettableSilence list, merged by id")))]
async fn list_silences(State(s): State<AppState>, Caller(actor): Caller) -> Response {
    match s.backend.silences.raw_list(&actor).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => messages(e, None),
    }
}

/// Makes a silence from labels (Promgen's v1 body) in every Alertmanager.
#[utoipa::path(post, path = "/proxy/v1/silences", tag = "alertmanager", request_body = V1Silence,
    responses((status = 200, description = "`{\"silenceID\": …}`, and every Alertmanager's id in `silenceIDs`"),
              (status = 422, description = "Promgen's messages naming the field")))]
async fn post_silence_v1(State(s): State<AppState>, Caller(actor): Caller, body: axum::body::Bytes) -> Response {
    let body: V1Silence = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return messages(e.into(), None),
    };
    if body.labels.is_empty() {
        return messages(AppError::invalid("labels", "Missing labels for silence."), None);
    }
    let matchers = body
        .labels
        .iter()
        .map(|(name, value)| Matcher {
            name: name.clone(),
            value: value.clone(),
            is_regex: value.ends_with('*'),
            is_equal: true,
        })
        .collect();
    let window = window(body.duration, body.starts_at, body.ends_at);
    made(
        s.backend.silences.create(&actor, matchers, &window, &body.comment.unwrap_or_default(), None).await,
        Some("labels"),
    )
}

/// Makes (or, with `id`, replaces) a silence from matchers in every Alertmanager.
#[utoipa::path(post, path = "/proxy/v2/silences", tag = "alertmanager", request_body = V2Silence,
    responses((status = 200, description = "`{\"silenceID\": …}`, and every Alertmanager's id in `silenceIDs`"),
              (status = 422, description = "Promgen's messages naming the field")))]
async fn post_silence_v2(State(s): State<AppState>, Caller(actor): Caller, body: axum::body::Bytes) -> Response {
    let body: V2Silence = match json_body(&body) {
        Ok(b) => b,
        Err(e) => return messages(e.into(), None),
    };
    let window = window(body.duration, body.starts_at, body.ends_at);
    let comment = body.comment.unwrap_or_default();
    made(s.backend.silences.create(&actor, body.matchers, &window, &comment, body.id.as_deref()).await, None)
}

/// Expires a silence in every Alertmanager that holds it.
#[utoipa::path(delete, path = "/proxy/v1/silences/{id}", tag = "alertmanager",
    params(("id" = String, Path, description = "the silence's id")),
    responses((status = 200, description = "expired"), (status = 404, description = "no Alertmanager holds it")))]
async fn expire_silence(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<String>) -> Response {
    match s.backend.silences.expire(&actor, &id).await {
        Ok(()) => Json(serde_json::json!({})).into_response(),
        Err(e) => messages(e, None),
    }
}

/// The alerts every Alertmanager holds now that the caller may see, each with `promgen.warnings`
/// when its `service` and `project` labels disagree.
#[utoipa::path(get, path = "/proxy/v1/alerts", tag = "alertmanager",
    responses((status = 200, description = "Alertmanager's gettableAlert list, merged by fingerprint")))]
async fn list_alerts(State(s): State<AppState>, Caller(actor): Caller) -> Response {
    match s.backend.silences.raw_alerts(&actor).await {
        Ok(list) => Json(list).into_response(),
        Err(e) => messages(e, None),
    }
}

fn made(result: Result<app::model::silences::SilenceMade, AppError>, matchers_field: Option<&str>) -> Response {
    match result {
        Ok(made) => Json(serde_json::json!({
            "silenceID": made.ids.first(),
            "silenceIDs": made.ids,
            "warnings": made.warnings,
        }))
        .into_response(),
        Err(e) => messages(e, matchers_field),
    }
}

/// Promgen's error body: `{"messages": [{"class": "alert alert-warning", "message", "label"}]}`,
/// 422 for invalid input (the field in `label`; `matchers` is called `rename` where the body
/// named it so), the error's own status otherwise.
fn messages(e: AppError, rename: Option<&str>) -> Response {
    let (status, class, label) = match &e {
        AppError::Invalid(f) => {
            let label = if f.field == "matchers" { rename.unwrap_or("matchers") } else { f.field.as_str() };
            (StatusCode::UNPROCESSABLE_ENTITY, "alert alert-warning", Some(label.to_string()).filter(|l| !l.is_empty()))
        }
        _ => {
            (StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "alert alert-danger", None)
        }
    };
    let message = match &e {
        AppError::Invalid(f) => f.message.clone(),
        other => other.to_string(),
    };
    let mut entry = serde_json::json!({ "class": class, "message": message });
    if let Some(label) = label {
        entry["label"] = label.into();
    }
    (status, Json(serde_json::json!({ "messages": [entry] }))).into_response()
}
