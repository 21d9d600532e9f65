//! The rules that read the rest of the cluster, at admission, from a cluster view with the
//! reviewed object overlaid; and the failure policy when the view cannot answer.

use crate::util::{date, options};
use palisade_admission::{
    Evaluator, EvaluatorOptions, FailurePolicy, Outcome, StaticView, Verdict,
};
use palisade_core::{Object, SpanIndex};
use serde_json::{json, Value};
use std::sync::Arc;

const TODAY: &str = "2026-11-23";

fn object(v: Value) -> Object {
    Object::from_value(v, None, SpanIndex::default()).expect("object")
}

/// An AdmissionReview for `object` (cluster-scoped kinds without a namespace, as the API
/// server sends them).
fn review(operation: &str, object: &Value, old: Option<&Value>) -> Vec<u8> {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or("");
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "u-1",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": "x"},
            "name": object["metadata"]["name"].as_str().unwrap_or(""),
            "namespace": object["metadata"]["namespace"].as_str(),
            "operation": operation,
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": old,
            "dryRun": false,
        }
    })
    .to_string()
    .into_bytes()
}

fn evaluator(policy: &str, view: Option<StaticView>, failure_policy: FailurePolicy) -> Evaluator {
    let e = Evaluator::new(
        options(policy, TODAY),
        EvaluatorOptions {
            failure_policy,
            ..EvaluatorOptions::default()
        },
    );
    match view {
        Some(v) => e.with_cluster_view(Arc::new(v)),
        None => e,
    }
}

fn run(e: &Evaluator, body: &[u8]) -> Outcome {
    e.review(body, date(TODAY)).expect("review")
}

fn ids(o: &Outcome) -> Vec<&'static str> {
    let mut v: Vec<_> = o.findings.iter().map(|d| d.finding.rule_id).collect();
    v.sort();
    v.dedup();
    v
}

fn response(o: &Outcome) -> Value {
    serde_json::to_value(&o.review).expect("json")["response"].clone()
}

fn cluster_role(name: &str, rules: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name}, "rules": rules})
}

fn binding(name: &str, role: &str, user: &str) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]})
}

const DENY_RBAC: &str =
    "profile: restricted\ndefaultMode: audit\nrules:\n  RBAC001: {mode: deny}\n";

#[test]
fn a_binding_is_judged_by_the_role_it_grants_from_the_cache() {
    let all = cluster_role(
        "everything",
        json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
    );
    let view = || {
        StaticView::new(vec![
            object(all.clone()),
            object(cluster_role(
                "reader",
                json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]),
            )),
        ])
    };
    let body = review("CREATE", &binding("ops", "everything", "bob"), None);
    // Without a cache the rule cannot answer at admission, and is not run.
    let e = evaluator(DENY_RBAC, None, FailurePolicy::Fail);
    assert!(!e.rule_ids().contains(&"RBAC001"));
    let o = run(&e, &body);
    assert!(!ids(&o).contains(&"RBAC001"), "{:?}", ids(&o));
    // With it: denied, naming the rule.
    let e = evaluator(DENY_RBAC, Some(view()), FailurePolicy::Fail);
    assert!(e.rule_ids().contains(&"RBAC001"));
    let o = run(&e, &body);
    assert_eq!(o.verdict, Verdict::Denied, "{:?}", response(&o));
    assert!(response(&o)["status"]["message"]
        .as_str()
        .unwrap()
        .contains("RBAC001"));
    // A binding to a harmless role passes.
    let o = run(
        &e,
        &review("CREATE", &binding("ops", "reader", "bob"), None),
    );
    assert!(!ids(&o).contains(&"RBAC001"), "{:?}", ids(&o));
    assert_ne!(o.verdict, Verdict::Denied);
}

#[test]
fn the_reviewed_object_replaces_its_stored_version() {
    let all = cluster_role(
        "everything",
        json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
    );
    let reader = cluster_role(
        "reader",
        json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]),
    );
    // The cache holds the binding as it was (to everything); the update points it at reader.
    let view = StaticView::new(vec![
        object(all),
        object(reader),
        object(binding("ops", "everything", "bob")),
    ]);
    let e = evaluator(DENY_RBAC, Some(view), FailurePolicy::Fail);
    let old = binding("ops", "everything", "bob");
    let o = run(
        &e,
        &review("UPDATE", &binding("ops", "reader", "bob"), Some(&old)),
    );
    assert!(!ids(&o).contains(&"RBAC001"), "{:?}", ids(&o));
    // The reverse: stored harmless, updated to everything, is a new violation: denied.
    let view = StaticView::new(vec![
        object(cluster_role(
            "everything",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        )),
        object(binding("ops", "reader", "bob")),
    ]);
    let e = evaluator(DENY_RBAC, Some(view), FailurePolicy::Fail);
    let old = binding("ops", "reader", "bob");
    let o = run(
        &e,
        &review("UPDATE", &binding("ops", "everything", "bob"), Some(&old)),
    );
    assert_eq!(o.verdict, Verdict::Denied, "{:?}", response(&o));
}

#[test]
fn service_account_settings_come_from_the_cache() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "app"},
        "spec": {"serviceAccountName": "quiet", "containers": [{"name": "c", "image": "r.example/i:1"}]}});
    let sa = |automount: bool| {
        object(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "quiet", "namespace": "app"}, "automountServiceAccountToken": automount}))
    };
    let policy = "profile: restricted\nselect: [SEC001]\n";
    let e = evaluator(
        policy,
        Some(StaticView::new(vec![sa(false)])),
        FailurePolicy::Fail,
    );
    assert!(!ids(&run(&e, &review("CREATE", &pod, None))).contains(&"SEC001"));
    let e = evaluator(
        policy,
        Some(StaticView::new(vec![sa(true)])),
        FailurePolicy::Fail,
    );
    assert!(ids(&run(&e, &review("CREATE", &pod, None))).contains(&"SEC001"));
}

#[test]
fn a_rule_about_something_missing_warns_and_never_denies() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "r.example/web:1"}]}}}});
    let policy = "profile: restricted\nselect: [REL003]\ndefaultMode: deny\n";
    let e = evaluator(policy, Some(StaticView::new(vec![])), FailurePolicy::Fail);
    let o = run(&e, &review("CREATE", &deployment, None));
    assert_eq!(ids(&o), vec!["REL003"]);
    assert_eq!(o.verdict, Verdict::Warned);
    let warnings = response(&o)["warnings"].to_string();
    assert!(warnings.contains("never a denial"), "{warnings}");
    // A budget that selects the workload's pods, in the cache: no finding.
    let pdb = object(
        json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}),
    );
    let e = evaluator(
        policy,
        Some(StaticView::new(vec![pdb])),
        FailurePolicy::Fail,
    );
    let o = run(&e, &review("CREATE", &deployment, None));
    assert!(ids(&o).is_empty(), "{:?}", ids(&o));
    assert_eq!(o.verdict, Verdict::Allowed);
}

#[test]
fn an_unsynced_cache_follows_the_failure_policy_and_says_so() {
    let body = review("CREATE", &binding("ops", "everything", "bob"), None);
    let not_synced = || StaticView::not_ready(&[("ClusterRole", "not listed yet")]);
    // Deny-mode rule, Fail: denied, naming the rule and the kind.
    let e = evaluator(DENY_RBAC, Some(not_synced()), FailurePolicy::Fail);
    let o = run(&e, &body);
    assert_eq!(o.verdict, Verdict::Denied);
    let msg = response(&o)["status"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("RBAC001") && msg.contains("ClusterRole (not listed yet)"),
        "{msg}"
    );
    assert!(o.not_evaluated.contains(&"RBAC001"));
    // Ignore: admitted, with a warning saying what was not evaluated.
    let e = evaluator(DENY_RBAC, Some(not_synced()), FailurePolicy::Ignore);
    let o = run(&e, &body);
    assert_eq!(o.verdict, Verdict::Warned);
    let warnings = response(&o)["warnings"].to_string();
    assert!(
        warnings.contains("RBAC001") && warnings.contains("not evaluated"),
        "{warnings}"
    );
    // Audit mode: admitted, with the audit annotation.
    let e = evaluator(
        "profile: restricted\ndefaultMode: audit\n",
        Some(not_synced()),
        FailurePolicy::Fail,
    );
    let o = run(&e, &body);
    assert_ne!(o.verdict, Verdict::Denied);
    let ann = response(&o)["auditAnnotations"]["not-evaluated"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(ann.contains("RBAC001"), "{:?}", response(&o));
    // An object none of the waiting rules reads is not affected.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}, "data": {}});
    let e = evaluator(DENY_RBAC, Some(not_synced()), FailurePolicy::Fail);
    let o = run(&e, &review("CREATE", &cm, None));
    assert!(o.not_evaluated.is_empty());
    assert_ne!(o.verdict, Verdict::Denied);
}
