//! Reading Alertmanager's webhook payload (version 4): parse, say exactly what is wrong with a
//! bad one, fill what older Alertmanagers leave out, and the key that tells a repeated delivery
//! from a new one.

use crate::error::AppError;
use crate::model::{LabelMap, WebhookMessage};
use sha2::{Digest, Sha256};

fn bad(why: impl Into<String>) -> AppError {
    AppError::invalid("body", why)
}

/// Parses and checks a webhook body. The error names the place in the document and what is
/// wrong there (`alerts[0].labels.severity: invalid type: integer ...`).
pub fn parse(body: &[u8]) -> Result<WebhookMessage, AppError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let mut message: WebhookMessage = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            bad(format!("not JSON: {inner}"))
        } else if path == "." {
            bad(format!("not an Alertmanager webhook message: {inner}"))
        } else {
            bad(format!("{path}: {inner}"))
        }
    })?;
    de.end().map_err(|e| bad(format!("not JSON: {e}")))?;
    check(&mut message)?;
    Ok(message)
}

fn status_ok(s: &str) -> bool {
    s == "firing" || s == "resolved"
}

/// What must hold, and what can be worked out when an older Alertmanager left it out. The
/// body is taken by its shape, whatever its `version` says (Promgen never reads it): Grafana's
/// alerting sends `"version": "1"` with the same shape.
fn check(m: &mut WebhookMessage) -> Result<(), AppError> {
    for (i, a) in m.alerts.iter().enumerate() {
        if !status_ok(&a.status) {
            return Err(bad(format!("alerts[{i}].status: {:?} is neither firing nor resolved", a.status)));
        }
        if a.labels.is_empty() {
            return Err(bad(format!("alerts[{i}].labels: an alert needs labels")));
        }
    }
    if m.status.is_empty() {
        m.status = if m.alerts.iter().any(|a| a.status == "firing") || m.alerts.is_empty() {
            "firing".into()
        } else {
            "resolved".into()
        };
    } else if !status_ok(&m.status) {
        return Err(bad(format!("status: {:?} is neither firing nor resolved", m.status)));
    }
    if m.common_labels.is_empty() && !m.alerts.is_empty() {
        m.common_labels = common(m.alerts.iter().map(|a| &a.labels));
    }
    if m.common_annotations.is_empty() && !m.alerts.is_empty() {
        m.common_annotations = common(m.alerts.iter().map(|a| &a.annotations));
    }
    if m.group_key.is_empty() {
        let labels = if m.group_labels.is_empty() { &m.common_labels } else { &m.group_labels };
        let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        m.group_key = format!("{{}}:{{{}}}", pairs.join(", "));
    }
    Ok(())
}

/// The labels every map has with the same value.
fn common<'a>(mut maps: impl Iterator<Item = &'a LabelMap>) -> LabelMap {
    let Some(first) = maps.next() else { return LabelMap::new() };
    let mut out = first.clone();
    for m in maps {
        out.retain(|k, v| m.get(k) == Some(v));
    }
    out
}

/// What identifies a notification: the group, its status, and each alert's identity, status,
/// start and end. Alertmanager delivers at least once (HA peers, retries after a timeout,
/// restarts), and a repeat carries the same key; an alert that fires again after it resolved
/// has a new `startsAt`, so it is news.
pub fn dedupe_key(m: &WebhookMessage) -> String {
    // Each alert by its fingerprint and labels (a fingerprint alone could be made to match
    // another alert's), encoded as JSON: joined text let one alert's fields pose as two alerts.
    let mut alerts: Vec<String> = m
        .alerts
        .iter()
        .map(|a| serde_json::to_string(&(&a.fingerprint, &a.labels, &a.status, &a.starts_at, &a.ends_at)))
        .collect::<Result<_, _>>()
        .unwrap_or_default();
    alerts.sort();
    let key = serde_json::to_string(&(&m.group_key, &m.status, alerts)).unwrap_or_default();
    hex(&Sha256::digest(key.as_bytes()))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../fixtures/promgen/alertmanager.json");

    #[test]
    fn reads_alertmanager_sample() {
        let m = parse(SAMPLE.as_bytes()).unwrap();
        assert_eq!((m.status.as_str(), m.alerts.len()), ("firing", 2));
        assert_eq!(m.common_labels["service"], "test-service");
        assert_eq!(m.alerts[1].fingerprint, "77219b85044057b3");
    }

    #[test]
    fn names_what_is_wrong_and_where() {
        for (body, says) in [
            ("{not json", "not JSON"),
            ("[1, 2]", "not an Alertmanager webhook message"),
            ("{}", "missing field `alerts`"),
            (r#"{"alerts": 3}"#, "alerts: invalid type: integer `3`"),
            (r#"{"alerts": [{"status": "firing", "labels": {"a": 1}}]}"#, "alerts[0].labels.a: invalid type: integer"),
            (r#"{"alerts": [{"status": "on fire", "labels": {"a": "b"}}]}"#, "alerts[0].status: \"on fire\""),
            (r#"{"alerts": [{"status": "firing", "labels": {}}]}"#, "alerts[0].labels: an alert needs labels"),
            (r#"{"alerts": []} trailing"#, "not JSON"),
        ] {
            let e = parse(body.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(says), "{body}: {e}");
            assert!(e.starts_with("Body: "), "{e}");
        }
    }

    #[test]
    fn fills_what_older_alertmanagers_leave_out() {
        let body = r#"{"alerts": [
            {"status": "resolved", "labels": {"alertname": "A", "service": "web", "instance": "a"}},
            {"status": "resolved", "labels": {"alertname": "A", "service": "web", "instance": "b"}}]}"#;
        let m = parse(body.as_bytes()).unwrap();
        assert_eq!(m.status, "resolved");
        assert_eq!(m.common_labels.keys().collect::<Vec<_>>(), ["alertname", "service"]);
        assert_eq!(m.group_key, "{}:{alertname=\"A\", service=\"web\"}");
    }

    #[test]
    fn the_same_notification_has_the_same_key() {
        let a = parse(SAMPLE.as_bytes()).unwrap();
        let mut b = a.clone();
        b.alerts.reverse();
        b.receiver = "elsewhere".into();
        assert_eq!(dedupe_key(&a), dedupe_key(&b), "order and receiver do not matter");
        b.alerts[0].status = "resolved".into();
        assert_ne!(dedupe_key(&a), dedupe_key(&b), "an alert resolving is news");
        let mut again = a.clone();
        again.alerts[0].starts_at = "2026-11-30T10:00:00Z".into();
        assert_ne!(dedupe_key(&a), dedupe_key(&again), "firing again, after resolving, is news");
        // A sender cannot make a delivery pose as another: not by a fingerprint shared by
        // other labels, nor by one alert's fields holding what joined two alerts.
        let mut forged = a.clone();
        forged.alerts[0].labels.insert("service".into(), "other".into());
        assert_ne!(dedupe_key(&a), dedupe_key(&forged), "the same fingerprint, other labels");
        let mut one = a.clone();
        one.alerts.sort_by(|x, y| x.fingerprint.cmp(&y.fingerprint));
        let second = one.alerts.pop().unwrap();
        let (fp, status, start, end) = (second.fingerprint, second.status, second.starts_at, second.ends_at);
        one.alerts[0].ends_at += &format!("\0{fp}={status}@{start}..{end}");
        assert_ne!(dedupe_key(&a), dedupe_key(&one), "one alert's fields as two alerts");
    }

    /// Go senders write empty maps and strings as `null`.
    #[test]
    fn null_is_empty() {
        let body = r#"{"status": "firing", "groupLabels": null, "commonLabels": null, "commonAnnotations": null,
            "externalURL": null, "groupKey": null, "alerts": [{"status": "firing", "labels": {"alertname": "A"},
            "annotations": null, "generatorURL": null, "startsAt": null, "fingerprint": null}]}"#;
        let m = parse(body.as_bytes()).unwrap();
        assert_eq!(m.common_labels["alertname"], "A");
        assert!(m.alerts[0].annotations.is_empty());
        assert_eq!(m.group_key, "{}:{alertname=\"A\"}");
    }

    /// Grafana's alerting posts the same shape as `"version": "1"`, with keys of its own.
    #[test]
    fn takes_any_sender_of_the_shape() {
        let grafana = r#"{"receiver": "promgen", "status": "firing", "orgId": 1, "version": "1",
            "groupKey": "{}:{alertname=\"HighCPU\"}", "truncatedAlerts": 0, "title": "[FIRING:1] HighCPU",
            "state": "alerting", "message": "…", "groupLabels": {"alertname": "HighCPU"},
            "commonLabels": {"alertname": "HighCPU", "service": "web"}, "commonAnnotations": {},
            "externalURL": "https://grafana.example/",
            "alerts": [{"status": "firing", "labels": {"alertname": "HighCPU", "service": "web"},
                "annotations": {}, "startsAt": "2026-11-30T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://grafana.example/alerting/grafana/x/view", "fingerprint": "57c6d9296de2ad39",
                "silenceURL": "https://grafana.example/alerting/silence/new", "dashboardURL": "", "panelURL": "",
                "values": {"B": 93.2, "C": 1}, "valueString": "[ var='B' value=93.2 ]"}]}"#;
        let m = parse(grafana.as_bytes()).unwrap();
        assert_eq!((m.version.as_deref(), m.alerts.len()), (Some("1"), 1));
        assert_eq!(m.common_labels["service"], "web");
    }
}
