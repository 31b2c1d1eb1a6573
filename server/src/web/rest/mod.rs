//! Promgen's REST v2 (`/rest/v2/…`, spec 6.5; Promgen's `promgen/rest_v2.py`), so scripts
//! written against Promgen keep working: the same paths, methods, query filters, pagination
//! (`page_number`, `page_size`; `{"count","next","previous","results"}`), status codes and
//! bodies (`promgen-fixtures/examples/rest.*.json`). Callers authenticate with their session or
//! a token (`Authorization: Token <key>` or `Bearer <key>`).
//!
//! This is the start of the API: shards, the site and users. Each resource's answers are
//! checked against Promgen's own test tables by `tests/rest_v2.rs`.

mod caller;
mod page;
mod resources;

use super::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The `/rest/v2` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rest/v2/shards", get(resources::shards))
        .route("/rest/v2/shards/{id}", get(resources::shard))
        .route("/rest/v2/sites/info", get(resources::site))
        .route("/rest/v2/sites/{id}/rules", post(resources::site_rule))
        .route("/rest/v2/users", get(resources::users))
        .route("/rest/v2/users/me", get(resources::me))
        .route("/rest/v2/users/me/notifiers", post(resources::my_notifier))
}
