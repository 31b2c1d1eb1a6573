//! Rules: the alert and recording rules of the site, services and projects. Reads here; changes
//! in `edit` (each checked, validated by the engine and promtool, audited, one transaction);
//! Prometheus rule file imports in `import`; the test against a live Prometheus in `test`.

pub mod check;
pub mod dialect;
mod edit;
mod import;
pub mod promtool;
mod test;

use super::cpu::Cpu;
use super::proxy::Proxy;
use super::{Actor, Db};
use crate::backend::policy;
use crate::error::AppError;
use crate::model::*;
use crate::rules::{exclude, overrides};
use promtool::Promtool;
use std::collections::HashMap;

#[derive(Clone)]
pub struct Rules {
    db: Db,
    /// The site's domain names the site group; its address makes the rule links.
    site: super::site::SiteSettings,
    promtool: Promtool,
    proxy: Proxy,
    cpu: Cpu,
}

const RULE_COLUMNS: &str = "r.id, r.kind, r.name, r.expr, r.duration, r.enabled, r.description, r.labels, \
     r.annotations, r.parent_id, r.service_id, sv.name AS service_name, r.project_id, p.name AS project_name, \
     p.service_id AS project_service_id, psv.name AS project_service_name";
const RULE_FROM: &str = "rule r LEFT JOIN service sv ON sv.id = r.service_id LEFT JOIN project p ON p.id = r.project_id \
     LEFT JOIN service psv ON psv.id = p.service_id";

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    kind: String,
    name: String,
    expr: String,
    duration: String,
    enabled: i64,
    description: String,
    labels: String,
    annotations: String,
    parent_id: Option<i64>,
    service_id: Option<i64>,
    service_name: Option<String>,
    project_id: Option<i64>,
    project_name: Option<String>,
    project_service_id: Option<i64>,
    project_service_name: Option<String>,
}

/// A JSON object of strings; other values (from old Promgen rows) are kept as their JSON text.
pub(crate) fn json_map(text: &str) -> LabelMap {
    match serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text) {
        Ok(map) => map
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect(),
        Err(_) => LabelMap::new(),
    }
}

impl RuleRow {
    fn into_rule(self, site: &Site) -> Rule {
        let owner = match (self.service_id, self.project_id) {
            (Some(id), _) => RuleOwner::Service { id: ServiceId(id), name: self.service_name.unwrap_or_default() },
            (_, Some(id)) => RuleOwner::Project {
                id: ProjectId(id),
                name: self.project_name.unwrap_or_default(),
                service_id: ServiceId(self.project_service_id.unwrap_or_default()),
                service: self.project_service_name.unwrap_or_default(),
            },
            (None, None) => RuleOwner::Site { domain: site.domain.clone() },
        };
        Rule {
            id: RuleId(self.id),
            kind: RuleKind::parse(&self.kind).unwrap_or_default(),
            name: self.name,
            expr: self.expr,
            duration: self.duration,
            enabled: self.enabled != 0,
            description: self.description,
            labels: json_map(&self.labels),
            annotations: json_map(&self.annotations),
            parent: self.parent_id.map(RuleId),
            owner,
        }
    }
}

/// Which owner columns a rule row has, as bind values.
fn owner_columns(owner: &RuleOwner) -> (Option<i64>, Option<i64>) {
    match owner {
        RuleOwner::Site { .. } => (None, None),
        RuleOwner::Service { id, .. } => (Some(id.0), None),
        RuleOwner::Project { id, .. } => (None, Some(id.0)),
    }
}

/// Every rule and the site, as the rule file renders them: the rows as one JSON value
/// (decoding ten thousand rows one by one costs more than rendering them), to [`unpack_all`]
/// off the async workers.
pub async fn load_packed(db: &Db, site: &super::site::SiteSettings) -> Result<(String, Site), AppError> {
    let site = site.get().await?;
    let sql = format!("SELECT {} FROM {RULE_FROM}", db.dialect.json_rows(JSON_COLUMNS));
    let (packed,): (String,) = sqlx::query_as(&sql).fetch_one(&db.pool).await?;
    Ok((packed, site))
}

/// The rules [`load_packed`] read.
pub fn unpack_all(packed: &str, site: &Site) -> Result<Vec<Rule>, AppError> {
    let rows: Vec<PackedRow> = serde_json::from_str(packed).map_err(|e| AppError::fault("unpacking the rules", e))?;
    Ok(rows.into_iter().map(|r| RuleRow::from(r).into_rule(site)).collect())
}

/// `RULE_COLUMNS` without their names, in the same order, for `json_rows`.
const JSON_COLUMNS: &str = "r.id, r.kind, r.name, r.expr, r.duration, r.enabled, r.description, r.labels, r.annotations, \
     r.parent_id, r.service_id, sv.name, r.project_id, p.name, p.service_id, psv.name";

type PackedRow = (
    i64,
    String,
    String,
    String,
    String,
    i64,
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

impl From<PackedRow> for RuleRow {
    fn from(r: PackedRow) -> Self {
        RuleRow {
            id: r.0,
            kind: r.1,
            name: r.2,
            expr: r.3,
            duration: r.4,
            enabled: r.5,
            description: r.6,
            labels: r.7,
            annotations: r.8,
            parent_id: r.9,
            service_id: r.10,
            service_name: r.11,
            project_id: r.12,
            project_name: r.13,
            project_service_id: r.14,
            project_service_name: r.15,
        }
    }
}

impl Rules {
    pub fn new(db: Db, site: super::site::SiteSettings, promtool: Promtool, proxy: Proxy, cpu: Cpu) -> Self {
        Rules { db, site, promtool, proxy, cpu }
    }

    /// Where promtool was found, if it was.
    pub fn promtool(&self) -> &Promtool {
        &self.promtool
    }

    /// Rules whose name contains the search (`pattern`: [`crate::backend::db::contains_pattern`])
    /// and whose owner the caller may read; see [`crate::backend::Backend::search`].
    pub async fn search(&self, readable: &policy::Readable, pattern: &str) -> Result<Vec<SearchHit>, AppError> {
        type Row = (i64, String, Option<i64>, Option<String>, Option<i64>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT r.id, r.name, sv.id, sv.name, p.id, p.name FROM rule r \
             LEFT JOIN service sv ON sv.id = r.service_id LEFT JOIN project p ON p.id = r.project_id \
             WHERE LOWER(r.name) LIKE $1 ESCAPE '\\' LIMIT $2",
        )
        .bind(pattern)
        .bind(crate::backend::SEARCH_LIMIT)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, name, sv, sv_name, p, p_name)| {
                let owner = match (sv, p) {
                    (_, Some(p)) => {
                        readable.project(ProjectId(p)).then(|| format!("project {}", p_name.unwrap_or_default()))?
                    }
                    (Some(s), None) => {
                        readable.service(ServiceId(s)).then(|| format!("service {}", sv_name.unwrap_or_default()))?
                    }
                    (None, None) => "site".to_string(),
                };
                Some(SearchHit::Rule { id: RuleId(id), name, owner })
            })
            .collect())
    }

    async fn site(&self) -> Result<Site, AppError> {
        self.site.get().await
    }

    async fn query(&self, filter: &str, bind: Option<i64>) -> Result<Vec<Rule>, AppError> {
        let site = self.site().await?;
        let sql = format!("SELECT {RULE_COLUMNS} FROM {RULE_FROM} WHERE {filter}");
        let mut q = sqlx::query_as::<_, RuleRow>(&sql);
        if let Some(b) = bind {
            q = q.bind(b);
        }
        Ok(q.fetch_all(&self.db.pool).await?.into_iter().map(|r| r.into_rule(&site)).collect())
    }

    /// Every rule, by id (REST filters and visibility apply on top).
    pub async fn rule_list(&self, actor: &Actor) -> Result<Vec<Rule>, AppError> {
        actor.require()?;
        let mut list = self.query("1 = 1", None).await?;
        list.sort_by_key(|r| r.id.0);
        Ok(list)
    }

    pub(crate) async fn rule(&self, id: RuleId) -> Result<Rule, AppError> {
        self.query("r.id = $1", Some(id.0)).await?.pop().ok_or_else(|| AppError::NotFound(format!("rule {id}")))
    }

    /// The direct overrides of a rule.
    async fn children(&self, id: RuleId) -> Result<Vec<Rule>, AppError> {
        let mut rules = self.query("r.parent_id = $1", Some(id.0)).await?;
        sort_rules(&mut rules);
        Ok(rules)
    }

    /// Every override below a rule, at any depth (`UNION` ends even on an imported cycle).
    async fn descendants(&self, id: RuleId) -> Result<Vec<Rule>, AppError> {
        let filter = "r.id IN (WITH RECURSIVE tree(id) AS (SELECT id FROM rule WHERE parent_id = $1 \
             UNION SELECT c.id FROM rule c JOIN tree t ON c.parent_id = t.id) SELECT id FROM tree)";
        self.query(filter, Some(id.0)).await
    }

    /// The owner of kind `kind` and id `id`, with its names.
    pub async fn owner(&self, kind: OwnerKind, id: i64) -> Result<RuleOwner, AppError> {
        match kind {
            OwnerKind::Site => Ok(RuleOwner::Site { domain: self.site().await?.domain }),
            OwnerKind::Service => {
                let (name,): (String,) = sqlx::query_as("SELECT name FROM service WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.db.pool)
                    .await?
                    .ok_or_else(|| AppError::NotFound(format!("service {id}")))?;
                Ok(RuleOwner::Service { id: ServiceId(id), name })
            }
            OwnerKind::Project => {
                let (name, service_id, service): (String, i64, String) = sqlx::query_as(
                    "SELECT p.name, p.service_id, sv.name FROM project p JOIN service sv ON sv.id = p.service_id WHERE p.id = $1",
                )
                .bind(id)
                .fetch_optional(&self.db.pool)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("project {id}")))?;
                Ok(RuleOwner::Project { id: ProjectId(id), name, service_id: ServiceId(service_id), service })
            }
        }
    }

    /// Who may change the rules of `owner`: admins for the site; a service's or project's
    /// Editors and Admins ([`policy`]).
    async fn require_edit(&self, actor: &Actor, owner: &RuleOwner) -> Result<(), AppError> {
        match owner {
            RuleOwner::Site { .. } => actor.may_administer("change site rules"),
            RuleOwner::Service { id, .. } => {
                policy::check(&self.db, actor, Action::Edit, Object::Service(*id), "change this service's rules").await
            }
            RuleOwner::Project { id, .. } => {
                policy::check(&self.db, actor, Action::Edit, Object::Project(*id), "change this project's rules").await
            }
        }
    }

    /// Refuses (403) unless `actor` may see `owner`'s rules (site rules: everyone). A
    /// service's rules apply to each of its projects: whoever may see one of them reads them
    /// too (its page lists them as inherited, and links to each).
    async fn require_view(&self, actor: &Actor, owner: &RuleOwner) -> Result<(), AppError> {
        let object = match owner {
            RuleOwner::Site { .. } => Object::Site,
            RuleOwner::Service { id, .. } => Object::Service(*id),
            RuleOwner::Project { id, .. } => Object::Project(*id),
        };
        if let RuleOwner::Service { id, .. } = owner
            && !policy::allows(&self.db, actor, Action::View, object).await?
        {
            // The reader's projects once, not a role lookup per project of the service.
            let readable = policy::Readable::of(&self.db, actor).await?;
            let projects: Vec<(i64,)> = sqlx::query_as("SELECT id FROM project WHERE service_id = $1")
                .bind(id.0)
                .fetch_all(&self.db.pool)
                .await?;
            if projects.iter().any(|(p,)| readable.project(ProjectId(*p))) {
                return Ok(());
            }
        }
        policy::check(&self.db, actor, Action::View, object, "see these rules").await
    }

    async fn can_edit(&self, actor: &Actor, owner: &RuleOwner) -> bool {
        self.require_edit(actor, owner).await.is_ok()
    }

    /// The rules a site, service or project page lists: its own, and those of the levels above
    /// with the override it has of each.
    pub async fn listing(&self, actor: &Actor, owner: &RuleOwner) -> Result<RuleListing, AppError> {
        self.require_view(actor, owner).await?;
        let (filter, bind) = match owner {
            RuleOwner::Site { .. } => ("r.service_id IS NULL AND r.project_id IS NULL".to_string(), None),
            RuleOwner::Service { id, .. } => {
                ("(r.service_id IS NULL AND r.project_id IS NULL) OR r.service_id = $1".to_string(), Some(id.0))
            }
            RuleOwner::Project { id, service_id, .. } => (
                format!(
                    "(r.service_id IS NULL AND r.project_id IS NULL) OR r.project_id = $1 OR r.service_id = {}",
                    service_id.0
                ),
                Some(id.0),
            ),
        };
        let mut rules = self.query(&filter, bind).await?;
        sort_rules(&mut rules);
        let own: Vec<&Rule> = rules.iter().filter(|r| r.owner.same(owner)).collect();
        // A rule is overridden here by this owner's override of it, or by one of a level in
        // between (a service's override of a site rule: the site rule no longer reaches the
        // service's projects, its override does).
        let mut overridden: HashMap<RuleId, RuleId> = rules
            .iter()
            .filter(|r| !r.owner.same(owner) && overrides::check_hierarchy(&r.owner, owner).is_ok())
            .filter_map(|r| r.parent.map(|p| (p, r.id)))
            .collect();
        overridden.extend(own.iter().filter_map(|r| r.parent.map(|p| (p, r.id))));
        let inherited = rules
            .iter()
            .filter(|r| !r.owner.same(owner) && overrides::check_hierarchy(&r.owner, owner).is_ok())
            .map(|r| InheritedRule { rule: r.into(), overridden_by: overridden.get(&r.id).copied() })
            .collect();
        Ok(RuleListing {
            own: own.into_iter().map(RuleSummary::from).collect(),
            inherited,
            can_edit: self.can_edit(actor, owner).await,
        })
    }

    /// A rule with its parent, its overrides (as a tree), its expansion and its rendering.
    pub async fn detail(&self, actor: &Actor, id: RuleId) -> Result<RuleDetail, AppError> {
        actor.require()?;
        let rule = self.rule(id).await?;
        self.require_view(actor, &rule.owner).await?;
        let parent = match rule.parent {
            Some(p) => self.rule(p).await.ok().map(|r| RuleSummary::from(&r)),
            None => None,
        };
        let mut below = self.descendants(id).await?;
        sort_rules(&mut below);
        let direct: Vec<RuleOwner> = below.iter().filter(|r| r.parent == Some(id)).map(|r| r.owner.clone()).collect();
        let site = self.site().await?;
        let (dialect, _) = self.dialect().await?;
        let can_edit = self.can_edit(actor, &rule.owner).await;
        let may_silence = match rule.owner {
            RuleOwner::Site { .. } => policy::edits_anything(&self.db, actor).await?,
            _ => can_edit,
        };
        Ok(RuleDetail {
            left_out: rule.enabled.then(|| crate::rules::render::refusal(&rule, &direct, dialect)).flatten(),
            expanded: exclude::expand(&rule.expr, &direct).text,
            yaml: crate::rules::render::render_one(&rule, &direct, &site),
            children: tree(id, &below, 0),
            can_edit,
            may_silence,
            parent,
            rule,
        })
    }

    /// What the editor of an existing rule needs.
    pub async fn edit_context(&self, actor: &Actor, id: RuleId) -> Result<RuleContext, AppError> {
        actor.require()?;
        let rule = self.rule(id).await?;
        self.require_view(actor, &rule.owner).await?;
        let children = self.children(id).await?;
        let parent = match rule.parent {
            Some(p) => self.parent_context(p, None).await?,
            None => None,
        };
        let mut followers = Vec::new();
        for child in children.iter().filter(|c| overrides::follows(c, &rule.expr)) {
            let theirs = self.children(child.id).await?.into_iter().map(|g| g.owner).collect();
            followers.push((child.clone(), theirs));
        }
        let (dialect, dialect_source) = self.dialect().await?;
        Ok(RuleContext {
            can_edit: self.can_edit(actor, &rule.owner).await,
            owner: rule.owner.clone(),
            children: children.into_iter().map(|c| c.owner).collect(),
            parent,
            followers,
            site: self.site().await?,
            rule: Some(rule),
            dialect,
            dialect_source,
        })
    }

    /// What the editor of a new rule of `owner` needs.
    pub async fn new_context(&self, actor: &Actor, owner: RuleOwner) -> Result<RuleContext, AppError> {
        self.require_view(actor, &owner).await?;
        let (dialect, dialect_source) = self.dialect().await?;
        Ok(RuleContext {
            can_edit: self.can_edit(actor, &owner).await,
            owner,
            rule: None,
            children: Vec::new(),
            parent: None,
            followers: Vec::new(),
            site: self.site().await?,
            dialect,
            dialect_source,
        })
    }

    /// What the editor of `target`'s override of `parent` needs; the existing override's
    /// editor when there is one already.
    pub async fn override_context(
        &self,
        actor: &Actor,
        parent: RuleId,
        target: RuleOwner,
    ) -> Result<RuleContext, AppError> {
        self.require_view(actor, &target).await?;
        let parent_rule = self.rule(parent).await?;
        overrides::check_hierarchy(&parent_rule.owner, &target).map_err(|e| AppError::invalid("target", e))?;
        if let Some(existing) = self.children(parent).await?.into_iter().find(|c| c.owner.same(&target)) {
            return self.edit_context(actor, existing.id).await;
        }
        let (dialect, dialect_source) = self.dialect().await?;
        Ok(RuleContext {
            can_edit: self.can_edit(actor, &target).await,
            parent: self.parent_context(parent, Some(&target)).await?,
            owner: target,
            rule: None,
            children: Vec::new(),
            followers: Vec::new(),
            site: self.site().await?,
            dialect,
            dialect_source,
        })
    }

    /// A parent with its overrides (and `joining`, an override about to be made) and, for
    /// each sibling, the overrides it excludes in turn.
    async fn parent_context(
        &self,
        parent: RuleId,
        joining: Option<&RuleOwner>,
    ) -> Result<Option<ParentContext>, AppError> {
        let Ok(rule) = self.rule(parent).await else { return Ok(None) };
        let below = self.descendants(parent).await?;
        let mut siblings: Vec<Rule> = below.iter().filter(|r| r.parent == Some(parent)).cloned().collect();
        sort_rules(&mut siblings);
        let mut children: Vec<RuleOwner> = siblings.iter().map(|s| s.owner.clone()).collect();
        children.extend(joining.cloned());
        let siblings = siblings
            .into_iter()
            .map(|s| {
                let theirs = below.iter().filter(|r| r.parent == Some(s.id)).map(|r| r.owner.clone()).collect();
                (s, theirs)
            })
            .collect();
        Ok(Some(ParentContext { rule, children, siblings }))
    }
}

/// Lists order rules by owner and then by name, ignoring case, as the rule file does.
fn sort_rules(rules: &mut [Rule]) {
    rules.sort_by_cached_key(|r| (r.owner.kind(), r.owner.id(), r.name.to_lowercase(), r.id));
}

/// The overrides below `root` as a tree (overrides nest two deep; imported cycles stop).
fn tree(root: RuleId, below: &[Rule], depth: usize) -> Vec<RuleTree> {
    if depth > 8 {
        return Vec::new();
    }
    below
        .iter()
        .filter(|r| r.parent == Some(root))
        .map(|r| RuleTree { rule: r.into(), children: tree(r.id, below, depth + 1) })
        .collect()
}
