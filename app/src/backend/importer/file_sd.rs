//! Promgen's target import (spec 3.3): file_sd JSON as `/api/v1/targets` writes it, turned back
//! into shards, services, projects, farms, hosts and exporters. Existing objects are reused by
//! name; nothing is deleted.

use super::{ImportReport, Importer};
use crate::backend::audit::{self, Subject};
use crate::backend::inventory::insert_hosts;
use crate::backend::{Actor, bump_generation};
use crate::error::AppError;
use crate::model::{FarmId, validate};
use crate::render::FileSdGroup;

/// The farm source Promgen gives imported farms that name none.
const IMPORTED_FARM_SOURCE: &str = "pmc";
const DEFAULT_SHARD: &str = "Default";

impl Importer {
    /// Imports file_sd JSON; `replace_shard` puts every project on that shard instead of the
    /// one its `__shard` label names. A shard a label names is made when missing (as Promgen
    /// does, for targets from another site); `replace_shard` must name one that exists, so a
    /// typo is an error at `shard` naming the shards there are, not a new empty shard.
    pub async fn import_file_sd(
        &self,
        actor: &Actor,
        json: &str,
        replace_shard: Option<&str>,
    ) -> Result<ImportReport, AppError> {
        actor.may_administer("import targets")?;
        let groups: Vec<FileSdGroup> = serde_json::from_str(json).map_err(|e| {
            AppError::invalid("targets", format!("not file_sd JSON (a list of {{labels, targets}}): {e}"))
        })?;
        let mut report = ImportReport::default();
        let mut tx = self.db.begin().await?;
        if let Some(name) = replace_shard
            && find(&mut tx, "SELECT id FROM shard WHERE name = $1", name).await?.is_none()
        {
            let names: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM shard ORDER BY name LIMIT 11").fetch_all(&mut *tx).await?;
            let mut known: Vec<String> = names.into_iter().map(|(n,)| format!("{n:?}")).collect();
            if known.len() > 10 {
                known[10] = "…".into();
            }
            let there = if known.is_empty() { "none yet".into() } else { known.join(", ") };
            let name = crate::model::shortened(name, 60);
            return Err(AppError::invalid("shard", format!("no shard is named {name:?} (shards: {there})")));
        }
        for (i, group) in groups.iter().enumerate() {
            let label = |name: &str| -> Result<String, AppError> {
                group
                    .labels
                    .get(name)
                    .cloned()
                    .ok_or_else(|| AppError::invalid("targets", format!("entry {i} has no {name:?} label")))
            };
            let shard_name = replace_shard
                .map(str::to_string)
                .or_else(|| group.labels.get("__shard").cloned())
                .unwrap_or(DEFAULT_SHARD.into());
            let service_name = validate::name("service", &label("service")?)?;
            let project_name = validate::name("project", &label("project")?)?;
            let farm_name = validate::name("farm", &label("farm")?)?;
            let job = validate::job("job", &label("job")?)?;
            let source = group.labels.get("__farm_source").cloned().unwrap_or(IMPORTED_FARM_SOURCE.into());
            let scheme = group.labels.get("__scheme__").map_or("http", |s| s.as_str());
            let path = rebuild_path(group);

            let shard = match find(&mut tx, "SELECT id FROM shard WHERE name = $1", &shard_name).await? {
                Some(id) => id,
                None => {
                    report.count("shard", 1);
                    insert_returning(
                        &mut tx,
                        sqlx::query_as("INSERT INTO shard (name, url) VALUES ($1, '') RETURNING id").bind(&shard_name),
                    )
                    .await?
                }
            };
            let owner = actor.user_id().map(|u| u.0);
            let service = match find(&mut tx, "SELECT id FROM service WHERE name = $1", &service_name).await? {
                Some(id) => id,
                None => {
                    report.count("service", 1);
                    insert_returning(
                        &mut tx,
                        sqlx::query_as("INSERT INTO service (name, owner_id) VALUES ($1, $2) RETURNING id")
                            .bind(&service_name)
                            .bind(owner),
                    )
                    .await?
                }
            };
            let project = match sqlx::query_as::<_, (i64, i64)>("SELECT id, service_id FROM project WHERE name = $1")
                .bind(&project_name)
                .fetch_optional(&mut *tx)
                .await?
            {
                Some((id, sid)) if sid == service => id,
                Some(_) => {
                    return Err(AppError::conflict(
                        "targets",
                        format!("project {project_name:?} exists under another service than {service_name:?}"),
                    ));
                }
                None => {
                    report.count("project", 1);
                    insert_returning(
                        &mut tx,
                        sqlx::query_as("INSERT INTO project (name, service_id, shard_id, owner_id) VALUES ($1, $2, $3, $4) RETURNING id")
                            .bind(&project_name)
                            .bind(service)
                            .bind(shard)
                            .bind(owner),
                    )
                    .await?
                }
            };
            let farm = match sqlx::query_as::<_, (i64,)>("SELECT id FROM farm WHERE project_id = $1")
                .bind(project)
                .fetch_optional(&mut *tx)
                .await?
            {
                Some((id,)) => {
                    sqlx::query("UPDATE farm SET name = $1, source = $2 WHERE id = $3")
                        .bind(&farm_name)
                        .bind(&source)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    id
                }
                None => {
                    report.count("farm", 1);
                    insert_returning(
                        &mut tx,
                        sqlx::query_as("INSERT INTO farm (name, source, project_id) VALUES ($1, $2, $3) RETURNING id")
                            .bind(&farm_name)
                            .bind(&source)
                            .bind(project),
                    )
                    .await?
                }
            };
            let mut hosts = Vec::new();
            let mut ports = Vec::new();
            for target in &group.targets {
                let (host, port) = target
                    .rsplit_once(':')
                    .ok_or_else(|| AppError::invalid("targets", format!("target {target:?} has no :port")))?;
                hosts.push(validate::hostname("targets", host)?);
                let port = validate::port_text("targets", port)?;
                if !ports.contains(&port) {
                    ports.push(port);
                }
            }
            let added = insert_hosts(&mut tx, FarmId(farm), &hosts).await?;
            report.count("host", added);
            for port in ports {
                let done = sqlx::query(
                    "INSERT INTO exporter (project_id, job, port, path, scheme, enabled) VALUES ($1, $2, $3, $4, $5, 1) \
                     ON CONFLICT (job, port, path, scheme, project_id) DO NOTHING",
                )
                .bind(project)
                .bind(&job)
                .bind(port)
                .bind(&path)
                .bind(scheme)
                .execute(&mut *tx)
                .await?;
                report.count("exporter", done.rows_affected());
            }
        }
        let total: u64 = report.imported.values().sum();
        audit::record(
            &mut tx,
            actor,
            &format!("Imported {total} objects from file_sd targets"),
            Subject::new("import", 0),
            None::<&()>,
            Some(&report),
        )
        .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// The exporter path from `__metrics_path__` and `__param_*` labels, so that our own export
/// imports back to the same exporters.
fn rebuild_path(group: &FileSdGroup) -> String {
    let params: Vec<String> =
        group.labels.iter().filter_map(|(k, v)| k.strip_prefix("__param_").map(|k| format!("{k}={v}"))).collect();
    match (group.labels.get("__metrics_path__"), params.is_empty()) {
        (None, true) => String::new(),
        (path, true) => path.cloned().unwrap_or_default(),
        (path, false) => format!("{}?{}", path.map_or("/metrics", |p| p.as_str()), params.join("&")),
    }
}

async fn find(conn: &mut sqlx::AnyConnection, sql: &str, name: &str) -> Result<Option<i64>, sqlx::Error> {
    Ok(sqlx::query_as::<_, (i64,)>(sql).bind(name).fetch_optional(conn).await?.map(|(id,)| id))
}

async fn insert_returning<'q>(
    conn: &mut sqlx::AnyConnection,
    q: sqlx::query::QueryAs<'q, sqlx::Any, (i64,), sqlx::any::AnyArguments<'q>>,
) -> Result<i64, sqlx::Error> {
    Ok(q.fetch_one(conn).await?.0)
}
