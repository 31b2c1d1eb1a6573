//! What Prometheus scrapes, over REST: `/rest/v2/exporters` (only `enabled` changes),
//! `/rest/v2/urls` and `/rest/v2/probes` (read-only), in Promgen's shapes. Each object is
//! seen by those who may see its project.

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, boolean, paginate};
use crate::web::AppState;
use app::backend::{Actor, policy};
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Project names by id, and which the caller may see.
async fn projects(s: &AppState, actor: &Actor) -> RestResult<(HashMap<ProjectId, String>, Option<Vec<ProjectId>>)> {
    let names = s.backend.inventory.project_list(actor).await?.into_iter().map(|p| (p.id, p.name)).collect();
    Ok((names, policy::visible_projects(&s.backend.db, actor).await?))
}

fn rest_exporter(e: &Exporter, project: &str) -> Value {
    json!({
        "id": e.id.0, "project": project, "project_id": e.project_id.0, "job": e.job, "port": e.port,
        "path": e.path, "scheme": e.scheme.as_str(), "enabled": e.enabled,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExporterFilter {
    project_id: Option<i64>,
    job: Option<String>,
    path: Option<String>,
    scheme: Option<String>,
    enabled: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/exporters`: filters `project_id`, `job` (contains), `path`, `scheme`
/// (`http`, `https`; others 400), `enabled`.
#[utoipa::path(get, path = "/rest/v2/exporters", tag = "exporters", params(ExporterFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn exporters(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<ExporterFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let scheme = match f.scheme.as_deref() {
        Some(text) => Some(
            Scheme::parse(text).ok_or_else(|| AppError::invalid("scheme", format!("{text:?} is not http or https")))?,
        ),
        None => None,
    };
    let enabled = boolean("enabled", f.enabled.as_deref())?;
    let (names, visible) = projects(&s, &actor).await?;
    let mut all = s.backend.inventory.exporter_list(&actor).await?;
    // Promgen's order: by job, then port.
    all.sort_by(|a, b| (&a.job, a.port, a.id.0).cmp(&(&b.job, b.port, b.id.0)));
    let list: Vec<Value> = all
        .into_iter()
        .filter(|e| visible.as_ref().is_none_or(|v| v.contains(&e.project_id)))
        .filter(|e| f.project_id.is_none_or(|p| e.project_id.0 == p))
        .filter(|e| f.job.as_deref().is_none_or(|j| e.job.contains(j)))
        .filter(|e| f.path.as_deref().is_none_or(|p| e.path == p))
        .filter(|e| scheme.is_none_or(|sc| e.scheme == sc) && enabled.is_none_or(|en| e.enabled == en))
        .map(|e| rest_exporter(&e, names.get(&e.project_id).map_or("", String::as_str)))
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}

/// The exporter, for those who may see its project (403), 404 when there is none.
async fn visible_exporter(s: &AppState, actor: &Actor, id: i64) -> RestResult<(Exporter, String)> {
    let e = s.backend.inventory.exporter(actor, ExporterId(id)).await?;
    policy::check(&s.backend.db, actor, Action::View, Object::Project(e.project_id), "see this exporter").await?;
    let project = s.backend.inventory.project(actor, e.project_id).await?.project.name;
    Ok((e, project))
}

/// `GET /rest/v2/exporters/{id}`.
#[utoipa::path(get, path = "/rest/v2/exporters/{id}", tag = "exporters", params(("id" = i64, Path, description = "the object's id")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn exporter(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> RestResult<Json<Value>> {
    let (e, project) = visible_exporter(&s, &actor, id).await?;
    Ok(Json(rest_exporter(&e, &project)))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ExporterBody {
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    enabled: Option<bool>,
}

/// `PUT`/`PATCH /rest/v2/exporters/{id}` `{"enabled"}`: the project's Editors and Admins.
#[utoipa::path(method(put, patch), path = "/rest/v2/exporters/{id}", tag = "exporters", params(("id" = i64, Path, description = "the object's id")), request_body(content = ExporterBody, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn update_exporter(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<Json<Value>> {
    let (e, project) = visible_exporter(&s, &actor, id).await?;
    policy::check(&s.backend.db, &actor, Action::Edit, Object::Project(e.project_id), "change this exporter").await?;
    let b: ExporterBody = json_body(&body)?;
    let e = match b.enabled {
        Some(enabled) if enabled != e.enabled => {
            s.backend.inventory.set_exporter_enabled(&actor, e.id, enabled).await?
        }
        _ => e,
    };
    Ok(Json(rest_exporter(&e, &project)))
}

/// `DELETE /rest/v2/exporters/{id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/exporters/{id}", tag = "exporters", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete_exporter(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> RestResult<StatusCode> {
    let (e, _) = visible_exporter(&s, &actor, id).await?;
    s.backend.inventory.delete_exporter(&actor, e.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UrlFilter {
    project_id: Option<i64>,
    probe: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/urls`: `{"id", "project", "probe", "url"}`; filters `project_id`, `probe`
/// (the module).
#[utoipa::path(get, path = "/rest/v2/urls", tag = "urls", params(UrlFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn urls(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<UrlFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let (names, visible) = projects(&s, &actor).await?;
    let mut all = s.backend.inventory.url_list(&actor).await?;
    // Promgen's order: by URL.
    all.sort_by(|a, b| (&a.url, a.id.0).cmp(&(&b.url, b.id.0)));
    let list: Vec<Value> = all
        .into_iter()
        .filter(|u| visible.as_ref().is_none_or(|v| v.contains(&u.project_id)))
        .filter(|u| f.project_id.is_none_or(|p| u.project_id.0 == p))
        .filter(|u| f.probe.as_deref().is_none_or(|p| u.probe_module == p))
        .map(|u| {
            let project = names.get(&u.project_id).map_or("", String::as_str);
            json!({ "id": u.id.0, "project": project, "probe": u.probe_module, "url": u.url })
        })
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}

/// `DELETE /rest/v2/urls/{id}`: the project's Editors and Admins; 204.
#[utoipa::path(delete, path = "/rest/v2/urls/{id}", tag = "urls", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete_url(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> RestResult<StatusCode> {
    let u = s
        .backend
        .inventory
        .url_list(&actor)
        .await?
        .into_iter()
        .find(|u| u.id.0 == id)
        .ok_or_else(|| AppError::NotFound(format!("URL {id}")))?;
    policy::check(&s.backend.db, &actor, Action::Edit, Object::Project(u.project_id), "delete this URL").await?;
    s.backend.inventory.delete_url(&actor, u.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProbeFilter {
    module: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/probes`: `{"id", "module", "description"}`; `?module=` contains.
#[utoipa::path(get, path = "/rest/v2/probes", tag = "probes", params(ProbeFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn probes(
    State(s): State<AppState>,
    Caller(_actor): Caller,
    Query(f): Query<ProbeFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let list: Vec<Value> = s
        .backend
        .inventory
        .probes()
        .await?
        .into_iter()
        .filter(|p| f.module.as_deref().is_none_or(|m| p.module.contains(m)))
        .map(|p| json!({ "id": p.id.0, "module": p.module, "description": p.description }))
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}
