//! The HTTP edge, through the same router the binary serves: Prometheus-facing files, server
//! functions that refuse anonymous and cross-site callers, login sessions.

mod common;
use app::backend::Backend;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{form, router, send};
use leptos::server_fn::ServerFn;

async fn login(app: &Router, b: &Backend) -> String {
    common::login(app, b, "ops", true).await
}

on_both_databases!(prometheus_files_are_anonymous_json, |b: Backend| async move {
    let app = router(&b);
    for path in ["/api/v1/targets", "/api/v1/config", "/api/v1/urls", "/api/v1/targets?service=x&project=y"] {
        let (status, headers, body) = send(&app, Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body, "[]");
    }
});

on_both_databases!(server_functions_refuse_anonymous_and_cross_site_changes, |b: Backend| async move {
    let app = router(&b);
    let create = app::api::inventory::CreateService::PATH;

    let (status, _, body) = send(&app, form(create, "name=web&description=", None, None)).await;
    assert!(!status.is_success(), "{status}");
    assert!(body.contains("Unauthenticated"), "{body}");
    assert_eq!(common::count(&b, "service").await, 0);

    let cookie = login(&app, &b).await;
    let (status, _, body) =
        send(&app, form(create, "name=web&description=", Some(&cookie), Some("http://evil.example"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(common::count(&b, "service").await, 0);

    let (status, _, body) =
        send(&app, form(create, "name=web&description=", Some(&cookie), Some("http://127.0.0.1:3000"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, _) =
        send(&app, form(create, "name=api&description=", Some(&cookie), Some("https://promgen.example.com"))).await;
    assert_eq!(status, StatusCode::OK, "a configured public origin is allowed");
    assert_eq!(common::count(&b, "service").await, 2);

    let (status, _, body) = send(&app, form(create, "name=web&description=", Some(&cookie), None)).await;
    assert!(!status.is_success());
    assert!(body.contains("exists already"), "{body}");

    // Logging out ends the session for good.
    let (status, _, _) = send(&app, form(app::api::auth::Logout::PATH, "", Some(&cookie), None)).await;
    assert!(status.is_success() || status.is_redirection());
    let (_, _, body) = send(&app, form(create, "name=db&description=", Some(&cookie), None)).await;
    assert!(body.contains("Unauthenticated"), "{body}");
});

on_both_databases!(pages_render_on_the_server, |b: Backend| async move {
    let app = router(&b);
    let page = |path: &str| Request::get(path).header(header::ACCEPT, "text/html").body(Body::empty()).unwrap();
    let (status, headers, _) = send(&app, page("/")).await;
    assert!(status.is_redirection(), "anonymous visitors go to the login page: {status}");
    assert_eq!(headers[header::LOCATION], "/login");
    let (status, _, body) = send(&app, page("/login")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<h1>Log in</h1>") && body.contains("/pkg/promgen.js"), "{body}");
});
