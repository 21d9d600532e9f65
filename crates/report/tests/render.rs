//! Renderers over one sample scan: snapshots of JSON, table, Markdown and JUnit output,
//! SARIF validated against the SARIF 2.1.0 schema, and no Secret or credential value in any
//! format.

#![allow(clippy::print_stderr)]

use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, Policy, Report};
use palisade_report::{render, Format, RenderOptions};
use std::path::{Path, PathBuf};

fn data(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn sample() -> Report {
    let loaded = palisade_load::load_str("tests/data/sample.yaml", &data("sample.yaml"));
    let docs = palisade_load::yaml::parse_documents(&data("policy.yaml"), 1, true).unwrap();
    let metas = palisade_rules::registry::metas();
    let policy = Policy::from_value(&docs[0].value, &docs[0].spans, "policy.yaml", &metas).unwrap();
    let mut opts = Options::new("2026-06-01".parse().unwrap());
    opts.policy = policy;
    let inv = Inventory::new(loaded.objects);
    analyze(
        &inv,
        InputSummary {
            errors: loaded.errors,
            warnings: loaded.warnings,
            stats: loaded.stats,
            unreadable: loaded.unreadable,
        },
        &opts,
    )
}

fn opts() -> RenderOptions {
    RenderOptions {
        color: false,
        tool_version: "0.0.0-test".into(),
    }
}

#[test]
fn json_snapshot() {
    let out = render(&sample(), Format::Json, &opts());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["summary"]["suppressedByException"], 1);
    assert_eq!(v["summary"]["expiredExceptions"], 1);
    insta::assert_snapshot!("json", out);
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!("table", render(&sample(), Format::Table, &opts()));
}

#[test]
fn markdown_and_junit_snapshots() {
    let r = sample();
    insta::assert_snapshot!("markdown", render(&r, Format::Markdown, &opts()));
    insta::assert_snapshot!("junit", render(&r, Format::Junit, &opts()));
}

fn schema_path() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/schemas/sarif-2.1.0.schema.json"))
        .find(|p| p.is_file())
}

#[test]
fn sarif_validates_against_the_schema() {
    let Some(schema) = schema_path() else {
        eprintln!("SKIPPED: ../shared/schemas/sarif-2.1.0.schema.json not found");
        return;
    };
    let mut schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
    // The published schema's `language` patterns (run, toolComponent) have a stray `]`, which
    // the validator's meta-schema check rejects as a regex; they are replaced by their intent.
    for def in ["run", "toolComponent"] {
        schema["definitions"][def]["properties"]["language"]["pattern"] =
            serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
    }
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let out = render(&sample(), Format::Sarif, &opts());
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().all(
        |r| r["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
            > 0
    ));
    assert!(results.iter().any(|r| r["suppressions"].is_array()));
    // A deliberately broken SARIF document is rejected, so the validation above can fail.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = serde_json::json!("severe");
    assert!(!validator.is_valid(&broken));
}

#[test]
fn no_secret_value_in_any_format() {
    let r = sample();
    assert!(r.findings.iter().any(|f| f.rule_id == "SEC002"));
    assert!(r.findings.iter().any(|f| f.rule_id == "SEC003"));
    for rule in ["SEC004", "SEC005", "SEC006", "PLAT001"] {
        assert!(r.findings.iter().any(|f| f.rule_id == rule), "{rule}");
    }
    for kind in ["a JSON Web Token", "a high-entropy credential"] {
        assert!(
            r.findings
                .iter()
                .any(|f| f.rule_id == "SEC002" && f.message.contains(kind)),
            "{kind}"
        );
    }
    for format in [
        Format::Table,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Markdown,
    ] {
        let out = render(
            &r,
            format,
            &RenderOptions {
                color: true,
                ..opts()
            },
        );
        for canary in ["CANARY", "Q0FOQVJZ"] {
            assert!(
                !out.contains(canary),
                "{format:?} output contains a secret value ({canary})"
            );
        }
    }
}

fn node_report() -> palisade_core::Report {
    use palisade_core::node::{NodeComponent, NodeSection};
    use palisade_core::{CheckResult, CheckStatus, NodeReport, Severity};
    let r = |id: &str, section: &str, status: CheckStatus, observed: &str| CheckResult {
        id: id.to_owned(),
        section: section.to_owned(),
        family: "CP",
        title: format!("check {id}"),
        status,
        severity: Severity::High,
        component: Some("kube-apiserver".to_owned()),
        observed: observed.to_owned(),
        expected: Some("something".to_owned()),
        file: Some("/etc/kubernetes/manifests/kube-apiserver.yaml".to_owned()),
        remediation: Some("fix it".to_owned()),
        automated: status != CheckStatus::Manual,
        suppression: None,
    };
    let mut node = NodeReport {
        benchmark: "cis-1.12".to_owned(),
        root: "/host".to_owned(),
        host: String::new(),
        components: vec![NodeComponent {
            name: "kube-apiserver".to_owned(),
            sources: vec!["process 42".to_owned()],
            version: Some("1.31.4".to_owned()),
        }],
        sections: vec![
            NodeSection {
                id: "1.2".to_owned(),
                title: "API Server".to_owned(),
                counts: Default::default(),
            },
            NodeSection {
                id: "tls".to_owned(),
                title: "TLS".to_owned(),
                counts: Default::default(),
            },
        ],
        results: vec![
            r(
                "1.2.1",
                "1.2",
                CheckStatus::Manual,
                "--anonymous-auth unset (default true)",
            ),
            r(
                "1.2.6",
                "1.2",
                CheckStatus::Fail,
                "--authorization-mode=AlwaysAllow",
            ),
            r("1.2.15", "1.2", CheckStatus::Pass, "--profiling=false"),
            r(
                "tls.cert-expiry",
                "tls",
                CheckStatus::Warn,
                "ca.crt expires in 10 days <soon> & \"quoted\"",
            ),
        ],
        totals: Default::default(),
    };
    node.recount();
    // The policy makes each FAIL and WARN a finding (host = root: the table names no node).
    palisade_analyze::node::apply_node_policy(
        node,
        "/host",
        &Options::new("2026-06-01".parse().unwrap()),
    )
}

#[test]
fn node_report_in_every_format() {
    let r = node_report();
    let n = r.node.as_ref().unwrap();
    assert_eq!(
        (n.totals.pass, n.totals.fail, n.totals.warn, n.totals.manual),
        (1, 1, 1, 1)
    );
    insta::assert_snapshot!("node_table", render(&r, Format::Table, &opts()));
    insta::assert_snapshot!("node_markdown", render(&r, Format::Markdown, &opts()));
    insta::assert_snapshot!("node_junit", render(&r, Format::Junit, &opts()));
    let json: serde_json::Value = serde_json::from_str(&render(&r, Format::Json, &opts())).unwrap();
    assert_eq!(json["node"]["sections"][0]["counts"]["fail"], 1);
    assert_eq!(json["node"]["results"][1]["status"], "FAIL");
    let sarif: serde_json::Value =
        serde_json::from_str(&render(&r, Format::Sarif, &opts())).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2, "FAIL and WARN only");
    // One writer: host checks are results like findings, with the catalogue's rules.
    assert_eq!(results[0]["ruleId"], "1.2.6");
    assert_eq!(results[0]["level"], "error");
    assert_eq!(results[1]["ruleId"], "tls.cert-expiry");
    assert_eq!(
        results[1]["level"], "warning",
        "a WARN is at most a warning"
    );
    assert_eq!(
        results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "Node//host"
    );
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "/etc/kubernetes/manifests/kube-apiserver.yaml"
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["1.2.1", "1.2.6", "1.2.15", "tls.cert-expiry"]);
    assert!(rules[1]["help"]["text"]
        .as_str()
        .unwrap()
        .contains("--authorization-mode"));
    assert_eq!(
        results[0]["ruleIndex"].as_u64(),
        Some(1),
        "ruleIndex points at the result's rule"
    );
    assert_eq!(sarif["runs"][0]["properties"]["totals"]["fail"], 1);
    assert_eq!(sarif["runs"][0]["properties"]["benchmark"], "cis-1.12");
    if let Some(schema) = schema_path() {
        let mut schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(schema).unwrap()).unwrap();
        for def in ["run", "toolComponent"] {
            schema["definitions"][def]["properties"]["language"]["pattern"] =
                serde_json::json!("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
        }
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("schema compiles");
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "SARIF invalid:\n{}", errors.join("\n"));
    }
}
