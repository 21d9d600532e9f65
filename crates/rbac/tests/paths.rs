//! Multi-hop attack paths over the `tests/paths/*.yaml` inventories (each read together
//! with `common.yaml`, where `ops/admin` is a cluster-admin service account): two-, three-
//! and longer paths through each kind of edge, and the grants that do not open one.

use std::path::Path;

use palisade_rbac::{AttackPath, Goal, PathNode, Rbac, Subject, Technique, MAX_HOPS};
use serde::Deserialize;
use serde_json::Value;

use Technique as T;

fn objects(file: &str) -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/paths");
    let mut out = Vec::new();
    for f in ["common.yaml", file] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        for doc in serde_yaml_ng::Deserializer::from_str(&text) {
            let v = Value::deserialize(doc).unwrap();
            if !v.is_null() {
                out.push(v);
            }
        }
    }
    out
}

fn paths_of(file: &str, goal: Goal) -> Vec<AttackPath> {
    let rbac = Rbac::from_objects(&objects(file));
    assert!(rbac.skipped.is_empty(), "{:?}", rbac.skipped);
    let paths = rbac.attack_paths(goal);
    for p in &paths {
        assert!(!p.hops.is_empty() && p.hops.len() <= MAX_HOPS);
        assert_eq!(
            p.hops[0].from,
            PathNode::Identity {
                subject: p.subject.clone()
            }
        );
        for w in p.hops.windows(2) {
            assert_eq!(w[0].to, w[1].from, "hops chain: {p:#?}");
        }
    }
    paths
}

/// The techniques of the shortest path of `subject`.
fn shortest(paths: &[AttackPath], subject: &str) -> Option<Vec<Technique>> {
    let s = Subject::parse(subject);
    paths
        .iter()
        .filter(|p| p.subject == s)
        .min_by_key(|p| p.hops.len())
        .map(|p| p.hops.iter().map(|h| h.technique).collect())
}

#[test]
fn two_hops_through_pod_creation() {
    let paths = paths_of("create_pods_two_hops.yaml", Goal::ClusterAdmin);
    assert_eq!(
        shortest(&paths, "ci"),
        Some(vec![T::CreatePodAsServiceAccount, T::HoldsAdminRights])
    );
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("ci"))
        .unwrap();
    let g = &p.hops[0].grants[0];
    assert_eq!(
        (g.binding_name.as_str(), g.role_name.as_str(), g.rule_index),
        ("ci-deploys", "deployer", 0)
    );
    assert!(
        p.hops[0]
            .action
            .contains("create deployments.apps in namespace ops"),
        "{}",
        p.hops[0].action
    );
    assert_eq!(p.hops[1].grants[0].binding_name, "ops-admin");
    // The admin service account itself has no path: it already holds the goal.
    assert_eq!(shortest(&paths, "system:serviceaccount:ops:admin"), None);
}

#[test]
fn three_hops_through_two_pod_creations() {
    let paths = paths_of("create_pods_three_hops.yaml", Goal::ClusterAdmin);
    assert_eq!(
        shortest(&paths, "dev"),
        Some(vec![
            T::CreatePodAsServiceAccount,
            T::CreatePodAsServiceAccount,
            T::HoldsAdminRights
        ])
    );
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("dev"))
        .unwrap();
    assert_eq!(
        p.hops[0].to,
        PathNode::Identity {
            subject: Subject::service_account("build", "builder")
        }
    );
    assert_eq!(p.hops[1].grants[0].binding_name, "builder-runs-jobs");
    assert_eq!(
        shortest(&paths, "system:serviceaccount:build:builder"),
        Some(vec![T::CreatePodAsServiceAccount, T::HoldsAdminRights])
    );
}

#[test]
fn token_secrets_that_exist() {
    let paths = paths_of("token_secret.yaml", Goal::ClusterAdmin);
    assert_eq!(
        shortest(&paths, "reader"),
        Some(vec![
            T::ReadSecrets,
            T::ReadServiceAccountTokenSecret,
            T::HoldsAdminRights
        ])
    );
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("reader"))
        .unwrap();
    assert!(!p.hops[1].assumed);
    assert!(
        p.hops[1].action.contains("admin-token-x7k2p"),
        "{}",
        p.hops[1].action
    );
    // resourceNames: the one Secret that is a token of ops/admin.
    assert_eq!(
        shortest(&paths, "peeker"),
        Some(vec![T::ReadServiceAccountTokenSecret, T::HoldsAdminRights])
    );
    // Secrets are in the inputs and web holds no token Secret: no path.
    assert_eq!(shortest(&paths, "other-reader"), None);
    // Both readers reach Secrets in one hop.
    let to_secrets = paths_of("token_secret.yaml", Goal::Secrets);
    assert_eq!(
        shortest(&to_secrets, "other-reader"),
        Some(vec![T::ReadSecrets])
    );
    assert_eq!(shortest(&to_secrets, "reader"), Some(vec![T::ReadSecrets]));
}

#[test]
fn token_secrets_assumed_without_secrets_in_the_inputs() {
    // The same readers without any Secret object: a token Secret cannot be ruled out.
    let objs: Vec<Value> = objects("token_secret.yaml")
        .into_iter()
        .filter(|o| o["kind"] != "Secret")
        .collect();
    let paths = Rbac::from_objects(&objs).attack_paths(Goal::ClusterAdmin);
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("reader"))
        .unwrap();
    assert_eq!(p.hops.len(), 3);
    assert!(
        p.hops[1].assumed && p.hops[1].action.contains("hold no Secrets"),
        "{}",
        p.hops[1].action
    );
    // web has no service account: nothing to assume there.
    assert!(!paths
        .iter()
        .any(|p| p.subject == Subject::user("other-reader")));
}

#[test]
fn token_requests_and_impersonation() {
    let paths = paths_of("token_request_impersonate.yaml", Goal::ClusterAdmin);
    assert_eq!(
        shortest(&paths, "minter"),
        Some(vec![T::CreateServiceAccountToken, T::HoldsAdminRights])
    );
    assert_eq!(shortest(&paths, "not-minter"), None);
    assert_eq!(
        shortest(&paths, "imp"),
        Some(vec![T::Impersonate, T::HoldsAdminRights])
    );
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("gimp"))
        .unwrap();
    assert_eq!(
        p.hops[0].to,
        PathNode::Identity {
            subject: Subject::group("system:masters")
        }
    );
    assert_eq!(
        p.hops[0].grants.len(),
        2,
        "the group and the user impersonated"
    );
    assert!(p.hops[1].action.contains("bypasses RBAC"));
    // Impersonating groups needs a user to impersonate as well.
    assert_eq!(shortest(&paths, "gonly"), None);
}

#[test]
fn bind_and_escalate() {
    let paths = paths_of("bind_escalate.yaml", Goal::ClusterAdmin);
    assert_eq!(shortest(&paths, "binder"), Some(vec![T::BindPowerfulRole]));
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("binder"))
        .unwrap();
    assert_eq!(p.hops[0].grants.len(), 2);
    // Bound only in ops: everything in ops, where the admin service account lives.
    assert_eq!(
        shortest(&paths, "nsbinder"),
        Some(vec![T::BindPowerfulRole, T::HoldsAdminRights])
    );
    assert_eq!(shortest(&paths, "esc"), Some(vec![T::EscalateOwnRole]));
}

#[test]
fn nodes_and_pods() {
    let paths = paths_of("nodes_pods.yaml", Goal::ClusterAdmin);
    assert_eq!(
        shortest(&paths, "proxy"),
        Some(vec![
            T::NodesProxy,
            T::NodeRunsPod,
            T::PodServiceAccountToken,
            T::HoldsAdminRights
        ])
    );
    assert_eq!(
        shortest(&paths, "debugger"),
        Some(vec![
            T::ExecIntoPod,
            T::EscapeToNode,
            T::NodeRunsPod,
            T::PodServiceAccountToken,
            T::HoldsAdminRights
        ])
    );
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("debugger"))
        .unwrap();
    assert_eq!(
        p.hops[1].to,
        PathNode::Node {
            name: "node-1".into()
        }
    );
    assert_eq!(
        p.hops[2].to,
        PathNode::Pod {
            namespace: "kube-system".into(),
            name: "controller".into()
        }
    );
    assert!(
        p.hops[1].action.contains("privileged container shell"),
        "{}",
        p.hops[1].action
    );
    assert_eq!(
        shortest(&paths, "patcher"),
        Some(vec![
            T::PatchPodImage,
            T::PodServiceAccountToken,
            T::HoldsAdminRights
        ])
    );
    // The pod without a mounted token is no way to its service account.
    assert!(!paths.iter().flat_map(|p| &p.hops).any(|h| h.from
        == PathNode::Pod {
            namespace: "kube-system".into(),
            name: "muted".into()
        }));
    let to_nodes = paths_of("nodes_pods.yaml", Goal::Nodes);
    assert_eq!(
        shortest(&to_nodes, "debugger"),
        Some(vec![T::ExecIntoPod, T::EscapeToNode])
    );
    assert_eq!(shortest(&to_nodes, "proxy"), Some(vec![T::NodesProxy]));
    // patcher becomes the cluster admin, who may use nodes/proxy.
    assert_eq!(
        shortest(&to_nodes, "patcher"),
        Some(vec![
            T::PatchPodImage,
            T::PodServiceAccountToken,
            T::NodesProxy
        ])
    );
}

#[test]
fn without_pods_nodes_proxy_assumes_any_service_account() {
    let objs: Vec<Value> = objects("nodes_pods.yaml")
        .into_iter()
        .filter(|o| o["kind"] != "Pod")
        .collect();
    let paths = Rbac::from_objects(&objs).attack_paths(Goal::ClusterAdmin);
    let p = paths
        .iter()
        .find(|p| p.subject == Subject::user("proxy"))
        .unwrap();
    assert_eq!(p.hops.len(), 3);
    assert!(p.hops[1].assumed);
    assert!(!paths.iter().any(|p| p.subject == Subject::user("debugger")));
}

#[test]
fn paths_longer_than_the_bound_are_not_reported() {
    // A chain of pod creators ns-0 -> ns-1 -> ... -> ops: the first subjects are too far.
    let mut objs = objects("create_pods_two_hops.yaml");
    let n = MAX_HOPS + 2;
    for i in 0..n {
        let target = if i + 1 == n {
            "ops".to_string()
        } else {
            format!("ns-{}", i + 1)
        };
        objs.push(serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": format!("chain-{i}"), "namespace": target},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
            "subjects": [{"kind": "ServiceAccount", "name": "sa", "namespace": format!("ns-{i}")}]}));
        objs.push(
            serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "deployer", "namespace": target},
            "rules": [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]}),
        );
    }
    let rbac = Rbac::from_objects(&objs);
    let paths = rbac.attack_paths(Goal::ClusterAdmin);
    let len =
        |ns: usize| shortest(&paths, &format!("system:serviceaccount:ns-{ns}:sa")).map(|t| t.len());
    assert_eq!(len(n - 1), Some(2));
    assert_eq!(len(n - MAX_HOPS + 1), Some(MAX_HOPS));
    assert_eq!(len(n - MAX_HOPS), None);
}
