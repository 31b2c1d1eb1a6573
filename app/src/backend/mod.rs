//! The server side: one service module per capability. Server functions, REST handlers, the
//! CLI and the workers all go through these; none of them talks to the database directly.
//! Permission checks, validation, the audit entry and the change stamp happen here, once.

pub mod audit;
pub mod auth;
pub mod db;
pub mod exports;
pub mod importer;
pub mod inventory;

use crate::error::AppError;
pub use auth::Actor;
pub use db::Db;

/// Every capability, wired to one database. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    pub db: Db,
    pub auth: auth::Auth,
    pub audit: audit::AuditLog,
    pub inventory: inventory::Inventory,
    pub exports: exports::Exports,
    pub importer: importer::Importer,
}

impl Backend {
    pub fn new(db: Db) -> Backend {
        Backend {
            auth: auth::Auth::new(db.clone()),
            audit: audit::AuditLog::new(db.clone()),
            inventory: inventory::Inventory::new(db.clone()),
            exports: exports::Exports::new(db.clone()),
            importer: importer::Importer::new(db.clone()),
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
