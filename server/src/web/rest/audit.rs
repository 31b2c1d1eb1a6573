//! `/rest/v2/logs`: Promgen's audit list, newest first, of what the caller may see.

use super::caller::{Caller, RestResult};
use super::page::{Page, PageAt, PageQuery};
use crate::web::AppState;
use app::backend::audit::LogFilter;
use app::error::AppError;
use axum::Json;
use axum::extract::{OriginalUri, Query, State};
use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

/// The content types Promgen's filter takes.
const CONTENT_TYPES: [&str; 10] =
    ["exporter", "farm", "group", "host", "project", "rule", "sender", "service", "silence", "url"];

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    object_id: Option<i64>,
    content_type: Option<String>,
    user: Option<String>,
    parent_object_id: Option<i64>,
    parent_content_type: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// Promgen's name of a kind of object (a notifier is its `sender`).
fn content_type(kind: &str) -> &str {
    if kind == "notifier" { "sender" } else { kind }
}

/// The log's name of Promgen's kind of object ([`content_type`] backwards).
fn log_kind(content_type: &str) -> String {
    if content_type == "sender" { "notifier".into() } else { content_type.into() }
}

/// `GET /rest/v2/logs`: filters `object_id`, `content_type` (exporter, farm, group, host,
/// project, rule, sender, service, silence (ours: a silence's making, replacing or expiring;
/// its `object_id` is 0), url; others 400), `user` (username), `parent_object_id`,
/// `parent_content_type` (group, project, service; others 400).
#[utoipa::path(get, path = "/rest/v2/logs", tag = "audit logs", params(AuditFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<AuditFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    if let Some(ct) = f.content_type.as_deref().filter(|ct| !CONTENT_TYPES.contains(ct)) {
        return Err(AppError::invalid("content_type", format!("{ct:?} is not a kind of object with a history")).into());
    }
    if let Some(ct) = f.parent_content_type.as_deref().filter(|ct| !matches!(*ct, "group" | "project" | "service")) {
        return Err(AppError::invalid("parent_content_type", format!("{ct:?} is not group, project or service")).into());
    }
    let filter = LogFilter {
        object_id: f.object_id,
        object_type: f.content_type.as_deref().map(log_kind),
        user: f.user.clone(),
        parent_id: f.parent_object_id,
        parent_type: f.parent_content_type.as_deref().map(log_kind),
    };
    let (at, count, records) = s
        .backend
        .audit
        .search(&actor, &filter, |count| {
            let at = PageAt::of(count as usize, &f.page)?;
            let (offset, limit) = (at.offset() as i64, at.size as i64);
            Ok((at, offset, limit))
        })
        .await?;
    let list: Vec<Value> = records
        .into_iter()
        .map(|r| {
            let parent = (!r.parent_type.is_empty()).then(|| content_type(&r.parent_type).to_string());
            json!({
                "id": r.entry.id.0,
                "user": r.entry.user,
                "content_type": content_type(&r.entry.object_type),
                "object_id": r.entry.object_id,
                "log": r.entry.body,
                "created": super::resources::drf_time(&r.entry.created),
                "new": r.entry.data.unwrap_or_default(),
                "old": r.entry.old.unwrap_or_default(),
                "parent_content_type": parent,
                "parent_object_id": r.parent_id,
            })
        })
        .collect();
    Ok(Json(at.page(count as usize, list, &uri, &headers)))
}
