//! Reading alerts: the live page's starting point (the newest delivery of each group), the
//! history searchable by label, one alert with its routing and every delivery attempt, and
//! pruning what is past the retention. A caller sees the alerts of the services and projects
//! they may see (and those naming neither).

use super::Alerts;
use super::routing::Found;
use crate::backend::events::{ALERT_COLUMNS, SummaryColumns};
use crate::backend::{Actor, policy};
use crate::error::AppError;
use crate::model::*;
use std::collections::HashSet;

/// How many groups the alerts page starts with, and history rows a page.
const PAGE: i64 = 200;

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    #[sqlx(flatten)]
    columns: SummaryColumns,
}

#[derive(sqlx::FromRow)]
struct DetailRow {
    id: i64,
    body: String,
    routing: String,
    #[sqlx(flatten)]
    columns: SummaryColumns,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    kind: String,
    target: String,
    alias: Option<String>,
    status: String,
    attempts: i64,
    last_error: String,
    next_attempt: String,
    done: Option<String>,
}

/// A stored payload as the alert page shows it: the group's first alerts, and the text
/// pretty-printed when it is small enough to embed.
fn read_payload(body: String) -> (WebhookMessage, Option<String>) {
    let mut message = serde_json::from_str::<WebhookMessage>(&body).unwrap_or_default();
    message.alerts.truncate(ALERTS_SHOWN);
    let shown = (body.len() <= PAYLOAD_SHOWN).then(|| {
        serde_json::from_str::<serde_json::Value>(&body).and_then(|v| serde_json::to_string_pretty(&v)).unwrap_or(body)
    });
    (message, shown)
}

/// SQL narrowing `alert a` to alerts with every pair, and its binds from `$first`.
fn label_clause(filter: &[(String, String)], first: usize) -> String {
    (0..filter.len())
        .map(|i| {
            format!(
                " AND a.id IN (SELECT alert_id FROM alert_label WHERE name = ${} AND value = ${})",
                first + 2 * i,
                first + 2 * i + 1
            )
        })
        .collect()
}

/// The names of the services and projects a caller may see; `None`: all.
type Seen = Option<(HashSet<String>, HashSet<String>)>;

/// Whether an alert naming `service` and `project` is for the caller: one of them is theirs
/// to see, or it names neither (the pipeline's own, or unrouted).
fn shows(seen: &Seen, service: &str, project: &str) -> bool {
    match seen {
        None => true,
        Some((services, projects)) => {
            (service.is_empty() && project.is_empty()) || services.contains(service) || projects.contains(project)
        }
    }
}

/// What one watcher of the live feed may see: the alerts of the services and projects they
/// may see when it was taken (the feed takes it again now and then, as roles change).
#[derive(Clone, Debug)]
pub struct FeedScope(Seen);

impl FeedScope {
    /// Whether `m` is for this watcher (a reload is for everyone).
    pub fn shows(&self, m: &crate::model::FeedMessage) -> bool {
        match m {
            crate::model::FeedMessage::Event { alert, .. } => shows(&self.0, &alert.service, &alert.project),
            crate::model::FeedMessage::Reload => true,
        }
    }
}

impl Alerts {
    /// What `actor` may see of the live feed; refused (401) for an anonymous one.
    pub async fn feed_scope(&self, actor: &Actor) -> Result<FeedScope, AppError> {
        actor.require()?;
        Ok(FeedScope(self.seen(actor).await?))
    }

    /// What `actor` may see of the alerts: those of the services and projects they may see.
    async fn seen(&self, actor: &Actor) -> Result<Seen, AppError> {
        let (Some(vs), Some(vp)) =
            (policy::visible_services(&self.db, actor).await?, policy::visible_projects(&self.db, actor).await?)
        else {
            return Ok(None);
        };
        let services: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM service").fetch_all(&self.db.pool).await?;
        let projects: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM project").fetch_all(&self.db.pool).await?;
        Ok(Some((
            services.into_iter().filter(|(id, _)| vs.contains(&ServiceId(*id))).map(|(_, n)| n).collect(),
            projects.into_iter().filter(|(id, _)| vp.contains(&ProjectId(*id))).map(|(_, n)| n).collect(),
        )))
    }

    /// Refuses (403) an alert the caller may not see.
    async fn require_seen(&self, actor: &Actor, id: AlertId) -> Result<(), AppError> {
        self.require_shown(&self.seen(actor).await?, id).await
    }

    /// Refuses (403) an alert that `seen` does not show.
    async fn require_shown(&self, seen: &Seen, id: AlertId) -> Result<(), AppError> {
        match self.shown(seen, id).await? {
            true => Ok(()),
            false => Err(AppError::Forbidden("see this alert: that needs a role on its service or project".into())),
        }
    }

    /// Whether the alert `id` is among what `seen` shows (by its service and project labels).
    async fn shown(&self, seen: &Seen, id: AlertId) -> Result<bool, AppError> {
        let labels: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, value FROM alert_label WHERE alert_id = $1 AND name IN ('service', 'project')",
        )
        .bind(id.0)
        .fetch_all(&self.db.pool)
        .await?;
        let label = |k: &str| labels.iter().find(|(n, _)| n == k).map_or("", |(_, v)| v.as_str()).to_string();
        Ok(shows(seen, &label("service"), &label("project")))
    }

    /// The newest delivery of each alert group (as firing or resolved it stands), newest
    /// first, and the event id the live feed continues from.
    pub async fn page(&self, actor: &Actor, filter: &[(String, String)]) -> Result<AlertPage, AppError> {
        actor.require()?;
        let (last_event,): (Option<i64>,) =
            sqlx::query_as("SELECT MAX(id) FROM alert_event").fetch_one(&self.db.pool).await?;
        let sql = format!(
            "SELECT a.id, {ALERT_COLUMNS} FROM alert a WHERE a.id IN \
             (SELECT MAX(a.id) FROM alert a WHERE 1 = 1{} GROUP BY a.group_key) ORDER BY a.id DESC LIMIT {PAGE}",
            label_clause(filter, 1)
        );
        let seen = self.seen(actor).await?;
        let mut alerts = self.summaries(&sql, filter).await?;
        alerts.retain(|a| shows(&seen, &a.service, &a.project));
        let may_silence = policy::edits_anything(&self.db, actor).await?;
        Ok(AlertPage { alerts, last_event: last_event.unwrap_or(0), may_silence })
    }

    /// Every delivery with the labels, newest first, a page at a time.
    pub async fn history(
        &self,
        actor: &Actor,
        filter: &[(String, String)],
        page: i64,
    ) -> Result<Vec<AlertSummary>, AppError> {
        actor.require()?;
        let offset = crate::backend::db::page_offset(page, PAGE);
        let sql = format!(
            "SELECT a.id, {ALERT_COLUMNS} FROM alert a WHERE 1 = 1{} ORDER BY a.id DESC LIMIT {PAGE} OFFSET {offset}",
            label_clause(filter, 1)
        );
        let seen = self.seen(actor).await?;
        let mut alerts = self.summaries(&sql, filter).await?;
        alerts.retain(|a| shows(&seen, &a.service, &a.project));
        Ok(alerts)
    }

    async fn summaries(&self, sql: &str, filter: &[(String, String)]) -> Result<Vec<AlertSummary>, AppError> {
        let mut q = sqlx::query_as::<_, SummaryRow>(sql);
        for (k, v) in filter {
            q = q.bind(k).bind(v);
        }
        Ok(q.fetch_all(&self.db.pool).await?.into_iter().map(|r| r.columns.summary(AlertId(r.id))).collect())
    }

    /// Whether `actor` may silence the alert by its name and owner: Editor or Admin on the
    /// project it names, else on its service (what making that silence needs).
    async fn may_silence(
        &self,
        actor: &Actor,
        service: Option<&Found>,
        project: Option<&Found>,
    ) -> Result<bool, AppError> {
        let owner = match (project, service) {
            (Some(p), _) => Object::Project(ProjectId(p.id)),
            (None, Some(s)) => Object::Service(ServiceId(s.id)),
            (None, None) => return Ok(actor.is_superuser()),
        };
        policy::allows(&self.db, actor, Action::Edit, owner).await
    }

    /// The alert's service and project (found as routing finds them) as links to their pages,
    /// then its rule and the http(s) URLs among its alerts' annotations (deduplicated, at most
    /// 12 links in all): see [`AlertDetail::links`].
    async fn links(
        &self,
        service: Option<Found>,
        project: Option<Found>,
        alerts: &[WebhookAlert],
    ) -> Result<Vec<(String, String)>, AppError> {
        let mut links = Vec::new();
        if let Some(s) = service {
            links.push((format!("service {}", s.name), format!("/service/{}", s.id)));
        }
        if let Some(p) = project {
            links.push((format!("project {}", p.name), format!("/project/{}", p.id)));
        }
        let site = self.site.get().await?.url();
        let mut seen = std::collections::HashSet::new();
        for (key, value) in alerts.iter().flat_map(|a| a.annotations.iter()) {
            let Ok(url) = url::Url::parse(value) else { continue };
            // http(s) only, and never with a user name or password in it (a link that reads
            // like one place and logs in to another).
            let plain =
                matches!(url.scheme(), "http" | "https") && url.username().is_empty() && url.password().is_none();
            if !plain || !seen.insert(value.clone()) || links.len() >= 12 {
                continue;
            }
            // The rule annotation points back here: a path of this site. Any other link says
            // where it goes.
            let rule = value.strip_prefix(&format!("{site}/rule/")).and_then(|id| id.parse::<i64>().ok());
            match rule {
                Some(id) if key == crate::rules::labels::RULE_LINK => {
                    links.push(("rule".into(), format!("/rule/{id}")))
                }
                _ => links.push((format!("{key} ({})", url.host_str().unwrap_or_default()), url.to_string())),
            }
        }
        Ok(links)
    }

    /// A message of the group `group_key` other than `id`, the first by `order` (a condition
    /// on `id` as `$2`, then an order): its id, status and when it came; none when `seen` does
    /// not show it (a group may span services: grouped by `alertname` alone).
    async fn same_group(
        &self,
        seen: &Seen,
        group_key: &str,
        order: &'static str,
        id: AlertId,
    ) -> Result<Option<(AlertId, String, String)>, AppError> {
        if group_key.is_empty() {
            return Ok(None);
        }
        let row: Option<(i64, String, String)> =
            sqlx::query_as(&format!("SELECT id, status, received FROM alert WHERE group_key = $1 AND {order} LIMIT 1"))
                .bind(group_key)
                .bind(id.0)
                .fetch_optional(&self.db.pool)
                .await?;
        let Some((id, status, received)) = row else { return Ok(None) };
        Ok(self.shown(seen, AlertId(id)).await?.then_some((AlertId(id), status, received)))
    }

    /// One alert: its payload, routing decisions, deliveries and events.
    pub async fn detail(&self, actor: &Actor, id: AlertId) -> Result<AlertDetail, AppError> {
        actor.require()?;
        let row: DetailRow =
            sqlx::query_as(&format!("SELECT a.id, a.body, a.routing, {ALERT_COLUMNS} FROM alert a WHERE a.id = $1"))
                .bind(id.0)
                .fetch_optional(&self.db.pool)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("alert {id}")))?;
        // What the reader sees, read once: this alert and its neighbours are checked by it.
        let seen = self.seen(actor).await?;
        self.require_shown(&seen, id).await?;
        let (alert, body, routing) = (row.columns.summary(AlertId(row.id)), row.body, row.routing);
        let body_bytes = body.len() as i64;
        // A large payload takes milliseconds to read: off the async workers, in the CPU pool
        // (each read holds several times the payload; 40 views at once took 2.4 GB).
        let (message, body) = if body.len() > super::PARSE_INLINE_BYTES {
            self.cpu.run("reading the payload", move || read_payload(body)).await?
        } else {
            read_payload(body)
        };
        let deliveries: Vec<DeliveryRow> = sqlx::query_as(
            "SELECT o.id, o.kind, o.target, n.alias, o.status, o.attempts, o.last_error, o.next_attempt, o.done \
             FROM outbox o LEFT JOIN notifier n ON n.id = o.notifier_id WHERE o.alert_id = $1 ORDER BY o.id",
        )
        .bind(id.0)
        .fetch_all(&self.db.pool)
        .await?;
        let events: Vec<(i64, String, String, String)> =
            sqlx::query_as("SELECT id, kind, detail, created FROM alert_event WHERE alert_id = $1 ORDER BY id")
                .bind(id.0)
                .fetch_all(&self.db.pool)
                .await?;
        let (service, project, _) = {
            let mut conn = self.db.pool.acquire().await?;
            super::routing::owners(&mut conn, &alert.labels).await?
        };
        let may_silence = self.may_silence(actor, service.as_ref(), project.as_ref()).await?;
        // The same group's messages just after and just before, if the reader may see them.
        let later = self.same_group(&seen, &alert.group_key, "id > $2 ORDER BY id", id).await?;
        let earlier = self.same_group(&seen, &alert.group_key, "id < $2 ORDER BY id DESC", id).await?;
        let links = self.links(service, project, &message.alerts).await?;
        Ok(AlertDetail {
            links,
            may_silence,
            later,
            earlier,
            alert,
            alerts: message.alerts,
            truncated_alerts: message.truncated_alerts,
            body,
            body_bytes,
            routing: serde_json::from_str(&routing).unwrap_or_default(),
            deliveries: deliveries
                .into_iter()
                .map(|d| Delivery {
                    id: d.id,
                    // Everyone may read an alert: its notifiers show as their alias or masked.
                    target: NotifierKind::parse(&d.kind).map_or_else(
                        || "…".to_string(),
                        |k| public_label(k, &d.target, d.alias.as_deref().unwrap_or("")),
                    ),
                    kind: d.kind,
                    status: d.status,
                    attempts: d.attempts,
                    last_error: d.last_error,
                    next_attempt: d.next_attempt,
                    done: d.done,
                })
                .collect(),
            events: events
                .into_iter()
                .map(|(eid, kind, detail, created)| AlertEvent { id: eid, alert_id: id, kind, detail, created })
                .collect(),
        })
    }

    /// An alert's payload as Alertmanager posted it (JSON), for `/alert/{id}/payload`.
    pub async fn payload(&self, actor: &Actor, id: AlertId) -> Result<String, AppError> {
        actor.require()?;
        let body = sqlx::query_as::<_, (String,)>("SELECT body FROM alert WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.0)
            .ok_or_else(|| AppError::NotFound(format!("alert {id}")))?;
        self.require_seen(actor, id).await?;
        Ok(body)
    }

    /// The outbox for the metrics: notifications waiting, the age of the oldest in seconds,
    /// and those given up on.
    pub async fn outbox_stats(&self) -> Result<(i64, f64, i64), AppError> {
        let (waiting, oldest, failed): (i64, Option<String>, i64) = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE status IN ('queued', 'sending')), \
             MIN(created) FILTER (WHERE status IN ('queued', 'sending')), COUNT(*) FILTER (WHERE status = 'failed') FROM outbox",
        )
        .fetch_one(&self.db.pool)
        .await?;
        let age = oldest
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map_or(0.0, |t| (chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_milliseconds() as f64 / 1000.0);
        Ok((waiting, age.max(0.0), failed))
    }

    /// Deletes alerts received before the retention, except those still being delivered, and
    /// dedupe keys past their window. Returns how many alerts went.
    pub async fn prune(&self, actor: &Actor) -> Result<u64, AppError> {
        actor.may_administer("prune alerts")?;
        let ago =
            |d: std::time::Duration| (chrono::Utc::now() - d).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut tx = self.db.begin().await?;
        let gone = sqlx::query(
            "DELETE FROM alert WHERE received < $1 AND NOT EXISTS \
             (SELECT 1 FROM outbox o WHERE o.alert_id = alert.id AND o.status IN ('queued', 'sending'))",
        )
        .bind(ago(self.settings.retention))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM alert_dedupe WHERE received < $1")
            .bind(ago(self.settings.dedupe_window))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if gone > 0 {
            tracing::info!(alerts = gone, before = %ago(self.settings.retention), "pruned old alerts");
        }
        Ok(gone)
    }
}
