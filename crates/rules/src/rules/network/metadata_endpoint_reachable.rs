use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods and workloads whose egress is restricted by NetworkPolicies yet allowed to reach 169.254.169.254, the
    /// instance metadata endpoint (usually through an egress rule to `0.0.0.0/0` without an `except`). Pods
    /// without any egress policy are reported by NET002.
    ///
    /// ## Why it matters
    /// The metadata endpoint hands out the node's cloud credentials and bootstrap data: from a pod, that is often
    /// the cloud account.
    ///
    /// ## How to fix
    /// Add `except: [169.254.169.254/32]` to the ipBlock, or allow only the destinations the workload needs.
    ///
    /// ## Example
    /// ```yaml
    /// egress:
    /// - to:
    ///   - ipBlock: {cidr: 0.0.0.0/0}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// egress:
    /// - to:
    ///   - ipBlock:
    ///       cidr: 0.0.0.0/0
    ///       except: [169.254.169.254/32]
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.3.2; NSA/CISA Kubernetes Hardening Guidance, "Network separation and
    /// hardening"; NIST SP 800-190 4.3.3;
    /// OWASP Kubernetes Top 10 K07.
    pub(crate) struct MetadataEndpointReachable;
    id: "NET006",
    name: "metadata-endpoint-reachable",
    severity: High,
    summary: "Egress-restricted pod can still reach the cloud metadata endpoint",
    references: ["cis:5.3.2", "nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.metadata-api", "book:workload.egress"],
    tags: ["network"],
    level: None,
    scope: Inventory,
    kinds: NET_KINDS,
    options: &[],
}

impl Rule for MetadataEndpointReachable {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let np = netpol(inv);
        for w in np.workloads() {
            if np.isolating_policies(w, Direction::Egress).is_empty() {
                continue;
            }
            let endpoint = Endpoint::Workload {
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                kind: Some(w.kind.clone()),
            };
            let Ok(reach) = np.metadata_endpoint_reachable(&endpoint) else {
                continue;
            };
            if !reach.reachable {
                continue;
            }
            let Some(id) = find(inv, &w.kind, &w.namespace, &w.name) else {
                continue;
            };
            let by: Vec<String> = reach
                .verdict
                .egress
                .admitted_by
                .iter()
                .map(|r| format!("{} egress rule #{}", r.policy, r.rule_index))
                .collect();
            cx.report_on(id, None, format!("{} {}/{} can reach the instance metadata endpoint 169.254.169.254 (allowed by {})", w.kind, w.namespace, w.name, by.join(", ")))
                .fix("add `except: [169.254.169.254/32]` to the egress ipBlock");
        }
    }
}
