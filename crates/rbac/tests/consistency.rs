//! Cross-checks `who_can` (per-request index walk) against `can` (per-subject index
//! walk) over a generated inventory: they are computed differently and must agree.

use palisade_rbac::{Rbac, Request, Subject};
use serde_json::{json, Value};

const RES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "secrets"),
    ("", "pods/exec"),
    ("apps", "deployments"),
    ("", "nodes"),
    ("", "*/status"),
    ("*", "*"),
];
const VERBS: &[&str] = &["get", "list", "create", "delete", "*"];

fn inventory() -> Vec<Value> {
    let mut objs = Vec::new();
    for i in 0..60 {
        let (g, r) = RES[i % RES.len()];
        let mut rule = json!({"apiGroups": [g], "resources": [r], "verbs": [VERBS[i % VERBS.len()], VERBS[(i / 2) % VERBS.len()]]});
        if i % 4 == 0 {
            rule["resourceNames"] = json!(["x"]);
        }
        objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": format!("cr-{i}"), "labels": {"l": format!("{}", i % 5)}}, "rules": [rule]}));
        objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": format!("r-{i}"), "namespace": format!("ns-{}", i % 4)}, "rules": [rule]}));
    }
    objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"l": "3"}}]}}));
    for i in 0..300 {
        let subjects = json!([
            {"kind": "User", "name": format!("u-{}", i % 40)},
            {"kind": "Group", "name": format!("g-{}", i % 7)},
            {"kind": "ServiceAccount", "name": format!("sa-{}", i % 5)},
        ]);
        if i % 3 == 0 {
            let role = if i % 30 == 0 {
                "agg".to_string()
            } else {
                format!("cr-{}", i % 60)
            };
            objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": format!("crb-{i}")},
                "roleRef": {"kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "User", "name": format!("u-{}", i % 40)}, {"kind": "ServiceAccount", "name": "sa-0", "namespace": "ns-1"}]}));
        } else {
            let ns = i % 4;
            let role_ref = if i % 2 == 0 {
                json!({"kind": "Role", "name": format!("r-{}", (i % 15) * 4 + ns)})
            } else {
                json!({"kind": "ClusterRole", "name": format!("cr-{}", i % 60)})
            };
            objs.push(
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": format!("rb-{i}"), "namespace": format!("ns-{ns}")},
                "roleRef": role_ref, "subjects": subjects}),
            );
        }
    }
    objs
}

#[test]
fn who_can_agrees_with_can() {
    let objs = inventory();
    let rbac = Rbac::from_objects(&objs);
    assert!(rbac.skipped.is_empty(), "{:?}", rbac.skipped);
    let all_subjects = rbac.subjects();
    let mut requests = Vec::new();
    for what in [
        "pods",
        "secrets",
        "pods/exec",
        "deployments.apps",
        "deployments.apps/status",
        "nodes",
        "widgets.example.com",
    ] {
        for verb in ["get", "list", "create", "delete", "patch"] {
            let base = Request::parse(verb, what).unwrap();
            requests.push(base.clone());
            for ns in ["ns-0", "ns-1", "ns-3", "ns-9"] {
                requests.push(base.clone().in_namespace(ns));
                requests.push(base.clone().in_namespace(ns).named("x"));
            }
        }
    }
    let mut allowed_pairs = 0;
    for req in &requests {
        let who = rbac.who_can(req);
        for s in &all_subjects {
            // who_can lists binding subjects; `can` for a user also counts its implicit
            // groups, which this inventory never binds, so both must agree exactly.
            let listed = who.iter().any(|g| &g.subject == s);
            let d = rbac.can(s, req);
            assert_eq!(listed, d.allowed, "{s} {req}: who_can={listed} can={d:?}");
            if listed {
                allowed_pairs += 1;
                let mut a: Vec<_> = who.iter().find(|g| &g.subject == s).unwrap().via.clone();
                let mut b = d.via.clone();
                a.sort();
                b.sort();
                assert_eq!(a, b, "{s} {req}: grant paths differ");
            }
        }
    }
    assert!(allowed_pairs > 100, "inventory too sparse: {allowed_pairs}");
    // the anonymous user is not authenticated, and is bound nowhere here
    assert!(
        !rbac
            .can(
                &Subject::user("system:anonymous"),
                &Request::parse("get", "pods").unwrap()
            )
            .allowed
    );
}
