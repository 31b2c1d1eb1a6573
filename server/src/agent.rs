//! `promgen agent`: runs beside a Prometheus server in place of Promgen's Celery workers. It
//! waits on the server's inventory generation (a long poll: `/api/v1/agent/changes`), and on
//! every change fetches its shard's targets and URLs and the rule file (`If-None-Match`, so
//! unchanged files cost a 304), writes each atomically (a temporary file beside it, synced,
//! then renamed), checks the rules with promtool first (a refused file leaves the live one in
//! place), asks Prometheus to reload (`POST /-/reload`) and reports back: the generation its
//! files reflect, a hash of the configuration Prometheus runs, and any error. A lost server
//! is retried with growing waits; since every wake compares whole generations, nothing done
//! while it was away is missed. It also reports every minute or so when nothing changes.

use crate::cli::AgentArgs;
use app::backend::rules::promtool::Promtool;
use app::backend::supervisor::Supervisor;
use app::model::AgentReport;
use reqwest::StatusCode;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Seconds the server is asked to hold a wait.
const WAIT: u64 = 55;
/// A failed sync is tried again after this long, doubling up to [`MAX_RETRY`], change or not.
const RETRY: Duration = Duration::from_secs(2);
const MAX_RETRY: Duration = Duration::from_secs(60);
/// The longest wait between attempts to reach a lost server.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The most of a file or an answer read.
const FILE_LIMIT: usize = 256 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Targets,
    Urls,
    Rules,
}

impl Kind {
    fn path(self) -> &'static str {
        match self {
            Kind::Targets => "api/v1/targets",
            Kind::Urls => "api/v1/urls",
            Kind::Rules => "api/v1/rules",
        }
    }
}

struct Agent {
    client: reqwest::Client,
    server: url::Url,
    token: String,
    shard: String,
    name: String,
    prometheus: String,
    files: Vec<(Kind, PathBuf)>,
    promtool: Promtool,
    etags: HashMap<Kind, String>,
    config_hash: String,
}

/// Runs the agent until SIGTERM or Ctrl-C, then lets a sync under way finish.
pub async fn run(args: AgentArgs, promtool: Promtool) -> anyhow::Result<()> {
    let files: Vec<(Kind, PathBuf)> =
        [(Kind::Targets, &args.targets), (Kind::Urls, &args.urls), (Kind::Rules, &args.rules)]
            .into_iter()
            .filter_map(|(k, p)| p.clone().map(|p| (k, p)))
            .collect();
    anyhow::ensure!(!files.is_empty(), "give at least one of --targets, --urls and --rules: the files to keep");
    let mut server = args.server_url.clone();
    if !server.path().ends_with('/') {
        let path = format!("{}/", server.path());
        server.set_path(&path);
    }
    let prometheus = args.prometheus_url.trim_end_matches('/').to_string();
    let name = match &args.name {
        Some(n) => n.clone(),
        None => {
            let url =
                url::Url::parse(&prometheus).map_err(|e| anyhow::anyhow!("--prometheus-url {prometheus:?}: {e}"))?;
            format!("{}:{}", url.host_str().unwrap_or("localhost"), url.port_or_known_default().unwrap_or(9090))
        }
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("promgen-agent/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let agent = Agent {
        client,
        server,
        token: args.token.clone(),
        shard: args.shard.clone(),
        name,
        prometheus,
        files,
        promtool,
        etags: HashMap::new(),
        config_hash: String::new(),
    };
    tracing::info!(server = %agent.server, shard = %agent.shard, name = %agent.name, "agent started");
    let supervisor = Supervisor::new();
    supervisor.spawn("agent loop", agent.run(supervisor.stop()));
    crate::web::shutdown().await;
    supervisor.shutdown(Duration::from_secs(30)).await;
    Ok(())
}

impl Agent {
    async fn run(mut self, stop: CancellationToken) {
        let mut synced: Option<i64> = None;
        let mut failed = false;
        let mut backoff = Duration::from_secs(1);
        let mut retry = RETRY;
        while !stop.is_cancelled() {
            if failed {
                // A Prometheus that refuses or is down is not asked again at once.
                tokio::select! {
                    _ = tokio::time::sleep(retry) => {}
                    _ = stop.cancelled() => return,
                }
                retry = (retry * 2).min(MAX_RETRY);
            }
            let answer = tokio::select! {
                a = self.changes(synced.unwrap_or(-1), if failed { 0 } else { WAIT }) => a,
                _ = stop.cancelled() => return,
            };
            let generation = match answer {
                Ok(g) => {
                    backoff = Duration::from_secs(1);
                    g
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "cannot reach the server");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                    continue;
                }
            };
            let error = if synced == Some(generation) && !failed {
                // Nothing changed: only say that it is alive.
                String::new()
            } else {
                match self.sync().await {
                    Ok(()) => {
                        synced = Some(generation);
                        failed = false;
                        retry = RETRY;
                        tracing::info!(generation, config = %self.config_hash, "in sync");
                        String::new()
                    }
                    Err(e) => {
                        failed = true;
                        tracing::warn!(error = %e, "sync failed");
                        e
                    }
                }
            };
            if let Err(e) = self.report(synced.unwrap_or(0), &error).await {
                tracing::warn!(error = %e, "cannot report to the server");
            }
        }
    }

    fn authorized(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.header(reqwest::header::AUTHORIZATION, format!("Token {}", self.token))
    }

    /// The generation once it differs from `after`, or after `wait` seconds.
    async fn changes(&self, after: i64, wait: u64) -> Result<i64, String> {
        let url = self.server.join("api/v1/agent/changes").map_err(|e| e.to_string())?;
        let req = self
            .client
            .get(url)
            .query(&[("after", after.to_string()), ("timeout", wait.to_string())])
            .timeout(Duration::from_secs(wait + 15));
        let res = self.authorized(req).send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.map_err(|e| format!("answered {status}: {e}"))?;
        if !status.is_success() {
            return Err(format!("answered {status}: {body}"));
        }
        body["generation"].as_i64().ok_or_else(|| format!("answered without a generation: {body}"))
    }

    /// Brings every file up to date and reloads Prometheus when one changed. Each file is
    /// tried even when another fails; the error names every failure.
    async fn sync(&mut self) -> Result<(), String> {
        let mut errors = Vec::new();
        let mut changed = false;
        for (kind, path) in self.files.clone() {
            match self.fetch(kind, &path).await {
                Ok(Some((body, etag))) => match self.replace(kind, &path, &body).await {
                    Ok(()) => {
                        changed = true;
                        match etag {
                            Some(t) => self.etags.insert(kind, t),
                            None => self.etags.remove(&kind),
                        };
                    }
                    Err(e) => errors.push(e),
                },
                Ok(None) => {}
                Err(e) => errors.push(format!("cannot fetch {}: {e}", kind.path())),
            }
        }
        if changed && let Err(e) = self.reload().await {
            errors.push(e);
        }
        match self.read_config_hash().await {
            Ok(h) => self.config_hash = h,
            Err(e) => errors.push(e),
        }
        if errors.is_empty() {
            Ok(())
        } else {
            // Fetched again next time, so a reload that failed is tried again with them.
            self.etags.clear();
            Err(errors.join("; "))
        }
    }

    /// The file's new body and tag, or `None` when the one in place is current (304).
    async fn fetch(&self, kind: Kind, path: &Path) -> Result<Option<(Vec<u8>, Option<String>)>, String> {
        let mut url = self.server.join(kind.path()).map_err(|e| e.to_string())?;
        if kind != Kind::Rules {
            url.query_pairs_mut().append_pair("shard", &self.shard);
        }
        let mut req = self.authorized(self.client.get(url).timeout(Duration::from_secs(60)));
        if let Some(tag) = self.etags.get(&kind).filter(|_| path.exists()) {
            req = req.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        let res = req.send().await.map_err(|e| e.to_string())?;
        let status = res.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let etag = res.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_string);
        let body = app::backend::http_body::read_capped(res, FILE_LIMIT).await?;
        if !status.is_success() {
            return Err(format!(
                "answered {status}: {}",
                String::from_utf8_lossy(&body).chars().take(500).collect::<String>()
            ));
        }
        Ok(Some((body, etag)))
    }

    /// Writes `body` in place of `path` atomically; rules only once promtool takes them.
    async fn replace(&self, kind: Kind, path: &Path, body: &[u8]) -> Result<(), String> {
        if kind == Kind::Rules {
            let dialect = self.promtool.version().map(app::rules::promql::Dialect::of).unwrap_or_default();
            self.promtool
                .check("rules", &String::from_utf8_lossy(body), dialect)
                .await
                .map_err(|e| format!("promtool refused the rule file, {} is left as it was: {e}", path.display()))?;
        }
        let (path, body) = (path.to_path_buf(), body.to_vec());
        tokio::task::spawn_blocking(move || write_atomically(&path, &body)).await.map_err(|e| e.to_string())?
    }

    async fn reload(&self) -> Result<(), String> {
        let url = format!("{}/-/reload", self.prometheus);
        let res = self
            .client
            .post(&url)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(|e| format!("reload failed: {url}: {e}"))?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        let text = res.text().await.unwrap_or_default();
        Err(format!("reload failed: {status}: {}", text.trim().chars().take(500).collect::<String>()))
    }

    /// A hash of the configuration Prometheus runs (`/api/v1/status/config`), the first 16 hex
    /// digits of its SHA-256.
    async fn read_config_hash(&self) -> Result<String, String> {
        use sha2::Digest;
        let url = format!("{}/api/v1/status/config", self.prometheus);
        let res =
            self.client.get(&url).timeout(Duration::from_secs(10)).send().await.map_err(|e| format!("{url}: {e}"))?;
        let body: serde_json::Value = res.json().await.map_err(|e| format!("{url}: {e}"))?;
        let yaml = body["data"]["yaml"].as_str().ok_or_else(|| format!("{url} answered without data.yaml"))?;
        let digest = sha2::Sha256::digest(yaml.as_bytes());
        Ok(digest.iter().take(8).map(|b| format!("{b:02x}")).collect())
    }

    async fn report(&self, generation: i64, error: &str) -> Result<(), String> {
        let url = self.server.join("api/v1/agent/status").map_err(|e| e.to_string())?;
        let report = AgentReport {
            shard: self.shard.clone(),
            name: self.name.clone(),
            generation,
            config_hash: self.config_hash.clone(),
            error: error.to_string(),
        };
        let res = self
            .authorized(self.client.post(url).json(&report).timeout(Duration::from_secs(15)))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if res.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}: {}", res.status(), res.text().await.unwrap_or_default()))
        }
    }
}

/// Writes `body` to a temporary file beside `path`, syncs it and renames it over `path`, so a
/// reader (Prometheus) sees the old file or the new one, never a part.
fn write_atomically(path: &Path, body: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.promgen-tmp"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_files_whole() {
        let dir = std::env::temp_dir().join(format!("promgen-agent-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("targets.json");
        super::write_atomically(&file, b"[1]").unwrap();
        super::write_atomically(&file, b"[2]").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"[2]");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary file left");
        assert!(super::write_atomically(&dir.join("missing/x.json"), b"x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
