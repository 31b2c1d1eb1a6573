//! `GET /alert/{id}/payload`: an alert's payload as Alertmanager posted it (JSON), for a
//! logged-in browser or an API token. The alert page embeds small payloads and links here for
//! large ones (a group of 5,000 alerts posts megabytes).

use super::AppState;
use super::errors::response;
use app::backend::auth::actor_from_session;
use app::model::AlertId;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};

pub async fn payload(
    State(s): State<AppState>,
    headers: HeaderMap,
    session: tower_sessions::Session,
    Path(id): Path<i64>,
) -> Response {
    let actor = match headers.get(header::AUTHORIZATION) {
        Some(auth) => s.backend.auth.actor_from_header(auth.to_str().ok()).await,
        None => actor_from_session(&s.backend.auth, &session).await,
    };
    let body = match actor {
        Ok(actor) => s.backend.alerts.payload(&actor, AlertId(id)).await,
        Err(e) => Err(e),
    };
    match body {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, "application/json".to_string()),
                (header::CONTENT_DISPOSITION, format!("inline; filename=\"alert-{id}.json\"")),
            ],
            body,
        )
            .into_response(),
        Err(e) => response(e),
    }
}
