//! Every case of the gatekeeper-library suites (`suite.yaml`: template, constraint, object,
//! optional inventory, expected violations) run through Palisade's Gatekeeper engine (Rego).
//! The expected count must match for at least 98% of the cases, and every case that does not
//! must be listed, with its reason, in `docs/comparisons/gatekeeper.md`.
#![allow(clippy::print_stdout)]

use palisade_core::labels::labels_of;
use palisade_core::Object;
use palisade_policy::rego::RegoData;
use palisade_policy::{inventory_document, EvalContext, EvalOptions, PolicySet, Request};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn corpus() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PALISADE_CORPUS") {
        let p = PathBuf::from(p);
        if p.is_dir() {
            return Some(p);
        }
    }
    let mut dir = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let c = d.join("shared").join("corpus");
        if c.is_dir() {
            return Some(c);
        }
        dir = d.parent().map(PathBuf::from);
    }
    None
}

fn objects(path: &Path) -> Vec<Object> {
    let l = palisade_load::load_file(path);
    assert!(l.errors.is_empty(), "{}: {:?}", path.display(), l.errors);
    l.objects
}

/// The expected number of violations of one assertion, and what the engine returned.
fn assertion_holds(a: &Value, msgs: &[String]) -> bool {
    let counted = match a.get("message").and_then(Value::as_str) {
        Some(pattern) => {
            let re = regex::Regex::new(pattern).expect("assertion regex");
            msgs.iter().filter(|m| re.is_match(m)).count()
        }
        None => msgs.len(),
    };
    match a.get("violations") {
        Some(Value::Bool(true)) | None | Some(Value::Null) => counted >= 1,
        Some(Value::Bool(false)) => counted == 0,
        Some(Value::Number(n)) => n.as_u64() == Some(counted as u64),
        Some(Value::String(s)) if s == "yes" => counted >= 1,
        Some(Value::String(s)) if s == "no" => counted == 0,
        Some(other) => panic!("unknown assertion {other}"),
    }
}

#[test]
fn gatekeeper_library_suites() {
    let Some(root) = corpus().map(|c| c.join("gatekeeper-library")) else {
        println!("SKIPPED: shared/corpus not found (set PALISADE_CORPUS)");
        return;
    };
    if !root.is_dir() {
        println!("SKIPPED: shared/corpus/gatekeeper-library not found");
        return;
    }
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(root.join("cases_index.json")).unwrap())
            .unwrap();
    let listed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/comparisons/gatekeeper.md"),
    )
    .unwrap_or_default();
    let mut sets: HashMap<(String, String), PolicySet> = HashMap::new();
    let mut mismatches = Vec::new();
    let mut unlisted = Vec::new();
    let mut passed = 0usize;
    for case in &index {
        let s = |k: &str| case[k].as_str().unwrap().to_owned();
        let key = format!("{}/{}/{}", s("template_kind"), s("suite_test"), s("case"));
        let set = sets
            .entry((s("template"), s("constraint")))
            .or_insert_with(|| {
                let mut set = PolicySet::default();
                let mut objs = objects(&root.join(s("template")));
                objs.extend(objects(&root.join(s("constraint"))));
                set.add_objects(&objs);
                set
            });
        let mut inventory: Vec<Value> = Vec::new();
        for p in case["inventory"].as_array().unwrap() {
            inventory.extend(
                objects(&root.join(p.as_str().unwrap()))
                    .into_iter()
                    .map(|o| o.value),
            );
        }
        let object = objects(&root.join(s("object")))
            .into_iter()
            .next()
            .expect("an object");
        // An AdmissionReview supplies the request: operation, userInfo, oldObject; on
        // DELETE the object under review is the old one, as Gatekeeper does.
        let (obj, request_value) = if object.kind == "AdmissionReview" {
            let req = object.value["request"].clone();
            let mut obj = req.get("object").cloned().unwrap_or(Value::Null);
            if obj.is_null() {
                obj = req.get("oldObject").cloned().unwrap_or(Value::Null);
            }
            (obj, Some(req))
        } else {
            (object.value.clone(), None)
        };
        let request = match &request_value {
            Some(r) => Request {
                operation: r.get("operation").and_then(Value::as_str),
                old_object: r.get("oldObject").filter(|v| !v.is_null()),
                user_info: r.get("userInfo"),
                dry_run: r.get("dryRun").and_then(Value::as_bool).unwrap_or(false),
                namespace: r.get("namespace").and_then(Value::as_str),
            },
            None => Request::default(),
        };
        let data = RegoData::from_json(inventory_document(inventory.iter()));
        let ns_labels = |ns: &str| {
            inventory
                .iter()
                .find(|v| {
                    v["kind"] == "Namespace"
                        && v.pointer("/metadata/name") == Some(&Value::from(ns))
                })
                .map(labels_of)
        };
        let cx = EvalContext {
            data: &data,
            namespace_labels: &ns_labels,
            options: EvalOptions::default(),
        };
        let outcome: Result<Vec<String>, String> = if !set.errors.is_empty() {
            Err(format!("load: {:?}", set.errors))
        } else {
            let mut msgs = Vec::new();
            let mut err = None;
            for b in set.constraints() {
                if !b.matches(&obj, &request, &cx) {
                    continue;
                }
                match b.evaluate(&obj, &request, &cx) {
                    Ok(vs) => msgs.extend(vs.into_iter().map(|v| v.msg)),
                    Err(e) => err = Some(e),
                }
            }
            match err {
                Some(e) => Err(e),
                None => Ok(msgs),
            }
        };
        let ok = match &outcome {
            Ok(msgs) => case["assertions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| assertion_holds(a, msgs)),
            Err(_) => false,
        };
        if ok {
            passed += 1;
        } else {
            let line = format!("{key}: {outcome:?} (expected {})", case["assertions"]);
            if !listed.contains(&format!("`{key}`")) {
                unlisted.push(line.clone());
            }
            mismatches.push(line);
        }
    }
    let total = index.len();
    println!(
        "gatekeeper-library: {passed}/{total} cases match ({:.1}%)",
        100.0 * passed as f64 / total as f64
    );
    for m in &mismatches {
        println!("  mismatch: {m}");
    }
    assert!(total >= 250, "only {total} cases in the index");
    assert!(
        unlisted.is_empty(),
        "mismatches not listed in docs/comparisons/gatekeeper.md:\n{}",
        unlisted.join("\n")
    );
    assert!(
        passed * 100 >= total * 98,
        "{passed}/{total} cases match, below 98%"
    );
}
