//! Which Prometheus the rules meet. Every Prometheus loads the whole rule file, and refuses
//! all of it for one construct it does not know, so every rule is checked for the oldest
//! Prometheus among the enabled shards: a shard's version set by hand, else the one its
//! server reported; while no shard's version is known, the site's default. Experimental
//! functions pass only when every such shard enables them.

use super::Rules;
use crate::error::AppError;
use crate::rules::promql::{Dialect, Version};

impl Rules {
    /// Asks the shards which Prometheus they run (see [`Proxy::detect_versions`]).
    ///
    /// [`Proxy::detect_versions`]: crate::backend::proxy::Proxy::detect_versions
    pub async fn detect_versions(&self) -> Result<usize, AppError> {
        self.proxy.detect_versions().await
    }

    /// The dialect rules are checked in, and where it comes from (for the editor).
    pub async fn dialect(&self) -> Result<(Dialect, String), AppError> {
        of(&self.db).await
    }
}

/// The dialect rules are checked in (see the module's text), and where it comes from.
pub async fn of(db: &crate::backend::Db) -> Result<(Dialect, String), AppError> {
    let rows: Vec<(String, Option<String>, Option<String>, i64)> = sqlx::query_as(
        "SELECT name, prometheus_version, detected_version, detected_experimental FROM shard WHERE enabled = 1 \
             ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await?;
    let mut oldest: Option<(Version, String)> = None;
    let mut experimental = true;
    for (name, manual, detected, detected_experimental) in rows {
        let Some(version) = manual.as_deref().or(detected.as_deref()).and_then(Version::parse) else { continue };
        // A version set by hand says nothing of feature flags: only detected ones do.
        experimental &= manual.is_none() && detected_experimental != 0;
        if oldest.as_ref().is_none_or(|(v, _)| version < *v) {
            oldest = Some((version, name));
        }
    }
    Ok(match oldest {
        Some((version, shard)) => {
            let (checked, note) = version.known();
            (
                Dialect { version: checked, experimental },
                format!("Prometheus {version} of shard {shard}, the oldest{note}"),
            )
        }
        None => {
            let (site,): (String,) = sqlx::query_as("SELECT prometheus_version FROM site WHERE id = 1")
                .fetch_optional(&db.pool)
                .await?
                .unwrap_or_else(|| (Version::OLDEST.to_string(),));
            let (version, note) = Version::parse(&site).unwrap_or(Version::OLDEST).known();
            (
                Dialect::of(version),
                format!("Prometheus {version}, the site's default (no shard's version is known){note}"),
            )
        }
    })
}
