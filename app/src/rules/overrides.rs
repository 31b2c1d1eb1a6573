//! Overrides (spec 2.1 and 2.2): a copy of a rule attached one level down, which the original
//! then excludes. A service may override a site rule; a project a site rule or a rule of its
//! own service.
//!
//! Decisions: a recording rule's override keeps the recorded name (the series must keep its
//! name for its users; the owner labels tell the copies apart), where an alert's override is
//! renamed `Name_owner` as in Promgen. An override whose expression is still the parent's,
//! rewritten, follows the parent's later edits ([`follows`]); one that was edited stands alone.

use super::exclude::{EXCLUDE, selector};
use crate::model::{Rule, RuleInput, RuleKind, RuleOwner};

/// Whether `target` may override a rule owned by `parent`; the error is Promgen's wording.
pub fn check_hierarchy(parent: &RuleOwner, target: &RuleOwner) -> Result<(), String> {
    match (parent, target) {
        (RuleOwner::Site { .. }, RuleOwner::Service { .. }) => Ok(()),
        (_, RuleOwner::Service { .. }) => Err("Service Rule must be inherited from a Site Rule.".into()),
        (RuleOwner::Site { .. }, RuleOwner::Project { .. }) => Ok(()),
        (RuleOwner::Service { id, .. }, RuleOwner::Project { service_id, .. }) if id == service_id => Ok(()),
        (_, RuleOwner::Project { .. }) => {
            Err("Project Rule must be inherited from a Site Rule or its parent Service Rule.".into())
        }
        (_, RuleOwner::Site { .. }) => Err("A site rule cannot override another rule.".into()),
    }
}

/// Django's `slugify` (ASCII): lower case, spaces and dashes to one `_`, other punctuation
/// and non-ASCII letters dropped.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut pending_sep = false;
    for c in name.to_lowercase().chars() {
        if c.is_whitespace() || c == '-' {
            pending_sep = true;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            if pending_sep && !out.is_empty() {
                out.push('_');
            }
            pending_sep = false;
            out.push(c);
        }
    }
    out.trim_matches('_').to_string()
}

/// An override's name: `DiskFull_test_service` for an alert; the same name for a recording.
pub fn override_name(parent: &Rule, target: &RuleOwner) -> String {
    if parent.kind == RuleKind::Record {
        return parent.name.clone();
    }
    let slug = slug(target.name());
    if slug.is_empty() {
        format!("{}_{}_{}", parent.name, target.kind().as_str(), target.id())
    } else {
        format!("{}_{slug}", parent.name)
    }
}

/// The parent's expression narrowed to `target`: `<exclude>` becomes `service="x",<exclude>`,
/// so the copy selects only the target's series and can itself be overridden further down.
pub fn override_expr(parent_expr: &str, target: &RuleOwner) -> String {
    parent_expr.replace(EXCLUDE, &format!("{},{EXCLUDE}", selector(target)))
}

/// The override `target` gets of `parent`, before the user changes anything: enabled, the
/// parent's labels, annotations, `for` and description.
pub fn draft(parent: &Rule, target: &RuleOwner) -> RuleInput {
    RuleInput {
        kind: parent.kind,
        name: override_name(parent, target),
        expr: override_expr(&parent.expr, target),
        duration: parent.duration.clone(),
        enabled: true,
        description: parent.description.clone(),
        labels: super::labels::user_labels(parent.labels.clone()),
        annotations: parent.annotations.clone(),
    }
}

/// Whether `child` still carries `parent_expr` as its override rewrote it; such a child takes
/// the parent's next expression too.
pub fn follows(child: &Rule, parent_expr: &str) -> bool {
    child.expr == override_expr(parent_expr, &child.owner)
}

/// Whether the parent's expression has the macro its overrides rely on.
pub fn has_exclude(expr: &str) -> bool {
    expr.contains(EXCLUDE)
}

#[cfg(test)]
mod tests {
    use super::super::exclude::expand;
    use super::*;
    use crate::model::{LabelMap, ProjectId, RuleId, ServiceId};

    fn rule(name: &str, expr: &str, owner: RuleOwner) -> Rule {
        Rule {
            id: RuleId(1),
            kind: RuleKind::Alert,
            name: name.into(),
            expr: expr.into(),
            duration: "1s".into(),
            enabled: true,
            description: String::new(),
            labels: LabelMap::new(),
            annotations: LabelMap::new(),
            parent: None,
            owner,
        }
    }

    fn site() -> RuleOwner {
        RuleOwner::Site { domain: "promgen.example.com".into() }
    }
    fn service() -> RuleOwner {
        RuleOwner::Service { id: ServiceId(1), name: "test-service".into() }
    }
    fn project() -> RuleOwner {
        RuleOwner::Project {
            id: ProjectId(1),
            name: "test-project".into(),
            service_id: ServiceId(1),
            service: "test-service".into(),
        }
    }

    /// Spec 2.6, example A (`test_alert_rules.py::test_macro`).
    #[test]
    fn promgen_example_a() {
        let common = rule("Common", "up{<exclude>}", site());
        let s = draft(&common, &service());
        assert_eq!(s.expr, r#"up{service="test-service",<exclude>}"#);
        assert_eq!(s.name, "Common_test_service");
        let service_rule = Rule {
            id: RuleId(2),
            name: s.name,
            expr: s.expr,
            parent: Some(RuleId(1)),
            owner: service(),
            ..common.clone()
        };
        let p = draft(&service_rule, &project());
        assert_eq!(p.expr, r#"up{service="test-service",project="test-project",<exclude>}"#);
        assert_eq!(expand(&common.expr, &[service()]).text, r#"up{service!~"test-service"}"#);
        assert_eq!(
            expand(&service_rule.expr, &[project()]).text,
            r#"up{service="test-service",project!~"test-project"}"#
        );
        assert_eq!(expand(&p.expr, &[]).text, r#"up{service="test-service",project="test-project",}"#);
    }

    #[test]
    fn only_down_the_hierarchy() {
        assert!(check_hierarchy(&site(), &service()).is_ok());
        assert!(check_hierarchy(&site(), &project()).is_ok());
        assert!(check_hierarchy(&service(), &project()).is_ok());
        let other = RuleOwner::Service { id: ServiceId(9), name: "other".into() };
        assert!(check_hierarchy(&other, &project()).unwrap_err().contains("its parent Service Rule"));
        assert!(check_hierarchy(&service(), &service()).unwrap_err().contains("Site Rule"));
        assert!(check_hierarchy(&project(), &project()).is_err());
    }

    #[test]
    fn slugs_as_django() {
        assert_eq!(slug("test-service"), "test_service");
        assert_eq!(slug("  Web  API -- v2 "), "web_api_v2");
        assert_eq!(slug("日本語"), "");
        let r = rule("A", "x", site());
        assert_eq!(override_name(&r, &RuleOwner::Service { id: ServiceId(3), name: "日本語".into() }), "A_service_3");
    }

    #[test]
    fn untouched_overrides_follow_their_parent() {
        let parent = rule("A", "up{<exclude>} == 0", site());
        let mut child = rule("A_test_service", &override_expr(&parent.expr, &service()), service());
        assert!(follows(&child, &parent.expr));
        child.expr.push_str(" and on() vector(1)");
        assert!(!follows(&child, &parent.expr));
    }
}
