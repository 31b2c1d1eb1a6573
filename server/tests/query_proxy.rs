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
