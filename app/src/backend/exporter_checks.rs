//! Is a project's scraping working? Two answers for its page: how many targets of each exporter
//! Prometheus finds up (`up` asked through the query proxy, on the project's shard), and
//! Promgen's exporter "test": scrape the exporter on the farm's first hosts from here and show
//! what came back.

use super::inventory::Inventory;
use super::proxy::{Proxy, Scope};
use super::query_proxy::Endpoint;
use super::{Actor, Db, policy};
use crate::error::AppError;
use crate::model::*;
use std::time::Duration;

/// Hosts scraped by one test.
const TEST_HOSTS: usize = 5;
/// The most of a scrape read.
const SCRAPE_LIMIT: usize = 4 << 20;
/// Sample lines shown per scrape, and their longest length in characters.
const EXCERPT_LINES: usize = 10;
const EXCERPT_WIDTH: usize = 200;

#[derive(Clone)]
pub struct ExporterChecks {
    db: Db,
    inventory: Inventory,
    proxy: Proxy,
    client: reqwest::Client,
}

impl ExporterChecks {
    pub fn new(db: Db, inventory: Inventory, proxy: Proxy, timeout: Duration) -> ExporterChecks {
        let client = reqwest::Client::builder()
            .timeout(timeout.min(Duration::from_secs(10)))
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            // Hosts users register are private networks, fine; the cloud's metadata service is not.
            .dns_resolver(std::sync::Arc::new(super::notify::guard::NoLinkLocal))
            .no_proxy()
            .user_agent(concat!("promgen-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        ExporterChecks { db, inventory, proxy, client }
    }

    /// Up and total targets of each of the project's exporters, from its shard's Prometheus.
    pub async fn health(&self, actor: &Actor, project: ProjectId) -> Result<ProjectHealth, AppError> {
        let d = self.inventory.project(actor, project).await?;
        let query = format!(
            "up{{service={},project={}}}",
            promql_string(&d.project.service_name),
            promql_string(&d.project.name)
        );
        let merged =
            self.proxy.fan_out(Scope::Project(project), &Endpoint::Query, &[("query".to_string(), query)]).await?;
        let warnings: Vec<String> = merged.body["warnings"]
            .as_array()
            .map(|w| w.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if merged.status != 200 {
            let why = merged.body["error"].as_str().unwrap_or("no Prometheus answered").to_string();
            return Ok(ProjectHealth { answered: false, exporters: Vec::new(), warnings: vec![why] });
        }
        let samples: Vec<(String, i64, bool)> = merged.body["data"]["result"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|s| {
                        let job = s["metric"]["job"].as_str()?.to_string();
                        let port = s["metric"]["instance"].as_str()?.rsplit_once(':')?.1.parse().ok()?;
                        let value = s["value"][1].as_str()?.parse::<f64>().ok()?;
                        Some((job, port, value == 1.0))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let exporters = d
            .exporters
            .iter()
            .map(|e| {
                let mine = samples.iter().filter(|(job, port, _)| *job == e.job && *port == e.port);
                let (total, up) = mine.fold((0, 0), |(t, u), (_, _, is_up)| (t + 1, u + i64::from(*is_up)));
                ExporterHealth { exporter: e.id, up, total }
            })
            .collect();
        Ok(ProjectHealth { answered: true, exporters, warnings })
    }

    /// Scrapes exporter `id` on the first hosts of its project's farm, all at once. Only those
    /// who may edit the project may: it makes this server connect to their hosts.
    pub async fn test(&self, actor: &Actor, id: ExporterId) -> Result<ExporterTest, AppError> {
        actor.require()?;
        let project = self.inventory.exporter_row(id).await?.project_id;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project), "test this exporter").await?;
        let d = self.inventory.project(actor, project).await?;
        let Some(e) = d.exporters.iter().find(|e| e.id == id) else {
            return Err(AppError::NotFound(format!("exporter {id}")));
        };
        let path = if e.path.is_empty() { "/metrics".to_string() } else { e.path.clone() };
        let mut asks = tokio::task::JoinSet::new();
        for (i, host) in d.hosts.iter().take(TEST_HOSTS).enumerate() {
            let target =
                format!("{}://{}{}", e.scheme.as_str(), crate::model::validate::host_port(&host.name, e.port), path);
            let client = self.client.clone();
            asks.spawn(async move { (i, scrape(&client, target).await) });
        }
        let mut results = asks.join_all().await;
        results.sort_by_key(|(i, _)| *i);
        Ok(ExporterTest {
            results: results.into_iter().map(|(_, r)| r).collect(),
            more_hosts: d.hosts.len().saturating_sub(TEST_HOSTS),
        })
    }
}

async fn scrape(client: &reqwest::Client, target: String) -> ScrapeResult {
    let failed = |target: String, why: String| ScrapeResult {
        target,
        status: None,
        error: Some(why),
        samples: 0,
        excerpt: vec![],
    };
    // An address written out is not resolved, so the resolver's check is made here.
    let literal = reqwest::Url::parse(&target).ok().and_then(|u| match u.host() {
        Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
        _ => None,
    });
    if literal.is_some_and(super::notify::guard::is_link_local) {
        return failed(target, "a link-local address (cloud metadata) is not scraped from here".into());
    }
    let res = match client.get(&target).header(reqwest::header::ACCEPT, "text/plain;version=0.0.4").send().await {
        Ok(res) => res,
        Err(e) if e.is_timeout() => return failed(target, "did not answer in time".into()),
        Err(e) => return failed(target, format!("unreachable: {}", super::proxy::root_cause(&e))),
    };
    let status = res.status().as_u16();
    let body = match super::http_body::read_capped(res, SCRAPE_LIMIT).await {
        Ok(b) => b,
        Err(e) => return ScrapeResult { status: Some(status), ..failed(target, e) },
    };
    let text = String::from_utf8_lossy(&body);
    // Only what reads as samples is counted and shown: another kind of answer stays unseen.
    let lines = text.lines().map(str::trim).filter(|l| is_sample_line(l));
    let excerpt = lines.clone().take(EXCERPT_LINES).map(|l| l.chars().take(EXCERPT_WIDTH).collect()).collect();
    ScrapeResult {
        target,
        status: Some(status),
        error: (!(200..300).contains(&status)).then(|| format!("answered {status}")),
        samples: lines.count(),
        excerpt,
    }
}

/// Whether `line` reads as a sample of Prometheus' text format: a metric name, optional labels
/// in braces, and a value.
fn is_sample_line(line: &str) -> bool {
    let name_end = line.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(line.len());
    let (name, rest) = line.split_at(name_end);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let rest = match rest.strip_prefix('{') {
        Some(labels) => match labels.rfind('}') {
            Some(end) => &labels[end + 1..],
            None => return false,
        },
        None => rest,
    };
    rest.starts_with([' ', '\t']) && !rest.trim().is_empty()
}

/// `value` as a PromQL string literal: double quotes, with `\`, `"` and new lines escaped.
pub fn promql_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_samples_are_shown() {
        for yes in ["up 1", "http_requests_total{code=\"200\",path=\"/a b\"} 12 1700000000", "a:b_c 1e3"] {
            assert!(super::is_sample_line(yes), "{yes}");
        }
        for no in ["ami-id", "<html>", "# HELP up x", "{a=\"b\"} 1", "1abc 2", "secret_key", "{\"Code\" : \"Success\"}"]
        {
            assert!(!super::is_sample_line(no), "{no}");
        }
    }

    #[test]
    fn promql_strings_are_escaped() {
        assert_eq!(super::promql_string(r#"a"b\c"#), r#""a\"b\\c""#);
        let hostile = format!("up{{project={}}}", super::promql_string("x\"}) or vector(1"));
        assert!(crate::rules::promql::parse(&hostile).is_ok(), "{hostile}");
    }
}
