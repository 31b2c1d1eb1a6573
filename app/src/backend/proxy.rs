//! Queries to the Prometheus servers behind the shards: an instant query fanned out to every
//! shard in scope, in parallel, each with a deadline, each answer kept apart so one
//! unreachable shard is reported and does not hide the others.

use super::Db;
use crate::error::AppError;
use crate::model::{LabelMap, ProjectId, ServiceId};
use serde::Deserialize;
use std::time::Duration;

/// Which shards a query goes to.
#[derive(Clone, Copy, Debug)]
pub enum Scope {
    /// The shards marked for the query proxy, or every enabled shard when none is.
    Site,
    /// The shards of the service's projects.
    Service(ServiceId),
    Project(ProjectId),
}

/// What one shard answered.
#[derive(Clone, Debug, PartialEq)]
pub struct ShardAnswer {
    pub shard: String,
    pub url: String,
    pub result: Result<Vec<LabelMap>, String>,
}

#[derive(Clone)]
pub struct Proxy {
    db: Db,
    client: reqwest::Client,
}

#[derive(sqlx::FromRow)]
struct Target {
    name: String,
    url: String,
    auth_header: Option<String>,
}

#[derive(Deserialize)]
struct ApiResponse {
    status: String,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct ApiData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct Sample {
    metric: LabelMap,
}

impl Proxy {
    pub fn new(db: Db, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("promgen-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Proxy { db, client }
    }

    async fn targets(&self, scope: Scope) -> Result<Vec<Target>, AppError> {
        const COLUMNS: &str = "SELECT DISTINCT sh.name, sh.url, sh.auth_header FROM shard sh";
        let rows: Vec<Target> = match scope {
            Scope::Site => {
                let proxied: Vec<Target> =
                    sqlx::query_as(&format!("{COLUMNS} WHERE sh.proxy = 1")).fetch_all(&self.db.pool).await?;
                if proxied.is_empty() {
                    sqlx::query_as(&format!("{COLUMNS} WHERE sh.enabled = 1")).fetch_all(&self.db.pool).await?
                } else {
                    proxied
                }
            }
            Scope::Service(id) => {
                sqlx::query_as(&format!("{COLUMNS} JOIN project p ON p.shard_id = sh.id WHERE p.service_id = $1"))
                    .bind(id.0)
                    .fetch_all(&self.db.pool)
                    .await?
            }
            Scope::Project(id) => {
                sqlx::query_as(&format!("{COLUMNS} JOIN project p ON p.shard_id = sh.id WHERE p.id = $1"))
                    .bind(id.0)
                    .fetch_all(&self.db.pool)
                    .await?
            }
        };
        let mut rows = rows;
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }

    /// Runs `query` on every shard in `scope` at once and returns each shard's series labels,
    /// in shard name order.
    pub async fn instant_query(&self, scope: Scope, query: &str) -> Result<Vec<ShardAnswer>, AppError> {
        let mut asks = tokio::task::JoinSet::new();
        for (i, t) in self.targets(scope).await?.into_iter().enumerate() {
            let (proxy, query) = (self.clone(), query.to_string());
            asks.spawn(async move {
                let result = proxy.ask(&t, &query).await;
                (i, ShardAnswer { shard: t.name, url: t.url, result })
            });
        }
        let mut answers: Vec<(usize, ShardAnswer)> = asks.join_all().await;
        answers.sort_by_key(|(i, _)| *i);
        Ok(answers.into_iter().map(|(_, a)| a).collect())
    }

    async fn ask(&self, t: &Target, query: &str) -> Result<Vec<LabelMap>, String> {
        let url = format!("{}/api/v1/query", t.url.trim_end_matches('/'));
        let mut req = self.client.get(&url).query(&[("query", query)]);
        if let Some(auth) = t.auth_header.as_deref().filter(|a| !a.is_empty()) {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                format!("Prometheus at {} did not answer in time", t.url)
            } else if e.is_connect() {
                format!("Prometheus at {} is unreachable: {}", t.url, root_cause(&e))
            } else {
                format!("asking Prometheus at {} failed: {}", t.url, root_cause(&e))
            }
        })?;
        let status = res.status();
        let body: ApiResponse = res.json().await.map_err(|e| {
            format!("Prometheus at {} answered {status} with something that is not its API: {e}", t.url)
        })?;
        if body.status != "success" {
            return Err(body.error.unwrap_or_else(|| format!("Prometheus at {} answered {status}", t.url)));
        }
        let data = body.data.ok_or_else(|| format!("Prometheus at {} answered without data", t.url))?;
        match data.result_type.as_str() {
            "vector" | "matrix" => serde_json::from_value::<Vec<Sample>>(data.result)
                .map(|samples| samples.into_iter().map(|s| s.metric).collect())
                .map_err(|e| format!("cannot read the answer of Prometheus at {}: {e}", t.url)),
            // A scalar is one value without labels.
            _ => Ok(vec![LabelMap::new()]),
        }
    }
}

/// The innermost error, which says what actually happened (connection refused, DNS).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}
