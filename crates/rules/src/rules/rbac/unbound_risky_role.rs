use super::RBAC_KINDS;
use palisade_core::labels::LabelSelector;
use palisade_core::{Context, Inventory, Rule, Severity};
use palisade_rbac::{PolicyRule, Role, RoleKind, ALL};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

declare_rule! {
    /// ## What it checks
    /// Roles and ClusterRoles that no binding references yet, but that grant what the bound
    /// rules report once someone holds them: reading Secrets, `pods/exec` or `pods/attach`,
    /// `pods/portforward`, creating pods or workloads, minting service-account tokens,
    /// `escalate`, `bind`, `impersonate`, editing RBAC, `nodes/proxy`, CSR approval, writing
    /// admission webhook configurations, and deleting at scale (`deletecollection` on
    /// workloads, Secrets, ConfigMaps, volumes or namespaces; `delete` on namespaces, nodes,
    /// PersistentVolumes or CustomResourceDefinitions, which take everything inside them).
    /// Reported at low severity (medium for `escalate`, `bind`, `impersonate`, `nodes/proxy`,
    /// CSR approval and webhook writes): the grant is latent, and the bound case is reported
    /// by RBAC003, RBAC004, RBAC005 and RBAC009 at their own severity.
    ///
    /// Semantics are the RBAC engine's: ClusterRole aggregation, `resourceNames` ignored
    /// (a named grant is still a grant), and a namespaced Role never grants cluster-scoped
    /// resources. A ClusterRole aggregated into another ClusterRole of the scan is judged as
    /// part of that role. One aggregated into the built-in `admin`, `edit` or `view` (by the
    /// `rbac.authorization.k8s.io/aggregate-to-*` labels) is reported, since every holder of
    /// that built-in role receives it. Rules with `*` verbs or resources are left to RBAC002.
    /// Kubernetes' own roles (`system:*`, `cluster-admin`, `admin`, `edit`, `view`) are not
    /// reported.
    ///
    /// ## Why it matters
    /// Charts and operators ship roles ahead of the bindings that use them, and a later
    /// RoleBinding, often written by someone else, turns the latent grant into access. Seen
    /// in review, the role can be narrowed before anyone holds it.
    ///
    /// ## How to fix
    /// Narrow the role to what its future subjects need (named resources, read-only verbs),
    /// or delete it if nothing will bind it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRole
    /// metadata: { name: chart-operator }
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["secrets"]
    ///   verbs: ["get", "list", "watch"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Role
    /// metadata: { name: chart-operator, namespace: shop }
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["secrets"]
    ///   resourceNames: ["chart-operator-config"]
    ///   verbs: ["get"]
    /// ```
    pub(crate) struct UnboundRiskyRole;
    id: "RBAC011",
    name: "unbound-risky-role",
    severity: Low,
    summary: "Role or ClusterRole that nothing binds yet grants risky permissions",
    references: ["cis:5.1.2", "cis:5.1.4", "cis:5.1.8", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

/// Kubernetes' user-facing default ClusterRoles, unbound by design in most clusters.
const BUILT_IN: &[&str] = &["cluster-admin", "admin", "edit", "view"];

/// What a rule grants beyond the engine's risk kinds: `pods/portforward` and deletion at
/// scale.
fn extra_risks(r: &PolicyRule) -> Vec<&'static str> {
    let mut out = Vec::new();
    let group = |g: &str| r.api_group_matches(g);
    if group("")
        && r.resource_matches("pods/portforward", "portforward")
        && (r.verb_matches("create") || r.verb_matches("get"))
    {
        out.push("can forward ports into pods (pods/portforward)");
    }
    const COLLECTIONS: &[(&str, &str)] = &[
        ("", "pods"),
        ("", "secrets"),
        ("", "configmaps"),
        ("", "persistentvolumeclaims"),
        ("", "persistentvolumes"),
        ("", "services"),
        ("", "namespaces"),
        ("apps", "deployments"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("batch", "jobs"),
    ];
    const CASCADING: &[(&str, &str)] = &[
        ("", "namespaces"),
        ("", "nodes"),
        ("", "persistentvolumes"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
    ];
    let collection = r.verb_matches("deletecollection")
        && COLLECTIONS
            .iter()
            .any(|(g, res)| group(g) && r.resource_matches(res, ""));
    let cascading = r.verb_matches("delete")
        && CASCADING
            .iter()
            .any(|(g, res)| group(g) && r.resource_matches(res, ""));
    if collection || cascading {
        out.push("can delete at scale (deletecollection, or delete of namespaces, nodes, volumes or CRDs)");
    }
    out
}

fn is_wildcard(r: &PolicyRule) -> bool {
    r.verbs.iter().any(|v| v == ALL) || r.resources.iter().any(|v| v == ALL)
}

/// True when some binding of the scan references the role. Bindings are read from the
/// inventory, not from the RBAC engine: a binding the engine cannot use (rook's sqlitevfs
/// example binds a ServiceAccount without the namespace a ClusterRoleBinding needs) still
/// shows that its author meant to grant the role, and the bound rules judge what it grants.
/// The roles some binding of the inventory refers to: (kind, name, namespace), the namespace
/// `None` for a ClusterRole (bound by a RoleBinding of any namespace or a ClusterRoleBinding),
/// else the RoleBinding's (`default` when it names none).
/// Each binding is read once, without keeping its tree.
fn bound_roles(inv: &Inventory) -> HashSet<BoundRole> {
    ["RoleBinding", "ClusterRoleBinding"]
        .into_iter()
        .flat_map(|k| inv.of_kind(k))
        .filter(|(_, b)| b.group() == "rbac.authorization.k8s.io")
        .filter_map(|(_, b)| {
            b.with_value(|v| {
                let kind = v.pointer("/roleRef/kind").and_then(Value::as_str)?;
                let name = v.pointer("/roleRef/name").and_then(Value::as_str)?;
                let ns = (kind != "ClusterRole")
                    .then(|| b.namespace.as_deref().unwrap_or("default").to_owned());
                Some((kind.to_owned(), name.to_owned(), ns))
            })
        })
        .collect()
}

/// A role a binding refers to: kind, name and namespace (`None` for a ClusterRole).
type BoundRole = (String, String, Option<String>);

fn is_bound(bound: &HashSet<BoundRole>, role: &Role) -> bool {
    match role.kind {
        RoleKind::ClusterRole => {
            bound.contains(&("ClusterRole".to_owned(), role.name.clone(), None))
        }
        RoleKind::Role => bound.contains(&(
            "Role".to_owned(),
            role.name.clone(),
            Some(role.namespace.as_deref().unwrap_or("default").to_owned()),
        )),
    }
}

/// The distinct `clusterRoleSelectors` of the scan's aggregating ClusterRoles, each with the
/// names of (up to two of) the roles that hold it: copies of one aggregating role are
/// tried once.
struct Aggregators<'a>(Vec<(&'a LabelSelector, Vec<&'a str>)>);

impl<'a> Aggregators<'a> {
    fn of(roles: &'a [Role]) -> Self {
        let mut index: HashMap<&LabelSelector, usize> = HashMap::new();
        let mut out: Vec<(&LabelSelector, Vec<&str>)> = Vec::new();
        for r in roles {
            for sel in r.aggregation.iter().flatten() {
                let i = *index.entry(sel).or_insert_with(|| {
                    out.push((sel, Vec::new()));
                    out.len() - 1
                });
                let names = &mut out[i].1;
                if names.len() < 2 && !names.contains(&r.name.as_str()) {
                    names.push(&r.name);
                }
            }
        }
        Aggregators(out)
    }

    /// Whether a ClusterRole of another name aggregates `role`.
    fn aggregate(&self, role: &Role) -> bool {
        self.0
            .iter()
            .any(|(sel, names)| names.iter().any(|n| *n != role.name) && sel.matches(&role.labels))
    }
}

/// The built-in role a ClusterRole is aggregated into by the well-known labels, when the
/// scan holds no ClusterRole that aggregates it.
fn aggregated_into(aggregators: &Aggregators<'_>, role: &Role) -> Result<Option<&'static str>, ()> {
    if role.kind != RoleKind::ClusterRole {
        return Ok(None);
    }
    if aggregators.aggregate(role) {
        return Err(());
    }
    for target in ["admin", "edit", "view"] {
        let label = format!("rbac.authorization.k8s.io/aggregate-to-{target}");
        if role.labels.get(&label).map(String::as_str) == Some("true") {
            return Ok(Some(target));
        }
    }
    Ok(None)
}

impl Rule for UnboundRiskyRole {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::ClusterAbsence
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        use palisade_rbac::RiskKind as K;
        let rbac = super::rbac(inv);
        let bound = bound_roles(inv);
        // The selectors of the ClusterRoles that aggregate others, looked up once.
        let aggregators = Aggregators::of(rbac.roles());
        for role in rbac.roles() {
            if role.name.starts_with("system:")
                || (role.kind == RoleKind::ClusterRole && BUILT_IN.contains(&role.name.as_str()))
                || is_bound(&bound, role)
            {
                continue;
            }
            let Ok(into) = aggregated_into(&aggregators, role) else {
                continue;
            };
            let mut details: Vec<&str> = Vec::new();
            let mut first_rule: Option<usize> = None;
            let mut severe = false;
            for risk in rbac.role_risks(role) {
                if matches!(
                    risk.kind,
                    K::ClusterAdmin | K::WildcardVerbs | K::WildcardResources
                ) {
                    continue;
                }
                let Some(&i) = risk.rules.iter().find(|&&i| !is_wildcard(&role.rules[i])) else {
                    continue;
                };
                first_rule = Some(first_rule.map_or(i, |f| f.min(i)));
                severe |= matches!(
                    risk.kind,
                    K::Escalate
                        | K::Bind
                        | K::Impersonate
                        | K::NodesProxy
                        | K::CsrApprove
                        | K::WebhookConfigWrite
                );
                details.push(risk.detail);
            }
            for (i, r) in role.rules.iter().enumerate() {
                if is_wildcard(r) {
                    continue;
                }
                for d in extra_risks(r) {
                    if !details.contains(&d) {
                        details.push(d);
                        first_rule = Some(first_rule.map_or(i, |f| f.min(i)));
                    }
                }
            }
            let Some(first) = first_rule else {
                continue;
            };
            let kind = match role.kind {
                RoleKind::Role => "Role",
                RoleKind::ClusterRole => "ClusterRole",
            };
            let ns = role.namespace.as_deref();
            let Some(id) = inv.find_id(kind, ns, &role.name).or_else(|| {
                (ns == Some("default"))
                    .then(|| inv.find_id(kind, None, &role.name))
                    .flatten()
            }) else {
                continue;
            };
            let status = match into {
                Some(target) => format!("is bound by no binding of the scan but is aggregated into the built-in ClusterRole {target}, so every holder of {target}"),
                None => "is bound to nobody yet; whoever it is bound to".to_owned(),
            };
            // An aggregating role's effective rules are not its own `rules` list.
            let path = role
                .aggregation
                .is_none()
                .then(|| format!("/rules/{first}"));
            let f = cx
                .report_on(
                    id,
                    path,
                    format!("{kind} {} {status}: {}", role.name, details.join("; ")),
                )
                .fix("narrow the role to the verbs and resources its subjects will need (resourceNames, read-only verbs), or delete it");
            if severe {
                f.severity(Severity::Medium);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::run;

    fn role(name: &str, labels: &str) -> String {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}, labels: {labels}}}\nrules:\n- {{apiGroups: [\"\"], resources: [secrets], verbs: [get]}}\n"
        )
    }

    fn aggregator(name: &str, selector: &str) -> String {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\naggregationRule:\n  clusterRoleSelectors: [{{matchLabels: {selector}}}]\nrules: []\n"
        )
    }

    /// A role an aggregating ClusterRole of the scan takes in is judged through it, however
    /// many copies of that aggregator the scan holds; a role only its own name aggregates is
    /// still judged alone. (The aggregators are judged by their aggregated rules.)
    #[test]
    fn roles_aggregated_in_the_scan_are_not_reported() {
        let mut docs = vec![
            role("team-x-reader", "{team: x}"),
            role("team-z-reader", "{team: z}"),
        ];
        for i in 0..3 {
            docs.push(aggregator(&format!("team-x-{i}"), "{team: x}"));
        }
        // an aggregator of the same name as the role it selects
        docs.push(aggregator("team-z-reader", "{team: z}"));
        let names: Vec<_> = run(&UnboundRiskyRole, &docs.join("---\n"))
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n.ends_with("-reader"))
            .collect();
        assert_eq!(names, ["team-z-reader"]);
    }
}
