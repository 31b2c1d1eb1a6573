//! The Alertmanagers Promgen-rs talks to (`--alertmanager-url`, repeatable): their silences and
//! the alerts they hold, through Alertmanager's API v2 (`api/v2/openapi.yaml`; reference
//! section 2). Every call goes to each Alertmanager at once with a deadline. Lists are merged
//! (silences by id, alerts by fingerprint: an HA pair gossips the same ones); one that does not
//! answer becomes a warning naming it, not a failure of the whole answer.

use serde_json::Value;
use std::time::Duration;

/// The most of an Alertmanager's answer read.
const ANSWER_LIMIT: usize = 16 << 20;

/// The configured Alertmanagers and one HTTP client for them.
#[derive(Clone)]
pub struct Alertmanagers {
    bases: Vec<url::Url>,
    client: reqwest::Client,
}

/// Why one Alertmanager's answer is missing.
#[derive(Clone, Debug, PartialEq)]
pub enum AmError {
    /// It could not be reached or did not answer in time: the words say which.
    Unreachable(String),
    /// It answered with this status and text (its validation message, for a 400).
    Status(u16, String),
}

impl std::fmt::Display for AmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AmError::Unreachable(why) => f.write_str(why),
            AmError::Status(status, text) => write!(f, "answered {status}: {}", text.trim()),
        }
    }
}

/// Merged lists: each item with the Alertmanagers that hold it, and a line per one that failed.
pub struct Merged {
    pub items: Vec<(Value, Vec<String>)>,
    pub warnings: Vec<String>,
}

impl Alertmanagers {
    /// Alertmanagers at `urls` (http or https, any path prefix kept: `http://h/am` asks
    /// `http://h/am/api/v2/…`), each call bounded by `timeout`. The error names the bad URL.
    pub fn new(urls: &[String], timeout: Duration) -> Result<Alertmanagers, String> {
        let mut bases = Vec::new();
        for raw in urls.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
            let mut url = url::Url::parse(raw).map_err(|e| format!("alertmanager URL {raw:?} is not a URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(format!("alertmanager URL {raw:?} must be http:// or https:// with a host"));
            }
            if url.query().is_some() || url.fragment().is_some() {
                return Err(format!("alertmanager URL {raw:?} must not have a query or a fragment"));
            }
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            bases.push(url);
        }
        let client = reqwest::Client::builder()
            // An Alertmanager's redirect would take a request to a path this client did not choose.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("promgen-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make the Alertmanager client: {e}"))?;
        Ok(Alertmanagers { bases, client })
    }

    pub fn is_empty(&self) -> bool {
        self.bases.is_empty()
    }

    /// How an Alertmanager is named to users: its URL without credentials.
    fn name(base: &url::Url) -> String {
        let mut shown = base.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        shown.as_str().trim_end_matches('/').to_string()
    }

    /// Every silence of every Alertmanager (active, pending and expired), merged by id.
    pub async fn silences(&self) -> Merged {
        self.merged("api/v2/silences", "id").await
    }

    /// Every alert every Alertmanager holds now, merged by fingerprint.
    pub async fn alerts(&self) -> Merged {
        self.merged("api/v2/alerts", "fingerprint").await
    }

    /// One silence, from the first Alertmanager that has it; `Ok(None)` when none has it.
    pub async fn silence(&self, id: &str) -> Result<Option<Value>, AmError> {
        let path = format!("api/v2/silence/{}", encode_segment(id));
        let mut last = None;
        for (_, answer) in self.each(|c, url| c.get(url), &path).await {
            match answer {
                Ok(body) => return Ok(Some(body)),
                Err(AmError::Status(404, _)) => {}
                Err(e) => last = Some(e),
            }
        }
        match last {
            Some(e) => Err(e),
            None => Ok(None),
        }
    }

    /// Posts `silence` (a `postableSilence`) to every Alertmanager: the id each gave it, or why not.
    pub async fn post_silence(&self, silence: &Value) -> Vec<(String, Result<String, AmError>)> {
        self.each(|c, url| c.post(url).json(silence), "api/v2/silences")
            .await
            .into_iter()
            .map(|(am, answer)| {
                let id = answer.and_then(|body| {
                    body.get("silenceID")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .ok_or_else(|| AmError::Status(200, "an answer without silenceID".into()))
                });
                (am, id)
            })
            .collect()
    }

    /// Expires silence `id` on every Alertmanager; each one's answer (404: it does not hold it).
    pub async fn expire(&self, id: &str) -> Vec<(String, Result<(), AmError>)> {
        let path = format!("api/v2/silence/{}", encode_segment(id));
        self.each(|c, url| c.delete(url), &path).await.into_iter().map(|(am, r)| (am, r.map(|_| ()))).collect()
    }

    async fn merged(&self, path: &str, key: &str) -> Merged {
        let mut items: Vec<(Value, Vec<String>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        let mut warnings = Vec::new();
        for (am, answer) in self.each(|c, url| c.get(url), path).await {
            match answer {
                Ok(Value::Array(list)) => {
                    for item in list {
                        let Some(k) = item.get(key).and_then(Value::as_str).map(str::to_string) else { continue };
                        match index.get(&k) {
                            Some(&i) => items[i].1.push(am.clone()),
                            None => {
                                index.insert(k, items.len());
                                items.push((item, vec![am.clone()]));
                            }
                        }
                    }
                }
                Ok(_) => warnings.push(format!("Alertmanager at {am} answered something that is not a list")),
                Err(e) => warnings.push(format!("Alertmanager at {am} {e}")),
            }
        }
        Merged { items, warnings }
    }

    /// Sends the request `make` builds for `path` to every Alertmanager at once; each one's
    /// JSON answer (a body that is not JSON is `null`), in the configured order.
    async fn each(
        &self,
        make: impl Fn(&reqwest::Client, url::Url) -> reqwest::RequestBuilder,
        path: &str,
    ) -> Vec<(String, Result<Value, AmError>)> {
        let mut asks = tokio::task::JoinSet::new();
        for (i, base) in self.bases.iter().enumerate() {
            let name = Self::name(base);
            let Ok(url) = base.join(path) else { continue };
            let req = make(&self.client, url);
            asks.spawn(async move { (i, name.clone(), call(req, &name).await) });
        }
        let mut answers = asks.join_all().await;
        answers.sort_by_key(|(i, _, _)| *i);
        answers.into_iter().map(|(_, name, r)| (name, r)).collect()
    }
}

async fn call(req: reqwest::RequestBuilder, name: &str) -> Result<Value, AmError> {
    let res = req.send().await.map_err(|e| {
        AmError::Unreachable(if e.is_timeout() {
            "did not answer in time".to_string()
        } else {
            format!("is unreachable: {}", super::proxy::root_cause(&e))
        })
    })?;
    let status = res.status();
    let bytes = super::http_body::read_capped(res, ANSWER_LIMIT)
        .await
        .map_err(|e| AmError::Unreachable(format!("answered {status}: {e}")))?;
    if !status.is_success() {
        // Alertmanager's refusals are a JSON string or plain text.
        let text = serde_json::from_slice::<String>(&bytes).unwrap_or_else(|_| String::from_utf8_lossy(&bytes).into());
        let text: String = text.chars().take(1000).collect();
        tracing::debug!(alertmanager = name, %status, "Alertmanager refused");
        return Err(AmError::Status(status.as_u16(), text));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// `id` as one URL path segment: a silence id is a UUID, so anything but letters, digits and
/// `-` is escaped (also `.`, which would climb the path).
fn encode_segment(id: &str) -> String {
    id.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'-' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_path_prefix_and_refuses_what_is_not_a_base() {
        let ams =
            Alertmanagers::new(&["http://am:9093/prefix".into(), "https://u:p@b/".into()], Duration::from_secs(1))
                .unwrap();
        assert_eq!(ams.bases[0].join("api/v2/silences").unwrap().as_str(), "http://am:9093/prefix/api/v2/silences");
        assert_eq!(Alertmanagers::name(&ams.bases[1]), "https://b");
        for bad in ["am:9093", "ftp://am", "http://am/?x=1", "not a url"] {
            assert!(Alertmanagers::new(&[bad.into()], Duration::from_secs(1)).is_err(), "{bad}");
        }
        assert_eq!(encode_segment("../x y"), "%2E%2E%2Fx%20y");
    }
}
