use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Cluster snapshots (the inventory holds the `kube-system` Namespace or a Node) with
    /// Linux nodes and no node reboot daemon: no DaemonSet whose name or image is `kured`
    /// (the Kubernetes Reboot Daemon). Nodes are counted as Linux from their
    /// `kubernetes.io/os` label; a snapshot without Node objects counts as Linux. On plain
    /// manifests the rule is silent. Clusters whose provider replaces node images instead
    /// (AKS node-image auto-upgrade, GKE auto-upgrade, Bottlerocket) do not need kured:
    /// disable the rule there, with that reason.
    ///
    /// ## Why it matters
    /// Unattended upgrades install kernel patches on nodes, but the running kernel stays
    /// vulnerable until the node reboots; without a daemon that drains and reboots nodes
    /// one at a time, that reboot rarely happens.
    ///
    /// ## How to fix
    /// Deploy kured (it watches `/var/run/reboot-required`, takes a lock, drains, reboots
    /// and uncordons one node at a time), or move to node-image upgrades.
    ///
    /// ## Example
    /// ```yaml
    /// # a cluster snapshot of Linux nodes with no kured DaemonSet
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: DaemonSet
    /// metadata: { name: kured, namespace: kube-system }
    /// ```
    pub(crate) struct NoNodeRebootDaemon;
    id: "PLAT004",
    name: "no-node-reboot-daemon",
    severity: Low,
    summary: "Cluster has no node reboot daemon to apply kernel patches",
    references: ["nsa:upgrading", "nist:4.4.1", "nist:4.5.1", "cis:4", "owasp:K10", "book:platform.patches", "book:platform.node-hardening"],
    tags: ["platform", "cluster"],
    level: None,
    scope: Inventory,
    kinds: &["Namespace", "Node", "DaemonSet"],
    options: &[],
}

impl Rule for NoNodeRebootDaemon {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn applies_to(&self, object: &palisade_core::Object) -> bool {
        super::is_cluster_anchor(object)
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let Some(anchor) = super::cluster_anchor(inv) else {
            return;
        };
        let mut nodes = inv
            .of_kind("Node")
            .filter(|(_, o)| o.group().is_empty())
            .peekable();
        let linux = nodes.peek().is_none()
            || nodes.any(|(_, n)| {
                n.labels()
                    .find(|(k, _)| *k == "kubernetes.io/os" || *k == "beta.kubernetes.io/os")
                    .is_none_or(|(_, v)| v == "linux")
            });
        if !linux || super::daemonset_matching(inv, &["kured"]).is_some() {
            return;
        }
        cx.report_on(
            anchor,
            None,
            "the cluster has Linux nodes and no node reboot daemon (kured): kernel patches wait for a manual reboot",
        )
        .fix("deploy kured, or rely on node-image auto-upgrades and disable this rule with that reason");
    }
}
