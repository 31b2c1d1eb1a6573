//! `/rest/v2/services`: Promgen's `ServiceViewSet` (list, create, detail, update, delete).

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, paginate};
use crate::web::AppState;
use app::backend::policy;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceFilter {
    name: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/services`: the services the caller holds a role on (all for site admins),
/// by name; `?name=` contains. Items `{"id", "name", "description", "owner": <user id>}`.
#[utoipa::path(get, path = "/rest/v2/services", tag = "services", params(ServiceFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<ServiceFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let visible = policy::visible_services(&s.backend.db, &actor).await?;
    let list: Vec<Service> = s
        .backend
        .inventory
        .services(&actor)
        .await?
        .into_iter()
        .map(|summary| summary.service)
        .filter(|sv| visible.as_ref().is_none_or(|v| v.contains(&sv.id)))
        .filter(|sv| f.name.as_deref().is_none_or(|n| sv.name.contains(n)))
        .collect();
    let page = paginate(list, &f.page, &uri, &headers)?;
    Ok(Json(page.map(
        |sv| json!({ "id": sv.id.0, "name": sv.name, "description": sv.description, "owner": sv.owner_id.map(|u| u.0) }),
    )))
}

/// The detail shape: `owner` is the username, `owner_id` its id.
fn detail(sv: &Service) -> Value {
    json!({
        "id": sv.id.0,
        "name": sv.name,
        "description": sv.description,
        "owner": sv.owner,
        "owner_id": sv.owner_id.map(|u| u.0),
    })
}

/// The service, for those who hold a role on it (403 for others, 404 when there is none).
async fn visible(s: &AppState, actor: &app::backend::Actor, id: i64) -> RestResult<Service> {
    let sv = s.backend.inventory.service(actor, ServiceId(id)).await?.service;
    policy::check(&s.backend.db, actor, Action::View, Object::Service(sv.id), "see this service").await?;
    Ok(sv)
}

/// `GET /rest/v2/services/{id}`.
#[utoipa::path(get, path = "/rest/v2/services/{id}", tag = "services", params(("id" = i64, Path, description = "the object's id")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn get(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<Json<Value>> {
    Ok(Json(detail(&visible(&s, &actor, id).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ServiceBody {
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    description: Option<String>,
    owner: Option<i64>,
}

/// `POST /rest/v2/services`: anyone logged in; the caller owns it. 201 with its detail.
#[utoipa::path(post, path = "/rest/v2/services", tag = "services", request_body(content = ServiceBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let b: ServiceBody = json_body(&body)?;
    let input = ServiceInput { name: b.name.unwrap_or_default(), description: b.description.unwrap_or_default() };
    let sv = s.backend.inventory.create_service(&actor, input).await?;
    Ok((StatusCode::CREATED, Json(detail(&sv))))
}

/// `PUT` and `PATCH /rest/v2/services/{id}`: what the body has replaces what the service has
/// (Editors and Admins); a new `owner` only from the current owner or a site admin (400).
#[utoipa::path(method(put, patch), path = "/rest/v2/services/{id}", tag = "services", params(("id" = i64, Path, description = "the object's id")), request_body(content = ServiceBody, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<Json<Value>> {
    let old = visible(&s, &actor, id).await?;
    policy::check(&s.backend.db, &actor, Action::Edit, Object::Service(old.id), "change this service").await?;
    let b: ServiceBody = json_body(&body)?;
    if let Some(owner) = b.owner {
        s.backend.inventory.set_service_owner(&actor, old.id, UserId(owner)).await?;
    }
    let input =
        ServiceInput { name: b.name.unwrap_or(old.name), description: b.description.unwrap_or(old.description) };
    s.backend.inventory.update_service(&actor, old.id, input).await?;
    Ok(Json(detail(&visible(&s, &actor, id).await?)))
}

/// `DELETE /rest/v2/services/{id}`: its owner and site admins; 204.
#[utoipa::path(delete, path = "/rest/v2/services/{id}", tag = "services", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<StatusCode> {
    let sv = visible(&s, &actor, id).await?;
    s.backend.inventory.delete_service(&actor, sv.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
