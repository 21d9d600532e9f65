//! The rules that classify workload drift in `palisade diff`: a workload's drift is the
//! findings of these rules that appear or disappear between two snapshots, so the diff and a
//! scan agree on what "privileged" or "joined a host namespace" means.

use crate::{apply_policy, run_rules, InputSummary, Options};
use palisade_core::{Inventory, Object, PssLevel, ReportFinding, Rule};

/// The Pod Security Standards baseline controls (privileged containers, host namespaces,
/// hostPath volumes, added capabilities, host ports, unconfined profiles, unsafe sysctls...)
/// and NODE001 (workloads that amount to a node shell): what gives a workload the host.
pub fn drift_rules() -> Vec<&'static dyn Rule> {
    palisade_rules::all()
        .iter()
        .copied()
        .filter(|r| {
            let m = r.meta();
            m.scope == palisade_core::Scope::Object
                && (m.level == Some(PssLevel::Baseline) || m.id == "NODE001")
        })
        .collect()
}

/// The findings of [`drift_rules`] on one object, with their default severities.
pub fn workload_findings(o: &Object) -> Vec<ReportFinding> {
    let inventory = Inventory::new(vec![o.clone()]);
    let mut opts = Options::new(jiff::civil::date(2026, 1, 1));
    opts.profile = Some(PssLevel::Baseline);
    let rules = drift_rules();
    let findings = run_rules(&inventory, &rules, &opts);
    apply_policy(&inventory, findings, &rules, InputSummary::default(), &opts).findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn privileged_and_host_namespaces_are_rule_findings() {
        let ids: Vec<_> = drift_rules().iter().map(|r| r.meta().id).collect();
        for id in ["POD001", "POD004", "POD005", "POD007", "NODE001"] {
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
        assert!(
            !ids.contains(&"POD003"),
            "restricted controls are not drift"
        );
        let old = json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"a"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"x:1"}]}}}});
        let mut new = old.clone();
        new["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
        new["spec"]["template"]["spec"]["containers"][0]["securityContext"] =
            json!({"privileged": true});
        let obj = |v: serde_json::Value| {
            Object::from_value(v, None, palisade_core::SpanIndex::default()).unwrap()
        };
        assert!(workload_findings(&obj(old.clone())).is_empty());
        let found: Vec<_> = workload_findings(&obj(new.clone()))
            .iter()
            .map(|f| f.rule_id)
            .collect();
        assert!(
            found.contains(&"POD001") && found.contains(&"POD004"),
            "{found:?}"
        );
        let drift = palisade_load::diff::diff(&[old], &[new], &workload_findings);
        let rules: Vec<_> = drift.iter().filter_map(|d| d.rule.as_deref()).collect();
        assert!(
            rules.contains(&"POD001") && rules.contains(&"POD004"),
            "{drift:?}"
        );
        let privileged = drift
            .iter()
            .find(|d| d.rule.as_deref() == Some("POD001"))
            .unwrap();
        assert_eq!(privileged.severity, palisade_core::Severity::Critical);
    }
}
