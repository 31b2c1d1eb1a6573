//! The query proxy, as Promgen's (`/api/v1/query`, `query_range`, `series`, `labels`,
//! `label/<name>/values`): one request of Prometheus' HTTP API sent to every shard marked for
//! the proxy (every enabled shard when none is) at once, each within the query timeout, and the
//! answers merged into one in Prometheus' own shape (`docs/querying/api.md`; reference 3.4):
//!
//! - series of an instant or range query, and `series`' label sets, are concatenated with
//!   duplicates removed (an HA pair scrapes the same targets: the first shard's copy is kept);
//! - `labels` and label values are a sorted union;
//! - a shard that fails or refuses adds a line to `warnings` instead of failing the answer;
//!   when none answered, the answer is Prometheus' error (`bad_data` 400 when a shard refused
//!   the query itself, else `unavailable` 503).

use super::proxy::{Proxy, Scope};
use crate::error::AppError;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};

/// The most of one shard's answer read. Parsed, an answer takes up to ~30 times its size
/// (measured: 15 MB of vector → 0.5 GB), so this and the turns below bound the memory.
const ANSWER_LIMIT: usize = 8 << 20;
/// Fan-outs answered at once (each holds up to a shard's answer per shard, parsed): more wait.
pub(crate) const CONCURRENT_FAN_OUTS: usize = 2;
/// The longest a fan-out waits for its turn before the caller is told to come back.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The parameters passed on to Prometheus; others are dropped.
const PARAMETERS: [&str; 8] = ["query", "time", "start", "end", "step", "timeout", "match[]", "limit"];

/// Which read of Prometheus' API is proxied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    Query,
    QueryRange,
    Series,
    Labels,
    /// `label/<name>/values`.
    LabelValues(String),
}

impl Endpoint {
    fn path(&self) -> String {
        match self {
            Endpoint::Query => "api/v1/query".into(),
            Endpoint::QueryRange => "api/v1/query_range".into(),
            Endpoint::Series => "api/v1/series".into(),
            Endpoint::Labels => "api/v1/labels".into(),
            Endpoint::LabelValues(name) => format!("api/v1/label/{name}/values"),
        }
    }
}

/// What one shard gave.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// `data`, and Prometheus' own warnings.
    Data(Value, Vec<String>),
    /// Prometheus answered with an error: its `errorType` and `error`.
    Refused(String, String),
    /// It could not be asked or its answer could not be read.
    Failed(String),
}

/// The merged answer: an HTTP status and Prometheus' JSON envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct Merged {
    pub status: u16,
    pub body: Value,
}

impl Proxy {
    /// Sends `endpoint` with `params` (pairs as a query string has them; those Prometheus does
    /// not read for it are dropped) to the shards of `scope` and merges the answers.
    pub async fn fan_out(
        &self,
        scope: Scope,
        endpoint: &Endpoint,
        params: &[(String, String)],
    ) -> Result<Merged, AppError> {
        if let Endpoint::LabelValues(name) = endpoint
            && !is_label_name(name)
        {
            return Ok(error(400, "bad_data", &format!("invalid label name: {name:?}")));
        }
        let params: Vec<(String, String)> =
            params.iter().filter(|(k, _)| PARAMETERS.contains(&k.as_str())).cloned().collect();
        let _turn = tokio::time::timeout(TURN_WAIT, self.fan_outs.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Unavailable("the query proxy is busy: try again in a moment".into()))?
            .map_err(|_| AppError::Unavailable("the query proxy is stopping".into()))?;
        let mut asks = tokio::task::JoinSet::new();
        for (i, t) in self.targets(scope).await?.into_iter().enumerate() {
            let (client, params, path) = (self.client.clone(), params.clone(), endpoint.path());
            asks.spawn(async move {
                let url = format!("{}/{path}", t.url.trim_end_matches('/'));
                let mut req = client.get(&url).query(&params);
                if let Some(auth) = t.auth_header.as_deref().filter(|a| !a.is_empty()) {
                    req = req.header(reqwest::header::AUTHORIZATION, auth);
                }
                (i, t.name, ask(req).await)
            });
        }
        let mut answers = asks.join_all().await;
        answers.sort_by_key(|(i, _, _)| *i);
        // Reading and merging megabytes of JSON is CPU work: off the async workers.
        let endpoint = endpoint.clone();
        tokio::task::spawn_blocking(move || {
            let outcomes = answers
                .into_iter()
                .map(|(_, shard, raw)| {
                    let o = match raw {
                        Ok((status, body)) => outcome(status, &body),
                        Err(o) => o,
                    };
                    (shard, o)
                })
                .collect();
            merge(&endpoint, outcomes)
        })
        .await
        .map_err(|e| AppError::fault("merging the shards' answers", e.to_string()))
    }
}

/// A shard's answer: its status and body, or why there is none.
async fn ask(req: reqwest::RequestBuilder) -> Result<(reqwest::StatusCode, Vec<u8>), Outcome> {
    let res = match req.send().await {
        Ok(res) => res,
        Err(e) if e.is_timeout() => return Err(Outcome::Failed("did not answer in time".into())),
        Err(e) => return Err(Outcome::Failed(format!("is unreachable: {}", super::proxy::root_cause(&e)))),
    };
    let status = res.status();
    match super::http_body::read_capped(res, ANSWER_LIMIT).await {
        Ok(b) => Ok((status, b)),
        Err(e) => Err(Outcome::Failed(format!("answered {status}: {e}"))),
    }
}

/// What a shard's answer says.
fn outcome(status: reqwest::StatusCode, bytes: &[u8]) -> Outcome {
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else {
        return Outcome::Failed(format!("answered {status} with something that is not Prometheus' API"));
    };
    let warnings = body["warnings"]
        .as_array()
        .map(|w| w.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    match body["status"].as_str() {
        Some("success") => Outcome::Data(body["data"].clone(), warnings),
        _ => Outcome::Refused(
            body["errorType"].as_str().unwrap_or("unknown").to_string(),
            body["error"].as_str().unwrap_or_default().to_string(),
        ),
    }
}

fn error(status: u16, error_type: &str, message: &str) -> Merged {
    Merged { status, body: json!({"status": "error", "errorType": error_type, "error": message}) }
}

fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Merges each shard's outcome (in shard order) as the module says.
pub fn merge(endpoint: &Endpoint, answers: Vec<(String, Outcome)>) -> Merged {
    if answers.is_empty() {
        return error(503, "unavailable", "no shard is enabled for the query proxy");
    }
    let mut warnings: Vec<String> = Vec::new();
    let mut datas = Vec::new();
    let mut refusal = None;
    // The shape every answer must have: the first well-formed one's result type, for queries.
    let mut result_type: Option<String> = None;
    for (shard, outcome) in answers {
        match outcome {
            Outcome::Data(data, w) => {
                warnings.extend(w.into_iter().map(|w| format!("shard {shard}: {w}")));
                match shape_error(endpoint, &data, &mut result_type) {
                    None => datas.push(data),
                    Some(why) => warnings.push(format!("shard {shard} answered {why}: left out")),
                }
            }
            Outcome::Refused(kind, text) => {
                warnings.push(format!("shard {shard} refused it ({kind}): {text}"));
                refusal.get_or_insert((kind, text));
            }
            Outcome::Failed(why) => warnings.push(format!("shard {shard} {why}")),
        }
    }
    if datas.is_empty() {
        return match refusal {
            Some((kind, text)) if kind == "bad_data" => error(400, &kind, &text),
            Some((kind, text)) => error(422, &kind, &text),
            None => error(503, "unavailable", &format!("no Prometheus answered: {}", warnings.join("; "))),
        };
    }
    let data = match endpoint {
        Endpoint::Labels | Endpoint::LabelValues(_) => {
            let union: BTreeSet<String> = datas
                .iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            json!(union)
        }
        Endpoint::Series => {
            Value::Array(distinct(datas.into_iter().filter_map(|d| d.as_array().cloned()).flatten(), |v| v))
        }
        Endpoint::Query | Endpoint::QueryRange => {
            match result_type.as_deref() {
                Some(rt @ ("vector" | "matrix")) => {
                    let series = datas.iter().filter_map(|d| d["result"].as_array().cloned()).flatten();
                    json!({"resultType": rt, "result": distinct(series, |s| &s["metric"])})
                }
                // A scalar or a string is the same everywhere: the first answer's.
                _ => datas[0].clone(),
            }
        }
    };
    let mut body = json!({"status": "success", "data": data});
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    Merged { status: 200, body }
}

/// Why `data` does not have the shape `endpoint` answers with (`None`: it has). For queries the
/// first well-formed answer sets the result type the others must share.
fn shape_error(endpoint: &Endpoint, data: &Value, result_type: &mut Option<String>) -> Option<String> {
    match endpoint {
        Endpoint::Labels | Endpoint::LabelValues(_) => {
            let ok = data.as_array().is_some_and(|a| a.iter().all(Value::is_string));
            (!ok).then(|| "something that is not a list of names".to_string())
        }
        Endpoint::Series => {
            let ok = data.as_array().is_some_and(|a| a.iter().all(Value::is_object));
            (!ok).then(|| "something that is not a list of label sets".to_string())
        }
        Endpoint::Query | Endpoint::QueryRange => {
            let Some(rt) = data["resultType"].as_str() else {
                return Some("something without a result type".to_string());
            };
            let ok = match rt {
                "vector" | "matrix" => {
                    data["result"].as_array().is_some_and(|a| a.iter().all(|s| s["metric"].is_object()))
                }
                "scalar" | "string" => data["result"].is_array(),
                _ => false,
            };
            if !ok {
                return Some(format!("a {rt} result of another shape"));
            }
            match result_type {
                Some(first) if first != rt => Some(format!("a {rt}, where the others answered a {first}")),
                Some(_) => None,
                None => {
                    *result_type = Some(rt.to_string());
                    None
                }
            }
        }
    }
}

/// `items` without those whose `key` was seen before (a label set, whatever its key order).
fn distinct(items: impl Iterator<Item = Value>, key: impl Fn(&Value) -> &Value) -> Vec<Value> {
    let mut seen = HashSet::new();
    items
        .filter(|item| {
            let canonical = match key(item) {
                Value::Object(map) => {
                    let sorted: std::collections::BTreeMap<&String, String> =
                        map.iter().map(|(k, v)| (k, v.to_string())).collect();
                    format!("{sorted:?}")
                }
                other => other.to_string(),
            };
            seen.insert(canonical)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(v: Value) -> Outcome {
        Outcome::Data(v, vec![])
    }

    #[test]
    fn merges_vectors_without_the_ha_copies() {
        let a = data(json!({"resultType": "vector", "result": [
            {"metric": {"job": "node", "instance": "a"}, "value": [1, "1"]},
            {"metric": {"instance": "b", "job": "node"}, "value": [1, "0"]},
        ]}));
        let b = data(json!({"resultType": "vector", "result": [
            {"metric": {"job": "node", "instance": "b"}, "value": [1.2, "1"]},
            {"metric": {"job": "node", "instance": "c"}, "value": [1.2, "1"]},
        ]}));
        let m = merge(&Endpoint::Query, vec![("one".into(), a), ("two".into(), b)]);
        assert_eq!(m.status, 200);
        let instances: Vec<&str> = m.body["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["metric"]["instance"].as_str().unwrap())
            .collect();
        assert_eq!(instances, ["a", "b", "c"]);
        assert_eq!(m.body["data"]["result"][1]["value"], json!([1, "0"]), "the first shard's copy");
        assert!(m.body.get("warnings").is_none());
    }

    #[test]
    fn labels_are_a_sorted_union_and_failures_are_warnings() {
        let m = merge(
            &Endpoint::Labels,
            vec![
                ("one".into(), data(json!(["job", "instance"]))),
                ("two".into(), Outcome::Failed("is unreachable: connection refused".into())),
                ("three".into(), Outcome::Data(json!(["__name__", "job"]), vec!["too many series".into()])),
            ],
        );
        assert_eq!(m.status, 200);
        assert_eq!(m.body["data"], json!(["__name__", "instance", "job"]));
        assert_eq!(
            m.body["warnings"],
            json!(["shard two is unreachable: connection refused", "shard three: too many series"])
        );
    }

    #[test]
    fn when_nobody_answers_the_error_is_prometheus_own() {
        let refused = Outcome::Refused("bad_data".into(), "parse error at char 3".into());
        let m = merge(&Endpoint::Query, vec![("one".into(), refused), ("two".into(), Outcome::Failed("x".into()))]);
        assert_eq!(
            (m.status, m.body["errorType"].as_str(), m.body["error"].as_str()),
            (400, Some("bad_data"), Some("parse error at char 3"))
        );
        let m = merge(&Endpoint::Series, vec![("one".into(), Outcome::Failed("did not answer in time".into()))]);
        assert_eq!((m.status, m.body["errorType"].as_str()), (503, Some("unavailable")));
        assert!(m.body["error"].as_str().unwrap().contains("shard one did not answer in time"));
        assert_eq!(merge(&Endpoint::Labels, vec![]).status, 503);
    }

    #[test]
    fn answers_of_another_shape_are_left_out_with_a_warning() {
        let vector = data(json!({"resultType": "vector", "result": [{"metric": {"a": "1"}, "value": [1, "1"]}]}));
        let m = merge(
            &Endpoint::Query,
            vec![
                ("echo".into(), data(json!(["not", "a", "query"]))),
                ("real".into(), vector),
                ("other".into(), data(json!({"resultType": "matrix", "result": []}))),
            ],
        );
        assert_eq!(m.body["data"]["result"].as_array().unwrap().len(), 1, "{}", m.body);
        let warnings = m.body["warnings"].to_string();
        assert!(warnings.contains("shard echo answered something without a result type"), "{warnings}");
        assert!(warnings.contains("shard other answered a matrix, where the others answered a vector"), "{warnings}");
        let m = merge(&Endpoint::Labels, vec![("a".into(), data(json!({"x": 1}))), ("b".into(), data(json!(["job"])))]);
        assert_eq!(m.body["data"], json!(["job"]));
    }

    #[test]
    fn series_lose_duplicates() {
        let s = json!([{"__name__": "up", "job": "a"}]);
        let m = merge(&Endpoint::Series, vec![("one".into(), data(s.clone())), ("two".into(), data(s.clone()))]);
        assert_eq!(m.body["data"], s);
    }
}
