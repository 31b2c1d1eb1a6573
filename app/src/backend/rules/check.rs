//! Prometheus rule files checked as a Prometheus of a given version would load them, with the
//! engine the editor and the save use (`promgen check-rules FILE…`): the shape of the file
//! (`model/rulefmt` of Prometheus: unknown keys refused, group names unique), each rule's
//! name, expression, result type, durations, labels and templates. Every fault is reported
//! with the line and column of the YAML node it is about.
//!
//! The YAML is read with saphyr-parser (events with positions) after the nesting guard of
//! [`crate::backend::yaml`]; only the file's first document counts, as in Prometheus.

use super::edit::validated;
use crate::model::*;
use crate::rules::promql::dialect::v;
use crate::rules::promql::{Dialect, Version};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// One fault of a rule file: where (1-based line and column) and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl std::fmt::Display for Fault {
    /// `line:col: message`, as promtool prints a rule file's fault after the file name.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)
    }
}

/// What a file holds once checked: its faults (none when Prometheus would load it) and how
/// many rules it has.
#[derive(Clone, Debug, Default)]
pub struct FileVerdict {
    pub faults: Vec<Fault>,
    pub rules: usize,
}

/// A YAML node with where it starts.
#[derive(Debug)]
enum Node {
    Scalar { text: String, quoted: bool, at: (usize, usize) },
    Seq { items: Vec<Node>, at: (usize, usize) },
    Map { entries: Vec<(Node, Node)>, at: (usize, usize) },
    Alias { at: (usize, usize) },
}

impl Node {
    fn at(&self) -> (usize, usize) {
        match self {
            Node::Scalar { at, .. } | Node::Seq { at, .. } | Node::Map { at, .. } | Node::Alias { at } => *at,
        }
    }

    /// A plain `null`, `~` or empty scalar.
    fn is_null(&self) -> bool {
        matches!(self, Node::Scalar { text, quoted: false, .. } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    fn kind(&self) -> &'static str {
        match self {
            Node::Scalar { .. } => "a scalar",
            Node::Seq { .. } => "a list",
            Node::Map { .. } => "a mapping",
            Node::Alias { .. } => "an alias",
        }
    }
}

fn position(span: &Span) -> (usize, usize) {
    // saphyr's line is 1-based, its column 0-based.
    (span.start.line(), span.start.col() + 1)
}

/// A collection being read: its items so far, and for a mapping the key waiting for its value.
enum Open {
    Seq(Vec<Node>, (usize, usize)),
    Map(Vec<(Node, Node)>, Option<Node>, (usize, usize)),
}

/// The file's first document as a tree. Nesting is bounded by the guard run before.
fn load(text: &str) -> Result<Option<Node>, Fault> {
    let mut stack: Vec<Open> = Vec::new();
    for event in Parser::new_from_str(crate::backend::yaml::without_bom(text)) {
        let (event, span) = event.map_err(|e| Fault {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: format!("YAML: {}", e.info()),
        })?;
        let at = position(&span);
        let node = match event {
            Event::Scalar(value, style, _, _) => {
                Node::Scalar { text: value.into_owned(), quoted: style != ScalarStyle::Plain, at }
            }
            Event::Alias(_) => Node::Alias { at },
            Event::SequenceStart(..) => {
                stack.push(Open::Seq(Vec::new(), at));
                continue;
            }
            Event::MappingStart(..) => {
                stack.push(Open::Map(Vec::new(), None, at));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Open::Seq(items, at)) => Node::Seq { items, at },
                Some(Open::Map(entries, _, at)) => Node::Map { entries, at },
                None => continue,
            },
            Event::DocumentEnd => break,
            _ => continue,
        };
        match stack.last_mut() {
            None => return Ok(Some(node)),
            Some(Open::Seq(items, _)) => items.push(node),
            Some(Open::Map(entries, key, _)) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
        }
    }
    Ok(None)
}

/// The keys a group may have, and the first Prometheus that knows each.
const GROUP_KEYS: [(&str, Version); 6] = [
    ("name", v(2, 0)),
    ("interval", v(2, 0)),
    ("rules", v(2, 0)),
    ("limit", v(2, 31)),
    ("query_offset", v(2, 53)),
    ("labels", v(3, 0)),
];

/// The keys a rule may have, and the first Prometheus that knows each.
const RULE_KEYS: [(&str, Version); 7] = [
    ("alert", v(2, 0)),
    ("record", v(2, 0)),
    ("expr", v(2, 0)),
    ("for", v(2, 0)),
    ("labels", v(2, 0)),
    ("annotations", v(2, 0)),
    ("keep_firing_for", v(2, 42)),
];

struct Checker {
    dialect: Dialect,
    faults: Vec<Fault>,
}

impl Checker {
    fn fault(&mut self, at: (usize, usize), message: impl Into<String>) {
        self.faults.push(Fault { line: at.0, col: at.1, message: message.into() });
    }

    /// The entries of a mapping with string keys; faults for repeated and unknown keys.
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[(&str, Version)],
    ) -> Option<HashMap<&'n str, &'n Node>> {
        let Node::Map { entries, .. } = node else {
            self.fault(node.at(), format!("{what} must be a mapping, not {}", node.kind()));
            return None;
        };
        let mut out = HashMap::new();
        for (key, value) in entries {
            let Node::Scalar { text, .. } = key else {
                self.fault(key.at(), format!("{what}: a key must be text, not {}", key.kind()));
                continue;
            };
            match known.iter().find(|(k, _)| k == text) {
                None => self.fault(key.at(), format!("{what}: field {text} is not known to Prometheus")),
                Some((_, since)) if self.dialect.version < *since => self.fault(
                    key.at(),
                    format!(
                        "{what}: field {text} needs Prometheus {since} or newer, and this file is checked for Prometheus {}",
                        self.dialect.version
                    ),
                ),
                Some(_) => {}
            }
            if out.insert(text.as_str(), value).is_some() {
                self.fault(key.at(), format!("{what}: field {text} is repeated"));
            }
        }
        Some(out)
    }

    /// A scalar's text; a fault when the node is a collection.
    fn text<'n>(&mut self, node: &'n Node, what: &str) -> Option<&'n str> {
        match node {
            Node::Scalar { text, .. } => Some(text),
            other => {
                self.fault(other.at(), format!("{what} must be text, not {}", other.kind()));
                None
            }
        }
    }

    fn duration(&mut self, node: &Node, what: &str) {
        if let Some(text) = self.text(node, what)
            && let Err(e) = crate::model::duration::parse_duration(text)
        {
            self.fault(node.at(), format!("{what}: {e}"));
        }
    }

    /// A map of label or annotation names to text; null values are left out, as Prometheus does.
    fn text_map(&mut self, node: &Node, what: &str) -> (LabelMap, HashMap<String, (usize, usize)>) {
        let (mut map, mut at) = (LabelMap::new(), HashMap::new());
        if node.is_null() {
            return (map, at);
        }
        let Node::Map { entries, .. } = node else {
            self.fault(node.at(), format!("{what} must be a mapping, not {}", node.kind()));
            return (map, at);
        };
        let mut seen = std::collections::HashSet::new();
        for (key, value) in entries {
            let Some(k) = self.text(key, what) else { continue };
            if !seen.insert(k) {
                self.fault(key.at(), format!("{what}: {k} is repeated"));
                continue;
            }
            if value.is_null() {
                continue;
            }
            if let Some(v) = self.text(value, &format!("{what} {k}")) {
                map.insert(k.to_string(), v.to_string());
                at.insert(k.to_string(), value.at());
            }
        }
        (map, at)
    }

    fn file(&mut self, root: &Node) -> usize {
        let Some(top) = self.mapping(root, "the file", &[("groups", v(2, 0))]) else { return 0 };
        let Some(groups) = top.get("groups") else { return 0 };
        if groups.is_null() {
            return 0;
        }
        let Node::Seq { items, .. } = groups else {
            self.fault(groups.at(), format!("groups must be a list, not {}", groups.kind()));
            return 0;
        };
        let mut names: HashMap<String, (usize, usize)> = HashMap::new();
        let mut rules = 0;
        for (g, group) in items.iter().enumerate() {
            let place = format!("group #{}", g + 1);
            let Some(fields) = self.mapping(group, &place, &GROUP_KEYS) else { continue };
            let name = match fields.get("name").map(|n| (self.text(n, &place), n.at())) {
                Some((Some(name), at)) if !name.is_empty() => {
                    if let Some(first) = names.insert(name.to_string(), at) {
                        self.fault(at, format!("group name {name:?} is repeated (first at line {})", first.0));
                    }
                    name.to_string()
                }
                Some((Some(_), at)) => {
                    self.fault(at, format!("{place}: the group name is empty"));
                    place.clone()
                }
                Some((None, _)) => place.clone(),
                None => {
                    self.fault(group.at(), format!("{place}: the group has no name"));
                    place.clone()
                }
            };
            let place = format!("group {name:?}");
            for key in ["interval", "query_offset"] {
                if let Some(node) = fields.get(key) {
                    self.duration(node, &format!("{place}: {key}"));
                }
            }
            if let Some(limit) = fields.get("limit")
                && let Some(text) = self.text(limit, &format!("{place}: limit"))
                && text.parse::<u64>().is_err()
            {
                self.fault(limit.at(), format!("{place}: limit: {text:?} is not a whole number"));
            }
            if let Some(labels) = fields.get("labels") {
                let (map, at) = self.text_map(labels, &format!("{place}: labels"));
                for name in map.keys() {
                    if let Err(e) = crate::model::rules::label_name(&format!("labels.{name}"), name) {
                        self.fault(at[name], format!("{place}: {e}"));
                    }
                }
            }
            match fields.get("rules") {
                Some(Node::Seq { items, .. }) => {
                    for (i, rule) in items.iter().enumerate() {
                        self.rule(rule, &format!("{place}, rule {}", i + 1));
                        rules += 1;
                    }
                }
                Some(node) if node.is_null() => {}
                Some(node) => self.fault(node.at(), format!("{place}: rules must be a list, not {}", node.kind())),
                None => {}
            }
        }
        rules
    }

    fn rule(&mut self, node: &Node, place: &str) {
        let Some(fields) = self.mapping(node, place, &RULE_KEYS) else { return };
        let (kind, name_node) = match (fields.get("alert"), fields.get("record")) {
            (Some(n), None) => (RuleKind::Alert, *n),
            (None, Some(n)) => (RuleKind::Record, *n),
            _ => return self.fault(node.at(), format!("{place}: a rule needs exactly one of alert: or record:")),
        };
        let Some(name) = self.text(name_node, &format!("{place}: the name")) else { return };
        let place = format!("{place} ({name})");
        let Some(expr_node) = fields.get("expr") else {
            return self.fault(node.at(), format!("{place}: the rule has no expr"));
        };
        let Some(expr) = self.text(expr_node, &format!("{place}: expr")) else { return };
        if let Some(keep) = fields.get("keep_firing_for") {
            if kind == RuleKind::Record {
                self.fault(keep.at(), format!("{place}: a recording rule has no keep_firing_for"));
            } else {
                self.duration(keep, &format!("{place}: keep_firing_for"));
            }
        }
        let duration = match fields.get("for") {
            Some(n) if !n.is_null() => self.text(n, &format!("{place}: for")).unwrap_or_default().to_string(),
            _ => String::new(),
        };
        let (labels, label_at) =
            fields.get("labels").map(|n| self.text_map(n, &format!("{place}: labels"))).unwrap_or_default();
        let (annotations, annotation_at) =
            fields.get("annotations").map(|n| self.text_map(n, &format!("{place}: annotations"))).unwrap_or_default();
        let input = RuleInput {
            kind,
            name: name.to_string(),
            expr: expr.to_string(),
            duration,
            enabled: true,
            description: String::new(),
            labels,
            annotations,
        };
        if let Err(e) = validated(input, &[], self.dialect) {
            // The fault goes where the field it names is; a template's fault names its key.
            let message = e.to_string();
            let named = |at: &HashMap<String, (usize, usize)>| {
                at.iter().find(|(k, _)| message.contains(&format!("{k:?}"))).map(|(_, at)| *at)
            };
            let at = match e.field() {
                Some("labels") if let Some(at) = named(&label_at) => at,
                Some("annotations") if let Some(at) = named(&annotation_at) => at,
                Some("name") => name_node.at(),
                Some("expr") => expr_node.at(),
                Some("duration") => fields.get("for").map_or(node.at(), |n| n.at()),
                Some(f) => f
                    .strip_prefix("labels.")
                    .and_then(|k| label_at.get(k))
                    .or_else(|| f.strip_prefix("annotations.").and_then(|k| annotation_at.get(k)))
                    .copied()
                    .or_else(|| fields.get(f).map(|n| n.at()))
                    .unwrap_or(node.at()),
                None => node.at(),
            };
            self.fault(at, format!("{place}: {message}"));
        }
    }
}

/// Checks a rule file's text for a Prometheus of `dialect`. Faults come in file order.
/// CPU-bound: callers on the server run it on the CPU pool.
pub fn check_file(text: &str, dialect: Dialect) -> FileVerdict {
    let mut checker = Checker { dialect, faults: Vec::new() };
    if let Err(e) = crate::backend::yaml::check_nesting(text) {
        // The guard says `line N: …`.
        let line = e.strip_prefix("line ").and_then(|r| r.split(':').next()).and_then(|n| n.parse().ok());
        let message = e.split_once(": ").filter(|_| line.is_some()).map_or(e.clone(), |(_, m)| m.to_string());
        checker.fault((line.unwrap_or(1), 1), message);
        return FileVerdict { faults: checker.faults, rules: 0 };
    }
    let rules = match load(text) {
        Ok(Some(root)) if !root.is_null() => checker.file(&root),
        Ok(_) => 0,
        Err(fault) => {
            checker.faults.push(fault);
            0
        }
    };
    checker.faults.sort_by_key(|f| (f.line, f.col));
    FileVerdict { faults: checker.faults, rules }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(text: &str, version: Version) -> Vec<String> {
        check_file(text, Dialect::of(version)).faults.iter().map(Fault::to_string).collect()
    }

    #[test]
    fn a_good_file_has_no_faults() {
        let text = "groups:\n- name: g\n  interval: 1m\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n    \
                    labels: {severity: page, version: 1.10}\n    annotations:\n      summary: '{{ $labels.instance }} is down'\n  \
                    - record: job:up:sum\n    expr: sum by (job) (up)\n";
        let verdict = check_file(text, Dialect::of(Version::OLDEST));
        assert_eq!(verdict.faults, vec![]);
        assert_eq!(verdict.rules, 2);
        assert_eq!(faults("", Version::OLDEST), Vec::<String>::new());
        assert_eq!(faults("groups: []\n", Version::OLDEST), Vec::<String>::new());
    }

    #[test]
    fn each_fault_is_where_its_node_is() {
        let text = "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up ==\n  - alert: Bad\n    expr: up\n    \
                    annotations:\n      summary: '{{$label.foo}}'\n- name: g\n  rules:\n  - record: x\n    expr: up\n    for: 5m\n";
        let got = faults(text, Version::OLDEST);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert!(got[0].starts_with("5:11: group \"g\", rule 1 (Down): Expression: "), "{got:#?}");
        assert!(got[1].starts_with("9:16: group \"g\", rule 2 (Bad): "), "{got:#?}");
        assert!(got[1].contains("summary"), "{got:#?}");
        assert_eq!(got[2], "10:9: group name \"g\" is repeated (first at line 2)");
        assert!(got[3].starts_with("14:10: group \"g\", rule 1 (x): For: "), "{got:#?}");
    }

    #[test]
    fn the_dialect_decides() {
        let text = "groups:\n- name: g\n  query_offset: 1m\n  rules:\n  - alert: A\n    expr: '{\"up\"} == 0'\n";
        let old = faults(text, Version::OLDEST);
        assert_eq!(old.len(), 2, "{old:#?}");
        assert!(old[0].starts_with("3:3: group #1: field query_offset needs Prometheus 2.53"), "{old:#?}");
        assert!(old[1].starts_with("6:11: ") && old[1].contains("needs Prometheus 3.0"), "{old:#?}");
        assert_eq!(faults(text, Version::NEWEST), Vec::<String>::new());
    }

    #[test]
    fn shape_faults_are_named() {
        let got =
            faults("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    severity: page\n", Version::OLDEST);
        assert_eq!(got, ["6:5: group \"g\", rule 1: field severity is not known to Prometheus"]);
        let got = faults("groups:\n- name: g\n  rules:\n  - alert: A\n    record: b\n    expr: up\n", Version::OLDEST);
        assert_eq!(got, ["4:5: group \"g\", rule 1: a rule needs exactly one of alert: or record:"]);
        let got = faults("groups: [\n", Version::OLDEST);
        assert_eq!(got.len(), 1);
        assert!(got[0].contains("YAML: "), "{got:?}");
        let got = faults(
            "\u{feff}groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels: {a: x, a: y}\n---\n",
            Version::OLDEST,
        );
        assert_eq!(got, ["6:20: group \"g\", rule 1 (A): labels: a is repeated"]);
        let got = faults("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\u{0}\n", Version::OLDEST);
        assert_eq!(got, ["5:1: the YAML holds the control character U+0000, which YAML does not allow"]);
        let got = faults(&format!("groups: {}", "[".repeat(100)), Version::OLDEST);
        assert!(got[0].starts_with("1:1: the YAML nests more than"), "{got:?}");
    }
}
