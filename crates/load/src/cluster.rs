//! Objects read from a cluster (live or from a snapshot) into a scan's input.
//!
//! Pods that a workload controls are reported once, as their owner: a Pod controlled by a
//! ReplicaSet, Job, StatefulSet, DaemonSet or ReplicationController that was read is dropped,
//! and so are ReplicaSets controlled by a Deployment and Jobs controlled by a CronJob. An
//! owned object whose owner was not read (a 403 on deployments, say) is kept, so nothing goes
//! unscanned.
//!
//! What the folded Pods run is kept: for each workload, the digests its Pods' containers run
//! (their status's `imageID`), with how many Pods run each ([`Loaded::running`]), so that the
//! image verification judges the digests that run, not only the one the tag names now. Only
//! those strings are kept, never the Pods.
//!
//! CustomResourceDefinitions are scanned as metadata, as a live scan reads them: a snapshot
//! carries their schemas (for `palisade export`), and the scan of a snapshot drops them as
//! it reads, so that it sees what the live scan saw and does not hold megabytes of schema.

use crate::snapshot::Unread;
use crate::Loaded;
use palisade_core::running::{
    object_key, PodImages, PodSpecImages, PodStatusImages, RunningDigests,
};
use palisade_core::{InputIssue, Object, SpanIndex};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

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

/// The identity and controlling owner of an object, read without building its value.
#[derive(Debug, Default, serde::Deserialize)]
struct Head {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: HeadMeta,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeadMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    owner_references: Vec<OwnerRef>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct OwnerRef {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    controller: Option<bool>,
}

/// [`Head`] with a Pod's containers and their statuses, read in the same pass: what a
/// folded Pod leaves to its workload ([`RunningDigests`]).
#[derive(Debug, Default, serde::Deserialize)]
struct PodHead {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: HeadMeta,
    #[serde(default)]
    spec: PodSpecImages,
    #[serde(default)]
    status: PodStatusImages,
}

impl Head {
    /// The head of a compact JSON line, and its containers when it is a Pod with a
    /// controller (the Pods that may fold). A line whose containers or statuses are not
    /// shaped as a Pod's gives its head alone.
    fn of_line(line: &str) -> (Head, Option<PodImages>) {
        match serde_json::from_str::<PodHead>(line) {
            Ok(p) => {
                let head = Head {
                    kind: p.kind,
                    metadata: p.metadata,
                };
                let images =
                    (head.kind == "Pod" && head.controller().is_some()).then_some(PodImages {
                        spec: p.spec,
                        status: p.status,
                    });
                (head, images)
            }
            Err(_) => (serde_json::from_str(line).unwrap_or_default(), None),
        }
    }

    fn controller(&self) -> Option<&OwnerRef> {
        self.metadata
            .owner_references
            .iter()
            .find(|o| o.controller == Some(true))
    }

    /// A head from an identity and its controlling owner (kind, name).
    fn new(
        kind: String,
        name: String,
        namespace: String,
        controller: Option<(&str, &str)>,
    ) -> Head {
        Head {
            kind,
            metadata: HeadMeta {
                name,
                namespace,
                owner_references: controller
                    .map(|(k, n)| OwnerRef {
                        kind: k.to_owned(),
                        name: n.to_owned(),
                        controller: Some(true),
                    })
                    .into_iter()
                    .collect(),
            },
        }
    }

    fn of_value(v: &Value) -> Head {
        let s = |p: &str| {
            v.pointer(p)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        Head::new(
            s("/kind"),
            s("/metadata/name"),
            s("/metadata/namespace"),
            controller_of(v),
        )
    }
}

const OWNER_KINDS: &[&str] = &[
    "ReplicaSet",
    "Job",
    "StatefulSet",
    "DaemonSet",
    "ReplicationController",
    "Deployment",
    "CronJob",
];

fn owned_of(heads: &[Head]) -> HashSet<usize> {
    let present: HashSet<(&str, &str, &str)> = heads
        .iter()
        .filter(|h| OWNER_KINDS.contains(&h.kind.as_str()))
        .map(|h| {
            (
                h.kind.as_str(),
                h.metadata.namespace.as_str(),
                h.metadata.name.as_str(),
            )
        })
        .collect();
    heads
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            h.metadata
                .owner_references
                .iter()
                .find(|o| o.controller == Some(true))
                .is_some_and(|o| {
                    collapses(&h.kind, &o.kind)
                        && present.contains(&(
                            o.kind.as_str(),
                            h.metadata.namespace.as_str(),
                            o.name.as_str(),
                        ))
                })
        })
        .map(|(i, _)| i)
        .collect()
}

/// What the folded Pods run, by the workload each is reported as: its controller, or its
/// controller's controller when that is folded too (a Pod of a ReplicaSet of a Deployment is
/// the Deployment's). `images` are the Pods' containers, by index ([`Head::of_line`]).
fn running_of(
    heads: &[Head],
    images: &HashMap<usize, PodImages>,
    owned: &HashSet<usize>,
) -> RunningDigests {
    let mut out = RunningDigests::default();
    if images.is_empty() {
        return out;
    }
    let owners: HashMap<(&str, &str, &str), usize> = heads
        .iter()
        .enumerate()
        .filter(|(_, h)| OWNER_KINDS.contains(&h.kind.as_str()))
        .map(|(i, h)| {
            (
                (
                    h.kind.as_str(),
                    h.metadata.namespace.as_str(),
                    h.metadata.name.as_str(),
                ),
                i,
            )
        })
        .collect();
    let owner_of = |i: usize| {
        let h = &heads[i];
        let o = h.controller()?;
        owners
            .get(&(
                o.kind.as_str(),
                h.metadata.namespace.as_str(),
                o.name.as_str(),
            ))
            .copied()
    };
    let mut indexes: Vec<&usize> = images.keys().filter(|i| owned.contains(*i)).collect();
    indexes.sort_unstable();
    for &i in indexes {
        let Some(mut target) = owner_of(i) else {
            continue;
        };
        // Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob: two steps at most.
        for _ in 0..4 {
            match owner_of(target) {
                Some(up) if owned.contains(&target) => target = up,
                _ => break,
            }
        }
        let t = &heads[target];
        let ns = t.metadata.namespace.as_str();
        let key = object_key(&t.kind, (!ns.is_empty()).then_some(ns), &t.metadata.name);
        out.add_pod(&key, &images[&i]);
    }
    out
}

/// [`owned_indexes`] for parsed objects (the webhook's watch cache holds them so).
pub fn owned_object_indexes(objects: &[Object]) -> HashSet<usize> {
    let present: HashSet<(&str, Option<&str>, &str)> = objects
        .iter()
        .filter(|o| OWNER_KINDS.contains(&o.kind.as_str()))
        .map(|o| (o.kind.as_str(), o.namespace.as_deref(), o.name.as_str()))
        .collect();
    objects
        .iter()
        .enumerate()
        .filter(|(_, o)| {
            let controller = o
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true));
            controller.is_some_and(|r| {
                let kind = r.get("kind").and_then(Value::as_str).unwrap_or("");
                let name = r.get("name").and_then(Value::as_str).unwrap_or("");
                collapses(&o.kind, kind) && present.contains(&(kind, o.namespace.as_deref(), name))
            })
        })
        .map(|(i, _)| i)
        .collect()
}

/// [`owned_indexes`] for compact JSON lines: only each line's identity and owner are read.
pub fn owned_line_indexes<S: AsRef<str>>(lines: &[S]) -> HashSet<usize> {
    let heads: Vec<Head> = lines
        .iter()
        .map(|l| serde_json::from_str(l.as_ref()).unwrap_or_default())
        .collect();
    owned_of(&heads)
}

/// What [`owned_identity_indexes`] reads of an object: its identity and its controlling
/// owner (`(kind, name)`, see [`controller_of`]).
#[derive(Clone, Copy, Debug)]
pub struct Identity<'a> {
    /// `kind`.
    pub kind: &'a str,
    /// `metadata.namespace` (empty when none).
    pub namespace: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
    /// The controlling owner, `(kind, name)`.
    pub controller: Option<(&'a str, &'a str)>,
}

/// [`owned_indexes`] for objects known by their identity and controlling owner (a cache
/// that keeps them so, without reading the objects again).
pub fn owned_identity_indexes(ids: &[Identity<'_>]) -> HashSet<usize> {
    let heads: Vec<Head> = ids
        .iter()
        .map(|i| {
            Head::new(
                i.kind.to_owned(),
                i.name.to_owned(),
                i.namespace.to_owned(),
                i.controller,
            )
        })
        .collect();
    owned_of(&heads)
}

/// Indexes of the objects reported through their owner (see the module documentation).
pub fn owned_indexes(values: &[Value]) -> HashSet<usize> {
    let heads: Vec<Head> = values.iter().map(Head::of_value).collect();
    owned_of(&heads)
}

fn unreadable_kinds(unreadable: &[Unread]) -> Vec<palisade_core::UnreadableKind> {
    unreadable
        .iter()
        .map(|u| palisade_core::UnreadableKind {
            kind: u.kind.clone(),
            resource: u.resource.clone(),
            reason: if u.status > 0 {
                format!("HTTP {}: {}", u.status, u.message)
            } else {
                u.message.clone()
            },
        })
        .collect()
}

fn issues(unreadable: &[Unread], origin: &str) -> Vec<InputIssue> {
    unreadable
        .iter()
        .map(|u| {
            let status = if u.status > 0 {
                format!("HTTP {}: ", u.status)
            } else {
                String::new()
            };
            InputIssue {
                file: resource_file(&u.resource),
                line: 0,
                column: 0,
                message: format!(
                    "could not be read from {origin}, not scanned ({status}{})",
                    u.message
                ),
            }
        })
        .collect()
}

/// Turns objects read from a cluster into a scan's input: objects without source
/// locations, owned Pods/ReplicaSets/Jobs collapsed into their owners, and one warning per
/// kind that could not be read (file `cluster/<resource>`).
pub fn loaded_from_cluster(values: Vec<Value>, unreadable: &[Unread], origin: &str) -> Loaded {
    let heads: Vec<Head> = values.iter().map(Head::of_value).collect();
    let owned = owned_of(&heads);
    let images: HashMap<usize, PodImages> = heads
        .iter()
        .enumerate()
        .filter(|(i, h)| h.kind == "Pod" && owned.contains(i))
        .map(|(i, _)| (i, PodImages::of(&values[i])))
        .collect();
    let mut out = Loaded {
        running: running_of(&heads, &images, &owned),
        ..Loaded::default()
    };
    drop(heads);
    out.stats.files = 1;
    for (i, v) in values.into_iter().enumerate() {
        out.stats.documents += 1;
        if owned.contains(&i) {
            out.stats.owned_folded += 1;
            continue;
        }
        push(&mut out, v);
    }
    out.warnings = issues(unreadable, origin);
    out.unreadable = unreadable_kinds(unreadable);
    out
}

/// A CustomResourceDefinition keeps only its identity and metadata (see the module
/// documentation).
fn metadata_only_crd(mut v: Value) -> Value {
    let is_crd = v.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition")
        && v.get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("apiextensions.k8s.io/"));
    if is_crd {
        if let Value::Object(m) = &mut v {
            m.retain(|k, _| matches!(k.as_str(), "apiVersion" | "kind" | "metadata"));
        }
    }
    v
}

fn push(out: &mut Loaded, v: Value) {
    match Object::from_value(metadata_only_crd(v), None, SpanIndex::default()) {
        Ok(o) => {
            out.stats.objects += 1;
            out.objects.push(o);
        }
        Err(_) => out.stats.skipped_documents += 1,
    }
}

/// [`loaded_from_cluster`] from compact JSON lines (what the cluster reader and snapshots
/// hold): owned objects are recognised from their metadata alone and never parsed in full,
/// and each line is freed as soon as it is parsed.
pub fn loaded_from_lines(lines: Vec<String>, unreadable: &[Unread], origin: &str) -> Loaded {
    loaded_from_lines_each(lines, unreadable, origin, usize::MAX, &|_| ())
        .pop()
        .map(|(l, ())| l)
        .unwrap_or_default()
}

/// [`loaded_from_lines`] in parts of at most `chunk` objects, `each` run on every part as
/// soon as it is parsed (what a staged scan does to a file): a snapshot's objects are judged
/// and cut down a few hundred at a time instead of being held whole together. The first part
/// carries the file, the running digests of the folded Pods, the warnings and the unreadable
/// kinds; joined in order, the parts are what [`loaded_from_lines`] gives.
pub fn loaded_from_lines_each<T>(
    lines: Vec<String>,
    unreadable: &[Unread],
    origin: &str,
    chunk: usize,
    each: &dyn Fn(&mut Loaded) -> T,
) -> Vec<(Loaded, T)> {
    let mut heads = Vec::with_capacity(lines.len());
    let mut images = HashMap::new();
    for (i, l) in lines.iter().enumerate() {
        let (head, pod) = Head::of_line(l);
        heads.push(head);
        if let Some(pod) = pod {
            images.insert(i, pod);
        }
    }
    let owned = owned_of(&heads);
    let mut cur = Loaded {
        running: running_of(&heads, &images, &owned),
        ..Loaded::default()
    };
    drop((heads, images));
    cur.stats.files = 1;
    cur.warnings = issues(unreadable, origin);
    cur.unreadable = unreadable_kinds(unreadable);
    let mut out = Vec::new();
    for (i, line) in lines.into_iter().enumerate() {
        cur.stats.documents += 1;
        if owned.contains(&i) {
            cur.stats.owned_folded += 1;
            continue;
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(v) => push(&mut cur, v),
            Err(_) => cur.stats.skipped_documents += 1,
        }
        if cur.objects.len() >= chunk.max(1) {
            let t = each(&mut cur);
            out.push((std::mem::take(&mut cur), t));
        }
    }
    let t = each(&mut cur);
    out.push((cur, t));
    out
}

/// Whether an object of `kind` whose controlling owner is of `owner_kind` is reported
/// through that owner when the owner was read (see the module documentation).
pub fn folds_into(kind: &str, owner_kind: &str) -> bool {
    collapses(kind, owner_kind)
}

/// The warnings (one per kind that could not be read, file `cluster/<resource>`) and the
/// unreadable kinds of a cluster read, as [`loaded_from_lines`] gives them: for a reader that
/// builds its objects itself.
pub fn unread_input(
    unreadable: &[Unread],
    origin: &str,
) -> (Vec<InputIssue>, Vec<palisade_core::UnreadableKind>) {
    (issues(unreadable, origin), unreadable_kinds(unreadable))
}

/// An object read from a cluster as a scan takes it: a CustomResourceDefinition with its
/// identity and metadata only (see the module documentation); `None` when it is not an
/// object (no `kind`, say).
pub fn cluster_object(v: Value) -> Option<Object> {
    Object::from_value(metadata_only_crd(v), None, SpanIndex::default()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn owned_identities_collapse_into_present_owners() {
        let id = |kind, namespace, name, controller| Identity {
            kind,
            namespace,
            name,
            controller,
        };
        let ids = [
            id("ReplicaSet", "shop", "web-1", Some(("Deployment", "web"))),
            id("Pod", "shop", "web-1-a", Some(("ReplicaSet", "web-1"))),
            // Its owner was not read: kept.
            id("Pod", "shop", "api-1-a", Some(("ReplicaSet", "api-1"))),
            // Same name in another namespace: not its owner.
            id("Pod", "other", "web-1-b", Some(("ReplicaSet", "web-1"))),
            id("Deployment", "shop", "web", None),
            // A Service is never folded into its owner.
            id("Service", "shop", "web", Some(("Deployment", "web"))),
        ];
        let owned = owned_identity_indexes(&ids);
        assert_eq!(owned, HashSet::from([0, 1]));
    }

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
        let v2 = v.clone();
        let l = loaded_from_cluster(
            v,
            &[Unread {
                resource: "secrets".into(),
                kind: "Secret".into(),
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
        let lines: Vec<String> = v2.iter().map(Value::to_string).collect();
        let l2 = loaded_from_lines(lines, &[], "x");
        let names2: Vec<_> = l2.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names2, ["d", "lonely", "orphan"]);
    }

    #[test]
    fn folded_pods_leave_their_running_digests_to_the_workload_reported() {
        let d = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let owner = |k: &str, n: &str| json!([{"kind":k,"name":n,"controller":true,"apiVersion":"apps/v1","uid":"u"}]);
        let pod = |name: &str, owner_ref: Value, digest: Option<String>| {
            let mut p = json!({"apiVersion":"v1","kind":"Pod",
                "metadata":{"name":name,"namespace":"a","ownerReferences":owner_ref},
                "spec":{"containers":[{"name":"app","image":"r.io/app:1"}],
                        "initContainers":[{"name":"init","image":"r.io/init:1"}]}});
            if let Some(d) = digest {
                p["status"] = json!({"containerStatuses":[{"name":"app","imageID":format!("r.io/app@{d}")}],
                    "initContainerStatuses":[{"name":"init","imageID":format!("docker-pullable://r.io/init@{d}")}]});
            }
            p
        };
        let values = vec![
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"a"}}),
            json!({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"d-1","namespace":"a","ownerReferences":owner("Deployment","d")}}),
            json!({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"d-2","namespace":"a","ownerReferences":owner("Deployment","d")}}),
            pod("d-1-x", owner("ReplicaSet", "d-1"), Some(d('1'))),
            pod("d-1-y", owner("ReplicaSet", "d-1"), Some(d('1'))),
            pod("d-2-x", owner("ReplicaSet", "d-2"), Some(d('2'))),
            pod("d-2-pending", owner("ReplicaSet", "d-2"), None),
            // Its Deployment was not read: the ReplicaSet is kept, its Pods fold into it.
            json!({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"e-1","namespace":"a","ownerReferences":owner("Deployment","e")}}),
            pod("e-1-x", owner("ReplicaSet", "e-1"), Some(d('3'))),
            json!({"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"c","namespace":"a"}}),
            json!({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"c-1","namespace":"a","ownerReferences":owner("CronJob","c")}}),
            pod("c-1-x", owner("Job", "c-1"), Some(d('4'))),
            // Not folded: its owner was not read; it keeps its status and counts for nobody.
            pod("orphan", owner("ReplicaSet", "gone"), Some(d('5'))),
            // A status of the wrong shape: folded, running nothing known.
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"d-1-odd","namespace":"a","ownerReferences":owner("ReplicaSet","d-1")},
                "spec":{"containers":[{"name":"app","image":"r.io/app:1"}]},"status":{"containerStatuses":"x"}}),
        ];
        let lines: Vec<String> = values.iter().map(Value::to_string).collect();
        let from_values = loaded_from_cluster(values, &[], "x");
        let from_lines = loaded_from_lines(lines, &[], "x");
        let names: Vec<_> = from_lines.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["d", "e-1", "c", "orphan"]);
        assert_eq!(from_lines.stats.owned_folded, 10);
        assert_eq!(from_values.running, from_lines.running);
        let r = &from_lines.running;
        let counts = |w: &str, c: &str, i: &str| -> Vec<(String, usize)> {
            r.get(w, c, i)
                .map(|m| m.iter().map(|(d, n)| (d.clone(), *n)).collect())
                .unwrap_or_default()
        };
        assert_eq!(
            counts("Deployment/a/d", "app", "r.io/app:1"),
            [(d('1'), 2), (d('2'), 1)]
        );
        assert_eq!(
            counts("Deployment/a/d", "init", "r.io/init:1"),
            [(d('1'), 2), (d('2'), 1)]
        );
        assert_eq!(
            counts("ReplicaSet/a/e-1", "app", "r.io/app:1"),
            [(d('3'), 1)]
        );
        assert_eq!(counts("CronJob/a/c", "app", "r.io/app:1"), [(d('4'), 1)]);
        assert_eq!(r.workloads(), 3);
        assert!(r.iter().all(|(_, _, _, ds)| !ds.contains_key(&d('5'))));
    }

    #[test]
    fn crd_schemas_are_not_scanned() {
        let crd = json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
            "metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","versions":[]},
            "status":{"acceptedNames":{}}});
        let l = loaded_from_lines(vec![crd.to_string()], &[], "x");
        assert_eq!(l.objects.len(), 1);
        assert!(l.objects[0].pointer("/spec").is_none());
        assert_eq!(l.objects[0].name, "widgets.example.com");
        // Any other kind keeps its body.
        let cm =
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"spec":{"a":1}});
        let l = loaded_from_cluster(vec![cm], &[], "x");
        assert!(l.objects[0].pointer("/spec/a").is_some());
    }
}
