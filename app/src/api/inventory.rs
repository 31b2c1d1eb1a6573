//! The inventory as the pages see it. Form fields arrive as text and are validated by the
//! backend, which names the field that is wrong.

use crate::api::json_text::{JsonText, RawJson};
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

/// The id picked in a `<select>`; empty when the list had nothing to pick.
#[cfg(feature = "ssr")]
fn choice<T: std::str::FromStr>(field: &str, what: &str, value: &str) -> Result<T, AppError> {
    value.parse().map_err(|_| AppError::invalid(field, format!("choose {what}")))
}

#[server(endpoint = "list_services", output = JsonText)]
pub async fn list_services() -> Result<Vec<ServiceSummary>, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.services(&actor).await
}

#[server(endpoint = "get_service", output = JsonText)]
pub async fn get_service(id: ServiceId) -> Result<ServiceDetail, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.service(&actor, id).await
}

#[server(endpoint = "create_service", output = JsonText)]
pub async fn create_service(name: String, description: String) -> Result<Service, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.create_service(&actor, ServiceInput { name, description }).await
}

#[server(endpoint = "update_service", output = JsonText)]
pub async fn update_service(id: ServiceId, name: String, description: String) -> Result<Service, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.update_service(&actor, id, ServiceInput { name, description }).await
}

#[server(endpoint = "delete_service", output = JsonText)]
pub async fn delete_service(id: ServiceId) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let gone = b.inventory.delete_service(&actor, id).await?;
    Ok(super::deleted("/", format!("the service {}", gone.name)))
}

#[server(endpoint = "get_project", output = JsonText)]
pub async fn get_project(id: ProjectId) -> Result<ProjectDetail, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.project(&actor, id).await
}

#[server(endpoint = "create_project", output = JsonText)]
pub async fn create_project(
    service_id: ServiceId,
    name: String,
    description: String,
    shard_id: String,
) -> Result<Project, AppError> {
    let (b, actor) = super::caller().await?;
    let shard_id = choice("shard_id", "a shard", &shard_id)?;
    b.inventory.create_project(&actor, service_id, ProjectInput { name, description, shard_id }).await
}

#[server(endpoint = "update_project", output = JsonText)]
pub async fn update_project(
    id: ProjectId,
    name: String,
    description: String,
    shard_id: String,
) -> Result<Project, AppError> {
    let (b, actor) = super::caller().await?;
    let shard_id = choice("shard_id", "a shard", &shard_id)?;
    b.inventory.update_project(&actor, id, ProjectInput { name, description, shard_id }).await
}

#[server(endpoint = "delete_project", output = JsonText)]
pub async fn delete_project(id: ProjectId) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let gone = b.inventory.delete_project(&actor, id).await?;
    Ok(super::deleted(&format!("/service/{}", gone.service_id), format!("the project {}", gone.name)))
}

#[server(endpoint = "create_farm", output = JsonText)]
pub async fn create_farm(project_id: ProjectId, name: String, hosts: String) -> Result<Farm, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.create_farm(&actor, project_id, FarmInput { name, hosts }).await
}

#[server(endpoint = "add_hosts", output = JsonText)]
pub async fn add_hosts(farm_id: FarmId, hosts: String) -> Result<u64, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.add_hosts(&actor, farm_id, &hosts).await
}

#[server(endpoint = "delete_host", output = JsonText)]
pub async fn delete_host(id: HostId) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.delete_host(&actor, id).await.map(drop)
}

#[server(endpoint = "delete_farm", output = JsonText)]
pub async fn delete_farm(id: FarmId) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.delete_farm(&actor, id).await.map(drop)
}

#[server(endpoint = "create_exporter", output = JsonText)]
pub async fn create_exporter(
    project_id: ProjectId,
    job: String,
    port: String,
    path: String,
    scheme: String,
) -> Result<Exporter, AppError> {
    let (b, actor) = super::caller().await?;
    let port = validate::port_text("port", &port)?;
    let scheme = Scheme::parse(&scheme).ok_or_else(|| AppError::invalid("scheme", "must be http or https"))?;
    b.inventory.create_exporter(&actor, project_id, ExporterInput { job, port, path, scheme, enabled: true }).await
}

#[server(endpoint = "set_exporter_enabled", output = JsonText)]
pub async fn set_exporter_enabled(id: ExporterId, enabled: bool) -> Result<Exporter, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.set_exporter_enabled(&actor, id, enabled).await
}

/// How many targets of each of the project's exporters Prometheus finds up now.
#[server(endpoint = "exporters_up", output = JsonText)]
pub async fn exporters_up(project_id: ProjectId) -> Result<ProjectHealth, AppError> {
    let (b, actor) = super::caller().await?;
    b.exporter_checks.health(&actor, project_id).await
}

/// Scrapes the exporter on the first hosts of its farm and shows what came back.
#[server(endpoint = "test_exporter", output = JsonText)]
pub async fn test_exporter(id: ExporterId) -> Result<ExporterTest, AppError> {
    let (b, actor) = super::caller().await?;
    b.exporter_checks.test(&actor, id).await
}

#[server(endpoint = "delete_exporter", output = JsonText)]
pub async fn delete_exporter(id: ExporterId) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.delete_exporter(&actor, id).await.map(drop)
}

#[server(endpoint = "create_url", output = JsonText)]
pub async fn create_url(project_id: ProjectId, url: String, probe_id: String) -> Result<UrlId, AppError> {
    let (b, actor) = super::caller().await?;
    let probe_id = choice("probe_id", "a probe", &probe_id)?;
    let input = UrlInput { url, probe_id };
    b.inventory.refuse_known_url(&actor, project_id, &input).await?;
    b.inventory.create_url(&actor, project_id, input).await
}

#[server(endpoint = "delete_url", output = JsonText)]
pub async fn delete_url(id: UrlId) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.delete_url(&actor, id).await.map(drop)
}

#[server(endpoint = "get_host", output = JsonText)]
pub async fn get_host(name: String) -> Result<HostDetail, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.host(&actor, &name).await
}

#[server(endpoint = "search", output = JsonText)]
pub async fn search(query: String) -> Result<Vec<SearchHit>, AppError> {
    let (b, actor) = super::caller().await?;
    b.search(&actor, &query).await
}

/// What the project forms offer (shards, probes, common exporters); read by the forms'
/// sections (`RawJson`).
#[server(endpoint = "get_form_choices", output = JsonText)]
pub async fn get_form_choices() -> Result<RawJson<FormChoices>, AppError> {
    let (b, actor) = super::caller().await?;
    RawJson::new(&b.inventory.form_choices(&actor).await?)
}
