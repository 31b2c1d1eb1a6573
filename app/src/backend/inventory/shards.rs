//! Shards (groups of identical Prometheus servers) and the servers in them. Site-wide: only
//! admins change them.

use super::Inventory;
use super::rows::*;
use crate::backend::audit::{self, Subject};
use crate::backend::{Actor, bump_generation, unique};
use crate::error::AppError;
use crate::model::*;
use sqlx::Row;

#[derive(sqlx::FromRow)]
struct ServerRow {
    id: i64,
    shard_id: i64,
    host: String,
    port: i64,
}

#[derive(sqlx::FromRow)]
struct ShardLoadRow {
    shard_id: i64,
    projects: i64,
    exporters: i64,
    registered_targets: i64,
}

/// Binds a shard's columns as $1..$6, in the order the statements name them.
fn bind_shard<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    input: &'q ShardInput,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&input.name)
        .bind(&input.url)
        .bind(i64::from(input.proxy))
        .bind(i64::from(input.enabled))
        .bind(input.samples)
        .bind(input.targets)
        .bind(input.prometheus_version.as_deref())
}

/// A shard's input as the audit log keeps it: the URL's password masked.
fn audited(input: &ShardInput) -> ShardInput {
    ShardInput { url: crate::model::validate::mask_url_password(&input.url), ..input.clone() }
}

/// What `register-server` did, in the words it prints.
#[derive(Debug, PartialEq, Eq)]
pub enum Registered {
    Created { shard_created: bool },
    Moved { from: String },
    Unchanged,
}

impl Inventory {
    pub(crate) async fn shard_row(&self, id: ShardId) -> Result<Shard, AppError> {
        sqlx::query_as::<_, ShardRow>(&format!("SELECT {SHARD_COLUMNS} FROM shard WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .map(Into::into)
            .ok_or_else(|| AppError::NotFound(format!("shard {id}")))
    }

    /// The shard a project is to be on: one that is not there is the input's mistake (400 on
    /// `shard_id`), not a missing page.
    pub(crate) async fn chosen_shard(&self, id: ShardId) -> Result<Shard, AppError> {
        self.shard_row(id).await.map_err(|e| e.not_found_at("shard_id", || format!("no shard {id}")))
    }

    pub async fn shard_list(&self) -> Result<Vec<Shard>, AppError> {
        let mut shards: Vec<Shard> = sqlx::query_as::<_, ShardRow>(&format!("SELECT {SHARD_COLUMNS} FROM shard"))
            .fetch_all(&self.db.pool)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        by_name(&mut shards, |s| &s.name);
        Ok(shards)
    }

    /// Shards with their servers and the load registered on them, against their capacity.
    pub async fn shards(&self, actor: &Actor) -> Result<Vec<ShardSummary>, AppError> {
        actor.require()?;
        let shards = self.shard_list().await?;
        let servers: Vec<ServerRow> =
            sqlx::query_as("SELECT id, shard_id, host, port FROM prometheus").fetch_all(&self.db.pool).await?;
        let loads: Vec<ShardLoadRow> = sqlx::query_as(
            "SELECT p.shard_id, COUNT(DISTINCT p.id) AS projects, COUNT(e.id) AS exporters, \
             CAST(COALESCE(SUM(CASE WHEN e.enabled = 1 THEN hc.hosts ELSE 0 END), 0) AS BIGINT) AS registered_targets \
             FROM project p \
             LEFT JOIN (SELECT f.project_id, COUNT(h.id) AS hosts FROM farm f JOIN host h ON h.farm_id = f.id \
                        GROUP BY f.project_id) hc ON hc.project_id = p.id \
             LEFT JOIN exporter e ON e.project_id = p.id GROUP BY p.shard_id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        let readable = crate::backend::policy::Readable::of(&self.db, actor).await?;
        let mut named: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT p.shard_id, p.id, s.name, p.name FROM project p JOIN service s ON s.id = p.service_id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        named.retain(|(_, id, _, _)| readable.project(ProjectId(*id)));
        named.sort_by(|a, b| (&a.2, &a.3).cmp(&(&b.2, &b.3)));
        Ok(shards
            .into_iter()
            .map(|shard| {
                let load = loads.iter().find(|l| l.shard_id == shard.id.0);
                let project_names = named
                    .iter()
                    .filter(|(on, ..)| *on == shard.id.0)
                    .take(SHARD_PROJECT_NAMES)
                    .map(|(_, _, service, project)| format!("{service}/{project}"))
                    .collect();
                let mut servers: Vec<PrometheusServer> = servers
                    .iter()
                    .filter(|s| s.shard_id == shard.id.0)
                    .map(|s| PrometheusServer {
                        id: PrometheusId(s.id),
                        shard_id: ShardId(s.shard_id),
                        host: s.host.clone(),
                        port: s.port,
                    })
                    .collect();
                servers.sort_by(|a, b| (&a.host, a.port).cmp(&(&b.host, b.port)));
                ShardSummary {
                    servers,
                    projects: load.map_or(0, |l| l.projects),
                    exporters: load.map_or(0, |l| l.exporters),
                    registered_targets: load.map_or(0, |l| l.registered_targets),
                    project_names,
                    shard,
                }
            })
            .collect())
    }

    pub async fn create_shard(&self, actor: &Actor, input: ShardInput) -> Result<Shard, AppError> {
        actor.may_administer("add shards")?;
        let input = input.clean()?;
        let mut tx = self.db.begin().await?;
        let id: i64 = bind_shard(
            sqlx::query(
                "INSERT INTO shard (name, url, proxy, enabled, samples, targets, prometheus_version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            ),
            &input,
        )
        .fetch_one(&mut *tx)
        .await
        .and_then(|row| row.try_get(0))
        .map_err(unique("name", format!("a shard named {:?} exists already", input.name)))?;
        let body = format!("Created shard {}", input.name);
        audit::record(&mut tx, actor, &body, Subject::new("shard", id), None::<&()>, Some(&audited(&input))).await?;
        tx.commit().await?;
        self.shard_row(ShardId(id)).await
    }

    pub async fn update_shard(&self, actor: &Actor, id: ShardId, input: ShardInput) -> Result<Shard, AppError> {
        actor.may_administer("change shards")?;
        let old = self.shard_row(id).await?;
        let input = input.clean()?;
        let mut tx = self.db.begin().await?;
        bind_shard(
            sqlx::query(
                "UPDATE shard SET name = $1, url = $2, proxy = $3, enabled = $4, samples = $5, targets = $6, \
                 prometheus_version = $7 WHERE id = $8",
            ),
            &input,
        )
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(unique("name", format!("a shard named {:?} exists already", input.name)))?;
        let body = format!("Updated shard {}", input.name);
        audit::record(&mut tx, actor, &body, Subject::new("shard", id.0), Some(&old), Some(&audited(&input))).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        self.shard_row(id).await
    }

    /// `register-server SHARD HOST PORT`: creates the shard if needed, then registers the
    /// server on it, or moves it there from another shard.
    pub async fn register_server(
        &self,
        actor: &Actor,
        shard: &str,
        host: &str,
        port: i64,
    ) -> Result<Registered, AppError> {
        actor.may_administer("register Prometheus servers")?;
        let shard = crate::model::validate::name("shard", shard)?;
        let host = crate::model::validate::hostname("host", host)?;
        let port = crate::model::validate::port("port", port)?;
        let mut tx = self.db.begin().await?;
        let existing: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM shard WHERE name = $1").bind(&shard).fetch_optional(&mut *tx).await?;
        let (shard_id, shard_created) = match existing {
            Some((id,)) => (id, false),
            None => {
                let (id,): (i64,) = sqlx::query_as("INSERT INTO shard (name, url) VALUES ($1, $2) RETURNING id")
                    .bind(&shard)
                    .bind(format!("http://{}", crate::model::validate::host_port(&host, port)))
                    .fetch_one(&mut *tx)
                    .await?;
                audit::record(
                    &mut tx,
                    actor,
                    &format!("Created shard {shard}"),
                    Subject::new("shard", id),
                    None::<&()>,
                    Some(&shard),
                )
                .await?;
                (id, true)
            }
        };
        let server: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT p.id, p.shard_id, s.name FROM prometheus p JOIN shard s ON s.id = p.shard_id WHERE p.host = $1 AND p.port = $2",
        )
        .bind(&host)
        .bind(port)
        .fetch_optional(&mut *tx)
        .await?;
        let outcome = match server {
            Some((_, current, _)) if current == shard_id => Registered::Unchanged,
            Some((id, _, from)) => {
                sqlx::query("UPDATE prometheus SET shard_id = $1 WHERE id = $2")
                    .bind(shard_id)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let body = format!("Moved {host}:{port} from {from} to {shard}");
                audit::record(
                    &mut tx,
                    actor,
                    &body,
                    Subject::new("prometheus", id).under("shard", shard_id),
                    None::<&()>,
                    Some(&body),
                )
                .await?;
                Registered::Moved { from }
            }
            None => {
                let (id,): (i64,) =
                    sqlx::query_as("INSERT INTO prometheus (shard_id, host, port) VALUES ($1, $2, $3) RETURNING id")
                        .bind(shard_id)
                        .bind(&host)
                        .bind(port)
                        .fetch_one(&mut *tx)
                        .await?;
                let body = format!("Created {host}:{port} on {shard}");
                audit::record(
                    &mut tx,
                    actor,
                    &body,
                    Subject::new("prometheus", id).under("shard", shard_id),
                    None::<&()>,
                    Some(&body),
                )
                .await?;
                Registered::Created { shard_created }
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Removes a Prometheus server from its shard (site admins).
    pub async fn remove_server(&self, actor: &Actor, id: PrometheusId) -> Result<ShardId, AppError> {
        actor.may_administer("remove Prometheus servers")?;
        let row: Option<(i64, String, i64, String)> = sqlx::query_as(
            "SELECT p.shard_id, p.host, p.port, s.name FROM prometheus p JOIN shard s ON s.id = p.shard_id WHERE p.id = $1",
        )
        .bind(id.0)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((shard_id, host, port, shard)) = row else {
            return Err(AppError::NotFound(format!("Prometheus server {id}")));
        };
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM prometheus WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let body = format!("Removed {host}:{port} from {shard}");
        let subject = Subject::new("prometheus", id.0).under("shard", shard_id);
        audit::record(&mut tx, actor, &body, subject, Some(&body), None::<&()>).await?;
        tx.commit().await?;
        Ok(ShardId(shard_id))
    }

    /// Deletes a shard that no project uses (site admins); its servers go with it. Answers
    /// what it was.
    pub async fn delete_shard(&self, actor: &Actor, id: ShardId) -> Result<Shard, AppError> {
        actor.may_administer("delete shards")?;
        let old = self.shard_row(id).await?;
        let mut tx = self.db.begin().await?;
        // Counted inside the write: a project added meanwhile cannot be deleted with it.
        let (projects,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM project WHERE shard_id = $1").bind(id.0).fetch_one(&mut *tx).await?;
        if projects > 0 {
            let (on, them) = if projects == 1 { ("is", "it") } else { ("are", "them") };
            // About the shard, not one field of the form.
            return Err(AppError::conflict(
                "",
                format!(
                    "{} {on} on shard {}: move {them} to another shard first",
                    crate::model::counted(projects, "project"),
                    old.name
                ),
            ));
        }
        sqlx::query("DELETE FROM shard WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let body = format!("Deleted shard {}", old.name);
        audit::record(&mut tx, actor, &body, Subject::new("shard", id.0), Some(&old), None::<&()>).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(old)
    }
}
