//! The labels and annotations a rule is rendered with (spec 1.11, PR #754/#770 of Promgen):
//! a service's rules carry `service`, a project's rules `service` and `project`, so the
//! alerts they raise route back to their owners; the site's carry neither.
//!
//! Decisions (spec 12, Q1 and Q7): the owner labels are applied when rendering, from the
//! owner's current names, for every rule including the site's. Promgen applies them when a rule
//! is saved, so a renamed service routes wrongly until its rules are saved again, and site rules
//! imported through the concrete site content type keep whatever `service` label they had.

use crate::model::{LabelMap, RuleId, RuleKind, RuleOwner};

/// The label that names an alert's service; routing reads it.
pub const SERVICE: &str = "service";
/// The label that names an alert's project.
pub const PROJECT: &str = "project";
/// The annotation linking an alert to the rule that raised it.
pub const RULE_LINK: &str = "rule";

/// `labels` with the owner's routing labels forced.
pub fn owner_labels(owner: &RuleOwner, labels: &LabelMap) -> LabelMap {
    let mut out = labels.clone();
    match owner {
        RuleOwner::Site { .. } => {
            out.remove(SERVICE);
            out.remove(PROJECT);
        }
        RuleOwner::Service { name, .. } => {
            out.insert(SERVICE.into(), name.clone());
            out.remove(PROJECT);
        }
        RuleOwner::Project { name, service, .. } => {
            out.insert(SERVICE.into(), service.clone());
            out.insert(PROJECT.into(), name.clone());
        }
    }
    out
}

/// The link to a rule's page, as its alerts carry it.
pub fn rule_link(site_url: &str, id: RuleId) -> String {
    format!("{}/rule/{id}", site_url.trim_end_matches('/'))
}

/// `annotations` with the `rule` link an alert needs (recording rules have no annotations).
pub fn rendered_annotations(kind: RuleKind, site_url: &str, id: RuleId, annotations: &LabelMap) -> LabelMap {
    let mut out = annotations.clone();
    if kind == RuleKind::Alert {
        out.insert(RULE_LINK.into(), rule_link(site_url, id));
    }
    out
}

/// What a user may set: the labels and annotations the rendering derives are dropped, so an
/// import or an old Promgen row cannot pin a stale value.
pub fn user_labels(mut labels: LabelMap) -> LabelMap {
    labels.remove(SERVICE);
    labels.remove(PROJECT);
    labels
}

pub fn user_annotations(mut annotations: LabelMap) -> LabelMap {
    annotations.remove(RULE_LINK);
    annotations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ProjectId, ServiceId};

    #[test]
    fn owners_force_their_routing_labels() {
        let labels: LabelMap = [("service".into(), "x".into()), ("severity".into(), "major".into())].into();
        let site = RuleOwner::Site { domain: "d".into() };
        assert_eq!(owner_labels(&site, &labels).keys().collect::<Vec<_>>(), ["severity"]);
        let p =
            RuleOwner::Project { id: ProjectId(1), name: "p".into(), service_id: ServiceId(2), service: "s".into() };
        let l = owner_labels(&p, &labels);
        assert_eq!((l["service"].as_str(), l["project"].as_str()), ("s", "p"));
        let a = rendered_annotations(RuleKind::Alert, "http://promgen.example.com/", RuleId(4), &LabelMap::new());
        assert_eq!(a["rule"], "http://promgen.example.com/rule/4");
        assert!(rendered_annotations(RuleKind::Record, "http://x", RuleId(4), &LabelMap::new()).is_empty());
    }
}
