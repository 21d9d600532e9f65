use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Subjects that are not cluster admins but have a path to cluster-admin-equivalent power: creating pods (or
    /// workloads) in a namespace whose service account is stronger, reading a powerful service account's token
    /// Secret or minting its token, impersonating, escalating or binding, using `nodes/proxy`, approving CSRs, or
    /// registering a mutating webhook. `palisade rbac paths` shows each path step by step.
    ///
    /// ## Why it matters
    /// Least privilege is what a subject can reach, not what it holds: "can create pods in kube-system" is
    /// cluster-admin in two steps.
    ///
    /// ## How to fix
    /// Break the first step: narrow the grant, or move the powerful service account out of the namespaces the
    /// subject can deploy to.
    ///
    /// ## Example
    /// ```yaml
    /// # ci can create Deployments in ops, where ops-admin (cluster-admin) lives
    /// kind: RoleBinding
    /// metadata: {namespace: ops}
    /// roleRef: {kind: ClusterRole, name: edit}
    /// subjects:
    /// - {kind: ServiceAccount, name: ci, namespace: ci}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: RoleBinding
    /// metadata: {namespace: shop}
    /// roleRef: {kind: ClusterRole, name: edit}
    /// subjects:
    /// - {kind: ServiceAccount, name: ci, namespace: ci}
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.1.6; NSA/CISA Kubernetes Hardening Guidance, "Authentication and authorization"; NIST SP 800-190
    /// 4.3.1; OWASP Kubernetes Top 10 K03.
    pub(crate) struct PrivilegeEscalationPath;
    id: "RBAC010",
    name: "privilege-escalation-path",
    severity: High,
    summary: "Subject can reach cluster-admin-equivalent power in a few steps",
    references: ["cis:5.1.6", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for PrivilegeEscalationPath {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let rbac = rbac(inv);
        let mut seen = std::collections::HashSet::new();
        for p in rbac.escalation_paths() {
            if is_system_subject(&p.subject) {
                continue;
            }
            let Some(grant) = p.steps.iter().find_map(|s| s.grant.as_ref()) else {
                continue;
            };
            if grant.binding_name.starts_with("system:") {
                continue;
            }
            let Some(id) = binding_id(inv, grant) else {
                continue;
            };
            if !seen.insert((id, p.subject.to_string(), format!("{:?}", p.technique))) {
                continue;
            }
            let steps: Vec<&str> = p.steps.iter().map(|s| s.action.as_str()).collect();
            cx.report_on(
                id,
                None,
                format!(
                    "{} can reach cluster-admin-equivalent power: {}",
                    p.subject,
                    steps.join(" -> ")
                ),
            )
            .fix("narrow the grant of the first step (see `palisade rbac paths`)")
            .property("technique", format!("{:?}", p.technique));
        }
    }
}
