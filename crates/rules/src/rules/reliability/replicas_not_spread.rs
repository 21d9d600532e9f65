use palisade_core::{Context, Inventory, PodTemplate, Rule};

declare_rule! {
    /// ## What it checks
    /// Deployments and StatefulSets with two or more replicas whose pod template has neither
    /// a `podAntiAffinity` (required or preferred) nor `topologySpreadConstraints`. A
    /// `nodeName` pin or a cluster-wide default spreading policy cannot be seen in a
    /// manifest; when the scheduler's defaults are enough for you, disable this rule.
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
    ///
    /// ## References
    /// NSA/CISA Kubernetes Hardening Guidance, "Upgrading and application security
    /// practices"; NIST SP 800-190 4.3.4; OWASP Kubernetes Top 10 K01.
    pub(crate) struct ReplicasNotSpread;
    id: "REL007",
    name: "replicas-not-spread",
    severity: Low,
    summary: "Replicas have no anti-affinity or topology spread constraints",
    references: ["nsa:upgrading", "nist:4.3.4", "owasp:K01", "book:ops.zero-downtime"],
    tags: ["reliability"],
    level: None,
    scope: Inventory,
    kinds: &["Deployment", "StatefulSet"],
    options: &[],
}

impl Rule for ReplicasNotSpread {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        for (id, o, n) in super::multi_replica(inv) {
            let Some(pod) = PodTemplate::of(o) else {
                continue;
            };
            let anti = pod
                .spec
                .pointer("/affinity/podAntiAffinity")
                .and_then(|a| a.as_object())
                .is_some_and(|a| !a.is_empty());
            let spread = pod
                .get("topologySpreadConstraints")
                .and_then(|t| t.as_array())
                .is_some_and(|t| !t.is_empty());
            if anti || spread {
                continue;
            }
            cx.report_on(
                id,
                Some("/spec/replicas".to_owned()),
                format!("{} runs {n} replicas with no pod anti-affinity or topology spread constraints: they may all land on one node", o.kind),
            )
            .fix("add topologySpreadConstraints over kubernetes.io/hostname and topology.kubernetes.io/zone");
        }
    }
}
