//! The policy applied to the results of `palisade node`, as to the findings of a scan: rule
//! selection (`select`, `ignore`, `enabled: false`), severity overrides and expiring
//! exceptions. A host check's FAIL or WARN is a finding on the object `Node/<host>`, so an
//! exception matches it by rule selector and `match: {kind: Node, name: <host>}`.

use crate::catalogue;
use crate::{exception_for, expired_exceptions, is_selected, Options};
use palisade_core::{
    CheckResult, CheckStatus, NodeReport, ObjectRef, Report, ReportFinding, RuleMeta, Severity,
    SourceLoc,
};

/// The object a host check's finding is about: the node.
pub fn node_object(host: &str) -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_owned(),
        kind: "Node".to_owned(),
        namespace: None,
        name: host.to_owned(),
    }
}

/// The catalogue entry of a host check result.
pub fn meta_of(result: &CheckResult) -> Option<&'static RuleMeta> {
    catalogue::host_checks()
        .iter()
        .copied()
        .find(|m| m.id == result.id)
}

/// The host checks the options select, in report order.
pub fn selected_checks(opts: &Options) -> Vec<&'static RuleMeta> {
    catalogue::host_checks()
        .iter()
        .copied()
        .filter(|m| is_selected(m, opts))
        .collect()
}

/// The finding a FAIL or WARN result is.
fn finding(r: &CheckResult, meta: &'static RuleMeta, host: &str, opts: &Options) -> ReportFinding {
    let mut properties = palisade_core::Properties::new();
    properties.insert("status".into(), r.status.as_str().to_owned());
    properties.insert("section".into(), r.section.clone());
    properties.insert("observed".into(), r.observed.clone());
    if let Some(e) = &r.expected {
        properties.insert("expected".into(), e.clone());
    }
    if let Some(c) = &r.component {
        properties.insert("component".into(), c.clone());
    }
    ReportFinding {
        rule_id: meta.id,
        rule_name: meta.name,
        severity: r.severity,
        message: format!("{}: {}", r.title, r.observed),
        object: node_object(host).into(),
        location: r.file.as_ref().map(|f| SourceLoc {
            file: f.as_str().into(),
            line: 0,
            column: 0,
        }),
        path: None,
        fix: r.remediation.clone().map(Into::into),
        mode: opts.policy.mode(meta.id, None),
        properties,
        suppression: r.suppression.clone().map(Box::new),
    }
}

/// Applies the policy to the results of `palisade node` and builds the report: the results
/// of the checks not selected are dropped, `rules.<id>.severity` replaces a check's severity,
/// and an exception that covers a FAIL or WARN suppresses it (listed and counted, never
/// hidden; an expired one is listed as expired and suppresses nothing). Every remaining FAIL
/// and WARN is also a finding of the report, on `Node/<host>`, so every output format lists
/// host checks as it lists findings.
pub fn apply_node_policy(mut node: NodeReport, host: &str, opts: &Options) -> Report {
    let policy = &opts.policy;
    node.host = host.to_owned();
    node.results
        .retain(|r| meta_of(r).is_none_or(|m| is_selected(m, opts)));
    let mut expired_hits = vec![0usize; policy.exceptions.len()];
    let mut active = Vec::new();
    let mut suppressed = Vec::new();
    let object = node_object(host);
    for r in &mut node.results {
        let Some(meta) = meta_of(r) else {
            continue;
        };
        if let Some(sev) = policy.rule(meta.id).and_then(|c| c.severity) {
            r.severity = sev;
        }
        if !matches!(r.status, CheckStatus::Fail | CheckStatus::Warn) {
            continue;
        }
        r.suppression = exception_for(
            policy,
            meta,
            None,
            &object.kind,
            &object.name,
            opts.today,
            &mut expired_hits,
        );
        let f = finding(r, meta, host, opts);
        if f.suppression.is_some() {
            suppressed.push(f);
        } else {
            active.push(f);
        }
    }
    node.recount();
    let expired_exceptions = expired_exceptions(policy, opts.today, &expired_hits);
    let mut rules: Vec<&'static RuleMeta> = Vec::new();
    for r in &node.results {
        if let Some(m) = meta_of(r) {
            if !rules.iter().any(|x| std::ptr::eq(*x, m)) {
                rules.push(m);
            }
        }
    }
    Report {
        findings: active,
        suppressed,
        expired_exceptions,
        rules,
        node: Some(node),
        ..Report::default()
    }
}

/// Whether a FAIL at or above `threshold` remains after the policy (`None`: never fails).
/// WARN, MANUAL and suppressed results never fail a run.
pub fn node_fails(node: &NodeReport, threshold: Option<Severity>) -> bool {
    threshold.is_some_and(|t| {
        node.results
            .iter()
            .any(|r| r.status == CheckStatus::Fail && r.suppression.is_none() && r.severity >= t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::Policy;

    fn result(id: &str, status: CheckStatus, severity: Severity) -> CheckResult {
        CheckResult {
            id: id.to_owned(),
            section: palisade_node::engine::section_of_check(id).to_owned(),
            family: "CP",
            title: format!("check {id}"),
            status,
            severity,
            component: Some("kube-apiserver".to_owned()),
            observed: "observed".to_owned(),
            expected: None,
            file: Some("/etc/kubernetes/manifests/kube-apiserver.yaml".to_owned()),
            remediation: Some("fix".to_owned()),
            automated: true,
            suppression: None,
        }
    }

    fn node() -> NodeReport {
        let mut n = NodeReport {
            benchmark: "cis-1.12".to_owned(),
            root: "/host".to_owned(),
            results: vec![
                result("1.2.6", CheckStatus::Fail, Severity::Critical),
                result("1.2.15", CheckStatus::Fail, Severity::Low),
                result("1.2.16", CheckStatus::Pass, Severity::Medium),
                result("tls.cert-expiry", CheckStatus::Warn, Severity::High),
                result("access.sshd-root-login", CheckStatus::Fail, Severity::High),
            ],
            ..NodeReport::default()
        };
        n.recount();
        n
    }

    fn policy(yaml: &str) -> Policy {
        let docs = palisade_load::yaml::parse_documents(yaml, 1, true).unwrap();
        Policy::from_value(&docs[0].value, &docs[0].spans, "p.yaml", catalogue::all()).unwrap()
    }

    #[test]
    fn exceptions_selection_and_severities() {
        let mut opts = Options::new("2027-01-31".parse().unwrap());
        opts.policy = policy(
            "ignore: [access]\nrules:\n  1.2.15: {severity: high}\nexceptions:\n- rules: [\"1.2.6\"]\n  match: {kind: Node, name: cp-*}\n  reason: break-glass\n  expires: 2027-01-31\n- rules: [tls]\n  match: {kind: Node, name: other}\n  reason: another node\n",
        );
        let r = apply_node_policy(node(), "cp-1", &opts);
        let n = r.node.as_ref().unwrap();
        assert_eq!(n.host, "cp-1");
        assert!(n.results.iter().all(|r| !r.id.starts_with("access.")));
        let ids = |v: &[ReportFinding]| v.iter().map(|f| f.rule_id).collect::<Vec<_>>();
        assert_eq!(ids(&r.findings), ["1.2.15", "tls.cert-expiry"]);
        assert_eq!(ids(&r.suppressed), ["1.2.6"]);
        assert_eq!(r.findings[0].severity, Severity::High);
        assert_eq!(r.findings[0].object.to_string(), "Node cp-1");
        assert_eq!(
            (n.totals.fail, n.totals.warn, n.totals.suppressed),
            (1, 1, 1)
        );
        assert!(n.results[0].suppression.is_some());
        assert!(node_fails(n, Some(Severity::High)));
        assert!(
            !node_fails(n, Some(Severity::Critical)),
            "1.2.6 is suppressed"
        );
        assert!(!node_fails(n, None));
        assert_eq!(r.summary().suppressed_by_exception, 1);

        // The day after, the exception has expired: the FAIL is back and the exception listed.
        opts.today = "2027-02-01".parse().unwrap();
        let r = apply_node_policy(node(), "cp-1", &opts);
        assert_eq!(r.suppressed.len(), 0);
        assert_eq!(r.expired_exceptions.len(), 1);
        assert_eq!(r.expired_exceptions[0].findings, 1);
        assert!(node_fails(
            r.node.as_ref().unwrap(),
            Some(Severity::Critical)
        ));
    }

    #[test]
    fn select_on_the_command_line_replaces_the_policy_selection() {
        let mut opts = Options::new("2026-01-01".parse().unwrap());
        opts.policy = policy("select: [POD]\n");
        let r = apply_node_policy(node(), "n", &opts);
        assert!(r.node.unwrap().results.is_empty());
        opts.select = vec!["cis:1.2".to_owned()];
        let r = apply_node_policy(node(), "n", &opts);
        let ids: Vec<_> = r
            .node
            .unwrap()
            .results
            .iter()
            .map(|r| r.id.clone())
            .collect();
        assert_eq!(ids, ["1.2.6", "1.2.15", "1.2.16"]);
    }
}
