use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Subjects that are not cluster admins but have a path, of one or several hops, to cluster-admin-equivalent
    /// power. The hops are the escalation paths of the Kubernetes RBAC good practices: creating pods (or
    /// workloads) in a namespace becomes any of its service accounts; reading Secrets reaches the service-account
    /// token Secrets among them; minting a token (`serviceaccounts/token`) or impersonating becomes that identity;
    /// `bind`/`escalate` grant anything; `nodes/proxy`, `pods/exec` into a privileged, hostPID or hostPath pod, or
    /// patching a pod's image reach a node and every pod and service account on it; approving CSRs or registering
    /// a mutating webhook. So "can create pods in a namespace whose service account can create pods in
    /// kube-system" is found as well. Each path is the shortest through its first grant, at most 8 hops long;
    /// each hop names its binding, role and rule. One finding per binding, subject and first technique.
    /// `palisade rbac paths` prints every path hop by hop (`--format dot|mermaid` draws them).
    ///
    /// Token Secrets are counted only when they are among the scanned objects; when no Secret at all is scanned
    /// (RBAC manifests alone), a token Secret cannot be ruled out and the hop says it is assumed. Likewise, pods are
    /// placed on nodes by their `spec.nodeName`; without any Pod in the inputs, `nodes/proxy` is assumed to reach
    /// every service account. The rule reads only the RBAC kinds (the admission webhook's cache then needs no
    /// Pods or Secrets), so its verdict is the same in a scan, at admission and in the background audit, whatever
    /// other rules are selected: token Secrets and pods on nodes are always assumed here, and `palisade rbac paths`
    /// uses the Pods, Secrets and Nodes it is given.
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
        let rbac = inv.derived(RbacKindsOnly::of);
        let rbac = &rbac.0;
        let mut seen = std::collections::HashSet::new();
        for p in rbac.attack_paths(palisade_rbac::Goal::ClusterAdmin) {
            if is_system_subject(&p.subject) {
                continue;
            }
            let Some(grant) = p.first_grant() else {
                continue;
            };
            if grant.binding_name.starts_with("system:") {
                continue;
            }
            let Some(id) = binding_id(inv, grant) else {
                continue;
            };
            let technique = format!("{:?}", p.hops[0].technique);
            if !seen.insert((id, p.subject.to_string(), technique.clone())) {
                continue;
            }
            let steps: Vec<&str> = p.hops.iter().map(|h| h.action.as_str()).collect();
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
            .property("subject", p.subject.to_string())
            .property("technique", technique)
            .property("hops", p.hops.len().to_string());
        }
    }
}

/// The RBAC engine over the objects of the RBAC kinds alone (what the rule asks for), so that
/// Pods, Secrets and Nodes read for other rules never change its verdict.
struct RbacKindsOnly(palisade_rbac::Rbac);

impl RbacKindsOnly {
    fn of(inv: &Inventory) -> Self {
        RbacKindsOnly(palisade_rbac::Rbac::from_inventory(
            inv.objects()
                .iter()
                .filter(|o| RBAC_KINDS.contains(&o.kind.as_str())),
        ))
    }
}
