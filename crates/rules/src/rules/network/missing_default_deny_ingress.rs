use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Namespaces with workloads in the scan where no NetworkPolicy selects every pod (`podSelector: {}`) for
    /// Ingress without admitting everything. Reported on the Namespace object when it is scanned, else on the
    /// namespace's first workload.
    ///
    /// Cilium and Calico policies count too: a CiliumNetworkPolicy with `endpointSelector: {}` (or a
    /// CiliumClusterwideNetworkPolicy selecting by namespace only) with an `ingress`/`ingressDeny` section
    /// and without `enableDefaultDeny.ingress: false` or a `fromEntities: [all]` rule on every port; a Calico
    /// NetworkPolicy or GlobalNetworkPolicy selecting `all()` of the namespace with the Ingress type, in a tier
    /// that does not pass by default, and without an `Allow`/`Pass` rule lacking match criteria
    /// (see docs/network-policies.md).
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
    /// Or, with Cilium:
    /// ```yaml
    /// kind: CiliumNetworkPolicy
    /// metadata: {name: default-deny, namespace: shop}
    /// spec:
    ///   endpointSelector: {}
    ///   ingress:
    ///   - {}
    /// ```
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

    // At admission the webhook reads only the namespace: a CiliumClusterwideNetworkPolicy
    // or Calico GlobalNetworkPolicy is not seen there (docs/network-policies.md).
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run;

    const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: c:1}]}\n";

    /// Cluster-scoped policies isolate namespaces in a scan. (Not a fixture: at admission
    /// the rule reads the reviewed namespace only, where they are not seen.)
    #[test]
    fn clusterwide_cilium_and_global_calico_policies_isolate_in_a_scan() {
        let ccnp = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: default-deny}\nspec:\n  endpointSelector:\n    matchExpressions:\n    - {key: io.kubernetes.pod.namespace, operator: NotIn, values: [kube-system]}\n  ingress:\n  - fromEntities: [cluster]\n";
        let gnp = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: default-deny}\nspec:\n  selector: all()\n  namespaceSelector: projectcalico.org/name not in {'kube-system'}\n  types: [Ingress]\n";
        assert_eq!(run(&MissingDefaultDenyIngress, WEB).len(), 1);
        for policy in [ccnp, gnp] {
            let found = run(&MissingDefaultDenyIngress, &format!("{WEB}---\n{policy}"));
            assert!(found.is_empty(), "{policy}: {found:?}");
        }
        // a namespace the clusterwide selector leaves out is still reported
        let other = WEB.replace("namespace: shop", "namespace: kube-system");
        assert_eq!(
            run(&MissingDefaultDenyIngress, &format!("{other}---\n{ccnp}")).len(),
            1
        );
    }
}
