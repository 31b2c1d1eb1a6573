//! Changes to rules. Each one: who is asking, the engine's checks (and promtool's) on exactly
//! what Prometheus will receive, then the rows, the audit entries with before and after, and
//! the generation bump in one transaction. A refused change writes nothing.

use super::{Rules, owner_columns, sort_rules};
use crate::backend::audit::{self, Subject};
use crate::backend::{Actor, bump_generation, db, unique};
use crate::error::AppError;
use crate::model::*;
use crate::render::yaml::{Yaml, to_string};
use crate::rules::promql::Dialect;
use crate::rules::{check_expr, labels, overrides, render};

/// The audit subject of a rule: the rule, under its owner.
fn subject(rule: &Rule) -> Subject<'static> {
    Subject::new("rule", rule.id.0).under(rule.owner.kind().as_str(), rule.owner.id())
}

fn name_taken(name: &str) -> String {
    format!("a rule named {name:?} exists already")
}

/// Validates `input` for a rule overridden by `children`, as a Prometheus of `dialect` reads
/// it; returns it cleaned, with the labels and annotations the rendering derives dropped.
pub(super) fn validated(input: RuleInput, children: &[RuleOwner], dialect: Dialect) -> Result<RuleInput, AppError> {
    let mut input = input.clean()?;
    input.labels = labels::user_labels(input.labels);
    input.annotations = labels::user_annotations(input.annotations);
    crate::rules::check_templates(input.kind, &input.labels, &input.annotations, dialect)?;
    check_expr(input.kind, &input.expr, children, dialect)
        .map_err(|e| AppError::invalid("expr", e.describe(&input.expr)))?;
    Ok(input)
}

impl Rules {
    /// [`validated`] for the Prometheus the rules meet, on the CPU pool.
    pub(super) async fn validate(&self, input: RuleInput, children: Vec<RuleOwner>) -> Result<RuleInput, AppError> {
        let (dialect, _) = self.dialect().await?;
        self.cpu.run("checking the rule", move || validated(input, &children, dialect)).await?
    }

    /// Checks `expr` as a rule of `kind` excluding `children` would reach Prometheus, on the
    /// CPU pool; the error is the engine's, to be worded by the caller.
    pub(super) async fn check(
        &self,
        kind: RuleKind,
        expr: String,
        children: Vec<RuleOwner>,
    ) -> Result<Result<String, crate::rules::ExprError>, AppError> {
        let (dialect, _) = self.dialect().await?;
        self.cpu.run("checking the expression", move || check_expr(kind, &expr, &children, dialect)).await
    }
}

fn with_input(rule: &Rule, input: &RuleInput) -> Rule {
    Rule {
        kind: input.kind,
        name: input.name.clone(),
        expr: input.expr.clone(),
        duration: input.duration.clone(),
        enabled: input.enabled,
        description: input.description.clone(),
        labels: input.labels.clone(),
        annotations: input.annotations.clone(),
        ..rule.clone()
    }
}

fn json(map: &LabelMap) -> String {
    serde_json::to_string(map).unwrap_or_else(|_| "{}".into())
}

impl Rules {
    /// Runs promtool on the rules as they will be rendered, each with the owners it excludes.
    pub(super) async fn promtool_check(&self, rules: &[(&Rule, Vec<RuleOwner>)]) -> Result<(), AppError> {
        if self.promtool.path().is_none() || rules.is_empty() {
            return Ok(());
        }
        let site_url = self.site().await?.url();
        // One group per rule: promtool wants group names unique.
        let groups = rules
            .iter()
            .enumerate()
            .map(|(i, (rule, children))| {
                Yaml::Map(vec![
                    ("name".into(), Yaml::Str(format!("{} #{i}", rule.name))),
                    ("rules".into(), Yaml::Seq(vec![render::rule_entry(rule, children, &site_url)])),
                ])
            })
            .collect();
        let (dialect, _) = self.dialect().await?;
        self.promtool.check("expr", &to_string(&Yaml::Map(vec![("groups".into(), Yaml::Seq(groups))])), dialect).await
    }

    /// A new rule of `owner`.
    pub async fn create(&self, actor: &Actor, owner: &RuleOwner, input: RuleInput) -> Result<Rule, AppError> {
        self.require_edit(actor, owner).await?;
        let input = self.validate(input, Vec::new()).await?;
        let draft = with_input(&placeholder(owner), &input);
        self.promtool_check(&[(&draft, Vec::new())]).await?;
        let mut tx = self.db.begin().await?;
        let rule = insert(&mut tx, owner, &input, None, false).await?;
        audit::record(&mut tx, actor, &format!("Created rule {}", rule.name), subject(&rule), None::<&()>, Some(&rule))
            .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(rule)
    }

    /// Changes a rule. With `follow`, the overrides that still carry its old expression take
    /// the new one, rewritten for them.
    pub async fn update(&self, actor: &Actor, id: RuleId, input: RuleInput, follow: bool) -> Result<Rule, AppError> {
        let old = self.rule(id).await?;
        self.apply(actor, &old, input, follow, &format!("Updated rule {}", old.name)).await
    }

    async fn apply(
        &self,
        actor: &Actor,
        old: &Rule,
        input: RuleInput,
        follow: bool,
        body: &str,
    ) -> Result<Rule, AppError> {
        self.require_edit(actor, &old.owner).await?;
        if input.kind != old.kind {
            return Err(AppError::invalid("kind", "a rule keeps its kind; create a new rule to change it"));
        }
        let children = self.children(old.id).await?;
        let child_owners: Vec<RuleOwner> = children.iter().map(|c| c.owner.clone()).collect();
        let input = self.validate(input, child_owners.clone()).await?;
        let new = with_input(old, &input);
        let mut followers = Vec::new();
        if follow && new.expr != old.expr {
            for child in children.iter().filter(|c| overrides::follows(c, &old.expr)) {
                let grandchildren: Vec<RuleOwner> =
                    self.children(child.id).await?.into_iter().map(|g| g.owner).collect();
                let expr = overrides::override_expr(&new.expr, &child.owner);
                self.check(child.kind, expr.clone(), grandchildren.clone()).await?.map_err(|e| {
                    AppError::invalid("expr", format!("the override {} would break: {}", child.name, e.describe(&expr)))
                })?;
                followers.push((Rule { expr, ..child.clone() }, grandchildren));
            }
        }
        let mut checked: Vec<(&Rule, Vec<RuleOwner>)> = vec![(&new, child_owners)];
        checked.extend(followers.iter().map(|(r, g)| (r, g.clone())));
        self.promtool_check(&checked).await?;

        let mut tx = self.db.begin().await?;
        sqlx::query(
            "UPDATE rule SET name = $1, expr = $2, duration = $3, enabled = $4, description = $5, labels = $6, \
             annotations = $7, builtin = 0 WHERE id = $8",
        )
        .bind(&new.name)
        .bind(&new.expr)
        .bind(&new.duration)
        .bind(i64::from(new.enabled))
        .bind(&new.description)
        .bind(json(&new.labels))
        .bind(json(&new.annotations))
        .bind(new.id.0)
        .execute(&mut *tx)
        .await
        .map_err(unique("name", name_taken(&new.name)))?;
        audit::record(&mut tx, actor, body, subject(&new), Some(old), Some(&new)).await?;
        for (follower, _) in &followers {
            sqlx::query("UPDATE rule SET expr = $1 WHERE id = $2")
                .bind(&follower.expr)
                .bind(follower.id.0)
                .execute(&mut *tx)
                .await?;
            let before = children.iter().find(|c| c.id == follower.id);
            let body = format!("Updated rule {} to follow {}", follower.name, new.name);
            audit::record(&mut tx, actor, &body, subject(follower), before, Some(follower)).await?;
        }
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn set_enabled(&self, actor: &Actor, id: RuleId, enabled: bool) -> Result<Rule, AppError> {
        let old = self.rule(id).await?;
        self.require_edit(actor, &old.owner).await?;
        let new = Rule { enabled, ..old.clone() };
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE rule SET enabled = $1, builtin = 0 WHERE id = $2")
            .bind(i64::from(enabled))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let body = format!("{} rule {}", if enabled { "Enabled" } else { "Disabled" }, new.name);
        audit::record(&mut tx, actor, &body, subject(&new), Some(&old), Some(&new)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Deletes a rule; its overrides stay, on their own. Answers what it was.
    pub async fn delete(&self, actor: &Actor, id: RuleId) -> Result<Rule, AppError> {
        let old = self.rule(id).await?;
        self.require_edit(actor, &old.owner).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM rule WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        audit::record(&mut tx, actor, &format!("Deleted rule {}", old.name), subject(&old), Some(&old), None::<&()>)
            .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(old)
    }

    /// `target`'s override of rule `parent`: the draft Promgen makes, or `input` (the editor's
    /// version of it). Overriding twice returns the first override.
    /// The rule `target` would override, for those who may change `target`'s rules (a
    /// project's Editor may override its service's rules without seeing the service).
    pub async fn override_base(&self, actor: &Actor, parent: RuleId, target: &RuleOwner) -> Result<Rule, AppError> {
        self.require_edit(actor, target).await?;
        self.rule(parent).await
    }

    pub async fn create_override(
        &self,
        actor: &Actor,
        parent: RuleId,
        target: &RuleOwner,
        input: Option<RuleInput>,
    ) -> Result<Rule, AppError> {
        let parent = self.rule(parent).await?;
        overrides::check_hierarchy(&parent.owner, target).map_err(|e| AppError::invalid("target", e))?;
        self.require_edit(actor, target).await?;
        let siblings = self.children(parent.id).await?;
        if let Some(existing) = siblings.iter().find(|c| c.owner.same(target)) {
            return Ok(existing.clone());
        }
        let mut input = input.unwrap_or_else(|| overrides::draft(&parent, target));
        input.kind = parent.kind;
        if parent.kind == RuleKind::Record {
            input.name = parent.name.clone();
        }
        let input = self.validate(input, Vec::new()).await?;
        // The parent now also excludes the target; that expansion must hold too.
        let mut parent_children: Vec<RuleOwner> = siblings.iter().map(|s| s.owner.clone()).collect();
        parent_children.push(target.clone());
        self.check(parent.kind, parent.expr.clone(), parent_children).await?.map_err(|e| {
            AppError::invalid("target", format!("{} would break: {}", parent.name, e.describe(&parent.expr)))
        })?;
        let draft = Rule { parent: Some(parent.id), ..with_input(&placeholder(target), &input) };
        self.promtool_check(&[(&draft, Vec::new())]).await?;

        let mut tx = self.db.begin().await?;
        let rule = match insert(&mut tx, target, &input, Some(parent.id), false).await {
            Ok(rule) => rule,
            // Someone overrode it for the same owner a moment ago: theirs stands.
            Err(AppError::Conflict(_)) => {
                drop(tx);
                if let Some(existing) = self.children(parent.id).await?.into_iter().find(|c| c.owner.same(target)) {
                    return Ok(existing);
                }
                return Err(AppError::conflict("name", name_taken(&input.name)));
            }
            Err(e) => return Err(e),
        };
        sqlx::query("UPDATE rule SET builtin = 0 WHERE id = $1").bind(parent.id.0).execute(&mut *tx).await?;
        let body = format!("Created rule {} overriding {}", rule.name, parent.name);
        audit::record(&mut tx, actor, &body, subject(&rule), None::<&()>, Some(&rule)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(rule)
    }

    /// Puts a rule back as an audit entry recorded it (after that change, or before a delete).
    pub async fn restore(&self, actor: &Actor, id: RuleId, audit_id: AuditId) -> Result<Rule, AppError> {
        let old = self.rule(id).await?;
        self.require_edit(actor, &old.owner).await?;
        let row: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT created, old, data FROM audit WHERE id = $1 AND object_type = 'rule' AND object_id = $2",
        )
        .bind(audit_id.0)
        .bind(id.0)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some((created, before, after)) = row else {
            return Err(AppError::NotFound(format!("version {audit_id} of rule {id}")));
        };
        let version = after.or(before).ok_or_else(|| AppError::invalid("version", "that entry recorded no state"))?;
        let input: RuleInput = serde_json::from_str(&version)
            .map_err(|e| AppError::invalid("version", format!("that entry cannot be read as a rule: {e}")))?;
        self.apply(
            actor,
            &old,
            input,
            false,
            &format!("Restored rule {} to its version of {}", old.name, crate::model::when::utc_text(&created)),
        )
        .await
    }

    /// Installs the default site rules on a new installation, once: a later start after they
    /// were deleted does not bring them back, and an import of a Promgen export prevents it.
    pub async fn install_default_pack(&self) -> Result<usize, AppError> {
        let mut tx = self.db.begin().await?;
        let claimed =
            sqlx::query("UPDATE site SET rule_pack = 1 WHERE id = 1 AND rule_pack = 0").execute(&mut *tx).await?;
        if claimed.rows_affected() == 0 {
            return Ok(0);
        }
        let site = RuleOwner::Site { domain: self.site().await?.domain };
        let mut n = 0;
        for input in crate::rules::pack::default_rules() {
            let input = self.validate(input, Vec::new()).await?;
            let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM rule WHERE name = $1")
                .bind(&input.name)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_none() {
                insert(&mut tx, &site, &input, None, true).await?;
                n += 1;
            }
        }
        audit::record(
            &mut tx,
            &Actor::System,
            &format!("Installed {n} default site rules"),
            Subject::new("site", 1),
            None::<&()>,
            None::<&()>,
        )
        .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// The rules of an owner, sorted, for exports of one object.
    pub async fn of_owner(&self, owner: &RuleOwner) -> Result<Vec<Rule>, AppError> {
        let (service, project) = owner_columns(owner);
        let mut rules = match (service, project) {
            (Some(s), _) => self.query("r.service_id = $1", Some(s)).await?,
            (_, Some(p)) => self.query("r.project_id = $1", Some(p)).await?,
            _ => self.query("r.service_id IS NULL AND r.project_id IS NULL", None).await?,
        };
        sort_rules(&mut rules);
        Ok(rules)
    }
}

/// A rule not yet stored, for checks before the insert (Promgen renders new rules as pk 0).
fn placeholder(owner: &RuleOwner) -> Rule {
    Rule {
        id: RuleId(0),
        kind: RuleKind::Alert,
        name: String::new(),
        expr: String::new(),
        duration: String::new(),
        enabled: true,
        description: String::new(),
        labels: LabelMap::new(),
        annotations: LabelMap::new(),
        parent: None,
        owner: owner.clone(),
    }
}

/// Inserts a validated rule; a taken name is a conflict on `name`.
pub(super) async fn insert(
    conn: &mut sqlx::AnyConnection,
    owner: &RuleOwner,
    input: &RuleInput,
    parent: Option<RuleId>,
    builtin: bool,
) -> Result<Rule, AppError> {
    let (service, project) = owner_columns(owner);
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO rule (kind, name, expr, duration, enabled, description, labels, annotations, parent_id, \
         service_id, project_id, builtin) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(input.kind.as_str())
    .bind(&input.name)
    .bind(&input.expr)
    .bind(&input.duration)
    .bind(i64::from(input.enabled))
    .bind(&input.description)
    .bind(json(&input.labels))
    .bind(json(&input.annotations))
    .bind(parent.map(|p| p.0))
    .bind(service)
    .bind(project)
    .bind(i64::from(builtin))
    .fetch_one(conn)
    .await
    .map_err(|e| {
        if db::is_unique_violation(&e) {
            AppError::conflict("name", name_taken(&input.name))
        } else {
            AppError::from(e)
        }
    })?;
    Ok(Rule { id: RuleId(id), parent, ..with_input(&placeholder(owner), input) })
}
