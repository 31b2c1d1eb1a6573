//! Who hears about an alert (spec 4.2), as Promgen decides it: the `service` and `project` of
//! the group's common labels name the objects whose enabled notifiers are told, each notifier's
//! filters permitting; a `user` notifier stands for that user's own notifiers; a project that
//! is not the labelled service's routes nowhere. Every step is written down for the alert page.

use crate::model::counted;
use crate::model::{LabelMap, NotifierId, NotifierKind, WebhookMessage};
use crate::rules::labels::{PROJECT, SERVICE};
use std::collections::{BTreeMap, BTreeSet};

/// A routed object: id and name.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub id: i64,
    pub name: String,
}

/// One notification to queue.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub notifier: NotifierId,
    pub kind: NotifierKind,
    pub target: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    /// The objects the labels name (kept for Promgen's annotation links even when the pair
    /// does not route).
    pub service: Option<Found>,
    pub project: Option<Found>,
    pub targets: Vec<Target>,
    pub decisions: Vec<String>,
}

/// A notifier with one of its filters (a row a filter; none without).
#[derive(sqlx::FromRow)]
struct NotifierRow {
    id: i64,
    kind: String,
    value: String,
    alias: String,
    user_id: Option<i64>,
    service_id: Option<i64>,
    /// The subscribed user's name, for a `user` notifier (its value is the user's id).
    username: Option<String>,
    filter_name: Option<String>,
    filter_value: Option<String>,
}

/// Whether an alert passes a notifier's filters: no filters pass everything; otherwise any
/// filter whose label has exactly its value lets it through.
pub fn passes(filters: &[(String, String)], labels: &LabelMap) -> bool {
    filters.is_empty() || filters.iter().any(|(name, value)| labels.get(name) == Some(value))
}

/// A notifier in a routing decision, which everyone who may read the alert sees: its alias, or
/// its value masked; a subscription by its user's name (its value is the user's id).
fn shown(n: &NotifierRow) -> String {
    if n.kind == "user" {
        let who = n.username.as_deref().map_or_else(|| format!("user #{}", n.value), |u| format!("user {u}"));
        return format!("subscription #{} of {who}", n.id);
    }
    let label =
        NotifierKind::parse(&n.kind).map_or_else(|| "…".into(), |k| crate::model::public_label(k, &n.value, &n.alias));
    format!("{} notifier #{} ({label})", n.kind, n.id)
}

/// The service and the project that `labels` name, as registered here, and the project's own
/// service, in one statement.
pub async fn owners(
    conn: &mut sqlx::AnyConnection,
    labels: &LabelMap,
) -> Result<(Option<Found>, Option<Found>, Option<Found>), sqlx::Error> {
    let found: Vec<(String, i64, String, i64, String)> = sqlx::query_as(
        "SELECT 'service', id, name, id, name FROM service WHERE name = $1 \
         UNION ALL SELECT 'project', p.id, p.name, sv.id, sv.name FROM project p JOIN service sv ON sv.id = p.service_id \
         WHERE p.name = $2",
    )
    .bind(labels.get(SERVICE))
    .bind(labels.get(PROJECT))
    .fetch_all(&mut *conn)
    .await?;
    let (mut service, mut project, mut project_service) = (None, None, None);
    for (what, id, name, sid, sname) in found {
        if what == "service" {
            service = Some(Found { id, name });
        } else {
            project = Some(Found { id, name });
            project_service = Some(Found { id: sid, name: sname });
        }
    }
    Ok((service, project, project_service))
}

pub async fn route(conn: &mut sqlx::AnyConnection, message: &WebhookMessage) -> Result<Plan, sqlx::Error> {
    let labels = &message.common_labels;
    let mut plan = Plan::default();
    let (service, project, project_service) = owners(conn, labels).await?;
    (plan.service, plan.project) = (service, project);
    if let (Some(name), None) = (labels.get(SERVICE), &plan.service) {
        plan.decisions.push(format!("service {name} is not registered here"));
    }
    if let (Some(name), None) = (labels.get(PROJECT), &plan.project) {
        plan.decisions.push(format!("project {name} is not registered here"));
    }
    for key in [SERVICE, PROJECT] {
        if !labels.contains_key(key) {
            unshared(conn, message, key, &mut plan.decisions).await?;
        }
    }
    if labels.get(SERVICE).is_none() && labels.get(PROJECT).is_none() {
        plan.decisions.push(
            "the group's common labels have neither service nor project: routed nowhere (group by service and project in Alertmanager)".into(),
        );
        return Ok(plan);
    }
    if let (Some(service), Some(project), Some(owner)) = (&plan.service, &plan.project, &project_service)
        && owner.id != service.id
    {
        plan.decisions.push(format!(
            "project {} belongs to service {}, not to service {}: routed nowhere",
            project.name, owner.name, service.name
        ));
        return Ok(plan);
    }
    let service_id = plan.service.as_ref().map_or(-1, |s| s.id);
    let project_id = plan.project.as_ref().map_or(-1, |p| p.id);
    // Enabled notifiers of both, each with its filters (one row a filter).
    let rows: Vec<NotifierRow> = sqlx::query_as(
        "SELECT n.id, n.kind, n.value, n.alias, n.user_id, n.service_id, u.username, \
         f.name AS filter_name, f.value AS filter_value \
         FROM notifier n LEFT JOIN notifier_filter f ON f.notifier_id = n.id \
         LEFT JOIN users u ON n.kind = 'user' AND CAST(u.id AS TEXT) = n.value \
         WHERE n.enabled = 1 AND (n.service_id = $1 OR n.project_id = $2) ORDER BY n.id, f.id",
    )
    .bind(service_id)
    .bind(project_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut notifiers: Vec<NotifierRow> = Vec::new();
    let mut filters: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    for r in rows {
        if let (Some(name), Some(value)) = (&r.filter_name, &r.filter_value) {
            filters.entry(r.id).or_default().push((name.clone(), value.clone()));
        }
        if notifiers.last().is_none_or(|n| n.id != r.id) {
            notifiers.push(r);
        }
    }
    for (what, found) in [("service", &plan.service), ("project", &plan.project)] {
        if let Some(f) = found {
            let own = notifiers.iter().filter(|n| (n.service_id == Some(f.id)) == (what == "service")).count();
            plan.decisions.push(format!("{what} {} (#{}): {}", f.name, f.id, counted(own as i64, "enabled notifier")));
        }
    }
    // Promgen sends once per (kind, target), whichever object or subscription led there.
    let mut seen: BTreeSet<(NotifierKind, String)> = BTreeSet::new();
    let mut push = |plan: &mut Plan, id: i64, kind: NotifierKind, target: &str| {
        if seen.insert((kind, target.to_string())) {
            plan.targets.push(Target { notifier: NotifierId(id), kind, target: target.to_string() });
        }
    };
    for n in &notifiers {
        let own = filters.get(&n.id).map_or(&[][..], Vec::as_slice);
        if !passes(own, labels) {
            let list: Vec<String> = own.iter().map(|(k, v)| format!("{k}={v}")).collect();
            plan.decisions.push(format!("{} skipped: its filters ({}) do not match", shown(n), list.join(", ")));
            continue;
        }
        let Some(kind) = NotifierKind::parse(&n.kind) else { continue };
        if kind != NotifierKind::User {
            push(&mut plan, n.id, kind, &n.value);
            continue;
        }
        // A subscription: the user's own enabled notifiers (their filters are theirs to set on
        // the subscription, as in Promgen).
        let user: Option<i64> = n.value.parse().ok().or(n.user_id);
        let theirs: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT n.id, n.kind, n.value FROM notifier n JOIN users u ON u.id = n.user_id \
             WHERE n.user_id = $1 AND n.enabled = 1 AND n.kind <> 'user' AND u.is_active = 1 ORDER BY n.id",
        )
        .bind(user.unwrap_or(-1))
        .fetch_all(&mut *conn)
        .await?;
        plan.decisions.push(match theirs.len() {
            0 => format!("{} leads to no enabled notifier of theirs", shown(n)),
            count => format!("{}: {} of theirs", shown(n), counted(count as i64, "notifier")),
        });
        for (id, kind, value) in &theirs {
            if let Some(kind) = NotifierKind::parse(kind) {
                push(&mut plan, *id, kind, value);
            }
        }
    }
    plan.decisions.push(match plan.targets.len() {
        0 => "no notifier to tell".into(),
        n => format!("{} queued", counted(n as i64, "notification")),
    });
    Ok(plan)
}

/// The most values of one unshared label a decision names.
const UNSHARED_NAMED: usize = 10;

/// Explains the notifiers skipped because the group's alerts name several services or projects
/// (`key`) that they do not share: Promgen routes a group on its common labels only, so theirs
/// are not told. Names the registered ones and how many enabled notifiers each has.
async fn unshared(
    conn: &mut sqlx::AnyConnection,
    message: &WebhookMessage,
    key: &str,
    decisions: &mut Vec<String>,
) -> Result<(), sqlx::Error> {
    let values: BTreeSet<&str> = message.alerts.iter().filter_map(|a| a.labels.get(key)).map(String::as_str).collect();
    if values.is_empty() {
        return Ok(());
    }
    let named: Vec<&str> = values.iter().copied().take(UNSHARED_NAMED).collect();
    let table = if key == SERVICE { "service" } else { "project" };
    let column = if key == SERVICE { "n.service_id" } else { "n.project_id" };
    let list = (1..=named.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        "SELECT o.id, o.name, COUNT(n.id) FROM {table} o LEFT JOIN notifier n ON {column} = o.id AND n.enabled = 1 \
         WHERE o.name IN ({list}) GROUP BY o.id, o.name ORDER BY o.name"
    );
    let mut q = sqlx::query_as::<_, (i64, String, i64)>(&sql);
    for name in &named {
        q = q.bind(*name);
    }
    let found = q.fetch_all(&mut *conn).await?;
    let mut each: Vec<String> = named
        .iter()
        .map(|name| match found.iter().find(|f| f.1 == *name) {
            Some((id, _, n)) => format!("{table} {name} (#{id}): {} not told", counted(*n, "enabled notifier")),
            None => format!("{table} {name}: not registered here"),
        })
        .collect();
    if values.len() > named.len() {
        each.push(format!("and {} more", values.len() - named.len()));
    }
    decisions.push(format!(
        "the group's alerts name {} they do not all share, so {table} notifiers are not told \
         (Promgen routes a group on its common labels; group by {key} in Alertmanager to reach them): {}",
        counted(values.len() as i64, table),
        each.join("; ")
    ));
    Ok(())
}

/// The site's own notifiers: told when the alert pipeline itself breaks.
pub async fn route_site(conn: &mut sqlx::AnyConnection) -> Result<Plan, sqlx::Error> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT id, kind, value FROM notifier WHERE enabled = 1 AND kind <> 'user' \
         AND service_id IS NULL AND project_id IS NULL AND user_id IS NULL ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut plan = Plan::default();
    for (id, kind, value) in rows {
        if let Some(kind) = NotifierKind::parse(&kind) {
            plan.targets.push(Target { notifier: NotifierId(id), kind, target: value });
        }
    }
    plan.decisions.push(format!("the site's notifiers: {} queued", counted(plan.targets.len() as i64, "notification")));
    Ok(plan)
}

/// Promgen's expansion of the payload before notifiers see it: the routed service and project
/// are linked in the common annotations. (The external URL becomes the alert's page, see
/// [`alert_url`], when it is sent: the alert's id is not known before it is stored.)
pub fn expand(message: &WebhookMessage, site_url: &str, plan: &Plan) -> WebhookMessage {
    let site = site_url.trim_end_matches('/');
    let mut out = message.clone();
    if let Some(p) = &plan.project {
        out.common_annotations.insert(PROJECT.into(), format!("{site}/project/{}", p.id));
    }
    if let Some(s) = &plan.service {
        out.common_annotations.insert(SERVICE.into(), format!("{site}/service/{}", s.id));
    }
    out
}

/// An alert's page, which notifications give as their external URL.
pub fn alert_url(site_url: &str, alert: i64) -> String {
    format!("{}/alert/{alert}", site_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_any_of() {
        let labels: LabelMap = [("severity".to_string(), "major".to_string())].into();
        let f = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
        assert!(passes(&[], &labels));
        assert!(!passes(&f(&[("severity", "critical")]), &labels));
        assert!(passes(&f(&[("severity", "critical"), ("severity", "major")]), &labels));
    }
}
