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
        let description = validate::text("description", description, validate::MAX_DESCRIPTION)?;
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) = sqlx::query_as("INSERT INTO probe (module, description) VALUES ($1, $2) RETURNING id")
            .bind(&module)
            .bind(&description)
            .fetch_one(&mut *tx)
            .await
            .map_err(unique("module", format!("probe {module:?} exists already")))?;
        let probe = Probe { id: ProbeId(id), module, description };
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

    /// Every probe with how many URLs use it, by module (any logged-in user).
    pub async fn probe_usage(&self, actor: &Actor) -> Result<Vec<ProbeUsage>, AppError> {
        actor.require()?;
        let counts: Vec<(i64, i64)> =
            sqlx::query_as("SELECT probe_id, COUNT(*) FROM url GROUP BY probe_id").fetch_all(&self.db.pool).await?;
        let counts: std::collections::HashMap<i64, i64> = counts.into_iter().collect();
        Ok(self
            .probes()
            .await?
            .into_iter()
            .map(|probe| ProbeUsage { urls: counts.get(&probe.id.0).copied().unwrap_or(0), probe })
            .collect())
    }

    async fn probe_row(&self, id: ProbeId) -> Result<Probe, AppError> {
        sqlx::query_as::<_, ProbeRow>("SELECT id, module, description FROM probe WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .map(Into::into)
            .ok_or_else(|| AppError::NotFound(format!("probe {id}")))
    }

    /// Renames a probe's module or changes its description (site admins). The URLs file names
    /// the module, so Prometheus gets the change.
    pub async fn update_probe(
        &self,
        actor: &Actor,
        id: ProbeId,
        module: &str,
        description: &str,
    ) -> Result<Probe, AppError> {
        actor.may_administer("change probes")?;
        let module = validate::module("module", module)?;
        let description = validate::text("description", description, validate::MAX_DESCRIPTION)?;
        let old = self.probe_row(id).await?;
        let new = Probe { id, module, description };
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE probe SET module = $1, description = $2 WHERE id = $3")
            .bind(&new.module)
            .bind(&new.description)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(unique("module", format!("probe {:?} exists already", new.module)))?;
        let body = format!("Updated probe {}", new.module);
        audit::record(&mut tx, actor, &body, Subject::new("probe", id.0), Some(&old), Some(&new)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Deletes a probe that no URL uses (site admins); refused (409) while URLs use it, which
    /// would otherwise go with it.
    pub async fn delete_probe(&self, actor: &Actor, id: ProbeId) -> Result<(), AppError> {
        actor.may_administer("delete probes")?;
        let old = self.probe_row(id).await?;
        let mut tx = self.db.begin().await?;
        // Counted inside the write: a URL added meanwhile cannot be deleted with it.
        let (urls,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM url WHERE probe_id = $1").bind(id.0).fetch_one(&mut *tx).await?;
        if urls > 0 {
            // About the probe, not one field of the form.
            let (checked, them) = if urls == 1 { ("is", "it") } else { ("are", "them") };
            return Err(AppError::conflict(
                "",
                format!(
                    "{} {checked} checked with probe {}: delete {them} or pick another probe first",
                    crate::model::counted(urls, "URL"),
                    old.module
                ),
            ));
        }
        sqlx::query("DELETE FROM probe WHERE id = $1").bind(id.0).execute(&mut *tx).await?;
        let body = format!("Deleted probe {}", old.module);
        audit::record(&mut tx, actor, &body, Subject::new("probe", id.0), Some(&old), None::<&()>).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Refuses (409 on `url`) a URL the project probes with that probe already: the page's
    /// form, where a second row would only probe it twice. (Promgen's REST API allows it, and
    /// so does [`Self::create_url`].)
    pub async fn refuse_known_url(
        &self,
        actor: &Actor,
        project_id: ProjectId,
        input: &UrlInput,
    ) -> Result<(), AppError> {
        // Rights first: who may not change the project learns nothing of its URLs here.
        policy::check(&self.db, actor, Action::Edit, Object::Project(project_id), "change this project").await?;
        let url = crate::model::validate::http_url("url", &input.url)?;
        let known: Option<(String,)> = sqlx::query_as(
            "SELECT p.module FROM url u JOIN probe p ON p.id = u.probe_id \
             WHERE u.project_id = $1 AND u.url = $2 AND u.probe_id = $3",
        )
        .bind(project_id.0)
        .bind(&url)
        .bind(input.probe_id.0)
        .fetch_optional(&self.db.pool)
        .await?;
        match known {
            Some((module,)) => {
                Err(AppError::conflict("url", format!("this project probes {url} with {module} already")))
            }
            None => Ok(()),
        }
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
