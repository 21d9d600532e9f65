//! Replays Falco's legacy k8s_audit regression traces and compares Palisade's
//! alerts with Falco's expectations, through the mapping in `falco_map`.
#![allow(clippy::print_stdout)]

mod common;

use std::collections::BTreeMap;

use palisade_detect::falco_map::{lookup, FALCO_MAP};
use palisade_detect::{Detector, RuleSet};
use serde_json::Value;

#[test]
fn falco_legacy_traces() {
    let Some(dir) = common::corpus_dir("falco-k8saudit") else {
        return;
    };
    let index: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expectations_index.json")).unwrap(),
    )
    .unwrap();
    let (mut compared, mut agreed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    for case in &index {
        let test = case["test"].as_str().unwrap();
        let trace = case["trace_file"].as_str().unwrap();
        let detect = case["detect"].as_bool().unwrap_or(false);
        let counts: BTreeMap<String, u64> = case["detect_counts"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        let rules_files: Vec<&str> = case["rules_file"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        // Cases whose outcome depends on a test-specific Falco list override
        // (trusted/allowed images, users, namespaces) cannot be reproduced.
        let override_file = rules_files.iter().find(|f| {
            let base = f.rsplit('/').next().unwrap_or(f);
            base.starts_with("allow_") || base.contains("trust")
        });
        let doc = std::fs::read(dir.join(trace)).unwrap();
        let mut det = Detector::new(RuleSet::builtin());
        let mut alerts = det.feed_document(&doc);
        alerts.extend(det.flush());
        let got = |id: &str| alerts.iter().filter(|a| a.rule_id == id).count() as u64;

        if detect {
            for (falco_rule, want) in &counts {
                let m = lookup(falco_rule);
                match m {
                    Some(m) if m.comparable && m.palisade.is_some() && override_file.is_none() => {
                        let id = m.palisade.unwrap_or_default();
                        compared += 1;
                        let n = got(id);
                        let ok = n == *want;
                        println!(
                            "{:<58} {:<45} -> {id} want {want} got {n} {}",
                            test,
                            falco_rule,
                            if ok { "OK" } else { "MISMATCH" }
                        );
                        if ok {
                            agreed += 1;
                        } else {
                            failures.push(format!(
                                "{test}: {falco_rule} -> {id}: want {want}, got {n}"
                            ));
                        }
                    }
                    _ => {
                        skipped += 1;
                        let why = match (m, override_file) {
                            (_, Some(f)) => format!("depends on Falco override {f}"),
                            (Some(m), _) => m.note.to_string(),
                            (None, _) => "unknown Falco rule".into(),
                        };
                        println!("{test:<58} {falco_rule:<45} SKIPPED: {why}");
                    }
                }
            }
        } else {
            // No Falco detection expected. Compare against every comparable
            // mapped rule: none of them may fire (unless an override explains it).
            if override_file.is_some() {
                skipped += 1;
                println!(
                    "{test:<58} {:<45} SKIPPED: depends on Falco override",
                    "(no detection)"
                );
                continue;
            }
            compared += 1;
            let fired: Vec<String> = alerts
                .iter()
                .filter(|a| {
                    FALCO_MAP
                        .iter()
                        .any(|m| m.comparable && m.palisade == Some(a.rule_id.as_str()))
                })
                .map(|a| a.rule_id.clone())
                .collect();
            let ok = fired.is_empty();
            println!(
                "{test:<58} {:<45} -> none; got {fired:?} {}",
                "(no detection)",
                if ok { "OK" } else { "MISMATCH" }
            );
            if ok {
                agreed += 1;
            } else {
                failures.push(format!("{test}: expected no detection, got {fired:?}"));
            }
        }
    }
    println!("falco legacy: {compared} compared, {agreed} agree, {skipped} skipped");
    assert!(
        failures.is_empty(),
        "disagreements:\n{}",
        failures.join("\n")
    );
    assert!(compared >= 28, "too few cases compared: {compared}");
}

#[test]
fn falco_mapping_doc_covers_all_rules() {
    let Some(dir) = common::corpus_dir("falco-k8saudit") else {
        return;
    };
    let rules =
        std::fs::read_to_string(dir.join("plugins/plugins/k8saudit/rules/k8s_audit_rules.yaml"))
            .or_else(|_| {
                std::fs::read_to_string(dir.join("plugins/k8saudit/rules/k8s_audit_rules.yaml"))
            })
            .unwrap();
    let names: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.strip_prefix("- rule: "))
        .map(str::trim)
        .collect();
    assert_eq!(names.len(), 48);
    let doc = include_str!("../docs/falco-k8saudit.md");
    for n in &names {
        assert!(lookup(n).is_some(), "falco_map lacks {n}");
        assert!(
            doc.contains(&format!("| {n} |")),
            "docs/falco-k8saudit.md lacks {n}"
        );
    }
    let rs = RuleSet::builtin();
    for m in FALCO_MAP {
        if let Some(id) = m.palisade {
            assert!(rs.get(id).is_some(), "{} maps to unknown {id}", m.falco);
        }
    }
}
