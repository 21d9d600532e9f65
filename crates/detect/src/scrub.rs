//! Secret values are dropped from request and response bodies when an event is read, before
//! any rule or output sees it.
//!
//! Dropped (each value replaced by [`REDACTED`], keys kept):
//!
//! * `data` and `stringData` of every Secret: any body of a request on the `secrets` resource
//!   (objects, lists, tables, patches, anywhere inside them), any object of kind `Secret`
//!   and the items of a `SecretList` anywhere in any body (a `List`, a nested list...);
//! * on those objects, the `kubectl.kubernetes.io/last-applied-configuration` annotation and
//!   any annotation whose value is a JSON object with `data` or `stringData`;
//! * on any object, an annotation whose value is the JSON of a Secret or a `SecretList`;
//! * in JSON patches on secrets, the values written under `/data`, `/stringData` and the
//!   annotations above;
//! * the token of a `TokenRequest` (`status.token`, the `serviceaccounts/token` subresource)
//!   and of a `TokenReview` (`spec.token`).

use serde_json::{Map, Value};

/// What a dropped value is replaced with.
pub const REDACTED: &str = "<redacted>";

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What the event says about its bodies.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BodyContext {
    /// The request is on the `secrets` resource.
    pub(crate) secrets: bool,
    /// The request is on a token subresource or the `tokenreviews` resource.
    pub(crate) tokens: bool,
}

/// Whether the body text may hold something to drop (a cheap test before parsing).
pub(crate) fn needs_scrub(text: &str, ctx: BodyContext) -> bool {
    ctx.secrets || ctx.tokens || text.contains("Secret") || text.contains("TokenRe")
}

/// Drops secret values from a parsed body; returns whether anything changed.
pub(crate) fn scrub_body(v: &mut Value, ctx: BodyContext) -> bool {
    let mut changed = scrub(v, ctx.secrets);
    if ctx.tokens {
        changed |= drop_token(v, "status") | drop_token(v, "spec");
    }
    changed
}

fn redacted() -> Value {
    Value::String(REDACTED.to_string())
}

fn is_redacted(v: &Value) -> bool {
    v.as_str() == Some(REDACTED)
}

/// Replaces every value of a `data` / `stringData` map (or the whole value when it is not a
/// map).
fn drop_values(v: &mut Value) -> bool {
    match v {
        Value::Null => false,
        Value::Object(m) => {
            let mut changed = false;
            for x in m.values_mut() {
                if !is_redacted(x) {
                    *x = redacted();
                    changed = true;
                }
            }
            changed
        }
        other if is_redacted(other) => false,
        other => {
            *other = redacted();
            true
        }
    }
}

fn drop_token(v: &mut Value, field: &str) -> bool {
    match v.get_mut(field).and_then(|s| s.get_mut("token")) {
        Some(t) if !t.is_null() && !is_redacted(t) => {
            *t = redacted();
            true
        }
        _ => false,
    }
}

/// Whether an embedded JSON value is (or holds) a Secret, or, for a Secret's own annotations,
/// has `data` / `stringData` anywhere.
fn embedded_secret(v: &Value, on_secret: bool) -> bool {
    match v {
        Value::Object(m) => {
            let kind = m.get("kind").and_then(Value::as_str);
            matches!(kind, Some("Secret" | "SecretList"))
                || (on_secret && (m.contains_key("data") || m.contains_key("stringData")))
                || m.values().any(|x| embedded_secret(x, on_secret))
        }
        Value::Array(a) => a.iter().any(|x| embedded_secret(x, on_secret)),
        _ => false,
    }
}

fn sensitive_annotation(key: &str, value: &Value, on_secret: bool) -> bool {
    if is_redacted(value) {
        return false;
    }
    if on_secret && key == LAST_APPLIED {
        return true;
    }
    let Some(text) = value.as_str() else {
        return false;
    };
    let t = text.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) || (!on_secret && !text.contains("Secret")) {
        return false;
    }
    serde_json::from_str::<Value>(text).is_ok_and(|e| embedded_secret(&e, on_secret))
}

/// Drops sensitive annotations from an annotation map.
fn scrub_annotation_map(m: &mut Map<String, Value>, on_secret: bool) -> bool {
    let mut changed = false;
    for (k, v) in m.iter_mut() {
        if sensitive_annotation(k, v, on_secret) {
            *v = redacted();
            changed = true;
        }
    }
    changed
}

fn scrub_metadata(metadata: &mut Value, on_secret: bool) -> bool {
    match metadata.get_mut("annotations") {
        Some(Value::Object(a)) => scrub_annotation_map(a, on_secret),
        _ => false,
    }
}

/// JSON Pointer token unescaping (`~1` is `/`, `~0` is `~`).
fn unescape_pointer(s: &str) -> String {
    s.replace("~1", "/").replace("~0", "~")
}

/// One operation of a JSON patch on a Secret.
fn scrub_patch_op(op: &mut Map<String, Value>) -> bool {
    let path = op
        .get("path")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(value) = op.get_mut("value") else {
        return false;
    };
    if path.is_empty() || path == "/" {
        return scrub(value, true);
    }
    if path == "/data" || path == "/stringData" {
        return drop_values(value);
    }
    if path.starts_with("/data/") || path.starts_with("/stringData/") {
        if is_redacted(value) {
            return false;
        }
        *value = redacted();
        return true;
    }
    if path == "/metadata" {
        return scrub_metadata(value, true);
    }
    if path == "/metadata/annotations" {
        return match value {
            Value::Object(a) => scrub_annotation_map(a, true),
            _ => false,
        };
    }
    if let Some(key) = path.strip_prefix("/metadata/annotations/") {
        if sensitive_annotation(&unescape_pointer(key), value, true) {
            *value = redacted();
            return true;
        }
    }
    false
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Secret,
    SecretList,
    TokenRequest,
    TokenReview,
    Other,
}

fn kind_of(m: &Map<String, Value>) -> Kind {
    match m.get("kind").and_then(Value::as_str) {
        Some("Secret") => Kind::Secret,
        Some("SecretList") => Kind::SecretList,
        Some("TokenRequest") => Kind::TokenRequest,
        Some("TokenReview") => Kind::TokenReview,
        _ => Kind::Other,
    }
}

/// Walks a body. `secret` is true inside a Secret (or anything of a request on secrets).
fn scrub(v: &mut Value, secret: bool) -> bool {
    let m = match v {
        Value::Object(m) => m,
        Value::Array(a) => {
            let mut changed = false;
            for x in a.iter_mut() {
                changed |= scrub(x, secret);
            }
            return changed;
        }
        _ => return false,
    };
    let kind = kind_of(m);
    let is_secret = secret || kind == Kind::Secret;
    let items_secret = is_secret || kind == Kind::SecretList;
    if secret && m.contains_key("op") && m.get("path").is_some_and(Value::is_string) {
        return scrub_patch_op(m);
    }
    let mut changed = false;
    for (k, child) in m.iter_mut() {
        changed |= match k.as_str() {
            "data" | "stringData" if is_secret => drop_values(child),
            "metadata" => scrub_metadata(child, is_secret) | scrub(child, is_secret),
            "items" => scrub(child, items_secret),
            _ => scrub(child, is_secret),
        };
    }
    match kind {
        Kind::TokenRequest => changed |= drop_token(v, "status"),
        Kind::TokenReview => changed |= drop_token(v, "spec"),
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(mut v: Value, secrets: bool) -> String {
        scrub_body(
            &mut v,
            BodyContext {
                secrets,
                tokens: false,
            },
        );
        v.to_string()
    }

    #[test]
    fn secrets_lose_their_values() {
        let applied =
            json!({"apiVersion": "v1", "kind": "Secret", "stringData": {"pw": "CANARY1"}})
                .to_string();
        let secret = json!({
            "kind": "Secret", "apiVersion": "v1",
            "metadata": {"name": "s", "annotations": {LAST_APPLIED: applied, "team": "a"}},
            "data": {"pw": "Q0FOQVJZMg=="}, "stringData": {"k": "CANARY3"}, "type": "Opaque"
        });
        let out = run(secret.clone(), false);
        for c in ["CANARY1", "Q0FOQVJZMg", "CANARY3"] {
            assert!(!out.contains(c), "{c} in {out}");
        }
        assert!(out.contains("\"pw\"") && out.contains("\"team\":\"a\"") && out.contains("Opaque"));
        let list = json!({"kind": "List", "items": [secret.clone(), {"kind": "ConfigMap", "data": {"a": "keep"}}]});
        let out = run(list, false);
        assert!(!out.contains("CANARY3") && out.contains("keep"), "{out}");
        let secret_list = json!({"kind": "SecretList", "items": [{"metadata": {"name": "x"}, "data": {"a": "CANARY4"}}]});
        assert!(!run(secret_list, false).contains("CANARY4"));
        let table = json!({"kind": "Table", "rows": [{"cells": ["s", "Opaque", 1], "object": {
            "kind": "PartialObjectMetadata", "metadata": {"annotations": {LAST_APPLIED: "{\"data\":{\"a\":\"CANARY5\"}}"}}}}]});
        assert!(!run(table.clone(), true).contains("CANARY5"));
        assert!(run(table, false).contains("CANARY5"));
        let config_map = json!({"kind": "ConfigMap", "data": {"a": "keep"},
            "metadata": {"annotations": {LAST_APPLIED: "{\"data\":{\"a\":\"keep\"}}"}}});
        assert_eq!(run(config_map.clone(), false), config_map.to_string());
    }

    #[test]
    fn patches_and_tokens() {
        let merge =
            json!({"data": {"pw": "CANARY6"}, "metadata": {"annotations": {LAST_APPLIED: "x"}}});
        let out = run(merge, true);
        assert!(!out.contains("CANARY6") && !out.contains("\"x\""), "{out}");
        let ops = json!([
            {"op": "replace", "path": "/data/pw", "value": "CANARY7"},
            {"op": "add", "path": "/stringData", "value": {"a": "CANARY8"}},
            {"op": "add", "path": "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration", "value": "CANARY9"},
            {"op": "replace", "path": "/type", "value": "Opaque"}
        ]);
        let out = run(ops, true);
        for c in ["CANARY7", "CANARY8", "CANARY9"] {
            assert!(!out.contains(c), "{c} in {out}");
        }
        assert!(out.contains("Opaque"));
        let mut token = json!({"kind": "TokenRequest", "status": {"token": "CANARY10", "expirationTimestamp": "t"}});
        assert!(scrub_body(&mut token, BodyContext::default()));
        assert!(!token.to_string().contains("CANARY10"));
        let mut bare = json!({"status": {"token": "CANARY11"}});
        scrub_body(
            &mut bare,
            BodyContext {
                secrets: false,
                tokens: true,
            },
        );
        assert!(!bare.to_string().contains("CANARY11"));
    }
}
