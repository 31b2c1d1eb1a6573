//! The dispatcher works the outbox: it claims due rows (PostgreSQL: `FOR UPDATE SKIP LOCKED`,
//! so replicas share the work; SQLite: one writer, one statement), sends each with a timeout,
//! and records the outcome with its event: sent; or queued again with exponential backoff; or,
//! past the last attempt or on an error no retry can fix, failed and visible. A claim is a
//! lease: a worker that dies mid-send (kill -9) leaves rows that the next worker, or the same
//! one restarted, takes up again. Delivery is at least once.

use super::message::Texts;
use super::senders::{NotifyError, Senders};
use crate::backend::Db;
use crate::backend::db::{self, Dialect};
use crate::backend::events::Events;
use crate::backend::metrics::Metrics;
use crate::backend::site::SiteSettings;
use crate::error::AppError;
use crate::model::{AlertId, NotifierKind, WebhookMessage};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug)]
pub struct DispatchSettings {
    /// Attempts before a notification is given up on.
    pub max_attempts: i64,
    /// The first retry's wait; each later one doubles it, up to an hour.
    pub backoff: Duration,
    /// Rows claimed at once, and sent concurrently.
    pub batch: i64,
    /// How often to look for due retries and other replicas' rows when nothing wakes it.
    pub poll: Duration,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings { max_attempts: 10, backoff: Duration::from_secs(5), batch: 32, poll: Duration::from_secs(1) }
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    db: Db,
    senders: Senders,
    events: Events,
    metrics: Arc<Metrics>,
    site: SiteSettings,
    wake: Arc<tokio::sync::Notify>,
    settings: DispatchSettings,
}

#[derive(sqlx::FromRow, Debug)]
struct Claimed {
    id: i64,
    alert_id: i64,
    kind: String,
    target: String,
    attempts: i64,
    subject_template: Option<String>,
    body_template: Option<String>,
    alias: Option<String>,
    /// The alert as notifiers see it (None: the alert was pruned meanwhile).
    expanded: Option<String>,
}

fn at(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Dispatcher {
    pub fn new(
        db: Db,
        site: SiteSettings,
        senders: Senders,
        events: Events,
        metrics: Arc<Metrics>,
        wake: Arc<tokio::sync::Notify>,
        settings: DispatchSettings,
    ) -> Self {
        Dispatcher { site, db, senders, events, metrics, wake, settings }
    }

    /// Works the outbox until `stop`.
    pub async fn run(self, stop: CancellationToken) {
        loop {
            let worked = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "the dispatcher could not work the outbox");
                    0
                }
            };
            if worked > 0 {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.settings.poll) => {}
                _ = stop.cancelled() => return,
            }
        }
    }

    /// Claims a batch of due notifications, sends them and records the outcomes. Returns how
    /// many were worked. Different receivers are sent to concurrently; one receiver's
    /// notifications go one after the other in the order received, so a chat does not show
    /// "resolved" before "firing". (A retry may still come after later notifications.)
    pub async fn run_once(&self) -> Result<usize, AppError> {
        let claimed = self.claim().await?;
        let n = claimed.len();
        let site_url = self.site.get().await?.url();
        let mut by_receiver: std::collections::BTreeMap<(String, String), Vec<Claimed>> = Default::default();
        for row in claimed {
            by_receiver.entry((row.kind.clone(), row.target.clone())).or_default().push(row);
        }
        let mut sends = tokio::task::JoinSet::new();
        for rows in by_receiver.into_values() {
            let this = self.clone();
            let site_url = site_url.clone();
            sends.spawn(async move {
                for row in rows {
                    let result = this.send(&row, &site_url).await;
                    if let Err(e) = this.record(&row, result).await {
                        tracing::warn!(error = %e, outbox = row.id, "cannot record a notification's outcome; it will be sent again");
                    }
                }
            });
        }
        sends.join_all().await;
        Ok(n)
    }

    async fn claim(&self) -> Result<Vec<Claimed>, AppError> {
        let now = chrono::Utc::now();
        // Long enough for a send (bounded by its timeout) and its record; a dead worker's
        // claim lapses after it.
        let lease = now + self.senders.settings().timeout * 2 + Duration::from_secs(5);
        let lock = if self.db.dialect == Dialect::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_until = $1, attempts = attempts + 1 WHERE id IN \
             (SELECT id FROM outbox WHERE (status = 'queued' AND next_attempt <= $2) \
              OR (status = 'sending' AND lease_until < $2) ORDER BY id LIMIT $3{lock}) \
             RETURNING id"
        );
        let ids: Vec<(i64,)> = sqlx::query_as(&sql)
            .bind(at(lease))
            .bind(at(now))
            .bind(self.settings.batch)
            .fetch_all(&self.db.pool)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(|(id,)| id.to_string()).collect::<Vec<_>>().join(", ");
        Ok(sqlx::query_as(&format!(
            "SELECT o.id, o.alert_id, o.kind, o.target, o.attempts, n.subject_template, n.body_template, n.alias, \
             a.expanded FROM outbox o LEFT JOIN notifier n ON n.id = o.notifier_id LEFT JOIN alert a ON a.id = o.alert_id \
             WHERE o.id IN ({list}) ORDER BY o.id"
        ))
        .fetch_all(&self.db.pool)
        .await?)
    }

    async fn send(&self, row: &Claimed, site_url: &str) -> Result<(), NotifyError> {
        let Some(kind) = NotifierKind::parse(&row.kind) else {
            return Err(NotifyError::permanent(format!("{:?} is not a kind of notifier", row.kind)));
        };
        let mut data: WebhookMessage = row
            .expanded
            .as_deref()
            .and_then(|e| serde_json::from_str(e).ok())
            .ok_or_else(|| NotifyError::permanent("the alert is gone or unreadable"))?;
        data.external_url = crate::backend::alerts::routing::alert_url(site_url, row.alert_id);
        let texts =
            Texts::of(row.subject_template.as_deref().unwrap_or(""), row.body_template.as_deref().unwrap_or(""));
        self.senders.send(kind, &row.target, &texts, &data, site_url).await
    }

    /// How long to wait before attempt `attempts + 1`.
    fn backoff(&self, attempts: i64) -> Duration {
        let factor = 2u32.saturating_pow((attempts.max(1) - 1).min(20) as u32);
        (self.settings.backoff * factor).min(Duration::from_secs(3600))
    }

    async fn record(&self, row: &Claimed, result: Result<(), NotifyError>) -> Result<(), AppError> {
        let now = chrono::Utc::now();
        if let Err(e) = &result
            && let Some(detail) = &e.detail
        {
            // The receiver's own words, which may quote the notifier's value: the log only.
            tracing::warn!(outbox = row.id, kind = %row.kind, detail = ?detail, "{}", e.message);
        }
        // Events reach every browser on the feed: the notifier's alias, or its value masked.
        let shown = NotifierKind::parse(&row.kind).map_or_else(
            || "…".into(),
            |k| crate::model::public_label(k, &row.target, row.alias.as_deref().unwrap_or("")),
        );
        // The row's new state: status, next attempt (if any), done (if so), error; the alert's
        // counter to raise; and the event that says so.
        let (outcome, next, error, counter, detail) = match result {
            Ok(()) => (
                "sent",
                None,
                String::new(),
                Some("sent_count"),
                format!("{} {shown} (attempt {})", row.kind, row.attempts),
            ),
            Err(e) if e.retryable && row.attempts < self.settings.max_attempts => {
                let next = at(now + self.backoff(row.attempts));
                let detail = format!(
                    "{} {shown}: attempt {} of {} failed: {}; next at {}",
                    row.kind,
                    row.attempts,
                    self.settings.max_attempts,
                    e.message,
                    // Read by people on the alert page, as its other times are.
                    crate::model::when::utc_text(&next)
                );
                ("retry", Some(next), e.message, None, detail)
            }
            Err(e) => {
                let why = if e.retryable { "gave up after the last attempt" } else { "cannot succeed" };
                let detail = format!("{} {shown}: {why}: {}", row.kind, e.message);
                ("failed", None, e.message, Some("error_count"), detail)
            }
        };
        let (status, done) = match outcome {
            "retry" => ("queued", None),
            other => (other, Some(db::now())),
        };
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE outbox SET status = $1, next_attempt = COALESCE($2, next_attempt), done = $3, lease_until = NULL, \
             last_error = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(next)
        .bind(done)
        .bind(&error)
        .bind(row.id)
        .execute(&mut *tx)
        .await?;
        if let Some(counter) = counter {
            sqlx::query(&format!("UPDATE alert SET {counter} = {counter} + 1 WHERE id = $1"))
                .bind(row.alert_id)
                .execute(&mut *tx)
                .await?;
        }
        let event = self.events.record(&mut tx, AlertId(row.alert_id), outcome, &detail).await?;
        tx.commit().await?;
        self.metrics.notification(&row.kind, outcome);
        self.events.published(&[event]).await;
        Ok(())
    }
}
