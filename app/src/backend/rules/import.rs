//! Importing a Prometheus rule file (spec 2.6 D): every rule of every group, or a single rule
//! when the document has no `groups`. A rule goes to the object the import was made from, or
//! else to the project or service its labels name, or else to the site. A name that exists
//! already is skipped, as Promgen does; anything invalid stops the whole import.

use super::Rules;
use super::edit::insert;
use super::edit::validated;
use crate::backend::audit::{self, Subject};
use crate::backend::importer::ImportReport;
use crate::backend::{Actor, bump_generation};
use crate::error::AppError;
use crate::model::*;
use crate::rules::labels::{PROJECT, SERVICE};
use serde_yaml::Value;
use std::collections::{BTreeMap, HashSet};

/// A rule owner as its row's (service, project) columns.
type OwnerColumns = (Option<i64>, Option<i64>);

/// One rule as the file has it, with where it was found for messages.
#[derive(Debug)]
struct FileRule {
    place: String,
    input: RuleInput,
    labels: LabelMap,
}

/// A rule as the file writes it. Every scalar is read as its text, as Prometheus reads labels
/// and annotations (strings): `version: 1.10` stays `1.10`, `0x1F` stays `0x1F`.
#[derive(serde::Deserialize)]
struct RuleDoc {
    alert: Option<String>,
    record: Option<String>,
    expr: Option<String>,
    #[serde(rename = "for")]
    duration: Option<String>,
    labels: Option<BTreeMap<String, Option<String>>>,
    annotations: Option<BTreeMap<String, Option<String>>>,
}

#[derive(serde::Deserialize)]
struct GroupDoc {
    name: Option<String>,
    rules: Option<Vec<RuleDoc>>,
}

#[derive(serde::Deserialize)]
struct GroupsDoc {
    groups: Vec<GroupDoc>,
}

/// The keys a rule mapping has that Promgen-rs does not keep (`keep_firing_for`, …).
const KEPT: [&str; 6] = ["alert", "record", "expr", "for", "labels", "annotations"];

/// Labels or annotations as text; a null value is dropped, with a note.
fn text_map(
    map: Option<BTreeMap<String, Option<String>>>,
    place: &str,
    field: &str,
    notes: &mut Vec<String>,
) -> LabelMap {
    let mut out = LabelMap::new();
    for (k, v) in map.unwrap_or_default() {
        match v {
            Some(v) => {
                out.insert(k, v);
            }
            None => notes.push(format!("{place}: {field} {k} is null and was left out")),
        }
    }
    out
}

fn parse_rule(doc: RuleDoc, keys: &[String], place: String, notes: &mut Vec<String>) -> Result<FileRule, AppError> {
    let (kind, name) = match (doc.alert, doc.record) {
        (Some(name), None) => (RuleKind::Alert, name),
        (None, Some(name)) => (RuleKind::Record, name),
        _ => return Err(AppError::invalid("rules", format!("{place} needs exactly one of alert: or record:"))),
    };
    let place = format!("{place} ({name})");
    let expr = doc.expr.ok_or_else(|| AppError::invalid("rules", format!("{place} has no expr")))?;
    for key in keys.iter().filter(|k| !KEPT.contains(&k.as_str())) {
        notes.push(format!("{place}: {key} is not kept"));
    }
    let labels = text_map(doc.labels, &place, "label", notes);
    let input = RuleInput {
        kind,
        name,
        expr,
        duration: doc.duration.unwrap_or_default(),
        enabled: true,
        description: String::new(),
        labels: labels.clone(),
        annotations: text_map(doc.annotations, &place, "annotation", notes),
    };
    Ok(FileRule { place, input, labels })
}

/// The keys of each rule mapping of the document, in file order (for the notes).
fn rule_keys(doc: &Value) -> Vec<Vec<String>> {
    let keys = |r: &Value| match r {
        Value::Mapping(m) => m.keys().filter_map(|k| k.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    match doc.get("groups").and_then(Value::as_sequence) {
        Some(groups) => groups
            .iter()
            .flat_map(|g| g.get("rules").and_then(Value::as_sequence).into_iter().flatten())
            .map(keys)
            .collect(),
        None => vec![keys(doc)],
    }
}

/// Every rule in the document, in file order.
fn parse_file(text: &str, notes: &mut Vec<String>) -> Result<Vec<FileRule>, AppError> {
    let not_rules = |e: String| AppError::invalid("rules", format!("not a Prometheus rule file: {e}"));
    // The shape first (is there a `groups`, which keys do rules have), then the rules with
    // their scalars as text.
    let shape: Value = crate::backend::yaml::from_str(text).map_err(not_rules)?;
    let keys = rule_keys(&shape);
    let mut keys = keys.iter().map(Vec::as_slice).chain(std::iter::repeat(&[][..]));
    if shape.get("groups").is_none() {
        let doc: RuleDoc = crate::backend::yaml::from_str(text).map_err(not_rules)?;
        return Ok(vec![parse_rule(doc, keys.next().unwrap_or_default(), "the rule".into(), notes)?]);
    }
    let doc: GroupsDoc = crate::backend::yaml::from_str(text).map_err(not_rules)?;
    let mut out = Vec::new();
    for (g, group) in doc.groups.into_iter().enumerate() {
        let gname = group.name.unwrap_or_else(|| format!("#{}", g + 1));
        let Some(rules) = group.rules else {
            return Err(AppError::invalid("rules", format!("group {gname} has no list of rules")));
        };
        for (i, rule) in rules.into_iter().enumerate() {
            let place = format!("group {gname}, rule {}", i + 1);
            out.push(parse_rule(rule, keys.next().unwrap_or_default(), place, notes)?);
        }
    }
    Ok(out)
}

impl Rules {
    /// Imports a rule file into `target`, or (admins) site-wide by the rules' labels.
    pub async fn import_file(
        &self,
        actor: &Actor,
        text: &str,
        target: Option<&RuleOwner>,
    ) -> Result<ImportReport, AppError> {
        match target {
            Some(owner) => self.require_edit(actor, owner).await?,
            None => actor.may_administer("import rules site-wide")?,
        }
        let mut report = ImportReport::default();
        // Parsing the file and checking every rule in it is the heavy part: on the CPU pool.
        let text = text.to_string();
        let (dialect, _) = self.dialect().await?;
        let (parsed, notes) = self
            .cpu
            .run("reading the rule file", move || {
                let mut notes = Vec::new();
                let parsed = parse_file(&text, &mut notes)?
                    .into_iter()
                    .map(|FileRule { place, input, labels }| {
                        let input = validated(input, &[], dialect).map_err(|e| match e {
                            AppError::Invalid(f) | AppError::Conflict(f) => {
                                AppError::invalid("rules", format!("{place}: {f}"))
                            }
                            other => other,
                        })?;
                        Ok(FileRule { place, input, labels })
                    })
                    .collect::<Result<Vec<_>, AppError>>()?;
                Ok::<_, AppError>((parsed, notes))
            })
            .await??;
        report.notes = notes;
        let site = RuleOwner::Site { domain: self.site().await?.domain };
        let mut new: Vec<(RuleOwner, RuleInput)> = Vec::new();
        // Names taken by earlier rules of this file: an alert's name is taken by any rule, a
        // recording rule's by an alert or a recording rule of the same owner.
        let mut names: HashSet<String> = HashSet::new();
        let mut alerts: HashSet<String> = HashSet::new();
        let mut records: HashSet<(String, OwnerColumns)> = HashSet::new();
        for FileRule { place, input, labels } in parsed {
            let owner = match target {
                Some(t) => t.clone(),
                None => self
                    .owner_by_labels(&labels, &site)
                    .await
                    .map_err(|e| AppError::invalid("rules", format!("{place}: {e}")))?,
            };
            let record = (input.name.clone(), super::owner_columns(&owner));
            let in_file = match input.kind {
                RuleKind::Alert => names.contains(&input.name),
                RuleKind::Record => alerts.contains(&input.name) || records.contains(&record),
            };
            if in_file || self.name_taken(&input, &owner).await? {
                report.notes.push(format!("{place}: skipped, a rule named {} exists already", input.name));
                continue;
            }
            names.insert(input.name.clone());
            match input.kind {
                RuleKind::Alert => alerts.insert(input.name.clone()),
                RuleKind::Record => records.insert(record),
            };
            new.push((owner, input));
        }
        let drafts: Vec<Rule> = new
            .iter()
            .map(|(owner, input)| Rule {
                id: RuleId(0),
                kind: input.kind,
                name: input.name.clone(),
                expr: input.expr.clone(),
                duration: input.duration.clone(),
                enabled: true,
                description: String::new(),
                labels: input.labels.clone(),
                annotations: input.annotations.clone(),
                parent: None,
                owner: owner.clone(),
            })
            .collect();
        self.promtool_check(&drafts.iter().map(|r| (r, Vec::new())).collect::<Vec<_>>()).await?;

        let mut tx = self.db.begin().await?;
        for (owner, input) in &new {
            let rule = insert(&mut tx, owner, input, None, false).await?;
            let subject = Subject::new("rule", rule.id.0).under(owner.kind().as_str(), owner.id());
            audit::record(&mut tx, actor, &format!("Imported rule {}", rule.name), subject, None::<&()>, Some(&rule))
                .await?;
        }
        bump_generation(&mut tx).await?;
        tx.commit().await?;
        report.count("rules", new.len() as u64);
        Ok(report)
    }

    /// Promgen's rule for an import without a target: the project the `project` label names,
    /// else the service the `service` label names, else the site.
    async fn owner_by_labels(&self, labels: &LabelMap, site: &RuleOwner) -> Result<RuleOwner, String> {
        if let Some(project) = labels.get(PROJECT) {
            let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM project WHERE name = $1")
                .bind(project)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(|e| AppError::from(e).to_string())?;
            let (id,) = row.ok_or_else(|| format!("its project label names {project:?}, which does not exist"))?;
            return self.owner(OwnerKind::Project, id).await.map_err(|e| e.to_string());
        }
        if let Some(service) = labels.get(SERVICE) {
            let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM service WHERE name = $1")
                .bind(service)
                .fetch_optional(&self.db.pool)
                .await
                .map_err(|e| AppError::from(e).to_string())?;
            let (id,) = row.ok_or_else(|| format!("its service label names {service:?}, which does not exist"))?;
            return self.owner(OwnerKind::Service, id).await.map_err(|e| e.to_string());
        }
        Ok(site.clone())
    }

    /// Whether a rule of that name exists: any alert of the name, a recording rule of the name
    /// for the same owner.
    async fn name_taken(&self, input: &RuleInput, owner: &RuleOwner) -> Result<bool, AppError> {
        let existing: Vec<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT kind, service_id, project_id FROM rule WHERE name = $1")
                .bind(&input.name)
                .fetch_all(&self.db.pool)
                .await?;
        let columns = super::owner_columns(owner);
        Ok(existing.iter().any(|(kind, s, p)| input.kind == RuleKind::Alert || kind == "alert" || (*s, *p) == columns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_promgen_import_example() {
        let mut notes = Vec::new();
        let rules = parse_file(include_str!("../../../fixtures/promgen/import.rule.yml"), &mut notes).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        let names: Vec<&str> = rules.iter().map(|r| r.input.name.as_str()).collect();
        assert_eq!(names, ["ExporterDown", "ExporterTargetDown"]);
        assert_eq!(rules[1].input.expr, "{__name__=~\".*_up\"} == 0");
        assert_eq!(rules[1].labels["another"], "foo");
        let single = parse_file("alert: A\nexpr: up == 0\nfor: 5m\n", &mut notes).unwrap();
        assert_eq!(single[0].input.duration, "5m");
        assert!(
            parse_file("groups: [{name: g, rules: [{expr: up}]}]", &mut notes)
                .unwrap_err()
                .to_string()
                .contains("alert: or record:")
        );
        assert!(parse_file("{{{", &mut notes).is_err());
    }

    /// Scalars keep their text, as Prometheus reads labels; a null label is left out, noted.
    #[test]
    fn keeps_the_text_of_every_scalar() {
        let mut notes = Vec::new();
        let file = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 5m\n    keep_firing_for: 1m\n    labels:\n      version: 1.10\n      hex: 0x1F\n      big: 1e3\n      flag: yes\n      gone: null\n    annotations:\n      n: 007\n";
        let rules = parse_file(file, &mut notes).unwrap();
        let labels = &rules[0].input.labels;
        assert_eq!((labels["version"].as_str(), labels["hex"].as_str()), ("1.10", "0x1F"));
        assert_eq!((labels["big"].as_str(), labels["flag"].as_str()), ("1e3", "yes"));
        assert!(!labels.contains_key("gone"));
        assert_eq!(rules[0].input.annotations["n"], "007");
        assert_eq!(
            notes,
            [
                "group g, rule 1 (A): keep_firing_for is not kept",
                "group g, rule 1 (A): label gone is null and was left out"
            ]
        );
        let err = parse_file("alert: A\nexpr: up\nlabels:\n  x: [1]\n", &mut notes).unwrap_err().to_string();
        assert!(err.contains("labels.x: invalid type: sequence"), "{err}");
    }
}
