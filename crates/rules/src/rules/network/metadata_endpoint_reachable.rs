use super::*;
use palisade_core::{Context, Inventory, Rule};
use std::collections::HashMap;

declare_rule! {
    /// ## What it checks
    /// Pods and workloads whose egress is restricted by NetworkPolicies yet allowed to reach 169.254.169.254, the
    /// instance metadata endpoint (usually through an egress rule to `0.0.0.0/0` without an `except`). Pods
    /// without any egress policy are reported by NET002. Cilium and Calico policies are evaluated with their
    /// own semantics (`toEntities: [world]`, `toCIDRSet` with `except`, deny rules, Calico order and tiers;
    /// see docs/network-policies.md); L7 rules count as L4 allows.
    ///
    /// ## Why it matters
    /// The metadata endpoint hands out the node's cloud credentials and bootstrap data: from a pod, that is often
    /// the cloud account.
    ///
    /// ## How to fix
    /// Add `except: [169.254.169.254/32]` to the ipBlock, or allow only the destinations the workload needs.
    /// The finding's fix names each egress rule that lets the endpoint through and fits how it does: an egress
    /// rule without `to` (`egress: [{}]`, allow all) has no ipBlock to add an `except` to, so the fix is to list
    /// the destinations the workload needs; an ipBlock that is the endpoint itself (`169.254.169.254/32`) has to
    /// be removed, since a block cannot except itself.
    ///
    /// ## Example
    /// ```yaml
    /// egress:
    /// - to:
    ///   - ipBlock: {cidr: 0.0.0.0/0}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// egress:
    /// - to:
    ///   - ipBlock:
    ///       cidr: 0.0.0.0/0
    ///       except: [169.254.169.254/32]
    /// ```
    pub(crate) struct MetadataEndpointReachable;
    id: "NET006",
    name: "metadata-endpoint-reachable",
    severity: High,
    summary: "Egress-restricted pod can still reach the cloud metadata endpoint",
    references: ["cis:5.3.2", "nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.metadata-api", "book:workload.egress"],
    tags: ["network"],
    level: None,
    scope: Inventory,
    kinds: NET_KINDS,
    options: &[],
}

impl Rule for MetadataEndpointReachable {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    // At admission the webhook reads only the namespace: a CiliumClusterwideNetworkPolicy
    // or Calico GlobalNetworkPolicy is not seen there (docs/network-policies.md).
    fn admission_namespace_scoped(&self) -> bool {
        true
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let np = netpol(inv);
        // The answer depends on the pod's namespace, labels, ports, service account and
        // host network, not its name: copies of a workload share it.
        let mut answers: HashMap<WorkloadKey<'_>, Option<(String, String)>> = HashMap::new();
        for w in np.workloads() {
            if !np.is_isolated(w, Direction::Egress) {
                continue;
            }
            // The workload the endpoint names (the first of its namespace, name and kind).
            let Some(named) = np.workload(&w.namespace, &w.name, Some(&w.kind)) else {
                continue;
            };
            let key = (
                named.namespace.as_str(),
                named.kind.as_str(),
                &named.labels,
                named.ports.as_slice(),
                named.service_account.as_str(),
                named.host_network,
            );
            let answer = answers.entry(key).or_insert_with(|| {
                let endpoint = Endpoint::Workload {
                    namespace: w.namespace.clone(),
                    name: w.name.clone(),
                    kind: Some(w.kind.clone()),
                };
                let reach = np.metadata_endpoint_reachable(&endpoint).ok()?;
                if !reach.reachable {
                    return None;
                }
                let admitted = &reach.verdict.egress.admitted_by;
                let by: Vec<String> = admitted
                    .iter()
                    .map(|r| match &r.path {
                        Some(path) => format!("{} rule {path}", r.policy),
                        None => format!("{} egress rule #{}", r.policy, r.rule_index),
                    })
                    .collect();
                let fixes: Vec<String> = admitted.iter().map(|r| fix_for(inv, r)).collect();
                Some((by.join(", "), fixes.join("; ")))
            });
            let Some((by, fixes)) = answer else {
                continue;
            };
            let Some(id) = find(inv, &w.kind, &w.namespace, &w.name) else {
                continue;
            };
            cx.report_on(id, None, format!("{} {}/{} can reach the instance metadata endpoint 169.254.169.254 (allowed by {by})", w.kind, w.namespace, w.name))
                .fix(fixes.clone());
        }
    }
}

/// What the metadata endpoint's reachability from a pod depends on: namespace, kind,
/// labels, ports, service account, host network.
type WorkloadKey<'a> = (
    &'a str,
    &'a str,
    &'a palisade_core::labels::Labels,
    &'a [palisade_netpol::ContainerPort],
    &'a str,
    bool,
);

/// The fix for one egress rule that admits the metadata endpoint, fitted to how it admits
/// it: a rule without peers allows every destination (nothing to add an `except` to), an
/// ipBlock wider than the endpoint takes an `except`, and a block that is the endpoint
/// alone (`169.254.169.254/32`, which cannot except itself) has to go.
fn fix_for(inv: &Inventory, r: &RuleRef) -> String {
    if let Some(path) = &r.path {
        // Cilium / Calico rule: name it by its place in the object.
        return format!(
            "exclude 169.254.169.254/32 from the rule at {path} of {} (an `except` in toCIDRSet, \
             or `notNets` in Calico), or add a deny rule for it",
            r.policy
        );
    }
    let at = format!("egress rule #{} of {}", r.rule_index, r.policy);
    let Some(peer) = r.peer_index else {
        return format!(
            "{at} has no `to` and allows every destination: list the destinations the workload needs in `to` \
             (for the internet, an ipBlock `0.0.0.0/0` with `except: [169.254.169.254/32]`)"
        );
    };
    let cidr = find(inv, "NetworkPolicy", &r.policy.namespace, &r.policy.name)
        .map(|id| inv.get(id))
        .and_then(|p| {
            p.pointer(&format!(
                "/spec/egress/{}/to/{peer}/ipBlock/cidr",
                r.rule_index
            ))
        })
        .and_then(serde_json::Value::as_str);
    match cidr {
        Some(c) if c.trim().ends_with("/32") => format!(
            "{at} allows {c}, the metadata endpoint itself: remove that peer (give the workload a \
             workload identity instead of node credentials)"
        ),
        Some(c) => format!("add `except: [169.254.169.254/32]` to the ipBlock {c} of {at}"),
        None => format!("add `except: [169.254.169.254/32]` to the egress ipBlock of {at}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{run, run_fixture};

    /// Copies of a workload share one answer, and each copy is reported under its own name;
    /// a workload of other labels gets its own answer.
    #[test]
    fn copies_of_a_workload_are_each_reported() {
        let deployment = |name: &str, app: &str| {
            format!("apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  template:\n    metadata: {{labels: {{app: {app}}}}}\n    spec: {{containers: [{{name: c, image: c:1}}]}}\n")
        };
        let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web-out, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 0.0.0.0/0}}]\n";
        let db_policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-out, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Egress]\n  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8}}]\n";
        let yaml = [
            deployment("web-1", "web"),
            deployment("db", "db"),
            deployment("web-2", "web"),
            policy.to_owned(),
            db_policy.to_owned(),
        ]
        .join("---\n");
        let found = run(&MetadataEndpointReachable, &yaml);
        let names: Vec<_> = found.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["web-1", "web-2"]);
        assert!(found[1]
            .1
            .message
            .starts_with("Deployment shop/web-2 can reach"));
        assert!(found[1]
            .1
            .message
            .ends_with("(allowed by shop/web-out egress rule #0)"));
    }

    fn fixes(file: &str) -> Vec<String> {
        run_fixture(&MetadataEndpointReachable, file)
            .into_iter()
            .map(|(_, f)| f.fix.expect("NET006 always has a fix").into_owned())
            .collect()
    }

    #[test]
    fn allow_all_egress_is_not_told_to_add_an_except() {
        let fixes = fixes("fail_allow_all_egress.yaml");
        assert_eq!(fixes.len(), 1);
        assert!(
            fixes[0].starts_with(
                "egress rule #0 of shop/allow-all-egress has no `to` and allows every destination"
            ),
            "{}",
            fixes[0]
        );
        assert!(!fixes[0].contains("to the ipBlock"), "{}", fixes[0]);
    }

    #[test]
    fn a_cilium_rule_is_named_by_its_place_in_the_object() {
        let fixes = fixes("fail_cilium_world_egress.yaml");
        assert_eq!(fixes.len(), 1);
        assert!(
            fixes[0].contains("the rule at /spec/egress/0 of CiliumNetworkPolicy shop/egress"),
            "{}",
            fixes[0]
        );
    }

    #[test]
    fn a_wide_ip_block_takes_an_except() {
        assert_eq!(
            fixes("fail_internet_egress_without_except.yaml"),
            ["add `except: [169.254.169.254/32]` to the ipBlock 0.0.0.0/0 of egress rule #0 of shop/egress"]
        );
    }

    #[test]
    fn the_endpoint_itself_is_removed_not_excepted() {
        let fixes = fixes("fail_metadata_block_itself.yaml");
        assert_eq!(fixes.len(), 1);
        assert!(
            fixes[0].starts_with("egress rule #0 of shop/egress allows 169.254.169.254/32, the metadata endpoint itself: remove that peer"),
            "{}",
            fixes[0]
        );
    }
}
