//! The rule test (spec 6.8): run the expression, `<exclude>` expanded for the rule's current
//! overrides, on the Prometheus servers of the owner's shards, and say how many series would
//! fire and whether their alerts could be routed to the rule's owner. Only those who may edit
//! the owner's rules may test, and only counts and verdicts come back: the series stay in
//! Prometheus (the test runs with the shards' credentials and is no query proxy).

use super::Rules;
use crate::backend::Actor;
use crate::backend::proxy::Scope;
use crate::error::AppError;
use crate::model::*;
use crate::rules::labels::{PROJECT, SERVICE};
use std::collections::BTreeSet;

/// How many unrelated names a routing verdict lists.
const NAMED: usize = 10;

impl Rules {
    /// Tests `expr` as rule `rule` (its overrides excluded) or as a new rule of `owner`.
    pub async fn test(
        &self,
        actor: &Actor,
        rule: Option<RuleId>,
        owner: &RuleOwner,
        kind: RuleKind,
        expr: &str,
    ) -> Result<RuleTest, AppError> {
        self.require_edit(actor, owner).await?;
        crate::model::validate::text("expr", expr, crate::model::validate::MAX_EXPR)?;
        let children: Vec<RuleOwner> = match rule {
            Some(id) => self.children(id).await?.into_iter().map(|c| c.owner).collect(),
            None => Vec::new(),
        };
        let expanded = self
            .check(kind, expr.to_string(), children)
            .await?
            .map_err(|e| AppError::invalid("expr", e.describe(expr)))?;
        let scope = match owner {
            RuleOwner::Site { .. } => Scope::Site,
            RuleOwner::Service { id, .. } => Scope::Service(*id),
            RuleOwner::Project { id, .. } => Scope::Project(*id),
        };
        let answers = self.proxy.instant_query(scope, &expanded).await?;
        let mut series: Vec<LabelMap> = Vec::new();
        let mut shards = Vec::new();
        for a in answers {
            shards.push(ShardTest {
                shard: a.shard,
                url: a.url,
                result: a.result.as_ref().map(Vec::len).map_err(Clone::clone),
            });
            if let Ok(found) = a.result {
                series.extend(found);
            }
        }
        let mut problems = Vec::new();
        if shards.is_empty() {
            problems.push(match owner {
                RuleOwner::Site { .. } => "No shard is registered, so there is no Prometheus to ask.".to_string(),
                _ => format!(
                    "The {} has no project on any shard, so there is no Prometheus to ask.",
                    owner.kind().as_str()
                ),
            });
        }
        problems.extend(self.routing_problems(owner, &series).await?);
        Ok(RuleTest { expr: expanded, firing: series.len(), shards, problems })
    }

    /// Which of `names` name a registered service (`table` = service) or project.
    async fn registered_names(&self, table: &str, names: &[String]) -> Result<BTreeSet<String>, AppError> {
        let mut out = BTreeSet::new();
        for chunk in names.chunks(500) {
            let binds: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!("SELECT name FROM {table} WHERE name IN ({})", binds.join(", "));
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for n in chunk {
                q = q.bind(n);
            }
            out.extend(q.fetch_all(&self.db.pool).await?.into_iter().map(|r| r.0));
        }
        Ok(out)
    }

    /// Promgen's checks: every alert needs a `service` or `project` label to be routed, and
    /// a service's or project's rule should only see its own.
    async fn routing_problems(&self, owner: &RuleOwner, series: &[LabelMap]) -> Result<Vec<String>, AppError> {
        let mut problems = Vec::new();
        // A service's or project's rule gives its alerts their `service` (and `project`) label
        // whatever the series have (see `owner_labels`): only a site rule's rely on them.
        let site = matches!(owner, RuleOwner::Site { .. });
        if site && series.iter().any(|s| !s.contains_key(SERVICE) && !s.contains_key(PROJECT)) {
            problems
                .push("Some series have neither a service nor a project label: their alerts cannot be routed.".into());
        }
        let (services, projects): (BTreeSet<String>, BTreeSet<String>) = match owner {
            RuleOwner::Site { .. } => return Ok(problems),
            RuleOwner::Service { id, name } => {
                let rows: Vec<(String,)> = sqlx::query_as("SELECT name FROM project WHERE service_id = $1")
                    .bind(id.0)
                    .fetch_all(&self.db.pool)
                    .await?;
                ([name.clone()].into(), rows.into_iter().map(|r| r.0).collect())
            }
            RuleOwner::Project { name, service, .. } => ([service.clone()].into(), [name.clone()].into()),
        };
        for (label, expected) in [(SERVICE, &services), (PROJECT, &projects)] {
            let found: BTreeSet<&str> = series
                .iter()
                .filter_map(|s| s.get(label))
                .map(String::as_str)
                .filter(|v| !expected.contains(*v))
                .collect();
            if found.is_empty() {
                continue;
            }
            // Only names of registered services and projects are told; other values are the
            // series' own and stay in Prometheus.
            let table = if label == SERVICE { "service" } else { "project" };
            let list: Vec<String> = found.iter().map(|s| s.to_string()).collect();
            let registered: BTreeSet<String> = self.registered_names(table, &list).await?;
            let others = found.len() - registered.len();
            let named: Vec<&str> = registered.iter().map(String::as_str).take(NAMED).collect();
            let mut what = named.join(", ");
            let unnamed = registered.len().saturating_sub(NAMED) + others;
            if unnamed > 0 {
                let more = if named.is_empty() { "" } else { " and " };
                let (values, name) =
                    (crate::model::counted(unnamed as i64, "value"), if unnamed == 1 { "names" } else { "name" });
                what.push_str(&format!("{more}{values} that {name} no {table} registered here"));
            }
            problems.push(format!(
                "Unrelated {label} labels found. Expected: {}. Found: {what}.",
                expected.iter().map(String::as_str).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(problems)
    }
}
