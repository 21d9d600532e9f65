use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Subjects granted `escalate` or `bind` on roles, `impersonate` on users, groups or service accounts, or
    /// `update`/`patch` on Roles, ClusterRoles and their bindings.
    ///
    /// ## Why it matters
    /// These verbs exist to get around RBAC's own escalation check: `escalate` edits a role beyond the editor's
    /// permissions, `bind` grants a role the binder does not hold, `impersonate` acts as anyone.
    ///
    /// ## How to fix
    /// Remove these verbs from application roles; keep them for the platform team's RBAC automation.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    /// - apiGroups: ["rbac.authorization.k8s.io"]
    ///   resources: ["clusterroles"]
    ///   verbs: ["bind", "escalate"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// rules:
    /// - apiGroups: ["rbac.authorization.k8s.io"]
    ///   resources: ["rolebindings"]
    ///   verbs: ["get", "list"]
    /// ```
    pub(crate) struct PrivilegeEscalationVerbs;
    id: "RBAC005",
    name: "rbac-escalation-verbs",
    severity: High,
    summary: "Subject can escalate, bind, impersonate or edit RBAC",
    references: ["cis:5.1.8", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for PrivilegeEscalationVerbs {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        report_risks(
            inv,
            cx,
            &[
                RiskKind::Escalate,
                RiskKind::Bind,
                RiskKind::Impersonate,
                RiskKind::RbacModify,
            ],
        );
    }
}
