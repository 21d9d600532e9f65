use super::{node_info, today};
use palisade_core::{Context, Object, Rule};
use palisade_node::version::{kernel_problem, os_image_eol, runtime_problem};

declare_rule! {
    /// ## What it checks
    /// Each Node's `status.nodeInfo`: an OS image recognised as past its vendor's end of
    /// standard support (a short, conservative table: Ubuntu 14.04-20.04, CentOS Linux 7/8,
    /// RHEL 7, Debian 8-10, Amazon Linux AMI and Amazon Linux 2, CoreOS...), a container runtime
    /// past its end of life (Docker Engine through the removed dockershim, containerd before
    /// 1.6, CRI-O before 1.24) and kernels older than the 4.19 long-term series. Unknown
    /// images pass. The day is the scan's (`--today`), else the table's date.
    ///
    /// ## Why it matters
    /// The node's OS, kernel and runtime are the container boundary: once their vendor stops
    /// shipping fixes, container-escape and privilege-escalation vulnerabilities stay open.
    ///
    /// ## How to fix
    /// Move the node pool to a supported image (or the provider's current node image) and a
    /// supported runtime; drain and replace the old nodes.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     osImage: Ubuntu 18.04.6 LTS
    ///     containerRuntimeVersion: docker://20.10.7
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     osImage: Ubuntu 24.04.1 LTS
    ///     containerRuntimeVersion: containerd://1.7.22
    /// ```
    pub(crate) struct EndOfLifeNodeSoftware;
    id: "VER003",
    name: "end-of-life-node-software",
    severity: High,
    summary: "Node OS image, container runtime or kernel past its end of life",
    references: ["nsa:upgrading", "nist:4.5", "owasp:K10", "book:platform.patches", "book:platform.node-hardening"],
    tags: ["versions", "node"],
    level: None,
    scope: Object,
    kinds: &["Node"],
    options: &[],
}

impl Rule for EndOfLifeNodeSoftware {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, node: &Object, cx: &mut Context<'_>) {
        if node.kind != "Node" {
            return;
        }
        let today = today(cx);
        if let Some(os) = node_info(node, "osImage") {
            if let Some(eol) = os_image_eol(os, today) {
                cx.report(
                    "/status/nodeInfo/osImage".to_owned(),
                    format!(
                        "node {}: {os} reached its end of standard support on {eol}",
                        node.name
                    ),
                )
                .fix("move the node pool to a supported OS image");
            }
        }
        if let Some(rt) = node_info(node, "containerRuntimeVersion") {
            if let Some(p) = runtime_problem(rt) {
                cx.report(
                    "/status/nodeInfo/containerRuntimeVersion".to_owned(),
                    format!("node {}: {p}", node.name),
                )
                .fix("move to a supported containerd or CRI-O release");
            }
        }
        if let Some(k) = node_info(node, "kernelVersion") {
            if let Some(p) = kernel_problem(k) {
                cx.report(
                    "/status/nodeInfo/kernelVersion".to_owned(),
                    format!("node {}: {p}", node.name),
                )
                .fix("move to an image with a maintained long-term kernel");
            }
        }
    }
}
