//! The one answer to "may this actor do this action on this object" (spec 8.2), asked by
//! every change whatever its entry point (server functions, REST, the command line).
//!
//! - Site admins (and the operator at the command line) may do everything.
//! - A user's role on a project is the strongest of their own grant on the project or on its
//!   service and the grants of the groups they are in (Admin or Member alike). On a service,
//!   the same without the project. Owners hold Admin as a grant made with the object (as
//!   Promgen's `assign_admin_to_owner` does; a Promgen export brings its grants along).
//! - View needs any role (the site: a login; everything, when the site opens read access to
//!   every logged-in user, [`open_read`]), Edit Editor or Admin (the site: a site admin),
//!   ManageMembers Admin, Delete the Admin role and ownership (a project: its owner or its
//!   service's owner).

use super::{Actor, Db};
use crate::error::AppError;
use crate::model::{Action, Object, ProjectId, Role, ServiceId};

/// The strongest role `actor` holds on `object`; `None` for none. Site admins hold Admin
/// everywhere; on the site, nobody else holds a role.
pub async fn role(db: &Db, actor: &Actor, object: Object) -> Result<Option<Role>, AppError> {
    match actor {
        Actor::Anonymous => Ok(None),
        Actor::System => Ok(Some(Role::Admin)),
        Actor::User(u) if u.is_superuser => Ok(Some(Role::Admin)),
        Actor::User(u) => user_role(db, u.id.0, object).await,
    }
}

/// The strongest role user `me` holds on `object` by grants (theirs and their groups'), not
/// counting site admin rights.
pub async fn user_role(db: &Db, me: i64, object: Object) -> Result<Option<Role>, AppError> {
    let (service, project) = match object {
        Object::Site => return Ok(None),
        Object::Service(s) => (s, None),
        Object::Project(p) => (service_of(db, p).await?, Some(p)),
    };
    let roles: Vec<(String,)> = sqlx::query_as(
        "SELECT role FROM role_grant WHERE (service_id = $1 OR project_id = $2) \
         AND (user_id = $3 OR group_id IN (SELECT group_id FROM group_member WHERE user_id = $3))",
    )
    .bind(service.0)
    .bind(project.map(|p| p.0))
    .bind(me)
    .fetch_all(&db.pool)
    .await?;
    Ok(roles.iter().filter_map(|(r,)| Role::parse(r)).max())
}

/// The service a project belongs to.
async fn service_of(db: &Db, project: ProjectId) -> Result<ServiceId, AppError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT service_id FROM project WHERE id = $1").bind(project.0).fetch_optional(&db.pool).await?;
    row.map(|(s,)| ServiceId(s)).ok_or_else(|| AppError::NotFound(format!("project {project}")))
}

/// Whether `actor` owns `object` (a project: or owns its service), for deleting it.
async fn owns(db: &Db, me: i64, object: Object) -> Result<bool, AppError> {
    let row: Option<(i64,)> = match object {
        Object::Site => None,
        Object::Service(s) => {
            sqlx::query_as("SELECT 1 FROM service WHERE id = $1 AND owner_id = $2")
                .bind(s.0)
                .bind(me)
                .fetch_optional(&db.pool)
                .await?
        }
        Object::Project(p) => {
            sqlx::query_as(
                "SELECT 1 FROM project p JOIN service s ON s.id = p.service_id \
             WHERE p.id = $1 AND (p.owner_id = $2 OR s.owner_id = $2)",
            )
            .bind(p.0)
            .bind(me)
            .fetch_optional(&db.pool)
            .await?
        }
    };
    Ok(row.is_some())
}

/// Whether `actor` may do `action` on `object`.
pub async fn allows(db: &Db, actor: &Actor, action: Action, object: Object) -> Result<bool, AppError> {
    if matches!(actor, Actor::Anonymous) {
        return Ok(false);
    }
    if actor.is_superuser() {
        return Ok(true);
    }
    if object == Object::Site {
        // Site rules and notifiers are read by everyone, changed by site admins.
        return Ok(action == Action::View);
    }
    if action == Action::View && open_read(db).await? {
        return Ok(true);
    }
    let held = role(db, actor, object).await?;
    if action == Action::Delete {
        return match actor.user_id() {
            Some(me) => Ok(held == Some(Role::Admin) && owns(db, me.0, object).await?),
            None => Ok(false),
        };
    }
    Ok(match action {
        Action::View => held.is_some(),
        Action::Edit => held >= Some(Role::Editor),
        Action::ManageMembers => held == Some(Role::Admin),
        Action::Delete => unreachable!("answered above"),
    })
}

/// [`allows`] as a refusal: 401 for nobody, 403 naming what was asked (`what`, e.g. "change
/// this project") and what it needs.
pub async fn check(db: &Db, actor: &Actor, action: Action, object: Object, what: &str) -> Result<(), AppError> {
    actor.require()?;
    if allows(db, actor, action, object).await? {
        return Ok(());
    }
    let why = match (object, action) {
        (Object::Site, _) => "only a site admin can".to_string(),
        (_, Action::Delete) => "only its owner or a site admin can".to_string(),
        _ => format!("that needs {}", action.needs()),
    };
    Err(AppError::Forbidden(format!("{what}: {why}")))
}

/// Whether `actor` may edit at least one service or project: a site admin (or the operator),
/// or a user holding Editor or Admin on one, themselves or through a group.
pub async fn edits_anything(db: &Db, actor: &Actor) -> Result<bool, AppError> {
    let me = match actor {
        Actor::Anonymous => return Ok(false),
        Actor::System => return Ok(true),
        Actor::User(u) if u.is_superuser => return Ok(true),
        Actor::User(u) => u.id.0,
    };
    let held: Option<(i64,)> = sqlx::query_as(
        "SELECT id FROM role_grant WHERE role IN ('ADMIN', 'EDITOR') \
         AND (user_id = $1 OR group_id IN (SELECT group_id FROM group_member WHERE user_id = $1)) LIMIT 1",
    )
    .bind(me)
    .fetch_optional(&db.pool)
    .await?;
    Ok(held.is_some())
}

/// What an actor may read of the inventory, read once for a whole answer (a search): `None`
/// sets mean everything.
pub struct Readable {
    services: Option<std::collections::HashSet<ServiceId>>,
    projects: Option<std::collections::HashSet<ProjectId>>,
}

impl Readable {
    pub async fn of(db: &Db, actor: &Actor) -> Result<Readable, AppError> {
        Ok(Readable {
            services: visible_services(db, actor).await?.map(|v| v.into_iter().collect()),
            projects: visible_projects(db, actor).await?.map(|v| v.into_iter().collect()),
        })
    }

    pub fn service(&self, id: ServiceId) -> bool {
        self.services.as_ref().is_none_or(|s| s.contains(&id))
    }

    pub fn project(&self, id: ProjectId) -> bool {
        self.projects.as_ref().is_none_or(|s| s.contains(&id))
    }
}

/// Whether the site lets every logged-in user read every service and project (a site
/// setting, off by default).
pub async fn open_read(db: &Db) -> Result<bool, AppError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT open_read FROM site WHERE id = 1").fetch_optional(&db.pool).await?;
    Ok(row.is_some_and(|(o,)| o != 0))
}

/// The services `actor` may see (spec 8.2, "accessible sets"): those they hold a role on,
/// theirs or their groups'; `None` for all (site admins).
pub async fn visible_services(db: &Db, actor: &Actor) -> Result<Option<Vec<ServiceId>>, AppError> {
    let me = match actor {
        Actor::Anonymous => return Ok(Some(Vec::new())),
        Actor::System => return Ok(None),
        Actor::User(u) if u.is_superuser => return Ok(None),
        Actor::User(u) => u.id.0,
    };
    if open_read(db).await? {
        return Ok(None);
    }
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT service_id FROM role_grant WHERE service_id IS NOT NULL \
         AND (user_id = $1 OR group_id IN (SELECT group_id FROM group_member WHERE user_id = $1))",
    )
    .bind(me)
    .fetch_all(&db.pool)
    .await?;
    Ok(Some(rows.into_iter().map(|(id,)| ServiceId(id)).collect()))
}

/// The projects `actor` may see: those they hold a role on, and those of the services they
/// may see; `None` for all (site admins).
pub async fn visible_projects(db: &Db, actor: &Actor) -> Result<Option<Vec<ProjectId>>, AppError> {
    let me = match actor {
        Actor::Anonymous => return Ok(Some(Vec::new())),
        Actor::System => return Ok(None),
        Actor::User(u) if u.is_superuser => return Ok(None),
        Actor::User(u) => u.id.0,
    };
    if open_read(db).await? {
        return Ok(None);
    }
    let rows: Vec<(i64,)> = sqlx::query_as(
        "WITH mine AS (SELECT group_id FROM group_member WHERE user_id = $1), \
         services AS (SELECT service_id AS id FROM role_grant \
           WHERE service_id IS NOT NULL AND (user_id = $1 OR group_id IN (SELECT group_id FROM mine))) \
         SELECT id FROM project WHERE service_id IN (SELECT id FROM services) \
         UNION SELECT project_id FROM role_grant WHERE project_id IS NOT NULL \
           AND (user_id = $1 OR group_id IN (SELECT group_id FROM mine))",
    )
    .bind(me)
    .fetch_all(&db.pool)
    .await?;
    Ok(Some(rows.into_iter().map(|(id,)| ProjectId(id)).collect()))
}
