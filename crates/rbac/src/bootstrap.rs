//! The bootstrap ClusterRoles the engine knows, and the API server's reconciliation of them.
//!
//! At every start the API server ensures its bootstrap roles (`EnsureRBACPolicy` in
//! `pkg/registry/rbac/rest/storage_rbac.go`, through `ReconcileRoleOptions` with
//! `RemoveExtraPermissions: false` in `pkg/registry/rbac/reconciliation/reconcile_role.go`):
//! a missing role is created; an existing one keeps its rules and gets the bootstrap rules
//! it does not cover added back (extra rules are never removed), unless it carries
//! `rbac.authorization.kubernetes.io/autoupdate: "false"`, in which case it is left alone.

use serde_json::{json, Value};

use crate::model::{PolicyRule, Role};

/// The bootstrap ClusterRoles every API server has, as the objects it creates. Only
/// `cluster-admin` so far: the role manifests bind to without defining it, and the only
/// bootstrap role whose rules do not depend on the server's version and enabled APIs.
pub(crate) fn cluster_roles() -> Vec<Value> {
    // `ClusterRoles()` in plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, as a
    // v1.32 API server serves it.
    vec![json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": "cluster-admin",
            "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
            "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}
        },
        "rules": [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]}
        ]
    })]
}

/// Reconciles `existing` (a bootstrap role as the manifests define it) with `expected` (the
/// bootstrap definition), as `computeReconciledRole` does without removing extra
/// permissions. Returns whether anything changed.
///
/// * a role annotated `autoupdate: "false"` is left as written;
/// * labels of the bootstrap role that the role lacks are added (the role's own values win);
/// * every atomic rule (`BreakdownRule`) of the bootstrap rules that no rule of the role
///   covers (`Covers`) is appended, after the role's own rules, so their indexes stay;
/// * an aggregation rule on a role that is not aggregated at bootstrap is removed; selectors
///   of an aggregated bootstrap role that the role lacks are added.
pub(crate) fn reconcile(existing: &mut Role, expected: &Role) -> bool {
    if existing.autoupdate_disabled {
        return false;
    }
    let mut changed = false;
    for (k, v) in &expected.labels {
        if !existing.labels.contains_key(k) {
            existing.labels.insert(k.clone(), v.clone());
            changed = true;
        }
    }
    let missing: Vec<PolicyRule> = expected
        .rules
        .iter()
        .flat_map(PolicyRule::breakdown)
        .filter(|atom| !existing.rules.iter().any(|r| r.covers(atom)))
        .collect();
    if !missing.is_empty() {
        existing.rules.extend(missing);
        changed = true;
    }
    match (&expected.aggregation, &mut existing.aggregation) {
        (None, existing_agg @ Some(_)) => {
            *existing_agg = None;
            changed = true;
        }
        (Some(want), Some(have)) => {
            for sel in want {
                if !have.contains(sel) {
                    have.push(sel.clone());
                    changed = true;
                }
            }
        }
        (Some(want), None) => {
            existing.aggregation = Some(want.clone());
            changed = true;
        }
        (None, None) => {}
    }
    changed
}
