//! Farms (a project's host list) and their hosts.

use super::Inventory;
use super::rows::*;
use crate::backend::audit::{self, Subject};
use crate::backend::policy;
use crate::backend::{Actor, bump_generation};
use crate::error::AppError;
use crate::model::*;

/// Rows per multi-row INSERT: well under both backends' bind-parameter limits.
const HOST_BATCH: usize = 500;

/// Inserts hosts into a farm in a few statements, skipping those already there. Returns how
/// many were new.
pub(crate) async fn insert_hosts(
    conn: &mut sqlx::AnyConnection,
    farm: FarmId,
    hosts: &[String],
) -> Result<u64, sqlx::Error> {
    let mut added = 0;
    for chunk in hosts.chunks(HOST_BATCH) {
        let values: Vec<String> = (0..chunk.len()).map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2)).collect();
        let sql = format!(
            "INSERT INTO host (name, farm_id) VALUES {} ON CONFLICT (name, farm_id) DO NOTHING",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for h in chunk {
            q = q.bind(h.as_str()).bind(farm.0);
        }
        added += q.execute(&mut *conn).await?.rows_affected();
    }
    Ok(added)
}

impl Inventory {
    /// A pasted host list checked on the CPU pool (a paste may hold a hundred thousand).
    async fn host_list(&self, pasted: String) -> Result<Vec<String>, AppError> {
        let hosts = self.cpu.run("checking the hosts", move || validate::host_list("hosts", &pasted)).await??;
        self.within_limit(hosts.len())?;
        Ok(hosts)
    }

    /// Refuses a farm of `hosts` hosts when that is more than the limit.
    fn within_limit(&self, hosts: usize) -> Result<(), AppError> {
        let max = self.max_hosts_per_farm;
        if hosts > max {
            return Err(AppError::invalid(
                "hosts",
                format!("a farm holds at most {max} hosts (--max-hosts-per-farm); this would make it {hosts}"),
            ));
        }
        Ok(())
    }

    async fn farm_with_project(&self, id: FarmId) -> Result<(Farm, ProjectRow), AppError> {
        let farm: Farm = sqlx::query_as::<_, FarmRow>("SELECT id, name, source, project_id FROM farm WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("farm {id}")))?
            .into();
        let project = self.project_row(farm.project_id).await?;
        Ok((farm, project))
    }

    /// Every farm, by name (REST filters and visibility apply on top).
    pub async fn farm_list(&self, actor: &Actor) -> Result<Vec<Farm>, AppError> {
        actor.require()?;
        let mut list: Vec<Farm> = sqlx::query_as::<_, FarmRow>("SELECT id, name, source, project_id FROM farm")
            .fetch_all(&self.db.pool)
            .await?
            .into_iter()
            .map(Into::into)
            .collect();
        by_name(&mut list, |f| &f.name);
        Ok(list)
    }

    /// One farm and its hosts by name (any logged-in caller; REST checks its project's
    /// visibility).
    pub async fn farm(&self, actor: &Actor, id: FarmId) -> Result<(Farm, Vec<Host>), AppError> {
        actor.require()?;
        let (farm, _) = self.farm_with_project(id).await?;
        let mut hosts: Vec<Host> =
            sqlx::query_as::<_, HostRow>("SELECT id, name, farm_id FROM host WHERE farm_id = $1")
                .bind(id.0)
                .fetch_all(&self.db.pool)
                .await?
                .into_iter()
                .map(Into::into)
                .collect();
        by_name(&mut hosts, |h| &h.name);
        Ok((farm, hosts))
    }

    /// Renames a local farm (its project's Editors and Admins); a farm from another source is
    /// named by it (Promgen: "Only local farms can be updated.").
    pub async fn rename_farm(&self, actor: &Actor, id: FarmId, name: &str) -> Result<Farm, AppError> {
        let (farm, project) = self.farm_with_project(id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        if !farm.is_local() {
            return Err(AppError::invalid("name", "Only local farms can be updated."));
        }
        let name = crate::model::validate::name("name", name)?;
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE farm SET name = $1 WHERE id = $2").bind(&name).bind(id.0).execute(&mut *tx).await?;
        let new = Farm { name, ..farm.clone() };
        let body = format!("Renamed farm {} to {}", farm.name, new.name);
        let subject = Subject::new("farm", id.0).under("project", farm.project_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&farm), Some(&new)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Makes a farm from a remote source local (its hosts kept, edited here from now on).
    pub async fn convert_farm_to_local(&self, actor: &Actor, id: FarmId) -> Result<Farm, AppError> {
        let (farm, project) = self.farm_with_project(id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        if farm.is_local() {
            return Err(AppError::invalid("source", "the farm is local already"));
        }
        let mut tx = self.db.begin().await?;
        sqlx::query("UPDATE farm SET source = $1 WHERE id = $2")
            .bind(LOCAL_FARM_SOURCE)
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        let new = Farm { source: LOCAL_FARM_SOURCE.into(), ..farm.clone() };
        let body = format!("Made farm {} local", farm.name);
        let subject = Subject::new("farm", id.0).under("project", farm.project_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&farm), Some(&new)).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Gives a project its (local) farm, with an optional first list of hosts.
    pub async fn create_farm(&self, actor: &Actor, project_id: ProjectId, input: FarmInput) -> Result<Farm, AppError> {
        let project = self.project_row(project_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let name = validate::name("name", &input.name)?;
        let hosts = if input.hosts.trim().is_empty() { Vec::new() } else { self.host_list(input.hosts).await? };
        let mut tx = self.db.begin().await?;
        let (id,): (i64,) =
            sqlx::query_as("INSERT INTO farm (name, source, project_id) VALUES ($1, $2, $3) RETURNING id")
                .bind(&name)
                .bind(LOCAL_FARM_SOURCE)
                .bind(project_id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(crate::backend::unique("name", "this project has a farm already"))?;
        let farm = Farm { id: FarmId(id), name, source: LOCAL_FARM_SOURCE.into(), project_id };
        insert_hosts(&mut tx, farm.id, &hosts).await?;
        let body = format!("Created farm {} with {}", farm.name, crate::model::counted(hosts.len() as i64, "host"));
        let subject = Subject::new("farm", id).under("project", project_id.0);
        audit::record(&mut tx, actor, &body, subject, None::<&()>, Some(&(&farm, &hosts))).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(farm)
    }

    /// Adds a pasted list of hosts to a local farm; hosts already there are skipped. Returns
    /// how many were added.
    pub async fn add_hosts(&self, actor: &Actor, farm_id: FarmId, hosts: &str) -> Result<u64, AppError> {
        let (farm, project) = self.farm_with_project(farm_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        if !farm.is_local() {
            return Err(AppError::invalid(
                "hosts",
                format!("farm {} comes from {}; its hosts are not edited here", farm.name, farm.source),
            ));
        }
        let hosts = self.host_list(hosts.to_string()).await?;
        let mut tx = self.db.begin().await?;
        let added = insert_hosts(&mut tx, farm.id, &hosts).await?;
        // Counted after the insert, which skipped the hosts already there; a refusal rolls
        // the insert back.
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM host WHERE farm_id = $1").bind(farm_id.0).fetch_one(&mut *tx).await?;
        self.within_limit(total as usize)?;
        if added > 0 {
            let body = format!("Added {} to farm {}", crate::model::counted(added as i64, "host"), farm.name);
            let subject = Subject::new("farm", farm.id.0).under("project", farm.project_id.0);
            audit::record(&mut tx, actor, &body, subject, None::<&()>, Some(&hosts)).await?;
            bump_generation(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(added)
    }

    pub async fn delete_host(&self, actor: &Actor, host_id: HostId) -> Result<ProjectId, AppError> {
        let host: Host = sqlx::query_as::<_, HostRow>("SELECT id, name, farm_id FROM host WHERE id = $1")
            .bind(host_id.0)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("host {host_id}")))?
            .into();
        let (farm, project) = self.farm_with_project(host.farm_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM host WHERE id = $1").bind(host_id.0).execute(&mut *tx).await?;
        let body = format!("Deleted host {} from farm {}", host.name, farm.name);
        let subject = Subject::new("host", host_id.0).under("project", farm.project_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&host), None::<&()>).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(farm.project_id)
    }

    /// Unlinks a farm from its project, deleting its hosts.
    pub async fn delete_farm(&self, actor: &Actor, farm_id: FarmId) -> Result<ProjectId, AppError> {
        let (farm, project) = self.farm_with_project(farm_id).await?;
        policy::check(&self.db, actor, Action::Edit, Object::Project(project.id()), "change this project").await?;
        let mut tx = self.db.begin().await?;
        sqlx::query("DELETE FROM farm WHERE id = $1").bind(farm_id.0).execute(&mut *tx).await?;
        let body = format!("Deleted farm {}", farm.name);
        let subject = Subject::new("farm", farm_id.0).under("project", farm.project_id.0);
        audit::record(&mut tx, actor, &body, subject, Some(&farm), None::<&()>).await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(farm.project_id)
    }
}
