//! Admission = scan: every object of every rule fixture and of the real-world manifests gets,
//! from the admission handler, exactly the rule ids `palisade scan` reports for it.
//!
//! The deliberate exception: rules that need the rest of the cluster to answer (an absent
//! NetworkPolicy or disruption budget, RBAC escalation paths, version skew) are not
//! object-local (`Rule::object_local`) and are not evaluated at admission; they are left out
//! of the scan side too, and the test checks the list of such rules stays what the README
//! says.

use crate::util::{corpus_dir, date};
use palisade_admission::{Evaluator, EvaluatorOptions};
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, ObjectRef};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const TODAY: &str = "2026-11-23";

type PerObject = BTreeMap<(String, ObjectRef, u32), BTreeSet<&'static str>>;

fn local_rule(id: &str) -> bool {
    palisade_rules::all()
        .iter()
        .any(|r| r.meta().id == id && r.object_local())
}

fn review_body(object: &Value, i: usize) -> Vec<u8> {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let kind = object["kind"].as_str().unwrap_or("");
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": format!("uid-{i}"),
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": "x"},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": "x"},
            "namespace": object["metadata"]["namespace"].as_str(),
            "name": object["metadata"]["name"].as_str().unwrap_or(""),
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": object,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        }
    })
    .to_string()
    .into_bytes()
}

/// Compares scan and admission over the objects of `paths`; returns (objects, findings).
fn compare(paths: &[PathBuf]) -> (usize, usize) {
    let loaded = palisade_load::load_paths(paths);
    let objects: Vec<palisade_core::Object> = loaded.objects.clone();
    let opts = Options::new(date(TODAY));
    let inventory = Inventory::new(loaded.objects);
    let report = analyze(&inventory, InputSummary::default(), &opts);
    let key = |o: &palisade_core::Object| {
        let src = o.source.as_ref().expect("files have sources");
        (src.file.to_string(), o.reference(), src.line)
    };
    let mut scan: PerObject = BTreeMap::new();
    for o in &objects {
        scan.entry(key(o)).or_default();
    }
    for f in &report.findings {
        if !local_rule(f.rule_id) {
            continue;
        }
        let loc = f.location.as_ref().expect("located");
        // The object whose document holds the finding: the last one starting at or
        // before its line in that file.
        let owner = objects
            .iter()
            .filter(|o| {
                let s = o.source.as_ref().unwrap();
                *s.file == *loc.file && o.reference() == f.object && s.line <= loc.line
            })
            .max_by_key(|o| o.source.as_ref().unwrap().line)
            .expect("finding's object");
        scan.entry(key(owner)).or_default().insert(f.rule_id);
    }
    let evaluator = Evaluator::new(opts.clone(), EvaluatorOptions::default());
    let mut admission: PerObject = BTreeMap::new();
    let mut findings = 0;
    for (i, o) in objects.iter().enumerate() {
        let outcome = evaluator
            .review(&review_body(&o.value, i), date(TODAY))
            .unwrap_or_else(|e| panic!("{}: {e}", key(o).0));
        let ids = admission.entry(key(o)).or_default();
        for d in &outcome.findings {
            ids.insert(d.finding.rule_id);
            findings += 1;
        }
    }
    let mut differences = Vec::new();
    for (k, ids) in &scan {
        let got = admission.get(k).cloned().unwrap_or_default();
        if &got != ids {
            differences.push(format!(
                "{} {} (line {}): scan {:?}, admission {:?}",
                k.0, k.1, k.2, ids, got
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} objects differ:\n{}",
        differences.len(),
        differences
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    (objects.len(), findings)
}

#[test]
fn rule_fixtures_get_the_same_verdict_at_admission() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut total = (0, 0);
    // Each fixture on its own: a fixture is a scan of its own.
    for d in &dirs {
        for f in std::fs::read_dir(d).expect("fixture dir") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "yaml") {
                let (o, n) = compare(std::slice::from_ref(&f));
                total.0 += o;
                total.1 += n;
            }
        }
    }
    println!(
        "{} fixture objects, {} admission findings",
        total.0, total.1
    );
    assert!(total.0 > 200, "{total:?}");
}

#[test]
fn real_manifests_get_the_same_verdict_at_admission() {
    let Some(corpus) = corpus_dir() else {
        println!("skipping: shared/corpus not found");
        return;
    };
    // File by file: objects of different projects are not one cluster (the same
    // NetworkPolicy name in two install variants is two objects, not one).
    let (files, _) = palisade_load::expand_paths(&[corpus.join("real-manifests")]);
    let (mut objects, mut findings) = (0, 0);
    for f in &files {
        let (o, n) = compare(std::slice::from_ref(f));
        objects += o;
        findings += n;
    }
    println!(
        "{objects} real-world objects in {} files, {findings} admission findings",
        files.len()
    );
    assert!(objects > 1000, "{objects}");
}

#[test]
fn rules_left_to_scan_are_the_documented_ones() {
    let mut left: Vec<&str> = palisade_rules::all()
        .iter()
        .filter(|r| !r.object_local())
        .map(|r| r.meta().id)
        .collect();
    left.sort();
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README");
    let start = readme
        .find("## Admission webhook")
        .expect("admission section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    for id in &left {
        assert!(
            section.contains(id),
            "{id} is not evaluated at admission; the README's admission section must say so"
        );
    }
}
