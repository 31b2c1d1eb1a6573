//! Silences against real Alertmanagers (Debian's `prometheus-alertmanager` 0.25): Promgen's
//! `/proxy/v1|v2/silences` and `/proxy/v1/alerts` shapes and messages, who may silence what,
//! several Alertmanagers (one behind a path prefix, one down), and the pages' server functions.

mod common;

use app::backend::{Actor, Backend, Settings};
use app::error::AppError;
use app::model::{ProjectInput, ServiceInput, ShardId};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Alertmanager, json, send};
use serde_json::{Value, json};

/// A backend on `b`'s database that talks to `urls`.
fn with_alertmanagers(b: &Backend, urls: &[&str]) -> Backend {
    let settings = Settings { alertmanagers: urls.iter().map(|u| u.to_string()).collect(), ..Default::default() };
    Backend::with_settings(b.db.clone(), &settings).unwrap()
}

fn request(method: &str, path: &str, body: Option<Value>, cookie: &str) -> Request<Body> {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/json");
    req.body(body.map(|b| Body::from(b.to_string())).unwrap_or_default()).unwrap()
}

async fn call(app: &Router, method: &str, path: &str, body: Option<Value>, cookie: &str) -> (StatusCode, Value) {
    let (status, _, text) = send(app, request(method, path, body, cookie)).await;
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Alertmanager's own view of silence `id`.
async fn held(am: &Alertmanager, id: &str) -> Value {
    json(reqwest::get(format!("{}/api/v2/silence/{id}", am.url)).await.unwrap().bytes().await.unwrap())
}

/// How long a silence made "for a duration from now" lasts, in whole seconds. Alertmanager
/// moves a start already past when it arrives to its own now, some milliseconds later, so the
/// length is read to the nearest second.
fn length(silence: &Value) -> i64 {
    let at = |k: &str| chrono::DateTime::parse_from_rfc3339(silence[k].as_str().unwrap()).unwrap();
    ((at("endsAt") - at("startsAt")).num_milliseconds() as f64 / 1000.0).round() as i64
}

/// A service `web` with project `shop` and a service `other` with project `db`, made by
/// `owner`.
async fn inventory(b: &Backend) -> (Actor, app::model::ServiceId) {
    let owner = common::user(b, "owner").await;
    sqlx::query("INSERT INTO shard (name, url) VALUES ('main', 'http://127.0.0.1:9')")
        .execute(&b.db.pool)
        .await
        .unwrap();
    let (shard,): (i64,) = sqlx::query_as("SELECT id FROM shard").fetch_one(&b.db.pool).await.unwrap();
    let mut web = None;
    for (service, project) in [("web", "shop"), ("other", "db")] {
        let s = b
            .inventory
            .create_service(&owner, ServiceInput { name: service.into(), description: String::new() })
            .await
            .unwrap();
        let input = ProjectInput { name: project.into(), description: String::new(), shard_id: ShardId(shard) };
        b.inventory.create_project(&owner, s.id, input).await.unwrap();
        web = web.or(Some(s.id));
    }
    (owner, web.unwrap())
}

on_both_databases!(promgen_shapes_and_messages, |b: Backend| async move {
    let am = Alertmanager::start("", None).await;
    let b = with_alertmanagers(&b, &[&am.url]);
    let app = common::router(&b);
    let admin = common::login(&app, &b, "root", true).await;

    // Promgen's test_silence.py: a duration and a label ending in * (a regex).
    let (status, made) = call(
        &app,
        "POST",
        "/proxy/v1/silences",
        Some(json!({"duration": "1m", "labels": {"instance": "example.com:[0-9]*"}})),
        &admin,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let id = made["silenceID"].as_str().unwrap().to_string();
    let silence = held(&am, &id).await;
    assert_eq!(
        silence["matchers"],
        json!([{"name": "instance", "value": "example.com:[0-9]*", "isRegex": true, "isEqual": true}])
    );
    assert_eq!(silence["createdBy"], "root");
    assert_eq!(silence["comment"], "Silenced from Promgen");
    assert_eq!(length(&silence), 60);

    // A combined duration, and matchers of every kind through v2.
    let (status, made) = call(
        &app,
        "POST",
        "/proxy/v2/silences",
        Some(json!({"duration": "1h30m", "comment": "deploy", "matchers": [
            {"name": "service", "value": "web", "isRegex": false, "isEqual": true},
            {"name": "job", "value": "node", "isRegex": false, "isEqual": false},
            {"name": "instance", "value": "db-.*", "isRegex": true, "isEqual": false},
        ]})),
        &admin,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let silence = held(&am, made["silenceID"].as_str().unwrap()).await;
    assert_eq!(length(&silence), 5400);
    assert_eq!(silence["comment"], "deploy");

    // Promgen's messages, with 422.
    for (body, message, label) in [
        (json!({"labels": {}}), "Missing labels for silence.", "labels"),
        (
            json!({"labels": {"service": "web"}, "startsAt": "2030-01-01 00:01"}),
            "Both start and end are required.",
            "endsAt",
        ),
        (
            json!({"labels": {"service": "web"}, "startsAt": "2030-01-01 00:05", "endsAt": "2030-01-01 00:01"}),
            "Start time and end time are mismatched.",
            "endsAt",
        ),
    ] {
        let (status, answer) = call(&app, "POST", "/proxy/v1/silences", Some(body), &admin).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer, json!({"messages": [{"class": "alert alert-warning", "message": message, "label": label}]}));
    }
    // A silence of everything is refused, by us before Alertmanager.
    let (status, answer) = call(
        &app,
        "POST",
        "/proxy/v2/silences",
        Some(json!({"duration": "1h", "matchers": [{"name": "service", "value": ".*", "isRegex": true}]})),
        &admin,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer["messages"][0]["message"].as_str().unwrap().contains("would match every alert"), "{answer}");
    // A bad duration names it.
    let (status, answer) = call(
        &app,
        "POST",
        "/proxy/v1/silences",
        Some(json!({"labels": {"service": "web"}, "duration": "5 min"})),
        &admin,
    )
    .await;
    assert_eq!((status, answer["messages"][0]["label"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("duration")));

    // A silence made in Alertmanager's own API is listed too; expiring goes through us.
    let theirs: Value = json(
        reqwest::Client::new()
            .post(format!("{}/api/v2/silences", am.url))
            .json(&json!({"matchers": [{"name": "project", "value": "shop", "isRegex": false}],
                "startsAt": chrono::Utc::now().to_rfc3339(), "endsAt": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
                "createdBy": "amtool", "comment": "from Alertmanager"}))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    );
    let theirs = theirs["silenceID"].as_str().unwrap();
    let (status, list) = call(&app, "GET", "/proxy/v1/silences", None, &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.as_array().unwrap().iter().any(|s| s["id"] == theirs && s["createdBy"] == "amtool"), "{list}");
    let (status, _) = call(&app, "DELETE", &format!("/proxy/v1/silences/{theirs}"), None, &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(held(&am, theirs).await["status"]["state"], "expired");
    let (status, _) =
        call(&app, "DELETE", "/proxy/v1/silences/00000000-0000-0000-0000-000000000000", None, &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Anonymous callers are refused.
    let (status, _, _) = send(&app, request("GET", "/proxy/v1/silences", None, "")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

on_both_databases!(users_silence_only_what_they_may_edit, |b: Backend| async move {
    let am = Alertmanager::start("", None).await;
    let b = with_alertmanagers(&b, &[&am.url]);
    let app = common::router(&b);
    let (owner, web) = inventory(&b).await;
    let editor = common::login(&app, &b, "editor", false).await;
    let editor_id = b.auth.user_by_name("editor").await.unwrap().id;
    b.roles
        .grant(
            &owner,
            app::model::Object::Service(web),
            app::backend::roles::Principal::User(editor_id),
            app::model::Role::Editor,
        )
        .await
        .unwrap();
    let post = |matchers: Value| {
        call(&app, "POST", "/proxy/v2/silences", Some(json!({"duration": "1h", "matchers": matchers})), &editor)
    };
    let m =
        |name: &str, value: &str, regex: bool| json!({"name": name, "value": value, "isRegex": regex, "isEqual": true});

    let (status, mine) = post(json!([m("service", "web", false)])).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let (status, _) = post(json!([m("project", "shop", false), m("alertname", "Down", false)])).await;
    assert_eq!(status, StatusCode::OK);

    let (status, answer) = post(json!([m("service", "other", false)])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(answer["messages"][0]["message"].as_str().unwrap().contains("following services: other"), "{answer}");
    let (status, answer) = post(json!([m("project", "shop|db", true)])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(answer["messages"][0]["message"].as_str().unwrap().contains("following projects: db"), "{answer}");
    let (status, answer) = post(json!([m("alertname", "Down", false)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["messages"][0]["message"], "Silence must include a service or project matcher.");
    let (status, answer) = post(json!([m("project", "no-such-project", false)])).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    // Regexes Alertmanager would read more widely than a literal reading are refused.
    for matchers in [
        json!([m("project", "shop|", true), m("alertname", ".+", true)]),
        json!([m("service", "web|[o&&x]ther", true)]),
        json!([{"name": "service", "value": "other", "isRegex": false, "isEqual": false}, m("alertname", "X", false)]),
    ] {
        let (status, answer) = post(matchers.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{matchers}: {answer}");
    }
    let (status, _) = post(json!([m("service", "web|other", true)])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Someone else's silence of `other` is neither shown to the editor nor expirable by them.
    let root = common::login(&app, &b, "root", true).await;
    let (_, theirs) = call(
        &app,
        "POST",
        "/proxy/v2/silences",
        Some(json!({"duration": "1h", "matchers": [m("service", "other", false)]})),
        &root,
    )
    .await;
    let theirs = theirs["silenceID"].as_str().unwrap().to_string();
    let (_, list) = call(&app, "GET", "/proxy/v1/silences", None, &editor).await;
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&mine["silenceID"].as_str().unwrap()) && !ids.contains(&theirs.as_str()), "{list}");
    let (status, refusal) = call(&app, "DELETE", &format!("/proxy/v1/silences/{theirs}"), None, &editor).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The refusal does not say what a silence the editor may not see matches (its id is known).
    assert!(!refusal.to_string().contains("other"), "{refusal}");
    // Nor replaced by one of theirs (Alertmanager would expire it).
    let (status, _) = call(
        &app,
        "POST",
        "/proxy/v2/silences",
        Some(json!({"id": theirs, "duration": "1m", "matchers": [m("service", "web", false)]})),
        &editor,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(held(&am, &theirs).await["status"]["state"], "active");
    let (status, _) = call(&app, "DELETE", "/proxy/v1/silences/..%2F..%2Fapi%2Fv2%2Fstatus", None, &editor).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The page's list says which the editor may expire.
    let editor_actor = Actor::User(b.auth.user_by_name("editor").await.unwrap());
    let list = b.silences.list(&editor_actor).await.unwrap();
    assert_eq!(list.silences.len(), 2);
    assert!(list.silences.iter().all(|s| s.may_expire && s.created_by == "editor"));
    assert!(list.may_silence, "an Editor may silence");
    // What is not a silence id is the id's mistake, not the matchers', and is not sent on.
    let e = b.silences.expire(&editor_actor, "abc").await.unwrap_err();
    assert!(matches!(&e, AppError::Invalid(f) if f.field == "id" && f.message.contains("UUID")), "{e:?}");
    let all = b.silences.list(&Actor::User(b.auth.user_by_name("root").await.unwrap())).await.unwrap();
    assert_eq!(all.silences.len(), 3);
    // One with no Editor or Admin role anywhere may silence nothing: the form says so first.
    let reader = common::user(&b, "reader").await;
    assert!(!b.silences.list(&reader).await.unwrap().may_silence);

    // Silences are in the audit log, filed under what they select: the editor reads the
    // making and the expiry of theirs, not root's silence of `other`.
    let path = format!("/proxy/v1/silences/{}", mine["silenceID"].as_str().unwrap());
    assert_eq!(call(&app, "DELETE", &path, None, &editor).await.0, StatusCode::OK);
    let silences = |records: Vec<app::backend::audit::AuditRecord>| -> Vec<(String, String, String)> {
        let records = records.into_iter().filter(|r| r.entry.object_type == "silence");
        records.map(|r| (r.entry.body, r.entry.user.unwrap_or_default(), r.parent_type)).collect()
    };
    let records = silence_log(&b, &editor_actor).await;
    // Expired is a change of its end, not a deletion.
    let expired = &records.iter().find(|r| r.entry.object_type == "silence").unwrap().entry;
    let changes = app::model::audit::diff(expired.old.as_deref(), expired.data.as_deref());
    assert_eq!(changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["endsAt"], "{changes:?}");
    let log = silences(records);
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[0].0, r#"Expired the silence matching service="web""#);
    assert!(log[1].0.starts_with(r#"Silenced alerts matching project="shop", alertname="Down" until "#), "{log:?}");
    assert_eq!((log[1].1.as_str(), log[1].2.as_str()), ("editor", "project"));
    assert!(log[2].0.starts_with(r#"Silenced alerts matching service="web" until "#), "{log:?}");
    // A service's silence is filed under the service (its History), not its projects.
    assert_eq!(log[2].2, "service");
    // Expiring what is over already changes nothing and records nothing.
    assert_eq!(call(&app, "DELETE", &path, None, &editor).await.0, StatusCode::OK);
    assert_eq!(silences(silence_log(&b, &editor_actor).await).len(), 3);
    // Root moves their silence of `other` to `web`: the editor reads the new silence, not the
    // replaced one (what it matched and said is `other`'s business), which root reads.
    let (status, _) = call(
        &app,
        "POST",
        "/proxy/v2/silences",
        Some(json!({"id": theirs, "duration": "1h", "comment": "moved", "matchers": [m("service", "web", false)]})),
        &root,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let log = silences(silence_log(&b, &editor_actor).await);
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log[0].0.starts_with(r#"Silenced alerts matching service="web""#) && log[0].1 == "root", "{log:?}");
    let root_actor = Actor::User(b.auth.user_by_name("root").await.unwrap());
    let everything = silences(silence_log(&b, &root_actor).await);
    assert_eq!(everything[1].0, r#"Replaced the silence matching service="other""#, "{everything:?}");
    assert!(everything.iter().any(|(body, who, _)| body.contains(r#"service="other" until"#) && who == "root"));
    // REST v2's log filters them by their kind.
    let (status, page) = call(&app, "GET", "/rest/v2/logs?content_type=silence", None, &editor).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], 4, "{page}");

    // Matchers sent as JSON are bounded as typed ones are, and carry no direction controls
    // (they are shown in lists and the audit log).
    for value in ["x".repeat(9000), "ok \u{202E}txet".to_string()] {
        let (status, answer) = post(json!([m("service", "web", false), m("instance", &value, false)])).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    }
    let (status, answer) = post(json!([m("service", "web", false)])).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
});

on_both_databases!(several_alertmanagers, |b: Backend| async move {
    let (first, prefixed) = (Alertmanager::start("", None).await, Alertmanager::start("/am", None).await);
    let down = format!("http://127.0.0.1:{}", common::free_port());
    let b = with_alertmanagers(&b, &[&first.url, &prefixed.url, &down]);
    let app = common::router(&b);
    let admin = common::login(&app, &b, "root", true).await;
    let (status, made) =
        call(&app, "POST", "/proxy/v1/silences", Some(json!({"duration": "2h", "labels": {"service": "web"}})), &admin)
            .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let ids: Vec<String> = made["silenceIDs"].as_array().unwrap().iter().map(|i| i.as_str().unwrap().into()).collect();
    assert_eq!(ids.len(), 2, "{made}");
    assert_eq!(made["warnings"].as_array().unwrap().len(), 1, "{made}");
    assert!(made["warnings"][0].as_str().unwrap().contains(&down), "{made}");
    assert_eq!(held(&first, &ids[0]).await["status"]["state"], "active");
    assert_eq!(held(&prefixed, &ids[1]).await["status"]["state"], "active");

    let root = Actor::User(b.auth.user_by_name("root").await.unwrap());
    let list = b.silences.list(&root).await.unwrap();
    // Alertmanagers that do not gossip hold twins: one silence to the user, expired together.
    assert_eq!(list.silences.len(), 1, "{:?}", list.silences);
    let mut both = vec![first.url.clone(), prefixed.url.clone()];
    both.sort();
    assert_eq!(list.silences[0].alertmanagers, both);
    assert_eq!(list.warnings.len(), 1);
    assert!(list.warnings[0].contains(&down) && list.warnings[0].contains("unreachable"), "{:?}", list.warnings);

    // Alerts held now: merged, with Promgen's warnings on labels that disagree.
    let client = reqwest::Client::new();
    for am in [&first, &prefixed] {
        let alerts = json!([
            {"labels": {"alertname": "Down", "service": "web", "project": "nowhere"}},
            {"labels": {"alertname": "Fine", "job": "node"}},
        ]);
        let res = client.post(format!("{}/api/v2/alerts", am.url)).json(&alerts).send().await.unwrap();
        assert!(res.status().is_success());
    }
    let (status, alerts) = call(&app, "GET", "/proxy/v1/alerts", None, &admin).await;
    assert_eq!(status, StatusCode::OK);
    let alerts = alerts.as_array().unwrap();
    assert_eq!(alerts.len(), 2, "merged by fingerprint: {alerts:?}");
    let down_alert = alerts.iter().find(|a| a["labels"]["alertname"] == "Down").unwrap();
    assert_eq!(down_alert["promgen"]["warnings"], json!(["Project from alert's labels is not found."]));
    let holding = b.silences.alerts(&root).await.unwrap();
    assert_eq!(holding.alerts.len(), 2);
    assert!(
        holding
            .alerts
            .iter()
            .any(|a| a.labels.get("alertname").map(String::as_str) == Some("Down") && !a.silenced_by.is_empty())
    );
    let (status, _) = call(&app, "DELETE", &format!("/proxy/v1/silences/{}", ids[0]), None, &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(held(&first, &ids[0]).await["status"]["state"], "expired");
    assert_eq!(held(&prefixed, &ids[1]).await["status"]["state"], "expired", "its twin too");

    // Without any Alertmanager: the pages say so, Promgen's endpoints answer 503.
    let none = with_alertmanagers(&b, &[]);
    assert!(none.silences.list(&root).await.unwrap().unconfigured);
    let app = common::router(&none);
    let (status, _) = call(&app, "GET", "/proxy/v1/silences", None, &admin).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
});

/// The silences' entries in the audit log that `actor` may read, newest first (REST's query).
async fn silence_log(b: &Backend, actor: &Actor) -> Vec<app::backend::audit::AuditRecord> {
    let filter = app::backend::audit::LogFilter { object_type: Some("silence".into()), ..Default::default() };
    b.audit.search(actor, &filter, |_| Ok(((), 0, 1000))).await.unwrap().2
}
