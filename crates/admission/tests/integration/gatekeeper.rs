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

/// A ValidatingAdmissionPolicy with two validations and two audit annotations (one of which
/// is empty, so not written, for a Pod that shares no host namespace).
const HOST_VAP: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-host-access}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
  validations:
  - expression: "!(has(object.spec.hostPID) && object.spec.hostPID)"
    messageExpression: "'pod ' + object.metadata.name + ' shares the host PID namespace'"
  - expression: "object.spec.containers.all(c, !(has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged))"
    message: "privileged containers are not allowed"
  auditAnnotations:
  - key: requested-by
    valueExpression: "request.userInfo.username"
  - key: host-namespaces
    valueExpression: "[has(object.spec.hostPID) && object.spec.hostPID ? 'pid' : '', has(object.spec.hostNetwork) && object.spec.hostNetwork ? 'network' : ''].filter(s, s != '').join(',')"
"#;

const HOST_VAP_ID: &str = "ValidatingAdmissionPolicy/no-host-access/no-host-access-binding";

/// The webhook (router, state, clock) with the constraint at `action` and [`HOST_VAP`] bound
/// with `actions`.
fn recorded_state(action: &str, actions: &str) -> palisade_admission::AppState {
    let text = format!(
        "{TEMPLATE}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoPrivilegedByUser\nmetadata: {{name: no-priv}}\nspec:\n  enforcementAction: {action}\n  match: {{kinds: [{{apiGroups: [\"\"], kinds: [Pod]}}]}}\n---\n{HOST_VAP}---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {{name: no-host-access-binding}}\nspec:\n  policyName: no-host-access\n  validationActions: [{actions}]\n"
    );
    let evaluator = evaluator_of(&text, &["gatekeeper", "validatingadmissionpolicy"], 2);
    palisade_admission::AppState::new(
        evaluator,
        std::sync::Arc::new(palisade_admission::FixedClock::new(date("2026-11-23"))),
        palisade_admission::Limits::default(),
    )
}

/// A review the kube-apiserver sent (shared/corpus/apiserver-recordings), as recorded.
fn recorded(file: &str) -> Option<Vec<u8>> {
    let path = crate::util::corpus("apiserver-recordings/admission/reviews")?.join(file);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The response of the webhook to a recorded review.
async fn answer(state: &palisade_admission::AppState, body: &[u8]) -> serde_json::Value {
    let (status, review) = crate::util::oneshot(state, body.to_vec()).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{review}");
    review["response"].clone()
}

/// An audit annotation's value, parsed as the JSON it holds.
fn annotation(response: &serde_json::Value, key: &str) -> Option<serde_json::Value> {
    let text = response["auditAnnotations"][key].as_str()?;
    Some(serde_json::from_str(text).unwrap_or_else(|e| panic!("{key}: {e}: {text}")))
}

fn warnings_of(response: &serde_json::Value) -> Vec<String> {
    response["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w.as_str().map(str::to_owned))
        .collect()
}

/// The issue's admission test: a review recorded from a real kube-apiserver (admin creating
/// a privileged Pod that shares the host's PID and network namespaces) through the router,
/// with a Gatekeeper constraint and a ValidatingAdmissionPolicy in deny, warn and
/// dryrun/Audit: `allowed`, `warnings` and `auditAnnotations` for each, the policy's
/// `auditAnnotations` and Kubernetes' `validation_failure` record among them.
#[tokio::test]
async fn a_recorded_review_with_a_constraint_and_a_vap_in_deny_warn_and_audit() {
    let (Some(node_shell), Some(toolbox)) = (
        recorded("0026-CREATE-Pod-admission-lab-node-shell.json"),
        recorded("0021-CREATE-Pod-admission-lab-toolbox.json"),
    ) else {
        return;
    };
    let recorded_uid =
        serde_json::from_slice::<serde_json::Value>(&node_shell).unwrap()["request"]["uid"].clone();
    let host_annotations = serde_json::json!({
        "no-host-access/requested-by": "admin",
        "no-host-access/host-namespaces": "pid,network",
    });
    let failure = |index: u64, message: &str, actions: &[&str]| {
        serde_json::json!({
            "message": message,
            "policy": "no-host-access",
            "binding": "no-host-access-binding",
            "expressionIndex": index,
            "validationActions": actions,
        })
    };
    let pid_message = "pod node-shell shares the host PID namespace";
    let privileged_message = "privileged containers are not allowed";

    // deny / Deny: rejected for both policies; the policy's annotations are recorded, no
    // validation_failure (the binding does not audit), no audit-mode findings.
    let resp = answer(&recorded_state("deny", "Deny"), &node_shell).await;
    assert_eq!(resp["uid"], recorded_uid);
    assert_eq!(resp["allowed"], false);
    let message = resp["status"]["message"].as_str().unwrap_or_default();
    for want in [
        "K8sNoPrivilegedByUser/no-priv",
        "admin may not run privileged container shell",
        HOST_VAP_ID,
        pid_message,
        privileged_message,
    ] {
        assert!(message.contains(want), "{want}: {message}");
    }
    assert_eq!(resp["status"]["code"], 403);
    assert_eq!(
        annotation(&resp, "policy-annotations"),
        Some(host_annotations.clone())
    );
    assert_eq!(annotation(&resp, "validation_failure"), None);
    assert_eq!(annotation(&resp, "findings"), None);

    // warn / Warn: allowed, one warning per violation, the same annotations.
    let resp = answer(&recorded_state("warn", "Warn"), &node_shell).await;
    assert_eq!(resp["allowed"], true);
    let warnings = warnings_of(&resp);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    for want in [pid_message, privileged_message] {
        assert!(
            warnings
                .iter()
                .any(|w| w.contains(HOST_VAP_ID) && w.contains(want)),
            "{want}: {warnings:?}"
        );
    }
    assert!(warnings
        .iter()
        .any(|w| w.contains("K8sNoPrivilegedByUser/no-priv")));
    assert_eq!(
        annotation(&resp, "policy-annotations"),
        Some(host_annotations.clone())
    );
    assert_eq!(annotation(&resp, "validation_failure"), None);

    // dryrun / Audit: allowed without warnings; both are audit-mode findings, and the
    // binding's failures are recorded as Kubernetes records them.
    let resp = answer(&recorded_state("dryrun", "Audit"), &node_shell).await;
    assert_eq!(resp["allowed"], true);
    assert!(warnings_of(&resp).is_empty(), "{resp}");
    let findings = annotation(&resp, "findings").expect("findings");
    let rules: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(
        rules,
        ["K8sNoPrivilegedByUser/no-priv", HOST_VAP_ID, HOST_VAP_ID],
        "{findings}"
    );
    assert_eq!(
        annotation(&resp, "validation_failure"),
        Some(serde_json::json!([
            failure(0, pid_message, &["Audit"]),
            failure(1, privileged_message, &["Audit"]),
        ]))
    );
    assert_eq!(
        annotation(&resp, "policy-annotations"),
        Some(host_annotations.clone())
    );

    // Deny and Audit together: rejected, and the failures recorded with both actions.
    let resp = answer(&recorded_state("dryrun", "Deny, Audit"), &node_shell).await;
    assert_eq!(resp["allowed"], false);
    assert_eq!(
        annotation(&resp, "validation_failure"),
        Some(serde_json::json!([
            failure(0, pid_message, &["Deny", "Audit"]),
            failure(1, privileged_message, &["Deny", "Audit"]),
        ]))
    );

    // A Pod that shares nothing with the host: allowed, no warning, no failure; the
    // `host-namespaces` annotation is an empty string, so it is not written.
    for (action, actions) in [("deny", "Deny"), ("warn", "Warn"), ("dryrun", "Audit")] {
        let resp = answer(&recorded_state(action, actions), &toolbox).await;
        assert_eq!(resp["allowed"], true, "{actions}: {resp}");
        assert!(warnings_of(&resp).is_empty(), "{actions}: {resp}");
        assert_eq!(
            resp["auditAnnotations"],
            serde_json::json!({
                "policy-annotations": serde_json::json!({"no-host-access/requested-by": "admin"}).to_string()
            }),
            "{actions}"
        );
    }
}

/// A Gatekeeper library template that reads `data.inventory` (K8sUniqueIngressHost, from the
/// shared corpus) with a deny constraint on Ingresses.
fn unique_ingress_host() -> Option<String> {
    let path =
        crate::util::corpus("gatekeeper-library/library/general/uniqueingresshost/template.yaml")?;
    let template =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(format!(
        "{template}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sUniqueIngressHost\nmetadata: {{name: unique-host}}\nspec:\n  enforcementAction: deny\n  match: {{kinds: [{{apiGroups: [networking.k8s.io], kinds: [Ingress]}}]}}\n"
    ))
}

fn ingress(namespace: &str, name: &str, host: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"rules": [{"host": host}]}
    })
}

/// A template that reads `data.inventory` needs the cluster at admission: it runs only with
/// the cluster cache (`--cluster-cache`), which holds the kinds its `requires-sync-data`
/// annotation names, and sees the other objects there; when the cache cannot answer, the
/// failure policy decides.
#[test]
fn a_referential_template_reads_the_cluster_cache() {
    use palisade_admission::{FailurePolicy, StaticView};
    let Some(text) = unique_ingress_host() else {
        return;
    };
    let id = "K8sUniqueIngressHost/unique-host";
    let without_cache = evaluator_of(&text, &["gatekeeper"], 1);
    assert!(!without_cache.rule_ids().contains(&id));
    assert_eq!(without_cache.cluster_rule_ids(), [id]);
    assert!(
        without_cache.cluster_kinds().contains("Ingress"),
        "{:?}",
        without_cache.cluster_kinds()
    );

    let existing = palisade_core::Object::from_value(
        ingress("shop", "web", "shop.example.com"),
        None,
        palisade_core::SpanIndex::default(),
    )
    .unwrap();
    let with_cache = evaluator_of(&text, &["gatekeeper"], 1)
        .with_cluster_view(std::sync::Arc::new(StaticView::new(vec![existing])));
    assert!(with_cache.rule_ids().contains(&id));
    let today = date("2026-06-01");
    let body = |operation: &str, v: serde_json::Value| {
        serde_json::to_vec(&review("u1", operation, v)).unwrap()
    };
    // Another Ingress, in another namespace, with the same host: denied.
    let out = with_cache
        .review(
            &body("CREATE", ingress("blog", "www", "shop.example.com")),
            today,
        )
        .unwrap();
    assert_eq!(out.verdict, Verdict::Denied);
    let message = out.review.response.unwrap().result.message;
    assert!(
        message.contains(id)
            && message
                .contains("ingress host conflicts with an existing ingress <shop.example.com>"),
        "{message}"
    );
    // Another host: allowed.
    let out = with_cache
        .review(
            &body("CREATE", ingress("blog", "www", "blog.example.com")),
            today,
        )
        .unwrap();
    assert_eq!(out.verdict, Verdict::Allowed);
    // The cached Ingress itself, updated: it replaces its stored version, no conflict.
    let out = with_cache
        .review(
            &body("UPDATE", ingress("shop", "web", "shop.example.com")),
            today,
        )
        .unwrap();
    assert_eq!(out.verdict, Verdict::Allowed);

    // A cache that has not synced the Ingresses: the deny-mode constraint follows the
    // webhook's failure policy, and says why.
    let unsynced = |failure_policy| {
        let loaded = palisade_load::load_str("policy.yaml", &text);
        let mut set = PolicySet::default();
        set.add_objects(&loaded.objects);
        let rules = rules_for(&set, EnforcementPoint::Validation, EvalOptions::default());
        let mut options = Options::new(today);
        options.select = vec!["gatekeeper".to_owned()];
        apply_modes(&rules, &mut options.policy);
        options.extra_rules = ExtraRules(rules.iter().map(|r| *r as &'static dyn Rule).collect());
        Evaluator::new(
            options,
            EvaluatorOptions {
                failure_policy,
                ..EvaluatorOptions::default()
            },
        )
        .with_cluster_view(std::sync::Arc::new(StaticView::not_ready(&[(
            "Ingress",
            "not synced yet",
        )])))
    };
    let req = body("CREATE", ingress("blog", "www", "shop.example.com"));
    let out = unsynced(FailurePolicy::Fail).review(&req, today).unwrap();
    assert_eq!(out.verdict, Verdict::Denied);
    assert_eq!(out.not_evaluated, [id]);
    let out = unsynced(FailurePolicy::Ignore).review(&req, today).unwrap();
    assert_eq!(out.verdict, Verdict::Warned);
}

/// A template that judges deletions: Deployments of team `payments` may not be deleted.
const NO_DELETE_TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8sprotecteddeletion}
spec:
  crd: {spec: {names: {kind: K8sProtectedDeletion}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8sprotecteddeletion
      violation[{"msg": msg}] {
        input.review.operation == "DELETE"
        input.review.object.metadata.labels.team == "payments"
        input.review.oldObject.metadata.name == input.review.object.metadata.name
        msg := sprintf("%v may not delete %v %v of team payments", [input.review.userInfo.username, input.review.kind.kind, input.review.name])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sProtectedDeletion
metadata: {name: protect-payments}
spec:
  enforcementAction: deny
  match: {kinds: [{apiGroups: [apps], kinds: [Deployment]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: deletion-notes}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [DELETE], resources: [deployments]}
  validations:
  - expression: "object == null && oldObject.metadata.name != ''"
    message: "never: the deleted object is oldObject"
  auditAnnotations:
  - key: deleted
    valueExpression: "request.operation + ' ' + oldObject.metadata.name"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: deletion-notes}
spec:
  policyName: deletion-notes
  validationActions: [Audit]
"#;

/// Gatekeeper reviews DELETE with `input.review.object` set to the object being deleted (the
/// request's `oldObject`) and the operation `DELETE`; a ValidatingAdmissionPolicy sees
/// `object` null and `oldObject`. Built-in rules never judge a deletion: the same Deployment,
/// created, has findings of theirs; deleted, only the policies speak.
#[tokio::test]
async fn policies_review_deletions_built_in_rules_do_not() {
    let (Some(create), Some(delete)) = (
        recorded("0001-CREATE-Deployment-admission-lab-checkout.json"),
        recorded("0025-DELETE-Deployment-admission-lab-checkout.json"),
    ) else {
        return;
    };
    let evaluator = evaluator_of(
        NO_DELETE_TEMPLATE,
        &["gatekeeper", "validatingadmissionpolicy", "REL"],
        2,
    );
    let state = palisade_admission::AppState::new(
        evaluator,
        std::sync::Arc::new(palisade_admission::FixedClock::new(date("2026-11-23"))),
        palisade_admission::Limits::default(),
    );
    // CREATE: the built-in REL rules report the Deployment (audit mode); the policies,
    // which judge deletions only, say nothing.
    let resp = answer(&state, &create).await;
    assert_eq!(resp["allowed"], true);
    let findings = annotation(&resp, "findings").expect("built-in findings on CREATE");
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["rule"].as_str().unwrap().starts_with("REL")),
        "{findings}"
    );
    assert_eq!(annotation(&resp, "policy-annotations"), None);
    // DELETE: the constraint denies with the deleted object's labels and the request's user;
    // the policy's annotation is recorded and its one validation holds (object is null).
    let resp = answer(&state, &delete).await;
    assert_eq!(resp["allowed"], false, "{resp}");
    let message = resp["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("K8sProtectedDeletion/protect-payments")
            && message.contains("admin may not delete Deployment checkout of team payments"),
        "{message}"
    );
    assert!(!message.contains("REL"), "{message}");
    assert_eq!(annotation(&resp, "findings"), None, "{resp}");
    assert_eq!(annotation(&resp, "validation_failure"), None, "{resp}");
    assert_eq!(
        annotation(&resp, "policy-annotations"),
        Some(serde_json::json!({"deletion-notes/deleted": "DELETE checkout"}))
    );
    // Without a policy that reviews deletions, a DELETE is not evaluated at all.
    let builtin_only = palisade_admission::AppState::new(
        palisade_admission::Evaluator::new(
            crate::util::options("", "2026-11-23"),
            EvaluatorOptions::default(),
        ),
        std::sync::Arc::new(palisade_admission::FixedClock::new(date("2026-11-23"))),
        palisade_admission::Limits::default(),
    );
    let resp = answer(&builtin_only, &delete).await;
    assert_eq!(resp["allowed"], true);
    assert!(resp.get("auditAnnotations").is_none(), "{resp}");
}
