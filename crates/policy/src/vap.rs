//! `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicies and their bindings, evaluated
//! with `palisade-cel`. Each (policy, binding) pair is one rule, `ValidatingAdmissionPolicy/
//! POLICY/BINDING`, whose admission mode is the binding's strongest `validationActions`
//! entry (Deny → deny, Warn → warn, Audit → audit).

use crate::constraint::Action;
use crate::template::err;
use crate::LoadError;
use palisade_cel::{SourceRef, ValidationAction, VapSet};
use palisade_core::Object;
use serde_json::Value;

/// The API group of ValidatingAdmissionPolicies and their bindings.
pub const VAP_GROUP: &str = "admissionregistration.k8s.io";
/// The rule id prefix of ValidatingAdmissionPolicy bindings.
pub const VAP_ID_PREFIX: &str = "ValidatingAdmissionPolicy";

/// True when the object is a ValidatingAdmissionPolicy or a binding of one.
pub fn is_vap_object(o: &Object) -> bool {
    o.group() == VAP_GROUP
        && (o.kind == "ValidatingAdmissionPolicy" || o.kind == "ValidatingAdmissionPolicyBinding")
}

/// One binding of one policy, with what evaluating it needs.
#[derive(Debug)]
pub struct BoundVap {
    /// The policy's name.
    pub policy: String,
    /// The binding's name.
    pub binding: String,
    /// The binding's `validationActions`.
    pub actions: Vec<ValidationAction>,
    /// The policy, this binding and the parameter objects, compiled.
    pub set: VapSet,
    /// The policy as written (for `explain`).
    pub policy_value: Value,
    /// The binding as written.
    pub binding_value: Value,
    /// Where the policy was read.
    pub policy_source: Option<palisade_core::SourceLoc>,
    /// Where the binding was read.
    pub binding_source: Option<palisade_core::SourceLoc>,
}

impl BoundVap {
    /// The rule id of its findings.
    pub fn id(&self) -> String {
        format!("{VAP_ID_PREFIX}/{}/{}", self.policy, self.binding)
    }

    /// The strongest of the binding's actions, as a Gatekeeper action (Deny → deny, Warn →
    /// warn, Audit → dryrun, whose mode is audit).
    pub fn action(&self) -> Action {
        if self.actions.contains(&ValidationAction::Deny) {
            Action::Deny
        } else if self.actions.contains(&ValidationAction::Warn) {
            Action::Warn
        } else {
            Action::Dryrun
        }
    }

    /// The binding's actions as written (`Deny,Warn`).
    pub fn actions_str(&self) -> String {
        self.actions
            .iter()
            .map(|a| match a {
                ValidationAction::Deny => "Deny",
                ValidationAction::Warn => "Warn",
                ValidationAction::Audit => "Audit",
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn source_ref(o: &Object) -> SourceRef {
    match &o.source {
        Some(s) => SourceRef {
            file: s.file.to_string(),
            line: Some(s.line as usize),
        },
        None => SourceRef {
            file: format!("{} {}", o.kind, o.name),
            line: None,
        },
    }
}

/// `spec.validations[1].expression` → `/spec/validations/1/expression`.
fn pointer_of(path: &str) -> String {
    let mut p = String::new();
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (key, idx) = match seg.split_once('[') {
            Some((k, rest)) => (k, Some(rest.trim_end_matches(']'))),
            None => (seg, None),
        };
        p.push('/');
        p.push_str(key);
        if let Some(i) = idx {
            p.push('/');
            p.push_str(i);
        }
    }
    p
}

/// Loads the policies and bindings among `vaps`, with `params` as their parameter objects:
/// one [`BoundVap`] per binding of a loaded policy, and the problems (file, line, reason).
pub fn load(vaps: &[Object], params: &[Object]) -> (Vec<BoundVap>, Vec<LoadError>) {
    let cel = crate::kube_cel();
    let all = vaps
        .iter()
        .chain(params.iter())
        .map(|o| (source_ref(o), o.value().clone()));
    let (set, errors) = VapSet::load_with(cel, all);
    let mut out_errors = Vec::new();
    for e in errors {
        let found = vaps
            .iter()
            .find(|o| format!("{}/{}", o.kind, o.name) == e.object);
        let reason = if e.path.is_empty() {
            format!("{}: {}", e.object, e.message)
        } else {
            format!("{}: {}: {}", e.object, e.path, e.message)
        };
        out_errors.push(match found {
            Some(o) => err(o, &pointer_of(&e.path), reason),
            None => LoadError {
                file: e.source.file.clone(),
                line: e.source.line.unwrap_or(0) as u32,
                column: 0,
                message: reason,
            },
        });
    }
    // Palisade never reads a Secret's values (they are redacted on loading, and a cluster is
    // read with Secrets as metadata): a policy whose parameters are Secrets cannot be
    // evaluated, and says so rather than judging redacted values.
    let secret_params: Vec<&str> = set
        .param_kinds()
        .filter(|(_, av, k)| *av == "v1" && *k == "Secret")
        .map(|(p, _, _)| p)
        .collect();
    for p in &secret_params {
        let reason = format!(
            "ValidatingAdmissionPolicy/{p}: spec.paramKind: Secret parameters are not supported: \
             Palisade never reads Secret values; the policy's bindings are not evaluated"
        );
        let found = vaps
            .iter()
            .find(|o| o.kind == "ValidatingAdmissionPolicy" && o.name == *p);
        out_errors.push(match found {
            Some(o) => err(o, "/spec/paramKind", reason),
            None => LoadError {
                file: String::new(),
                line: 0,
                column: 0,
                message: reason,
            },
        });
    }
    let policy_names: Vec<&str> = set
        .policy_names()
        .filter(|p| !secret_params.contains(p))
        .collect();
    let mut bound = Vec::new();
    for (binding, policy) in set.binding_names() {
        if !policy_names.contains(&policy) {
            continue;
        }
        let find = |kind: &str, name: &str| vaps.iter().find(|o| o.kind == kind && o.name == name);
        let (Some(p), Some(b)) = (
            find("ValidatingAdmissionPolicy", policy),
            find("ValidatingAdmissionPolicyBinding", binding),
        ) else {
            continue;
        };
        let actions: Vec<ValidationAction> = b
            .value()
            .pointer("/spec/validationActions")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| match v.as_str() {
                        Some("Deny") => Some(ValidationAction::Deny),
                        Some("Warn") => Some(ValidationAction::Warn),
                        Some("Audit") => Some(ValidationAction::Audit),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        // A set of this policy and this binding alone: evaluating it gives this rule's
        // outcomes only.
        let one = [p, b]
            .into_iter()
            .chain(params.iter())
            .map(|o| (source_ref(o), o.value().clone()));
        let (one, _) = VapSet::load_with(cel, one);
        bound.push(BoundVap {
            policy: policy.to_owned(),
            binding: binding.to_owned(),
            actions,
            set: one,
            policy_value: p.value().clone(),
            binding_value: b.value().clone(),
            policy_source: p.source.clone(),
            binding_source: b.source.clone(),
        });
    }
    (bound, out_errors)
}

#[cfg(test)]
mod tests {
    use super::pointer_of;

    #[test]
    fn field_paths_become_pointers() {
        assert_eq!(
            pointer_of("spec.validations[1].expression"),
            "/spec/validations/1/expression"
        );
        assert_eq!(pointer_of(""), "");
    }
}
