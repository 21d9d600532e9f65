use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Namespaces with workloads in the scan where no NetworkPolicy selects every pod for Egress without admitting
    /// everything. Cilium and Calico policies count as for NET001 (an `egress`/`egressDeny` section, the Egress
    /// type; see docs/network-policies.md).
    ///
    /// ## Why it matters
    /// Unrestricted egress lets a compromised pod download tools, exfiltrate data and reach the cloud instance
    /// metadata endpoint and the control plane.
    ///
    /// ## How to fix
    /// Add a default-deny egress policy, then allow DNS and the destinations each workload needs.
    ///
    /// ## Example
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {}
    ///   policyTypes: [Ingress, Egress]
    /// ```
    pub(crate) struct MissingDefaultDenyEgress;
    id: "NET002",
    name: "missing-default-deny-egress",
    severity: Low,
    summary: "Namespace has no default-deny NetworkPolicy for egress",
    references: ["cis:5.3.2", "nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.egress", "book:workload.network-policies"],
    tags: ["network"],
    level: None,
    scope: Inventory,
    kinds: NET_KINDS,
    options: &[],
}

impl Rule for MissingDefaultDenyEgress {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    // At admission the webhook reads only the namespace: a CiliumClusterwideNetworkPolicy
    // or Calico GlobalNetworkPolicy is not seen there (docs/network-policies.md).
    fn admission_namespace_scoped(&self) -> bool {
        true
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::ClusterAbsence
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        report_namespaces_without_default_deny(inv, cx, Direction::Egress, "egress");
    }
}
