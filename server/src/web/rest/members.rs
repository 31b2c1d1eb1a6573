//! Roles on a service or a project over REST (`…/users`, `…/groups`; Promgen's
//! `ServiceViewSet.users` and friends): list (anyone with a role), grant and take away (the
//! object's Admins).

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, paginate};
use crate::web::AppState;
use app::backend::roles::Principal;
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// The object of `kind` (`services`, `projects`) and `id`: 404 when there is none, 403 when
/// the caller may not see it.
pub(super) async fn object(s: &AppState, actor: &app::backend::Actor, kind: &str, id: i64) -> RestResult<Object> {
    match kind {
        "services" => Ok(Object::Service(s.backend.inventory.service(actor, ServiceId(id)).await?.service.id)),
        "projects" => Ok(Object::Project(s.backend.inventory.project(actor, ProjectId(id)).await?.project.id)),
        other => Err(AppError::NotFound(format!("{other} {id}")).into()),
    }
}

/// The codename Promgen gives a role on an object (`service_viewer`, `project_admin`).
fn codename(object: Object, role: Role) -> String {
    let kind = match object {
        Object::Service(_) => "service",
        Object::Project(_) => "project",
        Object::Site => "site",
    };
    format!("{kind}_{}", role.as_str().to_lowercase())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoleFilter {
    role: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/{services|projects}/{id}/users`: `[{"id", "username", "email", "role"}]`
/// (`?role=` one of `ADMIN`, `EDITOR`, `VIEWER`).
#[utoipa::path(get, path = "/rest/v2/{kind}/{id}/users", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id"), RoleFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn users(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, i64)>,
    Query(f): Query<RoleFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    list(&s, &actor, &kind, id, f, &uri, &headers, false).await
}

/// `GET /rest/v2/{services|projects}/{id}/groups`: `[{"id", "name", "role"}]`.
#[utoipa::path(get, path = "/rest/v2/{kind}/{id}/groups", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id"), RoleFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn groups(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, i64)>,
    Query(f): Query<RoleFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    list(&s, &actor, &kind, id, f, &uri, &headers, true).await
}

#[allow(clippy::too_many_arguments)]
async fn list(
    s: &AppState,
    actor: &app::backend::Actor,
    kind: &str,
    id: i64,
    f: RoleFilter,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    of_groups: bool,
) -> RestResult<Json<Page<Value>>> {
    let object = object(s, actor, kind, id).await?;
    let wanted = match f.role.as_deref() {
        Some(r) => Some(
            Role::parse(r).ok_or_else(|| AppError::invalid("role", format!("{r:?} is not ADMIN, EDITOR or VIEWER")))?,
        ),
        None => None,
    };
    let items: Vec<Value> = s
        .backend
        .roles
        .members(actor, object)
        .await?
        .into_iter()
        .filter(|m| wanted.is_none_or(|w| m.role == w))
        .filter_map(|m| match (m.principal, of_groups) {
            (Principal::User(u), false) => {
                Some(json!({ "id": u.0, "username": m.name, "email": m.email, "role": m.role.as_str() }))
            }
            (Principal::Group(g), true) => Some(json!({ "id": g, "name": m.name, "role": m.role.as_str() })),
            _ => None,
        })
        .collect();
    Ok(Json(paginate(items, &f.page, uri, headers)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct GrantBody {
    id: i64,
    role: String,
}

/// `POST /rest/v2/{services|projects}/{id}/users` `{"id": <user>, "role"}`: 201
/// `{"id", "object", "permission", "user"}`.
#[utoipa::path(post, path = "/rest/v2/{kind}/{id}/users", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id")), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn grant_user(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    grant(&s, &actor, &kind, id, &body, false).await
}

/// `POST /rest/v2/{services|projects}/{id}/groups` `{"id": <group>, "role"}`: 201.
#[utoipa::path(post, path = "/rest/v2/{kind}/{id}/groups", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id")), request_body(content = GrantBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn grant_group(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    grant(&s, &actor, &kind, id, &body, true).await
}

async fn grant(
    s: &AppState,
    actor: &app::backend::Actor,
    kind: &str,
    id: i64,
    body: &[u8],
    group: bool,
) -> RestResult<(StatusCode, Json<Value>)> {
    let object = object(s, actor, kind, id).await?;
    // Rights before the body, as Django REST framework checks them.
    app::backend::policy::check(&s.backend.db, actor, Action::ManageMembers, object, "change who has a role here")
        .await?;
    let b: GrantBody = json_body(body)?;
    let role = Role::parse(&b.role)
        .ok_or_else(|| AppError::invalid("role", format!("{:?} is not ADMIN, EDITOR or VIEWER", b.role)))?;
    let principal = if group { Principal::Group(b.id) } else { Principal::User(UserId(b.id)) };
    s.backend.roles.grant(actor, object, principal, role).await?;
    let key = if group { "group" } else { "user" };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": b.id, "object": id, "permission": codename(object, role), key: b.id })),
    ))
}

/// `DELETE /rest/v2/{services|projects}/{id}/users/{user_id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/{kind}/{id}/users/{user_id}", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id"), ("user_id" = i64, Path, description = "an id")), responses((status = 204, description = "Gone")))]
pub async fn revoke_user(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id, user)): Path<(String, i64, i64)>,
) -> RestResult<StatusCode> {
    let object = object(&s, &actor, &kind, id).await?;
    s.backend.roles.revoke(&actor, object, Principal::User(UserId(user))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /rest/v2/{services|projects}/{id}/groups/{group_id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/{kind}/{id}/groups/{group_id}", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id"), ("group_id" = i64, Path, description = "an id")), responses((status = 204, description = "Gone")))]
pub async fn revoke_group(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id, group)): Path<(String, i64, i64)>,
) -> RestResult<StatusCode> {
    let object = object(&s, &actor, &kind, id).await?;
    s.backend.roles.revoke(&actor, object, Principal::Group(group)).await?;
    Ok(StatusCode::NO_CONTENT)
}
