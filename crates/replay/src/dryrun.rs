//! Server-side dry-run writes (`kubectl apply --dry-run=server`, `kubectl create
//! --dry-run=server`) against the recorded cluster. Nothing is ever stored: the server is
//! read-only, and a write without `dryRun=All` is refused (405).
//!
//! What is checked, as the API server would:
//! - the resource exists (discovery) and the user may write (admin only, else 403);
//! - POST: the namespace exists (404 `namespaces "x" not found`), the object's `apiVersion`,
//!   `kind` and `metadata.namespace` match the request (400), it has a name (422), and no
//!   recorded object has that name (409 AlreadyExists);
//! - PATCH / PUT / DELETE: the object exists (404);
//! - the resulting object decodes against the recorded OpenAPI v3 schema of its kind:
//!   wrong types are 400 (a decoding error, whatever the field validation), unknown fields
//!   are 400 with `fieldValidation=Strict` (what kubectl sends) and a `Warning` header
//!   otherwise;
//! - PATCH / PUT: immutable fields a restore commonly trips on (a Service's cluster IPs, a
//!   Node's pod CIDRs and provider ID, workload selectors, a Job's template, a binding's
//!   `roleRef`) are 422 Invalid when changed.
//!
//! Patches are applied as JSON merge patches (RFC 7386); strategic-merge directives (`$patch`,
//! `$setElementOrder/...`, `$retainKeys`, `$deleteFromPrimitiveList/...`) are dropped and
//! lists are replaced rather than merged by key, which is enough to decode and check the
//! result but not a full strategic merge. Admission (Pod Security, quotas, webhooks) is not
//! simulated. JSON Patch bodies are 415.

use crate::objects::{self, ResPath};
use crate::{collection, status, State};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

type Answer = (u16, String, Vec<u8>, Vec<(String, String)>);

fn plain((c, t, b): (u16, String, Vec<u8>)) -> Answer {
    (c, t, b, Vec::new())
}

fn status_with(code: u16, reason: &str, message: &str, details: Value) -> Answer {
    let body = json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":message,"reason":reason,"details":details,"code":code});
    (
        code,
        "application/json".to_owned(),
        body.to_string().into_bytes(),
        Vec::new(),
    )
}

fn ok(code: u16, v: &Value, warnings: Vec<String>) -> Answer {
    (
        code,
        "application/json".to_owned(),
        v.to_string().into_bytes(),
        warnings
            .into_iter()
            .map(|w| ("warning".to_owned(), format!("299 - {}", Value::String(w))))
            .collect(),
    )
}

/// The group of a prefix (`/apis/apps/v1` → `apps`, `/api/v1` → ``).
fn group_of(prefix: &str) -> &str {
    prefix
        .strip_prefix("/apis/")
        .and_then(|r| r.split('/').next())
        .unwrap_or("")
}

/// Answers a write (POST, PUT, PATCH, DELETE).
pub(crate) fn write(
    state: &State,
    method: &str,
    path: &str,
    params: &HashMap<&str, &str>,
    content_type: Option<&str>,
    body: &[u8],
    user: &str,
) -> Answer {
    match user {
        "admin" => {}
        "bad-token" => return plain(status(401, "Unauthorized", "Unauthorized")),
        other => {
            let (plural, group) = crate::resource_of(path);
            return plain(status(
                403,
                "Forbidden",
                &format!("{plural} is forbidden: User \"{other}\" cannot {} resource \"{plural}\" in API group \"{group}\"", method.to_lowercase()),
            ));
        }
    }
    let Some(p) = objects::parse_path(path) else {
        return plain(status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ));
    };
    let cluster = p.cluster_collection();
    let Some((kind, gv)) = collection(state, &cluster) else {
        return plain(status(
            404,
            "NotFound",
            "the server could not find the requested resource",
        ));
    };
    if p.subresource.is_some() {
        return plain(status(
            405,
            "MethodNotAllowed",
            "the replay server does not write subresources",
        ));
    }
    if params.get("dryRun").copied() != Some("All") {
        return plain(status(
            405,
            "MethodNotAllowed",
            "the replay server is read-only: only dry-run writes (dryRun=All) are answered",
        ));
    }
    let namespaced = state
        .namespaced
        .contains(&(p.prefix.clone(), p.plural.clone()));
    if namespaced && p.namespace.is_none() && method == "POST" {
        return plain(status(
            405,
            "MethodNotAllowed",
            &format!(
                "the server does not allow this method on the requested resource (post {})",
                p.plural
            ),
        ));
    }
    let strict = params.get("fieldValidation").copied() == Some("Strict");
    let target = Target {
        p: &p,
        kind: &kind,
        gv: &gv,
        namespaced,
    };
    match method {
        "POST" if p.name.is_none() => create(state, &target, body, strict),
        "PUT" | "PATCH" | "DELETE" if p.name.is_some() => {
            let Some(current) = objects::object(state, &p) else {
                return not_found(&target);
            };
            match method {
                "DELETE" => ok(
                    200,
                    &json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success",
                        "details":{"name":p.name,"kind":p.plural}}),
                    Vec::new(),
                ),
                "PUT" => match parse_body(body) {
                    Ok(new) => update(state, &target, &current, new, strict),
                    Err(e) => e,
                },
                _ => {
                    let ct = content_type.unwrap_or("");
                    if ct.starts_with("application/json-patch+json") {
                        return plain(status(
                            415,
                            "UnsupportedMediaType",
                            "the replay server does not apply JSON Patch bodies",
                        ));
                    }
                    let patch = match parse_body(body) {
                        Ok(v) => v,
                        Err(e) => return e,
                    };
                    let mut new = current.clone();
                    merge(&mut new, &patch);
                    update(state, &target, &current, new, strict)
                }
            }
        }
        _ => plain(status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )),
    }
}

struct Target<'a> {
    p: &'a ResPath,
    kind: &'a str,
    gv: &'a str,
    namespaced: bool,
}

impl Target<'_> {
    fn group(&self) -> &str {
        group_of(&self.p.prefix)
    }

    fn qualified(&self) -> String {
        match self.group() {
            "" => self.p.plural.clone(),
            g => format!("{}.{g}", self.p.plural),
        }
    }

    fn kind_qualified(&self) -> String {
        match self.group() {
            "" => self.kind.to_owned(),
            g => format!("{}.{g}", self.kind),
        }
    }
}

fn not_found(t: &Target<'_>) -> Answer {
    let name = t.p.name.clone().unwrap_or_default();
    status_with(
        404,
        "NotFound",
        &format!("{} \"{name}\" not found", t.qualified()),
        json!({"name": name, "group": t.group(), "kind": t.p.plural}),
    )
}

fn parse_body(body: &[u8]) -> Result<Value, Answer> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(plain(status(
            400,
            "BadRequest",
            "the body of the request is not a JSON object",
        ))),
        Err(e) => Err(plain(status(
            400,
            "BadRequest",
            &format!("the body of the request is not JSON (the replay server reads JSON bodies only): {e}"),
        ))),
    }
}

fn meta_str<'a>(v: &'a Value, f: &str) -> Option<&'a str> {
    v.get("metadata")?.get(f)?.as_str()
}

fn create(state: &State, t: &Target<'_>, body: &[u8], strict: bool) -> Answer {
    if let Some(ns) = &t.p.namespace {
        if t.namespaced && !objects::namespace_exists(state, ns) {
            return status_with(
                404,
                "NotFound",
                &format!("namespaces \"{ns}\" not found"),
                json!({"name": ns, "kind": "namespaces"}),
            );
        }
    }
    let mut obj = match parse_body(body) {
        Ok(v) => v,
        Err(e) => return e,
    };
    if let Some(e) = type_meta_mismatch(t, &obj) {
        return e;
    }
    let name = meta_str(&obj, "name").unwrap_or("").to_owned();
    if name.is_empty() && meta_str(&obj, "generateName").is_none_or(str::is_empty) {
        return status_with(
            422,
            "Invalid",
            &format!(
                "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                t.kind_qualified()
            ),
            json!({"kind": t.kind, "group": t.group(), "causes": [{"reason": "FieldValueRequired",
                "message": "Required value: name or generateName is required", "field": "metadata.name"}]}),
        );
    }
    if !name.is_empty() {
        let at = ResPath {
            name: Some(name.clone()),
            ..t.p.clone()
        };
        if objects::object(state, &at).is_some() {
            return status_with(
                409,
                "AlreadyExists",
                &format!("{} \"{name}\" already exists", t.qualified()),
                json!({"name": name, "group": t.group(), "kind": t.p.plural}),
            );
        }
    }
    let warnings = match decode_check(state, t, &obj, strict) {
        Ok(w) => w,
        Err(e) => return e,
    };
    if let Some(Value::Object(m)) = obj.get_mut("metadata") {
        if t.namespaced {
            if let Some(ns) = &t.p.namespace {
                m.insert("namespace".into(), Value::String(ns.clone()));
            }
        }
        m.insert(
            "uid".into(),
            Value::String("00000000-0000-4000-8000-00000000d4d4".into()),
        );
        m.insert(
            "creationTimestamp".into(),
            Value::String("2026-11-23T16:00:00Z".into()),
        );
    }
    ok(201, &obj, warnings)
}

fn type_meta_mismatch(t: &Target<'_>, obj: &Value) -> Option<Answer> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if !api_version.is_empty() && api_version != t.gv {
        return Some(plain(status(
            400,
            "BadRequest",
            &format!(
                "the API version in the data ({api_version}) does not match the expected API version ({})",
                t.gv
            ),
        )));
    }
    if !kind.is_empty() && kind != t.kind {
        return Some(plain(status(
            400,
            "BadRequest",
            &format!(
                "the kind in the data ({kind}) does not match the expected kind ({})",
                t.kind
            ),
        )));
    }
    if let (Some(ns), Some(path_ns)) = (meta_str(obj, "namespace"), &t.p.namespace) {
        if !ns.is_empty() && ns != path_ns {
            return Some(plain(status(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )));
        }
    }
    None
}

fn update(state: &State, t: &Target<'_>, current: &Value, new: Value, strict: bool) -> Answer {
    if let Some(e) = type_meta_mismatch(t, &new) {
        return e;
    }
    let name = t.p.name.clone().unwrap_or_default();
    if meta_str(&new, "name").is_some_and(|n| n != name) {
        return plain(status(
            400,
            "BadRequest",
            "the name of the object does not match the name on the URL",
        ));
    }
    let warnings = match decode_check(state, t, &new, strict) {
        Ok(w) => w,
        Err(e) => return e,
    };
    let mut errors = Vec::new();
    let mut causes = Vec::new();
    for (field, pointer) in immutable_fields(t.kind) {
        let (Some(old), Some(now)) = (current.pointer(pointer), new.pointer(pointer)) else {
            continue;
        };
        let set = |v: &Value| !(v.is_null() || v.as_str() == Some("") || v == &json!([]));
        if set(old) && set(now) && old != now {
            let message = format!("Invalid value: {now}: field is immutable");
            errors.push(format!("{field}: {message}"));
            causes.push(json!({"reason": "FieldValueInvalid", "message": message, "field": field}));
        }
    }
    if !errors.is_empty() {
        return status_with(
            422,
            "Invalid",
            &format!(
                "{} \"{name}\" is invalid: {}",
                t.kind_qualified(),
                errors.join(", ")
            ),
            json!({"name": name, "group": t.group(), "kind": t.kind, "causes": causes}),
        );
    }
    ok(200, &new, warnings)
}

/// Fields that cannot change once set, as (field path, JSON pointer).
fn immutable_fields(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "Service" => &[
            ("spec.clusterIP", "/spec/clusterIP"),
            ("spec.clusterIPs", "/spec/clusterIPs"),
        ],
        "Node" => &[
            ("spec.podCIDR", "/spec/podCIDR"),
            ("spec.podCIDRs", "/spec/podCIDRs"),
            ("spec.providerID", "/spec/providerID"),
        ],
        "Deployment" | "ReplicaSet" | "DaemonSet" => &[("spec.selector", "/spec/selector")],
        "StatefulSet" => &[
            ("spec.selector", "/spec/selector"),
            ("spec.serviceName", "/spec/serviceName"),
        ],
        "Job" => &[
            ("spec.selector", "/spec/selector"),
            ("spec.template", "/spec/template"),
            ("spec.completions", "/spec/completions"),
        ],
        "RoleBinding" | "ClusterRoleBinding" => &[("roleRef", "/roleRef")],
        _ => &[],
    }
}

/// Applies a merge patch, dropping strategic-merge directives.
pub(crate) fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let Value::Object(t) = target else { return };
            for (k, v) in p {
                if k.starts_with('$') {
                    continue;
                }
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        Value::Array(a) => {
            *target = Value::Array(
                a.iter()
                    .filter(|e| e.get("$patch").is_none())
                    .map(|e| {
                        let mut out = Value::Null;
                        merge(&mut out, e);
                        out
                    })
                    .collect(),
            );
        }
        other => *target = other.clone(),
    }
}

/// The recorded OpenAPI v3 document of a group-version (`v1`, `apps/v1`).
fn openapi(state: &State, gv: &str) -> Option<Arc<Value>> {
    if let Ok(cache) = state.openapi.lock() {
        if let Some(d) = cache.get(gv) {
            return d.clone();
        }
    }
    let path = if gv == "v1" {
        "/openapi/v3/api/v1".to_owned()
    } else {
        format!("/openapi/v3/apis/{gv}")
    };
    let doc = state
        .entries
        .iter()
        .find(|e| e.method == "GET" && e.path == path && e.status == 200)
        .and_then(|e| crate::read_body(e).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .map(Arc::new);
    if let Ok(mut cache) = state.openapi.lock() {
        cache.insert(gv.to_owned(), doc.clone());
    }
    doc
}

/// Checks that an object decodes against its kind's schema: type errors always fail (400),
/// unknown fields fail when `strict`, else they come back as warnings.
fn decode_check(
    state: &State,
    t: &Target<'_>,
    obj: &Value,
    strict: bool,
) -> Result<Vec<String>, Answer> {
    let Some(doc) = openapi(state, t.gv) else {
        return Ok(Vec::new());
    };
    let (group, version) = match t.gv.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", t.gv),
    };
    let schemas = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let Some(schema) = schemas.and_then(|s| {
        s.values().find(|sc| {
            sc.get("x-kubernetes-group-version-kind")
                .and_then(Value::as_array)
                .is_some_and(|gvks| {
                    gvks.iter().any(|g| {
                        g["group"] == group && g["version"] == version && g["kind"] == t.kind
                    })
                })
        })
    }) else {
        return Ok(Vec::new());
    };
    let mut p = Problems::default();
    check(&doc, schema, obj, "", &mut p, 0);
    let prefix = format!(
        "{} in version \"{version}\" cannot be handled as a {}",
        t.kind, t.kind
    );
    if let Some(e) = p.types.first() {
        return Err(plain(status(400, "BadRequest", &format!("{prefix}: {e}"))));
    }
    let unknown: Vec<String> = p
        .unknown
        .iter()
        .map(|f| format!("unknown field \"{f}\""))
        .collect();
    if strict && !unknown.is_empty() {
        return Err(plain(status(
            400,
            "BadRequest",
            &format!("{prefix}: strict decoding error: {}", unknown.join(", ")),
        )));
    }
    Ok(unknown)
}

#[derive(Default)]
struct Problems {
    unknown: Vec<String>,
    types: Vec<String>,
}

fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            let name = r.rsplit('/').next().unwrap_or("");
            match doc.pointer("/components/schemas").and_then(|s| s.get(name)) {
                Some(s) => schema = s,
                None => return schema,
            }
            continue;
        }
        if schema.get("type").is_none() && schema.get("properties").is_none() {
            if let Some(first) = schema
                .get("allOf")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
            {
                schema = first;
                continue;
            }
        }
        return schema;
    }
    schema
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn go_type(ty: &str) -> &str {
    match ty {
        "integer" => "int64",
        "number" => "float64",
        "boolean" => "bool",
        "array" => "[]interface {}",
        "object" => "map[string]interface {}",
        other => other,
    }
}

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        _ => true,
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn check(doc: &Value, schema: &Value, v: &Value, path: &str, p: &mut Problems, depth: usize) {
    if depth > 64 || v.is_null() {
        return;
    }
    let schema = resolve(doc, schema);
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        if !(v.is_string() || type_ok("integer", v)) {
            p.types.push(format!(
                "json: cannot unmarshal {} into Go struct field {path} of type intstr.IntOrString",
                json_type(v)
            ));
        }
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            if schema.get("type").is_none() {
                let fits = alts.iter().any(|a| {
                    let a = resolve(doc, a);
                    a.get("type")
                        .and_then(Value::as_str)
                        .is_none_or(|t| type_ok(t, v))
                });
                if !fits {
                    p.types.push(format!(
                        "json: cannot unmarshal {} into Go struct field {path}",
                        json_type(v)
                    ));
                }
                return;
            }
        }
    }
    let Some(ty) = schema.get("type").and_then(Value::as_str) else {
        return;
    };
    if !type_ok(ty, v) {
        p.types.push(format!(
            "json: cannot unmarshal {} into Go struct field {path} of type {}",
            json_type(v),
            go_type(ty)
        ));
        return;
    }
    match v {
        Value::Object(m) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties");
            let preserve = schema
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(Value::as_bool)
                == Some(true);
            for (k, val) in m {
                if let Some(s) = props.and_then(|pr| pr.get(k)) {
                    check(doc, s, val, &child(path, k), p, depth + 1);
                } else if let Some(a @ Value::Object(_)) = additional {
                    check(doc, a, val, &child(path, k), p, depth + 1);
                } else if props.is_some_and(|pr| !pr.is_empty())
                    && !preserve
                    && additional != Some(&Value::Bool(true))
                {
                    p.unknown.push(child(path, k));
                }
            }
        }
        Value::Array(a) => {
            if let Some(items) = schema.get("items") {
                for (i, e) in a.iter().enumerate() {
                    check(doc, items, e, &format!("{path}[{i}]"), p, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patches_drop_directives() {
        let mut t = json!({"a":{"b":1,"c":2},"l":[1,2],"k":"v"});
        merge(
            &mut t,
            &json!({"a":{"b":null,"d":3},"l":[{"name":"x"},{"$patch":"delete","name":"y"}],"$setElementOrder/l":[],"k":"w"}),
        );
        assert_eq!(t, json!({"a":{"c":2,"d":3},"l":[{"name":"x"}],"k":"w"}));
    }

    #[test]
    fn schema_checks_types_and_unknown_fields() {
        let doc = json!({"components":{"schemas":{
            "Meta":{"type":"object","properties":{"name":{"type":"string"},
                "labels":{"type":"object","additionalProperties":{"type":"string"}}}},
            "Port":{"x-kubernetes-int-or-string":true,"oneOf":[{"type":"integer"},{"type":"string"}]},
            "Q":{"oneOf":[{"type":"string"},{"type":"number"}]},
            "Obj":{"type":"object","properties":{
                "metadata":{"allOf":[{"$ref":"#/components/schemas/Meta"}]},
                "port":{"$ref":"#/components/schemas/Port"},
                "q":{"$ref":"#/components/schemas/Q"},
                "free":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
                "n":{"type":"integer"},
                "list":{"type":"array","items":{"type":"boolean"}}}}}}});
        let schema = doc.pointer("/components/schemas/Obj").unwrap().clone();
        let run = |v: Value| {
            let mut p = Problems::default();
            check(&doc, &schema, &v, "", &mut p, 0);
            (p.unknown, p.types)
        };
        let good = json!({"metadata":{"name":"x","labels":{"a":"yes"}},"port":"http","q":1,
            "free":{"anything":[1]},"n":3,"list":[true]});
        assert_eq!(run(good), (vec![], vec![]));
        let (unknown, types) = run(json!({"metadata":{"labels":{"a":true}},"bogus":1,"n":1.5,
            "port":true,"q":{},"list":["no"]}));
        assert_eq!(unknown, ["bogus"]);
        assert_eq!(types.len(), 5, "{types:?}");
        assert!(
            types[0].contains("metadata.labels.a")
                || types.iter().any(|t| t.contains("metadata.labels.a"))
        );
    }
}
