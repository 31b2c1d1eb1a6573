//! The server side: one service module per capability. Server functions, REST handlers, the
//! CLI and the workers all go through these; none of them talks to the database directly.
//! Permission checks, validation, the audit entry and the change stamp happen here, once.

pub mod agents;
pub mod alertmanager;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod client;
pub mod cpu;
pub mod csp;
pub mod db;
pub mod events;
pub mod exporter_checks;
pub mod exports;
pub mod http_body;
pub mod importer;
pub mod inventory;
pub mod metrics;
pub mod notify;
pub mod policy;
pub mod proxy;
pub mod query_proxy;
pub mod roles;
pub mod rules;
pub mod sandbox;
pub mod silences;
pub mod site;
pub mod supervisor;
pub mod yaml;

use crate::error::AppError;
pub use auth::Actor;

/// The most hits of each kind a search answers.
pub(crate) const SEARCH_LIMIT: i64 = 50;
pub use db::Db;

/// How the backend reaches the tools and servers around it.
#[derive(Clone, Debug)]
pub struct Settings {
    /// promtool to check rule files with; `None` looks for `promtool` on `PATH`.
    pub promtool: Option<std::path::PathBuf>,
    /// How long a query to a shard's Prometheus may take.
    pub query_timeout: std::time::Duration,
    pub send: notify::senders::SendSettings,
    pub alerts: alerts::AlertSettings,
    pub dispatch: notify::dispatch::DispatchSettings,
    /// How long a request may wait for CPU-heavy work (checks, renders, parses).
    pub cpu_budget: std::time::Duration,
    /// The most hosts a farm may hold when hosts are added in the UI or the API.
    pub max_hosts_per_farm: usize,
    pub login: auth::LoginSettings,
    /// The `promgen` binary that renders users' templates in a child process with limits
    /// (`promgen sandbox-render`); `None` renders them in-process.
    pub sandbox: Option<std::path::PathBuf>,
    /// Identity providers, and whether local accounts may log in.
    pub sign_in: auth::sso::SignInSettings,
    /// Alertmanager base URLs (`--alertmanager-url`): silences and the alerts they hold.
    pub alertmanagers: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            promtool: None,
            query_timeout: std::time::Duration::from_secs(10),
            send: Default::default(),
            alerts: Default::default(),
            dispatch: Default::default(),
            cpu_budget: std::time::Duration::from_secs(10),
            max_hosts_per_farm: inventory::MAX_HOSTS_PER_FARM,
            login: Default::default(),
            sandbox: None,
            sign_in: Default::default(),
            alertmanagers: Vec::new(),
        }
    }
}

/// Every capability, wired to one database. Cheap to clone.
#[derive(Clone)]
pub struct Backend {
    pub db: Db,
    pub auth: auth::Auth,
    /// Sign-in through identity providers (OpenID Connect, OAuth2).
    pub sign_in: auth::sso::SignIn,
    pub audit: audit::AuditLog,
    pub inventory: inventory::Inventory,
    pub exports: exports::Exports,
    /// Push agents' waits and reports.
    pub agents: agents::Agents,
    /// Exporters' live state and Promgen's exporter test.
    pub exporter_checks: exporter_checks::ExporterChecks,
    pub importer: importer::Importer,
    pub site: site::SiteSettings,
    pub rules: rules::Rules,
    pub events: events::Events,
    pub metrics: std::sync::Arc<metrics::Metrics>,
    pub alerts: alerts::Alerts,
    pub notifiers: notify::Notifiers,
    /// Queries to the shards' Prometheus servers.
    pub proxy: proxy::Proxy,
    /// Silences and held alerts in the configured Alertmanagers.
    pub silences: silences::Silences,
    /// Roles on services and projects, and groups.
    pub roles: roles::Roles,
    /// Where CPU-heavy work of requests runs.
    pub cpu: cpu::Cpu,
    /// Wakes the dispatcher when the webhook queues notifications.
    /// Owns every background task; the server waits for them when it stops.
    pub supervisor: supervisor::Supervisor,
    wake: std::sync::Arc<tokio::sync::Notify>,
    dispatch: notify::dispatch::DispatchSettings,
}

impl Backend {
    pub fn new(db: Db) -> Backend {
        Backend::with_settings(db, &Settings::default()).expect("the default settings are valid")
    }

    /// Wires every capability; fails on settings that cannot work (an SMTP URL that does not
    /// parse).
    pub fn with_settings(db: Db, settings: &Settings) -> Result<Backend, String> {
        let proxy = proxy::Proxy::new(db.clone(), settings.query_timeout);
        let promtool = rules::promtool::Promtool::locate(settings.promtool.as_deref());
        let events = events::Events::new(db.clone());
        let metrics = std::sync::Arc::new(metrics::Metrics::default());
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let cpu = cpu::Cpu::new(0, settings.cpu_budget);
        let sandbox = sandbox::Sandbox::new(settings.sandbox.clone());
        let templates = notify::message::Renderer::new(cpu.clone(), sandbox);
        let senders = notify::senders::Senders::new(settings.send.clone(), templates.clone())?;
        let alertmanagers = alertmanager::Alertmanagers::new(&settings.alertmanagers, settings.query_timeout)?;
        let inventory = inventory::Inventory::new(db.clone(), cpu.clone(), settings.max_hosts_per_farm);
        let exporter_checks =
            exporter_checks::ExporterChecks::new(db.clone(), inventory.clone(), proxy.clone(), settings.query_timeout);
        let supervisor = supervisor::Supervisor::new();
        // One site for every capability: its address is where all absolute links point.
        let site = site::SiteSettings::new(db.clone()).with_external_url(settings.sign_in.external_url.as_ref());
        Ok(Backend {
            auth: auth::Auth::new(db.clone(), &settings.login).with_local_accounts(settings.sign_in.local_accounts),
            sign_in: auth::sso::SignIn::new(db.clone(), &settings.sign_in)?,
            audit: audit::AuditLog::new(db.clone()),
            inventory,
            exporter_checks,
            agents: agents::Agents::new(db.clone(), supervisor.clone()),
            exports: exports::Exports::new(db.clone(), site.clone(), cpu.clone(), promtool.clone()),
            importer: importer::Importer::new(db.clone()),
            site: site.clone(),
            rules: rules::Rules::new(db.clone(), site.clone(), promtool, proxy.clone(), cpu.clone()),
            proxy,
            silences: silences::Silences::new(db.clone(), alertmanagers),
            roles: roles::Roles::new(db.clone()),
            alerts: alerts::Alerts::new(
                db.clone(),
                site.clone(),
                events.clone(),
                metrics.clone(),
                settings.alerts.clone(),
                wake.clone(),
                supervisor.clone(),
            )
            .with_cpu(cpu.clone()),
            notifiers: notify::Notifiers::new(db.clone(), senders, templates),
            events,
            metrics,
            wake,
            supervisor,
            cpu,
            dispatch: settings.dispatch.clone(),
            db,
        })
    }

    /// What `query` finds, case-insensitive, among what `actor` may read: services, projects,
    /// hosts, farms and blackbox URLs ([`inventory::Inventory::search`]), rules by name
    /// ([`rules::Rules::search`]) and notifiers by alias or masked target
    /// ([`notify::Notifiers::search`]); at most [`SEARCH_LIMIT`] of each kind. A query is at
    /// most 200 characters (400 otherwise); LIKE wildcards in it are literal.
    pub async fn search(&self, actor: &Actor, query: &str) -> Result<Vec<crate::model::SearchHit>, AppError> {
        actor.require()?;
        let q = crate::model::validate::text("query", query, crate::model::validate::QUERY_MAX_CHARS)?;
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let pattern = db::contains_pattern(&q);
        let readable = policy::Readable::of(&self.db, actor).await?;
        let mut hits = self.inventory.search(&readable, &pattern).await?;
        hits.extend(self.rules.search(&readable, &pattern).await?);
        hits.extend(self.notifiers.search(actor, &readable, &q).await?);
        Ok(hits)
    }

    /// A worker for the outbox (the server runs one; tests drive one step by step).
    pub fn dispatcher(&self) -> notify::dispatch::Dispatcher {
        notify::dispatch::Dispatcher::new(
            self.db.clone(),
            self.site.clone(),
            self.notifiers.senders().clone(),
            self.events.clone(),
            self.metrics.clone(),
            self.wake.clone(),
            self.dispatch.clone(),
        )
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        AppError::Internal("the database failed; the server's log says why".into())
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
    sqlx::query("UPDATE inventory_generation SET generation = generation + 1, changed = $1 WHERE id = 1")
        .bind(db::now())
        .execute(conn)
        .await?;
    Ok(())
}
