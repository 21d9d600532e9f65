//! The cost of one admission review with the cluster cache, against the same review without
//! it, over generated clusters of 1,000 and 5,000 objects (namespaces, each with a
//! Deployment, a ServiceAccount, a Role, a RoleBinding, a NetworkPolicy and a
//! PodDisruptionBudget, plus ClusterRoles and ClusterRoleBindings).
//!
//! `cargo bench -p palisade-admission --bench cluster_review`. Each review with the cache
//! copies the cached objects of the kinds its rules read and runs those rules over them, so
//! its cost grows with the cluster: the figures say by how much.
#![allow(missing_docs)] // criterion_group! generates undocumented pub fns

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use palisade_admission::{Evaluator, EvaluatorOptions, StaticView};
use palisade_analyze::Options;
use palisade_core::{Object, SpanIndex};
use serde_json::{json, Value};
use std::sync::Arc;

fn obj(v: Value) -> Object {
    Object::from_value(v, None, SpanIndex::default()).expect("object")
}

/// About `size` objects: seven per namespace.
fn cluster(size: usize) -> Vec<Object> {
    let mut out = Vec::with_capacity(size);
    let namespaces = size / 7;
    for i in 0..namespaces {
        let ns = format!("team-{i}");
        let labels = json!({"app": format!("app-{i}")});
        out.push(obj(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        ));
        out.push(obj(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": {
                    "serviceAccountName": "app",
                    "containers": [{"name": "c", "image": "registry.example.com/app:1.0"}]}}}})));
        out.push(obj(json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "app", "namespace": ns}})));
        out.push(obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "app", "namespace": ns},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}),
        ));
        out.push(obj(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "app", "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "app"},
            "subjects": [{"kind": "ServiceAccount", "name": "app", "namespace": ns}]}),
        ));
        out.push(obj(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        ));
        out.push(obj(
            json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "app", "namespace": ns},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": labels}}}),
        ));
    }
    out
}

fn review(object: Value) -> Vec<u8> {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_owned();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u", "kind": {"group": group, "version": version, "kind": object["kind"]},
            "resource": {"group": group, "version": version, "resource": "x"},
            "name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
            "operation": "CREATE", "userInfo": {"username": "alice"}, "object": object}})
    .to_string()
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let today = jiff::civil::date(2026, 11, 23);
    let binding = review(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "extra", "namespace": "team-3"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "app"},
        "subjects": [{"kind": "User", "name": "bob"}]}),
    );
    let deployment = review(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "team-3"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                "containers": [{"name": "c", "image": "registry.example.com/web:1.0"}]}}}}));
    let plain = Evaluator::new(Options::new(today), EvaluatorOptions::default());
    let mut g = c.benchmark_group("review");
    g.sample_size(20);
    g.bench_function("deployment/no-cache", |b| {
        b.iter(|| plain.review(black_box(&deployment), today).expect("review"))
    });
    g.bench_function("rolebinding/no-cache", |b| {
        b.iter(|| plain.review(black_box(&binding), today).expect("review"))
    });
    for size in [1_000, 5_000] {
        let with = Evaluator::new(Options::new(today), EvaluatorOptions::default())
            .with_cluster_view(Arc::new(StaticView::new(cluster(size))));
        g.bench_function(format!("deployment/cache-{size}"), |b| {
            b.iter(|| with.review(black_box(&deployment), today).expect("review"))
        });
        g.bench_function(format!("rolebinding/cache-{size}"), |b| {
            b.iter(|| with.review(black_box(&binding), today).expect("review"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
