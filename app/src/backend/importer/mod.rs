//! Bulk loads: a Promgen `dumpdata` export (moving over from Promgen) and Promgen's file_sd
//! import (targets JSON back into the inventory). Each load is one transaction: it all lands,
//! or nothing does and the error names the object that failed.

mod file_sd;
mod permissions;
mod promgen_dump;

use super::Db;
use serde::Serialize;
use std::collections::BTreeMap;

pub use promgen_dump::DumpObject;

#[derive(Clone)]
pub struct Importer {
    db: Db,
}

impl Importer {
    pub fn new(db: Db) -> Self {
        Importer { db }
    }
}

/// What a load did, per model, in words an operator can act on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct ImportReport {
    /// Rows created or replaced, per model.
    pub imported: BTreeMap<String, u64>,
    /// Objects of models this version does not manage yet, kept verbatim for the version that
    /// does (table `promgen_pending`).
    pub kept_for_later: BTreeMap<String, u64>,
    pub notes: Vec<String>,
}

impl ImportReport {
    pub(crate) fn count(&mut self, model: &str, n: u64) {
        *self.imported.entry(model.to_string()).or_default() += n;
    }

    /// The report as sentences for a page ("Imported 1 service, 2 projects and 40 hosts."); the
    /// command line prints it as a table ([`std::fmt::Display`]).
    pub fn sentences(&self) -> String {
        let parts = |counts: &BTreeMap<String, u64>, noun: &dyn Fn(&str) -> String| -> Vec<String> {
            counts
                .iter()
                .filter(|(_, n)| **n > 0)
                .map(|(model, n)| crate::model::counted(*n as i64, &noun(model)))
                .collect()
        };
        let imported = parts(&self.imported, &|m| m.to_string());
        let mut out = match imported.is_empty() {
            true => "Nothing new: everything named was there already.".to_string(),
            false => format!("Imported {}.", crate::model::listed(&imported)),
        };
        // Promgen's model names (`promgen.sender`): "3 promgen.sender objects".
        let kept = parts(&self.kept_for_later, &|m| format!("{m} object"));
        if !kept.is_empty() {
            out += &format!(" Kept {} for a later version (not managed by this one yet).", crate::model::listed(&kept));
        }
        for note in &self.notes {
            out += &format!(" {note}");
        }
        out
    }
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (model, n) in &self.imported {
            writeln!(f, "imported {n:>6} {model}")?;
        }
        for (model, n) in &self.kept_for_later {
            writeln!(f, "kept     {n:>6} {model} (not managed by this version yet; loaded when it is)")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ImportReport;

    #[test]
    fn a_report_reads_as_sentences() {
        let mut report = ImportReport::default();
        assert_eq!(report.sentences(), "Nothing new: everything named was there already.");
        report.count("service", 1);
        report.count("host", 2);
        report.count("project", 1);
        assert_eq!(report.sentences(), "Imported 2 hosts, 1 project and 1 service.");
        report.kept_for_later.insert("promgen.sender".into(), 3);
        report.notes.push("Users keep their passwords.".into());
        assert_eq!(
            report.sentences(),
            "Imported 2 hosts, 1 project and 1 service. Kept 3 promgen.sender objects for a later version \
             (not managed by this one yet). Users keep their passwords."
        );
    }
}
