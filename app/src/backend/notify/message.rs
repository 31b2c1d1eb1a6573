//! What notifiers send: Promgen's message templates (`promgen/templates/promgen/sender/`),
//! written in Jinja (minijinja) so each notifier may carry its own, and Promgen's JSON bodies
//! for webhooks, Alertmanager and PagerDuty Events v2.

use crate::model::WebhookMessage;
use minijinja::{Environment, UndefinedBehavior};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

pub use crate::model::{DEFAULT_BODY_TEMPLATE as DEFAULT_BODY, DEFAULT_SUBJECT_TEMPLATE as DEFAULT_SUBJECT};

/// The most instructions one rendering of a template may run (minijinja's fuel): Promgen's
/// templates over a group of 5,000 alerts take about a tenth of it; a template of nested loops
/// stops here instead of running for ever.
pub const TEMPLATE_FUEL: u64 = 5_000_000;

/// The longest text one rendering may produce, in bytes.
pub const TEMPLATE_OUTPUT: usize = 1 << 20;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env
}

/// An output that refuses to grow past its limit.
#[derive(Default)]
struct Capped {
    out: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.out.len() + buf.len() > TEMPLATE_OUTPUT {
            self.overflowed = true;
            return Err(std::io::Error::other("output cap"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders `template` (Jinja) over the alert payload, trimmed as Promgen trims. Bounded: at
/// most [`TEMPLATE_FUEL`] instructions and [`TEMPLATE_OUTPUT`] bytes. CPU work: callers on
/// the async runtime run it on the CPU pool.
pub fn render(template: &str, data: &WebhookMessage) -> Result<String, String> {
    let env = environment();
    let fails = |e: minijinja::Error, overflowed: bool| {
        let why = match e.kind() {
            _ if overflowed => format!("the message grows past {} KiB", TEMPLATE_OUTPUT >> 10),
            minijinja::ErrorKind::OutOfFuel => "it runs too long (nested loops?)".to_string(),
            _ => e.to_string(),
        };
        format!("the message template fails: {why}")
    };
    let template = env.template_from_str(template).map_err(|e| fails(e, false))?;
    let mut out = Capped::default();
    if let Err(e) = template.render_captured_to(data, &mut out) {
        return Err(fails(e, out.overflowed));
    }
    Ok(String::from_utf8_lossy(&out.out).trim().to_string())
}

/// Checks a template when a notifier is saved, on Promgen's sample alert (in-process: for
/// Promgen's own templates and tests; users' go through [`Renderer::check`]).
pub fn check_template(field: &str, template: &str) -> Result<(), crate::error::AppError> {
    if template.trim().is_empty() {
        return Ok(());
    }
    render(template, &sample()?).map(drop).map_err(|e| crate::error::AppError::invalid(field, e))
}

fn sample() -> Result<WebhookMessage, crate::error::AppError> {
    serde_json::from_str(include_str!("../../../fixtures/promgen/alertmanager.json"))
        .map_err(|e| crate::error::AppError::Internal(e.to_string()))
}

/// Renders notifier templates: Promgen's own on the CPU pool, those users wrote in the
/// sandbox ([`crate::backend::sandbox`]), at most one per core at a time either way.
#[derive(Clone, Debug)]
pub struct Renderer {
    cpu: crate::backend::cpu::Cpu,
    sandbox: crate::backend::sandbox::Sandbox,
}

/// Why a message could not be rendered: the server was busy (worth a retry) or the template
/// fails (not).
#[derive(Debug)]
pub enum RenderError {
    Busy(String),
    Fails(String),
}

impl Renderer {
    pub fn new(cpu: crate::backend::cpu::Cpu, sandbox: crate::backend::sandbox::Sandbox) -> Renderer {
        Renderer { cpu, sandbox }
    }

    pub async fn render(&self, template: &str, data: &WebhookMessage) -> Result<String, RenderError> {
        if template == DEFAULT_SUBJECT || template == DEFAULT_BODY {
            let (template, data) = (template.to_string(), data.clone());
            return self
                .cpu
                .run("rendering the message", move || render(&template, &data))
                .await
                .map_err(|e| RenderError::Busy(e.to_string()))?
                .map_err(RenderError::Fails);
        }
        let _place = self.cpu.hold("rendering the message").await.map_err(|e| RenderError::Busy(e.to_string()))?;
        self.sandbox.render(template, data, self.cpu.budget()).await.map_err(RenderError::Fails)
    }

    /// Checks a template a user wrote when a notifier is saved: it renders Promgen's sample.
    pub async fn check(&self, field: &str, template: &str) -> Result<(), crate::error::AppError> {
        if template.trim().is_empty() {
            return Ok(());
        }
        match self.render(template, &sample()?).await {
            Ok(_) => Ok(()),
            Err(RenderError::Busy(why)) => Err(crate::error::AppError::Unavailable(why)),
            Err(RenderError::Fails(why)) => Err(crate::error::AppError::invalid(field, why)),
        }
    }
}

/// The subject and body a notifier sends: its own templates, or Promgen's.
pub struct Texts<'a> {
    pub subject: &'a str,
    pub body: &'a str,
}

impl<'a> Texts<'a> {
    pub fn of(subject: &'a str, body: &'a str) -> Texts<'a> {
        Texts {
            subject: if subject.trim().is_empty() { DEFAULT_SUBJECT } else { subject },
            body: if body.trim().is_empty() { DEFAULT_BODY } else { body },
        }
    }

    /// A chat message (Slack): the full text while firing, the first line once resolved.
    pub fn chat(&self, data: &WebhookMessage) -> Result<String, String> {
        render(if data.status == "resolved" { self.subject } else { self.body }, data)
    }
}

/// Slack's incoming webhook body.
pub fn slack(text: &str) -> Value {
    json!({ "text": text })
}

/// Another Alertmanager's `/api/v2/alerts` body: the alerts as Prometheus would post them.
pub fn alertmanager(data: &WebhookMessage) -> Value {
    Value::Array(
        data.alerts
            .iter()
            .map(|a| {
                json!({
                    "startsAt": a.starts_at,
                    "endsAt": a.ends_at,
                    "annotations": a.annotations,
                    "labels": a.labels,
                    "generatorURL": a.generator_url,
                })
            })
            .collect(),
    )
}

/// PagerDuty's severities, and Promgen's mapping of others onto them.
fn pagerduty_severity(severity: Option<&String>) -> &'static str {
    match severity.map(String::as_str) {
        Some("info") => "info",
        Some("warning") => "warning",
        Some("error") => "error",
        Some("critical") => "critical",
        Some("debug") => "info",
        Some("minor") => "warning",
        Some("major") => "error",
        _ => "error",
    }
}

/// A PagerDuty Events v2 event, as Promgen builds it: triggered and resolved under one dedup
/// key made from the group labels.
pub fn pagerduty(routing_key: &str, site_url: &str, data: &WebhookMessage) -> Value {
    let mut group = String::new();
    for (k, v) in &data.group_labels {
        group.push_str(k);
        group.push_str(v);
    }
    let dedup = format!("Promgen/{}", super::super::alerts::webhook::hex(&Sha1::digest(group.as_bytes())));
    let resolved = data.status == "resolved";
    let mut body = json!({
        "routing_key": routing_key,
        "client": "Promgen",
        "client_url": format!("{}/", site_url.trim_end_matches('/')),
        "event_action": if resolved { "resolve" } else { "trigger" },
        "dedup_key": dedup,
    });
    if resolved {
        return body;
    }
    if !data.external_url.is_empty() {
        body["links"] = json!([{ "href": data.external_url, "text": "View alert in Promgen" }]);
    }
    let summary = data
        .common_annotations
        .get("summary")
        .or_else(|| data.common_labels.get("alertname"))
        .map(|s| s.chars().take(1024).collect::<String>())
        .unwrap_or_default();
    let mut details = String::from("Labels:");
    for (k, v) in &data.common_labels {
        details.push_str(&format!("\n - {k} = {v}"));
    }
    details.push_str("\nAnnotations:");
    for (k, v) in &data.common_annotations {
        details.push_str(&format!("\n - {k} = {v}"));
    }
    details.push_str(" \n");
    body["payload"] = json!({
        "source": "Promgen",
        "severity": pagerduty_severity(data.common_labels.get("severity")),
        "summary": summary,
        "custom_details": { "firing": details },
    });
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Promgen's sample as its notifiers see it: expanded for alert 1 of project 1 / service 1.
    fn expanded(alert: u32) -> WebhookMessage {
        let mut m: WebhookMessage =
            serde_json::from_str(include_str!("../../../fixtures/promgen/alertmanager.json")).unwrap();
        m.external_url = format!("http://promgen.example.com/alert/{alert}");
        m.common_annotations.insert("project".into(), "http://promgen.example.com/project/1".into());
        m.common_annotations.insert("service".into(), "http://promgen.example.com/service/1".into());
        m
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/promgen/notification/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn promgen_texts() {
        let data = expanded(1);
        let texts = Texts::of("", "");
        assert_eq!(render(texts.subject, &data).unwrap(), fixture("email.subject.txt").trim());
        assert_eq!(render(texts.body, &data).unwrap(), fixture("email.body.txt").trim_end_matches('\n'));
        assert_eq!(texts.chat(&data).unwrap(), fixture("slack.body.txt").trim_end_matches('\n'));
        let mut resolved = data.clone();
        resolved.status = "resolved".into();
        resolved.common_labels.insert("service".into(), "other-service".into());
        resolved.common_labels.remove("project");
        assert_eq!(texts.chat(&resolved).unwrap(), fixture("slack.resolved.txt").trim());
    }

    #[test]
    fn promgen_json_bodies() {
        let as_json = |s: String| serde_json::from_str::<Value>(&s).unwrap();
        assert_eq!(
            pagerduty("integration_key_test", "http://promgen.example.com", &expanded(1)),
            as_json(fixture("pagerduty.json"))
        );
        assert_eq!(alertmanager(&expanded(15)), as_json(fixture("alertmanager.json")));
        assert_eq!(serde_json::to_value(expanded(15)).unwrap(), as_json(fixture("webhook.json")));
        let mut resolved = expanded(1);
        resolved.status = "resolved".into();
        let r = pagerduty("k", "http://p", &resolved);
        assert_eq!((r["event_action"].as_str(), r.get("payload")), (Some("resolve"), None));
    }

    /// A template of nested loops stops on its fuel, and one that writes without end on its
    /// output cap: neither runs for long.
    #[test]
    fn templates_are_bounded() {
        let data = expanded(1);
        let loops = "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}";
        let started = std::time::Instant::now();
        let e = render(loops, &data).unwrap_err();
        assert!(e.contains("runs too long") || e.contains("grows past"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
        let wide = "{% for a in range(10000) %}{{ 'x' * 1000 }}{% endfor %}";
        let e = render(wide, &data).unwrap_err();
        assert!(e.contains("grows past 1024 KiB") || e.contains("runs too long"), "{e}");
        assert!(check_template("body_template", loops).is_err());
        // Nesting is bounded by the template engine (its parser's recursion limit), on a
        // small stack too.
        let deep = "{% if true %}".repeat(10_000) + &"{% endif %}".repeat(10_000);
        let exprs = "{{ ".to_string() + &"(".repeat(10_000) + "1" + &")".repeat(10_000) + " }}";
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                assert!(render(&deep, &expanded(1)).is_err());
                assert!(render(&exprs, &expanded(1)).is_err());
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn custom_templates_are_checked() {
        assert!(check_template("body_template", "{{ commonLabels.service }} is {{ status }}").is_ok());
        let e = check_template("body_template", "{% for x in %}").unwrap_err();
        assert_eq!(e.field(), Some("body_template"));
        let texts = Texts::of("{{ commonLabels.alertname }} ({{ alerts|length }})", "");
        assert_eq!(render(texts.subject, &expanded(1)).unwrap(), "test-alert (2)");
    }
}
