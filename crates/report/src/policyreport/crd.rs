//! The PolicyReport and ClusterPolicyReport CustomResourceDefinitions
//! (`apiextensions.k8s.io/v1`), with the OpenAPI v3 schema derived from the report types
//! ([`super::types::PolicyReport`]): what Palisade writes and what the CRD accepts come from one
//! definition. The schema is a structural schema, as the API server requires: every node
//! has a `type`, subschemas are inlined (no `$ref`), optional fields are simply not
//! `required` (no `nullable`, no `anyOf` with `null`), enums are `type: string` with `enum`.
//! It is compatible with the Policy Working Group's v1alpha2 CRDs: the same fields, types and
//! required fields, so reports written by Kyverno, Trivy Operator or Palisade all validate.

use super::types::PolicyReport;
use serde_json::{json, Map, Value};

/// The API group.
pub const GROUP: &str = "wgpolicyk8s.io";
/// The version served and stored.
pub const VERSION: &str = "v1alpha2";

/// The OpenAPI v3 schema of a report (`openAPIV3Schema`), derived from the report types.
pub fn schema() -> Value {
    let settings = schemars::generate::SchemaSettings::draft07().with(|s| {
        s.inline_subschemas = true;
        s.meta_schema = None;
    });
    let schema = settings
        .into_generator()
        .into_root_schema_for::<PolicyReport>();
    let mut v = schema.to_value();
    structural(&mut v);
    if let Value::Object(m) = &mut v {
        m.insert(
            "description".into(),
            Value::String(
                "PolicyReport (namespaced) and ClusterPolicyReport (cluster-scoped) hold the \
                 results of policy checks on the objects of one scope."
                    .into(),
            ),
        );
    }
    v
}

/// Rewrites a schemars schema into a Kubernetes structural schema: `Option` branches
/// (`type: [T, "null"]`, `anyOf: [T, {type: null}]`) become `T`, a `oneOf` of string
/// constants becomes a string `enum`, and keywords the API server does not take or that would
/// change what it stores (`$schema`, `title`, `default`, `const`, `examples`) are removed.
fn structural(v: &mut Value) {
    let Value::Object(m) = v else { return };
    for key in ["$schema", "title", "default", "examples", "nullable"] {
        m.remove(key);
    }
    // Doc comments wrap at the source's width: one line per paragraph.
    if let Some(Value::String(d)) = m.get_mut("description") {
        *d = d
            .split("\n\n")
            .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n\n");
    }
    // anyOf: [T, {type: null}] → T (keeping this node's description).
    if let Some(Value::Array(branches)) = m.get("anyOf") {
        let non_null: Vec<&Value> = branches
            .iter()
            .filter(|b| b.get("type") != Some(&json!("null")))
            .collect();
        if non_null.len() == 1 && branches.len() == 2 {
            let mut inner = non_null[0].clone();
            if let (Some(d), Value::Object(im)) = (m.get("description").cloned(), &mut inner) {
                im.insert("description".into(), d);
            }
            *v = inner;
            return structural(v);
        }
    }
    // oneOf: [{const: "a"}, {const: "b"}] (documented enum variants) → enum: ["a", "b"].
    if let Some(Value::Array(branches)) = m.get("oneOf") {
        let consts: Option<Vec<Value>> = branches
            .iter()
            .map(|b| {
                b.get("const")
                    .or_else(|| b.get("enum").and_then(|e| e.as_array()?.first()))
                    .filter(|c| c.is_string())
                    .cloned()
            })
            .collect();
        if let Some(values) = consts {
            m.remove("oneOf");
            m.insert("type".into(), json!("string"));
            m.insert("enum".into(), Value::Array(values));
        }
    }
    // type: [T, "null"] → T; a null in an enum goes too.
    if let Some(Value::Array(types)) = m.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types.remove(0);
            m.insert("type".into(), t);
        }
    }
    if let Some(Value::Array(values)) = m.get_mut("enum") {
        values.retain(|x| !x.is_null());
    }
    if let Some(c) = m.remove("const") {
        if !c.is_null() {
            m.insert("enum".into(), Value::Array(vec![c]));
        }
    }
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for p in props.values_mut() {
            structural(p);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(sub @ Value::Object(_)) = m.get_mut(key) {
            structural(sub);
        }
    }
    // `required: []` says nothing.
    if m.get("required")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        m.remove("required");
    }
}

/// The CRD of `PolicyReport` (`namespaced`) or of `ClusterPolicyReport`.
pub fn crd(namespaced: bool) -> Value {
    let (kind, plural, short) = if namespaced {
        ("PolicyReport", "policyreports", "polr")
    } else {
        ("ClusterPolicyReport", "clusterpolicyreports", "cpolr")
    };
    let column =
        |name: &str, path: &str, ty: &str| json!({ "name": name, "jsonPath": path, "type": ty });
    let mut scope_kind = column("Kind", ".scope.kind", "string");
    scope_kind["priority"] = json!(1);
    let mut scope_name = column("Name", ".scope.name", "string");
    scope_name["priority"] = json!(1);
    let mut metadata = Map::new();
    metadata.insert("name".into(), Value::String(format!("{plural}.{GROUP}")));
    metadata.insert(
        "labels".into(),
        json!({ "app.kubernetes.io/part-of": "palisade" }),
    );
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind,
                "listKind": format!("{kind}List"),
                "plural": plural,
                "singular": plural.trim_end_matches('s'),
                "shortNames": [short],
            },
            "scope": if namespaced { "Namespaced" } else { "Cluster" },
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "schema": { "openAPIV3Schema": schema() },
                "additionalPrinterColumns": [
                    scope_kind,
                    scope_name,
                    column("Pass", ".summary.pass", "integer"),
                    column("Fail", ".summary.fail", "integer"),
                    column("Warn", ".summary.warn", "integer"),
                    column("Error", ".summary.error", "integer"),
                    column("Skip", ".summary.skip", "integer"),
                    column("Age", ".metadata.creationTimestamp", "date"),
                ],
            }],
        },
    })
}

/// Both CRDs: PolicyReport, then ClusterPolicyReport.
pub fn crds() -> [Value; 2] {
    [crd(true), crd(false)]
}
