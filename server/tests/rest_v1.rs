//! Promgen's REST v1 read paths (spec 6.4) that scripts still use: by name, with and without
//! the trailing slash, for logged-in callers (session or token), narrowed to what they may see.

mod common;
use app::backend::{Actor, Backend};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

async fn get(app: &axum::Router, path: &str, token: Option<&str>) -> (StatusCode, axum::http::HeaderMap, String) {
    let mut req = Request::get(path).header(header::HOST, "promgen.example.com");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Token {t}"));
    }
    common::send(app, req.body(Body::empty()).unwrap()).await
}

on_both_databases!(promgen_v1_reads, |b: Backend| async move {
    let receiver = common::Receiver::start(&[]).await;
    common::fixtures(&b, &receiver).await;
    let admin = common::admin(&b).await;
    let (_, key) = b.auth.create_token(&admin, "root", "script").await.unwrap();
    let app = common::router(&b);

    let (status, _, _) = get(&app, "/rest/farm/", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Promgen's own example of /rest/farm/1/.
    let (status, _, body) = get(&app, "/rest/farm/1/", Some(&key)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let want = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../app/fixtures/conformance/rest-v2/promgen-fixtures/examples/rest.farm.1.json"),
    )
    .unwrap();
    assert_eq!(common::json(&body), common::json(&want));
    let (_, _, list) = get(&app, "/rest/farm", Some(&key)).await;
    assert_eq!(common::json(&list)[0]["url"], "http://promgen.example.com/farm/1");
    let (status, _, _) = get(&app, "/rest/farm/?source=nowhere", Some(&key)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, _, services) = get(&app, "/rest/service/", Some(&key)).await;
    let services = common::json(&services);
    let names: Vec<&str> = services.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"test-service") && names.is_sorted(), "by name, as Promgen: {names:?}");
    assert!(services[0]["html"].as_str().unwrap().starts_with("http://promgen.example.com/service/"));
    let (_, _, projects) = get(&app, "/rest/service/test-service/projects/", Some(&key)).await;
    assert_eq!(common::json(&projects)[0]["service"], "test-service");
    let (status, _, _) = get(&app, "/rest/service/nope/", Some(&key)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, headers, rules) = get(&app, "/rest/service/test-service/rules/", Some(&key)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().contains("yaml"));
    assert!(rules.contains("groups:"), "{rules}");
    let (status, _, targets) = get(&app, "/rest/project/test-project/targets/", Some(&key)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(common::json(&targets).as_array().is_some());
    let (_, _, shard) = get(&app, "/rest/shard/", Some(&key)).await;
    assert!(common::json(&shard)[0].get("samples").is_some(), "{shard}");

    // A user without roles sees none of it, and may not read the whole rule file.
    let nobody = common::user(&b, "nobody").await;
    let (_, nobody_key) = b.auth.create_token(&nobody, "nobody", "script").await.unwrap();
    let (_, _, list) = get(&app, "/rest/service/", Some(&nobody_key)).await;
    assert_eq!(common::json(&list), serde_json::json!([]));
    let (_, _, all) = get(&app, "/rest/all/targets/", Some(&nobody_key)).await;
    assert_eq!(common::json(&all), serde_json::json!([]));
    // As Promgen's v1 (its lookups go through the caller's own list): not found.
    let (status, _, _) = get(&app, "/rest/service/test-service/", Some(&nobody_key)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&app, "/rest/farm/1/", Some(&nobody_key)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = get(&app, "/rest/all/rules/", Some(&nobody_key)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let _ = Actor::System;
});
