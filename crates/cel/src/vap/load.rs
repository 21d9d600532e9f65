//! Reading ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding objects:
//! every field checked, every expression compiled, each problem named by its field path.

use palisade_core::labels::LabelSelector;
use serde_json::Value;

use super::matching::MatchResources;
use super::{FailurePolicy, ValidationAction};
use crate::program::{check_refs, compile_vars, VarDef};
use crate::{CelError, Compiled, KubeCel};

/// A problem at a field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LoadIssue {
    pub(crate) path: String,
    pub(crate) message: String,
}

impl LoadIssue {
    pub(crate) fn new(path: &str, message: impl Into<String>) -> LoadIssue {
        LoadIssue {
            path: path.to_owned(),
            message: message.into(),
        }
    }
}

impl From<CelError> for LoadIssue {
    fn from(e: CelError) -> LoadIssue {
        match e {
            CelError::Invalid { path, message } => LoadIssue { path, message },
            other => LoadIssue::new("", other.to_string()),
        }
    }
}

/// Field access by path (`spec.validations[0].expression`) over an object.
pub(crate) struct Fields<'a>(pub(crate) &'a Value);

impl<'a> Fields<'a> {
    pub(crate) fn get(&self, path: &str) -> Option<&'a Value> {
        let mut cur = self.0;
        for seg in path.split('.') {
            let (key, idx) = match seg.split_once('[') {
                Some((k, rest)) => (k, rest.trim_end_matches(']').parse::<usize>().ok()),
                None => (seg, None),
            };
            cur = cur.get(key)?;
            if let Some(i) = idx {
                cur = cur.get(i)?;
            }
        }
        Some(cur)
    }

    pub(crate) fn string(&self, path: &str) -> Result<Option<String>, LoadIssue> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(LoadIssue::new(path, "must be a string")),
        }
    }

    pub(crate) fn required(&self, path: &str) -> Result<String, LoadIssue> {
        match self.string(path)? {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(LoadIssue::new(path, "is required")),
        }
    }

    pub(crate) fn strings(&self, path: &str) -> Result<Vec<String>, LoadIssue> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| LoadIssue::new(path, "must be a list of strings"))
                })
                .collect(),
            Some(_) => Err(LoadIssue::new(path, "must be a list of strings")),
        }
    }

    pub(crate) fn len(&self, path: &str) -> Result<usize, LoadIssue> {
        match self.get(path) {
            None | Some(Value::Null) => Ok(0),
            Some(Value::Array(a)) => Ok(a.len()),
            Some(_) => Err(LoadIssue::new(path, "must be a list")),
        }
    }
}

/// A compiled validation.
#[derive(Debug, Clone)]
pub(crate) struct Validation {
    pub(crate) expression: Compiled,
    pub(crate) message: Option<String>,
    pub(crate) message_expression: Option<Compiled>,
    pub(crate) reason: String,
}

/// A compiled ValidatingAdmissionPolicy.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub(crate) name: String,
    pub(crate) source: super::SourceRef,
    pub(crate) failure_policy: FailurePolicy,
    /// `paramKind`: (apiVersion, kind).
    pub(crate) param_kind: Option<(String, String)>,
    pub(crate) match_constraints: MatchResources,
    pub(crate) match_conditions: Vec<(String, Compiled)>,
    pub(crate) variables: Vec<VarDef>,
    pub(crate) validations: Vec<Validation>,
    pub(crate) audit_annotations: Vec<(String, Compiled)>,
}

/// `paramRef.parameterNotFoundAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotFound {
    Allow,
    Deny,
}

/// A binding's `paramRef`.
#[derive(Debug, Clone)]
pub(crate) struct ParamRef {
    pub(crate) name: Option<String>,
    pub(crate) namespace: Option<String>,
    pub(crate) selector: Option<LabelSelector>,
    pub(crate) not_found: NotFound,
}

/// A ValidatingAdmissionPolicyBinding.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub(crate) name: String,
    pub(crate) source: super::SourceRef,
    pub(crate) policy_name: String,
    pub(crate) param_ref: Option<ParamRef>,
    pub(crate) match_resources: Option<MatchResources>,
    pub(crate) actions: Vec<ValidationAction>,
}

const REASONS: &[&str] = &[
    "Unauthorized",
    "Forbidden",
    "Invalid",
    "RequestEntityTooLarge",
];

/// The largest number of match conditions Kubernetes accepts.
const MAX_MATCH_CONDITIONS: usize = 64;

fn compile_at(
    cel: &KubeCel,
    f: &Fields,
    path: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Compiled, LoadIssue> {
    let src = f.required(path)?;
    let c = cel
        .compile(&src)
        .map_err(|e| LoadIssue::new(path, e.to_string()))?;
    check_refs(&c, known, path)?;
    Ok(c)
}

pub(crate) fn read_policy(cel: &KubeCel, obj: &Value) -> Result<Policy, LoadIssue> {
    let f = Fields(obj);
    let name = f.required("metadata.name")?;
    let failure_policy = match f.string("spec.failurePolicy")?.as_deref() {
        None | Some("Fail") => FailurePolicy::Fail,
        Some("Ignore") => FailurePolicy::Ignore,
        Some(other) => {
            return Err(LoadIssue::new(
                "spec.failurePolicy",
                format!("{other:?} is not Fail or Ignore"),
            ))
        }
    };
    let param_kind = match f.get("spec.paramKind") {
        None | Some(Value::Null) => None,
        Some(_) => Some((
            f.required("spec.paramKind.apiVersion")?,
            f.required("spec.paramKind.kind")?,
        )),
    };
    if f.get("spec.matchConstraints").is_none_or(Value::is_null) {
        return Err(LoadIssue::new("spec.matchConstraints", "is required"));
    }
    let match_constraints = MatchResources::read(&f, "spec.matchConstraints")?;
    if f.len("spec.matchConstraints.resourceRules")? == 0 {
        return Err(LoadIssue::new(
            "spec.matchConstraints.resourceRules",
            "is required",
        ));
    }
    let mut defs = Vec::new();
    for i in 0..f.len("spec.variables")? {
        let at = format!("spec.variables[{i}]");
        defs.push((
            f.required(&format!("{at}.name"))?,
            f.required(&format!("{at}.expression"))?,
        ));
    }
    let variables = compile_vars(cel, &defs, &[], "spec.variables", false)?;
    let known = |n: &str| variables.iter().any(|v| v.name == n);
    let conditions = f.len("spec.matchConditions")?;
    if conditions > MAX_MATCH_CONDITIONS {
        return Err(LoadIssue::new(
            "spec.matchConditions",
            format!("at most {MAX_MATCH_CONDITIONS} match conditions are allowed"),
        ));
    }
    let mut match_conditions = Vec::new();
    for i in 0..conditions {
        let at = format!("spec.matchConditions[{i}]");
        let name = f.required(&format!("{at}.name"))?;
        if match_conditions.iter().any(|(n, _)| n == &name) {
            return Err(LoadIssue::new(
                &format!("{at}.name"),
                format!("match condition {name:?} is defined twice"),
            ));
        }
        // match conditions run before the variables are composed
        let c = compile_at(cel, &f, &format!("{at}.expression"), &|_| false)?;
        match_conditions.push((name, c));
    }
    let mut validations = Vec::new();
    for i in 0..f.len("spec.validations")? {
        let at = format!("spec.validations[{i}]");
        let expression = compile_at(cel, &f, &format!("{at}.expression"), &known)?;
        let message_expression = match f.string(&format!("{at}.messageExpression"))? {
            None => None,
            Some(_) => Some(compile_at(
                cel,
                &f,
                &format!("{at}.messageExpression"),
                &known,
            )?),
        };
        let message = f.string(&format!("{at}.message"))?;
        if message.as_deref().is_some_and(|m| m.contains('\n')) {
            return Err(LoadIssue::new(
                &format!("{at}.message"),
                "must not contain line breaks",
            ));
        }
        let reason = f
            .string(&format!("{at}.reason"))?
            .unwrap_or_else(|| "Invalid".into());
        if !REASONS.contains(&reason.as_str()) {
            return Err(LoadIssue::new(
                &format!("{at}.reason"),
                format!("{reason:?} is not one of {}", REASONS.join(", ")),
            ));
        }
        validations.push(Validation {
            expression,
            message,
            message_expression,
            reason,
        });
    }
    let mut audit_annotations: Vec<(String, Compiled)> = Vec::new();
    for i in 0..f.len("spec.auditAnnotations")? {
        let at = format!("spec.auditAnnotations[{i}]");
        let key = f.required(&format!("{at}.key"))?;
        let valid = key.len() <= 63
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid {
            return Err(LoadIssue::new(
                &format!("{at}.key"),
                format!(
                    "{key:?} is not a valid annotation key part (at most 63 of [A-Za-z0-9-_.])"
                ),
            ));
        }
        if audit_annotations.iter().any(|(k, _)| k == &key) {
            return Err(LoadIssue::new(
                &format!("{at}.key"),
                format!("audit annotation key {key:?} is defined twice"),
            ));
        }
        let c = compile_at(cel, &f, &format!("{at}.valueExpression"), &known)?;
        audit_annotations.push((key, c));
    }
    if validations.is_empty() && audit_annotations.is_empty() {
        return Err(LoadIssue::new(
            "spec.validations",
            "a policy needs validations or auditAnnotations",
        ));
    }
    Ok(Policy {
        name,
        source: Default::default(),
        failure_policy,
        param_kind,
        match_constraints,
        match_conditions,
        variables,
        validations,
        audit_annotations,
    })
}

pub(crate) fn read_binding(obj: &Value) -> Result<Binding, LoadIssue> {
    let f = Fields(obj);
    let name = f.required("metadata.name")?;
    let policy_name = f.required("spec.policyName")?;
    let param_ref = match f.get("spec.paramRef") {
        None | Some(Value::Null) => None,
        Some(_) => {
            let name = f.string("spec.paramRef.name")?;
            let selector = match f.get("spec.paramRef.selector") {
                None | Some(Value::Null) => None,
                Some(s) => Some(
                    LabelSelector::from_value(s)
                        .map_err(|e| LoadIssue::new("spec.paramRef.selector", e))?,
                ),
            };
            if name.is_some() == selector.is_some() {
                return Err(LoadIssue::new(
                    "spec.paramRef",
                    "exactly one of name and selector must be set",
                ));
            }
            let not_found = match f
                .string("spec.paramRef.parameterNotFoundAction")?
                .as_deref()
            {
                None | Some("Deny") => NotFound::Deny,
                Some("Allow") => NotFound::Allow,
                Some(other) => {
                    return Err(LoadIssue::new(
                        "spec.paramRef.parameterNotFoundAction",
                        format!("{other:?} is not Allow or Deny"),
                    ))
                }
            };
            Some(ParamRef {
                name,
                namespace: f.string("spec.paramRef.namespace")?,
                selector,
                not_found,
            })
        }
    };
    let match_resources = match f.get("spec.matchResources") {
        None | Some(Value::Null) => None,
        Some(_) => Some(MatchResources::read(&f, "spec.matchResources")?),
    };
    let mut actions = Vec::new();
    for a in f.strings("spec.validationActions")? {
        let action = match a.as_str() {
            "Deny" => ValidationAction::Deny,
            "Warn" => ValidationAction::Warn,
            "Audit" => ValidationAction::Audit,
            other => {
                return Err(LoadIssue::new(
                    "spec.validationActions",
                    format!("{other:?} is not Deny, Warn or Audit"),
                ))
            }
        };
        if actions.contains(&action) {
            return Err(LoadIssue::new(
                "spec.validationActions",
                format!("{a} is listed twice"),
            ));
        }
        actions.push(action);
    }
    if actions.is_empty() {
        return Err(LoadIssue::new("spec.validationActions", "is required"));
    }
    if actions.contains(&ValidationAction::Deny) && actions.contains(&ValidationAction::Warn) {
        return Err(LoadIssue::new(
            "spec.validationActions",
            "Deny and Warn may not be used together",
        ));
    }
    Ok(Binding {
        name,
        source: Default::default(),
        policy_name,
        param_ref,
        match_resources,
        actions,
    })
}
