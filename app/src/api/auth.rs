//! Logging in and out.

use crate::api::json_text::JsonText;
use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

#[server(endpoint = "whoami", output = JsonText)]
pub async fn whoami() -> Result<Option<CurrentUser>, AppError> {
    let (_, actor) = super::visitor().await?;
    Ok(match actor {
        crate::backend::Actor::User(u) => Some(u),
        _ => None,
    })
}

/// How one may log in here: the identity providers' buttons, and whether the password form is
/// shown; for a caller already logged in, where to go on instead (`next` if it is a path of
/// this site). Open to anyone (the login page asks before anyone is logged in).
#[server(endpoint = "login_options", output = JsonText)]
pub async fn login_options(next: Option<String>) -> Result<crate::model::LoginOptions, AppError> {
    let (backend, actor) = super::visitor().await?;
    let mut options = backend.sign_in.options();
    if matches!(actor, crate::backend::Actor::User(_)) {
        options.logged_in_next = Some(crate::backend::auth::local_redirect(next.as_deref()));
    }
    Ok(options)
}

#[server(endpoint = "login", output = JsonText)]
pub async fn login(username: String, password: String, next: Option<String>) -> Result<CurrentUser, AppError> {
    let (backend, _) = super::visitor().await?;
    let address = super::client_address(&backend);
    let user = backend.auth.login(&username, &password, address).await?;
    let session = super::session().await?;
    crate::backend::auth::sessions::begin(&session, user.id, "password", super::user_agent().as_deref(), address)
        .await?;
    // Only paths of this site: a login link must not send the user to another one.
    leptos_axum::redirect(&crate::backend::auth::local_redirect(next.as_deref()));
    Ok(user)
}

/// Changes the caller's password; their other sessions end, this one stays.
#[server(endpoint = "change_password", output = JsonText)]
pub async fn change_password(current: String, password: String) -> Result<(), AppError> {
    let (backend, actor) = super::browser_caller("change your password").await?;
    let session = super::session().await?;
    let this = session.id().map(|id| id.to_string());
    let address = super::client_address(&backend);
    backend.auth.change_password(&actor, &current, &password, this.as_deref(), address).await
}

/// Ends one of the caller's other sessions (by its handle on the profile page).
#[server(endpoint = "end_session", output = JsonText)]
pub async fn end_session(handle: String) -> Result<(), AppError> {
    let (backend, actor) = super::browser_caller("end sessions").await?;
    let this = super::session().await?.id().map(|id| id.to_string());
    backend.auth.end_session(&actor, &handle, this.as_deref()).await
}

/// Ends every session of the caller but this one; how many ended.
#[server(endpoint = "end_other_sessions", output = JsonText)]
pub async fn end_other_sessions() -> Result<u64, AppError> {
    let (backend, actor) = super::browser_caller("end sessions").await?;
    let this = super::session().await?.id().map(|id| id.to_string());
    backend.auth.end_other_sessions(&actor, this.as_deref()).await
}

#[server(endpoint = "logout", output = JsonText)]
pub async fn logout() -> Result<(), AppError> {
    let session = super::session().await?;
    session.flush().await.map_err(|e| AppError::fault("ending the session", e))?;
    leptos_axum::redirect("/login");
    Ok(())
}
