//! Roles as Promgen 0.73 has them (spec 8.2): Admin, Editor and Viewer on a service or a
//! project, for a user or a group, inherited from a service to its projects; owners are
//! Admin; only owners delete; Admins manage members; a user left without a role loses their
//! subscriptions. Every change asks the one policy.

mod common;
use app::backend::Backend;
use app::backend::roles::Principal;
use app::error::AppError;
use app::model::*;

fn forbidden<T: std::fmt::Debug>(r: Result<T, AppError>) -> String {
    match r {
        Err(AppError::Forbidden(why)) => why,
        other => panic!("expected 403, got {other:?}"),
    }
}

on_both_databases!(roles_decide_who_may_do_what, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let owner = common::user(&b, "owner").await;
    let dev = common::user(&b, "dev").await;
    let dev_id = dev.user_id().unwrap();
    let shard = b.inventory.create_shard(&admin, ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let s = b
        .inventory
        .create_service(&owner, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let p = b
        .inventory
        .create_project(
            &owner,
            s.id,
            ProjectInput { name: "frontend".into(), description: String::new(), shard_id: shard.id },
        )
        .await
        .unwrap();
    let (service, project) = (Object::Service(s.id), Object::Project(p.id));
    let exporter = || ExporterInput {
        job: "node".into(),
        port: 9100,
        path: String::new(),
        scheme: Default::default(),
        enabled: true,
    };

    // No role: nothing may be changed, and the refusal says what it needs.
    let why = forbidden(b.inventory.create_exporter(&dev, p.id, exporter()).await);
    assert!(why.contains("change this project") && why.contains("Editor or Admin"), "{why}");
    forbidden(b.roles.grant(&dev, service, Principal::User(dev_id), Role::Admin).await);

    // Viewer on the service: sees, changes nothing.
    b.roles.grant(&owner, service, Principal::User(dev_id), Role::Viewer).await.unwrap();
    assert!(b.roles.members(&dev, project).await.is_ok(), "a service's Viewer sees its projects");
    forbidden(b.inventory.create_exporter(&dev, p.id, exporter()).await);

    // Editor on the project: changes the project's things, not the service, deletes nothing.
    b.roles.grant(&owner, project, Principal::User(dev_id), Role::Editor).await.unwrap();
    // The audit log names the project, not its id.
    assert_eq!(common::count_where(&b, "audit", "body = 'Gave user dev the Editor role on project frontend'").await, 1);
    let e = b.inventory.create_exporter(&dev, p.id, exporter()).await.unwrap();
    forbidden(
        b.inventory.update_service(&dev, s.id, ServiceInput { name: "web".into(), description: "x".into() }).await,
    );
    forbidden(b.roles.grant(&dev, project, Principal::User(dev_id), Role::Admin).await);
    let why = forbidden(b.inventory.delete_project(&dev, p.id).await);
    assert!(why.contains("only its owner"), "{why}");
    b.inventory.delete_exporter(&dev, e.id).await.unwrap();

    // One role per principal per object: a new grant replaces the old one.
    b.roles.grant(&owner, service, Principal::User(dev_id), Role::Editor).await.unwrap();
    let members = b.roles.members(&owner, service).await.unwrap();
    let roles: Vec<(&str, Role, bool)> = members.iter().map(|m| (m.name.as_str(), m.role, m.owner)).collect();
    assert_eq!(roles, [("owner", Role::Admin, true), ("dev", Role::Editor, false)]);
    // The audit log says it was a change, from what to what ("Gave" read as a new member).
    let (body,): (String,) =
        sqlx::query_as("SELECT body FROM audit ORDER BY id DESC LIMIT 1").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!(body, format!("Changed user dev's role on service {} from Viewer to Editor", s.name));
    // Adding (Add member) never replaces: a 409 at `who`, and the Editor role stays.
    let e = b.roles.add(&owner, service, Principal::User(dev_id), Role::Viewer).await.unwrap_err();
    assert!(matches!(&e, AppError::Conflict(f) if f.field == "who"), "{e:?}");
    assert_eq!(b.roles.members(&owner, service).await.unwrap()[1].role, Role::Editor);
    // Two Adds of one user at the same moment: one lands, the unique index refuses the other.
    let qa = common::user(&b, "qa").await.user_id().unwrap();
    let (one, two) = tokio::join!(
        b.roles.add(&owner, project, Principal::User(qa), Role::Viewer),
        b.roles.add(&owner, project, Principal::User(qa), Role::Admin)
    );
    assert!(one.is_ok() != two.is_ok(), "{one:?} {two:?}");
    assert!(matches!(one.and(two), Err(AppError::Conflict(f)) if f.field == "who"));
    b.roles.revoke(&owner, project, Principal::User(qa)).await.unwrap();

    // Admin through a group: manages members, still does not delete what it does not own.
    b.roles.revoke(&owner, service, Principal::User(dev_id)).await.unwrap();
    let g = b.roles.create_group(&dev, "sre").await.unwrap();
    forbidden(b.roles.add_group_members(&dev, g.id, &[dev_id], GroupRole::Member).await);
    b.roles.add_group_members(&admin, g.id, &[dev_id], GroupRole::Member).await.unwrap();
    // Adding a member again, or twice at once: one lands, the other is a 409 naming them.
    let just_qa = [qa];
    let (one, two) = tokio::join!(
        b.roles.add_group_members(&admin, g.id, &just_qa, GroupRole::Member),
        b.roles.add_group_members(&admin, g.id, &just_qa, GroupRole::Admin)
    );
    assert!(one.is_ok() != two.is_ok(), "{one:?} {two:?}");
    let e = one.and(two).unwrap_err();
    assert!(matches!(&e, AppError::Conflict(f) if f.field == "user_ids" && f.message.starts_with("user qa ")), "{e:?}");
    b.roles.remove_group_member(&admin, g.id, qa).await.unwrap();
    // One named twice is added once, and named in the log; none named records nothing.
    let entries = common::count(&b, "audit").await;
    b.roles.add_group_members(&admin, g.id, &[], GroupRole::Member).await.unwrap();
    assert_eq!(common::count(&b, "audit").await, entries);
    let named = || common::count_where(&b, "audit", "body = 'Added user qa to group sre as Member'");
    let before = named().await;
    b.roles.add_group_members(&admin, g.id, &[qa, qa], GroupRole::Member).await.unwrap();
    assert_eq!(named().await, before + 1);
    b.roles.remove_group_member(&admin, g.id, qa).await.unwrap();
    b.roles.grant(&owner, service, Principal::Group(g.id), Role::Admin).await.unwrap();
    b.inventory
        .update_service(&dev, s.id, ServiceInput { name: "web".into(), description: "by sre".into() })
        .await
        .unwrap();
    b.roles.grant(&dev, project, Principal::User(dev_id), Role::Viewer).await.unwrap();
    forbidden(b.inventory.delete_service(&dev, s.id).await);

    // The owner is Admin until ownership moves: not demoted, not removed.
    let owner_id = owner.user_id().unwrap();
    assert!(matches!(
        b.roles.grant(&admin, service, Principal::User(owner_id), Role::Viewer).await,
        Err(AppError::Conflict(_))
    ));
    assert!(matches!(b.roles.revoke(&admin, service, Principal::User(owner_id)).await, Err(AppError::Conflict(_))));

    // A user left without any role loses their subscriptions.
    let on_project = b.notifiers.owner("project", p.id.0).await.unwrap();
    b.notifiers.subscribe(&dev, &on_project, true).await.unwrap();
    let subscribed =
        || async { common::count_where(&b, "notifier", &format!("kind = 'user' AND value = '{}'", dev_id.0)).await };
    assert_eq!(subscribed().await, 1);
    b.roles.revoke(&owner, project, Principal::User(dev_id)).await.unwrap();
    assert_eq!(subscribed().await, 1, "still Admin through the group on the service");
    b.roles.remove_group_member(&admin, g.id, dev_id).await.unwrap();
    assert_eq!(subscribed().await, 0, "no role left on the project or its service");
    forbidden(b.inventory.create_exporter(&dev, p.id, exporter()).await);

    // The owner deletes; the site admin may do anything.
    b.inventory.delete_project(&owner, p.id).await.unwrap();
    b.inventory.delete_service(&admin, s.id).await.unwrap();
    assert_eq!(common::count(&b, "role_grant").await, 0, "grants go with their objects");
});

// Subscribing needs a role on what one subscribes to.
on_both_databases!(subscribing_needs_a_role, |b: Backend| async move {
    let owner = common::user(&b, "owner").await;
    let stranger = common::user(&b, "stranger").await;
    let s = b
        .inventory
        .create_service(&owner, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let on_service = b.notifiers.owner("service", s.id.0).await.unwrap();
    forbidden(b.notifiers.subscribe(&stranger, &on_service, true).await);
    b.roles
        .grant(&owner, Object::Service(s.id), Principal::User(stranger.user_id().unwrap()), Role::Viewer)
        .await
        .unwrap();
    b.notifiers.subscribe(&stranger, &on_service, true).await.unwrap();
    b.notifiers.subscribe(&owner, &on_service, true).await.unwrap();

    // What changes nothing records nothing: a second subscribe or unsubscribe, the role one
    // holds given again, a group member made what they are.
    let entries =
        || async { sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM audit").fetch_one(&b.db.pool).await.unwrap().0 };
    b.notifiers.subscribe(&stranger, &on_service, false).await.unwrap();
    let before = entries().await;
    b.notifiers.subscribe(&owner, &on_service, true).await.unwrap();
    b.notifiers.subscribe(&stranger, &on_service, false).await.unwrap();
    let stranger_id = stranger.user_id().unwrap();
    b.roles.grant(&owner, Object::Service(s.id), Principal::User(stranger_id), Role::Viewer).await.unwrap();
    let group = b.roles.create_own_group(&owner, "ops").await.unwrap();
    b.roles.add_group_members(&owner, group.id, &[stranger_id], GroupRole::Member).await.unwrap();
    let after_add = entries().await;
    assert_eq!(after_add, before + 2, "the group's making and its member are changes");
    b.roles.set_group_role(&owner, group.id, stranger_id, GroupRole::Member).await.unwrap();
    assert_eq!(entries().await, after_add);
    // A change is recorded, naming the member.
    b.roles.set_group_role(&owner, group.id, stranger_id, GroupRole::Admin).await.unwrap();
    let (body, old, new): (String, String, String) =
        sqlx::query_as("SELECT body, old, data FROM audit ORDER BY id DESC LIMIT 1")
            .fetch_one(&b.db.pool)
            .await
            .unwrap();
    assert_eq!(body, "Made user stranger Admin of group ops");
    // The change names them too (it read "User 2").
    assert_eq!(old, r#"{"who":"user stranger","role":"Member"}"#);
    assert_eq!(new, r#"{"who":"user stranger","role":"Admin"}"#);
});

// Reading follows roles: without one, a user neither lists nor opens another team's service,
// project, rules or notifiers; a site admin may open read access to every logged-in user.
on_both_databases!(reading_follows_roles, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let owner = common::user(&b, "owner").await;
    let stranger = common::user(&b, "stranger").await;
    let shard = b.inventory.create_shard(&admin, ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let s = b
        .inventory
        .create_service(&owner, ServiceInput { name: "web".into(), description: String::new() })
        .await
        .unwrap();
    let p = b
        .inventory
        .create_project(
            &owner,
            s.id,
            ProjectInput { name: "frontend".into(), description: String::new(), shard_id: shard.id },
        )
        .await
        .unwrap();
    let service_rules = b.rules.owner(OwnerKind::Service, s.id.0).await.unwrap();
    let on_project = b.notifiers.owner("project", p.id.0).await.unwrap();

    assert!(b.inventory.services(&stranger).await.unwrap().is_empty());
    let why = forbidden(b.inventory.service(&stranger, s.id).await);
    assert!(!why.contains("project"), "no role anywhere, nothing named: {why}");
    forbidden(b.inventory.project(&stranger, p.id).await);
    forbidden(b.rules.listing(&stranger, &service_rules).await);
    forbidden(b.notifiers.listing(&stranger, &on_project).await);
    assert!(b.search(&stranger, "web").await.unwrap().is_empty());
    assert_eq!(b.audit.list(&stranger, &Default::default(), 1).await.unwrap().entries.len(), 0);
    // The shard page counts every project on it, and names only those its reader may see.
    let on_shard = |list: Vec<ShardSummary>| (list[0].projects, list[0].project_names.clone());
    assert_eq!(on_shard(b.inventory.shards(&stranger).await.unwrap()), (1, vec![]));
    let link = "web/frontend".to_string();
    assert_eq!(on_shard(b.inventory.shards(&admin).await.unwrap()), (1, vec![link.clone()]));

    // A project's Viewer sees the project under its service on the home page, not the service.
    b.roles
        .grant(&owner, Object::Project(p.id), Principal::User(stranger.user_id().unwrap()), Role::Viewer)
        .await
        .unwrap();
    let home = b.inventory.services(&stranger).await.unwrap();
    assert_eq!(home.iter().map(|s| (s.service.name.as_str(), s.projects.len())).collect::<Vec<_>>(), [("web", 1)]);
    assert!(!home[0].readable, "the home page names the service without a link");
    assert!(b.inventory.services(&owner).await.unwrap()[0].readable);
    // The service page (which the project page links) says where their role is.
    let why = forbidden(b.inventory.service(&stranger, s.id).await);
    assert!(why.ends_with("Your role is on its project \"frontend\" only: its page is yours to see."), "{why}");
    assert!(b.inventory.project(&stranger, p.id).await.is_ok());
    assert_eq!(on_shard(b.inventory.shards(&stranger).await.unwrap()), (1, vec![link]));
    // The service's rules apply to the project: its Viewer reads them (the project page links
    // each), not the service page, and changes none.
    let input = RuleInput {
        kind: RuleKind::Alert,
        name: "WebDown".into(),
        expr: "up == 0".into(),
        enabled: true,
        ..Default::default()
    };
    let rule = b.rules.create(&owner, &service_rules, input.clone()).await.unwrap();
    assert!(b.rules.detail(&stranger, rule.id).await.is_ok());
    assert!(b.rules.listing(&stranger, &service_rules).await.is_ok());
    assert!(!b.rules.detail(&stranger, rule.id).await.unwrap().can_edit);
    // The rule page's Silence button: for Editors of the rule's owner; a site rule's (silenced
    // for a service or project) for whoever edits one, never for a Viewer.
    assert!(!b.rules.detail(&stranger, rule.id).await.unwrap().may_silence);
    assert!(b.rules.detail(&owner, rule.id).await.unwrap().may_silence);
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    let everywhere = RuleInput { name: "AnyDown".into(), ..input.clone() };
    let site_rule = b.rules.create(&admin, &site, everywhere).await.unwrap().id;
    assert!(!b.rules.detail(&stranger, site_rule).await.unwrap().may_silence);
    let site_detail = b.rules.detail(&owner, site_rule).await.unwrap();
    assert!(site_detail.may_silence && !site_detail.can_edit);
    // A host: a Viewer of its project gets no Silence button there; an Editor one for the
    // project; only a site admin one for the host everywhere (by `instance` alone).
    let farm = FarmInput { name: "front".into(), hosts: "web-1.example.com".into() };
    b.inventory.create_farm(&owner, p.id, farm).await.unwrap();
    let host = b.inventory.host(&stranger, "web-1.example.com").await.unwrap();
    assert!(!host.placements[0].may_silence && !host.may_silence_everywhere);
    let host = b.inventory.host(&owner, "web-1.example.com").await.unwrap();
    assert!(host.placements[0].may_silence && !host.may_silence_everywhere);
    assert!(b.inventory.host(&admin, "web-1.example.com").await.unwrap().may_silence_everywhere);

    // Open read access: everyone logged in reads, still changes nothing.
    forbidden(b.site.set_open_read(&owner, true).await);
    b.site.set_open_read(&admin, true).await.unwrap();
    assert!(b.inventory.service(&stranger, s.id).await.is_ok());
    assert!(b.rules.listing(&stranger, &service_rules).await.is_ok());
    forbidden(
        b.inventory.update_service(&stranger, s.id, ServiceInput { name: "web".into(), description: "x".into() }).await,
    );
});

// Alerts follow roles too: the page, the history, an alert and its payload show the alerts of
// the services and projects one may see.
on_both_databases!(alerts_follow_roles, |b: Backend| async move {
    let admin = common::admin(&b).await;
    let owner = common::user(&b, "owner").await;
    let stranger = common::user(&b, "stranger").await;
    let shard = b.inventory.create_shard(&admin, ShardInput::new("main", "http://127.0.0.1:9")).await.unwrap();
    let service = ServiceInput { name: "test-service".into(), description: String::new() };
    let s = b.inventory.create_service(&owner, service).await.unwrap();
    let project = ProjectInput { name: "test-project".into(), description: String::new(), shard_id: shard.id };
    b.inventory.create_project(&owner, s.id, project).await.unwrap();
    b.alerts.ingest(&admin, common::fixture("alertmanager.json").as_bytes()).await.unwrap();

    let page = b.alerts.page(&owner, &[]).await.unwrap();
    assert_eq!(page.alerts.len(), 1);
    assert!(page.may_silence);
    let id = page.alerts[0].id;
    assert!(b.alerts.detail(&owner, id).await.unwrap().may_silence);
    assert!(b.alerts.page(&stranger, &[]).await.unwrap().alerts.is_empty());
    assert!(b.alerts.history(&stranger, &[], 1).await.unwrap().is_empty());
    forbidden(b.alerts.detail(&stranger, id).await);
    forbidden(b.alerts.payload(&stranger, id).await);
    b.roles
        .grant(&owner, Object::Service(s.id), Principal::User(stranger.user_id().unwrap()), Role::Viewer)
        .await
        .unwrap();
    assert!(b.alerts.payload(&stranger, id).await.is_ok());
    // A Viewer reads the alert but gets no Silence button: silencing needs Editor.
    assert!(!b.alerts.page(&stranger, &[]).await.unwrap().may_silence);
    assert!(!b.alerts.detail(&stranger, id).await.unwrap().may_silence);
    b.roles
        .grant(&owner, Object::Service(s.id), Principal::User(stranger.user_id().unwrap()), Role::Editor)
        .await
        .unwrap();
    assert!(b.alerts.detail(&stranger, id).await.unwrap().may_silence);
    // A later message of the same group (a group may span services) about a service the
    // reader has no role on is not named to them; an admin sees it.
    let other = common::fixture("alertmanager.json")
        .replace("\"service\": \"test-service\"", "\"service\": \"other\"")
        .replace("\"project\": \"test-project\"", "\"project\": \"other\"")
        .replace("77219b8504405", "87219b8504405");
    b.alerts.ingest(&admin, other.as_bytes()).await.unwrap();
    assert_eq!(b.alerts.detail(&stranger, id).await.unwrap().later, None);
    assert!(b.alerts.detail(&admin, id).await.unwrap().later.is_some());
});

// What the members panels and the groups pages call: an owner adds a user and a group with
// roles, changes and removes them; whoever makes a group in the UI is its admin.
on_both_databases!(members_through_server_functions, |b: Backend| async move {
    use axum::http::StatusCode;
    use leptos::server_fn::ServerFn;
    let app = common::router(&b);
    let owner = common::login(&app, &b, "owner", false).await;
    let dev = common::login(&app, &b, "dev", false).await;
    let call = |path: &'static str, body: String, cookie: String| {
        let app = app.clone();
        async move {
            let (status, _, text) = common::send(&app, common::form(path, &body, Some(&cookie), None)).await;
            (status, serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default())
        }
    };
    let (status, s) =
        call(app::api::inventory::CreateService::PATH, "name=web&description=".into(), owner.clone()).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let sid = s["id"].as_i64().unwrap();
    let members = app::api::members::ObjectMembers::PATH;
    let (_, m) = call(members, format!("owner_kind=service&owner_id={sid}"), owner.clone()).await;
    assert_eq!(m["may_manage"], true);
    assert_eq!(m["members"][0]["name"], "owner");
    assert_eq!(m["members"][0]["owner"], true);

    // dev sees nothing until given a role.
    let (status, _) = call(members, format!("owner_kind=service&owner_id={sid}"), dev.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let set = app::api::members::SetMemberRole::PATH;
    let (status, e) = call(
        set,
        format!("owner_kind=service&owner_id={sid}&principal_kind=user&who=nobody&role=VIEWER"),
        owner.clone(),
    )
    .await;
    // A name that is no one is the form's mistake, at its field.
    assert_eq!(status, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(e["Invalid"]["field"], "who", "{e}");
    let (status, _) =
        call(set, format!("owner_kind=service&owner_id={sid}&principal_kind=user&who=dev&role=EDITOR"), owner.clone())
            .await;
    assert_eq!(status, StatusCode::OK);
    // Adding one who is already a member is refused at the field, naming the role, and
    // changes nothing; the table's Change (`set_member_role`) changes roles.
    let add = app::api::members::AddMember::PATH;
    let (status, e) =
        call(add, format!("owner_kind=service&owner_id={sid}&principal_kind=user&who=dev&role=ADMIN"), owner.clone())
            .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["Conflict"]["field"], "who", "{e}");
    assert!(e["Conflict"]["message"].as_str().unwrap().contains("already holds the Editor role here"), "{e}");
    // A name of 70,000 characters is refused at its field, the message that quotes it cut (whole,
    // it was past what the edge reads of an error: a 500).
    let long = format!("owner_kind=service&owner_id={sid}&principal_kind=user&who={}&role=ADMIN", "x".repeat(70_000));
    let (status, e) = call(add, long, owner.clone()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(e["Invalid"]["field"], "who");
    assert!(e["Invalid"]["message"].as_str().unwrap().chars().count() <= app::error::MESSAGE_MAX + 1);
    let (_, m) = call(members, format!("owner_kind=service&owner_id={sid}"), dev.clone()).await;
    assert_eq!(m["may_manage"], false);
    assert_eq!(m["members"][1]["role"], "Editor");
    // An Editor edits but may not delete: the page offers no Delete.
    let (_, detail) = call(app::api::inventory::GetService::PATH, format!("id={sid}"), dev.clone()).await;
    assert_eq!(
        (detail["can_edit"].clone(), detail["can_delete"].clone()),
        (serde_json::json!(true), serde_json::json!(false))
    );
    // The owner stays Admin.
    let (status, e) = call(
        set,
        format!("owner_kind=service&owner_id={sid}&principal_kind=user&who=owner&role=VIEWER"),
        owner.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");

    // dev makes a group, is its admin, and the owner gives the group Viewer.
    let (status, g) = call(app::api::members::CreateGroup::PATH, "name=ops".into(), dev.clone()).await;
    assert_eq!(status, StatusCode::OK, "{g}");
    let gid = g["id"].as_i64().unwrap();
    let (_, detail) = call(app::api::members::GetGroup::PATH, format!("id={gid}"), dev.clone()).await;
    assert_eq!(detail["may_manage"], true);
    assert_eq!(detail["members"][0]["username"], "dev");
    // Its only admin stays admin in the UI.
    let (status, e) =
        call(app::api::members::SetGroupMember::PATH, format!("id={gid}&username=dev&role=MEMBER"), dev.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    let (status, _) =
        call(add, format!("owner_kind=service&owner_id={sid}&principal_kind=group&who=ops&role=VIEWER"), owner.clone())
            .await;
    assert_eq!(status, StatusCode::OK);
    // The group page's Add member, likewise: owner joins; adding again is refused.
    let add_to_group = app::api::members::AddGroupMember::PATH;
    let (status, e) = call(add_to_group, format!("id={gid}&username=owner&role=MEMBER"), dev.clone()).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let (status, e) = call(add_to_group, format!("id={gid}&username=owner&role=ADMIN"), dev.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["Conflict"]["field"], "username", "{e}");
    let (_, detail) = call(app::api::members::GetGroup::PATH, format!("id={gid}"), dev.clone()).await;
    let roles: Vec<_> =
        detail["members"].as_array().unwrap().iter().map(|m| (m["username"].clone(), m["role"].clone())).collect();
    assert!(roles.contains(&(serde_json::json!("owner"), serde_json::json!("Member"))), "{detail}");
    let (_, detail) = call(app::api::members::GetGroup::PATH, format!("id={gid}"), dev.clone()).await;
    assert_eq!(detail["resources"][0]["name"], "web");

    // Removing dev's own role leaves the group's.
    let dev_id = b.auth.user_by_name("dev").await.unwrap().id.0;
    let (status, _) = call(
        app::api::members::RemoveMember::PATH,
        format!("owner_kind=service&owner_id={sid}&principal_kind=user&principal_id={dev_id}"),
        owner.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(members, format!("owner_kind=service&owner_id={sid}"), dev.clone()).await;
    assert_eq!(status, StatusCode::OK, "a Viewer through the group");
});

// The profile lists one's subscriptions and ends them; a provider's user has no password form.
on_both_databases!(profile_lists_subscriptions, |b: Backend| async move {
    use axum::http::StatusCode;
    use leptos::server_fn::ServerFn;
    let app = common::router(&b);
    let owner = common::login(&app, &b, "owner", false).await;
    let call = |path: &'static str, body: String| {
        let (app, owner) = (app.clone(), owner.clone());
        async move {
            let (status, _, text) = common::send(&app, common::form(path, &body, Some(&owner), None)).await;
            assert_eq!(status, StatusCode::OK, "{path}: {text}");
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default()
        }
    };
    let s = call(app::api::inventory::CreateService::PATH, "name=web&description=".into()).await;
    let sid = s["id"].as_i64().unwrap();
    call(app::api::alerts::Subscribe::PATH, format!("owner_kind=service&owner_id={sid}&on=true")).await;
    let p = call(app::api::alerts::GetProfile::PATH, String::new()).await;
    assert_eq!(p["subscriptions"], serde_json::json!([{"owner_kind": "service", "owner_id": sid, "name": "web"}]));
    assert_eq!(p["has_password"], true);
    call(app::api::alerts::Subscribe::PATH, format!("owner_kind=service&owner_id={sid}&on=false")).await;
    let p = call(app::api::alerts::GetProfile::PATH, String::new()).await;
    assert_eq!(p["subscriptions"], serde_json::json!([]));
});
