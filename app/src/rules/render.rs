//! Rendering rules into the file Prometheus loads (spec 2.4): one group per owner, each rule
//! with `<exclude>` expanded, owner labels forced and the `rule` link added; or the same groups
//! as a Kubernetes `PrometheusRule` for prometheus-operator.
//!
//! Decision on ordering (spec 12, Q6): Promgen's order comes from its database (content type
//! ids, then MySQL's case-insensitive collation). It is fixed here in Rust, the same on both
//! databases, and chosen to reproduce Promgen's files: the site group first, then projects,
//! then services, each by id; inside a group, rules by name ignoring case.

use super::exclude::expand;
use super::labels::{owner_labels, rendered_annotations};
use crate::model::{OwnerKind, Rule, RuleId, RuleKind, RuleOwner, Site};
use crate::render::yaml::{Yaml, to_string, to_string_for_kubernetes};
use std::collections::{HashMap, HashSet};

/// The owners of each rule's overrides: what its `<exclude>` expands to.
pub fn overrides_index(rules: &[Rule]) -> HashMap<RuleId, Vec<RuleOwner>> {
    let mut index: HashMap<RuleId, Vec<RuleOwner>> = HashMap::new();
    for r in rules {
        if let Some(parent) = r.parent {
            index.entry(parent).or_default().push(r.owner.clone());
        }
    }
    index
}

/// One rule as it appears in the file.
pub fn rule_entry(rule: &Rule, overrides: &[RuleOwner], site_url: &str) -> Yaml {
    rule_entry_expanded(rule, expand(&rule.expr, overrides).text, site_url)
}

/// One rule as it appears in the file, its expression already expanded.
pub fn rule_entry_expanded(rule: &Rule, expr: String, site_url: &str) -> Yaml {
    let labels = map(owner_labels(&rule.owner, &rule.labels));
    match rule.kind {
        RuleKind::Alert => {
            // In key order, as written: alert, annotations, expr, for, labels.
            let mut entry = vec![
                ("alert".to_string(), Yaml::str(&rule.name)),
                ("annotations".into(), map(rendered_annotations(rule.kind, site_url, rule.id, &rule.annotations))),
                ("expr".into(), Yaml::Str(expr)),
            ];
            if !rule.duration.is_empty() {
                entry.push(("for".into(), Yaml::str(&rule.duration)));
            }
            entry.push(("labels".into(), labels));
            Yaml::Map(entry)
        }
        RuleKind::Record => {
            let mut entry = vec![("expr".to_string(), Yaml::Str(expr))];
            if let Yaml::Map(l) = &labels
                && !l.is_empty()
            {
                entry.push(("labels".into(), labels));
            }
            entry.push(("record".into(), Yaml::str(&rule.name)));
            Yaml::Map(entry)
        }
    }
}

fn map(m: crate::model::LabelMap) -> Yaml {
    Yaml::Map(m.into_iter().map(|(k, v)| (k, Yaml::Str(v))).collect())
}

/// Site, then projects, then services: Promgen's content type order.
fn owner_rank(owner: &RuleOwner) -> (u8, i64) {
    let rank = match owner.kind() {
        OwnerKind::Site => 0,
        OwnerKind::Project => 1,
        OwnerKind::Service => 2,
    };
    (rank, owner.id())
}

/// The `groups:` list of the rules `include` picks; every rule in `rules` counts as an override
/// for the expansions, whether it is included or not.
pub fn groups(rules: &[Rule], site: &Site, include: impl Fn(&Rule) -> bool) -> Yaml {
    let overrides = overrides_index(rules);
    let mut picked: Vec<&Rule> = rules.iter().filter(|r| include(r)).collect();
    picked.sort_by_cached_key(|r| (owner_rank(&r.owner), r.name.to_lowercase(), r.name.clone(), r.id));
    let site_url = site.url();
    let mut groups: Vec<Yaml> = Vec::new();
    let mut current: Option<((u8, i64), Vec<Yaml>, String)> = None;
    // Prometheus refuses a file with two groups of one name (a site whose domain is a
    // service's name): a later owner's group takes its kind and id along.
    let mut names: HashSet<String> = HashSet::new();
    for r in picked {
        let rank = owner_rank(&r.owner);
        if current.as_ref().is_none_or(|c| c.0 != rank) {
            if let Some((_, rules, name)) = current.take() {
                groups.push(group(name, rules));
            }
            let mut name = r.owner.group_name();
            if !names.insert(name.clone()) {
                name = format!("{name} ({} {})", r.owner.kind().as_str(), r.owner.id());
                names.insert(name.clone());
            }
            current = Some((rank, Vec::new(), name));
        }
        let entry = rule_entry(r, overrides.get(&r.id).map_or(&[], Vec::as_slice), &site_url);
        if let Some(c) = current.as_mut() {
            c.1.push(entry);
        }
    }
    if let Some((_, rules, name)) = current {
        groups.push(group(name, rules));
    }
    Yaml::Seq(groups)
}

fn group(name: String, rules: Vec<Yaml>) -> Yaml {
    Yaml::Map(vec![("name".into(), Yaml::Str(name)), ("rules".into(), Yaml::Seq(rules))])
}

/// Why Prometheus would refuse `rule` in the rule file, if it would: its expression (with its
/// overrides excluded) in `dialect`, its name, its labels and its templates. Rules are checked
/// when they are saved; this catches those that came otherwise (a Promgen export, an older
/// release of Promgen-rs, a dialect that changed since).
pub fn refusal(rule: &Rule, overrides: &[RuleOwner], dialect: super::promql::Dialect) -> Option<String> {
    let expansion = expand(&rule.expr, overrides);
    if let Err(e) = super::check_expanded(rule.kind, &rule.expr, expansion, dialect) {
        return Some(format!("expr: {}", e.describe(&rule.expr)));
    }
    let input = crate::model::RuleInput::from_rule(rule);
    if let Err(e) = input.clean() {
        return Some(e.to_string());
    }
    super::check_templates(rule.kind, &rule.labels, &rule.annotations, dialect).err().map(|e| e.to_string())
}

/// The enabled rules Prometheus would refuse, with why (see [`refusal`]).
pub fn refusals(rules: &[Rule], dialect: super::promql::Dialect) -> Vec<(RuleId, String)> {
    let overrides = overrides_index(rules);
    rules
        .iter()
        .filter(|r| r.enabled)
        .filter_map(|r| refusal(r, overrides.get(&r.id).map_or(&[], Vec::as_slice), dialect).map(|why| (r.id, why)))
        .collect()
}

/// The Prometheus rule file of the enabled rules `include` picks.
pub fn render(rules: &[Rule], site: &Site, include: impl Fn(&Rule) -> bool) -> String {
    to_string(&Yaml::Map(vec![("groups".into(), groups(rules, site, |r| r.enabled && include(r)))]))
}

/// The same groups as a prometheus-operator `PrometheusRule` object.
pub fn render_prometheus_rule(
    rules: &[Rule],
    site: &Site,
    include: impl Fn(&Rule) -> bool,
    name: &str,
    namespace: Option<&str>,
) -> String {
    let mut metadata = vec![
        ("name".to_string(), Yaml::str(name)),
        ("labels".into(), Yaml::Map(vec![("app.kubernetes.io/managed-by".into(), Yaml::str("promgen"))])),
    ];
    if let Some(ns) = namespace {
        metadata.push(("namespace".into(), Yaml::str(ns)));
    }
    to_string_for_kubernetes(&Yaml::Map(vec![
        ("apiVersion".into(), Yaml::str("monitoring.coreos.com/v1")),
        ("kind".into(), Yaml::str("PrometheusRule")),
        ("metadata".into(), Yaml::Map(metadata)),
        ("spec".into(), Yaml::Map(vec![("groups".into(), groups(rules, site, |r| r.enabled && include(r)))])),
    ]))
}

/// A file with just `rule` in its owner's group, as promtool checks it and the editor shows it.
pub fn render_one(rule: &Rule, overrides: &[RuleOwner], site: &Site) -> String {
    render_one_expanded(rule, expand(&rule.expr, overrides).text, site)
}

/// [`render_one`] with the expression already expanded.
pub fn render_one_expanded(rule: &Rule, expr: String, site: &Site) -> String {
    let entry = rule_entry_expanded(rule, expr, &site.url());
    to_string(&Yaml::Map(vec![("groups".into(), Yaml::Seq(vec![group(rule.owner.group_name(), vec![entry])]))]))
}

/// Whether `name` is a Kubernetes object name (RFC 1123 subdomain).
pub fn is_kubernetes_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|part| {
            !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LabelMap, ProjectId, ServiceId};

    fn labels(pairs: &[(&str, &str)]) -> LabelMap {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn site_owner() -> RuleOwner {
        RuleOwner::Site { domain: "promgen.example.com".into() }
    }

    fn rule(id: i64, name: &str, expr: &str, owner: RuleOwner, parent: Option<i64>) -> Rule {
        Rule {
            id: RuleId(id),
            kind: RuleKind::Alert,
            name: name.into(),
            expr: expr.into(),
            duration: "5m".into(),
            enabled: true,
            description: String::new(),
            labels: labels(&[("severity", "major")]),
            annotations: labels(&[("summary", "Disk {{ $labels.instance }}")]),
            parent: parent.map(RuleId),
            owner,
        }
    }

    #[test]
    fn group_names_are_unique() {
        let site = RuleOwner::Site { domain: "web".into() };
        let service = RuleOwner::Service { id: ServiceId(3), name: "web".into() };
        let rule = |id: i64, owner: RuleOwner| Rule {
            id: RuleId(id),
            kind: RuleKind::Alert,
            name: format!("R{id}"),
            expr: "up == 0".into(),
            duration: String::new(),
            enabled: true,
            description: String::new(),
            labels: Default::default(),
            annotations: Default::default(),
            parent: None,
            owner,
        };
        let out = render(
            &[rule(1, site), rule(2, service)],
            &Site { domain: "web".into(), scheme: "http".into(), external_url: None },
            |_| true,
        );
        assert!(out.contains("- name: web\n") && out.contains("- name: web (service 3)\n"), "{out}");
    }

    fn site(scheme: &str) -> Site {
        Site { domain: "promgen.example.com".into(), scheme: scheme.into(), external_url: None }
    }

    /// Spec 2.6, example B: a site rule overridden by two services, one of them overridden by
    /// a project. Byte for byte Promgen's output, but for Promgen's `service: x` label on the
    /// site rule (quirk Q7: we strip routing labels from site rules).
    #[test]
    fn promgen_example_b() {
        let s1 = RuleOwner::Service { id: ServiceId(1), name: "test-service".into() };
        let s2 = RuleOwner::Service { id: ServiceId(2), name: "other-service".into() };
        let p1 = RuleOwner::Project {
            id: ProjectId(1),
            name: "test-project".into(),
            service_id: ServiceId(1),
            service: "test-service".into(),
        };
        let disk = "node_filesystem_free{<exclude>} / node_filesystem_size{<exclude>} < 0.20";
        let mut site_rule = rule(4, "DiskFull", disk, site_owner(), None);
        site_rule.labels.insert("service".into(), "x".into());
        let rules = vec![
            site_rule,
            rule(
                5,
                "DiskFull_test_service",
                &disk.replace("<exclude>", "service=\"test-service\",<exclude>"),
                s1,
                Some(4),
            ),
            rule(
                6,
                "DiskFull_other_service",
                &disk.replace("<exclude>", "service=\"other-service\",<exclude>"),
                s2,
                Some(4),
            ),
            rule(
                7,
                "DiskFull_test_service_test_project",
                &disk.replace("<exclude>", "service=\"test-service\",project=\"test-project\",<exclude>"),
                p1,
                Some(5),
            ),
        ];
        let expected = r#"groups:
- name: promgen.example.com
  rules:
  - alert: DiskFull
    annotations:
      rule: http://promgen.example.com/rule/4
      summary: Disk {{ $labels.instance }}
    expr: node_filesystem_free{service!~"test-service|other-service"} / node_filesystem_size{service!~"test-service|other-service"}
      < 0.20
    for: 5m
    labels:
      severity: major
- name: test-service » test-project
  rules:
  - alert: DiskFull_test_service_test_project
    annotations:
      rule: http://promgen.example.com/rule/7
      summary: Disk {{ $labels.instance }}
    expr: node_filesystem_free{service="test-service",project="test-project",} / node_filesystem_size{service="test-service",project="test-project",}
      < 0.20
    for: 5m
    labels:
      project: test-project
      service: test-service
      severity: major
- name: test-service
  rules:
  - alert: DiskFull_test_service
    annotations:
      rule: http://promgen.example.com/rule/5
      summary: Disk {{ $labels.instance }}
    expr: node_filesystem_free{service="test-service",project!~"test-project"} / node_filesystem_size{service="test-service",project!~"test-project"}
      < 0.20
    for: 5m
    labels:
      service: test-service
      severity: major
- name: other-service
  rules:
  - alert: DiskFull_other_service
    annotations:
      rule: http://promgen.example.com/rule/6
      summary: Disk {{ $labels.instance }}
    expr: node_filesystem_free{service="other-service",} / node_filesystem_size{service="other-service",}
      < 0.20
    for: 5m
    labels:
      service: other-service
      severity: major
"#;
        assert_eq!(render(&rules, &site("http"), |_| true), expected);
    }

    /// Spec 2.6, example C (`test_write_new`): exact bytes, https, case-insensitive order,
    /// disabled rules left out.
    #[test]
    fn promgen_example_c() {
        let mut example = rule(1, "example-rule", "up==1", site_owner(), None);
        example.duration = "1s".into();
        example.labels = labels(&[("severity", "high")]);
        example.annotations = labels(&[("summary", "Example rule summary")]);
        let mut site_rule = rule(3, "Site Rule", "up == 1", site_owner(), None);
        site_rule.duration = "1m".into();
        site_rule.labels.clear();
        site_rule.annotations.clear();
        let project = RuleOwner::Project {
            id: ProjectId(1),
            name: "test-project".into(),
            service_id: ServiceId(1),
            service: "test-service".into(),
        };
        let mut disabled = rule(2, "Test Rule 2", "up != 0", project, Some(1));
        disabled.enabled = false;
        let expected = "groups:
- name: promgen.example.com
  rules:
  - alert: example-rule
    annotations:
      rule: https://promgen.example.com/rule/1
      summary: Example rule summary
    expr: up==1
    for: 1s
    labels:
      severity: high
  - alert: Site Rule
    annotations:
      rule: https://promgen.example.com/rule/3
    expr: up == 1
    for: 1m
    labels: {}
";
        assert_eq!(render(&[site_rule, disabled, example], &site("https"), |_| true), expected);
    }

    #[test]
    fn recording_rules_and_prometheus_rule_objects() {
        let mut rec = rule(9, "job:up:sum", "sum by (job) (up{<exclude>})", site_owner(), None);
        rec.kind = RuleKind::Record;
        rec.duration.clear();
        rec.labels.clear();
        rec.annotations.clear();
        let out = render_prometheus_rule(&[rec], &site("http"), |_| true, "promgen", Some("monitoring"));
        assert_eq!(
            out,
            "apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  labels:
    app.kubernetes.io/managed-by: promgen
  name: promgen
  namespace: monitoring
spec:
  groups:
  - name: promgen.example.com
    rules:
    - expr: sum by (job) (up{})
      record: job:up:sum
"
        );
        assert!(is_kubernetes_name("promgen-rules"));
        assert!(!is_kubernetes_name("Promgen"));
        assert_eq!(render(&[], &site("http"), |_| true), "groups: []\n");
    }
}
