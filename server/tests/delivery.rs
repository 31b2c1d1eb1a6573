//! Delivery that loses nothing: retries with backoff, failures that are visible, a server killed
//! with -9 mid-delivery that resumes on restart, and PostgreSQL replicas that share the outbox
//! (each notification sent once) and the live feed.

mod common;
use app::backend::{Actor, Backend, Db};
use app::model::*;
use common::{Receiver, count, delivering, drain, fixture, json};
use std::time::Duration;

const SAMPLE: &str = include_str!("../../app/fixtures/promgen/alertmanager.json");

/// A service `test-service` with project `test-project` (as the sample's labels), a webhook
/// notifier on the project to `url`, and an admin's token.
async fn setup(b: &Backend, url: &str) -> String {
    let root = common::admin(b).await;
    let shard = b.inventory.create_shard(&root, ShardInput::new("main", "http://127.0.0.1:1")).await.unwrap();
    let s = b
        .inventory
        .create_service(&root, ServiceInput { name: "test-service".into(), description: String::new() })
        .await
        .unwrap();
    let p = b
        .inventory
        .create_project(
            &root,
            s.id,
            ProjectInput { name: "test-project".into(), description: String::new(), shard_id: shard.id },
        )
        .await
        .unwrap();
    sqlx::query("INSERT INTO notifier (kind, value, project_id) VALUES ('webhook', $1, $2)")
        .bind(url)
        .bind(p.id.0)
        .execute(&b.db.pool)
        .await
        .unwrap();
    b.auth.create_token(&root, "root", "am").await.unwrap().1
}

async fn ingest(b: &Backend, body: &str) -> AlertId {
    match b.alerts.ingest(&Actor::System, body.as_bytes()).await.unwrap() {
        app::backend::alerts::Ingested::Stored { id, .. } => id,
        other => panic!("{other:?}"),
    }
}

on_both_databases!(a_failing_receiver_gets_retries_until_it_answers, |b: Backend| async move {
    let hook = Receiver::start(&[503, 503, 200]).await;
    setup(&b, &hook.url).await;
    let b = delivering(&b, None, None);
    let id = ingest(&b, SAMPLE).await;
    drain(&b).await;
    assert_eq!(hook.received().len(), 3);
    let d = b.alerts.detail(&Actor::System, id).await.unwrap();
    let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["received", "routed", "retry", "retry", "sent"]);
    assert!(
        d.events[2].detail.contains("attempt 1 of 3 failed")
            && d.events[2].detail.contains("503")
            && d.events[2].detail.ends_with(" UTC"),
        "{}",
        d.events[2].detail
    );
    assert_eq!((d.deliveries[0].status.as_str(), d.deliveries[0].attempts), ("sent", 3));
    assert_eq!((d.alert.sent_count, d.alert.error_count), (1, 0));
});

on_both_databases!(failures_are_visible_and_counted, |b: Backend| async move {
    // 4xx: no retry can fix it. 5xx forever: given up after the last attempt.
    let refusing = Receiver::start(&[400]).await;
    let down = Receiver::start(&[503]).await;
    setup(&b, &refusing.url).await;
    sqlx::query("INSERT INTO notifier (kind, value, project_id) VALUES ('webhook', $1, 1)")
        .bind(&down.url)
        .execute(&b.db.pool)
        .await
        .unwrap();
    let b = delivering(&b, None, None);
    let id = ingest(&b, SAMPLE).await;
    drain(&b).await;
    assert_eq!((refusing.received().len(), down.received().len()), (1, 3));
    let d = b.alerts.detail(&Actor::System, id).await.unwrap();
    assert_eq!((d.alert.sent_count, d.alert.error_count), (0, 2));
    let failed: Vec<&str> = d.events.iter().filter(|e| e.kind == "failed").map(|e| e.detail.as_str()).collect();
    assert!(failed.iter().any(|f| f.contains("cannot succeed") && f.contains("400")), "{failed:?}");
    assert!(failed.iter().any(|f| f.contains("gave up after the last attempt") && f.contains("503")), "{failed:?}");
    assert!(d.deliveries.iter().all(|x| x.status == "failed" && !x.last_error.is_empty()));
    let metrics = common::get(&common::router(&b), "/metrics").await.1;
    assert!(metrics.contains("promgen_notifications_total{sender_type=\"webhook\",outcome=\"failed\"} 2"), "{metrics}");
    assert!(metrics.contains("promgen_outbox_failed 2"), "{metrics}");
});

on_both_databases!(pagerduty_gets_promgens_event, |b: Backend| async move {
    let pagerduty = Receiver::start(&[202]).await;
    let slack = Receiver::start(&[200]).await;
    common::fixtures(&b, &slack).await;
    sqlx::query(
        "INSERT INTO notifier (kind, value, project_id) VALUES ('pagerduty', 'PagerDuty:integration_key_test', 1)",
    )
    .execute(&b.db.pool)
    .await
    .unwrap();
    let b = delivering(&b, None, Some(&pagerduty));
    let id = ingest(&b, SAMPLE).await;
    drain(&b).await;
    let mut expected = json(fixture("notification/pagerduty.json"));
    expected["links"][0]["href"] = format!("http://promgen.example.com/alert/{id}").into();
    assert_eq!(pagerduty.received(), [expected]);
});

/// The real binary serving `b`'s database, notifications on loopback allowed; its address.
fn start_server(b: &Backend, notify_timeout: &str) -> (std::process::Child, String) {
    let port = common::free_port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--notifier-allow-private"])
        .args(["--notify-timeout", notify_timeout])
        .env("DATABASE_URL", &b.db.url)
        .env("RUST_LOG", "error")
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}"))
}

/// Posts the sample alert with `key` once the server at `base` answers (202), then waits until
/// `hook` holds the notification on the wire.
async fn post_until_on_the_wire(client: &reqwest::Client, base: &str, key: &str, hook: &Receiver) {
    let mut accepted = false;
    for _ in 0..100 {
        let res = client
            .post(format!("{base}/api/v1/alerts"))
            .header("Authorization", format!("Token {key}"))
            .body(SAMPLE)
            .send()
            .await;
        if let Ok(r) = res {
            assert_eq!(r.status(), 202);
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(accepted, "the server started");
    for _ in 0..100 {
        if !hook.received().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hook.received().len(), 1, "on the wire");
}

on_both_databases!(killed_mid_delivery_it_resumes_on_restart, |b: Backend| async move {
    let hook = Receiver::start(&[200]).await;
    let key = setup(&b, &hook.url).await;
    hook.hang(true);
    let (mut server, base) = start_server(&b, "2s");
    let client = reqwest::Client::new();
    // The notification is on the wire, the receiver holding it: kill -9.
    post_until_on_the_wire(&client, &base, &key, &hook).await;
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    let (status,): (String,) = sqlx::query_as("SELECT status FROM outbox").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!(status, "sending", "died mid-send");

    // Restarted, the server takes the row up again once the dead claim lapses.
    hook.hang(false);
    let (mut server, _) = start_server(&b, "2s");
    let mut sent = false;
    for _ in 0..300 {
        let (status,): (String,) = sqlx::query_as("SELECT status FROM outbox").fetch_one(&b.db.pool).await.unwrap();
        if status == "sent" {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(sent, "delivered after the restart");
    assert_eq!(hook.received().len(), 2, "at least once: the interrupted attempt and the one that completed");
    let (sent_count, attempts): (i64, i64) =
        sqlx::query_as("SELECT a.sent_count, o.attempts FROM alert a JOIN outbox o ON o.alert_id = a.id")
            .fetch_one(&b.db.pool)
            .await
            .unwrap();
    assert_eq!((sent_count, attempts), (1, 2));
});

// Stopped with SIGTERM while a notification is on the wire, the server finishes it before it
// exits: the row is sent, once, and the process ends cleanly.
on_both_databases!(stopped_mid_delivery_it_finishes_first, |b: Backend| async move {
    let hook = Receiver::start(&[200]).await;
    let key = setup(&b, &hook.url).await;
    hook.hang(true);
    let (mut server, base) = start_server(&b, "10s");
    let client = reqwest::Client::new();
    post_until_on_the_wire(&client, &base, &key, &hook).await;
    // An agent waiting on changes (a long poll of up to 2 minutes) does not hold the stop back.
    let changes = format!("{base}/api/v1/agent/changes");
    let now: serde_json::Value = client
        .get(&changes)
        .header("Authorization", format!("Token {key}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let waiting = client
        .get(&changes)
        .query(&[("after", now["generation"].to_string()), ("timeout", "120".into())])
        .header("Authorization", format!("Token {key}"))
        .send();
    let waiting = tokio::spawn(waiting);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let term = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(term.success());
    // It stops taking work at once, but waits for the delivery under way.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(server.try_wait().unwrap().is_none(), "still finishing the delivery");
    assert!(client.get(format!("{base}/-/healthy")).send().await.is_err(), "no new requests");
    hook.hang(false);
    let mut exit = None;
    for _ in 0..100 {
        exit = server.try_wait().unwrap();
        if exit.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let exit = exit.expect("it exits once the delivery is done");
    assert!(exit.success(), "{exit:?}");
    let answered = waiting.await.unwrap().expect("the long poll is answered, not cut");
    assert_eq!(answered.status(), 200);
    let (status, attempts): (String, i64) =
        sqlx::query_as("SELECT status, attempts FROM outbox").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!((status.as_str(), attempts), ("sent", 1));
    assert_eq!(hook.received().len(), 1);
});

/// Two replicas on one PostgreSQL database: both work the outbox, and every notification goes
/// out once; an alert received by one reaches browsers connected to the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_replicas_share_the_outbox_and_the_feed() {
    let db = common::TestDb::postgres().await;
    let hook = Receiver::start(&[200]).await;
    setup(&db.backend, &hook.url).await;
    let a = delivering(&db.backend, None, None);
    let other = Backend::new(Db::connect(&db.backend.db.url).await.unwrap());
    let b = delivering(&other, None, None);
    b.events.listen(b.db.url.clone(), &b.supervisor).await;
    let mut feed = b.events.subscribe();

    let mut sent = 0;
    for i in 0..40 {
        // Distinct alerts: other fingerprints each time.
        ingest(&a, &SAMPLE.replace("77219b", &format!("{i:06x}"))).await;
        sent += 1;
    }
    let (wa, wb) = (a.dispatcher(), b.dispatcher());
    let stop = tokio_util::sync::CancellationToken::new();
    let runs = [tokio::spawn(wa.run(stop.clone())), tokio::spawn(wb.run(stop.clone()))];
    for _ in 0..200 {
        if hook.received().len() >= sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.cancel();
    for r in runs {
        r.await.unwrap();
    }
    assert_eq!(hook.received().len(), sent, "every notification exactly once");
    assert_eq!(count(&a, "outbox").await, sent as i64);

    // The feed on replica b saw replica a's events.
    let first = tokio::time::timeout(Duration::from_secs(5), feed.recv()).await.expect("an event within 5 s").unwrap();
    match first {
        FeedMessage::Event { event, alert } => {
            assert_eq!(event.kind, "received");
            assert_eq!(alert.service, "test-service");
        }
        other => panic!("{other:?}"),
    }
}
