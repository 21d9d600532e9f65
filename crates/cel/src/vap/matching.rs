//! `matchConstraints` / `matchResources`: which requests a policy or binding selects.

use palisade_core::labels::{labels_of, LabelSelector, Labels};
use serde_json::Value;

use super::load::{Fields, LoadIssue};
use crate::Request;

/// One `NamedRuleWithOperations`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    operations: Vec<String>,
    api_groups: Vec<String>,
    api_versions: Vec<String>,
    resources: Vec<String>,
    resource_names: Vec<String>,
    scope: String,
}

/// A `MatchResources`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MatchResources {
    namespace_selector: LabelSelector,
    object_selector: LabelSelector,
    resource_rules: Vec<Rule>,
    exclude_resource_rules: Vec<Rule>,
    /// `Exact` or `Equivalent` (the default). Equivalent resources of other API versions
    /// need discovery data, so both match the request's own group, version and resource.
    pub(crate) match_policy: String,
}

const OPERATIONS: &[&str] = &["*", "CREATE", "UPDATE", "DELETE", "CONNECT"];

fn read_rule(f: &Fields, at: &str) -> Result<Rule, LoadIssue> {
    let operations = f.strings(&format!("{at}.operations"))?;
    if let Some(bad) = operations
        .iter()
        .find(|o| !OPERATIONS.contains(&o.as_str()))
    {
        return Err(LoadIssue::new(
            &format!("{at}.operations"),
            format!("unknown operation {bad:?}"),
        ));
    }
    let scope = f
        .string(&format!("{at}.scope"))?
        .unwrap_or_else(|| "*".into());
    if !["*", "Cluster", "Namespaced"].contains(&scope.as_str()) {
        return Err(LoadIssue::new(
            &format!("{at}.scope"),
            format!("scope {scope:?} is not *, Cluster or Namespaced"),
        ));
    }
    Ok(Rule {
        operations,
        api_groups: f.strings(&format!("{at}.apiGroups"))?,
        api_versions: f.strings(&format!("{at}.apiVersions"))?,
        resources: f.strings(&format!("{at}.resources"))?,
        resource_names: f.strings(&format!("{at}.resourceNames"))?,
        scope,
    })
}

fn read_selector(f: &Fields, at: &str) -> Result<LabelSelector, LoadIssue> {
    match f.get(at) {
        None | Some(Value::Null) => Ok(LabelSelector::everything()),
        Some(v) => LabelSelector::from_value(v).map_err(|e| LoadIssue::new(at, e)),
    }
}

impl MatchResources {
    /// Reads a `MatchResources` at `at` (`spec.matchConstraints`).
    pub(crate) fn read(f: &Fields, at: &str) -> Result<MatchResources, LoadIssue> {
        let rules = |key: &str| -> Result<Vec<Rule>, LoadIssue> {
            let path = format!("{at}.{key}");
            (0..f.len(&path)?)
                .map(|i| read_rule(f, &format!("{path}[{i}]")))
                .collect()
        };
        let resource_rules = rules("resourceRules")?;
        let exclude_resource_rules = rules("excludeResourceRules")?;
        let match_policy = f
            .string(&format!("{at}.matchPolicy"))?
            .unwrap_or_else(|| "Equivalent".into());
        if !["Exact", "Equivalent"].contains(&match_policy.as_str()) {
            return Err(LoadIssue::new(
                &format!("{at}.matchPolicy"),
                format!("matchPolicy {match_policy:?} is not Exact or Equivalent"),
            ));
        }
        Ok(MatchResources {
            namespace_selector: read_selector(f, &format!("{at}.namespaceSelector"))?,
            object_selector: read_selector(f, &format!("{at}.objectSelector"))?,
            resource_rules,
            exclude_resource_rules,
            match_policy,
        })
    }

    /// Whether the request is selected. No `resourceRules` (allowed in a binding's
    /// `matchResources`, required of a policy) leaves the resources unconstrained. `namespace` is the request's Namespace object
    /// when known; without it a namespace is taken to carry only the
    /// `kubernetes.io/metadata.name` label every namespace has.
    pub(crate) fn matches(&self, req: &Request, namespace: Option<&Value>) -> bool {
        self.namespace_matches(req, namespace)
            && self.object_matches(req)
            && (self.resource_rules.is_empty()
                || self.resource_rules.iter().any(|r| r.matches(req)))
            && !self.exclude_resource_rules.iter().any(|r| r.matches(req))
    }

    fn namespace_matches(&self, req: &Request, namespace: Option<&Value>) -> bool {
        if self.namespace_selector.is_empty() {
            return true;
        }
        let labels: Labels = if req.kind == "Namespace" && req.group.is_empty() {
            // the selector applies to the Namespace being admitted itself
            let o = req.object.as_ref().or(req.old_object.as_ref());
            let mut l = o.map(labels_of).unwrap_or_default();
            l.entry("kubernetes.io/metadata.name".into())
                .or_insert_with(|| req.name.clone());
            l
        } else if req.namespace.is_empty() || req.is_cluster_scoped() {
            // cluster-scoped resources are never excluded by a namespaceSelector
            return true;
        } else {
            let mut l = namespace.map(labels_of).unwrap_or_default();
            l.insert("kubernetes.io/metadata.name".into(), req.namespace.clone());
            l
        };
        self.namespace_selector.matches(&labels)
    }

    fn object_matches(&self, req: &Request) -> bool {
        if self.object_selector.is_empty() {
            return true;
        }
        [req.object.as_ref(), req.old_object.as_ref()]
            .into_iter()
            .flatten()
            .any(|o| self.object_selector.matches(&labels_of(o)))
    }
}

fn listed(list: &[String], value: &str) -> bool {
    list.iter().any(|x| x == "*" || x == value)
}

impl Rule {
    fn matches(&self, req: &Request) -> bool {
        listed(&self.operations, &req.operation)
            && listed(&self.api_groups, &req.group)
            && listed(&self.api_versions, &req.version)
            && self.resource_matches(req)
            && self.scope_matches(req)
            && (self.resource_names.is_empty()
                || self.resource_names.iter().any(|n| n == &req.name))
    }

    /// `*` is every resource but no subresource, `pods/*` every subresource of pods,
    /// `*/scale` every scale subresource, `*/*` everything.
    fn resource_matches(&self, req: &Request) -> bool {
        let (res, sub) = (req.resource.as_str(), req.sub_resource.as_str());
        self.resources.iter().any(|r| {
            if sub.is_empty() {
                r == "*" || r == res
            } else {
                match r.split_once('/') {
                    Some((rr, rs)) => (rr == "*" || rr == res) && (rs == "*" || rs == sub),
                    None => false,
                }
            }
        })
    }

    fn scope_matches(&self, req: &Request) -> bool {
        match self.scope.as_str() {
            "Cluster" => req.is_cluster_scoped(),
            "Namespaced" => !req.is_cluster_scoped(),
            _ => true,
        }
    }
}
