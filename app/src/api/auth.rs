//! Logging in and out.

use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

#[server(endpoint = "whoami")]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    let (_, actor) = super::visitor().await?;
    Ok(match actor {
        crate::backend::Actor::User(u) => Some(u),
        _ => None,
    })
}

/// How one may log in here: the identity providers' buttons, and whether the password form is
/// shown. Open to anyone (the login page asks before anyone is logged in).
#[server(endpoint = "login_options")]
pub async fn login_options() -> Result<crate::model::LoginOptions, AppError> {
    let (backend, _) = super::visitor().await?;
    Ok(backend.sign_in.options())
}

#[server(endpoint = "login")]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<CurrentUser, AppError> {
    let (backend, _) = super::visitor().await?;
    let address = super::client_address(&backend);
    let user = backend.auth.login(&username, &password, address).await?;
    let session = super::session().await?;
    // A new session id on login, so an id planted before login is worth nothing after.
    session.cycle_id().await.map_err(|e| AppError::fault("starting the session", e))?;
    session
        .insert(crate::backend::auth::SESSION_USER_KEY, user.id.0)
        .await
        .map_err(|e| AppError::fault("starting the session", e))?;
    // Only paths of this site: a login link must not send the user to another one.
    leptos_axum::redirect(&crate::backend::auth::local_redirect(next.as_deref()));
    Ok(user)
}

/// Changes the caller's password; their other sessions end, this one stays.
#[server(endpoint = "change_password")]
pub async fn change_password(current: String, password: String) -> Result<(), AppError> {
    let (backend, actor) = super::caller().await?;
    let session = super::session().await?;
    let this = session.id().map(|id| id.to_string());
    let address = super::client_address(&backend);
    backend.auth.change_password(&actor, &current, &password, this.as_deref(), address).await
}

#[server(endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = super::session().await?;
    session.flush().await.map_err(|e| AppError::fault("ending the session", e))?;
    leptos_axum::redirect("/login");
    Ok(())
}
