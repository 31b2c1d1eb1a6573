//! Projects: a service's unit of deployment, pinned to one shard.

use super::Inventory;
use super::rows::*;
use crate::backend::audit::{self, Subject};
use crate::backend::policy;
use crate::backend::{Actor, bump_generation, unique};
use crate::error::AppError;
use crate::model::*;

impl Inventory {
    pub(super) async fn project_row(&self, id: ProjectId) -> Result<ProjectRow, AppError> {
        sqlx::query_as(&format!("SELECT {PROJECT_COLUMNS} FROM {PROJECT_FROM} WHERE p.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project {id}")))
    }

    /// Every project, by name (REST filters and visibility apply on top).
    pub async fn project_list(&self, actor: &Actor) -> Result<Vec<Project>, AppError> {
        actor.require()?;
        let rows: Vec<ProjectRow> =
            sqlx::query_as(&format!("SELECT {PROJECT_COLUMNS} FROM {PROJECT_FROM}")).fetch_all(&self.db.pool).await?;
        let mut list: Vec<Project> = rows.iter().map(ProjectRow::project).collect();
        by_name(&mut list, |p| &p.name);
        Ok(list)
    }

    /// Gives the project to `owner` (its current owner, its service's owner and site admins
    /// only: 400 for others, as Promgen answers); the new owner holds Admin.
    pub async fn set_project_owner(&self, actor: &Actor, id: ProjectId, owner: UserId) -> Result<Project, AppError> {
        let old = self.project_row(id).await?.project();
        policy::check(&self.db, actor, Action::Edit, Object::Project(id), "change this project").await?;
        if old.owner_id == Some(owner) {
            return Ok(old);
        }
        let service_owner: Option<(Option<i64>,)> = sqlx::query_as("SELECT owner_id FROM service WHERE id = $1")
            .bind(old.service_id.0)
            .fetch_optional(&self.db.pool)
            .await?;
        let me = actor.user_id();
        let may = actor.is_superuser() || me == old.owner_id || me.map(|u| u.0) == service_owner.and_then(|(o,)| o);
        if !may {
            return Err(AppError::invalid(
                "owner",
                "only the project's owner or a site admin can give it to someone else",
            ));
        }
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1 AND is_active = 1")
            .bind(owner.0)
            .fetch_optional(&self.db.pool)
            .await?;
        if row.is_none() {
            return Err(AppError::invalid("owner", format!("no user {owner}")));
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE project SET owner_id = $1 WHERE id = $2")
            .bind(owner.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        crate::backend::roles::grant_owner(&mut tx, Object::Project(id), owner).await?;
        let new = self.project_row_in(&mut tx, id).await?;
        let body = format!("Gave project {} to {}", new.name, new.owner.as_deref().unwrap_or_default());
        let subject = Subject::new("project", id.0).under("service", old.service_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&old), Some(&new)).await?;
        tx.commit().await?;
        Ok(new)
    }

    async fn project_row_in(&self, conn: &mut sqlx::AnyConnection, id: ProjectId) -> Result<Project, AppError> {
        let row: ProjectRow = sqlx::query_as(&format!("SELECT {PROJECT_COLUMNS} FROM {PROJECT_FROM} WHERE p.id = $1"))
            .bind(id.0)
            .fetch_one(conn)
            .await?;
        Ok(row.project())
    }

    /// The service a project belongs to, for those who may see the project (a project's
    /// Viewer may not open the service's page, but knows which it is).
    pub async fn project_service(&self, actor: &Actor, id: ProjectId) -> Result<Service, AppError> {
        let row = self.project_row(id).await?;
        policy::check(&self.db, actor, Action::View, Object::Project(id), "see this project").await?;
        Ok(self.service_row(row.project().service_id).await?.into())
    }

    pub async fn project(&self, actor: &Actor, id: ProjectId) -> Result<ProjectDetail, AppError> {
        actor.require()?;
        let row = self.project_row(id).await?;
        policy::check(&self.db, actor, Action::View, Object::Project(id), "see this project").await?;
        let farm: Option<Farm> =
            sqlx::query_as::<_, FarmRow>("SELECT id, name, source, project_id FROM farm WHERE project_id = $1")
                .bind(id.0)
                .fetch_optional(&self.db.pool)
                .await?
                .map(Into::into);
        let mut hosts: Vec<Host> = match &farm {
            Some(f) => sqlx::query_as::<_, HostRow>("SELECT id, name, farm_id FROM host WHERE farm_id = $1")
                .bind(f.id.0)
                .fetch_all(&self.db.pool)
                .await?
                .into_iter()
                .map(Into::into)
                .collect(),
            None => Vec::new(),
        };
        by_name(&mut hosts, |h| &h.name);
        let mut exporters: Vec<Exporter> =
            sqlx::query_as::<_, ExporterRow>(&format!("SELECT {EXPORTER_COLUMNS} FROM exporter WHERE project_id = $1"))
                .bind(id.0)
                .fetch_all(&self.db.pool)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
        exporters.sort_by(|a, b| (&a.job, a.port, a.id).cmp(&(&b.job, b.port, b.id)));
        let mut urls: Vec<Url> = sqlx::query_as::<_, UrlRow>(
            "SELECT u.id, u.url, u.project_id, u.probe_id, pr.module AS probe_module \
             FROM url u JOIN probe pr ON pr.id = u.probe_id WHERE u.project_id = $1",
        )
        .bind(id.0)
        .fetch_all(&self.db.pool)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
        by_name(&mut urls, |u| &u.url);
        let can_edit = policy::allows(&self.db, actor, Action::Edit, Object::Project(id)).await?;
        let can_delete = policy::allows(&self.db, actor, Action::Delete, Object::Project(id)).await?;
        Ok(ProjectDetail { project: row.project(), farm, hosts, exporters, urls, can_edit, can_delete })
    }

    /// Registers a project under a service, on an enabled shard. The service's editors may.
    pub async fn create_project(
        &self,
        actor: &Actor,
        service_id: ServiceId,
        input: ProjectInput,
    ) -> Result<Project, AppError> {
        let service = self.service_row(service_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Service(service.id()), "add projects to this service")
            .await?;
        let input = input.clean()?;
        let shard = self.chosen_shard(input.shard_id).await?;
        if !shard.enabled {
            return Err(AppError::invalid("shard_id", format!("shard {} is disabled for new projects", shard.name)));
        }
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO project (name, description, service_id, shard_id, owner_id) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(&input.name)
        .bind(&input.description)
        .bind(service_id.0)
        .bind(shard.id.0)
        .bind(actor.user_id().map(|u| u.0))
        .fetch_one(&mut *tx)
        .await
        .map_err(unique("name", format!("a project named {:?} exists already", input.name)))?;
        if let Some(owner) = actor.user_id() {
            crate::backend::roles::grant_owner(&mut tx, Object::Project(ProjectId(id)), owner).await?;
        }
        // The row made, not the input: the log names the shard, not only its id.
        let new = self.project_row_in(&mut tx, ProjectId(id)).await?;
        let body = format!("Created project {}", input.name);
        let subject = Subject::new("project", id).under("service", service_id.0);
        audit::record(&mut tx, actor, &body, subject, None::<&()>, Some(&new)).await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn update_project(&self, actor: &Actor, id: ProjectId, input: ProjectInput) -> Result<Project, AppError> {
        let row = self.project_row(id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(id), "change this project").await?;
        let input = input.clean()?;
        let old = row.project();
        if input.shard_id != old.shard_id && !self.chosen_shard(input.shard_id).await?.enabled {
            return Err(AppError::invalid("shard_id", "that shard is disabled for new projects"));
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE project SET name = $1, description = $2, shard_id = $3 WHERE id = $4")
            .bind(&input.name)
            .bind(&input.description)
            .bind(input.shard_id.0)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(unique("name", format!("a project named {:?} exists already", input.name)))?;
        // The row after, not the input: the log names the new shard, not only its id.
        let new = self.project_row_in(&mut tx, id).await?;
        let body = format!("Updated project {}", input.name);
        let subject = Subject::new("project", id.0).under("service", old.service_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&old), Some(&new)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Deletes the project with its farm, exporters and URLs; answers what it was.
    pub async fn delete_project(&self, actor: &Actor, id: ProjectId) -> Result<Project, AppError> {
        let row = self.project_row(id).await?;
        policy::check(&self.db, actor, Action::Delete, Object::Project(id), "delete this project").await?;
        let old = row.project();
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM project WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let body = format!("Deleted project {}", old.name);
        let subject = Subject::new("project", id.0).under("service", old.service_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&old), None::<&()>).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(old)
    }
}
