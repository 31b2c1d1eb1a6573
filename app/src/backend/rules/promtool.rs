//! `promtool check rules` on a rendered rule file, where promtool is installed: it catches
//! what only Prometheus itself knows (template syntax in annotations, its own PromQL grammar).
//! Without promtool the engine's checks stand alone, as Promgen's `/usr/bin/true` setting.
//! promtool judges only the language of its own release: for rules checked for another major
//! release or a newer one, its verdict is not asked (the engine knows every release).

use crate::error::AppError;
use crate::rules::promql::{Dialect, Version};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Promtool {
    path: Option<PathBuf>,
    /// Its release (`promtool --version`), when it says.
    version: Option<Version>,
}

impl Promtool {
    /// `configured` if given, else `promtool` from `PATH`; none found turns the check off.
    pub fn locate(configured: Option<&Path>) -> Promtool {
        let path = match configured {
            Some(p) => Some(p.to_path_buf()),
            None => std::env::var_os("PATH")
                .and_then(|paths| std::env::split_paths(&paths).map(|d| d.join("promtool")).find(|p| p.is_file())),
        };
        let version = path.as_ref().and_then(|p| {
            let out = std::process::Command::new(p).arg("--version").output().ok()?;
            let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
            // "promtool, version 2.42.0+ds (branch: …)"
            text.split_whitespace().skip_while(|w| *w != "version").nth(1).and_then(Version::parse)
        });
        Promtool { path, version }
    }

    pub fn off() -> Promtool {
        Promtool { path: None, version: None }
    }

    /// Its release, when it said.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// Whether promtool reads rules as a Prometheus of `dialect` does: the same major release,
    /// and not older.
    pub fn judges(&self, dialect: Dialect) -> bool {
        self.path.is_some() && self.version.is_some_and(|v| v.major == dialect.version.major && v >= dialect.version)
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Checks a rule file meant for a Prometheus of `dialect` (when promtool [`judges`] it);
    /// the error carries promtool's own words, without the temp file's name, as an invalid
    /// `field`.
    ///
    /// [`judges`]: Promtool::judges
    pub async fn check(&self, field: &str, yaml: &str, dialect: Dialect) -> Result<(), AppError> {
        let Some(promtool) = self.path.as_ref().filter(|_| self.judges(dialect)) else { return Ok(()) };
        let dir = std::env::temp_dir();
        let file = dir.join(format!("promgen-check-{}-{}.rules.yml", std::process::id(), unique()));
        tokio::fs::write(&file, yaml)
            .await
            .map_err(|e| AppError::fault("writing the rules for promtool", format!("{}: {e}", file.display())))?;
        let run =
            tokio::process::Command::new(promtool).arg("check").arg("rules").arg(&file).kill_on_drop(true).output();
        let output = tokio::time::timeout(Duration::from_secs(30), run).await;
        let _ = tokio::fs::remove_file(&file).await;
        let output = match output {
            Err(_) => return Err(AppError::Unavailable("promtool check rules took longer than 30 s".into())),
            Ok(Err(e)) => {
                return Err(AppError::fault("running promtool", format!("{}: {e}", promtool.display())));
            }
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
        if lines.is_empty() {
            let code = output.status.code().map_or("a signal".to_string(), |c| format!("exit code {c}"));
            return Err(AppError::invalid(
                field,
                format!("promtool check rules refused the rule without a word ({code})"),
            ));
        }
        Err(AppError::invalid(field, format!("promtool check rules: {}", lines.join("; "))))
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}
