//! Notifiers: who hears about alerts, and how. Here their management (checked, validated,
//! audited) and the test button; `senders` reaches the world, `dispatch` works the outbox,
//! `message` writes the texts, `guard` keeps URLs off private networks.

pub mod dispatch;
pub mod guard;
pub mod message;
pub mod senders;

use super::audit::{self, Subject};
use super::{Actor, Db};
use crate::backend::policy;
use crate::error::AppError;
use crate::model::*;
use senders::Senders;
use std::collections::HashMap;

#[derive(Clone)]
pub struct Notifiers {
    db: Db,
    senders: Senders,
    templates: message::Renderer,
}

#[derive(sqlx::FromRow)]
struct NotifierRow {
    id: i64,
    kind: String,
    value: String,
    alias: String,
    service_id: Option<i64>,
    service_name: Option<String>,
    project_id: Option<i64>,
    project_name: Option<String>,
    user_id: Option<i64>,
    user_name: Option<String>,
    enabled: i64,
    subject_template: String,
    body_template: String,
    created_by_name: Option<String>,
}

const NOTIFIER_SELECT: &str = "SELECT n.id, n.kind, n.value, n.alias, n.service_id, sv.name AS service_name, \
     n.project_id, p.name AS project_name, n.user_id, u.username AS user_name, n.enabled, n.subject_template, \
     n.body_template, (SELECT c.username FROM users c WHERE c.id = n.created_by) AS created_by_name \
     FROM notifier n LEFT JOIN service sv ON sv.id = n.service_id \
     LEFT JOIN project p ON p.id = n.project_id LEFT JOIN users u ON u.id = n.user_id";

impl NotifierRow {
    fn owner(&self) -> NotifierOwner {
        match (self.service_id, self.project_id, self.user_id) {
            (Some(id), _, _) => {
                NotifierOwner::Service { id: ServiceId(id), name: self.service_name.clone().unwrap_or_default() }
            }
            (_, Some(id), _) => {
                NotifierOwner::Project { id: ProjectId(id), name: self.project_name.clone().unwrap_or_default() }
            }
            (_, _, Some(id)) => {
                NotifierOwner::User { id: UserId(id), name: self.user_name.clone().unwrap_or_default() }
            }
            _ => NotifierOwner::Site,
        }
    }
}

/// A notifier owner as its row's (service, project, user) columns.
type OwnerColumns = (Option<i64>, Option<i64>, Option<i64>);

fn owner_columns(owner: &NotifierOwner) -> OwnerColumns {
    match owner {
        NotifierOwner::Site => (None, None, None),
        NotifierOwner::Service { id, .. } => (Some(id.0), None, None),
        NotifierOwner::Project { id, .. } => (None, Some(id.0), None),
        NotifierOwner::User { id, .. } => (None, None, Some(id.0)),
    }
}

/// What the audit log keeps of a notifier, which its readers may not all edit: the value
/// masked (Promgen hid it only behind an alias).
fn audited(n: &Notifier) -> Notifier {
    Notifier { value: masked_value(n.kind, &n.value), ..n.clone() }
}

/// `value` as an email address (lettre's reading, which sends it), or a refusal at `field`.
/// Email notifiers and users' addresses.
pub(crate) fn email_address(field: &str, value: &str) -> Result<String, AppError> {
    let address = value.parse::<lettre::Address>();
    address
        .map(|a| a.to_string())
        .map_err(|e| AppError::invalid(field, format!("{value:?} is not an email address: {e}")))
}

impl Notifiers {
    pub fn new(db: Db, senders: Senders, templates: message::Renderer) -> Self {
        Notifiers { db, senders, templates }
    }

    /// Checks the alias and both message templates, which render Promgen's sample alert in
    /// the sandbox (a template is a program a user wrote).
    async fn check_texts(&self, alias: &str, subject: &str, body: &str) -> Result<(), AppError> {
        use crate::model::validate::{MAX_TEMPLATE, line, text};
        line("alias", alias, 128)?;
        let subject = text("subject_template", subject, MAX_TEMPLATE)?;
        let body = text("body_template", body, MAX_TEMPLATE)?;
        self.templates.check("subject_template", &subject).await?;
        self.templates.check("body_template", &body).await
    }

    pub fn senders(&self) -> &Senders {
        &self.senders
    }

    /// The owner `kind` (`site`, `service`, `project`, `user`) and `id` name.
    pub async fn owner(&self, kind: &str, id: i64) -> Result<NotifierOwner, AppError> {
        let name = |sql: &'static str| async move {
            sqlx::query_as::<_, (String,)>(sql)
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await?
                .map(|r| r.0)
                .ok_or_else(|| AppError::NotFound(format!("{kind} {id}")))
        };
        Ok(match kind {
            "site" => NotifierOwner::Site,
            "service" => NotifierOwner::Service {
                id: ServiceId(id),
                name: name("SELECT name FROM service WHERE id = $1").await?,
            },
            "project" => NotifierOwner::Project {
                id: ProjectId(id),
                name: name("SELECT name FROM project WHERE id = $1").await?,
            },
            "user" => {
                NotifierOwner::User { id: UserId(id), name: name("SELECT username FROM users WHERE id = $1").await? }
            }
            other => return Err(AppError::invalid("owner_kind", format!("{other:?} cannot have notifiers"))),
        })
    }

    /// [`Self::require_edit`] for callers outside this module (REST checks rights before it
    /// reads a body).
    pub async fn may_edit(&self, actor: &Actor, owner: &NotifierOwner) -> Result<(), AppError> {
        self.require_edit(actor, owner).await
    }

    /// Who may change an owner's notifiers: admins the site's; a service's or project's
    /// Editors and Admins ([`policy`]); a user their own.
    async fn require_edit(&self, actor: &Actor, owner: &NotifierOwner) -> Result<(), AppError> {
        match owner {
            NotifierOwner::Site => actor.may_administer("change the site's notifiers"),
            NotifierOwner::Service { id, .. } => {
                policy::check(&self.db, actor, Action::Edit, Object::Service(*id), "change this service's notifiers")
                    .await
            }
            NotifierOwner::Project { id, .. } => {
                policy::check(&self.db, actor, Action::Edit, Object::Project(*id), "change this project's notifiers")
                    .await
            }
            NotifierOwner::User { id, .. } => {
                actor.require()?;
                if actor.user_id() == Some(*id) {
                    Ok(())
                } else {
                    actor.may_administer("change another user's notifiers")
                }
            }
        }
    }

    async fn rows(&self, filter: &str, bind: i64) -> Result<Vec<Notifier>, AppError> {
        let rows: Vec<NotifierRow> = sqlx::query_as(&format!("{NOTIFIER_SELECT} WHERE {filter} ORDER BY n.id"))
            .bind(bind)
            .fetch_all(&self.db.pool)
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let filters: Vec<(i64, i64, String, String)> = if ids.is_empty() {
            Vec::new()
        } else {
            let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            sqlx::query_as(&format!(
                "SELECT id, notifier_id, name, value FROM notifier_filter WHERE notifier_id IN ({list}) ORDER BY id"
            ))
            .fetch_all(&self.db.pool)
            .await?
        };
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let kind = NotifierKind::parse(&r.kind)?;
                Some(Notifier {
                    id: NotifierId(r.id),
                    kind,
                    owner: r.owner(),
                    filters: filters
                        .iter()
                        .filter(|f| f.1 == r.id)
                        .map(|f| NotifierFilter { id: NotifierFilterId(f.0), name: f.2.clone(), value: f.3.clone() })
                        .collect(),
                    value: r.value,
                    alias: r.alias,
                    subscriber: None,
                    enabled: r.enabled != 0,
                    subject_template: r.subject_template,
                    body_template: r.body_template,
                    created_by: r.created_by_name,
                })
            })
            .collect())
    }

    /// Every notifier a caller may see (REST's `/notifiers`): those of the services and
    /// projects they may see and their own (all for site admins); values only to those who
    /// may edit them, masked for the others.
    pub async fn notifier_list(&self, actor: &Actor) -> Result<Vec<Notifier>, AppError> {
        let all = self.rows("n.id > $1", 0).await?;
        self.seen_by(actor, all).await
    }

    /// One notifier, for those who may see it (403), with its value masked for those who may
    /// not edit it; 404 when there is none.
    pub async fn visible(&self, actor: &Actor, id: NotifierId) -> Result<Notifier, AppError> {
        let n = self.get(id).await?;
        self.seen_by(actor, vec![n])
            .await?
            .pop()
            .ok_or_else(|| AppError::Forbidden("see this notifier: that needs a role on what it belongs to".into()))
    }

    /// The notifiers `actor` may see of `notifiers`, values masked where they may not edit:
    /// the rights are asked once per owner, not once per notifier.
    async fn seen_by(&self, actor: &Actor, notifiers: Vec<Notifier>) -> Result<Vec<Notifier>, AppError> {
        actor.require()?;
        let (services, projects) =
            (policy::visible_services(&self.db, actor).await?, policy::visible_projects(&self.db, actor).await?);
        let me = actor.user_id();
        let mut editable: HashMap<OwnerColumns, bool> = HashMap::new();
        let mut out = Vec::new();
        for mut n in notifiers {
            let seen = match &n.owner {
                NotifierOwner::Site => actor.is_superuser(),
                NotifierOwner::Service { id, .. } => services.as_ref().is_none_or(|v| v.contains(id)),
                NotifierOwner::Project { id, .. } => projects.as_ref().is_none_or(|v| v.contains(id)),
                NotifierOwner::User { id, .. } => actor.is_superuser() || me == Some(*id),
            };
            if !seen {
                continue;
            }
            let key = owner_columns(&n.owner);
            let may_edit = match editable.get(&key) {
                Some(&may) => may,
                None => {
                    let may = self.require_edit(actor, &n.owner).await.is_ok();
                    editable.insert(key, may);
                    may
                }
            };
            if !may_edit {
                n.value = masked_value(n.kind, &n.value);
            }
            out.push(n);
        }
        Ok(out)
    }

    pub async fn get(&self, id: NotifierId) -> Result<Notifier, AppError> {
        self.rows("n.id = $1", id.0).await?.pop().ok_or_else(|| AppError::NotFound(format!("notifier {id}")))
    }

    /// An owner's notifiers, for its page.
    pub async fn listing(&self, actor: &Actor, owner: &NotifierOwner) -> Result<NotifierListing, AppError> {
        actor.require()?;
        match owner {
            // A user's own notifiers are theirs (and the admins') to see.
            NotifierOwner::User { .. } => self.require_edit(actor, owner).await?,
            NotifierOwner::Service { id, .. } => {
                policy::check(&self.db, actor, Action::View, Object::Service(*id), "see these notifiers").await?
            }
            NotifierOwner::Project { id, .. } => {
                policy::check(&self.db, actor, Action::View, Object::Project(*id), "see these notifiers").await?
            }
            NotifierOwner::Site => actor.require()?,
        }
        let filter = match owner {
            NotifierOwner::Site => "n.service_id IS NULL AND n.project_id IS NULL AND n.user_id IS NULL AND $1 = $1",
            NotifierOwner::Service { .. } => "n.service_id = $1",
            NotifierOwner::Project { .. } => "n.project_id = $1",
            NotifierOwner::User { .. } => "n.user_id = $1",
        };
        let mut notifiers = self.rows(filter, owner.id()).await?;
        let me = actor.user_id().map(|u| u.0.to_string());
        let subscribed = notifiers.iter().any(|n| n.kind == NotifierKind::User && Some(&n.value) == me.as_ref());
        let can_edit = self.require_edit(actor, owner).await.is_ok();
        // A user notifier holds the user's id: the list names them (the alias is what a list
        // shows when there is one), all in one query.
        let names: HashMap<i64, String> = sqlx::query_as(&format!(
            "SELECT n.id, u.username FROM notifier n JOIN users u ON CAST(u.id AS TEXT) = n.value \
             WHERE n.kind = 'user' AND ({filter})"
        ))
        .bind(owner.id())
        .fetch_all(&self.db.pool)
        .await?
        .into_iter()
        .collect();
        for n in &mut notifiers {
            n.subscriber = names.get(&n.id.0).cloned();
        }
        if !can_edit {
            // The value (a webhook URL, a routing key, an address) is for those who may edit.
            for n in &mut notifiers {
                n.value = masked_value(n.kind, &n.value);
            }
        }
        // Asked only where a subscription is offered (services and projects).
        let subscribable = matches!(owner, NotifierOwner::Service { .. } | NotifierOwner::Project { .. });
        let own_notifiers = match actor.user_id().filter(|_| subscribable) {
            Some(me) => {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM notifier WHERE user_id = $1 AND enabled = 1 AND kind <> 'user'",
                )
                .bind(me.0)
                .fetch_one(&self.db.pool)
                .await?;
                n
            }
            None => 0,
        };
        Ok(NotifierListing { can_edit, notifiers, subscribed, own_notifiers })
    }

    /// Notifiers whose alias or masked target contains `query` (see
    /// [`crate::backend::Backend::search`]), of owners the caller may read; users' own
    /// notifiers only for themselves and site admins. They are matched on what every reader
    /// of them sees, never on the secret: a search that matched webhook paths or keys would
    /// tell them one guess at a time, also through the size of a compressed page. Every
    /// notifier is read (the masked text is made here, not in SQL); a site has hundreds.
    pub async fn search(
        &self,
        actor: &Actor,
        readable: &policy::Readable,
        query: &str,
    ) -> Result<Vec<SearchHit>, AppError> {
        type Row = (String, String, String, Option<i64>, Option<String>, Option<i64>, Option<String>, Option<i64>);
        let me = actor.user_id().map(|u| u.0).unwrap_or(0);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT n.kind, n.value, n.alias, sv.id, sv.name, p.id, p.name, n.user_id FROM notifier n \
             LEFT JOIN service sv ON sv.id = n.service_id LEFT JOIN project p ON p.id = n.project_id \
             WHERE n.kind <> 'user' AND (n.user_id IS NULL OR $1 = 1 OR n.user_id = $2) ORDER BY n.id",
        )
        .bind(i64::from(actor.is_superuser()))
        .bind(me)
        .fetch_all(&self.db.pool)
        .await?;
        let needle = query.to_lowercase();
        Ok(rows
            .into_iter()
            .filter_map(|(kind, value, alias, sv, sv_name, p, p_name, user)| {
                let masked = masked_value(NotifierKind::parse(&kind)?, &value);
                let shown = if alias.trim().is_empty() { masked } else { format!("{alias} ({masked})") };
                if !shown.to_lowercase().contains(&needle) && !kind.contains(&needle) {
                    return None;
                }
                let (href, owner) = match (sv, p) {
                    (_, Some(p)) if readable.project(ProjectId(p)) => {
                        (format!("/project/{p}#notifiers"), format!("project {}", p_name.unwrap_or_default()))
                    }
                    (Some(s), None) if readable.service(ServiceId(s)) => {
                        (format!("/service/{s}#notifiers"), format!("service {}", sv_name.unwrap_or_default()))
                    }
                    (None, None) if user.is_some() => ("/profile#notifiers".to_string(), "a user".to_string()),
                    (None, None) => ("/site#notifiers".to_string(), "the site".to_string()),
                    _ => return None,
                };
                Some(SearchHit::Notifier { href, kind, target: shown, owner })
            })
            .take(crate::backend::SEARCH_LIMIT as usize)
            .collect())
    }

    /// Checks and normalizes a value for its kind: a URL must be http(s) and (unless allowed)
    /// public; a user is named and stored by id.
    async fn clean_value(&self, kind: NotifierKind, value: &str) -> Result<String, AppError> {
        let v = crate::model::validate::text("value", value, crate::model::validate::MAX_URL)?;
        let v = v.as_str();
        if v.is_empty() {
            return Err(AppError::invalid("value", format!("give the {}", kind.value_help())));
        }
        match kind {
            NotifierKind::Email => email_address("value", v),
            NotifierKind::Slack | NotifierKind::Webhook | NotifierKind::Alertmanager => {
                let allow = self.senders.settings().allow_private;
                let url = guard::check_url(v, allow).map_err(|e| AppError::invalid("value", e))?;
                if !allow && let Some(host) = url.host_str() {
                    // A name that resolves to private addresses now is refused now; the sender
                    // checks again at every connection.
                    if let Ok(addrs) = tokio::net::lookup_host((host, 0)).await {
                        let addrs: Vec<_> = addrs.collect();
                        if !addrs.is_empty() && addrs.iter().all(|a| !guard::is_public(a.ip())) {
                            return Err(AppError::invalid(
                                "value",
                                format!("{host} resolves only to private or reserved addresses"),
                            ));
                        }
                    }
                }
                Ok(url.to_string())
            }
            NotifierKind::Pagerduty => {
                let key = senders::pagerduty_key(v);
                if key.len() == 32 && key.chars().all(|c| c.is_ascii_alphanumeric()) {
                    Ok(v.to_string())
                } else {
                    Err(AppError::invalid("value", "a PagerDuty integration key is 32 letters and digits"))
                }
            }
            NotifierKind::User => {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM users WHERE username = $1 OR CAST(id AS TEXT) = $1")
                        .bind(v)
                        .fetch_optional(&self.db.pool)
                        .await?;
                row.map(|r| r.0.to_string()).ok_or_else(|| AppError::invalid("value", format!("no user {v:?}")))
            }
        }
    }

    /// Adds a notifier to `owner`; the same one twice is the same notifier (Promgen's
    /// get-or-create).
    pub async fn create(
        &self,
        actor: &Actor,
        owner: &NotifierOwner,
        input: NotifierInput,
    ) -> Result<Notifier, AppError> {
        self.require_edit(actor, owner).await?;
        let kind = NotifierKind::parse(&input.kind)
            .ok_or_else(|| AppError::invalid("kind", format!("{:?} is not a kind of notifier", input.kind)))?;
        if kind == NotifierKind::User && matches!(owner, NotifierOwner::User { .. } | NotifierOwner::Site) {
            return Err(AppError::invalid("kind", "a user notifier subscribes a user to a service or project"));
        }
        let value = self.clean_value(kind, &input.value).await?;
        self.check_texts(&input.alias, &input.subject_template, &input.body_template).await?;
        if input.filters.len() > crate::model::validate::MAX_LABELS {
            let max = crate::model::validate::MAX_LABELS;
            return Err(AppError::invalid("filters", format!("at most {max} filters")));
        }
        for (name, value) in &input.filters {
            filter(name, value)?;
        }
        let enabled = input.enabled.unwrap_or(true);
        let (service, project, user) = owner_columns(owner);
        let existing: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM notifier WHERE kind = $1 AND value = $2 AND service_id IS NOT DISTINCT FROM $3 \
             AND project_id IS NOT DISTINCT FROM $4 AND user_id IS NOT DISTINCT FROM $5",
        )
        .bind(kind.as_str())
        .bind(&value)
        .bind(service)
        .bind(project)
        .bind(user)
        .fetch_optional(&self.db.pool)
        .await?;
        if let Some((id,)) = existing {
            return self.get(NotifierId(id)).await;
        }
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO notifier (kind, value, alias, service_id, project_id, user_id, created_by, subject_template, body_template, enabled) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(kind.as_str())
        .bind(&value)
        .bind(input.alias.trim())
        .bind(service)
        .bind(project)
        .bind(user)
        .bind(actor.user_id().map(|u| u.0))
        .bind(input.subject_template.trim())
        .bind(input.body_template.trim())
        .bind(i64::from(enabled))
        .fetch_one(&mut *tx)
        .await?;
        for (name, value) in &input.filters {
            sqlx::query(
                "INSERT INTO notifier_filter (notifier_id, name, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(name.trim())
            .bind(value.trim())
            .execute(&mut *tx)
            .await?;
        }
        let n = Notifier {
            id: NotifierId(id),
            kind,
            value,
            alias: input.alias.trim().into(),
            subscriber: None,
            owner: owner.clone(),
            enabled,
            filters: Vec::new(),
            subject_template: input.subject_template.trim().into(),
            body_template: input.body_template.trim().into(),
            created_by: match actor {
                Actor::User(u) => Some(u.username.clone()),
                _ => None,
            },
        };
        let body = format!("Created notifier {} {} for {}", kind.as_str(), audited(&n).label(), owner.describe());
        audit::record(&mut tx, actor, &body, subject(&n), None::<&()>, Some(&audited(&n))).await?;
        tx.commit().await?;
        if input.filters.is_empty() { Ok(n) } else { self.get(n.id).await }
    }

    pub async fn set_enabled(&self, actor: &Actor, id: NotifierId, enabled: bool) -> Result<Notifier, AppError> {
        let old = self.get(id).await?;
        self.require_edit(actor, &old.owner).await?;
        let new = Notifier { enabled, ..old.clone() };
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE notifier SET enabled = $1 WHERE id = $2")
            .bind(i64::from(enabled))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let body = format!(
            "{} notifier {} {}",
            if enabled { "Enabled" } else { "Disabled" },
            old.kind.as_str(),
            audited(&old).label()
        );
        audit::record(&mut tx, actor, &body, subject(&old), Some(&audited(&old)), Some(&audited(&new))).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Changes a notifier's alias and message templates (empty: Promgen's messages).
    pub async fn update(
        &self,
        actor: &Actor,
        id: NotifierId,
        alias: &str,
        subject_template: &str,
        body_template: &str,
    ) -> Result<Notifier, AppError> {
        let old = self.get(id).await?;
        self.require_edit(actor, &old.owner).await?;
        self.check_texts(alias, subject_template, body_template).await?;
        let new = Notifier {
            alias: alias.trim().into(),
            subject_template: subject_template.trim().into(),
            body_template: body_template.trim().into(),
            ..old.clone()
        };
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE notifier SET alias = $1, subject_template = $2, body_template = $3 WHERE id = $4")
            .bind(&new.alias)
            .bind(&new.subject_template)
            .bind(&new.body_template)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let body = format!("Updated notifier {} {}", old.kind.as_str(), audited(&new).label());
        audit::record(&mut tx, actor, &body, subject(&old), Some(&audited(&old)), Some(&audited(&new))).await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn delete(&self, actor: &Actor, id: NotifierId) -> Result<NotifierOwner, AppError> {
        let old = self.get(id).await?;
        self.require_edit(actor, &old.owner).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM notifier WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let body = format!("Deleted notifier {} {}", old.kind.as_str(), audited(&old).label());
        audit::record(&mut tx, actor, &body, subject(&old), Some(&audited(&old)), None::<&()>).await?;
        tx.commit().await?;
        Ok(old.owner)
    }

    /// Only alerts whose common label `name` is `value` pass (any one filter of a notifier).
    pub async fn add_filter(
        &self,
        actor: &Actor,
        id: NotifierId,
        name: &str,
        value: &str,
    ) -> Result<Notifier, AppError> {
        let n = self.get(id).await?;
        self.require_edit(actor, &n.owner).await?;
        filter(name, value)?;
        let mut tx = self.db.begin().await?;
        let added = sqlx::query(
            "INSERT INTO notifier_filter (notifier_id, name, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(id.0)
        .bind(name.trim())
        .bind(value.trim())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        // A filter it has already is no change (Promgen's get_or_create): nothing to audit.
        if added > 0 {
            let body = format!("Added filter {}={} to notifier {}", name.trim(), value.trim(), audited(&n).label());
            audit::record(&mut tx, actor, &body, subject(&n), None::<&()>, Some(&(name, value))).await?;
        }
        tx.commit().await?;
        self.get(id).await
    }

    pub async fn delete_filter(&self, actor: &Actor, filter: NotifierFilterId) -> Result<Notifier, AppError> {
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT notifier_id, name, value FROM notifier_filter WHERE id = $1")
                .bind(filter.0)
                .fetch_optional(&self.db.pool)
                .await?;
        let Some((id, name, value)) = row else { return Err(AppError::NotFound(format!("filter {filter}"))) };
        let n = self.get(NotifierId(id)).await?;
        self.require_edit(actor, &n.owner).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM notifier_filter WHERE id = $1").bind(filter.0).execute(&mut *tx).await?;
        let body = format!("Removed filter {name}={value} from notifier {}", audited(&n).label());
        audit::record(&mut tx, actor, &body, subject(&n), Some(&(name, value)), None::<&()>).await?;
        tx.commit().await?;
        self.get(NotifierId(id)).await
    }

    /// Subscribes the caller to a service or project: alerts there reach their own notifiers.
    /// A user with an email address and no notifier gets an email notifier, as in Promgen.
    /// The services and projects the caller subscribed to, services first, by name.
    pub async fn subscriptions(&self, actor: &Actor) -> Result<Vec<Subscription>, AppError> {
        let Actor::User(me) = actor else { return Err(AppError::Unauthenticated) };
        let rows: Vec<(Option<i64>, Option<i64>, Option<String>)> = sqlx::query_as(
            "SELECT n.service_id, n.project_id, COALESCE(s.name, p.name) AS name FROM notifier n \
             LEFT JOIN service s ON s.id = n.service_id LEFT JOIN project p ON p.id = n.project_id \
             WHERE n.kind = 'user' AND n.value = $1 ORDER BY n.service_id IS NULL, name",
        )
        .bind(me.id.0.to_string())
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(service, project, name)| {
                let (owner_kind, owner_id) = match (service, project) {
                    (Some(s), _) => ("service", s),
                    (_, Some(p)) => ("project", p),
                    _ => return None,
                };
                Some(Subscription { owner_kind: owner_kind.into(), owner_id, name: name.unwrap_or_default() })
            })
            .collect())
    }

    pub async fn subscribe(&self, actor: &Actor, owner: &NotifierOwner, on: bool) -> Result<(), AppError> {
        let Actor::User(me) = actor else { return Err(AppError::Unauthenticated) };
        if !matches!(owner, NotifierOwner::Service { .. } | NotifierOwner::Project { .. }) {
            return Err(AppError::invalid("owner_kind", "subscribe to a service or a project"));
        }
        // Only to what one holds a role on: a user left without one loses their subscriptions
        // (`roles`), and may not make new ones.
        if on {
            let object = match owner {
                NotifierOwner::Service { id, .. } => Object::Service(*id),
                NotifierOwner::Project { id, .. } => Object::Project(*id),
                _ => unreachable!("checked above"),
            };
            policy::check(&self.db, actor, Action::View, object, "subscribe to this").await?;
        }
        let (service, project, _) = owner_columns(owner);
        let me_value = me.id.0.to_string();
        let mut tx = self.db.begin().await?;
        let verb = if on {
            let (existing,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM notifier WHERE kind = 'user' AND value = $1 \
                 AND service_id IS NOT DISTINCT FROM $2 AND project_id IS NOT DISTINCT FROM $3",
            )
            .bind(&me_value)
            .bind(service)
            .bind(project)
            .fetch_one(&mut *tx)
            .await?;
            if existing > 0 {
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO notifier (kind, value, service_id, project_id, created_by) VALUES ('user', $1, $2, $3, $4)",
            )
            .bind(&me_value)
            .bind(service)
            .bind(project)
            .bind(me.id.0)
            .execute(&mut *tx)
            .await?;
            let (email, own): (String, i64) = sqlx::query_as(
                "SELECT u.email, (SELECT COUNT(*) FROM notifier n WHERE n.user_id = u.id) FROM users u WHERE u.id = $1",
            )
            .bind(me.id.0)
            .fetch_one(&mut *tx)
            .await?;
            if own == 0 && email.contains('@') {
                sqlx::query("INSERT INTO notifier (kind, value, user_id, created_by) VALUES ('email', $1, $2, $2)")
                    .bind(&email)
                    .bind(me.id.0)
                    .execute(&mut *tx)
                    .await?;
            }
            "subscribed to"
        } else {
            let gone = sqlx::query(
                "DELETE FROM notifier WHERE kind = 'user' AND value = $1 \
                 AND service_id IS NOT DISTINCT FROM $2 AND project_id IS NOT DISTINCT FROM $3",
            )
            .bind(&me_value)
            .bind(service)
            .bind(project)
            .execute(&mut *tx)
            .await?;
            // Not subscribed: nothing changed, nothing to record.
            if gone.rows_affected() == 0 {
                return Ok(());
            }
            "unsubscribed from"
        };
        let s = Subject::new("notifier", 0).under(owner.kind(), owner.id());
        let body = format!("{} {verb} {}", me.username, owner.describe());
        audit::record(&mut tx, actor, &body, s, None::<&()>, None::<&()>).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends Promgen's sample alert through a notifier now and says how it went (a user
    /// notifier: through each of that user's notifiers).
    pub async fn test(&self, actor: &Actor, id: NotifierId, site_url: &str) -> Result<String, AppError> {
        let n = self.get(id).await?;
        self.require_edit(actor, &n.owner).await?;
        let mut sample: WebhookMessage =
            serde_json::from_str(include_str!("../../../fixtures/promgen/alertmanager.json"))
                .map_err(|e| AppError::fault("reading Promgen's sample alert", e))?;
        // The sample speaks of the notifier's own service or project, as Promgen's does.
        let named = match &n.owner {
            NotifierOwner::Service { name, .. } => Some(("service", name.clone())),
            NotifierOwner::Project { name, .. } => Some(("project", name.clone())),
            _ => None,
        };
        if let Some((label, name)) = named {
            sample.common_labels.insert(label.into(), name.clone());
            for a in &mut sample.alerts {
                a.labels.insert(label.into(), name.clone());
            }
        }
        let targets = if n.kind == NotifierKind::User {
            let user: i64 = n.value.parse().unwrap_or(-1);
            self.rows("n.user_id = $1 AND n.enabled = 1 AND n.kind <> 'user'", user).await?
        } else {
            vec![n.clone()]
        };
        if targets.is_empty() {
            return Err(AppError::invalid("", "that user has no enabled notifier to test"));
        }
        let mut report = Vec::new();
        // Through a user notifier these are that user's own: the receivers' words are theirs.
        let own = n.kind != NotifierKind::User;
        for t in &targets {
            let texts = message::Texts::of(&t.subject_template, &t.body_template);
            match self.senders.send(t.kind, &t.value, &texts, &sample, site_url).await {
                // Through a user notifier, these are that user's own: shown masked.
                Ok(()) => report.push(format!("Sent a test message with {} {}", t.kind.as_str(), t.public_label())),
                // About the send, not a field of a form ("Value: Sending … failed").
                Err(e) => {
                    return Err(AppError::invalid(
                        "",
                        format!(
                            "Sending a test message with {} {} failed: {}",
                            t.kind.as_str(),
                            t.public_label(),
                            if own { e.full() } else { e.message.clone() }
                        ),
                    ));
                }
            }
        }
        Ok(report.join("; "))
    }
}

fn subject(n: &Notifier) -> Subject<'static> {
    Subject::new("notifier", n.id.0).under(n.owner.kind(), n.owner.id())
}

/// A filter: its label name ([`filter_name`]) and a value. An empty value matches no alert
/// (routing compares the label's value), and Promgen's filter requires one too.
fn filter(name: &str, value: &str) -> Result<(), AppError> {
    filter_name(name)?;
    if value.trim().is_empty() {
        return Err(AppError::invalid("value", crate::model::validate::REQUIRED));
    }
    crate::model::validate::text("value", value, crate::model::validate::MAX_LABEL_VALUE)?;
    Ok(())
}

/// A filter's label name: text without spaces, at most 128 characters (Promgen's
/// `Filter.name`; its REST clients send names such as `test-name`, which simply match no
/// Prometheus label).
fn filter_name(name: &str) -> Result<(), AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", crate::model::validate::REQUIRED));
    }
    if name.chars().count() > 128 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid(
            "name",
            format!("{name:?} is not a label name: no spaces, at most 128 characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{filter, filter_name};
    use crate::error::AppError;

    /// An empty filter name is missing, not a bad name; the others name what is wrong.
    #[test]
    fn filter_names_say_what_is_wrong() {
        let message = |name: &str| match filter_name(name) {
            Err(AppError::Invalid(f)) => (f.field, f.message),
            other => panic!("{name:?}: {other:?}"),
        };
        assert_eq!(message("  "), ("name".to_string(), "is required".to_string()));
        assert!(message("two words").1.contains("no spaces"));
        assert!(message(&"x".repeat(129)).1.contains("at most 128"));
        assert!(filter_name("test-name").is_ok());
    }

    /// A filter needs a value, wherever it is made (a row's form, REST's `filters`).
    #[test]
    fn a_filter_needs_a_value() {
        let Err(AppError::Invalid(f)) = filter("env", " ") else { panic!("an empty value was taken") };
        assert_eq!((f.field.as_str(), f.message.as_str()), ("value", "is required"));
        assert!(filter("env", "prod").is_ok());
    }
}
