//! `/-/healthy` and `/-/ready`, as Prometheus and Alertmanager have them, for load balancers
//! and orchestrators: healthy while the process serves; ready once the database answers (the
//! migrations ran before the server listened).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthy)).routes(routes!(ready))
}

/// Always 200 while the server serves.
#[utoipa::path(get, path = "/-/healthy", tag = "operations", responses((status = 200, description = "Serving")))]
async fn healthy() -> &'static str {
    "Promgen-rs is Healthy.\n"
}

/// 200 once the database answers; 503 while it does not.
#[utoipa::path(get, path = "/-/ready", tag = "operations", responses(
    (status = 200, description = "Ready: the database answers"),
    (status = 503, description = "The database does not answer")))]
async fn ready(State(s): State<AppState>) -> (StatusCode, &'static str) {
    if s.backend.db.answers(std::time::Duration::from_secs(5)).await {
        (StatusCode::OK, "Promgen-rs is Ready.\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Promgen-rs is not ready: the database does not answer.\n")
    }
}
