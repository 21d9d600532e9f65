use palisade_core::{Context, Inventory, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Multi-replica workloads whose update strategy can stop every replica at once: a
    /// Deployment with `strategy.type: Recreate`, or a Deployment or StatefulSet whose
    /// rolling update `maxUnavailable` resolves (percentages rounded down, as Kubernetes
    /// does) to the replica count or more, `100%` included. Workloads with fewer than two
    /// replicas are REL004's.
    ///
    /// ## Why it matters
    /// Every rollout, including the urgent one that ships a security fix, becomes an outage;
    /// a bad image takes the whole service down before a readiness probe can stop the
    /// rollout.
    ///
    /// ## How to fix
    /// Use `RollingUpdate` with `maxUnavailable` below the replica count (`25%` or `1`) and a
    /// `maxSurge`; keep `Recreate` for workloads that really cannot run two versions side by
    /// side, with a single replica.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   strategy:
    ///     rollingUpdate: { maxUnavailable: "100%" }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   replicas: 3
    ///   strategy:
    ///     rollingUpdate: { maxUnavailable: 1, maxSurge: 1 }
    /// ```
    pub(crate) struct RolloutTakesAllReplicasDown;
    id: "REL005",
    name: "rollout-takes-all-replicas-down",
    severity: Medium,
    summary: "Update strategy can take every replica down at once",
    references: ["nsa:upgrading", "nist:4.3.4", "owasp:K01", "book:ops.zero-downtime"],
    tags: ["reliability"],
    level: None,
    scope: Inventory,
    kinds: &["Deployment", "StatefulSet"],
    options: &[],
}

impl Rule for RolloutTakesAllReplicasDown {
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
            let (strategy, field) = if o.kind == "Deployment" {
                (
                    "/spec/strategy",
                    "/spec/strategy/rollingUpdate/maxUnavailable",
                )
            } else {
                (
                    "/spec/updateStrategy",
                    "/spec/updateStrategy/rollingUpdate/maxUnavailable",
                )
            };
            let kind = o
                .pointer(&format!("{strategy}/type"))
                .and_then(Value::as_str)
                .unwrap_or("RollingUpdate");
            if o.kind == "Deployment" && kind == "Recreate" {
                cx.report_on(
                    id,
                    Some(format!("{strategy}/type")),
                    format!("Deployment with {n} replicas uses the Recreate strategy: every rollout stops all of them"),
                )
                .fix("use RollingUpdate with maxUnavailable below the replica count");
                return;
            }
            if kind != "RollingUpdate" {
                return;
            }
            let Some(v) = o.pointer(field) else {
                return;
            };
            let Some(down) = super::int_or_percent(v, n, false) else {
                return;
            };
            if down >= n {
                let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                cx.report_on(
                    id,
                    Some(field.to_owned()),
                    format!(
                        "{} with {n} replicas allows maxUnavailable {shown}: a rollout can stop all of them",
                        o.kind
                    ),
                )
                .fix("set maxUnavailable below the replica count (`1` or `25%`)");
            }
        });
    }
}
