//! What the forms send, with the validation that runs both in the browser (as you type) and
//! on the server (on save). `clean()` returns the normalized input or the first bad field.

use super::ids::*;
use super::inventory::Scheme;
use super::validate::{self, Checked, FieldError};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl ServiceInput {
    pub fn clean(self) -> Checked<Self> {
        Ok(ServiceInput {
            name: validate::name("name", &self.name)?,
            description: validate::text("description", &self.description, validate::MAX_DESCRIPTION)?,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub shard_id: ShardId,
}

impl ProjectInput {
    pub fn clean(self) -> Checked<Self> {
        Ok(ProjectInput {
            name: validate::name("name", &self.name)?,
            description: validate::text("description", &self.description, validate::MAX_DESCRIPTION)?,
            shard_id: self.shard_id,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardInput {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub proxy: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "default_samples")]
    pub samples: i64,
    #[serde(default = "default_targets")]
    pub targets: i64,
    /// The Prometheus release its servers run (`2.42`, `3.1`); empty to detect it.
    #[serde(default)]
    pub prometheus_version: Option<String>,
}

fn yes() -> bool {
    true
}
fn default_samples() -> i64 {
    5_000_000
}
fn default_targets() -> i64 {
    10_000
}

impl ShardInput {
    pub fn new(name: &str, url: &str) -> Self {
        ShardInput {
            name: name.into(),
            url: url.into(),
            proxy: false,
            enabled: true,
            samples: default_samples(),
            targets: default_targets(),
            prometheus_version: None,
        }
    }

    pub fn clean(self) -> Checked<Self> {
        if self.samples < 0 {
            return Err(FieldError::new("samples", "may not be negative"));
        }
        if self.targets < 0 {
            return Err(FieldError::new("targets", "may not be negative"));
        }
        let prometheus_version = match self.prometheus_version.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(
                crate::rules::promql::Version::parse(v)
                    .ok_or_else(|| {
                        FieldError::new("prometheus_version", format!("{v:?} is not a release like 2.42 or 3.1"))
                    })?
                    .to_string(),
            ),
        };
        Ok(ShardInput {
            name: validate::name("name", &self.name)?,
            url: validate::http_url("url", &self.url)?,
            prometheus_version,
            ..self
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExporterInput {
    pub job: String,
    pub port: i64,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub scheme: Scheme,
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl ExporterInput {
    pub fn clean(self) -> Checked<Self> {
        Ok(ExporterInput {
            job: validate::job("job", &self.job)?,
            port: validate::port("port", self.port)?,
            path: validate::metrics_path("path", &self.path)?,
            ..self
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FarmInput {
    pub name: String,
    /// A pasted list: newlines, commas or spaces between hosts. May be empty.
    #[serde(default)]
    pub hosts: String,
}

impl FarmInput {
    /// The farm name and its hosts, cleaned.
    pub fn clean(self) -> Checked<(String, Vec<String>)> {
        let name = validate::name("name", &self.name)?;
        let hosts = if self.hosts.trim().is_empty() { Vec::new() } else { validate::host_list("hosts", &self.hosts)? };
        Ok((name, hosts))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlInput {
    pub url: String,
    pub probe_id: ProbeId,
}

impl UrlInput {
    pub fn clean(self) -> Checked<Self> {
        Ok(UrlInput { url: validate::http_url("url", &self.url)?, probe_id: self.probe_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_name_their_bad_field() {
        let e =
            ExporterInput { job: "node".into(), port: 70000, path: String::new(), scheme: Scheme::Http, enabled: true }
                .clean()
                .unwrap_err();
        assert_eq!(e.field, "port");
        assert_eq!(ShardInput::new("x", "http://p").clean().unwrap_err().field, "name");
        assert_eq!(ShardInput::new("main", "p").clean().unwrap_err().field, "url");
        let (name, hosts) = FarmInput { name: "web".into(), hosts: "a.com\nb.com".into() }.clean().unwrap();
        assert_eq!((name.as_str(), hosts.len()), ("web", 2));
    }
}
