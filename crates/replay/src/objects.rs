//! The recorded cluster as objects: resource paths, the recorded (or synthesized) list of a
//! collection, single objects, field selectors and server-side pagination.

use crate::{collection, read_body, status, State, SyntheticList};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A resource path split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResPath {
    /// `/api/v1` or `/apis/GROUP/VERSION`.
    pub prefix: String,
    /// The namespace of a namespaced path.
    pub namespace: Option<String>,
    /// The resource (`configmaps`).
    pub plural: String,
    /// The object's name, for an object path.
    pub name: Option<String>,
    /// The subresource (`status`, `scale`...).
    pub subresource: Option<String>,
}

impl ResPath {
    /// The cluster-wide collection path (`/api/v1/configmaps`).
    pub fn cluster_collection(&self) -> String {
        format!("{}/{}", self.prefix, self.plural)
    }
}

/// Splits `/api/v1/namespaces/NS/PLURAL/NAME[/SUB]` and its shorter forms.
pub(crate) fn parse_path(path: &str) -> Option<ResPath> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (prefix, rest) = match parts.first() {
        Some(&"api") if parts.len() >= 3 => (format!("/api/{}", parts[1]), &parts[2..]),
        Some(&"apis") if parts.len() >= 4 => {
            (format!("/apis/{}/{}", parts[1], parts[2]), &parts[3..])
        }
        _ => return None,
    };
    if rest.iter().any(|p| p.is_empty()) {
        return None;
    }
    let s = |x: &&str| (*x).to_owned();
    let (namespace, plural, name, subresource) = match rest {
        [p] => (None, s(p), None, None),
        ["namespaces", ns, p] => (Some(s(ns)), s(p), None, None),
        ["namespaces", ns, p, n] => (Some(s(ns)), s(p), Some(s(n)), None),
        ["namespaces", ns, p, n, sub] => (Some(s(ns)), s(p), Some(s(n)), Some(s(sub))),
        [p, n] => (None, s(p), Some(s(n)), None),
        [p, n, sub] => (None, s(p), Some(s(n)), Some(s(sub))),
        _ => return None,
    };
    Some(ResPath {
        prefix,
        namespace,
        plural,
        name,
        subresource,
    })
}

/// The objects of a cluster-wide collection (`/api/v1/secrets`): a test's synthetic list, a
/// made-up custom kind, else the recorded unpaginated list (admin, JSON). Items get their
/// `apiVersion` and `kind`. `None` when the server does not serve the collection; an empty
/// list when it does but nothing was recorded (the cluster had none).
pub(crate) fn items(state: &State, cluster_path: &str) -> Option<Arc<Vec<Value>>> {
    if let Ok(cache) = state.lists.lock() {
        if let Some(l) = cache.get(cluster_path) {
            return Some(l.clone());
        }
    }
    let (kind, gv) = match collection(state, cluster_path) {
        Some(k) => k,
        None => {
            let c =
                state.cfg.custom.iter().find(|c| {
                    cluster_path == format!("/apis/{}/{}", c.group_version(), c.plural)
                })?;
            (c.kind.clone(), c.group_version())
        }
    };
    let raw: Vec<Value> = if let Some(l) = state.cfg.synthetic.get(cluster_path) {
        l.items.as_ref().clone()
    } else if let Some(c) = state
        .cfg
        .custom
        .iter()
        .find(|c| cluster_path == format!("/apis/{}/{}", c.group_version(), c.plural))
    {
        c.items.clone()
    } else {
        state
            .entries
            .iter()
            .find(|e| {
                e.method == "GET"
                    && e.path == cluster_path
                    && e.query.is_empty()
                    && e.user == "admin"
                    && e.status == 200
                    && e.accept.as_deref() == Some("application/json")
            })
            .and_then(|e| read_body(e).ok())
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .and_then(|mut v| match v.get_mut("items").map(Value::take) {
                Some(Value::Array(a)) => Some(a),
                _ => None,
            })
            .unwrap_or_default()
    };
    let items: Vec<Value> = raw
        .into_iter()
        .map(|mut i| {
            if let Value::Object(m) = &mut i {
                m.insert("apiVersion".into(), Value::String(gv.clone()));
                m.insert("kind".into(), Value::String(kind.clone()));
            }
            i
        })
        .collect();
    let items = Arc::new(items);
    if let Ok(mut cache) = state.lists.lock() {
        cache.insert(cluster_path.to_owned(), items.clone());
    }
    Some(items)
}

fn meta<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The recorded object at a path (`/api/v1/namespaces/NS/configmaps/NAME`).
pub(crate) fn object(state: &State, p: &ResPath) -> Option<Value> {
    let name = p.name.as_deref()?;
    let list = items(state, &p.cluster_collection())?;
    let ns = p.namespace.as_deref().unwrap_or("");
    list.iter()
        .find(|o| meta(o, "name") == name && meta(o, "namespace") == ns)
        .cloned()
}

/// Whether a namespace exists in the recorded cluster.
pub(crate) fn namespace_exists(state: &State, ns: &str) -> bool {
    items(state, "/api/v1/namespaces").is_some_and(|l| l.iter().any(|n| meta(n, "name") == ns))
}

/// The fields a field selector may use, per kind, as the API server's field label conversion
/// functions allow them (`metadata.name` and `metadata.namespace` for every kind).
fn selectable(kind: &str, field: &str) -> bool {
    if matches!(field, "metadata.name" | "metadata.namespace") {
        return true;
    }
    let fields: &[&str] = match kind {
        "Secret" => &["type"],
        "Pod" => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        "Node" => &["spec.unschedulable"],
        "Namespace" => &["status.phase"],
        "Event" => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        "ReplicaSet" | "ReplicationController" => &["status.replicas"],
        "Job" => &["status.successful"],
        "CertificateSigningRequest" => &["spec.signerName"],
        "Service" => &["spec.clusterIP", "spec.type"],
        _ => &[],
    };
    fields.contains(&field)
}

/// One requirement of a field selector.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Requirement {
    field: String,
    value: String,
    equal: bool,
}

/// Parses `a=b,c!=d,e==f`. An unsupported field is the API server's 400.
pub(crate) fn parse_selector(kind: &str, sel: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for part in sel.split(',').filter(|p| !p.is_empty()) {
        let (field, value, equal) = if let Some((f, v)) = part.split_once("!=") {
            (f, v, false)
        } else if let Some((f, v)) = part.split_once("==") {
            (f, v, true)
        } else if let Some((f, v)) = part.split_once('=') {
            (f, v, true)
        } else {
            return Err(format!(
                "invalid selector: '{sel}'; can't understand '{part}'"
            ));
        };
        let field = field.trim();
        if !selectable(kind, field) {
            return Err(format!("field label not supported: {field}"));
        }
        out.push(Requirement {
            field: field.to_owned(),
            value: value.trim().to_owned(),
            equal,
        });
    }
    Ok(out)
}

/// A field's value as the API server compares it: strings as they are, other scalars in
/// their text form, a missing field as the empty string.
fn field_value(v: &Value, field: &str) -> String {
    let mut cur = v;
    for seg in field.split('.') {
        match cur.get(seg) {
            Some(x) => cur = x,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub(crate) fn matches(reqs: &[Requirement], v: &Value) -> bool {
    reqs.iter()
        .all(|r| (field_value(v, &r.field) == r.value) == r.equal)
}

/// Serves a list: filtered by `fieldSelector` (400 for a field the kind does not support),
/// paginated with `limit` / `continue` (an offset), and as `PartialObjectMetadataList` when
/// the Accept header asks for metadata.
pub(crate) fn serve_list(
    list: &SyntheticList,
    namespace: Option<&str>,
    params: &HashMap<&str, &str>,
    accept: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let item_kind = list.kind.strip_suffix("List").unwrap_or(&list.kind);
    let reqs = match params.get("fieldSelector") {
        Some(sel) => match parse_selector(item_kind, sel) {
            Ok(r) => r,
            Err(m) => return status(400, "BadRequest", &m),
        },
        None => Vec::new(),
    };
    let selected: Vec<&Value> = list
        .items
        .iter()
        .filter(|i| namespace.is_none_or(|ns| meta(i, "namespace") == ns))
        .filter(|i| matches(&reqs, i))
        .collect();
    let start: usize = params
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = params
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let end = start.saturating_add(limit).min(selected.len());
    let meta_only = accept.is_some_and(|a| a.contains("as=PartialObjectMetadataList"));
    let items: Vec<Value> = selected[start.min(end)..end]
        .iter()
        .map(|i| {
            if meta_only {
                json!({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":i["metadata"]})
            } else {
                let mut i = (*i).clone();
                if let Value::Object(m) = &mut i {
                    // List items carry no type meta.
                    m.remove("apiVersion");
                    m.remove("kind");
                }
                i
            }
        })
        .collect();
    let mut list_meta = json!({"resourceVersion":"1655"});
    if end < selected.len() {
        list_meta["continue"] = json!(end.to_string());
        list_meta["remainingItemCount"] = json!(selected.len() - end);
    }
    let (api_version, kind) = if meta_only {
        (
            "meta.k8s.io/v1".to_owned(),
            "PartialObjectMetadataList".to_owned(),
        )
    } else {
        (list.api_version.clone(), list.kind.clone())
    };
    let body = json!({"kind":kind,"apiVersion":api_version,"metadata":list_meta,"items":items});
    (
        200,
        "application/json".into(),
        body.to_string().into_bytes(),
    )
}

/// A list with a field selector, from the recorded (or synthetic) cluster-wide list of the
/// collection, as the API server would filter it.
pub(crate) fn selected_list(
    state: &State,
    path: &str,
    params: &HashMap<&str, &str>,
    accept: Option<&str>,
) -> Option<(u16, String, Vec<u8>)> {
    let p = parse_path(path)?;
    if p.name.is_some() {
        return None;
    }
    let cluster = p.cluster_collection();
    let items = items(state, &cluster)?;
    let (kind, gv) = collection(state, &cluster).or_else(|| {
        let c = state
            .cfg
            .custom
            .iter()
            .find(|c| cluster == format!("/apis/{}/{}", c.group_version(), c.plural))?;
        Some((c.kind.clone(), c.group_version()))
    })?;
    let list = SyntheticList {
        api_version: gv,
        kind: format!("{kind}List"),
        items,
    };
    Some(serve_list(&list, p.namespace.as_deref(), params, accept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split() {
        let p = parse_path("/api/v1/namespaces/a/configmaps/x").unwrap();
        assert_eq!(
            (p.namespace.as_deref(), p.plural.as_str(), p.name.as_deref()),
            (Some("a"), "configmaps", Some("x"))
        );
        assert_eq!(p.cluster_collection(), "/api/v1/configmaps");
        let n = parse_path("/api/v1/namespaces/a").unwrap();
        assert_eq!(
            (n.namespace, n.plural.as_str(), n.name.as_deref()),
            (None, "namespaces", Some("a"))
        );
        let d = parse_path("/apis/apps/v1/namespaces/a/deployments/d/scale").unwrap();
        assert_eq!(d.subresource.as_deref(), Some("scale"));
        assert!(parse_path("/apis/apps").is_none());
        assert!(parse_path("/api/v1/a/b/c/d").is_none());
    }

    #[test]
    fn field_selectors() {
        let s = json!({"type":"kubernetes.io/service-account-token","metadata":{"name":"t","namespace":"ci"}});
        let o = json!({"type":"Opaque","metadata":{"name":"o","namespace":"ci"}});
        let eq = parse_selector("Secret", "type=kubernetes.io/service-account-token").unwrap();
        let ne = parse_selector("Secret", "type!=kubernetes.io/service-account-token").unwrap();
        assert!(matches(&eq, &s) && !matches(&eq, &o));
        assert!(!matches(&ne, &s) && matches(&ne, &o));
        let both = parse_selector("Secret", "type==Opaque,metadata.name=o").unwrap();
        assert!(matches(&both, &o) && !matches(&both, &s));
        assert_eq!(
            parse_selector("Pod", "spec.nonexistent=x").unwrap_err(),
            "field label not supported: spec.nonexistent"
        );
        assert!(parse_selector("Secret", "type").is_err());
        // A missing field compares as "".
        let pod = json!({"spec":{}});
        assert!(matches(
            &parse_selector("Pod", "spec.nodeName=").unwrap(),
            &pod
        ));
    }
}
