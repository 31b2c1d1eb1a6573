//! `/api/v1/targets`: one file_sd entry per enabled exporter of a project with a farm, listing
//! the farm's hosts at the exporter's port (spec 3.1).

use super::{FileSdGroup, to_file_sd_json};
use crate::model::{ExporterId, FarmId, Scheme, validate::query_params};
use std::collections::{BTreeMap, HashMap};

/// An enabled exporter with the names of what it belongs to.
#[derive(Clone, Debug)]
pub struct ScrapeJob {
    pub exporter_id: ExporterId,
    pub shard: String,
    pub service: String,
    pub project: String,
    pub farm_id: FarmId,
    pub farm: String,
    pub farm_source: String,
    pub job: String,
    pub port: i64,
    pub path: String,
    pub scheme: Scheme,
}

impl ScrapeJob {
    fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = BTreeMap::new();
        labels.insert("__shard".into(), self.shard.clone());
        labels.insert("service".into(), self.service.clone());
        labels.insert("project".into(), self.project.clone());
        labels.insert("farm".into(), self.farm.clone());
        labels.insert("__farm_source".into(), self.farm_source.clone());
        labels.insert("job".into(), self.job.clone());
        labels.insert("__scheme__".into(), self.scheme.as_str().into());
        if !self.path.is_empty() {
            let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
            labels.insert("__metrics_path__".into(), path.into());
            // As Promgen: the first value of each parameter.
            for (key, value) in query_params(query) {
                labels.entry(format!("__param_{key}")).or_insert(value);
            }
        }
        labels
    }
}

/// Renders file_sd JSON. Entries are ordered by job, then port, then exporter id (Promgen's
/// `ordering = (job, port)`), hosts by name. An exporter whose farm has no hosts still gets an
/// entry with no targets, as in Promgen.
pub fn render_targets(jobs: &[ScrapeJob], hosts: &HashMap<FarmId, Vec<String>>) -> String {
    let mut order: Vec<&ScrapeJob> = jobs.iter().collect();
    order.sort_by(|a, b| (&a.job, a.port, a.exporter_id).cmp(&(&b.job, b.port, b.exporter_id)));
    let groups: Vec<FileSdGroup> = order
        .into_iter()
        .map(|job| {
            let targets = hosts
                .get(&job.farm_id)
                .map(|names| names.iter().map(|h| format!("{h}:{}", job.port)).collect())
                .unwrap_or_default();
            FileSdGroup { labels: job.labels(), targets }
        })
        .collect();
    to_file_sd_json(&groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_job(path: &str) -> ScrapeJob {
        ScrapeJob {
            exporter_id: ExporterId(1),
            shard: "test-shard".into(),
            service: "test-service".into(),
            project: "test-project".into(),
            farm_id: FarmId(1),
            farm: "test-farm".into(),
            farm_source: "promgen".into(),
            job: "node".into(),
            port: 9100,
            path: path.into(),
            scheme: Scheme::Http,
        }
    }

    fn as_value(s: &str) -> serde_json::Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn equals_promgen_export() {
        let hosts = HashMap::from([(FarmId(1), vec!["example.com".to_string()])]);
        let out = render_targets(&[fixture_job("/metrics")], &hosts);
        let expected = include_str!("../../fixtures/promgen/export.targets.json");
        assert_eq!(as_value(&out), as_value(expected));
    }

    #[test]
    fn query_parameters_become_param_labels() {
        let hosts = HashMap::from([(FarmId(1), vec!["example.com".to_string()])]);
        let job = fixture_job("/metrics?match[]={job=\"prometheus\"}&param1=foo&param2=bar");
        let out = render_targets(&[job], &hosts);
        let expected = include_str!("../../fixtures/promgen/export.targets_with_query_params.json");
        assert_eq!(as_value(&out), as_value(expected));
    }

    #[test]
    fn farm_without_hosts_keeps_its_entry_and_order_is_job_then_port() {
        let mut b = fixture_job("");
        b.job = "alpha".into();
        b.port = 9200;
        b.farm_id = FarmId(2);
        let mut c = b.clone();
        c.port = 80;
        let out = as_value(&render_targets(&[fixture_job(""), b, c], &HashMap::new()));
        let ports: Vec<_> =
            out.as_array().unwrap().iter().map(|g| g["labels"]["job"].as_str().unwrap().to_string()).collect();
        assert_eq!(ports, ["alpha", "alpha", "node"]);
        assert_eq!(out[0]["targets"], serde_json::json!([]));
        assert!(out[0]["labels"].get("__metrics_path__").is_none());
    }
}
