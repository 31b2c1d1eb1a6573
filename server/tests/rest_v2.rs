//! Promgen's own REST v2 test tables (`app/fixtures/conformance/rest-v2`, vendored from the
//! specification with their runner) against this binary: each table in [`PASSING`] must pass
//! whole but for the rows of [`DIFFERENCES`], which must fail (deliberate differences). The
//! runner skips the 10 rows that need Promgen's mocked remote discovery source.
//! Needs `python3` (the runner is Promgen's harness rewritten as a black-box client).

mod common;
use app::backend::Backend;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::path::Path;
use std::process::Command;

/// The tables every row of which passes: all of Promgen's.
const PASSING: &[&str] = &[
    "test_rest_audit",
    "test_rest_exporter",
    "test_rest_farm",
    "test_rest_group",
    "test_rest_notifier",
    "test_rest_project",
    "test_rest_rule",
    "test_rest_service",
    "test_rest_shard",
    "test_rest_site",
    "test_rest_url",
    "test_rest_user",
];

/// Rows that fail on purpose, and why.
const DIFFERENCES: &[(&str, &str, &str)] = &[
    (
        "test_rest_notifier",
        "A viewer can list notifiers.",
        "a notifier's value is shown only to those who may edit it (issue 9): a Viewer sees it masked",
    ),
    (
        "test_rest_notifier",
        "A viewer can filter notifiers by value.",
        "the value filter reads what the caller sees, or it would tell secrets one filter at a time",
    ),
];

fn run(filter: &str) -> (bool, String) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/fixtures/conformance/rest-v2");
    let out = Command::new("python3")
        .arg(dir.join("run.py"))
        .arg(env!("CARGO_BIN_EXE_promgen"))
        .arg(dir.join("promgen-fixtures"))
        .arg(dir.join("cases"))
        .arg(dir.join("promgen-urls.tsv"))
        .arg(filter)
        .env_remove("DATABASE_URL")
        .output()
        .expect("python3 runs Promgen's REST v2 tables");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn promgens_rest_v2_tables_pass() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/fixtures/conformance/rest-v2/cases");
    let mut tables: Vec<String> = std::fs::read_dir(cases)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".csv").map(str::to_string))
        .collect();
    tables.sort();
    assert_eq!(tables, PASSING, "every table of Promgen's is run");
    for table in PASSING {
        let (_, out) = run(table);
        let failed: Vec<&str> = out.lines().filter(|l| l.starts_with(&format!("{table}.csv: "))).collect();
        let expected: Vec<&str> = DIFFERENCES.iter().filter(|d| d.0 == *table).map(|d| d.1).collect();
        for line in &failed {
            assert!(expected.iter().any(|case| line.contains(case)), "{table}: a row fails:\n{line}\n\n{out}");
        }
        for case in expected {
            assert!(failed.iter().any(|l| l.contains(case)), "{table}: {case:?} passes now: drop it from DIFFERENCES");
        }
        assert!(
            out.lines().last().is_some_and(|l| l.contains(" passed, ")),
            "{table}: the runner did not finish:\n{out}"
        );
    }
}

/// A token that is not one is a failed authentication (401, with the reason), as anonymous
/// calls are; never a 400.
#[tokio::test]
async fn a_bad_token_is_401() {
    let db = common::TestDb::sqlite().await;
    let served = common::Served::start(&db.backend.db.url, &[]).await;
    let client = reqwest::Client::new();
    for auth in [None, Some("Token nope"), Some("Bearer nope"), Some("Basic YTpi")] {
        let mut req = client.get(format!("{}/rest/v2/services", served.base));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{auth:?}: {body}");
    }
}

// A body that is not JSON is Django REST framework's `ParseError`: 400 with a `detail` (it
// came back under a field named `body`); one of the wrong shape names the field, or none for
// the body as a whole (`non_field_errors`); anything after the value is not JSON either. An
// id in the body that names nothing is a 400 under that field (it was a 404, and `user_ids`
// came back as `user`).
on_both_databases!(bodies_are_refused_as_django_rest_framework_does, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let (_, key) = b.auth.create_token(&admin, "root", "script").await.unwrap();
    let app = common::router(&b);
    let call = |method: &str, path: String, body: &'static str| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Token {key}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let post = |body| call("POST", "/rest/v2/services".to_string(), body);
    for body in ["{not json", r#"{"name": "a"} x"#, ""] {
        let (status, _, e) = common::send(&app, post(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {e}");
        let e = common::json(&e);
        assert!(e["detail"].as_str().is_some_and(|d| d.starts_with("JSON parse error - ")), "{body}: {e}");
    }
    let (status, _, e) = common::send(&app, post("[1, 2]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(common::json(&e)["non_field_errors"][0], "Invalid data. Expected a dictionary, but got list.", "{e}");
    // A field the body must have, missing or null, in DRF's words.
    for (body, words) in [("{}", "This field is required."), (r#"{"name": null}"#, "This field may not be null.")] {
        let (status, _, e) = common::send(&app, call("POST", "/rest/v2/groups".to_string(), body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert_eq!(common::json(&e)["name"][0], words, "{body}: {e}");
    }
    // Given empty: DRF's words for a blank field.
    let (status, _, e) = common::send(&app, post(r#"{"name": "  "}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(common::json(&e)["name"][0], "This field may not be blank.", "{e}");
    let (status, _, e) = common::send(&app, post(r#"{"name": 5}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert!(common::json(&e)["name"][0].is_string(), "{e}");

    use app::model::{ProjectInput, ServiceInput, ShardInput};
    let shard = b.inventory.create_shard(&admin, ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let service = b
        .inventory
        .create_service(&admin, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let input = ProjectInput { name: "frontend".into(), description: String::new(), shard_id: shard.id };
    let project = b.inventory.create_project(&admin, service.id, input).await.unwrap();
    let group = b.roles.create_group(&admin, "sre").await.unwrap();
    for (method, path, body, field) in [
        ("PATCH", format!("/rest/v2/projects/{}", project.id), r#"{"shard": 999}"#, "shard"),
        ("POST", format!("/rest/v2/services/{}/project", service.id), r#"{"name": "backend", "shard": 999}"#, "shard"),
        (
            "POST",
            format!("/rest/v2/groups/{}/members", group.id),
            r#"{"user_ids": [999], "group_role": "MEMBER"}"#,
            "user_ids",
        ),
    ] {
        let (status, _, e) = common::send(&app, call(method, path.clone(), body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {e}");
        assert!(common::json(&e)[field][0].as_str().is_some_and(|m| m.contains("999")), "{path}: {e}");
    }
    // A null where a change is optional is refused, not read as "no change" (it kept the
    // project's shard and answered 200); absent still means no change.
    for (path, body, field) in [
        (format!("/rest/v2/projects/{}", project.id), r#"{"shard": null}"#, "shard"),
        (format!("/rest/v2/projects/{}", project.id), r#"{"description": null}"#, "description"),
        (format!("/rest/v2/services/{}", service.id), r#"{"name": null}"#, "name"),
    ] {
        let (status, _, e) = common::send(&app, call("PATCH", path.clone(), body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {e}");
        assert_eq!(common::json(&e)[field][0], "This field may not be null.", "{path} {body}: {e}");
    }
    // A rule's expression is `clause` in Promgen's bodies, also in what is wrong with it.
    for (body, words) in [
        (r#"{"name": "Up", "clause": " ", "duration": "1m"}"#, "This field may not be blank."),
        (r#"{"name": "Up", "clause": "up ==", "duration": "1m"}"#, "unexpected end of input"),
    ] {
        let path = format!("/rest/v2/services/{}/rules", service.id);
        let (status, _, e) = common::send(&app, call("POST", path, body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {e}");
        assert!(common::json(&e)["clause"][0].as_str().is_some_and(|m| m.contains(words)), "{body}: {e}");
    }
    let (status, _, e) =
        common::send(&app, call("PATCH", format!("/rest/v2/projects/{}", project.id), r#"{"description": "x"}"#)).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    assert_eq!(common::json(&e)["shard"]["id"], shard.id.0, "{e}");
});
