//! `RBAC`: access control, evaluated with the API server's RBAC semantics by
//! `palisade-rbac` (aggregation, RoleBindings to ClusterRoles, resourceNames, subresources,
//! group subjects). Findings are reported on the binding that grants the permission.

pub(crate) mod anonymous_binding;
pub(crate) mod binding_to_missing_service_account;
pub(crate) mod cluster_admin_binding;
pub(crate) mod cluster_wide_secret_read;
pub(crate) mod default_service_account_bound;
pub(crate) mod pod_exec_access;
pub(crate) mod privilege_escalation_path;
pub(crate) mod privilege_escalation_verbs;
pub(crate) mod sensitive_cluster_access;
pub(crate) mod system_masters_binding;
pub(crate) mod unbound_risky_role;
pub(crate) mod wildcard_rbac_rule;

use palisade_core::{Context, Inventory, ObjectId};
pub(crate) use palisade_rbac::RiskKind;
use palisade_rbac::{BindingKind, BindingSubject, GrantRef, Rbac, Risk, Subject, SubjectKind};
use std::collections::HashSet;
use std::sync::Arc;

/// The kinds the RBAC rules read.
pub(crate) const RBAC_KINDS: &[&str] = &[
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
    "Namespace",
];

/// The RBAC model of the inventory, built once per scan.
pub(crate) fn rbac(inv: &Inventory) -> Arc<Rbac> {
    inv.derived(|inv| Rbac::from_inventory(inv.objects()))
}

/// Kubernetes' own users and groups (`system:kube-scheduler`, `system:nodes`,
/// `system:masters`...), whose grants are the platform's design. The groups that stand for
/// everyone (`system:anonymous`, `system:unauthenticated`, `system:authenticated`, every
/// service account) are not system subjects: granting them something is a finding.
pub(crate) fn is_system_subject(s: &Subject) -> bool {
    const EVERYONE: &[&str] = &[
        "system:anonymous",
        "system:unauthenticated",
        "system:authenticated",
        "system:serviceaccounts",
    ];
    s.kind != SubjectKind::ServiceAccount
        && s.name.starts_with("system:")
        && !EVERYONE.contains(&s.name.as_str())
        && !s.name.starts_with("system:serviceaccounts:")
}

fn binding_kind(k: BindingKind) -> &'static str {
    match k {
        BindingKind::RoleBinding => "RoleBinding",
        BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
    }
}

/// `RoleBinding` or `ClusterRoleBinding`.
pub(crate) fn kind_name(b: &BindingSubject) -> &'static str {
    binding_kind(b.binding_kind)
}

/// The binding object in the inventory (a namespaced binding written without a namespace is
/// placed in `default` by the engine, as `kubectl apply` would).
fn find_binding(
    inv: &Inventory,
    kind: BindingKind,
    ns: Option<&str>,
    name: &str,
) -> Option<ObjectId> {
    let kind = binding_kind(kind);
    inv.find_id(kind, ns, name).or_else(|| {
        (ns == Some("default"))
            .then(|| inv.find_id(kind, None, name))
            .flatten()
    })
}

/// The binding of a grant.
pub(crate) fn binding_id(inv: &Inventory, g: &GrantRef) -> Option<ObjectId> {
    find_binding(
        inv,
        g.binding_kind,
        g.binding_namespace.as_deref(),
        &g.binding_name,
    )
}

/// Reports the engine's risks of these kinds, once per binding and subject.
pub(crate) fn report_risks(inv: &Inventory, cx: &mut Context<'_>, kinds: &[RiskKind]) {
    report_risks_where(inv, cx, kinds, |_| true);
}

/// [`report_risks`] for the risks `keep` accepts.
pub(crate) fn report_risks_where(
    inv: &Inventory,
    cx: &mut Context<'_>,
    kinds: &[RiskKind],
    keep: impl Fn(&Risk) -> bool,
) {
    let rbac = rbac(inv);
    let mut seen = HashSet::new();
    for r in rbac.risks() {
        if !kinds.contains(&r.kind) || !keep(&r) || is_system_subject(&r.subject) {
            continue;
        }
        for g in &r.grants {
            if g.binding_name.starts_with("system:") {
                continue;
            }
            let Some(id) = binding_id(inv, g) else {
                continue;
            };
            if !seen.insert((id, r.subject.to_string(), r.kind)) {
                continue;
            }
            let scope = match &r.namespace {
                Some(ns) => format!("in namespace {ns}"),
                None => "cluster-wide".to_owned(),
            };
            cx.report_on(id, None, format!("{}: {} {scope} (via {g})", r.subject, r.detail))
                .fix("narrow the role to the verbs and resources the subject uses, or remove the binding")
                .property("subject", r.subject.to_string())
                .property("risk", format!("{:?}", r.kind));
        }
    }
}

/// Reports bindings singled out by a hygiene check (Kubernetes' own `system:*` bindings are
/// skipped).
pub(crate) fn report_binding_subjects(
    inv: &Inventory,
    cx: &mut Context<'_>,
    list: &[BindingSubject],
    message: impl Fn(&BindingSubject) -> String,
) {
    let mut seen = HashSet::new();
    for b in list {
        if b.binding_name.starts_with("system:") {
            continue;
        }
        let Some(id) = find_binding(
            inv,
            b.binding_kind,
            b.binding_namespace.as_deref(),
            &b.binding_name,
        ) else {
            continue;
        };
        if seen.insert((id, b.subject.to_string())) {
            cx.report_on(id, Some("/subjects".to_owned()), message(b))
                .property("subject", b.subject.to_string());
        }
    }
}
