//! Services: the top of the inventory, owning projects.

use super::Inventory;
use super::rows::*;
use crate::backend::audit::{self, Subject};
use crate::backend::policy;
use crate::backend::{Actor, bump_generation, unique};
use crate::error::AppError;
use crate::model::*;

impl Inventory {
    /// Every service with its projects, for the home page.
    pub async fn services(&self, actor: &Actor) -> Result<Vec<ServiceSummary>, AppError> {
        actor.require()?;
        let services: Vec<ServiceRow> =
            sqlx::query_as(&format!("SELECT {SERVICE_COLUMNS} FROM service s")).fetch_all(&self.db.pool).await?;
        let projects: Vec<ProjectSummaryRow> = sqlx::query_as(PROJECT_SUMMARY_SQL).fetch_all(&self.db.pool).await?;
        let mut out: Vec<ServiceSummary> = services
            .into_iter()
            .map(|s| ServiceSummary { service: s.into(), projects: Vec::new(), readable: true })
            .collect();
        by_name(&mut out, |s| &s.service.name);
        let index: std::collections::HashMap<i64, usize> =
            out.iter().enumerate().map(|(i, s)| (s.service.id.0, i)).collect();
        for p in projects {
            if let Some(&i) = index.get(&p.service_id) {
                out[i].projects.push(p.into());
            }
        }
        for s in &mut out {
            by_name(&mut s.projects, |p| &p.name);
        }
        // What the caller may see: the services they hold a role on, and those holding a
        // project they do (with only those projects).
        if let Some(projects) = policy::visible_projects(&self.db, actor).await? {
            let services = policy::visible_services(&self.db, actor).await?.unwrap_or_default();
            for s in &mut out {
                s.projects.retain(|p| projects.contains(&p.id));
                s.readable = services.contains(&s.service.id);
            }
            out.retain(|s| services.contains(&s.service.id) || !s.projects.is_empty());
        }
        Ok(out)
    }

    pub(super) async fn service_row(&self, id: ServiceId) -> Result<ServiceRow, AppError> {
        sqlx::query_as(&format!("SELECT {SERVICE_COLUMNS} FROM service s WHERE s.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("service {id}")))
    }

    pub async fn service(&self, actor: &Actor, id: ServiceId) -> Result<ServiceDetail, AppError> {
        actor.require()?;
        let row = self.service_row(id).await?;
        if let Err(AppError::Forbidden(why)) =
            policy::check(&self.db, actor, Action::View, Object::Service(id), "see this service").await
        {
            return Err(AppError::Forbidden(self.refusal_with_projects(actor, id, why).await?));
        }
        let can_edit = policy::allows(&self.db, actor, Action::Edit, Object::Service(id)).await?;
        let mut projects: Vec<ProjectSummary> =
            sqlx::query_as::<_, ProjectSummaryRow>(&format!("{PROJECT_SUMMARY_SQL} WHERE p.service_id = $1"))
                .bind(id.0)
                .fetch_all(&self.db.pool)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
        by_name(&mut projects, |p| &p.name);
        let can_delete = policy::allows(&self.db, actor, Action::Delete, Object::Service(id)).await?;
        Ok(ServiceDetail { service: row.into(), projects, can_edit, can_delete })
    }

    /// A refusal to see service `id` that names the projects of it the reader holds a role on
    /// (their project pages link here, and a bare refusal left them nowhere to go).
    async fn refusal_with_projects(&self, actor: &Actor, id: ServiceId, why: String) -> Result<String, AppError> {
        let readable = policy::Readable::of(&self.db, actor).await?;
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name FROM project WHERE service_id = $1 ORDER BY name")
                .bind(id.0)
                .fetch_all(&self.db.pool)
                .await?;
        let mine: Vec<String> = rows
            .into_iter()
            .filter(|(p, _)| readable.project(ProjectId(*p)))
            .map(|(_, name)| format!("{name:?}"))
            .collect();
        Ok(match mine.len() {
            0 => why,
            1 => format!("{why}. Your role is on its project {} only: its page is yours to see.", mine[0]),
            n => format!("{why}. Your roles are on {n} of its projects only: {}.", mine[..n.min(10)].join(", ")),
        })
    }

    /// Anyone logged in may register a service; they become its owner.
    pub async fn create_service(&self, actor: &Actor, input: ServiceInput) -> Result<Service, AppError> {
        actor.require()?;
        let input = input.clean()?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO service (name, description, owner_id) VALUES ($1, $2, $3) RETURNING id")
                .bind(&input.name)
                .bind(&input.description)
                .bind(actor.user_id().map(|u| u.0))
                .fetch_one(&mut *tx)
                .await
                .map_err(unique("name", format!("a service named {:?} exists already", input.name)))?;
        let service = Service {
            id: ServiceId(id),
            name: input.name,
            description: input.description,
            owner: match actor {
                Actor::User(u) => Some(u.username.clone()),
                _ => None,
            },
            owner_id: actor.user_id(),
        };
        if let Some(owner) = actor.user_id() {
            crate::backend::roles::grant_owner(&mut tx, Object::Service(service.id), owner).await?;
        }
        let body = format!("Created service {}", service.name);
        audit::record(&mut tx, actor, &body, Subject::new("service", id), None::<&()>, Some(&service)).await?;
        tx.commit().await?;
        Ok(service)
    }

    pub async fn update_service(&self, actor: &Actor, id: ServiceId, input: ServiceInput) -> Result<Service, AppError> {
        let old = self.service_row(id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Service(id), "change this service").await?;
        let input = input.clean()?;
        let old: Service = old.into();
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE service SET name = $1, description = $2 WHERE id = $3")
            .bind(&input.name)
            .bind(&input.description)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(unique("name", format!("a service named {:?} exists already", input.name)))?;
        let new = Service { name: input.name, description: input.description, ..old.clone() };
        let body = format!("Updated service {}", new.name);
        audit::record(&mut tx, actor, &body, Subject::new("service", id.0), Some(&old), Some(&new)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Gives the service to `owner` (its current owner and site admins only: 400 for others,
    /// as Promgen answers): the new owner is Admin by ownership.
    pub async fn set_service_owner(&self, actor: &Actor, id: ServiceId, owner: UserId) -> Result<Service, AppError> {
        let old: Service = self.service_row(id).await?.into();
        policy::check(&self.db, actor, Action::Edit, Object::Service(id), "change this service").await?;
        if old.owner_id == Some(owner) {
            return Ok(old);
        }
        if !actor.is_superuser() && actor.user_id() != old.owner_id {
            return Err(AppError::invalid(
                "owner",
                "only the service's owner or a site admin can give it to someone else",
            ));
        }
        let row: Option<(String,)> = sqlx::query_as("SELECT username FROM users WHERE id = $1 AND is_active = 1")
            .bind(owner.0)
            .fetch_optional(&self.db.pool)
            .await?;
        let Some((username,)) = row else { return Err(AppError::invalid("owner", format!("no user {owner}"))) };
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE service SET owner_id = $1 WHERE id = $2")
            .bind(owner.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        crate::backend::roles::grant_owner(&mut tx, Object::Service(id), owner).await?;
        let new = Service { owner: Some(username), owner_id: Some(owner), ..old.clone() };
        let body = format!("Gave service {} to {}", new.name, new.owner.as_deref().unwrap_or_default());
        audit::record(&mut tx, actor, &body, Subject::new("service", id.0), Some(&old), Some(&new)).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Deletes the service with its projects, farms, hosts, exporters and URLs; answers what
    /// it was.
    pub async fn delete_service(&self, actor: &Actor, id: ServiceId) -> Result<Service, AppError> {
        let old = self.service_row(id).await?;
        policy::check(&self.db, actor, Action::Delete, Object::Service(id), "delete this service").await?;
        let old: Service = old.into();
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM service WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let body = format!("Deleted service {}", old.name);
        audit::record(&mut tx, actor, &body, Subject::new("service", id.0), Some(&old), None::<&()>).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(old)
    }
}
