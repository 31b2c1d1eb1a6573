//! Silences and the alerts Alertmanager holds, as Promgen does them (spec section 5): who may
//! silence what, what a silence must say, and the lists each viewer may see.
//!
//! - A silence needs matchers Alertmanager takes and at least one that needs a value (one that
//!   matches every alert is refused), and a duration (`30m`, `1h30m`) or a start and an end.
//! - Site admins may silence anything. Others must name a `service` or `project` (Promgen's
//!   rule), plainly enough that Alertmanager cannot read it more widely ([`strict_selection`]),
//!   and may edit every project it selects; with no `project` matcher, every service.
//!   Expiring or replacing a silence asks the same of the silence's own matchers.
//! - Lists show a viewer what touches the services and projects they may see; the alerts
//!   carry Promgen's warnings when their `service` and `project` labels disagree.

use super::alertmanager::{Alertmanagers, AmError};
use super::audit::{self, Subject};
use super::{Actor, Db, policy};
use crate::error::AppError;
use crate::model::silences::*;
use crate::model::{Action, Object, ProjectId, ServiceId};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

/// Promgen's default comment.
pub const DEFAULT_COMMENT: &str = "Silenced from Promgen";
/// The longest comment taken, in characters.
const MAX_COMMENT: usize = 4000;
/// Promgen's words (its `STARTENDTIME`) for a window with one of its two ends, kept for the
/// proxy and REST callers that read them.
pub const START_END_REQUIRED: &str = "Both start and end are required.";
/// Promgen's words (its `STARTENDMISMATCH`) for a window that ends before it starts.
pub const START_END_MISMATCHED: &str = "Start time and end time are mismatched.";
/// The largest compiled form of a matcher's regex (bytes), so a hostile one cannot eat memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The most services or projects a silence's audit entry is filed under, one entry each; a
/// silence that selects more is filed under none (site admins read it).
const MAX_AUDITED_OBJECTS: usize = 20;

/// When a silence holds: for a duration from now, for a duration from a start, or from a start
/// to an end.
#[derive(Clone, Debug, PartialEq)]
pub enum Window {
    For(String),
    /// A start and a duration (the silence form's "From" with "For" and no "Until").
    ForFrom(String, String),
    Between(String, String),
    /// From now to an end (the form's "Until" with "From" empty).
    Until(String),
}

#[derive(Clone)]
pub struct Silences {
    db: Db,
    ams: Alertmanagers,
}

/// The services and projects matchers can name.
struct Catalog {
    projects: Vec<(ProjectId, String, ServiceId)>,
    services: Vec<(ServiceId, String)>,
}

/// What a viewer may see and edit, read once per listing instead of once per silence.
struct Rights {
    /// A site admin: everything.
    all: bool,
    /// `None`: every one (open read access).
    projects: Option<std::collections::HashSet<ProjectId>>,
    services: Option<std::collections::HashSet<ServiceId>>,
    /// Edit rights asked so far.
    editable: std::collections::HashMap<Object, bool>,
}

impl Rights {
    async fn of(db: &Db, actor: &Actor) -> Result<Rights, AppError> {
        // Site admins see every one (`None`), without asking.
        Ok(Rights {
            all: actor.is_superuser(),
            projects: policy::visible_projects(db, actor).await?.map(|v| v.into_iter().collect()),
            services: policy::visible_services(db, actor).await?.map(|v| v.into_iter().collect()),
            editable: Default::default(),
        })
    }

    /// Whether a silence touches a service or project the viewer may see.
    fn may_see(&self, catalog: &Catalog, matchers: &[Matcher]) -> bool {
        if self.all {
            return true;
        }
        let Ok(affected) = affected(catalog, matchers) else { return false };
        affected.projects.iter().any(|(id, _)| self.projects.as_ref().is_none_or(|v| v.contains(id)))
            || affected.services.iter().any(|(id, _)| self.services.as_ref().is_none_or(|v| v.contains(id)))
    }
}

/// What a silence's matchers select among the services and projects.
#[derive(Debug, Default)]
struct Affected {
    projects: Vec<(ProjectId, String)>,
    services: Vec<(ServiceId, String)>,
}

impl Silences {
    pub fn new(db: Db, ams: Alertmanagers) -> Silences {
        Silences { db, ams }
    }

    /// Whether any Alertmanager is configured.
    pub fn configured(&self) -> bool {
        !self.ams.is_empty()
    }

    fn require_configured(&self) -> Result<(), AppError> {
        if self.configured() {
            Ok(())
        } else {
            Err(AppError::Unavailable("no Alertmanager is configured: start the server with --alertmanager-url".into()))
        }
    }

    /// Checks and sends a silence to every Alertmanager (`id`: replace that one, as
    /// Alertmanager's update does). `createdBy` is the actor's username.
    pub async fn create(
        &self,
        actor: &Actor,
        matchers: Vec<Matcher>,
        window: &Window,
        comment: &str,
        id: Option<&str>,
    ) -> Result<SilenceMade, AppError> {
        let created_by = match actor {
            Actor::User(u) => u.username.clone(),
            Actor::System => "promgen".to_string(),
            Actor::Anonymous => return Err(AppError::Unauthenticated),
        };
        check_matchers(&matchers).and_then(|()| check_sent(&matchers)).map_err(|m| AppError::invalid("matchers", m))?;
        self.refuse_global_silence(&matchers).await?;
        let (starts, ends) = resolve(window, Utc::now())?;
        let comment = crate::model::validate::text("comment", comment, MAX_COMMENT)?;
        let comment = if comment.is_empty() { DEFAULT_COMMENT } else { comment.as_str() };
        self.authorize(actor, &matchers, "silence these alerts").await?;
        self.require_configured()?;
        // Replacing a silence ends the old one: as much a change of it as expiring it.
        let (mut replaced, mut before) = (None, Vec::new());
        if let Some(old) = id.filter(|i| !i.is_empty()) {
            check_silence_id(old)?;
            let held = self.ams.silence(old).await.map_err(|e| am_refusal(Some(e), "read the silence", "id"))?;
            let held = held.ok_or_else(|| AppError::NotFound(format!("silence {old}")))?;
            before = serde_json::from_value(held["matchers"].clone()).unwrap_or_default();
            self.authorize_held(actor, &before, "replace").await?;
            replaced = Some(held);
        }
        let mut body = json!({
            "matchers": matchers,
            "startsAt": starts.to_rfc3339(),
            "endsAt": ends.to_rfc3339(),
            "createdBy": created_by,
            "comment": comment,
        });
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            body["id"] = Value::String(id.to_string());
        }
        let mut made = SilenceMade {
            matchers: format_matchers(&matchers),
            starts_at: starts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ends_at: ends.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ..SilenceMade::default()
        };
        let mut refusal = None;
        for (am, answer) in self.ams.post_silence(&body).await {
            match answer {
                Ok(id) => made.ids.push(id),
                Err(e) => {
                    made.warnings.push(format!("Alertmanager at {am} {e}"));
                    refusal.get_or_insert(e);
                }
            }
        }
        if made.ids.is_empty() {
            return Err(am_refusal(refusal, "make the silence", "matchers"));
        }
        tracing::info!(by = %created_by, matchers = %format_matchers(&matchers), ids = ?made.ids, "silence made");
        // A replacement ends the old silence (unless over already): recorded where that one
        // was, with what it was (which those who see only the new one's objects may not read).
        if let Some(held) = replaced.as_ref().filter(|h| h["status"]["state"] != "expired") {
            let body = format!("Replaced the silence matching {}", format_matchers(&before));
            self.audit(actor, &body, &before, Some(&audited(held)), None).await;
        }
        let body = format!(
            "Silenced alerts matching {} until {}",
            format_matchers(&matchers),
            ends.format("%Y-%m-%d %H:%M UTC")
        );
        // Times as Alertmanager writes them (the expired entry's are its).
        let new = json!({
            "ids": made.ids,
            "matchers": made.matchers,
            "startsAt": made.starts_at,
            "endsAt": made.ends_at,
            "comment": comment,
        });
        self.audit(actor, &body, &matchers, None, Some(&new)).await;
        Ok(made)
    }

    /// Expires silence `id` on every Alertmanager that holds it, if `actor` may silence what it
    /// matches.
    pub async fn expire(&self, actor: &Actor, id: &str) -> Result<(), AppError> {
        self.may_silence_something(actor, "expire silences").await?;
        check_silence_id(id)?;
        self.require_configured()?;
        let silence = self
            .ams
            .silence(id)
            .await
            .map_err(|e| am_refusal(Some(e), "read the silence", "id"))?
            .ok_or_else(|| AppError::NotFound(format!("silence {id}")))?;
        let matchers: Vec<Matcher> = serde_json::from_value(silence["matchers"].clone()).unwrap_or_default();
        self.authorize_held(actor, &matchers, "expire").await?;
        // Over already: nothing changes, nothing is recorded.
        if silence["status"]["state"] == "expired" {
            return Ok(());
        }
        let answers = self.ams.expire(id).await;
        if answers.iter().any(|(_, r)| r.is_ok()) {
            // Alertmanagers that do not gossip (one per shard) each gave the silence an id of
            // their own: its twins there go with it.
            let key = twin_key(&silence);
            for (raw, _) in self.ams.silences().await.items.into_iter().filter(|_| key.is_some()) {
                let twin = raw["id"].as_str().filter(|t| *t != id && raw["status"]["state"] != "expired");
                if let Some(twin) = twin.filter(|_| twin_key(&raw) == key) {
                    self.ams.expire(twin).await;
                }
            }
            tracing::info!(id, "silence expired");
            let body = format!("Expired the silence matching {}", format_matchers(&matchers));
            // Expired is ended now, not deleted: the log shows its end move.
            let mut ended = audited(&silence);
            ended["endsAt"] = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true).into();
            self.audit(actor, &body, &matchers, Some(&audited(&silence)), Some(&ended)).await;
            return Ok(());
        }
        let refusal = answers.into_iter().filter_map(|(_, r)| r.err()).find(|e| !matches!(e, AmError::Status(404, _)));
        match refusal {
            Some(e) => Err(am_refusal(Some(e), "expire the silence", "id")),
            None => Err(AppError::NotFound(format!("silence {id}"))),
        }
    }

    /// The active and pending silences the viewer may see, soonest ending first. Twins in
    /// Alertmanagers that do not gossip ([`twin_key`]) are one silence to a user.
    pub async fn list(&self, actor: &Actor) -> Result<SilenceList, AppError> {
        actor.require()?;
        let may_silence = policy::edits_anything(&self.db, actor).await?;
        if !self.configured() {
            return Ok(SilenceList { unconfigured: true, may_silence, ..Default::default() });
        }
        let merged = self.ams.silences().await;
        let catalog = self.catalog().await?;
        let mut rights = Rights::of(&self.db, actor).await?;
        let mut silences: Vec<Silence> = Vec::new();
        let mut twins: std::collections::HashMap<TwinKey, usize> = std::collections::HashMap::new();
        for (raw, holders) in merged.items {
            let Some(s) = read_silence(&raw, holders) else { continue };
            if s.state == SilenceState::Expired || !rights.may_see(&catalog, &s.matchers) {
                continue;
            }
            if let Some(&i) = twin_key(&raw).and_then(|k| twins.get(&k)) {
                silences[i].alertmanagers.extend(s.alertmanagers);
                continue;
            }
            if let Some(k) = twin_key(&raw) {
                twins.insert(k, silences.len());
            }
            let may_expire = self.may_silence(actor, &mut rights, &catalog, &s.matchers).await?;
            silences.push(Silence { may_expire, ..s });
        }
        for s in &mut silences {
            s.alertmanagers.sort();
            s.alertmanagers.dedup();
        }
        silences.sort_by(|a, b| a.ends_at.cmp(&b.ends_at).then_with(|| a.id.cmp(&b.id)));
        Ok(SilenceList { unconfigured: false, silences, warnings: merged.warnings, may_silence })
    }

    /// Promgen's `/proxy/v1/silences`: Alertmanager's silences as it sends them, merged, those
    /// the viewer may see (site admins: all).
    pub async fn raw_list(&self, actor: &Actor) -> Result<Vec<Value>, AppError> {
        actor.require()?;
        self.require_configured()?;
        let merged = self.ams.silences().await;
        if merged.items.is_empty() && !merged.warnings.is_empty() {
            return Err(AppError::Unavailable(merged.warnings.join("; ")));
        }
        let catalog = self.catalog().await?;
        let rights = Rights::of(&self.db, actor).await?;
        let mut out = Vec::new();
        for (raw, _) in merged.items {
            let matchers: Vec<Matcher> = serde_json::from_value(raw["matchers"].clone()).unwrap_or_default();
            if rights.may_see(&catalog, &matchers) {
                out.push(raw);
            }
        }
        Ok(out)
    }

    /// The alerts the Alertmanagers hold now that the viewer may see, with Promgen's warnings.
    pub async fn alerts(&self, actor: &Actor) -> Result<HeldAlerts, AppError> {
        actor.require()?;
        if !self.configured() {
            return Ok(HeldAlerts { unconfigured: true, ..Default::default() });
        }
        let (raw, warnings) = self.visible_alerts(actor).await?;
        let alerts = raw.iter().filter_map(read_alert).collect();
        let may_silence = policy::edits_anything(&self.db, actor).await?;
        Ok(HeldAlerts { unconfigured: false, alerts, warnings, may_silence })
    }

    /// Promgen's `/proxy/v1/alerts`: Alertmanager's alerts as it sends them, those the viewer may
    /// see, each with `promgen.warnings`.
    pub async fn raw_alerts(&self, actor: &Actor) -> Result<Vec<Value>, AppError> {
        actor.require()?;
        self.require_configured()?;
        let (alerts, warnings) = self.visible_alerts(actor).await?;
        if alerts.is_empty() && !warnings.is_empty() {
            return Err(AppError::Unavailable(warnings.join("; ")));
        }
        Ok(alerts)
    }

    async fn visible_alerts(&self, actor: &Actor) -> Result<(Vec<Value>, Vec<String>), AppError> {
        let merged = self.ams.alerts().await;
        let catalog = self.catalog().await?;
        let rights = Rights::of(&self.db, actor).await?;
        let services: std::collections::HashMap<&str, ServiceId> =
            catalog.services.iter().map(|(id, n)| (n.as_str(), *id)).collect();
        let projects: std::collections::HashMap<&str, (ProjectId, ServiceId)> =
            catalog.projects.iter().map(|(id, n, sid)| (n.as_str(), (*id, *sid))).collect();
        let mut out = Vec::new();
        for (mut alert, _) in merged.items {
            let label = |k: &str| alert["labels"][k].as_str().map(str::to_string);
            let (service, project) = (label("service"), label("project"));
            let service_row = service.as_deref().and_then(|s| services.get(s).copied());
            let project_row = project.as_deref().and_then(|p| projects.get(p).copied());
            let visible = rights.services.is_none()
                || service_row.is_some_and(|id| rights.services.as_ref().is_some_and(|v| v.contains(&id)))
                || project_row.is_some_and(|(id, _)| rights.projects.as_ref().is_some_and(|v| v.contains(&id)));
            if !visible {
                continue;
            }
            let mut warnings = Vec::new();
            if service.is_some() && project.is_some() {
                match (project_row, service_row) {
                    (None, _) => warnings.push("Project from alert's labels is not found."),
                    (Some((_, sid)), Some(id)) if sid == id => {}
                    _ => warnings.push(
                        "The 'service' and 'project' labels do not match. This alert may originate from an unrelated Alert Rule.",
                    ),
                }
            }
            alert["promgen"] = json!({ "warnings": warnings });
            out.push(alert);
        }
        Ok((out, merged.warnings))
    }

    /// Promgen's GLOBALSILENCE: a site rule's alertname alone would silence it for everyone.
    async fn refuse_global_silence(&self, matchers: &[Matcher]) -> Result<(), AppError> {
        if matchers.iter().any(|m| m.name == "service" || m.name == "project") {
            return Ok(());
        }
        for m in matchers.iter().filter(|m| m.name == "alertname" && !m.is_regex && m.is_equal) {
            let site: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM rule WHERE name = $1 AND service_id IS NULL AND project_id IS NULL LIMIT 1",
            )
            .bind(&m.value)
            .fetch_optional(&self.db.pool)
            .await?;
            if site.is_some() {
                return Err(AppError::invalid("matchers", "Unable to silence global rules with alertname alone."));
            }
        }
        Ok(())
    }

    /// Refuses at once those who may silence nothing (no Editor or Admin role anywhere), before
    /// any Alertmanager is asked.
    async fn may_silence_something(&self, actor: &Actor, what: &str) -> Result<(), AppError> {
        actor.require()?;
        if policy::edits_anything(&self.db, actor).await? {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("{what}: that needs Editor or Admin on a service or project")))
        }
    }

    /// Refuses unless `actor` may silence what `matchers` select (read strictly, see
    /// [`strict_selection`]; site admins may silence anything).
    async fn authorize(&self, actor: &Actor, matchers: &[Matcher], what: &str) -> Result<(), AppError> {
        actor.require()?;
        if actor.is_superuser() {
            return Ok(());
        }
        let catalog = self.catalog().await?;
        let (selected, kind) = strict_selection(&catalog, matchers).map_err(|m| AppError::invalid("matchers", m))?;
        let mut refused = Vec::new();
        for (object, name) in &selected {
            if !policy::allows(&self.db, actor, Action::Edit, *object).await? {
                refused.push(name.to_string());
            }
        }
        if refused.is_empty() {
            return Ok(());
        }
        Err(AppError::Forbidden(if refused.len() > 20 {
            format!("{what}: you do not have permission to silence alerts for many ({}) {kind}", refused.len())
        } else {
            format!(
                "{what}: you do not have permission to silence alerts for the following {kind}: {}",
                refused.join(", ")
            )
        }))
    }

    /// [`Silences::authorize`] for a silence Alertmanager holds (`verb`: expire, replace): a
    /// refusal does not say what it matches, which one who knows only its id may not read.
    async fn authorize_held(&self, actor: &Actor, matchers: &[Matcher], verb: &str) -> Result<(), AppError> {
        // Matchers a non-admin could not have written (a negative service) are refused too.
        match self.authorize(actor, matchers, verb).await {
            Err(AppError::Forbidden(_) | AppError::Invalid(_)) => {
                Err(AppError::Forbidden(format!("{verb} this silence: it silences alerts you may not silence")))
            }
            other => other,
        }
    }

    /// Whether `actor` may expire a silence of `matchers` (what [`Silences::authorize`] asks),
    /// each object's answer asked once per listing.
    async fn may_silence(
        &self,
        actor: &Actor,
        rights: &mut Rights,
        catalog: &Catalog,
        matchers: &[Matcher],
    ) -> Result<bool, AppError> {
        if rights.all {
            return Ok(true);
        }
        let Ok((selected, _)) = strict_selection(catalog, matchers) else { return Ok(false) };
        for (object, _) in selected {
            let editable = match rights.editable.get(&object) {
                Some(known) => *known,
                None => {
                    let answer = policy::allows(&self.db, actor, Action::Edit, object).await?;
                    rights.editable.insert(object, answer);
                    answer
                }
            };
            if !editable {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Files a silence's making, replacing or ending in the audit log, under each service or
    /// project its matchers select: the projects a `project` matcher names, else the services
    /// (see [`MAX_AUDITED_OBJECTS`]). Alertmanager holds the change already: an entry that
    /// cannot be written is logged, not answered as a failure (a retry would make the silence
    /// twice).
    async fn audit(&self, actor: &Actor, body: &str, matchers: &[Matcher], old: Option<&Value>, new: Option<&Value>) {
        if let Err(e) = self.try_audit(actor, body, matchers, old, new).await {
            tracing::error!(error = %e, "the audit log did not take a silence's change");
        }
    }

    async fn try_audit(
        &self,
        actor: &Actor,
        body: &str,
        matchers: &[Matcher],
        old: Option<&Value>,
        new: Option<&Value>,
    ) -> Result<(), AppError> {
        let selected = affected(&self.catalog().await?, matchers).unwrap_or_default();
        let mut parents: Vec<(&str, i64)> = if matchers.iter().any(|m| m.name == "project") {
            selected.projects.iter().map(|(id, _)| ("project", id.0)).collect()
        } else {
            selected.services.iter().map(|(id, _)| ("service", id.0)).collect()
        };
        if parents.len() > MAX_AUDITED_OBJECTS {
            parents.clear();
        }
        let subjects: Vec<Subject> = if parents.is_empty() {
            vec![Subject::new("silence", 0)]
        } else {
            parents.into_iter().map(|(kind, id)| Subject::new("silence", 0).under(kind, id)).collect()
        };
        let mut tx = self.db.begin().await?;
        for subject in subjects {
            audit::record(&mut tx, actor, body, subject, old, new).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn catalog(&self) -> Result<Catalog, AppError> {
        let projects: Vec<(i64, String, i64)> =
            sqlx::query_as("SELECT id, name, service_id FROM project ORDER BY name").fetch_all(&self.db.pool).await?;
        let services: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM service ORDER BY name").fetch_all(&self.db.pool).await?;
        Ok(Catalog {
            projects: projects.into_iter().map(|(id, n, s)| (ProjectId(id), n, ServiceId(s))).collect(),
            services: services.into_iter().map(|(id, n)| (ServiceId(id), n)).collect(),
        })
    }
}

/// What the form's text bounds ([`MAX_MATCHERS_TEXT`]), also for matchers sent as JSON (the
/// proxy's): a silence's matchers are copied into lists and the audit log. Nor may a value
/// carry text-direction controls, which would make those read otherwise than they are.
fn check_sent(matchers: &[Matcher]) -> Result<(), String> {
    let written = matchers.iter().map(|m| m.to_string().len() + 2).sum::<usize>();
    if written > MAX_MATCHERS_TEXT {
        return Err(format!("at most {MAX_MATCHERS_TEXT} bytes of matchers (these are {written})"));
    }
    for m in matchers {
        if let Some(c) = m.value.chars().find(|&c| crate::model::validate::reorders(c)) {
            return Err(format!(
                "the value of {} may not contain text-direction controls like U+{:04X}",
                m.name, c as u32
            ));
        }
    }
    Ok(())
}

/// What the audit log keeps of a silence Alertmanager answered with: who made it, what it
/// matches, when and why.
fn audited(silence: &Value) -> Value {
    let matchers: Vec<Matcher> = serde_json::from_value(silence["matchers"].clone()).unwrap_or_default();
    json!({
        "id": silence["id"],
        "matchers": format_matchers(&matchers),
        "startsAt": silence["startsAt"],
        "endsAt": silence["endsAt"],
        "createdBy": silence["createdBy"],
        "comment": silence["comment"],
    })
}

/// The objects a silence selects, by name, and whether they are "projects" or "services".
type Selection = (Vec<(Object, String)>, &'static str);

/// What a non-admin's silence selects, read strictly so that Alertmanager (Go's RE2) cannot
/// read it more widely than this check does: every `service` and `project` matcher must be
/// positive and name its objects literally (`=` a name, or `=~` names separated by `|`), and
/// every name must exist. The projects selected (those named by every `project` matcher, in a
/// service named by every `service` matcher) or, without a `project` matcher, the services;
/// and which of the two it is. The error says what to write instead.
fn strict_selection(catalog: &Catalog, matchers: &[Matcher]) -> Result<Selection, String> {
    let named = |label: &str| -> Result<Option<std::collections::BTreeSet<String>>, String> {
        let mut set: Option<std::collections::BTreeSet<String>> = None;
        for m in matchers.iter().filter(|m| m.name == label) {
            if !m.is_equal {
                return Err(format!(
                    "the matcher {m}: a negative {label} matcher also silences every other {label}'s alerts; name the ones to silence"
                ));
            }
            let names: std::collections::BTreeSet<String> = if m.is_regex {
                literal_alternatives(&m.value).ok_or_else(|| {
                    format!("the matcher {m}: {label}=~ may only list names separated by |, e.g. {label}=~\"web|api\"")
                })?
            } else {
                [m.value.clone()].into()
            };
            if names.iter().any(String::is_empty) {
                return Err(format!("the matcher {m} also matches alerts without a {label} label"));
            }
            set = Some(match set {
                None => names,
                Some(before) => before.intersection(&names).cloned().collect(),
            });
        }
        Ok(set)
    };
    let (projects, services) = (named("project")?, named("service")?);
    if projects.is_none() && services.is_none() {
        return Err("Silence must include a service or project matcher.".into());
    }
    for p in projects.iter().flatten() {
        if !catalog.projects.iter().any(|(_, n, _)| n == p) {
            return Err(format!("there is no project {p:?}"));
        }
    }
    for s in services.iter().flatten() {
        if !catalog.services.iter().any(|(_, n)| n == s) {
            return Err(format!("there is no service {s:?}"));
        }
    }
    let selected: Vec<(Object, String)>;
    let kind = match &projects {
        Some(ps) => {
            let service_ok = |sid: &ServiceId| {
                services.as_ref().is_none_or(|ss| catalog.services.iter().any(|(id, n)| id == sid && ss.contains(n)))
            };
            selected = catalog
                .projects
                .iter()
                .filter(|(_, n, sid)| ps.contains(n) && service_ok(sid))
                .map(|(id, n, _)| (Object::Project(*id), n.clone()))
                .collect();
            "projects"
        }
        None => {
            let ss = services.as_ref().expect("one of the two is named");
            selected = catalog
                .services
                .iter()
                .filter(|(_, n)| ss.contains(n))
                .map(|(id, n)| (Object::Service(*id), n.clone()))
                .collect();
            "services"
        }
    };
    if selected.is_empty() {
        return Err(format!("the matchers {} select no service or project", format_matchers(matchers)));
    }
    Ok((selected, kind))
}

/// The names a regex lists, when it is nothing but names (letters, digits, `_`, `-`, spaces)
/// separated by `|`: read the same by every regex engine.
fn literal_alternatives(re: &str) -> Option<std::collections::BTreeSet<String>> {
    re.split('|')
        .map(|alt| {
            alt.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ').then(|| alt.to_string())
        })
        .collect()
}

/// Matchers (sorted), maker, comment and end.
type TwinKey = (Vec<Matcher>, String, String, DateTime<Utc>);

/// What makes two silences twins (one silence posted to Alertmanagers that do not gossip):
/// the same matchers, maker, comment and end.
fn twin_key(raw: &Value) -> Option<TwinKey> {
    let mut matchers: Vec<Matcher> = serde_json::from_value(raw["matchers"].clone()).ok()?;
    matchers.sort();
    let end = DateTime::parse_from_rfc3339(raw["endsAt"].as_str()?).ok()?.with_timezone(&Utc);
    Some((matchers, raw["createdBy"].as_str()?.to_string(), raw["comment"].as_str()?.to_string(), end))
}

/// Refuses what is not a silence id (Alertmanager's are UUIDs) before it goes into a URL.
fn check_silence_id(id: &str) -> Result<(), AppError> {
    // 8-4-4-4-12 hex digits, as Alertmanager writes them.
    let groups: Vec<&str> = id.split('-').collect();
    let uuid = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()));
    if uuid {
        Ok(())
    } else {
        let shown = crate::model::shortened(id, 80);
        Err(AppError::invalid("id", format!("{shown:?} is not a silence id: Alertmanager's are UUIDs")))
    }
}

/// What the `service` and `project` matchers select: the projects that every `project` matcher
/// and every `service` matcher (on their service's name) accept, and the services that every
/// `service` matcher accepts.
fn affected(catalog: &Catalog, matchers: &[Matcher]) -> Result<Affected, AppError> {
    let compiled = |name: &str| -> Result<Vec<(regex::Regex, bool)>, AppError> {
        matchers
            .iter()
            .filter(|m| m.name == name)
            .map(|m| {
                let pattern =
                    if m.is_regex { format!("^(?:{})$", m.value) } else { format!("^{}$", regex::escape(&m.value)) };
                regex::RegexBuilder::new(&pattern)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map(|re| (re, m.is_equal))
                    .map_err(|e| AppError::invalid("matchers", format!("{name}: the regex is not usable: {e}")))
            })
            .collect()
    };
    let (by_project, by_service) = (compiled("project")?, compiled("service")?);
    let accepts = |ms: &[(regex::Regex, bool)], v: &str| ms.iter().all(|(re, eq)| re.is_match(v) == *eq);
    let services: Vec<(ServiceId, String)> =
        catalog.services.iter().filter(|(_, n)| accepts(&by_service, n)).cloned().collect();
    let projects = catalog
        .projects
        .iter()
        .filter(|(_, n, sid)| {
            accepts(&by_project, n) && (by_service.is_empty() || services.iter().any(|(id, _)| id == sid))
        })
        .map(|(id, n, _)| (*id, n.clone()))
        .collect();
    Ok(Affected {
        projects: if by_project.is_empty() && by_service.is_empty() { Vec::new() } else { projects },
        services: if by_service.is_empty() { Vec::new() } else { services },
    })
}

/// The start and end of a silence made at `now`. Durations are Prometheus durations (`1h30m`);
/// times are RFC 3339, or a browser's `YYYY-MM-DDTHH:MM[:SS]` read as UTC.
pub fn resolve(window: &Window, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    let after = |start: DateTime<Utc>, duration: &str| {
        let ms =
            crate::model::duration::parse_duration(duration.trim()).map_err(|e| AppError::invalid("duration", e))?;
        if ms < MIN_SILENCE_MS {
            return Err(AppError::invalid("duration", TOO_SHORT));
        }
        let ms = i64::try_from(ms).map_err(|_| AppError::invalid("duration", "too long"))?;
        let end = start
            .checked_add_signed(chrono::Duration::milliseconds(ms))
            .ok_or_else(|| AppError::invalid("duration", "too long"))?;
        within_years("duration", end)
    };
    match window {
        Window::For(duration) => Ok((now, after(now, duration)?)),
        Window::ForFrom(start, duration) => {
            let start = parse_time("startsAt", start)?;
            let end = after(start, duration)?;
            if end <= now {
                return Err(AppError::invalid("duration", "ends in the past"));
            }
            // A start in the past runs from now: what is left must last the minute too.
            if start < now && (end - now).num_milliseconds() < MIN_SILENCE_MS as i64 {
                let left = (end - now).num_seconds();
                let why = format!("only {left} s of it is left from now, as From is in the past ({TOO_SHORT})");
                return Err(AppError::invalid("duration", why));
            }
            lasting("duration", (start.max(now), end))
        }
        Window::Between(start, end) => {
            if start.trim().is_empty() || end.trim().is_empty() {
                let field = if start.trim().is_empty() { "startsAt" } else { "endsAt" };
                return Err(AppError::invalid(field, START_END_REQUIRED));
            }
            let (start, end) = (parse_time("startsAt", start)?, parse_time("endsAt", end)?);
            if end <= start {
                return Err(AppError::invalid("endsAt", START_END_MISMATCHED));
            }
            if end <= now {
                return Err(AppError::invalid("endsAt", "is in the past"));
            }
            lasting("endsAt", (start.max(now), end))
        }
        Window::Until(end) => {
            let end = parse_time("endsAt", end)?;
            if end <= now {
                return Err(AppError::invalid("endsAt", "is in the past"));
            }
            lasting("endsAt", (now, end))
        }
    }
}

/// A window given by its end as long as one given by a duration must be (a minute).
fn lasting(
    field: &str,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> Result<(DateTime<Utc>, DateTime<Utc>), AppError> {
    if (end - start).num_milliseconds() < MIN_SILENCE_MS as i64 {
        return Err(AppError::invalid(field, TOO_SHORT));
    }
    Ok((start, end))
}

/// `t` if Alertmanager can hold it: it writes times as RFC 3339, whose years have four digits.
fn within_years(field: &str, t: DateTime<Utc>) -> Result<DateTime<Utc>, AppError> {
    use chrono::Datelike;
    if t.year() < 9999 { Ok(t) } else { Err(AppError::invalid(field, "is too far ahead: before the year 9999")) }
}

/// The times without a zone a form may send (an `<input type="datetime-local">`'s among them).
const ZONELESS: [&str; 5] =
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"];

fn zoneless(text: &str) -> Option<NaiveDateTime> {
    ZONELESS.into_iter().find_map(|format| NaiveDateTime::parse_from_str(text.trim(), format).ok())
}

fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, AppError> {
    use chrono::Timelike;
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| zoneless(text).map(|t| t.and_utc()));
    // A leap second (:60) is one chrono reads and Alertmanager refuses.
    if let Some(t) = parsed.filter(|t| t.nanosecond() < 1_000_000_000) {
        return within_years(field, t);
    }
    Err(AppError::invalid(
        field,
        format!("{text:?} is not a time: use RFC 3339 (2026-12-01T09:30:00+09:00) or 2026-12-01T00:30 (UTC)"),
    ))
}

/// An Alertmanager refusal as the caller's error: its 4xx stay the caller's (with its words,
/// at `field`: the silence's `id` or its `matchers`), anything else is the Alertmanager's fault.
fn am_refusal(e: Option<AmError>, what: &str, field: &str) -> AppError {
    match e {
        Some(AmError::Status(400, text)) | Some(AmError::Status(422, text)) => {
            AppError::invalid(field, format!("Alertmanager refused it: {text}"))
        }
        Some(AmError::Status(404, _)) => AppError::NotFound("silence".into()),
        Some(e) => AppError::Unavailable(format!("could not {what}: Alertmanager {e}")),
        None => AppError::Unavailable(format!("could not {what}: no Alertmanager answered")),
    }
}

fn read_silence(raw: &Value, alertmanagers: Vec<String>) -> Option<Silence> {
    let text = |k: &str| raw[k].as_str().unwrap_or_default().to_string();
    Some(Silence {
        id: raw["id"].as_str()?.to_string(),
        matchers: serde_json::from_value(raw["matchers"].clone()).ok()?,
        starts_at: text("startsAt"),
        ends_at: text("endsAt"),
        updated_at: text("updatedAt"),
        created_by: text("createdBy"),
        comment: text("comment"),
        state: serde_json::from_value(raw["status"]["state"].clone()).unwrap_or(SilenceState::Expired),
        alertmanagers,
        may_expire: false,
    })
}

fn read_alert(raw: &Value) -> Option<HeldAlert> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    Some(HeldAlert {
        fingerprint: raw["fingerprint"].as_str()?.to_string(),
        labels: serde_json::from_value(raw["labels"].clone()).unwrap_or_default(),
        annotations: serde_json::from_value(raw["annotations"].clone()).unwrap_or_default(),
        starts_at: text(&raw["startsAt"]),
        state: text(&raw["status"]["state"]),
        silenced_by: serde_json::from_value(raw["status"]["silencedBy"].clone()).unwrap_or_default(),
        generator_url: text(&raw["generatorURL"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog {
            projects: vec![
                (ProjectId(1), "web-a".into(), ServiceId(1)),
                (ProjectId(2), "web-b".into(), ServiceId(1)),
                (ProjectId(3), "db".into(), ServiceId(2)),
            ],
            services: vec![(ServiceId(1), "web".into()), (ServiceId(2), "storage".into())],
        }
    }

    fn ids(a: &Affected) -> (Vec<i64>, Vec<i64>) {
        (a.projects.iter().map(|p| p.0.0).collect(), a.services.iter().map(|s| s.0.0).collect())
    }

    #[test]
    fn matchers_select_services_and_projects() {
        let c = catalog();
        let m = |text: &str| parse_matchers(text).unwrap();
        assert_eq!(ids(&affected(&c, &m("project=\"web-a\"")).unwrap()), (vec![1], vec![]));
        assert_eq!(ids(&affected(&c, &m("project=~\"web-.*\"")).unwrap()), (vec![1, 2], vec![]));
        assert_eq!(ids(&affected(&c, &m("project!=\"web-a\"")).unwrap()), (vec![2, 3], vec![]));
        assert_eq!(ids(&affected(&c, &m("service=\"web\"")).unwrap()), (vec![1, 2], vec![1]));
        assert_eq!(ids(&affected(&c, &m("service=\"web\" project!~\"web-b\"")).unwrap()), (vec![1], vec![1]));
        // A regex is anchored: `web` is not `web-a`.
        assert_eq!(ids(&affected(&c, &m("project=~\"web\"")).unwrap()), (vec![], vec![]));
        assert_eq!(ids(&affected(&c, &m("job=\"node\"")).unwrap()), (vec![], vec![]));
    }

    #[test]
    fn non_admins_name_what_they_silence() {
        let c = catalog();
        let sel = |text: &str| {
            strict_selection(&c, &parse_matchers(text).unwrap())
                .map(|(s, kind)| (s.into_iter().map(|(_, n)| n).collect::<Vec<_>>(), kind))
        };
        assert_eq!(sel("project=\"web-a\"").unwrap(), (vec!["web-a".to_string()], "projects"));
        assert_eq!(sel("project=~\"web-a|web-b\" project=\"web-b\"").unwrap(), (vec!["web-b".to_string()], "projects"));
        assert_eq!(sel("service=\"web\" alertname=\"Down\"").unwrap(), (vec!["web".to_string()], "services"));
        assert_eq!(sel("service=\"web\" project=\"web-a\"").unwrap(), (vec!["web-a".to_string()], "projects"));
        // Read more widely by Alertmanager than by a literal reading: refused, saying why.
        for (text, why) in [
            ("project!=\"db\" alertname=\"X\"", "negative"),
            ("project=~\"web-a|\" alertname=~\".+\"", "without a project label"),
            ("service=~\"web|[d&&x]b\"", "may only list names"),
            ("service=~\"we.\"", "may only list names"),
            ("project=~\"web-a|nonexistent\"", "no project \"nonexistent\""),
            ("alertname=\"X\"", "must include a service or project"),
            ("service=\"storage\" project=\"web-a\"", "select no service or project"),
        ] {
            let err = sel(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
            // Shown as a sentence (first letter capitalised): never starting with a label name.
            assert!(!err.starts_with("service") && !err.starts_with("project"), "{text}: {err}");
        }
        assert!(check_silence_id("0f0e0d0c-1b2a-4c3d-8e9f-a0b1c2d3e4f5").is_ok());
        for bad in [
            "",
            "abc",
            "../../api/v2/status",
            "a/b",
            "..",
            "x?y",
            &"a".repeat(65),
            "0f0e0d0c-1b2a-4c3d-8e9f-a0b1c2d3e4fg",
        ] {
            assert!(check_silence_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn windows_resolve_as_promgen_and_alertmanager_do() {
        let now = DateTime::parse_from_rfc3339("2017-12-14T00:00:00Z").unwrap().with_timezone(&Utc);
        let (s, e) = resolve(&Window::For("1h30m".into()), now).unwrap();
        assert_eq!((s.to_rfc3339(), e.to_rfc3339()), (now.to_rfc3339(), "2017-12-14T01:30:00+00:00".into()));
        let between = |a: &str, b: &str| resolve(&Window::Between(a.into(), b.into()), now);
        let (s, e) = between("2017-12-14T00:01", "2017-12-14T09:05:00+09:00").unwrap();
        assert_eq!(
            (s.to_rfc3339(), e.to_rfc3339()),
            ("2017-12-14T00:01:00+00:00".into(), "2017-12-14T00:05:00+00:00".into())
        );
        // A start in the past starts now, as Alertmanager would.
        assert_eq!(between("2017-12-13T00:00", "2017-12-14T01:00").unwrap().0, now);
        let err = |r: Result<_, AppError>| match r {
            Err(AppError::Invalid(f)) => (f.field, f.message),
            other => panic!("{other:?}"),
        };
        assert_eq!(err(between("", "2017-12-14T01:00")).1, "Both start and end are required.");
        assert_eq!(err(between("2017-12-14T02:00", "2017-12-14T01:00")).1, "Start time and end time are mismatched.");
        assert_eq!(err(between("2017-12-13T01:00", "2017-12-13T02:00")).0, "endsAt");
        assert_eq!(err(between("tomorrow", "2017-12-14T01:00")).0, "startsAt");
        // A start and a duration: the form's From with For.
        let from = |a: &str, d: &str| resolve(&Window::ForFrom(a.into(), d.into()), now);
        assert_eq!(from("2017-12-14T09:00", "2h").unwrap().1.to_rfc3339(), "2017-12-14T11:00:00+00:00");
        assert_eq!(err(from("2017-12-13T09:00", "2h")).0, "duration");
        assert_eq!(err(from("soon", "2h")).0, "startsAt");
        // An end alone runs from now.
        let until = |e: &str| resolve(&Window::Until(e.into()), now);
        assert_eq!(until("2017-12-14T09:00").unwrap(), (now, "2017-12-14T09:00:00Z".parse().unwrap()));
        assert_eq!(err(until("2017-12-13T09:00")).0, "endsAt");
        // An end makes a window as long as a duration must be: a minute (a reviewer's 30 s).
        assert_eq!(err(between("2030-01-01T10:00", "2030-01-01T10:00:30")), ("endsAt".into(), TOO_SHORT.into()));
        assert_eq!(err(until("2017-12-14T00:00:59Z")), ("endsAt".into(), TOO_SHORT.into()));
        assert!(between("2030-01-01T10:00", "2030-01-01T10:01").is_ok());
        // From in the past with For: what is left of the window from now (an attacker's
        // under-a-second silence).
        let almost_over = (now - chrono::Duration::seconds(3599)).to_rfc3339();
        let (field, why) = err(from(&almost_over, "1h"));
        assert_eq!((field.as_str(), why.contains("From is in the past")), ("duration", true), "{why}");
        // What Alertmanager would refuse is refused here, at its field: too short to arrive,
        // a leap second, a year of five digits.
        assert_eq!(err(resolve(&Window::For("1ms".into()), now)).0, "duration");
        assert_eq!(err(from("2030-01-01T00:00:60Z", "1h")).0, "startsAt");
        assert_eq!(err(between("2030-01-01T00:00", "2030-06-30T23:59:60Z")).0, "endsAt");
        assert_eq!(err(from("9998-12-31T23:30", "1h")).0, "duration");
        assert_eq!(err(between("2030-01-01T00:00", "9999-12-31T23:59:59Z")).0, "endsAt");
        assert_eq!(err(resolve(&Window::For("5 minutes".into()), now)).0, "duration");
        assert_eq!(err(resolve(&Window::For("0".into()), now)).0, "duration");
        assert_eq!(err(resolve(&Window::For("300y".into()), now)).0, "duration");
    }
}
