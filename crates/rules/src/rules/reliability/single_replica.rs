use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Deployments and StatefulSets that run a single replica (`replicas: 1`, or no
    /// `replicas`, which defaults to 1) and that no HorizontalPodAutoscaler or KEDA
    /// ScaledObject of the scan targets (in the same namespace; objects written without a
    /// namespace are in `default`, as for the NET and RBAC rules, so an autoscaler without a
    /// namespace no longer matches a workload of another namespace). `replicas: 0` (scaled
    /// down on purpose) and templated counts pass. An inventory rule: scan the workload with
    /// its autoscaler.
    ///
    /// ## Why it matters
    /// One replica means downtime at every rollout, node drain, node-image upgrade, eviction
    /// or crash: routine patching becomes an outage, so it gets postponed.
    ///
    /// ## How to fix
    /// Run at least two replicas (spread over nodes and zones, see REL007), or let an
    /// autoscaler manage the count with `minReplicas: 2`.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 1
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 3
    /// ```
    pub(crate) struct SingleReplica;
    id: "REL004",
    name: "single-replica",
    severity: Low,
    summary: "Deployment or StatefulSet runs a single replica",
    references: ["nsa:upgrading", "nist:4.3.4", "owasp:K01", "book:ops.zero-downtime", "book:platform.patches"],
    tags: ["reliability"],
    level: None,
    scope: Inventory,
    kinds: &["Deployment", "StatefulSet", "HorizontalPodAutoscaler", "ScaledObject"],
    options: &[],
}

impl Rule for SingleReplica {
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
        super::each_replicated(inv, |id, o| {
            if super::replicas(o) != Some(1) || super::autoscaled(inv, o) {
                return;
            }
            let explicit = o.pointer("/spec/replicas").is_some_and(|v| !v.is_null());
            let path = if explicit { "/spec/replicas" } else { "/spec" };
            cx.report_on(
                id,
                Some(path.to_owned()),
                format!(
                    "{} runs a single replica{} and no autoscaler targets it",
                    o.kind,
                    if explicit {
                        ""
                    } else {
                        " (replicas unset, defaults to 1)"
                    }
                ),
            )
            .fix("run at least 2 replicas, or an autoscaler with minReplicas: 2");
        });
    }
}
