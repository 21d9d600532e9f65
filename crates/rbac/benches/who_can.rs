//! `who_can` and `escalation_paths` over a generated inventory of 10,000 bindings and 2,000
//! roles.
#![allow(missing_docs)] // criterion_group! generates undocumented pub fns
//!
//! Targets: each `who_can` query under 50 ms (indexes are built once, outside the
//! measurement); the attack paths of every subject to cluster-admin (`rbac paths`), and
//! the one-step escalation paths, each under a second.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use palisade_rbac::{Goal, Rbac, Request};
use serde_json::{json, Value};

const NAMESPACES: usize = 100;
const CLUSTER_ROLES: usize = 1_000;
const ROLES: usize = 1_000;
const CLUSTER_BINDINGS: usize = 2_000;
const ROLE_BINDINGS: usize = 8_000;

const RESOURCES: &[(&str, &str)] = &[
    ("", "pods"),
    ("", "secrets"),
    ("", "configmaps"),
    ("", "services"),
    ("", "pods/exec"),
    ("", "pods/log"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("batch", "jobs"),
    ("networking.k8s.io", "ingresses"),
    ("", "nodes"),
    ("rbac.authorization.k8s.io", "rolebindings"),
];
const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

fn rules(seed: usize) -> Vec<Value> {
    (0..5)
        .map(|k| {
            let (g, r) = RESOURCES[(seed * 7 + k * 3) % RESOURCES.len()];
            let v1 = VERBS[(seed + k) % VERBS.len()];
            let v2 = VERBS[(seed * 3 + k) % VERBS.len()];
            let mut rule = json!({"apiGroups": [g], "resources": [r], "verbs": [v1, v2]});
            if (seed + k).is_multiple_of(11) {
                rule["resourceNames"] = json!([format!("obj-{seed}")]);
            }
            rule
        })
        .collect()
}

/// Builds the generated inventory: 2,000 roles, 10,000 bindings.
fn inventory() -> Vec<Value> {
    let mut objs = Vec::new();
    for i in 0..CLUSTER_ROLES {
        objs.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": format!("cr-{i}"), "labels": {"agg": format!("{}", i % 10)}},
            "rules": rules(i)}),
        );
    }
    // a few aggregated roles
    for a in 0..10 {
        objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": format!("agg-{a}")},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": format!("{a}")}}]}}));
    }
    for i in 0..ROLES {
        objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": format!("role-{i}"), "namespace": format!("ns-{}", i % NAMESPACES)},
            "rules": rules(i + 17)}));
    }
    let subjects = |i: usize| {
        let mut s = vec![json!({"kind": "User", "name": format!("user-{}", i % 3_000)})];
        if i.is_multiple_of(2) {
            s.push(json!({"kind": "Group", "name": format!("group-{}", i % 200)}));
        }
        if i.is_multiple_of(3) {
            s.push(
                json!({"kind": "ServiceAccount", "name": format!("sa-{}", i % 50),
                "namespace": format!("ns-{}", i % NAMESPACES)}),
            );
        }
        s
    };
    for i in 0..CLUSTER_BINDINGS {
        let role = if i.is_multiple_of(100) {
            format!("agg-{}", i % 10)
        } else {
            format!("cr-{}", i % CLUSTER_ROLES)
        };
        objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("crb-{i}")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects(i)}));
    }
    for i in 0..ROLE_BINDINGS {
        let ns = i % NAMESPACES;
        let role_ref = if i.is_multiple_of(2) {
            // a Role of the same namespace (role-k lives in ns-(k % 100))
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                "name": format!("role-{}", ns + NAMESPACES * ((i / NAMESPACES) % (ROLES / NAMESPACES)))})
        } else {
            json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                "name": format!("cr-{}", i % CLUSTER_ROLES)})
        };
        objs.push(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": format!("rb-{i}"), "namespace": format!("ns-{ns}")},
            "roleRef": role_ref,
            "subjects": subjects(i + 7)}),
        );
    }
    objs
}

fn bench(c: &mut Criterion) {
    let objs = inventory();
    c.bench_function("build_index_2k_roles_10k_bindings", |b| {
        b.iter(|| black_box(Rbac::from_objects(&objs)))
    });
    let rbac = Rbac::from_objects(&objs);
    assert!(rbac.skipped.is_empty(), "{:?}", rbac.skipped);
    assert_eq!(rbac.bindings().len(), CLUSTER_BINDINGS + ROLE_BINDINGS);
    // + the bootstrap cluster-admin every API server has.
    assert_eq!(rbac.roles().len(), CLUSTER_ROLES + ROLES + 10 + 1);
    let queries = [
        (
            "who_can_get_secrets_ns",
            Request::parse("get", "secrets")
                .unwrap()
                .in_namespace("ns-7"),
        ),
        (
            "who_can_create_pods_exec_ns",
            Request::parse("create", "pods/exec")
                .unwrap()
                .in_namespace("ns-42"),
        ),
        (
            "who_can_list_nodes_cluster",
            Request::parse("list", "nodes").unwrap(),
        ),
        (
            "who_can_get_named_deployment",
            Request::parse("get", "deployments.apps")
                .unwrap()
                .in_namespace("ns-3")
                .named("obj-3"),
        ),
    ];
    for (name, q) in &queries {
        assert!(rbac.who_can(q).len() > 1, "{name}: expected grants");
        c.bench_function(name, |b| b.iter(|| black_box(rbac.who_can(black_box(q)))));
    }
}

/// Every subject's escalation paths, with a few cluster-admin service accounts in the
/// generated inventory so that pod creation, token and impersonation paths exist.
fn bench_paths(c: &mut Criterion) {
    let mut objs = inventory();
    for n in [5, 42, 77] {
        objs.push(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("admin-sa-{n}")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
            "subjects": [{"kind": "ServiceAccount", "name": format!("sa-{n}"), "namespace": format!("ns-{n}")}]}));
    }
    let rbac = Rbac::from_objects(&objs);
    let paths = rbac.escalation_paths();
    assert!(!paths.is_empty());
    let mut g = c.benchmark_group("paths");
    g.sample_size(10);
    g.bench_function("escalation_paths_all_subjects_2k_roles_10k_bindings", |b| {
        b.iter(|| black_box(rbac.escalation_paths()))
    });
    // The multi-hop search: shortest paths of every subject to cluster-admin.
    let attack = rbac.attack_paths(Goal::ClusterAdmin);
    assert!(
        attack.iter().any(|p| p.hops.len() > 2),
        "multi-hop paths expected"
    );
    g.bench_function(
        "attack_paths_to_cluster_admin_all_subjects_2k_roles_10k_bindings",
        |b| b.iter(|| black_box(rbac.attack_paths(Goal::ClusterAdmin))),
    );
    g.finish();
}

criterion_group!(benches, bench, bench_paths);
criterion_main!(benches);
