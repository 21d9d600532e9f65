use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods and workloads (through their template labels) that no NetworkPolicy of their namespace selects, in
    /// namespaces that do have NetworkPolicies (namespaces without any are reported once by NET001 and NET002).
    /// A CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy, Calico NetworkPolicy or GlobalNetworkPolicy selecting
    /// the pod counts as selecting it, and a namespace with only Cilium or Calico policies counts as having
    /// policies.
    ///
    /// ## Why it matters
    /// A pod left out of every policy is unrestricted in both directions, usually by mistake: a label changed, a new
    /// component was added.
    ///
    /// ## How to fix
    /// Add a policy selecting it, or a namespace-wide default deny.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   template:
    ///     metadata: {labels: {app: worker}}   # no policy selects app=worker
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: NetworkPolicy
    /// spec:
    ///   podSelector: {matchLabels: {app: worker}}
    ///   policyTypes: [Ingress, Egress]
    /// ```
    pub(crate) struct PodWithoutNetworkPolicy;
    id: "NET003",
    name: "pod-without-network-policy",
    severity: Low,
    summary: "Workload is selected by no NetworkPolicy in a namespace that has policies",
    references: ["cis:5.3.2", "nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.network-policies"],
    tags: ["network"],
    level: None,
    scope: Inventory,
    kinds: NET_KINDS,
    options: &[],
}

impl Rule for PodWithoutNetworkPolicy {
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
        let np = netpol(inv);
        for w in np.unselected_pods() {
            if !np.namespace_has_policies(&w.namespace) {
                continue;
            }
            let Some(id) = find(inv, &w.kind, &w.namespace, &w.name) else {
                continue;
            };
            cx.report_on(
                id,
                None,
                format!(
                    "{} {}/{} is selected by no NetworkPolicy of its namespace",
                    w.kind, w.namespace, w.name
                ),
            )
            .fix("select it with a NetworkPolicy (or add a namespace-wide default deny)");
        }
    }
}
