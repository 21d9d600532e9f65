//! `PLAT`: platform integrations: workload identity instead of pod-managed identity, policy
//! and threat-detection agents present, node reboot daemon, Arc agent upgrades.
//!
//! Rules that report something *missing* from a cluster (PLAT002, PLAT003, PLAT004) only run
//! when the inventory looks like a whole cluster ([`cluster_anchor`]): scanning one
//! application's manifests must not report that the cluster lacks a policy engine.

pub(crate) mod arc_auto_upgrade_disabled;
pub(crate) mod no_admission_policy_engine;
pub(crate) mod no_node_reboot_daemon;
pub(crate) mod no_runtime_threat_detection;
pub(crate) mod pod_managed_identity;

use palisade_core::{Inventory, Object, ObjectId, PodTemplate};

/// When the inventory is a snapshot of a cluster rather than a set of manifests (it holds
/// the `kube-system` Namespace or at least one Node), the object cluster-wide findings are
/// attached to: the `kube-system` Namespace, else the first Node.
pub(crate) fn cluster_anchor(inv: &Inventory) -> Option<ObjectId> {
    inv.of_kind("Namespace")
        .find(|(_, o)| o.group().is_empty() && o.name == "kube-system")
        .or_else(|| inv.of_kind("Node").find(|(_, o)| o.group().is_empty()))
        .map(|(id, _)| id)
}

/// True for the objects that make a scan a whole cluster's ([`cluster_anchor`]): the rules
/// that report something missing from a cluster apply to nothing else.
pub(crate) fn is_cluster_anchor(o: &Object) -> bool {
    o.group().is_empty() && (o.kind == "Node" || (o.kind == "Namespace" && o.name == "kube-system"))
}

/// The DaemonSets of the inventory matching any of the needles in their name or in one of
/// their container images (case-insensitive).
pub(crate) fn daemonset_matching<'a>(inv: &'a Inventory, needles: &[&str]) -> Option<&'a Object> {
    inv.of_kind("DaemonSet")
        .filter(|(_, o)| o.group() == "apps" || o.group() == "extensions")
        .map(|(_, o)| o)
        .find(|o| {
            let name = o.name.to_ascii_lowercase();
            let images: Vec<String> = PodTemplate::of(o)
                .map(|p| {
                    p.containers()
                        .map(|c| c.image().to_ascii_lowercase())
                        .collect()
                })
                .unwrap_or_default();
            needles.iter().any(|n| {
                name.contains(n)
                    || images.iter().any(|i| {
                        // the repository's last component, not the registry
                        let repo = i.split('@').next().unwrap_or(i);
                        let last = repo.rsplit('/').next().unwrap_or(repo);
                        last.split(':').next().unwrap_or(last).contains(n)
                    })
            })
        })
}
