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

    #[command(subcommand)]
    pub command: Option<Command>,

    /// With no verb, promgen serves.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (the default).
    Serve(ServeArgs),
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
    /// Write the file_sd targets to FILE (stdout when omitted).
    Targets(ExportArgs),
    /// Write the blackbox URLs file_sd to FILE (stdout when omitted).
    Urls(ExportArgs),
    /// Write the Prometheus rule file to FILE (stdout when omitted), checked with promtool.
    Rules(ExportArgs),
    /// Create a user; prints the password when none is given.
    CreateUser {
        username: String,
        #[arg(long)]
        superuser: bool,
        #[arg(long, env = "PROMGEN_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
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
