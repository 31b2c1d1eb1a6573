//! `/rest/v2/groups`: Promgen's `GroupViewSet`: groups, their members and what they hold
//! roles on.

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, paginate};
use crate::web::AppState;
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupFilter {
    name: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/groups`: the caller's groups (all for site admins), by name; `?name=`.
#[utoipa::path(get, path = "/rest/v2/groups", tag = "groups", params(GroupFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<GroupFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let groups: Vec<Value> = s
        .backend
        .roles
        .groups(&actor)
        .await?
        .into_iter()
        .filter(|g| f.name.as_deref().is_none_or(|n| g.name.contains(n)))
        .map(|g| json!({ "id": g.id, "name": g.name }))
        .collect();
    Ok(Json(paginate(groups, &f.page, &uri, &headers)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct GroupBody {
    name: String,
}

/// `POST /rest/v2/groups` `{"name"}`: anyone logged in; 201 `{"id", "name"}`.
#[utoipa::path(post, path = "/rest/v2/groups", tag = "groups", request_body(content = GroupBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn create(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let b: GroupBody = json_body(&body)?;
    let g = s.backend.roles.create_group(&actor, &b.name).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": g.id, "name": g.name }))))
}

/// `GET /rest/v2/groups/{id}`: its members and site admins.
#[utoipa::path(get, path = "/rest/v2/groups/{id}", tag = "groups", params(("id" = i64, Path, description = "the object's id")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn get(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<Json<Value>> {
    let g = s.backend.roles.group(&actor, id).await?;
    Ok(Json(json!({ "id": g.id, "name": g.name })))
}

/// `PUT`/`PATCH /rest/v2/groups/{id}` `{"name"}`: its admins.
#[utoipa::path(method(put, patch), path = "/rest/v2/groups/{id}", tag = "groups", params(("id" = i64, Path, description = "the object's id")), request_body(content = GroupBody, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<Json<Value>> {
    let g = s.backend.roles.group(&actor, id).await?;
    s.backend.roles.check_group_admin(&actor, id, "rename this group").await?;
    let b: GroupBody = json_body(&body)?;
    let g = if b.name == g.name { g } else { s.backend.roles.rename_group(&actor, id, &b.name).await? };
    Ok(Json(json!({ "id": g.id, "name": g.name })))
}

/// `DELETE /rest/v2/groups/{id}`: its admins; 204.
#[utoipa::path(delete, path = "/rest/v2/groups/{id}", tag = "groups", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<StatusCode> {
    s.backend.roles.group(&actor, id).await?;
    s.backend.roles.delete_group(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /rest/v2/groups/{id}/members`: `[{"id", "username", "email", "role"}]`.
#[utoipa::path(get, path = "/rest/v2/groups/{id}/members", tag = "groups", params(("id" = i64, Path, description = "the object's id"), PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn members(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let members: Vec<Value> = s
        .backend
        .roles
        .group_members(&actor, id)
        .await?
        .into_iter()
        .map(|m| json!({ "id": m.user.0, "username": m.username, "email": m.email, "role": m.role.as_str() }))
        .collect();
    Ok(Json(paginate(members, &page, &uri, &headers)?))
}

fn group_role(text: &str) -> Result<GroupRole, AppError> {
    GroupRole::parse(text).ok_or_else(|| AppError::invalid("group_role", format!("{text:?} is not ADMIN or MEMBER")))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct AddMembers {
    user_ids: Vec<i64>,
    group_role: String,
}

/// `POST /rest/v2/groups/{id}/members` `{"user_ids", "group_role"}`: its admins; 204, or
/// 400 when one of them is a member already (none is added then).
#[utoipa::path(post, path = "/rest/v2/groups/{id}/members", tag = "groups", params(("id" = i64, Path, description = "the object's id")), request_body(content = AddMembers, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn add_members(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<StatusCode> {
    s.backend.roles.group(&actor, id).await?;
    s.backend.roles.check_group_admin(&actor, id, "add members to this group").await?;
    let b: AddMembers = json_body(&body)?;
    let users: Vec<UserId> = b.user_ids.into_iter().map(UserId).collect();
    s.backend.roles.add_group_members(&actor, id, &users, group_role(&b.group_role)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct SetRole {
    group_role: String,
}

/// `PUT /rest/v2/groups/{id}/members/{user_id}` `{"group_role"}`: its admins; 204.
#[utoipa::path(put, path = "/rest/v2/groups/{id}/members/{user_id}", tag = "groups", params(("id" = i64, Path, description = "the object's id"), ("user_id" = i64, Path, description = "an id")), request_body(content = SetRole, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn set_member(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, user)): Path<(i64, i64)>,
    body: axum::body::Bytes,
) -> RestResult<StatusCode> {
    s.backend.roles.group(&actor, id).await?;
    s.backend.roles.check_group_admin(&actor, id, "change this group's members").await?;
    let b: SetRole = json_body(&body)?;
    s.backend.roles.set_group_role(&actor, id, UserId(user), group_role(&b.group_role)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /rest/v2/groups/{id}/members/{user_id}`: its admins; 204.
#[utoipa::path(delete, path = "/rest/v2/groups/{id}/members/{user_id}", tag = "groups", params(("id" = i64, Path, description = "the object's id"), ("user_id" = i64, Path, description = "an id")), responses((status = 204, description = "Gone")))]
pub async fn remove_member(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, user)): Path<(i64, i64)>,
) -> RestResult<StatusCode> {
    s.backend.roles.group(&actor, id).await?;
    s.backend.roles.remove_group_member(&actor, id, UserId(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /rest/v2/groups/{id}/resources`: `[{"content_type", "object_id", "name", "role"}]`.
#[utoipa::path(get, path = "/rest/v2/groups/{id}/resources", tag = "groups", params(("id" = i64, Path, description = "the object's id"), PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn resources(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let items: Vec<Value> = s
        .backend
        .roles
        .group_resources(&actor, id)
        .await?
        .into_iter()
        .map(|(object, name, role)| {
            let (kind, id) = match object {
                Object::Service(s) => ("service", s.0),
                Object::Project(p) => ("project", p.0),
                Object::Site => ("site", 1),
            };
            json!({ "content_type": kind, "object_id": id, "name": name, "role": role.as_str() })
        })
        .collect();
    Ok(Json(paginate(items, &page, &uri, &headers)?))
}
