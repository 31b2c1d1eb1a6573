//! The dead man's switch. Alertmanager setups keep an always-firing alert (`Watchdog`); its
//! arrivals prove that Prometheus evaluates, Alertmanager routes and this server receives.
//! When it stops for longer than the timeout, the site's notifiers hear that the alert
//! pipeline itself is broken; when it comes back, that it works again.

use super::{Alerts, Route};
use crate::backend::db;
use crate::error::AppError;
use crate::model::{LabelMap, WebhookAlert, WebhookMessage};

/// The alert the site's notifiers get about the pipeline.
pub const PIPELINE_ALERT: &str = "AlertPipelineDown";

impl Alerts {
    /// When the heartbeat last arrived (RFC 3339), if ever.
    pub async fn heartbeat_last_seen(&self) -> Result<Option<String>, AppError> {
        let (last,): (Option<String>,) =
            sqlx::query_as("SELECT last_seen FROM heartbeat WHERE id = 1").fetch_one(&self.db.pool).await?;
        Ok(last)
    }

    /// Checks the heartbeat once: raises the pipeline alert when it has been silent too long,
    /// resolves it when it is back. Replicas race for the change; one wins. Returns whether an
    /// alert was raised or resolved.
    pub async fn check_heartbeat(&self) -> Result<bool, AppError> {
        let now = chrono::Utc::now();
        let cutoff = (now - self.settings.heartbeat_timeout).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let (last, missing): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT last_seen, missing_since FROM heartbeat WHERE id = 1")
                .fetch_one(&self.db.pool)
                .await?;
        // Never seen: this installation has no heartbeat to watch.
        let Some(last) = last else { return Ok(false) };
        let silent = last < cutoff;
        let claimed = if silent && missing.is_none() {
            sqlx::query("UPDATE heartbeat SET missing_since = $1 WHERE id = 1 AND missing_since IS NULL")
                .bind(db::now())
                .execute(&self.db.pool)
                .await?
                .rows_affected()
                == 1
        } else if !silent && missing.is_some() {
            sqlx::query("UPDATE heartbeat SET missing_since = NULL WHERE id = 1 AND missing_since IS NOT NULL")
                .execute(&self.db.pool)
                .await?
                .rows_affected()
                == 1
        } else {
            false
        };
        if !claimed {
            return Ok(false);
        }
        let message = self.pipeline_message(silent, &last, missing.as_deref());
        self.store(None, &message, &serde_json::to_vec(&message).unwrap_or_default(), Route::Site).await?;
        Ok(true)
    }

    fn pipeline_message(&self, firing: bool, last: &str, since: Option<&str>) -> WebhookMessage {
        let status = if firing { "firing" } else { "resolved" };
        let labels: LabelMap =
            [("alertname".to_string(), PIPELINE_ALERT.to_string()), ("severity".to_string(), "critical".to_string())]
                .into();
        let summary = if firing {
            format!(
                "No {} alert from Alertmanager since {last}: alerts may not be reaching anyone",
                self.settings.heartbeat_alertname
            )
        } else {
            format!(
                "The {} alert arrives again (it was missing since {})",
                self.settings.heartbeat_alertname,
                since.unwrap_or(last)
            )
        };
        let annotations: LabelMap = [("summary".to_string(), summary)].into();
        let starts_at = since.unwrap_or(last).to_string();
        WebhookMessage {
            version: Some("4".into()),
            group_key: format!("{{}}:{{alertname=\"{PIPELINE_ALERT}\"}}"),
            status: status.into(),
            receiver: "promgen".into(),
            group_labels: [("alertname".to_string(), PIPELINE_ALERT.to_string())].into(),
            common_labels: labels.clone(),
            common_annotations: annotations.clone(),
            alerts: vec![WebhookAlert {
                status: status.into(),
                labels,
                annotations,
                starts_at,
                ends_at: if firing { "0001-01-01T00:00:00Z".into() } else { db::now() },
                ..Default::default()
            }],
            ..Default::default()
        }
    }
}
