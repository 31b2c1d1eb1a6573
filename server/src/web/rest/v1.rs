//! Promgen's REST v1 read paths that scripts still use (spec 6.4; Promgen's `promgen/rest.py`):
//! services, projects, shards and farms by name (farms by id), their targets and rule files,
//! and the whole site's targets, URLs and rules. Authenticated reads (session or token), each
//! list narrowed to what the caller may see; `html`/`url` are absolute links to the object's
//! page on the host the request was sent to. Paths work with and without Promgen's trailing
//! slash.

use super::caller::{Caller, RestResult};
use crate::web::AppState;
use app::backend::exports::{ExportFilter, RulesFormat};
use app::backend::{Actor, policy};
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

/// The v1 routes, each also with Promgen's trailing slash.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for (path, route) in [
        ("/rest/service", get(services)),
        ("/rest/service/{name}", get(service)),
        ("/rest/service/{name}/projects", get(service_projects)),
        ("/rest/service/{name}/targets", get(service_targets)),
        ("/rest/service/{name}/rules", get(service_rules)),
        ("/rest/project", get(projects)),
        ("/rest/project/{name}", get(project)),
        ("/rest/project/{name}/targets", get(project_targets)),
        ("/rest/project/{name}/rules", get(project_rules)),
        ("/rest/shard", get(shards)),
        ("/rest/shard/{name}", get(shard)),
        ("/rest/shard/{name}/projects", get(shard_projects)),
        ("/rest/farm", get(farms)),
        ("/rest/farm/{id}", get(farm)),
        ("/rest/all/targets", get(all_targets)),
        ("/rest/all/urls", get(all_urls)),
        ("/rest/all/rules", get(all_rules)),
    ] {
        router = router.route(path, route.clone()).route(&format!("{path}/"), route);
    }
    router
}

use super::absolute;

#[derive(Deserialize)]
pub struct NameFilter {
    name: Option<String>,
}

fn contains(text: &str, part: &Option<String>) -> bool {
    part.as_deref().is_none_or(|p| text.contains(p))
}

fn service_json(headers: &HeaderMap, s: &Service) -> Value {
    json!({
        "owner": s.owner, "html": absolute(headers, &format!("/service/{}", s.id)),
        "name": s.name, "description": s.description,
    })
}

fn project_json(headers: &HeaderMap, p: &Project) -> Value {
    json!({
        "owner": p.owner, "service": p.service_name, "html": absolute(headers, &format!("/project/{}", p.id)),
        "name": p.name, "description": p.description,
    })
}

/// The services the caller may see.
async fn visible_services(s: &AppState, actor: &Actor) -> RestResult<Vec<Service>> {
    let visible = policy::visible_services(&s.backend.db, actor).await?;
    let mut list: Vec<Service> = s
        .backend
        .inventory
        .services(actor)
        .await?
        .into_iter()
        .map(|summary| summary.service)
        .filter(|sv| visible.as_ref().is_none_or(|v| v.contains(&sv.id)))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// The projects the caller may see.
async fn visible_projects(s: &AppState, actor: &Actor) -> RestResult<Vec<Project>> {
    let visible = policy::visible_projects(&s.backend.db, actor).await?;
    let mut list: Vec<Project> = s
        .backend
        .inventory
        .project_list(actor)
        .await?
        .into_iter()
        .filter(|p| visible.as_ref().is_none_or(|v| v.contains(&p.id)))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(list)
}

/// The service named `name`: 404 when there is none, 403 when the caller may not see it.
async fn named_service(s: &AppState, actor: &Actor, name: &str) -> RestResult<Service> {
    let all = s.backend.inventory.services(actor).await?;
    let sv = all.into_iter().map(|x| x.service).find(|sv| sv.name == name).ok_or_else(|| not_found("service", name))?;
    hidden_is_missing(s, actor, Object::Service(sv.id), "service", name).await?;
    Ok(sv)
}

async fn named_project(s: &AppState, actor: &Actor, name: &str) -> RestResult<Project> {
    let all = s.backend.inventory.project_list(actor).await?;
    let p = all.into_iter().find(|p| p.name == name).ok_or_else(|| not_found("project", name))?;
    hidden_is_missing(s, actor, Object::Project(p.id), "project", name).await?;
    Ok(p)
}

/// As Promgen's v1 (its lookups go through the caller's own list): what the caller may not
/// see is not found, so no answer tells which names exist.
async fn hidden_is_missing(s: &AppState, actor: &Actor, object: Object, kind: &str, name: &str) -> RestResult<()> {
    if policy::allows(&s.backend.db, actor, Action::View, object).await? { Ok(()) } else { Err(not_found(kind, name)) }
}

fn not_found(kind: &str, name: &str) -> super::caller::RestError {
    AppError::NotFound(format!("{kind} {name:?}")).into()
}

pub async fn services(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<NameFilter>,
    headers: HeaderMap,
) -> RestResult<Json<Vec<Value>>> {
    let list = visible_services(&s, &actor).await?;
    Ok(Json(list.iter().filter(|sv| contains(&sv.name, &f.name)).map(|sv| service_json(&headers, sv)).collect()))
}

pub async fn service(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> RestResult<Json<Value>> {
    Ok(Json(service_json(&headers, &named_service(&s, &actor, &name).await?)))
}

pub async fn service_projects(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> RestResult<Json<Vec<Value>>> {
    let sv = named_service(&s, &actor, &name).await?;
    let list = visible_projects(&s, &actor).await?;
    Ok(Json(list.iter().filter(|p| p.service_id == sv.id).map(|p| project_json(&headers, p)).collect()))
}

pub async fn service_targets(State(s): State<AppState>, Caller(actor): Caller, Path(name): Path<String>) -> Response {
    match named_service(&s, &actor, &name).await {
        Ok(sv) => {
            json_file(s.backend.exports.targets(&ExportFilter { service: Some(sv.name), ..Default::default() }).await)
        }
        Err(e) => e.into_response(),
    }
}

pub async fn service_rules(State(s): State<AppState>, Caller(actor): Caller, Path(name): Path<String>) -> Response {
    match named_service(&s, &actor, &name).await {
        Ok(sv) => rule_file(
            s.backend
                .exports
                .rules(&ExportFilter { service: Some(sv.name), ..Default::default() }, &RulesFormat::default())
                .await,
        ),
        Err(e) => e.into_response(),
    }
}

pub async fn projects(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<NameFilter>,
    headers: HeaderMap,
) -> RestResult<Json<Vec<Value>>> {
    let list = visible_projects(&s, &actor).await?;
    Ok(Json(list.iter().filter(|p| contains(&p.name, &f.name)).map(|p| project_json(&headers, p)).collect()))
}

pub async fn project(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> RestResult<Json<Value>> {
    Ok(Json(project_json(&headers, &named_project(&s, &actor, &name).await?)))
}

pub async fn project_targets(State(s): State<AppState>, Caller(actor): Caller, Path(name): Path<String>) -> Response {
    match named_project(&s, &actor, &name).await {
        Ok(p) => {
            json_file(s.backend.exports.targets(&ExportFilter { project: Some(p.name), ..Default::default() }).await)
        }
        Err(e) => e.into_response(),
    }
}

pub async fn project_rules(State(s): State<AppState>, Caller(actor): Caller, Path(name): Path<String>) -> Response {
    match named_project(&s, &actor, &name).await {
        Ok(p) => rule_file(
            s.backend
                .exports
                .rules(&ExportFilter { project: Some(p.name), ..Default::default() }, &RulesFormat::default())
                .await,
        ),
        Err(e) => e.into_response(),
    }
}

fn shard_json(headers: &HeaderMap, sh: &Shard) -> Value {
    // The shard's authorization header is not shown (as in Promgen).
    json!({
        "html": absolute(headers, &format!("/shard/{}", sh.id)), "name": sh.name, "url": sh.url,
        "proxy": sh.proxy, "enabled": sh.enabled, "samples": sh.samples, "targets": sh.targets,
    })
}

pub async fn shards(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<NameFilter>,
    headers: HeaderMap,
) -> RestResult<Json<Vec<Value>>> {
    let list = s.backend.inventory.shards(&actor).await?;
    Ok(Json(list.iter().filter(|x| contains(&x.shard.name, &f.name)).map(|x| shard_json(&headers, &x.shard)).collect()))
}

async fn named_shard(s: &AppState, actor: &Actor, name: &str) -> RestResult<Shard> {
    let list = s.backend.inventory.shards(actor).await?;
    list.into_iter().map(|x| x.shard).find(|sh| sh.name == name).ok_or_else(|| not_found("shard", name))
}

pub async fn shard(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> RestResult<Json<Value>> {
    Ok(Json(shard_json(&headers, &named_shard(&s, &actor, &name).await?)))
}

pub async fn shard_projects(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> RestResult<Json<Vec<Value>>> {
    let sh = named_shard(&s, &actor, &name).await?;
    let list = visible_projects(&s, &actor).await?;
    Ok(Json(list.iter().filter(|p| p.shard_id == sh.id).map(|p| project_json(&headers, p)).collect()))
}

#[derive(Deserialize)]
pub struct FarmFilter {
    name: Option<String>,
    source: Option<String>,
}

fn farm_json(headers: &HeaderMap, f: &Farm) -> Value {
    json!({
        "id": f.id.0, "url": absolute(headers, &format!("/farm/{}", f.id)), "name": f.name,
        "source": f.source, "project": f.project_id.0,
    })
}

pub async fn farms(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<FarmFilter>,
    headers: HeaderMap,
) -> RestResult<Json<Vec<Value>>> {
    if let Some(source) = &f.source
        && !["promgen"].contains(&source.as_str())
    {
        return Err(AppError::invalid(
            "source",
            format!("Select a valid choice. {source} is not one of the available choices."),
        )
        .into());
    }
    let visible = policy::visible_projects(&s.backend.db, &actor).await?;
    let mut list = s.backend.inventory.farm_list(&actor).await?;
    // No ordering in Promgen's model: the database's, by id.
    list.sort_by_key(|farm| farm.id.0);
    Ok(Json(
        list.iter()
            .filter(|farm| visible.as_ref().is_none_or(|v| v.contains(&farm.project_id)))
            .filter(|farm| contains(&farm.name, &f.name) && f.source.as_deref().is_none_or(|x| farm.source == x))
            .map(|farm| farm_json(&headers, farm))
            .collect(),
    ))
}

pub async fn farm(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> RestResult<Json<Value>> {
    let (farm, hosts) = s.backend.inventory.farm(&actor, FarmId(id)).await?;
    hidden_is_missing(&s, &actor, Object::Project(farm.project_id), "farm", &id.to_string()).await?;
    let mut out = farm_json(&headers, &farm);
    out["hosts"] = hosts
        .iter()
        .map(|h| json!({"name": h.name, "url": absolute(&headers, &format!("/host/{}", h.name))}))
        .collect();
    Ok(Json(out))
}

/// Only what the caller may see of a file_sd list (site admins: all of it).
async fn narrowed(s: &AppState, actor: &Actor, file: Result<bytes::Bytes, AppError>) -> Response {
    let file = match file {
        Ok(f) => f,
        Err(e) => return super::caller::RestError::from(e).into_response(),
    };
    let visible = match visible_projects(s, actor).await {
        Ok(v) if !actor.is_superuser() => v.into_iter().map(|p| p.name).collect::<std::collections::HashSet<_>>(),
        Ok(_) => return json_file(Ok(file)),
        Err(e) => return e.into_response(),
    };
    let groups: Vec<Value> = serde_json::from_slice(&file).unwrap_or_default();
    let kept: Vec<Value> =
        groups.into_iter().filter(|g| g["labels"]["project"].as_str().is_some_and(|p| visible.contains(p))).collect();
    Json(kept).into_response()
}

pub async fn all_targets(State(s): State<AppState>, Caller(actor): Caller) -> Response {
    let file = s.backend.exports.targets(&ExportFilter::default()).await;
    narrowed(&s, &actor, file).await
}

pub async fn all_urls(State(s): State<AppState>, Caller(actor): Caller) -> Response {
    let file = s.backend.exports.urls(&ExportFilter::default()).await;
    narrowed(&s, &actor, file).await
}

/// The site's whole rule file, for site admins (others read their services' and projects'
/// rules at `/rest/service/<name>/rules/`).
pub async fn all_rules(State(s): State<AppState>, Caller(actor): Caller) -> Response {
    if let Err(e) = actor.may_administer("read every rule at once") {
        return super::caller::RestError::from(e).into_response();
    }
    rule_file(s.backend.exports.rules(&ExportFilter::default(), &RulesFormat::default()).await)
}

fn json_file(body: Result<bytes::Bytes, AppError>) -> Response {
    match body {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => super::caller::RestError::from(e).into_response(),
    }
}

fn rule_file(body: Result<bytes::Bytes, AppError>) -> Response {
    match body {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "application/x-yaml; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"alert.rule.yml\""),
            ],
            body,
        )
            .into_response(),
        Err(e) => super::caller::RestError::from(e).into_response(),
    }
}
