//! The server's own metrics, in Prometheus' text format: counters and histograms kept in
//! memory by this process (each replica is its own scrape target), gauges read when scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Buckets for request durations, in seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
pub struct Metrics {
    alerts_received: AtomicU64,
    alerts_duplicate: AtomicU64,
    alerts_ignored: AtomicU64,
    alerts_unrouted: AtomicU64,
    webhook_refused: AtomicU64,
    csp_violations: AtomicU64,
    /// (notifier kind, outcome) → count; outcome is sent, retry or failed.
    notifications: Mutex<BTreeMap<(String, &'static str), u64>>,
    /// (method, route, status class) → durations.
    requests: Mutex<BTreeMap<(String, String), Histogram>>,
}

/// Values read when the metrics are scraped.
pub struct Gauges {
    pub outbox_queued: i64,
    pub outbox_oldest_seconds: f64,
    pub outbox_failed: i64,
    pub websocket_clients: usize,
    pub heartbeat_last_seen: Option<f64>,
    /// Rules the last rendering of the rule file left out, and whether promtool refused it.
    pub rule_file_left_out: usize,
    pub rule_file_refused: bool,
}

impl Metrics {
    pub fn alert_received(&self) {
        self.alerts_received.fetch_add(1, Ordering::Relaxed);
    }

    pub fn alert_duplicate(&self) {
        self.alerts_duplicate.fetch_add(1, Ordering::Relaxed);
    }

    pub fn alert_ignored(&self) {
        self.alerts_ignored.fetch_add(1, Ordering::Relaxed);
    }

    /// A stored delivery that queued no notification: nobody was told.
    pub fn alert_unrouted(&self) {
        self.alerts_unrouted.fetch_add(1, Ordering::Relaxed);
    }

    pub fn webhook_refused(&self) {
        self.webhook_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn csp_violation(&self) {
        self.csp_violations.fetch_add(1, Ordering::Relaxed);
    }

    pub fn notification(&self, kind: &str, outcome: &'static str) {
        if let Ok(mut m) = self.notifications.lock() {
            *m.entry((kind.to_string(), outcome)).or_default() += 1;
        }
    }

    pub fn request(&self, method: &str, route: &str, seconds: f64) {
        if let Ok(mut m) = self.requests.lock() {
            let h = m.entry((method.to_string(), route.to_string())).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += seconds;
        }
    }

    pub fn render(&self, g: &Gauges) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        let gauge = |out: &mut String, name: &str, help: &str, v: String| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        counter(
            &mut out,
            "promgen_alerts_received_total",
            "Webhook deliveries from Alertmanager stored.",
            self.alerts_received.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "promgen_alerts_duplicate_total",
            "Repeated deliveries recognised and not notified again.",
            self.alerts_duplicate.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "promgen_alerts_ignored_total",
            "Deliveries dropped by the ignore rules or the heartbeat.",
            self.alerts_ignored.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "promgen_alerts_unrouted_total",
            "Deliveries stored that reached no notifier (see the alert's routing).",
            self.alerts_unrouted.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "promgen_webhook_refused_total",
            "Webhook requests refused (bad body, no token, too large).",
            self.webhook_refused.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "promgen_csp_violations_total",
            "Content-Security-Policy violations reported by browsers.",
            self.csp_violations.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP promgen_notifications_total Notification attempts by notifier type and outcome (sent, retry, failed)."
        );
        let _ = writeln!(out, "# TYPE promgen_notifications_total counter");
        if let Ok(m) = self.notifications.lock() {
            for ((kind, outcome), v) in m.iter() {
                let _ =
                    writeln!(out, "promgen_notifications_total{{sender_type=\"{kind}\",outcome=\"{outcome}\"}} {v}");
            }
        }
        gauge(
            &mut out,
            "promgen_outbox_queued",
            "Notifications waiting to be sent (queued or being sent).",
            g.outbox_queued.to_string(),
        );
        gauge(
            &mut out,
            "promgen_outbox_oldest_seconds",
            "Age of the oldest notification still waiting.",
            format!("{:.3}", g.outbox_oldest_seconds),
        );
        gauge(
            &mut out,
            "promgen_outbox_failed",
            "Notifications given up on after their last retry.",
            g.outbox_failed.to_string(),
        );
        gauge(
            &mut out,
            "promgen_websocket_clients",
            "Browsers connected to the live alert feed.",
            g.websocket_clients.to_string(),
        );
        gauge(
            &mut out,
            "promgen_rule_file_rules_left_out",
            "Rules left out of the rule file because Prometheus would refuse them (as of its last rendering).",
            g.rule_file_left_out.to_string(),
        );
        gauge(
            &mut out,
            "promgen_rule_file_refused",
            "1 while promtool refuses the newest rule file and the last good one is served.",
            u8::from(g.rule_file_refused).to_string(),
        );
        if let Some(t) = g.heartbeat_last_seen {
            gauge(
                &mut out,
                "promgen_heartbeat_last_seen_timestamp_seconds",
                "When the heartbeat alert last arrived.",
                format!("{t:.3}"),
            );
        }
        let _ = writeln!(out, "# HELP promgen_http_request_duration_seconds HTTP requests by method and route.");
        let _ = writeln!(out, "# TYPE promgen_http_request_duration_seconds histogram");
        if let Ok(m) = self.requests.lock() {
            for ((method, route), h) in m.iter() {
                let labels = format!("method=\"{method}\",route=\"{}\"", route.replace('"', "\\\""));
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "promgen_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ =
                    writeln!(out, "promgen_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "promgen_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "promgen_http_request_duration_seconds_count{{{labels}}} {}", h.count);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_is_prometheus_text() {
        let m = Metrics::default();
        m.alert_received();
        m.notification("slack", "sent");
        m.request("POST", "/api/v1/alerts", 0.003);
        let out = m.render(&Gauges {
            outbox_queued: 2,
            outbox_oldest_seconds: 1.5,
            outbox_failed: 0,
            websocket_clients: 3,
            heartbeat_last_seen: None,
            rule_file_left_out: 2,
            rule_file_refused: false,
        });
        assert!(out.contains("promgen_rule_file_rules_left_out 2\n"));
        assert!(out.contains("promgen_alerts_received_total 1\n"));
        assert!(out.contains("promgen_notifications_total{sender_type=\"slack\",outcome=\"sent\"} 1\n"));
        assert!(out.contains(
            "promgen_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/alerts\",le=\"0.005\"} 1\n"
        ));
        assert!(out.contains(
            "promgen_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/alerts\",le=\"0.0025\"} 0\n"
        ));
        assert!(out.contains("promgen_websocket_clients 3\n"));
    }
}
