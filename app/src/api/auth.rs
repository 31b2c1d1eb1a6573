//! Logging in and out.

use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

#[server]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    let (_, actor) = super::caller().await?;
    Ok(match actor {
        crate::backend::Actor::User(u) => Some(u),
        _ => None,
    })
}

#[server]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<CurrentUser, AppError> {
    let (backend, _) = super::caller().await?;
    let user = backend.auth.login(&username, &password).await?;
    let session = super::session().await?;
    // A new session id on login, so an id planted before login is worth nothing after.
    session.cycle_id().await.map_err(|e| AppError::Internal(e.to_string()))?;
    session
        .insert(crate::backend::auth::SESSION_USER_KEY, user.id.0)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    // Only local paths: a login link must not send the user to another site.
    let next = next.filter(|n| n.starts_with('/') && !n.starts_with("//")).unwrap_or_else(|| "/".into());
    leptos_axum::redirect(&next);
    Ok(user)
}

#[server]
pub async fn logout() -> Result<(), AppError> {
    let session = super::session().await?;
    session.flush().await.map_err(|e| AppError::Internal(e.to_string()))?;
    leptos_axum::redirect("/login");
    Ok(())
}
