//! `POST /api/v1/alerts`: Alertmanager's webhook. The token says who posts (401 without a
//! valid one), the body must fit (413), be readable and be an Alertmanager message (400 with
//! the reason);
//! a valid one is stored, routed and queued in one transaction and answered 202.

use super::AppState;
use super::limits::Unread;
use super::prometheus::error;
use app::backend::alerts::Ingested;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Alertmanager's webhook (`webhook_configs: [{url: …/api/v1/alerts}]`), with a token of a
/// user who may post alerts. Answers 202 with what became of the alert.
#[utoipa::path(post, path = "/api/v1/alerts", tag = "alertmanager", request_body(
    content = serde_json::Value, content_type = "application/json",
    description = "Alertmanager's webhook payload (version 4)"),
    responses((status = 202, description = "Taken"), (status = 400, description = "Not a webhook payload"),
    (status = 401, description = "No valid token"), (status = 403, description = "The token's user may not post alerts"),
    (status = 413, description = "Larger than --max-webhook-bytes")))]
pub async fn receive(State(s): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let actor = match s.backend.auth.actor_from_header(auth).await {
        Ok(actor) => actor,
        Err(e) => {
            s.backend.metrics.webhook_refused();
            let message = e.to_string().trim_start_matches("authorization: ").to_string();
            return (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Token")], message).into_response();
        }
    };
    let bytes = match super::limits::read_at_most(&headers, body, s.webhook_limit).await {
        Ok(b) => b,
        Err(unread) => {
            s.backend.metrics.webhook_refused();
            return match unread {
                Unread::TooLarge => {
                    let message = format!("the body is larger than {} bytes (--max-webhook-bytes)", s.webhook_limit);
                    (StatusCode::PAYLOAD_TOO_LARGE, message).into_response()
                }
                Unread::Broken => (StatusCode::BAD_REQUEST, "the body could not be read").into_response(),
            };
        }
    };
    let answer = match s.backend.alerts.ingest(&actor, &bytes).await {
        Ok(Ingested::Stored { id, notifications }) => {
            json!({"status": "accepted", "alert": id, "notifications": notifications})
        }
        Ok(Ingested::Duplicate { of }) => json!({"status": "duplicate", "alert": of}),
        Ok(Ingested::Ignored(rule)) => json!({"status": "ignored", "rule": rule}),
        Ok(Ingested::Heartbeat) => json!({"status": "heartbeat"}),
        Err(e) => return error(e),
    };
    (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
}
