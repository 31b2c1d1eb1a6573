//! `/rest/v2/farms`: Promgen's `FarmViewSet`: farms, their hosts and their sources. Only
//! local farms (`promgen`) are kept here; remote discovery sources are not (the tables'
//! rows that need Promgen's mocked `external` source are skipped by its runner).

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

fn rest_farm(f: &Farm, project: &str) -> Value {
    json!({
        "id": f.id.0, "project": project, "project_id": f.project_id.0, "name": f.name,
        "source": f.source, "remote": !f.is_local(),
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FarmFilter {
    name: Option<String>,
    source: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/farms`: the farms of the projects the caller may see; `name`, `source`.
#[utoipa::path(get, path = "/rest/v2/farms", tag = "farms", params(FarmFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<FarmFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let visible = policy::visible_projects(&s.backend.db, &actor).await?;
    let names: std::collections::HashMap<ProjectId, String> =
        s.backend.inventory.project_list(&actor).await?.into_iter().map(|p| (p.id, p.name)).collect();
    let list: Vec<Value> = s
        .backend
        .inventory
        .farm_list(&actor)
        .await?
        .into_iter()
        .filter(|farm| visible.as_ref().is_none_or(|v| v.contains(&farm.project_id)))
        .filter(|farm| f.name.as_deref().is_none_or(|n| farm.name == n))
        .filter(|farm| f.source.as_deref().is_none_or(|src| farm.source == src))
        .map(|farm| rest_farm(&farm, names.get(&farm.project_id).map_or("", String::as_str)))
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}

/// The farm with its hosts and project name, for those who may see its project (403).
async fn visible(s: &AppState, actor: &Actor, id: i64) -> RestResult<(Farm, Vec<Host>, String)> {
    let (farm, hosts) = s.backend.inventory.farm(actor, FarmId(id)).await?;
    policy::check(&s.backend.db, actor, Action::View, Object::Project(farm.project_id), "see this farm").await?;
    let project = s.backend.inventory.project(actor, farm.project_id).await?.project.name;
    Ok((farm, hosts, project))
}

/// `GET /rest/v2/farms/{id}`.
#[utoipa::path(get, path = "/rest/v2/farms/{id}", tag = "farms", params(("id" = i64, Path, description = "the object's id")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn get(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<Json<Value>> {
    let (farm, _, project) = visible(&s, &actor, id).await?;
    Ok(Json(rest_farm(&farm, &project)))
}

async fn editable(s: &AppState, actor: &Actor, id: i64) -> RestResult<(Farm, Vec<Host>, String)> {
    let found = visible(s, actor, id).await?;
    policy::check(&s.backend.db, actor, Action::Edit, Object::Project(found.0.project_id), "change this farm").await?;
    Ok(found)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct FarmBody {
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    name: Option<String>,
}

/// `PUT`/`PATCH /rest/v2/farms/{id}` `{"name"}`: local farms only (400 `{"detail": "Only
/// local farms can be updated."}`).
#[utoipa::path(method(put, patch), path = "/rest/v2/farms/{id}", tag = "farms", params(("id" = i64, Path, description = "the object's id")), request_body(content = FarmBody, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let (farm, _, project) = editable(&s, &actor, id).await?;
    if !farm.is_local() {
        return Ok((StatusCode::BAD_REQUEST, Json(json!({ "detail": "Only local farms can be updated." }))));
    }
    let b: FarmBody = json_body(&body)?;
    let farm = match b.name {
        Some(name) if name != farm.name => s.backend.inventory.rename_farm(&actor, farm.id, &name).await?,
        _ => farm,
    };
    Ok((StatusCode::OK, Json(rest_farm(&farm, &project))))
}

/// `DELETE /rest/v2/farms/{id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/farms/{id}", tag = "farms", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<StatusCode> {
    let (farm, _, _) = editable(&s, &actor, id).await?;
    s.backend.inventory.delete_farm(&actor, farm.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /rest/v2/farms/{id}/hosts`: `[{"id", "name", "farm"}]` by name.
#[utoipa::path(get, path = "/rest/v2/farms/{id}/hosts", tag = "farms", params(("id" = i64, Path, description = "the object's id"), PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn hosts(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    Query(page): Query<PageQuery>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let (_, hosts, _) = visible(&s, &actor, id).await?;
    let list = hosts.into_iter().map(|h| json!({ "id": h.id.0, "name": h.name, "farm": h.farm_id.0 })).collect();
    Ok(Json(paginate(list, &page, &uri, &headers)?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct HostsBody {
    hosts: Vec<String>,
}

/// `POST /rest/v2/farms/{id}/hosts` `{"hosts": [...]}`: all or none (400 `{"detail":
/// "Invalid hostnames.", "extras": {"invalid_hosts": [...]}}`); hosts there already are
/// skipped; 204.
#[utoipa::path(post, path = "/rest/v2/farms/{id}/hosts", tag = "farms", params(("id" = i64, Path, description = "the object's id")), request_body(content = HostsBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn add_hosts(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let (farm, _, _) = editable(&s, &actor, id).await?;
    let b: HostsBody = json_body(&body)?;
    let invalid: Vec<&String> =
        b.hosts.iter().filter(|h| app::model::validate::hostname("hosts", h.trim()).is_err()).collect();
    if !invalid.is_empty() {
        let body = json!({ "detail": "Invalid hostnames.", "extras": { "invalid_hosts": invalid } });
        return Ok((StatusCode::BAD_REQUEST, Json(body)));
    }
    s.backend.inventory.add_hosts(&actor, farm.id, &b.hosts.join("\n")).await?;
    Ok((StatusCode::NO_CONTENT, Json(Value::Null)))
}

/// `DELETE /rest/v2/farms/{id}/hosts/{host_id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/farms/{id}/hosts/{host_id}", tag = "farms", params(("id" = i64, Path, description = "the object's id"), ("host_id" = i64, Path, description = "an id")), responses((status = 204, description = "Gone")))]
pub async fn delete_host(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((id, host)): Path<(i64, i64)>,
) -> RestResult<StatusCode> {
    let (_, hosts, _) = editable(&s, &actor, id).await?;
    if !hosts.iter().any(|h| h.id.0 == host) {
        return Err(AppError::NotFound(format!("host {host} of farm {id}")).into());
    }
    s.backend.inventory.delete_host(&actor, HostId(host)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /rest/v2/farms/{id}/sync`: a remote farm's hosts fetched again from its source;
/// no remote source is kept here, so a remote farm cannot be synced (400), nor can a local
/// one (Promgen's 400).
#[utoipa::path(post, path = "/rest/v2/farms/{id}/sync", tag = "farms", params(("id" = i64, Path, description = "the object's id")), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn sync(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> RestResult<(StatusCode, Json<Value>)> {
    let (farm, _, _) = editable(&s, &actor, id).await?;
    let detail = if farm.is_local() {
        "Only remote farms can be synced.".to_string()
    } else {
        format!("The farm source {:?} is not known to this server.", farm.source)
    };
    Ok((StatusCode::BAD_REQUEST, Json(json!({ "detail": detail }))))
}

/// `POST /rest/v2/farms/{id}/convert-to-local`: a remote farm becomes local, hosts kept (a
/// local farm is 400).
#[utoipa::path(post, path = "/rest/v2/farms/{id}/convert-to-local", tag = "farms", params(("id" = i64, Path, description = "the object's id")), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn convert_to_local(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> RestResult<(StatusCode, Json<Value>)> {
    let (farm, _, project) = editable(&s, &actor, id).await?;
    if farm.is_local() {
        return Ok((StatusCode::BAD_REQUEST, Json(json!({ "detail": "Only remote farms can be converted." }))));
    }
    let farm = s.backend.inventory.convert_farm_to_local(&actor, farm.id).await?;
    Ok((StatusCode::OK, Json(rest_farm(&farm, &project))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourceFilter {
    name: Option<String>,
    remote: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/farms/sources`: `[{"name", "remote"}]`: `promgen` (local) only.
#[utoipa::path(get, path = "/rest/v2/farms/sources", tag = "farms", params(SourceFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn sources(
    Caller(_actor): Caller,
    Query(f): Query<SourceFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    let sources = [(LOCAL_FARM_SOURCE, false)];
    let list = sources
        .iter()
        .filter(|(name, _)| f.name.as_deref().is_none_or(|n| name.contains(n)))
        .filter(|(_, remote)| f.remote.as_deref().is_none_or(|r| (r == "true") == *remote))
        .map(|(name, remote)| json!({ "name": name, "remote": remote }))
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}

/// `GET /rest/v2/farms/remotes/{source}`: the farms a remote source offers; the local source
/// and unknown ones are 400 ("Unknown farm source." / not remote).
#[utoipa::path(get, path = "/rest/v2/farms/remotes/{source}", tag = "farms", params(("source" = String, Path, description = "a remote discovery source")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn remotes(Caller(_actor): Caller, Path(source): Path<String>) -> RestResult<(StatusCode, Json<Value>)> {
    let detail = if source == LOCAL_FARM_SOURCE { "This farm source is not remote." } else { "Unknown farm source." };
    Ok((StatusCode::BAD_REQUEST, Json(json!({ "detail": detail }))))
}
