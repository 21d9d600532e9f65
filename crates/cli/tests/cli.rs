//! End-to-end runs of the `palisade` binary.

#![allow(clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn palisade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn insecure_example_fails_with_file_and_line() {
    let o = palisade(&["scan", "examples/insecure"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("POD001 privileged-container"), "{out}");
    assert!(out.contains("examples/insecure/backup.yaml:18"), "{out}");
    assert!(out.contains("SEC003 credentials-in-configmap"), "{out}");
    assert!(
        !out.contains("Sup3r-S3cret"),
        "a secret value leaked:\n{out}"
    );
}

#[test]
fn hardened_example_is_clean() {
    let o = palisade(&["scan", "examples/hardened"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("0 findings"));
}

#[test]
fn json_report_of_the_insecure_example() {
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--format",
        "json",
        "--today",
        "2026-11-23",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let mut v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    v["tool"]["version"] = "[version]".into();
    insta::assert_json_snapshot!("insecure_json", v);
}

#[test]
fn stdin_is_read() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "-", "--select", "POD004"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: a, image: a:1}]\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("<stdin>:5"), "{}", stdout(&o));
}

#[test]
fn bad_documents_do_not_hide_good_ones_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [x\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("good.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: a:1\n    securityContext: {privileged: true}\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("chart.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
    )
    .unwrap();
    let o = palisade(&["scan", dir.path().to_str().unwrap(), "--select", "POD001"]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.contains("bad.yaml:4:1: invalid YAML"), "{out}");
    assert!(out.contains("POD001"), "{out}");
    assert!(out.contains("helm template"), "{out}");
}

#[test]
fn config_errors_are_all_listed_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        "profile: strict\nrules:\n  POD001: {sevrity: high}\n  POD999: {enabled: false}\nexceptions:\n  - rules: [POD004]\n    match: {namespace: monitoring}\n    expires: 2027-13-01\nfailOn: 3\n",
    )
    .unwrap();
    let o = palisade(&[
        "scan",
        "examples/hardened",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o).replace(cfg.to_str().unwrap(), "palisade.yaml");
    insta::assert_snapshot!("config_errors", err);
}

#[test]
fn exceptions_and_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("p.yaml");
    std::fs::write(
        &cfg,
        "exceptions:\n  - rules: [POD001, POD005]\n    match: {namespace: shop, kind: CronJob, name: backup}\n    reason: migration to a backup operator\n    owner: team-data\n    expires: 2027-03-31\n",
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--config",
        c,
        "--today",
        "2027-03-31",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["summary"]["suppressedByException"], 2);
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--config",
        c,
        "--today",
        "2027-04-01",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["summary"]["suppressedByException"], 0);
    assert_eq!(v["expiredExceptions"][0]["findings"], 2);
    // Only low findings selected: below the default threshold (high).
    let o = palisade(&["scan", "examples/insecure", "--select", "REL002"]);
    assert_eq!(o.status.code(), Some(0));
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--select",
        "REL002",
        "--fail-on",
        "low",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn selectors_families_and_frameworks() {
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--select",
        "cis:5.2",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids: Vec<&str> = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.iter().all(|i| i.starts_with("POD")), "{ids:?}");
    let o = palisade(&["scan", "examples/insecure", "--select", "NOPE1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("selects no rule"));
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--profile",
        "baseline",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["ruleId"] != "POD002"));
}

#[test]
fn rules_and_explain() {
    let o = palisade(&["rules", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v.as_array().unwrap().len() >= 10);
    let o = palisade(&["explain", "privileged-container"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    for h in [
        "# POD001 privileged-container",
        "## What it checks",
        "## Why it matters",
        "## How to fix",
        "## References",
        "cis:5.2.2",
    ] {
        assert!(out.contains(h), "{h} missing:\n{out}");
    }
    let o = palisade(&["explain", "XYZ123"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn sarif_and_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.sarif");
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["runs"][0]["results"].as_array().unwrap().len() > 10);
}

#[test]
fn init_template_is_a_valid_config() {
    let o = palisade(&["init"]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(&cfg, &o.stdout).unwrap();
    let o = palisade(&[
        "scan",
        "examples/hardened",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn pss_version_and_rollout_preview() {
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--select",
        "pss",
        "--pss-version",
        "v1.20",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["pssVersion"], "v1.20");
    let ids: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["ruleId"].as_str().unwrap())
        .collect();
    // runAsUser (POD006) is checked from v1.23, capabilities_restricted (POD008) from v1.22.
    assert!(
        !ids.contains(&"POD006") && !ids.contains(&"POD008"),
        "{ids:?}"
    );
    assert!(ids.contains(&"POD001"));
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--select",
        "POD020",
        "--preview-enforce",
        "baseline",
    ]);
    let out = stdout(&o);
    assert!(out.contains("enforce=baseline@latest"), "{out}");
    assert!(out.contains("2 of 4 workloads would be rejected"), "{out}");
    assert!(out.contains("CronJob shop/backup"), "{out}");
    let o = palisade(&["scan", "examples/insecure", "--pss-version", "v2.1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--select",
        "POD002",
        "--color",
        "never",
    ]);
    assert!(stdout(&o).contains("[pss:allowPrivilegeEscalation]"));
}

#[test]
fn admission_install_generates_certs_and_scans_clean() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let o = palisade(&[
        "admission",
        "install",
        "--namespace",
        "guard",
        "--replicas",
        "3",
        "--failure-policy",
        "Ignore",
        "--gen-certs",
        certs.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["ca.crt", "tls.crt", "tls.key"] {
        let text = std::fs::read_to_string(certs.join(f)).unwrap();
        assert!(text.starts_with("-----BEGIN"), "{f}");
    }
    let manifests = dir.path().join("webhook.yaml");
    std::fs::write(&manifests, o.stdout).unwrap();
    let text = std::fs::read_to_string(&manifests).unwrap();
    assert!(text.contains("failurePolicy: Ignore"), "{text}");
    assert!(text.contains("replicas: 3"), "{text}");
    assert!(!text.contains("caBundle: ''"), "{text}");
    let o = palisade(&[
        "scan",
        "--profile",
        "restricted",
        "--fail-on",
        "info",
        manifests.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("0 findings"), "{}", stdout(&o));
    let o = palisade(&["admission", "install", "--replicas", "1"]);
    assert_eq!(o.status.code(), Some(2));
}
