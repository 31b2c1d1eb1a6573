//! The files Prometheus reads: targets (file_sd), blackbox URLs and rules, for everything or
//! for one service or project. Rendering is pure (`crate::render`, `crate::rules::render`);
//! this module loads the rows in a few queries and keeps the last full rendering until the
//! inventory or the rules change.
//!
//! The rule file always loads: rules Prometheus would refuse are left out (and reported), and
//! where promtool speaks the shards' language it checks the whole file; a file it refuses is
//! not served, the last good one is (kept in the database, for every replica).

use super::Db;
use crate::error::AppError;
use crate::model::{ExporterId, FarmId, Rule, RuleFileProblems, RuleOwner, Scheme};
use crate::render::{ProbeTarget, ScrapeJob, render_targets, render_urls};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Narrows an export to one service and/or project, by name (names are unique), and the
/// targets and URLs to one shard's (`?shard=NAME`: what one Prometheus of it scrapes).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ExportFilter {
    pub service: Option<String>,
    pub project: Option<String>,
    #[serde(default)]
    pub shard: Option<String>,
}

impl ExportFilter {
    /// No service nor project named (a shard may be: rule files are not per shard).
    fn is_empty(&self) -> bool {
        self.service.is_none() && self.project.is_none()
    }

    fn shard_bind(&self) -> &str {
        self.shard.as_deref().unwrap_or("")
    }

    fn binds(&self) -> (&str, &str) {
        (self.service.as_deref().unwrap_or(""), self.project.as_deref().unwrap_or(""))
    }

    /// Rules of the named service (and its projects) or project; everything when empty.
    fn owns(&self, rule: &Rule) -> bool {
        let (service, project) = (self.service.as_deref(), self.project.as_deref());
        match &rule.owner {
            _ if self.is_empty() => true,
            RuleOwner::Site { .. } => false,
            RuleOwner::Service { name, .. } => project.is_none() && service == Some(name.as_str()),
            RuleOwner::Project { name, service: sv, .. } => {
                service.is_none_or(|s| s == sv) && project.is_none_or(|p| p == name)
            }
        }
    }
}

/// How a rules export is written.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct RulesFormat {
    /// `prometheusrule` for a Kubernetes PrometheusRule object; a Prometheus rule file otherwise.
    pub format: Option<String>,
    /// The PrometheusRule's name (default `promgen`) and namespace.
    pub name: Option<String>,
    pub namespace: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Targets,
    Urls,
    Rules,
}

/// A rendered file and the inventory generation it reflects. `Bytes` clones without copying.
type Rendered = (i64, Bytes);

#[derive(Clone)]
pub struct Exports {
    db: Db,
    /// The site's domain and address, for the rule file.
    site: super::site::SiteSettings,
    /// Unpacking and rendering run here, off the async workers.
    cpu: super::cpu::Cpu,
    promtool: super::rules::promtool::Promtool,
    /// What the last full rendering of the rule file left out or could not serve.
    problems: Arc<Mutex<RuleFileProblems>>,
    /// The last rendering of each file, whole or of one shard (`""`: whole), and the inventory
    /// generation it reflects.
    cache: Arc<Mutex<HashMap<(Kind, String), Rendered>>>,
}

/// Enabled exporters and each farm's hosts, sorted by name.
type Inventory = (Vec<ScrapeJob>, HashMap<FarmId, Vec<String>>);

// ASCII's separators, from the innermost out: fields of an exporter, exporters or hosts of a
// project, fields of a project, projects. Validation keeps control characters out of names,
// jobs, paths and hosts.
const UNIT: &str = "\u{1f}";
const RECORD: &str = "\u{1e}";
const GROUP: &str = "\u{1d}";
const FILE: &str = "\u{1c}";

#[derive(sqlx::FromRow)]
struct UrlRow {
    url: String,
    project: String,
    service: String,
    shard: String,
    module: String,
}

const SCOPE: &str = "($1 = '' OR sv.name = $1) AND ($2 = '' OR p.name = $2)";

impl Exports {
    pub fn new(
        db: Db,
        site: super::site::SiteSettings,
        cpu: super::cpu::Cpu,
        promtool: super::rules::promtool::Promtool,
    ) -> Self {
        Exports { db, site, cpu, promtool, problems: Arc::default(), cache: Arc::default() }
    }

    /// What the rule file being served leaves out, and whether promtool refused a newer one
    /// (as of its last rendering: fetch [`Exports::rules`] first for the current state).
    pub fn rule_file_problems(&self) -> RuleFileProblems {
        self.problems.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// file_sd JSON of every enabled exporter (of projects that have a farm).
    pub async fn targets(&self, filter: &ExportFilter) -> Result<Bytes, AppError> {
        self.cached(Kind::Targets, filter).await
    }

    /// file_sd JSON of blackbox URLs, for the blackbox exporter job.
    pub async fn urls(&self, filter: &ExportFilter) -> Result<Bytes, AppError> {
        self.cached(Kind::Urls, filter).await
    }

    /// The Prometheus rule file of the enabled rules, or the same as a `PrometheusRule`.
    pub async fn rules(&self, filter: &ExportFilter, format: &RulesFormat) -> Result<Bytes, AppError> {
        match format.format.as_deref() {
            None | Some("") | Some("prometheus") => self.cached(Kind::Rules, filter).await,
            Some("prometheusrule") => {
                let name = format.name.as_deref().unwrap_or("promgen");
                if !crate::rules::render::is_kubernetes_name(name) {
                    return Err(AppError::invalid(
                        "name",
                        "must be a Kubernetes object name: lower case, digits, - and .",
                    ));
                }
                let (packed, site) = super::rules::load_packed(&self.db, &self.site).await?;
                let (dialect, _) = super::rules::dialect::of(&self.db).await?;
                let (filter, name) = (filter.clone(), name.to_string());
                let namespace = format.namespace.clone().filter(|n| !n.is_empty());
                let out = self
                    .cpu
                    .run("rendering the rules", move || {
                        let rules = super::rules::unpack_all(&packed, &site)?;
                        let refused = refused_ids(&rules, dialect);
                        Ok::<_, AppError>(crate::rules::render::render_prometheus_rule(
                            &rules,
                            &site,
                            |r| filter.owns(r) && !refused.contains(&r.id),
                            &name,
                            namespace.as_deref(),
                        ))
                    })
                    .await??;
                Ok(out.into())
            }
            Some(other) => Err(AppError::invalid(
                "format",
                format!("{other:?} is not a format: use prometheusrule or leave it out"),
            )),
        }
    }

    async fn cached(&self, kind: Kind, filter: &ExportFilter) -> Result<Bytes, AppError> {
        if !filter.is_empty() {
            return Ok(self.render(kind, filter).await?.into());
        }
        let (generation,): (i64,) =
            sqlx::query_as("SELECT generation FROM inventory_generation WHERE id = 1").fetch_one(&self.db.pool).await?;
        // Rule files are not per shard: one rendering serves every shard's Prometheus.
        let shard = if kind == Kind::Rules { String::new() } else { filter.shard_bind().to_string() };
        let key = (kind, shard);
        if let Some((g, body)) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned())
            && g == generation
        {
            return Ok(body);
        }
        let body = Bytes::from(self.render(kind, filter).await?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (generation, body.clone()));
        }
        Ok(body)
    }

    /// Loads what `kind` needs, then unpacks and renders it on the CPU pool.
    async fn render(&self, kind: Kind, filter: &ExportFilter) -> Result<String, AppError> {
        match kind {
            Kind::Targets => {
                let packed = self.scrape_jobs(filter).await?;
                self.cpu
                    .run("rendering the targets", move || {
                        let (jobs, hosts) = unpack(&packed)?;
                        Ok(render_targets(&jobs, &hosts))
                    })
                    .await?
            }
            Kind::Urls => {
                let targets = self.probe_targets(filter).await?;
                self.cpu.run("rendering the URLs", move || render_urls(&targets)).await
            }
            Kind::Rules => self.render_rules(filter).await,
        }
    }

    /// The rule file: rules Prometheus would refuse left out; for the whole file, promtool's
    /// check where it speaks the shards' language, and the last good file when it refuses.
    async fn render_rules(&self, filter: &ExportFilter) -> Result<String, AppError> {
        let (packed, site) = super::rules::load_packed(&self.db, &self.site).await?;
        let (dialect, _) = super::rules::dialect::of(&self.db).await?;
        let (generation,): (i64,) =
            sqlx::query_as("SELECT generation FROM inventory_generation WHERE id = 1").fetch_one(&self.db.pool).await?;
        let owned = filter.clone();
        let (body, left_out) = self
            .cpu
            .run("rendering the rules", move || {
                let rules = super::rules::unpack_all(&packed, &site)?;
                let refusals = crate::rules::render::refusals(&rules, dialect);
                let refused: std::collections::HashSet<_> = refusals.iter().map(|(id, _)| *id).collect();
                let body = crate::rules::render::render(&rules, &site, |r| owned.owns(r) && !refused.contains(&r.id));
                let names: HashMap<_, _> = rules.iter().map(|r| (r.id, r.name.clone())).collect();
                let left_out = refusals
                    .into_iter()
                    .map(|(id, why)| (id, names.get(&id).cloned().unwrap_or_default(), why))
                    .collect::<Vec<_>>();
                Ok::<_, AppError>((body, left_out))
            })
            .await??;
        if !filter.is_empty() {
            return Ok(body);
        }
        for (id, name, why) in &left_out {
            tracing::warn!(rule = id.0, name = ?name, why = ?why, "a rule Prometheus would refuse is left out of the rule file");
        }
        let checked = self.promtool.check("rules", &body, dialect).await;
        let last_good: Option<(String, String)> = if checked.is_err() {
            sqlx::query_as("SELECT body, checked FROM rule_file WHERE id = 1").fetch_optional(&self.db.pool).await?
        } else {
            None
        };
        let now = super::db::now();
        let (served, problems) = choose(body, checked, last_good, left_out, &now);
        if problems.refused.is_none() {
            sqlx::query(
                "INSERT INTO rule_file (id, generation, body, checked) VALUES (1, $1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET generation = excluded.generation, body = excluded.body, \
                     checked = excluded.checked",
            )
            .bind(generation)
            .bind(&served)
            .bind(&now)
            .execute(&self.db.pool)
            .await?;
        } else {
            tracing::error!(why = ?problems.refused, "promtool refuses the rule file: the last good one is served");
        }
        if let Ok(mut p) = self.problems.lock() {
            *p = problems;
        }
        Ok(served)
    }

    /// Loads every enabled exporter and its farm's hosts as one packed text value: the
    /// database aggregates each project (its names, exporters and hosts), then all projects.
    /// One row instead of tens of thousands is most of a fresh rendering's cost.
    async fn scrape_jobs(&self, filter: &ExportFilter) -> Result<String, AppError> {
        let (service, project) = filter.binds();
        let agg = |expr: &str, sep: &str| self.db.dialect.string_agg(expr, sep);
        let exporters = agg("e.id || $3 || e.job || $3 || e.port || $3 || e.path || $3 || e.scheme", "$4");
        let hosts = agg("h.name", "$4");
        let project_packed = format!(
            "sh.name || $5 || sv.name || $5 || p.name || $5 || f.id || $5 || f.name || $5 || f.source || $5 || \
             COALESCE((SELECT {exporters} FROM exporter e WHERE e.project_id = p.id AND e.enabled = 1), '') || $5 || \
             COALESCE((SELECT {hosts} FROM host h WHERE h.farm_id = f.id), '')"
        );
        let (packed,): (Option<String>,) = sqlx::query_as(&format!(
            "SELECT {} FROM project p JOIN service sv ON sv.id = p.service_id JOIN shard sh ON sh.id = p.shard_id \
             JOIN farm f ON f.project_id = p.id WHERE {SCOPE} AND ($7 = '' OR sh.name = $7)",
            agg(&project_packed, "$6")
        ))
        .bind(service)
        .bind(project)
        .bind(UNIT)
        .bind(RECORD)
        .bind(GROUP)
        .bind(FILE)
        .bind(filter.shard_bind())
        .fetch_one(&self.db.pool)
        .await?;
        Ok(packed.unwrap_or_default())
    }

    async fn probe_targets(&self, filter: &ExportFilter) -> Result<Vec<ProbeTarget>, AppError> {
        let (service, project) = filter.binds();
        let rows: Vec<UrlRow> = sqlx::query_as(&format!(
            "SELECT u.url, p.name AS project, sv.name AS service, sh.name AS shard, pr.module \
             FROM url u JOIN project p ON p.id = u.project_id JOIN service sv ON sv.id = p.service_id \
             JOIN shard sh ON sh.id = p.shard_id JOIN probe pr ON pr.id = u.probe_id WHERE {SCOPE} \
             AND ($3 = '' OR sh.name = $3)"
        ))
        .bind(service)
        .bind(project)
        .bind(filter.shard_bind())
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ProbeTarget {
                url: r.url,
                project: r.project,
                service: r.service,
                shard: r.shard,
                module: r.module,
            })
            .collect())
    }
}

/// Which rule file to serve: the new `rendered` one when promtool took it, else the last good
/// one (or, with none yet, the new one: Prometheus keeps its old rules when a reload fails).
fn choose(
    rendered: String,
    checked: Result<(), AppError>,
    last_good: Option<(String, String)>,
    left_out: Vec<(crate::model::RuleId, String, String)>,
    now: &str,
) -> (String, RuleFileProblems) {
    let mut problems = RuleFileProblems { left_out, ..Default::default() };
    let served = match checked {
        Ok(()) => {
            problems.serving_since = Some(now.to_string());
            rendered
        }
        Err(refusal) => {
            problems.refused = Some(refusal.to_string());
            match last_good {
                Some((good, checked)) => {
                    problems.serving_since = Some(checked);
                    good
                }
                None => rendered,
            }
        }
    };
    (served, problems)
}

/// The enabled rules Prometheus would refuse.
fn refused_ids(
    rules: &[Rule],
    dialect: crate::rules::promql::Dialect,
) -> std::collections::HashSet<crate::model::RuleId> {
    crate::rules::render::refusals(rules, dialect).into_iter().map(|(id, _)| id).collect()
}

/// Unpacks what `scrape_jobs` loads; an exporter of a project without one is skipped.
fn unpack(packed: &str) -> Result<Inventory, AppError> {
    let bad = |what: &str| AppError::fault("unpacking the inventory", format!("{what:?}"));
    let mut jobs = Vec::new();
    let mut hosts = HashMap::new();
    for project in packed.split(FILE).filter(|p| !p.is_empty()) {
        let f: Vec<&str> = project.split(GROUP).collect();
        let [shard, service, project_name, farm_id, farm, farm_source, exporters, names] = f[..] else {
            return Err(bad(project));
        };
        let farm_id = FarmId(farm_id.parse().map_err(|_| bad(project))?);
        for exporter in exporters.split(RECORD).filter(|e| !e.is_empty()) {
            let e: Vec<&str> = exporter.split(UNIT).collect();
            let [id, job, port, path, scheme] = e[..] else { return Err(bad(exporter)) };
            jobs.push(ScrapeJob {
                exporter_id: ExporterId(id.parse().map_err(|_| bad(exporter))?),
                shard: shard.to_string(),
                service: service.to_string(),
                project: project_name.to_string(),
                farm_id,
                farm: farm.to_string(),
                farm_source: farm_source.to_string(),
                job: job.to_string(),
                port: port.parse().map_err(|_| bad(exporter))?,
                path: path.to_string(),
                scheme: Scheme::parse(scheme).unwrap_or_default(),
            });
        }
        let mut names: Vec<String> = names.split(RECORD).filter(|h| !h.is_empty()).map(str::to_string).collect();
        names.sort_unstable();
        hosts.insert(farm_id, names);
    }
    Ok((jobs, hosts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_file_gives_way_to_the_last_good_one() {
        let refused = || Err(AppError::invalid("rules", "promtool check rules: bad"));
        let (served, p) = choose("new".into(), Ok(()), None, Vec::new(), "t2");
        assert_eq!((served.as_str(), p.refused, p.serving_since.as_deref()), ("new", None, Some("t2")));
        let (served, p) = choose("new".into(), refused(), Some(("good".into(), "t1".into())), Vec::new(), "t2");
        assert_eq!((served.as_str(), p.serving_since.as_deref()), ("good", Some("t1")));
        assert!(p.refused.unwrap().contains("bad"));
        let (served, p) = choose("new".into(), refused(), None, Vec::new(), "t2");
        assert_eq!((served.as_str(), p.serving_since), ("new", None));
    }
}
