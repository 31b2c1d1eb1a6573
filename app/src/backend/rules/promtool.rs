//! `promtool check rules` on a rendered rule file, where promtool is installed: it catches
//! what only Prometheus itself knows (template syntax in annotations, its own PromQL grammar).
//! Without promtool the engine's checks stand alone, as Promgen's `/usr/bin/true` setting.

use crate::error::AppError;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Promtool {
    path: Option<PathBuf>,
}

impl Promtool {
    /// `configured` if given, else `promtool` from `PATH`; none found turns the check off.
    pub fn locate(configured: Option<&Path>) -> Promtool {
        let path = match configured {
            Some(p) => Some(p.to_path_buf()),
            None => std::env::var_os("PATH")
                .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("promtool")).find(|p| p.is_file())),
        };
        Promtool { path }
    }

    pub fn off() -> Promtool {
        Promtool { path: None }
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Checks a rule file; the error carries promtool's own words, without the temp file's
    /// name, as an invalid `field`.
    pub async fn check(&self, field: &str, yaml: &str) -> Result<(), AppError> {
        let Some(promtool) = &self.path else { return Ok(()) };
        let dir = std::env::temp_dir();
        let file = dir.join(format!("promgen-check-{}-{}.rules.yml", std::process::id(), unique()));
        tokio::fs::write(&file, yaml)
            .await
            .map_err(|e| AppError::Internal(format!("cannot write {}: {e}", file.display())))?;
        let run =
            tokio::process::Command::new(promtool).arg("check").arg("rules").arg(&file).kill_on_drop(true).output();
        let output = tokio::time::timeout(Duration::from_secs(30), run).await;
        let _ = tokio::fs::remove_file(&file).await;
        let output = match output {
            Err(_) => return Err(AppError::Internal("promtool check rules took longer than 30 s".into())),
            Ok(Err(e)) => return Err(AppError::Internal(format!("cannot run {}: {e}", promtool.display()))),
            Ok(Ok(o)) => o,
        };
        if output.status.success() {
            return Ok(());
        }
        let name = file.display().to_string();
        let text = String::from_utf8_lossy(&output.stderr).to_string() + &String::from_utf8_lossy(&output.stdout);
        let lines: Vec<String> = text
            .lines()
            .map(|l| l.replace(&format!("{name}: "), "").replace(&name, "the rule file").trim().to_string())
            .filter(|l| !l.is_empty() && !l.starts_with("Checking") && l != "FAILED:")
            .collect();
        Err(AppError::invalid(field, format!("promtool check rules: {}", lines.join("; "))))
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
