//! The profile's list of signed-in sessions: each with how, when and from where it began and
//! when it was last used; another one ended by its handle, or all others at once; the asking
//! one only by logging out. Session ids never leave the server.

mod common;
use app::backend::Backend;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use leptos::server_fn::ServerFn;

async fn login(app: &axum::Router, agent: &str) -> String {
    let req = Request::post(app::api::auth::Login::PATH)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .header(header::USER_AGENT, agent)
        .body(Body::from("username=sam&password=password-of-test"))
        .unwrap();
    let (status, headers, body) = common::send(app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string()
}

async fn call(app: &axum::Router, path: &str, body: &str, cookie: &str) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = common::send(app, common::form(path, body, Some(cookie), None)).await;
    (status, serde_json::from_str(&body).unwrap_or_default())
}

on_both_databases!(sessions_are_listed_and_ended, |b: Backend| async move {
    common::user(&b, "sam").await;
    let app = common::router(&b);
    let laptop = login(&app, "Laptop <script> für").await;
    const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
                         (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";
    let phone = login(&app, PHONE).await;

    let (status, profile) = call(&app, app::api::alerts::GetProfile::PATH, "", &laptop).await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let sessions = profile["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{profile}");
    let mine = sessions.iter().find(|s| s["current"] == true).unwrap();
    assert_eq!(mine["agent"], "Laptop <script> für");
    // An agent that names no known browser is shown as it came (the page escapes it).
    assert_eq!(mine["browser"], "Laptop <script> für");
    assert_eq!(mine["via"], "password");
    assert!(!mine["signed_in"].as_str().unwrap().is_empty() && !mine["last_active"].as_str().unwrap().is_empty());
    let other = sessions.iter().find(|s| s["current"] == false).unwrap();
    assert_eq!(other["agent"], PHONE);
    // People read the browser and its system, not the agent string.
    assert_eq!(other["browser"], "Safari 17 on iPhone");
    // The handle is not the cookie's secret.
    let secret = phone.split_once('=').unwrap().1;
    assert!(!profile.to_string().contains(secret), "{profile}");

    // The asking session is ended by logging out, not here.
    let (status, e) =
        call(&app, app::api::auth::EndSession::PATH, &format!("handle={}", mine["handle"].as_str().unwrap()), &laptop)
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    let (status, e) = call(&app, app::api::auth::EndSession::PATH, "handle=0000000000000000", &laptop).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    let (status, _) =
        call(&app, app::api::auth::EndSession::PATH, &format!("handle={}", other["handle"].as_str().unwrap()), &laptop)
            .await;
    assert_eq!(status, StatusCode::OK);
    let (_, who) = call(&app, app::api::auth::Whoami::PATH, "", &phone).await;
    assert!(who.is_null(), "the phone is logged out: {who}");

    // All others at once.
    let tablet = login(&app, "Tablet").await;
    let desk = login(&app, "Desk").await;
    let (status, ended) = call(&app, app::api::auth::EndOtherSessions::PATH, "", &laptop).await;
    assert_eq!((status, ended), (StatusCode::OK, serde_json::json!(2)));
    for gone in [&tablet, &desk] {
        let (_, who) = call(&app, app::api::auth::Whoami::PATH, "", gone).await;
        assert!(who.is_null());
    }
    let (_, who) = call(&app, app::api::auth::Whoami::PATH, "", &laptop).await;
    assert_eq!(who["username"], "sam");

    // A new password that is the current one changes nothing, so it is refused, at its field
    // (it said "Password changed" and ended the other sessions).
    let same = "current=password-of-test&password=password-of-test";
    let (status, refused) = call(&app, app::api::auth::ChangePassword::PATH, same, &laptop).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert_eq!(refused["Invalid"]["field"], "password", "{refused}");
});

// A site admin adds local accounts on the users page: the new user logs in; a taken name, an
// address that is none and a short password are refused at their fields, and nothing is
// written; no one else may add one.
on_both_databases!(site_admins_add_users, |b: Backend| async move {
    let app = common::router(&b);
    let admin = common::login(&app, &b, "root", true).await;
    let someone = common::login(&app, &b, "someone", false).await;
    let add = app::api::members::AddUser::PATH;
    let (status, name) =
        call(&app, add, "username=newbie&email=newbie%40example.com&password=long-enough-pw", &admin).await;
    assert_eq!(status, StatusCode::OK, "{name}");
    assert_eq!(name, "newbie");
    let (status, _) = call(&app, add, "username=boss&email=&password=long-enough-pw&superuser=on", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let (_, listed) = call(&app, app::api::members::ListUsers::PATH, "q=", &admin).await;
    let found = |name: &str| listed.as_array().unwrap().iter().find(|u| u["username"] == name).cloned().unwrap();
    assert_eq!(
        (found("newbie")["email"].as_str(), found("newbie")["is_superuser"].as_bool()),
        (Some("newbie@example.com"), Some(false))
    );
    assert_eq!(found("boss")["is_superuser"], true);
    let login = common::form(app::api::auth::Login::PATH, "username=newbie&password=long-enough-pw", None, None);
    assert!(common::send(&app, login).await.0.is_success());
    assert_eq!(common::count_where(&b, "audit", "body = 'Created user newbie'").await, 1);

    let users = common::count(&b, "users").await;
    for (body, status, field) in [
        ("username=newbie&email=&password=long-enough-pw", StatusCode::CONFLICT, "username"),
        ("username=other&email=not-an-address&password=long-enough-pw", StatusCode::BAD_REQUEST, "email"),
        ("username=other&email=&password=short", StatusCode::BAD_REQUEST, "password"),
        ("username=two+words&email=&password=long-enough-pw", StatusCode::BAD_REQUEST, "username"),
    ] {
        let (got, e) = call(&app, add, body, &admin).await;
        assert_eq!(got, status, "{body}: {e}");
        let kind = if status == StatusCode::CONFLICT { "Conflict" } else { "Invalid" };
        assert_eq!(e[kind]["field"], field, "{body}: {e}");
    }
    let (status, _) = call(&app, add, "username=mine&email=&password=long-enough-pw&superuser=on", &someone).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(common::count(&b, "users").await, users, "nothing was written");
});
