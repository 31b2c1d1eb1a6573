//! Rules through the backend and the HTTP edge, on both databases: Promgen's export, overrides
//! and `<exclude>`, refusals that write nothing, promtool, history, imports, the default pack.

mod common;
use app::backend::{Actor, Backend};
use app::error::AppError;
use app::model::*;
use axum::http::StatusCode;
use common::{count, fixture, get, router};

fn yaml(s: &str) -> serde_yaml::Value {
    serde_yaml::from_str(s).unwrap_or_else(|e| panic!("not YAML ({e}):\n{s}"))
}

fn alert(name: &str, expr: &str) -> RuleInput {
    RuleInput {
        kind: RuleKind::Alert,
        name: name.into(),
        expr: expr.into(),
        duration: "5m".into(),
        enabled: true,
        ..Default::default()
    }
}

fn site() -> RuleOwner {
    RuleOwner::Site { domain: String::new() }
}

async fn service(b: &Backend, actor: &Actor, name: &str) -> RuleOwner {
    let s = b
        .inventory
        .create_service(actor, ServiceInput { name: name.into(), description: String::new() })
        .await
        .unwrap();
    b.rules.owner(OwnerKind::Service, s.id.0).await.unwrap()
}

async fn project(b: &Backend, service: &RuleOwner, name: &str) -> RuleOwner {
    let shard = match b.inventory.shard_list().await.unwrap().into_iter().next() {
        Some(s) => s.id,
        None => {
            b.inventory.create_shard(&Actor::System, ShardInput::new("main", "http://127.0.0.1:1")).await.unwrap().id
        }
    };
    let input = ProjectInput { name: name.into(), description: String::new(), shard_id: shard };
    let p = b.inventory.create_project(&Actor::System, ServiceId(service.id()), input).await.unwrap();
    b.rules.owner(OwnerKind::Project, p.id.0).await.unwrap()
}

async fn rules_file(b: &Backend) -> String {
    let (status, body) = get(&router(b), "/api/v1/rules").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `promtool check rules` on a file, which must pass.
fn promtool_accepts(file: &str) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("promgen-rules-test-{}-{n}.yml", std::process::id()));
    std::fs::write(&path, file).unwrap();
    let out = std::process::Command::new("promtool")
        .args(["check", "rules"])
        .arg(&path)
        .output()
        .expect("promtool (Debian's prometheus package; .ci/setup installs it)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "promtool refuses:\n{}\n{}", String::from_utf8_lossy(&out.stderr), file);
}

on_both_databases!(promgen_export_renders_as_promgen, |b: Backend| async move {
    let report =
        b.importer.import_promgen(&Actor::System, &[fixture("testcases.yaml"), fixture("extras.yaml")]).await.unwrap();
    assert_eq!(report.imported["promgen.rule"], 3, "{report}");
    let body = rules_file(&b).await;
    assert_eq!(yaml(&body), yaml(&fixture("export.rule.yml")), "{body}");
    assert_eq!(rules_file(&b).await, body, "the same data renders the same bytes");
    promtool_accepts(&body);

    // An import keeps the export's rules and not the new installation's default pack.
    assert_eq!(b.rules.install_default_pack().await.unwrap(), 0);
    assert_eq!(count(&b, "rule").await, 3);
});

on_both_databases!(the_default_pack_comes_once_and_yields_to_an_import, |b: Backend| async move {
    assert_eq!(b.rules.install_default_pack().await.unwrap(), 4);
    assert_eq!(b.rules.install_default_pack().await.unwrap(), 0, "installed once");
    let body = rules_file(&b).await;
    for name in ["InstanceDown", "HighCPULoad", "HighMemoryUsage", "RootFilesystemFillingUp"] {
        assert!(body.contains(&format!("alert: {name}")), "{name}:\n{body}");
    }
    promtool_accepts(&body);
    let report = b.importer.import_promgen(&Actor::System, &[fixture("testcases.yaml")]).await.unwrap();
    assert!(report.notes.iter().any(|n| n.contains("removed the 4 default")), "{report}");
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM rule ORDER BY id").fetch_all(&b.db.pool).await.unwrap();
    assert_eq!(names.into_iter().map(|n| n.0).collect::<Vec<_>>(), ["Test Rule", "Test Rule 2", "Site Rule"]);
});

on_both_databases!(override_a_site_rule_for_a_service, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let alice = common::user(&b, "alice").await;
    let web = service(&b, &alice, "web").await;
    let frontend = project(&b, &web, "frontend").await;
    let disk = b
        .rules
        .create(
            &admin,
            &site(),
            RuleInput {
                labels: [("severity".into(), "major".into())].into(),
                ..alert("DiskFull", "node_filesystem_free{<exclude>} < 0.2")
            },
        )
        .await
        .unwrap();

    // Only the owners may override for a service; a site rule is for admins.
    let bob = common::user(&b, "bob").await;
    assert!(matches!(b.rules.create_override(&bob, disk.id, &web, None).await, Err(AppError::Forbidden(_))));
    assert!(matches!(b.rules.create(&alice, &site(), alert("Mine", "up")).await, Err(AppError::Forbidden(_))));

    let child = b.rules.create_override(&alice, disk.id, &web, None).await.unwrap();
    assert_eq!(child.name, "DiskFull_web");
    assert_eq!(child.expr, "node_filesystem_free{service=\"web\",<exclude>} < 0.2");
    assert_eq!(child.labels["severity"], "major", "labels are copied from the parent");
    let again = b.rules.create_override(&alice, disk.id, &web, None).await.unwrap();
    assert_eq!(again.id, child.id, "overriding twice returns the first override");
    let grandchild = b.rules.create_override(&alice, child.id, &frontend, None).await.unwrap();
    assert_eq!(grandchild.expr, "node_filesystem_free{service=\"web\",project=\"frontend\",<exclude>} < 0.2");
    let err = b.rules.create_override(&admin, grandchild.id, &frontend, None).await.unwrap_err();
    assert!(err.to_string().contains("Project Rule must be inherited"), "{err}");

    let file = rules_file(&b).await;
    assert!(file.contains("expr: node_filesystem_free{service!~\"web\"} < 0.2"), "{file}");
    assert!(file.contains("expr: node_filesystem_free{service=\"web\",project!~\"frontend\"} < 0.2"), "{file}");
    assert!(file.contains("expr: node_filesystem_free{service=\"web\",project=\"frontend\",} < 0.2"), "{file}");
    promtool_accepts(&file);

    // The service's own file and the Kubernetes form.
    let app = router(&b);
    let (_, own) = get(&app, "/api/v1/rules?service=web").await;
    assert!(
        own.contains("DiskFull_web") && own.contains("DiskFull_web_frontend") && !own.contains("alert: DiskFull\n"),
        "{own}"
    );
    let (_, k8s) = get(&app, "/api/v1/rules?format=prometheusrule&name=team-rules&namespace=monitoring").await;
    let k8s = yaml(&k8s);
    assert_eq!(k8s["kind"], "PrometheusRule");
    assert_eq!(k8s["metadata"]["name"], "team-rules");
    assert_eq!(k8s["spec"]["groups"], yaml(&file)["groups"]);
    let (status, body) = get(&app, "/api/v1/rules?format=prometheusrule&name=Bad_Name").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // The rule page knows the family.
    let detail = b.rules.detail(&alice, disk.id).await.unwrap();
    assert_eq!(detail.children.len(), 1);
    assert_eq!(detail.children[0].children[0].rule.id, grandchild.id);
    assert_eq!(detail.expanded, "node_filesystem_free{service!~\"web\"} < 0.2");
    assert!(!detail.can_edit, "alice may not change site rules");
    let listing = b.rules.listing(&alice, &frontend).await.unwrap();
    assert_eq!(listing.own.len(), 1);
    assert!(listing.inherited.iter().any(|i| i.rule.id == child.id && i.overridden_by == Some(grandchild.id)));
    // The site rule does not reach the project past the service's override: the project's
    // page says so (it offered to override the site rule as if it applied).
    assert!(listing.inherited.iter().any(|i| i.rule.id == disk.id && i.overridden_by == Some(child.id)));
});

on_both_databases!(an_invalid_rule_is_refused_with_its_position_and_nothing_is_saved, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let before = (count(&b, "rule").await, count(&b, "audit").await);
    let err = b.rules.create(&admin, &site(), alert("Broken", "rate(up{<exclude>}[5m]")).await.unwrap_err();
    assert_eq!(err.field(), Some("expr"));
    assert_eq!(err.to_string(), "Expression: 1:5: unclosed left parenthesis in function call");
    let err = b.rules.create(&admin, &site(), alert("Typed", "sum(up[5m])")).await.unwrap_err();
    assert!(err.to_string().contains("1:5: expected type instant vector"), "{err}");
    // Prometheus' template language, checked as Go parses it (promtool agrees).
    let mut bad_template = alert("BadTemplate", "up == 0");
    bad_template.annotations.insert("summary".into(), "{{$label.foo}}".into());
    let err = b.rules.create(&admin, &site(), bad_template).await.unwrap_err();
    // The field names the annotation, so the editor marks its row.
    assert_eq!(err.field(), Some("annotations.summary"));
    assert!(err.to_string().contains("Annotation summary: 1:3: undefined variable \"$label\""), "{err}");
    let mut bad_key = alert("BadKey", "up == 0");
    bad_key.annotations.insert("bad key".into(), "x".into());
    assert_eq!(b.rules.create(&admin, &site(), bad_key).await.unwrap_err().field(), Some("annotations"));
    assert_eq!((count(&b, "rule").await, count(&b, "audit").await), before);

    let ok = b.rules.create(&admin, &site(), alert("Fine", "up == 0")).await.unwrap();
    let err = b.rules.create(&admin, &site(), alert("Fine", "up == 1")).await.unwrap_err();
    assert!(matches!(err, AppError::Conflict(_)), "{err:?}");
    let err = b.rules.update(&admin, ok.id, alert("Fine", "up ==="), false).await.unwrap_err();
    assert_eq!(err.field(), Some("expr"));
    assert_eq!(b.rules.detail(&admin, ok.id).await.unwrap().rule.expr, "up == 0", "a refused edit changes nothing");
});

on_both_databases!(history_restores_an_earlier_version, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let rule = b.rules.create(&admin, &site(), alert("Flappy", "up == 0")).await.unwrap();
    b.rules.update(&admin, rule.id, alert("Flappy", "up == 0 and on() vector(1)"), false).await.unwrap();
    b.rules.set_enabled(&admin, rule.id, false).await.unwrap();
    let filter = app::backend::audit::AuditFilter { object_type: Some("rule".into()), object_id: Some(rule.id.0) };
    let history = b.audit.list(&admin, &filter, 1).await.unwrap().entries;
    let bodies: Vec<&str> = history.iter().map(|e| e.body.as_str()).collect();
    assert_eq!(bodies, ["Disabled rule Flappy", "Updated rule Flappy", "Created rule Flappy"]);
    let first = history.last().unwrap();
    assert!(first.old.is_none() && first.data.as_deref().unwrap().contains("\"expr\":\"up == 0\""));
    let updated = &history[1];
    assert!(
        updated.old.as_deref().unwrap().contains("up == 0\"") && updated.data.as_deref().unwrap().contains("vector(1)")
    );

    let restored = b.rules.restore(&admin, rule.id, first.id).await.unwrap();
    assert_eq!((restored.expr.as_str(), restored.enabled), ("up == 0", true));
    let latest = &b.audit.list(&admin, &filter, 1).await.unwrap().entries[0];
    assert!(latest.body.starts_with("Restored rule Flappy to its version of"), "{}", latest.body);
});

on_both_databases!(untouched_overrides_follow_their_parent, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let web = service(&b, &admin, "web").await;
    let api = service(&b, &admin, "api").await;
    let parent = b.rules.create(&admin, &site(), alert("Slow", "latency{<exclude>} > 1")).await.unwrap();
    let follower = b.rules.create_override(&admin, parent.id, &web, None).await.unwrap();
    let own = b.rules.create_override(&admin, parent.id, &api, None).await.unwrap();
    b.rules.update(&admin, own.id, alert("Slow_api", "latency{service=\"api\",<exclude>} > 5"), false).await.unwrap();
    let context = b.rules.edit_context(&admin, parent.id).await.unwrap();
    assert_eq!(context.followers.iter().map(|f| f.0.id).collect::<Vec<_>>(), [follower.id]);

    b.rules.update(&admin, parent.id, alert("Slow", "latency{<exclude>} > 2"), true).await.unwrap();
    assert_eq!(b.rules.detail(&admin, follower.id).await.unwrap().rule.expr, "latency{service=\"web\",<exclude>} > 2");
    assert_eq!(b.rules.detail(&admin, own.id).await.unwrap().rule.expr, "latency{service=\"api\",<exclude>} > 5");
});

on_both_databases!(a_prometheus_rule_file_imports, |b: Backend| async move {
    b.importer.import_promgen(&Actor::System, &[fixture("testcases.yaml")]).await.unwrap();
    let admin = common::admin(&b).await;
    let report = b.rules.import_file(&admin, &fixture("import.rule.yml"), None).await.unwrap();
    assert_eq!(report.imported["rules"], 2, "{report}");
    assert_eq!(count(&b, "rule").await, 5, "3 fixture rules + 2 imported, as Promgen's test");
    let again = b.rules.import_file(&admin, &fixture("import.rule.yml"), None).await.unwrap();
    assert_eq!(again.imported["rules"], 0);
    assert_eq!(again.notes.len(), 2, "{again}");

    // Into a service, by a regular owner; bad rules stop the whole import.
    let alice = common::user(&b, "alice").await;
    let web = service(&b, &alice, "web").await;
    let file = "groups:\n- name: g\n  rules:\n  - alert: A1\n    expr: up == 0\n  - record: job:up:sum\n    expr: sum by (job) (up)\n";
    let report = b.rules.import_file(&alice, file, Some(&web)).await.unwrap();
    assert_eq!(report.imported["rules"], 2);
    assert!(matches!(b.rules.import_file(&alice, file, None).await, Err(AppError::Forbidden(_))));
    let before = count(&b, "rule").await;
    let bad = "groups:\n- name: g\n  rules:\n  - alert: B1\n    expr: up == 0\n  - alert: B2\n    expr: up ==\n";
    let err = b.rules.import_file(&alice, bad, Some(&web)).await.unwrap_err();
    assert!(err.to_string().contains("group g, rule 2 (B2)") && err.to_string().contains("1:6"), "{err}");
    assert_eq!(count(&b, "rule").await, before);
    let service_rules = b.rules.of_owner(&web).await.unwrap();
    let record = service_rules.iter().find(|r| r.kind == RuleKind::Record).unwrap();
    assert_eq!(record.name, "job:up:sum");
});

on_both_databases!(deleting_a_service_deletes_its_rules, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let web = service(&b, &admin, "web").await;
    let parent = b.rules.create(&admin, &site(), alert("Down", "up{<exclude>} == 0")).await.unwrap();
    b.rules.create_override(&admin, parent.id, &web, None).await.unwrap();
    b.inventory.delete_service(&admin, ServiceId(web.id())).await.unwrap();
    assert_eq!(count(&b, "rule").await, 1);
    assert!(rules_file(&b).await.contains("expr: up{} == 0"));
});

on_both_databases!(external_url_makes_every_absolute_link, |b: Backend| async move {
    let admin = common::admin(&b).await;
    b.rules.install_default_pack().await.unwrap();
    // Without --external-url: the site's domain, and a warning for admins who reach the site
    // at another address (nobody else sees it).
    assert!(rules_file(&b).await.contains("rule: http://127.0.0.1:3000/rule/"));
    let warning = b.site.address_warning(&admin, Some("10.1.2.3:3000")).await.unwrap();
    assert!(warning.is_some_and(|w| w.contains("--external-url") && w.contains("10.1.2.3:3000")));
    assert_eq!(b.site.address_warning(&admin, Some("127.0.0.1:3000")).await.unwrap(), None);
    let viewer = common::user(&b, "viewer").await;
    assert_eq!(b.site.address_warning(&viewer, Some("10.1.2.3:3000")).await.unwrap(), None);

    // With it: every link, also under a path prefix, and no warning.
    let url = url::Url::parse("https://promgen.example.com/monitoring/").unwrap();
    let mut settings = app::backend::Settings::default();
    settings.sign_in.external_url = Some(url);
    let b = Backend::with_settings(b.db.clone(), &settings).unwrap();
    let file = rules_file(&b).await;
    assert!(file.contains("rule: https://promgen.example.com/monitoring/rule/"), "{file}");
    assert!(!file.contains("http://127.0.0.1"), "{file}");
    assert_eq!(b.site.address_warning(&admin, Some("10.1.2.3:3000")).await.unwrap(), None);
    assert_eq!(
        app::backend::alerts::routing::alert_url(&b.site.get().await.unwrap().url(), 7),
        "https://promgen.example.com/monitoring/alert/7"
    );
});
