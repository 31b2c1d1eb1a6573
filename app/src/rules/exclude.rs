//! The `<exclude>` macro (spec 2.3): where a rule's expression says `<exclude>`, Prometheus
//! receives one negative regex matcher per kind of owner that overrides the rule, so the rule
//! stops firing for the services and projects that have their own version of it.
//!
//! Decisions on Promgen's quirks (spec 12, Q2):
//! - Names are regex-escaped and string-escaped. Promgen pastes them raw; with the names its
//!   validator allows (letters, digits, `_`, `-`, spaces) both give the same bytes, and a
//!   name imported with a `.` or `+` no longer turns into a wildcard.
//! - Every direct override counts, enabled or not: disabling an override is how a team turns
//!   a site rule off for itself, so the parent must keep excluding it.
//! - Only direct overrides count: a project's override of its service's rule is excluded by
//!   that service rule, whose own `service="x"` selector already keeps it out of the site rule.
//! - No overrides leave an empty macro, and Promgen's trailing comma (`{service="a",}`) stays:
//!   it is valid PromQL and keeps the file byte-identical to Promgen's.

use crate::model::{OwnerKind, RuleOwner};

pub const EXCLUDE: &str = "<exclude>";

/// The matchers `<exclude>` becomes for rules overridden by `children`: `project!~"a|b",
/// service!~"c"`, one per owner kind, names in the order of their owners' ids.
pub fn exclusion(children: &[RuleOwner]) -> String {
    let mut by_kind: Vec<(OwnerKind, i64, &str)> =
        children.iter().filter(|c| c.kind() != OwnerKind::Site).map(|c| (c.kind(), c.id(), c.name())).collect();
    by_kind.sort();
    by_kind.dedup();
    let mut matchers: Vec<String> = Vec::new();
    for kind in [OwnerKind::Project, OwnerKind::Service] {
        let names: Vec<String> = by_kind.iter().filter(|c| c.0 == kind).map(|c| regex_escape(c.2)).collect();
        if !names.is_empty() {
            matchers.push(format!("{}!~\"{}\"", kind.as_str(), string_escape(&names.join("|"))));
        }
    }
    matchers.join(",")
}

/// The matcher an override puts in front of `<exclude>`: `service="web"`.
pub fn selector(owner: &RuleOwner) -> String {
    format!("{}=\"{}\"", owner.kind().as_str(), string_escape(owner.name()))
}

/// Backslash before RE2's metacharacters.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The inside of a PromQL double-quoted string.
pub fn string_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// An expression with `<exclude>` expanded, and where each expansion landed, to point an
/// error in the expanded text back at what the user typed.
#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    pub text: String,
    /// (offset in the source, offset in the expansion, length of the expansion) per macro.
    spans: Vec<(usize, usize, usize)>,
}

impl Expansion {
    /// The source offset of `pos` in the expansion; inside an expanded macro, the macro.
    pub fn source_offset(&self, pos: usize) -> usize {
        let mut shift: isize = 0;
        for &(src, at, len) in &self.spans {
            if pos < at {
                break;
            }
            if pos < at + len {
                return src;
            }
            shift = (at + len) as isize - (src + EXCLUDE.len()) as isize;
        }
        (pos as isize - shift).max(0) as usize
    }
}

/// Replaces every `<exclude>` in `expr` with the exclusion of `children`.
pub fn expand(expr: &str, children: &[RuleOwner]) -> Expansion {
    if !expr.contains(EXCLUDE) {
        return Expansion { text: expr.to_string(), spans: Vec::new() };
    }
    expand_with(expr, &exclusion(children))
}

/// Replaces every `<exclude>` in `expr` with `macro_text`, an [`exclusion`] made beforehand
/// (the editor makes it once, not at every keystroke).
pub fn expand_with(expr: &str, macro_text: &str) -> Expansion {
    let mut text = String::with_capacity(expr.len() + macro_text.len());
    let mut spans = Vec::new();
    let mut rest = expr;
    let mut consumed = 0;
    while let Some(i) = rest.find(EXCLUDE) {
        text.push_str(&rest[..i]);
        spans.push((consumed + i, text.len(), macro_text.len()));
        text.push_str(macro_text);
        consumed += i + EXCLUDE.len();
        rest = &rest[i + EXCLUDE.len()..];
    }
    text.push_str(rest);
    Expansion { text, spans }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProjectId, ServiceId};

    pub fn service(id: i64, name: &str) -> RuleOwner {
        RuleOwner::Service { id: ServiceId(id), name: name.into() }
    }

    pub fn project(id: i64, name: &str, service: &str) -> RuleOwner {
        RuleOwner::Project { id: ProjectId(id), name: name.into(), service_id: ServiceId(1), service: service.into() }
    }

    #[test]
    fn one_matcher_per_kind_sorted_names_by_id() {
        let children = [service(2, "other-service"), project(1, "test-project", "x"), service(1, "test-service")];
        assert_eq!(exclusion(&children), r#"project!~"test-project",service!~"test-service|other-service""#);
        assert_eq!(exclusion(&[]), "");
        assert_eq!(expand("up{<exclude>}", &[]).text, "up{}");
        assert_eq!(
            expand("a{<exclude>} / b{<exclude>}", &children[..1]).text,
            r#"a{service!~"other-service"} / b{service!~"other-service"}"#
        );
    }

    #[test]
    fn names_cannot_become_wildcards() {
        assert_eq!(exclusion(&[service(1, "a.b+c")]), r#"service!~"a\\.b\\+c""#);
        assert_eq!(selector(&service(1, "we\"ird")), r#"service="we\"ird""#);
    }

    #[test]
    fn maps_expansion_offsets_back_to_the_source() {
        let e = expand("up{<exclude>} == bogus(", &[service(1, "web")]);
        assert_eq!(e.text, r#"up{service!~"web"} == bogus("#);
        let bogus = e.text.find("bogus").unwrap();
        assert_eq!(e.source_offset(bogus), "up{<exclude>} == ".len());
        assert_eq!(e.source_offset(5), 3, "inside the macro points at the macro");
        assert_eq!(e.source_offset(1), 1);
    }
}
