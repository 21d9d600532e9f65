use super::{api_server_version, node_info};
use palisade_core::{Context, Inventory, Rule};
use palisade_node::version::{skew_problem, Version};

declare_rule! {
    /// ## What it checks
    /// Each Node's kubelet and kube-proxy versions (`status.nodeInfo.kubeletVersion`,
    /// `kubeProxyVersion`) against the API server's (the image tag of its static pod): a node
    /// component newer than the API server, or more minors older than the version-skew policy
    /// allows (3 from API server 1.28 on, 2 before), is reported. Without a kube-apiserver pod
    /// in the input the rule has nothing to compare with and reports nothing.
    ///
    /// ## Why it matters
    /// Outside the supported skew the API server and the kubelet disagree on APIs and
    /// defaults: security fixes that need both sides (node authorisation, credential
    /// projection) silently do not apply, and the next control-plane upgrade breaks the node.
    ///
    /// ## How to fix
    /// Upgrade (or replace) the lagging nodes before the next control-plane upgrade.
    ///
    /// ## Example
    /// ```yaml
    /// # API server v1.24.0
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     kubeletVersion: v1.20.15
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     kubeletVersion: v1.24.0
    /// ```
    pub(crate) struct NodeVersionSkew;
    id: "VER002",
    name: "node-version-skew",
    severity: Medium,
    summary: "Kubelet or kube-proxy version outside the supported skew from the API server",
    references: ["nsa:upgrading", "nist:4.3.5", "owasp:K10", "book:platform.patches"],
    tags: ["versions"],
    level: None,
    scope: Inventory,
    kinds: &["Pod", "Node"],
    options: &[],
}

impl Rule for NodeVersionSkew {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn applies_to(&self, object: &palisade_core::Object) -> bool {
        // Versions come from Nodes and control-plane Pods, not from application Pods.
        object.kind == "Node" || crate::rules::control_plane::runs_any_component(object)
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let Some(api) = api_server_version(inv) else {
            return;
        };
        for (id, node) in inv.of_kind("Node") {
            for (field, what) in [
                ("kubeletVersion", "kubelet"),
                ("kubeProxyVersion", "kube-proxy"),
            ] {
                let Some(v) = node_info(node, field).and_then(Version::parse) else {
                    continue;
                };
                if let Some(problem) = skew_problem(api, v) {
                    cx.report_on(
                        id,
                        Some(format!("/status/nodeInfo/{field}")),
                        format!("{what} of node {}: {problem}", node.name),
                    )
                    .fix(
                        "upgrade the node to the API server's minor (or within the supported skew)",
                    );
                }
            }
        }
    }
}
