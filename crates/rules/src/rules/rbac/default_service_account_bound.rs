use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// RoleBindings and ClusterRoleBindings whose subjects include a `default` ServiceAccount.
    ///
    /// ## Why it matters
    /// Every pod that names no service account runs as `default`: permissions given to it go to every such
    /// workload of the namespace, present and future.
    ///
    /// ## How to fix
    /// Create a dedicated service account for the workload that needs the permissions, and bind that one.
    ///
    /// ## Example
    /// ```yaml
    /// subjects:
    /// - {kind: ServiceAccount, name: default, namespace: shop}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// subjects:
    /// - {kind: ServiceAccount, name: api, namespace: shop}
    /// ```
    pub(crate) struct DefaultServiceAccountBound;
    id: "RBAC006",
    name: "default-service-account-bound",
    severity: Medium,
    summary: "A namespace's `default` service account is bound to a role",
    references: ["cis:5.1.5", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac", "book:ops.workload-identity"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for DefaultServiceAccountBound {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn object_local(&self) -> bool {
        // Reported on the object that says it, from that object alone.
        true
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let rbac = rbac(inv);
        report_binding_subjects(inv, cx, &rbac.default_service_account_bindings(), |b| {
            format!(
                "{} {} binds {} to {}",
                kind_name(b),
                b.binding_name,
                b.subject,
                b.role
            )
        });
    }
}
