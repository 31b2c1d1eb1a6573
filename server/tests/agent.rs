//! `promgen agent` against a real Prometheus (Debian's 2.42): a change made in Promgen-rs
//! reaches Prometheus' targets and rules through the files the agent keeps, Prometheus is
//! reloaded, and the shard page's states say so; an agent whose promtool refuses the rule file
//! leaves the live one in place and says why.

mod common;

use app::backend::{Actor, Backend};
use app::model::{OwnerKind, ShardId};
use serde_json::Value;
use std::time::Duration;

struct Agent(std::process::Child);

impl Agent {
    fn start(
        server: &str,
        key: &str,
        prometheus: &str,
        name: &str,
        files: &[(&str, &std::path::Path)],
        promtool: Option<&std::path::Path>,
    ) -> Agent {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"));
        cmd.args(["agent", "--server-url", server, "--shard", "main", "--prometheus-url", prometheus, "--name", name])
            .env("PROMGEN_AGENT_TOKEN", key)
            .env("RUST_LOG", "error");
        for (flag, path) in files {
            cmd.arg(flag).arg(path);
        }
        if let Some(p) = promtool {
            cmd.arg("--promtool").arg(p);
        }
        Agent(cmd.spawn().unwrap())
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A stand-in for Prometheus (its reload and configuration status) whose first `failing`
/// reloads answer 500: its URL and the count of reloads asked.
async fn fake_prometheus(failing: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::http::StatusCode;
    use std::sync::atomic::Ordering;
    let reloads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = reloads.clone();
    let fake =
        axum::Router::new()
            .route(
                "/-/reload",
                axum::routing::post(move || {
                    let n = counted.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n < failing { (StatusCode::INTERNAL_SERVER_ERROR, "boom") } else { (StatusCode::OK, "") }
                    }
                }),
            )
            .route(
                "/api/v1/status/config",
                axum::routing::get(|| async { axum::Json(serde_json::json!({"data": {"yaml": "x"}})) }),
            );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, fake).await.unwrap() });
    (url, reloads)
}

/// A site admin with an agent's token, and shard `main` (with a server registered).
async fn admin_and_shard(b: &Backend) -> (Actor, String, i64) {
    let root = common::admin(b).await;
    let (_, key) = b.auth.create_token(&root, "root", "agent").await.unwrap();
    b.inventory.register_server(&root, "main", "127.0.0.1", 1).await.unwrap();
    let (shard,): (i64,) = sqlx::query_as("SELECT id FROM shard").fetch_one(&b.db.pool).await.unwrap();
    (root, key, shard)
}

/// Polls `check` every 200 ms for up to 30 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..150 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{what}: not within 30 s");
}

async fn prometheus_json(url: String) -> Value {
    match reqwest::get(url).await {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

on_both_databases!(a_change_reaches_prometheus, |b: Backend| async move {
    let server = format!("http://{}", common::serve(&b).await);

    let prom = common::Prometheus::with_config(|_, dir| {
        std::fs::write(dir.join("targets.json"), "[]").unwrap();
        std::fs::write(dir.join("promgen.rules.yml"), "groups: []\n").unwrap();
        format!(
            "rule_files: ['{rules}']\nscrape_configs:\n- job_name: promgen\n  file_sd_configs:\n  - files: ['{targets}']\n    refresh_interval: 1s\n",
            rules = dir.join("promgen.rules.yml").display(),
            targets = dir.join("targets.json").display(),
        )
    })
    .await;
    let dir = std::env::temp_dir().join(format!("promgen-agent-{}-{:?}", std::process::id(), b.db.dialect));
    std::fs::create_dir_all(&dir).unwrap();
    // The agent writes where Prometheus reads.
    let prom_dir = prom.dir.clone();
    let (targets, rules) = (prom_dir.join("targets.json"), prom_dir.join("promgen.rules.yml"));

    let root = common::admin(&b).await;
    let (_, key) = b.auth.create_token(&root, "root", "agent").await.unwrap();
    b.inventory.register_server(&root, "main", "127.0.0.1", 1).await.unwrap();
    let (shard,): (i64,) = sqlx::query_as("SELECT id FROM shard").fetch_one(&b.db.pool).await.unwrap();
    let _agent =
        Agent::start(&server, &key, &prom.url, "prom-1", &[("--targets", &targets), ("--rules", &rules)], None);

    // Prometheus' own /metrics registered as a project's exporter, and a site rule.
    let port = prom.url.rsplit(':').next().unwrap();
    let sd = serde_json::json!([{
        "labels": {"__shard": "main", "service": "web", "project": "shop", "farm": "shop", "job": "prometheus"},
        "targets": [format!("127.0.0.1:{port}")],
    }]);
    b.importer.import_file_sd(&Actor::System, &sd.to_string(), None).await.unwrap();
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    b.rules.import_file(&root, "alert: ShopDown\nexpr: up{project=\"shop\"} == 0\n", Some(&site)).await.unwrap();

    eventually("the target is scraped", || {
        let url = format!("{}/api/v1/query?query=up%7Bproject%3D%22shop%22%7D", prom.url);
        async move { prometheus_json(url).await["data"]["result"][0]["value"][1] == "1" }
    })
    .await;
    eventually("the rule is loaded", || {
        let url = format!("{}/api/v1/rules", prom.url);
        async move { prometheus_json(url).await.to_string().contains("ShopDown") }
    })
    .await;
    let states = || b.agents.states(&root, ShardId(shard));
    eventually("the agent reports in sync", || async {
        states().await.unwrap().first().is_some_and(|s| s.state == "in sync")
    })
    .await;
    let s = &states().await.unwrap()[0];
    assert_eq!(s.name, "prom-1");
    assert_eq!(s.config_hash.len(), 16, "{s:?}");
    assert!(
        std::fs::read_dir(&prom_dir).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with("promgen-tmp"))
    );

    // A second agent whose promtool refuses everything keeps its old rule file and says so.
    let refusing = dir.join("promtool");
    std::fs::write(
        &refusing,
        "#!/bin/sh\nif [ \"$1\" = --version ]; then echo 'promtool, version 2.42.0'; exit 0; fi\necho 'refused by test' >&2\nexit 1\n",
    )
    .unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&refusing).status().unwrap();
    let old_rules = dir.join("other.rules.yml");
    std::fs::write(&old_rules, "groups: []\n").unwrap();
    let _second = Agent::start(&server, &key, &prom.url, "prom-2", &[("--rules", &old_rules)], Some(&refusing));
    eventually("the refusal is reported", || async {
        states().await.unwrap().iter().any(|s| s.name == "prom-2" && s.state.contains("promtool refused"))
    })
    .await;
    assert_eq!(std::fs::read_to_string(&old_rules).unwrap(), "groups: []\n");

    // Reports need a site admin's token.
    let user = common::user(&b, "someone").await;
    let (_, user_key) = b.auth.create_token(&user, "someone", "x").await.unwrap();
    let res = reqwest::Client::new()
        .post(format!("{server}/api/v1/agent/status"))
        .header("Authorization", format!("Token {user_key}"))
        .json(&serde_json::json!({"shard": "main", "name": "fake", "generation": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let _ = std::fs::remove_dir_all(&dir);
});

// A reload that fails is tried again (after a pause, not in a loop) with the files fetched
// anew, and the shard page says so meanwhile; once it succeeds the agent is in sync.
on_both_databases!(a_failed_reload_is_tried_again, |b: Backend| async move {
    use std::sync::atomic::Ordering;
    let server = format!("http://{}", common::serve(&b).await);
    let (prometheus, reloads) = fake_prometheus(1).await;
    let (root, key, shard) = admin_and_shard(&b).await;
    let dir = std::env::temp_dir().join(format!("promgen-agent-reload-{}-{:?}", std::process::id(), b.db.dialect));
    std::fs::create_dir_all(&dir).unwrap();
    let targets = dir.join("targets.json");
    let _agent = Agent::start(&server, &key, &prometheus, "fake", &[("--targets", &targets)], None);
    let states = || b.agents.states(&root, ShardId(shard));
    eventually("the failed reload reported", || async {
        states().await.unwrap().first().is_some_and(|s| s.state.contains("reload failed: 500"))
    })
    .await;
    assert_eq!(states().await.unwrap()[0].synced_at, "", "never synced yet");
    eventually("in sync after the retry", || async {
        states().await.unwrap().first().is_some_and(|s| s.state == "in sync")
    })
    .await;
    assert_eq!(reloads.load(Ordering::SeqCst), 2, "tried again once, not in a loop");
    let _ = std::fs::remove_dir_all(&dir);
});

// The server goes away (killed) and comes back: the agent waits with growing pauses, then
// applies what changed while it was away.
on_both_databases!(the_agent_survives_a_server_restart, |b: Backend| async move {
    let port = common::free_port();
    let server = format!("http://127.0.0.1:{port}");
    let start = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &b.db.url)
            .env("RUST_LOG", "error")
            .spawn()
            .unwrap()
    };
    let answers = || async { reqwest::get(format!("{server}/-/healthy")).await.is_ok_and(|r| r.status().is_success()) };
    let (prometheus, _) = fake_prometheus(0).await;
    let (root, key, shard) = admin_and_shard(&b).await;
    let dir = std::env::temp_dir().join(format!("promgen-agent-restart-{}-{:?}", std::process::id(), b.db.dialect));
    std::fs::create_dir_all(&dir).unwrap();
    let targets = dir.join("targets.json");

    let mut first = Agent(start());
    eventually("the server answers", answers).await;
    let _agent = Agent::start(&server, &key, &prometheus, "restart", &[("--targets", &targets)], None);
    let states = || b.agents.states(&root, ShardId(shard));
    eventually("in sync", || async { states().await.unwrap().first().is_some_and(|s| s.state == "in sync") }).await;

    first.0.kill().unwrap();
    first.0.wait().unwrap();
    // Changed while the server is away.
    let sd = serde_json::json!([{
        "labels": {"__shard": "main", "service": "web", "project": "shop", "farm": "shop", "job": "node"},
        "targets": ["back.example.com:9100"],
    }]);
    b.importer.import_file_sd(&Actor::System, &sd.to_string(), None).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _second = Agent(start());
    eventually("the change applied after the restart", || async {
        std::fs::read_to_string(&targets).is_ok_and(|t| t.contains("back.example.com:9100"))
    })
    .await;
    let (current, _) = b.agents.generation().await.unwrap();
    eventually("in sync again", || async {
        states().await.unwrap().first().is_some_and(|s| s.state == "in sync" && s.generation == current)
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
});
