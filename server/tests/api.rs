//! Server functions as an API: a script calls what the browser calls, at `/api/<name>`, with a
//! token instead of a session and JSON instead of a form, and gets the same answers: JSON, and
//! refusals with their 4xx status and a JSON error naming the field.

mod common;
use app::backend::Backend;
use app::backend::roles::Principal;
use app::model::{Object, Role};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

async fn call(
    app: &axum::Router,
    name: &str,
    token: Option<&str>,
    content_type: &str,
    body: &str,
) -> (StatusCode, serde_json::Value) {
    let mut req = Request::post(format!("/api/{name}"))
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ACCEPT, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, t);
    }
    let (status, _, body) = common::send(app, req.body(Body::from(body.to_string())).unwrap()).await;
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)))
}

async fn json(app: &axum::Router, name: &str, token: &str, body: &str) -> (StatusCode, serde_json::Value) {
    call(app, name, Some(token), "application/json", body).await
}

on_both_databases!(scripts_call_server_functions_with_a_token_and_json, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let owner = common::user(&b, "owner").await;
    let viewer = common::user(&b, "viewer").await;
    b.inventory.create_shard(&admin, app::model::ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let (token, key) = b.auth.create_token(&owner, "owner", "script").await.unwrap();
    let (_, viewer_key) = b.auth.create_token(&viewer, "viewer", "script").await.unwrap();
    let (owner_auth, viewer_auth) = (format!("Token {key}"), format!("Bearer {viewer_key}"));
    let app = common::router(&b);

    // Who am I, by token.
    let (status, me) = json(&app, "whoami", &owner_auth, "{}").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "owner");

    // A change as JSON, answered as JSON.
    let (status, service) =
        json(&app, "create_service", &owner_auth, r#"{"name": "checkout", "description": "shop"}"#).await;
    assert_eq!(status, StatusCode::OK, "{service}");
    assert_eq!(service["name"], "checkout");
    let service_id = service["id"].as_i64().unwrap();
    // The same as a form.
    let (status, other) = call(
        &app,
        "create_service",
        Some(&owner_auth),
        "application/x-www-form-urlencoded",
        "name=billing&description=",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{other}");

    // Refusals: 400 naming the field, 409 a taken name, 400 a body that is not an object.
    let (status, e) = json(&app, "create_service", &owner_auth, r#"{"name": "", "description": ""}"#).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["Invalid"]["field"], "name", "{e}");
    let (status, e) = json(&app, "create_service", &owner_auth, r#"{"name": "checkout", "description": ""}"#).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    let (status, e) = json(&app, "create_service", &owner_auth, "[1, 2]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let (status, e) = json(&app, "create_service", &owner_auth, "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let (status, _) = json(&app, "create_service", &owner_auth, r#"{"description": ""}"#).await;
    assert!(status.is_client_error(), "a missing argument is the caller's mistake: {status}");

    // A Viewer reads but may not change: 403.
    let s = app::model::ServiceId(service_id);
    b.roles.grant(&owner, Object::Service(s), Principal::User(viewer.user_id().unwrap()), Role::Viewer).await.unwrap();
    let (status, got) = json(&app, "get_service", &viewer_auth, &format!(r#"{{"id": {service_id}}}"#)).await;
    assert_eq!(status, StatusCode::OK, "{got}");
    let (status, e) = json(
        &app,
        "create_project",
        &viewer_auth,
        &format!(r#"{{"service_id": {service_id}, "name": "web", "description": "", "shard_id": "1"}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    let (status, project) = json(
        &app,
        "create_project",
        &owner_auth,
        &format!(r#"{{"service_id": {service_id}, "name": "web", "description": "", "shard_id": "1"}}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{project}");

    // A token cannot make its successor, nor end sessions or change the password: a leaked
    // token must not outlive its revocation.
    for (name, args) in [
        ("create_token", r#"{"name": "next"}"#),
        ("end_other_sessions", "{}"),
        ("change_password", r#"{"current": "x", "password": "yyyyyyyy"}"#),
    ] {
        let (status, e) = json(&app, name, &owner_auth, args).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}: {e}");
    }
    // A proxy's own credentials are not ours: Basic is ignored (no session: 401 as anonymous).
    let (status, _) = json(&app, "whoami", "Basic dXNlcjpwdw==", "{}").await;
    assert_eq!(status, StatusCode::OK, "whoami is open");
    let (status, _) = json(&app, "create_service", "Basic dXNlcjpwdw==", "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A token that is not valid is 401, before the arguments are read; so is none.
    let (status, e) = json(&app, "create_service", "Token not-a-key", "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{e}");
    let (status, _) = call(&app, "create_service", None, "application/json", "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A revoked token stops at once.
    b.auth.revoke_token(&owner, token.id).await.unwrap();
    let (status, _) = json(&app, "whoami", &owner_auth, "{}").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(common::count(&b, "service").await, 2, "nothing refused was written");
});

// The OpenAPI document covers REST v2, Prometheus' files, the webhook and every server
// function, made from the code; /docs shows it with assets of this server only.
#[tokio::test]
async fn the_openapi_document_covers_every_interface() {
    let db = common::TestDb::sqlite().await;
    let app = common::router(&db.backend);
    let get = |path: &'static str| {
        let app = app.clone();
        async move {
            let req = Request::get(path).header(header::HOST, "127.0.0.1:3000").body(Body::empty()).unwrap();
            common::send(&app, req).await
        }
    };
    let (status, _, body) = get("/rest/v2/schema").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{}", doc["openapi"]);
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/rest/v2/services", "get"),
        ("/rest/v2/services", "post"),
        ("/rest/v2/projects/{id}", "patch"),
        ("/rest/v2/{kind}/{id}/users", "post"),
        ("/rest/v2/farms/{id}/hosts/{host_id}", "delete"),
        ("/rest/v2/logs", "get"),
        ("/api/v1/targets", "get"),
        ("/api/v1/alerts", "post"),
        ("/api/create_service", "post"),
        ("/api/save_rule", "post"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not documented");
    }
    // Filters, pagination and bodies come from the handlers' types.
    let list = &paths["/rest/v2/projects"]["get"]["parameters"];
    let names: Vec<&str> = list.as_array().unwrap().iter().filter_map(|p| p["name"].as_str()).collect();
    for name in ["name", "service_id", "page_number", "page_size"] {
        assert!(names.contains(&name), "{name} missing from {names:?}");
    }
    // A change's fields are optional but not nullable (a null is refused, not "no change").
    let project_body = &doc["components"]["schemas"]["ProjectBody"]["properties"];
    assert_eq!(project_body["shard"]["type"], "integer", "{project_body}");
    let args = &paths["/api/create_project"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(args["properties"]["service_id"]["type"], "integer", "{args}");
    // REST v2's refusals are documented on every operation.
    for status in ["400", "401", "403", "404"] {
        assert!(paths["/rest/v2/farms/{id}"]["delete"]["responses"].get(status).is_some(), "{status}");
    }
    let n = paths.len();
    assert!(n > 100, "{n} paths");

    let (status, headers, yaml) = get("/rest/v2/schema?format=yaml").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "application/yaml");
    assert!(yaml.contains("/rest/v2/services:"), "{}", &yaml[..200]);

    // The page loads its assets from this server only.
    let (status, _, page) = get("/docs").await;
    assert_eq!(status, StatusCode::OK);
    for src in page.split("src=\"").skip(1).chain(page.split("href=\"").skip(1)) {
        assert!(src.starts_with('/'), "an asset from elsewhere: {src}");
    }
}
