//! The server side: one service module per capability. Server functions, REST handlers, the
//! CLI and the workers all go through these; none of them talks to the database directly.
//! Permission checks, validation, the audit entry and the change stamp happen here, once.

pub mod audit;
pub mod auth;
pub mod db;
pub mod exports;
pub mod importer;
pub mod inventory;
pub mod proxy;
pub mod rules;
pub mod site;

use crate::error::AppError;
pub use auth::Actor;
pub use db::Db;

/// How the backend reaches the tools and servers around it.
#[derive(Clone, Debug)]
pub struct Settings {
    /// promtool to check rule files with; `None` looks for `promtool` on `PATH`.
    pub promtool: Option<std::path::PathBuf>,
    /// How long a query to a shard's Prometheus may take.
    pub query_timeout: std::time::Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { promtool: None, query_timeout: std::time::Duration::from_secs(10) }
    }
}

/// Every capability, wired to one database. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    pub db: Db,
    pub auth: auth::Auth,
    pub audit: audit::AuditLog,
    pub inventory: inventory::Inventory,
    pub exports: exports::Exports,
    pub importer: importer::Importer,
    pub site: site::SiteSettings,
    pub rules: rules::Rules,
}

impl Backend {
    pub fn new(db: Db) -> Backend {
        Backend::with_settings(db, &Settings::default())
    }

    pub fn with_settings(db: Db, settings: &Settings) -> Backend {
        let proxy = proxy::Proxy::new(db.clone(), settings.query_timeout);
        let promtool = rules::promtool::Promtool::locate(settings.promtool.as_deref());
        Backend {
            auth: auth::Auth::new(db.clone()),
            audit: audit::AuditLog::new(db.clone()),
            inventory: inventory::Inventory::new(db.clone()),
            exports: exports::Exports::new(db.clone()),
            importer: importer::Importer::new(db.clone()),
            site: site::SiteSettings::new(db.clone()),
            rules: rules::Rules::new(db.clone(), promtool, proxy),
            db,
        }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        AppError::Internal("the database failed; see the server log".into())
    }
}

/// Maps a unique violation to a clear message about `field`; other errors pass through.
pub(crate) fn unique(field: &str, message: impl Into<String>) -> impl FnOnce(sqlx::Error) -> AppError {
    let message = message.into();
    let field = field.to_string();
    move |e| {
        if db::is_unique_violation(&e) { AppError::conflict(&field, message) } else { AppError::from(e) }
    }
}

/// Marks the inventory changed inside the caller's transaction, so every replica re-renders
/// its Prometheus files on the next request.
pub(crate) async fn bump_generation(conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE inventory_generation SET generation = generation + 1 WHERE id = 1").execute(conn).await?;
    Ok(())
}
