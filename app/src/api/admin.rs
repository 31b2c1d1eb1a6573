//! Site-wide things: shards, probes, the audit log, imports.

use crate::api::json_text::{JsonText, RawJson};
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[server(endpoint = "list_shards", output = JsonText)]
pub async fn list_shards() -> Result<Vec<ShardSummary>, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.shards(&actor).await
}

/// A shard's form as the backend takes it; the capacities must be numbers.
#[cfg(feature = "ssr")]
fn shard_input(
    name: String,
    url: String,
    proxy: bool,
    enabled: bool,
    samples: &str,
    targets: &str,
    prometheus_version: Option<String>,
) -> Result<ShardInput, AppError> {
    let number = |field: &str, v: &str| crate::model::validate::number_text(field, v).map_err(AppError::from);
    Ok(ShardInput {
        name,
        url,
        proxy,
        enabled,
        samples: number("samples", samples)?,
        targets: number("targets", targets)?,
        prometheus_version,
    })
}

#[server(endpoint = "create_shard", output = JsonText)]
pub async fn create_shard(
    name: String,
    url: String,
    proxy: Option<String>,
    samples: String,
    targets: String,
    prometheus_version: Option<String>,
) -> Result<Shard, AppError> {
    let (b, actor) = super::caller().await?;
    let input = shard_input(name, url, proxy.is_some(), true, &samples, &targets, prometheus_version)?;
    let shard = b.inventory.create_shard(&actor, input).await?;
    // Learn which Prometheus it runs, without making the form wait for it.
    let rules = b.rules.clone();
    b.supervisor.spawn("shard versions", async move {
        if let Err(e) = rules.detect_versions().await {
            tracing::warn!(error = %e, "cannot ask the new shard which Prometheus it runs");
        }
    });
    Ok(shard)
}

/// Changes a shard (site admins); its Prometheus version is set apart (`set_prometheus_version`).
#[server(endpoint = "update_shard", output = JsonText)]
pub async fn update_shard(
    id: ShardId,
    name: String,
    url: String,
    proxy: Option<String>,
    enabled: Option<String>,
    samples: String,
    targets: String,
) -> Result<Shard, AppError> {
    let (b, actor) = super::caller().await?;
    // Refused before the form is read: what is wrong with it is no business of a non-admin.
    actor.may_administer("change shards")?;
    let version = b.inventory.shard_row(id).await?.prometheus_version;
    let input = shard_input(name, url, proxy.is_some(), enabled.is_some(), &samples, &targets, version)?;
    b.inventory.update_shard(&actor, id, input).await
}

/// Deletes a shard no project uses (site admins).
#[server(endpoint = "delete_shard", output = JsonText)]
pub async fn delete_shard(id: ShardId) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let gone = b.inventory.delete_shard(&actor, id).await?;
    Ok(super::deleted("/shard", format!("the shard {}", gone.name)))
}

/// What each Prometheus server of the shard scrapes now, asked live.
#[server(endpoint = "shard_servers", output = JsonText)]
pub async fn shard_servers(id: ShardId) -> Result<Vec<ServerState>, AppError> {
    let (b, actor) = super::caller().await?;
    actor.require()?;
    b.proxy.server_states(id).await
}

/// Where each push agent of the shard stands ("in sync", "behind since …", its last error).
#[server(endpoint = "shard_agents", output = JsonText)]
pub async fn shard_agents(id: ShardId) -> Result<Vec<AgentState>, AppError> {
    let (b, actor) = super::caller().await?;
    b.agents.states(&actor, id).await
}

/// Forgets an agent's reports (a server that is gone).
#[server(endpoint = "forget_agent", output = JsonText)]
pub async fn forget_agent(shard_id: ShardId, name: String) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.agents.forget(&actor, shard_id, &name).await
}

/// Registers a Prometheus server on the shard (or moves it there); says what it did.
#[server(endpoint = "add_server", output = JsonText)]
pub async fn add_server(shard_id: ShardId, host: String, port: String) -> Result<String, AppError> {
    use crate::backend::inventory::Registered;
    let (b, actor) = super::caller().await?;
    actor.may_administer("register Prometheus servers")?;
    let port = validate::port_text("port", &port)?;
    let shard = b.inventory.shard_row(shard_id).await?;
    Ok(match b.inventory.register_server(&actor, &shard.name, &host, port).await? {
        Registered::Created { .. } => format!("Added {host}:{port}"),
        Registered::Moved { from } => format!("Moved {host}:{port} here from {from}"),
        Registered::Unchanged => format!("{host}:{port} is on this shard already"),
    })
}

/// Removes a Prometheus server from its shard.
#[server(endpoint = "remove_server", output = JsonText)]
pub async fn remove_server(id: PrometheusId) -> Result<ShardId, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.remove_server(&actor, id).await
}

#[server(endpoint = "create_probe", output = JsonText)]
pub async fn create_probe(module: String, description: String) -> Result<Probe, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.create_probe(&actor, &module, &description).await
}

/// Every blackbox probe with how many URLs use it (any logged-in user).
#[server(endpoint = "list_probes", output = JsonText)]
pub async fn list_probes() -> Result<Vec<ProbeUsage>, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.probe_usage(&actor).await
}

/// Renames a probe's module or changes its description (site admins).
#[server(endpoint = "update_probe", output = JsonText)]
pub async fn update_probe(id: ProbeId, module: String, description: String) -> Result<Probe, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.update_probe(&actor, id, &module, &description).await
}

/// Deletes a probe no URL uses (site admins; 409 while URLs use it).
#[server(endpoint = "delete_probe", output = JsonText)]
pub async fn delete_probe(id: ProbeId) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.delete_probe(&actor, id).await
}

/// A page of the audit log (`page` from 1, newest first) that the caller may read, narrowed to
/// one object and its children when `object_type` and `object_id` are given. Read by the code
/// that shows it (`RawJson`: a rule page's history is a deferred section).
#[server(endpoint = "audit_log", output = JsonText)]
pub async fn audit_log(
    page: i64,
    object_type: Option<String>,
    object_id: Option<i64>,
) -> Result<RawJson<AuditPage>, AppError> {
    let (b, actor) = super::caller().await?;
    let filter = crate::backend::audit::AuditFilter { object_type, object_id };
    RawJson::new(&b.audit.list(&actor, &filter, page).await?)
}

/// Imports file_sd JSON pasted on the import page; returns the report as sentences.
#[server(endpoint = "import_targets", output = JsonText)]
pub async fn import_targets(targets: String, shard: String) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let shard = Some(shard.trim()).filter(|s| !s.is_empty());
    let report = b.importer.import_file_sd(&actor, &targets, shard).await?;
    Ok(report.sentences())
}
