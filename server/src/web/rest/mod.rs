//! Promgen's REST v2 (`/rest/v2/…`, spec 6.5; Promgen's `promgen/rest_v2.py`), so scripts
//! written against Promgen keep working: the same paths, methods, query filters, pagination
//! (`page_number`, `page_size`; `{"count","next","previous","results"}`), status codes and
//! bodies (`promgen-fixtures/examples/rest.*.json`). Callers authenticate with their session or
//! a token (`Authorization: Token <key>` or `Bearer <key>`).
//!
//! So far: shards, the site, users, services, projects, farms and hosts, exporters, URLs,
//! probes, rules, notifiers, groups, roles on services and projects, and the audit log. Each resource's answers are
//! checked against Promgen's own test tables by `tests/rest_v2.rs`.

mod audit;
mod caller;
mod farms;
mod groups;
mod members;
mod notifiers;
mod page;
mod projects;
mod registers;
mod resources;
mod rules;
mod scrape;
mod services;

use super::AppState;
use axum::Router;
use axum::routing::{delete, get, post};

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
        .route("/rest/v2/services", get(services::list).post(services::create))
        .route(
            "/rest/v2/services/{id}",
            get(services::get).put(services::update).patch(services::update).delete(services::delete),
        )
        .route("/rest/v2/{kind}/{id}/users", get(members::users).post(members::grant_user))
        .route("/rest/v2/{kind}/{id}/users/{user_id}", delete(members::revoke_user))
        .route("/rest/v2/{kind}/{id}/groups", get(members::groups).post(members::grant_group))
        .route("/rest/v2/{kind}/{id}/groups/{group_id}", delete(members::revoke_group))
        .route("/rest/v2/services/{id}/project", post(registers::project))
        .route("/rest/v2/projects", get(projects::list))
        .route(
            "/rest/v2/projects/{id}",
            get(projects::get).put(projects::update).patch(projects::update).delete(projects::delete),
        )
        .route("/rest/v2/projects/{id}/exporters", post(projects::exporter))
        .route("/rest/v2/projects/{id}/urls", post(projects::url))
        .route("/rest/v2/projects/{id}/farms", post(projects::farm))
        .route("/rest/v2/{kind}/{id}/rules", post(registers::rule))
        .route("/rest/v2/{kind}/{id}/rules/override", post(registers::override_rule))
        .route("/rest/v2/{kind}/{id}/notifiers", post(registers::notifier))
        .route("/rest/v2/exporters", get(scrape::exporters))
        .route(
            "/rest/v2/exporters/{id}",
            get(scrape::exporter)
                .put(scrape::update_exporter)
                .patch(scrape::update_exporter)
                .delete(scrape::delete_exporter),
        )
        .route("/rest/v2/urls", get(scrape::urls))
        .route("/rest/v2/urls/{id}", delete(scrape::delete_url))
        .route("/rest/v2/probes", get(scrape::probes))
        .route("/rest/v2/logs", get(audit::list))
        .route("/rest/v2/farms", get(farms::list))
        .route("/rest/v2/farms/sources", get(farms::sources))
        .route("/rest/v2/farms/remotes/{source}", get(farms::remotes))
        .route("/rest/v2/farms/{id}", get(farms::get).put(farms::update).patch(farms::update).delete(farms::delete))
        .route("/rest/v2/farms/{id}/hosts", get(farms::hosts).post(farms::add_hosts))
        .route("/rest/v2/farms/{id}/hosts/{host_id}", delete(farms::delete_host))
        .route("/rest/v2/farms/{id}/sync", post(farms::sync))
        .route("/rest/v2/farms/{id}/convert-to-local", post(farms::convert_to_local))
        .route("/rest/v2/notifiers", get(notifiers::list))
        .route(
            "/rest/v2/notifiers/{id}",
            axum::routing::put(notifiers::update).patch(notifiers::update).delete(notifiers::delete),
        )
        .route("/rest/v2/notifiers/{id}/filters", post(notifiers::add_filter))
        .route("/rest/v2/notifiers/{id}/filters/{filter_id}", delete(notifiers::delete_filter))
        .route("/rest/v2/rules", get(rules::list))
        .route("/rest/v2/rules/{id}", get(rules::get).put(rules::update).patch(rules::update).delete(rules::delete))
        .route("/rest/v2/groups", get(groups::list).post(groups::create))
        .route(
            "/rest/v2/groups/{id}",
            get(groups::get).put(groups::update).patch(groups::update).delete(groups::delete),
        )
        .route("/rest/v2/groups/{id}/members", get(groups::members).post(groups::add_members))
        .route(
            "/rest/v2/groups/{id}/members/{user_id}",
            axum::routing::put(groups::set_member).delete(groups::remove_member),
        )
        .route("/rest/v2/groups/{id}/resources", get(groups::resources))
}
