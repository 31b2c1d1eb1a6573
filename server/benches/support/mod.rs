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
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--database-url", database_url])
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

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
