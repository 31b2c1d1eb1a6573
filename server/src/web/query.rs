//! The query proxy's HTTP edge: Prometheus' read API (`/api/v1/query`, `query_range`,
//! `series`, `labels`, `label/{name}/values`, by GET or form POST as Prometheus takes them)
//! answered from every proxied shard at once ([`app::backend::query_proxy`]). Read-only, and
//! unlike Promgen's open proxy it needs a login or a token: series and their labels tell what
//! runs where.

use super::AppState;
use super::rest::caller::Caller;
use app::backend::query_proxy::Endpoint;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(query_get, query_post))
        .routes(routes!(query_range_get, query_range_post))
        .routes(routes!(series_get, series_post))
        .routes(routes!(labels_get, labels_post))
        .routes(routes!(label_values))
}

/// The request's parameters: its query string, and a form body's for a POST.
fn parameters(
    method: &Method,
    query: Option<String>,
    content_type: Option<&str>,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect();
    if method == Method::POST && content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        out.extend(url::form_urlencoded::parse(body).into_owned());
    }
    out
}

async fn answer(s: AppState, endpoint: Endpoint, params: Vec<(String, String)>) -> Response {
    match s.backend.proxy.fan_out(app::backend::proxy::Scope::Site, &endpoint, &params).await {
        Ok(merged) => {
            let status = StatusCode::from_u16(merged.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, Json(merged.body)).into_response()
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let body = serde_json::json!({"status": "error", "errorType": "internal", "error": e.to_string()});
            (status, Json(body)).into_response()
        }
    }
}

/// Handlers for one endpoint by GET and by form POST, as Prometheus serves them.
macro_rules! read_endpoint {
    ($get:ident, $post:ident, $path:literal, $endpoint:expr, $what:literal) => {
        #[doc = $what]
        #[utoipa::path(get, path = $path, tag = "query proxy",
            responses((status = 200, description = "Prometheus' answer, merged across the proxied shards; `warnings` name shards that failed"),
                      (status = 400, description = "every shard refused the request (`bad_data`)"),
                      (status = 503, description = "no shard answered")))]
        async fn $get(State(s): State<AppState>, Caller(_): Caller, RawQuery(q): RawQuery) -> Response {
            answer(s, $endpoint, parameters(&Method::GET, q, None, &[])).await
        }

        #[doc = $what]
        #[utoipa::path(post, path = $path, tag = "query proxy",
            responses((status = 200, description = "Prometheus' answer, merged across the proxied shards")))]
        async fn $post(
            State(s): State<AppState>,
            Caller(_): Caller,
            RawQuery(q): RawQuery,
            headers: axum::http::HeaderMap,
            body: axum::body::Bytes,
        ) -> Response {
            let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
            answer(s, $endpoint, parameters(&Method::POST, q, content_type, &body)).await
        }
    };
}

read_endpoint!(query_get, query_post, "/api/v1/query", Endpoint::Query, "An instant query on every proxied shard.");
read_endpoint!(
    query_range_get,
    query_range_post,
    "/api/v1/query_range",
    Endpoint::QueryRange,
    "A range query on every proxied shard."
);
read_endpoint!(
    series_get,
    series_post,
    "/api/v1/series",
    Endpoint::Series,
    "The series matching `match[]` on every proxied shard."
);
read_endpoint!(labels_get, labels_post, "/api/v1/labels", Endpoint::Labels, "Every label name of every proxied shard.");

/// A label's values on every proxied shard, as one sorted list.
#[utoipa::path(get, path = "/api/v1/label/{name}/values", tag = "query proxy",
    params(("name" = String, Path, description = "the label")),
    responses((status = 200, description = "Prometheus' answer: the sorted union of the shards' values")))]
async fn label_values(
    State(s): State<AppState>,
    Caller(_): Caller,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    answer(s, Endpoint::LabelValues(name), parameters(&Method::GET, q, None, &[])).await
}
