use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Users, groups and service accounts granted every verb on every resource (`cluster-admin` or any role with
    /// `*`/`*`/`*`) cluster-wide, or namespace-wide through a RoleBinding. Kubernetes' own bootstrap bindings
    /// (`system:*`) and `system:*` users and groups other than the anonymous and all-authenticated groups are not
    /// reported. The finding is on the binding that grants it. A `cluster-admin` ClusterRole defined in the manifests
    /// keeps every verb on every resource: the API server adds the bootstrap rules back at start-up, unless the role
    /// is annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`. A ClusterRoleBinding written with a
    /// namespace binds cluster-wide (the API server ignores the namespace of a cluster-scoped object).
    ///
    /// ## Why it matters
    /// cluster-admin can read every Secret, exec into every pod and rewrite RBAC itself: a stolen token of such a
    /// subject is the whole cluster. Shared admin identities also defeat audit.
    ///
    /// ## How to fix
    /// Bind people to narrowly scoped roles through a central identity provider group, and service accounts to
    /// roles listing the verbs and resources they use. Keep cluster-admin for break-glass accounts.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: {kind: ClusterRole, name: cluster-admin}
    /// subjects:
    /// - {kind: ServiceAccount, name: api, namespace: shop}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {namespace: shop}
    /// roleRef: {kind: Role, name: api-config-reader}
    /// subjects:
    /// - {kind: ServiceAccount, name: api, namespace: shop}
    /// ```
    pub(crate) struct ClusterAdminBinding;
    id: "RBAC001",
    name: "cluster-admin-binding",
    severity: Critical,
    summary: "Subject holds cluster-admin-equivalent power",
    references: ["cis:5.1.1", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac", "book:ops.identity"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for ClusterAdminBinding {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        report_risks(inv, cx, &[RiskKind::ClusterAdmin]);
    }
}
