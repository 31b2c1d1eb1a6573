//! Site-wide things: shards, probes, the audit log, imports.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[server(endpoint = "list_shards")]
pub async fn list_shards() -> Result<Vec<ShardSummary>, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.shards(&actor).await
}

#[server(endpoint = "create_shard")]
pub async fn create_shard(
    name: String,
    url: String,
    proxy: Option<String>,
    samples: String,
    targets: String,
    prometheus_version: Option<String>,
) -> Result<Shard, AppError> {
    let (b, actor) = super::caller().await?;
    let number = |field: &str, v: &str| {
        v.trim().parse::<i64>().map_err(|_| AppError::invalid(field, format!("{v:?} is not a number")))
    };
    let input = ShardInput {
        name,
        url,
        proxy: proxy.is_some(),
        enabled: true,
        samples: number("samples", &samples)?,
        targets: number("targets", &targets)?,
        prometheus_version,
    };
    let shard = b.inventory.create_shard(&actor, input).await?;
    // Learn which Prometheus it runs, without making the form wait for it.
    let rules = b.rules.clone();
    tokio::spawn(async move { rules.detect_versions().await });
    Ok(shard)
}

#[server(endpoint = "create_probe")]
pub async fn create_probe(module: String, description: String) -> Result<Probe, AppError> {
    let (b, actor) = super::caller().await?;
    b.inventory.create_probe(&actor, &module, &description).await
}

#[server(endpoint = "audit_log")]
pub async fn audit_log(page: i64, object_type: Option<String>, object_id: Option<i64>) -> Result<AuditPage, AppError> {
    let (b, actor) = super::caller().await?;
    let filter = crate::backend::audit::AuditFilter { object_type, object_id };
    b.audit.list(&actor, &filter, page).await
}

/// Imports file_sd JSON pasted on the import page; returns the report as text.
#[server(endpoint = "import_targets")]
pub async fn import_targets(targets: String, shard: String) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let shard = Some(shard.trim()).filter(|s| !s.is_empty());
    let report = b.importer.import_file_sd(&actor, &targets, shard).await?;
    Ok(report.to_string())
}
