//! `REL`: reliability and rollout safety (probes, resources, disruption budgets, replicas,
//! rollout strategies, spreading).

pub(crate) mod disruption_budget_blocks_eviction;
pub(crate) mod missing_disruption_budget;
pub(crate) mod missing_probes;
pub(crate) mod missing_resource_limits;
pub(crate) mod replicas_not_spread;
pub(crate) mod rollout_takes_all_replicas_down;
pub(crate) mod single_replica;

use palisade_core::{Inventory, Object};
use serde_json::Value;

/// The Deployments and StatefulSets (group `apps`) of the inventory.
pub(crate) fn replicated(
    inv: &Inventory,
) -> impl Iterator<Item = (palisade_core::ObjectId, &Object)> {
    ["Deployment", "StatefulSet"]
        .into_iter()
        .flat_map(move |k| inv.of_kind(k))
        .filter(|(_, o)| o.group() == "apps")
}

/// The Deployments and StatefulSets that run two or more replicas, with the count.
pub(crate) fn multi_replica(
    inv: &Inventory,
) -> impl Iterator<Item = (palisade_core::ObjectId, &Object, u64)> {
    replicated(inv).filter_map(|(id, o)| replicas(o).filter(|n| *n >= 2).map(|n| (id, o, n)))
}

/// `spec.replicas` (1 when unset, as the API server defaults it); `None` when it is not a
/// number (templating).
pub(crate) fn replicas(o: &Object) -> Option<u64> {
    match o.pointer("/spec/replicas") {
        None | Some(Value::Null) => Some(1),
        Some(v) => v.as_u64(),
    }
}

/// True when two objects may live in the same namespace: the same namespace, or one of them
/// names none (a manifest without `metadata.namespace` goes wherever it is applied, usually
/// with the objects it ships with).
pub(crate) fn same_namespace(a: &Object, b: &Object) -> bool {
    a.namespace == b.namespace || a.namespace.is_none() || b.namespace.is_none()
}

/// True when an autoscaler of the inventory (HorizontalPodAutoscaler, KEDA ScaledObject)
/// targets the workload.
pub(crate) fn autoscaled(inv: &Inventory, o: &Object) -> bool {
    let targets = |kind: &str, pointer: &str| {
        inv.of_kind(kind).any(|(_, a)| {
            same_namespace(a, o)
                && a.pointer(pointer).is_some_and(|t| {
                    t.get("name").and_then(Value::as_str) == Some(o.name.as_str())
                        && t.get("kind")
                            .and_then(Value::as_str)
                            .is_none_or(|k| k == o.kind)
                })
        })
    };
    targets("HorizontalPodAutoscaler", "/spec/scaleTargetRef")
        || targets("ScaledObject", "/spec/scaleTargetRef")
}

/// Resolves an int-or-percent (`1`, `"25%"`) against a replica count, rounding as
/// Kubernetes does (`round_up` for maxSurge and PDB minAvailable percentages, down for
/// maxUnavailable).
pub(crate) fn int_or_percent(v: &Value, total: u64, round_up: bool) -> Option<u64> {
    if let Some(n) = v.as_u64() {
        return Some(n);
    }
    let s = v.as_str()?.trim();
    if let Some(p) = s.strip_suffix('%') {
        let p: u64 = p.trim().parse().ok()?;
        let x = total * p;
        return Some(if round_up { x.div_ceil(100) } else { x / 100 });
    }
    s.parse().ok()
}
