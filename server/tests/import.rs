//! Moving over from Promgen: its fixtures load and export exactly what Promgen exports.

mod common;
use app::backend::{Actor, Backend};
use app::error::AppError;
use common::{count, fixture, json};

async fn load_promgen_fixtures(b: &Backend) -> app::backend::importer::ImportReport {
    let files = [fixture("testcases.yaml"), fixture("extras.yaml"), fixture("exporters.yaml")];
    b.importer.import_promgen(&Actor::System, &files).await.expect("fixtures load")
}

on_both_databases!(promgen_fixtures_export_as_promgen_does, |b: Backend| async move {
    let report = load_promgen_fixtures(&b).await;
    assert_eq!(report.imported["promgen.project"], 2);
    assert_eq!(report.imported["promgen.defaultexporter"], 4);
    assert_eq!(report.imported["promgen.rule"], 3);
    assert_eq!(report.imported["promgen.sender"], 2);
    assert_eq!(report.imported["promgen.filter"], 1);
    assert_eq!(report.imported["authtoken.token"], 2);
    assert_eq!(report.imported["auth.group"], 2);
    assert_eq!(count(&b, "promgen_pending").await, count_pending_expected(&report));

    let targets = b.exports.targets(&Default::default()).await.unwrap();
    assert_eq!(json(targets), json(fixture("export.targets.json")));
    let urls = b.exports.urls(&Default::default()).await.unwrap();
    assert_eq!(json(urls), json(fixture("export.urls.json")));

    // Primary keys survive: links like /project/2 keep working.
    let (name,): (String,) =
        sqlx::query_as("SELECT name FROM project WHERE id = 2").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!(name, "another-project");
    // extras.yaml's rule 1 replaced testcases' rule 1, as loaddata does; rule 2 still
    // overrides it.
    let (name, service): (String, Option<i64>) =
        sqlx::query_as("SELECT name, service_id FROM rule WHERE id = 1").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!((name.as_str(), service), ("example-rule", None));
    let (parent,): (Option<i64>,) =
        sqlx::query_as("SELECT parent_id FROM rule WHERE id = 2").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!(parent, Some(1));

    // Loading again changes nothing, and new rows get ids after the imported ones.
    load_promgen_fixtures(&b).await;
    assert_eq!(count(&b, "project").await, 2);
    assert_eq!(count(&b, "audit").await, 4, "two imported entries, two import records");
    let s = b
        .inventory
        .create_service(&Actor::System, app::model::ServiceInput { name: "new-one".into(), description: String::new() })
        .await
        .unwrap();
    assert_eq!(s.id.0, 3);
});

fn count_pending_expected(report: &app::backend::importer::ImportReport) -> i64 {
    report.kept_for_later.values().sum::<u64>() as i64
}

on_both_databases!(rules_kept_by_an_earlier_version_load_now, |b: Backend| async move {
    // What a version without rules kept from a Promgen export.
    sqlx::query("INSERT INTO promgen_pending (model, pk, fields, imported) VALUES ('promgen.rule', '7', $1, 'then')")
        .bind(r#"{"content_type": ["promgen", "site"], "object_id": 1, "name": "Kept", "clause": "up == 0", "duration": "1m", "enabled": true, "labels": {}, "annotations": {}}"#)
        .execute(&b.db.pool)
        .await
        .unwrap();
    let report = b.importer.import_promgen(&Actor::System, &[fixture("exporters.yaml")]).await.unwrap();
    assert!(report.notes.iter().any(|n| n.contains("kept from an earlier import")), "{report}");
    let (name,): (String,) = sqlx::query_as("SELECT name FROM rule WHERE id = 7").fetch_one(&b.db.pool).await.unwrap();
    assert_eq!(name, "Kept");
    assert_eq!(count(&b, "promgen_pending").await, 0);
    // A dump without natural keys cannot say whose a rule is: the error names it.
    let dump = r#"[{"model": "promgen.rule", "pk": 9, "fields": {"content_type": 12, "object_id": 1, "name": "X", "clause": "up"}}]"#;
    let err = b.importer.import_promgen(&Actor::System, &[dump.to_string()]).await.unwrap_err();
    assert!(err.to_string().contains("promgen.rule 9") && err.to_string().contains("--natural-foreign"), "{err}");
});

on_both_databases!(file_sd_import_counts_match_promgen, |b: Backend| async move {
    load_promgen_fixtures(&b).await;
    b.importer.import_file_sd(&Actor::System, &fixture("import.json"), None).await.unwrap();
    assert_eq!(
        (count(&b, "service").await, count(&b, "project").await, count(&b, "exporter").await, count(&b, "host").await),
        (3, 4, 4, 4)
    );
    b.importer.import_file_sd(&Actor::System, &fixture("replace.json"), None).await.unwrap();
    assert_eq!((count(&b, "farm").await, count(&b, "host").await), (4, 6));
    let (farm, source): (String, String) = sqlx::query_as(
        "SELECT f.name, f.source FROM farm f JOIN project p ON p.id = f.project_id WHERE p.name = 'Test 1'",
    )
    .fetch_one(&b.db.pool)
    .await
    .unwrap();
    assert_eq!((farm.as_str(), source.as_str()), ("Farm 3", "pmc"));
});

on_both_databases!(our_own_export_imports_back_to_the_same_file, |b: Backend| async move {
    load_promgen_fixtures(&b).await;
    sqlx::query("UPDATE exporter SET path = '/metrics?match[]=up&x=1' WHERE id = 1").execute(&b.db.pool).await.unwrap();
    // An IPv6 host: `[2001:db8::10]:9100` in the file, and kept through the import.
    let farm: (i64,) = sqlx::query_as("SELECT MIN(id) FROM farm").fetch_one(&b.db.pool).await.unwrap();
    b.inventory.add_hosts(&Actor::System, app::model::FarmId(farm.0), "2001:db8::10").await.unwrap();
    sqlx::query("UPDATE inventory_generation SET generation = generation + 1").execute(&b.db.pool).await.unwrap();
    let before = b.exports.targets(&Default::default()).await.unwrap();
    assert!(std::str::from_utf8(&before).unwrap().contains("\"[2001:db8::10]:"), "{before:?}");

    let fresh = common::TestDb::sqlite().await;
    fresh.backend.importer.import_file_sd(&Actor::System, std::str::from_utf8(&before).unwrap(), None).await.unwrap();
    let after = fresh.backend.exports.targets(&Default::default()).await.unwrap();
    assert_eq!(json(&before), json(&after));
});

on_both_databases!(a_broken_export_writes_nothing, |b: Backend| async move {
    let dump = r#"
- model: promgen.shard
  pk: 1
  fields: {name: s1, url: "http://p"}
- model: promgen.farm
  pk: 1
  fields: {name: f, source: promgen, project: 99}
"#;
    let err = b.importer.import_promgen(&Actor::System, &[dump.to_string()]).await.unwrap_err();
    assert!(err.to_string().contains("promgen.farm 1"), "{err}");
    assert_eq!(count(&b, "shard").await, 0, "the shard before the bad farm was rolled back");

    let err = b
        .importer
        .import_promgen(&Actor::System, &["- model: promgen.service\n  pk: 1\n  fields: {}\n".into()])
        .await
        .unwrap_err();
    assert!(matches!(&err, AppError::Invalid(e) if e.message.contains("field name is missing")), "{err}");

    let err = b
        .importer
        .import_file_sd(&Actor::System, r#"[{"labels": {"job": "x"}, "targets": []}]"#, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no \"service\" label"), "{err}");
    let nobody = Actor::Anonymous;
    assert_eq!(b.importer.import_file_sd(&nobody, "[]", None).await.unwrap_err(), AppError::Unauthenticated);

    // A shard chosen for every project must exist: a typo is an error at the field, not a
    // new empty shard (a shard a label names is still made, as Promgen does).
    let shards = count(&b, "shard").await;
    let sd = r#"[{"labels": {"service": "s", "project": "p", "farm": "f", "job": "node"}, "targets": ["h:9100"]}]"#;
    let err = b.importer.import_file_sd(&Actor::System, sd, Some("Defualt")).await.unwrap_err();
    assert!(matches!(&err, AppError::Invalid(e) if e.field == "shard"), "{err:?}");
    assert!(err.to_string().contains("no shard is named \"Defualt\" (shards: none yet)"), "{err}");
    assert_eq!(count(&b, "shard").await, shards, "nothing was made");
    assert_eq!(count(&b, "service").await, 0, "nor anything else");
});

// Users exported from Promgen keep their passwords: Django's PBKDF2 (SHA-256 and SHA-1) and
// Argon2 hashes are kept, checked at login and then replaced by Argon2id; others (Promgen's
// test fixtures hold plain words) leave the user without a password, with a note.
on_both_databases!(promgen_passwords_keep_working, |b: Backend| async move {
    // Made as Django's hashers make them (hashlib.pbkdf2_hmac; argon2-cffi's PHC string).
    let sha256 = "pbkdf2_sha256$10000$Qx2hPAbYE9aF$bh92Pr7ouyds4KOcUewtSN4zbFUR2ysBc1F6OiDilUU=";
    let sha1 = "pbkdf2_sha1$10000$Qx2hPAbYE9aF$ytHUbEbgr/VGu+vXHrYqrrjFPNk=";
    let dump = serde_json::json!([
        {"model": "auth.user", "pk": 11, "fields": {"username": "alice", "password": sha256, "is_active": true}},
        {"model": "auth.user", "pk": 12, "fields": {"username": "bob", "password": sha1, "is_active": true}},
        {"model": "auth.user", "pk": 13, "fields": {"username": "carol", "password": "!unusable", "is_active": true}},
    ]);
    let report = b.importer.import_promgen(&Actor::System, &[dump.to_string()]).await.unwrap();
    assert!(report.notes.iter().any(|n| n.contains("user carol has no password yet")), "{report}");
    assert!(!report.notes.iter().any(|n| n.contains("user alice")), "{report}");

    let wrong = b.auth.login("alice", "not-her-password", None).await.unwrap_err();
    assert_eq!(wrong, AppError::WrongCredentials);
    // Longer than any password that can be set: wrong, and not hashed.
    let long = "x".repeat(app::model::validate::MAX_PASSWORD_CHARS * 4 + 1);
    assert_eq!(b.auth.login("alice", &long, None).await.unwrap_err(), AppError::WrongCredentials);
    for user in ["alice", "bob"] {
        let me = b.auth.login(user, "promgen-old-password", None).await.unwrap();
        assert_eq!(me.username, user);
        let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE username = $1")
            .bind(user)
            .fetch_one(&b.db.pool)
            .await
            .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{user}'s password is rehashed: {hash}");
        // And still works, now as Argon2id.
        assert!(b.auth.login(user, "promgen-old-password", None).await.is_ok());
    }
    assert_eq!(b.auth.login("carol", "", None).await.unwrap_err(), AppError::WrongCredentials);
    // A second import does not undo the rehash.
    b.importer.import_promgen(&Actor::System, &[dump.to_string()]).await.unwrap();
    let (hash,): (String,) =
        sqlx::query_as("SELECT password_hash FROM users WHERE username = 'alice'").fetch_one(&b.db.pool).await.unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
});

// Who may do what comes along: memberships, django-guardian's object permissions for users and
// groups (natural keys and primary keys alike); owners hold what the export gives them.
on_both_databases!(promgen_permissions_come_along, |b: Backend| async move {
    use app::backend::policy;
    use app::model::{Object, ProjectId, Role, ServiceId};
    let dump = serde_json::json!([
        {"model": "auth.permission", "pk": 71, "fields": {"codename": "project_editor", "name": "Editor"}},
        {"model": "auth.user", "pk": 2, "fields": {"username": "owner", "password": "!", "groups": []}},
        {"model": "auth.user", "pk": 3, "fields": {"username": "dev", "password": "!", "groups": [["ops"]]}},
        {"model": "auth.user", "pk": 4, "fields": {"username": "lead", "password": "!", "groups": [5]}},
        {"model": "auth.user", "pk": 6, "fields": {"username": "reader", "password": "!"}},
        {"model": "auth.group", "pk": 5, "fields": {"name": "ops"}},
        {"model": "promgen.shard", "pk": 1, "fields": {"name": "main", "url": "http://prometheus:9090"}},
        {"model": "promgen.service", "pk": 10, "fields": {"name": "web", "owner": ["owner"]}},
        {"model": "promgen.project", "pk": 20, "fields": {"name": "shop", "service": 10, "shard": 1, "owner": 2}},
        {"model": "guardian.userobjectpermission", "pk": 1, "fields": {
            "permission": ["service_viewer", "promgen", "service"], "content_type": ["promgen", "service"],
            "object_pk": "10", "user": ["reader"]}},
        {"model": "guardian.userobjectpermission", "pk": 2, "fields": {
            "permission": 71, "content_type": 9, "object_pk": "20", "user": 3}},
        {"model": "guardian.groupobjectpermission", "pk": 1, "fields": {
            "permission": ["service_editor", "promgen", "service"], "content_type": ["promgen", "service"],
            "object_pk": "10", "group": ["ops"]}},
        {"model": "guardian.userobjectpermission", "pk": 3, "fields": {
            "permission": ["group_admin", "auth", "group"], "content_type": ["auth", "group"],
            "object_pk": "5", "user": ["lead"]}},
        {"model": "guardian.userobjectpermission", "pk": 4, "fields": {
            "permission": ["service_admin", "promgen", "service"], "content_type": ["promgen", "service"],
            "object_pk": "999", "user": ["reader"]}},
        {"model": "guardian.userobjectpermission", "pk": 7, "fields": {
            "permission": ["group_member", "auth", "group"], "content_type": ["auth", "group"],
            "object_pk": "5", "user": ["lead"]}},
        {"model": "guardian.userobjectpermission", "pk": 6, "fields": {
            "permission": ["service_editor", "promgen", "service"], "content_type": ["promgen", "service"],
            "object_pk": "10", "user": ["reader"]}},
        {"model": "guardian.userobjectpermission", "pk": 5, "fields": {
            "permission": ["service_admin", "promgen", "service"], "content_type": ["promgen", "service"],
            "object_pk": "10", "user": ["owner"]}},
    ]);
    let report = b.importer.import_promgen(&Actor::System, &[dump.to_string()]).await.unwrap();
    assert!(report.notes.iter().any(|n| n.starts_with("1 permission or membership names")), "{report}");
    let id = |name: &'static str| {
        let b = b.clone();
        async move {
            let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
                .bind(name)
                .fetch_one(&b.db.pool)
                .await
                .unwrap();
            id
        }
    };
    let (web, shop) = (Object::Service(ServiceId(10)), Object::Project(ProjectId(20)));
    assert_eq!(policy::user_role(&b.db, id("owner").await, web).await.unwrap(), Some(Role::Admin));
    // The project's owner holds the service's Admin role (the export gives no project role).
    assert_eq!(policy::user_role(&b.db, id("owner").await, shop).await.unwrap(), Some(Role::Admin));
    // Of two rows for one user and object, the stronger role.
    assert_eq!(policy::user_role(&b.db, id("reader").await, web).await.unwrap(), Some(Role::Editor));
    // dev: Editor of the project by a pk permission, and of the service through the group.
    assert_eq!(policy::user_role(&b.db, id("dev").await, web).await.unwrap(), Some(Role::Editor));
    assert_eq!(policy::user_role(&b.db, id("dev").await, shop).await.unwrap(), Some(Role::Editor));
    let members: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.username, m.role FROM group_member m JOIN users u ON u.id = m.user_id ORDER BY u.username",
    )
    .fetch_all(&b.db.pool)
    .await
    .unwrap();
    let members: Vec<(&str, &str)> = members.iter().map(|(u, r)| (u.as_str(), r.as_str())).collect();
    assert_eq!(members, [("dev", "MEMBER"), ("lead", "ADMIN")]);
});

// An export without rules (users only) leaves the site's rules alone; one with rules replaces
// the default pack, as a Promgen installation brings its own.
on_both_databases!(an_export_without_rules_keeps_the_site_rules, |b: Backend| async move {
    b.rules.install_default_pack().await.unwrap();
    let before = common::count(&b, "rule").await;
    assert!(before > 0);
    let users = serde_json::json!([{"model": "auth.user", "pk": 11, "fields": {"username": "alice", "password": "!"}}]);
    let report = b.importer.import_promgen(&Actor::System, &[users.to_string()]).await.unwrap();
    assert!(!report.notes.iter().any(|n| n.contains("default site rules")), "{report}");
    assert_eq!(common::count(&b, "rule").await, before);
});
