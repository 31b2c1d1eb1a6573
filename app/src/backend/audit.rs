//! The audit log: every create, update and delete, with who did it and the state before and
//! after. Entries are written in the same transaction as the change they describe.

use super::{Actor, Db};
use crate::error::AppError;
use crate::model::{AuditEntry, AuditId, AuditPage};
use serde::Serialize;

#[derive(Clone)]
pub struct AuditLog {
    db: Db,
}

/// What an entry is about: the object, and the object it belongs to (for filtering a
/// service's or project's history including its children).
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    pub kind: &'a str,
    pub id: i64,
    pub parent_kind: &'a str,
    pub parent_id: i64,
}

impl<'a> Subject<'a> {
    pub fn new(kind: &'a str, id: i64) -> Self {
        Subject { kind, id, parent_kind: "", parent_id: 0 }
    }

    pub fn under(mut self, parent_kind: &'a str, parent_id: i64) -> Self {
        self.parent_kind = parent_kind;
        self.parent_id = parent_id;
        self
    }
}

/// Records `body` with the JSON of `old` and `new` state; nothing when both are given and
/// `new` changes nothing in `old` (a form saved with no change, see [`unchanged`]).
pub async fn record<O: Serialize, N: Serialize>(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    body: &str,
    subject: Subject<'_>,
    old: Option<&O>,
    new: Option<&N>,
) -> Result<(), sqlx::Error> {
    if let (Some(Ok(o)), Some(Ok(n))) = (old.map(serde_json::to_value), new.map(serde_json::to_value))
        && unchanged(&o, &n)
    {
        return Ok(());
    }
    let old = old.map(|o| serde_json::to_string(o).unwrap_or_default());
    let new = new.map(|n| serde_json::to_string(n).unwrap_or_default());
    sqlx::query(
        "INSERT INTO audit (created, user_id, body, object_type, object_id, parent_type, parent_id, old, data) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(super::db::now())
    .bind(actor.user_id().map(|u| u.0))
    .bind(body)
    .bind(subject.kind)
    .bind(subject.id)
    .bind(subject.parent_kind)
    .bind(subject.parent_id)
    .bind(old)
    .bind(new)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    created: String,
    username: Option<String>,
    body: String,
    object_type: String,
    object_id: i64,
    old: Option<String>,
    data: Option<String>,
}

/// Narrows the log to one object and what belongs to it.
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct AuditFilter {
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
}

pub const PAGE_SIZE: i64 = 50;

/// An audit entry with the object it is filed under (Promgen's `parent_content_type` and
/// `parent_object_id`), for REST.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRecord {
    pub entry: AuditEntry,
    pub parent_type: String,
    pub parent_id: i64,
}

/// What `/rest/v2/logs` selects entries by (each `None` selects any), in this log's names
/// (a notifier is `notifier`, Promgen's `sender`).
#[derive(Clone, Debug, Default)]
pub struct LogFilter {
    pub object_id: Option<i64>,
    pub object_type: Option<String>,
    /// The username of who made the change.
    pub user: Option<String>,
    pub parent_id: Option<i64>,
    pub parent_type: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    id: i64,
    created: String,
    username: Option<String>,
    body: String,
    object_type: String,
    object_id: i64,
    parent_type: String,
    parent_id: i64,
    old: Option<String>,
    data: Option<String>,
}

impl AuditLog {
    pub fn new(db: Db) -> Self {
        AuditLog { db }
    }

    /// The SQL narrowing `audit a` to what `actor` may read: site admins all; others what is
    /// about (or filed under) a service or project they may see. The ids are numbers, written
    /// into the statement.
    async fn scope(&self, actor: &Actor) -> Result<String, AppError> {
        let (Some(services), Some(projects)) = (
            super::policy::visible_services(&self.db, actor).await?,
            super::policy::visible_projects(&self.db, actor).await?,
        ) else {
            return Ok(String::new());
        };
        let ids = |v: Vec<i64>| {
            if v.is_empty() { "NULL".to_string() } else { v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ") }
        };
        let (s, p) = (ids(services.iter().map(|x| x.0).collect()), ids(projects.iter().map(|x| x.0).collect()));
        Ok(format!(
            " AND ((a.object_type = 'service' AND a.object_id IN ({s})) OR (a.object_type = 'project' AND a.object_id IN ({p})) \
             OR (a.parent_type = 'service' AND a.parent_id IN ({s})) OR (a.parent_type = 'project' AND a.parent_id IN ({p})))"
        ))
    }

    /// The entries `actor` may read that `filter` selects, newest first: how many there are,
    /// and the page `window` chooses from that count (its `W`, with the page's `(offset,
    /// limit)`; its error is answered). Filtered and cut in the database: the log only grows.
    /// Site admins read all; others those about (or filed under) a service or project they
    /// may see.
    pub async fn search<W>(
        &self,
        actor: &Actor,
        filter: &LogFilter,
        window: impl FnOnce(i64) -> Result<(W, i64, i64), AppError>,
    ) -> Result<(W, i64, Vec<AuditRecord>), AppError> {
        actor.require()?;
        let scope = self.scope(actor).await?;
        let from = format!(
            "FROM audit a LEFT JOIN users u ON u.id = a.user_id \
             WHERE ($1 IS NULL OR a.object_id = $1) AND ($2 IS NULL OR a.object_type = $2) \
             AND ($3 IS NULL OR u.username = $3) AND ($4 IS NULL OR a.parent_id = $4) \
             AND ($5 IS NULL OR a.parent_type = $5){scope}"
        );
        let (count,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) {from}"))
            .bind(filter.object_id)
            .bind(filter.object_type.as_deref())
            .bind(filter.user.as_deref())
            .bind(filter.parent_id)
            .bind(filter.parent_type.as_deref())
            .fetch_one(&self.db.pool)
            .await?;
        let (page, offset, limit) = window(count)?;
        let rows: Vec<RecordRow> = sqlx::query_as(&format!(
            "SELECT a.id, a.created, u.username, a.body, a.object_type, a.object_id, a.parent_type, a.parent_id, \
             a.old, a.data {from} ORDER BY a.id DESC LIMIT $6 OFFSET $7"
        ))
        .bind(filter.object_id)
        .bind(filter.object_type.as_deref())
        .bind(filter.user.as_deref())
        .bind(filter.parent_id)
        .bind(filter.parent_type.as_deref())
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.db.pool)
        .await?;
        let records = rows
            .into_iter()
            .map(|r| AuditRecord {
                entry: AuditEntry {
                    id: AuditId(r.id),
                    created: r.created,
                    user: r.username,
                    body: r.body,
                    object_type: r.object_type,
                    object_id: r.object_id,
                    old: r.old,
                    data: r.data,
                },
                parent_type: r.parent_type,
                parent_id: r.parent_id,
            })
            .collect();
        Ok((page, count, records))
    }

    /// Newest first, fifty a page. An object's history (`filter`) holds what is about it and
    /// what is filed under it; a service's also what is filed under its projects (their farms,
    /// exporters, rules and silences).
    pub async fn list(&self, actor: &Actor, filter: &AuditFilter, page: i64) -> Result<AuditPage, AppError> {
        actor.require()?;
        let page = page.max(1);
        let (kind, id) = match (&filter.object_type, filter.object_id) {
            (Some(k), Some(i)) => (k.as_str(), i),
            _ => ("", 0),
        };
        let scope = self.scope(actor).await?;
        let rows: Vec<AuditRow> = sqlx::query_as(&format!(
            "SELECT a.id, a.created, u.username, a.body, a.object_type, a.object_id, a.old, a.data \
             FROM audit a LEFT JOIN users u ON u.id = a.user_id \
             WHERE ($1 = '' OR (a.object_type = $1 AND a.object_id = $2) \
                OR (a.parent_type = $1 AND a.parent_id = $2) \
                OR ($1 = 'service' AND a.parent_type = 'project' \
                    AND a.parent_id IN (SELECT p.id FROM project p WHERE p.service_id = $2))){scope} \
             ORDER BY a.id DESC LIMIT $3 OFFSET $4"
        ))
        .bind(kind)
        .bind(id)
        .bind(PAGE_SIZE + 1)
        .bind(super::db::page_offset(page, PAGE_SIZE))
        .fetch_all(&self.db.pool)
        .await?;
        let has_more = rows.len() as i64 > PAGE_SIZE;
        let entries: Vec<AuditEntry> = rows
            .into_iter()
            .take(PAGE_SIZE as usize)
            .map(|r| AuditEntry {
                id: AuditId(r.id),
                created: r.created,
                user: r.username,
                body: r.body,
                object_type: r.object_type,
                object_id: r.object_id,
                old: r.old,
                data: r.data,
            })
            .collect();
        // The object a History is of, by name; only with entries the reader may see (which
        // name it already), so a made-up id tells no name.
        let table = match kind {
            "service" => Some("service"),
            "project" => Some("project"),
            _ => None,
        };
        let subject = match table.filter(|_| !entries.is_empty()) {
            Some(table) => sqlx::query_as::<_, (String,)>(&format!("SELECT name FROM {table} WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await?
                .map(|(name,)| name),
            None => None,
        };
        Ok(AuditPage { entries, page, has_more, subject })
    }
}

/// Whether `new` changes nothing in `old`: the same value, or an object each of whose fields
/// `old` has with the same value (a form's input against the stored row, which has more).
fn unchanged(old: &serde_json::Value, new: &serde_json::Value) -> bool {
    match (old, new) {
        (serde_json::Value::Object(old), serde_json::Value::Object(new)) => {
            new.iter().all(|(k, v)| old.get(k) == Some(v))
        }
        _ => old == new,
    }
}

#[cfg(test)]
mod unchanged_tests {
    use serde_json::json;

    #[test]
    fn an_input_that_repeats_the_row_changes_nothing() {
        let row = json!({"id": 1, "name": "web", "description": "d", "shard_id": 2});
        assert!(super::unchanged(&row, &json!({"name": "web", "description": "d", "shard_id": 2})));
        assert!(!super::unchanged(&row, &json!({"name": "web", "description": "e", "shard_id": 2})));
        // A field the row has not is a change (the shapes may differ).
        assert!(!super::unchanged(&row, &json!({"name": "web", "owner": 3})));
        assert!(super::unchanged(&json!([1, 2]), &json!([1, 2])));
        assert!(!super::unchanged(&json!([1, 2]), &json!([2, 1])));
    }
}
