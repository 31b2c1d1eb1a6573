//! Which Prometheus will read an expression. PromQL grew over the releases (functions,
//! aggregations, quoted UTF-8 names, Go's regexp syntax) and a Prometheus refuses a whole rule
//! file for one construct it does not know, so an expression is checked for the oldest
//! Prometheus that loads it, and a refusal says which version the construct needs.

use serde::{Deserialize, Serialize};

/// A Prometheus release, major and minor (patch releases do not change the language).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    pub major: u16,
    pub minor: u16,
}

/// `v(3, 0)`: Prometheus 3.0.
pub const fn v(major: u16, minor: u16) -> Version {
    Version { major, minor }
}

impl Version {
    /// The oldest release this checker knows exactly (Debian bookworm's); older ones are
    /// checked as it.
    pub const OLDEST: Version = v(2, 42);
    /// The newest release this checker knows.
    pub const NEWEST: Version = v(3, 14);

    /// The release this checker checks for when asked for `self`: itself within
    /// [`OLDEST`](Self::OLDEST)..=[`NEWEST`](Self::NEWEST), else the nearest end, with the
    /// words that say so (" (checked as 2.42, the oldest release this checker knows)").
    pub fn known(self) -> (Version, String) {
        if self < Self::OLDEST {
            (Self::OLDEST, format!(" (checked as {}, the oldest release this checker knows)", Self::OLDEST))
        } else if self > Self::NEWEST {
            (Self::NEWEST, format!(" (checked as {}, the newest release this checker knows)", Self::NEWEST))
        } else {
            (self, String::new())
        }
    }

    /// Reads `2.42`, `2.42.0`, `v3.1.0` or `3.0.0-rc.1` (what `/api/v1/status/buildinfo` says).
    pub fn parse(text: &str) -> Option<Version> {
        let t = text.trim().trim_start_matches('v');
        let mut parts = t.split(['.', '-', '+']);
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(v(major, minor))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What the Prometheus that reads an expression accepts: its version, and whether it runs with
/// `--enable-feature=promql-experimental-functions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dialect {
    pub version: Version,
    pub experimental: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect::latest()
    }
}

/// When a construct came, whether it still needs the experimental feature flag, and when it
/// went.
#[derive(Clone, Copy, Debug)]
pub struct Availability {
    pub since: Version,
    /// The release from which it works without the feature flag; `None` while it needs it.
    pub stable_since: Option<Version>,
    pub removed_in: Option<Version>,
}

impl Availability {
    pub const ALWAYS: Availability = Availability { since: v(2, 0), stable_since: Some(v(2, 0)), removed_in: None };
}

impl Dialect {
    /// Everything this checker knows, experimental functions included.
    pub const fn latest() -> Dialect {
        Dialect { version: Version::NEWEST, experimental: true }
    }

    /// A Prometheus of `version`, without experimental functions.
    pub const fn of(version: Version) -> Dialect {
        Dialect { version, experimental: false }
    }

    /// Whether this Prometheus knows `what` (`info()`, `limitk`, …); the refusal says which
    /// release (and flag) it needs.
    pub fn allows(&self, what: &str, a: Availability) -> Result<(), String> {
        let checked = format!("this rule is checked for Prometheus {}", self.version);
        if let Some(gone) = a.removed_in
            && self.version >= gone
        {
            return Err(format!("{what} was removed in Prometheus {gone}, and {checked}"));
        }
        if self.version < a.since {
            return Err(format!("{what} needs Prometheus {} or newer, and {checked}", a.since));
        }
        let experimental = a.stable_since.is_none_or(|stable| self.version < stable);
        if experimental && !self.experimental {
            return Err(format!(
                "{what} is experimental in Prometheus {}: it needs --enable-feature=promql-experimental-functions{}",
                self.version,
                a.stable_since.map(|s| format!(" (or Prometheus {s})")).unwrap_or_default()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_as_prometheus_reports_them() {
        assert_eq!(Version::parse("2.42.0"), Some(v(2, 42)));
        assert_eq!(Version::parse("v3.1.0-rc.0"), Some(v(3, 1)));
        assert_eq!(Version::parse("3.0"), Some(v(3, 0)));
        assert_eq!(Version::parse("three"), None);
        assert!(v(2, 55) < v(3, 0) && v(3, 9) < v(3, 10));
    }

    #[test]
    fn says_what_a_construct_needs() {
        let info = Availability { since: v(2, 55), stable_since: None, removed_in: None };
        let e = Dialect::of(v(2, 42)).allows("info()", info).unwrap_err();
        assert_eq!(e, "info() needs Prometheus 2.55 or newer, and this rule is checked for Prometheus 2.42");
        let e = Dialect::of(v(3, 0)).allows("info()", info).unwrap_err();
        assert!(e.contains("--enable-feature=promql-experimental-functions"), "{e}");
        assert!(Dialect { version: v(3, 0), experimental: true }.allows("info()", info).is_ok());
        let hw = Availability { since: v(2, 0), stable_since: Some(v(2, 0)), removed_in: Some(v(3, 0)) };
        assert!(Dialect::of(v(3, 1)).allows("holt_winters()", hw).unwrap_err().contains("removed in Prometheus 3.0"));
    }
}
