//! The files Prometheus reads: targets (file_sd) and blackbox URLs, for everything or for one
//! service or project. Rendering is pure (`crate::render`); this module loads the rows in a
//! few queries and keeps the last full rendering until the inventory changes.

use super::Db;
use crate::error::AppError;
use crate::model::{ExporterId, FarmId, Scheme};
use crate::render::{ProbeTarget, ScrapeJob, render_targets, render_urls};
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Narrows an export to one service and/or project, by name (names are unique).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ExportFilter {
    pub service: Option<String>,
    pub project: Option<String>,
}

impl ExportFilter {
    fn is_empty(&self) -> bool {
        self.service.is_none() && self.project.is_none()
    }

    fn binds(&self) -> (&str, &str) {
        (self.service.as_deref().unwrap_or(""), self.project.as_deref().unwrap_or(""))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Targets,
    Urls,
}

/// A rendered file and the inventory generation it reflects. `Bytes` clones without copying.
type Rendered = (i64, Bytes);

#[derive(Clone)]
pub struct Exports {
    db: Db,
    /// The last unfiltered rendering of each file and the inventory generation it reflects.
    cache: Arc<Mutex<HashMap<Kind, Rendered>>>,
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    shard: String,
    service: String,
    project: String,
    farm_id: i64,
    farm: String,
    farm_source: String,
    job: String,
    port: i64,
    path: String,
    scheme: String,
}

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
    pub fn new(db: Db) -> Self {
        Exports { db, cache: Arc::default() }
    }

    /// file_sd JSON of every enabled exporter (of projects that have a farm).
    pub async fn targets(&self, filter: &ExportFilter) -> Result<Bytes, AppError> {
        self.cached(Kind::Targets, filter).await
    }

    /// file_sd JSON of blackbox URLs, for the blackbox exporter job.
    pub async fn urls(&self, filter: &ExportFilter) -> Result<Bytes, AppError> {
        self.cached(Kind::Urls, filter).await
    }

    async fn cached(&self, kind: Kind, filter: &ExportFilter) -> Result<Bytes, AppError> {
        if !filter.is_empty() {
            return Ok(self.render(kind, filter).await?.into());
        }
        let (generation,): (i64,) =
            sqlx::query_as("SELECT generation FROM inventory_generation WHERE id = 1").fetch_one(&self.db.pool).await?;
        if let Some((g, body)) = self.cache.lock().ok().and_then(|c| c.get(&kind).cloned())
            && g == generation
        {
            return Ok(body);
        }
        let body = Bytes::from(self.render(kind, filter).await?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(kind, (generation, body.clone()));
        }
        Ok(body)
    }

    async fn render(&self, kind: Kind, filter: &ExportFilter) -> Result<String, AppError> {
        match kind {
            Kind::Targets => {
                let (jobs, hosts) = self.scrape_jobs(filter).await?;
                Ok(render_targets(&jobs, &hosts))
            }
            Kind::Urls => Ok(render_urls(&self.probe_targets(filter).await?)),
        }
    }

    async fn scrape_jobs(
        &self,
        filter: &ExportFilter,
    ) -> Result<(Vec<ScrapeJob>, HashMap<FarmId, Vec<String>>), AppError> {
        let (service, project) = filter.binds();
        let rows: Vec<JobRow> = sqlx::query_as(&format!(
            "SELECT e.id, sh.name AS shard, sv.name AS service, p.name AS project, f.id AS farm_id, \
             f.name AS farm, f.source AS farm_source, e.job, e.port, e.path, e.scheme \
             FROM exporter e JOIN project p ON p.id = e.project_id JOIN service sv ON sv.id = p.service_id \
             JOIN shard sh ON sh.id = p.shard_id JOIN farm f ON f.project_id = p.id \
             WHERE e.enabled = 1 AND {SCOPE}"
        ))
        .bind(service)
        .bind(project)
        .fetch_all(&self.db.pool)
        .await?;
        let host_rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "SELECT h.farm_id, h.name FROM host h JOIN farm f ON f.id = h.farm_id \
             JOIN project p ON p.id = f.project_id JOIN service sv ON sv.id = p.service_id WHERE {SCOPE}"
        ))
        .bind(service)
        .bind(project)
        .fetch_all(&self.db.pool)
        .await?;
        let mut hosts: HashMap<FarmId, Vec<String>> = HashMap::new();
        for (farm, name) in host_rows {
            hosts.entry(FarmId(farm)).or_default().push(name);
        }
        for names in hosts.values_mut() {
            names.sort_unstable();
        }
        let jobs = rows
            .into_iter()
            .map(|r| ScrapeJob {
                exporter_id: ExporterId(r.id),
                shard: r.shard,
                service: r.service,
                project: r.project,
                farm_id: FarmId(r.farm_id),
                farm: r.farm,
                farm_source: r.farm_source,
                job: r.job,
                port: r.port,
                path: r.path,
                scheme: Scheme::parse(&r.scheme).unwrap_or_default(),
            })
            .collect();
        Ok((jobs, hosts))
    }

    async fn probe_targets(&self, filter: &ExportFilter) -> Result<Vec<ProbeTarget>, AppError> {
        let (service, project) = filter.binds();
        let rows: Vec<UrlRow> = sqlx::query_as(&format!(
            "SELECT u.url, p.name AS project, sv.name AS service, sh.name AS shard, pr.module \
             FROM url u JOIN project p ON p.id = u.project_id JOIN service sv ON sv.id = p.service_id \
             JOIN shard sh ON sh.id = p.shard_id JOIN probe pr ON pr.id = u.probe_id WHERE {SCOPE}"
        ))
        .bind(service)
        .bind(project)
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
