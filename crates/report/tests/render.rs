//! Renderers over one sample scan: snapshots of JSON, table, Markdown and JUnit output,
//! SARIF validated against the SARIF 2.1.0 schema, the HTML page's structure, counts and
//! escaping, and no Secret or credential value in any format.

#![allow(clippy::print_stderr)]

use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, Policy, Report};
use palisade_report::{render, Format, RenderOptions};
use std::path::{Path, PathBuf};

#[path = "render/crd.rs"]
mod crd;

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
    palisade_testkit::schema("sarif-2.1.0.schema.json")
}

#[test]
fn sarif_validates_against_the_schema() {
    let Some(schema) = schema_path() else {
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
        Format::Html,
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

/// A report with something in every part of the SARIF document: findings with a fix and
/// with properties, suppressed findings, input errors and warnings (located and not), a
/// skipped rule, the host checks' counts and the events read.
fn full_report() -> (
    Report,
    std::collections::HashMap<usize, palisade_report::ArtifactFix>,
) {
    use palisade_core::{EventStats, InputIssue, SkippedRule};
    let mut r = sample();
    let node = node_report();
    r.findings.extend(node.findings);
    r.rules.extend(node.rules);
    r.node = node.node;
    r.events = Some(EventStats {
        events: 12,
        alerts: 3,
        bad_lines: 1,
        non_events: 0,
        oversized: 2,
        bad_items: 0,
    });
    r.errors.push(InputIssue {
        file: "broken dir/bad.yaml".into(),
        line: 3,
        column: 0,
        message: "mapping values are not allowed here".into(),
    });
    r.warnings.push(InputIssue {
        file: "whole.yaml".into(),
        line: 0,
        column: 0,
        message: "a key written twice".into(),
    });
    r.skipped_rules.push(SkippedRule {
        rule_id: "NET001",
        rule_name: "namespace-without-network-policy",
        unreadable_kinds: vec!["NetworkPolicy".into()],
        reason: "NetworkPolicy could not be read".into(),
    });
    r.findings[0]
        .properties
        .insert("auditID".into(), "a-1".into());
    let fix = palisade_report::ArtifactFix {
        description: "set privileged: false".into(),
        file: r.findings[0].location.as_ref().unwrap().file.to_string(),
        replacements: vec![palisade_report::Replacement {
            start_line: 4,
            start_column: 7,
            end_line: 4,
            end_column: 11,
            inserted: "false \"é\"\n".into(),
        }],
    };
    (r, [(0, fix)].into())
}

#[test]
fn sarif_is_written_result_by_result_with_the_bytes_of_the_whole_document() {
    let (r, fixes) = full_report();
    assert!(!r.findings.is_empty() && !r.suppressed.is_empty());
    let rendered = render(&r, Format::Sarif, &opts());
    let mut written = Vec::new();
    palisade_report::write(&r, Format::Sarif, &opts(), &mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), rendered);
    let rendered = palisade_report::render_sarif_with_fixes(&r, &opts(), &fixes);
    let mut written = Vec::new();
    palisade_report::write_sarif_with_fixes(&r, &opts(), &fixes, &mut written).unwrap();
    let written = String::from_utf8(written).unwrap();
    assert_eq!(written, rendered);
    // The bytes of the document built whole as one JSON value, then printed: the same
    // keys in the same order, the same indentation, a final newline.
    let doc: serde_json::Value = serde_json::from_str(&written).unwrap();
    let whole = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    assert_eq!(written, whole);
    // Every part is there, so the comparison covers it.
    let run = &doc["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), r.findings.len() + r.suppressed.len());
    assert_eq!(
        results[0]["fixes"][0]["description"]["text"],
        "set privileged: false"
    );
    assert_eq!(results[0]["properties"]["auditID"], "a-1");
    assert!(results.iter().filter(|x| x["fixes"].is_array()).count() == 1);
    assert!(results.iter().any(|x| x["suppressions"].is_array()));
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(notes.iter().any(|n| n["level"] == "error"));
    assert!(notes.iter().any(|n| n["associatedRule"]["id"] == "NET001"));
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    assert_eq!(run["properties"]["benchmark"], "cis-1.12");
    assert_eq!(run["properties"]["events"]["oversized"], 2);
}

#[test]
fn sarif_write_reports_the_writers_error() {
    struct Full(usize);
    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 + buf.len() > 4096 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "closed",
                ));
            }
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (r, _) = full_report();
    let e = palisade_report::write(&r, Format::Sarif, &opts(), &mut Full(0)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
}

#[test]
fn policyreports_are_written_document_by_document_with_the_same_bytes() {
    let (mut r, _) = full_report();
    r.evaluations = Some([(Some("prod".to_owned()), 40), (None, 3)].into());
    let docs = palisade_report::policyreport::documents(&r, &opts());
    assert!(docs.len() > 1);
    let whole: String = docs
        .iter()
        .map(|d| format!("---\n{}", serde_yaml_ng::to_string(d).unwrap()))
        .collect();
    let mut written = Vec::new();
    palisade_report::write(&r, Format::PolicyReport, &opts(), &mut written).unwrap();
    assert_eq!(String::from_utf8(written).unwrap(), whole);
    assert_eq!(render(&r, Format::PolicyReport, &opts()), whole);
}

fn html_count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The text between `start` and the next `end` after it.
fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let i = s.find(start).unwrap_or_else(|| panic!("{start} missing")) + start.len();
    let j = s[i..].find(end).unwrap_or_else(|| panic!("{end} missing")) + i;
    &s[i..j]
}

#[test]
fn html_structure_and_counts_match_the_report() {
    use palisade_core::Severity;
    let r = sample();
    let s = r.summary();
    let out = render(&r, Format::Html, &opts());
    assert!(out.starts_with("<!DOCTYPE html>"));
    assert!(out.trim_end().ends_with("</html>"));
    assert_eq!(out, render(&r, Format::Html, &opts()), "deterministic");
    // Self-contained: nothing to fetch, and the policy forbids fetching.
    for fetch in [
        "<link",
        " src=",
        "url(",
        "@import",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!out.contains(fetch), "{fetch}");
    }
    let csp = between(
        &out,
        "http-equiv=\"Content-Security-Policy\" content=\"",
        "\"",
    );
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    // The only script is allowed by its hash: a changed script without a changed hash
    // would not run.
    assert_eq!(html_count(&out, "<script"), 1);
    let script = between(&out, "<script>", "</script>");
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    assert!(
        csp.contains(&format!("script-src 'sha256-{hash}'")),
        "{csp}"
    );

    // One row per finding, in each table; the summary cards and the donut agree.
    assert!(r.findings.len() > 5 && !r.suppressed.is_empty());
    assert_eq!(html_count(&out, "data-table=\"active\""), r.findings.len());
    assert_eq!(
        html_count(&out, "data-table=\"suppressed\""),
        r.suppressed.len()
    );
    assert!(out.contains(&format!(
        "data-card=\"findings\"><b>{}</b>",
        r.findings.len()
    )));
    assert!(out.contains(&format!(
        "data-card=\"expired\"><b>{}</b>",
        r.expired_exceptions.len()
    )));
    let donut = between(&out, "id=\"chart-severity\"", "</div></div></div>");
    for sev in Severity::ALL {
        let n = s.by_severity[&sev];
        assert!(donut.contains(&format!("{sev} <b>{n}</b>")), "{sev} {n}");
        assert_eq!(
            donut.contains(&format!("<title>{sev}: {n}</title>")),
            n > 0,
            "a segment for {sev} only when it has findings"
        );
    }
    // Each namespace's bar adds up to its findings.
    let ns_chart = between(&out, "id=\"chart-namespace\"", "</svg>");
    for ns in ["shop", "monitoring"] {
        let n = r
            .findings
            .iter()
            .filter(|f| f.object.namespace.as_deref() == Some(ns))
            .count();
        if n > 0 {
            assert!(
                ns_chart.contains(&format!("<title>{ns}: {n}</title>")),
                "{ns}: {n}\n{ns_chart}"
            );
        }
    }
    // Each finding's row carries its rule's references, its fix and its namespace.
    let f = r
        .findings
        .iter()
        .find(|f| f.fix.is_some() && f.object.namespace.is_some())
        .unwrap();
    let meta = r.rules.iter().find(|m| m.id == f.rule_id).unwrap();
    assert!(!meta.references.is_empty());
    let all_rows = between(&out, "id=\"active-findings\"", "</table>");
    let row = all_rows
        .split("<tr ")
        .find(|row| {
            row.contains(&format!("<code>{}</code>", f.rule_id)) && row.contains(&f.object.name)
        })
        .unwrap();
    for reference in meta.references {
        assert!(row.contains(&format!("<span class=\"ref\">{reference}</span>")));
    }
    assert!(row.contains("<div class=\"fix\">fix: "));
    // The namespace filter offers every namespace with a finding.
    let select = between(&out, "<select id=\"ns\">", "</select>");
    for f in r.findings.iter().chain(&r.suppressed) {
        let ns = f.object.namespace.as_deref().unwrap_or("");
        assert!(select.contains(&format!("<option value=\"{ns}\">")), "{ns}");
    }
    // Exceptions: the one in use with its expiry, the expired one with its date.
    let in_use = between(&out, "id=\"exceptions-in-use\"", "</table>");
    assert!(in_use.contains("data-expires=\"2099-01-31\""), "{in_use}");
    assert!(in_use.contains("team-observability"));
    let expired = between(&out, "id=\"expired-exceptions\"", "</table>");
    assert_eq!(html_count(expired, "<tr>") - 1, r.expired_exceptions.len());
    assert!(expired.contains("2020-01-01") && expired.contains("migration to digests"));
    insta::assert_snapshot!(
        "html_charts",
        between(&out, "<section id=\"charts\">", "</section>")
    );
}

#[test]
fn html_escapes_every_string_of_the_report() {
    use palisade_core::report::{Suppression, UnreadableKind};
    use palisade_core::{InputIssue, Mode, ObjectRef, ReportFinding, Severity, SkippedRule};
    let evil = "<script>alert(1)</script>";
    let finding = |suppression| ReportFinding {
        rule_id: "POD001",
        rule_name: "privileged-container",
        severity: Severity::High,
        message: format!("container \"{evil}\" & 'x'"),
        object: ObjectRef {
            api_version: "v1".into(),
            kind: "Pod".into(),
            namespace: Some("<b>ns</b>".into()),
            name: evil.into(),
        }
        .into(),
        location: Some(palisade_core::SourceLoc {
            file: format!("dir/{evil}.yaml").into(),
            line: 3,
            column: 1,
        }),
        path: Some("/spec/<x>".into()),
        fix: Some(format!("set {evil}").into()),
        mode: Mode::Audit,
        properties: [("user".into(), evil.to_owned())].into_iter().collect(),
        suppression,
    };
    let report = Report {
        findings: vec![finding(None)],
        suppressed: vec![finding(Some(Box::new(Suppression::Exception {
            index: 0,
            reason: evil.into(),
            owner: Some(evil.into()),
            ticket: Some(evil.into()),
            expires: Some("<2027-01-01>".into()),
        })))],
        errors: vec![InputIssue {
            file: evil.into(),
            line: 1,
            column: 1,
            message: evil.into(),
        }],
        notes: vec![evil.into()],
        unreadable: vec![UnreadableKind {
            kind: evil.into(),
            resource: evil.into(),
            reason: evil.into(),
        }],
        skipped_rules: vec![SkippedRule {
            rule_id: "NET001",
            rule_name: "x",
            unreadable_kinds: vec![evil.into()],
            reason: evil.into(),
        }],
        ..Report::default()
    };
    let out = render(&report, Format::Html, &opts());
    assert!(!out.contains(evil), "an unescaped string");
    assert!(!out.contains("<b>ns</b>") && !out.contains("<x>") && !out.contains("<2027"));
    assert_eq!(html_count(&out, "<script"), 1, "only the page's own script");
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;";
    // Object (2 rows), message, fix, file, property, reason, owner, ticket, error, note,
    // unreadable kind, skipped rule: each shows the text escaped.
    assert!(
        html_count(&out, escaped) >= 15,
        "{}",
        html_count(&out, escaped)
    );
    assert!(out.contains("Pod &lt;b&gt;ns&lt;/b&gt;/&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(out
        .contains("container &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot; &amp; &#39;x&#39;"));
    assert!(out.contains("data-ns=\"&lt;b&gt;ns&lt;/b&gt;\""));
    assert!(out.contains("<option value=\"&lt;b&gt;ns&lt;/b&gt;\">"));
}

#[test]
fn html_of_a_node_report() {
    let r = node_report();
    let out = render(&r, Format::Html, &opts());
    assert!(out.contains("<title>Palisade node checks report</title>"));
    assert!(
        !out.contains("chart-namespace"),
        "host checks have no namespace"
    );
    let n = r.node.as_ref().unwrap();
    let donut = between(&out, "id=\"chart-node\"", "</div></div></div>");
    for (st, want) in [
        ("PASS", 1),
        ("FAIL", 1),
        ("WARN", 1),
        ("MANUAL", 1),
        ("SKIP", 0),
    ] {
        assert!(donut.contains(&format!("{st} <b>{want}</b>")), "{st}");
    }
    let results = between(&out, "id=\"node-results\"", "</table>");
    assert_eq!(html_count(results, "<span class=\"st st-"), n.results.len());
    assert!(results.contains("ca.crt expires in 10 days &lt;soon&gt; &amp; &quot;quoted&quot;"));
    assert_eq!(
        html_count(&out, "data-table=\"active\""),
        r.findings.len(),
        "FAIL and WARN are findings"
    );
    assert_eq!(r.findings.len(), 2);
}
