//! What Prometheus (or a cron job next to it) pulls: file_sd JSON of targets and blackbox URLs,
//! and the rule file, anonymous as in Promgen. `?service=NAME` and/or `?project=NAME` narrow
//! the file; `/api/v1/rules?format=prometheusrule` writes a Kubernetes PrometheusRule.

use super::AppState;
use app::backend::exports::{ExportFilter, RulesFormat};
use app::error::AppError;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The files Prometheus pulls (compressed when asked, by the router's compression layer, `ETag`/`If-None-Match` answered with 304,
/// so Prometheus' `http_sd_configs` and cron jobs fetch only changes), and the Alertmanager
/// webhook: routed and documented together.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(targets))
        .routes(routes!(urls))
        .routes(routes!(rules))
        .routes(routes!(super::webhook::receive))
}

/// A strong validator of a file: a hash of its bytes.
fn etag(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}-{}\"", h.finish(), body.len())
}

/// The file, or 304 when the client holds this version (`If-None-Match`).
fn conditional(
    headers: &HeaderMap,
    content_type: &'static str,
    body: bytes::Bytes,
    extra: &[(header::HeaderName, &'static str)],
) -> Response {
    let tag = etag(&body);
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut res = if held {
        axum::http::StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(header::CONTENT_TYPE, content_type)], body).into_response()
    };
    if let Ok(v) = header::HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    for (name, value) in extra {
        res.headers_mut().insert(name.clone(), header::HeaderValue::from_static(value));
    }
    res
}

/// The scrape targets in file_sd's JSON (also Prometheus' `http_sd_configs` format): a list of
/// `{"targets": ["host:port"], "labels": {…}}`, anonymous as in Promgen.
#[utoipa::path(get, path = "/api/v1/targets", tag = "prometheus", params(
    ("service" = Option<String>, Query, description = "only this service's"),
    ("project" = Option<String>, Query, description = "only this project's"),
    ("shard" = Option<String>, Query, description = "only this shard's (what one Prometheus of it scrapes)"),
), responses((status = 200, description = "file_sd JSON", content_type = "application/json")))]
async fn targets(State(s): State<AppState>, Query(filter): Query<ExportFilter>, headers: HeaderMap) -> Response {
    json(&headers, s.backend.exports.targets(&filter).await)
}

/// `/api/v1/config`: Promgen's older name of `/api/v1/targets`.
pub async fn config(state: State<AppState>, filter: Query<ExportFilter>, headers: HeaderMap) -> Response {
    targets(state, filter, headers).await
}

/// The blackbox URLs in file_sd's JSON, for a blackbox exporter's probes.
#[utoipa::path(get, path = "/api/v1/urls", tag = "prometheus", params(
    ("service" = Option<String>, Query, description = "only this service's"),
    ("project" = Option<String>, Query, description = "only this project's"),
    ("shard" = Option<String>, Query, description = "only this shard's (what one Prometheus of it scrapes)"),
), responses((status = 200, description = "file_sd JSON", content_type = "application/json")))]
async fn urls(State(s): State<AppState>, Query(filter): Query<ExportFilter>, headers: HeaderMap) -> Response {
    json(&headers, s.backend.exports.urls(&filter).await)
}

/// The rule file (YAML), or a Kubernetes PrometheusRule with `?format=prometheusrule`.
#[utoipa::path(get, path = "/api/v1/rules", tag = "prometheus", params(
    ("service" = Option<String>, Query, description = "only this service's"),
    ("project" = Option<String>, Query, description = "only this project's"),
    ("format" = Option<String>, Query, description = "`prometheusrule` for a Kubernetes PrometheusRule"),
), responses((status = 200, description = "Prometheus' rule file", content_type = "application/x-yaml")))]
async fn rules(
    State(s): State<AppState>,
    Query(filter): Query<ExportFilter>,
    Query(format): Query<RulesFormat>,
    headers: HeaderMap,
) -> Response {
    match s.backend.exports.rules(&filter, &format).await {
        Ok(body) => conditional(
            &headers,
            "application/x-yaml; charset=utf-8",
            body,
            &[(header::CONTENT_DISPOSITION, "attachment; filename=\"promgen.rule.yml\"")],
        ),
        Err(e) => error(e),
    }
}

fn json(headers: &HeaderMap, body: Result<bytes::Bytes, AppError>) -> Response {
    match body {
        Ok(body) => conditional(headers, "application/json", body, &[]),
        Err(e) => error(e),
    }
}

pub use super::errors::response as error;
