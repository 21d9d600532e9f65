//! Usage and suggestions over the shared labelled audit log
//! (`shared/corpus/apiserver-recordings/audit`) and the recorded cluster's RBAC objects
//! (`apiserver-recordings/api`: the cluster-wide lists of roles and bindings).

#![allow(clippy::print_stderr)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use palisade_rbac::{
    suggest, AuthzDecision, Evidence, Rbac, RuleStatus, Subject, SubjectUsage, UserInfo,
};
use serde_json::Value;

fn recordings() -> Option<PathBuf> {
    palisade_testkit::corpus("apiserver-recordings")
}

fn evidence(dir: &std::path::Path) -> Evidence {
    let text = std::fs::read_to_string(dir.join("audit/audit.jsonl")).unwrap();
    let mut ev = Evidence::default();
    for (i, line) in text.lines().enumerate() {
        let v: Value = serde_json::from_str(line).unwrap();
        ev.add_event(&v)
            .unwrap_or_else(|e| panic!("audit.jsonl:{}: {e}", i + 1));
    }
    ev
}

fn cluster_rbac(dir: &std::path::Path) -> Rbac {
    let mut objs = Vec::new();
    for f in [
        "0073-200-list_roles.json",
        "0075-200-list_clusterroles.json",
        "0078-200-list_rolebindings.json",
        "0080-200-list_clusterrolebindings.json",
    ] {
        let text = std::fs::read_to_string(dir.join("api/responses").join(f)).unwrap();
        // The API server's list responses as recorded: items without a kind.
        objs.push(serde_json::from_str::<Value>(&text).unwrap());
    }
    Rbac::from_objects(&objs)
}

fn find<'a>(u: &'a [SubjectUsage], s: &Subject) -> &'a SubjectUsage {
    u.iter()
        .find(|x| x.subject == *s)
        .unwrap_or_else(|| panic!("{s} not reported"))
}

#[test]
fn recorded_cluster_usage() {
    let Some(dir) = recordings() else { return };
    let ev = evidence(&dir);
    let rbac = cluster_rbac(&dir);
    let report = rbac.usage(&ev);
    assert_eq!(
        report.window.first.as_deref(),
        Some("2026-11-23T15:21:36.175072Z")
    );
    assert!(report.window.covered_seconds >= 14 * 60);

    // Nothing exercised is reported unused: every rule that allows an audited, allowed,
    // non-superuser request of its subject is `used`.
    for su in &report.subjects {
        for b in &su.bindings {
            for r in &b.rules {
                if r.status == RuleStatus::Used {
                    continue;
                }
                for req in ev.requests() {
                    if req.decision == AuthzDecision::Allow
                        && !req.user.is_superuser()
                        && palisade_rbac::made_by(&su.subject, &req.user)
                        && req.request.allowed_by(&r.rule)
                    {
                        let d = rbac.authorize(&req.user, &req.request);
                        assert!(
                            !d.via.iter().any(|g| g.binding_name == b.binding_name
                                && g.binding_kind == b.binding_kind
                                && g.binding_namespace == b.binding_namespace
                                && g.rule_index == r.rule_index),
                            "{}: {} rule {} exercised by {} but reported {:?}",
                            su.subject,
                            b.binding_name,
                            r.rule_index,
                            req.request,
                            r.status
                        );
                    }
                }
            }
        }
    }

    // A subject that made no request is "no evidence", never "unused": jane@example.com is bound to
    // cluster-admin and never appears in the log.
    let jane = find(&report.subjects, &Subject::user("jane@example.com"));
    assert_eq!(jane.requests, 0);
    assert_eq!(jane.unused_rules, 0);
    assert!(jane
        .bindings
        .iter()
        .flat_map(|b| &b.rules)
        .all(|r| r.status == RuleStatus::NoEvidence));

    // Seeded grants used in part are found: ci-deployer holds admin in `ci` and `staging`
    // and edit in `web`; it worked in `ci` and `web` only.
    let ci = find(&report.subjects, &Subject::user("ci-deployer"));
    assert!(ci.requests > 40, "{}", ci.requests);
    let binding = |ns: &str| {
        ci.bindings
            .iter()
            .find(|b| b.binding_namespace.as_deref() == Some(ns))
            .unwrap_or_else(|| panic!("no binding in {ns}"))
    };
    let staging = binding("staging");
    assert!(staging.rules.iter().all(|r| r.status != RuleStatus::Used));
    assert!(staging.rules.iter().any(|r| r.status == RuleStatus::Unused));
    for ns in ["ci", "web"] {
        let b = binding(ns);
        assert!(b.rules.iter().any(|r| r.status == RuleStatus::Used), "{ns}");
        assert!(
            b.rules.iter().any(|r| r.status == RuleStatus::Unused),
            "{ns}"
        );
    }
    // ci/runner used every rule of rbac-manager (bind, escalate, impersonate).
    let runner = find(&report.subjects, &Subject::service_account("ci", "runner"));
    assert!(runner
        .bindings
        .iter()
        .filter(|b| b.role_name == "rbac-manager")
        .flat_map(|b| &b.rules)
        .all(|r| r.status == RuleStatus::Used));

    // Metadata-level events count as use: dev/secret-reader's secrets reads are logged at
    // Metadata level only.
    let sr = find(
        &report.subjects,
        &Subject::service_account("dev", "secret-reader"),
    );
    assert!(
        sr.bindings.iter().flat_map(|b| &b.rules).any(
            |r| r.status == RuleStatus::Used && r.rule.resources.iter().any(|x| x == "secrets")
        ),
        "{sr:#?}"
    );
}

#[test]
fn unknown_when_the_log_cannot_show_a_group() {
    let Some(dir) = recordings() else { return };
    let ev = evidence(&dir);
    // Keep only the events of one user: groups nobody else touched become unknown.
    let objs = vec![
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "r"},
            "rules": [{"apiGroups": ["never.example.com"], "resources": ["things"], "verbs": ["get"]},
                      {"apiGroups": [""], "resources": ["secrets"], "verbs": ["delete"]}]}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "b"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
            "subjects": [{"kind": "User", "name": "viewer"}]}),
    ];
    let u = Rbac::from_objects(&objs).usage(&ev);
    let viewer = find(&u.subjects, &Subject::user("viewer"));
    let st: Vec<RuleStatus> = viewer.bindings[0].rules.iter().map(|r| r.status).collect();
    assert_eq!(st, [RuleStatus::Unknown, RuleStatus::Unused]);
}

#[test]
fn suggestions_cover_every_subject_of_the_log() {
    let Some(dir) = recordings() else { return };
    let ev = evidence(&dir);
    let users: BTreeSet<String> = ev.requests().iter().map(|r| r.user.name.clone()).collect();
    assert!(users.len() >= 10);
    for name in &users {
        let subject = Subject::parse(name);
        let s = suggest(&ev, &subject);
        let objs = s.objects("suggested");
        let rbac = Rbac::from_objects(&objs);
        // The bound identity alone, without the groups it had in the log.
        let me = UserInfo::new(name, &[]);
        let allowed: std::collections::HashSet<_> = ev
            .requests()
            .iter()
            .filter(|r| r.user.name == *name && r.decision == AuthzDecision::Allow)
            .map(|r| r.request.clone())
            .collect();
        for req in &allowed {
            assert!(
                rbac.authorize(&me, req).allowed,
                "{name}: the suggestion does not allow {req}"
            );
        }
        for r in ev
            .requests()
            .iter()
            .filter(|r| r.user.name == *name && r.decision == AuthzDecision::Forbid)
        {
            if allowed.contains(&r.request) {
                assert!(s.denied_yet_allowed.contains(&r.request.to_string()));
                continue;
            }
            assert!(
                !rbac.authorize(&me, &r.request).allowed,
                "{name}: the suggestion allows {} which the log shows denied",
                r.request
            );
        }
    }
}

/// audit2rbac's demo log (Kubernetes 1.8: no decision annotations, `timestamp` instead of
/// `requestReceivedTimestamp`, impersonated users).
#[test]
fn audit2rbac_demo_log() {
    let Some(path) = palisade_testkit::corpus("falco-k8saudit/audit2rbac/testdata/demo.log") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let mut ev = Evidence::default();
    for line in text.lines() {
        ev.add_event(&serde_json::from_str(line).unwrap()).unwrap();
    }
    assert_eq!(ev.window().first.as_deref(), Some("2017-09-11T19:55:05Z"));
    let list = |ns: Option<&str>, res: &str| {
        let r = palisade_rbac::Request::resource("list", "", res);
        match ns {
            Some(n) => r.in_namespace(n),
            None => r,
        }
    };
    let bob = suggest(&ev, &Subject::user("bob"));
    let rbac = Rbac::from_objects(&bob.objects("bob"));
    let me = UserInfo::new("bob", &[]);
    assert!(rbac.authorize(&me, &list(Some("default"), "pods")).allowed);
    assert!(!rbac.authorize(&me, &list(Some("ns1"), "pods")).allowed);
    assert!(!rbac.authorize(&me, &list(None, "nodes")).allowed);
    assert_eq!(bob.denied_yet_allowed, ["list pods in namespace default"]);
    // ns1/sa1 listed pods in all namespaces once allowed: a ClusterRole, which also allows
    // the per-namespace list the log shows denied.
    let sa = suggest(&ev, &Subject::service_account("ns1", "sa1"));
    assert_eq!(sa.roles.len(), 1);
    assert_eq!(sa.roles[0].namespace, None);
    assert!(sa
        .denied_yet_allowed
        .contains(&"list pods in namespace default".to_string()));
    // alice was only denied: nothing to suggest.
    let alice = suggest(&ev, &Subject::user("alice"));
    assert_eq!((alice.allowed_requests, alice.denied_requests), (0, 3));
    assert!(alice.roles.is_empty());
}
