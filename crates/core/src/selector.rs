//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), shared by the rules and
//! engines that relate objects to pods.

use crate::labels::{labels_at, LabelSelector};
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
