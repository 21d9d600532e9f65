//! Objects read from a cluster (live or from a snapshot) into a scan's input.
//!
//! Pods that a workload controls are reported once, as their owner: a Pod controlled by a
//! ReplicaSet, Job, StatefulSet, DaemonSet or ReplicationController that was read is dropped,
//! and so are ReplicaSets controlled by a Deployment and Jobs controlled by a CronJob. An
//! owned object whose owner was not read (a 403 on deployments, say) is kept, so nothing goes
//! unscanned.

use crate::snapshot::Unread;
use crate::Loaded;
use palisade_core::{InputIssue, Object, SpanIndex};
use serde_json::Value;
use std::collections::HashSet;

/// The file name of the input issue for a resource: `cluster/secrets`.
pub fn resource_file(resource: &str) -> String {
    format!("cluster/{resource}")
}

/// The controlling owner of an object (`ownerReferences` with `controller: true`), as
/// `(kind, name)`.
pub fn controller_of(v: &Value) -> Option<(&str, &str)> {
    v.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|o| Some((o.get("kind")?.as_str()?, o.get("name")?.as_str()?)))
}

fn collapses(kind: &str, owner_kind: &str) -> bool {
    matches!(
        (kind, owner_kind),
        (
            "Pod",
            "ReplicaSet" | "Job" | "StatefulSet" | "DaemonSet" | "ReplicationController"
        ) | ("ReplicaSet", "Deployment")
            | ("Job", "CronJob")
    )
}

/// Indexes of the objects reported through their owner (see the module documentation).
pub fn owned_indexes(values: &[Value]) -> HashSet<usize> {
    let key = |v: &Value| -> Option<(String, String, String)> {
        Some((
            v.get("kind")?.as_str()?.to_owned(),
            v.pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            v.pointer("/metadata/name")?.as_str()?.to_owned(),
        ))
    };
    let present: HashSet<(String, String, String)> = values
        .iter()
        .filter(|v| {
            matches!(
                v.get("kind").and_then(Value::as_str),
                Some(
                    "ReplicaSet"
                        | "Job"
                        | "StatefulSet"
                        | "DaemonSet"
                        | "ReplicationController"
                        | "Deployment"
                        | "CronJob"
                )
            )
        })
        .filter_map(key)
        .collect();
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| {
            let Some(kind) = v.get("kind").and_then(Value::as_str) else {
                return false;
            };
            let Some((owner_kind, owner)) = controller_of(v) else {
                return false;
            };
            let ns = v
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            collapses(kind, owner_kind)
                && present.contains(&(owner_kind.to_owned(), ns.to_owned(), owner.to_owned()))
        })
        .map(|(i, _)| i)
        .collect()
}

/// Turns objects read from a cluster into a scan's input: objects without source
/// locations, owned Pods/ReplicaSets/Jobs collapsed into their owners, and one warning per
/// kind that could not be read (file `cluster/<resource>`).
pub fn loaded_from_cluster(values: Vec<Value>, unreadable: &[Unread], origin: &str) -> Loaded {
    let owned = owned_indexes(&values);
    let mut out = Loaded::default();
    out.stats.files = 1;
    for (i, v) in values.into_iter().enumerate() {
        out.stats.documents += 1;
        if owned.contains(&i) {
            out.stats.skipped_documents += 1;
            continue;
        }
        match Object::from_value(v, None, SpanIndex::default()) {
            Ok(o) => {
                out.stats.objects += 1;
                out.objects.push(o);
            }
            Err(_) => out.stats.skipped_documents += 1,
        }
    }
    for u in unreadable {
        let status = if u.status > 0 {
            format!("HTTP {}: ", u.status)
        } else {
            String::new()
        };
        out.warnings.push(InputIssue {
            file: resource_file(&u.resource),
            line: 0,
            column: 0,
            message: format!(
                "could not be read from {origin}, not scanned ({status}{})",
                u.message
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owned_pods_collapse_into_present_owners() {
        let owner = |k: &str, n: &str| json!([{"kind":k,"name":n,"controller":true,"apiVersion":"apps/v1","uid":"u"}]);
        let v = vec![
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"a"}}),
            json!({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"d-1","namespace":"a","ownerReferences":owner("Deployment","d")}}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"d-1-x","namespace":"a","ownerReferences":owner("ReplicaSet","d-1")}}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"lonely","namespace":"a"}}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"orphan","namespace":"a","ownerReferences":owner("DaemonSet","gone")}}),
        ];
        let l = loaded_from_cluster(
            v,
            &[Unread {
                resource: "secrets".into(),
                status: 403,
                message: "forbidden".into(),
            }],
            "the cluster",
        );
        let names: Vec<_> = l.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["d", "lonely", "orphan"]);
        assert!(l.objects.iter().all(|o| o.source.is_none()));
        assert_eq!(l.warnings[0].file, "cluster/secrets");
        assert!(l.warnings[0].message.contains("403"));
    }
}
