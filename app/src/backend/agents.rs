//! What the push agents (`promgen agent`, one beside each Prometheus server) need from the
//! server and tell it: the inventory generation to wait on (a change of anything Prometheus
//! reads bumps it), and each agent's report of its last sync, kept per shard so the shard page
//! answers "did my change reach Prometheus?".

use super::supervisor::Supervisor;
use super::{Actor, Db, db};
use crate::error::AppError;
use crate::model::{AgentReport, AgentState, ShardId};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often a waiting agent's generation is compared with the database's.
const POLL: Duration = Duration::from_millis(500);
/// An agent not heard from for this long is shown as silent (it reports at least every minute).
const SILENT_AFTER: Duration = Duration::from_secs(180);

#[derive(Clone)]
pub struct Agents {
    db: Db,
    /// One watcher of the generation for every waiting agent, started by the first wait.
    watch: Arc<tokio::sync::OnceCell<watch::Receiver<i64>>>,
    supervisor: Supervisor,
}

impl Agents {
    pub fn new(db: Db, supervisor: Supervisor) -> Agents {
        Agents { db, watch: Arc::default(), supervisor }
    }

    /// The generation as the watcher last read it, kept current by one task that reads it
    /// every [`POLL`]: a thousand waiting agents cost one query each half second.
    async fn watcher(&self) -> Result<watch::Receiver<i64>, AppError> {
        let rx = self
            .watch
            .get_or_try_init(|| async {
                let (current, _) = self.generation().await?;
                let (tx, rx) = watch::channel(current);
                let (agents, stop) = (self.clone(), self.supervisor.stop());
                self.supervisor.spawn("generation watch", async move {
                    loop {
                        tokio::select! {
                            _ = tokio::time::sleep(POLL) => {}
                            _ = stop.cancelled() => return,
                        }
                        match agents.generation().await {
                            Ok((g, _)) => {
                                tx.send_if_modified(|v| std::mem::replace(v, g) != g);
                            }
                            Err(e) => tracing::warn!(error = %e, "cannot read the inventory generation"),
                        }
                    }
                });
                Ok::<_, AppError>(rx)
            })
            .await?;
        Ok(rx.clone())
    }

    /// The current inventory generation and when it was made.
    pub async fn generation(&self) -> Result<(i64, String), AppError> {
        Ok(sqlx::query_as("SELECT generation, changed FROM inventory_generation WHERE id = 1")
            .fetch_one(&self.db.pool)
            .await?)
    }

    /// The generation once it differs from `after`, or the current one after `timeout` (or when
    /// `stop` fires): a long poll, so an agent hears of a change within [`POLL`] on any replica.
    pub async fn wait_for_change(
        &self,
        actor: &Actor,
        after: i64,
        timeout: Duration,
        stop: &CancellationToken,
    ) -> Result<i64, AppError> {
        actor.require()?;
        let deadline = tokio::time::Instant::now() + timeout.min(Duration::from_secs(120));
        let mut rx = self.watcher().await?;
        loop {
            let current = *rx.borrow_and_update();
            if current != after {
                return Ok(current);
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return Ok(current) },
                _ = tokio::time::sleep_until(deadline) => return Ok(current),
                _ = stop.cancelled() => return Ok(current),
            }
        }
    }

    /// Keeps an agent's report (site admins' tokens only: a report changes what the shard page
    /// tells everyone).
    pub async fn report(&self, actor: &Actor, report: &AgentReport) -> Result<(), AppError> {
        actor.may_administer("report an agent's sync")?;
        let name = crate::model::validate::line("name", &report.name, 200)?;
        if name.is_empty() {
            return Err(AppError::invalid(
                "name",
                "required: the Prometheus server the agent serves, e.g. prom-1:9090",
            ));
        }
        let shard: Option<(i64,)> = sqlx::query_as("SELECT id FROM shard WHERE name = $1")
            .bind(&report.shard)
            .fetch_optional(&self.db.pool)
            .await?;
        let Some((shard,)) = shard else {
            return Err(AppError::invalid("shard", format!("there is no shard {:?}", report.shard)));
        };
        // Kept as text for a page: no control characters (PostgreSQL refuses NUL in text).
        let printable =
            |s: &str, max: usize| -> String { s.chars().filter(|c| !c.is_control() || *c == '\n').take(max).collect() };
        let name = printable(&name, 200);
        let error = printable(&report.error, 2000);
        let hash = printable(&report.config_hash, 128);
        let now = db::now();
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO agent_status (shard_id, name, generation, synced_at, config_hash, error, reported_at) \
             VALUES ($1, $2, $3, CASE WHEN $6 = '' THEN $4 ELSE '' END, $5, $6, $4) ON CONFLICT (shard_id, name) DO UPDATE SET \
             generation = excluded.generation, config_hash = excluded.config_hash, error = excluded.error, \
             reported_at = excluded.reported_at, \
             synced_at = CASE WHEN excluded.error = '' THEN excluded.synced_at ELSE agent_status.synced_at END",
        )
        .bind(shard)
        .bind(&name)
        .bind(report.generation)
        .bind(&now)
        .bind(&hash)
        .bind(&error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets an agent's reports (site admins): a server that is gone leaves the shard's page.
    pub async fn forget(&self, actor: &Actor, shard: ShardId, name: &str) -> Result<(), AppError> {
        actor.may_administer("forget an agent")?;
        let mut tx = self.db.begin().await?;
        let gone = sqlx::query("DELETE FROM agent_status WHERE shard_id = $1 AND name = $2")
            .bind(shard.0)
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        if gone == 0 {
            return Err(AppError::NotFound(format!("agent {name:?} of shard {shard}")));
        }
        Ok(())
    }

    /// Every agent of `shard` and where it stands against the current generation.
    pub async fn states(&self, actor: &Actor, shard: ShardId) -> Result<Vec<AgentState>, AppError> {
        actor.require()?;
        let (current, changed) = self.generation().await?;
        let rows: Vec<(String, i64, String, String, String, String)> = sqlx::query_as(
            "SELECT name, generation, synced_at, config_hash, error, reported_at FROM agent_status \
             WHERE shard_id = $1 ORDER BY name",
        )
        .bind(shard.0)
        .fetch_all(&self.db.pool)
        .await?;
        let now = chrono::Utc::now();
        Ok(rows
            .into_iter()
            .map(|(name, generation, synced_at, config_hash, error, reported_at)| {
                let silent = chrono::DateTime::parse_from_rfc3339(&reported_at)
                    .map(|t| now.signed_duration_since(t).to_std().unwrap_or_default() > SILENT_AFTER)
                    .unwrap_or(true);
                let state = if silent {
                    format!("not heard from since {reported_at}")
                } else if !error.is_empty() {
                    error.clone()
                } else if generation >= current {
                    "in sync".to_string()
                } else {
                    format!("behind since {changed}")
                };
                AgentState {
                    name,
                    generation,
                    current_generation: current,
                    synced_at,
                    config_hash,
                    error,
                    reported_at,
                    state,
                }
            })
            .collect())
    }
}
