//! The audit log: who changed what, with the state before and after.

use super::ids::AuditId;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: AuditId,
    /// RFC 3339, UTC.
    pub created: String,
    pub user: Option<String>,
    pub body: String,
    pub object_type: String,
    pub object_id: i64,
    pub old: Option<String>,
    pub data: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub page: i64,
    pub has_more: bool,
}
