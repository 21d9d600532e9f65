//! `NET`: network exposure. NetworkPolicy rules are evaluated with the API's semantics by
//! `palisade-netpol` (isolation per direction, selectors, ipBlock, ports); Service and
//! Ingress rules read the objects directly.

pub(crate) mod ingress_from_any_address;
pub(crate) mod ingress_without_tls;
pub(crate) mod load_balancer_without_source_ranges;
pub(crate) mod metadata_endpoint_reachable;
pub(crate) mod missing_default_deny_egress;
pub(crate) mod missing_default_deny_ingress;
pub(crate) mod node_port_service;
pub(crate) mod pod_without_network_policy;
pub(crate) mod policy_allows_all_namespaces;
pub(crate) mod service_external_ips;

use palisade_core::{Context, Inventory, ObjectId};
pub(crate) use palisade_netpol::{Direction, Endpoint};
use palisade_netpol::{Netpol, PolicyKind, RuleRef};
use std::sync::Arc;

/// The kinds the NetworkPolicy rules read: Kubernetes NetworkPolicies, Cilium's and
/// Calico's policy kinds (Calico's `NetworkPolicy` shares the kind name), namespaces and
/// every kind with a pod template.
pub(crate) const NET_KINDS: &[&str] = &palisade_core::podspec::with_workload_kinds::<15>(&[
    "NetworkPolicy",
    "CiliumNetworkPolicy",
    "CiliumClusterwideNetworkPolicy",
    "GlobalNetworkPolicy",
    "Tier",
    "Namespace",
]);

/// The NetworkPolicy model of the inventory, built once per scan.
pub(crate) fn netpol(inv: &Inventory) -> Arc<Netpol> {
    inv.derived(|inv| Netpol::from_inventory(inv.objects()))
}

/// An object by kind, namespace and name; objects written without a namespace are in
/// `default` for the engine.
pub(crate) fn find(inv: &Inventory, kind: &str, ns: &str, name: &str) -> Option<ObjectId> {
    inv.find_id(kind, Some(ns), name).or_else(|| {
        (ns == "default")
            .then(|| inv.find_id(kind, None, name))
            .flatten()
    })
}

/// NET001 and NET002: namespaces with workloads and without a default deny for `d`.
pub(crate) fn report_namespaces_without_default_deny(
    inv: &Inventory,
    cx: &mut Context<'_>,
    d: Direction,
    word: &str,
) {
    let np = netpol(inv);
    // The workloads of each namespace (count and first), in one pass.
    let mut by_ns: std::collections::HashMap<&str, (usize, &palisade_netpol::Workload)> =
        std::collections::HashMap::new();
    for w in np.workloads() {
        by_ns.entry(w.namespace.as_str()).or_insert((0, w)).0 += 1;
    }
    for ns in np.namespaces_without_default_deny(d) {
        let Some(&(count, first)) = by_ns.get(ns.as_str()) else {
            continue;
        };
        let target = inv
            .find_id("Namespace", None, &ns)
            .or_else(|| find(inv, &first.kind, &first.namespace, &first.name));
        let Some(id) = target else { continue };
        cx.report_on(
            id,
            None,
            format!(
                "namespace {ns} has no default-deny NetworkPolicy for {word}: its {count} workload{} {} unrestricted",
                if count == 1 { "" } else { "s" },
                if count == 1 { "is" } else { "are" },
            ),
        )
        .fix(format!("add a NetworkPolicy with podSelector: {{}} and policyTypes: [{}]", if word == "ingress" { "Ingress" } else { "Egress" }))
        .property("namespace", ns.clone());
    }
}

/// The policy object a [`RuleRef`] names: matched by kind, API group, namespace and name, so
/// that a Kubernetes and a Calico `NetworkPolicy` of the same name are told apart.
fn find_policy(inv: &Inventory, kind: PolicyKind, ns: &str, name: &str) -> Option<ObjectId> {
    let of_group = |o: &palisade_core::Object| {
        let group = o.api_version.rsplit_once('/').map_or("", |(g, _)| g);
        match kind {
            PolicyKind::NetworkPolicy => group == kind.group() || group == "extensions",
            _ => group == kind.group() || group.strip_prefix("crd.") == Some(kind.group()),
        }
    };
    // The identity index holds the first object of each (kind, namespace, name): when it is
    // of the policy's group it is the answer; only a name shared across API groups (a
    // Kubernetes and a Calico `NetworkPolicy` of one name) falls back to a scan of the kind.
    let matching = |ns: Option<&str>| {
        let first = inv.find_id(kind.kind(), ns, name)?;
        if of_group(inv.get(first)) {
            return Some(first);
        }
        inv.of_kind(kind.kind())
            .find(|(_, o)| o.namespace.as_deref() == ns && o.name == name && of_group(o))
            .map(|(id, _)| id)
    };
    if ns.is_empty() {
        return matching(None);
    }
    matching(Some(ns)).or_else(|| (ns == "default").then(|| matching(None)).flatten())
}

/// Reports a rule (or one peer of it) of a NetworkPolicy, or the field of a Cilium or
/// Calico rule (`r.path`).
pub(crate) fn report_rule_ref(inv: &Inventory, cx: &mut Context<'_>, r: &RuleRef, what: &str) {
    if let Some(path) = &r.path {
        let Some(id) = find_policy(inv, r.policy.kind, &r.policy.namespace, &r.policy.name) else {
            return;
        };
        cx.report_on(
            id,
            Some(path.clone()),
            format!("{} rule {path} {what}", r.policy),
        )
        .fix("select the namespaces or address ranges that need access");
        return;
    }
    let Some(id) = find_policy(inv, r.policy.kind, &r.policy.namespace, &r.policy.name) else {
        return;
    };
    let (field, peers) = match r.direction {
        Direction::Ingress => ("ingress", "from"),
        Direction::Egress => ("egress", "to"),
    };
    let path = match r.peer_index {
        Some(p) => format!("/spec/{field}/{}/{peers}/{p}", r.rule_index),
        None => format!("/spec/{field}/{}", r.rule_index),
    };
    cx.report_on(
        id,
        Some(path),
        format!(
            "NetworkPolicy {} {field} rule #{} {what}",
            r.policy, r.rule_index
        ),
    )
    .fix("select the namespaces or address ranges that need access");
}
