//! Alerts from Alertmanager: the webhook's one transaction (the delivery, its labels, the routing
//! decisions, an outbox row per notification and the feed events), the alert pages, pruning,
//! and the heartbeat watch.

mod browse;
mod heartbeat;
pub use heartbeat::PIPELINE_ALERT;
pub mod routing;
pub mod webhook;

use super::events::Events;
use super::metrics::Metrics;
use super::site::SiteSettings;
use super::{Actor, Db, db};
use crate::error::AppError;
use crate::model::*;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct AlertSettings {
    /// A delivery identical to one received this recently is a duplicate.
    pub dedupe_window: Duration,
    /// Label pairs whose alerts are dropped on arrival (Promgen's `alertmanager:blacklist`).
    pub ignore: Vec<(String, String)>,
    /// The always-firing alert whose arrivals prove the alert pipeline works.
    pub heartbeat_alertname: String,
    /// How long without it before the site's notifiers are told.
    pub heartbeat_timeout: Duration,
    /// Alerts older than this are pruned.
    pub retention: Duration,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            dedupe_window: Duration::from_secs(600),
            ignore: Vec::new(),
            heartbeat_alertname: "Watchdog".into(),
            heartbeat_timeout: Duration::from_secs(600),
            retention: Duration::from_secs(30 * 86_400),
        }
    }
}

/// What the webhook did with a delivery.
#[derive(Clone, Debug, PartialEq)]
pub enum Ingested {
    Stored {
        id: AlertId,
        notifications: usize,
    },
    /// The same notification arrived before, within the dedupe window.
    Duplicate {
        of: AlertId,
    },
    /// An ignore rule matched.
    Ignored(String),
    /// Only heartbeat alerts: recorded, nothing to route.
    Heartbeat,
}

#[derive(Clone)]
pub struct Alerts {
    db: Db,
    events: Events,
    metrics: Arc<Metrics>,
    site: SiteSettings,
    settings: AlertSettings,
    /// Wakes the dispatcher when notifications are queued.
    wake: Arc<tokio::sync::Notify>,
}

impl Alerts {
    pub fn new(
        db: Db,
        events: Events,
        metrics: Arc<Metrics>,
        settings: AlertSettings,
        wake: Arc<tokio::sync::Notify>,
    ) -> Self {
        Alerts { site: SiteSettings::new(db.clone()), db, events, metrics, settings, wake }
    }

    pub fn settings(&self) -> &AlertSettings {
        &self.settings
    }

    /// Takes one webhook body from `actor`: checked, deduplicated, stored, routed and queued in
    /// one transaction, or refused with the reason and nothing written.
    pub async fn ingest(&self, actor: &Actor, body: &[u8]) -> Result<Ingested, AppError> {
        let result = self.ingest_checked(actor, body).await;
        match &result {
            Ok(Ingested::Stored { .. }) => self.metrics.alert_received(),
            Ok(Ingested::Duplicate { .. }) => self.metrics.alert_duplicate(),
            Ok(_) => self.metrics.alert_ignored(),
            Err(_) => self.metrics.webhook_refused(),
        }
        result
    }

    async fn ingest_checked(&self, actor: &Actor, body: &[u8]) -> Result<Ingested, AppError> {
        actor.may_post_alerts()?;
        let message = webhook::parse(body)?;
        if let Some((k, v)) = self.settings.ignore.iter().find(|(k, v)| message.common_labels.get(k) == Some(v)) {
            return Ok(Ingested::Ignored(format!("{k}={v}")));
        }
        let heartbeat = &self.settings.heartbeat_alertname;
        let is_beat = |l: &LabelMap| l.get("alertname") == Some(heartbeat);
        let beats = message.alerts.iter().filter(|a| is_beat(&a.labels)).count();
        if beats > 0 || (message.alerts.is_empty() && is_beat(&message.common_labels)) {
            self.beat().await?;
            if beats == message.alerts.len() {
                return Ok(Ingested::Heartbeat);
            }
        }
        self.store(actor.user_id(), &message, body, Route::Labels).await
    }

    /// Stores a message and queues its notifications; `route` says who is told.
    async fn store(
        &self,
        user: Option<UserId>,
        message: &WebhookMessage,
        raw: &[u8],
        route: Route,
    ) -> Result<Ingested, AppError> {
        let key = webhook::dedupe_key(message);
        let now = db::now();
        let cutoff =
            (chrono::Utc::now() - self.settings.dedupe_window).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // Read before the transaction: inside it, this connection holds SQLite's write lock.
        let site_url = self.site.get().await?.url();
        let mut tx = self.db.begin().await?;
        let fresh = sqlx::query(
            "INSERT INTO alert_dedupe (key, alert_id, received) VALUES ($1, 0, $2) \
             ON CONFLICT (key) DO UPDATE SET received = excluded.received, alert_id = 0 WHERE alert_dedupe.received < $3",
        )
        .bind(&key)
        .bind(&now)
        .bind(&cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if fresh == 0 {
            let (of,): (i64,) = sqlx::query_as("SELECT alert_id FROM alert_dedupe WHERE key = $1")
                .bind(&key)
                .fetch_one(&mut *tx)
                .await?;
            return Ok(Ingested::Duplicate { of: AlertId(of) });
        }
        let plan = match route {
            Route::Labels => routing::route(&mut tx, message).await?,
            Route::Site => routing::route_site(&mut tx).await?,
        };
        let labels = &message.common_labels;
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO alert (received, status, group_key, alertname, service, project, alerts, labels, body, routing, user_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(&now)
        .bind(&message.status)
        .bind(&message.group_key)
        .bind(label("alertname"))
        .bind(label("service"))
        .bind(label("project"))
        .bind(message.alerts.len() as i64)
        .bind(serde_json::to_string(labels).unwrap_or_default())
        .bind(String::from_utf8_lossy(raw).as_ref())
        .bind(serde_json::to_string(&plan.decisions).unwrap_or_default())
        .bind(user.map(|u| u.0))
        .fetch_one(&mut *tx)
        .await?;
        let expanded = routing::expand(message, id, &site_url, &plan);
        sqlx::query("UPDATE alert SET expanded = $1 WHERE id = $2")
            .bind(serde_json::to_string(&expanded).unwrap_or_default())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE alert_dedupe SET alert_id = $1 WHERE key = $2")
            .bind(id)
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        index_labels(&mut tx, id, message).await?;
        queue(&mut tx, id, &plan.targets, &now).await?;
        let alert = AlertId(id);
        let mut events = vec![
            self.events
                .record(
                    &mut tx,
                    alert,
                    "received",
                    &format!("{}: {} alert(s) of {}", message.status, message.alerts.len(), message.group_key),
                )
                .await?,
            self.events.record(&mut tx, alert, "routed", &plan.decisions.join("; ")).await?,
        ];
        if message.status == "resolved" {
            events.push(self.events.record(&mut tx, alert, "resolved", &label("alertname")).await?);
        }
        tx.commit().await?;
        self.events.published(&events).await;
        if !plan.targets.is_empty() {
            self.wake.notify_one();
        }
        Ok(Ingested::Stored { id: alert, notifications: plan.targets.len() })
    }

    async fn beat(&self) -> Result<(), AppError> {
        sqlx::query("UPDATE heartbeat SET last_seen = $1 WHERE id = 1").bind(db::now()).execute(&self.db.pool).await?;
        Ok(())
    }
}

/// Who a stored message goes to.
#[derive(Clone, Copy)]
enum Route {
    /// By its service and project labels (a webhook delivery).
    Labels,
    /// The site's notifiers (the alert pipeline's own alerts).
    Site,
}

/// Every distinct label of every alert of the delivery, for search.
async fn index_labels(conn: &mut sqlx::AnyConnection, alert: i64, message: &WebhookMessage) -> Result<(), sqlx::Error> {
    let mut pairs: std::collections::BTreeSet<(&str, &str)> = std::collections::BTreeSet::new();
    for (k, v) in message.common_labels.iter().chain(message.alerts.iter().flat_map(|a| a.labels.iter())) {
        pairs.insert((k, v));
    }
    let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    // Three values a row; SQLite takes 32,766 parameters a statement.
    for chunk in pairs.chunks(1000) {
        let values: Vec<String> = (0..chunk.len()).map(|i| format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3)).collect();
        let sql = format!(
            "INSERT INTO alert_label (alert_id, name, value) VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(alert);
        for (k, v) in chunk {
            q = q.bind(*k).bind(*v);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One outbox row per notification, due now.
async fn queue(
    conn: &mut sqlx::AnyConnection,
    alert: i64,
    targets: &[routing::Target],
    now: &str,
) -> Result<(), sqlx::Error> {
    for chunk in targets.chunks(500) {
        // $1 the alert, $2 now; then notifier, kind and target of each row.
        let values: Vec<String> =
            (0..chunk.len()).map(|i| format!("($1, ${}, ${}, ${}, $2, $2)", 3 * i + 3, 3 * i + 4, 3 * i + 5)).collect();
        let sql = format!(
            "INSERT INTO outbox (alert_id, notifier_id, kind, target, created, next_attempt) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(alert).bind(now);
        for t in chunk {
            q = q.bind(t.notifier.0).bind(t.kind.as_str()).bind(&t.target);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
