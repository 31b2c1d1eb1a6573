//! The command line. Scripts and operators rely on these names: keep them stable.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "promgen", version, about = "Prometheus management: what to scrape, which rules, who to tell")]
pub struct Cli {
    /// Database: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, global = true, env = "DATABASE_URL", default_value = app::backend::db::DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// promtool to check rule files with (default: `promtool` on PATH; checks are skipped
    /// when there is none).
    #[arg(long, global = true, env = "PROMGEN_PROMTOOL")]
    pub promtool: Option<PathBuf>,

    /// Seconds a query to a shard's Prometheus may take (the rule test).
    #[arg(long, global = true, env = "PROMGEN_QUERY_TIMEOUT", default_value_t = 10)]
    pub query_timeout: u64,

    /// An Alertmanager to make silences in and read held alerts from (http://host:9093, any
    /// path prefix kept). Repeat it for each member of an HA pair or each shard's
    /// Alertmanager: a silence goes to each, lists are merged.
    #[arg(long = "alertmanager-url", global = true, env = "PROMGEN_ALERTMANAGER_URLS", value_delimiter = ',')]
    pub alertmanager_urls: Vec<String>,

    /// How log lines are written to stderr: `text` for people, `json` (one object a line, with
    /// the request's id on every line of a request) for log collectors.
    #[arg(long, global = true, env = "PROMGEN_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,

    #[command(flatten)]
    pub alerting: AlertingArgs,

    #[command(subcommand)]
    pub command: Option<Command>,

    /// With no verb, promgen serves.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default).
    Serve(Box<ServeArgs>),
    /// Load a Promgen `dumpdata` export (YAML or JSON); several files apply in order.
    ImportPromgen {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Import file_sd targets JSON (as /api/v1/targets writes it) into the inventory.
    Import {
        file: PathBuf,
        /// Put every imported project on this shard.
        #[arg(long)]
        shard: Option<String>,
    },
    /// Register a Prometheus server HOST:PORT on SHARD (created if missing).
    RegisterServer { shard: String, host: String, port: i64 },
    /// Run beside a Prometheus server: keep its targets, URLs and rules files as the server has
    /// them (following its changes), check rules with promtool, reload Prometheus, and report
    /// each sync back (shown on the shard's page). Needs no database.
    Agent(AgentArgs),
    /// Write the file_sd targets to FILE (stdout when omitted).
    Targets(ExportArgs),
    /// Write the blackbox URLs file_sd to FILE (stdout when omitted).
    Urls(ExportArgs),
    /// Write the Prometheus rule file to FILE (stdout when omitted), checked with promtool.
    Rules(ExportArgs),
    /// Check Prometheus rule files with the editor's engine (syntax, result types, templates,
    /// group names, unknown fields) for a release of Prometheus. Prints `FILE: line:col:
    /// message` per fault; exits 0 when every file is valid, 1 otherwise (as promtool).
    CheckRules {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The Prometheus release the files are for (`2.42`, `3.5`). Default: the site's (the
        /// oldest shard's) when the database exists, else 2.42.
        #[arg(long, value_name = "VERSION")]
        prometheus_version: Option<String>,
    },
    /// Create a user; prints the password when none is given.
    CreateUser {
        username: String,
        #[arg(long)]
        superuser: bool,
        #[arg(long, env = "PROMGEN_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
    /// Make an API token for USER (for Alertmanager's webhook: `Authorization: Token <key>`);
    /// prints the key, which is shown only this once.
    CreateToken {
        username: String,
        /// What the token is for, e.g. "alertmanager".
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke the token with this id (listed on the user's profile page).
    RevokeToken { id: i64 },
    /// Let USER post alerts to the webhook (Promgen's process_alert permission), or stop it.
    GrantAlerts {
        username: String,
        #[arg(long)]
        revoke: bool,
    },
    /// Delete alerts older than --alert-retention (alerts still being delivered stay).
    AlertsPrune,
    /// Set a user's password; prints a new one when none is given.
    SetPassword {
        username: String,
        #[arg(long, env = "PROMGEN_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PROMGEN_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Where the compiled site (pkg/ with the wasm, JS and CSS) is.
    #[arg(long, env = "PROMGEN_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Password for the first admin on an empty database (a random one is printed otherwise).
    #[arg(long, env = "PROMGEN_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// Mark the session cookie Secure (set it when users reach Promgen over https).
    #[arg(long, env = "PROMGEN_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Public origins besides the request's own Host allowed to send changes
    /// (e.g. https://promgen.example.com behind a proxy); comma-separated.
    #[arg(long, env = "PROMGEN_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// The largest Alertmanager webhook body taken, in bytes (413 above it).
    #[arg(long, env = "PROMGEN_MAX_WEBHOOK_BYTES", default_value_t = 4 << 20)]
    pub max_webhook_bytes: usize,
    /// The largest body of any other request (forms, server functions, imports), in bytes.
    #[arg(long, env = "PROMGEN_MAX_REQUEST_BYTES", default_value_t = 4 << 20)]
    pub max_request_bytes: usize,
    /// Memory for request bodies and what handlers build from them, in bytes. A request with
    /// a body is handled once its body, reckoned at 100 times its size (a parsed YAML file
    /// takes up to that), fits beside those being handled; one request takes at most three
    /// quarters, so one large body is handled at a time while small ones go on; a request
    /// waits for room at most --client-timeout (503 past it); a client holds a large request
    /// and an eighth beside it (429 past that). The bodies themselves may hold a quarter of it
    /// (503 past it), one client (an address, an IPv6 /64) an eighth of that or one largest
    /// body (429 past that): bodies held open cannot fill the memory.
    #[arg(long, env = "PROMGEN_MAX_BODY_MEMORY", default_value_t = 256 << 20)]
    pub max_body_memory: usize,
    /// Login attempts taken per account per minute (429 with Retry-After above it).
    #[arg(long, env = "PROMGEN_LOGIN_LIMIT_ACCOUNT", default_value_t = 5)]
    pub login_limit_account: u32,
    /// Login attempts taken per client address per minute.
    #[arg(long, env = "PROMGEN_LOGIN_LIMIT_ADDRESS", default_value_t = 30)]
    pub login_limit_address: u32,
    /// Behind a reverse proxy: the header it puts the client's address in (X-Forwarded-For,
    /// its last entry, or X-Real-IP). Set it only when a proxy sets that header.
    #[arg(long, env = "PROMGEN_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// The most hosts a farm may hold when hosts are added in the UI or the API.
    #[arg(long, env = "PROMGEN_MAX_HOSTS_PER_FARM", default_value_t = app::backend::inventory::MAX_HOSTS_PER_FARM)]
    pub max_hosts_per_farm: usize,
    /// How long a client may stall before its connection is closed: take to send a request's
    /// head (from when the connection opens, and again after each response), wait between
    /// parts of a request's body, or leave an answer unread. So connections left half-open
    /// (slowloris) are not held.
    #[arg(long, env = "PROMGEN_CLIENT_TIMEOUT", default_value = "30s", value_parser = positive_duration)]
    pub client_timeout: std::time::Duration,
    /// Connections served at once; the next waits until one ends (keep it under the process's
    /// open-file limit, `ulimit -n`).
    #[arg(long, env = "PROMGEN_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Connections one client address may hold at once (an IPv6 client: its /64, what one
    /// host is given); the next is answered 429 and closed. 0 turns it off; it is off with
    /// `--client-ip-header`, where every connection comes from the proxy (which limits them).
    #[arg(long, env = "PROMGEN_MAX_CLIENT_CONNECTIONS", default_value_t = 256)]
    pub max_client_connections: u32,
    /// How long a request may wait for CPU-heavy work (rule checks, imports, templates).
    #[arg(long, env = "PROMGEN_CPU_BUDGET", default_value = "10s", value_parser = duration)]
    pub cpu_budget: std::time::Duration,
    /// The site's address as its users reach it (https://promgen.example.com, a path prefix
    /// allowed), as Prometheus and Alertmanager call it: every absolute link uses it (the
    /// `rule` annotation, the alert links in notifications) and identity providers send users
    /// back to it. Unset, links use the site's domain and admins are warned.
    #[arg(long, env = "PROMGEN_EXTERNAL_URL", value_parser = external_url)]
    pub external_url: Option<url::Url>,
    /// A YAML file of identity providers (OpenID Connect, GitHub, OAuth2) users sign in with;
    /// the README's "Sign-in" section shows its shape.
    #[arg(long, env = "PROMGEN_SIGN_IN_PROVIDERS")]
    pub sign_in_providers: Option<PathBuf>,
    /// Whether users may log in with a username and password kept here (`false` once
    /// everyone signs in through a provider).
    #[arg(long, env = "PROMGEN_LOCAL_ACCOUNTS", default_value_t = true, action = clap::ArgAction::Set)]
    pub local_accounts: bool,
}

/// An absolute http(s) URL, ending in `/` so that paths join below it.
fn external_url(s: &str) -> Result<url::Url, String> {
    let mut url = url::Url::parse(s).map_err(|e| format!("{s:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{s:?} must be an http(s) URL with a host"));
    }
    if !url.path().ends_with('/') {
        url.set_path(&format!("{}/", url.path()));
    }
    Ok(url)
}

/// `promgen agent`'s settings.
#[derive(Args, Debug, Clone)]
pub struct AgentArgs {
    /// Promgen-rs' address (https://promgen.example.com).
    #[arg(long, env = "PROMGEN_SERVER_URL", value_parser = external_url)]
    pub server_url: url::Url,
    /// A site admin's API token (`promgen create-token USER`), for waiting on changes and
    /// reporting; prefer the environment variable to the flag.
    #[arg(long, env = "PROMGEN_AGENT_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The shard this Prometheus server belongs to: its targets and URLs are written.
    #[arg(long, env = "PROMGEN_AGENT_SHARD")]
    pub shard: String,
    /// Where to keep the file_sd targets (Prometheus' `file_sd_configs`).
    #[arg(long)]
    pub targets: Option<PathBuf>,
    /// Where to keep the blackbox URLs (file_sd).
    #[arg(long)]
    pub urls: Option<PathBuf>,
    /// Where to keep the rule file (Prometheus' `rule_files`); checked with promtool first.
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// The Prometheus to reload (started with `--web.enable-lifecycle`).
    #[arg(long, env = "PROMGEN_PROMETHEUS_URL", default_value = "http://127.0.0.1:9090")]
    pub prometheus_url: String,
    /// This server's name on the shard's page (default: the Prometheus URL's host:port).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// File to write atomically; stdout when omitted.
    pub file: Option<PathBuf>,
    /// After writing, ask Prometheus to reload (POST /-/reload).
    #[arg(long, requires = "file")]
    pub reload: bool,
    /// The Prometheus to reload.
    #[arg(long, env = "PROMGEN_PROMETHEUS_URL", default_value = "http://127.0.0.1:9090")]
    pub prometheus_url: String,
}

/// A duration as Prometheus writes them: 30s, 5m, 1h30m.
fn duration(s: &str) -> Result<std::time::Duration, String> {
    app::model::duration::parse_duration(s).map(std::time::Duration::from_millis)
}

/// A duration above zero (zero would close every connection at once).
fn positive_duration(s: &str) -> Result<std::time::Duration, String> {
    match duration(s)? {
        d if d.is_zero() => Err(format!("{s:?} must be longer than zero")),
        d => Ok(d),
    }
}

/// `label=value`.
fn label_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(format!("{s:?} is not label=value")),
    }
}

/// How alerts are received and how notifiers reach people.
#[derive(Args, Debug, Clone)]
pub struct AlertingArgs {
    /// SMTP server for email notifiers: smtp://host:25, smtp://host:587?tls=required, smtps://host
    /// (credentials as smtp://user:pass@host); without it, email notifiers fail visibly.
    #[arg(long, global = true, env = "PROMGEN_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address of notification emails.
    #[arg(long, global = true, env = "PROMGEN_SMTP_FROM", default_value = "promgen@localhost")]
    pub smtp_from: String,
    /// Where PagerDuty notifiers send events.
    #[arg(
        long,
        global = true,
        env = "PROMGEN_PAGERDUTY_URL",
        default_value = "https://events.pagerduty.com/v2/enqueue"
    )]
    pub pagerduty_url: String,
    /// Let notifier URLs reach loopback and private networks (they may not by default).
    #[arg(long, global = true, env = "PROMGEN_NOTIFIER_ALLOW_PRIVATE")]
    pub notifier_allow_private: bool,
    /// Send notifications through this HTTP(S) proxy (http://host:port). Proxies in the
    /// environment (HTTP_PROXY, ...) are not used.
    #[arg(long, global = true, env = "PROMGEN_NOTIFIER_PROXY")]
    pub notifier_proxy: Option<String>,
    /// How long one notification may take to send.
    #[arg(long, global = true, env = "PROMGEN_NOTIFY_TIMEOUT", default_value = "10s", value_parser = duration)]
    pub notify_timeout: std::time::Duration,
    /// Attempts before a notification is given up on (and shown as failed).
    #[arg(long, global = true, env = "PROMGEN_NOTIFY_MAX_ATTEMPTS", default_value_t = 10)]
    pub notify_max_attempts: i64,
    /// The wait before the first retry; each later one doubles it, up to an hour.
    #[arg(long, global = true, env = "PROMGEN_NOTIFY_BACKOFF", default_value = "5s", value_parser = duration)]
    pub notify_backoff: std::time::Duration,
    /// A delivery identical to one received this recently (same group, status and alerts) is
    /// a duplicate and notifies nobody again.
    #[arg(long, global = true, env = "PROMGEN_ALERT_DEDUPE_WINDOW", default_value = "10m", value_parser = duration)]
    pub alert_dedupe_window: std::time::Duration,
    /// Drop alerts whose common labels have label=value (repeatable), like Promgen's blacklist.
    #[arg(long, global = true, env = "PROMGEN_ALERT_IGNORE", value_delimiter = ',', value_parser = label_pair)]
    pub alert_ignore: Vec<(String, String)>,
    /// The always-firing alert that proves the pipeline works.
    #[arg(long, global = true, env = "PROMGEN_HEARTBEAT_ALERTNAME", default_value = "Watchdog")]
    pub heartbeat_alertname: String,
    /// Silence of the heartbeat after which the site's notifiers are told.
    #[arg(long, global = true, env = "PROMGEN_HEARTBEAT_TIMEOUT", default_value = "10m", value_parser = duration)]
    pub heartbeat_timeout: std::time::Duration,
    /// How long alerts are kept.
    #[arg(long, global = true, env = "PROMGEN_ALERT_RETENTION", default_value = "30d", value_parser = duration)]
    pub alert_retention: std::time::Duration,
}
