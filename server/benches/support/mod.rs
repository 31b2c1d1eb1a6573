//! What the benches share: the real `promgen` binary serving a seeded database, and the
//! figures they print.
#![allow(dead_code)]

use std::time::Duration;

/// `promgen serve` on a free port over `database_url`; killed when dropped.
pub struct Server {
    pub base: String,
    child: std::process::Child,
}

impl Server {
    pub async fn start(database_url: &str) -> anyhow::Result<Server> {
        Server::start_with(database_url, &[]).await
    }

    /// As `start`, with more arguments for `promgen serve`.
    pub async fn start_with(database_url: &str, args: &[&str]) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
            .args(args)
            .env("PROMGEN_ADMIN_PASSWORD", "bench-password")
            .env("RUST_LOG", "warn")
            .spawn()?;
        let server = Server { base: format!("http://127.0.0.1:{port}"), child };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(format!("{}/api/v1/urls", server.base)).send().await.is_ok() {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("promgen did not start")
    }

    /// The server's peak resident memory so far.
    pub fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let kib: f64 = status
            .lines()
            .find(|l| l.starts_with("VmHWM:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        kib / 1024.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh database URL (SQLite in a temp dir, or `BENCH_DATABASE_URL`) and the dir to remove.
pub fn database(name: &str) -> anyhow::Result<(String, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!("promgen-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.display()));
    Ok((url, dir))
}

/// An empty PostgreSQL database `name` on the local server (127.0.0.1:5432, trust), made afresh;
/// its URL.
pub async fn postgres(name: &str) -> anyhow::Result<String> {
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
    Ok(format!("postgres://postgres@127.0.0.1:5432/{name}"))
}

pub async fn drop_postgres(name: &str) {
    let admin = "postgres://postgres@127.0.0.1:5432/postgres";
    if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(admin).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
    }
}

/// The value at quantile `q` (0..=1) of sorted `v`.
pub fn quantile(v: &[Duration], q: f64) -> Duration {
    v[((v.len() as f64 * q) as usize).min(v.len() - 1)]
}

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// LINE's inventory as file_sd JSON for one import: `projects` projects in `services` services,
/// spread over 4 shards, each with a farm of `hosts` hosts and `exporters` exporters (node:9100,
/// app:8080).
pub fn line_inventory(projects: usize, services: usize, hosts: usize, exporters: usize) -> String {
    let mut groups = Vec::new();
    for p in 0..projects {
        for (job, port) in [("node", 9100), ("app", 8080)].into_iter().take(exporters) {
            groups.push(serde_json::json!({
                "labels": {
                    "__shard": format!("shard-{}", p % 4),
                    "service": format!("service-{}", p % services),
                    "project": format!("project-{p}"),
                    "farm": format!("farm-{p}"),
                    "__farm_source": "promgen",
                    "job": job,
                },
                "targets": (0..hosts).map(|h| format!("host-{p}-{h}.example.com:{port}")).collect::<Vec<_>>(),
            }));
        }
    }
    serde_json::to_string(&groups).unwrap()
}

/// Imports LINE's inventory ([`line_inventory`]) into `backend`.
pub async fn seed_line(
    backend: &app::backend::Backend,
    projects: usize,
    services: usize,
    hosts: usize,
    exporters: usize,
) -> anyhow::Result<()> {
    let sd = line_inventory(projects, services, hosts, exporters);
    backend
        .importer
        .import_file_sd(&app::backend::Actor::System, &sd, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// A user `name` (a site admin if `superuser`) and an API token of theirs: the user and the key.
pub async fn user_with_token(
    backend: &app::backend::Backend,
    name: &str,
    superuser: bool,
) -> anyhow::Result<(app::model::CurrentUser, String)> {
    use app::backend::Actor;
    let user = backend
        .auth
        .create_user(&Actor::System, name, "bench-password", superuser)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let (_, key) =
        backend.auth.create_token(&Actor::System, name, "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((user, key))
}
