//! `palisade rbac unused` and `palisade rbac suggest` over the labelled audit log, with the
//! recorded cluster's RBAC read from files, from the replay server (`--cluster`), and the
//! suggestion's YAML loaded back into the RBAC engine; `rbac paths` as a graph.

#![allow(clippy::print_stderr)]

mod common;
use common::{json, palisade, recordings, serve, text};
use palisade_rbac::{Rbac, Request, Subject, UserInfo};
use palisade_replay::Config;
use serde::Deserialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn audit_log(api: &Path) -> PathBuf {
    api.join("../audit/audit.jsonl")
}

fn rbac_files(api: &Path) -> Vec<String> {
    [
        "0073-200-list_roles.json",
        "0075-200-list_clusterroles.json",
        "0078-200-list_rolebindings.json",
        "0080-200-list_clusterrolebindings.json",
    ]
    .iter()
    .map(|f| api.join("responses").join(f).display().to_string())
    .collect()
}

fn subject<'a>(report: &'a Value, kind: &str, name: &str) -> &'a Value {
    report["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["subject"]["kind"] == kind && s["subject"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} not reported"))
}

fn statuses(s: &Value, binding_ns: &str) -> Vec<String> {
    s["bindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["binding_namespace"] == binding_ns)
        .flat_map(|b| b["rules"].as_array().unwrap())
        .map(|r| r["status"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn unused_from_files_and_from_the_cluster_agree() {
    let Some(api) = recordings() else { return };
    let log = audit_log(&api).display().to_string();
    let mut args = vec!["rbac", "unused", "--audit-log", &log, "-f", "json"];
    let files = rbac_files(&api);
    args.extend(files.iter().map(String::as_str));
    let none = Path::new("/nonexistent");
    let o = palisade(&args, none);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let from_files = json(&o);
    assert_eq!(from_files["window"]["events"], 2665);
    assert!(from_files["window"]["covered_seconds"].as_i64().unwrap() >= 900);

    // ci-deployer: admin in `staging` never used, admin in `ci` used in part.
    let ci = subject(&from_files, "User", "ci-deployer");
    assert!(ci["requests"].as_u64().unwrap() > 40);
    assert_eq!(ci["confidence"], "low");
    let staging = statuses(ci, "staging");
    assert!(!staging.is_empty() && staging.iter().all(|s| s != "used"));
    let in_ci = statuses(ci, "ci");
    assert!(in_ci.iter().any(|s| s == "used") && in_ci.iter().any(|s| s == "unused"));
    // The `extensions` group has no event at all in the log: unknown, not unused.
    assert!(in_ci.iter().any(|s| s == "unknown"));
    // jane@example.com (cluster-admin) made no request: no evidence, not unused.
    let jane = subject(&from_files, "User", "jane@example.com");
    assert_eq!(jane["requests"], 0);
    assert_eq!(jane["confidence"], "none");
    assert_eq!(jane["unused_rules"], 0);

    // The same answer with the RBAC objects read from the (replayed) cluster.
    let (_srv, dir, kc) = serve(Config {
        recordings: api.clone(),
        ..Config::default()
    });
    let o = palisade(
        &[
            "rbac",
            "unused",
            "--audit-log",
            &log,
            "-f",
            "json",
            "--cluster",
        ],
        &kc,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let from_cluster = json(&o);
    assert_eq!(from_cluster["subjects"], from_files["subjects"]);

    // And from a snapshot of that cluster.
    let snap = dir.path().join("c.snapshot");
    let o = palisade(&["snapshot", "-o", snap.to_str().unwrap()], &kc);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = palisade(
        &[
            "rbac",
            "unused",
            "--audit-log",
            &log,
            "-f",
            "json",
            snap.to_str().unwrap(),
        ],
        none,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(json(&o)["subjects"], from_files["subjects"]);

    // The table names the window and a subject without requests as such.
    let mut table = vec!["rbac", "unused", "--audit-log", &log];
    table.extend(files.iter().map(String::as_str));
    let o = palisade(&table, none);
    let out = text(&o.stdout);
    assert!(
        out.starts_with("Audit window: 2026-11-23T15:21:36.175072Z .. "),
        "{out}"
    );
    assert!(out.contains("user jane@example.com: no requests in the window"));
    assert!(out.contains("RoleBinding staging/ci-deployer-admin -> ClusterRole admin"));
}

#[test]
fn suggest_yaml_loads_back_and_covers_the_requests() {
    let Some(api) = recordings() else { return };
    let log = audit_log(&api).display().to_string();
    let o = palisade(
        &["rbac", "suggest", "alice", "--audit-log", &log],
        Path::new("/nonexistent"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let yaml = text(&o.stdout);
    assert!(yaml.contains("# needed by: get secrets dev-db\n"), "{yaml}");
    let mut objs = Vec::new();
    for doc in serde_yaml_ng::Deserializer::from_str(&yaml) {
        objs.push(Value::deserialize(doc).unwrap());
    }
    let kinds: Vec<&str> = objs.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Role",
            "RoleBinding"
        ]
    );
    let rbac = Rbac::from_objects(&objs);
    let alice = UserInfo::new("alice", &[]);
    let get = |name: &str| {
        Request::resource("get", "", "secrets")
            .in_namespace("dev")
            .named(name)
    };
    assert!(rbac.authorize(&alice, &get("dev-db")).allowed);
    assert!(!rbac.authorize(&alice, &get("other")).allowed);
    assert!(!rbac.can(&Subject::user("bob"), &get("dev-db")).allowed);

    // A line that is not an audit event: named with file and line, exit 2, answer kept.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"kind\":\"Event\"\nnot json\n").unwrap();
    let bad = bad.display().to_string();
    let o = palisade(
        &[
            "rbac",
            "suggest",
            "alice",
            "--audit-log",
            &bad,
            "--audit-log",
            &log,
        ],
        Path::new("/nonexistent"),
    );
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("{bad}:1: not a JSON audit event")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{bad}:2: not a JSON audit event")),
        "{err}"
    );
    assert!(text(&o.stdout).contains("kind: Role"));

    // No allowed request: an error, not an empty role.
    let o = palisade(
        &["rbac", "suggest", "nosuchuser", "--audit-log", &log],
        Path::new("/nonexistent"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("made no allowed request"));

    // --since leaves out what is older: the log is from 2026-11-23.
    let o = palisade(
        &[
            "rbac",
            "suggest",
            "alice",
            "--audit-log",
            &log,
            "--since",
            "2026-11-23T15:30:00Z",
            "-f",
            "json",
        ],
        Path::new("/nonexistent"),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v = json(&o);
    assert!(v["window"]["outside_window"].as_u64().unwrap() > 0);
    assert!(v["suggestion"]["allowed_requests"].as_u64().unwrap() < 29);
    let o = palisade(
        &[
            "rbac",
            "suggest",
            "alice",
            "--audit-log",
            &log,
            "--since",
            "3x",
        ],
        Path::new("/nonexistent"),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("unknown unit"));
}

#[test]
fn paths_as_graphs() {
    let Some(api) = recordings() else { return };
    let files = rbac_files(&api);
    let none = Path::new("/nonexistent");
    let run = |extra: &[&str]| {
        let mut args = vec!["rbac", "paths"];
        args.extend_from_slice(extra);
        args.extend(files.iter().map(String::as_str));
        let o = palisade(&args, none);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        text(&o.stdout)
    };
    let from = ["--from", "system:serviceaccount:ci:runner"];
    let all = json(&{
        let mut args = vec!["rbac", "paths", "-f", "json"];
        args.extend(files.iter().map(String::as_str));
        palisade(&args, none)
    });
    let mine: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["subject"]["name"] == "runner")
        .collect();
    assert!(mine.len() >= 3);
    let dot = run(&[&from[..], &["-f", "dot"]].concat());
    assert!(dot.starts_with("digraph attack_paths {"), "{dot}");
    assert!(dot.contains("[label=\"serviceaccount ci/runner\"]"));
    // The impersonation of argocd's controller, with the grant that allows it, then that
    // account's cluster-wide grant.
    assert!(dot.contains(
        "Impersonate via ClusterRoleBinding ci-rbac-manager -> ClusterRole rbac-manager rule #2"
    ));
    assert!(dot.contains("HoldsAdminRights via ClusterRoleBinding argocd-application-controller"));
    // Only ci/runner's paths.
    assert!(!dot.contains("statefulset-controller"));
    let mermaid = run(&[&from[..], &["-f", "mermaid"]].concat());
    assert!(mermaid.starts_with("flowchart LR\n"));
    let edges = mermaid.lines().filter(|l| l.contains("-->|")).count();
    assert_eq!(edges, dot.lines().filter(|l| l.contains(" -> n")).count());
    assert!(edges >= mine.len());
}

/// `scan --audit-log`: RBAC findings say whether their subject used the grant in the window;
/// without the flag the findings are those of a plain scan.
#[test]
fn scan_findings_carry_audit_evidence() {
    let Some(api) = recordings() else { return };
    let log = audit_log(&api).display().to_string();
    let files = rbac_files(&api);
    let none = Path::new("/nonexistent");
    let mut plain_args = vec!["scan", "--select", "RBAC", "-f", "json"];
    plain_args.extend(files.iter().map(String::as_str));
    let plain = json(&palisade(&plain_args, none));
    let mut args = plain_args.clone();
    args.extend(["--audit-log", log.as_str()]);
    let o = palisade(&args, none);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let with = json(&o);
    let findings = |r: &Value| r["findings"].as_array().unwrap().clone();
    let (plain, with) = (findings(&plain), findings(&with));
    // The same findings, in the same order; only the audit evidence is added.
    assert_eq!(plain.len(), with.len());
    assert!(plain.iter().all(|f| f["properties"].get("audit").is_none()));
    for (p, w) in plain.iter().zip(&with) {
        assert_eq!(p["ruleId"], w["ruleId"]);
        assert_eq!(p["object"], w["object"]);
        let msg = w["message"].as_str().unwrap();
        match w["properties"].get("audit") {
            Some(a) => assert!(
                msg.starts_with(p["message"].as_str().unwrap())
                    && msg.contains(a.as_str().unwrap())
            ),
            None => assert_eq!(p["message"], w["message"]),
        }
    }
    let audit_of = |ns: &str, binding: &str, subject: &str| -> Vec<String> {
        with.iter()
            .filter(|f| {
                f["object"]["namespace"] == ns
                    && f["object"]["name"] == binding
                    && f["properties"]["subject"] == subject
            })
            .filter_map(|f| f["properties"]["audit"].as_str().map(str::to_owned))
            .collect()
    };
    // ci-deployer: admin in staging never used, admin in ci used in part.
    let staging = audit_of("staging", "ci-deployer-admin", "user ci-deployer");
    assert!(!staging.is_empty());
    assert!(
        staging.iter().all(|a| a.contains("used 0 of its 28 rules")),
        "{staging:?}"
    );
    assert!(
        staging
            .iter()
            .any(|a| a.contains("the risky grant (PodExec) was not used")),
        "{staging:?}"
    );
    let ci = audit_of("ci", "ci-deployer-admin", "user ci-deployer");
    assert!(!ci.is_empty());
    assert!(
        ci.iter()
            .all(|a| a.contains("used 6 of its 28 rules") && a.contains("in namespace ci")),
        "{ci:?}"
    );
    // sre used pods/exec (the risky right of RBAC004) in two namespaces.
    let sre = with
        .iter()
        .find(|f| f["ruleId"] == "RBAC004" && f["object"]["name"] == "sre-pod-exec")
        .unwrap();
    let a = sre["properties"]["audit"].as_str().unwrap();
    assert!(
        a.contains("in 2 namespaces") && a.contains("the risky grant (PodExec) was used"),
        "{a}"
    );
    assert_eq!(sre["properties"]["auditUsedRules"], "2");
    // A subject without any request: no evidence either way, not "unused".
    let jane = with
        .iter()
        .find(|f| f["properties"]["subject"] == "user jane@example.com")
        .unwrap();
    assert!(jane["properties"]["audit"]
        .as_str()
        .unwrap()
        .contains("made no request in the audit window"));
}

/// A line of the audit log that is not an event is an input error naming file and line.
#[test]
fn scan_audit_log_errors_name_the_line() {
    let Some(api) = recordings() else { return };
    let dir = std::env::temp_dir().join(format!("palisade-scan-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.jsonl");
    let first = std::fs::read_to_string(audit_log(&api))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    std::fs::write(&bad, format!("{first}\nnot json\n")).unwrap();
    let files = rbac_files(&api);
    let bad_s = bad.display().to_string();
    let mut args = vec![
        "scan",
        "--select",
        "RBAC",
        "-f",
        "json",
        "--audit-log",
        bad_s.as_str(),
    ];
    args.extend(files.iter().map(String::as_str));
    let o = palisade(&args, Path::new("/nonexistent"));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains(&format!("{bad_s}:2:")),
        "{}",
        text(&o.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
