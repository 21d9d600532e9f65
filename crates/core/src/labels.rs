//! Kubernetes label selectors (`metav1.LabelSelector`), shared by the engines and rules that
//! relate objects to pods (NetworkPolicy, RBAC aggregation, PodDisruptionBudgets).
//!
//! Semantics follow `metav1.LabelSelectorAsSelector`:
//! * an empty selector (`{}`: no `matchLabels`, no `matchExpressions`) selects everything;
//! * a missing (`null`) selector selects nothing — callers decide where the API says so
//!   and represent it as `Option<LabelSelector>` = `None`;
//! * `matchLabels` and `matchExpressions` are ANDed;
//! * `In` / `NotIn` need a non-empty `values` list, `Exists` / `DoesNotExist` an empty one;
//! * `NotIn` matches objects that lack the key.

use std::collections::BTreeMap;

use serde_json::Value;

/// Labels of an object: key → value.
pub type Labels = litemap::LiteMap<String, String>;

/// Operator of a `matchExpressions` requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Operator {
    /// The label's value is one of `values`.
    In,
    /// The label is absent, or its value is none of `values`.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Requirement {
    /// Label key.
    pub key: String,
    /// Operator.
    pub operator: Operator,
    /// Values (empty for `Exists` / `DoesNotExist`).
    pub values: Vec<String>,
}

/// A parsed `metav1.LabelSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize)]
pub struct LabelSelector {
    /// `matchLabels`: each key must be present with exactly this value.
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`: each requirement must hold.
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    /// The empty selector, which selects everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Parses a selector from its JSON form. `null` is not accepted here: callers map a
    /// missing selector to `None` themselves because its meaning depends on the field.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let obj = v
            .as_object()
            .ok_or_else(|| "label selector is not an object".to_string())?;
        let mut sel = LabelSelector::default();
        match obj.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, val) in m {
                    let s = val
                        .as_str()
                        .ok_or_else(|| format!("matchLabels value for {k:?} is not a string"))?;
                    sel.match_labels.insert(k.clone(), s.to_string());
                }
            }
            Some(_) => return Err("matchLabels is not an object".into()),
        }
        match obj.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(exprs)) => {
                for e in exprs {
                    sel.match_expressions.push(parse_requirement(e)?);
                }
            }
            Some(_) => return Err("matchExpressions is not a list".into()),
        }
        Ok(sel)
    }

    /// True when the selector has no requirement at all (selects everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether the selector matches the given labels.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

impl Requirement {
    /// Whether the requirement holds for the given labels.
    pub fn matches(&self, labels: &Labels) -> bool {
        let val = labels.get(&self.key);
        match self.operator {
            Operator::In => val.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => val.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => val.is_some(),
            Operator::DoesNotExist => val.is_none(),
        }
    }
}

fn parse_requirement(e: &Value) -> Result<Requirement, String> {
    let key = e
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| "matchExpressions entry without key".to_string())?
        .to_string();
    let operator = match e.get("operator").and_then(Value::as_str) {
        Some("In") => Operator::In,
        Some("NotIn") => Operator::NotIn,
        Some("Exists") => Operator::Exists,
        Some("DoesNotExist") => Operator::DoesNotExist,
        other => return Err(format!("invalid selector operator {other:?}")),
    };
    let values: Vec<String> = match e.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "selector value is not a string".to_string())
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("selector values is not a list".into()),
    };
    match operator {
        Operator::In | Operator::NotIn if values.is_empty() => {
            Err(format!("operator {operator:?} requires values"))
        }
        Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
            Err(format!("operator {operator:?} takes no values"))
        }
        _ => Ok(Requirement {
            key,
            operator,
            values,
        }),
    }
}

/// Reads `metadata.labels` of an object (missing → empty).
pub fn labels_of(obj: &Value) -> Labels {
    labels_at(obj.pointer("/metadata/labels"))
}

/// Reads a label map at the given value (missing or malformed entries are ignored).
pub fn labels_at(v: Option<&Value>) -> Labels {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_selects_everything() {
        let s = LabelSelector::from_value(&json!({})).unwrap();
        assert!(s.is_empty());
        assert!(s.matches(&l(&[])));
        assert!(s.matches(&l(&[("a", "b")])));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let s = LabelSelector::from_value(&json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        assert!(s.matches(&l(&[("app", "web"), ("tier", "fe"), ("team", "x")])));
        assert!(!s.matches(&l(&[("app", "web"), ("tier", "fe")])));
        assert!(!s.matches(&l(&[
            ("app", "web"),
            ("tier", "fe"),
            ("team", "x"),
            ("env", "prod")
        ])));
        assert!(!s.matches(&l(&[
            ("app", "web"),
            ("tier", "fe"),
            ("team", "x"),
            ("legacy", "1")
        ])));
        assert!(!s.matches(&l(&[("app", "db"), ("tier", "fe"), ("team", "x")])));
    }

    #[test]
    fn invalid_operators_are_errors() {
        assert!(LabelSelector::from_value(
            &json!({"matchExpressions": [{"key": "a", "operator": "In"}]})
        )
        .is_err());
        assert!(LabelSelector::from_value(
            &json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})
        )
        .is_err());
        assert!(LabelSelector::from_value(
            &json!({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})
        )
        .is_err());
        assert!(LabelSelector::from_value(&json!("x")).is_err());
    }
}
