//! The cost of one admission review of a recorded request (a privileged Pod that shares the
//! host's namespaces) with a Gatekeeper constraint and a ValidatingAdmissionPolicy bound with
//! `Audit`: the policy with two `auditAnnotations`, which the webhook evaluates beside the
//! policy's findings, against the same policy without them.
//!
//! `cargo bench -p palisade-admission --bench policy_review` (needs `../shared/corpus`).
#![allow(missing_docs)] // criterion_group! generates undocumented pub fns

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use palisade_admission::{Evaluator, EvaluatorOptions};
use palisade_analyze::{ExtraRules, Options};
use palisade_core::Rule;
use palisade_policy::constraint::EnforcementPoint;
use palisade_policy::{apply_modes, rules_for, EvalOptions, PolicySet};
use std::path::PathBuf;

const POLICY: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8snoprivileged}
spec:
  crd: {spec: {names: {kind: K8sNoPrivileged}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8snoprivileged
      violation[{"msg": msg}] {
        c := input.review.object.spec.containers[_]
        c.securityContext.privileged
        msg := sprintf("privileged container %v", [c.name])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoPrivileged
metadata: {name: no-priv}
spec:
  enforcementAction: dryrun
  match: {kinds: [{apiGroups: [""], kinds: [Pod]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-host-access}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
  validations:
  - expression: "!(has(object.spec.hostPID) && object.spec.hostPID)"
    messageExpression: "'pod ' + object.metadata.name + ' shares the host PID namespace'"
  - expression: "object.spec.containers.all(c, !(has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged))"
    message: "privileged containers are not allowed"
ANNOTATIONS---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-host-access}
spec:
  policyName: no-host-access
  validationActions: [Audit]
"#;

const ANNOTATIONS: &str = r#"  auditAnnotations:
  - key: requested-by
    valueExpression: "request.userInfo.username"
  - key: host-namespaces
    valueExpression: "[has(object.spec.hostPID) && object.spec.hostPID ? 'pid' : '', has(object.spec.hostNetwork) && object.spec.hostNetwork ? 'network' : ''].filter(s, s != '').join(',')"
"#;

fn evaluator(text: &str) -> Evaluator {
    let loaded = palisade_load::load_str("policy.yaml", text);
    let mut set = PolicySet::default();
    set.add_objects(&loaded.objects);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let rules = rules_for(&set, EnforcementPoint::Validation, EvalOptions::default());
    let mut options = Options::new("2026-11-23".parse().expect("date"));
    options.select = vec!["gatekeeper".into(), "validatingadmissionpolicy".into()];
    apply_modes(&rules, &mut options.policy);
    options.extra_rules = ExtraRules(rules.iter().map(|r| *r as &'static dyn Rule).collect());
    Evaluator::new(options, EvaluatorOptions::default())
}

fn recorded() -> Option<Vec<u8>> {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let f = dir.join(
            "shared/corpus/apiserver-recordings/admission/reviews/0026-CREATE-Pod-admission-lab-node-shell.json",
        );
        if f.is_file() {
            return std::fs::read(f).ok();
        }
        if !dir.pop() {
            return None;
        }
    }
}

fn bench(c: &mut Criterion) {
    let Some(body) = recorded() else {
        return;
    };
    let today = "2026-11-23".parse().expect("date");
    let mut group = c.benchmark_group("recorded_review");
    for (name, text) in [
        (
            "with_audit_annotations",
            POLICY.replace("ANNOTATIONS", ANNOTATIONS),
        ),
        (
            "without_audit_annotations",
            POLICY.replace("ANNOTATIONS", ""),
        ),
    ] {
        let e = evaluator(&text);
        let out = e.review(&body, today).expect("review");
        assert!(out.review.response.is_some());
        group.bench_function(name, |b| {
            b.iter(|| black_box(e.review(black_box(&body), today).expect("review")))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
