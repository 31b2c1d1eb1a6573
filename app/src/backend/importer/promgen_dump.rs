//! `promgen import-promgen FILE...`: Django `dumpdata` output (YAML or JSON). Files apply in
//! order and a later object with the same model and pk replaces the earlier, as `loaddata`
//! does; primary keys are kept so links like `/project/12` stay valid.

use super::{ImportReport, Importer};
use crate::backend::audit::{self, Subject};
use crate::backend::{Actor, bump_generation, db};
use crate::error::AppError;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;

#[derive(Clone, Debug, Deserialize)]
pub struct DumpObject {
    pub model: String,
    #[serde(default)]
    pub pk: Value,
    #[serde(default)]
    pub fields: Map<String, Value>,
}

impl DumpObject {
    pub(super) fn pk(&self) -> Result<i64, AppError> {
        match &self.pk {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| self.bad("pk", "must be an integer"))
    }

    pub(super) fn pk_text(&self) -> String {
        match &self.pk {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    pub(crate) fn bad(&self, field: &str, why: &str) -> AppError {
        AppError::invalid("file", format!("{} {}: field {field} {why}", self.model, self.pk_text()))
    }

    fn text(&self, field: &str, default: &str) -> String {
        match self.fields.get(field) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => default.to_string(),
            Some(other) => other.to_string(),
        }
    }

    fn required_text(&self, field: &str) -> Result<String, AppError> {
        match self.fields.get(field) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(self.bad(field, "is missing")),
        }
    }

    fn int(&self, field: &str) -> Result<i64, AppError> {
        self.opt_int(field)?.ok_or_else(|| self.bad(field, "is missing"))
    }

    fn opt_int(&self, field: &str) -> Result<Option<i64>, AppError> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| self.bad(field, "must be an integer")),
            Some(Value::String(s)) => s.parse().map(Some).map_err(|_| self.bad(field, "must be an integer")),
            // A natural key, e.g. ["promgen", "service"] for a content type, is not an id.
            Some(_) => Err(self.bad(field, "must be an integer")),
        }
    }

    fn flag(&self, field: &str, default: bool) -> i64 {
        i64::from(self.fields.get(field).and_then(Value::as_bool).unwrap_or(default))
    }
}

/// Parses one dump file; JSON is read as YAML (a subset).
pub fn parse_dump(text: &str) -> Result<Vec<DumpObject>, AppError> {
    crate::backend::yaml::from_str::<Option<Vec<DumpObject>>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| AppError::invalid("file", format!("not a Promgen dumpdata export: {e}")))
}

/// Models this version stores, in the order foreign keys need.
const MANAGED: &[&str] = &[
    "sites.site",
    "auth.user",
    "auth.group",
    "promgen.shard",
    "promgen.prometheus",
    "promgen.service",
    "promgen.project",
    "promgen.farm",
    "promgen.host",
    "promgen.defaultexporter",
    "promgen.exporter",
    "promgen.probe",
    "promgen.url",
    "promgen.rule",
    "promgen.sender",
    "promgen.filter",
    "authtoken.token",
    "promgen.audit",
    // Applied by `permissions` once everything above is in.
    "guardian.userobjectpermission",
    "guardian.groupobjectpermission",
];

/// Tables whose ids were given explicitly and whose id sequences must follow (PostgreSQL).
const ID_TABLES: &[&str] = &[
    "site",
    "users",
    "user_group",
    "shard",
    "prometheus",
    "service",
    "project",
    "farm",
    "host",
    "default_exporter",
    "exporter",
    "probe",
    "url",
    "rule",
    "notifier",
    "notifier_filter",
];

impl Importer {
    /// Loads dump files in order, in one transaction.
    pub async fn import_promgen(&self, actor: &Actor, files: &[String]) -> Result<ImportReport, AppError> {
        actor.may_administer("import a Promgen export")?;
        // Later objects replace earlier ones with the same model and pk; first position wins
        // the order, as loaddata saves in file order.
        let mut objects: Vec<DumpObject> = Vec::new();
        let mut at: HashMap<(String, String), usize> = HashMap::new();
        for text in files {
            for obj in parse_dump(text)? {
                let key = (obj.model.clone(), obj.pk_text());
                match at.get(&key) {
                    Some(&i) => objects[i] = obj,
                    None => {
                        at.insert(key, objects.len());
                        objects.push(obj);
                    }
                }
            }
        }

        let mut report = ImportReport::default();
        let mut tx = self.db.begin().await?;
        // Objects an earlier version kept for later, of models it did not manage and this one
        // does, load first; the files' objects with the same key replace them.
        let pending: Vec<(String, String, String)> =
            sqlx::query_as("SELECT model, pk, fields FROM promgen_pending").fetch_all(&mut *tx).await?;
        let mut earlier = Vec::new();
        for (model, pk, fields) in pending.into_iter().filter(|p| MANAGED.contains(&p.0.as_str())) {
            sqlx::query("DELETE FROM promgen_pending WHERE model = $1 AND pk = $2")
                .bind(&model)
                .bind(&pk)
                .execute(&mut *tx)
                .await?;
            if !at.contains_key(&(model.clone(), pk.clone())) {
                let fields = serde_json::from_str(&fields).unwrap_or_default();
                earlier.push(DumpObject { model, pk: Value::String(pk), fields });
            }
        }
        if !earlier.is_empty() {
            report.notes.push(format!("loaded {} objects kept from an earlier import", earlier.len()));
            earlier.append(&mut objects);
            objects = earlier;
        }
        // A Promgen installation brings its own rules: the default pack a new installation
        // starts with goes, unless someone has changed or overridden it here. An export without
        // rules (users only, say) leaves the site's rules alone.
        let brings_rules = objects.iter().any(|o| o.model == "promgen.rule");
        let removed = if brings_rules {
            sqlx::query(
                "DELETE FROM rule WHERE builtin = 1 AND NOT EXISTS (SELECT 1 FROM rule c WHERE c.parent_id = rule.id)",
            )
            .execute(&mut *tx)
            .await?
            .rows_affected()
        } else {
            0
        };
        if removed > 0 {
            report.notes.push(format!("removed the {removed} default site rules of the new installation"));
        }
        sqlx::query("UPDATE site SET rule_pack = 1").execute(&mut *tx).await?;
        let mut users = Users::default();
        let mut parents: Vec<(&DumpObject, i64, i64)> = Vec::new();
        for model in MANAGED {
            for obj in objects.iter().filter(|o| o.model == *model) {
                load(&mut tx, obj, &mut users, &mut report).await.map_err(|e| match e {
                    Load::App(e) => e,
                    Load::Db(e) => explain(obj, e),
                })?;
                if *model == "promgen.rule"
                    && let Some(parent) = obj.opt_int("parent")?
                {
                    parents.push((obj, obj.pk()?, parent));
                }
                report.count(model, 1);
            }
        }
        super::permissions::apply(&mut tx, &objects, &users, &mut report).await?;
        // Parents link once every rule is in, whatever the order of the files.
        for (obj, pk, parent) in parents {
            sqlx::query("UPDATE rule SET parent_id = $1 WHERE id = $2")
                .bind(parent)
                .bind(pk)
                .execute(&mut *tx)
                .await
                .map_err(|e| explain(obj, e))?;
        }
        let now = db::now();
        for obj in objects.iter().filter(|o| !MANAGED.contains(&o.model.as_str())) {
            sqlx::query(
                "INSERT INTO promgen_pending (model, pk, fields, imported) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (model, pk) DO UPDATE SET fields = excluded.fields, imported = excluded.imported",
            )
            .bind(&obj.model)
            .bind(obj.pk_text())
            .bind(Value::Object(obj.fields.clone()).to_string())
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            *report.kept_for_later.entry(obj.model.clone()).or_default() += 1;
        }
        self.db.sync_id_sequences(&mut tx, ID_TABLES).await?;
        let total: u64 = report.imported.values().sum();
        audit::record(
            &mut tx,
            actor,
            &format!("Imported {total} objects from a Promgen export"),
            Subject::new("import", 0),
            None::<&()>,
            Some(&report),
        )
        .await?;
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// The users of the export, by their pk there and by name, with their ids here.
#[derive(Default)]
pub(super) struct Users {
    pub(super) by_pk: HashMap<i64, i64>,
    pub(super) by_name: HashMap<String, i64>,
}

enum Load {
    App(AppError),
    Db(sqlx::Error),
}

impl From<AppError> for Load {
    fn from(e: AppError) -> Self {
        Load::App(e)
    }
}

impl From<sqlx::Error> for Load {
    fn from(e: sqlx::Error) -> Self {
        Load::Db(e)
    }
}

/// Says which object broke which rule.
fn explain(obj: &DumpObject, e: sqlx::Error) -> AppError {
    let what = format!("{} {}", obj.model, obj.pk_text());
    if db::is_unique_violation(&e) {
        AppError::conflict("file", format!("{what} collides with an existing row with the same name: {e}"))
    } else if db::is_foreign_key_violation(&e) {
        AppError::invalid(
            "file",
            format!("{what} refers to an object that is neither in the export nor in the database"),
        )
    } else {
        AppError::from(e)
    }
}

async fn load(
    conn: &mut sqlx::AnyConnection,
    obj: &DumpObject,
    users: &mut Users,
    report: &mut ImportReport,
) -> Result<(), Load> {
    if super::permissions::MODELS.contains(&obj.model.as_str()) {
        return Ok(());
    }
    // A DRF token's primary key is its key, not a number.
    let pk = if obj.model == "authtoken.token" { 0 } else { obj.pk()? };
    let owner = |field: &str| -> Result<Option<i64>, AppError> {
        // `dumpdata --natural-foreign` writes a user as `[username]`, plain dumpdata as its pk.
        if let Some(Value::Array(key)) = obj.fields.get(field) {
            return Ok(key.first().and_then(Value::as_str).and_then(|name| users.by_name.get(name).copied()));
        }
        Ok(obj.opt_int(field)?.and_then(|u| users.by_pk.get(&u).copied()))
    };
    match obj.model.as_str() {
        "sites.site" => {
            sqlx::query(
                "INSERT INTO site (id, domain, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET domain = excluded.domain, name = excluded.name",
            )
            .bind(pk)
            .bind(obj.required_text("domain")?)
            .bind(obj.text("name", ""))
            .execute(conn)
            .await?;
        }
        "auth.user" => {
            // Django's PBKDF2 and Argon2 hashes are kept and checked at login (then rehashed,
            // `auth::django`); with any other, the user gets a password from
            // `promgen set-password` (or signs in by OIDC).
            let username = obj.required_text("username")?;
            let kept =
                Some(obj.text("password", "")).filter(|p| crate::backend::auth::django::DjangoHash::parse(p).is_some());
            let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE username = $1")
                .bind(&username)
                .fetch_optional(&mut *conn)
                .await?;
            let id = match existing {
                Some((id,)) => {
                    // A password set here since is kept; one still missing comes from Promgen.
                    sqlx::query(
                        "UPDATE users SET email = $1, is_superuser = $2, is_active = $3, \
                         password_hash = COALESCE(password_hash, $5), first_name = $6, last_name = $7, is_staff = $8 \
                         WHERE id = $4",
                    )
                    .bind(obj.text("email", ""))
                    .bind(obj.flag("is_superuser", false))
                    .bind(obj.flag("is_active", true))
                    .bind(id)
                    .bind(&kept)
                    .bind(obj.text("first_name", ""))
                    .bind(obj.text("last_name", ""))
                    .bind(obj.flag("is_staff", false))
                    .execute(&mut *conn)
                    .await?;
                    id
                }
                None => {
                    let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1")
                        .bind(pk)
                        .fetch_optional(&mut *conn)
                        .await?;
                    let sql = if taken.is_some() {
                        "INSERT INTO users (username, email, is_superuser, is_active, created, password_hash, \
                         first_name, last_name, is_staff) VALUES ($2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
                    } else {
                        "INSERT INTO users (id, username, email, is_superuser, is_active, created, password_hash, \
                         first_name, last_name, is_staff) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id"
                    };
                    // Django's `date_joined` (an RFC 3339 time) is when the user was created.
                    let joined = chrono::DateTime::parse_from_rfc3339(&obj.text("date_joined", ""))
                        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
                        .unwrap_or_else(|_| db::now());
                    let (id,): (i64,) = sqlx::query_as(sql)
                        .bind(pk)
                        .bind(&username)
                        .bind(obj.text("email", ""))
                        .bind(obj.flag("is_superuser", false))
                        .bind(obj.flag("is_active", true))
                        .bind(joined)
                        .bind(&kept)
                        .bind(obj.text("first_name", ""))
                        .bind(obj.text("last_name", ""))
                        .bind(obj.flag("is_staff", false))
                        .fetch_one(&mut *conn)
                        .await?;
                    if kept.is_none() {
                        report.notes.push(format!(
                            "user {username} has no password yet (Promgen's is not a hash this server checks): \
                             run `promgen set-password {username}`"
                        ));
                    }
                    id
                }
            };
            // Promgen's `promgen.process_alert`, as a natural key or the permission's codename.
            let may_post = match obj.fields.get("user_permissions") {
                Some(Value::Array(perms)) => perms.iter().any(|p| match p {
                    Value::Array(key) => key.first().and_then(Value::as_str) == Some("process_alert"),
                    Value::String(s) => s.ends_with("process_alert"),
                    _ => false,
                }),
                _ => false,
            };
            if may_post {
                sqlx::query("UPDATE users SET process_alerts = 1 WHERE id = $1").bind(id).execute(&mut *conn).await?;
            }
            users.by_pk.insert(pk, id);
            users.by_name.insert(username, id);
        }
        "auth.group" => {
            sqlx::query(
                "INSERT INTO user_group (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            )
            .bind(pk)
            .bind(obj.required_text("name")?)
            .execute(conn)
            .await?;
        }
        "promgen.shard" => {
            sqlx::query(
                "INSERT INTO shard (id, name, url, auth_header, proxy, enabled, samples, targets) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                 url = excluded.url, auth_header = excluded.auth_header, proxy = excluded.proxy, \
                 enabled = excluded.enabled, samples = excluded.samples, targets = excluded.targets",
            )
            .bind(pk)
            .bind(obj.required_text("name")?)
            .bind(obj.text("url", ""))
            .bind(obj.fields.get("authorization").and_then(Value::as_str).map(str::to_string))
            .bind(obj.flag("proxy", false))
            .bind(obj.flag("enabled", true))
            .bind(obj.opt_int("samples")?.unwrap_or(5_000_000))
            .bind(obj.opt_int("targets")?.unwrap_or(10_000))
            .execute(conn)
            .await?;
        }
        "promgen.prometheus" => {
            sqlx::query(
                "INSERT INTO prometheus (id, shard_id, host, port) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET shard_id = excluded.shard_id, host = excluded.host, port = excluded.port",
            )
            .bind(pk)
            .bind(obj.int("shard")?)
            .bind(obj.required_text("host")?)
            .bind(obj.int("port")?)
            .execute(conn)
            .await?;
        }
        "promgen.service" => {
            sqlx::query(
                "INSERT INTO service (id, name, description, owner_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, owner_id = excluded.owner_id",
            )
            .bind(pk)
            .bind(obj.required_text("name")?)
            .bind(obj.text("description", ""))
            .bind(owner("owner")?)
            .execute(conn)
            .await?;
        }
        "promgen.project" => {
            sqlx::query(
                "INSERT INTO project (id, name, description, service_id, shard_id, owner_id) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, \
                 service_id = excluded.service_id, shard_id = excluded.shard_id, owner_id = excluded.owner_id",
            )
            .bind(pk)
            .bind(obj.required_text("name")?)
            .bind(obj.text("description", ""))
            .bind(obj.int("service")?)
            .bind(obj.int("shard")?)
            .bind(owner("owner")?)
            .execute(conn)
            .await?;
        }
        "promgen.farm" => {
            sqlx::query(
                "INSERT INTO farm (id, name, source, project_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, source = excluded.source, project_id = excluded.project_id",
            )
            .bind(pk)
            .bind(obj.required_text("name")?)
            .bind(obj.text("source", crate::model::LOCAL_FARM_SOURCE))
            .bind(obj.int("project")?)
            .execute(conn)
            .await?;
        }
        "promgen.host" => {
            sqlx::query(
                "INSERT INTO host (id, name, farm_id) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, farm_id = excluded.farm_id",
            )
            .bind(pk)
            .bind(obj.required_text("name")?)
            .bind(obj.int("farm")?)
            .execute(conn)
            .await?;
        }
        "promgen.defaultexporter" => {
            sqlx::query(
                "INSERT INTO default_exporter (id, job, port, path, scheme) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (id) DO UPDATE SET job = excluded.job, port = excluded.port, path = excluded.path, scheme = excluded.scheme",
            )
            .bind(pk)
            .bind(obj.required_text("job")?)
            .bind(obj.int("port")?)
            .bind(obj.text("path", ""))
            .bind(obj.text("scheme", "http"))
            .execute(conn)
            .await?;
        }
        "promgen.exporter" => {
            sqlx::query(
                "INSERT INTO exporter (id, project_id, job, port, path, scheme, enabled) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (id) DO UPDATE SET project_id = excluded.project_id, job = excluded.job, port = excluded.port, \
                 path = excluded.path, scheme = excluded.scheme, enabled = excluded.enabled",
            )
            .bind(pk)
            .bind(obj.int("project")?)
            .bind(obj.required_text("job")?)
            .bind(obj.int("port")?)
            .bind(obj.text("path", ""))
            .bind(obj.text("scheme", "http"))
            .bind(obj.flag("enabled", true))
            .execute(conn)
            .await?;
        }
        "promgen.probe" => {
            sqlx::query(
                "INSERT INTO probe (id, module, description) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET module = excluded.module, description = excluded.description",
            )
            .bind(pk)
            .bind(obj.required_text("module")?)
            .bind(obj.text("description", ""))
            .execute(conn)
            .await?;
        }
        "promgen.url" => {
            sqlx::query(
                "INSERT INTO url (id, url, project_id, probe_id) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET url = excluded.url, project_id = excluded.project_id, probe_id = excluded.probe_id",
            )
            .bind(pk)
            .bind(obj.required_text("url")?)
            .bind(obj.int("project")?)
            .bind(obj.int("probe")?)
            .execute(conn)
            .await?;
        }
        "promgen.rule" => {
            // Owners by content type natural key; Promgen's site rules may carry the concrete
            // `sites.site` type (quirk Q7): both are the site here.
            let object_id = obj.opt_int("object_id")?.unwrap_or(0);
            let (service_id, project_id) = match obj.fields.get("content_type") {
                Some(Value::Array(parts)) => match parts.last().and_then(Value::as_str) {
                    Some("service") => (Some(object_id), None),
                    Some("project") => (None, Some(object_id)),
                    Some("site") => (None, None),
                    _ => return Err(obj.bad("content_type", "names neither the site, a service nor a project").into()),
                },
                _ => {
                    return Err(obj
                        .bad("content_type", "must be a natural key: export with `dumpdata --natural-foreign`")
                        .into());
                }
            };
            let map = |field: &str| -> Result<crate::model::LabelMap, AppError> {
                match obj.fields.get(field) {
                    None | Some(Value::Null) => Ok(Default::default()),
                    Some(Value::Object(m)) => {
                        Ok(crate::backend::rules::json_map(&Value::Object(m.clone()).to_string()))
                    }
                    // Old Promgen rows keep JSON as text.
                    Some(Value::String(s)) => Ok(crate::backend::rules::json_map(s)),
                    Some(_) => Err(obj.bad(field, "must be a mapping")),
                }
            };
            // The routing labels and the `rule` link are derived from the owner when rendering.
            let labels = crate::rules::labels::user_labels(map("labels")?);
            let annotations = crate::rules::labels::user_annotations(map("annotations")?);
            sqlx::query(
                "INSERT INTO rule (id, kind, name, expr, duration, enabled, description, labels, annotations, \
                 service_id, project_id) VALUES ($1, 'alert', $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, expr = excluded.expr, \
                 duration = excluded.duration, enabled = excluded.enabled, description = excluded.description, \
                 labels = excluded.labels, annotations = excluded.annotations, service_id = excluded.service_id, \
                 project_id = excluded.project_id, builtin = 0",
            )
            .bind(pk)
            .bind(obj.required_text("name")?)
            .bind(obj.required_text("clause")?)
            .bind(obj.text("duration", ""))
            .bind(obj.flag("enabled", true))
            .bind(obj.text("description", ""))
            .bind(serde_json::to_string(&labels).unwrap_or_default())
            .bind(serde_json::to_string(&annotations).unwrap_or_default())
            .bind(service_id)
            .bind(project_id)
            .execute(conn)
            .await?;
        }
        "promgen.sender" => {
            let module = obj.required_text("sender")?;
            let Some(kind) = crate::model::NotifierKind::from_promgen_module(&module) else {
                report.notes.push(format!(
                    "{} {}: {module} is not a notifier here (LINE Notify closed in 2025); not imported",
                    obj.model,
                    obj.pk_text()
                ));
                return Ok(());
            };
            let object_id = obj.opt_int("object_id")?.unwrap_or(0);
            let (service, project, user) = match obj.fields.get("content_type") {
                Some(Value::Array(parts)) => match parts.last().and_then(Value::as_str) {
                    Some("service") => (Some(object_id), None, None),
                    Some("project") => (None, Some(object_id), None),
                    Some("user") => (None, None, users.by_pk.get(&object_id).copied().or(Some(object_id))),
                    _ => return Err(obj.bad("content_type", "names neither a service, a project nor a user").into()),
                },
                _ => {
                    return Err(obj
                        .bad("content_type", "must be a natural key: export with `dumpdata --natural-foreign`")
                        .into());
                }
            };
            let mut value = obj.required_text("value")?;
            // A subscription names a user by Promgen's pk.
            if kind == crate::model::NotifierKind::User
                && let Some(id) = value.parse::<i64>().ok().and_then(|u| users.by_pk.get(&u))
            {
                value = id.to_string();
            }
            sqlx::query(
                "INSERT INTO notifier (id, kind, value, alias, service_id, project_id, user_id, created_by, enabled) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
                 value = excluded.value, alias = excluded.alias, service_id = excluded.service_id, \
                 project_id = excluded.project_id, user_id = excluded.user_id, enabled = excluded.enabled",
            )
            .bind(pk)
            .bind(kind.as_str())
            .bind(value)
            .bind(obj.text("alias", ""))
            .bind(service)
            .bind(project)
            .bind(user)
            .bind(owner("owner")?)
            .bind(obj.flag("enabled", true))
            .execute(conn)
            .await?;
        }
        "promgen.filter" => {
            sqlx::query(
                "INSERT INTO notifier_filter (id, notifier_id, name, value) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET notifier_id = excluded.notifier_id, name = excluded.name, value = excluded.value",
            )
            .bind(pk)
            .bind(obj.int("sender")?)
            .bind(obj.required_text("name")?)
            .bind(obj.text("value", ""))
            .execute(conn)
            .await?;
        }
        "authtoken.token" => {
            // DRF keys the token by itself; only its hash is kept, so Alertmanager's
            // `Authorization: Token <key>` keeps working.
            let key = match obj.fields.get("key").and_then(Value::as_str) {
                Some(k) => k.to_string(),
                None => obj.pk_text(),
            };
            let user = owner("user")?.ok_or_else(|| obj.bad("user", "is not a user of the export"))?;
            let created = obj.text("created", &db::now());
            crate::backend::auth::insert_token(
                conn,
                crate::model::UserId(user),
                &key,
                "imported from Promgen",
                &created,
            )
            .await?;
        }
        "promgen.audit" => {
            // History is appended (its ids are nobody's link target); an entry already
            // imported once is not added again.
            let kind = match obj.fields.get("content_type") {
                Some(Value::Array(parts)) => parts.last().and_then(Value::as_str).unwrap_or("").to_string(),
                _ => String::new(),
            };
            let created = obj.text("created", "");
            let body = obj.required_text("body")?;
            let object_id = obj.opt_int("object_id")?.unwrap_or(0);
            sqlx::query(
                "INSERT INTO audit (created, user_id, body, object_type, object_id, old, data) \
                 SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM audit \
                 WHERE created = $1 AND body = $3 AND object_type = $4 AND object_id = $5)",
            )
            .bind(&created)
            .bind(owner("user")?)
            .bind(&body)
            .bind(&kind)
            .bind(object_id)
            .bind(obj.fields.get("old").and_then(Value::as_str).map(str::to_string))
            .bind(obj.fields.get("data").and_then(Value::as_str).map(str::to_string))
            .execute(conn)
            .await?;
        }
        other => unreachable!("{other} is not in MANAGED"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_promgen_fixtures() {
        let objects = parse_dump(include_str!("../../../fixtures/promgen/testcases.yaml")).unwrap();
        assert!(objects.iter().any(|o| o.model == "promgen.exporter" && o.fields["job"] == "nginx"));
        let json = parse_dump(r#"[{"model": "promgen.probe", "pk": 3, "fields": {"module": "icmp"}}]"#).unwrap();
        assert_eq!(json[0].pk().unwrap(), 3);
        assert!(parse_dump("{not: a list}").unwrap_err().to_string().contains("dumpdata"));
    }
}
