//! What notifiers send: Promgen's message templates (`promgen/templates/promgen/sender/`),
//! written in Jinja (minijinja) so each notifier may carry its own, and Promgen's JSON bodies
//! for webhooks, Alertmanager and PagerDuty Events v2.

use crate::model::WebhookMessage;
use minijinja::{Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

pub use crate::model::{DEFAULT_BODY_TEMPLATE as DEFAULT_BODY, DEFAULT_SUBJECT_TEMPLATE as DEFAULT_SUBJECT};

/// The most instructions one rendering of a template may run (minijinja's fuel): Promgen's
/// templates over a group of 5,000 alerts take about a tenth of it; a template of nested loops
/// stops here instead of running for ever.
pub const TEMPLATE_FUEL: u64 = 5_000_000;

/// The longest text one rendering may produce, in bytes.
pub const TEMPLATE_OUTPUT: usize = 1 << 20;

/// What a receiver reads as markup in the text it is sent: values from alerts (labels,
/// annotations, anything a sender typed) are escaped for it, the template's own text is not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Markup {
    /// Plain text (email): nothing is markup.
    #[default]
    Plain,
    /// Slack's mrkdwn: `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, so a value cannot
    /// mention (`<!channel>`, `<@U123>`) or disguise a link (`<https://evil|the runbook>`).
    /// <https://api.slack.com/reference/surfaces/formatting#escaping>
    SlackMrkdwn,
}

impl Markup {
    /// `text` as this markup shows it literally.
    pub fn escape(self, text: &str) -> std::borrow::Cow<'_, str> {
        match self {
            Markup::Plain => text.into(),
            Markup::SlackMrkdwn if !text.contains(['&', '<', '>']) => text.into(),
            Markup::SlackMrkdwn => text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").into(),
        }
    }
}

/// What one receiver takes: its markup and the most it reads. A longer message is rendered
/// over fewer of the group's alerts and says how many it leaves out ("… and N more").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    pub markup: Markup,
    /// The most characters (Unicode scalar values).
    pub max_chars: usize,
    /// The most bytes of UTF-8.
    pub max_bytes: usize,
    /// Only the first line is sent (a subject).
    pub first_line: bool,
}

impl Shape {
    /// Slack's message `text`: 40,000 characters, past which Slack cuts it itself
    /// (<https://api.slack.com/methods/chat.postMessage#truncating>).
    pub const SLACK: Shape =
        Shape { markup: Markup::SlackMrkdwn, max_chars: 40_000, max_bytes: usize::MAX, first_line: false };
    /// An email subject: its first line, 255 characters.
    pub const EMAIL_SUBJECT: Shape =
        Shape { markup: Markup::Plain, max_chars: 255, max_bytes: usize::MAX, first_line: true };
    /// An email body: plain text, 100,000 bytes (Gmail clips a message past 102 KB and hides
    /// the rest behind a link).
    pub const EMAIL_BODY: Shape =
        Shape { markup: Markup::Plain, max_chars: usize::MAX, max_bytes: 100_000, first_line: false };
    /// Checking a template when it is saved: whole, up to the output cap.
    pub const CHECK: Shape =
        Shape { markup: Markup::Plain, max_chars: usize::MAX, max_bytes: TEMPLATE_OUTPUT, first_line: false };

    /// How far `text` is over this shape's budget, less `reserve`: at most 1.0 fits.
    fn load(&self, text: &str, reserve: usize) -> f64 {
        let of = |used: usize, max: usize| used as f64 / max.saturating_sub(reserve).max(1) as f64;
        of(text.chars().count(), self.max_chars).max(of(text.len(), self.max_bytes))
    }
}

/// Room kept for the "… and N more" line.
const SUFFIX_RESERVE: usize = 200;
/// The most renderings one message takes while it looks for how many alerts fit.
const MAX_ATTEMPTS: usize = 10;

fn environment(markup: Markup) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Lenient);
    env.set_fuel(Some(TEMPLATE_FUEL));
    if markup != Markup::Plain {
        env.set_formatter(move |out, state, value| {
            if value.is_undefined() || value.is_safe() {
                return minijinja::escape_formatter(out, state, value);
            }
            let text = value.to_string();
            out.write_str(&markup.escape(&text))
                .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "the message cannot be written"))
        });
    }
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

/// How one rendering went.
enum Once {
    Text(String),
    /// Past the output cap or out of fuel: maybe not with fewer alerts.
    TooBig(String),
    Fails(String),
}

fn render_once(template: &minijinja::Template<'_, '_>, data: &WebhookMessage, shape: &Shape) -> Once {
    let mut out = Capped::default();
    match template.render_captured_to(data, &mut out) {
        Ok(_) => {
            let text = String::from_utf8_lossy(&out.out);
            let text = if shape.first_line { text.trim().lines().next().unwrap_or("") } else { text.trim() };
            Once::Text(text.to_string())
        }
        Err(_) if out.overflowed => Once::TooBig(format!("the message grows past {} KiB", TEMPLATE_OUTPUT >> 10)),
        Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => {
            Once::TooBig("it runs too long (nested loops?)".to_string())
        }
        Err(e) => Once::Fails(e.to_string()),
    }
}

/// Renders `template` (Jinja) over the alert payload, trimmed as Promgen trims, for a receiver
/// of `shape`: values escaped for its markup, and no longer than it takes. A message too long
/// with all the group's alerts is rendered over the first N that fit and ends with
/// "… and M more alerts: <the alert's page>"; one too long even without alerts is cut.
///
/// Bounded: each rendering runs at most [`TEMPLATE_FUEL`] instructions and writes at most
/// [`TEMPLATE_OUTPUT`] bytes, and there are at most ten. CPU work: callers on the async
/// runtime run it on the CPU pool. The error says what is wrong with the template.
pub fn render(template: &str, data: &WebhookMessage, shape: Shape) -> Result<String, String> {
    let fails = |why: String| format!("the message template fails: {why}");
    let env = environment(shape.markup);
    let template = env.template_from_str(template).map_err(|e| fails(e.to_string()))?;
    let total = data.alerts.len();
    let mut shown = total;
    let mut trimmed: Option<WebhookMessage> = None;
    // The longest text rendered with all alerts, and the last one with how many it shows.
    let mut whole: Option<String> = None;
    let mut last: Option<(String, usize, f64)> = None;
    for _ in 0..MAX_ATTEMPTS {
        let view = trimmed.as_ref().unwrap_or(data);
        let load = match render_once(&template, view, &shape) {
            Once::Fails(why) => return Err(fails(why)),
            Once::TooBig(why) if shown == 0 => return Err(fails(why)),
            Once::TooBig(_) => 4.0,
            Once::Text(text) => {
                let load = shape.load(&text, if shown < total { SUFFIX_RESERVE } else { 0 });
                if load <= 1.0 {
                    return Ok(finish(text, data, shown, &shape));
                }
                if last.as_ref().is_some_and(|(_, _, before)| load >= *before * 0.999) {
                    // Fewer alerts, no shorter: they are not what makes it long. Cut the text
                    // as it is with them all.
                    let text = whole.unwrap_or(text);
                    return Ok(finish(cut(&text, &shape), data, total, &shape));
                }
                if shown == total {
                    whole = Some(text.clone());
                }
                last = Some((text, shown, load));
                load
            }
        };
        if shown == 0 {
            break;
        }
        // Alerts fill most of a long message: scale their number to the budget, a little under.
        shown = ((shown as f64 / load * 0.95) as usize).min(shown - 1);
        trimmed.get_or_insert_with(|| data.clone()).alerts.truncate(shown);
    }
    let (text, shown, _) = last.unwrap_or_default();
    Ok(finish(cut(&text, &shape), data, shown, &shape))
}

/// `text` cut to `shape`'s budget at a character, not inside an escape or a `<…>` of Slack's.
fn cut(text: &str, shape: &Shape) -> String {
    let max_chars = shape.max_chars.saturating_sub(SUFFIX_RESERVE);
    let max_bytes = shape.max_bytes.saturating_sub(SUFFIX_RESERVE);
    let mut end = 0;
    for (n, (i, c)) in text.char_indices().enumerate() {
        if n >= max_chars || i + c.len_utf8() > max_bytes {
            break;
        }
        end = i + c.len_utf8();
    }
    let mut kept = &text[..end];
    if shape.markup == Markup::SlackMrkdwn {
        // An entity or a link cut in two would show as markup gone wrong.
        if let Some(amp) = kept.rfind('&')
            && !kept[amp..].contains(';')
        {
            kept = &kept[..amp];
        }
        if let Some(open) = kept.rfind('<')
            && !kept[open..].contains('>')
        {
            kept = &kept[..open];
        }
    }
    format!("{}…", kept.trim_end())
}

/// The text with what it leaves out: the alerts cut here and those Alertmanager left out
/// (`truncatedAlerts`).
fn finish(text: String, data: &WebhookMessage, shown: usize, shape: &Shape) -> String {
    let cut_here = data.alerts.len() - shown;
    let left = cut_here as u64 + data.truncated_alerts;
    if left == 0 || (cut_here == 0 && shape.first_line) {
        return text;
    }
    let more = format!("… and {left} more alert{}", if left == 1 { "" } else { "s" });
    if shape.first_line {
        return format!("{text} {more}");
    }
    match data.external_url.as_str() {
        "" => format!("{text}\n{more}"),
        url => format!("{text}\n{more}: {}", shape.markup.escape(url)),
    }
}

/// Checks a template when a notifier is saved, on Promgen's sample alert (in-process: for
/// Promgen's own templates and tests; users' go through [`Renderer::check`]).
pub fn check_template(field: &str, template: &str) -> Result<(), crate::error::AppError> {
    if template.trim().is_empty() {
        return Ok(());
    }
    render(template, &sample()?, Shape::CHECK).map(drop).map_err(|e| crate::error::AppError::invalid(field, e))
}

fn sample() -> Result<WebhookMessage, crate::error::AppError> {
    serde_json::from_str(include_str!("../../../fixtures/promgen/alertmanager.json"))
        .map_err(|e| crate::error::AppError::fault("reading Promgen's sample alert", e))
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

    /// The CPU pool it renders on, for other CPU work of sending.
    pub fn cpu(&self) -> &crate::backend::cpu::Cpu {
        &self.cpu
    }

    /// Renders `template` for a receiver of `shape` (see [`render`]).
    pub async fn render(&self, template: &str, data: &WebhookMessage, shape: Shape) -> Result<String, RenderError> {
        if template == DEFAULT_SUBJECT || template == DEFAULT_BODY {
            let (template, data) = (template.to_string(), data.clone());
            return self
                .cpu
                .run("rendering the message", move || render(&template, &data, shape))
                .await
                .map_err(|e| RenderError::Busy(e.to_string()))?
                .map_err(RenderError::Fails);
        }
        let _place = self.cpu.hold("rendering the message").await.map_err(|e| RenderError::Busy(e.to_string()))?;
        self.sandbox.render(template, data, shape, self.cpu.budget()).await.map_err(RenderError::Fails)
    }

    /// Checks a template a user wrote when a notifier is saved: it renders Promgen's sample.
    pub async fn check(&self, field: &str, template: &str) -> Result<(), crate::error::AppError> {
        if template.trim().is_empty() {
            return Ok(());
        }
        match self.render(template, &sample()?, Shape::CHECK).await {
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

    /// The template of a chat message (Slack): the full text while firing, the first line
    /// once resolved.
    pub fn chat(&self, data: &WebhookMessage) -> &'a str {
        if data.status == "resolved" { self.subject } else { self.body }
    }
}

/// Slack's incoming webhook body.
pub fn slack(text: &str) -> Value {
    json!({ "text": text })
}

/// Alerts per post to another Alertmanager: Prometheus' batch (`maxBatchSize` in
/// `notifier/notifier.go`).
pub const ALERTMANAGER_BATCH: usize = 64;

/// Another Alertmanager's `/api/v2/alerts` bodies: the alerts as Prometheus would post them, in
/// batches of [`ALERTMANAGER_BATCH`] as Prometheus posts them (Alertmanager takes each alert
/// on its own, so a group is never cut: every alert matters to the routing there).
pub fn alertmanager(data: &WebhookMessage) -> Vec<Value> {
    data.alerts
        .chunks(ALERTMANAGER_BATCH)
        .map(|batch| {
            Value::Array(
                batch
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
        })
        .collect()
}

/// The largest webhook body sent, in bytes: under the request limits of the gateways webhook
/// receivers commonly sit behind (AWS Lambda's 6 MB, API Gateway's 10 MB).
pub const WEBHOOK_BYTES: usize = 4 << 20;

/// A webhook's body: Promgen's payload (Alertmanager's, expanded). Past [`WEBHOOK_BYTES`] the
/// last alerts are left out and counted in `truncatedAlerts`, as Alertmanager's own
/// `max_alerts` does, so receivers of its format already understand it.
pub fn webhook(data: &WebhookMessage) -> Result<Vec<u8>, String> {
    let whole = serde_json::to_vec(data).map_err(|e| e.to_string())?;
    if whole.len() <= WEBHOOK_BYTES || data.alerts.is_empty() {
        return Ok(whole);
    }
    let mut cut = data.clone();
    let mut size = whole.len();
    while size > WEBHOOK_BYTES && !cut.alerts.is_empty() {
        let keep =
            ((cut.alerts.len() as f64 * WEBHOOK_BYTES as f64 / size as f64 * 0.95) as usize).min(cut.alerts.len() - 1);
        cut.truncated_alerts += (cut.alerts.len() - keep) as u64;
        cut.alerts.truncate(keep);
        size = serde_json::to_vec(&cut).map_err(|e| e.to_string())?.len();
    }
    serde_json::to_vec(&cut).map_err(|e| e.to_string())
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

/// PagerDuty's limits for an Events v2 event: `summary` in characters, the whole event in
/// bytes (<https://developer.pagerduty.com/docs/events-api-v2/trigger-events/>).
pub const PAGERDUTY_SUMMARY: usize = 1024;
pub const PAGERDUTY_EVENT_BYTES: usize = 512 * 1024;

/// A PagerDuty Events v2 event, as Promgen builds it: triggered and resolved under one dedup
/// key made from the group labels. Within PagerDuty's limits: the summary cut at
/// [`PAGERDUTY_SUMMARY`] characters, the details so the event stays under
/// [`PAGERDUTY_EVENT_BYTES`].
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
        .map(|s| s.chars().take(PAGERDUTY_SUMMARY).collect::<String>())
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
    // Each byte cut from the details takes at least one from the event: a few rounds at most.
    loop {
        let size = body.to_string().len();
        let Some(firing) = body["payload"]["custom_details"]["firing"].as_str() else { break };
        if size <= PAGERDUTY_EVENT_BYTES || firing.is_empty() {
            break;
        }
        const NOTE: &str = "\n… (cut: PagerDuty takes events up to 512 KB)";
        let mut keep = firing.len().saturating_sub(size - PAGERDUTY_EVENT_BYTES + NOTE.len() + 16);
        while !firing.is_char_boundary(keep) {
            keep -= 1;
        }
        let cut = format!("{}{NOTE}", &firing[..keep]);
        body["payload"]["custom_details"]["firing"] = Value::String(if keep == 0 { String::new() } else { cut });
    }
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
        assert_eq!(render(texts.subject, &data, Shape::EMAIL_SUBJECT).unwrap(), fixture("email.subject.txt").trim());
        assert_eq!(
            render(texts.body, &data, Shape::EMAIL_BODY).unwrap(),
            fixture("email.body.txt").trim_end_matches('\n')
        );
        // Slack shows `&amp;` as `&`: what it shows is Promgen's message.
        let slack = render(texts.chat(&data), &data, Shape::SLACK).unwrap();
        assert_eq!(slack.replace("&amp;", "&"), fixture("slack.body.txt").trim_end_matches('\n'));
        assert!(slack.contains("var-service=test-service&amp;var-project=test-project"), "{slack}");
        let mut resolved = data.clone();
        resolved.status = "resolved".into();
        resolved.common_labels.insert("service".into(), "other-service".into());
        resolved.common_labels.remove("project");
        assert_eq!(
            render(texts.chat(&resolved), &resolved, Shape::SLACK).unwrap(),
            fixture("slack.resolved.txt").trim()
        );
    }

    #[test]
    fn promgen_json_bodies() {
        let as_json = |s: String| serde_json::from_str::<Value>(&s).unwrap();
        assert_eq!(
            pagerduty("integration_key_test", "http://promgen.example.com", &expanded(1)),
            as_json(fixture("pagerduty.json"))
        );
        assert_eq!(alertmanager(&expanded(15)), vec![as_json(fixture("alertmanager.json"))]);
        let webhook_body = webhook(&expanded(15)).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&webhook_body).unwrap(), as_json(fixture("webhook.json")));
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
        let e = render(loops, &data, Shape::CHECK).unwrap_err();
        assert!(e.contains("runs too long") || e.contains("grows past"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
        let wide = "{% for a in range(10000) %}{{ 'x' * 1000 }}{% endfor %}";
        let e = render(wide, &data, Shape::CHECK).unwrap_err();
        assert!(e.contains("grows past 1024 KiB") || e.contains("runs too long"), "{e}");
        assert!(check_template("body_template", loops).is_err());
        // Nesting is bounded by the template engine (its parser's recursion limit), on a
        // small stack too.
        let deep = "{% if true %}".repeat(10_000) + &"{% endif %}".repeat(10_000);
        let exprs = "{{ ".to_string() + &"(".repeat(10_000) + "1" + &")".repeat(10_000) + " }}";
        std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                assert!(render(&deep, &expanded(1), Shape::CHECK).is_err());
                assert!(render(&exprs, &expanded(1), Shape::CHECK).is_err());
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
        assert_eq!(render(texts.subject, &expanded(1), Shape::EMAIL_SUBJECT).unwrap(), "test-alert (2)");
    }

    /// A group of `n` alerts of Promgen's sample, each with its own instance.
    fn group(n: usize) -> WebhookMessage {
        let mut m = expanded(1);
        let one = m.alerts[0].clone();
        m.alerts = (0..n)
            .map(|i| {
                let mut a = one.clone();
                a.labels.insert("instance".into(), format!("host-{i:05}.example:9100"));
                a.annotations.insert("summary".into(), format!("Error on host-{i:05}.example"));
                a
            })
            .collect();
        m
    }

    /// Issue 12's group of 5,000 alerts: every message within its receiver's limit, and saying
    /// how many alerts it leaves out and where they are.
    #[test]
    fn messages_keep_to_their_receivers_limits() {
        let data = group(5_000);
        let texts = Texts::of("", "");
        let slack = render(texts.body, &data, Shape::SLACK).unwrap();
        let chars = slack.chars().count();
        assert!(chars <= 40_000 && chars > 30_000, "{chars}");
        let shown = slack.matches("Labels: ").count();
        assert!(
            slack.ends_with(&format!("… and {} more alerts: http://promgen.example.com/alert/1", 5_000 - shown)),
            "{}",
            &slack[slack.len() - 200..]
        );
        let body = render(texts.body, &data, Shape::EMAIL_BODY).unwrap();
        assert!(body.len() <= 100_000 && body.len() > 80_000, "{}", body.len());
        assert!(body.contains(&format!("… and {} more alerts", 5_000 - body.matches("Labels: ").count())));
        let subject =
            render("{% for a in alerts %}{{ a.labels.instance }} {% endfor %}", &data, Shape::EMAIL_SUBJECT).unwrap();
        assert!(subject.chars().count() <= 255 && subject.contains(" more alerts"), "{subject}");
        assert!(!subject.contains('\n'));
        // Alertmanager's own cut (max_alerts) is said too, even when everything here fits.
        let mut few = group(3);
        few.truncated_alerts = 7;
        let text = render(texts.body, &few, Shape::SLACK).unwrap();
        assert!(text.ends_with("… and 7 more alerts: http://promgen.example.com/alert/1"), "{text}");
        // A template too long without any alert is cut, and says so.
        let huge = render("{{ 'x' * 50000 }}", &data, Shape::SLACK).unwrap();
        assert!(huge.chars().count() <= 40_000 && huge.ends_with("xx…"), "{}", huge.len());
        let huge = render("{{ 'x' * 50000 }}{{ alerts|length }}", &data, Shape::SLACK).unwrap();
        assert!(huge.chars().count() <= 40_000 && huge.ends_with("xx…"), "{}", huge.len());
        // PagerDuty: the summary and the event.
        let mut big = group(2);
        big.common_annotations.insert("summary".into(), "s".repeat(5_000));
        for i in 0..64 {
            big.common_annotations.insert(format!("note{i}"), "<&>".repeat(5_000));
        }
        let event = pagerduty("k", "http://p", &big);
        assert_eq!(event["payload"]["summary"].as_str().unwrap().chars().count(), 1024);
        let size = event.to_string().len();
        assert!(size <= PAGERDUTY_EVENT_BYTES && size > PAGERDUTY_EVENT_BYTES - 20_000, "{size}");
        assert!(event["payload"]["custom_details"]["firing"].as_str().unwrap().ends_with("512 KB)"));
        // A webhook past its limit leaves the last alerts out and counts them.
        let mut wide = group(3_000);
        for a in &mut wide.alerts {
            a.annotations.insert("description".into(), "d".repeat(2_000));
        }
        let body = webhook(&wide).unwrap();
        assert!(body.len() <= WEBHOOK_BYTES, "{}", body.len());
        let sent: WebhookMessage = serde_json::from_slice(&body).unwrap();
        assert_eq!(sent.alerts.len() as u64 + sent.truncated_alerts, 3_000);
        assert!(sent.alerts.len() > 1_500, "{}", sent.alerts.len());
        // Another Alertmanager gets every alert, in Prometheus' batches.
        let batches = alertmanager(&group(130));
        assert_eq!(batches.iter().map(|b| b.as_array().unwrap().len()).collect::<Vec<_>>(), [64, 64, 2]);
    }

    /// Issue 13: values are escaped for the receiver's markup; the template's own markup stays.
    #[test]
    fn values_are_escaped_for_slack() {
        let mut data = expanded(1);
        data.common_labels.insert("instance".into(), "<!channel>".into());
        data.common_annotations.insert("runbook".into(), "<https://evil.example|the runbook> & more".into());
        let template = "<{{ externalURL }}|{{ commonLabels.alertname }}> {{ commonLabels.instance }} \
                        {{ commonAnnotations.runbook }} {{ '<b>'|safe }}";
        let slack = render(template, &data, Shape::SLACK).unwrap();
        assert_eq!(
            slack,
            "<http://promgen.example.com/alert/1|test-alert> &lt;!channel&gt; \
             &lt;https://evil.example|the runbook&gt; &amp; more <b>"
        );
        // Email is plain text: as typed.
        let plain = render(template, &data, Shape::EMAIL_BODY).unwrap();
        assert!(plain.contains("<!channel> <https://evil.example|the runbook> & more"), "{plain}");
        // A cut never leaves half an escape or half a link.
        let shape = Shape { max_chars: 260, ..Shape::SLACK };
        for pad in 0..12 {
            let t = format!("{}{}", "y".repeat(50 + pad), "{{ commonLabels.instance }}".repeat(60));
            let text = render(&t, &data, shape).unwrap();
            let body = text.split('…').next().unwrap();
            let tail = body.rfind('&').map_or("", |i| &body[i..]);
            assert!(tail.is_empty() || tail.contains(';'), "{tail:?}");
            assert!(body.rfind('<').is_none_or(|i| body[i..].contains('>')), "{body:?}");
        }
    }
}
