use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Subjects granted `get`, `list` or `watch` on `secrets` cluster-wide (through a ClusterRoleBinding).
    /// `list` and `watch` return the values too.
    ///
    /// ## Why it matters
    /// Secrets hold service-account tokens, registry credentials and application passwords of every namespace:
    /// reading them all is a short path to cluster-admin and to every connected system.
    ///
    /// ## How to fix
    /// Grant secret access per namespace with RoleBindings, with `resourceNames` where possible; better, mount
    /// secrets into pods instead of reading them through the API.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["secrets"]
    ///   verbs: ["get", "list"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Role
    /// metadata: {namespace: shop}
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["secrets"]
    ///   resourceNames: ["api-tls"]
    ///   verbs: ["get"]
    /// ```
    pub(crate) struct ClusterWideSecretRead;
    id: "RBAC003",
    name: "cluster-wide-secret-read",
    severity: High,
    summary: "Subject can read Secrets in every namespace",
    references: ["cis:5.1.2", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "owasp:K08", "book:ops.rbac", "book:workload.secrets"],
    tags: ["rbac", "secrets"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for ClusterWideSecretRead {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        report_risks_where(inv, cx, &[RiskKind::SecretRead], |r| r.namespace.is_none());
    }
}
