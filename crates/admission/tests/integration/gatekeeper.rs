//! Gatekeeper constraints loaded with `--policy` at admission: each constraint's
//! enforcementAction is its mode (deny rejects, warn warns, dryrun is an audit annotation),
//! and the template sees the request (operation, userInfo) in `input.review`.

use crate::util::{date, privileged_pod, review};
use palisade_admission::{Evaluator, EvaluatorOptions, Verdict};
use palisade_analyze::{ExtraRules, Options};
use palisade_core::Rule;
use palisade_policy::constraint::EnforcementPoint;
use palisade_policy::{apply_modes, rules_for, EvalOptions, PolicySet};

pub(crate) const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snoprivilegedbyuser}
spec:
  crd: {spec: {names: {kind: K8sNoPrivilegedByUser}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8snoprivilegedbyuser
      violation[{"msg": msg}] {
        input.review.operation == "CREATE"
        c := input.review.object.spec.containers[_]
        c.securityContext.privileged
        msg := sprintf("%v may not run privileged container %v", [input.review.userInfo.username, c.name])
      }
"#;

/// An evaluator of the policies in `text` alone (the built-in rules are not under test
/// here), selected by `select`; `rules` is how many policy rules `text` must make.
fn evaluator_of(text: &str, select: &[&str], rules: usize) -> Evaluator {
    let loaded = palisade_load::load_str("policy.yaml", text);
    let mut set = PolicySet::default();
    set.add_objects(&loaded.objects);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let loaded_rules = rules_for(&set, EnforcementPoint::Validation, EvalOptions::default());
    assert_eq!(loaded_rules.len(), rules);
    let mut options = Options::new(date("2026-06-01"));
    options.select = select.iter().map(|s| (*s).to_owned()).collect();
    apply_modes(&loaded_rules, &mut options.policy);
    options.extra_rules = ExtraRules(
        loaded_rules
            .iter()
            .map(|r| *r as &'static dyn Rule)
            .collect(),
    );
    Evaluator::new(options, EvaluatorOptions::default())
}

fn evaluator(action: &str) -> Evaluator {
    let text = format!(
        "{TEMPLATE}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoPrivilegedByUser\nmetadata: {{name: no-priv}}\nspec:\n  enforcementAction: {action}\n  match: {{kinds: [{{apiGroups: [\"\"], kinds: [Pod]}}]}}\n"
    );
    evaluator_of(&text, &["gatekeeper"], 1)
}

fn body(operation: &str) -> Vec<u8> {
    serde_json::to_vec(&review("u1", operation, privileged_pod("shop", "p"))).unwrap()
}

#[test]
fn deny_warn_and_dryrun() {
    let today = date("2026-06-01");
    let out = evaluator("deny").review(&body("CREATE"), today).unwrap();
    assert_eq!(out.verdict, Verdict::Denied);
    let resp = out.review.response.unwrap();
    assert!(!resp.allowed);
    assert!(
        resp.result
            .message
            .contains("tester may not run privileged container shell"),
        "{}",
        resp.result.message
    );
    assert!(resp
        .result
        .message
        .contains("K8sNoPrivilegedByUser/no-priv"));

    let out = evaluator("warn").review(&body("CREATE"), today).unwrap();
    assert_eq!(out.verdict, Verdict::Warned);
    let resp = out.review.response.unwrap();
    assert!(resp.allowed);
    let warnings = resp.warnings.unwrap_or_default();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("privileged container shell")),
        "{warnings:?}"
    );

    let out = evaluator("dryrun").review(&body("CREATE"), today).unwrap();
    assert_eq!(out.verdict, Verdict::Audited);
    let resp = out.review.response.unwrap();
    assert!(resp.allowed);
    let ann = resp
        .audit_annotations
        .values()
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(ann.contains("K8sNoPrivilegedByUser/no-priv"), "{ann}");
}

#[test]
fn the_template_sees_the_operation() {
    // The template only judges CREATE: an UPDATE of the same object is allowed.
    let out = evaluator("deny")
        .review(&body("UPDATE"), date("2026-06-01"))
        .unwrap();
    assert_eq!(out.verdict, Verdict::Allowed);
}

/// A ValidatingAdmissionPolicy that sees the request: CREATE only, the user in the message.
const VAP: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-privileged}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
  - expression: "!object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged)"
    messageExpression: "request.userInfo.username + ' may not create a privileged Pod'"
"#;

/// The constraint (deny) and the policy bound with these validationActions.
fn evaluator_with_vap(actions: &str) -> Evaluator {
    let text = format!(
        "{TEMPLATE}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoPrivilegedByUser\nmetadata: {{name: no-priv}}\nspec:\n  enforcementAction: dryrun\n  match: {{kinds: [{{apiGroups: [\"\"], kinds: [Pod]}}]}}\n---\n{VAP}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: no-privileged-binding}}\nspec:\n  policyName: no-privileged\n  validationActions: [{actions}]\n"
    );
    evaluator_of(&text, &["gatekeeper", "validatingadmissionpolicy"], 2)
}

const VAP_ID: &str = "ValidatingAdmissionPolicy/no-privileged/no-privileged-binding";

fn joined<'a>(values: impl Iterator<Item = &'a String>) -> String {
    values.cloned().collect::<Vec<_>>().join(" ")
}

#[test]
fn a_constraint_and_a_vap_in_deny_warn_and_audit() {
    let today = date("2026-06-01");
    // Deny: rejected with the policy's message, built from the request's user.
    let out = evaluator_with_vap("Deny")
        .review(&body("CREATE"), today)
        .unwrap();
    assert_eq!(out.verdict, Verdict::Denied);
    let resp = out.review.response.unwrap();
    assert!(!resp.allowed);
    assert!(
        resp.result
            .message
            .contains("tester may not create a privileged Pod"),
        "{}",
        resp.result.message
    );
    assert!(resp.result.message.contains(VAP_ID));
    // The dryrun constraint is an audit annotation beside it.
    assert!(joined(resp.audit_annotations.values()).contains("K8sNoPrivilegedByUser/no-priv"));

    // Warn: allowed with the warning; the constraint still audited.
    let out = evaluator_with_vap("Warn")
        .review(&body("CREATE"), today)
        .unwrap();
    assert_eq!(out.verdict, Verdict::Warned);
    let resp = out.review.response.unwrap();
    assert!(resp.allowed);
    let warnings = resp.warnings.clone().unwrap_or_default();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains(VAP_ID) && w.contains("tester may not create a privileged Pod")),
        "{warnings:?}"
    );
    assert!(joined(resp.audit_annotations.values()).contains("K8sNoPrivilegedByUser/no-priv"));

    // Audit: allowed, both in the audit annotations, no warning.
    let out = evaluator_with_vap("Audit")
        .review(&body("CREATE"), today)
        .unwrap();
    assert_eq!(out.verdict, Verdict::Audited);
    let resp = out.review.response.unwrap();
    assert!(resp.allowed);
    assert!(resp.warnings.unwrap_or_default().is_empty());
    let ann = joined(resp.audit_annotations.values());
    assert!(ann.contains(VAP_ID), "{ann}");
    assert!(ann.contains("K8sNoPrivilegedByUser/no-priv"), "{ann}");

    // The policy matches CREATE only: an UPDATE is allowed (the constraint's Rego, CREATE
    // only too, stays silent).
    let out = evaluator_with_vap("Deny")
        .review(&body("UPDATE"), today)
        .unwrap();
    assert_eq!(out.verdict, Verdict::Allowed);
}

/// A Deny-bound policy whose expression fails at run time: `failurePolicy` decides.
fn evaluator_with_failing_vap(failure_policy: &str) -> Evaluator {
    let text = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {{name: broken}}\nspec:\n  failurePolicy: {failure_policy}\n  matchConstraints:\n    resourceRules:\n    - {{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods]}}\n  validations:\n  - expression: \"object.spec.nodeName.startsWith('x')\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: broken-binding}}\nspec:\n  policyName: broken\n  validationActions: [Deny]\n"
    );
    evaluator_of(&text, &["validatingadmissionpolicy"], 1)
}

#[test]
fn an_evaluation_error_follows_the_failure_policy_and_is_never_silent() {
    let today = date("2026-06-01");
    // The Pod has no nodeName: the expression fails.
    let fail = evaluator_with_failing_vap("Fail")
        .review(&body("CREATE"), today)
        .unwrap();
    assert_eq!(fail.verdict, Verdict::Denied);
    let ignore = evaluator_with_failing_vap("Ignore")
        .review(&body("CREATE"), today)
        .unwrap();
    assert_eq!(ignore.verdict, Verdict::Warned);
    let resp = ignore.review.response.unwrap();
    assert!(resp.allowed);
    let warnings = joined(resp.warnings.iter().flatten());
    assert!(warnings.contains("could not evaluate"), "{warnings}");
}
