//! The staged file scan (per-object rules as each file is read, objects then cut down to what
//! the remaining rules read) gives the report the analysis of the whole objects gives: same
//! findings in the same order, same locations, same suppressions and notes.
//!
//! Run on the bundled examples and, when present, on the real-world manifests of
//! `shared/corpus` (found by walking up from this crate).

#![allow(clippy::print_stderr)]

use palisade_analyze::{analyze, InputSummary, Options, Staged};
use palisade_core::{Inventory, Object};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

fn corpus(name: &str) -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/corpus").join(name))
        .find(|p| p.is_dir())
}

fn options(select: &[&str]) -> Options {
    let mut opts = Options::new("2026-06-01".parse().unwrap());
    opts.select = select.iter().map(|s| (*s).to_owned()).collect();
    opts
}

/// Compares both ways of scanning `paths`; returns the staged objects and the finding count.
fn compare(paths: &[PathBuf], opts: &Options) -> (Vec<Object>, usize) {
    let whole = palisade_load::load_paths(paths);
    assert!(!whole.objects.is_empty(), "nothing loaded from {paths:?}");
    let inventory = Inventory::new(whole.objects);
    let expected = analyze(&inventory, InputSummary::default(), opts);

    let staged = Staged::new(opts, &[]);
    let check = |l: &mut palisade_load::Loaded| staged.check_file(&mut l.objects, opts);
    let (loaded, parts) = palisade_load::load_paths_each(paths, &Default::default(), &check);
    let mut early = Vec::new();
    for (offset, part) in parts {
        early.extend(part.into_iter().map(|mut f| {
            f.object.0 += offset;
            f
        }));
    }
    let mut cut = Inventory::new(loaded.objects);
    assert_eq!(cut.len(), inventory.len());
    let got = staged.analyze(&mut cut, early, InputSummary::default(), opts);
    // The remaining rules give back the trees of the packed objects they read; the policy
    // reads annotations without unpacking.
    let held: Vec<String> = cut
        .objects()
        .iter()
        .filter(|o| o.is_packed() && o.holds_tree())
        .map(|o| format!("{} {}", o.kind, o.name))
        .collect();
    assert!(held.is_empty(), "trees kept after the scan: {held:?}");
    assert_eq!(got.findings.len(), expected.findings.len());
    for (g, e) in got.findings.iter().zip(&expected.findings) {
        assert_eq!(g, e);
    }
    assert_eq!(got.suppressed, expected.suppressed);
    assert_eq!(got.notes, expected.notes);
    (cut.into_objects(), expected.findings.len())
}

/// Writes `docs` as one multi-document YAML file `name` in `dir`.
fn write_documents(dir: &std::path::Path, name: &str, docs: &[serde_json::Value]) {
    let yaml = docs
        .iter()
        .map(|d| serde_yaml_ng::to_string(d).unwrap())
        .collect::<Vec<_>>()
        .join("---\n");
    std::fs::write(dir.join(name), yaml).unwrap();
}

fn has_container_field(o: &Object, field: &str) -> bool {
    palisade_core::PodTemplate::of(o)
        .is_some_and(|p| p.containers().any(|c| c.get(field).is_some()))
}

#[test]
fn the_examples_give_the_same_report() {
    let paths = [
        root().join("examples/insecure"),
        root().join("examples/hardened"),
    ];
    let (objects, findings) = compare(&paths, &options(&[]));
    assert!(findings > 0);
    // The objects were cut down: a ConfigMap keeps no data (no later rule reads it), a
    // Deployment's containers keep no resources (no later rule reads them).
    let whole = palisade_load::load_paths(&paths);
    let kinds_with = |objs: &[Object], kind: &str, test: &dyn Fn(&Object) -> bool| {
        objs.iter().filter(|o| o.kind == kind && test(o)).count()
    };
    let resources = |o: &Object| has_container_field(o, "resources");
    assert!(kinds_with(&whole.objects, "Deployment", &resources) > 0);
    assert_eq!(kinds_with(&objects, "Deployment", &resources), 0);
    // An environment variable that names no Secret is gone (null, keeping the others' index),
    // and so is every security setting but `privileged`.
    let any_container = |o: &Object, test: &dyn Fn(&serde_json::Value) -> bool| {
        palisade_core::PodTemplate::of(o).is_some_and(|p| {
            p.containers().any(|c| {
                c.get("env")
                    .and_then(|e| e.as_array())
                    .is_some_and(|e| e.iter().any(test))
            })
        })
    };
    let plain_env = |o: &Object| any_container(o, &|e| e.get("value").is_some());
    assert!(kinds_with(&whole.objects, "Deployment", &plain_env) > 0);
    assert_eq!(kinds_with(&objects, "Deployment", &plain_env), 0);
    let secret_env =
        |o: &Object| any_container(o, &|e| e.pointer("/valueFrom/secretKeyRef").is_some());
    assert_eq!(
        kinds_with(&whole.objects, "Deployment", &secret_env),
        kinds_with(&objects, "Deployment", &secret_env)
    );
    let settings = |o: &Object| {
        palisade_core::PodTemplate::of(o).is_some_and(|p| {
            p.containers().any(|c| {
                c.get("securityContext")
                    .and_then(|s| s.as_object())
                    .is_some_and(|s| s.keys().any(|k| k != "privileged"))
            })
        })
    };
    assert!(kinds_with(&whole.objects, "Deployment", &settings) > 0);
    assert_eq!(kinds_with(&objects, "Deployment", &settings), 0);
    let data = |o: &Object| o.pointer("/data").is_some();
    if kinds_with(&whole.objects, "ConfigMap", &data) > 0 {
        assert_eq!(kinds_with(&objects, "ConfigMap", &data), 0);
    }
}

#[test]
fn selections_give_the_same_report() {
    let paths = [root().join("examples/insecure")];
    for select in [&["POD001"][..], &["SEC"], &["NET", "RBAC"], &["REL", "IMG"]] {
        compare(&paths, &options(select));
    }
}

#[test]
fn real_world_manifests_give_the_same_report() {
    let Some(dir) = corpus("real-manifests") else {
        eprintln!("shared/corpus/real-manifests is absent: skipped");
        return;
    };
    for name in ["argo-cd", "kube-prometheus", "istio", "rook", "sock-shop"] {
        let p = dir.join(name);
        if p.is_dir() {
            compare(&[p], &options(&[]));
        }
    }
}

#[test]
fn last_applied_configuration_keeps_the_applied_version_only() {
    // Objects as `kubectl apply` leaves them: the annotation repeats the object. The version
    // rules read the applied `apiVersion` from it; nothing else of it is kept.
    let dir = std::env::temp_dir().join(format!("palisade-staged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let applied = |api: &str, kind: &str| {
        serde_json::json!({
            "apiVersion": api, "kind": kind,
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"rules": [{"host": "shop.example.com"}], "padding": "x".repeat(2000)}
        })
        .to_string()
    };
    let doc = |api: &str, kind: &str, applied_api: &str| {
        serde_json::json!({
            "apiVersion": api, "kind": kind,
            "metadata": {"name": "web", "namespace": "shop", "annotations": {
                palisade_core::LAST_APPLIED: applied(applied_api, kind),
                "team": "a"
            }},
            "spec": {"rules": [{"host": "shop.example.com"}]}
        })
    };
    write_documents(
        &dir,
        "applied.yaml",
        &[
            doc("networking.k8s.io/v1", "Ingress", "extensions/v1beta1"),
            doc("networking.k8s.io/v1", "Ingress", "networking.k8s.io/v1"),
        ],
    );
    let mut opts = options(&["VER005", "VER006", "POD001"]);
    opts.target_version = Some(33);
    let (objects, findings) = compare(std::slice::from_ref(&dir), &opts);
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        findings > 0,
        "the version applied as extensions/v1beta1 is reported"
    );
    let kept: Vec<&str> = objects
        .iter()
        .filter_map(|o| o.annotation(palisade_core::LAST_APPLIED))
        .collect();
    assert_eq!(
        kept,
        [
            r#"{"apiVersion":"extensions/v1beta1"}"#,
            r#"{"apiVersion":"networking.k8s.io/v1"}"#
        ]
    );
    // Annotations no later rule reads are not kept.
    assert!(objects.iter().all(|o| o.annotation("team").is_none()));
}

#[test]
fn spread_constraints_are_kept_of_the_kinds_the_spread_rule_judges() {
    // Two replicas without spread are reported (REL007) from the cut Deployment; a Pod's and a
    // DaemonSet's anti-affinity is read by no later rule and not kept.
    let dir = std::env::temp_dir().join(format!("palisade-spread-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let anti = serde_json::json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}});
    let spec = |affinity: bool| {
        let mut s = serde_json::json!({"containers": [{"name": "c", "image": "nginx:1.27"}]});
        if affinity {
            s["affinity"] = anti.clone();
            s["topologySpreadConstraints"] = serde_json::json!([{"maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app": "web"}}}]);
        }
        s
    };
    let workload = |kind: &str, name: &str, affinity: bool| {
        let mut spec = serde_json::json!({"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec(affinity)}});
        if kind == "Deployment" {
            spec["replicas"] = 2.into();
        }
        serde_json::json!({"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": "shop"}, "spec": spec})
    };
    let docs = [
        workload("Deployment", "spread", true),
        workload("Deployment", "bunched", false),
        workload("DaemonSet", "agent", true),
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "one", "namespace": "shop", "labels": {"app": "web"}},
            "spec": spec(true)}),
    ];
    write_documents(&dir, "spread.yaml", &docs);
    let (objects, findings) = compare(std::slice::from_ref(&dir), &options(&["REL007"]));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(findings, 1, "the bunched Deployment is reported");
    let spread_of = |name: &str| {
        let o = objects.iter().find(|o| o.name == name).unwrap();
        let p = palisade_core::PodTemplate::of(o).unwrap();
        (
            p.get("affinity").is_some(),
            p.get("topologySpreadConstraints").is_some(),
        )
    };
    assert_eq!(spread_of("spread"), (true, true));
    assert_eq!(spread_of("agent"), (false, false));
    assert_eq!(spread_of("one"), (false, false));
}

/// Every rule's pass and fail fixtures, each file on its own: what the cut keeps is what the
/// rules that run late read, field by field.
#[test]
fn rule_fixtures_give_the_same_report() {
    let dir = root().join("crates/rules/fixtures");
    let mut files = 0;
    for rule in std::fs::read_dir(&dir).unwrap() {
        let rule = rule.unwrap().path();
        for f in std::fs::read_dir(&rule).unwrap() {
            let f = f.unwrap().path();
            let yaml = f
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
            if !yaml
                || palisade_load::load_paths(std::slice::from_ref(&f))
                    .objects
                    .is_empty()
            {
                continue;
            }
            // Shown when the comparison fails.
            eprintln!("{}", f.display());
            compare(std::slice::from_ref(&f), &options(&[]));
            files += 1;
        }
    }
    assert!(files > 250, "only {files} fixture files read");
}

/// A snapshot is judged a few hundred objects at a time: the same report as whole, across
/// parts, with owned Pods folded and unreadable kinds kept.
#[test]
fn snapshots_give_the_same_report() {
    let whole = palisade_load::load_paths(&[root().join("examples/insecure")]);
    let mut objects: Vec<serde_json::Value> = Vec::new();
    // Copies under other names, past the size of one part.
    let copies = 1200 / whole.objects.len().max(1) + 1;
    for copy in 0..copies {
        for o in &whole.objects {
            let mut v = o.value().clone();
            if let Some(n) = v.pointer_mut("/metadata/name") {
                *n = format!("{}-{copy}", o.name).into();
            }
            objects.push(v);
        }
    }
    objects.push(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-rs"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    }));
    objects.push(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1-x", "namespace": "shop", "labels": {"app": "web"},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                          "name": "web-1", "uid": "u-rs", "controller": true}]},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]}
    }));
    assert!(objects.len() > 1100, "{} objects", objects.len());
    let dir = std::env::temp_dir().join(format!("palisade-staged-snap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = dir.join("cluster.snapshot");
    let header = palisade_load::snapshot::Header {
        format: palisade_load::snapshot::FORMAT.to_owned(),
        context: "t".into(),
        server: "https://127.0.0.1".into(),
        server_version: Some("v1.32.13".into()),
        created: "2026-11-23T16:00:00Z".into(),
        palisade_version: "test".into(),
        objects: 0,
        digest: String::new(),
        unreadable: vec![palisade_load::snapshot::Unread {
            resource: "secrets".into(),
            kind: "Secret".into(),
            status: 403,
            message: "forbidden".into(),
        }],
    };
    palisade_load::snapshot::write(&snap, header, &objects).unwrap();
    let (kept, findings) = compare(std::slice::from_ref(&snap), &options(&[]));
    let a = palisade_load::load_paths(std::slice::from_ref(&snap));
    let (b, parts) =
        palisade_load::load_paths_each(std::slice::from_ref(&snap), &Default::default(), &|_| ());
    std::fs::remove_dir_all(&dir).ok();
    assert!(parts.len() > 1, "one part only");
    assert_eq!(a.warnings, b.warnings);
    assert_eq!(a.unreadable, b.unreadable);
    assert_eq!(a.warnings.len(), 1);
    assert_eq!(
        (
            a.stats.files,
            a.stats.documents,
            a.stats.objects,
            a.stats.owned_folded
        ),
        (
            b.stats.files,
            b.stats.documents,
            b.stats.objects,
            b.stats.owned_folded
        )
    );
    assert_eq!(b.stats.owned_folded, 1);
    assert!(findings > 1000, "{findings} findings");
    // The owned Pod was folded into its ReplicaSet, in both.
    assert_eq!(kept.len(), objects.len() - 1);
}

#[test]
fn environment_and_volumes_are_kept_only_where_they_name_a_secret() {
    // A SecretProviderClass makes the external-store rule (SEC007) judge the namespace: the
    // Secret a variable names and the Secret a volume mounts are reported from the cut
    // objects; variables and volumes that name no Secret, and a security context with
    // nothing the later rules read, are not kept at all.
    let dir = std::env::temp_dir().join(format!("palisade-env-cut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deployment = |name: &str, secret_env: bool| {
        let mut env = vec![serde_json::json!({"name": "MODE", "value": "fast"})];
        if secret_env {
            env.push(serde_json::json!({"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "api-token", "key": "t"}}}));
        }
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": name}},
              "template": {"metadata": {"labels": {"app": name}}, "spec": {
                "containers": [{"name": "c", "image": "nginx:1.27", "env": env,
                  "securityContext": {"runAsNonRoot": true}}],
                "volumes": [{"name": "cache", "emptyDir": {}},
                  {"name": "tls", "secret": {"secretName": if secret_env { "tls" } else { "synced" },
                    "items": [{"key": "tls.crt", "path": "tls.crt"}], "defaultMode": 420}}]}}}})
    };
    let docs = [
        serde_json::json!({"apiVersion": "secrets-store.csi.x-k8s.io/v1", "kind": "SecretProviderClass",
            "metadata": {"name": "vault", "namespace": "shop"},
            "spec": {"provider": "azure", "secretObjects": [{"secretName": "synced", "type": "Opaque"}]}}),
        deployment("uses-secrets", true),
        deployment("plain", false),
    ];
    write_documents(&dir, "env.yaml", &docs);
    let (objects, findings) = compare(std::slice::from_ref(&dir), &options(&["SEC007"]));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        findings, 2,
        "the variable's and the volume's Secrets are reported"
    );
    let spec_of = |name: &str| {
        let o = objects.iter().find(|o| o.name == name).unwrap();
        o.value().pointer("/spec/template/spec").unwrap().clone()
    };
    let kept = spec_of("uses-secrets");
    assert_eq!(
        kept.pointer("/containers/0/env").unwrap(),
        &serde_json::json!([null, {"valueFrom": {"secretKeyRef": {"name": "api-token", "key": "t"}}}])
    );
    assert_eq!(
        kept.pointer("/volumes").unwrap(),
        &serde_json::json!([null, {"name": "tls", "secret": {"secretName": "tls"}}])
    );
    let plain = spec_of("plain");
    assert!(plain.pointer("/containers/0/env").is_none(), "{plain}");
    assert!(
        plain.pointer("/containers/0/securityContext").is_none(),
        "{plain}"
    );
    assert_eq!(
        plain.pointer("/volumes").unwrap(),
        &serde_json::json!([null, {"name": "tls", "secret": {"secretName": "synced"}}])
    );
}

#[test]
fn annotation_exceptions_hold_in_the_staged_scan() {
    // `palisade.dev/ignore` suppresses a late rule's finding (REL003, a missing disruption
    // budget) and an early rule's (REL001) when the policy allows it, in the staged scan as
    // on the whole objects (`compare`): the cut keeps Palisade's annotations.
    let dir = std::env::temp_dir().join(format!("palisade-ignore-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let deployment = |name: &str, ignore: Option<&str>| {
        let mut d = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop",
                "annotations": {"team.example.com/owner": "web", "kubernetes.io/description": "x"}},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
              "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}});
        if let Some(rules) = ignore {
            d["metadata"]["annotations"]["palisade.dev/ignore"] = rules.into();
            d["metadata"]["annotations"]["palisade.dev/ignore-reason"] = "load test".into();
        }
        d
    };
    let docs = [
        deployment("kept", None),
        deployment("budgetless", Some("REL003")),
        deployment("ignored", Some("all")),
    ];
    write_documents(&dir, "apps.yaml", &docs);
    let mut opts = options(&["REL001", "REL003"]);
    opts.policy.allow_annotation_exceptions = true;
    let whole = palisade_load::load_paths(std::slice::from_ref(&dir));
    let report = analyze(
        &Inventory::new(whole.objects),
        InputSummary::default(),
        &opts,
    );
    let (_, findings) = compare(std::slice::from_ref(&dir), &opts);
    std::fs::remove_dir_all(&dir).ok();
    let names = |fs: &[palisade_core::ReportFinding]| {
        fs.iter()
            .map(|f| format!("{} {}", f.rule_id, f.object.name))
            .collect::<Vec<_>>()
    };
    assert_eq!(findings, 3);
    assert_eq!(
        names(&report.findings),
        ["REL003 kept", "REL001 kept", "REL001 budgetless"]
    );
    assert_eq!(
        names(&report.suppressed),
        ["REL003 budgetless", "REL003 ignored", "REL001 ignored"]
    );
}
