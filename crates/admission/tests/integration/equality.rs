//! Admission = scan: every object of every rule fixture and of the real-world manifests gets,
//! from the admission handler, exactly the rule ids `palisade scan` reports for it.
//!
//! Twice: without a cluster cache, where the rules that need the rest of the cluster (RBAC
//! grants, NetworkPolicy coverage, disruption budgets) are not evaluated at admission and are
//! left out of the scan side too; and with a cluster view holding the file's objects (what a
//! watch cache of a cluster made of that file would hold), where every rule except those
//! about the whole cluster (`AdmissionNeeds::ScanOnly`: its version, its policy engine) is
//! compared. The test also checks the README names the rules each way leaves out.

use crate::util::{corpus, date};
use palisade_admission::{Evaluator, EvaluatorOptions, StaticView};
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{AdmissionNeeds, Inventory, ObjectRef};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const TODAY: &str = "2026-11-23";

type PerObject = BTreeMap<(String, ObjectRef, u32), BTreeSet<&'static str>>;

/// Whether admission evaluates the rule, with or without a cluster view.
fn admission_rule(id: &str, cluster: bool) -> bool {
    palisade_rules::all().iter().any(|r| {
        r.meta().id == id
            && match r.admission_needs() {
                AdmissionNeeds::Object => true,
                AdmissionNeeds::Cluster | AdmissionNeeds::ClusterAbsence => cluster,
                AdmissionNeeds::ScanOnly => false,
            }
    })
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

/// Compares scan and admission over the objects of `paths`, with a cluster view holding
/// them or without one; returns (objects, findings).
fn compare(paths: &[PathBuf], cluster: bool) -> (usize, usize) {
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
        if !admission_rule(f.rule_id, cluster) {
            continue;
        }
        let loc = f.location.as_ref().expect("located");
        // The object whose document holds the finding: the last one starting at or
        // before its line in that file.
        let owner = objects
            .iter()
            .filter(|o| {
                let s = o.source.as_ref().unwrap();
                *s.file == *loc.file && o.reference() == *f.object && s.line <= loc.line
            })
            .max_by_key(|o| o.source.as_ref().unwrap().line)
            .expect("finding's object");
        scan.entry(key(owner)).or_default().insert(f.rule_id);
    }
    let mut evaluator = Evaluator::new(opts.clone(), EvaluatorOptions::default());
    if cluster {
        evaluator =
            evaluator.with_cluster_view(std::sync::Arc::new(StaticView::new(objects.clone())));
    }
    let mut admission: PerObject = BTreeMap::new();
    let mut findings = 0;
    for (i, o) in objects.iter().enumerate() {
        let outcome = evaluator
            .review(&review_body(o.value(), i), date(TODAY))
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
                for cluster in [false, true] {
                    let (o, n) = compare(std::slice::from_ref(&f), cluster);
                    total.0 += o;
                    total.1 += n;
                }
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
    let Some(real_manifests) = corpus("real-manifests") else {
        return;
    };
    // File by file: objects of different projects are not one cluster (the same
    // NetworkPolicy name in two install variants is two objects, not one).
    let (files, _) = palisade_load::expand_paths(&[real_manifests]);
    let (mut objects, mut findings) = (0, 0);
    for f in &files {
        for cluster in [false, true] {
            let (o, n) = compare(std::slice::from_ref(f), cluster);
            objects += o;
            findings += n;
        }
    }
    println!(
        "{objects} real-world objects in {} files, {findings} admission findings",
        files.len()
    );
    assert!(objects > 1000, "{objects}");
}

#[test]
fn rules_left_to_scan_are_the_documented_ones() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README");
    let start = readme
        .find("## Admission webhook")
        .expect("admission section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
    // Each list in the README is one paragraph starting with its marker.
    let paragraph = |marker: &str| -> String {
        let at = section
            .find(marker)
            .unwrap_or_else(|| panic!("the README's admission section lacks `{marker}`"));
        let rest = &section[at..];
        rest[..rest.find("\n\n").unwrap_or(rest.len())].to_owned()
    };
    for (marker, needs) in [
        ("With `--cluster-cache`", AdmissionNeeds::Cluster),
        ("Warn, never deny", AdmissionNeeds::ClusterAbsence),
        ("Left to `palisade scan`", AdmissionNeeds::ScanOnly),
    ] {
        let text = paragraph(marker);
        let mut ids: Vec<&str> = palisade_rules::all()
            .iter()
            .filter(|r| r.admission_needs() == needs)
            .map(|r| r.meta().id)
            .collect();
        ids.sort();
        for id in &ids {
            assert!(
                text.contains(id),
                "{id} needs {needs:?} at admission; the README's `{marker}` paragraph must name it"
            );
        }
        // And names no other rule.
        for r in palisade_rules::all() {
            let id = r.meta().id;
            let named = text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w == id);
            assert!(
                !named || ids.contains(&id),
                "the README's `{marker}` paragraph names {id}, which needs {:?}",
                r.admission_needs()
            );
        }
    }
}
