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
