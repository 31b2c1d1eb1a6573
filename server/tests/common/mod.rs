//! Test databases: every storage test runs on SQLite (a temp file) and on the real PostgreSQL
//! at 127.0.0.1:5432 (a throwaway database per test, dropped afterwards).
#![allow(dead_code)]

use app::backend::{Actor, Backend, Db};
use app::model::CurrentUser;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::atomic::{AtomicU32, Ordering};
use tower::ServiceExt;

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub struct TestDb {
    pub backend: Backend,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(std::path::PathBuf),
    Postgres(String),
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("promgen-test-{}-{}", std::process::id(), next()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::connect(&format!("sqlite://{}/t.db", dir.display())).await.expect("sqlite");
        TestDb { backend: Backend::new(db), cleanup: Cleanup::Dir(dir) }
    }

    pub async fn postgres() -> TestDb {
        let admin = std::env::var("PROMGEN_TEST_PG").unwrap_or_else(|_| PG_ADMIN_URL.to_string());
        let name = format!("promgen_test_{}_{}", std::process::id(), next());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (start it: pg_ctlcluster --skip-systemctl-redirect 15 main start)");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap();
        let db = Db::connect(&format!("{base}/{name}")).await.expect("postgres");
        TestDb { backend: Backend::new(db), cleanup: Cleanup::Postgres(name) }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres(name) => {
                let name = name.clone();
                let pool = self.backend.db.pool.clone();
                // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    rt.block_on(async move {
                        pool.close().await;
                        let admin = std::env::var("PROMGEN_TEST_PG").unwrap_or_else(|_| PG_ADMIN_URL.to_string());
                        if let Ok(mut conn) = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await {
                            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

fn next() -> u32 {
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// Runs one async test body against both databases, as `<name>_sqlite` and `<name>_postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = common::TestDb::sqlite().await;
                ($body)(db.backend.clone()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = common::TestDb::postgres().await;
                ($body)(db.backend.clone()).await;
            }
        }
    };
}

/// A regular user, created by the operator.
pub async fn user(b: &Backend, name: &str) -> Actor {
    let u: CurrentUser = b.auth.create_user(&Actor::System, name, "password-of-test", false).await.unwrap();
    Actor::User(u)
}

pub async fn admin(b: &Backend) -> Actor {
    let u = b.auth.create_user(&Actor::System, "root", "password-of-test", true).await.unwrap();
    Actor::User(u)
}

pub fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/fixtures/promgen").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn json(s: impl AsRef<[u8]>) -> serde_json::Value {
    serde_json::from_slice(s.as_ref()).unwrap()
}

pub async fn count(b: &Backend, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&b.db.pool).await.unwrap();
    n
}

/// The router the binary serves, over `b`.
pub fn router(b: &Backend) -> Router {
    let args = server::cli::ServeArgs {
        listen: "127.0.0.1:3000".parse().unwrap(),
        site_root: "target/site".into(),
        admin_password: None,
        secure_cookies: false,
        allowed_origins: vec!["https://promgen.example.com".into()],
    };
    server::web::router(b.clone(), &args)
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

/// GET `path`: status and body.
pub async fn get(app: &Router, path: &str) -> (StatusCode, String) {
    let (status, _, body) = send(app, Request::get(path).body(Body::empty()).unwrap()).await;
    (status, body)
}

/// A real Prometheus (Debian's `prometheus`) on a free port, scraping itself with the given
/// target labels every second; stopped when dropped.
pub struct Prometheus {
    pub url: String,
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Prometheus {
    pub async fn start(target_labels: &[(&str, &str)]) -> Prometheus {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("promgen-prometheus-{}-{}", std::process::id(), next()));
        std::fs::create_dir_all(&dir).unwrap();
        let labels: Vec<String> = target_labels.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
        let config = format!(
            "global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n\
             scrape_configs:\n- job_name: self\n  static_configs:\n  - targets: ['127.0.0.1:{port}']\n    labels: {{{}}}\n",
            labels.join(", ")
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("prometheus (Debian's prometheus package; .ci/setup installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let prom = Prometheus { url, child, dir };
        for _ in 0..200 {
            if let Ok(r) = reqwest::get(format!("{}/-/ready", prom.url)).await
                && r.status().is_success()
            {
                return prom;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("Prometheus at {} did not get ready in 20 s", prom.url);
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
