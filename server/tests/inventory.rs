//! The inventory service: who may change what, validation, nothing half-written, audit.

mod common;
use app::backend::{Actor, Backend};
use app::error::AppError;
use app::model::*;
use common::{count, json};

async fn shard(b: &Backend) -> Shard {
    b.inventory.create_shard(&Actor::System, ShardInput::new("main", "http://prometheus:9090")).await.unwrap()
}

fn project(name: &str, shard_id: ShardId) -> ProjectInput {
    ProjectInput { name: name.into(), description: String::new(), shard_id }
}

fn service(name: &str) -> ServiceInput {
    ServiceInput { name: name.into(), description: String::new() }
}

on_both_databases!(mutations_check_who_is_asking, |b: Backend| async move {
    let shard = shard(&b).await;
    let alice = common::user(&b, "alice").await;
    let bob = common::user(&b, "bob").await;

    assert_eq!(
        b.inventory.create_service(&Actor::Anonymous, service("web")).await.unwrap_err(),
        AppError::Unauthenticated
    );
    let web = b.inventory.create_service(&alice, service("web")).await.unwrap();
    assert_eq!(web.owner.as_deref(), Some("alice"));

    let project = project("frontend", shard.id);
    let err = b.inventory.create_project(&bob, web.id, project.clone()).await.unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err:?}");
    let p = b.inventory.create_project(&alice, web.id, project).await.unwrap();
    assert!(matches!(b.inventory.delete_project(&bob, p.id).await, Err(AppError::Forbidden(_))));
    assert!(matches!(
        b.inventory.create_shard(&alice, ShardInput::new("other", "http://p")).await,
        Err(AppError::Forbidden(_))
    ));
    // An admin may change anyone's objects.
    let root = common::admin(&b).await;
    b.inventory.update_service(&root, web.id, service("web-renamed")).await.unwrap();
    // Without a role, bob does not even see it; as a Viewer he sees it, cannot change it.
    assert!(matches!(b.inventory.service(&bob, web.id).await, Err(AppError::Forbidden(_))));
    let bob_id = app::backend::roles::Principal::User(bob.user_id().unwrap());
    b.roles.grant(&alice, Object::Service(web.id), bob_id, Role::Viewer).await.unwrap();
    assert!(!b.inventory.service(&bob, web.id).await.unwrap().can_edit);
    assert!(b.inventory.service(&alice, web.id).await.unwrap().can_edit);
});

on_both_databases!(bad_input_is_named_and_nothing_is_half_written, |b: Backend| async move {
    let shard = shard(&b).await;
    let op = Actor::System;
    let web = b.inventory.create_service(&op, service("web")).await.unwrap();
    let err = b.inventory.create_service(&op, service("web")).await.unwrap_err();
    assert_eq!(err.field(), Some("name"));
    assert!(matches!(err, AppError::Conflict(_)));
    assert_eq!(b.inventory.create_service(&op, service("x")).await.unwrap_err().field(), Some("name"));

    let p = b.inventory.create_project(&op, web.id, project("frontend", shard.id)).await.unwrap();
    let farm = b
        .inventory
        .create_farm(&op, p.id, FarmInput { name: "farm".into(), hosts: "a.example.com".into() })
        .await
        .unwrap();
    let audit_before = count(&b, "audit").await;
    let err = b.inventory.add_hosts(&op, farm.id, "b.example.com\nbad_host, c.example.com:80").await.unwrap_err();
    assert!(err.to_string().contains("bad_host") && err.to_string().contains("c.example.com:80"), "{err}");
    assert_eq!(count(&b, "host").await, 1);
    assert_eq!(count(&b, "audit").await, audit_before);
    assert_eq!(b.inventory.add_hosts(&op, farm.id, "a.example.com b.example.com b.example.com").await.unwrap(), 1);
    assert!(
        b.inventory.create_farm(&op, p.id, FarmInput { name: "second".into(), hosts: String::new() }).await.is_err()
    );

    let exporter = |port: i64, path: &str| ExporterInput {
        job: "node".into(),
        port,
        path: path.into(),
        scheme: Scheme::Http,
        enabled: true,
    };
    assert_eq!(b.inventory.create_exporter(&op, p.id, exporter(0, "")).await.unwrap_err().field(), Some("port"));
    let err = b.inventory.create_exporter(&op, p.id, exporter(9100, "/m?a=1&a=2")).await.unwrap_err();
    assert!(err.to_string().contains("List values"), "{err}");
    let e = b.inventory.create_exporter(&op, p.id, exporter(9100, "/metrics?a=1&a=1&b=")).await.unwrap();
    assert_eq!(e.path, "/metrics?a=1");
    assert!(matches!(
        b.inventory.create_exporter(&op, p.id, exporter(9100, "/metrics?a=1")).await,
        Err(AppError::Conflict(_))
    ));

    // A disabled shard takes no new projects.
    let off = b
        .inventory
        .create_shard(&op, ShardInput { enabled: false, ..ShardInput::new("off", "http://p") })
        .await
        .unwrap();
    let err = b.inventory.create_project(&op, web.id, project("other", off.id)).await.unwrap_err();
    assert_eq!(err.field(), Some("shard_id"));
    assert!(matches!(b.inventory.project(&op, ProjectId(999)).await, Err(AppError::NotFound(_))));
});

on_both_databases!(targets_follow_every_change, |b: Backend| async move {
    let shard = shard(&b).await;
    let op = Actor::System;
    let web = b.inventory.create_service(&op, service("web")).await.unwrap();
    let p = b.inventory.create_project(&op, web.id, project("frontend", shard.id)).await.unwrap();
    let e = b
        .inventory
        .create_exporter(
            &op,
            p.id,
            ExporterInput { job: "node".into(), port: 9100, path: String::new(), scheme: Scheme::Https, enabled: true },
        )
        .await
        .unwrap();
    let all = Default::default();
    assert_eq!(json(b.exports.targets(&all).await.unwrap()), json("[]"), "no farm, no targets");
    let farm = b
        .inventory
        .create_farm(&op, p.id, FarmInput { name: "farm".into(), hosts: "b.example.com a.example.com".into() })
        .await
        .unwrap();
    let t = json(b.exports.targets(&all).await.unwrap());
    assert_eq!(t[0]["targets"], serde_json::json!(["a.example.com:9100", "b.example.com:9100"]));
    assert_eq!(t[0]["labels"]["__scheme__"], "https");

    // Filters by service and project name.
    let only = |service: Option<&str>, project: Option<&str>| app::backend::exports::ExportFilter {
        service: service.map(Into::into),
        project: project.map(Into::into),
        ..Default::default()
    };
    assert_eq!(json(b.exports.targets(&only(Some("web"), None)).await.unwrap()), t);
    assert_eq!(json(b.exports.targets(&only(Some("nope"), None)).await.unwrap()), json("[]"));
    assert_eq!(json(b.exports.targets(&only(None, Some("frontend"))).await.unwrap()), t);

    b.inventory.set_exporter_enabled(&op, e.id, false).await.unwrap();
    assert_eq!(json(b.exports.targets(&all).await.unwrap()), json("[]"));
    b.inventory.set_exporter_enabled(&op, e.id, true).await.unwrap();
    b.inventory.delete_farm(&op, farm.id).await.unwrap();
    assert_eq!(json(b.exports.targets(&all).await.unwrap()), json("[]"));
    assert_eq!(count(&b, "host").await, 0);

    // Every change is in the audit log with its before and after.
    let log = b.audit.list(&op, &Default::default(), 1).await.unwrap();
    let bodies: Vec<&str> = log.entries.iter().map(|e| e.body.as_str()).collect();
    assert!(bodies.contains(&"Disabled exporter node:9100"), "{bodies:?}");
    let disabled = log.entries.iter().find(|e| e.body == "Disabled exporter node:9100").unwrap();
    assert!(disabled.old.as_deref().unwrap().contains("\"enabled\":true"));
    assert!(disabled.data.as_deref().unwrap().contains("\"enabled\":false"));
    let project_log = b
        .audit
        .list(
            &op,
            &app::backend::audit::AuditFilter { object_type: Some("project".into()), object_id: Some(p.id.0) },
            1,
        )
        .await
        .unwrap();
    assert!(project_log.entries.iter().any(|e| e.body.starts_with("Deleted farm")));
});

on_both_databases!(hosts_search_and_register_server, |b: Backend| async move {
    let shard = shard(&b).await;
    let op = Actor::System;
    for (svc, proj) in [("web", "frontend"), ("db", "primary")] {
        let s = b.inventory.create_service(&op, service(svc)).await.unwrap();
        let p = b.inventory.create_project(&op, s.id, project(proj, shard.id)).await.unwrap();
        b.inventory
            .create_farm(&op, p.id, FarmInput { name: format!("{proj}-farm"), hosts: "shared.example.com".into() })
            .await
            .unwrap();
    }
    let host = b.inventory.host(&op, "shared.example.com").await.unwrap();
    assert_eq!(host.placements.iter().map(|p| p.service_name.as_str()).collect::<Vec<_>>(), ["db", "web"]);
    let defaults = b.inventory.form_choices(&op).await.unwrap().default_exporters;
    let quick: Vec<String> = defaults.iter().map(|d| format!("{}:{}", d.job, d.port)).collect();
    assert_eq!(quick, ["apache:9117", "mysqld:9104", "nginx:9113", "node:9100"], "a new installation's quick-add list");
    let hits = b.search(&op, "PRIM").await.unwrap();
    assert!(
        matches!(&hits[..], [SearchHit::Project { name, .. }, SearchHit::Farm { name: farm, .. }] if name == "primary" && farm == "primary-farm"),
        "{hits:?}"
    );
    // Rules are found by name.
    b.rules.install_default_pack().await.unwrap();
    let hits = b.search(&op, "instancedown").await.unwrap();
    assert!(hits.iter().any(|h| matches!(h, SearchHit::Rule { owner, .. } if owner == "site")), "{hits:?}");
    assert_eq!(b.search(&op, "%").await.unwrap(), vec![], "LIKE wildcards are literal");

    use app::backend::inventory::Registered;
    assert_eq!(
        b.inventory.register_server(&op, "main", "prom1", 9090).await.unwrap(),
        Registered::Created { shard_created: false }
    );
    assert_eq!(
        b.inventory.register_server(&op, "east", "prom1", 9090).await.unwrap(),
        Registered::Moved { from: "main".into() }
    );
    let shards = b.inventory.shards(&op).await.unwrap();
    let main = shards.iter().find(|s| s.shard.name == "main").unwrap();
    assert_eq!((main.projects, main.servers.len()), (2, 0));
});

on_both_databases!(probes_are_edited_and_deleted_only_when_unused, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let shard = shard(&b).await;
    let web = b.inventory.create_service(&admin, service("web")).await.unwrap();
    let p = b.inventory.create_project(&admin, web.id, project("frontend", shard.id)).await.unwrap();
    let used = b.inventory.create_probe(&admin, "http_2xx", "").await.unwrap();
    let spare = b.inventory.create_probe(&admin, "tcp_connect", "").await.unwrap();
    b.inventory
        .create_url(&admin, p.id, UrlInput { url: "https://web.example.com".into(), probe_id: used.id })
        .await
        .unwrap();
    // The page's form refuses the same URL with the same probe (a second row probed it twice);
    // another probe is another check. Who may not change the project is told only that.
    let again = UrlInput { url: " https://web.example.com ".into(), probe_id: used.id };
    let e = b.inventory.refuse_known_url(&admin, p.id, &again).await.unwrap_err();
    assert_eq!((e.status(), e.field()), (409, Some("url")), "{e}");
    assert!(e.to_string().contains("probes https://web.example.com with http_2xx already"), "{e}");
    let other = UrlInput { url: "https://web.example.com".into(), probe_id: spare.id };
    b.inventory.refuse_known_url(&admin, p.id, &other).await.unwrap();
    let stranger = common::user(&b, "stranger").await;
    assert_eq!(b.inventory.refuse_known_url(&stranger, p.id, &again).await.unwrap_err().status(), 403);
    let usage = b.inventory.probe_usage(&admin).await.unwrap();
    assert_eq!(
        usage.iter().map(|u| (u.probe.module.as_str(), u.urls)).collect::<Vec<_>>(),
        [("http_2xx", 1), ("tcp_connect", 0)]
    );

    // Renamed, the URLs file follows; a taken name is a conflict.
    let renamed = b.inventory.update_probe(&admin, used.id, "http_200", "plain GET").await.unwrap();
    assert_eq!(renamed.module, "http_200");
    let (_, urls) = common::get(&common::router(&b), "/api/v1/urls").await;
    assert_eq!(json(&urls)[0]["labels"]["__param_module"], "http_200", "{urls}");
    let taken = b.inventory.update_probe(&admin, spare.id, "http_200", "").await.unwrap_err();
    assert_eq!(taken.status(), 409, "{taken}");

    // In use: refused, nothing deleted; unused: gone.
    let refused = b.inventory.delete_probe(&admin, used.id).await.unwrap_err();
    assert_eq!(refused.status(), 409, "{refused}");
    assert!(refused.to_string().contains("1 URL is checked with probe"), "{refused}");
    assert_eq!(common::count(&b, "url").await, 1);
    b.inventory.delete_probe(&admin, spare.id).await.unwrap();
    assert_eq!(b.inventory.probe_usage(&admin).await.unwrap().len(), 1);

    // Only site admins change probes.
    let viewer = common::user(&b, "viewer").await;
    assert_eq!(b.inventory.update_probe(&viewer, used.id, "x_y", "").await.unwrap_err().status(), 403);
    assert_eq!(b.inventory.delete_probe(&viewer, used.id).await.unwrap_err().status(), 403);
});

on_both_databases!(search_finds_notifiers_by_what_readers_see_never_by_their_secret, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let web = b.inventory.create_service(&admin, service("web")).await.unwrap();
    let owner = b.notifiers.owner("service", web.id.0).await.unwrap();
    let hook = NotifierInput {
        kind: "webhook".into(),
        value: "https://hooks.example.com/services/T000/SECRETPATH".into(),
        alias: "ops-hook".into(),
        ..Default::default()
    };
    b.notifiers.create(&admin, &owner, hook).await.unwrap();
    // By alias and by host, shown masked; the secret part of the target finds nothing.
    for q in ["ops-hook", "hooks.example.com"] {
        let hits = b.search(&admin, q).await.unwrap();
        let [SearchHit::Notifier { href, target, owner, .. }] = &hits[..] else { panic!("{q}: {hits:?}") };
        assert_eq!((href.as_str(), owner.as_str()), (format!("/service/{}#notifiers", web.id).as_str(), "service web"));
        assert!(!target.contains("SECRET") && !target.contains("T000"), "{target}");
    }
    assert_eq!(b.search(&admin, "secretpath").await.unwrap(), vec![]);
    assert_eq!(b.search(&admin, "t000/").await.unwrap(), vec![]);
});

on_both_databases!(a_services_history_holds_its_projects_changes, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let shard = shard(&b).await;
    let web = b.inventory.create_service(&admin, service("web")).await.unwrap();
    let api = b.inventory.create_service(&admin, service("api")).await.unwrap();
    let p = b.inventory.create_project(&admin, web.id, project("frontend", shard.id)).await.unwrap();
    let other = b.inventory.create_project(&admin, api.id, project("backend", shard.id)).await.unwrap();
    // Filed under the projects (their farms), not the services.
    b.inventory
        .create_farm(&admin, p.id, FarmInput { name: "web-farm".into(), hosts: "a.example.com".into() })
        .await
        .unwrap();
    b.inventory
        .create_farm(&admin, other.id, FarmInput { name: "api-farm".into(), hosts: "b.example.com".into() })
        .await
        .unwrap();
    let filter = app::backend::audit::AuditFilter { object_type: Some("service".into()), object_id: Some(web.id.0) };
    let page = b.audit.list(&admin, &filter, 1).await.unwrap();
    // The History names what it is of; an id no one may see names nothing.
    assert_eq!(page.subject.as_deref(), Some("web"));
    let unknown = app::backend::audit::AuditFilter { object_type: Some("service".into()), object_id: Some(999) };
    assert_eq!(b.audit.list(&admin, &unknown, 1).await.unwrap().subject, None);
    let web_history = page.entries.into_iter().map(|e| e.body).collect::<Vec<_>>().join("\n");
    assert!(web_history.contains("Created service web"), "{web_history}");
    assert!(web_history.contains("web-farm"), "a project's farm is in its service's history: {web_history}");
    assert!(!web_history.contains("api-farm") && !web_history.contains("service api"), "{web_history}");
});
