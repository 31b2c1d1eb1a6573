//! Ids are never given twice, on either database (SQLite's `AUTOINCREMENT`, PostgreSQL's
//! identity columns), as in Promgen. On SQLite a plain `INTEGER PRIMARY KEY` gave a new row the
//! largest id plus one: a rule made after the newest was deleted got its id, its audit history
//! (offering "Restore this version" of the deleted rule) and its links.

mod common;
use app::backend::Backend;
use app::backend::db::Db;
use app::model::*;

fn rule(name: &str) -> RuleInput {
    RuleInput { kind: RuleKind::Alert, name: name.into(), expr: "up == 0".into(), enabled: true, ..Default::default() }
}

fn service(name: &str) -> ServiceInput {
    ServiceInput { name: name.into(), description: String::new() }
}

on_both_databases!(a_deleted_objects_id_is_not_given_again, |b: Backend| async move {
    let admin = common::admin(&b).await;
    b.inventory.create_service(&admin, service("web")).await.unwrap();
    let api = b.inventory.create_service(&admin, service("api")).await.unwrap();
    b.inventory.delete_service(&admin, api.id).await.unwrap();
    let db = b.inventory.create_service(&admin, service("db")).await.unwrap();
    assert!(db.id.0 > api.id.0, "{:?} after {:?}", db.id, api.id);

    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    let old = b.rules.create(&admin, &site, rule("Old")).await.unwrap();
    b.rules.delete(&admin, old.id).await.unwrap();
    let new = b.rules.create(&admin, &site, rule("New")).await.unwrap();
    assert!(new.id.0 > old.id.0, "{:?} after {:?}", new.id, old.id);
});

/// A database made before ids were kept apart: the rebuild keeps every row, id and foreign
/// key (a service's deletion still takes its projects), and gives no id the audit log names,
/// not even of what was deleted before it ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_rebuild_keeps_rows_and_skips_ids_deleted_before_it() {
    let dir = std::env::temp_dir().join(format!("promgen-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
    let source = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/sqlite"));
    // The migrations alone make the tables as they were (plain `INTEGER PRIMARY KEY`).
    let before = sqlx::migrate::Migrator::new(source).await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    before.run(&pool).await.unwrap();
    sqlx::raw_sql(
        "INSERT INTO users (username, created) VALUES ('ops', '2026-01-01T00:00:00Z');
         INSERT INTO shard (name, url) VALUES ('main', 'http://prometheus:9090');
         INSERT INTO service (name, description, owner_id) VALUES ('web', 'the web', 1), ('api', '', 1);
         INSERT INTO project (name, description, service_id, shard_id, owner_id)
             VALUES ('frontend', '', 1, 1, 1), ('backend', '', 2, 1, NULL);
         INSERT INTO audit (created, user_id, body, object_type, object_id)
             VALUES ('2026-01-01T00:00:00Z', 1, 'Deleted rule Old', 'rule', 9),
                    ('2026-01-01T00:00:00Z', 1, 'Deleted service db', 'service', 7);",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;

    let b = Backend::new(Db::connect(&url).await.unwrap());
    let admin = common::admin(&b).await;
    let mut names: Vec<(i64, String)> =
        b.inventory.services(&admin).await.unwrap().into_iter().map(|s| (s.service.id.0, s.service.name)).collect();
    names.sort();
    assert_eq!(names, [(1, "web".to_string()), (2, "api".to_string())]);
    assert_eq!(common::count(&b, "project").await, 2);
    b.inventory.delete_service(&admin, ServiceId(2)).await.unwrap();
    assert_eq!(common::count(&b, "project").await, 1, "the service's project goes with it");
    let db = b.inventory.create_service(&admin, service("db")).await.unwrap();
    assert_eq!(db.id.0, 8, "past the deleted service 7 the audit log names");
    let site = b.rules.owner(OwnerKind::Site, 1).await.unwrap();
    let new = b.rules.create(&admin, &site, rule("New")).await.unwrap();
    assert!(new.id.0 > 9, "{:?}", new.id);
    drop(b);
    let _ = std::fs::remove_dir_all(&dir);
}
