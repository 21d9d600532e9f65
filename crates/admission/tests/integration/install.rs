//! The install manifests pass Palisade's own restricted profile with zero findings.

use palisade_admission::install::{objects, render, InstallOptions};
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, PssLevel};

/// A release pinned by digest, as production installs should be (the default image is a tag
/// only, which IMG002 reports like for any workload).
const PINNED: &str =
    "ghcr.io/palisade-dev/palisade:0.1.0@sha256:5b1f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

#[test]
fn install_manifests_pass_the_restricted_profile() {
    let ca = palisade_admission::certs::CertAuthority::generate("test-ca").expect("ca");
    for opts in [
        InstallOptions {
            image: PINNED.into(),
            ..InstallOptions::default()
        },
        InstallOptions {
            image: PINNED.into(),
            namespace: "security".into(),
            replicas: 3,
            failure_policy: "Ignore".into(),
            ca_pem: Some(ca.cert_pem()),
            ..InstallOptions::default()
        },
    ] {
        let text = render(&opts).unwrap();
        let loaded = palisade_load::load_str("install.yaml", &text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let kinds: Vec<&str> = loaded.objects.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "CustomResourceDefinition",
                "CustomResourceDefinition",
                "Namespace",
                "ServiceAccount",
                "ConfigMap",
                "Deployment",
                "PodDisruptionBudget",
                "Service",
                "NetworkPolicy",
                "ValidatingWebhookConfiguration"
            ]
        );
        let inventory = Inventory::new(loaded.objects);
        let report = analyze(
            &inventory,
            InputSummary::default(),
            &Options {
                profile: Some(PssLevel::Restricted),
                ..Options::new("2026-11-23".parse().expect("date"))
            },
        );
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert!(report.suppressed.is_empty());
    }
    // The default image is a version tag: exactly the digest finding the README names, and
    // the tag is pulled each time.
    let text = render(&InstallOptions::default()).unwrap();
    let loaded = palisade_load::load_str("install.yaml", &text);
    let inventory = Inventory::new(loaded.objects);
    let report = analyze(
        &inventory,
        InputSummary::default(),
        &Options {
            profile: Some(PssLevel::Restricted),
            ..Options::new("2026-11-23".parse().expect("date"))
        },
    );
    let ids: Vec<&str> = report.findings.iter().map(|f| f.rule_id).collect();
    assert_eq!(ids, ["IMG002"], "{:#?}", report.findings);
    assert!(text.contains("imagePullPolicy: Always"));
}

#[test]
fn install_manifests_have_the_required_settings() {
    let ca = palisade_admission::certs::CertAuthority::generate("test-ca").expect("ca");
    let objs = objects(&InstallOptions {
        ca_pem: Some(ca.cert_pem()),
        replicas: 1,
        ..InstallOptions::default()
    });
    let deploy = by_kind(&objs, "Deployment");
    assert_eq!(deploy["spec"]["replicas"], 2, "at least two replicas");
    let pod = &deploy["spec"]["template"]["spec"];
    assert!(pod["affinity"]["podAntiAffinity"].is_object());
    assert_eq!(pod["automountServiceAccountToken"], false);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    let wh = &by_kind(&objs, "ValidatingWebhookConfiguration")["webhooks"][0];
    assert_eq!(wh["sideEffects"], "None");
    assert_eq!(wh["matchPolicy"], "Equivalent");
    assert_eq!(wh["admissionReviewVersions"][0], "v1");
    assert_eq!(wh["failurePolicy"], "Fail");
    let excluded = &wh["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["operator"], "NotIn");
    assert_eq!(
        excluded["values"],
        serde_json::json!(["kube-system", "palisade-system"])
    );
    let bundle = wh["clientConfig"]["caBundle"].as_str().expect("caBundle");
    assert!(
        bundle.starts_with("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"),
        "{bundle}"
    );
    let text = render(&InstallOptions::default()).unwrap();
    assert!(text.contains("caBundle is empty"));
}

#[test]
fn the_background_audit_gets_the_memory_it_needs() {
    let container = |opts: &InstallOptions| {
        by_kind(&objects(opts), "Deployment")["spec"]["template"]["spec"]["containers"][0].clone()
    };
    let webhook = container(&InstallOptions::default());
    assert_eq!(webhook["resources"]["limits"]["memory"], "256Mi");
    let audit = container(&InstallOptions {
        audit_interval: Some("10m".into()),
        ..InstallOptions::default()
    });
    assert_eq!(audit["resources"]["limits"]["memory"], "768Mi");
    assert_eq!(audit["resources"]["requests"]["memory"], "256Mi");
    for c in [&webhook, &audit] {
        assert_eq!(
            c["env"],
            serde_json::json!([{"name": "MALLOC_ARENA_MAX", "value": "2"}])
        );
    }
}

fn by_kind<'a>(objs: &'a [serde_json::Value], kind: &str) -> &'a serde_json::Value {
    objs.iter()
        .find(|o| o["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

#[test]
fn install_adds_the_policyreport_crds_unless_no_crds() {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let objs = objects(&InstallOptions::default());
    // The CRDs come first (before anything could write a report), as generated from the
    // report types.
    assert_eq!(
        objs[..2],
        palisade_report::policyreport::crd::crds()[..],
        "the CRDs are the generated ones"
    );
    for o in &objs[..2] {
        // The API's own type reads them whole (field names and shapes as the API defines).
        let crd: CustomResourceDefinition = serde_json::from_value(o.clone()).expect("a CRD");
        let v = &crd.spec.versions[0];
        assert!(v.served && v.storage);
        let schema = v
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema
            .as_ref()
            .unwrap();
        assert_eq!(schema.type_.as_deref(), Some("object"));
        assert!(schema.properties.as_ref().unwrap().contains_key("results"));
        // A round trip through the API type loses nothing.
        assert_eq!(&serde_json::to_value(&crd).unwrap(), o);
    }
    let names: Vec<&str> = objs[..2]
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "policyreports.wgpolicyk8s.io",
            "clusterpolicyreports.wgpolicyk8s.io"
        ]
    );
    let without = objects(&InstallOptions {
        crds: false,
        audit_interval: Some("10m".into()),
        ..InstallOptions::default()
    });
    assert!(without
        .iter()
        .all(|o| o["kind"] != "CustomResourceDefinition"));
    assert_eq!(
        without.len() + 2,
        objects(&InstallOptions {
            audit_interval: Some("10m".into()),
            ..InstallOptions::default()
        })
        .len()
    );
}

#[test]
fn the_audit_role_writes_reports_and_needs_nothing_on_the_crds() {
    let objs = objects(&InstallOptions {
        audit_interval: Some("10m".into()),
        ..InstallOptions::default()
    });
    let role = by_kind(&objs, "ClusterRole");
    let rules = role["rules"].as_array().unwrap();
    let grants = |resource: &str| -> Vec<String> {
        rules
            .iter()
            .filter(|r| {
                r["apiGroups"]
                    .as_array()
                    .is_some_and(|g| g.iter().any(|g| g == "wgpolicyk8s.io"))
            })
            .filter(|r| {
                r["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x == resource)
            })
            .flat_map(|r| {
                r["verbs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
            })
            .collect()
    };
    // Server-side apply creates (create + patch) and updates (patch) a report; a namespace
    // with nothing left loses it (delete).
    for resource in ["policyreports", "clusterpolicyreports"] {
        let verbs = grants(resource);
        for v in ["create", "patch", "delete"] {
            assert!(verbs.iter().any(|x| x == v), "{resource}: {verbs:?}");
        }
    }
    // The CRDs are applied by whoever installs; the webhook never writes them (it reads
    // CustomResourceDefinitions as metadata only when a rule reads every kind, as the
    // removed-API rules do), and no rule grants every group or resource.
    assert!(
        rules.iter().all(|r| {
            let has = |field: &str, what: &str| {
                r[field]
                    .as_array()
                    .is_some_and(|x| x.iter().any(|x| x == what))
            };
            let read_only = r["verbs"]
                .as_array()
                .is_some_and(|v| v.iter().all(|v| v == "get" || v == "list" || v == "watch"));
            !has("apiGroups", "*")
                && !has("resources", "*")
                && (!(has("apiGroups", "apiextensions.k8s.io")
                    || has("resources", "customresourcedefinitions"))
                    || read_only)
        }),
        "{rules:?}"
    );
    let binding = by_kind(&objs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], role["metadata"]["name"]);
    // Without the audit, no report access.
    let objs = objects(&InstallOptions {
        cluster_cache: true,
        ..InstallOptions::default()
    });
    assert!(!by_kind(&objs, "ClusterRole")
        .to_string()
        .contains("wgpolicyk8s.io"));
}

/// `--image-pull-secrets` is opt-in: only with it does the webhook get `get` on Secrets (and
/// ServiceAccounts, nothing more), an API token, egress to the API server and the server flag;
/// and Palisade's own RBAC rules see the grant for what it is.
#[test]
fn image_pull_secrets_access_is_opt_in() {
    let plain = objects(&InstallOptions::default());
    assert!(!plain
        .iter()
        .any(|o| o.to_string().contains("secrets\"") && o["kind"] == "ClusterRole"));
    assert!(!plain
        .iter()
        .any(|o| o.to_string().contains("--image-pull-secrets")));
    let objs = objects(&InstallOptions {
        image: PINNED.into(),
        image_pull_secrets: true,
        ..InstallOptions::default()
    });
    let roles: Vec<&serde_json::Value> =
        objs.iter().filter(|o| o["kind"] == "ClusterRole").collect();
    assert_eq!(roles.len(), 1, "{roles:?}");
    assert_eq!(
        roles[0]["metadata"]["name"],
        "palisade-admission-pull-secrets"
    );
    assert_eq!(
        roles[0]["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["secrets", "serviceaccounts"], "verbs": ["get"]}])
    );
    let binding = by_kind(&objs, "ClusterRoleBinding");
    assert_eq!(binding["roleRef"]["name"], roles[0]["metadata"]["name"]);
    let deploy = by_kind(&objs, "Deployment");
    let spec = &deploy["spec"]["template"]["spec"];
    assert_eq!(spec["automountServiceAccountToken"], true);
    assert!(spec["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "--image-pull-secrets"));
    assert!(by_kind(&objs, "NetworkPolicy")["spec"]["egress"]
        .to_string()
        .contains("6443"));
    // Palisade's own scan reports the grant (reading Secrets), as it would anyone's.
    let text = render(&InstallOptions {
        image: PINNED.into(),
        image_pull_secrets: true,
        ..InstallOptions::default()
    })
    .unwrap();
    let loaded = palisade_load::load_str("install.yaml", &text);
    let report = analyze(
        &Inventory::new(loaded.objects),
        InputSummary::default(),
        &Options {
            profile: Some(PssLevel::Restricted),
            ..Options::new("2026-11-23".parse().expect("date"))
        },
    );
    let ids: Vec<&str> = report.findings.iter().map(|f| f.rule_id).collect();
    eprintln!("{ids:?}");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule_id.starts_with("RBAC") && f.message.contains("secrets")),
        "{:#?}",
        report.findings
    );
}

/// A constraint on Namespaces and on a custom resource, in deny; one at Gatekeeper's audit
/// point only; a ValidatingAdmissionPolicy on Deployments (CREATE and DELETE, with a
/// subresource the server does not evaluate).
fn policies_text() -> String {
    format!(
        "{template}---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoPrivilegedByUser
metadata: {{name: no-priv}}
spec:
  enforcementAction: deny
  match:
    scope: Namespaced
    kinds:
    - {{apiGroups: [\"\"], kinds: [Pod, Namespace]}}
    - {{apiGroups: [example.com], kinds: [Widget]}}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sNoPrivilegedByUser
metadata: {{name: audit-only}}
spec:
  enforcementAction: scoped
  scopedEnforcementActions:
  - action: warn
    enforcementPoints: [{{name: audit.gatekeeper.sh}}]
  match:
    kinds: [{{apiGroups: [batch], kinds: [CronJob]}}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: replicas}}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, DELETE], resources: [deployments, deployments/scale], scope: Namespaced}}
    - {{apiGroups: [\"\"], apiVersions: [v1], operations: [DELETE], resources: [services]}}
  validations:
  - expression: \"object.spec.replicas <= 5\"
    message: at most 5 replicas
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: replicas-binding}}
spec:
  policyName: replicas
  validationActions: [Deny]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {{name: max-replicas}}
spec:
  paramKind: {{apiVersion: v1, kind: ConfigMap}}
  matchConstraints:
    resourceRules:
    - {{apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [statefulsets]}}
  validations:
  - expression: \"object.spec.replicas <= int(params.data.max)\"
    message: too many replicas for the limit
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {{name: max-replicas-binding}}
spec:
  policyName: max-replicas
  validationActions: [Deny]
  paramRef: {{name: replica-limit, namespace: default, parameterNotFoundAction: Deny}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: replica-limit, namespace: default}}
data: {{max: \"3\"}}
---
apiVersion: v1
kind: Service
metadata: {{name: unrelated-object, namespace: default}}
spec: {{ports: [{{port: 80}}]}}
---
apiVersion: v1
kind: Secret
metadata: {{name: not-shipped, namespace: default}}
stringData: {{token: do-not-ship-me}}
",
        template = crate::gatekeeper::TEMPLATE
    )
}

#[test]
fn install_with_policies_registers_what_they_match_and_ships_them() {
    use palisade_admission::install::InstallPolicies;
    let loaded = palisade_load::load_str("policies.yaml", &policies_text());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let policies = InstallPolicies::from_objects(&loaded.objects, "cel", "policies.yaml")
        .expect("the policies load");
    let objs = objects(&InstallOptions {
        image: PINNED.into(),
        policies: Some(policies.clone()),
        audit_interval: Some("10m".into()),
        ..InstallOptions::default()
    });
    // The webhook is registered for what the validation-point policies match, with the
    // operations and resources the server evaluates.
    let wh = &by_kind(&objs, "ValidatingWebhookConfiguration")["webhooks"][0];
    let rules = wh["rules"].as_array().unwrap();
    let has = |expected: serde_json::Value| {
        assert!(rules.contains(&expected), "{expected} not in {rules:#?}");
    };
    has(serde_json::json!({
        "apiGroups": [""], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
        "resources": ["namespaces", "pods", "pods/ephemeralcontainers"], "scope": "Namespaced",
    }));
    // A custom resource's plural is not known without discovery: every resource of its group.
    has(serde_json::json!({
        "apiGroups": ["example.com"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
        "resources": ["*"], "scope": "Namespaced",
    }));
    has(serde_json::json!({
        "apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE"],
        "resources": ["deployments"], "scope": "Namespaced",
    }));
    // DELETE only: nothing the server would evaluate.
    assert!(
        !rules
            .iter()
            .any(|r| r["resources"] == serde_json::json!(["services"])
                && r["apiVersions"] == serde_json::json!(["v1"])),
        "{rules:#?}"
    );
    // The audit-only constraint is not registered (CronJobs are, by the built-in rules, with
    // their version).
    assert!(!rules
        .iter()
        .any(|r| r["apiGroups"] == serde_json::json!(["batch"])
            && r["apiVersions"] == serde_json::json!(["*"])));
    // The policies are shipped in a ConfigMap, mounted, and passed to the server.
    let cm = objs
        .iter()
        .find(|o| {
            o["kind"] == "ConfigMap" && o["metadata"]["name"] == "palisade-admission-policies"
        })
        .expect("the policies ConfigMap");
    let shipped = cm["data"]["policies.yaml"].as_str().unwrap();
    assert!(!shipped.contains("do-not-ship-me") && !shipped.contains("not-shipped"));
    // The parameter object of a policy is shipped; an unrelated object is not.
    assert!(shipped.contains("replica-limit"), "{shipped}");
    assert!(!shipped.contains("unrelated-object"), "{shipped}");
    let pod = &by_kind(&objs, "Deployment")["spec"]["template"]["spec"];
    let args: Vec<&str> = pod["containers"][0]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    let i = args
        .iter()
        .position(|a| *a == "--policy")
        .expect("--policy");
    assert_eq!(args[i + 1], "/etc/palisade/policies/policies.yaml");
    assert!(pod["containers"][0]["volumeMounts"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!({"name": "policies", "mountPath": "/etc/palisade/policies", "readOnly": true})));
    assert!(pod["volumes"].as_array().unwrap().contains(
        &serde_json::json!({"name": "policies", "configMap": {"name": "palisade-admission-policies"}})
    ));
    // The server, loading the shipped file, evaluates the policies: a privileged Pod is
    // denied by the constraint, a Deployment with 10 replicas by the policy.
    let evaluator = server_evaluator(shipped, 3);
    let today = crate::util::date("2026-06-01");
    let pod_review = crate::util::review("u1", "CREATE", crate::util::privileged_pod("shop", "p"));
    let out = evaluator
        .review(&serde_json::to_vec(&pod_review).unwrap(), today)
        .unwrap();
    assert_eq!(out.verdict, palisade_admission::Verdict::Denied);
    let deploy = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"replicas": 10, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "registry.example.com/web:1"}]}}}});
    let out = evaluator
        .review(
            &serde_json::to_vec(&crate::util::review("u2", "CREATE", deploy)).unwrap(),
            today,
        )
        .unwrap();
    assert_eq!(out.verdict, palisade_admission::Verdict::Denied);
    assert!(out
        .review
        .response
        .unwrap()
        .result
        .message
        .contains("at most 5 replicas"));
    // The parameter object came along: a StatefulSet above its limit is denied.
    let sts = serde_json::json!({"apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop"},
        "spec": {"replicas": 4, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "registry.example.com/db:1"}]}}}});
    let out = evaluator
        .review(
            &serde_json::to_vec(&crate::util::review("u3", "CREATE", sts)).unwrap(),
            today,
        )
        .unwrap();
    assert_eq!(out.verdict, palisade_admission::Verdict::Denied);
    assert!(out
        .review
        .response
        .unwrap()
        .result
        .message
        .contains("too many replicas for the limit"));
    // The manifests still pass the restricted profile.
    let text = render(&InstallOptions {
        image: PINNED.into(),
        policies: Some(policies),
        ..InstallOptions::default()
    })
    .unwrap();
    let loaded = palisade_load::load_str("install.yaml", &text);
    let report = analyze(
        &Inventory::new(loaded.objects),
        InputSummary::default(),
        &Options {
            profile: Some(PssLevel::Restricted),
            ..Options::new("2026-11-23".parse().expect("date"))
        },
    );
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn install_policies_that_do_not_load_are_errors_with_file_and_line() {
    use palisade_admission::install::InstallPolicies;
    // A constraint without its template.
    let text = "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sMissing\nmetadata: {name: orphan}\nspec: {}\n";
    let loaded = palisade_load::load_str("orphan.yaml", text);
    let errors = InstallPolicies::from_objects(&loaded.objects, "cel", "orphan.yaml").unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.file == "orphan.yaml" && e.line >= 1 && e.message.contains("K8sMissing")),
        "{errors:?}"
    );
    // Nothing to install.
    let loaded = palisade_load::load_str(
        "plain.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
    );
    let errors = InstallPolicies::from_objects(&loaded.objects, "cel", "plain.yaml").unwrap_err();
    assert!(
        errors[0].message.contains("holds no ConstraintTemplate"),
        "{errors:?}"
    );
    // More than a ConfigMap holds: said, with the size.
    let big = format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n\
         metadata: {{name: big}}\nspec:\n  matchConstraints:\n    resourceRules:\n\
         \x20   - {{apiGroups: [\"\"], apiVersions: [v1], operations: [CREATE], resources: [pods]}}\n\
         \x20 validations:\n  - expression: \"true\"\n    message: \"{}\"\n",
        "x".repeat(1_100_000)
    );
    let loaded = palisade_load::load_str("big.yaml", &big);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let errors = InstallPolicies::from_objects(&loaded.objects, "cel", "big.yaml").unwrap_err();
    assert!(
        errors[0].file == "big.yaml" && errors[0].message.contains("more than a ConfigMap holds"),
        "{errors:?}"
    );
}

/// The evaluator `admission serve --policy FILE` builds from the shipped file (loaded as the
/// server loads it: policies and parameter objects from the file), with the policies alone
/// selected; `rules` is how many policy rules the file must make.
fn server_evaluator(shipped: &str, rules: usize) -> palisade_admission::Evaluator {
    use palisade_policy::constraint::EnforcementPoint;
    use palisade_policy::{apply_modes, rules_for, EvalOptions, PolicySet};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policies.yaml");
    std::fs::write(&file, shipped).unwrap();
    let set = PolicySet::load_paths(&[file]);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let loaded = rules_for(&set, EnforcementPoint::Validation, EvalOptions::default());
    assert_eq!(loaded.len(), rules);
    let mut options = Options::new("2026-06-01".parse().unwrap());
    options.select = vec!["gatekeeper".into(), "validatingadmissionpolicy".into()];
    apply_modes(&loaded, &mut options.policy);
    options.extra_rules = palisade_analyze::ExtraRules(
        loaded
            .iter()
            .map(|r| *r as &'static dyn palisade_core::Rule)
            .collect(),
    );
    palisade_admission::Evaluator::new(options, palisade_admission::EvaluatorOptions::default())
}
