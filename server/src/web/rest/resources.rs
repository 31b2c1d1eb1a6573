//! The resources, each in Promgen's shape (`promgen/serializers.py`).

use super::caller::{Caller, RestResult, json_body};
use super::page::{Page, PageQuery, paginate};
use crate::web::AppState;
use app::error::AppError;
use app::model::*;
use axum::Json;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

/// `ShardSerializer`: the shard with its live load from its Prometheus.
#[derive(Serialize)]
pub struct RestShard {
    id: i64,
    name: String,
    enabled: bool,
    proxy: bool,
    samples: i64,
    targets: i64,
    url: String,
    samples_count: i64,
    targets_count: i64,
}

async fn rest_shard(s: &AppState, shard: Shard) -> RestResult<RestShard> {
    let (samples_count, targets_count) = s.backend.proxy.usage(shard.id).await?;
    Ok(RestShard {
        id: shard.id.0,
        name: shard.name,
        enabled: shard.enabled,
        proxy: shard.proxy,
        samples: shard.samples,
        targets: shard.targets,
        // A password in the URL stays hidden, as on the shards page.
        url: app::model::validate::mask_url_password(&shard.url),
        samples_count,
        targets_count,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShardFilter {
    name: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/shards`: every shard by name (`?name=`: the name contains it), with its load.
#[utoipa::path(get, path = "/rest/v2/shards", tag = "shards", params(ShardFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn shards(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<ShardFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<RestShard>>> {
    let list: Vec<Shard> = s
        .backend
        .inventory
        .shards(&actor)
        .await?
        .into_iter()
        .map(|summary| summary.shard)
        .filter(|sh| f.name.as_deref().is_none_or(|n| sh.name.contains(n)))
        .collect();
    let page = paginate(list, &f.page, &uri, &headers)?;
    let results = futures::future::try_join_all(page.results.into_iter().map(|sh| rest_shard(&s, sh))).await?;
    Ok(Json(Page { count: page.count, next: page.next, previous: page.previous, results }))
}

/// `GET /rest/v2/shards/{id}`.
#[utoipa::path(get, path = "/rest/v2/shards/{id}", tag = "shards", params(("id" = i64, Path, description = "the object's id")), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn shard(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
) -> RestResult<Json<RestShard>> {
    let shard = s
        .backend
        .inventory
        .shards(&actor)
        .await?
        .into_iter()
        .map(|summary| summary.shard)
        .find(|sh| sh.id.0 == id)
        .ok_or_else(|| AppError::NotFound(format!("shard {id}")))?;
    Ok(Json(rest_shard(&s, shard).await?))
}

/// `GET /rest/v2/sites/info`: `{"id", "domain", "name"}`.
#[utoipa::path(get, path = "/rest/v2/sites/info", tag = "site", responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn site(State(s): State<AppState>, Caller(actor): Caller) -> RestResult<Json<serde_json::Value>> {
    let (id, domain, name) = s.backend.site.identity(&actor).await?;
    Ok(Json(serde_json::json!({ "id": id, "domain": domain, "name": name })))
}

/// A rule as Promgen's REST API takes it (`clause` is the expression).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RestRuleInput {
    name: String,
    clause: String,
    #[serde(default)]
    duration: String,
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    description: String,
    #[serde(default)]
    labels: LabelMap,
    #[serde(default)]
    annotations: LabelMap,
}

fn yes() -> bool {
    true
}

impl From<RestRuleInput> for RuleInput {
    fn from(r: RestRuleInput) -> Self {
        RuleInput {
            kind: RuleKind::Alert,
            name: r.name,
            expr: r.clause,
            duration: r.duration,
            enabled: r.enabled,
            description: r.description,
            labels: r.labels,
            annotations: r.annotations,
        }
    }
}

/// `POST /rest/v2/sites/{id}/rules`: a site rule (site admins only); 201 with the rule.
#[utoipa::path(post, path = "/rest/v2/sites/{id}/rules", tag = "site", params(("id" = i64, Path, description = "the object's id")), request_body(content = RestRuleInput, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn site_rule(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<serde_json::Value>)> {
    actor.may_administer("add site rules")?;
    let owner = s.backend.rules.owner(OwnerKind::Site, id).await?;
    let input: RestRuleInput = json_body(&body)?;
    let rule = s.backend.rules.create(&actor, &owner, input.into()).await?;
    let body = serde_json::json!({
        "id": rule.id.0,
        "name": rule.name,
        "clause": rule.expr,
        "duration": rule.duration,
        "enabled": rule.enabled,
        "description": rule.description,
        "labels": rule.labels,
        "annotations": rule.annotations,
        "parent": rule.parent.map(|p| p.0),
        "content_type": "site",
        "object_id": id,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// `UserSerializer`.
#[derive(Serialize)]
pub struct RestUser {
    id: i64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    q: Option<String>,
    #[serde(flatten)]
    #[param(ignore)]
    page: PageQuery,
}

/// `GET /rest/v2/users`: active users; `?q=` in the username, email, first or last name.
#[utoipa::path(get, path = "/rest/v2/users", tag = "users", params(UserFilter, super::page::PageQuery), responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn users(
    State(s): State<AppState>,
    Caller(actor): Caller,
    Query(f): Query<UserFilter>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> RestResult<Json<Page<RestUser>>> {
    let list = s
        .backend
        .auth
        .directory(&actor, f.q.as_deref())
        .await?
        .into_iter()
        .map(|u| RestUser {
            id: u.id.0,
            username: u.username,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
        })
        .collect();
    Ok(Json(paginate(list, &f.page, &uri, &headers)?))
}

/// `GET /rest/v2/users/me`: `CurrentUserSerializer`.
#[utoipa::path(get, path = "/rest/v2/users/me", tag = "users", responses((status = 200, description = "The answer, as Promgen's")))]
pub async fn me(State(s): State<AppState>, Caller(actor): Caller) -> RestResult<Json<serde_json::Value>> {
    let u = s.backend.auth.profile(&actor).await?;
    Ok(Json(serde_json::json!({
        "id": u.id.0,
        "username": u.username,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "is_staff": u.is_staff,
        "is_superuser": u.is_superuser,
        "date_joined": drf_time(&u.date_joined),
    })))
}

/// A notifier as Promgen's REST API takes it (`sender` is the module,
/// `promgen.notification.slack`, or the kind).
#[derive(Deserialize, utoipa::ToSchema)]
pub struct RestNotifierInput {
    sender: String,
    value: String,
    #[serde(default)]
    alias: String,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    filters: Vec<RestFilter>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RestFilter {
    name: String,
    value: String,
}

impl RestNotifierInput {
    /// The notifier to create: `sender` as Promgen's module (`promgen.notification.slack`)
    /// or the kind.
    pub fn into_input(self) -> NotifierInput {
        let kind = NotifierKind::from_promgen_module(&self.sender).map_or(self.sender, |k| k.as_str().to_string());
        NotifierInput {
            kind,
            value: self.value,
            alias: self.alias,
            enabled: self.enabled,
            filters: self.filters.into_iter().map(|f| (f.name, f.value)).collect(),
            ..Default::default()
        }
    }
}

/// `NotifierSerializer`: the value only when there is no alias (the alias hides it).
pub fn rest_notifier(n: &Notifier) -> serde_json::Value {
    let (content_type, content_name) = match &n.owner {
        NotifierOwner::Site => ("site", String::new()),
        NotifierOwner::Service { name, .. } => ("service", name.clone()),
        NotifierOwner::Project { name, .. } => ("project", name.clone()),
        NotifierOwner::User { name, .. } => ("user", name.clone()),
    };
    serde_json::json!({
        "id": n.id.0,
        "sender": format!("promgen.notification.{}", n.kind.as_str()),
        "value": if n.alias.is_empty() { Some(n.value.clone()) } else { None },
        "alias": n.alias,
        "enabled": n.enabled,
        "content_type": content_type,
        "content_name": content_name,
        "owner": n.created_by,
        "filters": n.filters.iter().map(|f| serde_json::json!({"id": f.id.0, "name": f.name, "value": f.value})).collect::<Vec<_>>(),
    })
}

/// `POST /rest/v2/users/me/notifiers`: a notifier of the caller's own, with its filters, in
/// one change; 201 with the notifier.
#[utoipa::path(post, path = "/rest/v2/users/me/notifiers", tag = "users", request_body(content = RestNotifierInput, content_type = "application/json"), responses((status = 201, description = "Made (200 when it existed already or nothing new was made)")))]
pub async fn my_notifier(
    State(s): State<AppState>,
    Caller(actor): Caller,
    body: axum::body::Bytes,
) -> RestResult<(StatusCode, Json<serde_json::Value>)> {
    let input = json_body::<RestNotifierInput>(&body)?.into_input();
    if NotifierKind::parse(&input.kind) == Some(NotifierKind::User) {
        // Promgen's words, which its scripts may look for.
        let detail =
            serde_json::json!({ "detail": "Cannot register a promgen.notification.user notifier for a user." });
        return Ok((StatusCode::BAD_REQUEST, Json(detail)));
    }
    let me = actor.user_id().ok_or(AppError::Unauthenticated)?;
    let owner = s.backend.notifiers.owner("user", me.0).await?;
    let n = s.backend.notifiers.create(&actor, &owner, input).await?;
    Ok((StatusCode::CREATED, Json(rest_notifier(&n))))
}

/// A time as Django REST framework writes it: ISO 8601 in UTC with `Z`, fractions of a second
/// only when there are any (`2026-08-05T00:00:00Z`).
pub fn drf_time(stored: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(stored) {
        Ok(t) => t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        Err(_) => stored.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_as_drf() {
        assert_eq!(super::drf_time("2026-08-05T00:00:00.000Z"), "2026-08-05T00:00:00Z");
        assert_eq!(super::drf_time("2026-08-05T00:00:00.250Z"), "2026-08-05T00:00:00.250Z");
    }
}
