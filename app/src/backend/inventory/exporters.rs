//! Exporters: what port and path to scrape on every host of a project's farm.

use super::Inventory;
use super::rows::*;
use crate::backend::audit::{self, Subject};
use crate::backend::policy;
use crate::backend::{Actor, bump_generation, unique};
use crate::error::AppError;
use crate::model::*;

impl Inventory {
    /// One exporter (any logged-in caller; REST checks its project's visibility).
    pub async fn exporter(&self, actor: &Actor, id: ExporterId) -> Result<Exporter, AppError> {
        actor.require()?;
        self.exporter_row(id).await
    }

    pub(crate) async fn exporter_row(&self, id: ExporterId) -> Result<Exporter, AppError> {
        sqlx::query_as::<_, ExporterRow>(&format!("SELECT {EXPORTER_COLUMNS} FROM exporter WHERE id = $1"))
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .map(Into::into)
            .ok_or_else(|| AppError::NotFound(format!("exporter {id}")))
    }

    pub async fn default_exporters(&self) -> Result<Vec<DefaultExporter>, AppError> {
        let mut list: Vec<DefaultExporter> =
            sqlx::query_as::<_, DefaultExporterRow>("SELECT id, job, port, path, scheme FROM default_exporter")
                .fetch_all(&self.db.pool)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
        list.sort_by(|a, b| (&a.job, a.port).cmp(&(&b.job, b.port)));
        Ok(list)
    }

    pub async fn create_exporter(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        input: ExporterInput,
    ) -> Result<Exporter, AppError> {
        let project = self.project_row(project_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let input = input.clean()?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO exporter (project_id, job, port, path, scheme, enabled) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(project_id.0)
        .bind(&input.job)
        .bind(input.port)
        .bind(&input.path)
        .bind(input.scheme.as_str())
        .bind(i64::from(input.enabled))
        .fetch_one(&mut *tx)
        .await
        .map_err(unique("port", format!("this project has the exporter {}:{} with that path already", input.job, input.port)))?;
        let exporter = Exporter {
            id: ExporterId(id),
            project_id,
            job: input.job,
            port: input.port,
            path: input.path,
            scheme: input.scheme,
            enabled: input.enabled,
        };
        let body = format!("Created exporter {}:{}", exporter.job, exporter.port);
        let subject = Subject::new("exporter", id).under("project", project_id.0);
        audit::record(&mut tx, actor, &body, subject, None::<&()>, Some(&exporter)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(exporter)
    }

    /// Turns scraping of this exporter on or off; returns the new state.
    pub async fn set_exporter_enabled(
        &self,
        actor: &Actor,
        id: ExporterId,
        enabled: bool,
    ) -> Result<Exporter, AppError> {
        let old = self.exporter_row(id).await?;
        let project = self.project_row(old.project_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE exporter SET enabled = $1 WHERE id = $2")
            .bind(i64::from(enabled))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let new = Exporter { enabled, ..old.clone() };
        let verb = if enabled { "Enabled" } else { "Disabled" };
        let body = format!("{verb} exporter {}:{}", new.job, new.port);
        let subject = Subject::new("exporter", id.0).under("project", new.project_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&old), Some(&new)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    pub async fn delete_exporter(&self, actor: &Actor, id: ExporterId) -> Result<ProjectId, AppError> {
        let old = self.exporter_row(id).await?;
        let project = self.project_row(old.project_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM exporter WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let body = format!("Deleted exporter {}:{}", old.job, old.port);
        let subject = Subject::new("exporter", id.0).under("project", old.project_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&old), None::<&()>).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(old.project_id)
    }
}
