//! Sending one notification: email over SMTP, Slack, PagerDuty Events v2, a webhook (Promgen's
//! payload) or another Alertmanager. Each failure says whether trying again can help, as
//! Alertmanager's retrier decides it: transport errors, timeouts, 5xx and 429 can; other 4xx
//! cannot.

use super::guard::{GuardedResolver, check_url};
use super::message::{self, Shape, Texts};
use crate::backend::proxy::root_cause;
use crate::model::{NotifierKind, WebhookMessage};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

/// Why a notification failed. `message` is shown to everyone who may read the alert, so it
/// holds nothing of the notifier's value: the receiver's own words (an answer's body, an SMTP
/// server's reply, which may echo the URL or the address) are in `detail`, for the server's
/// log and for those who may edit the notifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyError {
    pub message: String,
    pub retryable: bool,
    pub detail: Option<String>,
}

impl NotifyError {
    pub fn retry(message: impl Into<String>) -> Self {
        NotifyError { message: message.into(), retryable: true, detail: None }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        NotifyError { message: message.into(), retryable: false, detail: None }
    }

    fn with_detail(self, detail: impl Into<String>) -> Self {
        let detail = detail.into();
        NotifyError { detail: (!detail.trim().is_empty()).then_some(detail), ..self }
    }

    /// The message with the receiver's words, for those who may edit the notifier.
    pub fn full(&self) -> String {
        match &self.detail {
            Some(d) => format!("{}: {d}", self.message),
            None => self.message.clone(),
        }
    }
}

/// How notifiers reach the world.
#[derive(Clone, Debug)]
pub struct SendSettings {
    /// `smtp://host:port`, `smtps://...` or `smtp://...?tls=required`; none turns email off.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    pub pagerduty_url: String,
    pub timeout: Duration,
    /// Lets notifier URLs reach loopback and private networks.
    pub allow_private: bool,
    /// The HTTP(S) proxy notifications go through (`--notifier-proxy`); the environment's
    /// `HTTP_PROXY` and the like are ignored.
    pub proxy: Option<String>,
}

impl Default for SendSettings {
    fn default() -> Self {
        SendSettings {
            smtp_url: None,
            smtp_from: "promgen@localhost".into(),
            pagerduty_url: "https://events.pagerduty.com/v2/enqueue".into(),
            timeout: Duration::from_secs(10),
            allow_private: false,
            proxy: None,
        }
    }
}

#[derive(Clone)]
pub struct Senders {
    http: reqwest::Client,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    settings: SendSettings,
    templates: message::Renderer,
}

impl Senders {
    pub fn new(settings: SendSettings, templates: message::Renderer) -> Result<Senders, String> {
        let mut http = reqwest::Client::builder().no_proxy();
        if let Some(proxy) = &settings.proxy {
            let proxy = reqwest::Proxy::all(proxy).map_err(|e| format!("--notifier-proxy {proxy:?}: {e}"))?;
            http = http.proxy(proxy);
        }
        let http = http
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(GuardedResolver { allow_private: settings.allow_private }))
            .user_agent(concat!("promgen-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the notifiers' HTTP client: {e}"))?;
        let smtp = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("--smtp-url {url:?}: {e}"))?
                    .timeout(Some(settings.timeout))
                    .build(),
            ),
            None => None,
        };
        Ok(Senders { http, smtp, settings, templates })
    }

    pub fn settings(&self) -> &SendSettings {
        &self.settings
    }

    /// Sends `data` to `target` as a `kind` notifier with `texts`. `site_url` makes PagerDuty's
    /// client link.
    pub async fn send(
        &self,
        kind: NotifierKind,
        target: &str,
        texts: &Texts<'_>,
        data: &WebhookMessage,
        site_url: &str,
    ) -> Result<(), NotifyError> {
        let permanent = NotifyError::permanent;
        match kind {
            NotifierKind::Email => self.email(target, texts, data).await,
            NotifierKind::Slack => {
                let text = self.render(texts.chat(data), data, Shape::SLACK).await?;
                self.post(target, &message::slack(&text)).await
            }
            NotifierKind::Webhook => {
                // Serialising thousands of alerts is CPU work: on the CPU pool.
                let data = data.clone();
                let body = self
                    .templates
                    .cpu()
                    .run("writing the webhook", move || message::webhook(&data))
                    .await
                    .map_err(|e| NotifyError::retry(e.to_string()))?
                    .map_err(permanent)?;
                self.post_bytes(target, body).await
            }
            NotifierKind::Alertmanager => {
                // Alertmanager takes each alert on its own: batches sent again after a failure
                // are merged, not doubled.
                for batch in message::alertmanager(data) {
                    self.post(target, &batch).await?;
                }
                Ok(())
            }
            NotifierKind::Pagerduty => {
                let key = pagerduty_key(target);
                self.post(&self.settings.pagerduty_url, &message::pagerduty(key, site_url, data)).await
            }
            NotifierKind::User => {
                Err(NotifyError::permanent("a user notifier sends through that user's own notifiers"))
            }
        }
    }

    /// A message template rendered (see [`message::Renderer`]); a busy server is worth a
    /// retry, a failing template is not.
    async fn render(&self, template: &str, data: &WebhookMessage, shape: Shape) -> Result<String, NotifyError> {
        self.templates.render(template, data, shape).await.map_err(|e| match e {
            message::RenderError::Busy(why) => NotifyError::retry(why),
            message::RenderError::Fails(why) => NotifyError::permanent(why),
        })
    }

    async fn post(&self, url: &str, body: &serde_json::Value) -> Result<(), NotifyError> {
        self.post_bytes(url, serde_json::to_vec(body).map_err(|e| NotifyError::permanent(e.to_string()))?).await
    }

    /// Posts a JSON body.
    async fn post_bytes(&self, url: &str, body: Vec<u8>) -> Result<(), NotifyError> {
        let url = check_url(url, self.settings.allow_private).map_err(NotifyError::permanent)?;
        let shown = redact(&url);
        if self.settings.proxy.is_some() && !self.settings.allow_private {
            // The proxy resolves and connects, not the guarded resolver: check here.
            super::guard::check_resolved(&url).await.map_err(|e| NotifyError::permanent(format!("{shown}: {e}")))?;
        }
        let res = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                let why = root_cause(&e);
                if e.is_timeout() {
                    NotifyError::retry(format!("{shown} did not answer within {:?}", self.settings.timeout))
                } else if why.contains("private or reserved") {
                    NotifyError::permanent(format!("{shown}: {why}"))
                } else {
                    NotifyError::retry(format!("{shown}: {why}"))
                }
            })?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        // Only the start is told; a receiver answering without end is not read to its end.
        let body = super::super::http_body::read_capped(res, 64 << 10).await.unwrap_or_default();
        let text: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        let message = format!("{shown} answered {status}");
        let error = if status.is_server_error() || status.as_u16() == 429 {
            NotifyError::retry(message)
        } else {
            NotifyError::permanent(message)
        };
        Err(error.with_detail(text.trim()))
    }

    async fn email(&self, to: &str, texts: &Texts<'_>, data: &WebhookMessage) -> Result<(), NotifyError> {
        let Some(smtp) = &self.smtp else {
            return Err(NotifyError::permanent("email is not configured: start the server with --smtp-url"));
        };
        let subject = self.render(texts.subject, data, Shape::EMAIL_SUBJECT).await?;
        let body = self.render(texts.body, data, Shape::EMAIL_BODY).await?;
        let mail = lettre::Message::builder()
            .from(self.settings.smtp_from.parse().map_err(|e| NotifyError::permanent(format!("--smtp-from: {e}")))?)
            .to(to.parse().map_err(|e| NotifyError::permanent(format!("{to:?} is not an email address: {e}")))?)
            .subject(subject.lines().next().unwrap_or(""))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| NotifyError::permanent(e.to_string()))?;
        smtp.send(mail).await.map(drop).map_err(|e| {
            // The server's reply may quote the address: only its code is for everyone.
            let code = e.status().map(|c| format!(" ({c})")).unwrap_or_default();
            let message = if e.is_permanent() {
                format!("the SMTP server refused the message for good{code}")
            } else if e.is_transient() {
                format!("the SMTP server refused the message for now{code}")
            } else {
                "the SMTP server could not be reached".to_string()
            };
            let error = if e.is_permanent() { NotifyError::permanent(message) } else { NotifyError::retry(message) };
            error.with_detail(root_cause(&e))
        })
    }
}

/// Promgen stores PagerDuty notifiers as `<domain>:<integration key>`; the key is what is sent.
pub fn pagerduty_key(value: &str) -> &str {
    value.rsplit(':').next().unwrap_or(value)
}

/// A URL as errors may show it: no query string, no credentials (webhook URLs carry secrets).
/// A URL in an error message, which the alert page shows to everyone: scheme and host only
/// (Slack and other incoming webhooks keep their secret in the path).
fn redact(url: &reqwest::Url) -> String {
    crate::model::masked_value(NotifierKind::Webhook, url.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_messages() {
        let u =
            reqwest::Url::parse("https://user:pw@hooks.slack.com/services/T000/B000/XXXXXXXXXXXX?token=abc").unwrap();
        let shown = redact(&u);
        assert!(!shown.contains("pw") && !shown.contains("abc") && !shown.contains("XXXX"), "{shown}");
        assert_eq!(pagerduty_key("PagerDuty:0123456789abcdef0123456789abcdef"), "0123456789abcdef0123456789abcdef");
    }
}
