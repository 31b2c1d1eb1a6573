//! The push agents' side of the server (`promgen agent`): a long poll that answers when the
//! inventory changes, and the report of each sync. A token is required; reports need a site
//! admin's (they change what the shard page tells everyone).

use super::AppState;
use super::rest::caller::{Caller, RestResult, json_body};
use app::model::AgentReport;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(changes)).routes(routes!(status))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct Wait {
    /// The generation the agent's files reflect (`-1`: none yet).
    #[serde(default = "none_yet")]
    after: i64,
    /// Seconds to wait for a change (at most 120).
    #[serde(default = "default_wait")]
    timeout: u64,
}

fn none_yet() -> i64 {
    -1
}

fn default_wait() -> u64 {
    55
}

/// Waits until the inventory generation differs from `after` (or `timeout` passes) and answers
/// the current one: `{"generation": N}`.
#[utoipa::path(get, path = "/api/v1/agent/changes", tag = "agent", params(Wait),
    responses((status = 200, description = "`{\"generation\": N}`")))]
async fn changes(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(w): Query<Wait>,
) -> RestResult<Json<serde_json::Value>> {
    let stop = s.backend.supervisor.stop();
    let generation = s.backend.agents.wait_for_change(&actor, w.after, Duration::from_secs(w.timeout), &stop).await?;
    Ok(Json(serde_json::json!({ "generation": generation })))
}

/// An agent's report of its last sync (`AgentReport`'s fields); 204.
#[utoipa::path(post, path = "/api/v1/agent/status", tag = "agent",
    responses((status = 204, description = "kept"), (status = 403, description = "not a site admin's token")))]
async fn status(State(s): State<AppState>, Caller(actor): Caller, body: axum::body::Bytes) -> RestResult<StatusCode> {
    actor.may_administer("report an agent's sync")?;
    let report: AgentReport = json_body(&body)?;
    s.backend.agents.report(&actor, &report).await?;
    Ok(StatusCode::NO_CONTENT)
}
