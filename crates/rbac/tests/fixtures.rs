//! Table-driven tests: every `tests/fixtures/*.yaml` holds Kubernetes objects plus one
//! `kind: TestCases` document stating the expected answers.

use std::path::{Path, PathBuf};

use palisade_rbac::{GrantRef, Rbac, Reason, Request, Subject, UserInfo};
use serde::Deserialize;
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn load(path: &Path) -> (Vec<Value>, Value) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut objs = Vec::new();
    let mut cases = None;
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let v = Value::deserialize(doc).unwrap();
        if v.is_null() {
            continue;
        }
        if v.get("kind").and_then(Value::as_str) == Some("TestCases") {
            cases = Some(v);
        } else {
            objs.push(v);
        }
    }
    (
        objs,
        cases.unwrap_or_else(|| panic!("{}: no TestCases document", path.display())),
    )
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn list<'a>(v: &'a Value, k: &str) -> Vec<&'a Value> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn request(case: &Value) -> Request {
    let text = s(case, "request").expect("request");
    let (verb, what) = text.split_once(' ').expect("request is 'VERB RESOURCE'");
    let mut r = Request::parse(verb, what).unwrap();
    if let Some(ns) = s(case, "namespace") {
        r = r.in_namespace(ns);
    }
    if let Some(n) = s(case, "name") {
        r = r.named(n);
    }
    r
}

/// `Kind/[ns/]binding -> Kind/[ns/]role#rule`, sorted (duplicates kept).
fn paths(via: &[GrantRef]) -> Vec<String> {
    let mut got: Vec<String> = via
        .iter()
        .map(|g| {
            let b = match &g.binding_namespace {
                Some(ns) => format!("{:?}/{ns}/{}", g.binding_kind, g.binding_name),
                None => format!("{:?}/{}", g.binding_kind, g.binding_name),
            };
            let r = match &g.role_namespace {
                Some(ns) => format!("{:?}/{ns}/{}", g.role_kind, g.role_name),
                None => format!("{:?}/{}", g.role_kind, g.role_name),
            };
            format!("{b} -> {r}#{}", g.rule_index)
        })
        .collect();
    got.sort();
    got
}

fn strings(v: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = v.iter().map(|v| v.as_str().unwrap().to_string()).collect();
    out.sort();
    out
}

fn run_fixture(path: &Path) -> usize {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let (objs, tc) = load(path);
    let rbac = Rbac::from_objects(&objs);
    assert!(
        rbac.skipped.is_empty(),
        "{name}: skipped {:?}",
        rbac.skipped
    );
    let mut checks = 0;

    if let Some(agg) = tc.get("aggregated_rules").and_then(Value::as_object) {
        for (role, n) in agg {
            let r = rbac
                .role(palisade_rbac::RoleKind::ClusterRole, None, role)
                .unwrap_or_else(|| panic!("{name}: no ClusterRole {role}"));
            assert_eq!(
                r.rules.len() as u64,
                n.as_u64().unwrap(),
                "{name}: aggregated rules of {role}: {:?}",
                r.rules
            );
            checks += 1;
        }
    }

    for case in list(&tc, "cases") {
        let subject = Subject::parse(s(case, "subject").unwrap());
        let req = request(case);
        let extra: Vec<&str> = list(case, "groups")
            .iter()
            .filter_map(|g| g.as_str())
            .collect();
        let d = if extra.is_empty() {
            rbac.can(&subject, &req)
        } else {
            let mut u = UserInfo::from_subject(&subject);
            u.groups.extend(extra.iter().map(|g| g.to_string()));
            rbac.authorize(&u, &req)
        };
        let ctx = format!("{name}: {subject} {req}");
        match s(case, "expect").unwrap() {
            "allow" => {
                assert!(d.allowed, "{ctx}: expected allow, got {d:?}");
                assert_eq!(d.reason, Reason::RbacGrant, "{ctx}");
                assert!(!d.via.is_empty(), "{ctx}");
            }
            "deny" => {
                assert!(!d.allowed, "{ctx}: expected deny, got {d:?}");
                assert_eq!(d.reason, Reason::NoMatchingRule, "{ctx}");
            }
            "superuser" => {
                assert!(d.allowed, "{ctx}");
                assert_eq!(d.reason, Reason::SuperuserGroup, "{ctx}");
            }
            other => panic!("{ctx}: bad expect {other}"),
        }
        if let Some(via) = case.get("via").and_then(Value::as_array) {
            assert_eq!(paths(&d.via), strings(via), "{ctx}: via");
        }
        checks += 1;
    }

    for case in list(&tc, "who_can") {
        let req = request(case);
        let res = rbac.who_can(&req);
        let ctx = format!("{name}: who-can {req}");
        // Every subject once, every path once under it.
        let mut subjects: Vec<&Subject> = res.iter().map(|g| &g.subject).collect();
        subjects.sort();
        subjects.dedup();
        assert_eq!(subjects.len(), res.len(), "{ctx}: a subject listed twice");
        for g in &res {
            let mut p = g.via.clone();
            p.sort();
            p.dedup();
            assert_eq!(
                p.len(),
                g.via.len(),
                "{ctx}: a path listed twice for {}",
                g.subject
            );
        }
        if let Some(n) = case.get("subjects").and_then(Value::as_u64) {
            assert_eq!(res.len() as u64, n, "{ctx}: subjects {res:#?}");
            checks += 1;
        }
        if let Some(want) = case.get("paths").and_then(Value::as_object) {
            for (subj, via) in want {
                let subj = Subject::parse(subj);
                let hit = res.iter().find(|g| g.subject == subj);
                let got = hit.map(|g| paths(&g.via)).unwrap_or_default();
                assert_eq!(
                    got,
                    strings(via.as_array().unwrap()),
                    "{ctx}: paths of {subj}"
                );
                checks += 1;
            }
        }
        assert!(
            res.iter()
                .any(|g| g.superuser && g.subject == Subject::group("system:masters")),
            "{ctx}: system:masters missing"
        );
        for inc in list(case, "includes") {
            let subj = Subject::parse(inc.as_str().unwrap());
            let hit = res.iter().find(|g| g.subject == subj);
            assert!(hit.is_some(), "{ctx}: expected {subj} in {res:#?}");
            let hit = hit.unwrap();
            assert!(
                hit.superuser || !hit.via.is_empty(),
                "{ctx}: {subj} without path"
            );
            // every reported grant must agree with `can`
            if !hit.superuser {
                assert!(
                    rbac.can(&subj, &req).allowed,
                    "{ctx}: who-can/can disagree on {subj}"
                );
            }
            checks += 1;
        }
        for exc in list(case, "excludes") {
            let subj = Subject::parse(exc.as_str().unwrap());
            assert!(
                !res.iter().any(|g| g.subject == subj),
                "{ctx}: did not expect {subj}"
            );
            checks += 1;
        }
    }

    let subject_filter = |v: &Value| Subject::parse(s(v, "subject").unwrap());
    if tc.get("risks_include").is_some() || tc.get("risks_exclude").is_some() {
        let risks = rbac.risks();
        for inc in list(&tc, "risks_include") {
            let subj = subject_filter(inc);
            let kind = s(inc, "kind").unwrap();
            let ns = s(inc, "namespace");
            assert!(
                risks.iter().any(|r| r.subject == subj
                    && format!("{:?}", r.kind) == kind
                    && r.namespace.as_deref() == ns
                    && !r.grants.is_empty()),
                "{name}: expected risk {kind} for {subj} in {ns:?}; got {:#?}",
                risks
                    .iter()
                    .filter(|r| r.subject == subj)
                    .collect::<Vec<_>>()
            );
            checks += 1;
        }
        for exc in list(&tc, "risks_exclude") {
            let subj = subject_filter(exc);
            let kind = s(exc, "kind");
            assert!(
                !risks
                    .iter()
                    .any(|r| r.subject == subj && kind.is_none_or(|k| format!("{:?}", r.kind) == k)),
                "{name}: unexpected risk {kind:?} for {subj}"
            );
            checks += 1;
        }
    }
    if tc.get("paths_include").is_some() || tc.get("paths_exclude").is_some() {
        let paths = rbac.escalation_paths();
        for p in &paths {
            assert!(!p.steps.is_empty() && p.steps.iter().all(|s| !s.action.is_empty()));
        }
        for inc in list(&tc, "paths_include") {
            let subj = subject_filter(inc);
            let tech = s(inc, "technique").unwrap();
            let target = s(inc, "target").map(Subject::parse);
            assert!(
                paths.iter().any(|p| p.subject == subj
                    && format!("{:?}", p.technique) == tech
                    && (target.is_none() || p.target == target)),
                "{name}: expected path {tech} for {subj}; got {:#?}",
                paths
                    .iter()
                    .filter(|p| p.subject == subj)
                    .collect::<Vec<_>>()
            );
            checks += 1;
        }
        for exc in list(&tc, "paths_exclude") {
            let subj = subject_filter(exc);
            assert!(
                !paths.iter().any(|p| p.subject == subj),
                "{name}: unexpected path for {subj}: {:#?}",
                paths
                    .iter()
                    .filter(|p| p.subject == subj)
                    .collect::<Vec<_>>()
            );
            checks += 1;
        }
    }

    if let Some(want) = tc.get("missing_service_accounts").and_then(Value::as_array) {
        let mut got: Vec<String> = rbac
            .bindings_to_missing_service_accounts()
            .iter()
            .map(|b| {
                format!(
                    "{}/{}",
                    b.subject.namespace.clone().unwrap_or_default(),
                    b.subject.name
                )
            })
            .collect();
        got.sort();
        got.dedup();
        let want: Vec<String> = want
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{name}: missing service accounts");
        checks += 1;
    }
    if let Some(want) = tc.get("anonymous_bindings").and_then(Value::as_array) {
        let got: Vec<String> = rbac
            .anonymous_bindings()
            .iter()
            .map(|b| b.binding_name.clone())
            .collect();
        let want: Vec<String> = want
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{name}: anonymous bindings");
        checks += 1;
    }
    if let Some(want) = tc.get("default_sa_bindings").and_then(Value::as_array) {
        let got: Vec<String> = rbac
            .default_service_account_bindings()
            .iter()
            .map(|b| b.binding_name.clone())
            .collect();
        let want: Vec<String> = want
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, want, "{name}: default SA bindings");
        checks += 1;
    }
    assert!(checks > 0, "{name}: no checks");
    checks
}

#[test]
fn fixtures() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "fixtures missing");
    for f in files {
        run_fixture(&f);
    }
}

#[test]
fn malformed_objects_are_skipped_not_fatal() {
    let objs: Vec<Value> = vec![
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"namespace": "x"}}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r"}, "rules": "nope"}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "b", "namespace": "x"}, "roleRef": {"kind": "Nope", "name": "r"}}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"}}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "c"}, "roleRef": {"kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "Robot", "name": "x"}]}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "d"}, "roleRef": {"kind": "ClusterRole", "name": "r"}, "subjects": [{"kind": "ServiceAccount", "name": "x"}]}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "agg"},
            "aggregationRule": {"clusterRoleSelectors": [{"matchExpressions": [{"key": "a", "operator": "In"}]}]}}),
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ignored"}}),
        serde_json::json!(42),
        serde_json::json!({"kind": "List", "items": [
            {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "ok"}, "rules": []}
        ]}),
    ];
    let rbac = Rbac::from_objects(&objs);
    assert_eq!(rbac.skipped.len(), 7, "{:?}", rbac.skipped);
    // `ok`, and the bootstrap `cluster-admin` every API server has.
    let names: Vec<&str> = rbac.roles().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["ok", "cluster-admin"]);
}

#[test]
fn aggregation_cycle_terminates() {
    let objs: Vec<Value> = vec![
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "a", "labels": {"x": "1"}},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"y": "1"}}]}}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "b", "labels": {"y": "1"}},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "1"}}, {"matchLabels": {"z": "1"}}]}}),
        serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "c", "labels": {"z": "1"}},
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ];
    let rbac = Rbac::from_objects(&objs);
    let a = rbac
        .role(palisade_rbac::RoleKind::ClusterRole, None, "a")
        .unwrap();
    let b = rbac
        .role(palisade_rbac::RoleKind::ClusterRole, None, "b")
        .unwrap();
    assert_eq!(a.rules.len(), 1);
    assert_eq!(b.rules.len(), 1);
    assert!(rbac.aggregation_converged());
}

/// Optional sanity check against Checkov's RBAC fixtures: every ClusterRole/Role there
/// parses, and Checkov's "FAILED" escalate/bind/webhook/CSR examples produce the
/// corresponding risk kind when bound to a test user. Skipped when the corpus is absent.
#[test]
#[allow(clippy::print_stderr)]
fn checkov_corpus_sanity() {
    let Some(base) = palisade_testkit::corpus("checkov-k8s/tests/kubernetes/checks") else {
        return;
    };
    let checks = [
        ("example_RbacEscalateRoles", "Escalate"),
        ("example_RbacBindRoleBindings", "Bind"),
        ("example_RbacControlWebhooks", "WebhookConfigWrite"),
        (
            "example_RbacApproveCertificateSigningRequests",
            "CsrApprove",
        ),
    ];
    let mut seen = 0;
    for (dir, kind) in checks {
        let Ok(entries) = std::fs::read_dir(base.join(dir)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            let fname = p.file_name().unwrap().to_string_lossy().to_string();
            if !fname.ends_with(".yaml") && !fname.ends_with(".yml") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            let mut objs = Vec::new();
            for doc in serde_yaml_ng::Deserializer::from_str(&text) {
                if let Ok(v) = Value::deserialize(doc) {
                    if !v.is_null() {
                        objs.push(v);
                    }
                }
            }
            // bind every (cluster)role to a probe user through a ClusterRoleBinding
            let mut extra = Vec::new();
            for o in &objs {
                if o.get("kind").and_then(Value::as_str) == Some("ClusterRole") {
                    let n = o
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    extra.push(serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                        "metadata": {"name": format!("probe-{n}")},
                        "roleRef": {"kind": "ClusterRole", "name": n},
                        "subjects": [{"kind": "User", "name": format!("probe-{n}")}]}));
                }
            }
            objs.extend(extra);
            let rbac = Rbac::from_objects(&objs);
            let risks = rbac.risks();
            for r in rbac
                .roles()
                .iter()
                .filter(|r| r.kind == palisade_rbac::RoleKind::ClusterRole)
                // The bootstrap cluster-admin the engine adds when a file does not define it.
                .filter(|r| {
                    r.name != "cluster-admin"
                        || objs
                            .iter()
                            .any(|o| o["metadata"]["name"] == "cluster-admin")
                })
            {
                let user = Subject::user(&format!("probe-{}", r.name));
                let has = risks.iter().any(|x| {
                    x.subject == user
                        && (format!("{:?}", x.kind) == kind
                            || format!("{:?}", x.kind) == "ClusterAdmin")
                });
                let failed = r.name.to_ascii_lowercase().contains("fail")
                    || fname.to_ascii_lowercase().contains("fail");
                let passed = r.name.to_ascii_lowercase().contains("pass")
                    || fname.to_ascii_lowercase().contains("pass");
                // Known, deliberate disagreement: Checkov flags `bind` on `rolebindings`,
                // but Kubernetes checks `bind` against the referenced role resource
                // (roles/clusterroles), so that verb on rolebindings grants nothing.
                let known_disagreement =
                    dir == "example_RbacBindRoleBindings" && fname == "clusterrole-failed-1.yaml";
                if known_disagreement {
                    assert!(!has, "{fname}: bind on rolebindings is not a bind grant");
                    seen += 1;
                } else if failed && !passed {
                    assert!(has, "{fname}: ClusterRole {} should have {kind}", r.name);
                    seen += 1;
                } else if passed && !failed {
                    let exact = risks
                        .iter()
                        .any(|x| x.subject == user && format!("{:?}", x.kind) == kind);
                    assert!(
                        !exact,
                        "{fname}: ClusterRole {} should not have {kind}",
                        r.name
                    );
                    seen += 1;
                }
            }
        }
    }
    eprintln!("checkov sanity: {seen} ClusterRoles confirmed");
}
