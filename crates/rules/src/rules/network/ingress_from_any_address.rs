use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Ingress rules with an `ipBlock` of `0.0.0.0/0` or `::/0` (even with `except`). Also Cilium ingress rules
    /// with `fromEntities: [world]` (or `all`) or a `fromCIDR`/`fromCIDRSet` of prefix 0, and Calico
    /// `NetworkPolicy` and `GlobalNetworkPolicy` `Allow` ingress rules whose `source.nets` holds a prefix 0;
    /// reported at the field.
    ///
    /// ## Why it matters
    /// Admitting every address exposes the pod to anything that can route to it, outside the cluster included.
    ///
    /// ## How to fix
    /// Admit the load balancer's or the corporate network's ranges only.
    ///
    /// ## Example
    /// ```yaml
    /// ingress:
    /// - from:
    ///   - ipBlock: {cidr: 0.0.0.0/0}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// ingress:
    /// - from:
    ///   - ipBlock: {cidr: 10.20.0.0/16}
    /// ```
    pub(crate) struct IngressFromAnyAddress;
    id: "NET005",
    name: "ingress-from-any-address",
    severity: Medium,
    summary: "NetworkPolicy admits ingress from any IP address",
    references: ["cis:5.3.2", "nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.network-policies", "book:workload.api-authorized-ips"],
    tags: ["network"],
    level: None,
    scope: Inventory,
    kinds: NET_KINDS,
    options: &[],
}

impl Rule for IngressFromAnyAddress {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn object_local(&self) -> bool {
        // Reported on the object that says it, from that object alone.
        true
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let np = netpol(inv);
        for r in np.policies_allowing_any_ip() {
            if r.direction == Direction::Ingress && r.peer_index.is_some() {
                report_rule_ref(inv, cx, &r, "admits ingress from any IP address");
            }
        }
        for r in np.cni_rules_allowing_any_ip() {
            if r.direction == Direction::Ingress {
                report_rule_ref(inv, cx, &r, "admits ingress from any IP address");
            }
        }
    }
}
