//! `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy semantics.
//!
//! [`VapSet::load`] reads policies, bindings and parameter objects, compiling every
//! expression once; [`VapSet::evaluate`] evaluates an admission request against every
//! binding whose policy and binding both select it, and returns [`Outcome`]s: violations,
//! errors and audit annotations. An error is always an outcome, whatever the
//! `failurePolicy`: under `Ignore` it does not reject the request, but it is reported.
//!
//! Not evaluated: the `authorizer` variable (an expression that uses it gives an error
//! outcome saying so), and `matchPolicy: Equivalent` matching of other API versions of a
//! resource (which needs discovery data; both policies match the request's own group,
//! version and resource).

mod load;
mod matching;

use std::fmt;

use cel::Value;
use palisade_core::labels::labels_of;
use serde_json::Value as Json;

use crate::env::clip;
use crate::env::Vals;
use crate::program::Evaluation;
use crate::{CelError, KubeCel, Request};
use load::{Binding, NotFound, Policy};

/// Where an object was read from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceRef {
    /// The file (or another origin, e.g. `cluster`).
    pub file: String,
    /// The 1-based line of the object's first line, when known.
    pub line: Option<usize>,
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

/// A binding's `validationActions` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValidationAction {
    /// Reject the request.
    Deny,
    /// Return a warning to the client.
    Warn,
    /// Record the failure in the audit event.
    Audit,
}

/// A policy's `failurePolicy`: what a runtime error (or a misconfigured binding) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailurePolicy {
    /// The error rejects the request (with the binding's actions), as a violation does.
    Fail,
    /// The error does not reject the request; it is still reported.
    Ignore,
}

/// A policy, binding or parameter object that could not be loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError {
    /// Where the object came from.
    pub source: SourceRef,
    /// `ValidatingAdmissionPolicy/NAME` or `ValidatingAdmissionPolicyBinding/NAME`.
    pub object: String,
    /// The field path (`spec.validations[1].expression`), empty for the whole object.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}: {}", self.source, self.object, self.message)
        } else {
            write!(
                f,
                "{}: {}: {}: {}",
                self.source, self.object, self.path, self.message
            )
        }
    }
}

impl std::error::Error for LoadError {}

/// What one binding of one policy says about a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The policy's name.
    pub policy: String,
    /// The binding's name.
    pub binding: String,
    /// The parameter object (`namespace/name` or `name`) the outcome was evaluated with.
    pub param: Option<String>,
    /// What happened.
    pub kind: OutcomeKind,
}

/// The kinds of [`Outcome`].
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeKind {
    /// A validation evaluated to false.
    Violation {
        /// The message (`messageExpression`, `message`, or `failed expression: ...`).
        message: String,
        /// The validation's `reason` (`Invalid` by default).
        reason: String,
        /// The index of the validation in `spec.validations`.
        validation: usize,
        /// The binding's `validationActions`.
        actions: Vec<ValidationAction>,
    },
    /// An expression could not be evaluated, or the binding is misconfigured (no
    /// parameters found with `parameterNotFoundAction: Deny`, a policy with a
    /// `paramKind` bound without `paramRef`...).
    Error {
        /// What failed, with the field path of the expression.
        message: String,
        /// The policy's `failurePolicy`: with `Fail` the error rejects the request as a
        /// violation does (with `actions`); with `Ignore` it does not.
        failure_policy: FailurePolicy,
        /// The binding's `validationActions`.
        actions: Vec<ValidationAction>,
        /// The `expressionIndex` the API server records for this error in the
        /// `validation.policy.admission.k8s.io/validation_failure` audit annotation of a
        /// binding with the `Audit` action: the validation's index for an error in
        /// `spec.validations`, 0 for an error in `spec.matchConditions` (the API server's one
        /// decision then). `None` for the errors it does not record there (an
        /// `auditAnnotations` expression, missing parameters, a misconfigured binding).
        expression_index: Option<usize>,
    },
    /// An audit annotation (`key` is `POLICY/KEY`, as the API server writes it). A
    /// `valueExpression` that gives null or an empty string writes no annotation.
    AuditAnnotation {
        /// The annotation key.
        key: String,
        /// Its value.
        value: String,
    },
}

impl Outcome {
    /// The binding's `validationActions` for a violation or an error (none for an audit
    /// annotation).
    pub fn actions(&self) -> &[ValidationAction] {
        match &self.kind {
            OutcomeKind::Violation { actions, .. } | OutcomeKind::Error { actions, .. } => actions,
            OutcomeKind::AuditAnnotation { .. } => &[],
        }
    }

    /// Whether the outcome is returned to the client as a warning: a violation with the
    /// `Warn` action, or an error under `failurePolicy: Fail` with it. (An error under
    /// `Ignore` neither denies nor warns; it is still an outcome.)
    pub fn warns(&self) -> bool {
        match &self.kind {
            OutcomeKind::Violation { actions, .. } => actions.contains(&ValidationAction::Warn),
            OutcomeKind::Error {
                failure_policy,
                actions,
                ..
            } => {
                *failure_policy == FailurePolicy::Fail && actions.contains(&ValidationAction::Warn)
            }
            OutcomeKind::AuditAnnotation { .. } => false,
        }
    }

    /// Whether the outcome rejects the request: a violation with the `Deny` action, or
    /// an error under `failurePolicy: Fail` with the `Deny` action.
    pub fn denies(&self) -> bool {
        match &self.kind {
            OutcomeKind::Violation { actions, .. } => actions.contains(&ValidationAction::Deny),
            OutcomeKind::Error {
                failure_policy,
                actions,
                ..
            } => {
                *failure_policy == FailurePolicy::Fail && actions.contains(&ValidationAction::Deny)
            }
            OutcomeKind::AuditAnnotation { .. } => false,
        }
    }
}

#[derive(Debug, Clone)]
struct ParamObject {
    api_version: String,
    kind: String,
    namespace: String,
    name: String,
    object: Json,
}

/// Loaded policies, bindings and the parameter objects they may refer to.
#[derive(Debug, Clone)]
pub struct VapSet {
    cel: KubeCel,
    policies: Vec<Policy>,
    bindings: Vec<Binding>,
    params: Vec<ParamObject>,
}

const GROUP: &str = "admissionregistration.k8s.io/";

fn is_vap_api(api_version: &str) -> bool {
    api_version
        .strip_prefix(GROUP)
        .is_some_and(|v| ["v1", "v1beta1", "v1alpha1"].contains(&v))
}

impl VapSet {
    /// Loads objects: ValidatingAdmissionPolicies and their bindings
    /// (`admissionregistration.k8s.io/v1`, `v1beta1` or `v1alpha1`) are compiled; any other
    /// object is kept as a possible parameter object. Objects that do not load are
    /// returned as errors (with the field path) and left out; the others still load.
    pub fn load(objects: impl IntoIterator<Item = (SourceRef, Json)>) -> (VapSet, Vec<LoadError>) {
        VapSet::load_with(&KubeCel::new(), objects)
    }

    /// As [`VapSet::load`], sharing an environment.
    pub fn load_with(
        cel: &KubeCel,
        objects: impl IntoIterator<Item = (SourceRef, Json)>,
    ) -> (VapSet, Vec<LoadError>) {
        let mut set = VapSet {
            cel: cel.clone(),
            policies: Vec::new(),
            bindings: Vec::new(),
            params: Vec::new(),
        };
        let mut errors = Vec::new();
        let mut binding_sources = Vec::new();
        for (source, obj) in objects {
            let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_owned();
            let kind = obj["kind"].as_str().unwrap_or_default().to_owned();
            let name = obj
                .pointer("/metadata/name")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_owned();
            let label = format!("{kind}/{name}");
            let error = |issue: load::LoadIssue| LoadError {
                source: source.clone(),
                object: label.clone(),
                path: issue.path,
                message: issue.message,
            };
            match (is_vap_api(&api_version), kind.as_str()) {
                (true, "ValidatingAdmissionPolicy") => match load::read_policy(cel, &obj) {
                    Ok(p) if set.policies.iter().any(|q| q.name == p.name) => {
                        errors.push(error(load::LoadIssue::new(
                            "metadata.name",
                            "a policy of this name is already loaded",
                        )))
                    }
                    Ok(mut p) => {
                        p.source = source.clone();
                        set.policies.push(p)
                    }
                    Err(e) => errors.push(error(e)),
                },
                (true, "ValidatingAdmissionPolicyBinding") => match load::read_binding(&obj) {
                    Ok(b) if set.bindings.iter().any(|c| c.name == b.name) => {
                        errors.push(error(load::LoadIssue::new(
                            "metadata.name",
                            "a binding of this name is already loaded",
                        )))
                    }
                    Ok(mut b) => {
                        binding_sources.push((source.clone(), label.clone()));
                        b.source = source.clone();
                        set.bindings.push(b)
                    }
                    Err(e) => errors.push(error(e)),
                },
                _ => set.params.push(ParamObject {
                    api_version,
                    kind,
                    namespace: obj
                        .pointer("/metadata/namespace")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    name,
                    object: obj,
                }),
            }
        }
        for (b, (source, label)) in set.bindings.iter().zip(binding_sources) {
            if !set.policies.iter().any(|p| p.name == b.policy_name) {
                errors.push(LoadError {
                    source,
                    object: label,
                    path: "spec.policyName".into(),
                    message: format!(
                        "policy {:?} is not loaded; the binding has no effect",
                        b.policy_name
                    ),
                });
            }
        }
        set.policies.sort_by(|a, b| a.name.cmp(&b.name));
        set.bindings.sort_by(|a, b| a.name.cmp(&b.name));
        (set, errors)
    }

    /// The `paramKind` of each loaded policy that has one: (policy, apiVersion, kind).
    pub fn param_kinds(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.policies.iter().filter_map(|p| {
            p.param_kind
                .as_ref()
                .map(|(av, k)| (p.name.as_str(), av.as_str(), k.as_str()))
        })
    }

    /// True when a loaded policy has `auditAnnotations`.
    pub fn has_audit_annotations(&self) -> bool {
        self.policies
            .iter()
            .any(|p| !p.audit_annotations.is_empty())
    }

    /// The names of the loaded policies.
    pub fn policy_names(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| p.name.as_str())
    }

    /// Where a loaded policy came from.
    pub fn policy_source(&self, policy: &str) -> Option<&SourceRef> {
        self.policies
            .iter()
            .find(|p| p.name == policy)
            .map(|p| &p.source)
    }

    /// Where a loaded binding came from.
    pub fn binding_source(&self, binding: &str) -> Option<&SourceRef> {
        self.bindings
            .iter()
            .find(|b| b.name == binding)
            .map(|b| &b.source)
    }

    /// The loaded bindings: (binding name, policy name).
    pub fn binding_names(&self) -> impl Iterator<Item = (&str, &str)> {
        self.bindings
            .iter()
            .map(|b| (b.name.as_str(), b.policy_name.as_str()))
    }

    /// Evaluates a request against every binding. `namespace` is the Namespace object of
    /// the request's namespace when known (for `namespaceSelector` and
    /// `namespaceObject`).
    pub fn evaluate(&self, req: &Request, namespace: Option<&Json>) -> Vec<Outcome> {
        self.evaluate_parts(req, namespace, true)
    }

    /// The audit annotations of the request alone, `(POLICY/KEY, value)`: what
    /// [`VapSet::evaluate`] gives as [`OutcomeKind::AuditAnnotation`], without evaluating the
    /// validations (an admission webhook asks for them beside the findings it already has).
    pub fn audit_annotations(
        &self,
        req: &Request,
        namespace: Option<&Json>,
    ) -> Vec<(String, String)> {
        if !self.has_audit_annotations() {
            return Vec::new();
        }
        self.evaluate_parts(req, namespace, false)
            .into_iter()
            .filter_map(|o| match o.kind {
                OutcomeKind::AuditAnnotation { key, value } => Some((key, value)),
                _ => None,
            })
            .collect()
    }

    /// [`VapSet::evaluate`], with or without the validations.
    fn evaluate_parts(
        &self,
        req: &Request,
        namespace: Option<&Json>,
        validations: bool,
    ) -> Vec<Outcome> {
        let mut out = Vec::new();
        for binding in &self.bindings {
            let Some(policy) = self.policies.iter().find(|p| p.name == binding.policy_name) else {
                continue;
            };
            if !policy.match_constraints.matches(req, namespace) {
                continue;
            }
            if let Some(m) = &binding.match_resources {
                if !m.matches(req, namespace) {
                    continue;
                }
            }
            let outcome = |param: Option<String>, kind: OutcomeKind| Outcome {
                policy: policy.name.clone(),
                binding: binding.name.clone(),
                param,
                kind,
            };
            let error = |message: String| {
                outcome(
                    None,
                    OutcomeKind::Error {
                        message,
                        failure_policy: policy.failure_policy,
                        actions: binding.actions.clone(),
                        expression_index: None,
                    },
                )
            };
            match self.params_for(policy, binding, req) {
                Params::None => {
                    self.evaluate_one(policy, binding, req, namespace, None, validations, &mut out)
                }
                Params::Found(params) => {
                    for p in params {
                        self.evaluate_one(
                            policy,
                            binding,
                            req,
                            namespace,
                            Some(p),
                            validations,
                            &mut out,
                        );
                    }
                }
                Params::NotFound(why) => match binding.param_ref.as_ref().map(|r| r.not_found) {
                    Some(NotFound::Allow) => {}
                    _ => out.push(error(why)),
                },
                Params::Misconfigured(why) => out.push(error(why)),
            }
        }
        out
    }

    fn params_for<'a>(&'a self, policy: &Policy, binding: &Binding, req: &Request) -> Params<'a> {
        let Some((api_version, kind)) = &policy.param_kind else {
            return Params::None;
        };
        let Some(param_ref) = &binding.param_ref else {
            return Params::Misconfigured(format!(
                "policy {} has paramKind {kind} but binding {} has no paramRef",
                policy.name, binding.name
            ));
        };
        let of_kind: Vec<&ParamObject> = self
            .params
            .iter()
            .filter(|p| &p.api_version == api_version && &p.kind == kind)
            .collect();
        let namespaced = of_kind.iter().any(|p| !p.namespace.is_empty());
        let namespace = match (&param_ref.namespace, namespaced) {
            (Some(ns), _) => ns.clone(),
            (None, true) if req.namespace.is_empty() => {
                return Params::Misconfigured(format!(
                    "paramKind {kind} is namespaced and binding {} sets no paramRef.namespace, \
                     but the request is for a cluster-scoped resource",
                    binding.name
                ))
            }
            (None, true) => req.namespace.clone(),
            (None, false) => String::new(),
        };
        let found: Vec<&ParamObject> = of_kind
            .into_iter()
            .filter(|p| p.namespace == namespace)
            .filter(|p| match (&param_ref.name, &param_ref.selector) {
                (Some(n), _) => &p.name == n,
                (None, Some(sel)) => sel.matches(&labels_of(&p.object)),
                (None, None) => false,
            })
            .collect();
        if found.is_empty() {
            let which = match (&param_ref.name, namespace.is_empty()) {
                (Some(n), true) => format!("{kind} {n:?}"),
                (Some(n), false) => format!("{kind} {namespace}/{n}"),
                (None, true) => format!("{kind} matching the selector"),
                (None, false) => format!("{kind} in namespace {namespace} matching the selector"),
            };
            return Params::NotFound(format!(
                "no params found for binding {}: {which} (parameterNotFoundAction Deny)",
                binding.name
            ));
        }
        Params::Found(found)
    }

    #[allow(clippy::too_many_arguments)]
    fn evaluate_one(
        &self,
        policy: &Policy,
        binding: &Binding,
        req: &Request,
        namespace: Option<&Json>,
        param: Option<&ParamObject>,
        validations: bool,
        out: &mut Vec<Outcome>,
    ) {
        let param_name = param.map(|p| {
            if p.namespace.is_empty() {
                p.name.clone()
            } else {
                format!("{}/{}", p.namespace, p.name)
            }
        });
        let push = |out: &mut Vec<Outcome>, kind: OutcomeKind| {
            out.push(Outcome {
                policy: policy.name.clone(),
                binding: binding.name.clone(),
                param: param_name.clone(),
                kind,
            })
        };
        let error = |message: String, expression_index: Option<usize>| OutcomeKind::Error {
            message,
            failure_policy: policy.failure_policy,
            actions: binding.actions.clone(),
            expression_index,
        };
        let mut vals = Vals::default();
        let null = Json::Null;
        vals.set_json("object", req.object.as_ref().unwrap_or(&null), true);
        vals.set_json("oldObject", req.old_object.as_ref().unwrap_or(&null), true);
        vals.set_json("request", &req.to_value(), false);
        vals.set_json("params", param.map_or(&null, |p| &p.object), true);
        let ns_object = if req.is_cluster_scoped() {
            None
        } else {
            namespace
        };
        vals.set_json("namespaceObject", ns_object.unwrap_or(&null), true);
        let ev = Evaluation::new(&self.cel, vals, Vec::new(), &policy.variables);

        // match conditions: any false skips the policy; otherwise an error is an error
        let mut condition_error = None;
        for (i, (name, c)) in policy.match_conditions.iter().enumerate() {
            match ev.eval_bool(c) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    condition_error
                        .get_or_insert_with(|| format!("spec.matchConditions[{i}] ({name}): {e}"));
                }
            }
        }
        if let Some(e) = condition_error {
            push(out, error(e, Some(0)));
            return;
        }
        let checked = if validations {
            &policy.validations[..]
        } else {
            &[]
        };
        for (i, v) in checked.iter().enumerate() {
            match ev.eval_bool(&v.expression) {
                Ok(true) => {}
                Ok(false) => push(
                    out,
                    OutcomeKind::Violation {
                        message: ev.message(
                            &v.expression,
                            v.message.as_deref(),
                            v.message_expression.as_ref(),
                        ),
                        reason: v.reason.clone(),
                        validation: i,
                        actions: binding.actions.clone(),
                    },
                ),
                Err(e) => push(
                    out,
                    error(format!("spec.validations[{i}].expression: {e}"), Some(i)),
                ),
            }
        }
        for (i, (key, c)) in policy.audit_annotations.iter().enumerate() {
            match ev.eval(c) {
                // null or an empty string: no annotation, as in Kubernetes
                Ok(Value::Null) => {}
                Ok(Value::String(s)) if s.is_empty() => {}
                Ok(Value::String(s)) => push(
                    out,
                    OutcomeKind::AuditAnnotation {
                        key: format!("{}/{key}", policy.name),
                        value: clip(&s, 10 * 1024),
                    },
                ),
                Ok(other) => push(
                    out,
                    error(
                        format!(
                            "spec.auditAnnotations[{i}].valueExpression: {}",
                            CelError::Type {
                                want: "string or null",
                                got: crate::ext::type_name(&other).to_owned(),
                            }
                        ),
                        None,
                    ),
                ),
                Err(e) => push(
                    out,
                    error(
                        format!("spec.auditAnnotations[{i}].valueExpression: {e}"),
                        None,
                    ),
                ),
            }
        }
    }
}

enum Params<'a> {
    /// The policy has no paramKind.
    None,
    Found(Vec<&'a ParamObject>),
    NotFound(String),
    Misconfigured(String),
}
