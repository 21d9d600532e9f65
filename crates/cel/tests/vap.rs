//! ValidatingAdmissionPolicy semantics over the fixtures in `tests/fixtures/vap/`.

use std::path::PathBuf;

use palisade_cel::{
    FailurePolicy, Outcome, OutcomeKind, Request, SourceRef, ValidationAction, VapSet,
};
use serde_json::{json, Value};

fn fixture(name: &str) -> Vec<(SourceRef, Value)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/vap")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| {
            let v: Value = serde::Deserialize::deserialize(doc).unwrap();
            (
                SourceRef {
                    file: name.to_owned(),
                    line: None,
                },
                v,
            )
        })
        .filter(|(_, v)| !v.is_null())
        .collect()
}

fn load(name: &str) -> VapSet {
    let (set, errors) = VapSet::load(fixture(name));
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    set
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn deployment(ns: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": ns},
           "spec": {"replicas": replicas, "template": {"spec": {"containers": [
               {"name": "app", "image": "registry.example.com/app:1"}]}}}})
}

fn pod(ns: &str, images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| json!({"name": format!("c{i}"), "image": image}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns},
           "spec": {"containers": containers}})
}

fn of_policy<'a>(outcomes: &'a [Outcome], policy: &str) -> Vec<&'a Outcome> {
    outcomes.iter().filter(|o| o.policy == policy).collect()
}

fn violation_messages(outcomes: &[&Outcome]) -> Vec<String> {
    outcomes
        .iter()
        .filter_map(|o| match &o.kind {
            OutcomeKind::Violation { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn replica_limit_reads_its_limit_from_the_bound_params() {
    let set = load("replica-limit.yaml");
    let test_ns = namespace("default", json!({"environment": "test"}));
    let out = set.evaluate(
        &Request::for_object(&deployment("default", 5)),
        Some(&test_ns),
    );
    assert_eq!(out.len(), 1, "{out:#?}");
    let o = &out[0];
    assert_eq!(o.policy, "replica-limit.example.com");
    assert_eq!(o.binding, "replica-limit-test.example.com");
    assert_eq!(
        o.param.as_deref(),
        Some("default/replica-limit-test.example.com")
    );
    assert_eq!(
        o.kind,
        OutcomeKind::Violation {
            message: "replicas must be at most 3, got 5".into(),
            reason: "Invalid".into(),
            validation: 0,
            actions: vec![ValidationAction::Deny],
        }
    );
    assert!(o.denies());
    // within the limit
    assert!(set
        .evaluate(
            &Request::for_object(&deployment("default", 3)),
            Some(&test_ns)
        )
        .is_empty());
    // the binding's namespaceSelector: another environment, or labels not known
    let prod_ns = namespace("default", json!({"environment": "prod"}));
    assert!(set
        .evaluate(
            &Request::for_object(&deployment("default", 5)),
            Some(&prod_ns)
        )
        .is_empty());
    assert!(set
        .evaluate(&Request::for_object(&deployment("default", 5)), None)
        .is_empty());
    // the policy's rules: not a deployment, not an operation it names
    assert!(set
        .evaluate(
            &Request::for_object(&pod("default", &["x"])),
            Some(&test_ns)
        )
        .is_empty());
    let mut delete = Request::for_object(&deployment("default", 5));
    delete.operation = "DELETE".into();
    delete.old_object = delete.object.take();
    assert!(set.evaluate(&delete, Some(&test_ns)).is_empty());
    let mut update = Request::for_object(&deployment("default", 9));
    update.operation = "UPDATE".into();
    update.old_object = Some(deployment("default", 1));
    assert_eq!(set.evaluate(&update, Some(&test_ns)).len(), 1);
}

#[test]
fn missing_params_follow_parameter_not_found_action() {
    let without_params: Vec<_> = fixture("replica-limit.yaml")
        .into_iter()
        .filter(|(_, v)| v["kind"] != "ReplicaLimit")
        .collect();
    let test_ns = namespace("default", json!({"environment": "test"}));
    let req = Request::for_object(&deployment("default", 1));
    let (set, errors) = VapSet::load(without_params.clone());
    assert!(errors.is_empty());
    let out = set.evaluate(&req, Some(&test_ns));
    assert_eq!(out.len(), 1);
    match &out[0].kind {
        OutcomeKind::Error {
            message,
            failure_policy,
            actions,
            expression_index,
        } => {
            assert!(message.contains("no params found"), "{message}");
            assert_eq!(*failure_policy, FailurePolicy::Fail);
            assert_eq!(actions, &vec![ValidationAction::Deny]);
            // a configuration error, never recorded as a validation failure
            assert_eq!(*expression_index, None);
        }
        other => panic!("{other:?}"),
    }
    assert!(out[0].denies());
    // with Allow, no parameters means the binding passes
    let allow: Vec<_> = without_params
        .into_iter()
        .map(|(s, mut v)| {
            if v["kind"] == "ValidatingAdmissionPolicyBinding" {
                v["spec"]["paramRef"]["parameterNotFoundAction"] = json!("Allow");
            }
            (s, v)
        })
        .collect();
    let (set, _) = VapSet::load(allow);
    assert!(set.evaluate(&req, Some(&test_ns)).is_empty());
    // a policy with a paramKind bound without paramRef is misconfigured: an error
    let no_ref: Vec<_> = fixture("replica-limit.yaml")
        .into_iter()
        .map(|(s, mut v)| {
            if v["kind"] == "ValidatingAdmissionPolicyBinding" {
                v["spec"].as_object_mut().unwrap().remove("paramRef");
            }
            (s, v)
        })
        .collect();
    let (set, _) = VapSet::load(no_ref);
    let out = set.evaluate(&req, Some(&test_ns));
    assert!(
        matches!(&out[0].kind, OutcomeKind::Error { message, .. } if message.contains("no paramRef"))
    );
}

#[test]
fn a_selector_binding_evaluates_once_per_matching_param() {
    let set = load("selector-params.yaml");
    let two = set.evaluate(&Request::for_object(&pod("shop", &["a", "b"])), None);
    assert_eq!(
        violation_messages(&two.iter().collect::<Vec<_>>()),
        ["strict: at most 1 containers"]
    );
    assert_eq!(two[0].param.as_deref(), Some("shop/strict"));
    assert!(!two[0].denies(), "Warn and Audit do not deny");
    assert!(two[0].warns());
    assert_eq!(
        two[0].actions(),
        [ValidationAction::Warn, ValidationAction::Audit]
    );
    let three = set.evaluate(&Request::for_object(&pod("shop", &["a", "b", "c"])), None);
    let mut params: Vec<_> = three.iter().filter_map(|o| o.param.clone()).collect();
    params.sort();
    assert_eq!(params, ["shop/loose", "shop/strict"]);
    // no parameters in the namespace, and parameterNotFoundAction Allow
    assert!(set
        .evaluate(&Request::for_object(&pod("empty", &["a", "b", "c"])), None)
        .is_empty());
}

#[test]
fn match_rules_conditions_variables_and_audit_annotations() {
    let set = load("general.yaml");
    let eval = |req: &Request| set.evaluate(req, Some(&namespace("apps", json!({}))));
    let untrusted = Request::for_object(&pod(
        "apps",
        &["registry.example.com/ok:1", "docker.io/nginx"],
    ));
    let out = eval(&untrusted);
    let mine = of_policy(&out, "trusted-registry");
    assert_eq!(mine.len(), 2, "{out:#?}");
    assert_eq!(
        mine[0].kind,
        OutcomeKind::Violation {
            message: "images from untrusted registries: c1".into(),
            reason: "Forbidden".into(),
            validation: 0,
            actions: vec![ValidationAction::Deny, ValidationAction::Audit],
        }
    );
    assert_eq!(
        mine[1].kind,
        OutcomeKind::AuditAnnotation {
            key: "trusted-registry/untrusted-images".into(),
            value: "c1".into()
        }
    );
    // trusted: no violation, and the null audit annotation is omitted
    let trusted = Request::for_object(&pod("apps", &["registry.example.com/ok:1"]));
    assert!(of_policy(&eval(&trusted), "trusted-registry").is_empty());
    // objectSelector: an exempt object is not selected
    let mut exempt = pod("apps", &["docker.io/nginx"]);
    exempt["metadata"]["labels"] = json!({"registry.example.com/exempt": "yes"});
    assert!(of_policy(&eval(&Request::for_object(&exempt)), "trusted-registry").is_empty());
    // scope Namespaced: a pod without a namespace is not selected by the pod rule
    assert!(of_policy(
        &eval(&Request::for_object(&pod("", &["docker.io/x"]))),
        "trusted-registry"
    )
    .is_empty());
    // matchConditions: requests from nodes are skipped
    let mut from_node = untrusted.clone();
    from_node.user_info = json!({"username": "system:node:n1"});
    assert!(of_policy(&eval(&from_node), "trusted-registry").is_empty());
    // a match condition that fails to evaluate follows failurePolicy (Fail by default)
    let mut anonymous = untrusted.clone();
    anonymous.user_info = json!({});
    let errs = eval(&anonymous);
    let errs = of_policy(&errs, "trusted-registry");
    assert!(matches!(&errs[0].kind,
        OutcomeKind::Error { message, failure_policy: FailurePolicy::Fail, expression_index, .. }
            if message.contains("spec.matchConditions[0] (not-a-node)")
                // the API server's one decision for a failed match condition
                && *expression_index == Some(0)));
    assert!(errs[0].denies());
    // variables reach through a Deployment's pod template
    let mut dep = deployment("apps", 1);
    dep["spec"]["template"]["spec"]["initContainers"] =
        json!([{"name": "init", "image": "quay.io/x"}]);
    assert_eq!(
        violation_messages(&of_policy(
            &eval(&Request::for_object(&dep)),
            "trusted-registry"
        )),
        ["images from untrusted registries: init"]
    );
    // excludeResourceRules with resourceNames
    let mut sts = dep.clone();
    sts["kind"] = json!("StatefulSet");
    assert_eq!(
        of_policy(&eval(&Request::for_object(&sts)), "trusted-registry").len(),
        2
    );
    sts["metadata"]["name"] = json!("legacy-db");
    assert!(of_policy(&eval(&Request::for_object(&sts)), "trusted-registry").is_empty());
}

#[test]
fn runtime_errors_follow_failure_policy_and_are_always_reported() {
    let set = load("general.yaml");
    let mut status = Request::for_object(&pod("apps", &["registry.example.com/ok:1"]));
    status.operation = "UPDATE".into();
    status.sub_resource = "status".into();
    status.old_object = status.object.clone();
    let out = set.evaluate(&status, None);
    let fail = of_policy(&out, "pod-status-fail");
    assert!(matches!(&fail[0].kind,
        OutcomeKind::Error { message, failure_policy: FailurePolicy::Fail, actions, expression_index }
            if message.starts_with("spec.validations[0].expression:")
                && actions == &vec![ValidationAction::Deny]
                && *expression_index == Some(0)));
    assert!(fail[0].denies());
    let ignore = of_policy(&out, "pod-status-ignore");
    assert!(matches!(
        &ignore[0].kind,
        OutcomeKind::Error {
            failure_policy: FailurePolicy::Ignore,
            ..
        }
    ));
    assert!(!ignore[0].denies(), "Ignore: reported, not denied");
    assert!(!ignore[0].warns(), "Ignore: not a warning either");
    // subresource rules do not select the main resource, nor the reverse
    let mut main = status.clone();
    main.sub_resource = String::new();
    let out = set.evaluate(&main, None);
    assert!(of_policy(&out, "pod-status-fail").is_empty());
    assert!(of_policy(&out, "pod-status-ignore").is_empty());
    assert!(of_policy(&set.evaluate(&status, None), "trusted-registry").is_empty());
}

#[test]
fn the_authorizer_is_an_unsupported_error_not_a_pass() {
    let set = load("general.yaml");
    let ns = namespace("team-a", json!({}));
    let mut delete = Request::for_object(&ns);
    delete.operation = "DELETE".into();
    delete.old_object = delete.object.take();
    assert!(delete.is_cluster_scoped());
    let out = set.evaluate(&delete, None);
    let mine = of_policy(&out, "only-admins-delete-namespaces");
    assert_eq!(
        mine.len(),
        1,
        "the null-object validation passes: {mine:#?}"
    );
    assert!(matches!(&mine[0].kind,
        OutcomeKind::Error { message, .. } if message.contains("unsupported") && message.contains("authorizer")));
    assert!(mine[0].denies());
}

#[test]
fn namespace_selectors_read_the_namespace_labels() {
    let set = load("general.yaml");
    let cm = |labels: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "payments", "labels": labels}})
    };
    let prod = namespace("payments", json!({"tier": "prod"}));
    let out = set.evaluate(&Request::for_object(&cm(json!({}))), Some(&prod));
    let mine = of_policy(&out, "labelled-namespaces");
    assert_eq!(
        violation_messages(&mine),
        ["production objects need an owner label"]
    );
    assert!(
        matches!(&mine[0].kind, OutcomeKind::Violation { actions, .. } if actions == &vec![ValidationAction::Audit])
    );
    assert!(!mine[0].denies());
    assert!(of_policy(
        &set.evaluate(
            &Request::for_object(&cm(json!({"owner": "team"}))),
            Some(&prod)
        ),
        "labelled-namespaces"
    )
    .is_empty());
    let dev = namespace("payments", json!({"tier": "dev"}));
    assert!(of_policy(
        &set.evaluate(&Request::for_object(&cm(json!({}))), Some(&dev)),
        "labelled-namespaces"
    )
    .is_empty());
    assert!(of_policy(
        &set.evaluate(&Request::for_object(&cm(json!({}))), None),
        "labelled-namespaces"
    )
    .is_empty());
    // a cluster-scoped object is never excluded by a namespaceSelector
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}});
    assert_eq!(
        of_policy(
            &set.evaluate(&Request::for_object(&role), None),
            "labelled-namespaces"
        )
        .len(),
        1
    );
    // a Namespace is selected by its own labels
    let new_ns = namespace("billing", json!({"tier": "prod"}));
    assert_eq!(
        of_policy(
            &set.evaluate(&Request::for_object(&new_ns), None),
            "labelled-namespaces"
        )
        .len(),
        1
    );
    let new_dev = namespace("billing", json!({"tier": "dev"}));
    assert!(of_policy(
        &set.evaluate(&Request::for_object(&new_dev), None),
        "labelled-namespaces"
    )
    .is_empty());
}

#[test]
fn invalid_objects_are_load_errors_naming_the_field() {
    let objects = fixture("invalid.yaml");
    let (set, errors) = VapSet::load(objects);
    let got: Vec<(String, String)> = errors
        .iter()
        .map(|e| (e.object.clone(), e.path.clone()))
        .collect();
    let want = [
        (
            "ValidatingAdmissionPolicy/bad-syntax",
            "spec.validations[1].expression",
        ),
        (
            "ValidatingAdmissionPolicy/forward-variable",
            "spec.variables[0].expression",
        ),
        (
            "ValidatingAdmissionPolicy/undefined-variable",
            "spec.validations[0].expression",
        ),
        (
            "ValidatingAdmissionPolicy/no-match",
            "spec.matchConstraints",
        ),
        (
            "ValidatingAdmissionPolicy/bad-reason",
            "spec.validations[0].reason",
        ),
        (
            "ValidatingAdmissionPolicy/bad-operation",
            "spec.matchConstraints.resourceRules[0].operations",
        ),
        (
            "ValidatingAdmissionPolicyBinding/deny-and-warn",
            "spec.validationActions",
        ),
        (
            "ValidatingAdmissionPolicyBinding/name-and-selector",
            "spec.paramRef",
        ),
        (
            "ValidatingAdmissionPolicy/bad-annotation-key",
            "spec.auditAnnotations[0].key",
        ),
        (
            "ValidatingAdmissionPolicy/too-nested",
            "spec.validations[0].expression",
        ),
        (
            "ValidatingAdmissionPolicy/misspelt-variable",
            "spec.validations[0].expression",
        ),
        ("ValidatingAdmissionPolicyBinding/orphan", "spec.policyName"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(got, want, "{errors:#?}");
    assert!(errors.iter().all(|e| e.source.file == "invalid.yaml"));
    assert!(
        errors[0].to_string().contains("does not compile"),
        "{}",
        errors[0]
    );
    assert_eq!(set.policy_names().count(), 0);
    // the other policies still load next to the broken ones
    let mut mixed = fixture("invalid.yaml");
    mixed.extend(fixture("replica-limit.yaml"));
    let (set, errors) = VapSet::load(mixed);
    assert_eq!(errors.len(), 12);
    assert!(errors
        .iter()
        .any(|e| e.object.ends_with("misspelt-variable")
            && e.message.contains("undeclared reference to \"objct\"")));
    assert_eq!(
        set.policy_names().collect::<Vec<_>>(),
        ["replica-limit.example.com"]
    );
}

#[test]
fn admission_reviews_and_manifests_are_requests() {
    let set = load("replica-limit.yaml");
    let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "1", "operation": "CREATE",
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "namespace": "default", "name": "web", "userInfo": {"username": "alice"},
            "object": deployment("default", 7)}});
    let req = Request::from_admission_review(&review).unwrap();
    let test_ns = namespace("default", json!({"environment": "test"}));
    assert_eq!(
        violation_messages(
            &set.evaluate(&req, Some(&test_ns))
                .iter()
                .collect::<Vec<_>>()
        ),
        ["replicas must be at most 3, got 7"]
    );
}

#[test]
fn variables_are_lazy_and_request_variables_are_provided() {
    let set = load("variables.yaml");
    assert_eq!(
        set.policy_source("lazy-variables").map(|s| s.file.as_str()),
        Some("variables.yaml")
    );
    assert!(set.binding_source("lazy-variables").is_some());
    let cm = |team: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "pay", "labels": {"team": team}},
               "data": {"k": "v"}})
    };
    let ns = namespace("pay", json!({"team": "payments"}));
    // CREATE: the broken variable is never read, so there is no error
    let ok = set.evaluate(&Request::for_object(&cm("payments")), Some(&ns));
    assert!(ok.is_empty(), "{ok:#?}");
    let out = set.evaluate(&Request::for_object(&cm("search")), Some(&ns));
    assert_eq!(
        violation_messages(&out.iter().collect::<Vec<_>>()),
        ["team search does not own namespace pay"]
    );
    // without the namespace object, namespaceObject is null
    let out = set.evaluate(&Request::for_object(&cm("payments")), None);
    assert_eq!(out.len(), 1, "{out:#?}");
    // UPDATE reads the broken variable: an error naming it
    let mut update = Request::for_object(&cm("payments"));
    update.operation = "UPDATE".into();
    update.old_object = Some(cm("payments"));
    update.user_info = json!({"username": "mallory", "groups": []});
    let out = set.evaluate(&update, Some(&ns));
    assert!(
        out.iter()
            .any(|o| matches!(&o.kind, OutcomeKind::Error { message, .. }
            if message.contains("spec.validations[2]") && message.contains("variables.broken"))),
        "{out:#?}"
    );
    assert_eq!(
        violation_messages(&out.iter().collect::<Vec<_>>()),
        ["mallory may not change config maps"]
    );
}

#[test]
fn a_presence_test_on_an_absent_parent_is_an_error_as_in_the_api_server() {
    let policy = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "run-as-non-root"},
        "spec": {"matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                    "operations": ["CREATE"], "resources": ["pods"]}]},
                 "validations": [{"expression": "!has(object.spec.securityContext.runAsNonRoot) || object.spec.securityContext.runAsNonRoot"}]}});
    let binding = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "run-as-non-root"},
        "spec": {"policyName": "run-as-non-root", "validationActions": ["Deny"]}});
    let (set, errors) = VapSet::load([
        (SourceRef::default(), policy),
        (SourceRef::default(), binding),
    ]);
    assert!(errors.is_empty(), "{errors:?}");
    // no securityContext: `has()` fails on the absent parent; under Fail that denies
    let out = set.evaluate(&Request::for_object(&pod("a", &["x"])), None);
    assert!(
        matches!(&out[0].kind, OutcomeKind::Error { message, .. } if message.contains("securityContext")),
        "{out:#?}"
    );
    assert!(out[0].denies());
    let mut with_context = pod("a", &["x"]);
    with_context["spec"]["securityContext"] = json!({"runAsNonRoot": false});
    assert!(matches!(
        &set.evaluate(&Request::for_object(&with_context), None)[0].kind,
        OutcomeKind::Violation { .. }
    ));
}

#[test]
fn match_conditions_leave_out_what_they_exclude() {
    let set = load("match-conditions.yaml");
    let reached = |obj: Value, groups: Value| {
        let mut req = Request::for_object(&obj);
        req.user_info = json!({"username": "u", "groups": groups});
        !set.evaluate(&req, None).is_empty()
    };
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}});
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "l", "namespace": "a"}});
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "r", "namespace": "a"}});
    assert!(reached(cm.clone(), json!(["system:authenticated"])));
    assert!(!reached(
        cm,
        json!(["system:nodes", "system:authenticated"])
    ));
    assert!(!reached(lease, json!([])));
    assert!(!reached(role, json!([])));
}

/// An audit annotation whose value is null or an empty string is not written; its errors
/// are never recorded as a `validation_failure` (no expression index).
#[test]
fn empty_and_null_audit_annotations_are_omitted() {
    let text = r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: notes}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  auditAnnotations:
  - key: empty
    valueExpression: "''"
  - key: null-value
    valueExpression: "null"
  - key: team
    valueExpression: "has(object.metadata.labels) && 'team' in object.metadata.labels ? object.metadata.labels.team : ''"
  - key: broken
    valueExpression: "object.spec.nodeName"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: notes}
spec:
  policyName: notes
  validationActions: [Audit]
"#;
    let docs: Vec<(SourceRef, Value)> = serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| {
            let v: Value = serde::Deserialize::deserialize(d).unwrap();
            (SourceRef::default(), v)
        })
        .collect();
    let (set, errors) = VapSet::load(docs);
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(set.has_audit_annotations());
    let mut labelled = pod("apps", &["x"]);
    labelled["metadata"]["labels"] = json!({"team": "payments"});
    let out = set.evaluate(&Request::for_object(&labelled), None);
    let annotations: Vec<(&str, &str)> = out
        .iter()
        .filter_map(|o| match &o.kind {
            OutcomeKind::AuditAnnotation { key, value } => Some((key.as_str(), value.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(annotations, [("notes/team", "payments")]);
    // the Pod has no nodeName: the expression fails; an error, with no expression index
    assert!(out.iter().any(|o| matches!(&o.kind,
        OutcomeKind::Error { message, expression_index: None, .. }
            if message.starts_with("spec.auditAnnotations[3].valueExpression"))));
    // without the label: `''`, so nothing at all for `team`
    let out = set.evaluate(&Request::for_object(&pod("apps", &["x"])), None);
    assert!(!out
        .iter()
        .any(|o| matches!(o.kind, OutcomeKind::AuditAnnotation { .. })));
}

/// `audit_annotations` gives what `evaluate` gives as annotations, without the validations.
#[test]
fn audit_annotations_alone() {
    let set = load("general.yaml");
    let ns = namespace("apps", json!({}));
    let req = Request::for_object(&pod(
        "apps",
        &["registry.example.com/ok:1", "docker.io/nginx"],
    ));
    let from_evaluate: Vec<(String, String)> = set
        .evaluate(&req, Some(&ns))
        .into_iter()
        .filter_map(|o| match o.kind {
            OutcomeKind::AuditAnnotation { key, value } => Some((key, value)),
            _ => None,
        })
        .collect();
    assert_eq!(
        from_evaluate,
        [(
            "trusted-registry/untrusted-images".to_owned(),
            "c1".to_owned()
        )]
    );
    assert_eq!(set.audit_annotations(&req, Some(&ns)), from_evaluate);
}
