use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Namespaces with workloads in the scan where no NetworkPolicy selects every pod (`podSelector: {}`) for
    /// Ingress without admitting everything. Reported on the Namespace object when it is scanned, else on the
    /// namespace's first workload.
    ///
    /// ## Why it matters
    /// Without a default deny, every pod accepts connections from every other pod of the cluster: one compromised
    /// pod can reach every database and internal API.
    ///
    /// ## How to fix
    /// Add a policy with `podSelector: {}` and `policyTypes: [Ingress]`, then allow the flows each workload needs.
    ///
    /// ## Example
    /// ```yaml
    /// # no NetworkPolicy in namespace shop
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: NetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress, Egress]
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.3.2; NSA/CISA Kubernetes Hardening Guidance, "Network separation and hardening"; NIST SP 800-190 4.3.3;
    /// OWASP Kubernetes Top 10 K07.
    pub(crate) struct MissingDefaultDenyIngress;
    id: "NET001",
    name: "missing-default-deny-ingress",
    severity: Medium,
    summary: "Namespace has no default-deny NetworkPolicy for ingress",
    references: ["cis:5.3.2", "nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.network-policies"],
    tags: ["network"],
    level: None,
    scope: Inventory,
    kinds: NET_KINDS,
    options: &[],
}

impl Rule for MissingDefaultDenyIngress {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_namespace_scoped(&self) -> bool {
        true
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::ClusterAbsence
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        report_namespaces_without_default_deny(inv, cx, Direction::Ingress, "ingress");
    }
}
