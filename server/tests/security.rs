//! What an attacker with an ordinary account (or none) may try: stored text that would become
//! markup, pages without their security headers, requests that would stop the server or hold
//! its workers, login floods, other people's secrets, credentials that outlive a reset,
//! redirects off the site, cross-site origins and ids probed anonymously.

mod common;
use app::backend::{Actor, Backend};
use app::model::*;
use axum::http::{StatusCode, header};
use common::{form, page, router, send};
use leptos::server_fn::ServerFn;
use std::time::{Duration, Instant};

/// Closes a textarea, a script and an attribute, and starts markup and script of its own.
const HOSTILE: &str = "</textarea><img src=x onerror=alert(1)></script><script>alert(2)</script>\"'&amp;";

/// What must never appear in a page: the hostile text as markup.
fn assert_inert(path: &str, html: &str) {
    // (Inside the serialized resources' script, `>` stays as it is: `<` is `\u003c` there.)
    for markup in ["<img src=x", "<script>alert", "</textarea><img"] {
        if let Some(at) = html.find(markup) {
            panic!(
                "{path}: {markup:?} reached the page as markup: …{}…",
                &html[at.saturating_sub(300)..(at + 100).min(html.len())]
            );
        }
    }
}

/// Everything a user can store that a page shows, with hostile text in every field that takes
/// text. Returns (service, project, rule, alert) ids.
async fn hostile_objects(b: &Backend, admin: &Actor) -> (ServiceId, ProjectId, RuleId, AlertId) {
    let shard = b.inventory.create_shard(admin, ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let s = b
        .inventory
        .create_service(admin, ServiceInput { name: "web".into(), description: HOSTILE.into() })
        .await
        .unwrap();
    let p = b
        .inventory
        .create_project(
            admin,
            s.id,
            ProjectInput { name: "frontend".into(), description: HOSTILE.into(), shard_id: shard.id },
        )
        .await
        .unwrap();
    b.inventory
        .create_farm(admin, p.id, FarmInput { name: "farm".into(), hosts: "a.example.com".into() })
        .await
        .unwrap();
    let probe = b.inventory.create_probe(admin, "http_2xx", HOSTILE).await.unwrap();
    b.inventory
        .create_url(
            admin,
            p.id,
            UrlInput { url: "http://a.example.com/<img src=x onerror=alert(1)>".into(), probe_id: probe.id },
        )
        .await
        .unwrap();
    let notifier = |kind: &str, value: &str| NotifierInput {
        kind: kind.into(),
        value: value.into(),
        alias: HOSTILE.chars().take(100).collect(),
        subject_template: HOSTILE.into(),
        body_template: HOSTILE.into(),
        ..Default::default()
    };
    let service_owner = b.notifiers.owner("service", s.id.0).await.unwrap();
    b.notifiers.create(admin, &service_owner, notifier("webhook", "https://hooks.example.com/x")).await.unwrap();
    let me = admin.user_id().unwrap();
    let mine = b.notifiers.owner("user", me.0).await.unwrap();
    b.notifiers.create(admin, &mine, notifier("email", "ops@example.com")).await.unwrap();
    b.notifiers
        .create(admin, &NotifierOwner::Site, notifier("slack", "https://hooks.slack.com/services/x"))
        .await
        .unwrap();
    let owner = b.rules.owner(OwnerKind::Service, s.id.0).await.unwrap();
    let escaped = HOSTILE.replace('\\', "\\\\").replace('"', "\\\"");
    let rule = b
        .rules
        .create(
            admin,
            &owner,
            RuleInput {
                kind: RuleKind::Alert,
                name: "Hostile".into(),
                expr: format!("up{{job=\"{escaped}\",<exclude>}} == 0"),
                duration: "5m".into(),
                enabled: true,
                description: HOSTILE.into(),
                labels: [("team".to_string(), HOSTILE.to_string())].into(),
                annotations: [("summary".to_string(), HOSTILE.to_string())].into(),
            },
        )
        .await
        .unwrap();
    let labels = serde_json::json!({"alertname": "Hostile", "service": "web", "instance": HOSTILE});
    let body = serde_json::json!({
        "version": "4", "status": "firing", "receiver": "promgen", "groupKey": HOSTILE,
        "groupLabels": {"alertname": "Hostile"}, "commonLabels": labels,
        "commonAnnotations": {"summary": HOSTILE}, "externalURL": "http://am",
        "alerts": [{"status": "firing", "labels": labels, "annotations": {"summary": HOSTILE},
                    "startsAt": "2026-11-30T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "javascript:alert(3)", "fingerprint": "f"}]
    });
    let alert = match b.alerts.ingest(admin, body.to_string().as_bytes()).await.unwrap() {
        app::backend::alerts::Ingested::Stored { id, .. } => id,
        other => panic!("{other:?}"),
    };
    (s.id, p.id, rule.id, alert)
}

on_both_databases!(stored_text_never_becomes_markup, |b: Backend| async move {
    let app = router(&b);
    let cookie = common::login(&app, &b, "ops", true).await;
    let admin = Actor::User(b.auth.user_by_name("ops").await.unwrap());
    let (s, p, r, a) = hostile_objects(&b, &admin).await;
    let q = common::query(HOSTILE);
    let pages = [
        "/".to_string(),
        format!("/service/{s}"),
        format!("/project/{p}"),
        format!("/rule/{r}"),
        format!("/rule/{r}/edit"),
        format!("/rule/{r}/override?owner=project&id={p}"),
        format!("/rule/new?owner=service&id={s}"),
        "/site".into(),
        "/profile".into(),
        format!("/alert/{a}"),
        "/alert".into(),
        "/alert/history".into(),
        "/audit".into(),
        "/shard".into(),
        "/import".into(),
        "/host/a.example.com".into(),
        format!("/search?q={q}"),
        format!("/alert?labels={q}"),
        format!("/login?next={q}"),
    ];
    let mut textareas = 0;
    for path in &pages {
        // (The login page as a visitor sees it: a logged-in user is sent on.)
        let who = if path.starts_with("/login") { "" } else { cookie.as_str() };
        let (status, _, html) = page(&app, path, who).await;
        // (The hostile label filter is refused: 400, with the page.)
        assert!(
            status == StatusCode::OK || path.starts_with("/alert?") && status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
        assert_inert(path, &html);
        textareas += html.matches("&lt;/textarea&gt;&lt;img src=x onerror=alert(1)&gt;").count();
    }
    // The templates (site, service, profile), the rule's expression and description (edit,
    // new override) reach their textareas escaped, whole.
    assert!(textareas >= 6, "the hostile text reached {textareas} textareas");
});

on_both_databases!(admin_pages_are_offered_to_site_admins_only, |b: Backend| async move {
    let app = router(&b);
    let admin = common::login(&app, &b, "ops", true).await;
    let dev = common::login(&app, &b, "dev", false).await;
    let (_, _, html) = page(&app, "/", &admin).await;
    assert!(html.contains(r#"href="/import""#) && html.contains(r#"href="/user""#), "{html}");
    // Anyone else's menu does not lead to a refusal; the page itself still refuses.
    let (_, _, html) = page(&app, "/", &dev).await;
    assert!(!html.contains(r#"href="/import""#) && !html.contains(r#"href="/user""#), "{html}");
    assert!(html.contains(r#"href="/audit""#) && html.contains(r#"href="/site""#), "{html}");
    let (status, _, html) = page(&app, "/import", &dev).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("only a site admin can") && !html.contains("name=\"targets\""), "{html}");
    // The site-wide pages show everyone what is there, and their forms to site admins only.
    for (path, form) in [("/shard", "Add a shard"), ("/probe", "Add a probe"), ("/site", "Site address")] {
        let (status, _, html) = page(&app, path, &admin).await;
        assert!(status == StatusCode::OK && html.contains(form), "{path}: {html}");
        let (status, _, html) = page(&app, path, &dev).await;
        assert!(status == StatusCode::OK && !html.contains(form), "{path}: {html}");
    }
});

on_both_databases!(a_logged_in_user_goes_past_the_login_page, |b: Backend| async move {
    let app = router(&b);
    let dev = common::login(&app, &b, "dev", false).await;
    // Sent on to where the login would have sent them, never to another site.
    for (next, to) in [("%2Fsearch%3Fq%3Da%2526b", "/search?q=a%26b"), ("%2F%2Fevil.example", "/"), ("", "/")] {
        let (status, headers, _) = page(&app, &format!("/login?next={next}"), &dev).await;
        assert_eq!(status, StatusCode::FOUND, "{next}");
        assert_eq!(headers[header::LOCATION], to, "{next}");
    }
    // A visitor gets the form.
    let (status, _, html) = page(&app, "/login?next=%2Fsearch", "").await;
    assert!(status == StatusCode::OK && html.contains(r#"name="password""#), "{html}");
});

on_both_databases!(a_visitor_is_sent_to_log_in_whatever_it_accepts, |b: Backend| async move {
    let app = router(&b);
    // A browser (Accept: text/html) and a script (no Accept) both get a real redirect that
    // brings them back.
    for accept in [Some("text/html"), None] {
        let mut req = axum::http::Request::get("/project/1?tab=a%20b");
        if let Some(a) = accept {
            req = req.header(header::ACCEPT, a);
        }
        let (status, headers, _) = send(&app, req.body(axum::body::Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::FOUND, "{accept:?}");
        assert_eq!(headers[header::LOCATION], "/login?next=%2Fproject%2F1%3Ftab%3Da%2520b", "{accept:?}");
    }
});

on_both_databases!(query_values_are_decoded_once, |b: Backend| async move {
    let app = router(&b);
    // `/search?q=a%26b` sent to log in: after the login it must be that page again, not a
    // search for "a" (leptos_router's query map decoded every value twice).
    let (_, _, html) = page(&app, "/login?next=%2Fsearch%3Fq%3Da%2526b%252B1", "").await;
    assert!(html.contains(r#"name="next" value="/search?q=a%26b%2B1""#), "{html}");
    // A missing object is a 404 on every page, the shard's too.
    let admin = common::login(&app, &b, "ops", true).await;
    let (_, _, html) = page(&app, "/shard", &admin).await;
    assert!(html.contains("<title>Shards · Promgen</title>"), "{html}");
    // A title that holds what was typed cannot close the element (leptos_meta writes it raw).
    let (_, _, html) = page(&app, "/search?q=%3C%2Ftitle%3E%3Cb%3Ex", &admin).await;
    assert!(html.contains("<title>Search: &lt;/title&gt;&lt;b&gt;x · Promgen</title>"), "{html}");
    assert_eq!(html.matches("</title>").count(), 1, "{html}");
    // Promgen's page addresses end in a slash: sent to the page (it drew the page as a 404);
    // never to another host.
    let (status, headers, _) = page(&app, "/project/999/?tab=a", &admin).await;
    assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    assert_eq!(headers[header::LOCATION], "/project/999?tab=a");
    for path in ["//evil.example/", "/\\evil.example/"] {
        let (status, headers, _) = page(&app, path, &admin).await;
        assert_ne!(status, StatusCode::PERMANENT_REDIRECT, "{path}: {headers:?}");
    }
    // The plural people guess for a list page is sent to Promgen's singular.
    for (plural, page_path) in [("/alerts?service=web", "/alert?service=web"), ("/silences/", "/silence")] {
        let (status, headers, _) = page(&app, plural, &admin).await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT, "{plural}");
        assert_eq!(headers[header::LOCATION], page_path);
    }
    // A REST path that is none is a JSON 404, as Django REST framework answers.
    let (status, headers, body) = page(&app, "/rest/v2/nope", &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{body}");
    assert_eq!(common::json(&body)["detail"], "Not found.");
    // ... and so is an id in its path that is not a number (axum's plain-text 400).
    let (status, headers, body) = page(&app, "/rest/v2/projects/abc", &admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json", "{body}");
    assert_eq!(common::json(&body)["detail"], "Not found.");
    // ... under a heading that says so (the error alone read like a fragment of a page).
    for path in [
        "/shard/999",
        "/project/999",
        "/service/999",
        "/rule/999",
        "/group/999",
        "/alert/999",
        "/no-such-page",
        // A new rule for a project without a number for it (it opened the editor of project 1).
        "/rule/new?owner=project",
        "/rule/new?owner=project&id=abc",
    ] {
        let (status, _, html) = page(&app, path, &admin).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(html.contains("<h1>Not found"), "{path}: {html}");
        // ... and a title a tab or the history can tell from another page's.
        assert!(html.contains("<title>Not found · Promgen</title>"), "{path}: {html}");
    }
});

on_both_databases!(every_page_has_a_content_security_policy, |b: Backend| async move {
    let app = router(&b);
    let cookie = common::login(&app, &b, "ops", true).await;
    for path in ["/login", "/", "/alert", "/no-such-page"] {
        let (_, headers, html) = page(&app, path, &cookie).await;
        let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        let nonce = csp.split("'nonce-").nth(1).and_then(|n| n.split('\'').next()).expect("a nonce");
        assert!(nonce.len() >= 16, "{csp}");
        for directive in [
            "script-src 'self' 'nonce-",
            "'wasm-unsafe-eval'",
            "frame-ancestors 'none'",
            "object-src 'none'",
            "base-uri 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        // Every inline script carries the nonce; none runs without it.
        for script in html.split("<script").skip(1) {
            let tag = &script[..script.find('>').unwrap_or(script.len())];
            assert!(tag.contains(&format!(" nonce=\"{nonce}\"")), "{path}: <script{tag}>");
        }
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "same-origin");
    }
    let (_, headers, _) =
        send(&app, axum::http::Request::get("/api/v1/targets").body(Default::default()).unwrap()).await;
    assert_eq!(headers[header::CONTENT_SECURITY_POLICY], "default-src 'none'; frame-ancestors 'none'");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    // Violations are reported, counted and logged.
    let report = r#"{"csp-report": {"document-uri": "http://127.0.0.1:3000/", "violated-directive": "script-src", "blocked-uri": "inline"}}"#;
    let req = axum::http::Request::post("/csp-report")
        .header(header::CONTENT_TYPE, "application/csp-report")
        .body(report.to_string().into())
        .unwrap();
    assert_eq!(send(&app, req).await.0, StatusCode::NO_CONTENT);
    let (_, metrics) = common::get(&app, "/metrics").await;
    assert!(metrics.contains("promgen_csp_violations_total 1\n"), "{metrics}");
});

// A million-term chain, deep nesting, a YAML bomb of brackets and a template of nested loops
// are refused with a message, quickly, and the server goes on.
on_both_databases!(hostile_shapes_are_refused_not_crashing, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    let rule = |expr: String| RuleInput {
        kind: RuleKind::Alert,
        name: "Chain".into(),
        expr,
        duration: String::new(),
        enabled: true,
        description: String::new(),
        labels: Default::default(),
        annotations: Default::default(),
    };
    let chain = vec!["1"; 1_000_000].join("+");
    let err = b.rules.create(&admin, &site, rule(format!("up > {chain}"))).await.unwrap_err();
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("at most 32000 characters"), "{err}");
    // Within the size limit, a long chain and deep nesting are checked, not crashed on.
    let ok = b.rules.create(&admin, &site, rule(format!("up > {}", vec!["1"; 5_000].join("+")))).await;
    assert!(ok.is_ok(), "{ok:?}");
    let deep = format!("up > {}1{}", "(".repeat(10_000), ")".repeat(10_000));
    let nested = b.rules.create(&admin, &site, RuleInput { name: "Deep".into(), ..rule(deep) }).await;
    assert!(nested.is_ok(), "{nested:?}");
    let err = b.rules.test(&admin, None, &site, RuleKind::Alert, &format!("up > {}1", "(".repeat(10_000))).await;
    assert!(err.unwrap_err().to_string().contains("unclosed left parenthesis"));

    let started = Instant::now();
    // An alias bomb, and brackets hidden behind a quote inside a plain scalar.
    let aliases = format!("a: &a [{}]\nb: [{}]\n", vec!["x"; 3000].join(","), vec!["*a"; 3000].join(","));
    let err = b.rules.import_file(&admin, &aliases, Some(&site)).await.unwrap_err();
    assert!(err.to_string().contains("anchors and aliases are not accepted"), "{err}");
    let hidden = format!("a: [x'y, {}{}]\n", "[".repeat(60_000), "]".repeat(60_000));
    let err = b.rules.import_file(&admin, &hidden, Some(&site)).await.unwrap_err();
    assert!(err.to_string().contains("nests more than 64 levels"), "{err}");
    let bomb = "[".repeat(200_000);
    let err = b.rules.import_file(&admin, &bomb, Some(&site)).await.unwrap_err();
    assert!(err.to_string().contains("nests more than 64 levels"), "{err}");
    let import = format!("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up > {chain}\n");
    let err = b.rules.import_file(&admin, &import, Some(&site)).await.unwrap_err();
    assert!(err.to_string().contains("at most 32000 characters"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    let loops = "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}";
    let input = NotifierInput {
        kind: "webhook".into(),
        value: "https://hooks.example.com/x".into(),
        body_template: loops.into(),
        ..Default::default()
    };
    let err = b.notifiers.create(&admin, &NotifierOwner::Site, input).await.unwrap_err();
    assert_eq!(err.field(), Some("body_template"), "{err}");
});

// A template is a program a user wrote: one that allocates without end, or nests deeper than
// any stack, dies in its sandbox (`promgen sandbox-render`), and the server says so.
on_both_databases!(templates_run_in_a_sandbox, |b: Backend| async move {
    let settings = app::backend::Settings { sandbox: Some(env!("CARGO_BIN_EXE_promgen").into()), ..Default::default() };
    let b = Backend::with_settings(b.db.clone(), &settings).unwrap();
    let admin = common::admin(&b).await;
    let notifier = |template: String| NotifierInput {
        kind: "webhook".into(),
        value: "https://hooks.example.com/x".into(),
        subject_template: template,
        ..Default::default()
    };
    let doubling = "{% set a = 'x' * 100000000 %}".to_string() + &"{% set a = a ~ a %}".repeat(6) + "{{ a|length }}";
    let deep = format!("{{{{ x{} }}}}", "[0]".repeat(4_000));
    let unary = format!("{{{{ {}1 }}}}", "-".repeat(12_000));
    for (template, says) in
        [(doubling, "was stopped"), (deep, "fails"), ("{{ commonLabels.service ".to_string(), "fails")]
    {
        let started = Instant::now();
        let err = b.notifiers.create(&admin, &NotifierOwner::Site, notifier(template)).await.unwrap_err();
        assert_eq!(err.field(), Some("subject_template"), "{err}");
        assert!(err.to_string().contains(says), "{err}");
        assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    }
    let created = b.notifiers.create(&admin, &NotifierOwner::Site, notifier(unary)).await;
    assert!(created.is_ok(), "{created:?}");
    let fine = notifier("[{{ status }}] {{ commonLabels.service }}".into());
    assert!(b.notifiers.create(&admin, &NotifierOwner::Site, fine).await.is_ok());
});

/// While requests that cost CPU run (a hundred thousand hosts, bracket bombs, templates of
/// nested loops), the webhook keeps answering: that work runs on the CPU pool, not on the
/// workers that serve, and each heavy request ends with an answer (done or refused), never a
/// fault. How fast the webhook answers meanwhile is a figure of `cargo bench --bench alerts`
/// (about 10 ms in release), not an assertion here: a timed assertion fails on a busy machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_webhook_answers_while_heavy_requests_run() {
    let db = common::TestDb::sqlite().await;
    let b = db.backend.clone();
    let admin = common::admin(&b).await;
    let (key_info, key) = b.auth.create_token(&Actor::System, "root", "alertmanager").await.unwrap();
    drop(key_info);
    let shard = b.inventory.create_shard(&admin, ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let s = b
        .inventory
        .create_service(&admin, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let p = b
        .inventory
        .create_project(
            &admin,
            s.id,
            ProjectInput { name: "frontend".into(), description: String::new(), shard_id: shard.id },
        )
        .await
        .unwrap();
    let served = common::Served::start(&b.db.url, &["--max-hosts-per-farm", "200000", "--cpu-budget", "60s"]).await;
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let base = served.base.clone();
    let call = |path: &'static str, body: String| {
        let (client, base) = (client.clone(), base.clone());
        async move {
            let status = client
                .post(format!("{base}{path}"))
                .header("Accept", "application/json")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .map(|r| r.status());
            (path, status)
        }
    };
    let login = call(app::api::auth::Login::PATH, "username=root&password=password-of-test".into()).await.1.unwrap();
    assert!(login.is_success(), "{login}");

    let hosts: String = (0..100_000).map(|i| format!("host-{i}.example.com\n")).collect();
    let hosts = format!("project_id={}&name=farm&hosts={}", p.id, common::query(&hosts));
    let bomb = format!(
        "owner_kind=site&rules={}",
        common::query(&format!("{}1{}", "{a: ".repeat(63), "}".repeat(63)).repeat(3000))
    );
    let loops = "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}";
    let template = format!(
        "owner_kind=site&owner_id=0&kind=webhook&value=https%3A%2F%2Fhooks.example.com%2Fx&alias=&subject_template=&body_template={}",
        common::query(loops)
    );
    let mut heavy = tokio::task::JoinSet::new();
    for _ in 0..2 {
        heavy.spawn(call(app::api::inventory::CreateFarm::PATH, hosts.clone()));
        heavy.spawn(call(app::api::rules::ImportRules::PATH, bomb.clone()));
        heavy.spawn(call(app::api::alerts::CreateNotifier::PATH, template.clone()));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sample = common::fixture("alertmanager.json");
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let started = Instant::now();
        let res = client
            .post(format!("{base}/api/v1/alerts"))
            .header("Authorization", format!("Token {key}"))
            .body(sample.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202);
        slowest = slowest.max(started.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("the slowest webhook answer while heavy requests ran: {slowest:?}");
    while let Some(done) = heavy.join_next().await {
        let (what, status) = done.unwrap();
        let status = status.unwrap();
        assert!(status.is_success() || status.is_client_error(), "{what} answered {status}");
    }
}

/// 400 logins at once, with a password each: refused after the address's and accounts'
/// limits (429 with Retry-After), hashed a few at a time, and the server's memory stays flat.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_is_limited_and_memory_stays_flat() {
    let db = common::TestDb::sqlite().await;
    // Generous limits per address, so that the hashes themselves are flooded too.
    let generous = ["--login-limit-address", "1000", "--max-client-connections", "1000"];
    let served = common::Served::start(&db.backend.db.url, &generous).await;
    let rss = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() / 1024
    };
    let client = reqwest::Client::new();
    let attempt = |name: String| {
        let (client, base) = (client.clone(), served.base.clone());
        async move {
            client
                .post(format!("{base}{}", app::api::auth::Login::PATH))
                .header("Accept", "application/json")
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(format!("username={name}&password=not-the-password"))
                .send()
                .await
                .unwrap()
        }
    };
    // Warm up (the first hash allocates the pool's memory), then measure.
    for i in 0..4 {
        attempt(format!("warm{i}")).await;
    }
    let before = rss(served.pid());
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..400 {
        flood.spawn(attempt(format!("user{}", i % 50)));
    }
    let mut statuses = std::collections::BTreeMap::new();
    let mut peak = before;
    while let Some(res) = flood.join_next().await {
        let res = res.unwrap();
        if matches!(res.status(), StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE) {
            let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=61).contains(&retry), "{retry}");
        }
        *statuses.entry(res.status().as_u16()).or_insert(0) += 1;
        peak = peak.max(rss(served.pid()));
    }
    // Five attempts per account are taken (checked, or refused as too many at once when the
    // hashes queue too long); the other 150 are refused before any hash.
    assert_eq!(statuses.get(&429), Some(&150), "{statuses:?}");
    assert_eq!(statuses.get(&401).unwrap_or(&0) + statuses.get(&503).unwrap_or(&0), 250, "{statuses:?}");
    let after = rss(served.pid());
    eprintln!("login flood: RSS {before} MiB before, {peak} MiB at peak, {after} MiB after; {statuses:?}");
    assert!(peak < before + 200, "memory grew from {before} MiB to {peak} MiB under the flood");
    // What the allocator keeps after a flood is reused by the next ones, not added to: floods
    // of other accounts leave the process about where the first did. A busy machine's second
    // flood may still fill an allocator arena or two that the first did not (+28 MiB once, +3
    // to +13 alone); a third adds next to nothing. A leak adds the first flood's 120 MiB each
    // time.
    let mut after_each = vec![after];
    for round in ["other", "third"] {
        let mut next = tokio::task::JoinSet::new();
        for i in 0..400 {
            next.spawn(attempt(format!("{round}{}", i % 50)));
        }
        while let Some(res) = next.join_next().await {
            res.unwrap();
        }
        after_each.push(rss(served.pid()));
    }
    eprintln!("after each flood: {after_each:?} MiB");
    let (again, third) = (after_each[1], after_each[2]);
    assert!(again < after + 40, "memory went on growing: {after} MiB after one flood, {again} MiB after two");
    assert!(third < again + 25, "memory went on growing: {again} MiB after two floods, {third} MiB after three");
    // A hundred attempts from one address (the default limit: 30 a minute) are cut short.
    let quiet = common::Served::start(&db.backend.db.url, &[]).await;
    let mut limited = 0;
    let started = std::time::Instant::now();
    for i in 0..40 {
        let res = client
            .post(format!("{}{}", quiet.base, app::api::auth::Login::PATH))
            .header("Accept", "application/json")
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("username=u{i}&password=x"))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
            assert!(res.text().await.unwrap().contains("too many login attempts from this address"));
        }
    }
    // 30 at once, then one more every 2 s (governor's per-minute quota): a slow machine's 40
    // attempts may have earned one or two back.
    let refilled = (started.elapsed().as_secs_f64() / 2.0).floor() as i32;
    assert!((10 - refilled..=10).contains(&limited), "{limited} limited in {:?}", started.elapsed());
}

/// Slowloris: connections that never finish a request's head, or send nothing, are closed
/// after `--client-timeout`, one that finishes in time is answered, and the server goes on
/// answering others while a hundred are held open; a body declared and not sent is a 408.
#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = common::TestDb::sqlite().await;
    let served = common::Served::start(&db.backend.db.url, &["--client-timeout", "1s"]).await;
    let addr = served.base.trim_start_matches("http://").to_string();
    // Read until the server closes (or a generous bound passes: then it held the connection).
    async fn until_closed(mut conn: tokio::net::TcpStream) -> Result<Vec<u8>, String> {
        let mut got = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut got)).await;
        match read {
            Err(_) => Err(format!("still open after 20 s, {} bytes read", got.len())),
            // A reset is a close too.
            Ok(_) => Ok(got),
        }
    }
    let mut held = Vec::new();
    for i in 0..100 {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        if i % 2 == 0 {
            conn.write_all(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.unwrap();
        }
        held.push(conn);
    }
    // Held open, they do not keep others out.
    let client = reqwest::Client::new();
    let res = client.get(format!("{}/login", served.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut closing = tokio::task::JoinSet::new();
    for conn in held {
        closing.spawn(until_closed(conn));
    }
    while let Some(closed) = closing.join_next().await {
        let got = closed.unwrap().unwrap();
        // Closed without an answer (there was no request to answer).
        assert!(got.is_empty(), "answered {:?}", String::from_utf8_lossy(&got));
    }
    // A head sent in two parts within the time is answered.
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    conn.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    conn.write_all(b"Connection: close\r\n\r\n").await.unwrap();
    let got = until_closed(conn).await.unwrap();
    assert!(got.starts_with(b"HTTP/1.1 200"), "{:?}", String::from_utf8_lossy(&got));
    // A body that stops coming: 408, and the connection closes.
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nusername=";
    conn.write_all(head.as_bytes()).await.unwrap();
    let got = String::from_utf8_lossy(&until_closed(conn).await.unwrap()).into_owned();
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains("--client-timeout"), "{got}");
    assert!(got.contains("stalled"), "{got}");
    // A head over 64 KB (and what one read adds) is refused (431): hyper buffered 400 KB of
    // each unfinished head.
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!("GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {}\r\n\r\n", "x".repeat(200 << 10));
    let _ = conn.write_all(head.as_bytes()).await;
    let got = String::from_utf8_lossy(&until_closed(conn).await.unwrap()).into_owned();
    assert!(got.starts_with("HTTP/1.1 431"), "{got}");
    // A malformed chunk is the client's mistake (400), not a fault of ours (it was a 500).
    for path in ["/api/login", "/csp-report"] {
        let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        let got = String::from_utf8_lossy(&until_closed(conn).await.unwrap()).into_owned();
        assert!(got.starts_with("HTTP/1.1 400"), "{path}: {got}");
    }
    // A method of a client's own is counted as `other`: each new word was new series in
    // /metrics, kept for ever.
    let made_up = reqwest::Method::from_bytes(b"NOSUCHMETHODXYZ").unwrap();
    client.request(made_up, format!("{}/login", served.base)).send().await.unwrap();
    let metrics = client.get(format!("{}/metrics", served.base)).send().await.unwrap().text().await.unwrap();
    assert!(!metrics.contains("NOSUCHMETHODXYZ"));
    assert!(metrics.contains("method=\"other\""), "{metrics}");
}

/// One client cannot take every connection: past `--max-client-connections` its next is
/// answered 429 and closed, while another address is served; a place given back is taken
/// again.
#[tokio::test]
async fn one_client_holds_its_share_of_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = common::TestDb::sqlite().await;
    let served = common::Served::start(&db.backend.db.url, &["--max-client-connections", "5"]).await;
    let addr: std::net::SocketAddr = served.base.trim_start_matches("http://").parse().unwrap();
    async fn get_from(from: &str, to: std::net::SocketAddr) -> String {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
        let mut conn = socket.connect(to).await.unwrap();
        // An answer written before the request is read is fine: the client reads it either way.
        let _ = conn.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await;
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), conn.read_to_end(&mut got)).await;
        String::from_utf8_lossy(&got).into_owned()
    }
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    // The server counts a connection once it accepts it: wait until the sixth is turned away.
    let mut turned = String::new();
    for _ in 0..50 {
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.read_to_end(&mut got)).await;
        turned = String::from_utf8_lossy(&got).into_owned();
        if turned.starts_with("HTTP/1.1 429") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(turned.starts_with("HTTP/1.1 429"), "{turned:?}");
    assert!(turned.contains("--max-client-connections"), "{turned}");
    // Another address is served.
    let other = get_from("127.0.0.2", addr).await;
    assert!(other.starts_with("HTTP/1.1 200"), "{other:?}");
    // One held connection ends: its place is taken again.
    drop(held.pop());
    let mut again = String::new();
    for _ in 0..50 {
        again = get_from("127.0.0.1", addr).await;
        if again.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.starts_with("HTTP/1.1 200"), "{again:?}");
}

/// A webhook request from `client` (its address) with the token `token`, whose body is
/// `parts` (which may never end), declared `declared` bytes long if given.
fn streamed_webhook<S>(
    token: &str,
    client: &str,
    declared: Option<usize>,
    parts: S,
) -> axum::http::Request<axum::body::Body>
where
    S: futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static,
{
    let mut req = axum::http::Request::post("/api/v1/alerts")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, token);
    if let Some(n) = declared {
        req = req.header(header::CONTENT_LENGTH, n);
    }
    let mut req = req.body(axum::body::Body::from_stream(parts)).unwrap();
    let peer: std::net::SocketAddr = format!("{client}:40000").parse().unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
    req
}

// Bodies sent fast and then held open cannot fill the memory: bodies of requests under way,
// reckoned at four times their size (what handlers build from them), are held to
// --max-body-memory, a client to its share (an eighth, at least one largest body); past them
// 429 (the client's) or 503 (everyone's), with Retry-After.
on_both_databases!(bodies_being_read_share_the_memory, |b: Backend| async move {
    use tower::ServiceExt;
    // Bodies of 100,000 bytes at once (400,000 / 4); a client's share one largest body (the
    // webhook's 65,536 bytes, above 100,000 / 8).
    let args = ["--max-body-memory", "400000", "--max-request-bytes", "60000"];
    let app = server::web::router(b.clone(), &common::serve_args(&args));
    let root = common::admin(&b).await;
    let token = format!("Token {}", b.auth.create_token(&root, "root", "alertmanager").await.unwrap().1);
    // A webhook body of `size` bytes from `client`, then `more` (which may never come).
    let webhook = |client: &str, size: usize, more: bool| {
        let first = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; size]))]);
        let rest = futures::stream::unfold(more, |more| async move {
            if more {
                std::future::pending::<()>().await;
            }
            None
        });
        app.clone().oneshot(streamed_webhook(&token, client, None, futures::StreamExt::chain(first, rest)))
    };
    // 127.0.0.1 holds 50 KB open.
    let held = tokio::spawn(webhook("127.0.0.1", 50_000, true));
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Its next body passes its share: 429.
    let res = webhook("127.0.0.1", 50_000, false).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("your address holds its share"), "{body:?}");
    // Another client's passes what is left of everyone's: 503.
    let res = webhook("127.0.0.2", 60_000, false).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("--max-body-memory"), "{body:?}");
    // A small one is read (and refused as the JSON it is not: 400, not 503).
    let res = webhook("127.0.0.2", 10_000, false).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Once the held body goes, its bytes are given back.
    held.abort();
    let _ = held.await;
    let res = webhook("127.0.0.1", 60_000, false).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
});

// What handlers build from bodies is bounded too: a body is handled once it fits, reckoned at
// 100 times its declared size (one large body at a time); another large one waits, then 503,
// before any of it is read; a small one goes on beside it.
on_both_databases!(large_bodies_are_handled_one_at_a_time, |b: Backend| async move {
    use tower::ServiceExt;
    let args = ["--max-body-memory", "400000", "--client-timeout", "1s"];
    let app = server::web::router(b.clone(), &common::serve_args(&args));
    let root = common::admin(&b).await;
    let token = format!("Token {}", b.auth.create_token(&root, "root", "alertmanager").await.unwrap().1);
    // A webhook declared `size` bytes long that sends them, then if `held` goes on sending a
    // little at a good pace (not cut as stalled).
    let webhook = |client: &str, size: usize, held: bool| {
        let first = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; size]))]);
        let rest = futures::stream::unfold(held, |held| async move {
            if !held {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            Some((Ok(bytes::Bytes::from(vec![b' '; 200])), held))
        });
        let declared = Some(size + usize::from(held));
        app.clone().oneshot(streamed_webhook(&token, client, declared, futures::StreamExt::chain(first, rest)))
    };
    let held = tokio::spawn(webhook("127.0.0.1", 30_000, true));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = webhook("127.0.0.2", 30_000, false).await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()[header::RETRY_AFTER], "1");
    let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    assert!(String::from_utf8_lossy(&body).contains("memory for handling"), "{body:?}");
    // Another client's small one is handled (and refused as the JSON it is not); the large
    // one's client has its share taken.
    assert_eq!(webhook("127.0.0.2", 500, false).await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(webhook("127.0.0.1", 600, false).await.unwrap().status(), StatusCode::TOO_MANY_REQUESTS);
    // A caller without a session or token is not reckoned: answered (refused, 401), not kept
    // waiting behind the large body.
    let visitor = axum::http::Request::post("/api/v1/alerts")
        .header(header::CONTENT_LENGTH, 30_000)
        .body(axum::body::Body::from(vec![b' '; 30_000]))
        .unwrap();
    assert_eq!(app.clone().oneshot(visitor).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    held.abort();
    let _ = held.await;
    assert_eq!(webhook("127.0.0.2", 30_000, false).await.unwrap().status(), StatusCode::BAD_REQUEST);
});

on_both_databases!(secrets_stay_with_their_owners, |b: Backend| async move {
    let owner = common::user(&b, "owner").await;
    let other = common::user(&b, "other").await;
    let s = b
        .inventory
        .create_service(&owner, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let service = b.notifiers.owner("service", s.id.0).await.unwrap();
    let secret = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
    let slack = NotifierInput { kind: "slack".into(), value: secret.into(), ..Default::default() };
    b.notifiers.create(&owner, &service, slack).await.unwrap();
    let key = "0123456789abcdef0123456789abcdef";
    let pd =
        NotifierInput { kind: "pagerduty".into(), value: key.into(), alias: "on call".into(), ..Default::default() };
    b.notifiers.create(&owner, &service, pd).await.unwrap();
    let mine = b.notifiers.owner("user", owner.user_id().unwrap().0).await.unwrap();
    let email = NotifierInput { kind: "email".into(), value: "owner@example.com".into(), ..Default::default() };
    b.notifiers.create(&owner, &mine, email).await.unwrap();

    // The owner sees the values; anyone else (a Viewer of the service) the alias or a
    // masked form.
    let viewer = app::backend::roles::Principal::User(other.user_id().unwrap());
    b.roles.grant(&owner, Object::Service(s.id), viewer, Role::Viewer).await.unwrap();
    let seen = serde_json::to_string(&b.notifiers.listing(&owner, &service).await.unwrap()).unwrap();
    assert!(seen.contains(secret) && seen.contains(key));
    let listing = b.notifiers.listing(&other, &service).await.unwrap();
    let seen = serde_json::to_string(&listing).unwrap();
    assert!(!seen.contains("XXXXSECRET") && !seen.contains(key), "{seen}");
    assert!(seen.contains("https://hooks.slack.com/…"), "{seen}");
    let err = b.notifiers.listing(&other, &mine).await.unwrap_err();
    assert_eq!(err.status(), 403, "another user's own notifiers");

    // Nor do the audit log, the alert's routing and deliveries, or the feed carry them.
    let audit = b.audit.list(&other, &Default::default(), 1).await.unwrap();
    let seen = serde_json::to_string(&audit).unwrap();
    assert!(!seen.contains("XXXXSECRET") && !seen.contains(key) && !seen.contains("owner@example"), "{seen}");
    let alert = serde_json::json!({"status": "firing", "commonLabels": {"service": "web"},
        "alerts": [{"status": "firing", "labels": {"alertname": "A", "service": "web"}}]});
    let id = match b.alerts.ingest(&Actor::System, alert.to_string().as_bytes()).await.unwrap() {
        app::backend::alerts::Ingested::Stored { id, .. } => id,
        other => panic!("{other:?}"),
    };
    let detail = serde_json::to_string(&b.alerts.detail(&other, id).await.unwrap()).unwrap();
    assert!(!detail.contains("XXXXSECRET") && !detail.contains(key), "{detail}");
    assert!(detail.contains("on call"), "{detail}");
});

on_both_databases!(credentials_end_when_they_should, |b: Backend| async move {
    let app = router(&b);
    let cookie = common::login(&app, &b, "ops", false).await;
    let second = {
        let body = "username=ops&password=password-of-test";
        let (_, headers, _) = send(&app, form(app::api::auth::Login::PATH, body, None, None)).await;
        headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string()
    };
    let whoami = |cookie: String| {
        let app = app.clone();
        async move {
            let (_, _, body) = send(&app, form(app::api::inventory::ListServices::PATH, "", Some(&cookie), None)).await;
            !body.contains("Unauthenticated")
        }
    };
    assert!(whoami(cookie.clone()).await && whoami(second.clone()).await);
    // Changing one's password ends the other sessions, not this one.
    let change = "current=password-of-test&password=a-new-password";
    let (status, _, body) = send(&app, form(app::api::auth::ChangePassword::PATH, change, Some(&cookie), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(whoami(cookie.clone()).await, "the session that changed it stays");
    assert!(!whoami(second).await, "the other session ended");
    // A reset by the operator (promgen set-password) ends every session.
    b.auth.set_password(&Actor::System, "ops", "another-password").await.unwrap();
    assert!(!whoami(cookie).await, "a stolen cookie stops working with the reset");
    let wrong = "current=nope&password=whatever-else";
    let cookie = {
        let body = "username=ops&password=another-password";
        let (_, headers, _) = send(&app, form(app::api::auth::Login::PATH, body, None, None)).await;
        headers[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string()
    };
    let (status, _, body) = send(&app, form(app::api::auth::ChangePassword::PATH, wrong, Some(&cookie), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A token revoked elsewhere (another replica, the command line) stops at once.
    let (info, key) = b.auth.create_token(&Actor::System, "ops", "script").await.unwrap();
    let header = format!("Token {key}");
    assert!(b.auth.actor_from_header(Some(&header)).await.is_ok());
    let replica = Backend::new(b.db.clone());
    replica.auth.revoke_token(&Actor::System, info.id).await.unwrap();
    assert!(b.auth.actor_from_header(Some(&header)).await.is_err(), "refused on the next request");
    // So does a permission taken away.
    let (_, key) = b.auth.create_token(&Actor::System, "ops", "alertmanager").await.unwrap();
    let header = format!("Token {key}");
    replica.auth.grant_alerts(&Actor::System, "ops", true).await.unwrap();
    assert!(b.auth.actor_from_header(Some(&header)).await.unwrap().may_post_alerts().is_ok());
    replica.auth.grant_alerts(&Actor::System, "ops", false).await.unwrap();
    assert!(b.auth.actor_from_header(Some(&header)).await.unwrap().may_post_alerts().is_err());
});

on_both_databases!(logins_go_home_and_origins_are_checked, |b: Backend| async move {
    let app = router(&b);
    // One account a case: five attempts a minute each.
    for i in 0..10 {
        b.auth.create_user(&Actor::System, &format!("ops{i}"), "password-of-test", false).await.unwrap();
    }
    // A plain form post (no JavaScript) is answered with a redirect to `next`: only ever a
    // path of this site.
    for (i, (next, to)) in [
        ("/project/7", "/project/7"),
        ("/%5Cevil.example/x", "/"),
        ("/%09/evil.example/x", "/"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/.//evil.example/x", "/"),
        ("/%2e%2e//evil.example", "/"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = format!("username=ops{i}&password=password-of-test&next={next}");
        let req = axum::http::Request::post(app::api::auth::Login::PATH)
            .header(header::HOST, "127.0.0.1:3000")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(body.into())
            .unwrap();
        let (_, headers, body) = send(&app, req).await;
        let location = headers.get(header::LOCATION).map(|l| l.to_str().unwrap().to_string());
        assert_eq!(location.as_deref(), Some(to), "next={next}: {body}");
    }
    let cookie = common::login(&app, &b, "dev", false).await;
    let create = app::api::inventory::CreateService::PATH;
    for origin in ["null", "https://127.0.0.1:3000", "http://127.0.0.1:3001", "http://evil.example"] {
        let (status, _, _) = send(&app, form(create, "name=web&description=", Some(&cookie), Some(origin))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "Origin: {origin}");
    }
    assert_eq!(common::count(&b, "service").await, 0);
});

on_both_databases!(edges_are_quiet, |b: Backend| async move {
    let app = router(&b);
    // Anonymous callers learn nothing about which ids exist: 401 first.
    for (path, body) in [
        (app::api::inventory::GetService::PATH, "id=1"),
        (app::api::inventory::GetService::PATH, "id=999999"),
        (app::api::alerts::GetAlert::PATH, "id=999999"),
        (app::api::alerts::OwnerNotifiers::PATH, "owner_kind=service&owner_id=999999"),
        (app::api::rules::GetRule::PATH, "id=999999"),
    ] {
        let (status, _, body) = send(&app, form(path, body, None, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
    }
    let cookie = common::login(&app, &b, "ops", true).await;
    let (status, _, body) =
        send(&app, form(app::api::inventory::GetService::PATH, "id=999999", Some(&cookie), None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Any page number is a page.
    for page in [i64::MAX, i64::MIN, 0] {
        let body = format!("page={page}&labels=");
        let (status, _, body) =
            send(&app, form(app::api::alerts::AlertHistory::PATH, &body, Some(&cookie), None)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let body = format!("page={page}");
        let (status, _, body) = send(&app, form(app::api::admin::AuditLog::PATH, &body, Some(&cookie), None)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Sizes have limits, with the field and the limit in the message.
    let long = "d".repeat(4_001);
    let (status, _, body) = send(
        &app,
        form(app::api::inventory::CreateService::PATH, &format!("name=web&description={long}"), Some(&cookie), None),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("at most 4000 characters"), "{body}");
    let admin = Actor::User(b.auth.user_by_name("ops").await.unwrap());
    let shard = b.inventory.create_shard(&admin, ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let s = b
        .inventory
        .create_service(&admin, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let p = b
        .inventory
        .create_project(
            &admin,
            s.id,
            ProjectInput { name: "frontend".into(), description: String::new(), shard_id: shard.id },
        )
        .await
        .unwrap();
    let hosts: String = (0..5_001).map(|i| format!("h{i}.example.com ")).collect();
    let err = b.inventory.create_farm(&admin, p.id, FarmInput { name: "farm".into(), hosts }).await.unwrap_err();
    assert!(err.to_string().contains("at most 5000 hosts"), "{err}");
    let farm = b
        .inventory
        .create_farm(&admin, p.id, FarmInput { name: "farm".into(), hosts: "a.example.com".into() })
        .await
        .unwrap();
    let hosts: String = (0..5_000).map(|i| format!("h{i}.example.com ")).collect();
    let err = b.inventory.add_hosts(&admin, farm.id, &hosts).await.unwrap_err();
    assert!(err.to_string().contains("would make it 5001"), "{err}");
    assert_eq!(common::count(&b, "host").await, 1, "nothing half-written");
    // A body past the request limit is refused before it is read.
    let huge = format!("name=web&description={}", "x".repeat(5 << 20));
    let (status, _, _) = send(&app, form(app::api::inventory::CreateService::PATH, &huge, Some(&cookie), None)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A call anyone may make (a login) takes a small body: a visitor's 100 KB is refused,
    // declared or not, and a logged-in caller's larger body is not.
    let long_login = format!("username=admin&password={}", "x".repeat(100 << 10));
    let (status, _, body) = send(&app, form(app::api::auth::Login::PATH, &long_login, None, None)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body.contains("at most 16384 bytes"), "{body}");
    let mut chunked = form(app::api::auth::Login::PATH, &long_login, None, None);
    chunked.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
    assert_eq!(send(&app, chunked).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    let described = format!("name=web2&description={}", "x".repeat(100 << 10));
    let (status, _, body) =
        send(&app, form(app::api::inventory::CreateService::PATH, &described, Some(&cookie), None)).await;
    assert_ne!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    // A path no file or page can have is the caller's mistake (414), not a fault of the
    // static files' lookup (it was a 500, "file name too long").
    // (Also a long path of short segments: the site root's path adds to it on the disk.)
    for path in [
        format!("/pkg/{}.wasm", "a".repeat(300)),
        format!("/{}", "a/".repeat(1100)),
        "/x".repeat(10_000),
        format!("/pkg/{}/b", vec!["a".repeat(250); 9].join("/")),
    ] {
        let (status, body) = common::get(&app, &path).await;
        assert_eq!(status, StatusCode::URI_TOO_LONG, "{}", &path[..20]);
        assert!(body.contains("the request path is too long"), "{body}");
    }
    assert_eq!(common::get(&app, &format!("/pkg/{}.wasm", "a".repeat(200))).await.0, StatusCode::NOT_FOUND);
    // A request without a path (CONNECT's authority form) is refused, not a panic of the
    // page renderer.
    let connect =
        axum::http::Request::builder().method("CONNECT").uri("127.0.0.1:3000").body(axum::body::Body::empty());
    let (status, headers, body) = send(&app, connect.unwrap()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(headers[axum::http::header::ALLOW], "GET, HEAD, POST, PUT, PATCH, DELETE");
});

// What the review of the first fixes found: receivers' words that quote a notifier's secret,
// Prometheus errors that quote series, passwords in shard URLs, guesses of one's password from
// a stolen session, and unbounded inputs.
on_both_databases!(no_side_door_shows_secrets, |b: Backend| async move {
    let hook = common::Receiver::start(&[404]).await;
    let settings = app::backend::Settings {
        send: app::backend::notify::senders::SendSettings { allow_private: true, ..Default::default() },
        ..Default::default()
    };
    let b = Backend::with_settings(b.db.clone(), &settings).unwrap();
    let owner = common::user(&b, "victor").await;
    let other = common::user(&b, "mallory").await;
    let s = b
        .inventory
        .create_service(&owner, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let service = b.notifiers.owner("service", s.id.0).await.unwrap();
    // Mallory reads the service (a Viewer), may not edit its notifiers.
    let viewer = app::backend::roles::Principal::User(other.user_id().unwrap());
    b.roles.grant(&owner, Object::Service(s.id), viewer, Role::Viewer).await.unwrap();
    let secret = format!("{}/hooks/VICTOR-WEBHOOK-SECRET", hook.url);
    let webhook = NotifierInput { kind: "webhook".into(), value: secret.clone(), ..Default::default() };
    b.notifiers.create(&owner, &service, webhook).await.unwrap();
    let alert = serde_json::json!({"status": "firing", "commonLabels": {"service": "web"},
        "alerts": [{"status": "firing", "labels": {"alertname": "A", "service": "web"}}]});
    let id = match b.alerts.ingest(&Actor::System, alert.to_string().as_bytes()).await.unwrap() {
        app::backend::alerts::Ingested::Stored { id, .. } => id,
        other => panic!("{other:?}"),
    };
    common::drain(&b).await;
    assert_eq!(hook.received().len(), 1);
    let detail = serde_json::to_string(&b.alerts.detail(&other, id).await.unwrap()).unwrap();
    assert!(detail.contains("answered 404"), "{detail}");
    assert!(!detail.contains("VICTOR-WEBHOOK-SECRET"), "{detail}");
    // Its owner hears the receiver's words when testing it.
    let listing = b.notifiers.listing(&owner, &service).await.unwrap();
    let err = b.notifiers.test(&owner, listing.notifiers[0].id, "http://p").await.unwrap_err();
    assert!(err.to_string().contains("Cannot POST /hooks/VICTOR-WEBHOOK-SECRET"), "{err}");

    // A shard's password is for its URL, not for the pages.
    let admin = common::admin(&b).await;
    let url = "https://promuser:PROMPASSWORD@prometheus.example.com";
    b.inventory.create_shard(&admin, ShardInput::new("main", url)).await.unwrap();
    let shards = serde_json::to_string(&b.inventory.shards(&other).await.unwrap()).unwrap();
    assert!(shards.contains("promuser:***@prometheus.example.com") && !shards.contains("PROMPASSWORD"), "{shards}");
    let audit = serde_json::to_string(&b.audit.list(&other, &Default::default(), 1).await.unwrap()).unwrap();
    assert!(!audit.contains("PROMPASSWORD"), "{audit}");
});

on_both_databases!(limits_hold_on_every_path, |b: Backend| async move {
    let app = router(&b);
    let cookie = common::login(&app, &b, "ops", false).await;
    // Guessing one's password from a session counts as logging in.
    let mut statuses = Vec::new();
    for i in 0..7 {
        let body = format!("current=guess-{i}&password=a-new-password");
        statuses.push(send(&app, form(app::api::auth::ChangePassword::PATH, &body, Some(&cookie), None)).await.0);
    }
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 3, "{statuses:?}");
    // Long inputs are refused as such, not as database failures.
    let long = |n: usize| "x".repeat(n);
    for (path, body) in [
        (app::api::inventory::Search::PATH, format!("query={}", long(1_000_000))),
        (app::api::alerts::CurrentAlerts::PATH, format!("labels={}", vec!["a=b"; 200_000].join(","))),
        (app::api::alerts::CreateToken::PATH, format!("name={}", long(100_000))),
    ] {
        let (status, _, body) = send(&app, form(path, &body, Some(&cookie), None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {}", &body[..body.len().min(200)]);
    }
    let admin = common::admin(&b).await;
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    let chain = vec!["1"; 1_000_000].join("+");
    let err = b.rules.test(&admin, None, &site, RuleKind::Alert, &chain).await.unwrap_err();
    assert!(err.to_string().contains("at most 32000 characters"), "{err}");
    // A username of megabytes is one short key for the limits, and no error.
    let huge = long(3_500_000);
    let err = b.auth.login(&huge, "x", None).await.unwrap_err();
    assert_eq!(err.status(), 401);
});

// Every server function but logging in, out, the login page's options and asking who one is refuses an anonymous
// caller with 401 before it reads its arguments, and writes nothing.
on_both_databases!(every_server_function_refuses_anonymous_callers, |b: Backend| async move {
    let app = router(&b);
    let before = common::count(&b, "audit").await;
    let public = ["/api/login", "/api/logout", "/api/whoami", "/api/login_options"];
    let paths: Vec<(&str, axum::http::Method)> = leptos::server_fn::axum::server_fn_paths().collect();
    assert!(paths.len() >= 50, "{} server functions", paths.len());
    for (path, _) in paths.iter().filter(|(p, _)| !public.contains(p)) {
        for body in ["", "id=1&owner_kind=service&owner_id=1"] {
            let (status, _, text) = send(&app, form(path, body, None, Some("http://127.0.0.1:3000"))).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path} with {body:?}: {text}");
        }
    }
    assert_eq!(common::count(&b, "audit").await, before, "nothing was written");
});

/// Arguments for any server function, naming object 1 of each kind; `kind` differs per function.
fn arguments(name: &str) -> String {
    let kind = match name {
        "create_notifier" => "email",
        _ => "alert",
    };
    let rules = common::query("groups:\n- name: g\n  rules:\n  - alert: Imported\n    expr: up == 0\n");
    let targets = match name {
        // A shard's capacity, a number; elsewhere a file_sd list.
        "create_shard" => "1000".to_string(),
        _ => {
            common::query(r#"[{"targets": ["h7.example.com:9100"], "labels": {"service": "web", "project": "shop"}}]"#)
        }
    };
    format!(
        "id=1&service_id=1&project_id=1&farm_id=1&owner_kind=project&owner_id=1&name=made-by-{name}&description=d\
         &shard_id=1&hosts=h9.example.com&job=node{n}&port={port}&path=%2Fmetrics&scheme=http\
         &url=http%3A%2F%2Fprobe{n}.example.com%2F&probe_id=1&enabled=false&version=1&module=http_2xx\
         &shard=main&value=ops%40example.com&alias=a&subject_template=&body_template=&on=true\
         &prometheus_version=2.42.0&domain=example.com&open=on&samples=1000&expr=up+%3D%3D+0&kind={kind}\
         &rules={rules}&targets={targets}&principal_kind=user&principal_id=2&user_id=2&username=viewer&role=ADMIN\
         &matchers=service%3D%22made-by-create_service%22&duration=1h&comment=c&host=prometheus{n}.example.com\
         &email=made-by-{name}%40example.com&password=long-enough-pw",
        n = name.len(),
        port = 9100 + name.len(),
    )
    // Giving a role names its user: the Viewer tries to make themselves Admin.
    + "&who=viewer"
}

// Every server function that changes something refuses a Viewer (403) and writes nothing;
// the same calls by the owner (or an admin, for the site's) succeed. The functions that read,
// or change only the caller's own things, are named; any other is a change.
on_both_databases!(every_change_refuses_a_viewer, |b: Backend| async move {
    use app::backend::roles::Principal;
    let app = router(&b);
    let admin = common::login(&app, &b, "root", true).await;
    let owner = common::login(&app, &b, "owner", false).await;
    let viewer = common::login(&app, &b, "viewer", false).await;
    let call = |path: &'static str, cookie: String| {
        let app = app.clone();
        async move {
            let name = path.trim_start_matches("/api/");
            send(&app, form(path, &arguments(name), Some(&cookie), None)).await
        }
    };
    // Object 1 of each kind, made by the owner (the shard and the probe by an admin).
    for (path, cookie) in [
        (app::api::admin::CreateShard::PATH, &admin),
        (app::api::admin::CreateProbe::PATH, &admin),
        (app::api::inventory::CreateService::PATH, &owner),
        (app::api::inventory::CreateProject::PATH, &owner),
        (app::api::inventory::CreateFarm::PATH, &owner),
        (app::api::inventory::CreateExporter::PATH, &owner),
        (app::api::inventory::CreateUrl::PATH, &owner),
        (app::api::alerts::CreateNotifier::PATH, &owner),
        (app::api::alerts::AddNotifierFilter::PATH, &owner),
        (app::api::rules::SaveRule::PATH, &owner),
        (app::api::members::CreateGroup::PATH, &owner),
    ] {
        // Made without an id (with one, saving a rule changes rule 1).
        let name = path.trim_start_matches("/api/");
        let args = arguments(name);
        let args = args.strip_prefix("id=1&").filter(|_| name == "save_rule").unwrap_or(&args);
        let (status, _, body) = send(&app, form(path, args, Some(cookie), None)).await;
        assert!(status.is_success() || status.is_redirection(), "{path}: {status} {body}");
    }
    let owner_actor = Actor::User(b.auth.user_by_name("owner").await.unwrap());
    let viewer_id = b.auth.user_by_name("viewer").await.unwrap().id;
    b.roles.grant(&owner_actor, Object::Service(ServiceId(1)), Principal::User(viewer_id), Role::Viewer).await.unwrap();

    let reads_or_own = [
        "list_shards",
        "audit_log",
        "current_alerts",
        "alert_history",
        "get_alert",
        "owner_notifiers",
        "get_profile",
        "whoami",
        "login_options",
        "list_services",
        "get_service",
        "get_project",
        "get_host",
        "search",
        "get_form_choices",
        "owner_rules",
        "get_rule",
        "editor_context",
        "get_site",
        "site_address_warning",
        "list_probes",
        "rules_dialect",
        "rule_file_report",
        "open_read",
        "list_groups",
        "get_group",
        "object_members",
        "list_users",
        "list_silences",
        "alertmanager_alerts",
        "exporters_up",
        "shard_servers",
        "shard_agents",
        // The caller's own: logging in and out, their password, sessions and tokens, subscribing
        // (a Viewer may), and registering a new service of their own.
        "login",
        "logout",
        "change_password",
        "end_session",
        "end_other_sessions",
        "create_token",
        "revoke_token",
        "subscribe",
        "create_service",
        "create_group",
    ];
    let tables = [
        "audit",
        "users",
        "role_grant",
        "group_member",
        "user_group",
        "service",
        "project",
        "farm",
        "host",
        "exporter",
        "url",
        "notifier",
        "notifier_filter",
        "rule",
        "shard",
        "probe",
    ];
    let mut before = Vec::new();
    for t in tables {
        before.push(common::count(&b, t).await);
    }
    let mut refused = 0;
    for (path, _) in leptos::server_fn::axum::server_fn_paths() {
        let name = path.trim_start_matches("/api/");
        if reads_or_own.contains(&name) {
            continue;
        }
        let (status, _, body) = call(path, viewer.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path} as a Viewer: {body}");
        refused += 1;
    }
    assert!(refused >= 30, "{refused} changes checked");
    for (t, n) in tables.iter().zip(before) {
        assert_eq!(common::count(&b, t).await, n, "a refused change wrote to {t}");
    }
});
