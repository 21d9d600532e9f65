use palisade_core::{Context, Inventory, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// PodDisruptionBudgets that allow no voluntary eviction: `maxUnavailable: 0` or `"0%"`,
    /// `minAvailable: "100%"`, or a `minAvailable` at or above the replica count of the
    /// Deployment or StatefulSet it selects (same namespace, selector matching the pod
    /// template's labels; an unset `replicas` counts as 1). A `minAvailable` number whose
    /// workload is not in the scan is not judged. Selected workloads scaled to 0 pass.
    /// Objects written without a namespace are in `default` (as for REL003 and the NET and
    /// RBAC rules), and selectors follow the API (`{}` selects nothing in `policy/v1beta1`;
    /// an invalid selector selects nothing), as REL003 documents.
    ///
    /// ## Why it matters
    /// `kubectl drain` waits for ever on such a budget: node upgrades, node-image patching
    /// and cluster autoscaler scale-downs stall, or the platform team force-deletes the pods,
    /// which is the outage the budget was meant to prevent.
    ///
    /// ## How to fix
    /// Use `maxUnavailable: 1` (or a percentage that leaves at least one pod evictable), and
    /// run enough replicas to absorb it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: PodDisruptionBudget
    /// spec:
    ///   minAvailable: 2          # the Deployment runs 2 replicas
    ///   selector: { matchLabels: { app: web } }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: PodDisruptionBudget
    /// spec:
    ///   maxUnavailable: 1
    ///   selector: { matchLabels: { app: web } }
    /// ```
    pub(crate) struct DisruptionBudgetBlocksEviction;
    id: "REL006",
    name: "disruption-budget-blocks-eviction",
    severity: Medium,
    summary: "PodDisruptionBudget allows no eviction and blocks node drains",
    references: ["nsa:upgrading", "nist:4.4.2", "owasp:K01", "book:ops.zero-downtime", "book:platform.patches"],
    tags: ["reliability"],
    level: None,
    scope: Inventory,
    kinds: &["PodDisruptionBudget", "Deployment", "StatefulSet"],
    options: &[],
}

impl Rule for DisruptionBudgetBlocksEviction {
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
        // The replicated workloads of each namespace, in inventory order.
        let mut workloads: std::collections::HashMap<
            &str,
            Vec<(palisade_core::ObjectId, &palisade_core::Object)>,
        > = std::collections::HashMap::new();
        for (id, w) in super::replicated(inv) {
            workloads
                .entry(super::namespace_of(w))
                .or_default()
                .push((id, w));
        }
        for (id, pdb) in inv.of_kind("PodDisruptionBudget") {
            if pdb.group() != "policy" {
                continue;
            }
            let empty = serde_json::Map::new();
            let selected: Vec<_> = workloads
                .get(super::namespace_of(pdb))
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .filter(|(_, w)| {
                    let labels = w
                        .pointer("/spec/template/metadata/labels")
                        .and_then(Value::as_object)
                        .unwrap_or(&empty);
                    !labels.is_empty() && super::pdb_selects(pdb, labels)
                })
                .collect();
            // Budgets over workloads scaled to zero block nothing.
            if !selected.is_empty() && selected.iter().all(|(_, w)| super::replicas(w) == Some(0)) {
                continue;
            }
            let total: Option<u64> = if selected.is_empty() {
                None
            } else {
                selected.iter().map(|(_, w)| super::replicas(w)).sum()
            };
            if let Some(v) = pdb.pointer("/spec/maxUnavailable") {
                let zero = match v {
                    Value::Number(n) => n.as_u64() == Some(0),
                    Value::String(s) => s.trim().trim_end_matches('%').trim() == "0",
                    _ => false,
                };
                if zero {
                    cx.report_on(
                        id,
                        Some("/spec/maxUnavailable".to_owned()),
                        "PodDisruptionBudget has maxUnavailable 0: no pod it selects can ever be evicted",
                    )
                    .fix("allow at least one disruption: maxUnavailable: 1");
                }
                continue;
            }
            let Some(v) = pdb.pointer("/spec/minAvailable") else {
                continue;
            };
            if v.as_str().map(str::trim) == Some("100%") {
                cx.report_on(
                    id,
                    Some("/spec/minAvailable".to_owned()),
                    "PodDisruptionBudget has minAvailable 100%: no pod it selects can ever be evicted",
                )
                .fix("use maxUnavailable: 1 instead");
                continue;
            }
            let (Some(min), Some(total)) = (v.as_u64(), total) else {
                continue;
            };
            if min >= total {
                cx.report_on(
                    id,
                    Some("/spec/minAvailable".to_owned()),
                    format!(
                        "PodDisruptionBudget requires minAvailable {min} but the workloads it selects run {total} replica(s): no pod can be evicted"
                    ),
                )
                .fix("use maxUnavailable: 1, or run more replicas than minAvailable");
            }
        }
    }
}
