//! Queries to the Prometheus servers behind the shards: an instant query fanned out to every
//! shard in scope, in parallel, each with a deadline, each answer kept apart so one
//! unreachable shard is reported and does not hide the others.

use super::Db;
use crate::error::AppError;
use crate::model::{LabelMap, ProjectId, ServiceId};
use serde::Deserialize;
use std::time::Duration;

/// The most of a shard's answer read (a query's result; the callers want counts and verdicts).
const ANSWER_LIMIT: usize = 16 << 20;

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
    pub(crate) client: reqwest::Client,
    /// Turns of the query proxy's fan-outs ([`super::query_proxy::CONCURRENT_FAN_OUTS`]).
    pub(crate) fan_outs: std::sync::Arc<tokio::sync::Semaphore>,
}

/// A shard's Prometheus, as a query reaches it.
#[derive(sqlx::FromRow)]
pub(crate) struct Target {
    pub name: String,
    pub url: String,
    pub auth_header: Option<String>,
}

#[derive(Deserialize)]
struct ApiResponse {
    status: String,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
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
        let fan_outs = std::sync::Arc::new(tokio::sync::Semaphore::new(super::query_proxy::CONCURRENT_FAN_OUTS));
        Proxy { db, client, fan_outs }
    }

    pub(crate) async fn targets(&self, scope: Scope) -> Result<Vec<Target>, AppError> {
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
                (i, ShardAnswer { shard: t.name, url: crate::model::validate::mask_url_password(&t.url), result })
            });
        }
        let mut answers: Vec<(usize, ShardAnswer)> = asks.join_all().await;
        answers.sort_by_key(|(i, _)| *i);
        Ok(answers.into_iter().map(|(_, a)| a).collect())
    }

    async fn ask(&self, t: &Target, query: &str) -> Result<Vec<LabelMap>, String> {
        let url = format!("{}/api/v1/query", t.url.trim_end_matches('/'));
        // What a message names: the answers reach readers who may not see the password.
        let shown = crate::model::validate::mask_url_password(&t.url);
        let mut req = self.client.get(&url).query(&[("query", query)]);
        if let Some(auth) = t.auth_header.as_deref().filter(|a| !a.is_empty()) {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                format!("Prometheus at {} did not answer in time", shown)
            } else if e.is_connect() {
                format!("Prometheus at {} is unreachable: {}", shown, root_cause(&e))
            } else {
                format!("asking Prometheus at {} failed: {}", shown, root_cause(&e))
            }
        })?;
        let status = res.status();
        let bytes = super::http_body::read_capped(res, ANSWER_LIMIT)
            .await
            .map_err(|e| format!("Prometheus at {} answered {status}: {e}", shown))?;
        let body: ApiResponse = serde_json::from_slice(&bytes).map_err(|e| {
            format!("Prometheus at {} answered {status} with something that is not its API: {e}", shown)
        })?;
        if body.status != "success" {
            // A query that does not parse is about the expression; any other error text can
            // quote series (their labels) the caller may not see: only its kind is told.
            return Err(match body.error_type.as_deref() {
                Some("bad_data") => {
                    format!("Prometheus refused the query: {}", body.error.unwrap_or_default())
                }
                Some(kind) => format!("Prometheus at {} could not run the query ({kind} error)", shown),
                None => format!("Prometheus at {} answered {status}", shown),
            });
        }
        let data = body.data.ok_or_else(|| format!("Prometheus at {} answered without data", shown))?;
        match data.result_type.as_str() {
            "vector" | "matrix" => serde_json::from_value::<Vec<Sample>>(data.result)
                .map(|samples| samples.into_iter().map(|s| s.metric).collect())
                .map_err(|e| format!("cannot read the answer of Prometheus at {}: {e}", shown)),
            // A scalar is one value without labels.
            _ => Ok(vec![LabelMap::new()]),
        }
    }
}

/// How long a shard's usage may take to come back (it is asked on every shard listing).
const USAGE_TIMEOUT: Duration = Duration::from_secs(2);

impl Proxy {
    /// A shard's live load as Promgen reports it: `samples_count` = `sum(scrape_samples_scraped)`
    /// and `targets_count` = `count(up)` on the shard's URL, each 0 when its Prometheus does
    /// not answer (in [`USAGE_TIMEOUT`]) or answers nothing.
    pub async fn usage(&self, shard: crate::model::ShardId) -> Result<(i64, i64), AppError> {
        let t: Option<Target> = sqlx::query_as("SELECT name, url, auth_header FROM shard WHERE id = $1")
            .bind(shard.0)
            .fetch_optional(&self.db.pool)
            .await?;
        let Some(t) = t else { return Err(AppError::NotFound(format!("shard {shard}"))) };
        let (samples, targets) =
            tokio::join!(self.value(&t, "sum(scrape_samples_scraped)"), self.value(&t, "count(up)"));
        let number = |v: Result<Option<f64>, String>| v.ok().flatten().unwrap_or(0.0) as i64;
        Ok((number(samples), number(targets)))
    }

    /// What each Prometheus server registered on `shard` scrapes now (`count(up)` targets and
    /// `sum(scrape_samples_scraped)` samples), each asked at once within [`USAGE_TIMEOUT`]; one
    /// that does not answer says why.
    pub async fn server_states(
        &self,
        shard: crate::model::ShardId,
    ) -> Result<Vec<crate::model::ServerState>, AppError> {
        let rows: Vec<(i64, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT p.id, p.host, p.port, s.auth_header FROM prometheus p JOIN shard s ON s.id = p.shard_id \
             WHERE p.shard_id = $1 ORDER BY p.host, p.port",
        )
        .bind(shard.0)
        .fetch_all(&self.db.pool)
        .await?;
        let mut asks = tokio::task::JoinSet::new();
        for (i, (id, host, port, auth_header)) in rows.into_iter().enumerate() {
            let proxy = self.clone();
            asks.spawn(async move {
                let url = format!("http://{}", crate::model::validate::host_port(&host, port));
                let t = Target { name: url.clone(), url, auth_header };
                let (targets, samples) =
                    tokio::join!(proxy.value(&t, "count(up)"), proxy.value(&t, "sum(scrape_samples_scraped)"));
                let server =
                    crate::model::PrometheusServer { id: crate::model::PrometheusId(id), shard_id: shard, host, port };
                let state = match (targets, samples) {
                    (Ok(t), Ok(s)) => crate::model::ServerState {
                        server,
                        targets: Some(t.unwrap_or(0.0) as i64),
                        samples: Some(s.unwrap_or(0.0) as i64),
                        error: None,
                    },
                    (Err(e), _) | (_, Err(e)) => {
                        crate::model::ServerState { server, targets: None, samples: None, error: Some(e) }
                    }
                };
                (i, state)
            });
        }
        let mut states = asks.join_all().await;
        states.sort_by_key(|(i, _)| *i);
        Ok(states.into_iter().map(|(_, s)| s).collect())
    }

    /// The first sample's value of an instant query (`None`: an empty answer), or why the
    /// Prometheus did not give one.
    async fn value(&self, t: &Target, query: &str) -> Result<Option<f64>, String> {
        let url = format!("{}/api/v1/query", t.url.trim_end_matches('/'));
        let mut req = self.client.get(&url).query(&[("query", query)]).timeout(USAGE_TIMEOUT);
        if let Some(auth) = t.auth_header.as_deref().filter(|a| !a.is_empty()) {
            req = req.header(reqwest::header::AUTHORIZATION, auth);
        }
        let res = req.send().await.map_err(|e| {
            if e.is_timeout() {
                "did not answer in time".to_string()
            } else {
                format!("unreachable: {}", root_cause(&e))
            }
        })?;
        let status = res.status();
        let bytes = super::http_body::read_capped(res, ANSWER_LIMIT).await?;
        let body: ApiResponse = serde_json::from_slice(&bytes)
            .map_err(|_| format!("answered {status} with something that is not Prometheus' API"))?;
        let data = body
            .data
            .filter(|_| body.status == "success")
            .ok_or_else(|| format!("answered {status}: {}", body.error.unwrap_or_default()))?;
        // A vector's first sample `{"value": [ts, "123"]}`, or a scalar `[ts, "123"]`.
        let value = match data.result_type.as_str() {
            "vector" => data.result.get(0).and_then(|s| s.get("value")?.get(1)?.as_str().map(str::to_string)),
            "scalar" => data.result.get(1).and_then(|v| v.as_str().map(str::to_string)),
            _ => None,
        };
        Ok(value.and_then(|v| v.parse().ok()).filter(|v: &f64| v.is_finite()))
    }
}

/// `/api/v1/status/buildinfo` and `/api/v1/status/flags`: the parts read.
#[derive(Deserialize)]
struct StatusResponse {
    #[serde(default)]
    data: serde_json::Map<String, serde_json::Value>,
}

impl Proxy {
    /// Asks each enabled shard's Prometheus which release it runs and whether it enables the
    /// experimental PromQL functions, and keeps the answers (or why there was none) on the
    /// shard: the rules are checked for the oldest. Returns how many shards answered.
    pub async fn detect_versions(&self) -> Result<usize, AppError> {
        let shards: Vec<(i64, String, Option<String>)> =
            sqlx::query_as("SELECT id, url, auth_header FROM shard WHERE enabled = 1").fetch_all(&self.db.pool).await?;
        let mut asks = tokio::task::JoinSet::new();
        for (id, url, auth) in shards {
            let proxy = self.clone();
            asks.spawn(async move { (id, proxy.build_info(&url, auth.as_deref()).await) });
        }
        let mut answered = 0;
        let now = super::db::now();
        for (id, result) in asks.join_all().await {
            let (version, experimental, error) = match result {
                Ok((v, e)) => {
                    answered += 1;
                    (Some(v), e, None)
                }
                Err(e) => (None, false, Some(e)),
            };
            // A failed detection keeps the last version known.
            sqlx::query(
                "UPDATE shard SET detected_version = COALESCE($1, detected_version), \
                 detected_experimental = CASE WHEN $1 IS NULL THEN detected_experimental ELSE $2 END, \
                 detected_at = $3, detect_error = $4 WHERE id = $5",
            )
            .bind(version.map(|v: crate::rules::promql::Version| v.to_string()))
            .bind(i64::from(experimental))
            .bind(&now)
            .bind(error)
            .bind(id)
            .execute(&self.db.pool)
            .await?;
        }
        Ok(answered)
    }

    /// The release one Prometheus reports, and whether its flags enable the experimental
    /// functions.
    async fn build_info(&self, url: &str, auth: Option<&str>) -> Result<(crate::rules::promql::Version, bool), String> {
        // What a message names: the shard's detect error is shown to every reader of shards.
        let shown = &crate::model::validate::mask_url_password(url);
        let get = |path: &'static str| {
            let mut req = self.client.get(format!("{}{path}", url.trim_end_matches('/')));
            if let Some(a) = auth.filter(|a| !a.is_empty()) {
                req = req.header(reqwest::header::AUTHORIZATION, a);
            }
            async move {
                let res = req
                    .send()
                    .await
                    .map_err(|e| format!("Prometheus at {shown} is unreachable: {}", root_cause(&e)))?;
                let status = res.status();
                if !status.is_success() {
                    return Err(format!("Prometheus at {shown} answered {status} to {path}"));
                }
                let bytes = super::http_body::read_capped(res, ANSWER_LIMIT)
                    .await
                    .map_err(|e| format!("Prometheus at {shown} answered {path} with {e}"))?;
                serde_json::from_slice::<StatusResponse>(&bytes)
                    .map(|r| r.data)
                    .map_err(|e| format!("Prometheus at {shown} answered {path} with something else than its API: {e}"))
            }
        };
        let info = get("/api/v1/status/buildinfo").await?;
        let text = info.get("version").and_then(|v| v.as_str()).unwrap_or("");
        let version = crate::rules::promql::Version::parse(text)
            .ok_or_else(|| format!("Prometheus at {shown} reports version {text:?}, which does not read"))?;
        // Flags are optional to read (a proxy may hide them): without them, no experiments.
        let experimental = get("/api/v1/status/flags").await.ok().is_some_and(|flags| {
            flags
                .get("enable-feature")
                .and_then(|v| v.as_str())
                .is_some_and(|f| f.split(',').any(|f| f.trim() == "promql-experimental-functions"))
        });
        Ok((version, experimental))
    }
}

/// The innermost error, which says what actually happened (connection refused, DNS). An
/// HTTP client's own error names its URL, which may hold a password or a webhook's secret
/// path: it is said in words instead.
pub(crate) fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    match cur.downcast_ref::<reqwest::Error>() {
        Some(r) if r.is_builder() => "the request could not be made (is the URL right?)".into(),
        Some(r) if r.is_redirect() => "it redirected too often".into(),
        Some(r) if r.is_timeout() => "it did not answer in time".into(),
        Some(r) if r.is_body() || r.is_decode() => "its answer could not be read".into(),
        Some(_) => "the request failed".into(),
        None => cur.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_clients_own_error_names_no_url() {
        // reqwest's message names the URL, whose path may be a webhook's secret.
        let e = reqwest::Client::new().get("ftp://example.com/services/T0/B0/S3CRET").send().await.unwrap_err();
        assert!(e.to_string().contains("S3CRET"), "{e}");
        let text = super::root_cause(&e);
        assert!(!text.contains("S3CRET"), "{text}");
    }
}
