//! The rule engine, pure: `<exclude>` expansion, overrides, owner labels, rendering of
//! Prometheus rule files and PromQL checks. No I/O and no feature gates: the same code renders
//! `/api/v1/rules` on the server and the live preview in the browser.

pub mod exclude;
pub mod labels;
pub mod overrides;
pub mod pack;
pub mod preview;
pub mod promql;
pub mod render;
pub mod template;

#[cfg(test)]
mod robustness;

use crate::model::{RuleKind, RuleOwner};
use serde::{Deserialize, Serialize};

/// What is wrong with a rule's expression, pointed at the text the user typed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExprError {
    /// Byte span in the expression as written (with `<exclude>`).
    pub start: usize,
    pub end: usize,
    pub message: String,
}

impl ExprError {
    /// `line:col: message`, columns counted in characters of what was typed.
    pub fn describe(&self, expr: &str) -> String {
        promql::ParseError::new(self.start, self.end, self.message.clone()).describe(expr)
    }
}

/// Checks an alerting rule's label and annotation templates as Prometheus parses them (a
/// recording rule's are not templates); the error's field names the label or annotation
/// (`annotations.summary`: its value is at fault).
pub fn check_templates(
    kind: RuleKind,
    labels: &crate::model::LabelMap,
    annotations: &crate::model::LabelMap,
    dialect: promql::Dialect,
) -> Result<(), crate::model::validate::FieldError> {
    if kind != RuleKind::Alert {
        return Ok(());
    }
    for (field, map) in [("labels", labels), ("annotations", annotations)] {
        for (name, text) in map {
            template::check(text, dialect)
                .map_err(|e| crate::model::validate::FieldError::new(&format!("{field}.{name}"), e.describe(text)))?;
        }
    }
    Ok(())
}

/// Checks a rule's expression as the Prometheus of `dialect` will receive it: `<exclude>`
/// expanded for the rule's `overrides`, parsed and type-checked. Returns the expansion.
pub fn check_expr(
    kind: RuleKind,
    expr: &str,
    overrides: &[RuleOwner],
    dialect: promql::Dialect,
) -> Result<String, ExprError> {
    check_expanded(kind, expr, exclude::expand(expr, overrides), dialect)
}

/// [`check_expr`] of an expansion made beforehand (`exclude::expand_with`).
pub fn check_expanded(
    kind: RuleKind,
    expr: &str,
    expansion: exclude::Expansion,
    dialect: promql::Dialect,
) -> Result<String, ExprError> {
    let parsed = promql::parse_for(&expansion.text, dialect).map_err(|e| {
        let start = expansion.source_offset(e.start);
        let end = expansion.source_offset(e.end).max(start);
        let in_macro = expr.get(start..).is_some_and(|rest| rest.starts_with(exclude::EXCLUDE))
            && expansion.source_offset(e.start + 1) == start;
        let message = if in_macro { format!("{} (where <exclude> expands)", e.message) } else { e.message };
        ExprError { start, end, message }
    })?;
    let ty = parsed.value_type();
    if !matches!(ty, promql::ValueType::Vector | promql::ValueType::Scalar) {
        let what = if kind == RuleKind::Alert { "an alert" } else { "a recording rule" };
        return Err(ExprError {
            start: 0,
            end: expr.len(),
            message: format!("{what} needs an instant vector or a scalar, and this is a {ty}"),
        });
    }
    Ok(expansion.text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceId;

    #[test]
    fn errors_point_at_what_was_typed() {
        let web = RuleOwner::Service { id: ServiceId(1), name: "web".into() };
        let expr = "up{<exclude>} == bogus(1)";
        let e = check_expr(RuleKind::Alert, expr, std::slice::from_ref(&web), Default::default()).unwrap_err();
        assert_eq!(e.describe(expr), "1:18: unknown function with name \"bogus\"");
        assert_eq!(
            check_expr(RuleKind::Alert, "rate(up{<exclude>}[5m])", &[web], Default::default()).unwrap(),
            "rate(up{service!~\"web\"}[5m])"
        );
        let e = check_expr(RuleKind::Alert, "{<exclude>}", &[], Default::default()).unwrap_err();
        assert!(e.message.contains("non-empty matcher"), "{e:?}");
        let e = check_expr(RuleKind::Record, "up[5m]", &[], Default::default()).unwrap_err();
        assert!(e.message.contains("range vector"), "{e:?}");
    }
}
