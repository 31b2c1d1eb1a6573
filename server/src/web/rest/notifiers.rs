//! `/rest/v2/notifiers`: Promgen's `SenderViewSet`: list, enable, delete, filters. A value is
//! shown only to those who may edit the notifier (issue 9): others see it masked, where
//! Promgen showed it to every viewer.

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, paginate};
use super::resources::rest_notifier;
use crate::web::AppState;
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotifierFilter {
    sender: Option<String>,
    value: Option<String>,
    object_id: Option<i64>,
    content_type: Option<String>,
    owner: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/notifiers`: filters `sender` (Promgen's module; others 400), `value` (the
/// alias if set, else the value, contains), `object_id`, `content_type` (`service`,
/// `project`, `user`; others 400), `owner` (who made it).
#[utoipa::path(get, path = "/rest/v2/notifiers", tag = "notifiers", params(NotifierFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<NotifierFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let kind = match f.sender.as_deref() {
        Some(module) => Some(
            NotifierKind::from_promgen_module(module)
                .ok_or_else(|| AppError::invalid("sender", format!("{module:?} is not a notifier module")))?,
        ),
        None => None,
    };
    if let Some(ct) = f.content_type.as_deref().filter(|ct| !matches!(*ct, "service" | "project" | "user")) {
        return Err(AppError::invalid("content_type", format!("{ct:?} is not service, project or user")).into());
    }
    let list: Vec<Value> = s
        .backend
        .notifiers
        .notifier_list(&actor)
        .await?
        .into_iter()
        .filter(|n| kind.is_none_or(|k| n.kind == k))
        .filter(|n| f.value.as_deref().is_none_or(|v| n.label().contains(v)))
        .filter(|n| f.owner.as_deref().is_none_or(|o| n.created_by.as_deref() == Some(o)))
        .filter(|n| {
            let (ct, id) = match &n.owner {
                NotifierOwner::Service { id, .. } => ("service", id.0),
                NotifierOwner::Project { id, .. } => ("project", id.0),
                NotifierOwner::User { id, .. } => ("user", id.0),
                NotifierOwner::Site => ("site", 1),
            };
            f.content_type.as_deref().is_none_or(|c| c == ct) && f.object_id.is_none_or(|o| o == id)
        })
        .map(|n| rest_notifier(&n))
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}

/// The notifier, for those who may see it (403), 404 when there is none.
async fn visible(s: &AppState, actor: &app::backend::Actor, id: i64) -> RestResult<Notifier> {
    Ok(s.backend.notifiers.visible(actor, NotifierId(id)).await?)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct EnabledBody {
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    enabled: Option<bool>,
}

/// `PUT`/`PATCH /rest/v2/notifiers/{id}` `{"enabled"}`: those who may edit it.
#[utoipa::path(method(put, patch), path = "/rest/v2/notifiers/{id}", tag = "notifiers", params(("id" = i64, Path, description = "the object's id")), request_body(content = EnabledBody, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<Json<Value>> {
    let n = visible(&s, &actor, id).await?;
    s.backend.notifiers.may_edit(&actor, &n.owner).await?;
    let b: EnabledBody = json_body(&body)?;
    let n = match b.enabled {
        Some(enabled) => s.backend.notifiers.set_enabled(&actor, n.id, enabled).await?,
        None => n,
    };
    Ok(Json(rest_notifier(&n)))
}

/// `DELETE /rest/v2/notifiers/{id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/notifiers/{id}", tag = "notifiers", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<StatusCode> {
    let n = visible(&s, &actor, id).await?;
    s.backend.notifiers.delete(&actor, n.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct FilterBody {
    name: String,
    value: String,
}

/// `POST /rest/v2/notifiers/{id}/filters` `{"name", "value"}`: 201 with the notifier.
#[utoipa::path(post, path = "/rest/v2/notifiers/{id}/filters", tag = "notifiers", params(("id" = i64, Path, description = "the object's id")), request_body(content = FilterBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn add_filter(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let n = visible(&s, &actor, id).await?;
    s.backend.notifiers.may_edit(&actor, &n.owner).await?;
    let b: FilterBody = json_body(&body)?;
    let n = s.backend.notifiers.add_filter(&actor, n.id, &b.name, &b.value).await?;
    Ok((StatusCode::CREATED, Json(rest_notifier(&n))))
}

/// `DELETE /rest/v2/notifiers/{id}/filters/{filter_id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/notifiers/{id}/filters/{filter_id}", tag = "notifiers", params(("id" = i64, Path, description = "the object's id"), ("filter_id" = i64, Path, description = "an id")), responses((status = 204, description = "Gone")))]
pub async fn delete_filter(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, filter)): Path<(i64, i64)>,
) -> RestResult<StatusCode> {
    let n = visible(&s, &actor, id).await?;
    if !n.filters.iter().any(|f| f.id.0 == filter) {
        s.backend.notifiers.may_edit(&actor, &n.owner).await?;
        return Err(AppError::NotFound(format!("filter {filter} of notifier {id}")).into());
    }
    s.backend.notifiers.delete_filter(&actor, NotifierFilterId(filter)).await?;
    Ok(StatusCode::NO_CONTENT)
}
