//! Conversions between JSON (the objects Palisade reads) and CEL values.

use std::collections::HashMap;
use std::sync::Arc;

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use cel::objects::{Key, Map};
use cel::Value;

/// The CEL value of a JSON value: objects become maps with string keys, arrays lists,
/// integral numbers `int` (`uint` above `i64::MAX`), other numbers `double`.
pub fn to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(a) => Value::List(Arc::new(a.iter().map(to_cel).collect())),
        serde_json::Value::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// The CEL value of a Kubernetes object: as [`to_cel`], except that map entries whose value
/// is `null` are left out, as the API server drops them when it decodes an object (so
/// `has(o.spec.x)` is false for `x: null`, as it is for a stored object).
pub fn object_to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Array(a) => Value::List(Arc::new(a.iter().map(object_to_cel).collect())),
        serde_json::Value::Object(o) => {
            let map: HashMap<Key, Value> = o
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), object_to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
        other => to_cel(other),
    }
}

/// A JSON value as the interpreter holds it, converted in one pass (no intermediate
/// [`Value`]); with `object`, map entries whose value is `null` are left out as in
/// [`object_to_cel`].
pub(crate) fn json_to_val(v: &serde_json::Value, object: bool) -> Box<dyn Val> {
    match v {
        serde_json::Value::Null => Box::new(CelNull),
        serde_json::Value::Bool(b) => Box::new(CelBool::from(*b)),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Box::new(CelInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Box::new(CelUInt::from(u))
            } else {
                Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        serde_json::Value::String(s) => Box::new(CelString::from(s.clone())),
        serde_json::Value::Array(a) => Box::new(CelList::from(
            a.iter().map(|x| json_to_val(x, object)).collect::<Vec<_>>(),
        )),
        serde_json::Value::Object(o) => {
            let map: HashMap<CelMapKey<'static>, Box<dyn Val>> = o
                .iter()
                .filter(|(_, v)| !(object && v.is_null()))
                .map(|(k, v)| (CelMapKey::from(k.clone()), json_to_val(v, object)))
                .collect();
            Box::new(CelMap::from(map))
        }
    }
}

/// The JSON value of a CEL value, for messages and audit annotations. Values without a
/// JSON form (bytes, opaque library values, types) are rendered as strings.
pub fn from_cel(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::UInt(u) => (*u).into(),
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::String(s) => serde_json::Value::String(s.to_string()),
        Value::List(l) => serde_json::Value::Array(l.iter().map(from_cel).collect()),
        Value::Map(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m
                .map
                .iter()
                .map(|(k, v)| (key_string(k), from_cel(v)))
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().collect())
        }
        Value::Bytes(b) => serde_json::Value::String(String::from_utf8_lossy(b).into_owned()),
        other => serde_json::Value::String(crate::ext::display(other)),
    }
}

fn key_string(k: &Key) -> String {
    match k {
        Key::Int(i) => i.to_string(),
        Key::Uint(u) => u.to_string(),
        Key::Bool(b) => b.to_string(),
        Key::String(s) => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_cel() {
        let v =
            json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}, "big": 18446744073709551615u64});
        let c = to_cel(&v);
        assert_eq!(from_cel(&c), v);
        let o = object_to_cel(&json!({"a": null, "b": [{"c": null, "d": 1}]}));
        assert_eq!(from_cel(&o), json!({"b": [{"d": 1}]}));
        // the one-pass conversion gives the same values
        let direct = json_to_val(&v, false);
        assert_eq!(Value::try_from(direct.as_ref()).unwrap(), c);
        let direct = json_to_val(&json!({"a": null, "b": [{"c": null, "d": 1}]}), true);
        assert_eq!(Value::try_from(direct.as_ref()).unwrap(), o);
        let Value::Map(m) = &c else { panic!("map") };
        assert_eq!(
            m.map.get(&Key::String(Arc::new("big".into()))),
            Some(&Value::UInt(u64::MAX))
        );
    }
}
