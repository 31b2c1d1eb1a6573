//! What the rule editor shows on every keystroke: the rule as Prometheus will receive it, the
//! rules the edit rewrites (the parent, which excludes this rule's owner; the overrides that
//! follow this rule's expression) and the siblings beside it, and the rule file entry. Pure, so
//! the browser runs it without a round trip and the tests run it without a browser.

use super::{ExprError, check_expr, overrides, render};
use crate::model::{Rule, RuleContext, RuleId, RuleInput, RuleKind, RuleOwner};

#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// This rule's expansion, or where its expression is wrong.
    pub expr: Result<String, ExprError>,
    /// The first field the form would be refused for, other than the expression.
    pub problem: Option<String>,
    /// The rule's entry in the rule file.
    pub yaml: String,
    pub parent: Option<Related>,
    pub siblings: Vec<Related>,
    /// The overrides that take this expression along when saved with "follow".
    pub followers: Vec<Related>,
}

/// Another rule, as this edit leaves it.
#[derive(Clone, Debug, PartialEq)]
pub struct Related {
    pub id: RuleId,
    pub name: String,
    pub owner: String,
    pub expr: Result<String, ExprError>,
}

fn related(rule: &Rule, expr: &str, children: &[RuleOwner]) -> Related {
    Related {
        id: rule.id,
        name: rule.name.clone(),
        owner: rule.owner.describe(),
        expr: check_expr(rule.kind, expr, children),
    }
}

pub fn preview(ctx: &RuleContext, input: &RuleInput, follow: bool) -> Preview {
    let expr = check_expr(input.kind, &input.expr, &ctx.children);
    let problem = match input.clone().clean() {
        Err(e) if e.field != "expr" => Some(e.to_string()),
        _ => None,
    };
    let draft = Rule {
        id: ctx.rule.as_ref().map_or(RuleId(0), |r| r.id),
        kind: input.kind,
        name: input.name.trim().to_string(),
        expr: input.expr.clone(),
        duration: if input.kind == RuleKind::Alert { input.duration.trim().to_string() } else { String::new() },
        enabled: input.enabled,
        description: input.description.clone(),
        labels: input
            .labels
            .iter()
            .filter(|(k, _)| !k.trim().is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        annotations: if input.kind == RuleKind::Alert {
            input
                .annotations
                .iter()
                .filter(|(k, _)| !k.trim().is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        } else {
            Default::default()
        },
        parent: ctx.parent.as_ref().map(|p| p.rule.id),
        owner: ctx.owner.clone(),
    };
    let yaml = render::render_one(&draft, &ctx.children, &ctx.site);
    let parent = ctx.parent.as_ref().map(|p| related(&p.rule, &p.rule.expr, &p.children));
    let own_id = ctx.rule.as_ref().map(|r| r.id);
    let siblings = ctx
        .parent
        .as_ref()
        .map(|p| {
            p.siblings
                .iter()
                .filter(|(s, _)| Some(s.id) != own_id)
                .map(|(s, children)| related(s, &s.expr, children))
                .collect()
        })
        .unwrap_or_default();
    let followers = if follow {
        ctx.followers
            .iter()
            .map(|(f, children)| related(f, &overrides::override_expr(&input.expr, &f.owner), children))
            .collect()
    } else {
        Vec::new()
    };
    Preview { expr, problem, yaml, parent, siblings, followers }
}

/// The line of `expr` an error is on, and the caret under its column, for display.
pub fn caret(expr: &str, error: &ExprError) -> (String, String) {
    let start = error.start.min(expr.len());
    let line_start = expr[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = expr[start..].find('\n').map_or(expr.len(), |i| start + i);
    let col = expr[line_start..start].chars().count();
    let width = expr.get(start..error.end.min(line_end)).map_or(1, |s| s.chars().count().max(1));
    (expr[line_start..line_end].to_string(), format!("{}{}", " ".repeat(col), "^".repeat(width)))
}

/// Whether the parent of an override lacks `<exclude>`: then it keeps firing for this owner.
pub fn parent_lacks_exclude(ctx: &RuleContext) -> bool {
    ctx.parent.as_ref().is_some_and(|p| !overrides::has_exclude(&p.rule.expr))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LabelMap, ParentContext, ServiceId, Site};

    fn rule(id: i64, name: &str, expr: &str, owner: RuleOwner, parent: Option<i64>) -> Rule {
        Rule {
            id: RuleId(id),
            kind: RuleKind::Alert,
            name: name.into(),
            expr: expr.into(),
            duration: "5m".into(),
            enabled: true,
            description: String::new(),
            labels: LabelMap::new(),
            annotations: LabelMap::new(),
            parent: parent.map(RuleId),
            owner,
        }
    }

    fn service(id: i64, name: &str) -> RuleOwner {
        RuleOwner::Service { id: ServiceId(id), name: name.into() }
    }

    #[test]
    fn an_override_shows_its_parent_rewritten_and_its_siblings() {
        let site = RuleOwner::Site { domain: "p.example".into() };
        let parent = rule(1, "Down", "up{<exclude>} == 0", site, None);
        let sibling = rule(2, "Down_api", "up{service=\"api\",<exclude>} == 0", service(2, "api"), Some(1));
        let ctx = RuleContext {
            rule: None,
            owner: service(1, "web"),
            children: Vec::new(),
            parent: Some(ParentContext {
                rule: parent.clone(),
                children: vec![service(2, "api"), service(1, "web")],
                siblings: vec![(sibling, Vec::new())],
            }),
            followers: Vec::new(),
            site: Site { domain: "p.example".into(), scheme: "https".into() },
            can_edit: true,
        };
        let input = overrides::draft(&parent, &service(1, "web"));
        let p = preview(&ctx, &input, false);
        assert_eq!(p.expr.unwrap(), "up{service=\"web\",} == 0");
        assert_eq!(p.parent.unwrap().expr.unwrap(), "up{service!~\"web|api\"} == 0");
        assert_eq!(p.siblings[0].expr.as_ref().unwrap(), "up{service=\"api\",} == 0");
        assert!(p.yaml.contains("- name: web\n") && p.yaml.contains("rule: https://p.example/rule/0"), "{}", p.yaml);
        assert_eq!(p.problem, None);
        let broken = RuleInput { expr: "up{<exclude>} ==".into(), name: "bad name".into(), ..input };
        let p = preview(&ctx, &broken, false);
        let e = p.expr.unwrap_err();
        assert_eq!(caret(&broken.expr, &e), ("up{<exclude>} ==".to_string(), "                ^".to_string()));
        assert!(p.problem.unwrap().starts_with("name:"));
    }

    #[test]
    fn followers_take_the_expression_being_typed() {
        let site = RuleOwner::Site { domain: "d".into() };
        let parent = rule(1, "Slow", "latency{<exclude>} > 1", site.clone(), None);
        let follower = rule(2, "Slow_web", "latency{service=\"web\",<exclude>} > 1", service(1, "web"), Some(1));
        let ctx = RuleContext {
            rule: Some(parent.clone()),
            owner: site,
            children: vec![service(1, "web")],
            parent: None,
            followers: vec![(follower, Vec::new())],
            site: Site::default(),
            can_edit: true,
        };
        let input = RuleInput { expr: "latency{<exclude>} > 3".into(), ..RuleInput::from_rule(&parent) };
        let p = preview(&ctx, &input, true);
        assert_eq!(p.expr.unwrap(), "latency{service!~\"web\"} > 3");
        assert_eq!(p.followers[0].expr.as_ref().unwrap(), "latency{service=\"web\",} > 3");
        assert!(preview(&ctx, &input, false).followers.is_empty());
    }
}
