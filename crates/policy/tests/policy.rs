//! Loading, matching, enforcement actions and bad input of Gatekeeper policies.

use palisade_core::{Context, Inventory, Mode, PssLevel, ReviewRequest, Rule};
use palisade_policy::constraint::{Action, EnforcementPoint};
use palisade_policy::{rules_for, EvalOptions, PolicySet};

const TEMPLATE: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8snoprivileged
spec:
  crd:
    spec:
      names:
        kind: K8sNoPrivileged
      validation:
        openAPIV3Schema:
          type: object
          properties:
            exempt:
              type: array
              items: {type: string}
  targets:
    - target: admission.k8s.gatekeeper.sh
      rego: |
        package k8snoprivileged
        import data.lib.ops.is_update

        violation[{"msg": msg}] {
          not is_update
          c := input.review.object.spec.containers[_]
          c.securityContext.privileged
          not exempt(c.name)
          msg := sprintf("privileged container %v", [c.name])
        }

        exempt(n) { input.parameters.exempt[_] == n }
      libs:
        - |
          package lib.ops
          is_update { input.review.operation == "UPDATE" }
"#;

fn constraint(name: &str, spec: &str) -> String {
    format!("---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoPrivileged\nmetadata:\n  name: {name}\nspec:\n{spec}\n")
}

fn pod(ns: &str, name: &str, labels: &str) -> String {
    format!("---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {labels}\nspec:\n  containers:\n  - name: c\n    image: nginx\n    securityContext: {{privileged: true}}\n")
}

fn set(text: &str) -> PolicySet {
    let l = palisade_load::load_str("policy.yaml", text);
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    let mut s = PolicySet::default();
    s.add_objects(&l.objects);
    s
}

/// The names of the pods each constraint reports, as `constraint:pod`.
fn run(policy: &str, objects: &str, point: EnforcementPoint) -> Vec<String> {
    let s = set(policy);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let rules = rules_for(&s, point, EvalOptions::default());
    let l = palisade_load::load_str("objects.yaml", objects);
    let inv = Inventory::new(l.objects);
    let mut out = Vec::new();
    for r in rules {
        for (i, o) in inv.objects().iter().enumerate() {
            let mut cx = Context::new(r.meta(), None, PssLevel::Restricted).with_inventory(&inv);
            cx.set_object(palisade_core::ObjectId(i));
            r.check(o, &mut cx);
            for _ in cx.take_findings() {
                out.push(format!(
                    "{}:{}",
                    r.constraint().unwrap().constraint.name,
                    o.name
                ));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn kinds_scope_namespaces_and_globs() {
    let objects = [
        pod("prod", "a", "{}"),
        pod("kube-system", "b", "{}"),
        pod("dev", "c", "{}"),
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: prod}\nspec: {template: {spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}}}\n".to_owned(),
    ]
    .concat();
    let policy = [
        TEMPLATE.to_owned(),
        constraint("pods", "  match:\n    kinds: [{apiGroups: [\"\"], kinds: [Pod]}]\n"),
        constraint("any-kind", "  match:\n    kinds: [{apiGroups: [\"*\"], kinds: [\"*\"]}]\n    namespaces: [prod]\n"),
        constraint("not-kube", "  match:\n    excludedNamespaces: [\"kube-*\"]\n    kinds: [{apiGroups: [\"\"], kinds: [Pod]}]\n"),
        constraint("suffix", "  match:\n    namespaces: [\"*-system\"]\n"),
        constraint("cluster-only", "  match:\n    scope: Cluster\n"),
        constraint("named", "  match:\n    name: \"c*\"\n"),
    ]
    .concat();
    let got = run(&policy, &objects, EnforcementPoint::Audit);
    assert_eq!(
        got,
        [
            "any-kind:a",
            "named:c",
            "not-kube:a",
            "not-kube:c",
            "pods:a",
            "pods:b",
            "pods:c",
            "suffix:b"
        ]
    );
}

#[test]
fn label_and_namespace_selectors() {
    let objects = [
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {env: prod}}\n"
            .to_owned(),
        pod("prod", "a", "{app: web}"),
        pod("prod", "b", "{app: db}"),
        pod("other", "c", "{app: web}"),
    ]
    .concat();
    let policy = [
        TEMPLATE.to_owned(),
        constraint("web", "  match:\n    labelSelector:\n      matchExpressions: [{key: app, operator: In, values: [web]}]\n"),
        constraint("prod-ns", "  match:\n    namespaceSelector: {matchLabels: {env: prod}}\n"),
        // A namespace absent from the scanned set has no labels: NotIn selects it.
        constraint("not-prod", "  match:\n    namespaceSelector:\n      matchExpressions: [{key: env, operator: NotIn, values: [prod]}]\n"),
    ]
    .concat();
    let got = run(&policy, &objects, EnforcementPoint::Audit);
    assert_eq!(
        got,
        ["not-prod:c", "prod-ns:a", "prod-ns:b", "web:a", "web:c"]
    );
}

#[test]
fn parameters_libs_and_update_requests() {
    let policy = [
        TEMPLATE.to_owned(),
        constraint("exempting", "  parameters: {exempt: [c]}\n"),
        constraint("strict", "  parameters: {exempt: [other]}\n"),
    ]
    .concat();
    assert_eq!(
        run(&policy, &pod("p", "a", "{}"), EnforcementPoint::Audit),
        ["strict:a"]
    );
    // At admission, an UPDATE skips the check (the lib's is_update).
    let s = set(&policy);
    let rules = rules_for(&s, EnforcementPoint::Validation, EvalOptions::default());
    let l = palisade_load::load_str("o.yaml", &pod("p", "a", "{}"));
    for (op, expected) in [("UPDATE", 0), ("CREATE", 1)] {
        let inv = Inventory::new(l.objects.clone()).with_request(ReviewRequest {
            operation: op.into(),
            ..ReviewRequest::default()
        });
        let r = rules.iter().find(|r| r.meta().name == "strict").unwrap();
        let mut cx = Context::new(r.meta(), None, PssLevel::Restricted).with_inventory(&inv);
        r.check(&inv.objects()[0], &mut cx);
        assert_eq!(cx.take_findings().len(), expected, "{op}");
    }
}

#[test]
fn enforcement_actions_and_scoped_actions() {
    let policy = [
        TEMPLATE.to_owned(),
        constraint("default", "  match: {}\n"),
        constraint("warned", "  enforcementAction: warn\n"),
        constraint("dry", "  enforcementAction: dryrun\n"),
        constraint("scoped-audit", "  enforcementAction: scoped\n  scopedEnforcementActions:\n  - action: warn\n    enforcementPoints: [{name: audit.gatekeeper.sh}]\n"),
        constraint("scoped-both", "  enforcementAction: scoped\n  scopedEnforcementActions:\n  - action: warn\n    enforcementPoints: [{name: \"*\"}]\n  - action: deny\n    enforcementPoints: [{name: validation.gatekeeper.sh}]\n"),
    ]
    .concat();
    let s = set(&policy);
    let at = |point| {
        let mut v: Vec<(String, Action, Mode)> = rules_for(&s, point, EvalOptions::default())
            .iter()
            .map(|r| (r.meta().name.to_owned(), r.action(), r.mode()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    assert_eq!(
        at(EnforcementPoint::Validation),
        [
            ("default".into(), Action::Deny, Mode::Deny),
            ("dry".into(), Action::Dryrun, Mode::Audit),
            ("scoped-both".into(), Action::Deny, Mode::Deny),
            ("warned".into(), Action::Warn, Mode::Warn),
        ]
    );
    let audit: Vec<String> = at(EnforcementPoint::Audit)
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(
        audit,
        ["default", "dry", "scoped-audit", "scoped-both", "warned"]
    );
}

#[test]
fn bad_input_names_file_line_and_reason() {
    let bad_rego = TEMPLATE.replace("not exempt(c.name)", "not exempt_missing(c.name)");
    let text = [
        bad_rego.replace("k8snoprivileged", "k8sbroken").replace("K8sNoPrivileged", "K8sBroken"),
        format!("---\n{TEMPLATE}"),
        constraint("bad-params", "  parameters:\n    exempt: notalist\n"),
        "---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sUnknown\nmetadata: {name: orphan}\nspec: {}\n".to_owned(),
        constraint("bad-action", "  enforcementAction: block\n"),
        constraint("good", "  match: {}\n"),
        "---\napiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: nokind}\nspec: {targets: []}\n".to_owned(),
    ]
    .concat();
    let s = set(&text);
    let errors: Vec<String> = s.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(errors.len(), 5, "{errors:#?}");
    let find = |needle: &str| {
        errors
            .iter()
            .find(|e| e.contains(needle))
            .unwrap_or_else(|| panic!("no error about {needle}: {errors:#?}"))
            .clone()
    };
    assert!(find("Rego does not compile").starts_with("policy.yaml:"));
    assert!(find("no spec.crd.spec.names.kind").contains("nokind"));
    let params = find("bad-params");
    assert!(
        params.contains("parameters.exempt must be a list"),
        "{params}"
    );
    // Line of the offending parameter.
    let line: u32 = params.split(':').nth(1).unwrap().parse().unwrap();
    let expected = text
        .lines()
        .position(|l| l.contains("exempt: notalist"))
        .unwrap() as u32
        + 1;
    assert_eq!(line, expected);
    assert!(find("no ConstraintTemplate defines kind K8sUnknown").contains("orphan"));
    assert!(find("unknown enforcementAction `block`").contains("bad-action"));
    // The good constraint still loads.
    assert_eq!(
        s.constraints()
            .map(|b| b.constraint.id())
            .collect::<Vec<_>>(),
        ["K8sNoPrivileged/good"]
    );
}

#[test]
fn messages_never_carry_secret_values() {
    let policy = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8secho}
spec:
  crd: {spec: {names: {kind: K8sEcho}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8secho
      violation[{"msg": msg}] {
        msg := sprintf("data: %v", [input.review.object.data])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sEcho
metadata: {name: echo}
spec: {}
"#;
    let s = set(policy);
    let rules = rules_for(&s, EnforcementPoint::Audit, EvalOptions::default());
    let l = palisade_load::load_str(
        "s.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata: {password: aHVudGVyMg==}\n",
    );
    let inv = Inventory::new(l.objects);
    let mut cx = Context::new(rules[0].meta(), None, PssLevel::Restricted).with_inventory(&inv);
    rules[0].check(&inv.objects()[0], &mut cx);
    let f = cx.take_findings();
    assert_eq!(f.len(), 1);
    assert!(!f[0].message.contains("aHVudGVyMg"), "{}", f[0].message);
    assert!(f[0].message.contains("<redacted>"), "{}", f[0].message);
}

#[test]
fn referential_templates_read_the_inventory() {
    let policy = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8suniquehost}
spec:
  crd: {spec: {names: {kind: K8sUniqueHost}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    code:
    - engine: Rego
      source:
        version: v1
        rego: |
          package k8suniquehost
          violation contains {"msg": msg} if {
            host := input.review.object.spec.rules[_].host
            other := data.inventory.namespace[ns][_]["Ingress"][name]
            not identical(other, input.review)
            other.spec.rules[_].host == host
            msg := sprintf("host %v also in %v/%v", [host, ns, name])
          }
          identical(obj, review) if {
            obj.metadata.namespace == review.object.metadata.namespace
            obj.metadata.name == review.object.metadata.name
          }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sUniqueHost
metadata: {name: unique}
spec: {}
"#;
    let ing = |ns: &str, name: &str, host: &str| {
        format!("---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{rules: [{{host: {host}}}]}}\n")
    };
    let objects = [
        ing("a", "ing-x", "shop.example"),
        ing("b", "ing-y", "shop.example"),
        ing("c", "ing-z", "blog.example"),
    ]
    .concat();
    assert_eq!(
        run(policy, &objects, EnforcementPoint::Audit),
        ["unique:ing-x", "unique:ing-y"]
    );
}

#[test]
fn malformed_policies_are_errors_never_panics() {
    let docs = [
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sa}\nspec: {crd: {spec: {names: {kind: K8sA}}}, targets: 5}\n",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sb}\nspec: {crd: {spec: {names: {kind: K8sB}}}, targets: [{target: admission.k8s.gatekeeper.sh, rego: 7}]}\n",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sc}\nspec: {crd: {spec: {names: {kind: K8sC}}}, targets: [{target: admission.k8s.gatekeeper.sh, code: [5, {engine: Rego}]}]}\n",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: k8sd}\nspec: {crd: {spec: {names: {kind: K8sD}}}, targets: [{target: admission.k8s.gatekeeper.sh, rego: \"package p\\nviolation[{\\\"msg\\\": m}] { m := (((( }\"}]}\n",
        "apiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata: {name: wrongname}\nspec: {crd: {spec: {names: {kind: K8sE}}}, targets: []}\n",
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sA\nmetadata: {name: x}\nspec: [1]\n",
    ];
    for d in docs {
        let s = set(d);
        assert_eq!(s.errors.len(), 1, "{d}: {:?}", s.errors);
        assert!(s.policies.is_empty());
        assert!(s.errors[0].line > 0, "{:?}", s.errors);
    }
    // A constraint whose spec is malformed, with its template loaded.
    let text = format!("{TEMPLATE}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoPrivileged\nmetadata: {{name: m}}\nspec: {{match: {{kinds: 3}}}}\n");
    let s = set(&text);
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert!(s.errors[0].message.contains("match.kinds must be a list"));
}

#[test]
fn cluster_scoped_kinds_have_no_namespace() {
    let policy = [
        TEMPLATE.replace("c := input.review.object.spec.containers[_]\n          c.securityContext.privileged\n          not exempt(c.name)\n          msg := sprintf(\"privileged container %v\", [c.name])", "not input.review.namespace\n          msg := \"cluster-scoped\""),
        constraint("scoped", "  match:\n    scope: Cluster\n    kinds: [{apiGroups: [\"*\"], kinds: [\"*\"]}]\n"),
    ]
    .concat();
    let objects = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cr, namespace: shop}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: shop}\n";
    assert_eq!(
        run(&policy, objects, EnforcementPoint::Audit),
        ["scoped:cr"]
    );
}

/// A template that reads `data.inventory` needs the cluster at admission, and reads the
/// kinds its constraints match plus those its `requires-sync-data` annotation names; one
/// that does not stays object-local.
#[test]
fn referential_templates_need_the_cluster_at_admission() {
    let referential = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8shpatarget
  annotations:
    metadata.gatekeeper.sh/requires-sync-data: |
      "[[{"groups": ["apps"], "versions": ["v1"], "kinds": ["Deployment"]},
         {"groups": ["apps"], "versions": ["v1"], "kinds": ["StatefulSet"]}]]"
spec:
  crd: {spec: {names: {kind: K8sHpaTarget}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8shpatarget
      violation[{"msg": "no target"}] {
        name := input.review.object.spec.scaleTargetRef.name
        not data.inventory.namespace[input.review.object.metadata.namespace]["apps/v1"].Deployment[name]
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sHpaTarget
metadata: {name: hpa-target}
spec:
  match: {kinds: [{apiGroups: [autoscaling], kinds: [HorizontalPodAutoscaler]}]}
"#;
    let s = set(&format!(
        "{referential}---\n{TEMPLATE}{}",
        constraint(
            "plain",
            "  match: {kinds: [{apiGroups: [\"\"], kinds: [Pod]}]}"
        )
    ));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let rules = rules_for(&s, EnforcementPoint::Validation, EvalOptions::default());
    let by_id = |id: &str| *rules.iter().find(|r| r.meta().id == id).unwrap();
    let hpa = by_id("K8sHpaTarget/hpa-target");
    assert_eq!(
        hpa.admission_needs(),
        palisade_core::AdmissionNeeds::Cluster
    );
    assert_eq!(
        hpa.meta().kinds,
        ["Deployment", "HorizontalPodAutoscaler", "StatefulSet"]
    );
    let plain = by_id("K8sNoPrivileged/plain");
    assert_eq!(
        plain.admission_needs(),
        palisade_core::AdmissionNeeds::Object
    );
    assert_eq!(plain.meta().kinds, ["Pod"]);
    // A malformed annotation is an error at the template's line.
    let bad = referential.replace("\"kinds\": [\"Deployment\"]", "\"kinds\": 7");
    let l = palisade_load::load_str("bad.yaml", &bad);
    let mut s = PolicySet::default();
    s.add_objects(&l.objects);
    assert!(
        s.errors.iter().any(|e| e.file == "bad.yaml"
            && e.line == 5
            && e.message.contains("requires-sync-data")),
        "{:?}",
        s.errors
    );
}

const PARAM_VAP: &str = r#"apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: max-replicas}
spec:
  paramKind: {apiVersion: v1, kind: ConfigMap}
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}
  validations:
  - expression: "object.spec.replicas <= int(params.data.maxReplicas)"
    messageExpression: "'at most ' + params.data.maxReplicas + ' replicas'"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: max-replicas}
spec:
  policyName: max-replicas
  validationActions: [Deny]
  paramRef: {name: replica-limit, parameterNotFoundAction: Deny}
"#;

fn deployment(ns: &str, replicas: u32) -> String {
    format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\nspec:\n  replicas: {replicas}\n  template: {{spec: {{containers: [{{name: c, image: nginx}}]}}}}\n")
}

/// The messages of every policy rule over the objects of `text`.
fn messages(s: &PolicySet, text: &str) -> Vec<String> {
    let rules = rules_for(s, EnforcementPoint::Audit, EvalOptions::default());
    let l = palisade_load::load_str("objects.yaml", text);
    let inv = Inventory::new(l.objects);
    let mut out = Vec::new();
    for r in rules {
        for (i, o) in inv.objects().iter().enumerate() {
            if !r.applies_to(o) {
                continue;
            }
            let mut cx = Context::new(r.meta(), None, PssLevel::Restricted).with_inventory(&inv);
            cx.set_object(palisade_core::ObjectId(i));
            r.check(o, &mut cx);
            for f in cx.take_findings() {
                out.push(format!(
                    "{}/{}: {}",
                    o.kind,
                    o.namespace.clone().unwrap_or_default(),
                    f.message
                ));
            }
        }
    }
    out.sort();
    out
}

/// `--policy-from-input`: the parameter objects of a ValidatingAdmissionPolicy come from the
/// scanned objects too (the ConfigMap its paramRef names, in the request's namespace), and
/// parameterNotFoundAction holds where there is none.
#[test]
fn vap_params_are_read_from_the_input() {
    let limit = |ns: &str, n: u32| {
        format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: replica-limit, namespace: {ns}}}\ndata: {{maxReplicas: \"{n}\"}}\n")
    };
    let input = [
        PARAM_VAP.to_owned(),
        limit("shop", 3),
        limit("blog", 10),
        deployment("shop", 5),
        deployment("blog", 5),
        deployment("empty", 5),
    ]
    .concat();
    let l = palisade_load::load_str("input.yaml", &input);
    let mut s = PolicySet::default();
    s.add_input(&l.objects);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.param_kinds(), [("v1".to_owned(), "ConfigMap".to_owned())]);
    let scanned: String = [
        deployment("shop", 5),
        deployment("blog", 5),
        deployment("empty", 5),
    ]
    .concat();
    assert_eq!(
        messages(&s, &scanned),
        [
            "Deployment/empty: could not evaluate ValidatingAdmissionPolicy max-replicas: no params found for binding max-replicas: ConfigMap empty/replica-limit (parameterNotFoundAction Deny)",
            "Deployment/shop: at most 3 replicas",
        ]
    );
    // The same policy without its parameters in the input: not found everywhere.
    let mut without = PolicySet::default();
    without.add_input(&palisade_load::load_str("p.yaml", PARAM_VAP).objects);
    assert_eq!(messages(&without, &scanned).len(), 3);
    // parameterNotFoundAction Allow: no parameters, no finding.
    let allow = PARAM_VAP.replace(
        "parameterNotFoundAction: Deny",
        "parameterNotFoundAction: Allow",
    );
    let mut allowed = PolicySet::default();
    allowed.add_input(&palisade_load::load_str("p.yaml", &allow).objects);
    assert!(messages(&allowed, &scanned).is_empty());
}

/// A policy whose parameters are Secrets is an error naming its file and line: Palisade never
/// reads Secret values, so it never judges redacted ones; the other policies still run.
#[test]
fn secret_params_are_refused() {
    let secret_vap = PARAM_VAP
        .replace("kind: ConfigMap}", "kind: Secret}")
        .replace("max-replicas", "secret-limit");
    let input = [
        secret_vap,
        "---\n".to_owned(),
        PARAM_VAP.to_owned(),
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: replica-limit, namespace: shop}\ndata: {maxReplicas: MQ==}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: replica-limit, namespace: shop}\ndata: {maxReplicas: \"3\"}\n".to_owned(),
    ]
    .concat();
    let l = palisade_load::load_str("input.yaml", &input);
    let mut s = PolicySet::default();
    s.add_input(&l.objects);
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    let e = &s.errors[0];
    assert_eq!((e.file.as_str(), e.line), ("input.yaml", 5), "{e:?}");
    assert!(
        e.message.contains("Secret parameters are not supported"),
        "{e:?}"
    );
    let ids: Vec<&str> = rules_for(&s, EnforcementPoint::Audit, EvalOptions::default())
        .iter()
        .map(|r| r.meta().id)
        .collect();
    assert_eq!(ids, ["ValidatingAdmissionPolicy/max-replicas/max-replicas"]);
    assert_eq!(
        messages(&s, &deployment("shop", 5)),
        ["Deployment/shop: at most 3 replicas"]
    );
}

/// A template whose Rego nests `depth` brackets in one expression.
fn nested_template(name: &str, depth: usize) -> String {
    let (open, close) = ("{".repeat(depth), "}".repeat(depth));
    format!(
        "---\napiVersion: templates.gatekeeper.sh/v1\nkind: ConstraintTemplate\nmetadata:\n  name: {name}\nspec:\n  crd:\n    spec:\n      names:\n        kind: {name}\n  targets:\n    - target: admission.k8s.gatekeeper.sh\n      rego: |\n        package {name}\n        # {{{{{{{{{{{{{{{{{{{{{{{{ in a comment\n        violation[{{\"msg\": msg}}] {{\n          x := {open}1{close}\n          x != \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"\n          msg := \"nested\"\n        }}\n"
    )
}

/// Found by the `policy` fuzz target (a timeout): the Rego parser's time grows exponentially
/// with the nesting of brackets, and a template with 80 `{` in a row never finished loading.
/// Deep nesting is refused at once, naming the file, the template's line and the reason.
#[test]
fn deeply_nested_rego_is_refused_at_once() {
    let text = include_str!("fixtures/rego-nested-brackets.yaml");
    let started = std::time::Instant::now();
    let l = palisade_load::load_str("policy.yaml", text);
    let mut s = PolicySet::default();
    s.add_objects(&l.objects);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    let e = &s.errors[0];
    assert_eq!(e.file, "policy.yaml");
    assert!(e.line > 0, "{e}");
    assert!(
        e.message.contains("template.rego:105:")
            && e.message.contains("brackets nested more than 10 deep"),
        "{e}"
    );
    assert!(s.policies.is_empty());

    // Up to the limit (9 in the rule's body: 10 in all), nesting compiles (brackets in
    // strings and comments do not count); one more level is refused.
    let s = set(&nested_template("k8snine", 9));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.templates.len(), 1);
    let s = set(&nested_template("k8sten", 10));
    assert_eq!(s.errors.len(), 1, "{:?}", s.errors);
    assert!(
        s.errors[0].message.contains("template.rego:4:")
            && s.errors[0].message.contains("nested more than 10 deep"),
        "{}",
        s.errors[0]
    );
}
