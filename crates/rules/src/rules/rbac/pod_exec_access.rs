use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Subjects granted `create` (or `get`, the older streaming path) on `pods/exec` or `pods/attach`.
    ///
    /// ## Why it matters
    /// A shell in a pod gives its service account token, its mounted secrets and its network position; in
    /// production it also bypasses change control. Attackers use it to move laterally (MITRE T1609).
    ///
    /// ## How to fix
    /// Keep exec for a break-glass role bound just in time; debug with logs, metrics and ephemeral containers in
    /// non-production namespaces.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["pods/exec"]
    ///   verbs: ["create"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["pods/log"]
    ///   verbs: ["get"]
    /// ```
    pub(crate) struct PodExecAccess;
    id: "RBAC004",
    name: "pod-exec-access",
    severity: Medium,
    summary: "Subject can exec into or attach to pods",
    references: ["cis:5.1.4", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for PodExecAccess {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        report_risks(inv, cx, &[RiskKind::PodExec, RiskKind::PodAttach]);
    }
}
