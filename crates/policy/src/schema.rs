//! The checks of a template's `openAPIV3Schema` that are cheap and certain: types, enums,
//! required properties, and properties not declared where the schema closes the object
//! (`additionalProperties: false`). Formats, patterns and numeric bounds are left to the
//! API server, as structural-schema defaulting and pruning are.

use palisade_core::object::type_name;
use serde_json::Value;

fn type_ok(ty: &str, v: &Value) -> bool {
    match ty {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        _ => true,
    }
}

/// Checks `value` against `schema`; the first problem as (JSON pointer under `parameters`,
/// reason).
pub fn check(schema: &Value, value: &Value, path: &str) -> Result<(), (String, String)> {
    if schema
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true)
        && schema.get("type").is_none()
    {
        return Ok(());
    }
    if value.is_null() {
        return Ok(());
    }
    if schema
        .get("x-kubernetes-int-or-string")
        .and_then(Value::as_bool)
        == Some(true)
    {
        if value.is_string() || value.is_number() {
            return Ok(());
        }
        return Err((
            path.to_owned(),
            format!("must be an integer or a string, found {}", type_name(value)),
        ));
    }
    if let Some(ty) = schema.get("type").and_then(Value::as_str) {
        if !type_ok(ty, value) {
            return Err((
                path.to_owned(),
                format!("must be {} ({ty}), found {}", article(ty), type_name(value)),
            ));
        }
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        if !values.contains(value) {
            let list: Vec<String> = values.iter().map(Value::to_string).collect();
            return Err((
                path.to_owned(),
                format!("{value} is not one of: {}", list.join(", ")),
            ));
        }
    }
    if let Value::Object(map) = value {
        let props = schema.get("properties").and_then(Value::as_object);
        if let Some(req) = schema.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !map.contains_key(r) {
                    return Err((path.to_owned(), format!("`{r}` is required")));
                }
            }
        }
        for (k, v) in map {
            let p = format!("{path}/{k}");
            match props.and_then(|ps| ps.get(k)) {
                Some(s) => check(s, v, &p)?,
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) if props.is_some() => {
                        return Err((p, format!("`{k}` is not a parameter of this template")))
                    }
                    Some(s @ Value::Object(_)) => check(s, v, &p)?,
                    _ => {}
                },
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(s, v, &format!("{path}/{i}"))?;
        }
    }
    Ok(())
}

fn article(ty: &str) -> &'static str {
    match ty {
        "object" => "a mapping",
        "array" => "a list",
        "string" => "a string",
        "integer" => "an integer",
        "number" => "a number",
        "boolean" => "true or false",
        _ => "a value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_enums_and_items() {
        let s = json!({"type":"object","properties":{
            "repos":{"type":"array","items":{"type":"string"}},
            "mode":{"type":"string","enum":["a","b"]}}});
        assert!(check(&s, &json!({"repos":["x"],"mode":"a"}), "").is_ok());
        let e = check(&s, &json!({"repos":"x"}), "").unwrap_err();
        assert_eq!(e.0, "/repos");
        assert!(e.1.contains("must be a list"), "{e:?}");
        let e = check(&s, &json!({"repos":[1]}), "").unwrap_err();
        assert_eq!(e.0, "/repos/0");
        assert!(check(&s, &json!({"mode":"c"}), "").is_err());
        // Undeclared properties are pruned, not errors, unless the schema closes the object.
        assert!(check(&s, &json!({"other":1}), "").is_ok());
        let closed = json!({"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false});
        assert!(check(&closed, &json!({"b":1}), "").is_err());
    }
}
