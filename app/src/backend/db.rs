//! The database: SQLite (embedded default) or PostgreSQL, chosen by URL at run time.
//!
//! Queries are written once, with `$1` placeholders, and run unchanged on both backends
//! through sqlx's Any driver. What must differ between the two lives here and nowhere else.

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Where no configuration points elsewhere: a file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/promgen.db";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub dialect: Dialect,
    /// Where it was reached; PostgreSQL's LISTEN needs a connection of its own.
    pub url: String,
    /// SQLite has one writer at a time. Writers of this process take turns here, woken as soon
    /// as the turn is free, instead of polling SQLite's lock with growing sleeps.
    writer: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction (it derefs to its connection); on SQLite it also holds this process'
/// writer turn until it is committed or dropped (rolled back).
pub struct WriteTx {
    // Declared first, dropped first: the rollback is queued before the turn is passed on.
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("cannot create the directory for {path}: {source}")]
    CreateDir { path: String, source: std::io::Error },
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot apply migrations: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects and applies pending migrations. A SQLite file (and its directory) is created
    /// if missing, in WAL mode with foreign keys on.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        install_default_drivers();
        let (dialect, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let file = path.split('?').next().unwrap_or(path);
            if let Some(dir) = std::path::Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir { path: file.to_string(), source })?;
            }
            let url = if path.contains("mode=") {
                url.to_string()
            } else if path.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Dialect::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Dialect::Postgres, url.to_string())
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };

        let pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(DbError::Connect)?;

        let migrator = match dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(DbError::Migrate)?;
        if dialect == Dialect::Sqlite {
            sqlite_ids_never_reused(&url)
                .await
                .map_err(|e| DbError::Migrate(sqlx::migrate::MigrateError::Execute(e)))?;
        }
        Ok(Db { pool, dialect, url, writer: Arc::default() })
    }

    /// Whether the database answers a query within `within` (readiness checks).
    pub async fn answers(&self, within: std::time::Duration) -> bool {
        let query = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(&self.pool);
        matches!(tokio::time::timeout(within, query).await, Ok(Ok(_)))
    }

    /// A transaction that will write. On SQLite it waits for this process' writer turn, then
    /// begins IMMEDIATE: a deferred transaction takes the write lock only at its first write,
    /// and if it read first while another process wrote, it fails at once with "database is
    /// locked" instead of waiting. Inside it, wait on no other pool connection: the turn and
    /// the lock are held.
    pub async fn begin(&self) -> Result<WriteTx, sqlx::Error> {
        match self.dialect {
            Dialect::Sqlite => {
                let turn = self.writer.clone().lock_owned().await;
                let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(WriteTx { tx, _turn: Some(turn) })
            }
            Dialect::Postgres => Ok(WriteTx { tx: self.pool.begin().await?, _turn: None }),
        }
    }

    /// After rows were inserted with explicit ids (an import keeps Promgen's primary keys),
    /// make the next generated id follow them. SQLite does this by itself.
    pub async fn sync_id_sequences(&self, conn: &mut sqlx::AnyConnection, tables: &[&str]) -> Result<(), sqlx::Error> {
        if self.dialect == Dialect::Postgres {
            for table in tables {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(&sql).execute(&mut *conn).await?;
            }
        }
        Ok(())
    }
}

/// The tables whose ids the audit log names, with the object type it names them by.
const AUDITED_IDS: [(&str, &str); 14] = [
    ("users", "user"),
    ("user_group", "group"),
    ("shard", "shard"),
    ("prometheus", "prometheus"),
    ("service", "service"),
    ("project", "project"),
    ("farm", "farm"),
    ("host", "host"),
    ("exporter", "exporter"),
    ("probe", "probe"),
    ("url", "url"),
    ("rule", "rule"),
    ("token", "token"),
    ("notifier", "notifier"),
];

/// SQLite: ids are never given twice, as on PostgreSQL (identity columns) and in Promgen. A
/// plain `INTEGER PRIMARY KEY` gives a new row the largest id plus one, so deleting the newest
/// rule and making another gave the new one the old one's id, its audit history (offering
/// "Restore this version" of the deleted rule) and its links. Every table keyed so (the
/// migrations' own) is rebuilt once with `AUTOINCREMENT`, its rows, ids, indexes and triggers
/// kept, and its counter starts past every id the audit log names ([`AUDITED_IDS`]), so ids
/// deleted before this ran are not given again either.
///
/// Not a migration: a table is rebuilt with foreign keys off (dropping the old one would
/// otherwise cascade to its children), which SQLite allows only outside a transaction, and
/// sqlx runs each SQLite migration inside one. So it runs here, after the migrations, on a
/// connection of its own (closed after, never pooled with its checks off), in one transaction:
/// all tables or none. A database where every such table has it already is left alone.
async fn sqlite_ids_never_reused(url: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let tables: Vec<(String, String)> =
        sqlx::query_as("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
            .fetch_all(&mut conn)
            .await?;
    let plain = |sql: &str| sql.lines().any(|l| l.trim_start().starts_with("id INTEGER PRIMARY KEY,"));
    let tables: Vec<(String, String)> = tables.into_iter().filter(|(_, sql)| plain(sql)).collect();
    if tables.is_empty() {
        return conn.close().await;
    }
    let mut script = String::from("PRAGMA foreign_keys = OFF; PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE;\n");
    for (name, sql) in &tables {
        // The table's own statement, renamed, with the one word added.
        let (Some(open), false) = (sql.find('('), name.contains('"')) else { continue };
        let new = format!("promgen_new_{name}");
        let columns = sql[open..].replacen("id INTEGER PRIMARY KEY,", "id INTEGER PRIMARY KEY AUTOINCREMENT,", 1);
        let attached: Vec<(String,)> = sqlx::query_as(
            "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = $1 AND sql IS NOT NULL",
        )
        .bind(name)
        .fetch_all(&mut conn)
        .await?;
        script.push_str(&format!(
            "CREATE TABLE \"{new}\" {columns};\nINSERT INTO \"{new}\" SELECT * FROM \"{name}\";\n\
             DROP TABLE \"{name}\";\nALTER TABLE \"{new}\" RENAME TO \"{name}\";\n"
        ));
        for (sql,) in attached {
            script.push_str(&sql);
            script.push_str(";\n");
        }
        script.push_str(&format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT '{name}', 0 \
             WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '{name}');\n"
        ));
        if let Some((_, kind)) = AUDITED_IDS.iter().find(|(table, _)| table == name) {
            script.push_str(&format!(
                "UPDATE sqlite_sequence SET seq = MAX(seq, \
                 COALESCE((SELECT MAX(object_id) FROM audit WHERE object_type = '{kind}'), 0), \
                 COALESCE((SELECT MAX(parent_id) FROM audit WHERE parent_type = '{kind}'), 0)) \
                 WHERE name = '{name}';\n"
            ));
        }
    }
    script.push_str("COMMIT;");
    // On a failure the connection is closed inside its transaction: SQLite rolls it back.
    let done = conn.execute(&*script).await.map(|_| ());
    conn.close().await?;
    done
}

impl Dialect {
    /// SQL that joins the text values of `expr` in a group, separated by `separator` (SQL
    /// text, e.g. a bind parameter): `group_concat` in SQLite, `string_agg` in PostgreSQL.
    /// Order within the group is not defined.
    pub fn string_agg(self, expr: &str, separator: &str) -> String {
        match self {
            Dialect::Sqlite => format!("group_concat({expr}, {separator})"),
            Dialect::Postgres => format!("string_agg({expr}, {separator})"),
        }
    }
}

impl Dialect {
    /// SQL that gathers `columns` of every row into one JSON array of arrays (text): one value
    /// to decode instead of a row each, for the bulk reads that render whole files.
    pub fn json_rows(self, columns: &str) -> String {
        match self {
            Dialect::Sqlite => format!("COALESCE(json_group_array(json_array({columns})), '[]')"),
            Dialect::Postgres => format!("COALESCE(CAST(json_agg(json_build_array({columns})) AS TEXT), '[]')"),
        }
    }
}

/// Now, as stored: RFC 3339 in UTC, which sorts as text.
/// The row offset of page `page` (from 1) of `size` rows: any page a caller sends, even
/// `i64::MAX` or a negative one, gives an offset (past the end, it finds nothing).
pub fn page_offset(page: i64, size: i64) -> i64 {
    page.max(1).saturating_sub(1).saturating_mul(size)
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `q`, in lower case (`%`, `_` and
/// `\` in `q` match themselves).
pub fn contains_pattern(q: &str) -> String {
    format!("%{}%", q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether a database error is a unique-constraint violation.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Whether a database error is a foreign-key violation (a referenced row is gone).
pub fn is_foreign_key_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_foreign_key_violation())
}
