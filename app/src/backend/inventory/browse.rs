//! Read-only views across the inventory: a host across farms, search, form choices.

use super::Inventory;
use super::rows::*;
use crate::backend::{Actor, policy};
use crate::error::AppError;
use crate::model::*;

#[derive(sqlx::FromRow)]
struct PlacementRow {
    host_id: i64,
    farm_id: i64,
    farm_name: String,
    farm_source: String,
    project_id: i64,
    project_name: String,
    service_id: i64,
    service_name: String,
}

use crate::backend::SEARCH_LIMIT;

impl Inventory {
    /// Every farm that lists this exact host name, and what scrapes it there.
    pub async fn host(&self, actor: &Actor, name: &str) -> Result<HostDetail, AppError> {
        actor.require()?;
        let rows: Vec<PlacementRow> = sqlx::query_as(
            "SELECT h.id AS host_id, f.id AS farm_id, f.name AS farm_name, f.source AS farm_source, \
             p.id AS project_id, p.name AS project_name, s.id AS service_id, s.name AS service_name \
             FROM host h JOIN farm f ON f.id = h.farm_id JOIN project p ON p.id = f.project_id \
             JOIN service s ON s.id = p.service_id WHERE h.name = $1",
        )
        .bind(name)
        .fetch_all(&self.db.pool)
        .await?;
        // Only the placements in projects the caller may see; none is "no such host".
        let visible = policy::visible_projects(&self.db, actor).await?;
        let rows: Vec<PlacementRow> = rows
            .into_iter()
            .filter(|r| visible.as_ref().is_none_or(|v| v.contains(&ProjectId(r.project_id))))
            .collect();
        if rows.is_empty() {
            return Err(AppError::NotFound(format!("host {name:?}")));
        }
        let project_ids: Vec<i64> = rows.iter().map(|r| r.project_id).collect();
        let exporters: Vec<Exporter> = self.exporters_of(&project_ids).await?;
        let mut editable = std::collections::HashSet::new();
        for r in &rows {
            if policy::allows(&self.db, actor, Action::Edit, Object::Project(ProjectId(r.project_id))).await? {
                editable.insert(r.project_id);
            }
        }
        let mut placements: Vec<HostPlacement> = rows
            .into_iter()
            .map(|r| HostPlacement {
                may_silence: editable.contains(&r.project_id),
                host_id: HostId(r.host_id),
                farm: Farm {
                    id: FarmId(r.farm_id),
                    name: r.farm_name,
                    source: r.farm_source,
                    project_id: ProjectId(r.project_id),
                },
                project_id: ProjectId(r.project_id),
                project_name: r.project_name,
                service_id: ServiceId(r.service_id),
                service_name: r.service_name,
                exporters: exporters.iter().filter(|e| e.project_id.0 == r.project_id).cloned().collect(),
            })
            .collect();
        placements.sort_by(|a, b| (&a.service_name, &a.project_name).cmp(&(&b.service_name, &b.project_name)));
        Ok(HostDetail { name: name.to_string(), placements, may_silence_everywhere: actor.is_superuser() })
    }

    async fn exporters_of(&self, project_ids: &[i64]) -> Result<Vec<Exporter>, AppError> {
        if project_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=project_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT {EXPORTER_COLUMNS} FROM exporter WHERE project_id IN ({})", marks.join(", "));
        let mut q = sqlx::query_as::<_, ExporterRow>(&sql);
        for id in project_ids {
            q = q.bind(*id);
        }
        let mut list: Vec<Exporter> = q.fetch_all(&self.db.pool).await?.into_iter().map(Into::into).collect();
        list.sort_by(|a, b| (&a.job, a.port).cmp(&(&b.job, b.port)));
        Ok(list)
    }

    /// Every exporter, by id (REST filters and visibility apply on top).
    pub async fn exporter_list(&self, actor: &Actor) -> Result<Vec<Exporter>, AppError> {
        actor.require()?;
        let rows: Vec<ExporterRow> = sqlx::query_as(&format!("SELECT {EXPORTER_COLUMNS} FROM exporter ORDER BY id"))
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Every blackbox URL with its probe's module, by id.
    pub async fn url_list(&self, actor: &Actor) -> Result<Vec<Url>, AppError> {
        actor.require()?;
        let rows: Vec<UrlRow> = sqlx::query_as(
            "SELECT u.id, u.url, u.project_id, u.probe_id, pr.module AS probe_module \
             FROM url u JOIN probe pr ON pr.id = u.probe_id ORDER BY u.id",
        )
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Rows of a search query: `$1` is the LIKE pattern, `$2` the most rows.
    async fn matching<T>(&self, sql: &str, pattern: &str) -> Result<Vec<T>, AppError>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        Ok(sqlx::query_as(sql).bind(pattern).bind(SEARCH_LIMIT).fetch_all(&self.db.pool).await?)
    }

    /// Services, projects, hosts, farms and URLs whose name contains the search (`pattern`:
    /// [`crate::backend::db::contains_pattern`]), among what the caller may read; see
    /// [`crate::backend::Backend::search`].
    pub async fn search(&self, readable: &policy::Readable, pattern: &str) -> Result<Vec<SearchHit>, AppError> {
        let services: Vec<(i64, String)> = self
            .matching("SELECT id, name FROM service WHERE LOWER(name) LIKE $1 ESCAPE '\\' LIMIT $2", pattern)
            .await?;
        let projects: Vec<(i64, String, String)> = self
            .matching(
                "SELECT p.id, p.name, s.name FROM project p JOIN service s ON s.id = p.service_id \
             WHERE LOWER(p.name) LIKE $1 ESCAPE '\\' LIMIT $2",
                pattern,
            )
            .await?;
        let hosts: Vec<(String, String, i64)> = self
            .matching(
                "SELECT h.name, f.name, f.project_id FROM host h JOIN farm f ON f.id = h.farm_id \
             WHERE LOWER(h.name) LIKE $1 ESCAPE '\\' LIMIT $2",
                pattern,
            )
            .await?;
        let service_seen = |id: i64| readable.service(ServiceId(id));
        let project_seen = |id: i64| readable.project(ProjectId(id));
        let mut hits: Vec<SearchHit> = Vec::new();
        hits.extend(
            services
                .into_iter()
                .filter(|(id, _)| service_seen(*id))
                .map(|(id, name)| SearchHit::Service { id: ServiceId(id), name }),
        );
        hits.extend(
            projects.into_iter().filter(|(id, ..)| project_seen(*id)).map(|(id, name, service)| SearchHit::Project {
                id: ProjectId(id),
                name,
                service,
            }),
        );
        hits.extend(
            hosts
                .into_iter()
                .filter(|(.., project)| project_seen(*project))
                .map(|(name, farm, _)| SearchHit::Host { name, farm }),
        );
        let farms: Vec<(String, i64, String)> = self
            .matching(
                "SELECT f.name, p.id, p.name FROM farm f JOIN project p ON p.id = f.project_id \
             WHERE LOWER(f.name) LIKE $1 ESCAPE '\\' LIMIT $2",
                pattern,
            )
            .await?;
        hits.extend(
            farms.into_iter().filter(|(_, p, _)| project_seen(*p)).map(|(name, p, project_name)| SearchHit::Farm {
                project: ProjectId(p),
                name,
                project_name,
            }),
        );
        let urls: Vec<(String, i64, String)> = self
            .matching(
                "SELECT u.url, p.id, p.name FROM url u JOIN project p ON p.id = u.project_id \
             WHERE LOWER(u.url) LIKE $1 ESCAPE '\\' LIMIT $2",
                pattern,
            )
            .await?;
        hits.extend(
            urls.into_iter().filter(|(_, p, _)| project_seen(*p)).map(|(url, p, project_name)| SearchHit::Url {
                project: ProjectId(p),
                url,
                project_name,
            }),
        );
        Ok(hits)
    }

    pub async fn form_choices(&self, actor: &Actor) -> Result<FormChoices, AppError> {
        actor.require()?;
        Ok(FormChoices {
            shards: self.shard_list().await?,
            probes: self.probes().await?,
            default_exporters: self.default_exporters().await?,
        })
    }
}
