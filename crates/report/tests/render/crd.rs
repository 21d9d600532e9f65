//! The PolicyReport CRDs derived from the report types: valid structural schemas under the
//! apiextensions.k8s.io/v1 rules, compatible with the Policy Working Group's v1alpha2 CRDs
//! (same fields, same types, no field required that the working group's leaves optional),
//! and every report Palisade writes validates against both.

use palisade_report::policyreport::{crd, documents};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The keys of `JSONSchemaProps` the API server knows, less those it rejects in v1 CRDs.
const ALLOWED: &[&str] = &[
    "description",
    "type",
    "format",
    "title",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "multipleOf",
    "enum",
    "maxProperties",
    "minProperties",
    "required",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "not",
    "properties",
    "additionalProperties",
    "externalDocs",
    "example",
    "nullable",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
];

const TYPES: &[&str] = &["object", "array", "string", "integer", "number", "boolean"];

/// The structural-schema violations of one node and its children (empty: structural).
fn structural_errors(node: &Value, path: &str, out: &mut Vec<String>) {
    let Some(m) = node.as_object() else {
        out.push(format!("{path}: not a schema object"));
        return;
    };
    for k in m.keys() {
        if !ALLOWED.contains(&k.as_str()) {
            out.push(format!("{path}: `{k}` is not allowed in a v1 CRD schema"));
        }
    }
    let escape = m.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true))
        || m.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    match m.get("type") {
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
        Some(t) => out.push(format!("{path}: type {t} is not one of {TYPES:?}")),
        None if escape => {}
        None => out.push(format!("{path}: no type")),
    }
    if m.contains_key("properties") && m.contains_key("additionalProperties") {
        out.push(format!(
            "{path}: additionalProperties together with properties"
        ));
    }
    if m.get("additionalProperties") == Some(&Value::Bool(false)) {
        out.push(format!("{path}: additionalProperties: false"));
    }
    if m.get("uniqueItems") == Some(&Value::Bool(true)) {
        out.push(format!("{path}: uniqueItems: true"));
    }
    for junctor in ["allOf", "anyOf", "oneOf", "not"] {
        if m.contains_key(junctor) {
            // Palisade's schema needs none; inside one, type/description/default/nullable
            // would be forbidden anyway.
            out.push(format!("{path}: {junctor} (logical junctors are not used)"));
        }
    }
    if m.get("type") == Some(&Value::from("array")) && !m.contains_key("items") {
        out.push(format!("{path}: array without items"));
    }
    if let Some(items) = m.get("items") {
        structural_errors(items, &format!("{path}.items"), out);
    }
    if let Some(ap @ Value::Object(_)) = m.get("additionalProperties") {
        structural_errors(ap, &format!("{path}.additionalProperties"), out);
    }
    let props = m.get("properties").and_then(Value::as_object);
    if let Some(props) = props {
        for (k, v) in props {
            structural_errors(v, &format!("{path}.{k}"), out);
        }
    }
    if let Some(req) = m.get("required") {
        for r in req.as_array().into_iter().flatten() {
            if !props.is_some_and(|p| r.as_str().is_some_and(|r| p.contains_key(r))) {
                out.push(format!("{path}: required {r} is not a property"));
            }
        }
    }
    if let (Some(Value::Array(values)), Some(Value::String(t))) = (m.get("enum"), m.get("type")) {
        for v in values {
            let ok = match t.as_str() {
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "boolean" => v.is_boolean(),
                _ => true,
            };
            if !ok {
                out.push(format!("{path}: enum value {v} is not a {t}"));
            }
        }
    }
}

/// The structural rules at the root: `type: object`, and `metadata` restricted to what the
/// API server allows (a plain object here).
fn root_errors(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    structural_errors(schema, "openAPIV3Schema", &mut out);
    if schema["type"] != "object" {
        out.push("openAPIV3Schema: the root is not an object".into());
    }
    let meta = &schema["properties"]["metadata"];
    if meta.as_object().is_some_and(|m| {
        m.keys()
            .any(|k| !["type", "description", "properties"].contains(&k.as_str()))
            || m.get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| p.keys().any(|k| k != "name" && k != "generateName"))
    }) {
        out.push(format!(
            "metadata may only restrict name and generateName: {meta}"
        ));
    }
    out
}

/// The working group's CRD (read-only, in ../shared), or `None` when it is not there (after
/// saying SKIPPED; a failure under `CI=true`).
fn wg_crd(file: &str) -> Option<Value> {
    let path = palisade_testkit::schema(&format!("policyreport/{file}"))?;
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).ok()
}

fn v1alpha2_schema(crd: &Value) -> &Value {
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1alpha2")
        .expect("a v1alpha2 version");
    &version["schema"]["openAPIV3Schema"]
}

/// Differences that would make the two schemas disagree on a document: a property only one
/// of them has, another type, an enum of ours missing a value of theirs, a field we require
/// that they do not. Descriptions may differ.
fn compatibility_errors(ours: &Value, theirs: &Value, path: &str, out: &mut Vec<String>) {
    if ours["type"] != theirs["type"] {
        out.push(format!(
            "{path}: type {} here, {} in the working group's",
            ours["type"], theirs["type"]
        ));
        return;
    }
    let set = |v: &Value, k: &str| -> BTreeSet<String> {
        v[k].as_array()
            .into_iter()
            .flatten()
            .map(|x| x.to_string())
            .collect()
    };
    if theirs.get("enum").is_some() || ours.get("enum").is_some() {
        let (o, t) = (set(ours, "enum"), set(theirs, "enum"));
        if ours.get("enum").is_some() && !t.is_subset(&o) {
            out.push(format!("{path}: enum {o:?} lacks some of {t:?}"));
        }
        if ours.get("enum").is_some() && theirs.get("enum").is_none() {
            out.push(format!("{path}: an enum here, any value there"));
        }
    }
    let (ro, rt) = (set(ours, "required"), set(theirs, "required"));
    if !ro.is_subset(&rt) {
        out.push(format!(
            "{path}: requires {ro:?}, the working group's {rt:?}"
        ));
    }
    let keys = |v: &Value| -> BTreeSet<String> {
        v["properties"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (ko, kt) = (keys(ours), keys(theirs));
    for k in ko.symmetric_difference(&kt) {
        out.push(format!(
            "{path}.{k}: only in {}",
            if ko.contains(k) {
                "ours"
            } else {
                "the working group's"
            }
        ));
    }
    if path == "openAPIV3Schema" {
        // `metadata` is the API server's.
        for k in ko.intersection(&kt).filter(|k| *k != "metadata") {
            let p = format!("{path}.{k}");
            compatibility_errors(&ours["properties"][k], &theirs["properties"][k], &p, out);
        }
    } else {
        for k in ko.intersection(&kt) {
            let p = format!("{path}.{k}");
            compatibility_errors(&ours["properties"][k], &theirs["properties"][k], &p, out);
        }
    }
    for k in ["items", "additionalProperties"] {
        match (ours.get(k), theirs.get(k)) {
            (Some(o), Some(t)) => compatibility_errors(o, t, &format!("{path}.{k}"), out),
            (None, None) => {}
            _ => out.push(format!("{path}: {k} on one side only")),
        }
    }
}

#[test]
fn the_generated_crds_are_structural_v1_crds() {
    let crds = crd::crds();
    for (c, (kind, plural, scope)) in crds.iter().zip([
        ("PolicyReport", "policyreports", "Namespaced"),
        ("ClusterPolicyReport", "clusterpolicyreports", "Cluster"),
    ]) {
        assert_eq!(c["apiVersion"], "apiextensions.k8s.io/v1");
        assert_eq!(c["kind"], "CustomResourceDefinition");
        assert_eq!(c["metadata"]["name"], format!("{plural}.wgpolicyk8s.io"));
        assert_eq!(c["spec"]["group"], "wgpolicyk8s.io");
        assert_eq!(c["spec"]["names"]["kind"], kind);
        assert_eq!(c["spec"]["names"]["plural"], plural);
        assert_eq!(c["spec"]["names"]["listKind"], format!("{kind}List"));
        assert_eq!(c["spec"]["scope"], scope);
        let versions = c["spec"]["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0]["name"], "v1alpha2");
        assert_eq!(versions[0]["served"], true);
        assert_eq!(versions[0]["storage"], true);
        let schema = v1alpha2_schema(c);
        let errors = root_errors(schema);
        assert!(errors.is_empty(), "{errors:#?}\n{schema:#}");
        // Printer columns point at fields the schema has.
        for col in versions[0]["additionalPrinterColumns"].as_array().unwrap() {
            let path = col["jsonPath"].as_str().unwrap();
            let mut node = schema;
            for part in path.trim_start_matches('.').split('.') {
                if part == "metadata" {
                    break;
                }
                node = &node["properties"][part];
                assert!(node.is_object(), "{path}");
            }
        }
        // Descriptions come from the types' doc comments.
        assert!(
            schema["properties"]["results"]["items"]["properties"]["policy"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("Policy is the name"))
        );
    }
    // The checker can fail: each rule, broken once.
    let good = v1alpha2_schema(&crds[0]).clone();
    type Breaker = fn(&mut Value);
    let breakers: [(&str, Breaker); 6] = [
        ("no type", |s| {
            s["properties"]["summary"]["properties"]["pass"]
                .as_object_mut()
                .unwrap()
                .remove("type");
        }),
        ("additionalProperties together with properties", |s| {
            s["properties"]["summary"]["additionalProperties"] =
                serde_json::json!({"type": "string"});
        }),
        ("`$ref`", |s| {
            s["properties"]["scope"]["$ref"] = "#/definitions/x".into();
        }),
        ("anyOf", |s| {
            s["properties"]["results"]["items"]["properties"]["message"]["anyOf"] =
                serde_json::json!([{"type": "string"}, {"type": "null"}]);
        }),
        ("type [", |s| {
            s["properties"]["results"]["items"]["properties"]["rule"]["type"] =
                serde_json::json!(["string", "null"]);
        }),
        ("metadata may only restrict", |s| {
            s["properties"]["metadata"]["properties"] =
                serde_json::json!({"labels": {"type": "object"}});
        }),
    ];
    for (expected, brk) in breakers {
        let mut s = good.clone();
        brk(&mut s);
        let errors = root_errors(&s);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{expected}: {errors:?}"
        );
    }
}

#[test]
fn the_generated_schema_matches_the_working_groups_v1alpha2() {
    let (Some(wg_ns), Some(wg_cluster)) = (
        wg_crd("wgpolicyk8s.io_policyreports.yaml"),
        wg_crd("wgpolicyk8s.io_clusterpolicyreports.yaml"),
    ) else {
        return;
    };
    let crds = crd::crds();
    for (ours, theirs) in [(&crds[0], &wg_ns), (&crds[1], &wg_cluster)] {
        assert_eq!(ours["spec"]["scope"], theirs["spec"]["scope"]);
        assert_eq!(
            ours["spec"]["names"]["kind"],
            theirs["spec"]["names"]["kind"]
        );
        assert_eq!(
            ours["spec"]["names"]["plural"],
            theirs["spec"]["names"]["plural"]
        );
        let mut errors = Vec::new();
        compatibility_errors(
            v1alpha2_schema(ours),
            v1alpha2_schema(theirs),
            "openAPIV3Schema",
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:#?}");
    }
    // The working group's samples are accepted by the generated schema.
    let ns = jsonschema::validator_for(v1alpha2_schema(&crds[0])).expect("schema compiles");
    let cluster = jsonschema::validator_for(v1alpha2_schema(&crds[1])).expect("schema compiles");
    let mut samples = 0;
    for sample in ["sample-cis-k8s.yaml", "sample-falco-policy.yaml"] {
        let Some(path) = palisade_testkit::schema(&format!("policyreport/{sample}")) else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap();
        for d in serde_yaml_ng::Deserializer::from_str(&text) {
            let doc: Value = serde::Deserialize::deserialize(d).unwrap();
            let v = if doc["kind"] == "ClusterPolicyReport" {
                &cluster
            } else {
                &ns
            };
            let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{sample}: {errors:?}");
            samples += 1;
        }
    }
    assert!(samples >= 2);
    // The comparison can fail: a narrower enum, a required field, a missing property.
    let mut narrower = v1alpha2_schema(&crds[0]).clone();
    narrower["properties"]["results"]["items"]["properties"]["severity"]["enum"] =
        serde_json::json!(["high", "low"]);
    narrower["properties"]["summary"]["required"] = serde_json::json!(["pass"]);
    narrower["properties"]["scope"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("uid");
    let mut errors = Vec::new();
    compatibility_errors(
        &narrower,
        v1alpha2_schema(&wg_ns),
        "openAPIV3Schema",
        &mut errors,
    );
    assert_eq!(errors.len(), 3, "{errors:#?}");
}

/// Every report Palisade writes (the sample scan with exceptions and suppressed findings, the
/// node report with CIS ids, the bundled examples) validates against the generated schema
/// and against the working group's.
#[test]
fn every_report_validates_against_the_generated_and_the_working_groups_crd() {
    let crds = crd::crds();
    let ours_ns = jsonschema::validator_for(v1alpha2_schema(&crds[0])).unwrap();
    let ours_cluster = jsonschema::validator_for(v1alpha2_schema(&crds[1])).unwrap();
    let wg = wg_crd("wgpolicyk8s.io_policyreports.yaml")
        .zip(wg_crd("wgpolicyk8s.io_clusterpolicyreports.yaml"))
        .map(|(n, c)| {
            (
                jsonschema::validator_for(v1alpha2_schema(&n)).unwrap(),
                jsonschema::validator_for(v1alpha2_schema(&c)).unwrap(),
            )
        });
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let loaded = palisade_load::load_paths(&[examples]);
    let inventory = palisade_core::Inventory::new(loaded.objects);
    let options = palisade_analyze::Options::new("2026-06-01".parse().unwrap());
    let mut examples_report = palisade_analyze::analyze(
        &inventory,
        palisade_analyze::InputSummary::default(),
        &options,
    );
    examples_report.evaluations = Some(palisade_analyze::evaluations(&inventory, &options));
    let mut checked = 0;
    let mut kinds = BTreeSet::new();
    let mut results = BTreeSet::new();
    for report in [super::sample(), super::node_report(), examples_report] {
        for doc in documents(&report, &super::opts()) {
            let namespaced = doc["kind"] == "PolicyReport";
            kinds.insert(doc["kind"].to_string());
            for r in doc["results"].as_array().unwrap() {
                results.insert(r["result"].to_string());
            }
            let mut validators = vec![if namespaced { &ours_ns } else { &ours_cluster }];
            if let Some((n, c)) = &wg {
                validators.push(if namespaced { n } else { c });
            }
            for v in validators {
                let errors: Vec<String> = v
                    .iter_errors(&doc)
                    .map(|e| format!("{e} at {}", e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{}: {errors:?}", doc["metadata"]);
            }
            // A round trip through the types changes nothing.
            let typed: palisade_report::policyreport::types::PolicyReport =
                serde_json::from_value(doc.clone()).unwrap();
            assert_eq!(serde_json::to_value(&typed).unwrap(), doc);
            checked += 1;
        }
    }
    assert!(checked >= 4, "{checked}");
    assert_eq!(
        kinds,
        ["\"ClusterPolicyReport\"", "\"PolicyReport\""]
            .map(String::from)
            .into()
    );
    assert!(
        results.contains("\"fail\"") && results.contains("\"skip\""),
        "{results:?}"
    );
    // The validation can fail: a result the schema does not know is rejected.
    let mut broken = documents(&super::sample(), &super::opts())[0].clone();
    broken["results"][0]["severity"] = "urgent".into();
    assert!(!ours_ns.is_valid(&broken));
}
