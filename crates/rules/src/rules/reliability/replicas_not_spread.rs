use palisade_core::labels::{labels_at, labels_of, Labels};
use palisade_core::selector::{self, AffinityTerm};
use palisade_core::{Context, Inventory, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Deployments and StatefulSets with two or more replicas whose pod template has neither
    /// a `podAntiAffinity` (required or preferred) nor `topologySpreadConstraints` that spread
    /// the workload's own replicas. A `nodeName` pin or a cluster-wide default spreading
    /// policy cannot be seen in a manifest; when the scheduler's defaults are enough for you,
    /// disable this rule.
    ///
    /// A constraint or term counts only when it selects the pod template's own labels, with
    /// the API's semantics: `matchLabels` and `matchExpressions` (`In`, `NotIn`, `Exists`,
    /// `DoesNotExist`), ANDed with the pod's values of `matchLabelKeys` (and, for
    /// anti-affinity terms, `mismatchLabelKeys`, which excludes the pod's own value); a
    /// missing, `null` or invalid `labelSelector` selects nothing. An anti-affinity term
    /// counts only when its namespaces include the pod's own: `namespaces` and
    /// `namespaceSelector` both empty mean the pod's namespace, `namespaceSelector: {}` means
    /// every namespace, and a `namespaceSelector` over labels of a Namespace the scan does not
    /// hold is given the benefit of the doubt. Objects written without a namespace are in
    /// `default`, as for the other inventory rules. Workloads whose constraints select other
    /// pods are reported at the constraints' path, with the pod's labels.
    ///
    /// ## Why it matters
    /// Nothing stops the scheduler from packing every replica on one node or in one zone;
    /// the loss of that node (a crash, an upgrade, a spot eviction) takes every replica down
    /// at once, and the replicas bought no availability.
    ///
    /// ## How to fix
    /// Add `topologySpreadConstraints` over `kubernetes.io/hostname` and
    /// `topology.kubernetes.io/zone` (or a preferred pod anti-affinity) selecting the
    /// workload's own pods.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   template:
    ///     spec:
    ///       containers: [...]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   template:
    ///     spec:
    ///       topologySpreadConstraints:
    ///       - maxSkew: 1
    ///         topologyKey: topology.kubernetes.io/zone
    ///         whenUnsatisfiable: ScheduleAnyway
    ///         labelSelector: { matchLabels: { app: web } }
    /// ```
    pub(crate) struct ReplicasNotSpread;
    id: "REL007",
    name: "replicas-not-spread",
    severity: Low,
    summary: "Replicas have no anti-affinity or topology spread constraints",
    references: ["nsa:upgrading", "nist:4.3.4", "owasp:K01", "book:ops.zero-downtime"],
    tags: ["reliability"],
    level: None,
    scope: Inventory,
    // Namespace: a namespaceSelector is matched against the labels of the namespaces held.
    kinds: &["Deployment", "StatefulSet", "Namespace"],
    options: &[],
}

impl Rule for ReplicasNotSpread {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_namespace_scoped(&self) -> bool {
        true
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        super::each_multi_replica(inv, |id, o, n| {
            let Some(pod) = PodTemplate::of(o) else {
                return;
            };
            let labels = labels_at(pod.metadata.get("labels"));
            let ns = super::namespace_of(o);
            let constraints = pod
                .get("topologySpreadConstraints")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let spread = constraints.iter().any(|c| {
                selector::spread_constraint_selector(c, &labels).is_some_and(|s| s.matches(&labels))
            });
            let terms = anti_affinity_terms(pod.spec);
            let anti = terms.iter().any(|t| {
                AffinityTerm::from_value(t, &labels).is_some_and(|t| {
                    t.selector.matches(&labels)
                        && t.covers_namespace(ns, ns, namespace_labels(inv, ns).as_ref())
                            // a namespace selector over labels of a namespace the scan does
                            // not hold: not judged
                            .unwrap_or(true)
                })
            });
            if anti || spread {
                return;
            }
            if constraints.is_empty() && terms.is_empty() {
                cx.report_on(
                    id,
                    Some("/spec/replicas".to_owned()),
                    format!("{} runs {n} replicas with no pod anti-affinity or topology spread constraints: they may all land on one node", o.kind),
                )
                .fix("add topologySpreadConstraints over kubernetes.io/hostname and topology.kubernetes.io/zone");
                return;
            }
            let path = if constraints.is_empty() {
                pod.spec_pointer("/affinity/podAntiAffinity")
            } else {
                pod.spec_pointer("/topologySpreadConstraints")
            };
            let shown: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            cx.report_on(
                id,
                Some(path),
                format!(
                    "{} runs {n} replicas but none of its topology spread constraints or pod anti-affinity terms selects its own pods ({}) in namespace {ns}: they may all land on one node",
                    o.kind,
                    if shown.is_empty() { "no labels".to_owned() } else { shown.join(",") },
                ),
            )
            .fix("make the labelSelector of a topology spread constraint (or of an anti-affinity term, in the pod's namespace) select the pod template's labels");
        });
    }
}

/// The terms of a pod spec's `podAntiAffinity`: required ones and the `podAffinityTerm` of
/// preferred ones.
fn anti_affinity_terms(spec: &Value) -> Vec<&Value> {
    let Some(anti) = spec.pointer("/affinity/podAntiAffinity") else {
        return Vec::new();
    };
    let list = |field: &str| {
        anti.get(field)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    };
    list("requiredDuringSchedulingIgnoredDuringExecution")
        .iter()
        .chain(
            list("preferredDuringSchedulingIgnoredDuringExecution")
                .iter()
                .filter_map(|p| p.get("podAffinityTerm")),
        )
        .collect()
}

/// The labels of a namespace the scan holds (`None` when it holds no such Namespace).
fn namespace_labels(inv: &Inventory, ns: &str) -> Option<Labels> {
    inv.of_kind("Namespace")
        .find(|(_, n)| n.group().is_empty() && n.name == ns)
        .map(|(_, n)| labels_of(n.value()))
}
