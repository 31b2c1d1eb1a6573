//! The query proxy against real Prometheus servers (Debian's 2.42): an HA pair scraping the
//! same target (its copies merged away), a shard that is down (a warning, not a failure),
//! label lists as a sorted union, Prometheus' own errors, and a login or token required.

mod common;

use app::backend::Backend;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;

async fn ask(app: &axum::Router, path: &str, auth: Option<&str>) -> (StatusCode, Value) {
    let mut req = Request::get(path).header(header::HOST, "127.0.0.1:3000");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let (status, _, body) = common::send(app, req.body(Body::empty()).unwrap()).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

on_both_databases!(fans_out_and_merges, |b: Backend| async move {
    // `a` scrapes itself; `b` scrapes `a` too, as the other half of an HA pair would.
    let a = common::Prometheus::start(&[("team", "one")]).await;
    let a_target = a.url.trim_start_matches("http://").to_string();
    let b_prom = common::Prometheus::with_scrape_configs(|_| {
        format!("- job_name: self\n  static_configs:\n  - targets: ['{a_target}']\n    labels: {{team: one}}\n")
    })
    .await;
    let down = format!("http://127.0.0.1:{}", common::free_port());
    for (name, url) in [("a", &a.url), ("b", &b_prom.url), ("down", &down)] {
        sqlx::query("INSERT INTO shard (name, url, proxy) VALUES ($1, $2, 1)")
            .bind(name)
            .bind(url)
            .execute(&b.db.pool)
            .await
            .unwrap();
    }
    let app = common::router(&b);
    let admin = common::admin(&b).await;
    let (_, key) = b.auth.create_token(&admin, "root", "grafana").await.unwrap();
    let auth = format!("Token {key}");
    let auth = Some(auth.as_str());

    let (status, _) = ask(&app, "/api/v1/query?query=up", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Both have scraped once.
    let mut answer = Value::Null;
    for _ in 0..100 {
        let (status, body) = ask(&app, "/api/v1/query?query=up", auth).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        answer = body;
        if answer["data"]["result"].as_array().is_some_and(|r| !r.is_empty())
            && answer["warnings"].as_array().is_some_and(|w| w.len() == 1)
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let result = answer["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "the HA pair's two copies are one series: {answer}");
    assert_eq!(result[0]["metric"]["instance"], a_target.as_str());
    let warning = answer["warnings"][0].as_str().unwrap();
    assert!(warning.starts_with("shard down is unreachable"), "{warning}");

    let now = chrono::Utc::now().timestamp();
    let (status, range) =
        ask(&app, &format!("/api/v1/query_range?query=up&start={}&end={}&step=1", now - 60, now + 5), auth).await;
    assert_eq!((status, range["data"]["resultType"].as_str()), (StatusCode::OK, Some("matrix")), "{range}");
    assert_eq!(range["data"]["result"].as_array().unwrap().len(), 1);

    let (status, series) = ask(&app, "/api/v1/series?match[]=up", auth).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(series["data"].as_array().unwrap().len(), 1, "{series}");

    let (status, labels) = ask(&app, "/api/v1/labels", auth).await;
    assert_eq!(status, StatusCode::OK);
    let labels: Vec<&str> = labels["data"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    let mut sorted = labels.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(labels, sorted);
    assert!(labels.contains(&"team") && labels.contains(&"__name__"), "{labels:?}");
    let (status, values) = ask(&app, "/api/v1/label/team/values", auth).await;
    assert_eq!((status, values["data"].clone()), (StatusCode::OK, serde_json::json!(["one"])));
    let (status, _) = ask(&app, "/api/v1/label/not-a-label/values", auth).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A query every Prometheus refuses is Prometheus' own 400.
    let (status, refused) = ask(&app, "/api/v1/query?query=sum(", auth).await;
    assert_eq!((status, refused["errorType"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_data")), "{refused}");

    // With every shard down: 503 naming them.
    sqlx::query("UPDATE shard SET proxy = 0 WHERE name <> 'down'").execute(&b.db.pool).await.unwrap();
    let (status, none) = ask(&app, "/api/v1/query?query=up", auth).await;
    assert_eq!((status, none["errorType"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")), "{none}");
});

// The project page's live state of its exporters and Promgen's exporter test, against a real
// Prometheus that scrapes the registered target itself.
on_both_databases!(exporters_up_and_test, |b: Backend| async move {
    use app::backend::Actor;
    let prom = common::Prometheus::start(&[("service", "web"), ("project", "shop")]).await;
    let port = prom.url.rsplit(':').next().unwrap().to_string();
    sqlx::query("INSERT INTO shard (name, url) VALUES ('main', $1)").bind(&prom.url).execute(&b.db.pool).await.unwrap();
    let sd = serde_json::json!([{
        "labels": {"__shard": "main", "service": "web", "project": "shop", "farm": "shop", "job": "self"},
        "targets": [format!("127.0.0.1:{port}")],
    }]);
    b.importer.import_file_sd(&Actor::System, &sd.to_string(), None).await.unwrap();
    let admin = common::admin(&b).await;
    let (project, exporter): (i64, i64) =
        sqlx::query_as("SELECT project_id, id FROM exporter").fetch_one(&b.db.pool).await.unwrap();
    let project = app::model::ProjectId(project);
    let mut health = Default::default();
    for _ in 0..100 {
        health = b.exporter_checks.health(&admin, project).await.unwrap();
        if health.exporters.first().is_some_and(|e| e.total == 1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(health.answered, "{health:?}");
    assert_eq!((health.exporters[0].up, health.exporters[0].total), (1, 1), "{health:?}");

    let test = b.exporter_checks.test(&admin, app::model::ExporterId(exporter)).await.unwrap();
    assert_eq!(test.results.len(), 1);
    let r = &test.results[0];
    assert_eq!((r.status, r.error.as_deref()), (Some(200), None), "{r:?}");
    assert!(r.samples > 10 && r.excerpt.len() == 10, "{r:?}");
    assert_eq!(r.target, format!("http://127.0.0.1:{port}/metrics"));

    // Someone who may only see the project may not make the server connect to its hosts.
    let viewer = common::user(&b, "viewer").await;
    let err = b.exporter_checks.test(&viewer, app::model::ExporterId(exporter)).await.unwrap_err();
    assert_eq!(err.status(), 403);

    // A shard whose Prometheus is down: not answered, and why.
    sqlx::query("UPDATE shard SET url = $1")
        .bind(format!("http://127.0.0.1:{}", common::free_port()))
        .execute(&b.db.pool)
        .await
        .unwrap();
    let down = b.exporter_checks.health(&admin, project).await.unwrap();
    assert!(!down.answered && down.warnings[0].contains("unreachable"), "{down:?}");
});

// A shard's Prometheus servers: added and removed by admins, each asked live what it scrapes
// (one that is down says so); a shard with projects cannot be deleted, an empty one can.
on_both_databases!(shard_servers_live_and_deleted, |b: Backend| async move {
    use app::model::{ProjectInput, ServiceInput, ShardId};
    let prom = common::Prometheus::start(&[]).await;
    let port: i64 = prom.url.rsplit(':').next().unwrap().parse().unwrap();
    let admin = common::admin(&b).await;
    let dead = common::free_port() as i64;
    b.inventory.register_server(&admin, "main", "127.0.0.1", port).await.unwrap();
    b.inventory.register_server(&admin, "main", "localhost", dead).await.unwrap();
    let (shard,): (i64,) =
        sqlx::query_as("SELECT id FROM shard WHERE name = 'main'").fetch_one(&b.db.pool).await.unwrap();
    let shard = ShardId(shard);
    let mut states = Vec::new();
    for _ in 0..100 {
        states = b.proxy.server_states(shard).await.unwrap();
        if states[0].targets == Some(1) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(states.len(), 2);
    assert_eq!(
        (states[0].server.port, states[0].targets, states[0].error.as_deref()),
        (port, Some(1), None),
        "{states:?}"
    );
    assert!(states[0].samples.unwrap() > 0);
    assert_eq!((states[1].server.port, states[1].targets), (dead, None));
    assert!(states[1].error.as_deref().unwrap().contains("unreachable"), "{states:?}");

    let user = common::user(&b, "someone").await;
    assert_eq!(b.inventory.remove_server(&user, states[1].server.id).await.unwrap_err().status(), 403);
    assert_eq!(b.inventory.remove_server(&admin, states[1].server.id).await.unwrap(), shard);
    assert_eq!(b.proxy.server_states(shard).await.unwrap().len(), 1);

    let service = b
        .inventory
        .create_service(&admin, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let project = b
        .inventory
        .create_project(
            &admin,
            service.id,
            ProjectInput { name: "shop".into(), description: String::new(), shard_id: shard },
        )
        .await
        .unwrap();
    let refused = b.inventory.delete_shard(&admin, shard).await.unwrap_err();
    assert_eq!(refused.status(), 409);
    assert!(refused.to_string().contains("1 project is on shard main"), "{refused}");
    b.inventory.delete_project(&admin, project.id).await.unwrap();
    assert_eq!(b.inventory.delete_shard(&user, shard).await.unwrap_err().status(), 403);
    b.inventory.delete_shard(&admin, shard).await.unwrap();
    assert_eq!(common::count(&b, "shard").await, 0);
    assert_eq!(common::count(&b, "prometheus").await, 0);
});
