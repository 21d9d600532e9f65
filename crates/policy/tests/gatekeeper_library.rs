//! Every case of the gatekeeper-library suites (`suite.yaml`: template, constraint, object,
//! optional inventory, expected violations) run through Palisade's Gatekeeper engines: Rego
//! for every case, and CEL for the cases whose template has a `K8sNativeValidation` block.
//! The expected count must match for at least 98% of the cases of each engine, and every case
//! that does not must be listed (CEL ones as `cel: KEY`), with its reason, in `docs/comparisons/gatekeeper.md`.
#![allow(clippy::print_stdout)]

use palisade_core::labels::labels_of;
use palisade_core::Object;
use palisade_policy::rego::RegoData;
use palisade_policy::{
    inventory_document, EvalContext, EvalOptions, PolicyEngine, PolicySet, Request,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

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

/// One engine's results.
#[derive(Default)]
struct Tally {
    passed: usize,
    total: usize,
    mismatches: Vec<String>,
    unlisted: Vec<String>,
}

#[test]
fn gatekeeper_library_suites() {
    let Some(root) = palisade_testkit::corpus("gatekeeper-library") else {
        return;
    };
    let index: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(root.join("cases_index.json")).unwrap())
            .unwrap();
    let listed = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/comparisons/gatekeeper.md"),
    )
    .unwrap_or_default();
    let mut sets: HashMap<(String, String), PolicySet> = HashMap::new();
    let mut results = [Tally::default(), Tally::default()];
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
                    .map(|o| o.into_value()),
            );
        }
        let object = objects(&root.join(s("object")))
            .into_iter()
            .next()
            .expect("an object");
        // An AdmissionReview supplies the request: operation, userInfo, oldObject; on
        // DELETE the object under review is the old one, as Gatekeeper does.
        let (obj, request_value) = if object.kind == "AdmissionReview" {
            let req = object.value()["request"].clone();
            let mut obj = req.get("object").cloned().unwrap_or(Value::Null);
            if obj.is_null() {
                obj = req.get("oldObject").cloned().unwrap_or(Value::Null);
            }
            (obj, Some(req))
        } else {
            (object.value().clone(), None)
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
        let ns_object = |ns: &str| {
            inventory
                .iter()
                .find(|v| {
                    v["kind"] == "Namespace"
                        && v.pointer("/metadata/name") == Some(&Value::from(ns))
                })
                .cloned()
        };
        let has_cel = set.constraints().any(|b| b.template.cel().is_some());
        for (ei, engine) in [PolicyEngine::Rego, PolicyEngine::Cel]
            .into_iter()
            .enumerate()
        {
            if engine == PolicyEngine::Cel && !has_cel {
                continue;
            }
            let cx = EvalContext {
                data: &data,
                namespace_labels: &ns_labels,
                namespace_object: &ns_object,
                options: EvalOptions { engine },
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
            let r = &mut results[ei];
            r.total += 1;
            if ok {
                r.passed += 1;
            } else {
                // CEL mismatches are listed as `cel: KEY`.
                let listed_key = match engine {
                    PolicyEngine::Rego => format!("`{key}`"),
                    PolicyEngine::Cel => format!("`cel: {key}`"),
                };
                let line = format!(
                    "{listed_key}: {outcome:?} (expected {})",
                    case["assertions"]
                );
                if !listed.contains(&listed_key) {
                    r.unlisted.push(line.clone());
                }
                r.mismatches.push(line);
            }
        }
    }
    let total = index.len();
    assert!(total >= 250, "only {total} cases in the index");
    for (name, r) in ["Rego", "CEL"].iter().zip(&results) {
        println!(
            "gatekeeper-library ({name}): {}/{} cases match ({:.1}%)",
            r.passed,
            r.total,
            100.0 * r.passed as f64 / r.total.max(1) as f64
        );
        for m in &r.mismatches {
            println!("  mismatch ({name}): {m}");
        }
    }
    assert_eq!(results[0].total, total);
    assert!(
        results[1].total >= 50,
        "only {} CEL cases",
        results[1].total
    );
    for (name, r) in ["Rego", "CEL"].iter().zip(&results) {
        assert!(
            r.unlisted.is_empty(),
            "{name} mismatches not listed in docs/comparisons/gatekeeper.md:\n{}",
            r.unlisted.join("\n")
        );
        assert!(
            r.passed * 100 >= r.total * 98,
            "{name}: {}/{} cases match, below 98%",
            r.passed,
            r.total
        );
    }
}
