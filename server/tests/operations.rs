//! What operators and Prometheus rely on: `/-/healthy` and `/-/ready`, and the files Prometheus
//! pulls answering `If-None-Match` with 304 and compressed when asked (`http_sd_configs`
//! fetches them every refresh interval).

mod common;
use app::backend::{Actor, Backend};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn get(
    app: &axum::Router,
    path: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(path).header(header::HOST, "127.0.0.1:3000");
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let res = app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = res.into_parts();
    (parts.status, parts.headers, body.collect().await.unwrap().to_bytes().to_vec())
}

on_both_databases!(health_and_conditional_files, |b: Backend| async move {
    let receiver = common::Receiver::start(&[]).await;
    common::fixtures(&b, &receiver).await;
    let app = common::router(&b);

    let (status, _, body) = get(&app, "/-/healthy", &[]).await;
    assert_eq!((status, String::from_utf8_lossy(&body).trim()), (StatusCode::OK, "Promgen-rs is Healthy."));
    let (status, _, _) = get(&app, "/-/ready", &[]).await;
    assert_eq!(status, StatusCode::OK);

    for path in ["/api/v1/targets", "/api/v1/urls", "/api/v1/rules"] {
        let (status, headers, body) = get(&app, path, &[]).await;
        assert_eq!(status, StatusCode::OK);
        let tag = headers[header::ETAG].to_str().unwrap().to_string();
        let (status, again, empty) = get(&app, path, &[(header::IF_NONE_MATCH, tag.as_str())]).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(empty.is_empty());
        assert_eq!(again[header::ETAG].to_str().unwrap(), tag);
        // Compressed when asked: the same bytes once inflated.
        let (status, headers, gz) = get(&app, path, &[(header::ACCEPT_ENCODING, "gzip")]).await;
        assert_eq!(status, StatusCode::OK);
        if body.len() > 64 {
            assert_eq!(headers[header::CONTENT_ENCODING], "gzip", "{path}");
            assert_eq!(&gz[..2], &[0x1f, 0x8b]);
        }
    }

    // A change gives the file a new tag: the old one is answered in full.
    let (_, headers, _) = get(&app, "/api/v1/targets", &[]).await;
    let tag = headers[header::ETAG].to_str().unwrap().to_string();
    let admin = common::admin(&b).await;
    let project =
        sqlx::query_scalar::<_, i64>("SELECT id FROM project ORDER BY id LIMIT 1").fetch_one(&b.db.pool).await.unwrap();
    b.inventory
        .create_exporter(
            &admin,
            app::model::ProjectId(project),
            app::model::ExporterInput {
                job: "late".into(),
                port: 9999,
                path: String::new(),
                scheme: Default::default(),
                enabled: true,
            },
        )
        .await
        .unwrap();
    let (status, headers, _) = get(&app, "/api/v1/targets", &[(header::IF_NONE_MATCH, tag.as_str())]).await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(headers[header::ETAG].to_str().unwrap(), tag);
    let _ = Actor::System;
});

// A real Prometheus discovers its targets from Promgen-rs over http_sd, labels and all.
on_both_databases!(prometheus_discovers_targets_over_http_sd, |b: Backend| async move {
    let promgen = common::serve(&b).await;
    let prom = common::Prometheus::with_scrape_configs(|_| {
        format!("- job_name: promgen\n  http_sd_configs:\n  - url: http://{promgen}/api/v1/targets?shard=main\n    refresh_interval: 1s\n")
    })
    .await;
    // Prometheus' own /metrics, registered as a project's exporter.
    let port = prom.url.rsplit(':').next().unwrap();
    let sd = serde_json::json!([{
        "labels": {"__shard": "main", "service": "web", "project": "shop", "farm": "shop", "__farm_source": "promgen", "job": "prometheus"},
        "targets": [format!("127.0.0.1:{port}")],
    }]);
    b.importer.import_file_sd(&Actor::System, &sd.to_string(), None).await.unwrap();
    let client = reqwest::Client::new();
    // Another shard's Prometheus gets none of it.
    let other: serde_json::Value =
        client.get(format!("http://{promgen}/api/v1/targets?shard=other")).send().await.unwrap().json().await.unwrap();
    assert_eq!(other, serde_json::json!([]));
    for _ in 0..100 {
        let targets: serde_json::Value =
            client.get(format!("{}/api/v1/targets", prom.url)).send().await.unwrap().json().await.unwrap();
        let found = targets["data"]["activeTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["labels"]["project"] == "shop");
        if let Some(t) = found {
            assert_eq!(t["labels"]["service"], "web");
            assert_eq!(t["labels"]["job"], "prometheus");
            if t["health"] == "up" {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("Prometheus did not discover and scrape the project's target over http_sd");
});

// `--log-format json`: every line an object, and a request's lines carry its id (the caller's
// `X-Request-Id`, returned in the answer). At the default level, a stale or made-up session
// cookie is not a line (it was a warning on every request that carried one).
#[tokio::test]
async fn json_logs_carry_the_request_id() {
    let dir = std::env::temp_dir().join(format!("promgen-logs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = common::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log-format", "json"])
        .env("DATABASE_URL", format!("sqlite://{}/p.db", dir.display()))
        .env("PROMGEN_ADMIN_PASSWORD", "password-of-admin")
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{base}/-/healthy")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // A browser's report of a blocked script is logged while the request is served.
    let res = client
        .post(format!("{base}/csp-report"))
        .header("x-request-id", "trace-me-42")
        .header("content-type", "application/csp-report")
        .body(r#"{"csp-report": {"blocked-uri": "inline", "violated-directive": "script-src"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    let fresh = client.get(format!("{base}/-/ready")).send().await.unwrap();
    assert!(!fresh.headers()["x-request-id"].is_empty(), "a new id when the caller gives none");
    // Anyone may post reports: a flood of them is counted, not a line each.
    for _ in 0..30 {
        let flood = client.post(format!("{base}/csp-report")).body(r#"{"csp-report": {}}"#).send().await.unwrap();
        assert_eq!(flood.status(), 204);
    }
    for stale in ["promgen_session=AAAAAAAAAAAAAAAAAAAAAA", "promgen_session=not-an-id"] {
        let res = client.get(format!("{base}/login")).header("cookie", stale).send().await.unwrap();
        assert_eq!(res.status(), 200);
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l["spans"]
            .as_array()
            .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == "trace-me-42" && s["path"] == "/csp-report"))),
        "no line of the request carries its id:\n{text}"
    );
    assert!(!text.contains("session"), "a stale session cookie was logged:\n{text}");
    let reports = text.matches("blocked content by the Content-Security-Policy").count();
    assert_eq!(reports, 10, "violation reports logged:\n{text}");
}

// A wrong setting stops the server at start with one line per wrong setting, never a stack
// trace (even with RUST_BACKTRACE set).
#[test]
fn wrong_settings_are_said_in_words() {
    let dir = std::env::temp_dir().join(format!("promgen-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let providers = dir.join("providers.yaml");
    std::fs::write(&providers, "providers:\n- {id: Bad, name: '', client_id: x}\n").unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_promgen"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("DATABASE_URL", format!("sqlite://{}/p.db", dir.display()))
            .env("RUST_BACKTRACE", "1")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let text = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!text.contains("backtrace") && !text.contains("libc_start"), "{text}");
        text
    };
    let smtp = run(&[], &[("PROMGEN_SMTP_URL", "bogus://")]);
    assert_eq!(smtp.trim().lines().count(), 1, "{smtp}");
    assert!(smtp.starts_with("promgen: --smtp-url"), "{smtp}");
    let sso = run(&["--sign-in-providers", providers.to_str().unwrap()], &[]);
    for line in ["provider Bad: the id must be", "provider Bad: name is required", "provider Bad: issuer is required"] {
        assert!(sso.lines().any(|l| l.starts_with(line)), "{line:?} in:\n{sso}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
