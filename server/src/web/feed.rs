//! `GET /ws`: the live alert feed. A logged-in browser of one of our pages (the origin is
//! checked: browsers do not apply the same-origin policy to websockets) gets every alert event
//! as it happens, after replaying those after `?since=<event id>` so a reconnect misses
//! nothing.

use super::AppState;
use super::origin;
use app::backend::auth::actor_from_session;
use app::model::FeedMessage;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::RecvError;

#[derive(serde::Deserialize)]
pub struct Since {
    #[serde(default)]
    since: i64,
}

pub async fn connect(
    State(s): State<AppState>,
    headers: HeaderMap,
    session: tower_sessions::Session,
    Query(Since { since }): Query<Since>,
    upgrade: WebSocketUpgrade,
) -> Response {
    if !origin::same_origin(&headers, &s.origins) {
        return (StatusCode::FORBIDDEN, "the live feed is for pages of this server (Origin mismatch)").into_response();
    }
    match actor_from_session(&s.backend.auth, &session).await {
        Ok(actor) if actor.require().is_ok() => {}
        _ => return (StatusCode::UNAUTHORIZED, "log in first").into_response(),
    }
    let events = s.backend.events.clone();
    upgrade.on_upgrade(move |socket| feed(socket, events, since))
}

async fn feed(mut socket: WebSocket, events: app::backend::events::Events, since: i64) {
    // Subscribe before the replay, so nothing falls between the two; what the replay carried
    // is then skipped once when it also comes live. (Not "every id up to the last replayed":
    // on PostgreSQL a lower id may commit, and arrive, after a higher one.)
    let mut live = events.subscribe();
    let replay = match events.since(since).await {
        Ok(r) => r,
        Err(_) => vec![FeedMessage::Reload],
    };
    let mut replayed = std::collections::HashSet::new();
    for m in replay {
        if let FeedMessage::Event { event, .. } = &m {
            replayed.insert(event.id);
        }
        if send(&mut socket, &m).await.is_err() {
            return;
        }
    }
    let every = std::time::Duration::from_secs(30);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            m = live.recv() => match m {
                Ok(m) => {
                    if let FeedMessage::Event { event, .. } = &m
                        && !replayed.is_empty()
                        && replayed.remove(&event.id)
                    {
                        continue;
                    }
                    if send(&mut socket, &m).await.is_err() {
                        return;
                    }
                }
                // Too slow to keep up: the page reloads its list and carries on.
                Err(RecvError::Lagged(_)) => {
                    if send(&mut socket, &FeedMessage::Reload).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                _ => {}
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, m: &FeedMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(m).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}
