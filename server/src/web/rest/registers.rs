//! What is registered under a service or a project over REST: a project (services only),
//! rules, overrides of inherited rules and notifiers (Promgen's `ServiceViewSet.register_*`
//! and `ProjectViewSet.register_*`). Each needs the Editor or Admin role; 201 with the new
//! object.

use super::caller::{Caller, RestResult, json_body};
use super::resources::{RestNotifierInput, rest_notifier};
use crate::web::AppState;
use app::backend::{Actor, policy};
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

/// The object of `kind` (`services`, `projects`) and `id` (404 when there is none), after the
/// caller was found allowed to register under it (403).
async fn editable(s: &AppState, actor: &Actor, kind: &str, id: i64) -> RestResult<Object> {
    let object = super::members::object(s, actor, kind, id).await?;
    policy::check(&s.backend.db, actor, Action::Edit, object, "register here").await?;
    Ok(object)
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ProjectBody {
    name: String,
    #[serde(default)]
    description: String,
    shard: i64,
}

/// `POST /rest/v2/services/{id}/project` `{"name", "description", "shard"}` (the shard must
/// be enabled); the caller owns the project.
#[utoipa::path(post, path = "/rest/v2/services/{id}/project", tag = "services", params(("id" = i64, Path, description = "the object's id")), request_body(content = ProjectBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn project(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let Object::Service(service) = editable(&s, &actor, "services", id).await? else { unreachable!() };
    let b: ProjectBody = json_body(&body)?;
    let input = ProjectInput { name: b.name, description: b.description, shard_id: ShardId(b.shard) };
    let p = s.backend.inventory.create_project(&actor, service, input).await?;
    let body = json!({
        "id": p.id.0, "name": p.name, "description": p.description,
        "service": p.service_id.0, "shard": p.shard_id.0, "owner": p.owner,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// The rule owner `object` is.
async fn rule_owner(s: &AppState, object: Object) -> RestResult<RuleOwner> {
    Ok(match object {
        Object::Service(id) => s.backend.rules.owner(OwnerKind::Service, id.0).await?,
        Object::Project(id) => s.backend.rules.owner(OwnerKind::Project, id.0).await?,
        Object::Site => s.backend.rules.owner(OwnerKind::Site, 1).await?,
    })
}

/// A rule as Promgen's REST API writes it.
fn rest_rule(r: &Rule) -> Value {
    let (content_type, object_id) = match &r.owner {
        RuleOwner::Site { .. } => ("site", 1),
        RuleOwner::Service { id, .. } => ("service", id.0),
        RuleOwner::Project { id, .. } => ("project", id.0),
    };
    json!({
        "id": r.id.0, "name": r.name, "clause": r.expr, "duration": r.duration, "enabled": r.enabled,
        "description": r.description, "labels": r.labels, "annotations": r.annotations,
        "parent": r.parent.map(|p| p.0), "content_type": content_type, "object_id": object_id,
    })
}

/// `POST /rest/v2/{services|projects}/{id}/rules`: an alert rule of the object.
#[utoipa::path(post, path = "/rest/v2/{kind}/{id}/rules", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id")), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn rule(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let object = editable(&s, &actor, &kind, id).await?;
    let input: super::resources::RestRuleInput = json_body(&body)?;
    let owner = rule_owner(&s, object).await?;
    let rule = s.backend.rules.create(&actor, &owner, input.into()).await?;
    Ok((StatusCode::CREATED, Json(rest_rule(&rule))))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct OverrideBody {
    original_rule_id: i64,
    #[serde(default)]
    overrides: Option<PartialRule>,
}

/// The fields an override changes; the rest comes from the rule it overrides.
#[derive(Deserialize, Default, utoipa::ToSchema)]
struct PartialRule {
    name: Option<String>,
    clause: Option<String>,
    duration: Option<String>,
    enabled: Option<bool>,
    description: Option<String>,
    labels: Option<LabelMap>,
    annotations: Option<LabelMap>,
}

/// `POST /rest/v2/{services|projects}/{id}/rules/override` `{"original_rule_id",
/// "overrides"}`: the object's copy of an inherited rule (400 `{"detail"}` when the rule is
/// not inherited from the level above).
#[utoipa::path(post, path = "/rest/v2/{kind}/{id}/rules/override", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id")), request_body(content = OverrideBody, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn override_rule(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let object = editable(&s, &actor, &kind, id).await?;
    let b: OverrideBody = json_body(&body)?;
    let target = rule_owner(&s, object).await?;
    let parent = s.backend.rules.override_base(&actor, RuleId(b.original_rule_id), &target).await?;
    let input = b.overrides.map(|o| RuleInput {
        kind: parent.kind,
        name: o.name.unwrap_or_else(|| parent.name.clone()),
        expr: o.clause.unwrap_or_else(|| parent.expr.clone()),
        duration: o.duration.unwrap_or_else(|| parent.duration.clone()),
        enabled: o.enabled.unwrap_or(parent.enabled),
        description: o.description.unwrap_or_else(|| parent.description.clone()),
        labels: o.labels.unwrap_or_else(|| parent.labels.clone()),
        annotations: o.annotations.unwrap_or_else(|| parent.annotations.clone()),
    });
    match s.backend.rules.create_override(&actor, parent.id, &target, input).await {
        Ok(rule) => Ok((StatusCode::CREATED, Json(rest_rule(&rule)))),
        // Promgen says why the rule cannot be overridden here as its `detail`.
        Err(AppError::Invalid(f)) if f.field == "target" => {
            Ok((StatusCode::BAD_REQUEST, Json(json!({ "detail": f.message }))))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /rest/v2/{services|projects}/{id}/notifiers` `{"sender", "value", "alias",
/// "enabled", "filters"}`: a notifier of the object with its filters, in one change.
#[utoipa::path(post, path = "/rest/v2/{kind}/{id}/notifiers", tag = "roles", params(("kind" = String, Path, description = "services or projects"), ("id" = i64, Path, description = "the object's id")), request_body(content = RestNotifierInput, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn notifier(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path((kind, id)): Path<(String, i64)>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<Value>)> {
    let object = editable(&s, &actor, &kind, id).await?;
    let input: RestNotifierInput = json_body(&body)?;
    let owner = match object {
        Object::Service(id) => s.backend.notifiers.owner("service", id.0).await?,
        Object::Project(id) => s.backend.notifiers.owner("project", id.0).await?,
        Object::Site => s.backend.notifiers.owner("site", 1).await?,
    };
    let n = s.backend.notifiers.create(&actor, &owner, input.into_input()).await?;
    Ok((StatusCode::CREATED, Json(rest_notifier(&n))))
}
