//! Alerts as Alertmanager sends them (webhook payload version 4), what Promgen-rs records of
//! them, and the notifiers that hear about them.

use super::ids::*;
use super::rules::LabelMap;
use serde::{Deserialize, Serialize};

/// Alertmanager's webhook message. Unknown keys are ignored and keys older Alertmanagers leave
/// out have defaults; `backend::alerts::webhook` checks what must hold.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookMessage {
    #[serde(default, deserialize_with = "null_default", skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, deserialize_with = "null_default", rename = "groupKey")]
    pub group_key: String,
    #[serde(default, deserialize_with = "null_default", rename = "truncatedAlerts", skip_serializing_if = "is_zero")]
    pub truncated_alerts: u64,
    #[serde(default, deserialize_with = "null_default")]
    pub status: String,
    #[serde(default, deserialize_with = "null_default")]
    pub receiver: String,
    #[serde(default, deserialize_with = "null_default", rename = "groupLabels")]
    pub group_labels: LabelMap,
    #[serde(default, deserialize_with = "null_default", rename = "commonLabels")]
    pub common_labels: LabelMap,
    #[serde(default, deserialize_with = "null_default", rename = "commonAnnotations")]
    pub common_annotations: LabelMap,
    #[serde(default, deserialize_with = "null_default", rename = "externalURL")]
    pub external_url: String,
    pub alerts: Vec<WebhookAlert>,
    /// Keys this version does not know (`notification_reason`, `routeLabels`, ...), kept so
    /// a forwarded payload is whole.
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A JSON `null` read as the default: Go senders write a nil map or slice as `null`
/// (`"annotations": null`).
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WebhookAlert {
    pub status: String,
    pub labels: LabelMap,
    #[serde(default, deserialize_with = "null_default")]
    pub annotations: LabelMap,
    #[serde(default, deserialize_with = "null_default", rename = "startsAt")]
    pub starts_at: String,
    #[serde(default, deserialize_with = "null_default", rename = "endsAt")]
    pub ends_at: String,
    #[serde(default, deserialize_with = "null_default", rename = "generatorURL")]
    pub generator_url: String,
    #[serde(default, deserialize_with = "null_default")]
    pub fingerprint: String,
    #[serde(flatten, default)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// The first line of Promgen's messages (`promgen/templates/promgen/sender/`, in Jinja): its
/// email subject and its resolved chat message.
pub const DEFAULT_SUBJECT_TEMPLATE: &str = "[{{ status }}]{% for k, v in commonLabels|dictsort %} {{ v }}{% endfor %}";

/// Promgen's email body and firing chat message.
pub const DEFAULT_BODY_TEMPLATE: &str = "[{{ status }}]{% for k, v in commonLabels|dictsort %} {{ v }}{% endfor %}
{% for k, v in commonAnnotations|dictsort %}
{{ k|title }}: {{ v }}{% endfor %}
{% for alert in alerts %}
Labels: {% for k, v in alert.labels|dictsort %}{% if k not in commonLabels %}{{ v }} {% endif %}{% endfor %}\
{% for k, v in alert.annotations|dictsort %}{% if k not in commonAnnotations %}
{{ k|title }}: {{ v }}{% endif %}{% endfor %}
Source: {{ alert.generatorURL }}
{% endfor %}";

/// The kinds of notifier, as Promgen's plugins (LINE Notify aside: the service is gone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifierKind {
    Email,
    Slack,
    Pagerduty,
    Webhook,
    Alertmanager,
    /// A user's own notifiers: subscribing a user to a service or project.
    User,
}

impl NotifierKind {
    pub const ALL: [NotifierKind; 6] = [
        NotifierKind::Email,
        NotifierKind::Slack,
        NotifierKind::Pagerduty,
        NotifierKind::Webhook,
        NotifierKind::Alertmanager,
        NotifierKind::User,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifierKind::Email => "email",
            NotifierKind::Slack => "slack",
            NotifierKind::Pagerduty => "pagerduty",
            NotifierKind::Webhook => "webhook",
            NotifierKind::Alertmanager => "alertmanager",
            NotifierKind::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<NotifierKind> {
        NotifierKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Promgen's plugin module path, as its exports name the kind.
    pub fn from_promgen_module(module: &str) -> Option<NotifierKind> {
        NotifierKind::parse(module.strip_prefix("promgen.notification.")?)
    }

    /// The kind's name as pages show it ("PagerDuty"; [`Self::as_str`] is what is stored).
    pub fn label(self) -> &'static str {
        match self {
            NotifierKind::Email => "Email",
            NotifierKind::Slack => "Slack",
            NotifierKind::Pagerduty => "PagerDuty",
            NotifierKind::Webhook => "Webhook",
            NotifierKind::Alertmanager => "Alertmanager",
            NotifierKind::User => "User",
        }
    }

    /// What the value is, for the form.
    pub fn value_help(self) -> &'static str {
        match self {
            NotifierKind::Email => "email address",
            NotifierKind::Slack => "Slack incoming webhook URL",
            NotifierKind::Pagerduty => "PagerDuty integration key (Events API v2)",
            NotifierKind::Webhook => "URL that receives the alert as JSON",
            NotifierKind::Alertmanager => "another Alertmanager's /api/v2/alerts URL",
            NotifierKind::User => "user name",
        }
    }

    /// Whether the value is a URL Promgen-rs will connect to.
    pub fn is_url(self) -> bool {
        matches!(self, NotifierKind::Slack | NotifierKind::Webhook | NotifierKind::Alertmanager)
    }
}

/// Whose a notifier is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotifierOwner {
    /// The installation: told when the alert pipeline itself breaks.
    Site,
    Service {
        id: ServiceId,
        name: String,
    },
    Project {
        id: ProjectId,
        name: String,
    },
    User {
        id: UserId,
        name: String,
    },
}

impl NotifierOwner {
    pub fn describe(&self) -> String {
        match self {
            NotifierOwner::Site => "site".into(),
            NotifierOwner::Service { name, .. } => format!("service {name}"),
            NotifierOwner::Project { name, .. } => format!("project {name}"),
            NotifierOwner::User { name, .. } => format!("user {name}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            NotifierOwner::Site => "site",
            NotifierOwner::Service { .. } => "service",
            NotifierOwner::Project { .. } => "project",
            NotifierOwner::User { .. } => "user",
        }
    }

    pub fn id(&self) -> i64 {
        match self {
            NotifierOwner::Site => 1,
            NotifierOwner::Service { id, .. } => id.0,
            NotifierOwner::Project { id, .. } => id.0,
            NotifierOwner::User { id, .. } => id.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifierFilter {
    pub id: NotifierFilterId,
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notifier {
    pub id: NotifierId,
    pub kind: NotifierKind,
    /// Shown as the alias when there is one (a webhook URL with a key in it stays hidden).
    pub value: String,
    pub alias: String,
    /// For a subscription (a `user` notifier, whose value is a user id), the user's name,
    /// which lists show where there is no alias; `None` elsewhere. Not stored: it is never
    /// the alias, which the edit form fills with what is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscriber: Option<String>,
    pub owner: NotifierOwner,
    pub enabled: bool,
    pub filters: Vec<NotifierFilter>,
    /// Empty for the kind's default message.
    pub subject_template: String,
    pub body_template: String,
    /// Who made it (Promgen's `Sender.owner`).
    #[serde(default)]
    pub created_by: Option<String>,
}

impl Notifier {
    /// What a list shows to those who may edit the notifier: the alias, or the subscriber's
    /// name, or the value.
    pub fn label(&self) -> &str {
        match (&self.alias, &self.subscriber) {
            (alias, _) if !alias.is_empty() => alias,
            (_, Some(name)) => name,
            _ => &self.value,
        }
    }

    /// What everyone else sees: the alias, or the subscriber's name, or the value masked
    /// ([`masked_value`]).
    pub fn public_label(&self) -> String {
        match &self.subscriber {
            Some(name) if self.alias.trim().is_empty() => name.clone(),
            _ => public_label(self.kind, &self.value, &self.alias),
        }
    }
}

/// A notifier as those who may not edit it see it: its alias, or its value masked.
pub fn public_label(kind: NotifierKind, value: &str, alias: &str) -> String {
    if alias.trim().is_empty() { masked_value(kind, value) } else { alias.to_string() }
}

/// A notifier's value with its secret part hidden: enough to recognise where it sends, not
/// enough to send there. A URL keeps its scheme and host (Slack's and other webhooks' keys
/// are in the path and query), an email address its first letter and domain, a PagerDuty key
/// its first four characters. A user notifier's value (a user id) is no secret.
pub fn masked_value(kind: NotifierKind, value: &str) -> String {
    let value = value.trim();
    match kind {
        NotifierKind::User => value.to_string(),
        NotifierKind::Email => match value.rsplit_once('@') {
            Some((local, domain)) => format!("{}…@{domain}", local.chars().next().unwrap_or('?')),
            None => "…".into(),
        },
        NotifierKind::Pagerduty => {
            let key = value.rsplit(':').next().unwrap_or("");
            format!("{}…", key.chars().take(4).collect::<String>())
        }
        NotifierKind::Slack | NotifierKind::Webhook | NotifierKind::Alertmanager => {
            let (scheme, rest) = value.split_once("://").unwrap_or(("", value));
            let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
            let host = authority.rsplit('@').next().unwrap_or("");
            if scheme.is_empty() { "…".into() } else { format!("{scheme}://{host}/…") }
        }
    }
}

/// What the notifier form sends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NotifierInput {
    pub kind: String,
    pub value: String,
    #[serde(default)]
    pub alias: String,
    #[serde(default)]
    pub subject_template: String,
    #[serde(default)]
    pub body_template: String,
    /// Starts disabled when false (Promgen's REST `enabled`); forms leave it out.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Label filters (`name`, `value`) the notifier starts with (Promgen's REST `filters`).
    #[serde(default)]
    pub filters: Vec<(String, String)>,
}

/// The notifiers of an object, for its page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NotifierListing {
    pub notifiers: Vec<Notifier>,
    pub can_edit: bool,
    /// Whether the caller has subscribed (a `user` notifier for themselves).
    pub subscribed: bool,
    /// How many enabled notifiers of their own the caller has (profile): a subscription with
    /// none tells nobody.
    #[serde(default)]
    pub own_notifiers: i64,
}

/// One webhook delivery, as lists show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    pub id: AlertId,
    /// RFC 3339, UTC.
    pub received: String,
    pub status: String,
    pub alertname: String,
    pub service: String,
    pub project: String,
    /// Alerts in the group.
    pub alerts: i64,
    pub sent_count: i64,
    pub error_count: i64,
    pub group_key: String,
    pub labels: LabelMap,
    /// Notifications queued for it: none means nobody was told (see its routing).
    pub notified: i64,
}

impl AlertSummary {
    /// Notifications neither sent nor given up yet: being delivered, or waiting for their next
    /// attempt after a failure (which counts as an error only once it is the last).
    pub fn pending(&self) -> i64 {
        (self.notified - self.sent_count - self.error_count).max(0)
    }
}

/// Something that happened to an alert, in the order it happened: the live feed's unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    pub id: i64,
    pub alert_id: AlertId,
    /// received, routed, sent, retry, failed, resolved
    pub kind: String,
    pub detail: String,
    pub created: String,
}

/// What the live feed sends a browser.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FeedMessage {
    /// An event, with its alert as it stands after it.
    Event { event: AlertEvent, alert: Box<AlertSummary> },
    /// The browser missed too much while away: load the list afresh.
    Reload,
}

/// One notification to send, and how its sending went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub kind: String,
    /// The alias of its notifier, or the target.
    pub target: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: String,
    pub next_attempt: String,
    pub done: Option<String>,
}

/// The most of a group's alerts an alert page lists.
pub const ALERTS_SHOWN: usize = 100;
/// The largest payload an alert page embeds, in bytes; a larger one loads on demand from
/// `/alert/{id}/payload`.
pub const PAYLOAD_SHOWN: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertDetail {
    pub alert: AlertSummary,
    /// The group's first [`ALERTS_SHOWN`] alerts.
    pub alerts: Vec<WebhookAlert>,
    /// Alerts Alertmanager left out of its message (`truncatedAlerts`: its `max_alerts`).
    pub truncated_alerts: u64,
    /// The payload as Alertmanager posted it, pretty-printed, when it is at most
    /// [`PAYLOAD_SHOWN`] bytes.
    pub body: Option<String>,
    /// The payload's size in bytes.
    pub body_bytes: i64,
    pub routing: Vec<String>,
    pub deliveries: Vec<Delivery>,
    pub events: Vec<AlertEvent>,
    /// Where to go from here: the service, project and rule the alert belongs to (this site's
    /// paths), and the annotations of its alerts that are http(s) URLs (runbooks, dashboards),
    /// as (text, href). Nothing else from a payload becomes a link.
    #[serde(default)]
    pub links: Vec<(String, String)>,
    /// Whether the reader may silence this alert by its name and owner (Editor or Admin on
    /// its project, else on its service).
    #[serde(default)]
    pub may_silence: bool,
    /// The message Alertmanager sent for the same group next after this one (same
    /// `groupKey`), if any: (its alert id, its status, when it came). A firing alert's page
    /// said nothing of the message that resolved it.
    #[serde(default)]
    pub later: Option<(AlertId, String, String)>,
    /// The group's message just before this one, if any, in the same shape: a resolved
    /// alert's page did not link the firing message it resolved.
    #[serde(default)]
    pub earlier: Option<(AlertId, String, String)>,
}

/// The alerts page: groups by alert name and service, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertPage {
    pub alerts: Vec<AlertSummary>,
    /// The newest event id when the page was made: the live feed continues from there.
    pub last_event: i64,
    /// Whether the reader may silence anything (Editor or Admin somewhere): a Viewer gets no
    /// Silence buttons, which lead to a form they may not send.
    #[serde(default)]
    pub may_silence: bool,
}

/// An API token as its owner sees it; the key itself is shown once, when it is made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    pub id: TokenId,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub user: super::CurrentUser,
    pub tokens: Vec<TokenInfo>,
    pub notifiers: Vec<Notifier>,
    pub process_alerts: bool,
    /// The user's live sessions, the most recently used first.
    #[serde(default)]
    pub sessions: Vec<super::ActiveSession>,
    /// The services and projects whose alerts reach the user's own notifiers.
    #[serde(default)]
    pub subscriptions: Vec<Subscription>,
    /// The user logs in with a password kept here (not only through a provider).
    #[serde(default)]
    pub has_password: bool,
}

/// A service or project the user subscribed to (`owner_kind` `service` or `project`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    pub owner_kind: String,
    pub owner_id: i64,
    pub name: String,
}

/// `name=value` pairs (separated by spaces or commas) a list of alerts is narrowed to, every one
/// of which must match.
pub fn parse_label_filter(text: &str) -> Result<Vec<(String, String)>, super::validate::FieldError> {
    /// Pairs and characters a filter may have: enough for any search, bounded for the query.
    const MAX_PAIRS: usize = 20;
    const MAX_LEN: usize = 1_000;
    if text.len() > MAX_LEN {
        return Err(super::validate::FieldError::new("labels", format!("at most {MAX_LEN} characters")));
    }
    let pairs: Vec<&str> = text.split([',', ' ', '&']).filter(|p| !p.trim().is_empty()).collect();
    if pairs.len() > MAX_PAIRS {
        return Err(super::validate::FieldError::new("labels", format!("at most {MAX_PAIRS} name=value pairs")));
    }
    pairs
        .into_iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().trim_matches('"').to_string())),
            _ => Err(super::validate::FieldError::new("labels", format!("{p:?} is not name=value"))),
        })
        .collect()
}

/// Whether `labels` has every pair of `filter`.
pub fn matches_filter(filter: &[(String, String)], labels: &LabelMap) -> bool {
    filter.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_values_keep_no_secret() {
        use NotifierKind::*;
        for (kind, value, shown) in [
            (Slack, "https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/…"),
            (Webhook, "https://user:pw@hooks.example.com:8443/k?token=abc", "https://hooks.example.com:8443/…"),
            (Alertmanager, "http://am.example.com/api/v2/alerts", "http://am.example.com/…"),
            (Email, "jane.doe@example.com", "j…@example.com"),
            (Pagerduty, "promgen.example.com:0123456789abcdef0123456789abcdef", "0123…"),
            (User, "42", "42"),
        ] {
            assert_eq!(masked_value(kind, value), shown, "{value}");
        }
        assert_eq!(public_label(Slack, "https://hooks.slack.com/services/x", "team chat"), "team chat");
    }

    #[test]
    fn label_filters() {
        let f = parse_label_filter("service=web, severity=\"critical\"").unwrap();
        assert_eq!(f, [("service".to_string(), "web".to_string()), ("severity".to_string(), "critical".to_string())]);
        assert!(parse_label_filter("nonsense").is_err());
        assert!(parse_label_filter("").unwrap().is_empty());
        let labels: LabelMap = [("service".into(), "web".into()), ("severity".into(), "critical".into())].into();
        assert!(matches_filter(&f, &labels));
        assert!(!matches_filter(&f[..1], &LabelMap::new()));
    }
}
