//! Rows as the database returns them, and their conversion to model types. Flags are 0/1
//! integers in both backends (see `db`).

use crate::model::*;

pub(super) const SHARD_COLUMNS: &str = "id, name, url, proxy, enabled, samples, targets, prometheus_version, detected_version, detected_experimental, detect_error";

#[derive(sqlx::FromRow)]
pub(super) struct ShardRow {
    id: i64,
    name: String,
    url: String,
    proxy: i64,
    enabled: i64,
    samples: i64,
    targets: i64,
    prometheus_version: Option<String>,
    detected_version: Option<String>,
    detected_experimental: i64,
    detect_error: Option<String>,
}

impl From<ShardRow> for Shard {
    fn from(r: ShardRow) -> Self {
        Shard {
            id: ShardId(r.id),
            name: r.name,
            // Shown to everyone who may read the shard: its credentials stay in the database.
            url: crate::model::validate::mask_url_password(&r.url),
            proxy: r.proxy != 0,
            enabled: r.enabled != 0,
            samples: r.samples,
            targets: r.targets,
            prometheus_version: r.prometheus_version,
            detected_version: r.detected_version,
            detected_experimental: r.detected_experimental != 0,
            detect_error: r.detect_error,
        }
    }
}

pub(super) const SERVICE_COLUMNS: &str =
    "s.id, s.name, s.description, s.owner_id, (SELECT username FROM users u WHERE u.id = s.owner_id) AS owner";

#[derive(sqlx::FromRow)]
pub(super) struct ServiceRow {
    pub id: i64,
    name: String,
    description: String,
    owner_id: Option<i64>,
    owner: Option<String>,
}

impl ServiceRow {
    pub fn id(&self) -> ServiceId {
        ServiceId(self.id)
    }
}

impl From<ServiceRow> for Service {
    fn from(r: ServiceRow) -> Self {
        Service {
            id: ServiceId(r.id),
            name: r.name,
            description: r.description,
            owner: r.owner,
            owner_id: r.owner_id.map(UserId),
        }
    }
}

pub(super) const PROJECT_COLUMNS: &str = "p.id, p.name, p.description, p.service_id, sv.name AS service_name, \
     p.shard_id, sh.name AS shard_name, p.owner_id, \
     (SELECT username FROM users u WHERE u.id = p.owner_id) AS owner";
pub(super) const PROJECT_FROM: &str =
    "project p JOIN service sv ON sv.id = p.service_id JOIN shard sh ON sh.id = p.shard_id";

#[derive(sqlx::FromRow)]
pub(super) struct ProjectRow {
    id: i64,
    name: String,
    description: String,
    service_id: i64,
    service_name: String,
    shard_id: i64,
    shard_name: String,
    owner_id: Option<i64>,
    owner: Option<String>,
}

impl ProjectRow {
    pub fn id(&self) -> ProjectId {
        ProjectId(self.id)
    }

    pub fn project(&self) -> Project {
        Project {
            id: ProjectId(self.id),
            name: self.name.clone(),
            description: self.description.clone(),
            service_id: ServiceId(self.service_id),
            service_name: self.service_name.clone(),
            shard_id: ShardId(self.shard_id),
            shard_name: self.shard_name.clone(),
            owner: self.owner.clone(),
            owner_id: self.owner_id.map(UserId),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct FarmRow {
    id: i64,
    name: String,
    source: String,
    project_id: i64,
}

impl From<FarmRow> for Farm {
    fn from(r: FarmRow) -> Self {
        Farm { id: FarmId(r.id), name: r.name, source: r.source, project_id: ProjectId(r.project_id) }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct HostRow {
    id: i64,
    name: String,
    farm_id: i64,
}

impl From<HostRow> for Host {
    fn from(r: HostRow) -> Self {
        Host { id: HostId(r.id), name: r.name, farm_id: FarmId(r.farm_id) }
    }
}

pub(super) const EXPORTER_COLUMNS: &str = "id, project_id, job, port, path, scheme, enabled";

#[derive(sqlx::FromRow)]
pub(super) struct ExporterRow {
    id: i64,
    project_id: i64,
    job: String,
    port: i64,
    path: String,
    scheme: String,
    enabled: i64,
}

impl From<ExporterRow> for Exporter {
    fn from(r: ExporterRow) -> Self {
        Exporter {
            id: ExporterId(r.id),
            project_id: ProjectId(r.project_id),
            job: r.job,
            port: r.port,
            path: r.path,
            scheme: Scheme::parse(&r.scheme).unwrap_or_default(),
            enabled: r.enabled != 0,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct DefaultExporterRow {
    id: i64,
    job: String,
    port: i64,
    path: String,
    scheme: String,
}

impl From<DefaultExporterRow> for DefaultExporter {
    fn from(r: DefaultExporterRow) -> Self {
        DefaultExporter {
            id: DefaultExporterId(r.id),
            job: r.job,
            port: r.port,
            path: r.path,
            scheme: Scheme::parse(&r.scheme).unwrap_or_default(),
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ProbeRow {
    id: i64,
    module: String,
    description: String,
}

impl From<ProbeRow> for Probe {
    fn from(r: ProbeRow) -> Self {
        Probe { id: ProbeId(r.id), module: r.module, description: r.description }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UrlRow {
    id: i64,
    url: String,
    project_id: i64,
    probe_id: i64,
    probe_module: String,
}

impl From<UrlRow> for Url {
    fn from(r: UrlRow) -> Self {
        Url {
            id: UrlId(r.id),
            url: r.url,
            project_id: ProjectId(r.project_id),
            probe_id: ProbeId(r.probe_id),
            probe_module: r.probe_module,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct ProjectSummaryRow {
    pub id: i64,
    pub name: String,
    pub service_id: i64,
    pub shard_name: String,
    pub farm_name: Option<String>,
    pub hosts: i64,
    pub exporters: i64,
}

pub(super) const PROJECT_SUMMARY_SQL: &str = "SELECT p.id, p.name, p.service_id, sh.name AS shard_name, \
     f.name AS farm_name, \
     (SELECT COUNT(*) FROM host h WHERE h.farm_id = f.id) AS hosts, \
     (SELECT COUNT(*) FROM exporter e WHERE e.project_id = p.id) AS exporters \
     FROM project p JOIN shard sh ON sh.id = p.shard_id LEFT JOIN farm f ON f.project_id = p.id";

impl From<ProjectSummaryRow> for ProjectSummary {
    fn from(r: ProjectSummaryRow) -> Self {
        ProjectSummary {
            id: ProjectId(r.id),
            name: r.name,
            shard_name: r.shard_name,
            farm_name: r.farm_name,
            hosts: r.hosts,
            exporters: r.exporters,
        }
    }
}

/// Names sort as bytes here, whatever the database's collation, so pages and files are the
/// same on both backends.
pub(super) fn by_name<T>(items: &mut [T], name: impl Fn(&T) -> &str) {
    items.sort_by(|a, b| name(a).cmp(name(b)));
}
