//! Group commit for webhook deliveries. Deliveries that arrive together are written by one
//! task in one transaction with one multi-row statement per table, so the cost of a statement
//! (on SQLite a round trip to the connection's thread) and of a commit (on PostgreSQL a flush)
//! is shared by the batch instead of paid by each delivery. A webhook is answered only after
//! the commit that holds it. If a batch fails, its deliveries are written one by one, so a
//! bad one fails alone.

use super::routing::Target;
use crate::backend::Db;
use crate::backend::events::Events;
use crate::backend::supervisor::Supervisor;
use crate::error::AppError;
use crate::model::AlertId;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most deliveries written in one transaction.
const BATCH: usize = 64;

/// A delivery ready to be written: everything but the ids.
pub(super) struct Pending {
    pub received: String,
    pub status: String,
    pub group_key: String,
    pub alertname: String,
    pub service: String,
    pub project: String,
    pub alerts: i64,
    pub labels: String,
    pub body: String,
    pub routing: String,
    pub user_id: Option<i64>,
    pub expanded: String,
    pub dedupe_key: String,
    /// Notifications queued (`targets.len()`, which is kept after the write).
    pub notified: i64,
    /// Every distinct label pair of the delivery, for search.
    pub label_pairs: Vec<(String, String)>,
    pub targets: Vec<Target>,
    /// Feed events (kind, detail), in order.
    pub events: Vec<(&'static str, String)>,
}

pub(super) enum Written {
    Stored { id: AlertId, events: Vec<i64> },
    Duplicate { of: AlertId },
}

struct Job {
    pending: Pending,
    reply: oneshot::Sender<Result<Written, AppError>>,
}

#[derive(Clone)]
pub(super) struct Writer {
    db: Db,
    events: Events,
    dedupe_window: Duration,
    /// Owns the writing task: stopping the server writes what is queued, then ends it.
    supervisor: Supervisor,
    /// The writing task, started by the first delivery (inside the runtime).
    queue: Arc<OnceLock<mpsc::Sender<Job>>>,
}

impl Writer {
    pub fn new(db: Db, events: Events, dedupe_window: Duration, supervisor: Supervisor) -> Self {
        Writer { db, events, dedupe_window, supervisor, queue: Arc::default() }
    }

    pub async fn write(&self, pending: Pending) -> Result<Written, AppError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(4 * BATCH);
            self.supervisor.spawn("alert writer", self.clone().run(rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        match queue.send(Job { pending, reply }).await {
            Ok(()) => answer.await.unwrap_or_else(|_| Err(AppError::Internal("the alert writer stopped".into()))),
            // The task's runtime is gone (another runtime uses this backend): write here.
            Err(mpsc::error::SendError(job)) => Ok(self.write_batch(&[&job.pending]).await?.pop().expect("one result")),
        }
    }

    async fn run(self, mut rx: mpsc::Receiver<Job>) {
        let stop = self.supervisor.stop();
        let mut jobs = Vec::with_capacity(BATCH);
        let mut closed = false;
        loop {
            let received = tokio::select! {
                n = rx.recv_many(&mut jobs, BATCH) => n,
                // Stopping: take no more, write what is queued (then the channel answers 0).
                _ = stop.cancelled(), if !closed => {
                    rx.close();
                    closed = true;
                    continue;
                }
            };
            if received == 0 {
                return;
            }
            let batch: Vec<&Pending> = jobs.iter().map(|j| &j.pending).collect();
            let results = match self.write_batch(&batch).await {
                Ok(written) => written.into_iter().map(Ok).collect(),
                Err(e) if jobs.len() == 1 => vec![Err(e)],
                Err(e) => {
                    tracing::warn!(error = %e, deliveries = jobs.len(), "a batch of alerts failed; writing them one by one");
                    let mut one_by_one = Vec::with_capacity(jobs.len());
                    for p in &batch {
                        one_by_one.push(self.write_batch(&[p]).await.map(|mut w| w.pop().expect("one result")));
                    }
                    one_by_one
                }
            };
            for (job, result) in jobs.drain(..).zip(results) {
                let _ = job.reply.send(result);
            }
        }
    }

    /// Writes deliveries in one transaction; a result for each, in order.
    async fn write_batch(&self, batch: &[&Pending]) -> Result<Vec<Written>, AppError> {
        let cutoff = (chrono::Utc::now() - self.dedupe_window).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        // A delivery repeating an earlier one of the batch is that one's duplicate.
        let mut first: HashMap<&str, usize> = HashMap::new();
        let repeats: Vec<Option<usize>> = batch
            .iter()
            .enumerate()
            .map(|(i, p)| match first.entry(p.dedupe_key.as_str()) {
                Entry::Occupied(e) => Some(*e.get()),
                Entry::Vacant(e) => {
                    e.insert(i);
                    None
                }
            })
            .collect();
        let leaders: Vec<usize> = (0..batch.len()).filter(|&i| repeats[i].is_none()).collect();

        let mut tx = self.db.begin().await?;
        // Deliveries seen within the window are told apart before any is written: an alert
        // written and then deleted as a duplicate used up its id (HA Alertmanagers send each
        // notification twice, so ids went 1, 3, 5).
        let keys: Vec<&str> = leaders.iter().map(|&i| batch[i].dedupe_key.as_str()).collect();
        let mut earlier = seen(&mut tx, &keys, Some(&cutoff)).await?;
        let new: Vec<usize> =
            leaders.iter().copied().filter(|&i| !earlier.contains_key(&batch[i].dedupe_key)).collect();
        let mut ids = vec![0i64; batch.len()];
        for chunk in new.chunks(BATCH) {
            let rows = chunk.iter().map(|&i| batch[i]);
            for (&i, id) in chunk.iter().zip(insert_alerts(&mut tx, rows).await?) {
                ids[i] = id;
            }
        }
        let fresh = mark_seen(&mut tx, &new.iter().map(|&i| (batch[i], ids[i])).collect::<Vec<_>>(), &cutoff).await?;
        // Seen meanwhile by another server on the same database (PostgreSQL): undone.
        let stale: Vec<usize> = new.iter().copied().filter(|&i| !fresh.contains(&batch[i].dedupe_key)).collect();
        if !stale.is_empty() {
            let keys: Vec<&str> = stale.iter().map(|&i| batch[i].dedupe_key.as_str()).collect();
            earlier.extend(seen(&mut tx, &keys, None).await?);
            let list = stale.iter().map(|&i| ids[i].to_string()).collect::<Vec<_>>().join(", ");
            sqlx::query(&format!("DELETE FROM alert WHERE id IN ({list})")).execute(&mut *tx).await?;
        }
        let stored: Vec<usize> = new.iter().copied().filter(|&i| fresh.contains(&batch[i].dedupe_key)).collect();
        let (mut labels, mut outbox, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for &i in &stored {
            let p = batch[i];
            labels.extend(p.label_pairs.iter().map(|(k, v)| (ids[i], k.as_str(), v.as_str())));
            outbox.extend(p.targets.iter().map(|t| (ids[i], t, p.received.as_str())));
            events.extend(p.events.iter().map(|(k, d)| (ids[i], *k, d.as_str())));
        }
        insert_labels(&mut tx, &labels).await?;
        insert_outbox(&mut tx, &outbox).await?;
        let event_ids = self.events.record_rows(&mut tx, &events).await?;
        tx.commit().await?;

        let mut by_alert: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (event, alert) in event_ids {
            by_alert.entry(alert).or_default().push(event);
        }
        let of = |i: usize| -> AlertId {
            if fresh.contains(&batch[i].dedupe_key) {
                AlertId(ids[i])
            } else {
                AlertId(earlier.get(&batch[i].dedupe_key).copied().unwrap_or(0))
            }
        };
        Ok((0..batch.len())
            .map(|i| match repeats[i] {
                Some(leader) => Written::Duplicate { of: of(leader) },
                None if fresh.contains(&batch[i].dedupe_key) => {
                    Written::Stored { id: AlertId(ids[i]), events: by_alert.remove(&ids[i]).unwrap_or_default() }
                }
                None => Written::Duplicate { of: of(i) },
            })
            .collect())
    }
}

/// `$first, $first+1, ...` groups of `width` for `rows` rows.
fn placeholders(rows: usize, width: usize, first: usize) -> String {
    (0..rows)
        .map(|r| {
            let cols: Vec<String> = (0..width).map(|c| format!("${}", first + r * width + c)).collect();
            format!("({})", cols.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The alerts' ids, in the order of `rows`: ids are handed out in the order of the VALUES.
async fn insert_alerts<'a>(
    conn: &mut sqlx::AnyConnection,
    rows: impl ExactSizeIterator<Item = &'a Pending>,
) -> Result<Vec<i64>, sqlx::Error> {
    let sql = format!(
        "INSERT INTO alert (received, status, group_key, alertname, service, project, alerts, labels, body, routing, \
         user_id, expanded, notified) VALUES {} RETURNING id",
        placeholders(rows.len(), 13, 1)
    );
    let mut q = sqlx::query_as::<_, (i64,)>(&sql);
    for p in rows {
        q = q
            .bind(&p.received)
            .bind(&p.status)
            .bind(&p.group_key)
            .bind(&p.alertname)
            .bind(&p.service)
            .bind(&p.project)
            .bind(p.alerts)
            .bind(&p.labels)
            .bind(&p.body)
            .bind(&p.routing)
            .bind(p.user_id)
            .bind(&p.expanded)
            .bind(p.notified);
    }
    let mut ids: Vec<i64> = q.fetch_all(&mut *conn).await?.into_iter().map(|(id,)| id).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Marks the deliveries seen; the keys not seen within the window (the others are repeats).
async fn mark_seen(
    conn: &mut sqlx::AnyConnection,
    rows: &[(&Pending, i64)],
    cutoff: &str,
) -> Result<HashSet<String>, sqlx::Error> {
    let mut fresh = HashSet::new();
    for chunk in rows.chunks(BATCH) {
        let sql = format!(
            "INSERT INTO alert_dedupe (key, alert_id, received) VALUES {} \
             ON CONFLICT (key) DO UPDATE SET received = excluded.received, alert_id = excluded.alert_id \
             WHERE alert_dedupe.received < $1 RETURNING key",
            placeholders(chunk.len(), 3, 2)
        );
        let mut q = sqlx::query_as::<_, (String,)>(&sql).bind(cutoff);
        for (p, id) in chunk {
            q = q.bind(&p.dedupe_key).bind(*id).bind(&p.received);
        }
        fresh.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|(k,)| k));
    }
    Ok(fresh)
}

/// The alert each key was first seen as, of the keys seen since `since` (any time: `None`).
async fn seen(
    conn: &mut sqlx::AnyConnection,
    keys: &[&str],
    since: Option<&str>,
) -> Result<HashMap<String, i64>, sqlx::Error> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(BATCH) {
        let mut sql = format!(
            "SELECT key, alert_id FROM alert_dedupe WHERE key IN ({})",
            (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
        );
        if since.is_some() {
            sql += &format!(" AND received >= ${}", chunk.len() + 1);
        }
        let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
        for k in chunk {
            q = q.bind(*k);
        }
        if let Some(since) = since {
            q = q.bind(since);
        }
        found.extend(q.fetch_all(&mut *conn).await?);
    }
    Ok(found)
}

async fn insert_labels(conn: &mut sqlx::AnyConnection, rows: &[(i64, &str, &str)]) -> Result<(), sqlx::Error> {
    // Three values a row; SQLite takes 32,766 parameters a statement.
    for chunk in rows.chunks(1000) {
        let sql = format!(
            "INSERT INTO alert_label (alert_id, name, value) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 3, 1)
        );
        let mut q = sqlx::query(&sql);
        for (alert, k, v) in chunk {
            q = q.bind(*alert).bind(*k).bind(*v);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// One outbox row per notification, due now.
async fn insert_outbox(conn: &mut sqlx::AnyConnection, rows: &[(i64, &Target, &str)]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(1000) {
        let sql = format!(
            "INSERT INTO outbox (alert_id, notifier_id, kind, target, created, next_attempt) VALUES {}",
            placeholders(chunk.len(), 6, 1)
        );
        let mut q = sqlx::query(&sql);
        for (alert, t, now) in chunk {
            q = q.bind(*alert).bind(t.notifier.0).bind(t.kind.as_str()).bind(&t.target).bind(*now).bind(*now);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
