use palisade_core::{Context, Inventory, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Deployments and StatefulSets with two or more replicas (or a replica count left to an
    /// autoscaler) for which no PodDisruptionBudget in the same namespace selects the pod
    /// template's labels. An inventory-wide rule: it needs every PodDisruptionBudget of the
    /// scan, so scan the workload together with its budgets.
    ///
    /// A budget counts only when its selector selects the pod template's labels with the
    /// API's semantics (`matchLabels` and `matchExpressions` `In`, `NotIn`, `Exists`,
    /// `DoesNotExist`), in the workload's namespace. Objects written without a namespace are
    /// in `default`, as for the NET and RBAC rules: they are in the same namespace as each
    /// other and as `default`'s objects, and a budget in another namespace never counts. An
    /// empty selector `{}` selects every pod of its namespace in `policy/v1` and none in
    /// `policy/v1beta1`; a missing or `null` selector selects nothing, and so does an
    /// invalid one (the API server rejects it, and the eviction API skips it).
    ///
    /// ## Why it matters
    /// Node drains during upgrades and node-image patching (which the platform must do
    /// regularly) evict every replica at once when nothing limits disruption: the service goes
    /// down during routine maintenance.
    ///
    /// ## How to fix
    /// Add a PodDisruptionBudget with `maxUnavailable: 1` (or a `minAvailable` below the
    /// replica count) selecting the workload's pods.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 3
    ///   template: { metadata: { labels: { app: web } } }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: PodDisruptionBudget
    /// spec:
    ///   maxUnavailable: 1
    ///   selector: { matchLabels: { app: web } }
    /// ```
    pub(crate) struct MissingDisruptionBudget;
    id: "REL003",
    name: "missing-disruption-budget",
    severity: Low,
    summary: "Multi-replica workload has no PodDisruptionBudget",
    references: ["nsa:upgrading", "nist:4.3.4", "owasp:K01", "book:ops.zero-downtime", "book:platform.patches"],
    tags: ["reliability"],
    level: None,
    scope: Inventory,
    kinds: &["Deployment", "StatefulSet", "PodDisruptionBudget"],
    options: &[],
}

impl Rule for MissingDisruptionBudget {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_namespace_scoped(&self) -> bool {
        true
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::ClusterAbsence
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        // The budgets of each namespace, one per distinct selector (copies of a chart's
        // budget select the same pods).
        let mut pdbs: std::collections::HashMap<&str, Vec<&palisade_core::Object>> =
            std::collections::HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for (_, p) in inv
            .of_kind("PodDisruptionBudget")
            .filter(|(_, o)| o.group() == "policy")
        {
            let ns = super::namespace_of(p);
            let selector = p
                .pointer("/spec/selector")
                .map(Value::to_string)
                .unwrap_or_default();
            if seen.insert((ns, p.api_version == "policy/v1beta1", selector)) {
                pdbs.entry(ns).or_default().push(p);
            }
        }
        for kind in ["Deployment", "StatefulSet"] {
            for (id, o) in inv.of_kind(kind) {
                o.with_unpacked(|o| {
                if o.group() != "apps" {
                    return;
                }
                let replicas = o.pointer("/spec/replicas");
                let many = match replicas {
                    None => false, // defaults to 1
                    Some(v) => v.as_u64().is_some_and(|n| n >= 2),
                };
                if !many {
                    return;
                }
                let empty = serde_json::Map::new();
                let labels = o
                    .pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object)
                    .unwrap_or(&empty);
                let covered = pdbs
                    .get(super::namespace_of(o))
                    .is_some_and(|ps| ps.iter().any(|p| super::pdb_selects(p, labels)));
                if !covered {
                    cx.report_on(
                        id,
                        Some("/spec/replicas".to_owned()),
                        format!(
                            "{kind} with {} replicas has no PodDisruptionBudget selecting its pods",
                            replicas.and_then(Value::as_u64).unwrap_or(0)
                        ),
                    )
                    .fix("add a PodDisruptionBudget with maxUnavailable: 1 selecting the pod template's labels");
                }
                });
            }
        }
    }
}
