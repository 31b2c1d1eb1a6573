//! The alert event log and its live fan-out. An event is a row written in the same transaction
//! as the change it describes; its id orders the feed, so a browser that reconnects asks for
//! what came after the last id it saw. After commit the event reaches every subscriber of this
//! process; with PostgreSQL it is announced with `pg_notify` inside the transaction, and every
//! replica's listener (this one included) fetches and fans it out, so browsers connected to any
//! replica see every alert.

use super::Db;
use super::db::Dialect;
use crate::error::AppError;
use crate::model::*;
use tokio::sync::broadcast;

const CHANNEL: &str = "promgen_events";

/// How many events a reconnecting browser is replayed before it is told to reload instead.
pub const REPLAY_LIMIT: i64 = 500;

#[derive(Clone)]
pub struct Events {
    db: Db,
    tx: broadcast::Sender<FeedMessage>,
}

impl Events {
    pub fn new(db: Db) -> Self {
        // Slow browsers that fall this far behind are told to reload.
        let (tx, _) = broadcast::channel(4096);
        Events { db, tx }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<FeedMessage> {
        self.tx.subscribe()
    }

    /// How many browsers (and other subscribers) are listening.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Records an event in the caller's transaction; returns its id for [`Events::published`].
    pub async fn record(
        &self,
        conn: &mut sqlx::AnyConnection,
        alert: AlertId,
        kind: &str,
        detail: &str,
    ) -> Result<i64, sqlx::Error> {
        Ok(self.record_all(conn, alert, &[(kind, detail)]).await?[0])
    }

    /// Records events of one alert (kind, detail), in order; their ids.
    pub async fn record_all(
        &self,
        conn: &mut sqlx::AnyConnection,
        alert: AlertId,
        events: &[(&str, &str)],
    ) -> Result<Vec<i64>, sqlx::Error> {
        let rows: Vec<(i64, &str, &str)> = events.iter().map(|(k, d)| (alert.0, *k, *d)).collect();
        Ok(self.record_rows(conn, &rows).await?.into_iter().map(|(id, _)| id).collect())
    }

    /// Records events (alert, kind, detail), in order, with one statement a thousand; their
    /// (id, alert) pairs, by id. On PostgreSQL they are announced to every replica on commit.
    pub async fn record_rows(
        &self,
        conn: &mut sqlx::AnyConnection,
        rows: &[(i64, &str, &str)],
    ) -> Result<Vec<(i64, i64)>, sqlx::Error> {
        let mut out = Vec::with_capacity(rows.len());
        let now = super::db::now();
        for chunk in rows.chunks(1000) {
            // $1 the time; then alert, kind and detail of each.
            let values: Vec<String> =
                (0..chunk.len()).map(|i| format!("(${}, ${}, ${}, $1)", 3 * i + 2, 3 * i + 3, 3 * i + 4)).collect();
            let sql = format!(
                "INSERT INTO alert_event (alert_id, kind, detail, created) VALUES {} RETURNING id, alert_id",
                values.join(", ")
            );
            let mut q = sqlx::query_as::<_, (i64, i64)>(&sql).bind(&now);
            for (alert, kind, detail) in chunk {
                q = q.bind(*alert).bind(*kind).bind(*detail);
            }
            out.extend(q.fetch_all(&mut *conn).await?);
        }
        // Ids follow the order of the rows; RETURNING's own order is not promised.
        out.sort_unstable();
        if self.db.dialect == Dialect::Postgres && !out.is_empty() {
            // A notification's payload holds up to 8,000 bytes.
            for chunk in out.chunks(500) {
                let list = chunk.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(",");
                sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(list).execute(&mut *conn).await?;
            }
        }
        Ok(out)
    }

    /// After commit: sends the events to this process' subscribers (PostgreSQL's listener does
    /// it there, for every replica).
    pub async fn published(&self, ids: &[i64]) {
        if self.db.dialect == Dialect::Postgres || ids.is_empty() || self.tx.receiver_count() == 0 {
            return;
        }
        self.fan_out(ids).await;
    }

    async fn fan_out(&self, ids: &[i64]) {
        match self.load(ids).await {
            Ok(messages) => {
                for m in messages {
                    let _ = self.tx.send(m);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot load alert events for the live feed"),
        }
    }

    /// The events after `since`, with their alerts, oldest first; `Reload` first when more
    /// were missed than a replay carries.
    pub async fn since(&self, since: i64) -> Result<Vec<FeedMessage>, AppError> {
        let (newest,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(id) FROM alert_event").fetch_one(&self.db.pool).await?;
        let newest = newest.unwrap_or(0);
        if newest - since > REPLAY_LIMIT {
            return Ok(vec![FeedMessage::Reload]);
        }
        self.between(since, newest).await
    }

    /// These events (ids are numbers, written into the statement).
    async fn load(&self, ids: &[i64]) -> Result<Vec<FeedMessage>, AppError> {
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT e.id, e.alert_id, e.kind, e.detail, e.created, {ALERT_COLUMNS} \
             FROM alert_event e JOIN alert a ON a.id = e.alert_id WHERE e.id IN ({list}) ORDER BY e.id"
        ))
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(EventRow::into_message).collect())
    }

    /// Events with `after < id <= upto`.
    async fn between(&self, after: i64, upto: i64) -> Result<Vec<FeedMessage>, AppError> {
        let rows: Vec<EventRow> = sqlx::query_as(&format!(
            "SELECT e.id, e.alert_id, e.kind, e.detail, e.created, {ALERT_COLUMNS} \
             FROM alert_event e JOIN alert a ON a.id = e.alert_id WHERE e.id > $1 AND e.id <= $2 ORDER BY e.id"
        ))
        .bind(after)
        .bind(upto)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(EventRow::into_message).collect())
    }

    /// Listens for other replicas' (and this one's) events on PostgreSQL, reconnecting when
    /// the connection drops, until `supervisor` stops. Returns once the first LISTEN is up (or
    /// has failed, and is being retried), so what happens after it reaches this replica's
    /// browsers.
    pub async fn listen(&self, database_url: String, supervisor: &super::supervisor::Supervisor) {
        if self.db.dialect != Dialect::Postgres {
            return;
        }
        let mut first = Some(Self::subscribe_channel(&database_url).await);
        let events = self.clone();
        let stop = supervisor.stop();
        supervisor.spawn("LISTEN loop", async move {
            while !stop.is_cancelled() {
                let attempt = match first.take() {
                    Some(attempt) => attempt,
                    None => Self::subscribe_channel(&database_url).await,
                };
                match attempt {
                    Ok(mut listener) => loop {
                        let received = tokio::select! {
                            n = listener.recv() => n,
                            _ = stop.cancelled() => return,
                        };
                        let Ok(n) = received else {
                            tracing::warn!("lost the LISTEN connection for alert events; reconnecting");
                            break;
                        };
                        let ids: Vec<i64> = n.payload().split(',').filter_map(|id| id.parse().ok()).collect();
                        if !ids.is_empty() {
                            events.fan_out(&ids).await;
                        }
                    },
                    Err(e) => tracing::warn!(error = %e, "cannot LISTEN for alert events"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                    _ = stop.cancelled() => return,
                }
            }
        });
    }

    async fn subscribe_channel(database_url: &str) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
        let mut listener = sqlx::postgres::PgListener::connect(database_url).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }
}

/// The columns of an alert summary, from `alert a`.
pub(crate) const ALERT_COLUMNS: &str = "a.received, a.status, a.alertname, a.service, a.project, a.alerts, \
     a.sent_count, a.error_count, a.group_key, a.labels, a.notified";

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    alert_id: i64,
    kind: String,
    detail: String,
    created: String,
    #[sqlx(flatten)]
    alert: SummaryColumns,
}

#[derive(sqlx::FromRow)]
pub(crate) struct SummaryColumns {
    pub received: String,
    pub status: String,
    pub alertname: String,
    pub service: String,
    pub project: String,
    pub alerts: i64,
    pub sent_count: i64,
    pub error_count: i64,
    pub group_key: String,
    pub labels: String,
    pub notified: i64,
}

impl SummaryColumns {
    pub fn summary(self, id: AlertId) -> AlertSummary {
        AlertSummary {
            id,
            received: self.received,
            status: self.status,
            alertname: self.alertname,
            service: self.service,
            project: self.project,
            alerts: self.alerts,
            sent_count: self.sent_count,
            error_count: self.error_count,
            group_key: self.group_key,
            labels: super::rules::json_map(&self.labels),
            notified: self.notified,
        }
    }
}

impl EventRow {
    fn into_message(self) -> FeedMessage {
        let alert = AlertId(self.alert_id);
        FeedMessage::Event {
            event: AlertEvent {
                id: self.id,
                alert_id: alert,
                kind: self.kind,
                detail: self.detail,
                created: self.created,
            },
            alert: Box::new(self.alert.summary(alert)),
        }
    }
}
