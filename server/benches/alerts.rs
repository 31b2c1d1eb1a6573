//! Alertmanager's webhook and the live feed, on the real binary over HTTP, on SQLite and on
//! PostgreSQL (the local server at 127.0.0.1:5432; skipped, with the reason, when it is down).
//!
//! - ingest: Promgen's sample payload, every request a new alert group routed to a webhook
//!   notifier, at concurrency 1 and 32: requests per second, p50 and p99; then the time the
//!   dispatcher takes to deliver the queue to a local receiver.
//! - feed: 1,000 logged-in websocket clients; from posting an alert to each client holding its
//!   "received" event: p50, p99 and max.
//! - under load: the webhook's latency (p50, max of 20 posts) while two 100,000-host farms are
//!   pasted, two bracket-bomb rule files imported and two templates of nested loops saved, all
//!   at once through the server functions (the CPU pool takes that work, not the workers).
//!
//!     cargo bench -p server --bench alerts

mod support;

use app::backend::{Actor, Backend, Db};
use app::model::*;
use futures::StreamExt;
use leptos::server_fn::ServerFn;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Server, ms, quantile};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

const SAMPLE: &str = include_str!("../../app/fixtures/promgen/alertmanager.json");
const PASSWORD: &str = "bench-password";
const CLIENTS: usize = 1000;
const FEED_ALERTS: usize = 40;

/// The sample as a new alert group `{tag}={i}`.
fn payload(tag: &str, i: usize) -> String {
    SAMPLE.replacen("\"groupKey\": \"{}:{", &format!("\"groupKey\": \"{{}}:{{{tag}={i}, "), 1)
}

/// The sample's service and project, a webhook notifier on the project to `hook`, a user to log
/// in as, its token and the project's id.
async fn seed(url: &str, hook: &str) -> anyhow::Result<(String, i64)> {
    let b = Backend::new(Db::connect(url).await?);
    let e = |e: app::error::AppError| anyhow::anyhow!("{e}");
    let root = Actor::System;
    b.auth.create_user(&root, "bench", PASSWORD, true).await.map_err(e)?;
    let shard = b.inventory.create_shard(&root, ShardInput::new("main", "http://127.0.0.1:1")).await.map_err(e)?;
    let service = ServiceInput { name: "test-service".into(), description: String::new() };
    let s = b.inventory.create_service(&root, service).await.map_err(e)?;
    let project = ProjectInput { name: "test-project".into(), description: String::new(), shard_id: shard.id };
    let p = b.inventory.create_project(&root, s.id, project).await.map_err(e)?;
    sqlx::query("INSERT INTO notifier (kind, value, project_id) VALUES ('webhook', $1, $2)")
        .bind(hook)
        .bind(p.id.0)
        .execute(&b.db.pool)
        .await?;
    let (_, key) = b.auth.create_token(&root, "bench", "alertmanager").await.map_err(e)?;
    b.db.pool.close().await;
    Ok((key, p.id.0))
}

/// A webhook receiver on a free port that answers 200 and counts; its URL.
async fn receiver(count: Arc<AtomicUsize>) -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            count.fetch_add(1, Ordering::Relaxed);
            async { "ok" }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

async fn post(client: &reqwest::Client, base: &str, key: &str, body: String) -> anyhow::Result<()> {
    let res = client
        .post(format!("{base}/api/v1/alerts"))
        .header("authorization", format!("Token {key}"))
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(res.status() == 202, "webhook answered {}: {}", res.status(), res.text().await?);
    Ok(())
}

/// `requests` posts over `concurrency` connections; requests per second and sorted latencies.
async fn ingest(
    server: &Server,
    key: &str,
    concurrency: usize,
    requests: usize,
    tag: &str,
) -> anyhow::Result<(f64, Vec<Duration>)> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, next, base, key, tag) =
            (client.clone(), next.clone(), server.base.clone(), key.to_string(), tag.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return anyhow::Ok(lat);
                }
                let body = payload(&tag, i);
                let t = Instant::now();
                post(&client, &base, key.as_str(), body).await?;
                lat.push(t.elapsed());
            }
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let rps = requests as f64 / started.elapsed().as_secs_f64();
    lat.sort();
    Ok((rps, lat))
}

/// Logs in as the seeded user; the session cookie.
async fn login(base: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let res = client
        .post(format!("{base}{}", app::api::auth::Login::PATH))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("username=bench&password={PASSWORD}"))
        .send()
        .await?;
    let cookie = res.headers().get("set-cookie").ok_or_else(|| anyhow::anyhow!("no session cookie"))?.to_str()?;
    Ok(cookie.split(';').next().unwrap_or_default().to_string())
}

/// The webhook's latencies (sorted) while CPU-heavy requests run, and how many of those
/// requests were still running when the last webhook post was answered.
async fn under_load(server: &Server, key: &str, project: i64) -> anyhow::Result<(Vec<Duration>, usize)> {
    let cookie = login(&server.base).await?;
    let client = reqwest::Client::new();
    let call = |path: &'static str, body: String| {
        let (client, base, cookie) = (client.clone(), server.base.clone(), cookie.clone());
        async move {
            let res = client
                .post(format!("{base}{path}"))
                .header("accept", "application/json")
                .header("content-type", "application/x-www-form-urlencoded")
                .header("cookie", cookie)
                .body(body)
                .send()
                .await?;
            anyhow::ensure!(!res.status().is_server_error(), "{path} answered {}", res.status());
            anyhow::Ok(())
        }
    };
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let hosts: String = (0..100_000).map(|i| format!("load-{i}.example.com\n")).collect();
    let bomb = format!("{}1{}", "{a: ".repeat(63), "}".repeat(63)).repeat(3000);
    let loops = "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}";
    let mut heavy = tokio::task::JoinSet::new();
    for i in 0..2 {
        let farm = format!("project_id={project}&name=load{i}&hosts={}", encode(&hosts));
        heavy.spawn(call(app::api::inventory::CreateFarm::PATH, farm));
        heavy.spawn(call(app::api::rules::ImportRules::PATH, format!("owner_kind=site&rules={}", encode(&bomb))));
        let template = format!(
            "owner_kind=site&owner_id=0&kind=webhook&value=https%3A%2F%2Fhooks.example.com%2Fx&alias=&subject_template=&body_template={}",
            encode(loops)
        );
        heavy.spawn(call(app::api::alerts::CreateNotifier::PATH, template));
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut lat = Vec::new();
    for i in 0..20 {
        let t = Instant::now();
        post(&client, &server.base, key, payload("load", i)).await?;
        lat.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let running = heavy.len() - std::iter::from_fn(|| heavy.try_join_next()).count();
    while let Some(done) = heavy.join_next().await {
        done??;
    }
    lat.sort();
    Ok((lat, running))
}

/// The number after `feed=` in an event's group key, for "received" events.
fn received_marker(text: &str) -> Option<usize> {
    if !text.contains("\"kind\":\"received\"") {
        return None;
    }
    let rest = &text[text.find("feed=")? + 5..];
    rest[..rest.find(|c: char| !c.is_ascii_digit())?].parse().ok()
}

/// Latencies from each post to each client's "received" event, and how many never came.
async fn feed(server: &Server, key: &str) -> anyhow::Result<(Vec<Duration>, usize)> {
    let cookie = login(&server.base).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, Instant)>();
    let ws_url = format!("{}/ws", server.base.replacen("http", "ws", 1));
    for _ in 0..CLIENTS {
        let mut req = ws_url.as_str().into_client_request()?;
        req.headers_mut().insert("cookie", HeaderValue::from_str(&cookie)?);
        let (mut ws, _) = tokio_tungstenite::connect_async(req).await?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(text) = m
                    && let Some(i) = received_marker(text.as_str())
                {
                    let _ = tx.send((i, Instant::now()));
                }
            }
        });
    }
    let client = reqwest::Client::new();
    // Every client is subscribed once it has seen an alert posted after it connected.
    post(&client, &server.base, key, payload("feed", 0)).await?;
    let mut warm = 0;
    while warm < CLIENTS {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await? {
            Some((0, _)) => warm += 1,
            Some(_) => {}
            None => anyhow::bail!("the clients went away"),
        }
    }
    let mut sent = vec![Instant::now(); FEED_ALERTS + 1];
    for (i, at) in sent.iter_mut().enumerate().skip(1) {
        *at = Instant::now();
        post(&client, &server.base, key, payload("feed", i)).await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut lat = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while lat.len() < CLIENTS * FEED_ALERTS {
        match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
            Ok(Some((i, at))) if i > 0 => lat.push(at - sent[i]),
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let missing = CLIENTS * FEED_ALERTS - lat.len();
    lat.sort();
    Ok((lat, missing))
}

/// Polls /metrics until the outbox is empty; how long that took.
async fn drained(server: &Server) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let text = reqwest::get(format!("{}/metrics", server.base)).await?.text().await?;
        let queued = text
            .lines()
            .find_map(|l| l.strip_prefix("promgen_outbox_queued "))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        if queued == 0.0 {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(300), "the outbox did not drain: {queued} queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn run(name: &str, url: &str) -> anyhow::Result<()> {
    let delivered = Arc::new(AtomicUsize::new(0));
    let hook = receiver(delivered.clone()).await?;
    let (key, project) = seed(url, &hook).await?;
    let server = Server::start_with(url, &["--notifier-allow-private", "--max-hosts-per-farm", "200000"]).await?;
    ingest(&server, &key, 8, 200, "warmup").await?;
    let mut total = 200;
    for (concurrency, requests) in [(1, 2000), (32, 10000)] {
        let (rps, lat) = ingest(&server, &key, concurrency, requests, &format!("c{concurrency}")).await?;
        total += requests;
        println!(
            "{name}: webhook ingest, concurrency {concurrency:>2}: {rps:>6.0} requests/s, p50 {:.2} ms, p99 {:.2} ms ({requests} requests)",
            ms(quantile(&lat, 0.5)),
            ms(quantile(&lat, 0.99)),
        );
    }
    let drain = drained(&server).await?;
    println!(
        "{name}: outbox drained {:.1} s after the last post; the receiver got {} of {total} notifications",
        drain.as_secs_f64(),
        delivered.load(Ordering::Relaxed),
    );
    let (lat, missing) = feed(&server, &key).await?;
    println!(
        "{name}: feed, {CLIENTS} websocket clients, {FEED_ALERTS} alerts: post to event p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; {missing} missing",
        ms(quantile(&lat, 0.5)),
        ms(quantile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
    );
    let (lat, running) = under_load(&server, &key, project).await?;
    println!(
        "{name}: webhook under load (2 × 100,000-host farms, 2 × bracket bombs, 2 × nested-loop templates): p50 {:.1} ms, max {:.1} ms; {running} of 6 heavy requests still running after the last post",
        ms(quantile(&lat, 0.5)),
        ms(*lat.last().unwrap_or(&Duration::ZERO)),
    );
    println!("{name}: server peak memory {:.0} MiB", server.peak_rss_mib());
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (url, dir) = support::database("alerts")?;
    let sqlite = run("SQLite", &url).await;
    let _ = std::fs::remove_dir_all(dir);
    sqlite?;
    let pg_name = format!("promgen_bench_alerts_{}", std::process::id());
    match support::postgres(&pg_name).await {
        Ok(url) => {
            let pg = run("PostgreSQL", &url).await;
            support::drop_postgres(&pg_name).await;
            pg?;
        }
        Err(e) => println!("PostgreSQL: skipped, no server at 127.0.0.1:5432 ({e})"),
    }
    Ok(())
}
