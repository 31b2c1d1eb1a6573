//! The site: the installation as a whole. Its domain names the site's rule group and, with its
//! scheme, makes the `rule: <url>/rule/<id>` links alerts carry back to their rules.

use super::audit::{self, Subject};
use super::{Actor, Db, bump_generation};
use crate::error::AppError;
use crate::model::Site;
use crate::rules::promql::Version;

#[derive(Clone)]
pub struct SiteSettings {
    db: Db,
    /// `--external-url`: the address users reach the site at, which every absolute link uses.
    external_url: Option<String>,
}

impl SiteSettings {
    pub fn new(db: Db) -> Self {
        SiteSettings { db, external_url: None }
    }

    /// The site's address as its users reach it (`--external-url`); links use it over the
    /// site's domain.
    pub fn with_external_url(mut self, url: Option<&url::Url>) -> Self {
        self.external_url = url.map(|u| u.as_str().trim_end_matches('/').to_string());
        self
    }

    /// `--external-url` without its trailing `/`, if the server has one.
    pub fn external_url(&self) -> Option<&str> {
        self.external_url.as_deref()
    }

    /// For a site admin, a warning while links may point elsewhere than where users reach the
    /// site: no `--external-url`, and the request's `Host` (`host`) is not the site's domain.
    pub async fn address_warning(&self, actor: &Actor, host: Option<&str>) -> Result<Option<String>, AppError> {
        if self.external_url.is_some() || actor.may_administer("").is_err() {
            return Ok(None);
        }
        let site = self.get().await?;
        Ok(match host {
            Some(h) if !h.eq_ignore_ascii_case(&site.domain) => Some(format!(
                "Links in alerts and notifications point to {}, but this page was reached at {h}. \
                 Start the server with --external-url (PROMGEN_EXTERNAL_URL) set to the address users reach it at, \
                 or set the site's domain under Site, \"Site address\".",
                site.url()
            )),
            _ => None,
        })
    }

    pub async fn get(&self) -> Result<Site, AppError> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT domain, scheme FROM site WHERE id = 1").fetch_optional(&self.db.pool).await?;
        let (domain, scheme) = row.unwrap_or_else(|| ("127.0.0.1:3000".into(), "http".into()));
        Ok(Site { domain, scheme, external_url: self.external_url.clone() })
    }

    /// The site's id, domain and name, as Promgen's `sites/info` shows them (any logged-in
    /// user).
    pub async fn identity(&self, actor: &Actor) -> Result<(i64, String, String), AppError> {
        actor.require()?;
        let row: Option<(i64, String, String)> =
            sqlx::query_as("SELECT id, domain, name FROM site WHERE id = 1").fetch_optional(&self.db.pool).await?;
        Ok(row.unwrap_or_else(|| (1, "127.0.0.1:3000".into(), String::new())))
    }

    /// Whether every logged-in user may read every service and project (off: only what they
    /// hold a role on). See [`crate::backend::policy`].
    pub async fn open_read(&self) -> Result<bool, AppError> {
        crate::backend::policy::open_read(&self.db).await
    }

    /// Admins open read access to every logged-in user, or close it again.
    pub async fn set_open_read(&self, actor: &Actor, open: bool) -> Result<bool, AppError> {
        actor.may_administer("change who may read the inventory")?;
        let old = self.open_read().await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE site SET open_read = $1 WHERE id = 1").bind(i64::from(open)).execute(&mut *tx).await?;
        let body = if open {
            "Every logged-in user may read every service and project"
        } else {
            "Users read the services and projects they hold a role on"
        };
        audit::record(&mut tx, actor, body, Subject::new("site", 1), Some(&old), Some(&open)).await?;
        tx.commit().await?;
        Ok(open)
    }

    /// The Prometheus release rules are checked for while no shard's is known.
    pub async fn prometheus_version(&self) -> Result<Version, AppError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT prometheus_version FROM site WHERE id = 1").fetch_optional(&self.db.pool).await?;
        Ok(row.and_then(|(v,)| Version::parse(&v)).unwrap_or(Version::OLDEST))
    }

    /// Admins set the release their Prometheus servers run (`2.42`, `3.1`), for when the
    /// shards do not say.
    pub async fn set_prometheus_version(&self, actor: &Actor, text: &str) -> Result<Version, AppError> {
        actor.may_administer("change the site's Prometheus version")?;
        let version = Version::parse(text).ok_or_else(|| {
            AppError::invalid(
                "prometheus_version",
                format!("{:?} is not a Prometheus release like 2.42 or 3.1", text.trim()),
            )
        })?;
        if version < Version::OLDEST || version > Version::NEWEST {
            return Err(AppError::invalid(
                "prometheus_version",
                format!("Promgen-rs knows Prometheus {} to {}", Version::OLDEST, Version::NEWEST),
            ));
        }
        let old = self.prometheus_version().await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE site SET prometheus_version = $1 WHERE id = 1")
            .bind(version.to_string())
            .execute(&mut *tx)
            .await?;
        let body = format!("Rules are checked for Prometheus {version} while no shard's version is known");
        audit::record(&mut tx, actor, &body, Subject::new("site", 1), Some(&old), Some(&version)).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Admins set the public address users and alerts reach this installation at.
    pub async fn update(&self, actor: &Actor, domain: &str, scheme: &str) -> Result<Site, AppError> {
        actor.may_administer("change the site")?;
        let domain = domain.trim().trim_end_matches('/').to_string();
        // A DNS name (253) and a port.
        let valid_host = !domain.is_empty()
            && domain.len() <= 253 + 6
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            && !domain.starts_with(['.', '-', ':']);
        if !valid_host {
            return Err(AppError::invalid("domain", "a host name with an optional port, e.g. promgen.example.com"));
        }
        if scheme != "http" && scheme != "https" {
            return Err(AppError::invalid("scheme", "must be http or https"));
        }
        let old = self.get().await?;
        let new = Site { domain, scheme: scheme.into(), external_url: self.external_url.clone() };
        let mut tx = self.db.begin().await?;
        sqlx::query(
            "INSERT INTO site (id, domain, scheme) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET domain = excluded.domain, scheme = excluded.scheme",
        )
        .bind(&new.domain)
        .bind(&new.scheme)
        .execute(&mut *tx)
        .await?;
        audit::record(
            &mut tx,
            actor,
            &format!("Updated site {}", new.url()),
            Subject::new("site", 1),
            Some(&old),
            Some(&new),
        )
        .await?;
        // The rule file names the site group and links rules by this address.
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }
}
