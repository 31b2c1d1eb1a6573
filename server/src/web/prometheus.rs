//! What Prometheus (or a cron job next to it) pulls: file_sd JSON of targets and blackbox URLs,
//! and the rule file, anonymous as in Promgen. `?service=NAME` and/or `?project=NAME` narrow
//! the file; `/api/v1/rules?format=prometheusrule` writes a Kubernetes PrometheusRule.

use super::AppState;
use app::backend::exports::{ExportFilter, RulesFormat};
use app::error::AppError;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/targets", get(targets))
        .route("/api/v1/config", get(targets))
        .route("/api/v1/urls", get(urls))
        .route("/api/v1/rules", get(rules))
}

async fn targets(State(s): State<AppState>, Query(filter): Query<ExportFilter>) -> Response {
    json(s.backend.exports.targets(&filter).await)
}

async fn urls(State(s): State<AppState>, Query(filter): Query<ExportFilter>) -> Response {
    json(s.backend.exports.urls(&filter).await)
}

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
