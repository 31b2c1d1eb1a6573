//! Server functions: thin. Each one finds out who is asking, makes one backend call and returns
//! its typed result. Mutations are checked in the backend, which gets the actor.

pub mod admin;
pub mod alerts;
pub mod auth;
pub mod inventory;
pub mod json_text;
pub mod members;
pub mod rules;
pub mod silences;

#[cfg(feature = "ssr")]
use crate::{
    backend::{Actor, Backend},
    error::AppError,
};

/// The backend and the logged-in caller of the current request. An anonymous caller is refused
/// (401) before anything is looked up, so no answer tells which ids exist.
#[cfg(feature = "ssr")]
pub(crate) async fn caller() -> Result<(Backend, Actor), AppError> {
    let (backend, actor) = visitor().await?;
    actor.require()?;
    Ok((backend, actor))
}

/// The backend and whoever asks, logged in or not (logging in, asking who one is).
#[cfg(feature = "ssr")]
pub(crate) async fn visitor() -> Result<(Backend, Actor), AppError> {
    let backend = leptos::prelude::use_context::<Backend>()
        .ok_or_else(|| AppError::Internal("backend missing from the request context".into()))?;
    // A script's token, checked before the function was called; else the browser's session.
    let by_token = leptos::prelude::use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::backend::auth::TokenCaller>().cloned());
    if let Some(crate::backend::auth::TokenCaller(actor)) = by_token {
        return Ok((backend, actor));
    }
    let session = session().await?;
    let actor = crate::backend::auth::actor_from_session(&backend.auth, &session).await?;
    Ok((backend, actor))
}

/// The caller of the current request, refused (403) when it came by API token: what a
/// token may not do is done in a signed-in browser (making and revoking tokens, ending
/// sessions, changing the password), so a leaked token cannot outlive its revocation.
#[cfg(feature = "ssr")]
pub(crate) async fn browser_caller(what: &str) -> Result<(Backend, Actor), AppError> {
    let by_token = leptos::prelude::use_context::<axum::http::request::Parts>()
        .is_some_and(|parts| parts.extensions.get::<crate::backend::auth::TokenCaller>().is_some());
    if by_token {
        return Err(AppError::Forbidden(format!("{what} with an API token: sign in with a browser")));
    }
    caller().await
}

/// The client of the current request, as the login limits count it.
#[cfg(feature = "ssr")]
pub(crate) fn client_address(backend: &Backend) -> Option<std::net::IpAddr> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    backend.auth.client_address(peer, &parts.headers)
}

/// The `Host` the current request was sent to (`promgen.example.com:3000`).
#[cfg(feature = "ssr")]
pub(crate) fn request_host() -> Option<String> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    let host = parts.headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok());
    host.or_else(|| parts.uri.authority().map(|a| a.as_str())).map(str::to_string)
}

/// The browser's `User-Agent` of the current request ([`crate::backend::auth::sessions::user_agent`]).
#[cfg(feature = "ssr")]
pub(crate) fn user_agent() -> Option<String> {
    let parts = leptos::prelude::use_context::<axum::http::request::Parts>()?;
    crate::backend::auth::sessions::user_agent(&parts.headers)
}

#[cfg(feature = "ssr")]
pub(crate) async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>().await.map_err(|e| AppError::fault("reading the session", e))
}

/// After a delete: sends the browser to `path` (the page that listed what went) and answers
/// "Deleted `what`.", which that page says ([`crate::components::SaidAfterPost`]).
#[cfg(feature = "ssr")]
pub(crate) fn deleted(path: &str, what: String) -> String {
    leptos_axum::redirect(path);
    format!("Deleted {what}.")
}
