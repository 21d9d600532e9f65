//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), shared by the rules and
//! engines that relate objects to pods.

use serde_json::Value;

/// True when a LabelSelector (`matchLabels` + `matchExpressions`) selects the labels.
/// An empty selector (`{}`) selects everything; a selector that is absent (Null) or malformed
/// selects nothing, as the API server treats them for PodDisruptionBudgets and
/// NetworkPolicies alike.
pub fn matches(selector: &Value, labels: &serde_json::Map<String, Value>) -> bool {
    let Some(sel) = selector.as_object() else {
        return false;
    };
    if let Some(ml) = sel.get("matchLabels") {
        let Some(ml) = ml.as_object() else {
            return false;
        };
        for (k, v) in ml {
            if labels.get(k) != Some(v) {
                return false;
            }
        }
    }
    if let Some(exprs) = sel.get("matchExpressions") {
        let Some(exprs) = exprs.as_array() else {
            return false;
        };
        for e in exprs {
            let key = e.get("key").and_then(Value::as_str).unwrap_or("");
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let actual = labels.get(key).and_then(Value::as_str);
            let ok = match e.get("operator").and_then(Value::as_str) {
                Some("In") => actual.is_some_and(|a| values.contains(&a)),
                Some("NotIn") => actual.is_none_or(|a| !values.contains(&a)),
                Some("Exists") => labels.contains_key(key),
                Some("DoesNotExist") => !labels.contains_key(key),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
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
