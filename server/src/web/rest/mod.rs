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
pub(crate) mod caller;
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
mod v1;

pub use v1::routes as v1_routes;

use super::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The header `--external-url` reaches the handlers by (they build absolute links from the
/// request's headers); set by [`external_url`] only, whatever a client sends is dropped.
const EXTERNAL_URL: &str = "x-promgen-external-url";

/// The site's `--external-url` as a header value, fixed at start (see [`external_url`]).
#[derive(Clone, Debug)]
pub struct ExternalUrl(Option<axum::http::HeaderValue>);

impl ExternalUrl {
    /// The backend's `--external-url`, if it has one (and it fits a header, which a parsed URL
    /// does).
    pub fn of(backend: &app::backend::Backend) -> Self {
        ExternalUrl(backend.site.external_url().and_then(|u| axum::http::HeaderValue::from_str(u).ok()))
    }
}

/// Hands the site's `--external-url` to the REST handlers (see [`absolute`]); layered on the
/// REST routers only, the other routes never read it.
pub async fn external_url(
    axum::extract::State(url): axum::extract::State<ExternalUrl>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    req.headers_mut().remove(EXTERNAL_URL);
    if let Some(v) = url.0 {
        req.headers_mut().insert(EXTERNAL_URL, v);
    }
    next.run(req).await
}

/// An absolute link to `path` (with its query): under `--external-url` when the server has
/// one, else `http://<the request's Host>` as Django's `build_absolute_uri` makes it (Promgen's
/// answers, and its test tables, have that shape).
pub(crate) fn absolute(headers: &axum::http::HeaderMap, path: &str) -> String {
    if let Some(base) = headers.get(EXTERNAL_URL).and_then(|h| h.to_str().ok()) {
        return format!("{}{path}", base.trim_end_matches('/'));
    }
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{path}")
}

/// 404 in Django REST framework's words: `{"detail": "Not found."}`.
pub fn not_found() -> axum::response::Response {
    use axum::response::IntoResponse;
    (axum::http::StatusCode::NOT_FOUND, axum::Json(serde_json::json!({ "detail": "Not found." }))).into_response()
}

/// Refusals made before a REST handler runs (axum's extractors: an id in the path that is not
/// a number) are plain text; Django REST framework answers JSON. An id in the path that is not
/// a number names nothing (404 `{"detail": "Not found."}`, as DRF's lookup answers); any other
/// such refusal keeps its status, its text as the `detail`. Layered on the REST routes only.
pub async fn json_refusals(res: axum::response::Response) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let text_plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    if !res.status().is_client_error() || !text_plain {
        return res;
    }
    let status = res.status();
    // axum's rejection texts are short; a longer one is cut, not buffered whole.
    let body = axum::body::to_bytes(res.into_body(), 16 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&body);
    if status == StatusCode::BAD_REQUEST && text.starts_with("Invalid URL") {
        return not_found();
    }
    (status, axum::Json(serde_json::json!({ "detail": text.trim() }))).into_response()
}

/// The `/rest/v2` routes, with the OpenAPI paths of their handlers' `#[utoipa::path]`s.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(resources::shards))
        .routes(routes!(resources::shard))
        .routes(routes!(resources::site))
        .routes(routes!(resources::site_rule))
        .routes(routes!(resources::users))
        .routes(routes!(resources::me))
        .routes(routes!(resources::my_notifier))
        .routes(routes!(services::list, services::create))
        .routes(routes!(services::get, services::update, services::delete))
        .routes(routes!(members::users, members::grant_user))
        .routes(routes!(members::revoke_user))
        .routes(routes!(members::groups, members::grant_group))
        .routes(routes!(members::revoke_group))
        .routes(routes!(registers::project))
        .routes(routes!(projects::list))
        .routes(routes!(projects::get, projects::update, projects::delete))
        .routes(routes!(projects::exporter))
        .routes(routes!(projects::url))
        .routes(routes!(projects::farm))
        .routes(routes!(registers::rule))
        .routes(routes!(registers::override_rule))
        .routes(routes!(registers::notifier))
        .routes(routes!(scrape::exporters))
        .routes(routes!(scrape::exporter, scrape::update_exporter, scrape::delete_exporter))
        .routes(routes!(scrape::urls))
        .routes(routes!(scrape::delete_url))
        .routes(routes!(scrape::probes))
        .routes(routes!(audit::list))
        .routes(routes!(farms::list))
        .routes(routes!(farms::sources))
        .routes(routes!(farms::remotes))
        .routes(routes!(farms::get, farms::update, farms::delete))
        .routes(routes!(farms::hosts, farms::add_hosts))
        .routes(routes!(farms::delete_host))
        .routes(routes!(farms::sync))
        .routes(routes!(farms::convert_to_local))
        .routes(routes!(notifiers::list))
        .routes(routes!(notifiers::update, notifiers::delete))
        .routes(routes!(notifiers::add_filter))
        .routes(routes!(notifiers::delete_filter))
        .routes(routes!(rules::list))
        .routes(routes!(rules::get, rules::update, rules::delete))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::get, groups::update, groups::delete))
        .routes(routes!(groups::members, groups::add_members))
        .routes(routes!(groups::set_member, groups::remove_member))
        .routes(routes!(groups::resources))
}
