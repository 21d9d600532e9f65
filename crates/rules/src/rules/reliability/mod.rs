//! `REL`: reliability and rollout safety (probes, resources, disruption budgets, replicas,
//! rollout strategies, spreading).

pub(crate) mod disruption_budget_blocks_eviction;
pub(crate) mod missing_disruption_budget;
pub(crate) mod missing_probes;
pub(crate) mod missing_resource_limits;
pub(crate) mod namespace_without_resource_policy;
pub(crate) mod replicas_not_spread;
pub(crate) mod rollout_takes_all_replicas_down;
pub(crate) mod single_replica;

use palisade_core::labels::LabelSelector;
use palisade_core::{selector, Inventory, Object};
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

/// Calls `f` with each of the [`replicated`] workloads, read without keeping the tree of a
/// packed one ([`Object::with_unpacked`]): each REL rule reads every workload once, and a scan
/// holds no more than one of them unpacked at a time.
pub(crate) fn each_replicated(
    inv: &Inventory,
    mut f: impl FnMut(palisade_core::ObjectId, &Object),
) {
    for (id, o) in replicated(inv) {
        o.with_unpacked(|o| f(id, o));
    }
}

/// [`each_replicated`] for the workloads that run two or more replicas, with the count.
pub(crate) fn each_multi_replica(
    inv: &Inventory,
    mut f: impl FnMut(palisade_core::ObjectId, &Object, u64),
) {
    each_replicated(inv, |id, o| {
        if let Some(n) = replicas(o).filter(|n| *n >= 2) {
            f(id, o, n);
        }
    });
}

/// `spec.replicas` (1 when unset, as the API server defaults it); `None` when it is not a
/// number (templating).
pub(crate) fn replicas(o: &Object) -> Option<u64> {
    match o.pointer("/spec/replicas") {
        None | Some(Value::Null) => Some(1),
        Some(v) => v.as_u64(),
    }
}

/// The namespace an object is in: its own, or `default` when it names none, as the NET and
/// RBAC rules read it. Objects written without a namespace are thus in the same namespace as
/// each other and as objects of `default`, and in no other.
pub(crate) fn namespace_of(o: &Object) -> &str {
    o.namespace.as_deref().unwrap_or("default")
}

/// True when a PodDisruptionBudget selects pods with these labels (in its own namespace;
/// the caller checks that), with the API's semantics:
/// * no `selector`, or `null`: nothing;
/// * `{}` (no requirement at all): every pod of the namespace for `policy/v1`, nothing for
///   `policy/v1beta1`, which defined an empty selector as selecting nothing;
/// * an invalid selector (an unknown operator, `In` without values, a value that is not a
///   string): nothing; the API server refuses to store it, and the eviction API skips a
///   budget whose selector does not parse.
pub(crate) fn pdb_selects(pdb: &Object, labels: &serde_json::Map<String, Value>) -> bool {
    let Some(sel) = pdb.pointer("/spec/selector") else {
        return false;
    };
    if pdb.api_version == "policy/v1beta1"
        && LabelSelector::from_value(sel).is_ok_and(|s| s.is_empty())
    {
        return false;
    }
    selector::matches(sel, labels)
}

/// True when an autoscaler of the inventory (HorizontalPodAutoscaler, KEDA ScaledObject)
/// targets the workload.
pub(crate) fn autoscaled(inv: &Inventory, o: &Object) -> bool {
    let targets = inv.derived(AutoscalerTargets::of);
    targets
        .0
        .get(&(namespace_of(o).to_owned(), o.name.clone()))
        .is_some_and(|kinds| {
            kinds
                .iter()
                .any(|k| k.as_deref().is_none_or(|k| k == o.kind))
        })
}

/// What the inventory's autoscalers target: (namespace, name) to the target kinds (`None`:
/// a target that names no kind).
struct AutoscalerTargets(std::collections::HashMap<(String, String), Vec<Option<String>>>);

impl AutoscalerTargets {
    fn of(inv: &Inventory) -> Self {
        let mut map: std::collections::HashMap<(String, String), Vec<Option<String>>> =
            std::collections::HashMap::new();
        for kind in ["HorizontalPodAutoscaler", "ScaledObject"] {
            for (_, a) in inv.of_kind(kind) {
                // Each autoscaler is read once, without keeping its tree.
                let target = a.with_value(|v| {
                    let t = v.pointer("/spec/scaleTargetRef")?;
                    let name = t.get("name").and_then(Value::as_str)?;
                    let kind = t.get("kind").and_then(Value::as_str).map(str::to_owned);
                    Some((name.to_owned(), kind))
                });
                let Some((name, target_kind)) = target else {
                    continue;
                };
                map.entry((namespace_of(a).to_owned(), name))
                    .or_default()
                    .push(target_kind);
            }
        }
        AutoscalerTargets(map)
    }
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
