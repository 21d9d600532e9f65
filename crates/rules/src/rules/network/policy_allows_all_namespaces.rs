use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// NetworkPolicy peers with an empty `namespaceSelector: {}` (alone or with a podSelector): every namespace of
    /// the cluster, including ones created later. Also Cilium rules naming every namespace (`fromEntities` /
    /// `toEntities` `cluster` or `all`, a clusterwide `fromEndpoints: [{}]`, an endpoint selector on nothing but
    /// the existence of `k8s:io.kubernetes.pod.namespace`) and Calico `NetworkPolicy` and `GlobalNetworkPolicy`
    /// `Allow` rules with `namespaceSelector: all()`; reported at the field.
    ///
    /// ## Why it matters
    /// An empty namespace selector quietly turns a namespace boundary into none: any tenant's pod matching the pod
    /// selector (or any pod at all) is admitted.
    ///
    /// ## How to fix
    /// Select the namespaces by label (`kubernetes.io/metadata.name: ingress-nginx`).
    ///
    /// ## Example
    /// ```yaml
    /// from:
    /// - namespaceSelector: {}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// from:
    /// - namespaceSelector:
    ///     matchLabels: {kubernetes.io/metadata.name: ingress-nginx}
    /// ```
    pub(crate) struct PolicyAllowsAllNamespaces;
    id: "NET004",
    name: "policy-allows-all-namespaces",
    severity: Low,
    summary: "NetworkPolicy admits traffic from or to every namespace",
    references: ["cis:5.3.2", "nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.network-policies"],
    tags: ["network"],
    level: None,
    scope: Inventory,
    kinds: NET_KINDS,
    options: &[],
}

impl Rule for PolicyAllowsAllNamespaces {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn object_local(&self) -> bool {
        // Reported on the object that says it, from that object alone.
        true
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let np = netpol(inv);
        // Rules without peers (`ingress: [{ports: ...}]`) admit every source on purpose; only an
        // explicit empty namespaceSelector is the oversight this rule is about.
        for r in np
            .policies_allowing_all_namespaces()
            .into_iter()
            .filter(|r| r.peer_index.is_some())
        {
            report_rule_ref(
                inv,
                cx,
                &r,
                "admits every namespace (empty namespaceSelector)",
            );
        }
        for r in np.cni_rules_allowing_all_namespaces() {
            report_rule_ref(inv, cx, &r, "admits every namespace");
        }
    }
}
