//! One view of a pod spec for every kind that carries one.

use crate::object::Object;
use serde_json::Value;

/// Which list of the pod spec a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerKind {
    /// `spec.containers`.
    Container,
    /// `spec.initContainers`.
    Init,
    /// `spec.ephemeralContainers`.
    Ephemeral,
}

impl ContainerKind {
    /// The field name of the list (`containers`, `initContainers`, `ephemeralContainers`).
    pub fn field(self) -> &'static str {
        match self {
            ContainerKind::Container => "containers",
            ContainerKind::Init => "initContainers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }

    /// The word used in messages (`container`, `init container`, `ephemeral container`).
    pub fn noun(self) -> &'static str {
        match self {
            ContainerKind::Container => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        }
    }
}

/// The pod template of a Pod or a workload: its metadata and spec, and the JSON pointer at
/// which the template sits in the object (empty for a Pod).
#[derive(Clone, Copy, Debug)]
pub struct PodTemplate<'a> {
    /// Pointer of the template inside the object: `""` (Pod), `/spec/template` (Deployment,
    /// StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job), `/template`
    /// (PodTemplate), `/spec/jobTemplate/spec/template` (CronJob).
    pub base: &'static str,
    /// The template's `metadata` (Null when absent).
    pub metadata: &'a Value,
    /// The pod spec (Null when absent).
    pub spec: &'a Value,
}

static NULL: Value = Value::Null;

/// Every kind that carries a pod template (in its own API group; see [`template_base`]).
pub const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "Job",
    "CronJob",
];

/// `extra` followed by [`WORKLOAD_KINDS`]: the kinds of a rule that reads other kinds
/// besides the workloads. `N` is the length of the whole list (checked at compile time).
pub const fn with_workload_kinds<const N: usize>(extra: &[&'static str]) -> [&'static str; N] {
    assert!(
        extra.len() + WORKLOAD_KINDS.len() == N,
        "N must be the number of kinds in the list"
    );
    let mut out = [""; N];
    let mut i = 0;
    while i < extra.len() {
        out[i] = extra[i];
        i += 1;
    }
    let mut j = 0;
    while j < WORKLOAD_KINDS.len() {
        out[i + j] = WORKLOAD_KINDS[j];
        j += 1;
    }
    out
}

/// The pointer at which a kind in an API group keeps its pod template, if it has one.
pub fn template_base(group: &str, kind: &str) -> Option<&'static str> {
    match (group, kind) {
        ("", "Pod") => Some(""),
        ("", "PodTemplate") => Some("/template"),
        ("", "ReplicationController") => Some("/spec/template"),
        ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") => {
            Some("/spec/template")
        }
        ("batch", "Job") => Some("/spec/template"),
        ("batch", "CronJob") => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

impl<'a> PodTemplate<'a> {
    /// The pod template of an object, for Pod and every workload kind; `None` for other kinds.
    pub fn of(obj: &'a Object) -> Option<PodTemplate<'a>> {
        let base = template_base(obj.group(), &obj.kind)?;
        let root = if base.is_empty() {
            obj.value()
        } else {
            obj.value().pointer(base).unwrap_or(&NULL)
        };
        Some(PodTemplate {
            base,
            metadata: root.get("metadata").unwrap_or(&NULL),
            spec: root.get("spec").unwrap_or(&NULL),
        })
    }

    /// The pointer of a field of the pod spec (`rel` starts with `/`, or is empty).
    pub fn spec_pointer(&self, rel: &str) -> String {
        format!("{}/spec{}", self.base, rel)
    }

    /// The pointer of a field of the template's metadata.
    pub fn metadata_pointer(&self, rel: &str) -> String {
        format!("{}/metadata{}", self.base, rel)
    }

    /// A field of the pod spec.
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.spec.get(field)
    }

    /// True when the field is the boolean `true`.
    pub fn flag(&self, field: &str) -> bool {
        self.spec.get(field).and_then(Value::as_bool) == Some(true)
    }

    /// The pod-level security context (Null when absent).
    pub fn security_context(&self) -> &'a Value {
        self.spec.get("securityContext").unwrap_or(&NULL)
    }

    /// `spec.os.name == "windows"`.
    pub fn is_windows(&self) -> bool {
        self.spec.pointer("/os/name").and_then(Value::as_str) == Some("windows")
    }

    /// Every container: regular, init and ephemeral, in that order.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let spec = self.spec;
        let base = self.base;
        [
            ContainerKind::Container,
            ContainerKind::Init,
            ContainerKind::Ephemeral,
        ]
        .into_iter()
        .flat_map(move |kind| {
            spec.get(kind.field())
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .enumerate()
                .map(move |(index, value)| Container {
                    kind,
                    index,
                    base,
                    name: value.get("name").and_then(Value::as_str).unwrap_or(""),
                    value,
                })
        })
    }

    /// Volumes with their index.
    pub fn volumes(&self) -> impl Iterator<Item = (usize, &'a Value)> + 'a {
        self.spec
            .get("volumes")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .enumerate()
    }
}

/// One container of a pod template.
#[derive(Clone, Copy, Debug)]
pub struct Container<'a> {
    /// Which list it is in.
    pub kind: ContainerKind,
    /// Its index in that list.
    pub index: usize,
    base: &'static str,
    /// `name` (empty when absent).
    pub name: &'a str,
    /// The container object.
    pub value: &'a Value,
}

impl<'a> Container<'a> {
    /// The pointer of a field of this container (`rel` starts with `/`, or is empty).
    pub fn pointer(&self, rel: &str) -> String {
        format!(
            "{}/spec/{}/{}{}",
            self.base,
            self.kind.field(),
            self.index,
            rel
        )
    }

    /// A field of the container.
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.value.get(field)
    }

    /// A field of the container's `securityContext`.
    pub fn security(&self, field: &str) -> Option<&'a Value> {
        self.value.get("securityContext")?.get(field)
    }

    /// `image` (empty when absent).
    pub fn image(&self) -> &'a str {
        self.value
            .get("image")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `container "app"`, `init container "setup"`...
    pub fn describe(&self) -> String {
        format!("{} \"{}\"", self.kind.noun(), self.name)
    }
}

/// The names in an `imagePullSecrets` list (`[{name: ...}]`), in order, each once.
pub fn pull_secret_names(list: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in list
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| e.get("name").and_then(Value::as_str))
        .filter(|n| !n.is_empty())
    {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::SpanIndex;
    use serde_json::json;

    fn obj(v: Value) -> Object {
        Object::from_value(v, None, SpanIndex::default()).unwrap()
    }

    #[test]
    fn every_workload_kind_has_a_template() {
        let pod = json!({"spec":{"containers":[{"name":"a"}],"initContainers":[{"name":"i"}],"ephemeralContainers":[{"name":"e"}]}});
        let cases = [
            ("v1", "Pod", pod.clone()),
            ("v1", "PodTemplate", json!({"template": pod.clone()})),
            (
                "v1",
                "ReplicationController",
                json!({"spec":{"template": pod.clone()}}),
            ),
            (
                "apps/v1",
                "Deployment",
                json!({"spec":{"template": pod.clone()}}),
            ),
            (
                "apps/v1",
                "StatefulSet",
                json!({"spec":{"template": pod.clone()}}),
            ),
            (
                "apps/v1",
                "DaemonSet",
                json!({"spec":{"template": pod.clone()}}),
            ),
            (
                "apps/v1",
                "ReplicaSet",
                json!({"spec":{"template": pod.clone()}}),
            ),
            ("batch/v1", "Job", json!({"spec":{"template": pod.clone()}})),
            (
                "batch/v1",
                "CronJob",
                json!({"spec":{"jobTemplate":{"spec":{"template": pod.clone()}}}}),
            ),
        ];
        for (av, kind, mut v) in cases {
            v["apiVersion"] = json!(av);
            v["kind"] = json!(kind);
            let o = obj(v);
            let t = PodTemplate::of(&o).unwrap_or_else(|| panic!("{kind}"));
            let names: Vec<_> = t.containers().map(|c| c.name).collect();
            assert_eq!(names, ["a", "i", "e"], "{kind}");
            let c = t.containers().nth(1).unwrap();
            assert_eq!(o.pointer(&c.pointer("/name")), Some(&json!("i")), "{kind}");
        }
    }

    #[test]
    fn extra_kinds_come_before_the_workloads() {
        const K: [&str; 11] = with_workload_kinds(&["Namespace", "Node"]);
        assert_eq!(K[..2], ["Namespace", "Node"]);
        assert_eq!(K[2..], *WORKLOAD_KINDS);
    }

    #[test]
    fn other_groups_are_not_workloads() {
        let o = obj(json!({"apiVersion":"example.com/v1","kind":"Deployment","spec":{}}));
        assert!(PodTemplate::of(&o).is_none());
        let o = obj(json!({"apiVersion":"v1","kind":"Service"}));
        assert!(PodTemplate::of(&o).is_none());
    }
}
