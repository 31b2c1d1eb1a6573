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
    /// The name of the service or project the log is narrowed to (its History), when the
    /// reader sees entries of it.
    #[serde(default)]
    pub subject: Option<String>,
}

/// One field a change touched: its name, and its value before and after (`None`: absent).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// The fields that differ between two states of an object as the audit log keeps them (JSON,
/// usually objects): a field per key that changed, sorted by name. States that are not objects
/// (a flag, a list) are one field, `value`. Values read as text: strings bare, the rest as JSON.
/// A field that is empty on both sides (absent, null, "", [] or {}: an object created with an
/// empty description) is no change.
pub fn diff(old: Option<&str>, new: Option<&str>) -> Vec<FieldChange> {
    use serde_json::Value;
    let parse =
        |s: Option<&str>| s.map(|s| serde_json::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.into())));
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    let (old, new) = (parse(old), parse(new));
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(_) => false,
    };
    let as_object = |v: &Option<Value>| match v {
        None => Some(serde_json::Map::new()),
        Some(Value::Object(m)) => Some(m.clone()),
        // An object recorded with what came with it (a farm and its hosts): its fields, then
        // the rest as `with`, `with 2`, ….
        Some(Value::Array(items)) if matches!(items.first(), Some(Value::Object(_))) => {
            let mut m = items[0].as_object().cloned().unwrap_or_default();
            for (i, extra) in items[1..].iter().enumerate() {
                m.insert(if i == 0 { "with".into() } else { format!("with {}", i + 1) }, extra.clone());
            }
            Some(m)
        }
        Some(_) => None,
    };
    // An update may be recorded as the row before and the input that changed it, which carries
    // only the fields it sets: a field the input leaves out is unchanged, not removed.
    let update = old.is_some() && new.is_some();
    match (as_object(&old), as_object(&new)) {
        (Some(before), Some(after)) => {
            let keys: std::collections::BTreeSet<&String> = match update {
                true => after.keys().collect(),
                false => before.keys().chain(after.keys()).collect(),
            };
            let changed = |k: &str| before.get(k) != after.get(k) && !(empty(before.get(k)) && empty(after.get(k)));
            keys.into_iter()
                // An id beside its name that changed too says nothing more (`shard_id` beside
                // `shard_name`, `owner_id` beside `owner`).
                .filter(|k| {
                    changed(k) && !k.strip_suffix("_id").is_some_and(|of| changed(&format!("{of}_name")) || changed(of))
                })
                .map(|k| FieldChange {
                    field: k.clone(),
                    before: before.get(k).map(text),
                    after: after.get(k).map(text),
                })
                .collect()
        }
        _ if old == new => Vec::new(),
        _ => vec![FieldChange { field: "value".into(), before: old.as_ref().map(text), after: new.as_ref().map(text) }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(field: &str, before: Option<&str>, after: Option<&str>) -> FieldChange {
        FieldChange { field: field.into(), before: before.map(Into::into), after: after.map(Into::into) }
    }

    #[test]
    fn a_change_is_the_fields_that_differ() {
        let old = r#"{"name":"web","port":9100,"enabled":true,"path":"/metrics"}"#;
        let new = r#"{"name":"web","port":9200,"enabled":false,"scheme":"https","path":"/metrics"}"#;
        assert_eq!(
            diff(Some(old), Some(new)),
            vec![
                change("enabled", Some("true"), Some("false")),
                change("port", Some("9100"), Some("9200")),
                change("scheme", None, Some("https")),
            ]
        );
        // Created and deleted: every field on one side.
        assert_eq!(diff(None, Some(r#"{"name":"web"}"#)), vec![change("name", None, Some("web"))]);
        assert_eq!(diff(Some(r#"{"name":"web"}"#), None), vec![change("name", Some("web"), None)]);
        // Empty on both sides says nothing; emptied is a change.
        let created = r#"{"name":"up","description":"","parent":null,"labels":{}}"#;
        assert_eq!(diff(None, Some(created)), vec![change("name", None, Some("up"))]);
        assert_eq!(
            diff(Some(r#"{"description":"x"}"#), Some(r#"{"description":""}"#)),
            vec![change("description", Some("x"), Some(""))]
        );
        // Not objects: one value.
        assert_eq!(diff(Some("true"), Some("false")), vec![change("value", Some("true"), Some("false"))]);
        assert_eq!(diff(Some("true"), Some("true")), vec![]);
        assert_eq!(diff(None, None), vec![]);
        // An update recorded as the row and the input that changed it: the fields the input
        // leaves out are not removed; an id beside its changed name is left out.
        let row = r#"{"id":3,"name":"web","description":"d","shard_id":1,"shard_name":"eu","owner":"ann"}"#;
        assert_eq!(
            diff(Some(row), Some(r#"{"name":"web","description":"e","shard_id":1}"#)),
            vec![change("description", Some("d"), Some("e"))]
        );
        let moved = r#"{"id":3,"name":"web","description":"d","shard_id":2,"shard_name":"us","owner":"ann"}"#;
        assert_eq!(diff(Some(row), Some(moved)), vec![change("shard_name", Some("eu"), Some("us"))]);
        let made = r#"{"name":"web","shard_id":1,"shard_name":"eu","owner_id":4,"owner":"ann"}"#;
        let fields: Vec<String> = diff(None, Some(made)).into_iter().map(|c| c.field).collect();
        assert_eq!(fields, ["name", "owner", "shard_name"]);
        // An object and what came with it.
        assert_eq!(
            diff(None, Some(r#"[{"name":"web-farm"},["a.example.com","b.example.com"]]"#)),
            vec![
                change("name", None, Some("web-farm")),
                change("with", None, Some(r#"["a.example.com","b.example.com"]"#))
            ]
        );
    }
}
