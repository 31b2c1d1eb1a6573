//! `/api/v1/targets`: one file_sd entry per enabled exporter of a project with a farm, listing
//! the farm's hosts at the exporter's port (spec 3.1).

use crate::model::{ExporterId, FarmId, Scheme, validate::query_params};
use std::collections::HashMap;

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
    /// Labels in key order, as `json.dumps(sort_keys=True)` writes them. The fixed keys sort
    /// as listed; `__param_*` keys fall between `__metrics_path__` and `__scheme__`.
    fn labels(&self) -> Vec<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> {
        use std::borrow::Cow::{Borrowed, Owned};
        let mut labels = vec![(Borrowed("__farm_source"), Borrowed(self.farm_source.as_str()))];
        if !self.path.is_empty() {
            let (path, query) = self.path.split_once('?').unwrap_or((&self.path, ""));
            labels.push((Borrowed("__metrics_path__"), Borrowed(path)));
            let mut params: Vec<(String, String)> = Vec::new();
            // As Promgen: the first value of each parameter.
            for (key, value) in query_params(query) {
                if !params.iter().any(|(k, _)| *k == key) {
                    params.push((key, value));
                }
            }
            params.sort();
            labels.extend(params.into_iter().map(|(k, v)| (Owned(format!("__param_{k}")), Owned(v))));
        }
        labels.extend([
            (Borrowed("__scheme__"), Borrowed(self.scheme.as_str())),
            (Borrowed("__shard"), Borrowed(self.shard.as_str())),
            (Borrowed("farm"), Borrowed(self.farm.as_str())),
            (Borrowed("job"), Borrowed(self.job.as_str())),
            (Borrowed("project"), Borrowed(self.project.as_str())),
            (Borrowed("service"), Borrowed(self.service.as_str())),
        ]);
        labels
    }
}

/// Renders file_sd JSON, byte for byte as `serde_json::to_string_pretty` would (two-space
/// indent, Promgen's shape), written directly: this is the hot path of `/api/v1/targets`.
/// Entries are ordered by job, then port, then exporter id (Promgen's `ordering = (job, port)`),
/// hosts by name. An exporter whose farm has no hosts still gets an entry with no targets, as
/// in Promgen.
pub fn render_targets(jobs: &[ScrapeJob], hosts: &HashMap<FarmId, Vec<String>>) -> String {
    let mut order: Vec<&ScrapeJob> = jobs.iter().collect();
    order.sort_by(|a, b| (&a.job, a.port, a.exporter_id).cmp(&(&b.job, b.port, b.exporter_id)));
    let size: usize = order.iter().map(|j| 300 + hosts.get(&j.farm_id).map_or(0, |h| h.len() * 48)).sum();
    let mut out = String::with_capacity(size);
    if order.is_empty() {
        out.push_str("[]");
        return out;
    }
    out.push('[');
    for (i, job) in order.into_iter().enumerate() {
        out.push_str(if i == 0 { "\n  {\n    \"labels\": {" } else { ",\n  {\n    \"labels\": {" });
        for (n, (key, value)) in job.labels().iter().enumerate() {
            out.push_str(if n == 0 { "\n      " } else { ",\n      " });
            push_json_str(&mut out, key);
            out.push_str(": ");
            push_json_str(&mut out, value);
        }
        out.push_str("\n    },\n    \"targets\": [");
        let names = hosts.get(&job.farm_id).map_or(&[][..], |h| h.as_slice());
        let port = job.port.to_string();
        for (n, host) in names.iter().enumerate() {
            out.push_str(if n == 0 { "\n      " } else { ",\n      " });
            if needs_escape(host) || host.contains(':') {
                push_json_str(&mut out, &crate::model::validate::host_port(host, &port));
            } else {
                out.push('"');
                out.push_str(host);
                out.push(':');
                out.push_str(&port);
                out.push('"');
            }
        }
        out.push_str(if names.is_empty() { "]\n  }" } else { "\n    ]\n  }" });
    }
    out.push_str("\n]");
    out
}

fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Appends `s` as a JSON string; serde_json does the escaping when there is any to do.
fn push_json_str(out: &mut String, s: &str) {
    if !needs_escape(s) {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        out.push_str(&serde_json::to_string(s).unwrap_or_default());
    }
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
    fn writes_exactly_what_serde_json_pretty_writes() {
        let mut odd = fixture_job("/probe?module=http_2xx&b=\"quoted\"&a=line\\u0001");
        odd.farm = "farm \"x\" \\ \u{7}".into();
        let mut empty = fixture_job("");
        empty.farm_id = FarmId(9);
        let hosts = HashMap::from([(FarmId(1), vec!["a.example.com".to_string(), "b.example.com".to_string()])]);
        let jobs = [odd, empty];
        let expected: Vec<crate::render::FileSdGroup> = jobs
            .iter()
            .map(|j| crate::render::FileSdGroup {
                labels: j.labels().into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect(),
                targets: hosts
                    .get(&j.farm_id)
                    .map(|h| h.iter().map(|h| format!("{h}:9100")).collect())
                    .unwrap_or_default(),
            })
            .collect();
        assert_eq!(render_targets(&jobs, &hosts), serde_json::to_string_pretty(&expected).unwrap());
        assert_eq!(render_targets(&[], &hosts), "[]");
    }

    #[test]
    fn ipv6_hosts_are_bracketed() {
        let hosts = HashMap::from([(FarmId(1), vec!["2001:db8::10".to_string(), "10.0.0.1".to_string()])]);
        let out = as_value(&render_targets(&[fixture_job("")], &hosts));
        assert_eq!(out[0]["targets"], serde_json::json!(["[2001:db8::10]:9100", "10.0.0.1:9100"]));
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
