//! Constraints as Palisade rules: one [`Rule`] per loaded constraint, with a [`RuleMeta`]
//! built once at load time (and kept for the life of the process, as every rule's is).

use crate::constraint::{Action, EnforcementPoint};
use crate::vap::BoundVap;
use crate::{
    cel_request, inventory_data, BoundConstraint, EvalContext, EvalOptions, PolicySet, Request,
};
use palisade_cel::{FailurePolicy, OutcomeKind};
use palisade_core::labels::labels_of;
use palisade_core::{
    AdmissionNeeds, Context, Inventory, Mode, Object, Rule, RuleMeta, Scope, Severity,
};
use std::fmt::Write;
use std::sync::Arc;

/// The severity of a constraint's findings unless the configuration sets one
/// (`rules: {Kind/name: {severity: high}}`).
pub const DEFAULT_SEVERITY: Severity = Severity::Medium;

/// What a rule evaluates.
enum Bound {
    Gatekeeper(Arc<BoundConstraint>),
    Vap(Arc<BoundVap>),
}

/// A constraint, or a ValidatingAdmissionPolicy binding, run as a rule.
pub struct ConstraintRule {
    meta: &'static RuleMeta,
    bound: Bound,
    action: Action,
    options: EvalOptions,
}

impl std::fmt::Debug for ConstraintRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConstraintRule")
            .field("id", &self.meta.id)
            .field("action", &self.action)
            .finish()
    }
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

impl ConstraintRule {
    /// The constraint and its template (none for a ValidatingAdmissionPolicy).
    pub fn constraint(&self) -> Option<&Arc<BoundConstraint>> {
        match &self.bound {
            Bound::Gatekeeper(b) => Some(b),
            Bound::Vap(_) => None,
        }
    }

    /// The ValidatingAdmissionPolicy binding (none for a constraint).
    pub fn vap(&self) -> Option<&Arc<BoundVap>> {
        match &self.bound {
            Bound::Vap(v) => Some(v),
            Bound::Gatekeeper(_) => None,
        }
    }

    /// The enforcement action at the point the rule was built for.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The admission mode of its findings unless the configuration sets one.
    pub fn mode(&self) -> Mode {
        self.action.mode()
    }
}

/// The documentation `palisade explain` shows: the template's description, the match, the
/// enforcement, the parameters and the policy text.
fn doc(b: &BoundConstraint, action: Action) -> String {
    let c = &b.constraint;
    let t = &b.template;
    let mut d = String::from("## What it checks\n");
    let _ = writeln!(
        d,
        "{}\n",
        t.description
            .clone()
            .unwrap_or_else(|| format!("Gatekeeper constraint {} of template {}.", c.name, t.name))
    );
    let _ = writeln!(
        d,
        "Gatekeeper constraint `{}` of kind `{}` (ConstraintTemplate `{}`{}).",
        c.name,
        c.kind,
        t.name,
        t.source
            .as_ref()
            .map(|s| format!(", {s}"))
            .unwrap_or_default()
    );
    if let Some(s) = &c.source {
        let _ = writeln!(d, "Constraint read from {s}.");
    }
    let _ = writeln!(
        d,
        "\n## Enforcement\n`{}`{}: admission mode {} unless `rules.{}.mode` sets one.",
        action.as_str(),
        if c.action.is_none() {
            " (scopedEnforcementActions)"
        } else {
            ""
        },
        action.mode(),
        c.id()
    );
    let yaml = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let _ = writeln!(d, "\n## Match\n```json\n{}\n```", yaml(&c.match_value));
    let _ = writeln!(d, "\n## Parameters\n```json\n{}\n```", yaml(&c.parameters));
    for e in &t.engines {
        match e {
            crate::template::Engine::Rego(p) => {
                let _ = writeln!(
                    d,
                    "\n## Rego ({})\n```rego\n{}\n```",
                    match p.version {
                        crate::rego::RegoVersion::V0 => "v0",
                        crate::rego::RegoVersion::V1 => "v1",
                    },
                    p.source.trim_end()
                );
                for (i, l) in p.libs.iter().enumerate() {
                    let _ = writeln!(d, "\nlibs[{i}]:\n```rego\n{}\n```", l.trim_end());
                }
            }
            crate::template::Engine::Cel(code) => {
                let _ = writeln!(
                    d,
                    "\n## K8sNativeValidation (CEL)\n```json\n{}\n```",
                    yaml(&code.source)
                );
            }
        }
    }
    // `RuleMeta::doc_markdown` removes one leading space per line (doc-comment indentation):
    // one is added so the policy text keeps its own.
    d.lines().map(|l| format!(" {l}\n")).collect()
}

fn meta(b: &BoundConstraint, action: Action, options: EvalOptions) -> RuleMeta {
    let c = &b.constraint;
    let mut kinds: Vec<&'static str> = Vec::new();
    let mut any = c.matcher.kinds.is_empty();
    for (_, ks) in &c.matcher.kinds {
        if ks.is_empty() || ks.iter().any(|k| k == "*") {
            any = true;
        }
        for k in ks {
            kinds.push(leak(k.clone()));
        }
    }
    // A referential template also reads, from `data.inventory`, the kinds its
    // `requires-sync-data` annotation names (what Gatekeeper syncs for it); a
    // namespaceSelector reads the Namespaces.
    if b.reads_inventory(options) {
        for k in b.template.sync_kinds.iter().flatten() {
            kinds.push(leak(k.clone()));
        }
    }
    if c.matcher.namespace_selector.is_some() {
        kinds.push("Namespace");
    }
    kinds.sort_unstable();
    kinds.dedup();
    if any {
        kinds = vec!["*"];
    }
    let summary = b
        .template
        .description
        .as_deref()
        .map(|d| {
            d.split(". ")
                .next()
                .unwrap_or(d)
                .trim_end_matches('.')
                .to_owned()
        })
        .unwrap_or_else(|| format!("Gatekeeper constraint of template {}", b.template.name));
    RuleMeta {
        id: leak(c.id()),
        name: leak(c.name.clone()),
        severity: DEFAULT_SEVERITY,
        summary: leak(summary),
        doc: leak(doc(b, action)),
        references: &[],
        tags: &["gatekeeper"],
        level: None,
        scope: Scope::Object,
        kinds: Box::leak(kinds.into_boxed_slice()),
        options: &[],
        family_name: Some("gatekeeper"),
    }
}

/// The rules of the constraints enforced at this point (a scan is Gatekeeper's audit, the
/// webhook its validation), each with the action it has there. Their metadata lives for the
/// rest of the process.
pub fn rules_for(
    set: &PolicySet,
    point: EnforcementPoint,
    options: EvalOptions,
) -> Vec<&'static ConstraintRule> {
    let mut rules: Vec<&'static ConstraintRule> = set
        .constraints()
        .filter_map(|b| {
            let action = b.constraint.action_at(point)?;
            let meta: &'static RuleMeta = Box::leak(Box::new(meta(b, action, options)));
            Some(&*Box::leak(Box::new(ConstraintRule {
                meta,
                bound: Bound::Gatekeeper(b.clone()),
                action,
                options,
            })))
        })
        .collect();
    // A binding's validationActions hold at admission and in a scan alike.
    for v in set.vaps() {
        let action = v.action();
        let meta: &'static RuleMeta = Box::leak(Box::new(vap_meta(v, action)));
        rules.push(Box::leak(Box::new(ConstraintRule {
            meta,
            bound: Bound::Vap(v.clone()),
            action,
            options,
        })));
    }
    rules
}

fn vap_doc(v: &BoundVap, action: Action) -> String {
    let mut d = String::from("## What it checks\n");
    let _ = writeln!(
        d,
        "ValidatingAdmissionPolicy `{}` bound by ValidatingAdmissionPolicyBinding `{}`{}{}.",
        v.policy,
        v.binding,
        v.policy_source
            .as_ref()
            .map(|s| format!(" (policy read from {s}"))
            .unwrap_or_default(),
        v.binding_source
            .as_ref()
            .map(|s| format!(", binding from {s})"))
            .unwrap_or_else(|| if v.policy_source.is_some() {
                ")".into()
            } else {
                String::new()
            })
    );
    let _ = writeln!(
        d,
        "\n## Enforcement\nvalidationActions `{}`: admission mode {} unless `rules.{}.mode` sets one. \
         An expression that fails to evaluate is a finding (`evaluationError`), with the \
         policy's `failurePolicy`.",
        v.actions_str(),
        action.mode(),
        v.id()
    );
    let json = |x: &serde_json::Value| serde_json::to_string_pretty(x).unwrap_or_default();
    let _ = writeln!(d, "\n## Policy\n```json\n{}\n```", json(&v.policy_value));
    let _ = writeln!(d, "\n## Binding\n```json\n{}\n```", json(&v.binding_value));
    d.lines().map(|l| format!(" {l}\n")).collect()
}

fn vap_meta(v: &BoundVap, action: Action) -> RuleMeta {
    RuleMeta {
        id: leak(v.id()),
        name: leak(v.policy.clone()),
        severity: DEFAULT_SEVERITY,
        summary: leak(format!(
            "ValidatingAdmissionPolicy {} (binding {})",
            v.policy, v.binding
        )),
        doc: leak(vap_doc(v, action)),
        references: &[],
        tags: &["validatingadmissionpolicy"],
        level: None,
        scope: Scope::Object,
        kinds: &["*"],
        options: &[],
        family_name: Some("validatingadmissionpolicy"),
    }
}

impl Rule for ConstraintRule {
    fn meta(&self) -> &'static RuleMeta {
        self.meta
    }

    fn applies_to(&self, object: &Object) -> bool {
        let bound = match &self.bound {
            Bound::Gatekeeper(b) => b,
            // matchConstraints are applied with the request, in `check`.
            Bound::Vap(_) => return true,
        };
        let empty = crate::rego::RegoData::empty();
        let cx = EvalContext {
            data: &empty,
            namespace_labels: &|_| None,
            namespace_object: &|_| None,
            options: self.options,
        };
        bound.matches(object.value(), &Request::default(), &cx)
    }

    fn admission_needs(&self) -> AdmissionNeeds {
        match &self.bound {
            // A referential template reads the rest of the cluster (`data.inventory`): at
            // admission, from the webhook's cluster cache.
            Bound::Gatekeeper(b) if b.reads_inventory(self.options) => AdmissionNeeds::Cluster,
            _ => AdmissionNeeds::Object,
        }
    }

    fn admission_reviews_delete(&self) -> bool {
        // Gatekeeper reviews a DELETE with `input.review.object` set to the object being
        // deleted; a ValidatingAdmissionPolicy matches DELETE by its resourceRules.
        true
    }

    fn admission_audit_annotations(
        &self,
        object: &Object,
        inventory: &Inventory,
    ) -> Vec<(String, String)> {
        let Bound::Vap(v) = &self.bound else {
            return Vec::new();
        };
        if !v.set.has_audit_annotations() {
            return Vec::new();
        }
        let req = cel_request(object.value(), &request_of(Some(inventory)));
        let namespace = namespace_of(&req, Some(inventory));
        v.set.audit_annotations(&req, namespace.as_ref())
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let inventory = cx.inventory();
        let request = request_of(inventory);
        let bound = match &self.bound {
            Bound::Gatekeeper(b) => b,
            Bound::Vap(v) => return self.check_vap(v, object, &request, cx),
        };
        let namespace_labels = |ns: &str| {
            inventory
                .and_then(|i| i.find("Namespace", None, ns))
                .map(|n| labels_of(n.value()))
        };
        let namespace_object = |ns: &str| {
            inventory
                .and_then(|i| i.find("Namespace", None, ns))
                .map(|n| n.value().clone())
        };
        let empty;
        let data_holder;
        let data = if bound.reads_inventory(self.options) {
            match inventory {
                Some(inv) => {
                    data_holder = inventory_data(inv);
                    &data_holder.0
                }
                None => {
                    empty = crate::rego::RegoData::empty();
                    &empty
                }
            }
        } else {
            empty = crate::rego::RegoData::empty();
            &empty
        };
        let ecx = EvalContext {
            data,
            namespace_labels: &namespace_labels,
            namespace_object: &namespace_object,
            options: self.options,
        };
        if !bound.matches(object.value(), &request, &ecx) {
            return;
        }
        let constraint = bound.constraint.name.clone();
        match bound.evaluate(object.value(), &request, &ecx) {
            Ok(violations) => {
                for v in violations {
                    let f = cx.report(None, v.msg);
                    f.property("constraint", constraint.clone())
                        .property("enforcementAction", self.action.as_str());
                    let details = match &v.details {
                        serde_json::Value::Null => None,
                        serde_json::Value::Object(m) if m.is_empty() => None,
                        d => Some(d.to_string()),
                    };
                    if let Some(d) = details {
                        f.property("details", d);
                    }
                }
            }
            Err(e) => {
                cx.report(
                    None,
                    format!(
                        "could not evaluate constraint {}: {e}",
                        bound.constraint.id()
                    ),
                )
                .property("constraint", constraint)
                .property("evaluationError", "true");
            }
        }
    }
}

impl ConstraintRule {
    fn check_vap(
        &self,
        v: &BoundVap,
        object: &Object,
        request: &Request<'_>,
        cx: &mut Context<'_>,
    ) {
        let req = cel_request(object.value(), request);
        let namespace = namespace_of(&req, cx.inventory());
        let actions = v.actions_str();
        for o in v.set.evaluate(&req, namespace.as_ref()) {
            match o.kind {
                OutcomeKind::Violation {
                    message,
                    reason,
                    validation,
                    ..
                } => {
                    let f = cx.report(None, message);
                    f.property("policy", v.policy.clone())
                        .property("binding", v.binding.clone())
                        .property("validationActions", actions.clone())
                        .property("reason", reason)
                        .property("validation", validation.to_string());
                    if let Some(p) = o.param {
                        f.property("param", p);
                    }
                }
                OutcomeKind::Error {
                    message,
                    failure_policy,
                    expression_index,
                    ..
                } => {
                    let f = cx.report(
                        None,
                        format!(
                            "could not evaluate ValidatingAdmissionPolicy {}: {message}",
                            v.policy
                        ),
                    );
                    if let Some(i) = expression_index {
                        f.property("expressionIndex", i.to_string());
                    }
                    f.property("policy", v.policy.clone())
                        .property("binding", v.binding.clone())
                        .property("validationActions", actions.clone())
                        .property("evaluationError", "true")
                        .property(
                            "failurePolicy",
                            match failure_policy {
                                FailurePolicy::Fail => "Fail",
                                FailurePolicy::Ignore => "Ignore",
                            },
                        );
                }
                // Audit annotations are not findings: the admission server asks for them.
                OutcomeKind::AuditAnnotation { .. } => {}
            }
        }
    }
}

/// The admission request an inventory is reviewed in, as templates and policies see it (a
/// scan has none: a `CREATE` by no user).
fn request_of(inventory: Option<&Inventory>) -> Request<'_> {
    match inventory.and_then(|i| i.request()) {
        Some(r) => Request {
            operation: Some(&r.operation),
            old_object: r.old_object.as_ref(),
            user_info: Some(&r.user_info).filter(|u| !u.is_null()),
            dry_run: r.dry_run,
            namespace: r.namespace.as_deref(),
        },
        None => Request::default(),
    }
}

/// The Namespace object of the request's namespace, when the inventory holds it.
fn namespace_of(
    req: &palisade_cel::Request,
    inventory: Option<&Inventory>,
) -> Option<serde_json::Value> {
    if req.namespace.is_empty() {
        return None;
    }
    inventory
        .and_then(|i| i.find("Namespace", None, &req.namespace))
        .map(|n| n.value().clone())
}

/// Gives each constraint its enforcement action as its admission mode (deny → deny, warn →
/// warn, dryrun → audit), unless the configuration sets a mode for it.
pub fn apply_modes(rules: &[&'static ConstraintRule], policy: &mut palisade_core::Policy) {
    for r in rules {
        let entry = policy.rules.entry(r.meta().id.to_owned()).or_default();
        if entry.mode.is_none() {
            entry.mode = Some(r.mode());
        }
    }
}
