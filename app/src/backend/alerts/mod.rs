//! Alerts from Alertmanager: the webhook's one transaction (the delivery, its labels, the routing
//! decisions, an outbox row per notification and the feed events), the alert pages, pruning,
//! and the heartbeat watch.

mod browse;
pub use browse::FeedScope;
mod heartbeat;
pub use heartbeat::PIPELINE_ALERT;
pub mod routing;
pub mod webhook;
mod writer;

use super::events::Events;
use super::metrics::Metrics;
use super::site::SiteSettings;
use super::{Actor, Db, db};
use crate::error::AppError;
use crate::model::*;
use std::sync::Arc;
use std::time::Duration;

/// Webhook bodies up to this size are parsed where they arrive.
pub(crate) const PARSE_INLINE_BYTES: usize = 64 * 1024;

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
    writer: writer::Writer,
    /// Where large payloads are parsed: at most one per core at once (a 4 MB payload can
    /// become 150 MB of JSON values; on unbounded blocking threads, 54 at once took 3 GB).
    cpu: crate::backend::cpu::Cpu,
}

impl Alerts {
    pub fn new(
        db: Db,
        site: SiteSettings,
        events: Events,
        metrics: Arc<Metrics>,
        settings: AlertSettings,
        wake: Arc<tokio::sync::Notify>,
        supervisor: crate::backend::supervisor::Supervisor,
    ) -> Self {
        let writer = writer::Writer::new(db.clone(), events.clone(), settings.dedupe_window, supervisor);
        Alerts { site, db, events, metrics, settings, wake, writer, cpu: Default::default() }
    }

    /// Parses large payloads in `cpu`, the server's pool (a pool of its own otherwise).
    pub fn with_cpu(mut self, cpu: crate::backend::cpu::Cpu) -> Self {
        self.cpu = cpu;
        self
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
        // A large body takes milliseconds to parse: in the CPU pool, not on the workers that
        // answer the other webhooks (a small one parses in microseconds, here); a pool, so
        // that parses at once are few (each holds several times its body's size).
        let message = if body.len() > PARSE_INLINE_BYTES {
            let body = body.to_vec();
            self.cpu.run("parsing the webhook", move || webhook::parse(&body)).await??
        } else {
            webhook::parse(body)?
        };
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
    ///
    /// Routing only reads, so it runs before the write, which [`writer`] batches with the
    /// deliveries arriving at the same time.
    async fn store(
        &self,
        user: Option<UserId>,
        message: &WebhookMessage,
        raw: &[u8],
        route: Route,
    ) -> Result<Ingested, AppError> {
        let site_url = self.site.get().await?.url();
        let plan = {
            let mut conn = self.db.pool.acquire().await?;
            match route {
                Route::Labels => routing::route(&mut conn, message).await?,
                Route::Site => routing::route_site(&mut conn).await?,
            }
        };
        let labels = &message.common_labels;
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        let mut events = vec![
            (
                "received",
                format!(
                    "{}: {} of {}",
                    message.status,
                    crate::model::counted(message.alerts.len() as i64, "alert"),
                    message.group_key
                ),
            ),
            ("routed", plan.decisions.join("; ")),
        ];
        if message.status == "resolved" {
            events.push(("resolved", label("alertname")));
        }
        let notifications = plan.targets.len();
        let pending = writer::Pending {
            received: db::now(),
            status: message.status.clone(),
            group_key: message.group_key.clone(),
            alertname: label("alertname"),
            service: label("service"),
            project: label("project"),
            alerts: message.alerts.len() as i64,
            labels: serde_json::to_string(labels).unwrap_or_default(),
            body: String::from_utf8_lossy(raw).into_owned(),
            routing: serde_json::to_string(&plan.decisions).unwrap_or_default(),
            user_id: user.map(|u| u.0),
            expanded: serde_json::to_string(&routing::expand(message, &site_url, &plan)).unwrap_or_default(),
            dedupe_key: webhook::dedupe_key(message),
            notified: notifications as i64,
            label_pairs: label_pairs(message),
            targets: plan.targets,
            events,
        };
        match self.writer.write(pending).await? {
            writer::Written::Duplicate { of } => Ok(Ingested::Duplicate { of }),
            writer::Written::Stored { id, events } => {
                self.events.published(&events).await;
                if notifications > 0 {
                    self.wake.notify_one();
                } else {
                    self.metrics.alert_unrouted();
                }
                Ok(Ingested::Stored { id, notifications })
            }
        }
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
fn label_pairs(message: &WebhookMessage) -> Vec<(String, String)> {
    let mut pairs: std::collections::BTreeSet<(&String, &String)> = std::collections::BTreeSet::new();
    for (k, v) in message.common_labels.iter().chain(message.alerts.iter().flat_map(|a| a.labels.iter())) {
        pairs.insert((k, v));
    }
    pairs.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}
