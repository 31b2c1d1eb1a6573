//! The site rules a new installation starts with: what every fleet needs on day one. Each one
//! keeps the `service` and `project` labels through its aggregations, so its alerts route to
//! the owners of the hosts, and has `<exclude>`, so teams can override it.

use crate::model::{LabelMap, RuleInput, RuleKind};

fn pairs(p: &[(&str, &str)]) -> LabelMap {
    p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn alert(name: &str, expr: &str, duration: &str, severity: &str, summary: &str, description: &str) -> RuleInput {
    RuleInput {
        kind: RuleKind::Alert,
        name: name.into(),
        expr: expr.into(),
        duration: duration.into(),
        enabled: true,
        description: description.into(),
        labels: pairs(&[("severity", severity)]),
        annotations: pairs(&[("summary", summary), ("description", description)]),
    }
}

pub fn default_rules() -> Vec<RuleInput> {
    vec![
        alert(
            "InstanceDown",
            "up{<exclude>} == 0",
            "5m",
            "critical",
            "{{ $labels.instance }} of job {{ $labels.job }} is down",
            "Prometheus has not been able to scrape this target for 5 minutes.",
        ),
        alert(
            "HighCPULoad",
            "100 * (1 - avg by (instance, service, project) (rate(node_cpu_seconds_total{mode=\"idle\",<exclude>}[5m]))) > 90",
            "15m",
            "warning",
            "CPU of {{ $labels.instance }} is {{ $value | humanize }}% busy",
            "The CPUs of this host have been more than 90% busy for 15 minutes.",
        ),
        alert(
            "HighMemoryUsage",
            "100 * (1 - node_memory_MemAvailable_bytes{<exclude>} / node_memory_MemTotal_bytes{<exclude>}) > 90",
            "15m",
            "warning",
            "Memory of {{ $labels.instance }} is {{ $value | humanize }}% used",
            "Less than 10% of this host's memory has been available for 15 minutes.",
        ),
        alert(
            "RootFilesystemFillingUp",
            "predict_linear(node_filesystem_avail_bytes{mountpoint=\"/\",fstype!~\"tmpfs|ramfs\",<exclude>}[6h], 4 * 3600) < 0",
            "30m",
            "critical",
            "The root filesystem of {{ $labels.instance }} will be full within four hours",
            "At the rate it has filled over the last six hours, / on this host runs out of space within four hours.",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pack_is_valid() {
        for r in default_rules() {
            let r = r.clean().expect("valid input");
            let oldest = crate::rules::promql::Dialect::of(crate::rules::promql::Version::OLDEST);
            crate::rules::check_expr(r.kind, &r.expr, &[], oldest)
                .unwrap_or_else(|e| panic!("{}: {}", r.name, e.describe(&r.expr)));
        }
    }
}
