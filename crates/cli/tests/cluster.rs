//! End-to-end cluster scans, snapshots, diffs and exports against the replay server (recorded
//! kube-apiserver v1.32 responses served over HTTPS), with the real kube-rs client and, for
//! the export round trip, the real kubectl.

#![allow(clippy::print_stderr)]

mod common;
use common::{files_under, json, palisade, recordings, serve, text};
use palisade_replay::{Config, CustomKind, Replay};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

const FORBIDDEN: &str = "/apis/policy/v1/poddisruptionbudgets";

/// A made-up custom resource the rules know (deprecated pod-managed identity), served slowly.
fn azure_identity() -> CustomKind {
    CustomKind {
        group: "aadpodidentity.k8s.io".into(),
        version: "v1".into(),
        kind: "AzureIdentity".into(),
        plural: "azureidentities".into(),
        items: vec![serde_json::json!({
            "apiVersion": "aadpodidentity.k8s.io/v1", "kind": "AzureIdentity",
            "metadata": {"name": "legacy-identity", "namespace": "legacy", "uid": "a1", "resourceVersion": "9"},
            "spec": {"type": 0, "resourceID": "/subscriptions/x/resourcegroups/y/providers/Microsoft.ManagedIdentity/userAssignedIdentities/z", "clientID": "00000000-0000-0000-0000-000000000000"}
        })],
    }
}

fn cluster_config(rec: PathBuf) -> Config {
    Config {
        recordings: rec,
        forbid: vec![FORBIDDEN.to_owned()],
        expire_once: vec!["/api/v1/configmaps".to_owned()],
        custom: vec![azure_identity()],
        // Slow kinds: the lists overlap, so the concurrency bound is exercised.
        delays: vec![
            ("/api/v1/namespaces".to_owned(), Duration::from_millis(300)),
            (
                "/apis/apps/v1/deployments".to_owned(),
                Duration::from_millis(300),
            ),
            ("/api/v1/services".to_owned(), Duration::from_millis(300)),
            (
                "/apis/aadpodidentity.k8s.io/v1/azureidentities".to_owned(),
                Duration::from_millis(500),
            ),
        ],
        ..Config::default()
    }
}

/// (rule, object, path, message) of every finding.
fn finding_keys(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {} {}",
                f["ruleId"], f["object"], f["path"], f["message"]
            )
        })
        .collect()
}

fn owned_names(rec: &Path, list: &str) -> BTreeSet<String> {
    palisade_replay::recorded_items(rec, list)
        .unwrap()
        .iter()
        .filter(|p| p.pointer("/metadata/ownerReferences").is_some())
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn a_secret_value(rec: &Path) -> String {
    palisade_replay::recorded_items(rec, "/api/v1/secrets")
        .unwrap()
        .iter()
        .find_map(|s| {
            s["data"]
                .as_object()?
                .values()
                .find_map(|v| v.as_str().filter(|v| v.len() > 12).map(str::to_owned))
        })
        .unwrap()
}

fn live_scan(kc: &Path) -> Output {
    palisade(
        &[
            "scan",
            "--cluster",
            "--page-size",
            "50",
            "--concurrency",
            "4",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--today",
            "2026-11-23",
        ],
        kc,
    )
}

#[test]
fn live_scan_reports_findings_without_locations_and_the_forbidden_kind() {
    let Some(rec) = recordings() else { return };
    let (srv, _dir, kc) = serve(cluster_config(rec.clone()));

    let o = live_scan(&kc);
    // PodDisruptionBudgets are forbidden: a partial scan (exit 3), and the rules that need
    // them are listed as not evaluated instead of reporting workloads without a budget.
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let report = json(&o);
    let skipped: Vec<&str> = report["skippedRules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["ruleId"].as_str().unwrap())
        .collect();
    assert!(skipped.contains(&"REL003"), "{skipped:?}");
    assert!(report["skippedRules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["unreadableKinds"] == serde_json::json!(["PodDisruptionBudget"])));
    assert_eq!(report["unreadable"][0]["kind"], "PodDisruptionBudget");
    assert!(report["input"]["ownedFolded"].as_u64().unwrap() > 50);
    let findings = report["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .all(|f| !skipped.contains(&f["ruleId"].as_str().unwrap())));
    assert!(findings.len() > 20, "{findings:?}");
    assert!(findings.iter().all(|f| f.get("location").is_none()));
    assert!(
        findings.iter().any(|f| f["ruleId"] == "POD001"
            && f["object"]["kind"] == "Pod"
            && f["object"]["namespace"] == "legacy"
            && f["object"]["name"] == "privileged-debug"),
        "no POD001 on legacy/privileged-debug"
    );
    // Owned Pods are reported as their owners.
    let owned = owned_names(&rec, "/api/v1/pods");
    let owned_rs = owned_names(&rec, "/apis/apps/v1/replicasets");
    assert!(!owned.is_empty() && !owned_rs.is_empty());
    for f in findings {
        if f["object"]["kind"] == "Pod" {
            assert!(
                !owned.contains(f["object"]["name"].as_str().unwrap()),
                "owned pod reported: {f}"
            );
        }
        if f["object"]["kind"] == "ReplicaSet" {
            assert!(
                !owned_rs.contains(f["object"]["name"].as_str().unwrap()),
                "a Deployment's ReplicaSet reported: {f}"
            );
        }
    }
    // The forbidden kind is listed with its reason; the rest was read.
    let warnings = report["input"]["warnings"]
        .as_array()
        .or_else(|| report["warnings"].as_array());
    let all = format!("{report}");
    assert!(
        all.contains("cluster/poddisruptionbudgets.policy"),
        "{:?}",
        warnings
    );
    assert!(all.contains("403"), "{all}");
    assert!(text(&o.stderr).contains("cluster/poddisruptionbudgets.policy"));
    // No Secret value left the (replayed) API server.
    assert!(
        !all.contains(&a_secret_value(&rec)),
        "a secret value leaked"
    );
    // Pagination followed the recorded continue tokens, within the concurrency bound.
    let reqs = srv.requests();
    assert!(
        reqs.iter()
            .any(|r| r.starts_with("GET /api/v1/pods?limit=50&continue=")),
        "{reqs:?}"
    );
    assert!(reqs.iter().any(|r| r == "GET /version"), "{reqs:?}");
    // An expired continue token (410) restarted the configmaps list, which then completed.
    let cm_first_pages = reqs
        .iter()
        .filter(|r| *r == "GET /api/v1/configmaps?limit=50")
        .count();
    assert!(cm_first_pages >= 2, "{reqs:?}");
    assert!(
        !all.contains("cluster/configmaps"),
        "configmaps reported unreadable"
    );
    assert!(
        srv.max_in_flight() <= 4,
        "{} in flight",
        srv.max_in_flight()
    );
    assert!(srv.max_in_flight() >= 2, "requests were not concurrent");
    // Every request names the tool (audit logs and `palisade detect` tell its reads by it).
    let agents = srv.user_agents();
    assert!(!agents.is_empty());
    assert!(
        agents
            .iter()
            .all(|a| a.as_deref().is_some_and(|a| a.starts_with("palisade/"))),
        "{agents:?}"
    );

    // Accepting the partial scan: the findings decide the exit code; the table still says
    // what was not evaluated and what was read.
    let o = palisade(
        &[
            "scan",
            "--cluster",
            "--allow-partial",
            "--fail-on",
            "none",
            "--today",
            "2026-11-23",
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("Not evaluated"), "{out}");
    assert!(out.contains("REL003"), "{out}");
    assert!(
        out.contains("reported through their owner") && out.contains("1 kind could not be read"),
        "{out}"
    );
    assert!(!out.contains("without apiVersion/kind skipped"), "{out}");

    // The HTML page lists the rules not evaluated and the kinds not read.
    let o = palisade(
        &[
            "scan",
            "--cluster",
            "--allow-partial",
            "--fail-on",
            "none",
            "--today",
            "2026-11-23",
            "--format",
            "html",
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let html = text(&o.stdout);
    let skipped = &html[html.find("id=\"skipped-rules\"").expect("skipped rules")..];
    assert!(skipped.contains("<code>REL003</code>"), "{html}");
    assert!(html.contains("id=\"unreadable\""), "{html}");
    assert!(html.contains("reported through their owner"), "{html}");
}

#[test]
fn timeouts_and_other_contexts_are_reported_not_fatal() {
    let Some(rec) = recordings() else { return };
    let (_srv, _dir, kc) = serve(Config {
        recordings: rec,
        delays: vec![("/api/v1/namespaces".to_owned(), Duration::from_secs(3))],
        ..Config::default()
    });
    let o = palisade(
        &[
            "scan",
            "--cluster",
            "--all-contexts",
            "--request-timeout",
            "1",
            "--select",
            "POD001",
            "--fail-on",
            "none",
        ],
        &kc,
    );
    let out = text(&o.stdout);
    // The nobody context could read nothing: an error, not a clean cluster.
    assert_eq!(o.status.code(), Some(2), "{out}{}", text(&o.stderr));
    assert!(
        out.contains("context/replay-nobody: no kind could be read"),
        "{out}"
    );
    assert!(out.contains("== context replay =="), "{out}");
    assert!(out.contains("== context replay-nobody =="), "{out}");
    assert!(out.contains("cluster/namespaces"), "{out}");
    assert!(out.contains("no answer within 1 s"), "{out}");
    assert!(out.contains("forbidden"), "{out}");
    assert!(out.contains("privileged-debug"), "{out}");
}

#[test]
fn namespace_scan_reads_one_namespace() {
    let Some(rec) = recordings() else { return };
    let (srv, _dir, kc) = serve(cluster_config(rec));
    let o = palisade(
        &[
            "scan",
            "--cluster",
            "-n",
            "legacy",
            "--select",
            "POD001,POD004",
            "--format",
            "json",
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let report = json(&o);
    let findings = report["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["object"]["namespace"] == "legacy"),
        "{findings:?}"
    );
    let reqs = srv.requests();
    assert!(
        reqs.iter()
            .any(|r| r.starts_with("GET /api/v1/namespaces/legacy/pods?limit=")),
        "{reqs:?}"
    );
    assert!(
        !reqs.iter().any(|r| r.starts_with("GET /api/v1/pods")),
        "{reqs:?}"
    );
}

#[test]
fn bad_credentials_are_an_error() {
    let Some(rec) = recordings() else { return };
    let srv = Replay::start(cluster_config(rec)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        srv.kubeconfig()
            .replace(palisade_replay::ADMIN_TOKEN, "wrong"),
    )
    .unwrap();
    let o = palisade(&["scan", "--cluster"], &kc);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("/version") && err.contains("401"), "{err}");
}

#[test]
fn kubelet_configuration_through_the_node_proxy() {
    let Some(rec) = recordings() else { return };
    let nodes = palisade_replay::recorded_items(&rec, "/api/v1/nodes").unwrap();
    let names: Vec<&str> = nodes
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    // The first node's kubelet answers; the others cannot be reached.
    let configz = serde_json::json!({"kubeletconfig": {"kind": "KubeletConfiguration",
        "apiVersion": "kubelet.config.k8s.io/v1beta1", "readOnlyPort": 10255,
        "authentication": {"anonymous": {"enabled": true}}, "authorization": {"mode": "AlwaysAllow"}}});
    let (_srv, dir, kc) = serve(Config {
        recordings: rec,
        routes: [(format!("/api/v1/nodes/{}/proxy/configz", names[0]), configz)].into(),
        ..Config::default()
    });
    let snap = dir.path().join("k.snapshot");
    let o = palisade(
        &["snapshot", "-o", snap.to_str().unwrap(), "--kubelet-config"],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("nodes/proxy"),
        "{}",
        text(&o.stderr)
    );
    let s = palisade_load::snapshot::read(&snap).unwrap();
    let kcfg: Vec<&Value> = s
        .objects
        .iter()
        .filter(|o| o["kind"] == "KubeletConfiguration")
        .collect();
    assert_eq!(kcfg.len(), 1);
    assert_eq!(kcfg[0]["metadata"]["name"], names[0]);
    assert_eq!(kcfg[0]["authorization"]["mode"], "AlwaysAllow");
    let u = s
        .header
        .unreadable
        .iter()
        .find(|u| u.resource == "nodes/proxy")
        .unwrap();
    assert!(u.message.contains(names[1]), "{u:?}");
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--print-rbac", "--kubelet-config"])
        .output()
        .unwrap();
    let role: serde_json::Value = serde_yaml_ng::from_str(&text(&o.stdout)).unwrap();
    assert!(
        role["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["resources"] == serde_json::json!(["nodes/proxy"])
                && r["verbs"] == serde_json::json!(["get"])),
        "{role}"
    );
}

#[test]
fn print_rbac_is_read_only() {
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "--print-rbac"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let y = text(&o.stdout);
    assert!(y.contains("kind: ClusterRole"), "{y}");
    assert!(y.contains("secrets"), "{y}");
    for bad in [
        "create", "update", "patch", "delete", "watch", "escalate", "\"*\"",
    ] {
        assert!(!y.contains(bad), "{bad} in {y}");
    }
}

fn mutate(objects: &mut Vec<Value>) {
    for o in objects.iter_mut() {
        let kind = o["kind"].as_str().unwrap_or("").to_owned();
        let name = o["metadata"]["name"].as_str().unwrap_or("").to_owned();
        let ns = o["metadata"]["namespace"].as_str().unwrap_or("").to_owned();
        match (kind.as_str(), ns.as_str(), name.as_str()) {
            ("Namespace", _, "team-a") => {
                o["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "privileged".into();
            }
            ("Service", "shop", "frontend") => {
                o["spec"]["type"] = "NodePort".into();
            }
            ("Deployment", "shop", "cartservice") => {
                o["spec"]["template"]["spec"]["hostNetwork"] = true.into();
                o["spec"]["template"]["spec"]["containers"][0]["image"] =
                    "evil.example/cart:latest".into();
            }
            _ => {}
        }
    }
    objects.push(serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "backdoor"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "User", "name": "mallory", "apiGroup": "rbac.authorization.k8s.io"}]
    }));
    objects.retain(|o| o["kind"] != "ValidatingWebhookConfiguration");
}

#[test]
fn snapshot_scan_diff_and_export_round_trip() {
    let Some(rec) = recordings() else { return };
    let (srv, dir, kc) = serve(cluster_config(rec.clone()));
    let a = dir.path().join("a.snapshot");
    let a_s = a.to_str().unwrap();

    let o = palisade(&["snapshot", "-o", a_s, "--page-size", "50"], &kc);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("sha256:") && err.contains("v1.32"), "{err}");
    let snap = palisade_load::snapshot::read(&a).unwrap();
    assert_eq!(
        snap.header
            .server_version
            .as_deref()
            .map(|v| v.starts_with("v1.32")),
        Some(true)
    );
    assert_eq!(snap.header.context, "replay");
    assert_eq!(snap.header.unreadable.len(), 1);
    assert!(snap.objects.iter().any(|o| o["kind"] == "AzureIdentity"));
    let raw = text(&std::fs::read(&a).unwrap());
    assert!(!raw.contains("managedFields"));
    let secrets: Vec<&Value> = snap
        .objects
        .iter()
        .filter(|o| o["kind"] == "Secret")
        .collect();
    assert!(!secrets.is_empty());
    assert!(secrets
        .iter()
        .all(|s| s.get("data").is_none() && s.get("stringData").is_none()));
    assert!(snap
        .objects
        .iter()
        .all(|o| o["metadata"].get("managedFields").is_none()));

    // Scanning the snapshot gives the live scan's findings.
    let live = json(&live_scan(&kc));
    let o = palisade(
        &[
            "scan",
            a_s,
            "--format",
            "json",
            "--fail-on",
            "none",
            "--today",
            "2026-11-23",
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(3), "{}", text(&o.stderr));
    let offline = json(&o);
    assert_eq!(offline["skippedRules"], live["skippedRules"]);
    assert_eq!(finding_keys(&live), finding_keys(&offline));
    assert!(format!("{offline}").contains("cluster/poddisruptionbudgets.policy"));

    // A modified snapshot is refused, naming the file.
    let bad = dir.path().join("bad.snapshot");
    let mut bytes = Vec::new();
    {
        use std::io::{Read, Write};
        let mut s = String::new();
        flate2_read(&a).read_to_string(&mut s).unwrap();
        let s = s.replacen("privileged-debug", "privileged-debuh", 1);
        let mut gz = flate2::write::GzEncoder::new(&mut bytes, flate2::Compression::fast());
        gz.write_all(s.as_bytes()).unwrap();
        gz.finish().unwrap();
    }
    std::fs::write(&bad, bytes).unwrap();
    let o = palisade(&["scan", bad.to_str().unwrap()], &kc);
    assert_eq!(o.status.code(), Some(2));
    let out = text(&o.stdout) + &text(&o.stderr);
    assert!(
        out.contains("bad.snapshot") && out.contains("digest mismatch"),
        "{out}"
    );
    let o = palisade(&["diff", a_s, bad.to_str().unwrap()], &kc);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("bad.snapshot"));

    // Drift between two snapshots.
    let b = dir.path().join("b.snapshot");
    let mut objects = snap.objects.clone();
    mutate(&mut objects);
    palisade_load::snapshot::write(&b, snap.header.clone(), &objects).unwrap();
    let o = palisade(&["diff", a_s, b.to_str().unwrap(), "--format", "json"], &kc);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let d = json(&o);
    let items: Vec<String> = d["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{} {} {} {} {}",
                x["severity"].as_str().unwrap(),
                x["category"].as_str().unwrap(),
                x["change"].as_str().unwrap(),
                x["object"]["name"].as_str().unwrap(),
                x["detail"].as_str().unwrap()
            )
        })
        .collect();
    let has = |s: &str| items.iter().any(|i| i.starts_with(s));
    assert!(has("critical rbac added backdoor"), "{items:#?}");
    assert!(has("high admission removed"), "{items:#?}");
    assert!(has("high pod-security changed team-a"), "{items:#?}");
    assert!(
        has("high workload changed cartservice now POD004 host-namespaces: host namespaces (hostNetwork=true)"),
        "{items:#?}"
    );
    assert!(has("medium exposure changed frontend"), "{items:#?}");
    assert!(has("low image changed cartservice"), "{items:#?}");
    let o = palisade(
        &["diff", a_s, b.to_str().unwrap(), "--fail-on", "critical"],
        &kc,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o.stdout).contains("backdoor"));
    let o = palisade(&["diff", a_s, a_s], &kc);
    assert_eq!(o.status.code(), Some(0));
    assert!(text(&o.stdout).contains("no security-relevant drift"));

    // Export, then kubectl validates every manifest against the replayed API server.
    let out_dir = dir.path().join("export");
    let o = palisade(&["export", a_s, out_dir.to_str().unwrap()], &kc);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let secrets_file = std::fs::read_to_string(out_dir.join("legacy/secret.yaml")).unwrap();
    assert!(
        secrets_file.contains("legacy-api-secrets"),
        "{secrets_file}"
    );
    assert!(secrets_file.lines().all(|l| l.starts_with('#')));
    let deploys = std::fs::read_to_string(out_dir.join("shop/deployment.yaml")).unwrap();
    for gone in [
        "resourceVersion",
        "uid:",
        "creationTimestamp",
        "status:",
        "managedFields",
        "last-applied-configuration",
    ] {
        assert!(!deploys.contains(gone), "{gone} in exported deployments");
    }
    assert!(
        !out_dir.join("shop/pod.yaml").exists(),
        "controller-owned pods exported"
    );
    assert!(!out_dir.join("shop/replicaset.yaml").exists());
    let services = std::fs::read_to_string(out_dir.join("shop/service.yaml")).unwrap();
    assert!(!services.contains("clusterIP: 10."), "{services}");

    // Nothing the control plane creates or a controller recreates.
    let all_exported: String = files_under(&out_dir)
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for gone in [
        "kube-root-ca.crt",
        "kube-apiserver-legacy-service-account-token-tracking",
        "name: extension-apiserver-authentication\n",
        "kubernetes.io/bootstrapping: rbac-defaults",
        "timeAdded",
        "podCIDR",
        "tolerationSeconds: 300",
        "deprecated.daemonset.template.generation",
        "kube-api-access-",
        "kubernetes.io/service-account.uid",
    ] {
        assert!(!all_exported.contains(gone), "{gone} exported");
    }
    assert!(
        !out_dir.join("default/service.yaml").exists(),
        "the kubernetes Service exported"
    );
    let nodes = std::fs::read_to_string(out_dir.join("_cluster/node.yaml")).unwrap();
    assert!(
        !nodes.contains("node.kubernetes.io/unreachable") && nodes.contains("key: dedicated"),
        "{nodes}"
    );
    let namespaces = std::fs::read_to_string(out_dir.join("_cluster/namespace.yaml")).unwrap();
    assert!(
        !namespaces.contains("kubernetes.io/metadata.name")
            && !namespaces.contains("name: kube-public\n")
            && namespaces.contains("name: shop\n"),
        "{namespaces}"
    );
    let sas = std::fs::read_to_string(out_dir.join("shop/serviceaccount.yaml")).unwrap();
    assert!(!sas.contains("name: default\n"), "{sas}");
    // The user's service-account token Secret is a manifest the token controller fills in.
    let ci_secrets = std::fs::read_to_string(out_dir.join("ci/secret.yaml")).unwrap();
    assert!(
        ci_secrets.contains("name: runner-token\n")
            && ci_secrets.contains("type: kubernetes.io/service-account-token\n")
            && ci_secrets.contains("# - registry-creds\n"),
        "{ci_secrets}"
    );
    // CRDs are exported with their schemas (the snapshot read them in full).
    let crds =
        std::fs::read_to_string(out_dir.join("_cluster/customresourcedefinition.yaml")).unwrap();
    assert!(
        crds.contains("name: applications.argoproj.io\n") && crds.contains("openAPIV3Schema:"),
        "CRDs exported without their schemas"
    );
    // The string "no" in an argument stays a string (kubectl would read it as false).
    let argocd = std::fs::read_to_string(out_dir.join("argocd/deployment.yaml")).unwrap();
    assert!(argocd.contains("- 'no'\n"), "{argocd}");

    if !kubectl_available() {
        return;
    }
    // The made-up AzureIdentity kind exists only in the replay server's discovery, not in
    // the recorded OpenAPI documents kubectl validates against.
    std::fs::remove_file(out_dir.join("legacy/azureidentity.yaml")).unwrap();
    // A server-side dry run: kubectl decodes every manifest, then the replayed API server
    // decodes it strictly against the recorded OpenAPI schemas, checks that its namespace
    // exists, that new objects do not exist yet and that updates leave immutable fields
    // alone (see palisade-replay's dryrun module).
    let o = Command::new("kubectl")
        .args(["apply", "--dry-run=server", "-R", "-f"])
        .arg(&out_dir)
        .arg("--kubeconfig")
        .arg(&kc)
        .output()
        .unwrap();
    let errors: Vec<String> = text(&o.stderr)
        .lines()
        .filter(|l| !l.starts_with("Warning: "))
        .map(str::to_owned)
        .collect();
    assert!(
        o.status.code() == Some(0) && errors.is_empty(),
        "kubectl: {}{}",
        text(&o.stdout),
        errors.join("\n")
    );
    let applied = text(&o.stdout);
    assert!(
        applied.contains("deployment.apps/frontend configured (server dry run)")
            && applied.contains("secret/runner-token ")
            && applied.contains(
                "customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io configured (server dry run)"
            ),
        "{applied}"
    );
    let written = applied
        .lines()
        .filter(|l| l.ends_with("(server dry run)"))
        .count();
    assert!(written > 300, "{written} objects applied: {applied}");
    // A write without dryRun is refused: the replay server never stores anything.
    let reqs = srv.requests();
    assert!(
        reqs.iter()
            .filter(|r| !r.starts_with("GET "))
            .all(|r| r.contains("dryRun=All")),
        "{reqs:?}"
    );
}

fn kubectl_available() -> bool {
    let ok = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok();
    if !ok {
        eprintln!("skipped: kubectl is not on PATH (export round trip)");
    }
    ok
}

#[test]
fn live_scan_reports_sec006_from_secret_types_read_as_metadata() {
    let Some(rec) = recordings() else { return };
    let secrets = palisade_replay::recorded_items(&rec, "/api/v1/secrets").unwrap();
    let token = |s: &&Value| s["type"] == "kubernetes.io/service-account-token";
    let expected: BTreeSet<String> = secrets
        .iter()
        .filter(token)
        .map(|s| {
            format!(
                "{}/{}",
                s["metadata"]["namespace"].as_str().unwrap(),
                s["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(expected.len(), 2, "{expected:?}");
    let (srv, dir, kc) = serve(Config {
        recordings: rec.clone(),
        ..Config::default()
    });
    let o = palisade(
        &[
            "scan",
            "--cluster",
            "--select",
            "SEC006",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report = json(&o);
    let found: BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ruleId"] == "SEC006")
        .map(|f| {
            format!(
                "{}/{}",
                f["object"]["namespace"].as_str().unwrap(),
                f["object"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(found, expected);
    let out = text(&o.stdout) + &text(&o.stderr);
    assert!(
        !out.contains(&a_secret_value(&rec)),
        "a secret value leaked"
    );
    // Two metadata-only lists, one per side of the field selector; never a full Secret.
    let secret_reqs: Vec<(String, Option<String>)> = srv
        .requests_with_accept()
        .into_iter()
        .filter(|(r, _)| r.contains("/secrets"))
        .collect();
    assert_eq!(secret_reqs.len(), 2, "{secret_reqs:?}");
    for (r, accept) in &secret_reqs {
        assert_eq!(
            accept.as_deref(),
            Some(palisade_cluster::METADATA_ACCEPT),
            "{r}"
        );
    }
    assert!(secret_reqs
        .iter()
        .any(|(r, _)| r.contains("fieldSelector=type=kubernetes.io/service-account-token")));
    assert!(secret_reqs
        .iter()
        .any(|(r, _)| r.contains("fieldSelector=type!=kubernetes.io/service-account-token")));

    // One namespace: the namespaced lists carry the same selectors.
    let o = palisade(
        &[
            "scan",
            "--cluster",
            "-n",
            "ci",
            "--select",
            "SEC006",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        &kc,
    );
    let report = json(&o);
    let names: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["object"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["runner-token"]);

    // The snapshot records the type of exactly those Secrets, and no value.
    let snap = dir.path().join("s.snapshot");
    let o = palisade(
        &["snapshot", "--gatekeeper", "-o", snap.to_str().unwrap()],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let s = palisade_load::snapshot::read(&snap).unwrap();
    let read: Vec<&Value> = s.objects.iter().filter(|o| o["kind"] == "Secret").collect();
    assert_eq!(read.len(), secrets.len());
    let typed: BTreeSet<String> = read
        .iter()
        .filter(|s| s.get("type").is_some())
        .map(|s| {
            assert_eq!(s["type"], "kubernetes.io/service-account-token");
            format!(
                "{}/{}",
                s["metadata"]["namespace"].as_str().unwrap(),
                s["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(typed, expected);
    assert!(read.iter().all(|s| s.get("data").is_none()));
    // Secrets stay in the API server's order (namespace, name).
    let order: Vec<(String, String)> = read
        .iter()
        .map(|s| {
            (
                s["metadata"]["namespace"].as_str().unwrap().to_owned(),
                s["metadata"]["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn replay_answers_field_selectors_as_the_api_server() {
    let Some(rec) = recordings() else { return };
    let (_srv, _dir, kc) = serve(Config {
        recordings: rec,
        ..Config::default()
    });
    if !kubectl_available() {
        return;
    }
    let get = |args: &[&str]| {
        Command::new("kubectl")
            .args(args)
            .arg("--kubeconfig")
            .arg(&kc)
            .output()
            .unwrap()
    };
    let o = get(&[
        "get",
        "secrets",
        "-A",
        "--field-selector",
        "type=kubernetes.io/tls",
        "-o",
        "name",
    ]);
    assert_eq!(
        text(&o.stdout),
        "secret/storefront-tls\n",
        "{}",
        text(&o.stderr)
    );
    let o = get(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        "spec.nonexistent=x",
    ]);
    assert_ne!(o.status.code(), Some(0));
    assert!(
        text(&o.stderr).contains("field label not supported: spec.nonexistent"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn export_yaml_reads_back_in_kubectl_as_written() {
    let Some(rec) = recordings() else { return };
    // Strings kubectl (go-yaml, YAML 1.1) would read as something else if written plain.
    let tricky = [
        "no",
        "yes",
        "on",
        "off",
        "y",
        "N",
        "true",
        "False",
        "null",
        "~",
        "",
        "1.0",
        "1",
        "010",
        "0o17",
        "0x1F",
        "0b101",
        "1_000",
        "1e3",
        ".inf",
        "-.inf",
        ".nan",
        "2001-12-14",
        "2026-11-23T15:14:45Z",
        "12:30",
        "190:20:30",
        "<<",
        "=",
        "-",
        "- a",
        "a: b",
        "a #b",
        "#a",
        "&a",
        "*a",
        "!a",
        "|",
        ">",
        "%a",
        "@a",
        "'a'",
        "\"a\"",
        "[a]",
        "{a: b}",
        " lead",
        "trail ",
        "a\nb",
        "a\nb\n",
        "a\nb\n\n",
        "\na",
        "  indented\nx",
        "tab\there",
        "nel\u{85}x",
        "ls\u{2028}x",
        "bom\u{feff}",
        "ünïcødé",
        "--appendonly",
    ];
    let data: serde_json::Map<String, Value> = tricky
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("k{i}"), Value::from(*s)))
        .collect();
    let cm = serde_json::json!({"apiVersion":"v1","kind":"ConfigMap",
        "metadata":{"name":"tricky","namespace":"web","uid":"u1","resourceVersion":"1",
            "labels":{"enabled":"no","tier":"1.0"},"annotations":{"when":"2001-12-14","mask":"0x1F","none":"~"}},
        "data":data});
    let deploy = serde_json::json!({"apiVersion":"apps/v1","kind":"Deployment",
        "metadata":{"name":"tricky","namespace":"web"},
        "spec":{"selector":{"matchLabels":{"app":"tricky"}},"template":{"metadata":{"labels":{"app":"tricky"}},
            "spec":{"containers":[{"name":"c","image":"redis:8","args":["--save","","--appendonly","no"],
                "env":[{"name":"DEBUG","value":"on"},{"name":"RATIO","value":"1.0"}]}]}}}});
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("t.snapshot");
    let header = palisade_load::snapshot::Header {
        format: palisade_load::snapshot::FORMAT.to_owned(),
        context: "t".into(),
        server: "https://127.0.0.1".into(),
        server_version: Some("v1.32.13".into()),
        created: "2026-11-23T16:00:00Z".into(),
        palisade_version: "test".into(),
        objects: 0,
        digest: String::new(),
        unreadable: Vec::new(),
    };
    palisade_load::snapshot::write(&snap, header, &[cm.clone(), deploy.clone()]).unwrap();
    let out_dir = dir.path().join("export");
    let kc = dir.path().join("kubeconfig");
    let o = palisade(
        &["export", snap.to_str().unwrap(), out_dir.to_str().unwrap()],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // Palisade's loader reads every exported document back as the exported object.
    for f in files_under(&out_dir) {
        let text = std::fs::read_to_string(&f).unwrap();
        let docs = palisade_load::yaml::parse_documents(&text, 1, false).unwrap();
        for d in docs {
            let name = d.value["kind"].as_str().unwrap().to_owned();
            let mut want = if name == "ConfigMap" {
                cm.clone()
            } else {
                deploy.clone()
            };
            palisade_load::export::clean(&mut want);
            assert_eq!(d.value, want, "{}", f.display());
        }
    }
    if !kubectl_available() {
        return;
    }
    // kubectl reads them the same: the replayed API server echoes what kubectl sent.
    let srv = Replay::start(Config {
        recordings: rec,
        ..Config::default()
    })
    .unwrap();
    srv.write_kubeconfig(&kc).unwrap();
    let o = Command::new("kubectl")
        .args(["apply", "--dry-run=server", "-o", "json", "-R", "-f"])
        .arg(&out_dir)
        .arg("--kubeconfig")
        .arg(&kc)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "kubectl: {}", text(&o.stderr));
    let back = json(&o);
    let items: Vec<Value> = match back["kind"].as_str() {
        Some("List") => back["items"].as_array().unwrap().clone(),
        _ => vec![back],
    };
    let cm_back = items.iter().find(|i| i["kind"] == "ConfigMap").unwrap();
    assert_eq!(cm_back["data"], cm["data"]);
    assert_eq!(cm_back["metadata"]["labels"], cm["metadata"]["labels"]);
    assert_eq!(cm_back["metadata"]["annotations"]["when"], "2001-12-14");
    assert_eq!(cm_back["metadata"]["annotations"]["mask"], "0x1F");
    assert_eq!(cm_back["metadata"]["annotations"]["none"], "~");
    let d_back = items.iter().find(|i| i["kind"] == "Deployment").unwrap();
    assert_eq!(
        d_back.pointer("/spec/template/spec/containers/0"),
        deploy.pointer("/spec/template/spec/containers/0")
    );
}

fn flate2_read(p: &Path) -> flate2::read::GzDecoder<std::fs::File> {
    flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
}

#[test]
fn diff_treats_kinds_unreadable_on_one_side_as_unknown() {
    let Some(rec) = recordings() else { return };
    let dir = tempfile::tempdir().unwrap();
    let full = Replay::start(Config {
        recordings: rec.clone(),
        ..Config::default()
    })
    .unwrap();
    let kc = dir.path().join("kubeconfig");
    full.write_kubeconfig(&kc).unwrap();
    let a = dir.path().join("admin.snapshot");
    let o = palisade(&["snapshot", "-o", a.to_str().unwrap()], &kc);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // The same cluster read by someone who may not list RBAC objects.
    let restricted = Replay::start(Config {
        recordings: rec,
        forbid: vec![
            "/apis/rbac.authorization.k8s.io/v1/clusterroles".to_owned(),
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings".to_owned(),
        ],
        ..Config::default()
    })
    .unwrap();
    let kc_r = dir.path().join("kubeconfig-r");
    restricted.write_kubeconfig(&kc_r).unwrap();
    let r = dir.path().join("restricted.snapshot");
    let o = palisade(&["snapshot", "-o", r.to_str().unwrap()], &kc_r);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = palisade(
        &[
            "diff",
            a.to_str().unwrap(),
            r.to_str().unwrap(),
            "-f",
            "json",
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let d = json(&o);
    assert_eq!(d["summary"]["total"], 0, "{d}");
    assert_eq!(
        d["notCompared"],
        serde_json::json!(["ClusterRole", "ClusterRoleBinding"])
    );
    let o = palisade(&["diff", a.to_str().unwrap(), r.to_str().unwrap()], &kc);
    assert!(
        text(&o.stdout).contains("not compared (could not be read in one of the snapshots): ClusterRole, ClusterRoleBinding"),
        "{}",
        text(&o.stdout)
    );
}

#[test]
fn replay_dry_run_answers_like_the_api_server() {
    let Some(rec) = recordings() else { return };
    if !kubectl_available() {
        return;
    }
    let (_srv, dir, kc) = serve(Config {
        recordings: rec,
        ..Config::default()
    });
    let run = |verb: &[&str], manifest: &str| {
        let f = dir.path().join("m.yaml");
        std::fs::write(&f, manifest).unwrap();
        let o = Command::new("kubectl")
            .args(verb)
            .arg("-f")
            .arg(&f)
            .arg("--kubeconfig")
            .arg(&kc)
            .output()
            .unwrap();
        (o.status.code(), text(&o.stdout) + &text(&o.stderr))
    };
    let apply = ["apply", "--dry-run=server"];
    let cm = |ns: &str, name: &str, extra: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\ndata:\n  a: b\n{extra}")
    };
    let (code, out) = run(&apply, &cm("web", "new-settings", ""));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("configmap/new-settings created (server dry run)"),
        "{out}"
    );
    let (code, out) = run(&apply, &cm("nope", "x", ""));
    assert_ne!(code, Some(0));
    assert!(out.contains("namespaces \"nope\" not found"), "{out}");
    let (code, out) = run(
        &["create", "--dry-run=server"],
        &cm("web", "feature-flags", ""),
    );
    assert_ne!(code, Some(0));
    assert!(
        out.contains("configmaps \"feature-flags\" already exists"),
        "{out}"
    );
    let (code, out) = run(&apply, &cm("web", "new-settings", "bogus: 1\n"));
    assert_ne!(code, Some(0));
    assert!(
        out.contains("strict decoding error: unknown field \"bogus\""),
        "{out}"
    );
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: frontend\n  namespace: shop\nspec:\n  clusterIP: 10.0.0.199\n  selector:\n    app: frontend\n  ports:\n  - port: 80\n    targetPort: 8080\n";
    let (code, out) = run(&apply, svc);
    assert_ne!(code, Some(0));
    assert!(
        out.contains("spec.clusterIP: Invalid value") && out.contains("field is immutable"),
        "{out}"
    );
    // Without --dry-run the write is refused: the replay server never stores anything.
    let (code, out) = run(&["apply"], &cm("web", "new-settings", ""));
    assert_ne!(code, Some(0));
    assert!(out.contains("read-only"), "{out}");
}

/// A ClusterRoleBinding of user bob to `role`, as an AdmissionReview.
fn binding_review(name: &str, role: &str) -> String {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{name}"),
            "kind": {"group": "rbac.authorization.k8s.io", "version": "v1", "kind": "ClusterRoleBinding"},
            "resource": {"group": "rbac.authorization.k8s.io", "version": "v1", "resource": "clusterrolebindings"},
            "name": name, "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]},
            "dryRun": false
        }
    })
    .to_string()
}

#[test]
fn admission_with_a_cluster_cache_judges_bindings_by_the_live_roles() {
    let Some(rec) = recordings() else { return };
    let (srv, dir, kc) = serve(Config {
        recordings: rec,
        ..Config::default()
    });
    let certs = dir.path().join("certs");
    let o = palisade(
        &[
            "admission",
            "install",
            "--gen-certs",
            certs.to_str().unwrap(),
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let policy = dir.path().join("palisade.yaml");
    std::fs::write(
        &policy,
        "profile: restricted\ndefaultMode: audit\nrules:\n  RBAC001: {mode: deny}\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "admission",
            "serve",
            "--config",
            policy.to_str().unwrap(),
            "--tls-cert",
            certs.join("tls.crt").to_str().unwrap(),
            "--tls-key",
            certs.join("tls.key").to_str().unwrap(),
            "--addr",
            &addr,
            "--cluster-cache",
            "--kubeconfig",
            kc.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ca = std::fs::read_to_string(certs.join("ca.crt")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answers = runtime.block_on(async {
        let config = palisade_admission::client::tls_config(&ca).unwrap();
        let sock: std::net::SocketAddr = addr.parse().unwrap();
        let mut client = None;
        for _ in 0..200 {
            match palisade_admission::client::Client::connect(sock, config.clone(), "127.0.0.1")
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let mut client = client.expect("the webhook listens");
        let mut ask = async |name: &str, role: &str| -> Value {
            let (status, body) = client
                .post("/validate", binding_review(name, role).into())
                .await
                .unwrap();
            assert_eq!(status.as_u16(), 200);
            serde_json::from_slice::<Value>(&body).unwrap()["response"].clone()
        };
        // Until the cache has listed ClusterRoles, the deny-mode rule is not evaluated and
        // the default failure policy (Fail) denies, saying so.
        let mut first = None;
        let mut synced = None;
        for _ in 0..200 {
            let r = ask("admins", "cluster-admin").await;
            let msg = r["status"]["message"].as_str().unwrap_or("").to_owned();
            if first.is_none() {
                first = Some(r.clone());
            }
            if !msg.contains("not evaluated") {
                synced = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let view = ask("viewers", "view").await;
        // A role created after the cache synced reaches it through the watch.
        let sneaky = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "sneaky"},
            "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
        let before = ask("sneaky-binding", "sneaky").await;
        let mut after = Value::Null;
        for _ in 0..200 {
            srv.emit("/apis/rbac.authorization.k8s.io/v1/clusterroles", "ADDED", sneaky.clone());
            after = ask("sneaky-binding", "sneaky").await;
            if after["allowed"] == false {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        (first, synced, view, before, after)
    });
    child.kill().unwrap();
    let _ = child.wait();
    let (first, synced, view, before, after) = answers;
    let synced = synced.expect("the cache syncs");
    assert_eq!(synced["allowed"], false, "{synced}");
    let msg = synced["status"]["message"].as_str().unwrap();
    assert!(msg.contains("RBAC001") && msg.contains("bob"), "{msg}");
    let first = first.unwrap();
    if first["status"]["message"]
        .as_str()
        .unwrap_or("")
        .contains("not evaluated")
    {
        assert_eq!(first["allowed"], false, "{first}");
    }
    assert_eq!(view["allowed"], true, "{view}");
    assert_eq!(before["allowed"], true, "{before}");
    assert_eq!(after["allowed"], false, "{after}");
}

/// `GET path` over plain HTTP/1.1 on 127.0.0.1:port; the body, if the server answers.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..300 {
        if let Some(t) = f() {
            return t;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn audit_serve_publishes_policyreports_only_when_they_change() {
    let Some(rec) = recordings() else { return };
    let (srv, dir, kc) = serve(Config {
        recordings: rec,
        writable: vec!["/apis/wgpolicyk8s.io/".to_owned()],
        ..Config::default()
    });
    let policy = dir.path().join("palisade.yaml");
    std::fs::write(&policy, "profile: restricted\ndefaultMode: audit\n").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "audit",
            "serve",
            "--config",
            policy.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--interval",
            "1s",
            "--metrics-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let patches = |srv: &Replay| {
        srv.requests()
            .iter()
            .filter(|r| r.starts_with("PATCH /apis/wgpolicyk8s.io/"))
            .count()
    };
    let reports = |srv: &Replay| {
        srv.stored()
            .into_iter()
            .filter(|(p, _)| p.contains("policyreports/"))
            .collect::<Vec<_>>()
    };
    // The first cycle writes one report per namespace with something evaluated.
    let first = until("the first reports", || {
        let r = reports(&srv);
        (r.len() > 3).then_some(r)
    });
    std::thread::sleep(Duration::from_millis(400));
    let written = patches(&srv);
    for (path, doc) in &first {
        let s = &doc["summary"];
        assert!(
            s["pass"].as_u64().unwrap() + s["fail"].as_u64().unwrap() > 0,
            "{path}: {s}"
        );
        assert!(doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "palisade");
    }
    // Cycles without change write nothing.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(patches(&srv), written, "unchanged reports were rewritten");
    // A privileged Pod in a new namespace: its report appears, with the failure.
    let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "audit-lab"}});
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "root-shell", "namespace": "audit-lab"},
        "spec": {"containers": [{"name": "c", "image": "registry.example.com/shell:1.0",
            "securityContext": {"privileged": true}}]}});
    srv.emit("/api/v1/namespaces", "ADDED", ns.clone());
    srv.emit("/api/v1/pods", "ADDED", pod.clone());
    let lab = "/apis/wgpolicyk8s.io/v1alpha2/namespaces/audit-lab/policyreports/palisade";
    let report = until("the audit-lab report", || srv.stored().get(lab).cloned());
    let results = report["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["policy"] == "POD001" && r["result"] == "fail"),
        "{report}"
    );
    assert_eq!(
        report["summary"]["fail"].as_u64().unwrap() as usize,
        results.iter().filter(|r| r["result"] == "fail").count()
    );
    // Metrics carry the violations of the last cycle.
    let metrics = until("metrics", || {
        http_get(port, "/metrics").filter(|m| m.contains("namespace=\"audit-lab\""))
    });
    assert!(
        metrics.contains("palisade_admission_audit_violations"),
        "{metrics}"
    );
    assert!(metrics.contains("palisade_admission_audit_last_success_timestamp_seconds"));
    // The namespace goes away: its report is deleted.
    srv.emit("/api/v1/pods", "DELETED", pod);
    srv.emit("/api/v1/namespaces", "DELETED", ns);
    until("the report's deletion", || {
        (!srv.stored().contains_key(lab)).then_some(())
    });
    child.kill().unwrap();
    let _ = child.wait();
}

/// `scan --cluster --policy-from-input`: the cluster's own ConstraintTemplates and
/// constraints are read (the constraints' resource is the lower-case kind) and applied.
#[test]
fn cluster_gatekeeper_policies_are_read_and_applied() {
    let Some(rec) = recordings() else { return };
    let template = serde_json::json!({
        "apiVersion": "templates.gatekeeper.sh/v1", "kind": "ConstraintTemplate",
        "metadata": {"name": "k8sdenyallnamespaces", "uid": "t1", "resourceVersion": "1"},
        "spec": {"crd": {"spec": {"names": {"kind": "K8sDenyAllNamespaces"}}},
            "targets": [{"target": "admission.k8s.gatekeeper.sh",
                "rego": "package k8sdenyallnamespaces\nviolation[{\"msg\": msg}] {\n  msg := sprintf(\"namespace %v seen\", [input.review.object.metadata.name])\n}\n"}]}
    });
    let constraint = serde_json::json!({
        "apiVersion": "constraints.gatekeeper.sh/v1beta1", "kind": "K8sDenyAllNamespaces",
        "metadata": {"name": "kube-system-only", "uid": "c1", "resourceVersion": "1"},
        "spec": {"enforcementAction": "dryrun",
            "match": {"kinds": [{"apiGroups": [""], "kinds": ["Namespace"]}], "name": "kube-sys*"}}
    });
    let (_srv, dir, kc) = serve(Config {
        recordings: rec,
        custom: vec![
            CustomKind {
                group: "templates.gatekeeper.sh".into(),
                version: "v1".into(),
                kind: "ConstraintTemplate".into(),
                plural: "constrainttemplates".into(),
                items: vec![template],
            },
            CustomKind {
                group: "constraints.gatekeeper.sh".into(),
                version: "v1beta1".into(),
                kind: "K8sDenyAllNamespaces".into(),
                plural: "k8sdenyallnamespaces".into(),
                items: vec![constraint],
            },
        ],
        ..Config::default()
    });
    let args = [
        "scan",
        "--cluster",
        "--format",
        "json",
        "--fail-on",
        "none",
        "--select",
        "K8sDenyAllNamespaces",
    ];
    let with: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--policy-from-input"])
        .collect();
    let o = palisade(&with, &kc);
    let report = json(&o);
    let found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["ruleId"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        found,
        ["K8sDenyAllNamespaces/kube-system-only namespace kube-system seen"],
        "{}",
        text(&o.stderr)
    );
    assert_eq!(report["findings"][0]["mode"], "audit");
    // Without the flag the cluster's policy is not read: the selector selects nothing.
    let o = palisade(&args, &kc);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    // A snapshot keeps the cluster's policy; scanning it with the flag applies it offline.
    let snap = dir.path().join("c.snapshot");
    let o = palisade(
        &["snapshot", "--gatekeeper", "-o", snap.to_str().unwrap()],
        &kc,
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let o = palisade(
        &[
            "scan",
            snap.to_str().unwrap(),
            "--policy-from-input",
            "--select",
            "K8sDenyAllNamespaces",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        &kc,
    );
    let offline: Vec<String> = json(&o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["ruleId"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(offline, found, "{}", text(&o.stderr));
}

/// A template (Namespaces need an `owner` label) with three constraints: one enforced
/// everywhere (dryrun), one at Gatekeeper's validation point only, one at its audit point
/// only; and a ValidatingAdmissionPolicy on Pods, bound in Audit.
const AUDIT_POLICIES: &str = r#"apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata: {name: k8srequiredowner}
spec:
  crd: {spec: {names: {kind: K8sRequiredOwner}}}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8srequiredowner
      violation[{"msg": msg}] {
        not input.review.object.metadata.labels.owner
        msg := sprintf("namespace %v has no owner label", [input.review.object.metadata.name])
      }
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredOwner
metadata: {name: ns-owner}
spec:
  enforcementAction: dryrun
  match: {kinds: [{apiGroups: [""], kinds: [Namespace]}]}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredOwner
metadata: {name: validation-only}
spec:
  enforcementAction: scoped
  scopedEnforcementActions:
  - action: deny
    enforcementPoints: [{name: validation.gatekeeper.sh}]
  match: {kinds: [{apiGroups: [""], kinds: [Namespace]}]}
---
apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sRequiredOwner
metadata: {name: audit-only}
spec:
  enforcementAction: scoped
  scopedEnforcementActions:
  - action: warn
    enforcementPoints: [{name: audit.gatekeeper.sh}]
  match: {kinds: [{apiGroups: [""], kinds: [Namespace]}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-privileged}
spec:
  matchConstraints:
    resourceRules:
    - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods]}
  validations:
  - expression: "!object.spec.containers.exists(c, has(c.securityContext) && has(c.securityContext.privileged) && c.securityContext.privileged)"
    message: privileged containers are not allowed
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-privileged-audit}
spec:
  policyName: no-privileged
  validationActions: [Audit]
"#;

const CLUSTER_REPORT: &str = "/apis/wgpolicyk8s.io/v1alpha2/clusterpolicyreports/palisade-cluster";

/// The policies of each audit cycle, checked in the reports a background audit writes to the
/// replay server: the constraints at Gatekeeper's audit point (not the validation-only one)
/// on the Namespaces, the ValidatingAdmissionPolicy on a privileged Pod that appears later.
fn check_policy_reports(srv: &Replay) {
    let results = |doc: &Value, policy: &str| -> Vec<Value> {
        doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["policy"] == policy)
            .cloned()
            .collect()
    };
    let cluster = until("the ClusterPolicyReport", || {
        srv.stored().get(CLUSTER_REPORT).cloned()
    });
    let owner = results(&cluster, "K8sRequiredOwner/ns-owner");
    assert!(!owner.is_empty(), "{cluster}");
    for r in &owner {
        assert_eq!(r["result"], "fail", "{r}");
        assert_eq!(r["resources"][0]["kind"], "Namespace", "{r}");
        assert!(
            r["message"]
                .as_str()
                .unwrap()
                .contains("has no owner label"),
            "{r}"
        );
        // dryrun is audit mode.
        assert_eq!(r["properties"]["mode"], "audit", "{r}");
    }
    let audit_only = results(&cluster, "K8sRequiredOwner/audit-only");
    assert_eq!(audit_only.len(), owner.len(), "{cluster}");
    assert!(audit_only.iter().all(|r| r["properties"]["mode"] == "warn"));
    assert!(
        results(&cluster, "K8sRequiredOwner/validation-only").is_empty(),
        "a constraint enforced at admission only is not audited: {cluster}"
    );
    // A privileged Pod appears: the policy's result is in its namespace's report.
    let ns = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "policy-lab", "labels": {"owner": "team-a"}}});
    let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "root-shell", "namespace": "policy-lab"},
        "spec": {"containers": [{"name": "c", "image": "registry.example.com/shell:1.0",
            "securityContext": {"privileged": true}}]}});
    srv.emit("/api/v1/namespaces", "ADDED", ns);
    srv.emit("/api/v1/pods", "ADDED", pod);
    let lab = "/apis/wgpolicyk8s.io/v1alpha2/namespaces/policy-lab/policyreports/palisade";
    let report = until("the policy-lab report with the policy's result", || {
        srv.stored()
            .get(lab)
            .filter(|d| d.to_string().contains("no-privileged"))
            .cloned()
    });
    let vap = results(
        &report,
        "ValidatingAdmissionPolicy/no-privileged/no-privileged-audit",
    );
    assert_eq!(vap.len(), 1, "{report}");
    assert_eq!(vap[0]["result"], "fail");
    assert_eq!(vap[0]["resources"][0]["name"], "root-shell");
    assert!(vap[0]["message"]
        .as_str()
        .unwrap()
        .contains("privileged containers are not allowed"));
    // The labelled Namespace passes the constraints: it is counted, not listed.
    let cluster = until("the ClusterPolicyReport with policy-lab", || {
        srv.stored()
            .get(CLUSTER_REPORT)
            .filter(|d| d["summary"]["pass"].as_u64() > cluster["summary"]["pass"].as_u64())
            .cloned()
    });
    assert!(!cluster
        .to_string()
        .contains("namespace policy-lab has no owner"));
}

#[test]
fn audit_serve_evaluates_the_loaded_policies_in_each_cycle() {
    let Some(rec) = recordings() else { return };
    let (srv, dir, kc) = serve(Config {
        recordings: rec,
        writable: vec!["/apis/wgpolicyk8s.io/".to_owned()],
        ..Config::default()
    });
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, "profile: restricted\ndefaultMode: audit\n").unwrap();
    let policies = dir.path().join("policies.yaml");
    std::fs::write(&policies, AUDIT_POLICIES).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "audit",
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--policy",
            policies.to_str().unwrap(),
            "--kubeconfig",
            kc.to_str().unwrap(),
            "--interval",
            "1s",
            "--metrics-addr",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    check_policy_reports(&srv);
    // The policies' violations are in the audit metrics too.
    let metrics = until("metrics", || {
        http_get(port, "/metrics").filter(|m| m.contains("K8sRequiredOwner/ns-owner"))
    });
    assert!(
        metrics.contains("palisade_admission_audit_violations"),
        "{metrics}"
    );
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn admission_serve_audits_the_loaded_policies_at_the_audit_point() {
    let Some(rec) = recordings() else { return };
    let (srv, dir, kc) = serve(Config {
        recordings: rec,
        writable: vec!["/apis/wgpolicyk8s.io/".to_owned()],
        ..Config::default()
    });
    let certs = dir.path().join("certs");
    let o = palisade(
        &[
            "admission",
            "install",
            "--gen-certs",
            certs.to_str().unwrap(),
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let config = dir.path().join("palisade.yaml");
    std::fs::write(&config, "profile: restricted\ndefaultMode: audit\n").unwrap();
    let policies = dir.path().join("policies.yaml");
    std::fs::write(&policies, AUDIT_POLICIES).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "admission",
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--policy",
            policies.to_str().unwrap(),
            "--tls-cert",
            certs.join("tls.crt").to_str().unwrap(),
            "--tls-key",
            certs.join("tls.key").to_str().unwrap(),
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--audit-interval",
            "1s",
            "--kubeconfig",
            kc.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    check_policy_reports(&srv);
    child.kill().unwrap();
    let _ = child.wait();
}

/// `scan --cluster --policy-from-input`: the cluster's ValidatingAdmissionPolicies run with
/// their parameter objects read from the cluster too, here a custom resource the reader
/// finds through discovery because a policy's paramKind names it.
#[test]
fn cluster_vap_params_are_read_from_the_cluster() {
    use palisade_replay::SyntheticList;
    use std::sync::Arc;
    let Some(rec) = recordings() else { return };
    let policy = serde_json::json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": "forbidden-namespaces", "uid": "p1", "resourceVersion": "1"},
        "spec": {
            "paramKind": {"apiVersion": "params.example.com/v1", "kind": "NamespaceRule"},
            "matchConstraints": {"resourceRules": [{"apiGroups": [""], "apiVersions": ["v1"],
                "operations": ["CREATE", "UPDATE"], "resources": ["namespaces"]}]},
            "validations": [{"expression": "!(object.metadata.name in params.spec.forbidden)",
                "messageExpression": "'namespace ' + object.metadata.name + ' is forbidden'"}]
        }
    });
    let binding = serde_json::json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": "forbidden-namespaces", "uid": "b1", "resourceVersion": "1"},
        "spec": {"policyName": "forbidden-namespaces", "validationActions": ["Warn"],
            "paramRef": {"name": "rules", "namespace": "policy-params",
                "parameterNotFoundAction": "Deny"}}
    });
    let rule = serde_json::json!({
        "apiVersion": "params.example.com/v1", "kind": "NamespaceRule",
        "metadata": {"name": "rules", "namespace": "policy-params", "uid": "r1", "resourceVersion": "1"},
        "spec": {"forbidden": ["kube-public"]}
    });
    let list = |kind: &str, items: Vec<Value>| SyntheticList {
        api_version: "admissionregistration.k8s.io/v1".into(),
        kind: kind.into(),
        items: Arc::new(items),
    };
    let mut synthetic = std::collections::HashMap::new();
    synthetic.insert(
        "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies".to_owned(),
        list("ValidatingAdmissionPolicyList", vec![policy]),
    );
    synthetic.insert(
        "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings".to_owned(),
        list("ValidatingAdmissionPolicyBindingList", vec![binding]),
    );
    let (srv, _dir, kc) = serve(Config {
        recordings: rec,
        synthetic,
        custom: vec![CustomKind {
            group: "params.example.com".into(),
            version: "v1".into(),
            kind: "NamespaceRule".into(),
            plural: "namespacerules".into(),
            items: vec![rule],
        }],
        ..Config::default()
    });
    let o = palisade(
        &[
            "scan",
            "--cluster",
            "--policy-from-input",
            "--format",
            "json",
            "--fail-on",
            "none",
            "--select",
            "validatingadmissionpolicy",
        ],
        &kc,
    );
    let report = json(&o);
    let found: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f["ruleId"].as_str().unwrap(),
                f["message"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        found,
        ["ValidatingAdmissionPolicy/forbidden-namespaces/forbidden-namespaces namespace kube-public is forbidden"],
        "{}",
        text(&o.stderr)
    );
    assert!(srv
        .requests()
        .iter()
        .any(|r| r.starts_with("GET /apis/params.example.com/v1/namespacerules")));
}

/// Upgrade readiness on a live cluster: the API server serves a CronJob as `batch/v1`, but
/// `kubectl apply` last sent it as `batch/v1beta1`. Without `--target-version` the scan
/// targets the release after the cluster's (v1.32 -> v1.33), where the version is gone
/// (VER005); at `--target-version v1.24` it is only deprecated (VER006). The API server's
/// `apiserver_requested_deprecated_apis` metric is reported as a note when readable.
#[test]
fn upgrade_readiness_targets_the_release_after_the_cluster() {
    let Some(rec) = recordings() else { return };
    let applied = serde_json::json!({
        "apiVersion": "batch/v1beta1", "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "shop"},
        "spec": {"schedule": "0 3 * * *"}
    });
    let cronjob = serde_json::json!({
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {
            "name": "nightly", "namespace": "shop", "uid": "c1", "resourceVersion": "7",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied.to_string()}
        },
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "restartPolicy": "OnFailure",
            "containers": [{"name": "job", "image": "registry.example/job:1.0"}]
        }}}}}
    });
    let mut synthetic = std::collections::HashMap::new();
    synthetic.insert(
        "/apis/batch/v1/cronjobs".to_owned(),
        palisade_replay::SyntheticList {
            api_version: "batch/v1".into(),
            kind: "CronJobList".into(),
            items: std::sync::Arc::new(vec![cronjob]),
        },
    );
    // The API server's metrics: clients still call flowcontrol v1beta3 and batch/v1beta1.
    let metrics = "# TYPE apiserver_requested_deprecated_apis gauge\n\
        apiserver_requested_deprecated_apis{group=\"batch\",removed_release=\"1.25\",resource=\"cronjobs\",subresource=\"\",version=\"v1beta1\"} 1\n\
        apiserver_requested_deprecated_apis{group=\"flowcontrol.apiserver.k8s.io\",removed_release=\"1.32\",resource=\"flowschemas\",subresource=\"\",version=\"v1beta3\"} 1\n";
    let (_srv, dir, kc) = serve(Config {
        recordings: rec.clone(),
        synthetic: synthetic.clone(),
        routes: [("/metrics".to_owned(), Value::String(metrics.to_owned()))].into(),
        ..Config::default()
    });
    let notes = |kc: &Path| -> Vec<String> {
        let out = palisade(
            &[
                "scan",
                "--cluster",
                "--select",
                "VER005",
                "--format",
                "json",
                "--fail-on",
                "none",
            ],
            kc,
        );
        json(&out)["input"]["notes"]
            .as_array()
            .map(|a| a.iter().map(|n| n.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let called = notes(&kc);
    assert!(
        called.iter().any(|n| n.contains("clients have called 2 deprecated API versions: batch/v1beta1 cronjobs (removed in 1.25), flowcontrol.apiserver.k8s.io/v1beta3 flowschemas (removed in 1.32)")),
        "{called:?}"
    );
    // Without the metric (the recorded server answers 404 for it): the scan says so and
    // goes on.
    let plain = Replay::start(Config {
        recordings: rec,
        synthetic,
        ..Config::default()
    })
    .unwrap();
    let kc2 = dir.path().join("kubeconfig2");
    plain.write_kubeconfig(&kc2).unwrap();
    let unreadable = notes(&kc2);
    assert!(
        unreadable
            .iter()
            .any(|n| n.contains("/metrics could not be read")),
        "{unreadable:?}"
    );
    // Not asked for when no rule about API versions runs.
    let out = palisade(
        &[
            "scan",
            "--cluster",
            "--select",
            "POD001",
            "--format",
            "json",
            "--fail-on",
            "none",
        ],
        &kc2,
    );
    assert!(
        !json(&out)["input"]["notes"]
            .to_string()
            .contains("/metrics"),
        "{}",
        text(&out.stdout)
    );
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            "--cluster",
            "--select",
            "VER005,VER006",
            "--format",
            "json",
            "--fail-on",
            "none",
        ];
        args.extend_from_slice(extra);
        let out = palisade(&args, &kc);
        assert!(out.status.success(), "{}", text(&out.stderr));
        json(&out)["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["object"].to_string().contains("nightly"))
            .map(|f| {
                (
                    f["ruleId"].as_str().unwrap().to_owned(),
                    f["properties"]["targetVersion"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                    f["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    let default = scan(&[]);
    assert_eq!(default.len(), 1, "{default:?}");
    assert_eq!(default[0].0, "VER005");
    assert_eq!(default[0].1, "v1.33", "{default:?}");
    assert!(
        default[0].2.contains("last applied as batch/v1beta1"),
        "{default:?}"
    );
    let earlier = scan(&["--target-version", "v1.24"]);
    assert_eq!(earlier.len(), 1, "{earlier:?}");
    assert_eq!(
        (earlier[0].0.as_str(), earlier[0].1.as_str()),
        ("VER006", "v1.24")
    );
    assert!(scan(&["--target-version", "v1.20"]).is_empty());
}

/// Namespaces NET001 reports in a JSON report.
fn net001_namespaces(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ruleId"] == "NET001")
        .filter_map(|f| {
            let m = f["message"].as_str()?;
            let rest = m.strip_prefix("namespace ")?;
            Some(rest.split(' ').next()?.to_owned())
        })
        .collect()
}

/// A cluster serving Cilium's CRDs: a namespace isolated only by a CiliumNetworkPolicy is
/// read from the API and not reported by NET001.
#[test]
fn cluster_scan_reads_cilium_policies() {
    let Some(rec) = recordings() else { return };
    let scan = |custom: Vec<CustomKind>| {
        let (_srv, _dir, kc) = serve(Config {
            recordings: rec.clone(),
            custom,
            ..Config::default()
        });
        let o = palisade(
            &[
                "scan",
                "--cluster",
                "--select",
                "NET001",
                "-f",
                "json",
                "--fail-on",
                "none",
            ],
            &kc,
        );
        json(&o)
    };
    let before = net001_namespaces(&scan(Vec::new()));
    let Some(ns) = before.iter().next().cloned() else {
        eprintln!("skipped: no namespace without default deny in the recordings");
        return;
    };
    let cnp = CustomKind {
        group: "cilium.io".into(),
        version: "v2".into(),
        kind: "CiliumNetworkPolicy".into(),
        plural: "ciliumnetworkpolicies".into(),
        items: vec![serde_json::json!({
            "apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": ns, "uid": "c1", "resourceVersion": "7"},
            "spec": {"endpointSelector": {}, "ingress": [{}]}
        })],
    };
    let after = net001_namespaces(&scan(vec![cnp]));
    assert!(!after.contains(&ns), "{ns} still reported: {after:?}");
    assert_eq!(after.len() + 1, before.len(), "{before:?} -> {after:?}");
}
