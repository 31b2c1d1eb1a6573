//! What Prometheus scrapes: shards and their servers, services, projects, farms, hosts,
//! exporters, probes and blackbox URLs (spec section 1).

use super::ids::*;
use serde::{Deserialize, Serialize};

/// The farm source of a farm whose hosts are kept in Promgen itself.
pub const LOCAL_FARM_SOURCE: &str = "promgen";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    pub id: ShardId,
    pub name: String,
    pub url: String,
    pub proxy: bool,
    pub enabled: bool,
    /// Capacity estimates, shown against what the shard's projects register.
    pub samples: i64,
    pub targets: i64,
    /// The Prometheus release its servers run, set by hand (`2.42`, `3.1`); rules are checked
    /// for it. Unset: the detected one.
    #[serde(default)]
    pub prometheus_version: Option<String>,
    /// What the shard's Prometheus reported (`/api/v1/status/buildinfo`), and whether it
    /// enables the experimental PromQL functions.
    #[serde(default)]
    pub detected_version: Option<String>,
    #[serde(default)]
    pub detected_experimental: bool,
    /// Why the last detection failed, if it did.
    #[serde(default)]
    pub detect_error: Option<String>,
}

/// A shard with what is registered on it, for the shard list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardSummary {
    pub shard: Shard,
    pub servers: Vec<PrometheusServer>,
    pub projects: i64,
    pub exporters: i64,
    /// Enabled exporters times hosts: the scrape targets this shard is asked to carry.
    pub registered_targets: i64,
    /// The first [`SHARD_PROJECT_NAMES`] of its projects the reader may see, by service and
    /// project name (`service/project`).
    #[serde(default)]
    pub project_names: Vec<String>,
}

/// How many of a shard's projects its summary names.
pub const SHARD_PROJECT_NAMES: usize = 20;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrometheusServer {
    pub id: PrometheusId,
    pub shard_id: ShardId,
    pub host: String,
    pub port: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub description: String,
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_id: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    pub service_id: ServiceId,
    pub service_name: String,
    pub shard_id: ShardId,
    pub shard_name: String,
    pub owner: Option<String>,
    #[serde(default)]
    pub owner_id: Option<UserId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Farm {
    pub id: FarmId,
    pub name: String,
    pub source: String,
    pub project_id: ProjectId,
}

impl Farm {
    /// Hosts of a local farm are edited here; a remote farm's come from its discovery source.
    pub fn is_local(&self) -> bool {
        self.source == LOCAL_FARM_SOURCE
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Host {
    pub id: HostId,
    pub name: String,
    pub farm_id: FarmId,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    #[default]
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    pub fn parse(s: &str) -> Option<Scheme> {
        match s {
            "http" => Some(Scheme::Http),
            "https" => Some(Scheme::Https),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exporter {
    pub id: ExporterId,
    pub project_id: ProjectId,
    pub job: String,
    pub port: i64,
    /// Empty means Prometheus' default `/metrics`; may carry query parameters.
    pub path: String,
    pub scheme: Scheme,
    pub enabled: bool,
}

/// An entry of the quick-add list on the project page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DefaultExporter {
    pub id: DefaultExporterId,
    pub job: String,
    pub port: i64,
    pub path: String,
    pub scheme: Scheme,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probe {
    pub id: ProbeId,
    pub module: String,
    pub description: String,
}

/// A probe and how many URLs are checked with it (the probes page).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeUsage {
    pub probe: Probe,
    pub urls: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Url {
    pub id: UrlId,
    pub url: String,
    pub project_id: ProjectId,
    pub probe_id: ProbeId,
    pub probe_module: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub id: ProjectId,
    pub name: String,
    pub shard_name: String,
    pub farm_name: Option<String>,
    pub hosts: i64,
    pub exporters: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub service: Service,
    pub projects: Vec<ProjectSummary>,
    /// Whether the reader may open the service's page: not when their role is on some of its
    /// projects only (the home page then names it without a link that would refuse them).
    #[serde(default)]
    pub readable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceDetail {
    pub service: Service,
    pub projects: Vec<ProjectSummary>,
    pub can_edit: bool,
    /// The caller may delete it (its owner, or a site admin).
    #[serde(default)]
    pub can_delete: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectDetail {
    pub project: Project,
    pub farm: Option<Farm>,
    pub hosts: Vec<Host>,
    pub exporters: Vec<Exporter>,
    pub urls: Vec<Url>,
    pub can_edit: bool,
    /// The caller may delete it (its owner or its service's, or a site admin).
    #[serde(default)]
    pub can_delete: bool,
}

/// One registration of a host name: the farm that lists it and what that farm feeds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostPlacement {
    pub host_id: HostId,
    pub farm: Farm,
    pub project_id: ProjectId,
    pub project_name: String,
    pub service_id: ServiceId,
    pub service_name: String,
    pub exporters: Vec<Exporter>,
    /// Whether the reader may silence this host's alerts in this project (Editor or Admin
    /// there: what making that silence needs).
    #[serde(default)]
    pub may_silence: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostDetail {
    pub name: String,
    pub placements: Vec<HostPlacement>,
    /// Whether the reader may silence the host everywhere at once (by its `instance` alone,
    /// which only a site admin may).
    #[serde(default)]
    pub may_silence_everywhere: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SearchHit {
    Service {
        id: ServiceId,
        name: String,
    },
    Project {
        id: ProjectId,
        name: String,
        service: String,
    },
    Host {
        name: String,
        farm: String,
    },
    /// A farm, on its project's page.
    Farm {
        project: ProjectId,
        name: String,
        project_name: String,
    },
    /// A blackbox URL, on its project's page.
    Url {
        project: ProjectId,
        url: String,
        project_name: String,
    },
    /// A rule; `owner` in words ("site", "service web", "project frontend").
    Rule {
        id: RuleId,
        name: String,
        owner: String,
    },
    /// A notifier, found by its target or alias; `href` is its owner's page, `owner` in words.
    Notifier {
        href: String,
        kind: String,
        target: String,
        owner: String,
    },
}

/// What the shard and project forms offer to choose from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FormChoices {
    pub shards: Vec<Shard>,
    pub probes: Vec<Probe>,
    pub default_exporters: Vec<DefaultExporter>,
}

/// How many of an exporter's targets Prometheus finds up right now (`up` through the proxy).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExporterHealth {
    pub exporter: ExporterId,
    pub up: i64,
    pub total: i64,
}

/// The live state of a project's exporters; `answered` is false when no Prometheus of its shard
/// answered (then `warnings` say why).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectHealth {
    pub answered: bool,
    pub exporters: Vec<ExporterHealth>,
    pub warnings: Vec<String>,
}

/// One scrape of an exporter on one host, as Promgen's exporter "test" shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScrapeResult {
    /// The URL scraped.
    pub target: String,
    /// Its HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it could not be scraped.
    pub error: Option<String>,
    /// Sample lines in the answer (lines that are neither empty nor comments).
    pub samples: usize,
    /// Its first sample lines (each at most 200 characters).
    pub excerpt: Vec<String>,
}

/// An exporter scraped on the first hosts of its project's farm.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ExporterTest {
    pub results: Vec<ScrapeResult>,
    /// Hosts of the farm not scraped (only the first few are).
    pub more_hosts: usize,
}

/// What one Prometheus server of a shard scrapes now (`count(up)` and
/// `sum(scrape_samples_scraped)`), or, when it did not answer, why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerState {
    pub server: PrometheusServer,
    pub targets: Option<i64>,
    pub samples: Option<i64>,
    pub error: Option<String>,
}

/// What a push agent (`promgen agent`) reports after each sync (`POST /api/v1/agent/status`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The shard whose files it writes.
    pub shard: String,
    /// The Prometheus server it serves (`host:port`).
    pub name: String,
    /// The inventory generation its files reflect.
    pub generation: i64,
    /// A hash of the configuration its Prometheus runs after the last reload.
    #[serde(default)]
    pub config_hash: String,
    /// Why the last sync failed (a refused rule file, a failed reload); empty when it did not.
    #[serde(default)]
    pub error: String,
}

/// Where an agent stands: `state` is "in sync", "behind since <time of the change it lacks>",
/// "not heard from since <time>", or its last error. Times are RFC 3339 in UTC.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentState {
    pub name: String,
    pub generation: i64,
    pub current_generation: i64,
    /// Its last sync without error.
    pub synced_at: String,
    pub config_hash: String,
    pub error: String,
    pub reported_at: String,
    pub state: String,
}
