//! End-to-end runs of the `palisade` binary.

#![allow(clippy::print_stderr)]

mod common;
use common::{palisade_in, root, stderr, stdout};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn palisade(args: &[&str]) -> Output {
    palisade_in(&root(), args)
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
    let o = palisade(&[
        "scan",
        "examples/hardened",
        "--config",
        "examples/palisade-hardened.yaml",
    ]);
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
    // cis:5.2 is pod security: the POD rules, PLAT002 (cis:5.2.1, a policy engine) and NODE001
    // (node-shell workloads: privileged, hostPID).
    assert!(
        ids.iter()
            .all(|i| i.starts_with("POD") || *i == "PLAT002" || *i == "NODE001"),
        "{ids:?}"
    );
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
fn catalogue_covers_host_checks_and_detection_rules() {
    let o = palisade(&["explain", "DET001"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for h in [
        "# DET001 pod-exec-attach",
        "mitre:T1609",
        "## What it detects",
    ] {
        assert!(out.contains(h), "{h} missing:\n{out}");
    }
    let o = palisade(&["explain", "1.2.1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for h in [
        "# 1.2.1\n",
        "--anonymous-auth",
        "cis:1.2.1",
        "Family: CP",
        "manual",
    ] {
        assert!(out.contains(h), "{h} missing:\n{out}");
    }
    let o = palisade(&["explain", "tls.encryption-at-rest"]);
    assert!(stdout(&o).contains("cis:1.2.27"), "{}", stdout(&o));

    let ids = |args: &[&str]| -> Vec<(String, String)> {
        let o = palisade(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_owned(),
                    r["command"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let all = ids(&["rules", "--format", "json"]);
    for (id, command) in [("POD001", "scan"), ("1.2.6", "node"), ("DET001", "detect")] {
        assert!(
            all.contains(&(id.to_owned(), command.to_owned())),
            "{id} ({command}) missing"
        );
    }
    let det = ids(&["rules", "--format", "json", "--select", "DET"]);
    assert!(
        det.len() >= 20
            && det
                .iter()
                .all(|(id, c)| id.starts_with("DET") && c == "detect")
    );
    let section = ids(&["rules", "--format", "json", "--select", "1.2"]);
    assert!(
        section.iter().all(|(id, _)| id.starts_with("1.2.")),
        "{section:?}"
    );
    assert!(section.iter().any(|(id, _)| id == "1.2.30"));
    let cis = ids(&["rules", "--format", "json", "--select", "cis:1.2"]);
    for id in ["CP001", "1.2.6", "tls.audit-log"] {
        assert!(cis.iter().any(|(i, _)| i == id), "cis:1.2 misses {id}");
    }

    // One policy file names rules of every engine without an unknown-id error.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        "ignore: [DET011, \"1.2.15\"]\nrules:\n  1.2.1: {severity: low}\n  DET001: {severity: critical}\n  tls.cert-expiry: {enabled: false}\nexceptions:\n- rules: [\"4.2.1\", DET002, POD001]\n  match: {kind: Node, name: cp-*}\n  reason: hardened by the image\n",
    )
    .unwrap();
    let o = palisade(&[
        "scan",
        "examples/hardened",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
    std::fs::write(&cfg, "ignore: [1.2]\nrules:\n  DET999: {enabled: false}\n").unwrap();
    let o = palisade(&[
        "scan",
        "examples/hardened",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("in quotes (\"1.2\")"), "{err}");
    assert!(err.contains("unknown rule id `DET999`"), "{err}");
    // A configuration that selects only host checks leaves scan nothing to do: an error.
    std::fs::write(&cfg, "select: [DET, \"1.2\"]\n").unwrap();
    let o = palisade(&[
        "scan",
        "examples/hardened",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("leaves no rule of `palisade scan`"),
        "{}",
        stderr(&o)
    );
    // `palisade scan --select` names what scan runs.
    let o = palisade(&["scan", "examples/hardened", "--select", "DET"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("detection rules"), "{}", stderr(&o));
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
    assert_valid_sarif(&v);
    // Findings with a safe fix carry it as SARIF `fixes`; applying the replacements of
    // POD002's fix to api.yaml clears POD002 there, and nothing else.
    let results = v["runs"][0]["results"].as_array().unwrap();
    let with_fix: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r.get("fixes").is_some())
        .collect();
    assert!(with_fix.iter().any(|r| r["ruleId"] == "POD001"));
    assert!(
        results
            .iter()
            .filter(|r| r["ruleId"] == "SEC003")
            .all(|r| r.get("fixes").is_none()),
        "no fix for a rule without one"
    );
    let r = with_fix
        .iter()
        .find(|r| {
            r["ruleId"] == "POD002"
                && r["fixes"][0]["artifactChanges"][0]["artifactLocation"]["uri"]
                    == "examples/insecure/api.yaml"
        })
        .expect("POD002 on api.yaml has a fix");
    let original = std::fs::read_to_string(root().join("examples/insecure/api.yaml")).unwrap();
    let mut lines: Vec<String> = original.split_inclusive('\n').map(str::to_owned).collect();
    let mut replacements: Vec<&serde_json::Value> = r["fixes"][0]["artifactChanges"][0]
        ["replacements"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    // From the bottom up, so earlier lines keep their numbers (whole-line regions).
    replacements.sort_by_key(|x| std::cmp::Reverse(x["deletedRegion"]["startLine"].as_u64()));
    for x in replacements {
        let d = &x["deletedRegion"];
        assert_eq!(
            (d["startColumn"].as_u64(), d["endColumn"].as_u64()),
            (Some(1), Some(1))
        );
        let (a, b) = (
            d["startLine"].as_u64().unwrap() as usize - 1,
            d["endLine"].as_u64().unwrap() as usize - 1,
        );
        let inserted = x["insertedContent"]["text"].as_str().unwrap();
        lines.splice(a..b, inserted.split_inclusive('\n').map(str::to_owned));
    }
    let fixed_dir = dir.path().join("fixed");
    std::fs::create_dir(&fixed_dir).unwrap();
    std::fs::write(fixed_dir.join("api.yaml"), lines.concat()).unwrap();
    let o = palisade(&[
        "scan",
        fixed_dir.to_str().unwrap(),
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    let after: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids = |v: &serde_json::Value| {
        let mut ids: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["location"]["file"]
                    .as_str()
                    .is_some_and(|f| f.ends_with("api.yaml"))
            })
            .map(|f| f["ruleId"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    let o = palisade(&[
        "scan",
        "examples/insecure/api.yaml",
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    let before: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let mut expected = ids(&before);
    expected.retain(|id| id != "POD002");
    assert_eq!(ids(&after), expected);
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

fn exec_event(id: &str, user: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{id}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/dev/pods/web/exec?command=sh","verb":"create","user":{{"username":"{user}","groups":["dev-team","system:authenticated"]}},"sourceIPs":["10.0.0.5"],"objectRef":{{"resource":"pods","namespace":"dev","name":"web","apiVersion":"v1","subresource":"exec"}},"responseStatus":{{"metadata":{{}},"code":101}},"requestReceivedTimestamp":"2026-11-23T10:00:00.000000Z","stageTimestamp":"2026-11-23T10:00:01.000000Z"}}"#
    )
}

#[test]
fn detect_json_lines_bad_lines_and_eventlists() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(
        &log,
        format!(
            "{}\nnot json at all\n{{\"kind\":\"ConfigMap\"}}\n",
            exec_event("a1", "alice")
        ),
    )
    .unwrap();
    let o = palisade(&["detect", log.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let line: serde_json::Value = serde_json::from_str(stdout(&o).lines().next().unwrap()).unwrap();
    assert_eq!(line["ruleId"], "DET001");
    assert_eq!(line["user"], "alice");
    assert_eq!(line["auditID"], "a1");
    assert!(
        stderr(&o).contains("1 events, 1 alerts, 1 lines not JSON, 1 JSON values not audit events"),
        "{}",
        stderr(&o)
    );

    // A pretty-printed EventList.
    let list = format!("{{\n  \"kind\": \"EventList\",\n  \"apiVersion\": \"audit.k8s.io/v1\",\n  \"items\": [{}, {}]\n}}\n", exec_event("b1", "bob"), exec_event("b2", "carol"));
    let f = dir.path().join("list.json");
    std::fs::write(&f, list).unwrap();
    let o = palisade(&["detect", f.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    assert_eq!(v["events"]["events"], 2);
    let o = palisade(&[
        "detect",
        f.to_str().unwrap(),
        "--disable",
        "DET001",
        "--fail-on",
        "low",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = palisade(&["detect", f.to_str().unwrap(), "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["runs"][0]["results"].as_array().unwrap().len(), 2);
    // The HTML page: one row per alert, with the event's facts and the event counts.
    let o = palisade(&["detect", f.to_str().unwrap(), "--format", "html"]);
    let html = stdout(&o);
    assert!(html.contains("<title>Palisade audit detection report</title>"));
    assert_eq!(html.matches("data-table=\"active\"").count(), 2, "{html}");
    assert!(html.contains("user=bob") && html.contains("user=carol"));
    assert!(html.contains("Read 2 audit events"));
}

#[test]
fn html_is_one_page_for_one_cluster() {
    let o = palisade(&["scan", "--cluster", "--all-contexts", "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--format html writes one page for one cluster"),
        "{}",
        stderr(&o)
    );
    let o = palisade(&["scan", "examples/insecure", "--format", "html"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let page = stdout(&o);
    assert_eq!(page.matches("<!DOCTYPE html>").count(), 1);
    assert!(page.contains("id=\"chart-severity\""));
}

/// The SARIF 2.1.0 schema of ../shared/schemas, when present, as a validator.
fn sarif_validator() -> Option<jsonschema::Validator> {
    let path = palisade_testkit::schema("sarif-2.1.0.schema.json")?;
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // The published schema's `language` patterns have a stray `]`, which the validator's
    // meta-schema check rejects as a regex; they are replaced by their intent.
    for def in ["run", "toolComponent"] {
        schema["definitions"][def]["properties"]["language"]["pattern"] =
            serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    Some(
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles"),
    )
}

fn assert_valid_sarif(doc: &serde_json::Value) {
    let Some(validator) = sarif_validator() else {
        return;
    };
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
    let mut broken = doc.clone();
    broken["runs"][0]["tool"]["driver"]["rules"][0]["id"] = serde_json::json!(7);
    assert!(!validator.is_valid(&broken), "the validation can fail");
}

/// Alerts are findings: the policy's selection, severities and exceptions apply, and the
/// report formats are palisade-report's writers (SARIF valid against the schema).
#[test]
fn detect_alerts_are_findings_with_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    let port_forward = exec_event("p1", "bob")
        .replace("/exec?command=sh", "/portforward")
        .replace(
            "\"subresource\":\"exec\"",
            "\"subresource\":\"portforward\"",
        );
    std::fs::write(
        &log,
        format!(
            "{}\n{}\n{}\n",
            exec_event("a1", "alice"),
            exec_event("a2", "alice")
                .replace("pods/web/", "pods/debug-1/")
                .replace("\"name\":\"web\"", "\"name\":\"debug-1\""),
            port_forward
        ),
    )
    .unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        "ignore: [DET002]\nrules:\n  DET001: {severity: critical}\nexceptions:\n- rules: [pod-exec-attach]\n  match: {namespace: dev, kind: Pod, name: debug-*}\n  reason: debugging pods\n  expires: 2027-01-31\n",
    )
    .unwrap();
    let (log, cfg) = (log.to_str().unwrap(), cfg.to_str().unwrap());
    let detect = |extra: &[&str]| {
        let mut args = vec!["detect", log, "--config", cfg, "--today", "2027-01-31"];
        args.extend_from_slice(extra);
        palisade(&args)
    };
    let o = detect(&["--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let f = &v["findings"][0];
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
    assert_eq!(
        (f["ruleId"].as_str(), f["severity"].as_str()),
        (Some("DET001"), Some("critical"))
    );
    assert_eq!(f["object"]["kind"], "Pod");
    assert_eq!(f["object"]["name"], "web");
    assert_eq!(f["properties"]["user"], "alice");
    assert_eq!(f["properties"]["verb"], "create");
    assert_eq!(f["properties"]["auditID"], "a1");
    assert!(f["properties"]["time"]
        .as_str()
        .unwrap()
        .starts_with("2026-11-23"));
    let s = &v["suppressed"][0];
    assert_eq!(s["object"]["name"], "debug-1");
    assert_eq!(s["suppression"]["reason"], "debugging pods");
    assert_eq!(v["events"]["events"], 3);
    assert!(v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"] != "DET002"));

    // Streaming JSON lines: the same verdicts, suppressed alerts marked, not hidden.
    let o = detect(&[]);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["severity"], "critical");
    assert!(lines[0].get("suppression").is_none());
    assert_eq!(lines[1]["suppression"]["kind"], "exception");

    // The table lists the suppressed alert apart, with the event counts.
    let out = stdout(&detect(&["--format", "table"]));
    assert!(out.contains("Suppressed findings"), "{out}");
    assert!(out.contains("read 3 events"), "{out}");

    // SARIF through the one writer, valid against the schema.
    let o = detect(&["--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_valid_sarif(&doc);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().any(|r| r["suppressions"].is_array()));
    assert_ne!(
        results[0]["partialFingerprints"], results[1]["partialFingerprints"],
        "two events, two fingerprints"
    );
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let det001 = rules.iter().find(|r| r["id"] == "DET001").unwrap();
    assert!(det001["help"]["text"]
        .as_str()
        .unwrap()
        .contains("## What it detects"));

    // Expired: the alert counts again; --fail-on and failOn.
    let o = palisade(&[
        "detect",
        log,
        "--config",
        cfg,
        "--today",
        "2027-02-01",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
    assert_eq!(v["expiredExceptions"][0]["findings"], 1);
    assert_eq!(detect(&["--fail-on", "none"]).status.code(), Some(0));
    std::fs::write(cfg, "failOn: critical\nrules:\n  DET002: {severity: low}\n").unwrap();
    let o = palisade(&["detect", log, "--config", cfg, "--select", "DET002"]);
    assert_eq!(o.status.code(), Some(0), "low is below failOn critical");
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].contains("\"ruleId\":\"DET002\"") && lines[0].contains("\"severity\":\"low\"")
    );
    // Selectors must name detection rules; configuration errors exit 2.
    let o = palisade(&["detect", log, "--select", "POD001"]);
    assert_eq!(o.status.code(), Some(2));
    std::fs::write(cfg, "ignore: [DET999]\n").unwrap();
    let o = palisade(&["detect", log, "--config", cfg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`DET999` in ignore selects no rule"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn detect_follows_a_rotated_log() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.log");
    std::fs::write(&log, format!("{}\n", exec_event("f1", "alice"))).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["detect", log.to_str().unwrap(), "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("an alert in time")
    };
    assert!(next().contains("\"f1\""));
    // The writer appends, then rotates the log and starts a new one.
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    writeln!(f, "{}", exec_event("f2", "bob")).unwrap();
    drop(f);
    assert!(next().contains("\"f2\""));
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    std::fs::write(&log, format!("{}\n", exec_event("f3", "carol"))).unwrap();
    assert!(next().contains("\"f3\""));
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn detect_webhook_config_and_rules() {
    let o = palisade(&[
        "detect",
        "webhook-config",
        "--server",
        "https://10.0.0.1:8443/audit",
    ]);
    let out = stdout(&o);
    assert!(
        out.contains("kind: Config") && out.contains("server: https://10.0.0.1:8443/audit"),
        "{out}"
    );
    // Serialised, not pasted: a server address YAML would read otherwise stays one string.
    let server = "https://10.0.0.1:8443/audit?x=1 #not-a-comment";
    let o = palisade(&["detect", "webhook-config", "--server", server]);
    let config: serde_json::Value = serde_yaml_ng::from_str(&stdout(&o)).unwrap();
    assert_eq!(config["clusters"][0]["cluster"]["server"], server);
    assert_eq!(config["current-context"], "palisade-detect");
    assert_eq!(config["users"][0]["user"], serde_json::json!({}));
    let o = palisade(&["detect", "rules"]);
    assert!(stdout(&o).contains("DET001"));
}

#[test]
fn rbac_queries_on_the_examples() {
    // The insecure example binds cluster-admin (a bootstrap role, not in the manifests).
    let o = palisade(&[
        "rbac",
        "can",
        "system:serviceaccount:shop:api",
        "delete",
        "nodes",
        "examples/insecure",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("yes\n  via ClusterRoleBinding api-cluster-admin"),
        "{}",
        stdout(&o)
    );
    let o = palisade(&[
        "rbac",
        "can",
        "system:serviceaccount:shop:api",
        "delete",
        "nodes",
        "examples/hardened",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "no\n");
    let o = palisade(&[
        "rbac",
        "can",
        "alice",
        "get",
        "secrets",
        "--group",
        "system:masters",
        "examples/hardened",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("bypassing RBAC"));
    let o = palisade(&[
        "rbac",
        "who-can",
        "create",
        "pods/exec",
        "-n",
        "shop",
        "examples/insecure",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let subjects: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["subject"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        subjects.contains(&"api".to_owned()) && subjects.contains(&"system:masters".to_owned()),
        "{subjects:?}"
    );
    let o = palisade(&["rbac", "risks", "examples/insecure"]);
    assert!(stdout(&o).contains("ClusterAdmin"), "{}", stdout(&o));
}

#[test]
fn net_can_on_the_hardened_example() {
    let o = palisade(&[
        "net",
        "can",
        "shop/frontend",
        "shop/api",
        "--port",
        "8080",
        "examples/hardened",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("allowed by shop/frontend egress rule #0"));
    let o = palisade(&[
        "net",
        "can",
        "shop/frontend",
        "shop/postgres",
        "--port",
        "5432",
        "examples/hardened",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let o = palisade(&[
        "net",
        "can",
        "shop/backup",
        "169.254.169.254",
        "--port",
        "443",
        "examples/hardened",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the metadata endpoint is excluded"
    );
    let o = palisade(&[
        "net",
        "can",
        "shop/frontend",
        "shop/api",
        "--port",
        "8080",
        "examples/insecure",
    ]);
    assert_eq!(o.status.code(), Some(0), "no policy: everything is allowed");
}

#[test]
fn net_can_reads_cilium_and_calico_policies() {
    let cilium = "crates/netpol/tests/fixtures/cilium_deny_clusterwide.yaml";
    let o = palisade(&[
        "net",
        "can",
        "srv/client",
        "srv/server",
        "--port",
        "80",
        cilium,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o).contains(
            "ingress: denied by CiliumNetworkPolicy srv/server-deny rule /spec/ingressDeny/0"
        ),
        "{}",
        stdout(&o)
    );
    let o = palisade(&[
        "net",
        "can",
        "srv/client",
        "srv/server",
        "--port",
        "81",
        cilium,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("allowed by srv/server-allow ingress rule #0"));

    let calico = "crates/netpol/tests/fixtures/calico_order.yaml";
    let o = palisade(&[
        "net",
        "can",
        "shop/legacy",
        "shop/web",
        "--port",
        "80",
        calico,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains(
        "ingress: denied by NetworkPolicy.projectcalico.org shop/web-deny-legacy rule /spec/ingress/0"
    ));
    let o = palisade(&[
        "net", "can", "shop/api", "1.1.1.1", "--port", "443", "-f", "json", calico,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["egress"]["isolating"][0]["kind"], "CalicoNetworkPolicy");

    // a policy that cannot be read is named with its file and line, not silently dropped
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(
        &f,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: x}\nspec: {containers: [{name: c}]}\n---\n\
         apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: bad, namespace: x}\n\
         spec: {endpointSelector: {}, ingress: [{fromEntities: [everywhere]}]}\n",
    )
    .unwrap();
    let o = palisade(&["net", "can", "1.2.3.4", "x/a", f.to_str().unwrap()]);
    assert!(
        stderr(&o).contains("bad.yaml:6:1: CiliumNetworkPolicy x/bad: /spec: ingress: unknown entity \"everywhere\"; ignored"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn frameworks_list_rules_by_control_and_summarise_compliance() {
    let o = palisade(&["rules", "--framework", "cis"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("CIS Kubernetes Benchmark (cis)"), "{out}");
    assert!(out.contains("cis:5.2.2\n  NODE001"), "{out}");
    assert!(out.contains("  POD001  "), "{out}");
    let o = palisade(&["rules", "--framework", "nope"]);
    assert_eq!(o.status.code(), Some(2));

    let o = palisade(&[
        "scan",
        "examples/insecure",
        "--framework",
        "owasp",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let c = &v["compliance"];
    assert_eq!(c["framework"], "owasp");
    let controls = c["controls"].as_array().unwrap();
    let k01 = controls.iter().find(|x| x["control"] == "K01").unwrap();
    assert_eq!(k01["status"], "fail");
    assert_eq!(
        c["passed"].as_u64().unwrap()
            + c["failed"].as_u64().unwrap()
            + c["notEvaluated"].as_u64().unwrap(),
        controls.len() as u64
    );
    // Every rule that ran maps to OWASP.
    for r in v["rules"].as_array().unwrap() {
        assert!(
            r["references"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x.as_str().unwrap().starts_with("owasp:")),
            "{r}"
        );
    }
    let o = palisade(&["scan", "examples/insecure", "--framework", "book"]);
    assert!(stdout(&o).contains("Compliance: Book recommendations (book)"));
    // Without --framework there is no summary.
    let o = palisade(&["scan", "examples/insecure", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["compliance"].is_null());
}

#[test]
fn node_checks_on_the_example_root() {
    let o = palisade(&["node", "--root", "examples/node", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let node = &v["node"];
    assert_eq!(node["benchmark"], "cis-1.12");
    let status = |id: &str| {
        node["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| r["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("1.2.6").as_deref(), Some("FAIL"));
    assert_eq!(status("1.2.1").as_deref(), Some("MANUAL"));
    assert_eq!(status("4.2.1").as_deref(), Some("SKIP"));
    assert_eq!(status("access.sshd-root-login").as_deref(), Some("FAIL"));
    assert_eq!(status("version.supported-release").as_deref(), Some("FAIL"));
    let sections: Vec<&str> = node["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(sections.starts_with(&["1.1", "1.2"]), "{sections:?}");
    for format in ["table", "sarif", "junit", "markdown", "html"] {
        let o = palisade(&["node", "--root", "examples/node", "--format", format]);
        assert_eq!(o.status.code(), Some(1));
        let out = stdout(&o);
        assert!(out.contains("1.2.6"), "{format}: {out}");
        if format == "sarif" {
            let s: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(
                s["runs"][0]["properties"]["totals"]["fail"]
                    .as_u64()
                    .unwrap()
                    > 0
            );
        }
    }
    let o = palisade(&["node", "--root", "examples/node", "--benchmark", "cis-9.9"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `palisade node` applies the policy as `scan` does: selection, severities, exceptions on
/// `Node/<hostname>` (listed, never hidden), expiry with `--today`, `--fail-on`.
#[test]
fn node_policy_exceptions_selection_and_fail_on() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        "failOn: critical\nignore: [access]\nrules:\n  1.2.15: {severity: critical}\n  tls.audit-log: {enabled: false}\nexceptions:\n- rules: [\"1.2.6\", \"1.2.15\"]\n  match: {kind: Node, name: cp-*}\n  reason: break-glass node\n  owner: platform\n  expires: 2027-01-31\n- rules: [\"cis:1.2.2\"]\n  match: {kind: Node, name: another-node}\n  reason: not this node\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let node = |extra: &[&str]| {
        let mut args = vec!["node", "--root", "examples/node", "--config", cfg];
        args.extend_from_slice(extra);
        palisade(&args)
    };
    // The exception covers both critical FAILs on 2027-01-31: below failOn, exit 0.
    let o = node(&["--today", "2027-01-31", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let ids = |key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["ruleId"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids("suppressed"), ["1.2.6", "1.2.15"]);
    assert!(ids("findings").contains(&"1.2.2".to_owned()));
    assert_eq!(v["suppressed"][0]["object"]["name"], "cp-1");
    assert_eq!(v["suppressed"][0]["object"]["kind"], "Node");
    assert_eq!(v["suppressed"][1]["severity"], "critical");
    assert_eq!(v["summary"]["suppressedByException"], 2);
    let results = v["node"]["results"].as_array().unwrap();
    assert!(results.iter().all(|r| {
        let id = r["id"].as_str().unwrap();
        !id.starts_with("access.") && id != "tls.audit-log"
    }));
    let r126 = results.iter().find(|r| r["id"] == "1.2.6").unwrap();
    assert_eq!(r126["status"], "FAIL");
    assert_eq!(r126["suppression"]["reason"], "break-glass node");
    assert_eq!(v["node"]["totals"]["suppressed"], 2);
    assert_eq!(v["node"]["host"], "cp-1");

    // The table lists the suppression under its result and counts it.
    let o = node(&["--today", "2027-01-31"]);
    let out = stdout(&o);
    assert!(
        out.contains(
            "suppressed by exception #0: break-glass node (owner platform), expires 2027-01-31"
        ),
        "{out}"
    );
    assert!(out.contains("2 SUPPRESSED"), "{out}");

    // SARIF: the report's one writer, host checks as rules from the catalogue.
    let o = node(&["--today", "2027-01-31", "--format", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_valid_sarif(&doc);
    let run = &doc["runs"][0];
    let results = run["results"].as_array().unwrap();
    let r126 = results.iter().find(|r| r["ruleId"] == "1.2.6").unwrap();
    assert_eq!(r126["suppressions"][0]["justification"], "break-glass node");
    assert_eq!(
        r126["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "Node/cp-1"
    );
    let rule = &run["tool"]["driver"]["rules"][r126["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["id"], "1.2.6");
    assert!(rule["properties"]["tags"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("cis:1.2.6")));
    assert_eq!(run["properties"]["totals"]["suppressed"], 2);
    assert!(results
        .iter()
        .all(|r| r["ruleId"] != "access.sshd-root-login"));

    // The day after, the exception has expired: the FAILs are back and it is listed.
    let o = node(&["--today", "2027-02-01"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("Expired exceptions (no longer applied)"),
        "{out}"
    );
    assert!(out.contains("2 finding(s) reported again"), "{out}");

    // --fail-on overrides failOn; none never fails.
    let o = node(&["--today", "2027-01-31", "--fail-on", "high"]);
    assert_eq!(o.status.code(), Some(1));
    let o = node(&["--today", "2027-02-01", "--fail-on", "none"]);
    assert_eq!(o.status.code(), Some(0));
    // Without a config, any FAIL fails the run; a WARN alone does not.
    let o = palisade(&[
        "node",
        "--root",
        "examples/node",
        "--select",
        "access.sshd-listen-address",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let o = palisade(&["node", "--root", "examples/node", "--select", "1.2.15"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    // --select replaces the config's selection; selectors must name host checks.
    let o = node(&["--select", "cis:1.1", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["node"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["id"].as_str().unwrap().starts_with("1.1.")));
    let o = palisade(&["node", "--root", "examples/node", "--select", "POD001"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("selects no host check"),
        "{}",
        stderr(&o)
    );
    // A configuration error is reported with its line, as for scan.
    std::fs::write(
        dir.path().join("bad.yaml"),
        "rules:\n  9.9.9: {enabled: false}\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.yaml");
    let o = palisade(&[
        "node",
        "--root",
        "examples/node",
        "--config",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("bad.yaml:2:3: unknown rule id `9.9.9`"),
        "{}",
        stderr(&o)
    );
    // A selection without any host check is an error, not a pass.
    std::fs::write(dir.path().join("pod.yaml"), "select: [POD]\n").unwrap();
    let pod = dir.path().join("pod.yaml");
    let o = palisade(&[
        "node",
        "--root",
        "examples/node",
        "--config",
        pod.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("leaves no host check"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn update_db_converts_a_feed_file() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("feed.json");
    std::fs::write(
        &feed,
        r#####"{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"CVE-2023-5528","summary":"s","content_text":"#### Affected Versions\n- kubelet v1.28.0 - v1.28.3\n#### Fixed Versions\n- kubelet v1.28.4\n"}]}"#####,
    )
    .unwrap();
    let out = dir.path().join("cves");
    let o = palisade(&[
        "update-db",
        "--from-file",
        feed.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = std::fs::read_to_string(out.join("CVE-2023-5528.yaml")).unwrap();
    assert!(text.contains(">= 1.28.0, <= 1.28.3"), "{text}");
    // The converted data drives VER004.
    let nodes = dir.path().join("nodes.yaml");
    std::fs::write(
        &nodes,
        "apiVersion: v1\nkind: Node\nmetadata: {name: w1}\nstatus: {nodeInfo: {kubeletVersion: v1.28.2}}\n",
    )
    .unwrap();
    let o = palisade(&[
        "scan",
        nodes.to_str().unwrap(),
        "--select",
        "VER004",
        "--cve-data",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("CVE-2023-5528"));
    // Without a file: not implemented, says so.
    let o = palisade(&["update-db", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--from-file"));
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
        // A release pinned by digest, as production installs should be (the default image is
        // a tag only: IMG002 reports it, as it would for any workload).
        "--image",
        "ghcr.io/palisade-dev/palisade:0.1.0@sha256:5b1f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
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

#[test]
fn admission_install_ships_policies_and_can_leave_out_the_crds() {
    let dir = tempfile::tempdir().unwrap();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("vap.yaml"),
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\n\
         metadata: {name: replicas}\nspec:\n  matchConstraints:\n    resourceRules:\n\
         \x20   - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}\n\
         \x20 validations:\n  - expression: \"object.spec.replicas <= 5\"\n---\n\
         apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\n\
         metadata: {name: replicas-binding}\nspec: {policyName: replicas, validationActions: [Deny]}\n",
    )
    .unwrap();
    let o = palisade(&[
        "admission",
        "install",
        "--policy",
        policies.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let docs: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(&stdout(&o))
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        &kinds[..2],
        ["CustomResourceDefinition", "CustomResourceDefinition"]
    );
    let cm = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "palisade-admission-policies")
        .expect("the policies ConfigMap");
    let shipped = cm["data"]["policies.yaml"].as_str().unwrap();
    assert!(shipped.contains("object.spec.replicas <= 5"), "{shipped}");
    assert!(shipped.contains("replicas-binding"), "{shipped}");
    let wh = docs
        .iter()
        .find(|d| d["kind"] == "ValidatingWebhookConfiguration")
        .unwrap();
    assert!(
        wh["webhooks"][0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["apiGroups"] == serde_json::json!(["apps"])
                && r["resources"] == serde_json::json!(["deployments"])
                && r["operations"] == serde_json::json!(["CREATE", "UPDATE"])),
        "{wh}"
    );
    // The shipped file is what `admission serve --policy` and `scan --policy` load.
    let file = dir.path().join("shipped.yaml");
    std::fs::write(&file, shipped).unwrap();
    let o = palisade(&["rules", "--policy", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("ValidatingAdmissionPolicy/replicas/replicas-binding"),
        "{}",
        stdout(&o)
    );
    // --no-crds.
    let o = palisade(&["admission", "install", "--no-crds"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("CustomResourceDefinition"));
    // A policy that would not load on the server is an error naming file and line.
    let bad = dir.path().join("orphan.yaml");
    std::fs::write(
        &bad,
        "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sMissing\nmetadata: {name: orphan}\nspec: {}\n",
    )
    .unwrap();
    let o = palisade(&["admission", "install", "--policy", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains("orphan.yaml:") && err.contains("K8sMissing"),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn detect_serve_receives_audit_batches_over_tls() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let o = palisade(&[
        "admission",
        "install",
        "--gen-certs",
        certs.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "detect",
            "serve",
            "--tls-cert",
            certs.join("tls.crt").to_str().unwrap(),
            "--tls-key",
            certs.join("tls.key").to_str().unwrap(),
            "--addr",
            &addr,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let ca = std::fs::read_to_string(certs.join("ca.crt")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (ok, bad) = runtime.block_on(async {
        let config = palisade_admission::client::tls_config(&ca).unwrap();
        let sock: std::net::SocketAddr = addr.parse().unwrap();
        // The server may take a moment to listen.
        let mut client = None;
        for _ in 0..100 {
            match palisade_admission::client::Client::connect(sock, config.clone(), "127.0.0.1")
                .await
            {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        let mut client = client.expect("the server listens");
        let list = format!(
            "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[{}]}}",
            exec_event("s1", "mallory")
        );
        let ok = client.post("/audit", list.into()).await.unwrap();
        let bad = client.post("/audit", "not json".into()).await.unwrap();
        (ok.0.as_u16(), bad.0.as_u16())
    });
    assert_eq!((ok, bad), (200, 400));
    let alert = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("an alert");
    let v: serde_json::Value = serde_json::from_str(&alert).unwrap();
    assert_eq!(v["ruleId"], "DET001");
    assert_eq!(v["user"], "mallory");
    child.kill().unwrap();
    let _ = child.wait();
}

/// Nine levels of nine aliases: 9^9 strings once expanded, in under 400 bytes.
fn alias_bomb() -> String {
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (prev, cur) in ('a'..='h').zip('b'..='i') {
        let refs = vec![format!("*{prev}"); 9].join(",");
        s.push_str(&format!("{cur}: &{cur} [{refs}]\n"));
    }
    s
}

/// Runs palisade with its address space capped at 1 GiB: an input that makes it allocate
/// more aborts it, and the test sees a signal instead of an exit code.
#[cfg(unix)]
fn palisade_capped(args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn hostile_yaml_is_refused_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = alias_bomb();
    assert!(bomb.len() < 400);
    let with_pod = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  hostPID: true\n  containers: [{{name: c, image: nginx}}]\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: bomb}}\n{bomb}"
    );
    let f = dir.path().join("bomb.yaml");
    std::fs::write(&f, &with_pod).unwrap();
    let f = f.to_str().unwrap();

    let o = palisade_capped(&["scan", f, "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let errors = report.to_string();
    assert!(errors.contains("excessive aliasing"), "{errors}");
    assert!(errors.contains("bomb.yaml"), "{errors}");
    // The good document's findings are still there.
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["ruleId"] == "POD004" || f["ruleId"] == "POD003"),
        "{errors}"
    );

    let o = palisade_capped(&["rbac", "risks", f]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("excessive aliasing"), "{}", stderr(&o));

    let cfg = dir.path().join("palisade.yaml");
    std::fs::write(
        &cfg,
        format!("failOn: high\nx:\n  {}", bomb.replace('\n', "\n  ")),
    )
    .unwrap();
    let o = palisade_capped(&[
        "scan",
        "examples/hardened",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("aliasing"), "{}", stderr(&o));

    // Endless input: refused at the size limit, not read to the end.
    let o = palisade_capped(&["scan", "/dev/zero", "--max-file-bytes", "1000000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("limit of 1000000 bytes"),
        "{}",
        stdout(&o)
    );
}

/// What was not evaluated is said, never passed silently.
#[test]
fn nothing_to_check_is_an_error_not_a_pass() {
    // Empty standard input (a failed `helm template` upstream of the pipe).
    let o = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["scan", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("standard input is empty"),
        "{}",
        stdout(&o)
    );

    let o = palisade(&["scan", "examples/insecure", "--pss-version", "v1.99"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("v1.99"), "{}", stderr(&o));
    let o = palisade(&[
        "scan",
        "examples/hardened",
        "--config",
        "examples/palisade-hardened.yaml",
        "--pss-version",
        "v1.30",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let empty = tempfile::tempdir().unwrap();
    let e = empty.path().to_str().unwrap();
    let o = palisade(&["node", "--root", e]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no Kubernetes component found"),
        "{}",
        stderr(&o)
    );

    let o = palisade(&["scan", "examples/insecure", "--cve-data", e]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("holds no CVE record"), "{}", stderr(&o));

    let feed = empty.path().join("feed.json");
    std::fs::write(
        &feed,
        r#"{"version":"https://jsonfeed.org/version/1.1","items":[]}"#,
    )
    .unwrap();
    let out = empty.path().join("out");
    let o = palisade(&[
        "update-db",
        "--from-file",
        feed.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("holds no CVE"), "{}", stderr(&o));
    assert!(!out.exists());
}

/// Writes `name` with `text` in `dir` and gives its path as a string.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_owned()
}

const NAMESPACED_CLUSTER_OBJECTS: &str = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-admin, namespace: shop}
rules:
- {apiGroups: [\"\"], resources: [secrets], verbs: [\"*\"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: api-admin, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: api, namespace: shop}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ci-secrets, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-admin}
subjects:
- {kind: ServiceAccount, name: runner, namespace: ci}
";

/// A ClusterRoleBinding or ClusterRole written with `metadata.namespace` is the cluster-scoped
/// object it names (the API server clears the namespace): `scan` reports on it as `rbac can`
/// grants through it.
#[test]
fn cluster_scoped_rbac_objects_with_a_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "rbac.yaml", NAMESPACED_CLUSTER_OBJECTS);
    let o = palisade(&["scan", &f, "--select", "RBAC", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let findings: Vec<(String, String, Option<String>)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["ruleId"].as_str().unwrap().to_owned(),
                f["object"]["name"].as_str().unwrap().to_owned(),
                f["object"]["namespace"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert!(
        findings.contains(&("RBAC001".into(), "api-admin".into(), None)),
        "{findings:?}"
    );
    assert!(
        findings.contains(&("RBAC003".into(), "ci-secrets".into(), None)),
        "{findings:?}"
    );
    // The queries agree: cluster-wide, in any namespace.
    let o = palisade(&[
        "rbac",
        "can",
        "system:serviceaccount:ci:runner",
        "delete",
        "secrets",
        "-n",
        "prod",
        &f,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("via ClusterRoleBinding ci-secrets -> ClusterRole secret-admin"),
        "{}",
        stdout(&o)
    );
    let o = palisade(&["rbac", "risks", &f]);
    let out = stdout(&o);
    assert!(
        out.lines().any(|l| l.starts_with("ClusterAdmin")
            && l.contains("serviceaccount shop/api")
            && l.contains("cluster-wide")),
        "{out}"
    );
}

/// `rbac who-can` lists each subject once, with every path that grants under it, and counts
/// distinct subjects.
#[test]
fn who_can_lists_each_subject_once() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "rbac.yaml",
        "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: masters-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: Group, name: \"system:masters\", apiGroup: rbac.authorization.k8s.io}
- {kind: Group, name: \"system:masters\", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: masters-b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: Group, name: \"system:masters\", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: api, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects:
- {kind: ServiceAccount, name: api}
- {kind: ServiceAccount, name: api, namespace: shop}
- {kind: User, name: \"system:serviceaccount:shop:api\", apiGroup: rbac.authorization.k8s.io}
",
    );
    let o = palisade(&["rbac", "who-can", "get", "secrets", "-n", "shop", &f]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.matches("system:masters").count(), 2, "{out}"); // the subject + its note
    assert_eq!(out.matches("group system:masters").count(), 1, "{out}");
    assert_eq!(out.matches("serviceaccount shop/api").count(), 1, "{out}");
    assert_eq!(
        out.matches("via ClusterRoleBinding masters-a ").count(),
        1,
        "{out}"
    );
    assert_eq!(
        out.matches("via ClusterRoleBinding masters-b ").count(),
        1,
        "{out}"
    );
    assert_eq!(out.matches("via RoleBinding shop/api ").count(), 1, "{out}");
    assert!(out.ends_with("\n2 subjects\n"), "{out}");
    let o = palisade(&[
        "rbac", "who-can", "get", "secrets", "-n", "shop", &f, "-f", "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let v = v.as_array().unwrap();
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(v[0]["via"].as_array().unwrap().len(), 2, "{v:?}");
}

/// `rbac` and `net` queries read past a malformed document as `scan` does: the document is
/// named on stderr with its line, the answer covers the rest, and the exit code is 2.
#[test]
fn access_queries_go_on_past_malformed_input() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.yaml", NAMESPACED_CLUSTER_OBJECTS);
    let bad = write(
        dir.path(),
        "bad.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: [\n",
    );
    let runs: [(&[&str], &str, &str); 6] = [
        (&["rbac", "risks"], &good, "ClusterAdmin"),
        (
            &["rbac", "who-can", "get", "secrets"],
            &good,
            "serviceaccount shop/api",
        ),
        (
            &[
                "rbac",
                "can",
                "system:serviceaccount:shop:api",
                "get",
                "secrets",
            ],
            &good,
            "yes",
        ),
        (&["rbac", "can", "nobody", "get", "secrets"], &good, "no"),
        (&["rbac", "paths"], &good, "attack path"),
        (
            &["net", "can", "shop/frontend", "shop/api", "--port", "8080"],
            "examples/hardened",
            "allowed",
        ),
    ];
    for (args, input, answer) in runs {
        let mut all: Vec<&str> = args.to_vec();
        all.extend([bad.as_str(), input]);
        let o = palisade(&all);
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(2), "{args:?}: {out}{err}");
        assert!(out.contains(answer), "{args:?}: {out}");
        // `error: FILE:LINE:COLUMN: reason`, at the second document (lines 5-8).
        assert!(
            err.lines().any(|l| l
                .strip_prefix(&format!("error: {bad}:"))
                .and_then(|rest| rest.split(':').next()?.parse::<u32>().ok())
                .is_some_and(|line| (5..=8).contains(&line))
                && l.contains("invalid YAML")),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("warning: 1 input error") && err.contains("covers only"),
            "{args:?}: {err}"
        );
    }
    // A file that cannot be read at all is an input error too.
    let o = palisade(&["rbac", "risks", "no-such-file.yaml", &good]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stdout(&o).contains("ClusterAdmin"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("error: no-such-file.yaml: cannot read"),
        "{}",
        stderr(&o)
    );
    // Clean input keeps the answer's own exit code.
    let o = palisade(&["rbac", "can", "nobody", "get", "secrets", &good]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

/// A scan of files says that the rules relating objects took the files as one cluster, in
/// every report format; a snapshot is a cluster and gets no such note.
#[test]
fn file_scans_note_the_one_cluster_assumption() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "rbac.yaml", NAMESPACED_CLUSTER_OBJECTS);
    let o = palisade(&["scan", &f, "examples/insecure/api.yaml"]);
    let out = stdout(&o);
    let note = out
        .lines()
        .find(|l| l.starts_with("  note: the 2 scanned files were taken as one whole cluster"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        note.contains("RBAC011") && note.contains("NET001"),
        "{note}"
    );
    let o = palisade(&["scan", &f, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        v["input"]["notes"][0]
            .as_str()
            .is_some_and(|n| n.starts_with("the scanned file was taken as a whole cluster")),
        "{}",
        v["input"]
    );
    let o = palisade(&["scan", &f, "--format", "markdown"]);
    assert!(
        stdout(&o).contains("> **Note:** the scanned file was taken as a whole cluster"),
        "{}",
        stdout(&o)
    );
    // Rules that look at one object at a time need no note.
    let o = palisade(&["scan", &f, "--select", "RBAC002", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(v["input"].get("notes").is_none(), "{}", v["input"]);
    // The same objects from a snapshot: no note.
    let snap = dir.path().join("c.snapshot");
    let objects: Vec<serde_json::Value> =
        palisade_load::load_str("x.yaml", NAMESPACED_CLUSTER_OBJECTS)
            .objects
            .into_iter()
            .map(|o| o.into_value())
            .collect();
    palisade_load::snapshot::write(
        &snap,
        palisade_load::snapshot::Header {
            format: String::new(),
            context: "test".into(),
            server: "https://127.0.0.1:6443".into(),
            server_version: None,
            created: "2026-11-23T00:00:00Z".into(),
            palisade_version: "0.0.0".into(),
            objects: 0,
            digest: String::new(),
            unreadable: Vec::new(),
        },
        &objects,
    )
    .unwrap();
    let o = palisade(&["scan", snap.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["input"]["objects"], 3, "{}", v["input"]);
    assert!(v["input"].get("notes").is_none(), "{}", v["input"]);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["ruleId"] == "RBAC001"),
        "{}",
        v["findings"]
    );
}

/// A compliance control whose rules had nothing to judge is "not evaluated", never "pass".
#[test]
fn framework_controls_without_input_are_not_evaluated() {
    let status = |args: &[&str], control: &str| {
        let o = palisade(args);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v["compliance"]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == control)
            .map(|c| c["status"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let apps = [
        "scan",
        "examples/insecure",
        "--framework",
        "cis",
        "-f",
        "json",
        "--fail-on",
        "none",
    ];
    assert_eq!(status(&apps, "1.2"), "notEvaluated");
    assert_eq!(status(&apps, "4.2"), "notEvaluated");
    assert_eq!(status(&apps, "5.1.1"), "fail");
    let cp = [
        "scan",
        "examples/node/etc/kubernetes/manifests",
        "--framework",
        "cis",
        "-f",
        "json",
        "--fail-on",
        "none",
    ];
    assert_ne!(status(&cp, "1.2"), "notEvaluated");
}

#[test]
fn webhook_config_refuses_a_ca_that_is_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "ca.txt", "not a certificate\n");
    let o = palisade(&[
        "detect",
        "webhook-config",
        "--server",
        "https://palisade.example:8443/audit",
        "--ca",
        &bad,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no certificate in"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

/// `--cluster-boundary directory`: each top-level directory is its own cluster for the rules
/// that relate objects (a default-deny policy in prod does not cover dev's namespace).
#[test]
fn cluster_boundary_directory_keeps_clusters_apart() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("clusters");
    std::fs::create_dir_all(root.join("prod")).unwrap();
    std::fs::create_dir_all(root.join("dev")).unwrap();
    let ns_and_pod = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers: [{name: c, image: nginx}]\n";
    write(
        &root.join("prod"),
        "app.yaml",
        &format!("{ns_and_pod}---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: default-deny, namespace: shop}}\nspec:\n  podSelector: {{}}\n  policyTypes: [Ingress, Egress]\n"),
    );
    write(&root.join("dev"), "app.yaml", ns_and_pod);
    let root = root.to_str().unwrap();
    let ids = |boundary: &str| {
        let o = palisade(&[
            "scan",
            root,
            "--select",
            "NET001",
            "--cluster-boundary",
            boundary,
            "-f",
            "json",
            "--fail-on",
            "none",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let files: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["location"]["file"].as_str().unwrap().to_owned())
            .collect();
        (files, v["input"]["notes"].to_string())
    };
    let (all, note) = ids("all");
    assert!(all.is_empty(), "{all:?}");
    assert!(note.contains("one whole cluster"), "{note}");
    let (per_dir, note) = ids("directory");
    assert_eq!(per_dir.len(), 1, "{per_dir:?}");
    assert!(per_dir[0].ends_with("dev/app.yaml"), "{per_dir:?}");
    assert!(note.contains("its own whole cluster"), "{note}");
}

/// A webhook whose policy selects nothing it can evaluate refuses to start.
#[test]
fn admission_serve_refuses_a_policy_with_no_admission_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "palisade.yaml", "select: [DET]\n");
    let o = palisade(&[
        "admission",
        "serve",
        "--config",
        &cfg,
        "--tls-cert",
        "missing.crt",
        "--tls-key",
        "missing.key",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("selects no rule that admission evaluates"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn preview_mode_lists_per_namespace_and_rule_with_the_most_specific_mode() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("palisade.yaml");
    // POD001 denies in shop only; everything else audits; REL004 warns everywhere.
    std::fs::write(
        &cfg,
        "defaultMode: audit\nrules:\n  REL004: {mode: warn}\nnamespaces:\n  shop:\n    rules:\n      POD001: deny\n",
    )
    .unwrap();
    let o = palisade(&[
        "scan",
        "examples/",
        "--config",
        cfg.to_str().unwrap(),
        "--preview-mode",
        "deny",
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let entries = v["modePreview"]["entries"].as_array().unwrap();
    let entry = |ns: &str, rule: &str| {
        entries
            .iter()
            .find(|e| e["namespace"] == ns && e["ruleId"] == rule)
            .unwrap_or_else(|| panic!("no entry for {ns} {rule}: {entries:?}"))
    };
    assert_eq!(v["modePreview"]["mode"], "deny");
    assert_eq!(entry("shop", "POD001")["current"], "deny");
    assert_eq!(entry("shop", "IMG002")["current"], "audit");
    // The findings carry the same modes.
    let modes: std::collections::BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ruleId"] == "POD001")
        .map(|f| format!("{} {}", f["object"]["namespace"], f["mode"]))
        .collect();
    assert!(modes.contains("\"shop\" \"deny\""), "{modes:?}");
    // Every entry's objects are the findings' objects of that rule and namespace.
    let n: usize = entries
        .iter()
        .map(|e| e["objects"].as_array().unwrap().len())
        .sum();
    let distinct: std::collections::BTreeSet<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["ruleId"], f["object"]))
        .collect();
    assert_eq!(n, distinct.len());
    // The table names rules that only warn at admission.
    let o = palisade(&[
        "scan",
        "examples/",
        "--config",
        cfg.to_str().unwrap(),
        "--preview-mode",
        "deny",
        "--fail-on",
        "none",
        "--color",
        "never",
    ]);
    let out = stdout(&o);
    assert!(out.contains("Mode preview"), "{out}");
    assert!(out.contains("never denies"), "{out}");
}

/// The openAPIV3Schema of a v1alpha2 PolicyReport CRD in ../shared/schemas, as a validator.
fn policyreport_validator(file: &str) -> Option<jsonschema::Validator> {
    let path = palisade_testkit::schema(&format!("policyreport/{file}"))?;
    let crd: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha2")
        .unwrap();
    Some(jsonschema::validator_for(&version["schema"]["openAPIV3Schema"]).expect("schema compiles"))
}

#[test]
fn policyreports_validate_against_the_v1alpha2_crds_with_exact_counts() {
    let (Some(ns_schema), Some(cluster_schema)) = (
        policyreport_validator("wgpolicyk8s.io_policyreports.yaml"),
        policyreport_validator("wgpolicyk8s.io_clusterpolicyreports.yaml"),
    ) else {
        return;
    };
    let o = palisade(&[
        "scan",
        "examples/",
        "--format",
        "policyreport",
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json = palisade(&["scan", "examples/", "--format", "json", "--fail-on", "none"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let docs: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(&stdout(&o))
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    assert!(docs.len() >= 2, "{docs:?}");
    // The CRDs `admission install` prints (generated from the report types) take them too.
    let install = palisade(&["admission", "install"]);
    let generated: Vec<(String, jsonschema::Validator)> =
        serde_yaml_ng::Deserializer::from_str(&stdout(&install))
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .filter(|d: &serde_json::Value| d["kind"] == "CustomResourceDefinition")
            .map(|crd| {
                (
                    crd["spec"]["names"]["kind"].as_str().unwrap().to_owned(),
                    jsonschema::validator_for(
                        &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"],
                    )
                    .unwrap(),
                )
            })
            .collect();
    assert_eq!(generated.len(), 2);
    let mut fails = 0;
    for d in &docs {
        let v = if d["kind"] == "PolicyReport" {
            &ns_schema
        } else {
            assert_eq!(d["kind"], "ClusterPolicyReport");
            &cluster_schema
        };
        let ours = &generated.iter().find(|(k, _)| d["kind"] == **k).unwrap().1;
        for v in [v, ours] {
            let errors: Vec<String> = v
                .iter_errors(d)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:?}", d["metadata"]);
        }
        let s = &d["summary"];
        let results = d["results"].as_array().unwrap();
        // Under the cap every failing pair is listed; pass counts what ran without finding.
        assert_eq!(
            s["fail"].as_u64().unwrap() as usize,
            results.iter().filter(|r| r["result"] == "fail").count()
        );
        assert!(s["pass"].as_u64().unwrap() > 0, "{s}");
        fails += s["fail"].as_u64().unwrap();
    }
    // One failing result per (rule, object) with an active finding.
    let pairs: std::collections::BTreeSet<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["ruleId"], f["object"]))
        .collect();
    assert_eq!(fails as usize, pairs.len());
    // A report the schema rejects is caught: the validation can fail.
    let mut broken = docs[0].clone();
    broken["results"][0]["result"] = serde_json::json!("maybe");
    assert!(!ns_schema.is_valid(&broken) && !cluster_schema.is_valid(&broken));
}

/// A minimal HTTP/1.1 receiver on 127.0.0.1: answers every POST 200 (keep-alive) and hands
/// each body to the channel. Returns its port.
fn alert_receiver() -> (u16, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { break };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let mut w = conn.try_clone().unwrap();
                let mut r = BufReader::new(conn);
                loop {
                    let mut len = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
                    if w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, rx)
}

#[test]
fn alert_sink_receives_every_alert_of_the_labelled_audit_log_as_falco_json() {
    let Some(log) = palisade_testkit::corpus("apiserver-recordings/audit/audit.jsonl") else {
        return;
    };
    let (port, rx) = alert_receiver();
    let url = format!("http://127.0.0.1:{port}/");
    let o = palisade(&[
        "detect",
        log.to_str().unwrap(),
        "--sink-url",
        &url,
        "--sink-format",
        "falco",
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let alerts: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(alerts.len() > 10, "{}", alerts.len());
    let received: Vec<serde_json::Value> = rx
        .try_iter()
        .map(|b| serde_json::from_str(&b).unwrap())
        .collect();
    assert_eq!(received.len(), alerts.len(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{} sent, 0 dropped", alerts.len())),
        "{}",
        stderr(&o)
    );
    // Falco's fields, in order, one per alert.
    for (a, r) in alerts.iter().zip(&received) {
        assert_eq!(r["source"], "k8s_audit");
        assert_eq!(r["rule"], a["ruleName"]);
        assert_eq!(r["output_fields"]["ka.auditid"], a["auditID"]);
        assert!(
            ["Critical", "Error", "Warning", "Notice", "Informational"]
                .contains(&r["priority"].as_str().unwrap()),
            "{r}"
        );
    }
}

#[test]
fn alert_sink_down_retries_then_drops_and_the_audit_webhook_keeps_answering() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let o = palisade(&[
        "admission",
        "install",
        "--gen-certs",
        certs.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let free = |_: ()| {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (port, sink_port) = (free(()), free(()));
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args([
            "detect",
            "serve",
            "--tls-cert",
            certs.join("tls.crt").to_str().unwrap(),
            "--tls-key",
            certs.join("tls.key").to_str().unwrap(),
            "--addr",
            &addr,
            "--sink-url",
            &format!("http://127.0.0.1:{sink_port}/alerts"),
            "--sink-retries",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ca = std::fs::read_to_string(certs.join("ca.crt")).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let codes = runtime.block_on(async {
        let config = palisade_admission::client::tls_config(&ca).unwrap();
        let sock: std::net::SocketAddr = addr.parse().unwrap();
        let mut client = None;
        for _ in 0..100 {
            if let Ok(c) =
                palisade_admission::client::Client::connect(sock, config.clone(), "127.0.0.1").await
            {
                client = Some(c);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let mut client = client.expect("the server listens");
        let mut codes = Vec::new();
        for i in 0..3 {
            let list = format!(
                "{{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[{}]}}",
                exec_event(&format!("s{i}"), "mallory")
            );
            let started = std::time::Instant::now();
            let r = client.post("/audit", list.into()).await.unwrap();
            // Answered at once, whatever the sink does.
            assert!(started.elapsed() < std::time::Duration::from_secs(2));
            codes.push(r.0.as_u16());
        }
        // Retries: 200 ms, then 400 ms, per alert, one after the other.
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        codes
    });
    assert_eq!(codes, vec![200, 200, 200]);
    // SIGTERM: drains, then reports the counters.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("0 sent, 3 dropped, 6 retried"), "{err}");
}

/// Gatekeeper constraints loaded with `--policy`: findings in the one report, under the same
/// exceptions, selectors, `--fail-on` and output formats.
mod gatekeeper_policies {
    use super::*;

    fn json(o: &Output) -> serde_json::Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(o), stderr(o)))
    }

    fn rule_ids(v: &serde_json::Value, key: &str) -> Vec<String> {
        v[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["ruleId"].as_str().unwrap(),
                    f["object"]["name"].as_str().unwrap()
                )
            })
            .collect()
    }

    const ID: &str = "PalisadeRequireTeamLabel/workloads-need-team";

    #[test]
    fn json_with_exceptions_select_and_fail_on() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("palisade.yaml");
        std::fs::write(
            &config,
            format!("exceptions:\n- rules: [\"{ID}\"]\n  match: {{namespace: shop, name: api}}\n  reason: owned by the platform team\nrules:\n  \"{ID}\": {{severity: high}}\n"),
        )
        .unwrap();
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "--policy",
            "examples/policies",
            "--select",
            "PalisadeRequireTeamLabel",
            "-f",
            "json",
            "--config",
            config.to_str().unwrap(),
            "--fail-on",
            "high",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v = json(&o);
        assert_eq!(
            rule_ids(&v, "findings"),
            [format!("{ID} postgres"), format!("{ID} frontend")]
        );
        assert_eq!(rule_ids(&v, "suppressed"), [format!("{ID} api")]);
        assert_eq!(v["findings"][0]["severity"], "high");
        assert!(v["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no `team` label"));
        assert_eq!(
            v["findings"][0]["location"]["file"],
            "examples/insecure/database.yaml"
        );
        // --ignore by the full id removes them; other rules still run.
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "--policy",
            "examples/policies",
            "--ignore",
            ID,
            "-f",
            "json",
        ]);
        let v = json(&o);
        assert!(rule_ids(&v, "findings")
            .iter()
            .all(|f| !f.starts_with("Palisade")));
        assert!(!v["findings"].as_array().unwrap().is_empty());
    }

    const VAP: &str = "ValidatingAdmissionPolicy/pinned-images/pinned-images-outside-system";

    #[test]
    fn validating_admission_policy_in_json_and_sarif() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("palisade.yaml");
        std::fs::write(
            &config,
            "exceptions:\n- rules: [ValidatingAdmissionPolicy]\n  match: {namespace: shop, name: postgres}\n  reason: the image is mirrored and pinned by the registry\n",
        )
        .unwrap();
        let o = palisade(&[
            "scan",
            "examples/",
            "--policy",
            "examples/policies/pinned-images-vap.yaml",
            "--select",
            "pinned-images",
            "-f",
            "json",
            "--config",
            config.to_str().unwrap(),
            "--fail-on",
            "medium",
        ]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        let v = json(&o);
        assert_eq!(rule_ids(&v, "findings"), [format!("{VAP} frontend")]);
        assert_eq!(rule_ids(&v, "suppressed"), [format!("{VAP} postgres")]);
        let f = &v["findings"][0];
        assert_eq!(f["severity"], "medium");
        assert_eq!(f["mode"], "deny");
        assert_eq!(
            f["message"],
            "Deployment frontend: containers web use an image without a pinned tag"
        );
        assert_eq!(f["properties"]["validationActions"], "Deny");
        // SARIF, selected by the id prefix; a Gatekeeper template loaded beside it.
        let o = palisade(&[
            "scan",
            "examples/",
            "--policy",
            "examples/policies",
            "--select",
            "ValidatingAdmissionPolicy",
            "-f",
            "sarif",
            "--fail-on",
            "none",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = json(&o);
        let results = v["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 2, "{results:?}");
        assert!(results.iter().all(|r| r["ruleId"] == VAP));
        assert_valid_sarif(&v);
    }

    #[test]
    fn vap_that_does_not_compile_is_an_error_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad-vap.yaml");
        std::fs::write(
            &bad,
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: broken\nspec:\n  matchConstraints:\n    resourceRules:\n    - apiGroups: [apps]\n      apiVersions: [v1]\n      operations: [CREATE]\n      resources: [deployments]\n  validations:\n  - expression: \"object.spec.replicas <\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata:\n  name: broken-binding\nspec:\n  policyName: broken\n  validationActions: [Deny]\n",
        )
        .unwrap();
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "--policy",
            bad.to_str().unwrap(),
            "--policy",
            "examples/policies",
            "--select",
            "pinned-images,gatekeeper",
            "-f",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let v = json(&o);
        let errors = v["errors"].to_string();
        assert!(errors.contains("bad-vap.yaml"), "{errors}");
        assert!(errors.contains("\"line\":13"), "{errors}");
        assert!(
            errors.contains("spec.validations[0].expression"),
            "{errors}"
        );
        // The other policies still run.
        let ids = rule_ids(&v, "findings");
        assert!(ids.contains(&format!("{VAP} frontend")), "{ids:?}");
        assert!(ids.contains(&format!("{ID} frontend")), "{ids:?}");
    }

    #[test]
    fn sarif_names_the_constraint() {
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "--policy",
            "examples/policies",
            "--select",
            "gatekeeper",
            "-f",
            "sarif",
            "--fail-on",
            "none",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = json(&o);
        let run = &v["runs"][0];
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| r["ruleId"] == ID));
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert!(rules.iter().any(|r| r["id"] == ID), "{rules:?}");
        assert_valid_sarif(&v);
    }

    #[test]
    fn policies_from_config_and_from_input() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("palisade.yaml");
        let policies = root().join("examples/policies");
        std::fs::write(&config, "policies: [pol]\n").unwrap();
        std::os::unix::fs::symlink(&policies, dir.path().join("pol")).unwrap();
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "--config",
            config.to_str().unwrap(),
            "--select",
            "gatekeeper",
            "-f",
            "json",
        ]);
        assert_eq!(
            json(&o)["findings"].as_array().unwrap().len(),
            3,
            "{}",
            stderr(&o)
        );
        // Policy objects among the scanned manifests are evaluated only when asked, and are
        // then no longer scanned as objects.
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "examples/policies",
            "--select",
            "gatekeeper",
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "examples/policies",
            "--policy-from-input",
            "--select",
            "gatekeeper",
            "-f",
            "json",
        ]);
        let v = json(&o);
        assert_eq!(v["findings"].as_array().unwrap().len(), 3, "{}", stderr(&o));
        assert_eq!(v["input"]["objects"], 11);
    }

    /// `--policy-from-input`: a ValidatingAdmissionPolicy's parameter objects (ConfigMaps
    /// named by its paramRef) come from the scanned manifests; parameterNotFoundAction Deny
    /// holds where a namespace has none.
    #[test]
    fn vap_params_from_the_scanned_manifests() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("policy.yaml"),
            "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata: {name: max-replicas}\nspec:\n  paramKind: {apiVersion: v1, kind: ConfigMap}\n  matchConstraints:\n    resourceRules:\n    - {apiGroups: [apps], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [deployments]}\n  validations:\n  - expression: \"object.spec.replicas <= int(params.data.maxReplicas)\"\n    messageExpression: \"'at most ' + params.data.maxReplicas + ' replicas'\"\n---\napiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicyBinding\nmetadata: {name: max-replicas}\nspec:\n  policyName: max-replicas\n  validationActions: [Deny]\n  paramRef: {name: replica-limit, parameterNotFoundAction: Deny}\n",
        )
        .unwrap();
        let mut apps = String::new();
        for (ns, limit) in [("shop", Some(3)), ("blog", Some(10)), ("empty", None)] {
            if let Some(l) = limit {
                apps.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: replica-limit, namespace: {ns}}}\ndata: {{maxReplicas: \"{l}\"}}\n"));
            }
            apps.push_str(&format!("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {ns}}}\nspec:\n  replicas: 5\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: c, image: nginx}}]}}\n"));
        }
        std::fs::write(dir.path().join("apps.yaml"), apps).unwrap();
        let o = palisade(&[
            "scan",
            dir.path().to_str().unwrap(),
            "--policy-from-input",
            "--select",
            "validatingadmissionpolicy",
            "-f",
            "json",
            "--fail-on",
            "none",
        ]);
        let v = json(&o);
        let mut found: Vec<String> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["object"]["namespace"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap_or("")
                )
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                "empty could not evaluate ValidatingAdmissionPolicy max-replicas: no params found for binding max-replicas: ConfigMap empty/replica-limit (parameterNotFoundAction Deny)",
                "shop at most 3 replicas",
            ],
            "{}",
            stderr(&o)
        );
        // The ConfigMaps are still scanned as objects; the policy objects are not.
        assert_eq!(v["input"]["objects"], 5, "{}", stderr(&o));
    }

    #[test]
    fn a_bad_policy_is_an_error_with_file_and_line_and_the_others_still_run() {
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.yaml");
        std::fs::write(
            &bad,
            "apiVersion: constraints.gatekeeper.sh/v1beta1\nkind: PalisadeRequireTeamLabel\nmetadata:\n  name: wrong-params\nspec:\n  parameters:\n    label: [team]\n",
        )
        .unwrap();
        let o = palisade(&[
            "scan",
            "examples/insecure",
            "--policy",
            "examples/policies",
            "--policy",
            bad.to_str().unwrap(),
            "--select",
            "gatekeeper",
            "-f",
            "json",
        ]);
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(&o);
        assert!(err.contains("bad.yaml:7:"), "{err}");
        assert!(err.contains("parameters.label must be a string"), "{err}");
        assert_eq!(json(&o)["findings"].as_array().unwrap().len(), 3);
    }

    /// `admission serve` without `--cluster-cache`: a template that reads `data.inventory`
    /// is named as not evaluated; when it is the only rule selected, the webhook refuses to
    /// start rather than admit everything.
    #[test]
    fn admission_serve_names_referential_templates_without_the_cache() {
        let corpus = root().join(
            "../shared/corpus/gatekeeper-library/library/general/uniqueingresshost/template.yaml",
        );
        // Without the shared corpus there is nothing to run.
        let Ok(template) = std::fs::read_to_string(&corpus) else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("policy.yaml"),
            format!("{template}\n---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sUniqueIngressHost\nmetadata: {{name: unique-host}}\nspec:\n  match: {{kinds: [{{apiGroups: [networking.k8s.io], kinds: [Ingress]}}]}}\n"),
        )
        .unwrap();
        let config = dir.path().join("palisade.yaml");
        std::fs::write(&config, "select: [gatekeeper]\n").unwrap();
        let missing = dir.path().join("missing.pem");
        let o = palisade(&[
            "admission",
            "serve",
            "--tls-cert",
            missing.to_str().unwrap(),
            "--tls-key",
            missing.to_str().unwrap(),
            "--policy",
            dir.path().join("policy.yaml").to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ]);
        assert_ne!(o.status.code(), Some(0));
        let err = stderr(&o);
        assert!(
            err.contains("warning: K8sUniqueIngressHost/unique-host read data.inventory")
                && err.contains("only with --cluster-cache"),
            "{err}"
        );
        assert!(
            err.contains("selects no rule that admission evaluates"),
            "{err}"
        );
    }

    #[test]
    fn rules_and_explain_show_loaded_constraints() {
        let o = palisade(&[
            "rules",
            "--policy",
            "examples/policies",
            "--select",
            "gatekeeper",
        ]);
        assert!(stdout(&o).contains(ID), "{}", stdout(&o));
        let o = palisade(&["explain", ID, "--policy", "examples/policies"]);
        let out = stdout(&o);
        assert!(
            out.contains("## Match") && out.contains("excludedNamespaces"),
            "{out}"
        );
        assert!(out.contains("package palisaderequireteamlabel"), "{out}");
        assert!(out.contains("`warn`"), "{out}");
    }
}

/// VER005/VER006 read only the identity and metadata of the objects they judge: a
/// CustomResourceDefinition is kept without its schema (which dominates large repositories'
/// bytes), and its removed `apiextensions.k8s.io/v1beta1` version, or the version a CronJob
/// was last applied as, is still reported at its file and line, by a scan of every rule.
#[test]
fn removed_versions_are_found_in_objects_kept_as_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let mut crd = String::from(
        "apiVersion: apiextensions.k8s.io/v1beta1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  validation:\n    openAPIV3Schema:\n      type: object\n      properties:\n",
    );
    for i in 0..200 {
        crd.push_str(&format!(
            "        field{i}: {{type: string, description: \"a field\"}}\n"
        ));
    }
    std::fs::write(dir.path().join("crd.yaml"), &crd).unwrap();
    let applied = r#"{"apiVersion":"batch/v1beta1","kind":"CronJob","metadata":{"name":"nightly","namespace":"shop"}}"#;
    std::fs::write(
        dir.path().join("cronjob.yaml"),
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{applied}'\nspec:\n  schedule: \"0 3 * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n          - name: job\n            image: registry.example/job:1.0\n"
        ),
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let o = palisade(&[
        "scan",
        d,
        "--target-version",
        "v1.33",
        "--format",
        "json",
        "--fail-on",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ver005: Vec<(String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["ruleId"] == "VER005")
        .map(|f| {
            (
                f["object"]["kind"].as_str().unwrap_or("").to_owned(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        ver005.contains(&("CustomResourceDefinition".to_owned(), 1)),
        "{ver005:?}"
    );
    assert!(
        ver005.iter().any(|(k, l)| k == "CronJob" && *l > 0),
        "{ver005:?}"
    );
}
