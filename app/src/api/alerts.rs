//! Alerts, notifiers and API tokens as the pages see them.

use crate::api::json_text::{JsonText, RawJson};
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

/// The newest delivery of each alert group, narrowed by `labels` (`name=value ...`).
#[server(endpoint = "current_alerts", output = JsonText)]
pub async fn current_alerts(labels: String) -> Result<AlertPage, AppError> {
    let (b, actor) = super::caller().await?;
    let filter = parse_label_filter(&labels)?;
    b.alerts.page(&actor, &filter).await
}

/// Every delivery with `labels`, newest first.
#[server(endpoint = "alert_history", output = JsonText)]
pub async fn alert_history(labels: String, page: i64) -> Result<Vec<AlertSummary>, AppError> {
    let (b, actor) = super::caller().await?;
    let filter = parse_label_filter(&labels)?;
    b.alerts.history(&actor, &filter, page).await
}

#[server(endpoint = "get_alert", output = JsonText)]
pub async fn get_alert(id: AlertId) -> Result<AlertDetail, AppError> {
    let (b, actor) = super::caller().await?;
    b.alerts.detail(&actor, id).await
}

/// The notifiers of a site, service, project or user (read by the notifiers' section, `RawJson`).
#[server(endpoint = "owner_notifiers", output = JsonText)]
pub async fn owner_notifiers(owner_kind: String, owner_id: i64) -> Result<RawJson<NotifierListing>, AppError> {
    let (b, actor) = super::caller().await?;
    // Another user's notifiers: refused before the id is looked up (which would tell who exists).
    if owner_kind == "user" && actor.user_id().map(|u| u.0) != Some(owner_id) {
        actor.may_administer("see another user's notifiers")?;
    }
    let owner = b.notifiers.owner(&owner_kind, owner_id).await?;
    RawJson::new(&b.notifiers.listing(&actor, &owner).await?)
}

#[server(endpoint = "create_notifier", output = JsonText)]
pub async fn create_notifier(
    owner_kind: String,
    owner_id: i64,
    kind: String,
    value: String,
    alias: Option<String>,
    subject_template: Option<String>,
    body_template: Option<String>,
) -> Result<Notifier, AppError> {
    let (b, actor) = super::caller().await?;
    let owner = b.notifiers.owner(&owner_kind, owner_id).await?;
    let input = NotifierInput {
        kind,
        value,
        alias: alias.unwrap_or_default(),
        subject_template: subject_template.unwrap_or_default(),
        body_template: body_template.unwrap_or_default(),
        ..Default::default()
    };
    b.notifiers.create(&actor, &owner, input).await
}

#[server(endpoint = "set_notifier_enabled", output = JsonText)]
pub async fn set_notifier_enabled(id: NotifierId, enabled: bool) -> Result<Notifier, AppError> {
    let (b, actor) = super::caller().await?;
    b.notifiers.set_enabled(&actor, id, enabled).await
}

#[server(endpoint = "delete_notifier", output = JsonText)]
pub async fn delete_notifier(id: NotifierId) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    b.notifiers.delete(&actor, id).await.map(drop)
}

#[server(endpoint = "add_notifier_filter", output = JsonText)]
pub async fn add_notifier_filter(id: NotifierId, name: String, value: String) -> Result<Notifier, AppError> {
    let (b, actor) = super::caller().await?;
    b.notifiers.add_filter(&actor, id, &name, &value).await
}

#[server(endpoint = "delete_notifier_filter", output = JsonText)]
pub async fn delete_notifier_filter(id: NotifierFilterId) -> Result<Notifier, AppError> {
    let (b, actor) = super::caller().await?;
    b.notifiers.delete_filter(&actor, id).await
}

/// Changes a notifier's alias and message templates.
#[server(endpoint = "update_notifier", output = JsonText)]
pub async fn update_notifier(
    id: NotifierId,
    alias: String,
    subject_template: String,
    body_template: String,
) -> Result<Notifier, AppError> {
    let (b, actor) = super::caller().await?;
    b.notifiers.update(&actor, id, &alias, &subject_template, &body_template).await
}

/// Sends Promgen's sample alert through a notifier; says how it went.
#[server(endpoint = "test_notifier", output = JsonText)]
pub async fn test_notifier(id: NotifierId) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let site = b.site.get().await?.url();
    b.notifiers.test(&actor, id, &site).await
}

/// Subscribes the caller to (or unsubscribes from) a service or project.
#[server(endpoint = "subscribe", output = JsonText)]
pub async fn subscribe(owner_kind: String, owner_id: i64, on: bool) -> Result<(), AppError> {
    let (b, actor) = super::caller().await?;
    let owner = b.notifiers.owner(&owner_kind, owner_id).await?;
    b.notifiers.subscribe(&actor, &owner, on).await
}

#[server(endpoint = "get_profile", output = JsonText)]
pub async fn get_profile() -> Result<Profile, AppError> {
    let (b, actor) = super::caller().await?;
    let crate::backend::Actor::User(user) = actor else { return Err(AppError::Unauthenticated) };
    let me = crate::backend::Actor::User(user.clone());
    let owner = NotifierOwner::User { id: user.id, name: user.username.clone() };
    let session = super::session().await?;
    let current = session.id().map(|id| id.to_string());
    Ok(Profile {
        sessions: b.auth.sessions(&me, current.as_deref()).await?,
        subscriptions: b.notifiers.subscriptions(&me).await?,
        has_password: b.auth.has_password(user.id).await?,
        tokens: b.auth.tokens(user.id).await?,
        notifiers: b.notifiers.listing(&me, &owner).await?.notifiers,
        process_alerts: user.is_superuser || user.process_alerts,
        user,
    })
}

/// Makes a token for the caller; the key is in the answer, once.
#[server(endpoint = "create_token", output = JsonText)]
pub async fn create_token(name: String) -> Result<(TokenInfo, String), AppError> {
    let (b, actor) = super::browser_caller("make tokens").await?;
    let crate::backend::Actor::User(user) = &actor else { return Err(AppError::Unauthenticated) };
    b.auth.create_token(&actor, &user.username, &name).await
}

#[server(endpoint = "revoke_token", output = JsonText)]
pub async fn revoke_token(id: TokenId) -> Result<(), AppError> {
    let (b, actor) = super::browser_caller("revoke tokens").await?;
    b.auth.revoke_token(&actor, id).await
}
