//! Who may do what, as a Promgen export keeps it: group memberships (`auth.user`'s `groups`),
//! django-guardian's object permissions (`guardian.userobjectpermission` and
//! `guardian.groupobjectpermission`: `service_admin|editor|viewer`, `project_…`, `group_admin`,
//! `group_member`), applied once every user, group, service and project of the export is in.
//! Owners hold what the export gives them (Promgen's `loaddata` does not make them Admin).
//!
//! Permissions come as natural keys (`dumpdata --natural-foreign`: `["service_admin", "promgen",
//! "service"]`, users as `["alice"]`, groups as `["ops"]`) or as primary keys (a permission's pk
//! read from the export's `auth.permission` objects).

use super::ImportReport;
use super::promgen_dump::{DumpObject, Users};
use crate::model::Role;
use serde_json::Value;
use std::collections::HashMap;

/// Models whose objects this module applies.
pub const MODELS: [&str; 2] = ["guardian.userobjectpermission", "guardian.groupobjectpermission"];

enum Target {
    Service(i64),
    Project(i64),
    Group(i64),
}

pub(super) async fn apply(
    conn: &mut sqlx::AnyConnection,
    objects: &[DumpObject],
    users: &Users,
    report: &mut ImportReport,
) -> Result<(), sqlx::Error> {
    let mut codenames: HashMap<String, String> = HashMap::new();
    // Permissions an earlier import kept (this version does not load `auth.permission`), only
    // when this export has none of its own: another installation's numbers mean other things.
    let own = objects.iter().any(|o| o.model == "auth.permission");
    let kept: Vec<(String, String)> = if own {
        Vec::new()
    } else {
        sqlx::query_as("SELECT pk, fields FROM promgen_pending WHERE model = 'auth.permission'")
            .fetch_all(&mut *conn)
            .await?
    };
    for (pk, fields) in kept {
        if let Some(code) =
            serde_json::from_str::<Value>(&fields).ok().and_then(|f| f["codename"].as_str().map(str::to_string))
        {
            codenames.insert(pk, code);
        }
    }
    for o in objects.iter().filter(|o| o.model == "auth.permission") {
        if let Some(code) = o.fields.get("codename").and_then(Value::as_str) {
            codenames.insert(o.pk_text(), code.to_string());
        }
    }
    // One role per principal per object: of several rows, the strongest.
    let mut roles: HashMap<(&'static str, i64, Principal), Role> = HashMap::new();
    let mut group_roles: HashMap<(i64, i64), &'static str> = HashMap::new();
    let mut skipped = 0usize;

    // Memberships first: a guardian `group_admin` then makes a member an admin.
    for obj in objects.iter().filter(|o| o.model == "auth.user") {
        let Some(user) = obj.pk().ok().and_then(|pk| users.by_pk.get(&pk).copied()) else { continue };
        let Some(Value::Array(groups)) = obj.fields.get("groups") else { continue };
        for g in groups {
            match group_id(conn, g).await? {
                Some(group) => {
                    sqlx::query(
                        "INSERT INTO group_member (group_id, user_id, role) VALUES ($1, $2, 'MEMBER') \
                         ON CONFLICT (group_id, user_id) DO NOTHING",
                    )
                    .bind(group)
                    .bind(user)
                    .execute(&mut *conn)
                    .await?;
                }
                None => skipped += 1,
            }
        }
    }

    for obj in objects.iter().filter(|o| MODELS.contains(&o.model.as_str())) {
        let codename = match obj.fields.get("permission") {
            Some(Value::Array(key)) => key.first().and_then(Value::as_str).map(str::to_string),
            Some(Value::Number(n)) => codenames.get(&n.to_string()).cloned(),
            Some(Value::String(s)) => codenames.get(s).cloned(),
            _ => None,
        };
        let object: Option<i64> = obj.fields.get("object_pk").and_then(|v| match v {
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_i64(),
            _ => None,
        });
        let (Some(codename), Some(object)) = (codename, object) else {
            skipped += 1;
            continue;
        };
        let Some((kind, role)) = codename.split_once('_') else {
            skipped += 1;
            continue;
        };
        let target = match kind {
            "service" => Target::Service(object),
            "project" => Target::Project(object),
            "group" => Target::Group(object),
            _ => {
                skipped += 1;
                continue;
            }
        };
        let principal = if obj.model == "guardian.userobjectpermission" {
            user_id(obj.fields.get("user"), users).map(Principal::User)
        } else {
            match obj.fields.get("group") {
                Some(g) => group_id(conn, g).await?.map(Principal::Group),
                None => None,
            }
        };
        let Some(principal) = principal else {
            skipped += 1;
            continue;
        };
        let done = match (target, Role::parse(&role.to_ascii_uppercase())) {
            (Target::Service(id), Some(role)) => {
                let held = roles.entry(("service", id, principal)).or_insert(role);
                *held = (*held).max(role);
                true
            }
            (Target::Project(id), Some(role)) => {
                let held = roles.entry(("project", id, principal)).or_insert(role);
                *held = (*held).max(role);
                true
            }
            (Target::Group(group), _) if matches!(role, "admin" | "member") => match principal {
                Principal::User(user) => {
                    let held = group_roles.entry((group, user)).or_insert("MEMBER");
                    if role == "admin" {
                        *held = "ADMIN";
                    }
                    true
                }
                Principal::Group(_) => false,
            },
            _ => false,
        };
        if !done {
            skipped += 1;
        }
    }

    for ((group, user), role) in group_roles {
        let exists: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM user_group WHERE id = $1").bind(group).fetch_optional(&mut *conn).await?;
        if exists.is_none() {
            skipped += 1;
            continue;
        }
        sqlx::query("DELETE FROM group_member WHERE group_id = $1 AND user_id = $2")
            .bind(group)
            .bind(user)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO group_member (group_id, user_id, role) VALUES ($1, $2, $3)")
            .bind(group)
            .bind(user)
            .bind(role)
            .execute(&mut *conn)
            .await?;
    }
    for ((table, object, principal), role) in roles {
        if !grant(conn, table, object, &principal, role.as_str()).await? {
            skipped += 1;
        }
    }
    // Promgen's loaddata does not run `assign_admin_to_owner`: an owner holds the roles the
    // export gives, as there. An export from before roles (Promgen 0.72 and older) gives none.
    let owned = objects.iter().any(|o| matches!(o.model.as_str(), "promgen.service" | "promgen.project"));
    if owned && !objects.iter().any(|o| MODELS.contains(&o.model.as_str())) {
        report.notes.push(
            "the export has no object permissions (Promgen 0.72 or older): nobody holds a role on its services \
             and projects; give roles on their pages, or open read access on the Site page"
                .into(),
        );
    }
    if skipped > 0 {
        let (what, name) = if skipped == 1 {
            ("1 permission or membership".to_string(), "names")
        } else {
            (format!("{skipped} permissions or memberships"), "name")
        };
        report.notes.push(format!(
            "{what} {name} a user, group, service, project or permission that is not in the export, \
             or a permission other than Promgen's roles: skipped"
        ));
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Principal {
    User(i64),
    Group(i64),
}

fn user_id(field: Option<&Value>, users: &Users) -> Option<i64> {
    match field? {
        Value::Array(key) => users.by_name.get(key.first()?.as_str()?).copied(),
        Value::Number(n) => users.by_pk.get(&n.as_i64()?).copied(),
        _ => None,
    }
}

/// A group by its pk (kept on import) or its natural key `[name]`, if it is here.
async fn group_id(conn: &mut sqlx::AnyConnection, field: &Value) -> Result<Option<i64>, sqlx::Error> {
    let row: Option<(i64,)> = match field {
        Value::Array(key) => match key.first().and_then(Value::as_str) {
            Some(name) => {
                sqlx::query_as("SELECT id FROM user_group WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?
            }
            None => None,
        },
        Value::Number(n) => match n.as_i64() {
            Some(id) => {
                sqlx::query_as("SELECT id FROM user_group WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?
            }
            None => None,
        },
        _ => None,
    };
    Ok(row.map(|r| r.0))
}

/// The principal's one role on the object (`service` or `project`), replacing any other;
/// false when the object is not here.
async fn grant(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    object: i64,
    principal: &Principal,
    role: &str,
) -> Result<bool, sqlx::Error> {
    let exists: Option<(i64,)> = sqlx::query_as(&format!("SELECT id FROM {table} WHERE id = $1"))
        .bind(object)
        .fetch_optional(&mut *conn)
        .await?;
    if exists.is_none() {
        return Ok(false);
    }
    let (column, who) = match principal {
        Principal::User(u) => ("user_id", *u),
        Principal::Group(g) => ("group_id", *g),
    };
    sqlx::query(&format!("DELETE FROM role_grant WHERE {table}_id = $1 AND {column} = $2"))
        .bind(object)
        .bind(who)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!("INSERT INTO role_grant ({table}_id, {column}, role) VALUES ($1, $2, $3)"))
        .bind(object)
        .bind(who)
        .bind(role.to_ascii_uppercase())
        .execute(&mut *conn)
        .await?;
    Ok(true)
}
