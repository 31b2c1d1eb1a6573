//! What Prometheus (or a cron job next to it) pulls: file_sd JSON of targets and blackbox URLs,
//! and the rule file, anonymous as in Promgen. `?service=NAME` and/or `?project=NAME` narrow
//! the file; `/api/v1/rules?format=prometheusrule` writes a Kubernetes PrometheusRule.

use super::AppState;
use app::backend::exports::{ExportFilter, RulesFormat};
use app::error::AppError;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The files Prometheus pulls, and the Alertmanager webhook: routed and documented together.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(targets))
        .routes(routes!(urls))
        .routes(routes!(rules))
        .routes(routes!(super::webhook::receive))
}

/// The scrape targets in file_sd's JSON (also Prometheus' `http_sd_configs` format): a list of
/// `{"targets": ["host:port"], "labels": {…}}`, anonymous as in Promgen.
#[utoipa::path(get, path = "/api/v1/targets", tag = "prometheus", params(
    ("service" = Option<String>, Query, description = "only this service's"),
    ("project" = Option<String>, Query, description = "only this project's"),
), responses((status = 200, description = "file_sd JSON", content_type = "application/json")))]
async fn targets(State(s): State<AppState>, Query(filter): Query<ExportFilter>) -> Response {
    json(s.backend.exports.targets(&filter).await)
}

/// `/api/v1/config`: Promgen's older name of `/api/v1/targets`.
pub async fn config(state: State<AppState>, filter: Query<ExportFilter>) -> Response {
    targets(state, filter).await
}

/// The blackbox URLs in file_sd's JSON, for a blackbox exporter's probes.
#[utoipa::path(get, path = "/api/v1/urls", tag = "prometheus", params(
    ("service" = Option<String>, Query, description = "only this service's"),
    ("project" = Option<String>, Query, description = "only this project's"),
), responses((status = 200, description = "file_sd JSON", content_type = "application/json")))]
async fn urls(State(s): State<AppState>, Query(filter): Query<ExportFilter>) -> Response {
    json(s.backend.exports.urls(&filter).await)
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
) -> Response {
    match s.backend.exports.rules(&filter, &format).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "application/x-yaml; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"promgen.rule.yml\""),
            ],
            body,
        )
            .into_response(),
        Err(e) => error(e),
    }
}

fn json(body: Result<bytes::Bytes, AppError>) -> Response {
    match body {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => error(e),
    }
}

pub use super::errors::response as error;
