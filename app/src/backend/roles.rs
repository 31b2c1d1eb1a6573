//! Granting and taking away roles on services and projects, and groups with their members
//! (spec 8.2). Who may is [`policy`]'s answer: an object's Admins manage its members, a
//! group's admins (and site admins) its members; anyone logged in may make a group.
//!
//! - One role per principal per object: a grant replaces the principal's role there.
//! - The owner holds Admin (a grant made with the object, [`grant_owner`]): it is not
//!   demoted nor removed while they own the object.
//! - A user left without any role on a service or project loses their subscriptions to it
//!   (and, for a service, to its projects).

use super::audit::{self, Subject};
use super::{Actor, Db, policy};
use crate::error::AppError;
use crate::model::*;

pub use crate::model::{Group, GroupMember, Member, Principal};

/// The most users added to a group in one request.
pub const MAX_ADDED: usize = 1000;
/// How many of the users added at once the audit entry names (the rest are counted).
const NAMED_IN_LOG: usize = 10;

/// `named` (the first of `count`) as a sentence's list: "user a, user b and user c", or with
/// more than were named, "user a, user b and 8 more".
fn listed(named: &[String], count: usize) -> String {
    let more = count.saturating_sub(named.len());
    match (named, more) {
        ([], _) => crate::model::counted(count as i64, "member"),
        ([first @ .., last], 0) if !first.is_empty() => format!("{} and {last}", first.join(", ")),
        (named, 0) => named.join(", "),
        (named, more) => format!("{} and {more} more", named.join(", ")),
    }
}

/// A grant with its holder's name.
#[derive(sqlx::FromRow)]
struct GrantRow {
    user_id: Option<i64>,
    group_id: Option<i64>,
    name: String,
    email: String,
    role: String,
}

#[derive(Clone)]
pub struct Roles {
    db: Db,
}

/// The (service, project) columns of an object's grants.
fn columns(object: Object) -> Result<(Option<i64>, Option<i64>), AppError> {
    match object {
        Object::Service(s) => Ok((Some(s.0), None)),
        Object::Project(p) => Ok((None, Some(p.0))),
        Object::Site => Err(AppError::invalid("object", "roles are held on services and projects")),
    }
}

fn subject(object: Object) -> Subject<'static> {
    match object {
        Object::Service(s) => Subject::new("service", s.0),
        Object::Project(p) => Subject::new("project", p.0),
        Object::Site => Subject::new("site", 1),
    }
}

/// Deletes the role a principal (`(user, group)`, one of them set) holds on an object
/// (`(service, project)`, one set) inside the caller's transaction: how many rows went (0 or 1).
async fn delete_grant(
    conn: &mut sqlx::AnyConnection,
    (service, project): (Option<i64>, Option<i64>),
    (user, group): (Option<i64>, Option<i64>),
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM role_grant WHERE service_id IS NOT DISTINCT FROM $1 AND project_id IS NOT DISTINCT FROM $2 \
         AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4",
    )
    .bind(service)
    .bind(project)
    .bind(user)
    .bind(group)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The role `(user, group)` holds on `(service, project)` itself, if any (the one grant
/// [`delete_grant`] deletes).
async fn held_role(
    conn: &mut sqlx::AnyConnection,
    (service, project): (Option<i64>, Option<i64>),
    (user, group): (Option<i64>, Option<i64>),
) -> Result<Option<Role>, sqlx::Error> {
    let held: Option<(String,)> = sqlx::query_as(
        "SELECT role FROM role_grant WHERE service_id IS NOT DISTINCT FROM $1 AND project_id IS NOT DISTINCT FROM $2 \
         AND user_id IS NOT DISTINCT FROM $3 AND group_id IS NOT DISTINCT FROM $4",
    )
    .bind(service)
    .bind(project)
    .bind(user)
    .bind(group)
    .fetch_optional(conn)
    .await?;
    Ok(held.and_then(|(r,)| Role::parse(&r)))
}

/// Gives `user` the Admin role on `object` inside the caller's transaction: what its owner
/// holds from the moment it is made or given to them (Promgen's `assign_admin_to_owner`).
pub(crate) async fn grant_owner(conn: &mut sqlx::AnyConnection, object: Object, user: UserId) -> Result<(), AppError> {
    let (service, project) = columns(object)?;
    sqlx::query(
        "DELETE FROM role_grant WHERE service_id IS NOT DISTINCT FROM $1 AND project_id IS NOT DISTINCT FROM $2 AND user_id = $3",
    )
    .bind(service)
    .bind(project)
    .bind(user.0)
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO role_grant (service_id, project_id, user_id, role) VALUES ($1, $2, $3, 'ADMIN')")
        .bind(service)
        .bind(project)
        .bind(user.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Roles {
    pub fn new(db: Db) -> Self {
        Roles { db }
    }

    /// An object as the audit log names it: "project web-frontend" (its id if it is gone).
    async fn object_title(&self, object: Object) -> Result<String, AppError> {
        let (sql, id) = match object {
            Object::Service(s) => ("SELECT name FROM service WHERE id = $1", s.0),
            Object::Project(p) => ("SELECT name FROM project WHERE id = $1", p.0),
            Object::Site => return Ok(object_name(object)),
        };
        let row: Option<(String,)> = sqlx::query_as(sql).bind(id).fetch_optional(&self.db.pool).await?;
        Ok(match (object, row) {
            (Object::Service(_), Some((name,))) => format!("service {name}"),
            (Object::Project(_), Some((name,))) => format!("project {name}"),
            _ => object_name(object),
        })
    }

    /// The owner of an object, if it has one.
    async fn owner(&self, object: Object) -> Result<Option<i64>, AppError> {
        let (sql, id) = match object {
            Object::Service(s) => ("SELECT owner_id FROM service WHERE id = $1", s.0),
            Object::Project(p) => ("SELECT owner_id FROM project WHERE id = $1", p.0),
            Object::Site => return Ok(None),
        };
        let row: Option<(Option<i64>,)> = sqlx::query_as(sql).bind(id).fetch_optional(&self.db.pool).await?;
        row.map(|(o,)| o).ok_or_else(|| AppError::NotFound(object_name(object)))
    }

    /// Everyone with a role on `object` itself (not inherited), the owner first; users, then
    /// groups, by name. Anyone who may see the object may list them.
    pub async fn members(&self, actor: &Actor, object: Object) -> Result<Vec<Member>, AppError> {
        let owner = self.owner(object).await?;
        policy::check(&self.db, actor, Action::View, object, "see this object's members").await?;
        let (service, project) = columns(object)?;
        let rows: Vec<GrantRow> = sqlx::query_as(
            "SELECT g.user_id, g.group_id, COALESCE(u.username, ug.name) AS name, COALESCE(u.email, '') AS email, g.role \
             FROM role_grant g LEFT JOIN users u ON u.id = g.user_id LEFT JOIN user_group ug ON ug.id = g.group_id \
             WHERE g.service_id IS NOT DISTINCT FROM $1 AND g.project_id IS NOT DISTINCT FROM $2",
        )
        .bind(service)
        .bind(project)
        .fetch_all(&self.db.pool)
        .await?;
        let mut others = Vec::new();
        for GrantRow { user_id: user, group_id: group, name, email, role } in rows {
            let principal = match (user, group) {
                (Some(u), _) => Principal::User(UserId(u)),
                (None, Some(g)) => Principal::Group(g),
                (None, None) => continue,
            };
            let Some(role) = Role::parse(&role) else { continue };
            let owner = matches!(principal, Principal::User(u) if Some(u.0) == owner);
            others.push(Member { principal, name, email, role, owner });
        }
        // The owner first, then users, then groups, by name.
        others.sort_by(|a, b| {
            let key = |m: &Member| (!m.owner, matches!(m.principal, Principal::Group(_)), m.name.clone());
            key(a).cmp(&key(b))
        });
        Ok(others)
    }

    /// Gives `principal` `role` on `object`, replacing the role it held there (Admins of the
    /// object). The owner stays Admin.
    pub async fn grant(&self, actor: &Actor, object: Object, principal: Principal, role: Role) -> Result<(), AppError> {
        self.give(actor, object, principal, role, true).await
    }

    /// Gives `principal` `role` on `object` where it holds none (Admins of the object): a 409
    /// at `who` if it holds one, also when another request gave it one a moment before (the
    /// unique index decides, not a read before the write).
    pub async fn add(&self, actor: &Actor, object: Object, principal: Principal, role: Role) -> Result<(), AppError> {
        self.give(actor, object, principal, role, false).await
    }

    async fn give(
        &self,
        actor: &Actor,
        object: Object,
        principal: Principal,
        role: Role,
        replace: bool,
    ) -> Result<(), AppError> {
        let owner = self.owner(object).await?;
        policy::check(&self.db, actor, Action::ManageMembers, object, "change who has a role here").await?;
        let (service, project) = columns(object)?;
        let (user, group) = self.principal_columns(principal).await?;
        if user.is_some() && user == owner && role < Role::Admin && self.holds_admin(object, user).await? {
            return Err(AppError::Conflict(crate::model::validate::FieldError::new(
                "role",
                "the owner is Admin until ownership moves to someone else",
            )));
        }
        let mut tx = self.db.begin().await?;
        let mut before = None;
        if replace {
            // The role it holds already: nothing changes, nothing is recorded.
            before = held_role(&mut tx, (service, project), (user, group)).await?;
            if before == Some(role) {
                return Ok(());
            }
            delete_grant(&mut tx, (service, project), (user, group)).await?;
        }
        sqlx::query(
            "INSERT INTO role_grant (service_id, project_id, user_id, group_id, role) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(service)
        .bind(project)
        .bind(user)
        .bind(group)
        .bind(role.as_str())
        .execute(&mut *tx)
        .await
        .map_err(super::unique("who", "already holds a role here: change it in the table"))?;
        let who = self.principal_name(principal).await?;
        let on = self.object_title(object).await?;
        // A change of role says what it was: "Gave" read as a new member.
        let body = match before {
            Some(was) => format!("Changed {who}'s role on {on} from {} to {}", was.title(), role.title()),
            None => format!("Gave {who} the {} role on {on}", role.title()),
        };
        let before = before.map(|r| HeldRole::new(&who, r.title()));
        audit::record(
            &mut tx,
            actor,
            &body,
            subject(object),
            before.as_ref(),
            Some(&HeldRole::new(&who, role.title())),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes `principal`'s role on `object` away (Admins of the object); the owner's cannot
    /// be. Users left without any role there lose their subscriptions to it.
    pub async fn revoke(&self, actor: &Actor, object: Object, principal: Principal) -> Result<(), AppError> {
        let owner = self.owner(object).await?;
        policy::check(&self.db, actor, Action::ManageMembers, object, "change who has a role here").await?;
        let (service, project) = columns(object)?;
        let (user, group) = self.principal_columns(principal).await?;
        if user.is_some() && user == owner && self.holds_admin(object, user).await? {
            return Err(AppError::Conflict(crate::model::validate::FieldError::new(
                "user",
                "the owner keeps the Admin role until ownership moves to someone else",
            )));
        }
        let name = self.principal_name(principal).await?;
        let mut tx = self.db.begin().await?;
        let held = held_role(&mut tx, (service, project), (user, group)).await?;
        let gone = delete_grant(&mut tx, (service, project), (user, group)).await?;
        let Some(held) = held.filter(|_| gone > 0) else {
            return Err(AppError::NotFound(format!("a role of {name} on {}", object_name(object))));
        };
        // Before: who held which role, as a grant records it after.
        let body = format!("Took {name}'s {} role on {} away", held.title(), self.object_title(object).await?);
        let before = HeldRole::new(&name, held.title());
        audit::record(&mut tx, actor, &body, subject(object), Some(&before), None::<&()>).await?;
        tx.commit().await?;
        self.unsubscribe_roleless(object).await
    }

    /// Whether `user` holds the Admin grant on `object` itself.
    async fn holds_admin(&self, object: Object, user: Option<i64>) -> Result<bool, AppError> {
        let mut conn = self.db.pool.acquire().await?;
        Ok(held_role(&mut conn, columns(object)?, (user, None)).await? == Some(Role::Admin))
    }

    /// Removes the subscriptions (user notifiers) of users who hold no role on `object` (or,
    /// for a service, on each of its projects) any more.
    async fn unsubscribe_roleless(&self, object: Object) -> Result<(), AppError> {
        let (service, project) = columns(object)?;
        let subs: Vec<(i64, String, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT n.id, n.value, n.service_id, n.project_id FROM notifier n \
             WHERE n.kind = 'user' AND (n.service_id = $1 OR n.project_id = $2 \
             OR n.project_id IN (SELECT id FROM project WHERE service_id = $1))",
        )
        .bind(service)
        .bind(project)
        .fetch_all(&self.db.pool)
        .await?;
        for (id, value, service_id, project_id) in subs {
            let Ok(user) = value.parse::<i64>() else { continue };
            let on = match (service_id, project_id) {
                (Some(s), _) => Object::Service(ServiceId(s)),
                (_, Some(p)) => Object::Project(ProjectId(p)),
                _ => continue,
            };
            if policy::user_role(&self.db, user, on).await?.is_none() {
                sqlx::query("DELETE FROM notifier WHERE id = $1").bind(id).execute(&self.db.pool).await?;
            }
        }
        Ok(())
    }

    async fn principal_columns(&self, principal: Principal) -> Result<(Option<i64>, Option<i64>), AppError> {
        let (sql, id, what) = match principal {
            Principal::User(u) => ("SELECT id FROM users WHERE id = $1 AND is_active = 1", u.0, "user"),
            Principal::Group(g) => ("SELECT id FROM user_group WHERE id = $1", g, "group"),
        };
        let row: Option<(i64,)> = sqlx::query_as(sql).bind(id).fetch_optional(&self.db.pool).await?;
        if row.is_none() {
            return Err(AppError::invalid(what, format!("no {what} {id}")));
        }
        Ok(match principal {
            Principal::User(u) => (Some(u.0), None),
            Principal::Group(g) => (None, Some(g)),
        })
    }

    async fn principal_name(&self, principal: Principal) -> Result<String, AppError> {
        let (sql, id, what) = match principal {
            Principal::User(u) => ("SELECT username FROM users WHERE id = $1", u.0, "user"),
            Principal::Group(g) => ("SELECT name FROM user_group WHERE id = $1", g, "group"),
        };
        let row: Option<(String,)> = sqlx::query_as(sql).bind(id).fetch_optional(&self.db.pool).await?;
        Ok(format!("{what} {}", row.map_or_else(|| id.to_string(), |(n,)| n)))
    }
}

/// A role as the audit log keeps it, in the words its readers know: who holds it ("user
/// bob", "group ops", or several users named) and which ("Viewer"). Ids read as "User 2".
#[derive(serde::Serialize)]
struct HeldRole<'a> {
    who: &'a str,
    role: &'static str,
}

impl<'a> HeldRole<'a> {
    fn new(who: &'a str, role: &'static str) -> Self {
        HeldRole { who, role }
    }
}

/// Groups: anyone logged in makes one (and is not made a member of it, as in Promgen's REST
/// v2); its admins (and site admins) manage its members and delete it; its members (and site
/// admins) see it.
impl Roles {
    /// The role user `me` holds in `group`.
    async fn group_role(&self, me: i64, group: i64) -> Result<Option<GroupRole>, AppError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT role FROM group_member WHERE group_id = $1 AND user_id = $2")
                .bind(group)
                .bind(me)
                .fetch_optional(&self.db.pool)
                .await?;
        Ok(row.and_then(|(r,)| GroupRole::parse(&r)))
    }

    async fn group_row(&self, id: i64) -> Result<Group, AppError> {
        let row: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM user_group WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(|(id, name)| Group { id, name }).ok_or_else(|| AppError::NotFound(format!("group {id}")))
    }

    /// Refuses unless `actor` holds at least `needed` in `group` (site admins always may).
    async fn check_group(&self, actor: &Actor, group: i64, needed: GroupRole, what: &str) -> Result<(), AppError> {
        actor.require()?;
        if actor.is_superuser() {
            return Ok(());
        }
        let held = match actor.user_id() {
            Some(me) => self.group_role(me.0, group).await?,
            None => None,
        };
        if held >= Some(needed) {
            return Ok(());
        }
        let needs = if needed == GroupRole::Admin { "the group's admins" } else { "the group's members" };
        Err(AppError::Forbidden(format!("{what}: only {needs} or a site admin can")))
    }

    /// Refuses (403) unless `actor` is an admin of `group` or a site admin: REST checks rights
    /// before it reads a body.
    pub async fn check_group_admin(&self, actor: &Actor, group: i64, what: &str) -> Result<(), AppError> {
        self.check_group(actor, group, GroupRole::Admin, what).await
    }

    /// The groups `actor` is in (every group for site admins), by name.
    pub async fn groups(&self, actor: &Actor) -> Result<Vec<Group>, AppError> {
        actor.require()?;
        let rows: Vec<(i64, String)> = if actor.is_superuser() {
            sqlx::query_as("SELECT id, name FROM user_group ORDER BY name").fetch_all(&self.db.pool).await?
        } else {
            sqlx::query_as(
                "SELECT g.id, g.name FROM user_group g JOIN group_member m ON m.group_id = g.id WHERE m.user_id = $1 ORDER BY g.name",
            )
            .bind(actor.user_id().map(|u| u.0))
            .fetch_all(&self.db.pool)
            .await?
        };
        Ok(rows.into_iter().map(|(id, name)| Group { id, name }).collect())
    }

    /// A group, for its members and site admins.
    pub async fn group(&self, actor: &Actor, id: i64) -> Result<Group, AppError> {
        let group = self.group_row(id).await?;
        self.check_group(actor, id, GroupRole::Member, "see this group").await?;
        Ok(group)
    }

    /// The group named `name`, for anyone logged in (to give it a role by name).
    pub async fn group_by_name(&self, actor: &Actor, name: &str) -> Result<Group, AppError> {
        actor.require()?;
        let row: Option<(i64, String)> = sqlx::query_as("SELECT id, name FROM user_group WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.db.pool)
            .await?;
        row.map(|(id, name)| Group { id, name }).ok_or_else(|| AppError::NotFound(format!("group {name:?}")))
    }

    /// Makes a group named `name` whose maker is its admin (the web UI's way; REST v2 makes
    /// groups without members, [`Roles::create_group`]).
    pub async fn create_own_group(&self, actor: &Actor, name: &str) -> Result<Group, AppError> {
        self.make_group(actor, name, true).await
    }

    /// Makes a group named `name` (unique).
    pub async fn create_group(&self, actor: &Actor, name: &str) -> Result<Group, AppError> {
        self.make_group(actor, name, false).await
    }

    async fn make_group(&self, actor: &Actor, name: &str, join: bool) -> Result<Group, AppError> {
        actor.require()?;
        let name = group_name(name)?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = sqlx::query_as("INSERT INTO user_group (name) VALUES ($1) RETURNING id")
            .bind(&name)
            .fetch_one(&mut *tx)
            .await
            .map_err(super::unique("name", format!("a group named {name:?} exists already")))?;
        let group = Group { id, name };
        if let (true, Some(me)) = (join, actor.user_id()) {
            sqlx::query("INSERT INTO group_member (group_id, user_id, role) VALUES ($1, $2, 'ADMIN')")
                .bind(id)
                .bind(me.0)
                .execute(&mut *tx)
                .await?;
        }
        audit::record(
            &mut tx,
            actor,
            &format!("Created group {}", group.name),
            Subject::new("group", id),
            None::<&()>,
            Some(&group),
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Renames a group (its admins).
    pub async fn rename_group(&self, actor: &Actor, id: i64, name: &str) -> Result<Group, AppError> {
        let old = self.group_row(id).await?;
        self.check_group(actor, id, GroupRole::Admin, "rename this group").await?;
        let name = group_name(name)?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE user_group SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(super::unique("name", format!("a group named {name:?} exists already")))?;
        let group = Group { id, name };
        audit::record(
            &mut tx,
            actor,
            &format!("Renamed group {}", old.name),
            Subject::new("group", id),
            Some(&old),
            Some(&group),
        )
        .await?;
        tx.commit().await?;
        Ok(group)
    }

    /// Deletes a group (its admins): its members' roles through it end. Answers what it was.
    pub async fn delete_group(&self, actor: &Actor, id: i64) -> Result<Group, AppError> {
        let old = self.group_row(id).await?;
        self.check_group(actor, id, GroupRole::Admin, "delete this group").await?;
        let objects = self.group_objects(id).await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM user_group WHERE id = $1").bind(id).execute(&mut *tx).await?;
        audit::record(
            &mut tx,
            actor,
            &format!("Deleted group {}", old.name),
            Subject::new("group", id),
            Some(&old),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        for object in objects {
            self.unsubscribe_roleless(object).await?;
        }
        Ok(old)
    }

    /// The services and projects a group holds a role on.
    async fn group_objects(&self, id: i64) -> Result<Vec<Object>, AppError> {
        let rows: Vec<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT service_id, project_id FROM role_grant WHERE group_id = $1")
                .bind(id)
                .fetch_all(&self.db.pool)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match r {
                (Some(s), _) => Some(Object::Service(ServiceId(s))),
                (_, Some(p)) => Some(Object::Project(ProjectId(p))),
                _ => None,
            })
            .collect())
    }

    /// What the group holds roles on: `(object, its name, role)`, services first.
    pub async fn group_resources(&self, actor: &Actor, id: i64) -> Result<Vec<(Object, String, Role)>, AppError> {
        self.group(actor, id).await?;
        let rows: Vec<(Option<i64>, Option<i64>, String, String)> = sqlx::query_as(
            "SELECT g.service_id, g.project_id, COALESCE(s.name, p.name) AS name, g.role FROM role_grant g              LEFT JOIN service s ON s.id = g.service_id LEFT JOIN project p ON p.id = g.project_id              WHERE g.group_id = $1 ORDER BY g.service_id IS NULL, name",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, p, name, role)| {
                let object = match (s, p) {
                    (Some(s), _) => Object::Service(ServiceId(s)),
                    (_, Some(p)) => Object::Project(ProjectId(p)),
                    _ => return None,
                };
                Some((object, name, Role::parse(&role)?))
            })
            .collect())
    }

    /// A group's members, by username (its members and site admins).
    pub async fn group_members(&self, actor: &Actor, id: i64) -> Result<Vec<GroupMember>, AppError> {
        self.group(actor, id).await?;
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT u.id, u.username, u.email, m.role FROM group_member m JOIN users u ON u.id = m.user_id              WHERE m.group_id = $1 ORDER BY u.username",
        )
        .bind(id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, username, email, role)| {
                Some(GroupMember { user: UserId(id), username, email, role: GroupRole::parse(&role)? })
            })
            .collect())
    }

    /// Adds users to a group with `role` (its admins); none is added if any is a member already
    /// (409 at `user_ids`, naming them).
    pub async fn add_group_members(
        &self,
        actor: &Actor,
        id: i64,
        users: &[UserId],
        role: GroupRole,
    ) -> Result<(), AppError> {
        let group = self.group_row(id).await?;
        self.check_group(actor, id, GroupRole::Admin, "add members to this group").await?;
        if users.len() > MAX_ADDED {
            return Err(AppError::invalid("user_ids", format!("at most {MAX_ADDED} users at once")));
        }
        // One named twice is added once (as Django's `add` does; the second was "a member
        // already"); none named adds and records nothing.
        let mut seen = std::collections::HashSet::new();
        let users: Vec<UserId> = users.iter().copied().filter(|u| seen.insert(u.0)).collect();
        if users.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        // Who was added, as the log names them: the first few.
        let mut named = Vec::new();
        for user in &users {
            self.principal_columns(Principal::User(*user)).await.map_err(|e| e.renamed("user", "user_ids"))?;
            let taken: Option<(i64,)> =
                sqlx::query_as("SELECT 1 FROM group_member WHERE group_id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            // Another request may have added them since the read: the key decides.
            let added = match taken {
                Some(_) => None,
                None => Some(
                    sqlx::query("INSERT INTO group_member (group_id, user_id, role) VALUES ($1, $2, $3)")
                        .bind(id)
                        .bind(user.0)
                        .bind(role.as_str())
                        .execute(&mut *tx)
                        .await,
                ),
            };
            match added {
                Some(Ok(_)) if named.len() < NAMED_IN_LOG => {
                    named.push(self.principal_name(Principal::User(*user)).await?)
                }
                Some(Ok(_)) => {}
                Some(Err(e)) if !super::db::is_unique_violation(&e) => return Err(e.into()),
                _ => {
                    let who = self.principal_name(Principal::User(*user)).await?;
                    return Err(AppError::conflict("user_ids", format!("{who} is a member of {} already", group.name)));
                }
            }
        }
        let members = listed(&named, users.len());
        let body = format!("Added {members} to group {} as {}", group.name, role.title());
        let after = HeldRole::new(&members, role.title());
        audit::record(&mut tx, actor, &body, Subject::new("group", id), None::<&()>, Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `user` is the only admin of `group` (the web UI does not leave a group with
    /// none; Promgen's REST v2 does, and so does ours there).
    pub async fn is_last_admin(&self, group: i64, user: UserId) -> Result<bool, AppError> {
        // Deactivated users cannot manage the group: they do not count.
        let admins: Vec<(i64,)> = sqlx::query_as(
            "SELECT m.user_id FROM group_member m JOIN users u ON u.id = m.user_id \
             WHERE m.group_id = $1 AND m.role = 'ADMIN' AND u.is_active = 1",
        )
        .bind(group)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(admins.len() == 1 && admins[0].0 == user.0)
    }

    /// Changes a member's role in a group (its admins).
    pub async fn set_group_role(&self, actor: &Actor, id: i64, user: UserId, role: GroupRole) -> Result<(), AppError> {
        let group = self.group_row(id).await?;
        self.check_group(actor, id, GroupRole::Admin, "change this group's members").await?;
        // The role they hold already: nothing changes, nothing is recorded.
        let held = self.group_role(user.0, id).await?;
        if held == Some(role) {
            return Ok(());
        }
        let who = self.principal_name(Principal::User(user)).await?;
        let mut tx = self.db.begin().await?;
        let changed = sqlx::query("UPDATE group_member SET role = $1 WHERE group_id = $2 AND user_id = $3")
            .bind(role.as_str())
            .bind(id)
            .bind(user.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(AppError::NotFound(format!("{who} in group {}", group.name)));
        }
        let body = format!("Made {who} {} of group {}", role.title(), group.name);
        let before = held.map(|held| HeldRole::new(&who, held.title()));
        let after = HeldRole::new(&who, role.title());
        audit::record(&mut tx, actor, &body, Subject::new("group", id), before.as_ref(), Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a member from a group (its admins); their subscriptions that no role backs
    /// any more end.
    /// After `user` left `groups` other than by [`Roles::remove_group_member`] (a provider's
    /// groups claim): their subscriptions to what they may no longer see end.
    pub(crate) async fn left_groups(&self, groups: &[i64]) -> Result<(), AppError> {
        for &group in groups {
            for object in self.group_objects(group).await? {
                self.unsubscribe_roleless(object).await?;
            }
        }
        Ok(())
    }

    pub async fn remove_group_member(&self, actor: &Actor, id: i64, user: UserId) -> Result<(), AppError> {
        let group = self.group_row(id).await?;
        self.check_group(actor, id, GroupRole::Admin, "remove members of this group").await?;
        let who = self.principal_name(Principal::User(user)).await?;
        let held = self.group_role(user.0, id).await?;
        let mut tx = self.db.begin().await?;
        let gone = sqlx::query("DELETE FROM group_member WHERE group_id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if gone == 0 {
            return Err(AppError::NotFound(format!("{who} in group {}", group.name)));
        }
        let body = format!("Removed {who} from group {}", group.name);
        let before = held.map(|role| HeldRole::new(&who, role.title()));
        audit::record(&mut tx, actor, &body, Subject::new("group", id), before.as_ref(), None::<&()>).await?;
        tx.commit().await?;
        for object in self.group_objects(id).await? {
            self.unsubscribe_roleless(object).await?;
        }
        Ok(())
    }
}

/// A group's name: one line of up to 150 characters (Django's `Group.name`).
fn group_name(name: &str) -> Result<String, AppError> {
    let name = crate::model::validate::line("name", name, 150)?;
    if name.is_empty() {
        return Err(AppError::invalid("name", crate::model::validate::REQUIRED));
    }
    Ok(name)
}

fn object_name(object: Object) -> String {
    match object {
        Object::Service(s) => format!("service {s}"),
        Object::Project(p) => format!("project {p}"),
        Object::Site => "the site".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A group's "Added …" entry names who was added, the first few of many.
    #[test]
    fn added_members_are_named() {
        let names = |n: usize| (0..n).map(|i| format!("user u{i}")).collect::<Vec<_>>();
        assert_eq!(listed(&names(1), 1), "user u0");
        assert_eq!(listed(&names(3), 3), "user u0, user u1 and user u2");
        assert_eq!(listed(&names(NAMED_IN_LOG), 25), format!("{} and 15 more", names(NAMED_IN_LOG).join(", ")));
        assert_eq!(listed(&[], 2), "2 members");
    }
}
