//! `/api/v1/urls`: blackbox targets grouped by project, service, shard and probe module
//! (spec 3.2).

use super::{FileSdGroup, to_file_sd_json};
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct ProbeTarget {
    pub url: String,
    pub project: String,
    pub service: String,
    pub shard: String,
    pub module: String,
}

/// Groups keep the order of their first URL when URLs are sorted by service, project and URL,
/// as Promgen's `URL` ordering.
pub fn render_urls(targets: &[ProbeTarget]) -> String {
    let mut order: Vec<&ProbeTarget> = targets.iter().collect();
    order.sort_by(|a, b| (&a.service, &a.project, &a.url).cmp(&(&b.service, &b.project, &b.url)));
    // (project, service, shard, module) -> URLs, in first-seen order.
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
    let mut groups: Vec<(Key, Vec<String>)> = Vec::new();
    for t in order {
        let key = (t.project.as_str(), t.service.as_str(), t.shard.as_str(), t.module.as_str());
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, urls)) => urls.push(t.url.clone()),
            None => groups.push((key, vec![t.url.clone()])),
        }
    }
    let groups: Vec<FileSdGroup> = groups
        .into_iter()
        .map(|((project, service, shard, module), targets)| {
            let labels = BTreeMap::from([
                ("project".to_string(), project.to_string()),
                ("service".to_string(), service.to_string()),
                ("job".to_string(), module.to_string()),
                ("__shard".to_string(), shard.to_string()),
                ("__param_module".to_string(), module.to_string()),
            ]);
            FileSdGroup { labels, targets }
        })
        .collect();
    to_file_sd_json(&groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_promgen_export() {
        let t = |url: &str, project: &str, service: &str, module: &str| ProbeTarget {
            url: url.into(),
            project: project.into(),
            service: service.into(),
            shard: "test-shard".into(),
            module: module.into(),
        };
        let out = render_urls(&[
            t("probe.example.com", "test-project", "test-service", "fixture_test"),
            t("probe-2.example.com", "another-project", "other-service", "http_2xx"),
        ]);
        let expected = include_str!("../../fixtures/promgen/export.urls.json");
        let a: serde_json::Value = serde_json::from_str(&out).unwrap();
        let b: serde_json::Value = serde_json::from_str(expected).unwrap();
        assert_eq!(a, b);
    }
}
