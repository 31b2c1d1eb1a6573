//! What the rule editor shows on every keystroke: the rule as Prometheus will receive it, the
//! rules the edit rewrites (the parent, which excludes this rule's owner; the overrides that
//! follow this rule's expression) and the siblings beside it, and the rule file entry. Pure, so
//! the browser runs it without a round trip and the tests run it without a browser.

use super::promql::Dialect;
use super::{ExprError, check_expanded, check_expr, exclude, overrides, render};
use crate::model::{Rule, RuleContext, RuleId, RuleInput, RuleKind, RuleOwner};

#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// This rule's expansion, or where its expression is wrong.
    pub expr: Result<String, ExprError>,
    /// The first field the form would be refused for, other than the expression (its field
    /// says where it goes: `name`, `duration`, `labels`, `annotations.summary`, …).
    pub problem: Option<crate::model::validate::FieldError>,
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

fn related(rule: &Rule, expr: &str, children: &[RuleOwner], dialect: Dialect) -> Related {
    Related {
        id: rule.id,
        name: rule.name.clone(),
        owner: rule.owner.describe(),
        expr: check_expr(rule.kind, expr, children, dialect),
    }
}

/// An editor's context with what does not change while typing worked out once: the text
/// `<exclude>` becomes (a thousand names take a while to escape and join), and the parent's and
/// siblings' expansions.
pub struct Prepared {
    pub ctx: RuleContext,
    exclusion: String,
    parent: Option<Related>,
    siblings: Vec<Related>,
    /// Each follower with its own exclusion.
    followers: Vec<(Rule, String)>,
}

impl Prepared {
    pub fn new(ctx: RuleContext) -> Prepared {
        let own_id = ctx.rule.as_ref().map(|r| r.id);
        let dialect = ctx.dialect;
        let parent = ctx.parent.as_ref().map(|p| related(&p.rule, &p.rule.expr, &p.children, dialect));
        let siblings = ctx
            .parent
            .as_ref()
            .map(|p| {
                p.siblings
                    .iter()
                    .filter(|(s, _)| Some(s.id) != own_id)
                    .map(|(s, children)| related(s, &s.expr, children, dialect))
                    .collect()
            })
            .unwrap_or_default();
        let followers = ctx.followers.iter().map(|(f, children)| (f.clone(), exclude::exclusion(children))).collect();
        Prepared { exclusion: exclude::exclusion(&ctx.children), parent, siblings, followers, ctx }
    }
}

/// The preview of `input` in its context; `follow` as the editor's checkbox.
pub fn preview(prepared: &Prepared, input: &RuleInput, follow: bool) -> Preview {
    let ctx = &prepared.ctx;
    let expr =
        check_expanded(input.kind, &input.expr, exclude::expand_with(&input.expr, &prepared.exclusion), ctx.dialect);
    let problem = match input.clone().clean() {
        Err(e) if e.field != "expr" => Some(e),
        Err(_) => None,
        Ok(clean) => super::check_templates(clean.kind, &clean.labels, &clean.annotations, ctx.dialect).err(),
    };
    let alert = input.kind == RuleKind::Alert;
    let named = |m: &crate::model::LabelMap| {
        m.iter().filter(|(k, _)| !k.trim().is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect()
    };
    let draft = Rule {
        id: ctx.rule.as_ref().map_or(RuleId(0), |r| r.id),
        kind: input.kind,
        name: input.name.trim().to_string(),
        expr: input.expr.clone(),
        duration: if alert { input.duration.trim().to_string() } else { String::new() },
        enabled: input.enabled,
        description: input.description.clone(),
        labels: named(&input.labels),
        annotations: if alert { named(&input.annotations) } else { Default::default() },
        parent: ctx.parent.as_ref().map(|p| p.rule.id),
        owner: ctx.owner.clone(),
    };
    // The entry shows the expression as far as it goes, even while it does not parse.
    let expanded = match &expr {
        Ok(e) => e.clone(),
        Err(_) => exclude::expand_with(&input.expr, &prepared.exclusion).text,
    };
    let yaml = render::render_one_expanded(&draft, expanded, &ctx.site);
    let followers = if follow {
        prepared
            .followers
            .iter()
            .map(|(f, exclusion)| {
                let text = overrides::override_expr(&input.expr, &f.owner);
                Related {
                    id: f.id,
                    name: f.name.clone(),
                    owner: f.owner.describe(),
                    expr: check_expanded(f.kind, &text, exclude::expand_with(&text, exclusion), ctx.dialect),
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    Preview { expr, problem, yaml, parent: prepared.parent.clone(), siblings: prepared.siblings.clone(), followers }
}

/// The line of `expr` an error is on, and the caret under its column, for display.
pub fn caret(expr: &str, error: &ExprError) -> (String, String) {
    // Offsets are bytes; one inside a character points at that character.
    let start = expr.floor_char_boundary(error.start);
    let line_start = expr[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = expr[start..].find('\n').map_or(expr.len(), |i| start + i);
    let col = expr[line_start..start].chars().count();
    let end = expr.floor_char_boundary(error.end.min(line_end)).max(start);
    let width = expr[start..end].chars().count().max(1);
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
            site: Site { domain: "p.example".into(), scheme: "https".into(), external_url: None },
            can_edit: true,
            dialect: Default::default(),
            dialect_source: String::new(),
        };
        let input = overrides::draft(&parent, &service(1, "web"));
        let prepared = Prepared::new(ctx);
        let p = preview(&prepared, &input, false);
        assert_eq!(p.expr.unwrap(), "up{service=\"web\",} == 0");
        assert_eq!(p.parent.unwrap().expr.unwrap(), "up{service!~\"web|api\"} == 0");
        assert_eq!(p.siblings[0].expr.as_ref().unwrap(), "up{service=\"api\",} == 0");
        assert!(p.yaml.contains("- name: web\n") && p.yaml.contains("rule: https://p.example/rule/0"), "{}", p.yaml);
        assert_eq!(p.problem, None);
        let broken = RuleInput { expr: "up{<exclude>} ==".into(), name: "bad\tname".into(), ..input };
        let p = preview(&prepared, &broken, false);
        let e = p.expr.unwrap_err();
        assert_eq!(caret(&broken.expr, &e), ("up{<exclude>} ==".to_string(), "                ^".to_string()));
        assert!(p.problem.unwrap().to_string().starts_with("Name:"));
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
            dialect: Default::default(),
            dialect_source: String::new(),
        };
        let input = RuleInput { expr: "latency{<exclude>} > 3".into(), ..RuleInput::from_rule(&parent) };
        let prepared = Prepared::new(ctx);
        let p = preview(&prepared, &input, true);
        assert_eq!(p.expr.unwrap(), "latency{service!~\"web\"} > 3");
        assert_eq!(p.followers[0].expr.as_ref().unwrap(), "latency{service=\"web\",} > 3");
        assert!(preview(&prepared, &input, false).followers.is_empty());
    }
}
