//! The Gatekeeper library's suites, run through the K8sNativeValidation (CEL) evaluator:
//! for every template with a CEL code block, every `suite.yaml` case (the constraint's
//! parameters, the example object or AdmissionReview) must give the violations the suite
//! expects, for at least 98% of the cases; every case that disagrees must be listed, with
//! its reason, in `docs/comparisons/gatekeeper-cel.md`.
#![allow(clippy::print_stdout)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use palisade_cel::{native_validation_code, CompiledGatekeeperCode, KubeCel, Request};
use serde_json::Value;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// The first YAML document of a file, as JSON.
fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let v: Value = serde::Deserialize::deserialize(doc)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if !v.is_null() {
            return v;
        }
    }
    Value::Null
}

/// Whether the constraint's `spec.match` (kinds, namespaces, excludedNamespaces) selects
/// the request, as gator applies it before evaluating.
fn constraint_matches(constraint: &Value, req: &Request) -> bool {
    let m = &constraint["spec"]["match"];
    if let Some(kinds) = m["kinds"].as_array() {
        let hit = kinds.iter().any(|k| {
            let groups = k["apiGroups"].as_array().cloned().unwrap_or_default();
            let names = k["kinds"].as_array().cloned().unwrap_or_default();
            let g = groups
                .iter()
                .any(|g| g == "*" || g.as_str() == Some(req.group.as_str()));
            let n = names
                .iter()
                .any(|n| n == "*" || n.as_str() == Some(req.kind.as_str()));
            g && n
        });
        if !hit {
            return false;
        }
    }
    let glob = |pat: &str, s: &str| match pat.strip_suffix('*') {
        Some(prefix) => s.starts_with(prefix),
        None => pat == s,
    };
    if let Some(ns) = m["namespaces"].as_array() {
        if !ns
            .iter()
            .filter_map(Value::as_str)
            .any(|p| glob(p, &req.namespace))
        {
            return false;
        }
    }
    if let Some(ns) = m["excludedNamespaces"].as_array() {
        if ns
            .iter()
            .filter_map(Value::as_str)
            .any(|p| glob(p, &req.namespace))
        {
            return false;
        }
    }
    true
}

/// Whether the violation messages satisfy a gator assertion.
fn assertion_holds(assertion: &Value, messages: &[String]) -> bool {
    let counted = match assertion["message"].as_str() {
        Some(pat) => match regex::Regex::new(pat) {
            Ok(re) => messages.iter().filter(|m| re.is_match(m)).count(),
            Err(_) => messages.iter().filter(|m| m.contains(pat)).count(),
        },
        None => messages.len(),
    };
    match &assertion["violations"] {
        Value::Bool(true) => counted > 0,
        Value::Bool(false) => counted == 0,
        Value::Number(n) => n.as_u64() == Some(counted as u64),
        Value::Null => counted > 0,
        other => panic!("unknown assertion {other}"),
    }
}

/// The case ids the comparison document lists (`policy_dir` `case`, in backticks, at the
/// start of a table row).
fn listed_cases(doc: &str) -> BTreeSet<String> {
    doc.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("| `")?;
            let (id, _) = rest.split_once('`')?;
            Some(id.to_owned())
        })
        .collect()
}

#[test]
fn gatekeeper_library_cel_cases_agree() {
    let Some(lib) = palisade_testkit::corpus("gatekeeper-library") else {
        return;
    };
    let index: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(lib.join("cases_index.json")).expect("cases_index.json"),
    )
    .expect("index parses");
    let cel = KubeCel::new();
    let mut compiled: BTreeMap<String, CompiledGatekeeperCode> = BTreeMap::new();
    let (mut total, mut agree) = (0usize, 0usize);
    let mut disagreements: BTreeMap<String, String> = BTreeMap::new();
    for case in &index {
        let engines = case["engines"].as_array().cloned().unwrap_or_default();
        if !engines.iter().any(|e| e == "K8sNativeValidation") {
            continue;
        }
        total += 1;
        let template_path = case["template"].as_str().unwrap().to_owned();
        let code = compiled.entry(template_path.clone()).or_insert_with(|| {
            let template = read_yaml(&lib.join(&template_path));
            let block = native_validation_code(&template).expect("a CEL code block");
            CompiledGatekeeperCode::compile_with(&cel, block)
                .unwrap_or_else(|e| panic!("{template_path}: {e}"))
        });
        let constraint = read_yaml(&lib.join(case["constraint"].as_str().unwrap()));
        let object = read_yaml(&lib.join(case["object"].as_str().unwrap()));
        let req = if object["kind"] == "AdmissionReview" {
            Request::from_admission_review(&object).expect("a request")
        } else {
            Request::for_object(&object)
        };
        let id = format!(
            "{} {}/{}",
            case["policy_dir"].as_str().unwrap(),
            case["suite_test"].as_str().unwrap(),
            case["case"].as_str().unwrap()
        );
        let outcome = if constraint_matches(&constraint, &req) {
            code.evaluate(&req, constraint["spec"].get("parameters"))
                .map(|v| v.into_iter().map(|v| v.message).collect::<Vec<_>>())
        } else {
            Ok(Vec::new())
        };
        let assertions = case["assertions"].as_array().cloned().unwrap_or_default();
        match outcome {
            Ok(messages) if assertions.iter().all(|a| assertion_holds(a, &messages)) => agree += 1,
            Ok(messages) => {
                disagreements.insert(
                    id,
                    format!(
                        "expected {assertions:?}, got {} violation(s): {messages:?}",
                        messages.len()
                    ),
                );
            }
            Err(e) => {
                disagreements.insert(id, format!("evaluation error: {e}"));
            }
        }
    }
    assert!(
        total > 100,
        "the corpus has {total} CEL cases; expected the whole library"
    );
    let rate = agree as f64 / total as f64;
    println!(
        "gatekeeper-library CEL: {agree}/{total} cases agree ({:.1}%)",
        rate * 100.0
    );
    for (id, why) in &disagreements {
        println!("DISAGREE {id}: {why}");
    }
    let doc_path = workspace_root().join("docs/comparisons/gatekeeper-cel.md");
    let doc = std::fs::read_to_string(&doc_path).unwrap_or_default();
    let listed = listed_cases(&doc);
    let unlisted: Vec<&String> = disagreements
        .keys()
        .filter(|k| !listed.contains(*k))
        .collect();
    let stale: Vec<&String> = listed
        .iter()
        .filter(|k| !disagreements.contains_key(*k))
        .collect();
    assert!(
        unlisted.is_empty(),
        "cases that disagree but are not listed in {}: {unlisted:#?}",
        doc_path.display()
    );
    assert!(
        stale.is_empty(),
        "cases listed in {} that now agree (remove them): {stale:#?}",
        doc_path.display()
    );
    assert!(rate >= 0.98, "only {:.1}% of the cases agree", rate * 100.0);
}
