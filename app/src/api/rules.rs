//! Rules as the pages see them. Owners travel as a kind (`site`, `service`, `project`) and an
//! id; the backend resolves and checks them.

// A server function takes one argument per form field, and the rule form has many; the macro
// drops attributes on the function itself, so the allowance is here.
#![allow(clippy::too_many_arguments)]

use crate::api::json_text::{JsonText, RawJson};
use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
async fn owner(b: &crate::backend::Backend, kind: &str, id: i64) -> Result<RuleOwner, AppError> {
    let kind =
        OwnerKind::parse(kind).ok_or_else(|| AppError::invalid("owner_kind", "must be site, service or project"))?;
    b.rules.owner(kind, id).await
}

/// The rules of the site, a service or a project (read by the rules' section, `RawJson`).
#[server(endpoint = "owner_rules", output = JsonText)]
pub async fn owner_rules(owner_kind: String, owner_id: i64) -> Result<RawJson<RuleListing>, AppError> {
    let (b, actor) = super::caller().await?;
    let owner = owner(&b, &owner_kind, owner_id).await?;
    RawJson::new(&b.rules.listing(&actor, &owner).await?)
}

#[server(endpoint = "get_rule", output = JsonText)]
pub async fn get_rule(id: RuleId) -> Result<RuleDetail, AppError> {
    let (b, actor) = super::caller().await?;
    b.rules.detail(&actor, id).await
}

/// The editor's context: of rule `id`, of a new rule of the owner, or of the owner's
/// override of `parent`.
#[server(endpoint = "editor_context", output = JsonText)]
pub async fn editor_context(
    id: Option<RuleId>,
    parent: Option<RuleId>,
    owner_kind: String,
    owner_id: i64,
) -> Result<RuleContext, AppError> {
    let (b, actor) = super::caller().await?;
    if let Some(id) = id {
        return b.rules.edit_context(&actor, id).await;
    }
    let owner = owner(&b, &owner_kind, owner_id).await?;
    match parent {
        Some(parent) => b.rules.override_context(&actor, parent, owner).await,
        None => b.rules.new_context(&actor, owner).await,
    }
}

/// Saves the editor: rule `id`, or a new rule (an override of `parent`) of the owner. Then
/// shows the rule.
#[server(endpoint = "save_rule", output = JsonText)]
pub async fn save_rule(
    id: Option<RuleId>,
    parent: Option<RuleId>,
    owner_kind: String,
    owner_id: i64,
    kind: String,
    name: String,
    expr: String,
    duration: Option<String>,
    description: Option<String>,
    enabled: Option<String>,
    follow: Option<String>,
    labels: Option<Vec<Pair>>,
    annotations: Option<Vec<Pair>>,
) -> Result<Rule, AppError> {
    let (b, actor) = super::caller().await?;
    let input = RuleInput {
        kind: RuleKind::parse(&kind).ok_or_else(|| AppError::invalid("kind", "must be alert or record"))?,
        name,
        expr,
        duration: duration.unwrap_or_default(),
        enabled: enabled.is_some(),
        description: description.unwrap_or_default(),
        labels: pairs_to_map("labels", labels)?,
        annotations: pairs_to_map("annotations", annotations)?,
    };
    let rule = match (id, parent) {
        (Some(id), _) => b.rules.update(&actor, id, input, follow.is_some()).await?,
        (None, Some(parent)) => {
            let target = owner(&b, &owner_kind, owner_id).await?;
            b.rules.create_override(&actor, parent, &target, Some(input)).await?
        }
        (None, None) => {
            let owner = owner(&b, &owner_kind, owner_id).await?;
            b.rules.create(&actor, &owner, input).await?
        }
    };
    leptos_axum::redirect(&format!("/rule/{}", rule.id));
    Ok(rule)
}

#[server(endpoint = "set_rule_enabled", output = JsonText)]
pub async fn set_rule_enabled(id: RuleId, enabled: bool) -> Result<Rule, AppError> {
    let (b, actor) = super::caller().await?;
    b.rules.set_enabled(&actor, id, enabled).await
}

#[server(endpoint = "delete_rule", output = JsonText)]
pub async fn delete_rule(id: RuleId) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    let gone = b.rules.delete(&actor, id).await?;
    Ok(super::deleted(&gone.owner.href(), format!("the rule {}", gone.name)))
}

#[server(endpoint = "restore_rule", output = JsonText)]
pub async fn restore_rule(id: RuleId, version: AuditId) -> Result<Rule, AppError> {
    let (b, actor) = super::caller().await?;
    b.rules.restore(&actor, id, version).await
}

/// Runs the expression as it is typed (as rule `id`, or as a new rule of the owner) on the
/// owner's Prometheus servers.
#[server(endpoint = "test_rule", output = JsonText)]
pub async fn test_rule(
    id: Option<RuleId>,
    owner_kind: String,
    owner_id: i64,
    kind: String,
    expr: String,
) -> Result<RuleTest, AppError> {
    let (b, actor) = super::caller().await?;
    let owner = owner(&b, &owner_kind, owner_id).await?;
    let kind = RuleKind::parse(&kind).unwrap_or_default();
    b.rules.test(&actor, id, &owner, kind, &expr).await
}

/// Imports a pasted or uploaded rule file into the owner (or site-wide by labels when
/// `owner_kind` is empty); returns the report as text.
#[server(endpoint = "import_rules", output = JsonText)]
pub async fn import_rules(owner_kind: String, owner_id: Option<i64>, rules: String) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    // On the site page (or with no owner) the file is imported site-wide: each rule goes to
    // the project or service its labels name, as Promgen's rule import does.
    let target = match owner_kind.as_str() {
        "" | "site" => None,
        kind => Some(owner(&b, kind, owner_id.unwrap_or(1)).await?),
    };
    let report = b.rules.import_file(&actor, &rules, target.as_ref()).await?;
    Ok(report.to_string())
}

#[server(endpoint = "get_site", output = JsonText)]
pub async fn get_site() -> Result<Site, AppError> {
    let (b, actor) = super::caller().await?;
    actor.require()?;
    b.site.get().await
}

/// The Prometheus rules are checked for, and where that comes from.
#[server(endpoint = "rules_dialect", output = JsonText)]
pub async fn rules_dialect() -> Result<(crate::rules::promql::Dialect, String), AppError> {
    let (b, _) = super::caller().await?;
    b.rules.dialect().await
}

/// What the rule file being served leaves out, and whether promtool refused a newer one.
#[server(endpoint = "rule_file_report", output = JsonText)]
pub async fn rule_file_report() -> Result<RuleFileProblems, AppError> {
    let (b, _) = super::caller().await?;
    // Renders (or takes the cached rendering of) the current file first.
    b.exports.rules(&Default::default(), &Default::default()).await?;
    Ok(b.exports.rule_file_problems())
}

/// Sets the release rules are checked for while no shard's is known.
#[server(endpoint = "set_prometheus_version", output = JsonText)]
pub async fn set_prometheus_version(prometheus_version: String) -> Result<String, AppError> {
    let (b, actor) = super::caller().await?;
    Ok(b.site.set_prometheus_version(&actor, &prometheus_version).await?.to_string())
}

/// Whether every logged-in user may read every service and project (site admins set it).
#[server(endpoint = "open_read", output = JsonText)]
pub async fn open_read() -> Result<bool, AppError> {
    let (b, _) = super::caller().await?;
    b.site.open_read().await
}

/// Opens read access to every logged-in user (`open=on`), or closes it (site admins).
#[server(endpoint = "set_open_read", output = JsonText)]
pub async fn set_open_read(open: Option<String>) -> Result<bool, AppError> {
    let (b, actor) = super::caller().await?;
    b.site.set_open_read(&actor, open.as_deref() == Some("on")).await
}

/// For site admins: a warning while links in alerts and notifications may point elsewhere than
/// where users reach the site (no `--external-url`, and this request's `Host` differs from the
/// site's domain); `None` for everyone else.
#[server(endpoint = "site_address_warning", output = JsonText)]
pub async fn site_address_warning() -> Result<Option<String>, AppError> {
    let (b, actor) = super::caller().await?;
    let host = super::request_host();
    b.site.address_warning(&actor, host.as_deref()).await
}

#[server(endpoint = "update_site", output = JsonText)]
pub async fn update_site(domain: String, scheme: String) -> Result<Site, AppError> {
    let (b, actor) = super::caller().await?;
    b.site.update(&actor, &domain, &scheme).await
}
