//! Blackbox probes (site-wide modules) and the URLs projects ask them to check.

use super::Inventory;
use super::rows::*;
use crate::backend::audit::{self, Subject};
use crate::backend::policy;
use crate::backend::{Actor, bump_generation, unique};
use crate::error::AppError;
use crate::model::*;

impl Inventory {
    pub async fn probes(&self) -> Result<Vec<Probe>, AppError> {
        let mut list: Vec<Probe> = sqlx::query_as::<_, ProbeRow>("SELECT id, module, description FROM probe")
            .fetch_all(&self.db.pool)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        by_name(&mut list, |p| &p.module);
        Ok(list)
    }

    pub async fn create_probe(&self, actor: &Actor, module: &str, description: &str) -> Result<Probe, AppError> {
        actor.may_administer("add probes")?;
        let module = validate::module("module", module)?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = sqlx::query_as("INSERT INTO probe (module, description) VALUES ($1, $2) RETURNING id")
            .bind(&module)
            .bind(description.trim())
            .fetch_one(&mut *tx)
            .await
            .map_err(unique("module", format!("probe {module:?} exists already")))?;
        let probe = Probe { id: ProbeId(id), module, description: description.trim().into() };
        audit::record(
            &mut tx,
            actor,
            &format!("Created probe {}", probe.module),
            Subject::new("probe", id),
            None::<&()>,
            Some(&probe),
        )
        .await?;
        tx.commit().await?;
        Ok(probe)
    }

    pub async fn create_url(&self, actor: &Actor, project_id: ProjectId, input: UrlInput) -> Result<UrlId, AppError> {
        let project = self.project_row(project_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let input = input.clean()?;
        let probe: Option<(String,)> = sqlx::query_as("SELECT module FROM probe WHERE id = $1")
            .bind(input.probe_id.0)
            .fetch_optional(&self.db.pool)
            .await?;
        let Some((module,)) = probe else {
            return Err(AppError::invalid("probe_id", "choose a probe"));
        };
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO url (url, project_id, probe_id) VALUES ($1, $2, $3) RETURNING id")
                .bind(&input.url)
                .bind(project_id.0)
                .bind(input.probe_id.0)
                .fetch_one(&mut *tx)
                .await?;
        let body = format!("Created URL {} ({module})", input.url);
        let subject = Subject::new("url", id).under("project", project_id.0);
        audit::record(&mut tx, actor, &body, subject, None::<&()>, Some(&input)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(UrlId(id))
    }

    pub async fn delete_url(&self, actor: &Actor, id: UrlId) -> Result<ProjectId, AppError> {
        let row: (i64, String) = sqlx::query_as("SELECT project_id, url FROM url WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("URL {id}")))?;
        let project = self.project_row(ProjectId(row.0)).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM url WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let subject = Subject::new("url", id.0).under("project", row.0);
        audit::record(&mut tx, actor, &format!("Deleted URL {}", row.1), subject, Some(&row.1), None::<&()>).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(ProjectId(row.0))
    }
}
