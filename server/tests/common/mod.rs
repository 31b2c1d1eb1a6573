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

/// Promgen's fixtures, with the project's Slack notifier pointed at `slack`.
pub async fn fixtures(b: &Backend, slack: &Receiver) {
    b.importer.import_promgen(&Actor::System, &[fixture("testcases.yaml")]).await.unwrap();
    sqlx::query("UPDATE notifier SET value = $1 WHERE kind = 'slack'")
        .bind(&slack.url)
        .execute(&b.db.pool)
        .await
        .unwrap();
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
    server::web::router(b.clone(), &serve_args(&[]))
}

/// The router the binary serves over `b`, on a free port of 127.0.0.1 by the binary's
/// listener (its header timeout and WebSocket upgrades); the address it listens on.
pub async fn serve(b: &Backend) -> std::net::SocketAddr {
    let args = serve_args(&[]);
    let app = server::web::router(b.clone(), &args);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = server::web::listen::ConnectionLimits::of(&args);
    tokio::spawn(server::web::listen::serve(listener, app, limits, std::future::pending()));
    addr
}

/// `promgen serve`'s arguments as the command line gives them, with `extra` flags: the
/// defaults, a public origin and a small webhook limit.
pub fn serve_args(extra: &[&str]) -> server::cli::ServeArgs {
    use clap::Parser;
    let base = ["promgen", "--allowed-origins", "https://promgen.example.com", "--max-webhook-bytes", "65536"];
    server::cli::Cli::parse_from(base.iter().chain(extra)).serve
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

/// A form post to a server function, as a browser with JavaScript sends it (JSON answer).
pub fn form(path: &str, body: &str, cookie: Option<&str>, origin: Option<&str>) -> Request<Body> {
    use axum::http::header;
    let mut req = Request::post(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::ACCEPT, "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

/// `s` encoded for a query string or a form body.
pub fn query(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Makes user `name` (an admin if `superuser`) and logs in through the login server function;
/// returns the session cookie.
pub async fn login(app: &Router, b: &Backend, name: &str, superuser: bool) -> String {
    use axum::http::header;
    use leptos::server_fn::ServerFn;
    b.auth.create_user(&Actor::System, name, "password-of-test", superuser).await.unwrap();
    let body = format!("username={name}&password=password-of-test");
    let (status, headers, body) = send(app, form(app::api::auth::Login::PATH, &body, None, None)).await;
    assert!(status.is_success() || status.is_redirection(), "{status} {body}");
    let cookie = headers.get(header::SET_COOKIE).expect("a session cookie").to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    cookie.split(';').next().unwrap().to_string()
}

/// GET a page as a browser does, with a session cookie: status, headers and HTML.
pub async fn page(app: &Router, path: &str, cookie: &str) -> (StatusCode, axum::http::HeaderMap, String) {
    use axum::http::header;
    let req = Request::get(path)
        .header(header::ACCEPT, "text/html")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    send(app, req).await
}

/// The real `promgen` binary serving on a free port of 127.0.0.1; killed when dropped.
pub struct Served {
    pub base: String,
    child: std::process::Child,
}

impl Served {
    /// Starts `promgen serve` on `database_url` with `args`, and waits until it answers.
    pub async fn start(database_url: &str, args: &[&str]) -> Served {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
            .args(["serve", "--listen", &listen])
            .args(args)
            .env("DATABASE_URL", database_url)
            .env("PROMGEN_ADMIN_PASSWORD", "password-of-admin")
            .env("RUST_LOG", "error")
            .spawn()
            .unwrap();
        let served = Served { base: format!("http://{listen}"), child };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client.get(format!("{}/login", served.base)).send().await.is_ok() {
                return served;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("promgen did not start within 30 s");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    /// Its configuration, data and any file its configuration names.
    pub dir: std::path::PathBuf,
}

impl Prometheus {
    pub async fn start(target_labels: &[(&str, &str)]) -> Prometheus {
        let labels: Vec<String> = target_labels.iter().map(|(k, v)| format!("{k}: {v:?}")).collect();
        let labels = labels.join(", ");
        Prometheus::with_scrape_configs(move |port| {
            format!(
                "- job_name: self\n  static_configs:\n  - targets: ['127.0.0.1:{port}']\n    labels: {{{labels}}}\n"
            )
        })
        .await
    }

    /// A Prometheus whose `scrape_configs` are `configs(its own port)` (YAML list items).
    pub async fn with_scrape_configs(configs: impl FnOnce(u16) -> String) -> Prometheus {
        Prometheus::with_config(|port, _| format!("scrape_configs:\n{}", configs(port))).await
    }

    /// A Prometheus (reloadable: `--web.enable-lifecycle`) whose configuration after `global`
    /// is `config(its own port, its directory)`.
    pub async fn with_config(config: impl FnOnce(u16, &std::path::Path) -> String) -> Prometheus {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("promgen-prometheus-{}-{}", std::process::id(), next()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!("global: {{scrape_interval: 1s, evaluation_interval: 1s}}\n{}", config(port, &dir));
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let child = std::process::Command::new("prometheus")
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-lifecycle")
            .arg("--log.level=error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("prometheus (Debian's prometheus package; .ci/setup installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let prom = Prometheus { url, child, dir };
        wait_ready("Prometheus", &prom.url).await;
        prom
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A real Alertmanager (Debian's `prometheus-alertmanager`) on a free port, alone (no cluster),
/// serving under `prefix` (e.g. `/am`, or `""`); stopped when dropped. `receiver` is the
/// webhook URL it notifies, if any.
pub struct Alertmanager {
    /// Its base URL, with the prefix.
    pub url: String,
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Alertmanager {
    pub async fn start(prefix: &str, receiver: Option<&str>) -> Alertmanager {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("promgen-alertmanager-{}-{}", std::process::id(), next()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = match receiver {
            Some(url) => format!(
                "route: {{receiver: promgen, group_wait: 1s, group_interval: 1s, repeat_interval: 1h}}\n\
                 receivers:\n- name: promgen\n  webhook_configs:\n  - url: {url:?}\n    send_resolved: true\n"
            ),
            None => "route: {receiver: none}\nreceivers:\n- name: none\n".to_string(),
        };
        std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
        let mut cmd = std::process::Command::new("prometheus-alertmanager");
        cmd.arg(format!("--config.file={}", dir.join("alertmanager.yml").display()))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=error");
        if !prefix.is_empty() {
            cmd.arg(format!("--web.route-prefix={prefix}"));
        }
        let child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("prometheus-alertmanager (Debian's package; .ci/setup installs it)");
        let am = Alertmanager { url: format!("http://127.0.0.1:{port}{prefix}"), child, dir };
        wait_ready("Alertmanager", &am.url).await;
        am
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Waits until `{url}/-/ready` answers 200 (Prometheus and Alertmanager have it), 20 s at most.
async fn wait_ready(what: &str, url: &str) {
    for _ in 0..200 {
        if let Ok(r) = reqwest::get(format!("{url}/-/ready")).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what} at {url} did not get ready in 20 s");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// An HTTP server on loopback that records every request body and answers with the scripted
/// statuses in turn (the last one repeating); `hang` makes it take requests and never answer.
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    pub bodies: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    statuses: std::sync::Arc<std::sync::Mutex<Vec<u16>>>,
    hang: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    pub async fn start(statuses: &[u16]) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = Receiver {
            url: format!("http://{}", listener.local_addr().unwrap()),
            bodies: Default::default(),
            statuses: std::sync::Arc::new(std::sync::Mutex::new(statuses.to_vec())),
            hang: Default::default(),
        };
        let state = r.clone();
        // Answers as a web framework does: a refusal names the path it was posted to (which a
        // webhook's secret may be part of).
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri, body: axum::body::Bytes| {
            let state = state.clone();
            async move {
                state.bodies.lock().unwrap().push(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null));
                while state.hang.load(Ordering::SeqCst) {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                let status = {
                    let mut s = state.statuses.lock().unwrap();
                    if s.len() > 1 { s.remove(0) } else { s.first().copied().unwrap_or(200) }
                };
                (StatusCode::from_u16(status).unwrap(), format!("Cannot POST {}", uri.path()))
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        r
    }

    pub fn hang(&self, on: bool) {
        self.hang.store(on, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<serde_json::Value> {
        self.bodies.lock().unwrap().clone()
    }
}

/// A mail server on loopback that speaks just enough SMTP to take messages, and keeps them.
#[derive(Clone)]
pub struct SmtpSink {
    pub url: String,
    pub messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink = SmtpSink { url: format!("smtp://{}", listener.local_addr().unwrap()), messages: Default::default() };
        let messages = sink.messages.clone();
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let messages = messages.clone();
                tokio::spawn(async move {
                    let (read, mut write) = conn.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(d) = data.as_mut() {
                            if line == "." {
                                messages.lock().unwrap().push(std::mem::take(d));
                                data = None;
                                let _ = write.write_all(b"250 queued\r\n").await;
                            } else {
                                d.push_str(line.strip_prefix('.').unwrap_or(&line));
                                d.push('\n');
                            }
                            continue;
                        }
                        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" | "HELO" => b"250 sink\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                return;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(answer).await;
                    }
                });
            }
        });
        sink
    }

    pub fn received(&self) -> Vec<String> {
        self.messages.lock().unwrap().clone()
    }
}

/// A backend on `b`'s database whose notifiers may reach loopback (where the test receivers
/// are), with `smtp` for email and fast retries.
pub fn delivering(b: &Backend, smtp: Option<&SmtpSink>, pagerduty: Option<&Receiver>) -> Backend {
    use app::backend::Settings;
    let mut settings = Settings::default();
    settings.send.allow_private = true;
    settings.send.timeout = std::time::Duration::from_secs(2);
    settings.send.smtp_url = smtp.map(|s| s.url.clone());
    settings.send.smtp_from = "promgen@example.com".into();
    if let Some(p) = pagerduty {
        settings.send.pagerduty_url = p.url.clone();
    }
    settings.dispatch.backoff = std::time::Duration::from_millis(50);
    settings.dispatch.max_attempts = 3;
    Backend::with_settings(b.db.clone(), &settings).unwrap()
}

/// Works the outbox until nothing is due (retries included), at most `rounds` times.
pub async fn drain(b: &Backend) {
    let d = b.dispatcher();
    for _ in 0..200 {
        let (waiting,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE status IN ('queued', 'sending')")
            .fetch_one(&b.db.pool)
            .await
            .unwrap();
        if waiting == 0 {
            return;
        }
        if d.run_once().await.unwrap() == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    panic!("the outbox did not drain");
}

pub async fn count_where(b: &Backend, table: &str, filter: &str) -> i64 {
    let (n,): (i64,) =
        sqlx::query_as(&format!("SELECT COUNT(*) FROM {table} WHERE {filter}")).fetch_one(&b.db.pool).await.unwrap();
    n
}
