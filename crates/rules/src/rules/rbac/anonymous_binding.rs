use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// RoleBindings and ClusterRoleBindings whose subjects include `system:anonymous` or `system:unauthenticated`
    /// (Kubernetes' own `system:*` bindings, such as public discovery, are not reported).
    ///
    /// ## Why it matters
    /// Anonymous requests are on by default; anything bound to these subjects is open to whoever reaches the API
    /// server, without credentials.
    ///
    /// ## How to fix
    /// Remove the subject; bind the permissions to authenticated identities.
    ///
    /// ## Example
    /// ```yaml
    /// subjects:
    /// - {kind: User, name: system:anonymous, apiGroup: rbac.authorization.k8s.io}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// subjects:
    /// - {kind: Group, name: platform-readers, apiGroup: rbac.authorization.k8s.io}
    /// ```
    pub(crate) struct AnonymousBinding;
    id: "RBAC007",
    name: "anonymous-binding",
    severity: Critical,
    summary: "Role bound to anonymous or unauthenticated users",
    references: ["cis:5.1.7", "nsa:authentication-authorization", "nist:4.3.2", "owasp:K06", "book:ops.rbac", "book:ops.control-plane-access"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for AnonymousBinding {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn object_local(&self) -> bool {
        // Reported on the object that says it, from that object alone.
        true
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let rbac = rbac(inv);
        report_binding_subjects(inv, cx, &rbac.anonymous_bindings(), |b| {
            format!(
                "{} {} grants {} to {} (no credentials needed)",
                kind_name(b),
                b.binding_name,
                b.role,
                b.subject
            )
        });
    }
}
