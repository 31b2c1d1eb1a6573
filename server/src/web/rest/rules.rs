//! `/rest/v2/rules`: Promgen's `RuleViewSet`. Site rules are read by everyone and changed by
//! site admins; a service's or project's rules by those who may see and edit it.

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, boolean, paginate};
use crate::web::AppState;
use app::backend::{Actor, policy};
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};

/// The object a rule belongs to, for the policy.
fn object(rule: &Rule) -> Object {
    match &rule.owner {
        RuleOwner::Site { .. } => Object::Site,
        RuleOwner::Service { id, .. } => Object::Service(*id),
        RuleOwner::Project { id, .. } => Object::Project(*id),
    }
}

/// `(content_type, object_id, content_name)` of a rule's owner; the site's name for site rules.
fn owner_of(rule: &Rule, site_name: &str) -> (&'static str, i64, String) {
    match &rule.owner {
        RuleOwner::Site { .. } => ("site", 1, site_name.to_string()),
        RuleOwner::Service { id, name } => ("service", id.0, name.clone()),
        RuleOwner::Project { id, name, .. } => ("project", id.0, name.clone()),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleFilter {
    name: Option<String>,
    parent_rule_id: Option<i64>,
    enabled: Option<String>,
    object_id: Option<i64>,
    content_type: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/rules`: site rules and the rules of what the caller may see, newest first;
/// filters `name`, `parent_rule_id`, `enabled`, `object_id`, `content_type` (`site`,
/// `service`, `project`; others 400).
#[utoipa::path(get, path = "/rest/v2/rules", tag = "rules", params(RuleFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn list(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<RuleFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<Value>>> {
    if let Some(kind) = f.content_type.as_deref().filter(|k| !matches!(*k, "site" | "service" | "project")) {
        return Err(AppError::invalid("content_type", format!("{kind:?} is not site, service or project")).into());
    }
    let enabled = boolean("enabled", f.enabled.as_deref())?;
    let (services, projects) = (
        policy::visible_services(&s.backend.db, &actor).await?,
        policy::visible_projects(&s.backend.db, &actor).await?,
    );
    let (_, _, site_name) = s.backend.site.identity(&actor).await?;
    let mut rules = s.backend.rules.rule_list(&actor).await?;
    rules.reverse();
    let list: Vec<Value> = rules
        .into_iter()
        .filter(|r| match object(r) {
            Object::Site => true,
            Object::Service(id) => services.as_ref().is_none_or(|v| v.contains(&id)),
            Object::Project(id) => projects.as_ref().is_none_or(|v| v.contains(&id)),
        })
        .filter(|r| f.name.as_deref().is_none_or(|n| r.name.contains(n)))
        .filter(|r| f.parent_rule_id.is_none_or(|p| r.parent.map(|x| x.0) == Some(p)))
        .filter(|r| enabled.is_none_or(|e| r.enabled == e))
        .filter_map(|r| {
            let (kind, object_id, content_name) = owner_of(&r, &site_name);
            if f.content_type.as_deref().is_some_and(|k| k != kind) || f.object_id.is_some_and(|o| o != object_id) {
                return None;
            }
            Some(json!({
                "id": r.id.0, "name": r.name, "clause": r.expr, "duration": r.duration, "enabled": r.enabled,
                "parent": r.parent.map(|p| p.0), "content_type": kind, "content_name": content_name,
            }))
        })
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}

/// The rule, for those who may see its owner (403), 404 when there is none.
async fn visible(s: &AppState, actor: &Actor, id: i64) -> RestResult<Rule> {
    let rule = s.backend.rules.detail(actor, RuleId(id)).await?.rule;
    policy::check(&s.backend.db, actor, Action::View, object(&rule), "see this rule").await?;
    Ok(rule)
}

/// The detail shape: the annotations as Prometheus gets them (with `rule: <site>/rule/<id>`).
async fn detail(s: &AppState, actor: &Actor, rule: &Rule) -> RestResult<Value> {
    let (_, _, site_name) = s.backend.site.identity(actor).await?;
    let site = s.backend.site.get().await?;
    let (kind, object_id, content_name) = owner_of(rule, &site_name);
    let mut annotations = rule.annotations.clone();
    annotations.insert("rule".into(), format!("{}/rule/{}", site.url(), rule.id.0));
    Ok(json!({
        "id": rule.id.0, "name": rule.name, "clause": rule.expr, "duration": rule.duration,
        "enabled": rule.enabled, "description": rule.description, "labels": rule.labels,
        "annotations": annotations, "parent": rule.parent.map(|p| p.0),
        "content_type": kind, "object_id": object_id, "content_name": content_name,
    }))
}

/// `GET /rest/v2/rules/{id}`.
#[utoipa::path(get, path = "/rest/v2/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "the object's id")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn get(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<Json<Value>> {
    let rule = visible(&s, &actor, id).await?;
    Ok(Json(detail(&s, &actor, &rule).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct RuleBody {
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    name: Option<String>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    clause: Option<String>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    duration: Option<String>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    description: Option<String>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    labels: Option<LabelMap>,
    #[serde(default, deserialize_with = "super::caller::not_null")]
    #[schema(nullable = false)]
    annotations: Option<LabelMap>,
}

/// `PUT`/`PATCH /rest/v2/rules/{id}`: what the body has replaces what the rule has (its
/// owner's Editors and Admins; site rules: site admins).
#[utoipa::path(method(put, patch), path = "/rest/v2/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "the object's id")), request_body(content = RuleBody, content_type = "application/json"), responses((status = 200, description = "Changed")))]
pub async fn update(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<Json<Value>> {
    let rule = visible(&s, &actor, id).await?;
    policy::check(&s.backend.db, &actor, Action::Edit, object(&rule), "change this rule").await?;
    let b: RuleBody = json_body(&body)?;
    let only_enabled = b.name.is_none()
        && b.clause.is_none()
        && b.duration.is_none()
        && b.description.is_none()
        && b.labels.is_none()
        && b.annotations.is_none();
    let rule = match (only_enabled, b.enabled) {
        (true, Some(enabled)) => s.backend.rules.set_enabled(&actor, rule.id, enabled).await?,
        (true, None) => rule,
        (false, _) => {
            // The rule link is Promgen-rs' to add: a client sending back what it read keeps
            // the rule's own annotations.
            let mut annotations = b.annotations.unwrap_or_else(|| rule.annotations.clone());
            annotations.remove("rule");
            let input = RuleInput {
                kind: rule.kind,
                name: b.name.unwrap_or_else(|| rule.name.clone()),
                expr: b.clause.unwrap_or_else(|| rule.expr.clone()),
                duration: b.duration.unwrap_or_else(|| rule.duration.clone()),
                enabled: b.enabled.unwrap_or(rule.enabled),
                description: b.description.unwrap_or_else(|| rule.description.clone()),
                labels: b.labels.unwrap_or_else(|| rule.labels.clone()),
                annotations,
            };
            s.backend.rules.update(&actor, rule.id, input, false).await?
        }
    };
    Ok(Json(detail(&s, &actor, &rule).await?))
}

/// `DELETE /rest/v2/rules/{id}`: 204.
#[utoipa::path(delete, path = "/rest/v2/rules/{id}", tag = "rules", params(("id" = i64, Path, description = "the object's id")), responses((status = 204, description = "Gone")))]
pub async fn delete(State(s): State<AppState>, Caller(actor): Caller, Path(id): Path<i64>) -> RestResult<StatusCode> {
    let rule = visible(&s, &actor, id).await?;
    policy::check(&s.backend.db, &actor, Action::Edit, object(&rule), "delete this rule").await?;
    s.backend.rules.delete(&actor, rule.id).await?;
    Ok(StatusCode::NO_CONTENT)
}
