//! `GET /ws`: the live alert feed. A logged-in browser of one of our pages (the origin is
//! checked: browsers do not apply the same-origin policy to websockets) gets the events of the
//! alerts it may see (as the alerts page shows them: by roles) as they happen, after replaying
//! those after `?since=<event id>` so a reconnect misses nothing. Who it is and what it may see
//! are read again every 30 seconds: the feed of an ended session or a deactivated user ends, a
//! role taken away stops the events it gave.

use super::AppState;
use super::origin;
use app::backend::alerts::FeedScope;
use app::backend::auth::actor_from_session;
use app::backend::{Actor, Backend};
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
    let (actor, scope) = match actor_from_session(&s.backend.auth, &session).await {
        Ok(actor) => match s.backend.alerts.feed_scope(&actor).await {
            Ok(scope) => (actor, scope),
            Err(e) => return super::errors::response(e),
        },
        Err(e) => return super::errors::response(e),
    };
    let backend = s.backend.clone();
    let session_id = session.id().map(|id| id.to_string());
    upgrade.on_upgrade(move |socket| feed(socket, backend, actor, session_id, scope, since))
}

async fn feed(
    mut socket: WebSocket,
    backend: Backend,
    actor: Actor,
    session_id: Option<String>,
    mut scope: FeedScope,
    since: i64,
) {
    let events = &backend.events;
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
        if !scope.shows(&m) {
            continue;
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
                    if !scope.shows(&m) {
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
                // Still this session (not ended nor logged out), this user, still active, and
                // what they may see now.
                let Some(id) = actor.user_id() else { return };
                if let Some(sid) = &session_id
                    && matches!(backend.auth.session_alive(sid).await, Ok(false))
                {
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                match backend.auth.user(id).await {
                    Ok(Some(user)) => match backend.alerts.feed_scope(&Actor::User(user)).await {
                        Ok(now) => scope = now,
                        Err(_) => return,
                    },
                    Ok(None) => {
                        let _ = socket.send(Message::Close(None)).await;
                        return;
                    }
                    // A database hiccup: keep the scope it had.
                    Err(_) => {}
                }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, m: &FeedMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(m).unwrap_or_default();
    socket.send(Message::Text(text.into())).await
}
