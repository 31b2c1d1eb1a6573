//! Alert and recording rules (spec 1.11 and 2): owned by the Site, a Service or a Project; a
//! rule copied to a lower level with a parent link overrides it there.

use super::ids::*;
use super::validate::{Checked, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The label and annotation maps of a rule; sorted, as they are rendered.
pub type LabelMap = BTreeMap<String, String>;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// `alert:` with `for:`, labels and annotations.
    #[default]
    Alert,
    /// `record:`: the expression's result stored as a new series; labels only.
    Record,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Alert => "alert",
            RuleKind::Record => "record",
        }
    }

    pub fn parse(s: &str) -> Option<RuleKind> {
        match s {
            "alert" => Some(RuleKind::Alert),
            "record" => Some(RuleKind::Record),
            _ => None,
        }
    }
}

/// Which level of the hierarchy a rule belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OwnerKind {
    Site,
    Service,
    Project,
}

impl OwnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerKind::Site => "site",
            OwnerKind::Service => "service",
            OwnerKind::Project => "project",
        }
    }

    pub fn parse(s: &str) -> Option<OwnerKind> {
        match s {
            "site" => Some(OwnerKind::Site),
            "service" => Some(OwnerKind::Service),
            "project" => Some(OwnerKind::Project),
            _ => None,
        }
    }
}

/// The object a rule belongs to, with the names the engine needs: its own (the value of the
/// `service`/`project` label) and, for a project, its service's.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RuleOwner {
    /// The whole installation; `domain` names its group in the rule file.
    Site {
        domain: String,
    },
    Service {
        id: ServiceId,
        name: String,
    },
    Project {
        id: ProjectId,
        name: String,
        service_id: ServiceId,
        service: String,
    },
}

impl RuleOwner {
    pub fn kind(&self) -> OwnerKind {
        match self {
            RuleOwner::Site { .. } => OwnerKind::Site,
            RuleOwner::Service { .. } => OwnerKind::Service,
            RuleOwner::Project { .. } => OwnerKind::Project,
        }
    }

    /// The owner's id (1 for the site).
    pub fn id(&self) -> i64 {
        match self {
            RuleOwner::Site { .. } => 1,
            RuleOwner::Service { id, .. } => id.0,
            RuleOwner::Project { id, .. } => id.0,
        }
    }

    /// Whether both are the same object (names aside: a site is a site).
    pub fn same(&self, other: &RuleOwner) -> bool {
        self.kind() == other.kind() && self.id() == other.id()
    }

    /// The name users know the owner by.
    pub fn name(&self) -> &str {
        match self {
            RuleOwner::Site { domain } => domain,
            RuleOwner::Service { name, .. } | RuleOwner::Project { name, .. } => name,
        }
    }

    /// The group this owner's rules render into: the site's domain, the service's name, or
    /// `Service » Project`, as Promgen names them.
    pub fn group_name(&self) -> String {
        match self {
            RuleOwner::Site { domain } => domain.clone(),
            RuleOwner::Service { name, .. } => name.clone(),
            RuleOwner::Project { name, service, .. } => format!("{service} » {name}"),
        }
    }

    /// The page of the owner.
    pub fn href(&self) -> String {
        match self {
            RuleOwner::Site { .. } => "/site".into(),
            RuleOwner::Service { id, .. } => format!("/service/{id}"),
            RuleOwner::Project { id, .. } => format!("/project/{id}"),
        }
    }

    /// How a page names the owner: "site", "service web", "project web » frontend".
    pub fn describe(&self) -> String {
        match self {
            RuleOwner::Site { .. } => "site".into(),
            RuleOwner::Service { name, .. } => format!("service {name}"),
            RuleOwner::Project { name, service, .. } => format!("project {service} » {name}"),
        }
    }
}

/// A stored rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: RuleId,
    pub kind: RuleKind,
    pub name: String,
    /// PromQL, possibly with `<exclude>` where the children's exclusions go.
    pub expr: String,
    /// `for:` of an alert (a Prometheus duration); empty for none.
    pub duration: String,
    pub enabled: bool,
    pub description: String,
    /// Labels as the user set them; the owner's `service`/`project` labels are added on
    /// rendering (`rules::labels`).
    pub labels: LabelMap,
    /// Annotations as the user set them; `rule: <site>/rule/<id>` is added on rendering.
    pub annotations: LabelMap,
    pub parent: Option<RuleId>,
    pub owner: RuleOwner,
}

/// What the rule form sends. `clean()` checks every field the way Prometheus will read it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleInput {
    #[serde(default)]
    pub kind: RuleKind,
    pub name: String,
    pub expr: String,
    #[serde(default)]
    pub duration: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub labels: LabelMap,
    #[serde(default)]
    pub annotations: LabelMap,
}

fn yes() -> bool {
    true
}

impl RuleInput {
    /// The input of an existing rule, for editing it or restoring it.
    pub fn from_rule(r: &Rule) -> RuleInput {
        RuleInput {
            kind: r.kind,
            name: r.name.clone(),
            expr: r.expr.clone(),
            duration: r.duration.clone(),
            enabled: r.enabled,
            description: r.description.clone(),
            labels: r.labels.clone(),
            annotations: r.annotations.clone(),
        }
    }

    /// Validates and normalizes (trims) every field; the expression is checked by the caller
    /// with the engine, which knows the rule's children (`rules::check_expr`).
    pub fn clean(self) -> Checked<RuleInput> {
        let name = self.name.trim().to_string();
        match self.kind {
            RuleKind::Alert => alert_name(&name)?,
            RuleKind::Record => metric_name("name", &name)?,
        }
        let expr = super::validate::text("expr", &self.expr, super::validate::MAX_EXPR)?;
        if expr.is_empty() {
            return Err(FieldError::new("expr", super::validate::REQUIRED));
        }
        let duration = self.duration.trim().to_string();
        if self.kind == RuleKind::Record && !duration.is_empty() {
            return Err(FieldError::new("duration", "a recording rule has no `for`"));
        }
        if !duration.is_empty() {
            super::duration::parse_duration(&duration).map_err(|e| FieldError::new("duration", e))?;
        }
        let labels = clean_map("labels", self.labels)?;
        let annotations = clean_map("annotations", self.annotations)?;
        if self.kind == RuleKind::Record && !annotations.is_empty() {
            return Err(FieldError::new("annotations", "a recording rule has no annotations"));
        }
        Ok(RuleInput {
            kind: self.kind,
            name,
            expr,
            duration,
            enabled: self.enabled,
            description: super::validate::text("description", &self.description, super::validate::MAX_DESCRIPTION)?,
            labels,
            annotations,
        })
    }
}

/// An alert's name becomes its `alertname` label, whose value Prometheus takes as any text
/// (promtool checks only that there is one): Promgen's rules named `Test Rule` stay editable.
/// Control characters and invisible ones ([`super::validate::no_invisible`]) are refused, and
/// the length is bounded.
fn alert_name(name: &str) -> Checked<()> {
    if name.is_empty() {
        return Err(FieldError::new("name", super::validate::REQUIRED));
    }
    if name.chars().count() > 128 {
        return Err(FieldError::new("name", "must be at most 128 characters"));
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return Err(FieldError::new("name", format!("may not contain control characters like {c:?}")));
    }
    super::validate::no_invisible("name", name)
}

/// `^[a-zA-Z_:][a-zA-Z0-9_:]*$`, at most 128 characters.
pub fn metric_name(field: &str, name: &str) -> Checked<()> {
    if name.is_empty() {
        return Err(FieldError::new(field, super::validate::REQUIRED));
    }
    if name.len() > 128 {
        return Err(FieldError::new(field, "must be at most 128 characters"));
    }
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || c == ':';
    let mut chars = name.chars();
    if !chars.next().is_some_and(ok_first) {
        return Err(FieldError::new(field, "must start with a letter, _ or :"));
    }
    if let Some(bad) = chars.find(|&c| !(ok_first(c) || c.is_ascii_digit())) {
        return Err(FieldError::new(field, format!("may contain only letters, digits, _ and :, not {bad:?}")));
    }
    Ok(())
}

/// A label or annotation name: `^[a-zA-Z_][a-zA-Z0-9_]*$` (promtool refuses others).
pub fn label_name(field: &str, name: &str) -> Checked<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 127;
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            format!("{name:?} is not a label name: letters, digits and _, not starting with a digit"),
        ))
    }
}

fn clean_map(field: &str, map: LabelMap) -> Checked<LabelMap> {
    use super::validate::{MAX_LABEL_VALUE, MAX_LABELS};
    if map.len() > MAX_LABELS {
        return Err(FieldError::new(field, format!("at most {MAX_LABELS} (these are {})", map.len())));
    }
    let mut out = LabelMap::new();
    for (k, v) in map {
        if v.len() > MAX_LABEL_VALUE && v.chars().count() > MAX_LABEL_VALUE {
            return Err(FieldError::new(
                &format!("{field}.{}", k.trim()),
                format!("the value must be at most {MAX_LABEL_VALUE} characters"),
            ));
        }
        let k = k.trim().to_string();
        if k.is_empty() && v.trim().is_empty() {
            continue;
        }
        label_name(field, &k)?;
        if k.starts_with("__") {
            return Err(FieldError::new(field, format!("{k:?}: names starting with __ are reserved for Prometheus")));
        }
        out.insert(k, super::validate::lf_line_breaks(&v));
    }
    Ok(out)
}

/// A rule with what its page shows: the owner's permissions, its family and the rendering.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleDetail {
    pub rule: Rule,
    pub parent: Option<RuleSummary>,
    /// The rules that override this one, each with its own overrides.
    pub children: Vec<RuleTree>,
    pub can_edit: bool,
    /// Whether the reader may silence the rule's alerts: Editor or Admin on its service or
    /// project; for a site rule (silenced for a service or project), on any.
    #[serde(default)]
    pub may_silence: bool,
    /// The rule as Prometheus receives it (`<exclude>` expanded).
    pub expanded: String,
    /// The rule's entry in the rule file.
    pub yaml: String,
    /// Why the rule is left out of the rule file (Prometheus would refuse it), if it is.
    #[serde(default)]
    pub left_out: Option<String>,
}

/// A rule in a list: enough to show and link it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleSummary {
    pub id: RuleId,
    pub kind: RuleKind,
    pub name: String,
    pub expr: String,
    pub duration: String,
    pub enabled: bool,
    pub parent: Option<RuleId>,
    pub owner: RuleOwner,
}

impl From<&Rule> for RuleSummary {
    fn from(r: &Rule) -> Self {
        RuleSummary {
            id: r.id,
            kind: r.kind,
            name: r.name.clone(),
            expr: r.expr.clone(),
            duration: r.duration.clone(),
            enabled: r.enabled,
            parent: r.parent,
            owner: r.owner.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleTree {
    pub rule: RuleSummary,
    pub children: Vec<RuleTree>,
}

/// The rules that apply to an object, by level, for its page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleListing {
    /// Rules of this object.
    pub own: Vec<RuleSummary>,
    /// Rules of the levels above that reach this object, with the override this object has
    /// of each, if any.
    pub inherited: Vec<InheritedRule>,
    pub can_edit: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InheritedRule {
    pub rule: RuleSummary,
    pub overridden_by: Option<RuleId>,
}

/// What the editor needs to preview a rule while it is typed: the rules whose expansion the
/// edit changes, and where a new rule or override would go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleContext {
    /// The rule being edited; `None` for a new rule or override.
    pub rule: Option<Rule>,
    /// Where the rule lives (or will live).
    pub owner: RuleOwner,
    /// The owners of the rule's overrides, which its `<exclude>` excludes.
    pub children: Vec<RuleOwner>,
    /// The overridden rule and the owners of all its overrides (this one included, also when
    /// it is new).
    pub parent: Option<ParentContext>,
    /// Overrides of this rule that still carry its expression unchanged (they follow an
    /// edit), each with the owners of its own overrides.
    pub followers: Vec<(Rule, Vec<RuleOwner>)>,
    /// The site, for the `rule` link and the site group in the preview.
    pub site: Site,
    pub can_edit: bool,
    /// The Prometheus the rule is checked for: the oldest of those that will load it.
    #[serde(default)]
    pub dialect: crate::rules::promql::Dialect,
    /// Where that comes from, for the editor ("shard main", "the site's default").
    #[serde(default)]
    pub dialect_source: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParentContext {
    pub rule: Rule,
    pub children: Vec<RuleOwner>,
    /// The other overrides of the parent, each with the owners of its own overrides.
    pub siblings: Vec<(Rule, Vec<RuleOwner>)>,
}

/// The site as rules see it: its domain names the site group, and its address makes every
/// absolute link (the `rule` annotation, notifications' alert links): `--external-url` when
/// the server was given one, else `<scheme>://<domain>`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Site {
    pub domain: String,
    pub scheme: String,
    /// `--external-url` without its trailing `/` (`https://promgen.example.com/prefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
}

impl Site {
    /// The site's address, no trailing `/`: links are `<url>/rule/<id>`, `<url>/alert/<id>`.
    pub fn url(&self) -> String {
        match &self.external_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("{}://{}", self.scheme, self.domain),
        }
    }
}

/// A row of the label and annotation editors, as the form sends it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub key: String,
    #[serde(default)]
    pub value: String,
}

/// The rows of `field` (`labels`, `annotations`) as a map; a name given twice is refused (a
/// map keeps one of them, and the other was dropped without a word).
pub fn pairs_to_map(field: &str, pairs: Option<Vec<Pair>>) -> Checked<LabelMap> {
    let pairs = pairs.unwrap_or_default();
    if let Some(key) = repeated_key(pairs.iter().map(|p| p.key.as_str())) {
        return Err(FieldError::new(field, repeated_key_message(key)));
    }
    Ok(pairs.into_iter().map(|p| (p.key, p.value)).collect())
}

/// The first name that `keys` holds twice (blank ones aside: an empty row is no name).
pub fn repeated_key<'a>(keys: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().map(str::trim).filter(|k| !k.is_empty()).find(|k| !seen.insert(*k))
}

/// Why a list with `key` twice is refused.
pub fn repeated_key_message(key: &str) -> String {
    // Not at the start: a message's first letter is made a capital, and names are not.
    format!("the name {key:?} is given twice; a rule has one value for each")
}

/// What the last rendering of the whole rule file could not include or serve: rules that
/// Prometheus would refuse (left out, so the rest still loads), and promtool's refusal of the
/// file (then the last good file is served instead).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleFileProblems {
    /// (rule, its name, why).
    pub left_out: Vec<(RuleId, String, String)>,
    /// Why promtool refused the rendered file, when it did.
    pub refused: Option<String>,
    /// When the file being served passed its checks (RFC 3339), if one did.
    pub serving_since: Option<String>,
}

/// What the "test" button found: the rule's expression run on the Prometheus servers of its
/// owner's shards (spec 6.8). Counts and routing verdicts only: the series themselves (their
/// labels and values) are not returned, so the test is no query proxy (Promgen #614).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleTest {
    /// The expression as it was run (`<exclude>` expanded).
    pub expr: String,
    /// How many series the expression returns now: the alerts that would fire.
    pub firing: usize,
    pub shards: Vec<ShardTest>,
    /// Why alerts from these series would not reach the right people.
    pub problems: Vec<String>,
}

impl RuleTest {
    /// The outcome in words, and whether it fires: "Firing: 3 series would alert.", "Not
    /// firing: no series match now.", or, when no Prometheus answered, that nothing is known
    /// (never "not firing"). Shards that failed beside others that answered are counted.
    pub fn verdict(&self) -> (Verdict, String) {
        let answered = self.shards.iter().filter(|s| s.result.is_ok()).count();
        if self.shards.is_empty() {
            return (Verdict::Unknown, "Not tested: no shard is set up to ask.".into());
        }
        if answered == 0 {
            let n = self.shards.len();
            return (
                Verdict::Unknown,
                format!("Unknown: no Prometheus answered ({n} asked), so whether it fires cannot be told."),
            );
        }
        let partial = if answered < self.shards.len() {
            format!(" ({answered} of {} shards answered.)", self.shards.len())
        } else {
            String::new()
        };
        if self.firing == 0 {
            (Verdict::Quiet, format!("Not firing: no series match now.{partial}"))
        } else {
            (Verdict::Firing, format!("Firing: {} series would alert.{partial}", self.firing))
        }
    }
}

/// What a test against Prometheus found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Firing,
    Quiet,
    /// Nobody answered: nothing is known.
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardTest {
    pub shard: String,
    pub url: String,
    /// Series returned, or why the shard could not answer.
    pub result: Result<usize, String>,
}

#[cfg(test)]
mod tests {
    use super::{Pair, pairs_to_map, repeated_key};

    #[test]
    fn a_name_given_twice_is_refused_not_dropped() {
        let pair = |k: &str, v: &str| Pair { key: k.into(), value: v.into() };
        let twice = Some(vec![pair("severity", "critical"), pair("team", "a"), pair(" severity", "warning")]);
        let e = pairs_to_map("labels", twice).unwrap_err();
        assert_eq!(e.to_string(), "Labels: the name \"severity\" is given twice; a rule has one value for each");
        let once = pairs_to_map("labels", Some(vec![pair("severity", "critical"), pair("team", "a")])).unwrap();
        assert_eq!(once.len(), 2);
        assert_eq!(repeated_key(["", "a", "", "b"]), None);
    }

    use super::*;

    #[test]
    fn a_test_nobody_answered_is_unknown_not_quiet() {
        let shard = |ok: bool| ShardTest {
            shard: "a".into(),
            url: "http://p:9090".into(),
            result: if ok { Ok(0) } else { Err("connection refused".into()) },
        };
        let test = |firing, shards| RuleTest { expr: "up == 0".into(), firing, shards, problems: vec![] };
        assert_eq!(test(0, vec![]).verdict().0, Verdict::Unknown);
        let (v, words) = test(0, vec![shard(false), shard(false)]).verdict();
        assert_eq!(v, Verdict::Unknown);
        assert!(words.contains("no Prometheus answered (2 asked)"), "{words}");
        assert_eq!(test(0, vec![shard(true)]).verdict(), (Verdict::Quiet, "Not firing: no series match now.".into()));
        let (v, words) = test(3, vec![shard(true), shard(false)]).verdict();
        assert_eq!(v, Verdict::Firing);
        assert_eq!(words, "Firing: 3 series would alert. (1 of 2 shards answered.)");
    }

    fn input(kind: RuleKind, name: &str) -> RuleInput {
        RuleInput { kind, name: name.into(), expr: "up == 0".into(), duration: "5m".into(), ..Default::default() }
    }

    #[test]
    fn rule_input_names_the_bad_field() {
        assert!(input(RuleKind::Alert, "InstanceDown").clean().is_ok());
        // Alert names are text, as Prometheus takes them (Promgen's `Test Rule`); recorded
        // names are metric names.
        assert!(input(RuleKind::Alert, "Test Rule").clean().is_ok());
        assert_eq!(input(RuleKind::Alert, "bad\nname").clean().unwrap_err().field, "name");
        assert_eq!(input(RuleKind::Alert, "").clean().unwrap_err().field, "name");
        let mut r = input(RuleKind::Record, "bad name");
        r.duration.clear();
        assert_eq!(r.clean().unwrap_err().field, "name");
        let mut r = input(RuleKind::Alert, "A");
        r.duration = "5 minutes".into();
        assert_eq!(r.clean().unwrap_err().field, "duration");
        let mut r = input(RuleKind::Record, "job:up:sum");
        assert_eq!(r.clone().clean().unwrap_err().field, "duration");
        r.duration.clear();
        assert!(r.clone().clean().is_ok());
        r.annotations.insert("summary".into(), "x".into());
        assert_eq!(r.clean().unwrap_err().field, "annotations");
        let mut r = input(RuleKind::Alert, "A");
        r.annotations.insert("bad key".into(), "x".into());
        assert_eq!(r.clean().unwrap_err().field, "annotations");
        let mut r = input(RuleKind::Alert, "A");
        r.labels.insert(" ".into(), " ".into());
        assert!(r.clean().unwrap().labels.is_empty(), "blank rows of the form are dropped");
    }

    #[test]
    fn owners_name_their_group_as_promgen() {
        let p = RuleOwner::Project {
            id: ProjectId(1),
            name: "test-project".into(),
            service_id: ServiceId(1),
            service: "test-service".into(),
        };
        assert_eq!(p.group_name(), "test-service » test-project");
        assert_eq!(RuleOwner::Site { domain: "promgen.example.com".into() }.group_name(), "promgen.example.com");
    }
}
