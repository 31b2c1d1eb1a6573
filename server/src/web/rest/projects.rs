//! `/rest/v2/projects`: Promgen's `ProjectViewSet` (list, detail, update, delete) and what
//! registers under a project only (exporters, URLs, its farm).

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, paginate};
use crate::web::AppState;
use app::backend::{Actor, policy};
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectFilter {
    name: Option<String>,
    service: Option<String>,
    shard: Option<String>,
    service_id: Option<i64>,
    shard_id: Option<i64>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/projects`: the projects the caller may see, by name; filters `name`,
/// `service` and `shard` (their names contain), `service_id`, `shard_id`.
#[utoipa::path(get, path = "/rest/v2/projects", tag = "projects", params(ProjectFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<ProjectFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let visible = policy::visible_projects(&s.backend.db, &actor).await?;
    let contains = |text: &str, part: &Option<String>| part.as_deref().is_none_or(|p| text.contains(p));
    let list: Vec<Project> = s
        .backend
        .inventory
        .project_list(&actor)
        .await?
        .into_iter()
        .filter(|p| visible.as_ref().is_none_or(|v| v.contains(&p.id)))
        .filter(|p| {
            contains(&p.name, &f.name) && contains(&p.service_name, &f.service) && contains(&p.shard_name, &f.shard)
        })
        .filter(|p| {
            f.service_id.is_none_or(|id| p.service_id.0 == id) && f.shard_id.is_none_or(|id| p.shard_id.0 == id)
        })
        .collect();
    let page = paginate(list, &f.page, &uri, &headers)?;
    Ok(Json(page.map(|p| {
        json!({
            "id": p.id.0, "name": p.name, "description": p.description,
            "owner": p.owner_id.map(|u| u.0), "service": p.service_id.0, "shard": p.shard_id.0,
        })
    })))
}

/// The project, for those who may see it (403 for others, 404 when there is none).
async fn visible(s: &AppState, actor: &Actor, id: i64) -> RestResult<ProjectDetail> {
    let detail = s.backend.inventory.project(actor, ProjectId(id)).await?;
    policy::check(&s.backend.db, actor, Action::View, Object::Project(detail.project.id), "see this project").await?;
    Ok(detail)
}

/// `GET /rest/v2/projects/{id}`: with its service, shard (without its authorization) and farm.
#[utoipa::path(get, path = "/rest/v2/projects/{id}", tag = "projects", params(("id" = i64, Path, description = "the object's id")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn get(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<Json<Value>> {
    let d = visible(&s, &actor, id).await?;
    Ok(Json(detail(&s, &actor, &d).await?))
}

async fn detail(s: &AppState, actor: &Actor, d: &ProjectDetail) -> RestResult<Value> {
    let p = &d.project;
    let service = s.backend.inventory.project_service(actor, p.id).await?;
    let shard = s
        .backend
        .inventory
        .shards(actor)
        .await?
        .into_iter()
        .map(|summary| summary.shard)
        .find(|sh| sh.id == p.shard_id)
        .ok_or_else(|| AppError::NotFound(format!("shard {}", p.shard_id)))?;
    let farm = d.farm.as_ref().map(|f| {
        json!({
            "id": f.id.0, "project": p.name, "project_id": p.id.0,
            "remote": f.source != "promgen", "name": f.name, "source": f.source,
        })
    });
    Ok(json!({
        "id": p.id.0,
        "name": p.name,
        "description": p.description,
        "owner": p.owner,
        "owner_id": p.owner_id.map(|u| u.0),
        "service": { "id": service.id.0, "name": service.name, "description": service.description,
                     "owner": service.owner_id.map(|u| u.0) },
        "shard": { "id": shard.id.0, "name": shard.name, "url": app::model::validate::mask_url_password(&shard.url),
                   "proxy": shard.proxy, "enabled": shard.enabled, "samples": shard.samples, "targets": shard.targets },
        "farm": farm,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ProjectBody {
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    description: Option<String>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    shard: Option<i64>,
    owner: Option<i64>,
}

/// `PUT`/`PATCH /rest/v2/projects/{id}`: what the body has replaces what the project has
/// (Editors and Admins); a new `owner` only from its owner, its service's owner or a site
/// admin (400).
#[utoipa::path(method(put, patch), path = "/rest/v2/projects/{id}", tag = "projects", params(("id" = i64, Path, description = "the object's id")), request_body(content = ProjectBody, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<Json<Value>> {
    let old = visible(&s, &actor, id).await?.project;
    policy::check(&s.backend.db, &actor, Action::Edit, Object::Project(old.id), "change this project").await?;
    let b: ProjectBody = json_body(&body)?;
    if let Some(owner) = b.owner {
        s.backend.inventory.set_project_owner(&actor, old.id, UserId(owner)).await?;
    }
    let input = ProjectInput {
        name: b.name.unwrap_or(old.name),
        description: b.description.unwrap_or(old.description),
        shard_id: b.shard.map_or(old.shard_id, ShardId),
    };
    s.backend.inventory.update_project(&actor, old.id, input).await?;
    let d = visible(&s, &actor, id).await?;
    Ok(Json(detail(&s, &actor, &d).await?))
}

/// `DELETE /rest/v2/projects/{id}`: its owner, its service's owner and site admins; 204.
#[utoipa::path(delete, path = "/rest/v2/projects/{id}", tag = "projects", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<StatusCode> {
    let p = visible(&s, &actor, id).await?.project;
    s.backend.inventory.delete_project(&actor, p.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The project (404), after the caller was found allowed to change it (403).
async fn editable(s: &AppState, actor: &Actor, id: i64) -> RestResult<ProjectDetail> {
    let d = s.backend.inventory.project(actor, ProjectId(id)).await?;
    policy::check(&s.backend.db, actor, Action::Edit, Object::Project(d.project.id), "register here").await?;
    Ok(d)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ExporterBody {
    job: String,
    port: i64,
    #[serde(default)]
    path: String,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    scheme: Option<String>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

/// `POST /rest/v2/projects/{id}/exporters` `{"job", "port", "path", "scheme", "enabled"}`.
#[utoipa::path(post, path = "/rest/v2/projects/{id}/exporters", tag = "projects", params(("id" = i64, Path, description = "the object's id")), request_body(content = ExporterBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn exporter(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let d = editable(&s, &actor, id).await?;
    let b: ExporterBody = json_body(&body)?;
    let scheme = match b.scheme.as_deref() {
        None | Some("") => Scheme::Http,
        Some(text) => {
            Scheme::parse(text).ok_or_else(|| AppError::invalid("scheme", format!("{text:?} is not http or https")))?
        }
    };
    let input = ExporterInput { job: b.job, port: b.port, path: b.path, scheme, enabled: b.enabled };
    let e = s.backend.inventory.create_exporter(&actor, d.project.id, input).await?;
    let body = json!({
        "id": e.id.0, "project": d.project.name, "project_id": d.project.id.0, "job": e.job, "port": e.port,
        "path": e.path, "scheme": e.scheme.as_str(), "enabled": e.enabled,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct UrlBody {
    url: String,
    probe: String,
}

/// `POST /rest/v2/projects/{id}/urls` `{"url", "probe": <module>}` (400 "Probe does not
/// exist." for an unknown module, Promgen's words).
#[utoipa::path(post, path = "/rest/v2/projects/{id}/urls", tag = "projects", params(("id" = i64, Path, description = "the object's id")), request_body(content = UrlBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn url(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let d = editable(&s, &actor, id).await?;
    let b: UrlBody = json_body(&body)?;
    let Some(probe) = s.backend.inventory.probes().await?.into_iter().find(|p| p.module == b.probe) else {
        return Ok((StatusCode::BAD_REQUEST, Json(json!({ "probe": ["Probe does not exist."] }))));
    };
    let input = UrlInput { url: b.url.clone(), probe_id: probe.id };
    let url_id = s.backend.inventory.create_url(&actor, d.project.id, input).await?;
    let body = json!({ "id": url_id.0, "project": d.project.name, "probe": probe.module, "url": b.url });
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct FarmBody {
    name: String,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    source: Option<String>,
    #[serde(default)]
    hosts: Vec<String>,
}

/// `POST /rest/v2/projects/{id}/farms` `{"name", "source", "hosts"}`: the project's farm (400
/// `{"detail": "Project already has a farm."}` when it has one). Only local farms
/// (`promgen`) exist here: another source is 400.
#[utoipa::path(post, path = "/rest/v2/projects/{id}/farms", tag = "projects", params(("id" = i64, Path, description = "the object's id")), request_body(content = FarmBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn farm(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let d = editable(&s, &actor, id).await?;
    let b: FarmBody = json_body(&body)?;
    if d.farm.is_some() {
        return Ok((StatusCode::BAD_REQUEST, Json(json!({ "detail": "Project already has a farm." }))));
    }
    if b.source.as_deref().is_some_and(|src| src != "promgen") {
        return Ok((StatusCode::BAD_REQUEST, Json(json!({ "source": "Unknown farm source." }))));
    }
    let input = FarmInput { name: b.name, hosts: b.hosts.join("\n") };
    let f = s.backend.inventory.create_farm(&actor, d.project.id, input).await?;
    let body = json!({
        "id": f.id.0, "project": d.project.name, "project_id": d.project.id.0,
        "remote": false, "name": f.name, "source": f.source,
    });
    Ok((StatusCode::CREATED, Json(body)))
}
