//! Pure rendering of the files Prometheus reads. Ordering is decided here, in Rust, so both
//! databases give byte-identical output for the same data.

pub mod targets;
pub mod urls;
pub mod yaml;

pub use targets::{ScrapeJob, render_targets};
pub use urls::{ProbeTarget, render_urls};

/// One file_sd entry: `{"labels": {...}, "targets": [...]}`; labels serialize with sorted keys,
/// as Promgen's `json.dumps(sort_keys=True)`.
#[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct FileSdGroup {
    pub labels: std::collections::BTreeMap<String, String>,
    pub targets: Vec<String>,
}

/// Promgen writes file_sd with a two-space indent; so do we.
pub(crate) fn to_file_sd_json(groups: &[FileSdGroup]) -> String {
    serde_json::to_string_pretty(groups).unwrap_or_else(|_| "[]".to_string())
}
