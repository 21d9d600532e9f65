use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Services of type `NodePort`.
    ///
    /// ## Why it matters
    /// A node port opens the service on every node's addresses, past the load balancer, its source ranges and any
    /// WAF, and node ports are rarely covered by firewall reviews.
    ///
    /// ## How to fix
    /// Use a ClusterIP Service behind an ingress controller, or a LoadBalancer with source ranges.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: NodePort
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: ClusterIP
    /// ```
    pub(crate) struct NodePortService;
    id: "NET008",
    name: "node-port-service",
    severity: Low,
    summary: "Service exposes a port on every node",
    references: ["nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.network-policies"],
    tags: ["network"],
    level: None,
    scope: Object,
    kinds: &["Service"],
    options: &[],
}

impl Rule for NodePortService {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind == "Service"
            && object.group().is_empty()
            && object.pointer("/spec/type").and_then(Value::as_str) == Some("NodePort")
        {
            cx.report(
                "/spec/type".to_owned(),
                format!(
                    "Service {} is a NodePort: reachable on every node",
                    object.name
                ),
            )
            .fix("use a ClusterIP Service behind an ingress, or a LoadBalancer with source ranges");
        }
    }
}
