use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Cluster snapshots (the inventory holds the `kube-system` Namespace or a Node) with no
    /// runtime threat-detection sensor: no DaemonSet whose name or image is one of Falco,
    /// Microsoft Defender for Containers (`microsoft-defender-*`), Tetragon, Sysdig, Tracee,
    /// Aqua (`aqua-enforcer`), NeuVector (`neuvector-enforcer`), CrowdStrike
    /// (`falcon-sensor`) or Prisma Cloud (`twistlock-defender`). On plain manifests the rule
    /// is silent. A sensor running outside Kubernetes (on the host, or agentless) cannot be
    /// seen: disable the rule, with a reason, if you use one.
    ///
    /// ## Why it matters
    /// Admission and scanning stop known-bad configurations; they do not see a shell spawned
    /// in a container, a crypto-miner, or a process reading service account tokens. Without
    /// a runtime sensor, an intrusion is found, if at all, from its consequences.
    ///
    /// ## How to fix
    /// Deploy a runtime sensor as a DaemonSet on every node (Falco, Tetragon, Defender for
    /// Containers on AKS) and route its alerts to the incident-response process.
    ///
    /// ## Example
    /// ```yaml
    /// # a cluster snapshot with no sensor DaemonSet
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: apps/v1
    /// kind: DaemonSet
    /// metadata: { name: falco, namespace: falco }
    /// ```
    pub(crate) struct NoRuntimeThreatDetection;
    id: "PLAT003",
    name: "no-runtime-threat-detection",
    severity: Medium,
    summary: "Cluster has no runtime threat-detection sensor",
    references: ["nsa:logging-threat-detection", "nist:4.3.3", "nist:4.4.3", "owasp:K05", "book:ops.threat-detection"],
    tags: ["platform", "cluster"],
    level: None,
    scope: Inventory,
    kinds: &["Namespace", "Node", "DaemonSet"],
    options: &[],
}

const SENSORS: &[&str] = &[
    "falco",
    "microsoft-defender",
    "tetragon",
    "sysdig",
    "tracee",
    "aqua-enforcer",
    "neuvector-enforcer",
    "falcon-sensor",
    "twistlock-defender",
];

impl Rule for NoRuntimeThreatDetection {
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
        if super::daemonset_matching(inv, SENSORS).is_some() {
            return;
        }
        cx.report_on(
            anchor,
            None,
            "the cluster runs no runtime threat-detection sensor DaemonSet (Falco, Defender for Containers, Tetragon, Sysdig...)",
        )
        .fix("deploy a runtime sensor on every node and route its alerts to incident response");
    }
}
