//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), shared by the rules and
//! engines that relate objects to pods.

use crate::labels::{labels_at, LabelSelector, Labels, Operator, Requirement};
use serde_json::Value;

/// True when a LabelSelector (`matchLabels` + `matchExpressions`) selects the labels.
/// An empty selector (`{}`) selects everything; a selector that is absent (Null) or malformed
/// selects nothing, as the API server treats them for PodDisruptionBudgets and
/// NetworkPolicies alike.
pub fn matches(selector: &Value, labels: &serde_json::Map<String, Value>) -> bool {
    if selector.is_null() {
        return false;
    }
    let labels = labels_at(Some(&Value::Object(labels.clone())));
    LabelSelector::from_value(selector).is_ok_and(|s| s.matches(&labels))
}

/// A selector field that selects nothing when it is absent, `null` or invalid (an unknown
/// operator, `In` without values, a value that is not a string...): `None` then. Pod
/// (anti-)affinity terms and topology spread constraints read their `labelSelector` so.
pub fn parse_field(v: Option<&Value>) -> Option<LabelSelector> {
    match v {
        None | Some(Value::Null) => None,
        Some(s) => LabelSelector::from_value(s).ok(),
    }
}

/// A list of label keys (`matchLabelKeys`, `mismatchLabelKeys`): empty when absent or
/// `null`, `None` when it is not a list of strings (the API server rejects such a pod).
fn label_keys(v: Option<&Value>) -> Option<Vec<&str>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(a)) => a.iter().map(Value::as_str).collect(),
        Some(_) => None,
    }
}

/// The selector `matchLabelKeys` and `mismatchLabelKeys` make of `base` for an incoming pod
/// with labels `pod`: `key In (pod's value)` for each match key and `key NotIn (pod's value)`
/// for each mismatch key, ANDed with `base`; keys the pod does not have are ignored, as the
/// scheduler does.
fn with_label_keys(
    mut base: LabelSelector,
    match_keys: &[&str],
    mismatch_keys: &[&str],
    pod: &Labels,
) -> LabelSelector {
    for (keys, operator) in [(match_keys, Operator::In), (mismatch_keys, Operator::NotIn)] {
        for key in keys {
            if let Some(value) = pod.get(*key) {
                base.match_expressions.push(Requirement {
                    key: (*key).to_owned(),
                    operator,
                    values: vec![value.clone()],
                });
            }
        }
    }
    base
}

/// The pods a topology spread constraint counts for an incoming pod with labels `pod`: its
/// `labelSelector` ANDed with the pod's values of `matchLabelKeys`. `None` when it counts
/// no pod: no `labelSelector` (a null selector selects nothing; `matchLabelKeys` cannot be
/// set without one) or an invalid one.
pub fn spread_constraint_selector(constraint: &Value, pod: &Labels) -> Option<LabelSelector> {
    let base = parse_field(constraint.get("labelSelector"))?;
    let keys = label_keys(constraint.get("matchLabelKeys"))?;
    Some(with_label_keys(base, &keys, &[], pod))
}

/// A pod affinity or anti-affinity term (`PodAffinityTerm`) as the scheduler reads it for an
/// incoming pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffinityTerm {
    /// `labelSelector` ANDed with the pod's `matchLabelKeys` / `mismatchLabelKeys` values.
    pub selector: LabelSelector,
    /// `namespaces`.
    pub namespaces: Vec<String>,
    /// `namespaceSelector` (`None` when absent or `null`).
    pub namespace_selector: Option<LabelSelector>,
}

impl AffinityTerm {
    /// Reads a term for an incoming pod with labels `pod`. `None` when the term selects no
    /// pod: no `labelSelector` ("if it's null, this PodAffinityTerm matches with no Pods"),
    /// or an invalid term (selector, label keys, `namespaces` or `namespaceSelector` that do
    /// not parse; the API server rejects such a pod).
    pub fn from_value(term: &Value, pod: &Labels) -> Option<AffinityTerm> {
        let base = parse_field(term.get("labelSelector"))?;
        let match_keys = label_keys(term.get("matchLabelKeys"))?;
        let mismatch_keys = label_keys(term.get("mismatchLabelKeys"))?;
        let namespaces = label_keys(term.get("namespaces"))?
            .into_iter()
            .map(str::to_owned)
            .collect();
        let namespace_selector = match term.get("namespaceSelector") {
            None | Some(Value::Null) => None,
            Some(s) => Some(LabelSelector::from_value(s).ok()?),
        };
        Some(AffinityTerm {
            selector: with_label_keys(base, &match_keys, &mismatch_keys, pod),
            namespaces,
            namespace_selector,
        })
    }

    /// Whether the term looks at namespace `ns` for a pod of namespace `pod_ns`: the union
    /// of `namespaces` and the namespaces `namespaceSelector` selects (`{}`: every
    /// namespace); both empty (`null` selector) mean the pod's own namespace. `ns_labels`
    /// are the namespace's labels when known (`kubernetes.io/metadata.name` is added here, as
    /// the API server sets it on every namespace). `None` when the answer depends on labels
    /// of a namespace that is not known.
    pub fn covers_namespace(
        &self,
        pod_ns: &str,
        ns: &str,
        ns_labels: Option<&Labels>,
    ) -> Option<bool> {
        if self.namespaces.is_empty() && self.namespace_selector.is_none() {
            return Some(ns == pod_ns);
        }
        if self.namespaces.iter().any(|n| n == ns) {
            return Some(true);
        }
        let Some(sel) = &self.namespace_selector else {
            return Some(false);
        };
        let mut labels = ns_labels.cloned().unwrap_or_default();
        labels.insert("kubernetes.io/metadata.name".to_owned(), ns.to_owned());
        if sel.matches(&labels) {
            Some(true)
        } else if ns_labels.is_some() {
            Some(false)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(v: Value) -> Labels {
        labels_at(Some(&v))
    }

    #[test]
    fn spread_constraints_count_what_their_selector_and_keys_select() {
        let pod = labels(json!({"app": "web", "pod-template-hash": "abc"}));
        let sel = |c: Value| spread_constraint_selector(&c, &pod);
        assert!(
            sel(json!({"labelSelector": {"matchLabels": {"app": "web"}}}))
                .is_some_and(|s| s.matches(&pod))
        );
        assert!(
            sel(json!({"labelSelector": {"matchLabels": {"app": "db"}}}))
                .is_some_and(|s| !s.matches(&pod))
        );
        // null or absent selects nothing; matchLabelKeys needs a labelSelector
        assert_eq!(sel(json!({})), None);
        assert_eq!(sel(json!({"labelSelector": null})), None);
        assert_eq!(sel(json!({"matchLabelKeys": ["app"]})), None);
        // the pod's own values: another revision is not counted, the pod's own is
        let s = sel(json!({"labelSelector": {"matchLabels": {"app": "web"}},
                           "matchLabelKeys": ["pod-template-hash", "absent"]}))
        .unwrap();
        assert!(s.matches(&pod));
        assert!(!s.matches(&labels(json!({"app": "web", "pod-template-hash": "old"}))));
        assert_eq!(
            sel(json!({"labelSelector": {}, "matchLabelKeys": "app"})),
            None,
            "keys that are not a list"
        );
        assert_eq!(
            sel(json!({"labelSelector": {"matchLabels": {"app": 1}}})),
            None
        );
    }

    #[test]
    fn affinity_terms_read_keys_and_namespaces() {
        let pod = labels(json!({"app": "web", "tenant": "a"}));
        let term = |t: Value| AffinityTerm::from_value(&t, &pod);
        let own = term(json!({"labelSelector": {"matchLabels": {"app": "web"}}})).unwrap();
        assert!(own.selector.matches(&pod));
        assert_eq!(own.covers_namespace("shop", "shop", None), Some(true));
        assert_eq!(own.covers_namespace("shop", "other", None), Some(false));
        // mismatchLabelKeys: the pod's own tenant is excluded
        let others = term(json!({"labelSelector": {"matchLabels": {"app": "web"}},
                                 "mismatchLabelKeys": ["tenant"]}))
        .unwrap();
        assert!(!others.selector.matches(&pod));
        assert!(others
            .selector
            .matches(&labels(json!({"app": "web", "tenant": "b"}))));
        assert_eq!(term(json!({"topologyKey": "x"})), None);
        assert_eq!(
            term(json!({"labelSelector": {}, "namespaceSelector": {"matchLabels": "x"}})),
            None
        );
        let listed = term(json!({"labelSelector": {}, "namespaces": ["a", "b"]})).unwrap();
        assert_eq!(listed.covers_namespace("shop", "shop", None), Some(false));
        assert_eq!(listed.covers_namespace("shop", "b", None), Some(true));
        let all = term(json!({"labelSelector": {}, "namespaceSelector": {}})).unwrap();
        assert_eq!(all.covers_namespace("shop", "x", None), Some(true));
        let by_name = term(json!({"labelSelector": {}, "namespaceSelector":
            {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}))
        .unwrap();
        assert_eq!(by_name.covers_namespace("shop", "shop", None), Some(true));
        let by_team = term(json!({"labelSelector": {}, "namespaceSelector":
            {"matchLabels": {"team": "pay"}}}))
        .unwrap();
        assert_eq!(by_team.covers_namespace("shop", "shop", None), None);
        let known = labels(json!({"team": "pay"}));
        assert_eq!(
            by_team.covers_namespace("shop", "shop", Some(&known)),
            Some(true)
        );
        assert_eq!(
            by_team.covers_namespace("shop", "shop", Some(&Labels::new())),
            Some(false)
        );
    }

    #[test]
    fn selector_semantics() {
        let labels = json!({"app": "web", "tier": "front"});
        let l = labels.as_object().unwrap();
        assert!(matches(&json!({}), l));
        assert!(!matches(&Value::Null, l));
        assert!(matches(&json!({"matchLabels": {"app": "web"}}), l));
        assert!(!matches(&json!({"matchLabels": {"app": "db"}}), l));
        assert!(matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "x"]}]}),
            l
        ));
        assert!(matches(
            &json!({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}),
            l
        ));
        assert!(!matches(
            &json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}),
            l
        ));
        assert!(matches(
            &json!({"matchExpressions": [{"key": "app", "operator": "Exists"}]}),
            l
        ));
        assert!(!matches(
            &json!({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}),
            l
        ));
    }
}
