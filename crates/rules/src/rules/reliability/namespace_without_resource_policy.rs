use palisade_core::{Context, Inventory, ObjectId, PodTemplate, Rule};
use std::collections::{BTreeMap, BTreeSet};

declare_rule! {
    /// ## What it checks
    /// Namespaces that run workloads (Pods or any kind with a pod template) but hold no
    /// LimitRange or no ResourceQuota. One finding per namespace says which of the two is
    /// missing and how many workloads it runs; it is reported on the Namespace object when
    /// the scan has it, else on the namespace's first workload. An object written without a
    /// namespace counts in `default`, as `kubectl apply` would place it. Kubernetes' own
    /// namespaces (`kube-system`, `kube-public`, `kube-node-lease`) are not reported.
    ///
    /// Like PLAT002-PLAT004, the rule runs only when the scan looks like a whole cluster (a
    /// `--cluster` scan, a snapshot, or manifests holding the `kube-system` Namespace or a
    /// Node): quotas and limit ranges are set per namespace by whoever provisions it, not
    /// shipped with an application's manifests, so scanning one application never reports
    /// them missing.
    ///
    /// ## Why it matters
    /// Without a ResourceQuota one namespace (a runaway autoscaler, a fork bomb of Jobs, a
    /// compromised CI token) can take every node's CPU and memory, and every object count
    /// (Secrets, Services of type LoadBalancer), from the others. Without a LimitRange a
    /// container that declares no requests or limits gets none: it is scheduled anywhere and
    /// is the first evicted, and a quota on `limits.memory` then rejects it outright.
    ///
    /// ## How to fix
    /// Give each application namespace a ResourceQuota sized for it and a LimitRange with
    /// default requests and limits for containers that set none.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Namespace
    /// metadata: { name: shop }
    /// ---
    /// kind: Deployment
    /// metadata: { name: web, namespace: shop }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: ResourceQuota
    /// metadata: { name: quota, namespace: shop }
    /// spec:
    ///   hard: { requests.cpu: "8", requests.memory: 16Gi, limits.memory: 16Gi, pods: "50" }
    /// ---
    /// kind: LimitRange
    /// metadata: { name: defaults, namespace: shop }
    /// spec:
    ///   limits:
    ///   - type: Container
    ///     defaultRequest: { cpu: 100m, memory: 128Mi }
    ///     default: { memory: 256Mi }
    /// ```
    pub(crate) struct NamespaceWithoutResourcePolicy;
    id: "REL008",
    name: "namespace-without-resource-policy",
    severity: Low,
    summary: "Namespace with workloads has no LimitRange or no ResourceQuota",
    references: ["cis:5.7.1", "nsa:network-separation", "nist:4.4.3", "owasp:K01", "book:workload.governance-at-scale", "book:ops.zero-downtime"],
    tags: ["reliability", "namespaces"],
    level: None,
    scope: Inventory,
    kinds: &palisade_core::podspec::with_workload_kinds::<13>(&[
        "Namespace",
        "Node",
        "LimitRange",
        "ResourceQuota",
    ]),
    options: &[],
}

const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

impl Rule for NamespaceWithoutResourcePolicy {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::ClusterAbsence
    }

    // Not namespace-scoped at admission: whether the view is a whole cluster (it holds the
    // `kube-system` Namespace or a Node) is a fact beyond the reviewed object's namespace.

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        if crate::rules::platform::cluster_anchor(inv).is_none() {
            return;
        }
        let ns_of =
            |o: &palisade_core::Object| o.namespace.clone().unwrap_or_else(|| "default".to_owned());
        let mut workloads: BTreeMap<String, Vec<ObjectId>> = BTreeMap::new();
        for (i, o) in inv.objects().iter().enumerate() {
            if PodTemplate::of(o).is_some() {
                workloads.entry(ns_of(o)).or_default().push(ObjectId(i));
            }
        }
        let with = |kind: &str| -> BTreeSet<String> {
            inv.of_kind(kind)
                .filter(|(_, o)| o.group().is_empty())
                .map(|(_, o)| ns_of(o))
                .collect()
        };
        let limit_ranges = with("LimitRange");
        let quotas = with("ResourceQuota");
        for (ns, ids) in &workloads {
            if SYSTEM_NAMESPACES.contains(&ns.as_str()) {
                continue;
            }
            let mut missing = Vec::new();
            if !limit_ranges.contains(ns) {
                missing.push("LimitRange");
            }
            if !quotas.contains(ns) {
                missing.push("ResourceQuota");
            }
            if missing.is_empty() {
                continue;
            }
            let target = inv.find_id("Namespace", None, ns).unwrap_or(ids[0]);
            let n = ids.len();
            let unnamed = ids
                .iter()
                .filter(|id| inv.get(**id).namespace.is_none())
                .count();
            // Manifests that name no namespace land wherever they are applied: say so.
            let shown = if unnamed > 0 {
                format!("{ns} (counting {unnamed} workload{} whose manifest names no namespace, wherever it is applied)", if unnamed == 1 { "" } else { "s" })
            } else {
                ns.clone()
            };
            cx.report_on(
                target,
                None,
                format!(
                    "namespace {shown} has no {}: its {n} workload{} run{} without {}",
                    missing.join(" and no "),
                    if n == 1 { "" } else { "s" },
                    if n == 1 { "s" } else { "" },
                    match missing.as_slice() {
                        ["LimitRange"] => "default requests and limits",
                        ["ResourceQuota"] => "a cap on the namespace's total resources",
                        _ => "default requests and limits or a cap on the namespace's total resources",
                    }
                ),
            )
            .fix("add a ResourceQuota and a LimitRange with default requests and limits to the namespace")
            .property("namespace", ns.clone())
            .property("missing", missing.join(","));
        }
    }
}
