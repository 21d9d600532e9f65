use palisade_core::{Context, Inventory, Object, Rule};
use serde_json::{Map, Value};
use std::collections::HashMap;

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
        // The replicated workloads of each namespace a budget is in, in inventory order,
        // indexed by label: their labels and replicas, copied (each workload is read once,
        // without keeping its tree).
        let budgeted: std::collections::HashSet<&str> = inv
            .of_kind("PodDisruptionBudget")
            .filter(|(_, p)| p.group() == "policy")
            .map(|(_, p)| super::namespace_of(p))
            .collect();
        let mut workloads: HashMap<&str, Workloads> = HashMap::new();
        for (_, w) in super::replicated(inv) {
            let ns = super::namespace_of(w);
            if !budgeted.contains(ns) {
                continue;
            }
            let (labels, replicas) = w.with_unpacked(|w| {
                let labels = w
                    .pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                (labels, super::replicas(w))
            });
            workloads.entry(ns).or_default().push(labels, replicas);
        }
        // What the budgets of one namespace with one selector select: budgets that share a
        // selector (copies of a chart) share the answer.
        let mut answers: HashMap<(&str, bool, String), Selected> = HashMap::new();
        for (id, pdb) in inv.of_kind("PodDisruptionBudget") {
            if pdb.group() != "policy" {
                continue;
            }
            let ns = super::namespace_of(pdb);
            let sel = pdb
                .pointer("/spec/selector")
                .map(Value::to_string)
                .unwrap_or_default();
            let key = (ns, pdb.api_version == "policy/v1beta1", sel);
            let selected = *answers.entry(key).or_insert_with(|| {
                workloads
                    .get(ns)
                    .map_or(Selected::default(), |w| w.selected_by(pdb))
            });
            // Budgets over workloads scaled to zero block nothing.
            if selected.count > 0 && selected.all_zero {
                continue;
            }
            let total = if selected.count == 0 {
                None
            } else {
                selected.total
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

/// The Deployments and StatefulSets of one namespace: their pod template's labels and their
/// replicas, and for each `key=value` label the workloads that carry it.
#[derive(Default)]
struct Workloads {
    list: Vec<(Map<String, Value>, Option<u64>)>,
    by_label: HashMap<(String, String), Vec<usize>>,
}

/// What a budget selects: how many workloads, whether they all run zero replicas, and their
/// replicas in total (`None` when one of them has no number).
#[derive(Clone, Copy, Default)]
struct Selected {
    count: usize,
    all_zero: bool,
    total: Option<u64>,
}

impl Workloads {
    fn push(&mut self, labels: Map<String, Value>, replicas: Option<u64>) {
        let i = self.list.len();
        for (k, v) in &labels {
            if let Some(v) = v.as_str() {
                self.by_label
                    .entry((k.clone(), v.to_owned()))
                    .or_default()
                    .push(i);
            }
        }
        self.list.push((labels, replicas));
    }

    /// What `pdb` selects. A workload a selector selects carries each of its `matchLabels`,
    /// so only those holding the rarest one are tried; a selector without string
    /// `matchLabels` tries them all.
    fn selected_by(&self, pdb: &Object) -> Selected {
        let all: Vec<usize>;
        let candidates: &[usize] = match self.label_candidates(pdb) {
            Some(c) => c,
            None => {
                all = (0..self.list.len()).collect();
                &all
            }
        };
        let mut out = Selected {
            count: 0,
            all_zero: true,
            total: Some(0),
        };
        for &i in candidates {
            let (labels, n) = &self.list[i];
            if labels.is_empty() || !super::pdb_selects(pdb, labels) {
                continue;
            }
            let n = *n;
            out.count += 1;
            out.all_zero &= n == Some(0);
            out.total = out.total.zip(n).map(|(t, n)| t.saturating_add(n));
        }
        out
    }

    /// The workloads holding the rarest `key=value` of the budget's `matchLabels`; `None`
    /// when it has none (or one that is not a string).
    fn label_candidates<'s>(&'s self, pdb: &'s Object) -> Option<&'s [usize]> {
        let labels = pdb
            .pointer("/spec/selector/matchLabels")?
            .as_object()
            .filter(|m| !m.is_empty())?;
        let mut best: Option<&[usize]> = None;
        for (k, v) in labels {
            let posting = self
                .by_label
                .get(&(k.clone(), v.as_str()?.to_owned()))
                .map_or(&[][..], Vec::as_slice);
            if best.is_none_or(|b| posting.len() < b.len()) {
                best = Some(posting);
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run;

    fn deployment(name: &str, replicas: u64, labels: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  replicas: {replicas}\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {{containers: [{{name: c, image: c:1}}]}}\n"
        )
    }

    fn budget(name: &str, min: u64, selector: &str) -> String {
        format!(
            "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  minAvailable: {min}\n  selector: {selector}\n"
        )
    }

    /// The label index narrows the workloads tried, never what a selector selects: every
    /// `matchLabels` pair and every expression still has to hold.
    #[test]
    fn budgets_select_through_the_label_index_as_the_api_does() {
        let yaml = [
            deployment("web", 2, "{app: web, tier: fe}"),
            deployment("web-canary", 1, "{app: web, tier: fe, track: canary}"),
            deployment("api", 3, "{app: api, tier: be}"),
            deployment("unlabelled", 5, "{}"),
            // 2 + 1 replicas: minAvailable 3 blocks
            budget("web-all", 3, "{matchLabels: {app: web, tier: fe}}"),
            // only web (2 replicas): minAvailable 2 blocks
            budget("web-stable", 2, "{matchLabels: {app: web}, matchExpressions: [{key: track, operator: DoesNotExist}]}"),
            // expressions only: web, web-canary and api (6 replicas)
            budget("tiers", 6, "{matchExpressions: [{key: tier, operator: In, values: [fe, be]}]}"),
            // a pair no workload carries: selects nothing, not judged
            budget("none", 1, "{matchLabels: {app: web, tier: be}}"),
            // api alone: 3 > 2, evictable
            budget("api", 2, "{matchLabels: {app: api}}"),
        ]
        .join("---\n");
        let mut names: Vec<_> = run(&DisruptionBudgetBlocksEviction, &yaml)
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        names.sort();
        assert_eq!(names, ["tiers", "web-all", "web-stable"]);
    }

    /// Copies of one budget share one answer, and each copy is reported.
    #[test]
    fn copies_of_a_budget_are_each_reported() {
        let mut docs = vec![deployment("web", 2, "{app: web}")];
        for i in 0..5 {
            docs.push(budget(&format!("web-{i}"), 2, "{matchLabels: {app: web}}"));
        }
        // same selector in policy/v1beta1, where `{}` differs: its own answer
        docs.push(budget("all", 2, "{}").replace("policy/v1", "policy/v1beta1"));
        docs.push(budget("all-v1", 2, "{}"));
        let found = run(&DisruptionBudgetBlocksEviction, &docs.join("---\n"));
        let names: Vec<_> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["web-0", "web-1", "web-2", "web-3", "web-4", "all-v1"]
        );
    }
}
