//! The Alertmanager webhook through the real router, on both databases: refusals that store
//! nothing, Promgen's routing scenarios with real receivers (HTTP and SMTP) and Promgen's
//! expected messages, duplicates, the heartbeat, the event log and the metrics.

mod common;
use app::backend::{Actor, Backend};
use app::model::*;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{Receiver, SmtpSink, count, delivering, drain, fixture, fixtures, get, json, login, page, router, send};

const SAMPLE: &str = include_str!("../../app/fixtures/promgen/alertmanager.json");

async fn post(b: &Backend, auth: Option<&str>, body: &str) -> (StatusCode, String) {
    let mut req = Request::post("/api/v1/alerts").header(header::CONTENT_TYPE, "application/json");
    if let Some(a) = auth {
        req = req.header(header::AUTHORIZATION, a);
    }
    let (status, _, body) = send(&router(b), req.body(Body::from(body.to_string())).unwrap()).await;
    (status, body)
}

/// The text of a quoted-printable mail body (soft line breaks joined, `=XX` decoded).
fn quoted_printable(body: &str) -> String {
    let joined = body.replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len() + 1
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..(i + 3).min(joined.len())], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn notification(name: &str) -> String {
    fixture(&format!("notification/{name}"))
}

on_both_databases!(bad_posts_are_refused_with_the_reason_and_nothing_is_stored, |b: Backend| async move {
    let root = common::admin(&b).await;
    let (_, key) = b.auth.create_token(&root, "root", "alertmanager").await.unwrap();
    let token = format!("Token {key}");
    common::user(&b, "viewer").await;
    let (_, viewer_key) = b.auth.create_token(&Actor::System, "viewer", "").await.unwrap();

    for (auth, body, status, says) in [
        (None, SAMPLE.to_string(), StatusCode::UNAUTHORIZED, "no Authorization header"),
        (Some("Token wrong".to_string()), SAMPLE.to_string(), StatusCode::UNAUTHORIZED, "not valid"),
        (Some(format!("Basic {key}")), SAMPLE.to_string(), StatusCode::UNAUTHORIZED, "must be `Token <key>`"),
        (
            Some(format!("Token {viewer_key}")),
            SAMPLE.to_string(),
            StatusCode::FORBIDDEN,
            "lacks the process_alert permission",
        ),
        (Some(token.clone()), "{\"alerts\": [".to_string(), StatusCode::BAD_REQUEST, "not JSON"),
        (
            Some(token.clone()),
            "{\"alerts\": [{\"status\": \"firing\", \"labels\": {\"a\": 1}}]}".to_string(),
            StatusCode::BAD_REQUEST,
            "alerts[0].labels.a",
        ),
        (Some(token.clone()), "[]".to_string(), StatusCode::BAD_REQUEST, "not an Alertmanager webhook message"),
        (
            Some(token.clone()),
            format!("{{\"pad\": \"{}\", \"alerts\": []}}", "x".repeat(70_000)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 65536 bytes",
        ),
    ] {
        let (got, text) = post(&b, auth.as_deref(), &body).await;
        assert_eq!(got, status, "{text}");
        assert!(text.contains(says), "{says:?} not in {text:?}");
    }
    assert_eq!((count(&b, "alert").await, count(&b, "outbox").await, count(&b, "alert_event").await), (0, 0, 0));
    let metrics = common::get(&router(&b), "/metrics").await.1;
    assert!(metrics.contains("promgen_webhook_refused_total 8"), "{metrics}");
    // A body that breaks off (a malformed chunk, a client gone) is a 400, not a 413.
    let broken = futures::stream::iter([
        Ok(axum::body::Bytes::from_static(b"{\"alerts\": [")),
        Err(std::io::Error::other("a malformed chunk")),
    ]);
    let req = Request::post("/api/v1/alerts")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, &token)
        .body(Body::from_stream(broken))
        .unwrap();
    let (got, _, text) = send(&router(&b), req).await;
    assert_eq!(got, StatusCode::BAD_REQUEST, "{text}");
    assert!(text.contains("could not be read"), "{text}");
    assert_eq!(count(&b, "alert").await, 0, "nothing stored");

    // Bearer works as well as Token; a user may be allowed to post.
    b.auth.grant_alerts(&Actor::System, "viewer", true).await.unwrap();
    let (got, text) = post(&b, Some(&format!("Bearer {viewer_key}")), SAMPLE).await;
    assert_eq!(got, StatusCode::ACCEPTED, "{text}");
    assert_eq!(json(&text)["status"], "accepted");
});

on_both_databases!(promgen_routing_with_real_receivers_and_promgens_messages, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    let hook = Receiver::start(&[200]).await;
    let am = Receiver::start(&[200]).await;
    let smtp = SmtpSink::start().await;
    fixtures(&b, &slack).await;
    let b = delivering(&b, Some(&smtp), None);
    let project = NotifierOwner::Project { id: ProjectId(1), name: "test-project".into() };
    let service = NotifierOwner::Service { id: ServiceId(1), name: "test-service".into() };
    let input =
        |kind: &str, value: &str| NotifierInput { kind: kind.into(), value: value.into(), ..Default::default() };
    b.notifiers.create(&Actor::System, &project, input("webhook", &hook.url)).await.unwrap();
    b.notifiers.create(&Actor::System, &service, input("alertmanager", &am.url)).await.unwrap();
    // The service's email notifier filters on severity=critical: this major alert skips it.
    let (status, text) = post(&b, Some("Token admin_token"), SAMPLE).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    let id = AlertId(json(&text)["alert"].as_i64().unwrap());
    assert_eq!(json(&text)["notifications"], 3);
    drain(&b).await;

    // Exactly what Promgen sends, to each.
    let mut expected = json(notification("webhook.json"));
    expected["externalURL"] = format!("http://promgen.example.com/alert/{id}").into();
    assert_eq!(hook.received(), [expected]);
    assert_eq!(am.received(), [json(notification("alertmanager.json"))]);
    // Slack's mrkdwn: the Grafana link's `&` escaped, which Slack shows as Promgen's text.
    let slack_text = notification("slack.body.txt").trim_end().replace('&', "&amp;");
    assert_eq!(slack.received(), [serde_json::json!({ "text": slack_text })]);
    assert!(smtp.received().is_empty(), "the email notifier's filter keeps it out");

    let detail = b.alerts.detail(&Actor::System, id).await.unwrap();
    assert_eq!((detail.alert.sent_count, detail.alert.error_count), (3, 0));
    assert!(
        detail.routing.iter().any(|r| r.contains("skipped: its filters (severity=critical) do not match")),
        "{:?}",
        detail.routing
    );
    let kinds: Vec<&str> = detail.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["received", "routed", "sent", "sent", "sent"]);
    assert!(detail.deliveries.iter().all(|d| d.status == "sent" && d.attempts == 1));

    // A critical one reaches the email notifier, with Promgen's subject and body.
    // (Other labels, other fingerprints: a different alert, not a repeat.)
    let critical = SAMPLE.replace("\"major\"", "\"critical\"").replace("77219b", "c1c1c1");
    let (status, _) = post(&b, Some("Token admin_token"), &critical).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&b).await;
    let mails = smtp.received();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let subject = notification("email.subject.txt").trim().replace("major", "critical");
    assert!(mails[0].contains(&format!("Subject: {subject}")), "{}", mails[0]);
    assert!(mails[0].contains("To: email@example.com"), "{}", mails[0]);
    let body = notification("email.body.txt").replace("major", "critical");
    let mail_body =
        quoted_printable(&mails[0].split("\n\n").skip(1).collect::<Vec<_>>().join("\n\n").replace("\r\n", "\n"));
    assert_eq!(mail_body.trim_end(), body.trim_end(), "{}", mails[0]);

    // A project of another service routes nowhere, and says why.
    let mismatch =
        SAMPLE.replace("\"service\": \"test-service\"", "\"service\": \"other-service\"").replace("77219b", "d2d2d2");
    let (_, text) = post(&b, Some("Token admin_token"), &mismatch).await;
    assert_eq!(json(&text)["notifications"], 0);
    let detail = b.alerts.detail(&Actor::System, AlertId(json(&text)["alert"].as_i64().unwrap())).await.unwrap();
    assert!(
        detail.routing[0].contains("belongs to service test-service, not to service other-service: routed nowhere"),
        "{:?}",
        detail.routing
    );
});

on_both_databases!(a_subscription_reaches_the_users_own_notifiers_once, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    let mine = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    let b = delivering(&b, None, None);
    let admin = Actor::User(b.auth.user_by_name("admin").await.unwrap());
    let me = NotifierOwner::User { id: UserId(1), name: "admin".into() };
    b.notifiers
        .create(&admin, &me, NotifierInput { kind: "webhook".into(), value: mine.url.clone(), ..Default::default() })
        .await
        .unwrap();
    let project = NotifierOwner::Project { id: ProjectId(1), name: "test-project".into() };
    let service = NotifierOwner::Service { id: ServiceId(1), name: "test-service".into() };
    b.notifiers.subscribe(&admin, &project, true).await.unwrap();
    b.notifiers.subscribe(&admin, &service, true).await.unwrap();
    let listing = b.notifiers.listing(&admin, &project).await.unwrap();
    assert!(listing.subscribed);
    // The list names the subscriber (the notifier holds the user's id).
    let subscription = listing.notifiers.iter().find(|n| n.kind == app::model::NotifierKind::User).unwrap();
    assert_eq!((subscription.label(), subscription.value.as_str()), ("admin", "1"));
    // The name is not the alias: the edit form fills the alias with what is stored (saving
    // the form unchanged stored the user's name as the alias).
    assert_eq!((subscription.alias.as_str(), subscription.subscriber.as_deref()), ("", Some("admin")));
    assert_eq!(subscription.public_label(), "admin");
    let webhook = listing.notifiers.iter().find(|n| n.kind == app::model::NotifierKind::Webhook);
    assert!(webhook.is_none_or(|n| n.subscriber.is_none()), "only subscriptions have a subscriber");
    // Someone else's subscription list is theirs.
    let demo = Actor::User(b.auth.user_by_name("demo").await.unwrap());
    assert!(matches!(
        b.notifiers
            .create(&demo, &me, NotifierInput { kind: "webhook".into(), value: mine.url.clone(), ..Default::default() })
            .await,
        Err(app::error::AppError::Forbidden(_))
    ));

    let (_, text) = post(&b, Some("Token admin_token"), SAMPLE).await;
    drain(&b).await;
    assert_eq!(json(&text)["notifications"], 2, "Slack, and the user's webhook once for both subscriptions");
    assert_eq!(mine.received().len(), 1);
    // The alert page names a subscription by its user, not by the user's id.
    let id = AlertId(json(&text)["alert"].as_i64().unwrap());
    let detail = b.alerts.detail(&Actor::System, id).await.unwrap();
    assert!(
        detail
            .routing
            .iter()
            .any(|r| r.starts_with("subscription #") && r.contains(" of user admin: 1 notifier of theirs")),
        "{:?}",
        detail.routing
    );
});

on_both_databases!(a_repeated_delivery_notifies_nobody_twice, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    let b = delivering(&b, None, None);
    let (_, first) = post(&b, Some("Token admin_token"), SAMPLE).await;
    // Alertmanager's HA peer sends the same group in another order.
    let mut again = json(SAMPLE);
    again["alerts"].as_array_mut().unwrap().reverse();
    let (status, second) = post(&b, Some("Token admin_token"), &again.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(json(&second)["status"], "duplicate");
    assert_eq!(json(&second)["alert"], json(&first)["alert"]);
    drain(&b).await;
    assert_eq!((count(&b, "alert").await, slack.received().len()), (1, 1));

    // Resolving is news.
    let resolved = SAMPLE.replace("\"firing\"", "\"resolved\"");
    let (_, third) = post(&b, Some("Token admin_token"), &resolved).await;
    assert_eq!(json(&third)["status"], "accepted");
    drain(&b).await;
    assert_eq!(
        slack.received()[1],
        serde_json::json!({"text": "[resolved] test-alert test-project test-service major"})
    );
    let page = b.alerts.page(&Actor::System, &[]).await.unwrap();
    assert_eq!(page.alerts.len(), 1, "one group");
    assert_eq!(page.alerts[0].status, "resolved");
    // The firing message's page names the one that resolved it; the newest names none.
    let (firing, resolving) = (json(&first)["alert"].as_i64().unwrap(), json(&third)["alert"].as_i64().unwrap());
    // The duplicate between them used up no id.
    assert_eq!(resolving, firing + 1);
    let later = b.alerts.detail(&Actor::System, AlertId(firing)).await.unwrap().later.expect("a later message");
    assert_eq!((later.0, later.1.as_str()), (AlertId(resolving), "resolved"));
    let resolved = b.alerts.detail(&Actor::System, AlertId(resolving)).await.unwrap();
    assert_eq!(resolved.later, None);
    // And the resolving message's page names the firing one before it.
    let earlier = resolved.earlier.expect("an earlier message");
    assert_eq!((earlier.0, earlier.1.as_str()), (AlertId(firing), "firing"));
    assert_eq!(b.alerts.detail(&Actor::System, AlertId(firing)).await.unwrap().earlier, None);
    let history = b.alerts.history(&Actor::System, &[("instance".into(), "a.example".into())], 1).await.unwrap();
    assert_eq!(history.len(), 2, "every delivery of a.example is searchable");
    assert!(b.alerts.history(&Actor::System, &[("instance".into(), "c.example".into())], 1).await.unwrap().is_empty());

    // Firing again after resolving (a new startsAt), within the dedupe window, is news too:
    // three messages, not two. Its exact repeat is not.
    let mut refire = json(SAMPLE);
    for a in refire["alerts"].as_array_mut().unwrap() {
        a["startsAt"] = "2026-11-30T12:00:00Z".into();
    }
    let (_, fourth) = post(&b, Some("Token admin_token"), &refire.to_string()).await;
    assert_eq!(json(&fourth)["status"], "accepted");
    let (_, fifth) = post(&b, Some("Token admin_token"), &refire.to_string()).await;
    assert_eq!(json(&fifth)["status"], "duplicate");
    drain(&b).await;
    assert_eq!(slack.received().len(), 3);
});

// Any Alertmanager-compatible sender: Grafana's alerting posts `"version": "1"`.
on_both_databases!(grafanas_alerts_are_taken_by_their_shape, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    let mut grafana = json(SAMPLE);
    grafana["version"] = "1".into();
    grafana["orgId"] = 1.into();
    grafana["title"] = "[FIRING:2] test-alert".into();
    grafana["alerts"][0]["values"] = serde_json::json!({"B": 93.2});
    let (status, body) = post(&b, Some("Token admin_token"), &grafana.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
});

on_both_databases!(the_heartbeat_is_a_dead_mans_switch, |b: Backend| async move {
    let site_hook = Receiver::start(&[200]).await;
    let root = common::admin(&b).await;
    let (_, key) = b.auth.create_token(&root, "root", "").await.unwrap();
    let b = delivering(&b, None, None);
    b.notifiers
        .create(
            &root,
            &NotifierOwner::Site,
            NotifierInput { kind: "webhook".into(), value: site_hook.url.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    assert!(!b.alerts.check_heartbeat().await.unwrap(), "never seen: nothing to watch");
    let watchdog = r#"{"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"alertname": "Watchdog", "severity": "none"}}]}"#;
    let (status, text) = post(&b, Some(&format!("Token {key}")), watchdog).await;
    assert_eq!((status, json(&text)["status"].as_str()), (StatusCode::ACCEPTED, Some("heartbeat")));
    assert_eq!(count(&b, "alert").await, 0);
    assert!(!b.alerts.check_heartbeat().await.unwrap(), "fresh");
    let metrics = common::get(&router(&b), "/metrics").await.1;
    assert!(metrics.contains("promgen_heartbeat_last_seen_timestamp_seconds "), "{metrics}");

    // Silent for longer than the timeout: the site's notifiers hear it, once.
    sqlx::query("UPDATE heartbeat SET last_seen = '2020-01-01T00:00:00.000Z'").execute(&b.db.pool).await.unwrap();
    assert!(b.alerts.check_heartbeat().await.unwrap());
    assert!(!b.alerts.check_heartbeat().await.unwrap(), "told once");
    drain(&b).await;
    let got = site_hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0]["status"].as_str(), got[0]["commonLabels"]["alertname"].as_str()),
        (Some("firing"), Some("AlertPipelineDown"))
    );
    assert!(
        got[0]["commonAnnotations"]["summary"]
            .as_str()
            .unwrap()
            .contains("No Watchdog alert from Alertmanager since 2020-01-01")
    );

    // Back: resolved.
    post(&b, Some(&format!("Token {key}")), watchdog).await;
    assert!(b.alerts.check_heartbeat().await.unwrap());
    drain(&b).await;
    assert_eq!(site_hook.received()[1]["status"], "resolved");
});

on_both_databases!(ignore_rules_drop_alerts_as_promgens_blacklist, |b: Backend| async move {
    let root = common::admin(&b).await;
    let (_, key) = b.auth.create_token(&root, "root", "").await.unwrap();
    let mut settings = app::backend::Settings::default();
    settings.alerts.ignore = vec![("severity".into(), "blackhole".into())];
    let b = Backend::with_settings(b.db.clone(), &settings).unwrap();
    let (status, text) = post(&b, Some(&format!("Token {key}")), &fixture("heartbeat.json")).await;
    assert_eq!((status, json(&text)["status"].as_str()), (StatusCode::ACCEPTED, Some("ignored")));
    assert_eq!(count(&b, "alert").await, 0, "Promgen's blackhole test leaves no alert");
});

on_both_databases!(notifier_values_are_checked_and_private_addresses_refused, |b: Backend| async move {
    let root = common::admin(&b).await;
    let web = b
        .inventory
        .create_service(&root, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let owner = NotifierOwner::Service { id: web.id, name: "web".into() };
    let try_add = |kind: &'static str, value: &'static str| {
        let (b, root, owner) = (b.clone(), root.clone(), owner.clone());
        async move {
            b.notifiers
                .create(&root, &owner, NotifierInput { kind: kind.into(), value: value.into(), ..Default::default() })
                .await
        }
    };
    for (kind, value, says) in [
        ("webhook", "http://127.0.0.1:9093/hook", "loopback, private or reserved"),
        ("webhook", "http://169.254.169.254/latest/meta-data/", "loopback, private or reserved"),
        ("slack", "http://localhost/x", "this machine"),
        ("webhook", "ftp://example.com/", "http:// or https://"),
        ("email", "not an address", "not an email address"),
        ("pagerduty", "short", "32 letters and digits"),
        ("carrier-pigeon", "x", "not a kind of notifier"),
        ("user", "nobody", "no user"),
    ] {
        let e = try_add(kind, value).await.unwrap_err();
        assert!(e.to_string().contains(says), "{kind} {value}: {e}");
    }
    let bad_template = NotifierInput {
        kind: "email".into(),
        value: "ops@example.com".into(),
        body_template: "{% if %}".into(),
        ..Default::default()
    };
    assert_eq!(b.notifiers.create(&root, &owner, bad_template).await.unwrap_err().field(), Some("body_template"));
    assert_eq!(count(&b, "notifier").await, 0);
    let ok = try_add("webhook", "https://hooks.example.com/promgen").await.unwrap();
    assert_eq!(
        try_add("webhook", "https://hooks.example.com/promgen").await.unwrap().id,
        ok.id,
        "the same notifier twice is one"
    );
    let with_filter = b.notifiers.add_filter(&root, ok.id, "severity", "critical").await.unwrap();
    assert_eq!(with_filter.filters.len(), 1);
    // The same filter again is no change, and the audit log does not say there was one.
    let again = b.notifiers.add_filter(&root, ok.id, "severity", "critical").await.unwrap();
    assert_eq!(again.filters, with_filter.filters);
    assert_eq!(common::count_where(&b, "audit", "body LIKE 'Added filter%'").await, 1);
    assert!(b.notifiers.add_filter(&root, ok.id, "bad name", "x").await.is_err());
    let empty = b.notifiers.add_filter(&root, ok.id, "env", " ").await.unwrap_err();
    assert_eq!((empty.field(), empty.to_string().as_str()), (Some("value"), "Value: is required"));
    // A URL stored without the check (an import) is refused when sending, too.
    let receiver = Receiver::start(&[200]).await;
    sqlx::query("UPDATE notifier SET value = $1 WHERE id = $2")
        .bind(&receiver.url)
        .bind(ok.id.0)
        .execute(&b.db.pool)
        .await
        .unwrap();
    let e = b.notifiers.test(&root, ok.id, "http://promgen.example.com").await.unwrap_err();
    assert!(e.to_string().contains("loopback, private or reserved"), "{e}");
    // About the send, not a field: the page showed it as "Value: Sending … failed".
    assert!(e.to_string().starts_with("Sending a test message with webhook"), "{e}");
    assert!(receiver.received().is_empty());
    // Where the operator allows it, the test button sends Promgen's sample, about this service.
    let allowed = delivering(&b, None, None);
    let said = allowed.notifiers.test(&root, ok.id, "http://promgen.example.com").await.unwrap();
    assert!(said.starts_with("Sent a test message with webhook"), "{said}");
    assert_eq!(receiver.received()[0]["commonLabels"]["service"], "web");
});

on_both_databases!(a_notifiers_own_templates_shape_its_messages, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    let b = delivering(&b, None, None);
    let (id,): (i64,) =
        sqlx::query_as("SELECT id FROM notifier WHERE kind = 'slack'").fetch_one(&b.db.pool).await.unwrap();
    let id = NotifierId(id);

    // Only its owners change it; a template that does not parse changes nothing.
    let stranger = common::user(&b, "stranger").await;
    let firing = "{{ commonLabels.alertname }} fires on {{ commonLabels.service }} ({{ alerts|length }})";
    assert!(matches!(b.notifiers.update(&stranger, id, "", "", firing).await, Err(app::error::AppError::Forbidden(_))));
    let e = b.notifiers.update(&Actor::System, id, "", "", "{{ unclosed").await.unwrap_err();
    assert_eq!(e.field(), Some("body_template"));
    assert_eq!(b.notifiers.get(id).await.unwrap().body_template, "");

    let updated = b
        .notifiers
        .update(&Actor::System, id, "team chat", "{{ commonLabels.alertname }} is over", firing)
        .await
        .unwrap();
    assert_eq!((updated.alias.as_str(), updated.body_template.as_str()), ("team chat", firing));
    let (status, _) = post(&b, Some("Token admin_token"), SAMPLE).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let resolved = SAMPLE.replace("\"firing\"", "\"resolved\"");
    let (status, _) = post(&b, Some("Token admin_token"), &resolved).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    drain(&b).await;
    assert_eq!(
        slack.received(),
        [
            serde_json::json!({"text": "test-alert fires on test-service (2)"}),
            serde_json::json!({"text": "test-alert is over"}),
        ]
    );
});

on_both_databases!(concurrent_posts_are_all_stored_and_routed, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    // More posts at once than the pool has connections: writers queue for the write lock.
    let posts: Vec<_> = (0..40)
        .map(|i| {
            let b = b.clone();
            let body = SAMPLE.replace("77219b", &format!("{i:06x}"));
            tokio::spawn(async move { post(&b, Some("Token admin_token"), &body).await })
        })
        .collect();
    for p in posts {
        let (status, text) = p.await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    }
    assert_eq!(count(&b, "alert").await, 40);
    assert_eq!(count(&b, "outbox").await, 40);
});

on_both_databases!(a_delivery_repeated_at_once_is_stored_once, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    // Alertmanager's retries can arrive together and be written in one batch.
    let posts: Vec<_> = (0..12)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { post(&b, Some("Token admin_token"), SAMPLE).await })
        })
        .collect();
    let mut answers = Vec::new();
    for p in posts {
        let (status, text) = p.await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{text}");
        answers.push(json(&text));
    }
    let stored: Vec<_> = answers.iter().filter(|a| a["status"] == "accepted").collect();
    assert_eq!(stored.len(), 1, "{answers:?}");
    let id = &stored[0]["alert"];
    assert!(answers.iter().filter(|a| a["status"] == "duplicate").all(|a| &a["alert"] == id), "{answers:?}");
    assert_eq!(count(&b, "alert").await, 1);
    assert_eq!(count(&b, "outbox").await, 1);
});

/// Promgen's sample as a group of `n` alerts, each its own instance.
fn large_group(n: usize) -> serde_json::Value {
    let mut group = json(SAMPLE);
    let one = group["alerts"][0].clone();
    group["alerts"] = (0..n)
        .map(|i| {
            let mut a = one.clone();
            a["labels"]["instance"] = format!("host-{i:05}.example:9100").into();
            a["fingerprint"] = format!("{i:016x}").into();
            a
        })
        .collect();
    group
}

// Issue 12: a group of 5,000 alerts (and 20 more Alertmanager left out) reaches each receiver
// within its limit, saying what it leaves out; its page stays small and loads the payload on
// demand.
on_both_databases!(a_large_group_keeps_to_each_receivers_limit, |b: Backend| async move {
    // Any logged-in user reads the alerts here (roles are another test's subject).
    b.site.set_open_read(&Actor::System, true).await.unwrap();
    let slack = Receiver::start(&[200]).await;
    let pagerduty = Receiver::start(&[202]).await;
    let smtp = SmtpSink::start().await;
    fixtures(&b, &slack).await;
    for (kind, value) in [("pagerduty", "PagerDuty:integration_key_test"), ("email", "oncall@example.com")] {
        sqlx::query("INSERT INTO notifier (kind, value, project_id) VALUES ($1, $2, 1)")
            .bind(kind)
            .bind(value)
            .execute(&b.db.pool)
            .await
            .unwrap();
    }
    let b = delivering(&b, Some(&smtp), Some(&pagerduty));
    let mut group = large_group(5_000);
    group["truncatedAlerts"] = 20.into();
    group["commonAnnotations"]["summary"] = "s".repeat(3_000).into();
    let actor = b.auth.actor_from_header(Some("Token admin_token")).await.unwrap();
    let id = match b.alerts.ingest(&actor, group.to_string().as_bytes()).await.unwrap() {
        app::backend::alerts::Ingested::Stored { id, .. } => id,
        other => panic!("{other:?}"),
    };
    drain(&b).await;

    let text = slack.received()[0]["text"].as_str().unwrap().to_string();
    let listed = text.matches("Labels: ").count();
    assert!(text.chars().count() <= 40_000 && listed > 100, "{} characters, {listed} alerts", text.chars().count());
    let ending = format!("… and {} more alerts: http://promgen.example.com/alert/{id}", 5_020 - listed);
    assert!(text.ends_with(&ending), "{}", &text[text.len() - 300..]);
    let event = &pagerduty.received()[0];
    assert!(event.to_string().len() <= 512 * 1024);
    assert_eq!(event["payload"]["summary"].as_str().unwrap().chars().count(), 1024);
    let mails = smtp.received();
    assert_eq!(mails.len(), 1);
    let body = quoted_printable(&mails[0].split("\n\n").skip(1).collect::<Vec<_>>().join("\n\n").replace("\r\n", "\n"));
    assert!(
        body.len() <= 100_000 && body.contains(" more alerts: http://promgen.example.com/alert/"),
        "{}",
        body.len()
    );

    let detail = b.alerts.detail(&Actor::System, id).await.unwrap();
    assert_eq!((detail.alerts.len(), detail.truncated_alerts, detail.body.is_none()), (100, 20, true));
    assert!(detail.body_bytes > 1_000_000, "{}", detail.body_bytes);
    let app = router(&b);
    let cookie = login(&app, &b, "viewer", false).await;
    let (status, _, html) = page(&app, &format!("/alert/{id}"), &cookie).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.len() < 300_000, "the page is {} bytes", html.len());
    assert!(html.contains("… and 4920 more") && html.contains("left 20 more alerts"), "{html}");
    assert!(html.contains(&format!("href=\"/alert/{id}/payload\"")));
    let (status, headers, payload) = page(&app, &format!("/alert/{id}/payload"), &cookie).await;
    assert_eq!((status, headers[header::CONTENT_TYPE].to_str().unwrap()), (StatusCode::OK, "application/json"));
    assert_eq!(json(&payload)["alerts"].as_array().unwrap().len(), 5_000);
    assert_eq!(get(&app, &format!("/alert/{id}/payload")).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(page(&app, "/alert/999999/payload", &cookie).await.0, StatusCode::NOT_FOUND);
});

// Issue 13: what a sender typed cannot mention a channel or disguise a link in Slack.
on_both_databases!(slack_gets_values_escaped, |b: Backend| async move {
    let slack = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    let b = delivering(&b, None, None);
    let mut group = json(SAMPLE);
    group["alerts"][0]["labels"]["instance"] = "<!channel>".into();
    group["alerts"][0]["annotations"]["summary"] = "<https://evil.example|the runbook> & more".into();
    let (status, text) = post(&b, Some("Token admin_token"), &group.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    drain(&b).await;
    let sent = slack.received()[0]["text"].as_str().unwrap().to_string();
    assert!(sent.contains("Labels: &lt;!channel&gt; "), "{sent}");
    assert!(sent.contains("Summary: &lt;https://evil.example|the runbook&gt; &amp; more"), "{sent}");
    assert!(!sent.contains("<!channel>") && !sent.contains("<https://evil"), "{sent}");
});

// Issue 14: a group whose alerts name two projects of one service routes to the service only,
// says why the projects' notifiers were not told, and (the service's email filter skipping it)
// is flagged and counted as reaching nobody.
on_both_databases!(an_alert_that_reached_nobody_says_why_and_is_counted, |b: Backend| async move {
    // Any logged-in user reads the alerts here (roles are another test's subject).
    b.site.set_open_read(&Actor::System, true).await.unwrap();
    let slack = Receiver::start(&[200]).await;
    fixtures(&b, &slack).await;
    sqlx::query(
        "INSERT INTO project (name, service_id, shard_id) SELECT 'other-project', service_id, shard_id \
         FROM project WHERE name = 'test-project'",
    )
    .execute(&b.db.pool)
    .await
    .unwrap();
    let mut group = json(SAMPLE);
    group["commonLabels"].as_object_mut().unwrap().remove("project");
    group["groupLabels"].as_object_mut().unwrap().remove("project");
    group["alerts"][1]["labels"]["project"] = "other-project".into();
    let (status, text) = post(&b, Some("Token admin_token"), &group.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{text}");
    assert_eq!(json(&text)["notifications"], 0);
    let id = AlertId(json(&text)["alert"].as_i64().unwrap());
    let detail = b.alerts.detail(&Actor::System, id).await.unwrap();
    let why = detail
        .routing
        .iter()
        .find(|r| r.contains("do not all share"))
        .unwrap_or_else(|| panic!("{:?}", detail.routing));
    assert!(why.starts_with("the group's alerts name 2 projects they do not all share"), "{why}");
    let (other,): (i64,) =
        sqlx::query_as("SELECT id FROM project WHERE name = 'other-project'").fetch_one(&b.db.pool).await.unwrap();
    assert!(why.contains(&format!("project other-project (#{other}): 0 enabled notifiers not told")), "{why}");
    assert!(why.contains("project test-project (#1): 1 enabled notifier not told"), "{why}");
    assert_eq!(detail.alert.notified, 0);

    // Told nobody: flagged in the list and on its page, and counted.
    let app = router(&b);
    let cookie = login(&app, &b, "viewer", false).await;
    let (_, _, html) = page(&app, "/alert", &cookie).await;
    assert!(html.contains("nobody told"), "{html}");
    let (_, _, html) = page(&app, &format!("/alert/{id}"), &cookie).await;
    assert!(html.contains("No notifier was told of this alert"), "{html}");
    let (_, metrics) = get(&app, "/metrics").await;
    assert!(metrics.contains("promgen_alerts_unrouted_total 1\n"), "{metrics}");
    // One that was routed is not flagged.
    let (_, text) = post(&b, Some("Token admin_token"), &SAMPLE.replace("77219b", "e3e3e3")).await;
    assert_eq!(json(&text)["notifications"], 1, "{text}");
    let page_now = b.alerts.page(&Actor::System, &[]).await.unwrap();
    assert!(page_now.alerts.iter().any(|a| a.notified == 1));
    let (_, metrics) = get(&app, "/metrics").await;
    assert!(metrics.contains("promgen_alerts_unrouted_total 1\n"), "{metrics}");
});

// A large payload is parsed in the CPU pool, at most one per core at once (each parse holds
// several times its body; on unbounded blocking threads, 54 at once took 3 GB): with the pool
// taken, a large webhook waits its budget and is refused 503 (Alertmanager sends it again); a
// small one is parsed at once.
on_both_databases!(large_payloads_are_parsed_in_the_cpu_pool, |b: Backend| async move {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut held = Vec::new();
    for _ in 0..cores {
        held.push(b.cpu.hold("a test").await.unwrap());
    }
    let mut large = json(SAMPLE);
    large["padding"] = "x".repeat(100_000).into();
    let err = b.alerts.ingest(&Actor::System, large.to_string().as_bytes()).await.unwrap_err();
    assert_eq!(err.status(), 503, "{err}");
    assert!(err.to_string().contains("parsing the webhook"), "{err}");
    assert!(b.alerts.ingest(&Actor::System, SAMPLE.as_bytes()).await.is_ok(), "a small one is not queued");
    drop(held);
    assert!(b.alerts.ingest(&Actor::System, large.to_string().as_bytes()).await.is_ok());
});
