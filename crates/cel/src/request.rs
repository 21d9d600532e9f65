//! The admission request an expression sees as `request` (with `object` and `oldObject`).

use serde_json::{json, Map, Value};

/// An admission request: the attributes of `admission.k8s.io/v1` AdmissionRequest that
/// policies read.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The request's uid (empty for a synthesised request).
    pub uid: String,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    /// The object's API group (`""` for the core group).
    pub group: String,
    /// The object's API version.
    pub version: String,
    /// The object's kind.
    pub kind: String,
    /// The resource (`pods`).
    pub resource: String,
    /// The subresource (`status`), empty for the main resource.
    pub sub_resource: String,
    /// The object's name.
    pub name: String,
    /// The object's namespace, empty for cluster-scoped objects.
    pub namespace: String,
    /// The object being admitted; `None` on DELETE.
    pub object: Option<Value>,
    /// The object before the change; `None` on CREATE.
    pub old_object: Option<Value>,
    /// `userInfo`: username, uid, groups, extra.
    pub user_info: Value,
    /// Whether the request is a dry run.
    pub dry_run: bool,
    /// The operation's options (`CreateOptions`...), when known.
    pub options: Option<Value>,
}

/// Built-in kinds whose resource name is not the regular plural, or which are
/// cluster-scoped: kind → (resource, cluster-scoped).
const BUILTIN_KINDS: &[(&str, &str, bool)] = &[
    ("APIService", "apiservices", true),
    ("CSIDriver", "csidrivers", true),
    ("CSINode", "csinodes", true),
    (
        "CertificateSigningRequest",
        "certificatesigningrequests",
        true,
    ),
    ("ClusterRole", "clusterroles", true),
    ("ClusterRoleBinding", "clusterrolebindings", true),
    ("ComponentStatus", "componentstatuses", true),
    (
        "CustomResourceDefinition",
        "customresourcedefinitions",
        true,
    ),
    ("Endpoints", "endpoints", false),
    ("FlowSchema", "flowschemas", true),
    ("IngressClass", "ingressclasses", true),
    ("MutatingAdmissionPolicy", "mutatingadmissionpolicies", true),
    (
        "MutatingAdmissionPolicyBinding",
        "mutatingadmissionpolicybindings",
        true,
    ),
    (
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        true,
    ),
    ("Namespace", "namespaces", true),
    ("Node", "nodes", true),
    ("PersistentVolume", "persistentvolumes", true),
    ("PodSecurityPolicy", "podsecuritypolicies", true),
    ("PriorityClass", "priorityclasses", true),
    (
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        true,
    ),
    ("RuntimeClass", "runtimeclasses", true),
    ("StorageClass", "storageclasses", true),
    (
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        true,
    ),
    (
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        true,
    ),
    (
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        true,
    ),
    ("VolumeAttachment", "volumeattachments", true),
];

/// The resource name of a kind: the built-in table, else the rule kubectl uses when it
/// has no discovery data — lower-case, then `-s` → `-ses`, consonant + `-y` → `-ies`,
/// otherwise `+s` (`Ingress` → `ingresses`, `NetworkPolicy` → `networkpolicies`).
pub fn resource_for_kind(kind: &str) -> String {
    if let Some((_, r, _)) = BUILTIN_KINDS.iter().find(|(k, _, _)| *k == kind) {
        return (*r).to_owned();
    }
    let lower = kind.to_ascii_lowercase();
    if lower.ends_with('s') {
        format!("{lower}es")
    } else if let Some(stem) = lower.strip_suffix('y') {
        if stem.ends_with(['a', 'e', 'i', 'o', 'u']) {
            format!("{lower}s")
        } else {
            format!("{stem}ies")
        }
    } else if lower.is_empty() {
        lower
    } else {
        format!("{lower}s")
    }
}

/// Whether a built-in kind is cluster-scoped.
pub(crate) fn is_cluster_scoped_kind(kind: &str) -> bool {
    BUILTIN_KINDS.iter().any(|(k, _, c)| *k == kind && *c)
}

fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.to_owned()),
    }
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

fn non_null(v: Option<&Value>) -> Option<Value> {
    v.filter(|v| !v.is_null()).cloned()
}

impl Request {
    /// A CREATE request for a manifest, as a file scan sees it: group, version and kind
    /// from `apiVersion`/`kind`, the resource from [`resource_for_kind`], name and
    /// namespace from `metadata` (a Namespace's request namespace is its name, as the API
    /// server sets it), a `userInfo` with an empty username and no groups.
    pub fn for_object(object: &Value) -> Request {
        let (group, version) = split_api_version(str_at(object, &["apiVersion"]));
        let kind = str_at(object, &["kind"]).to_owned();
        let name = str_at(object, &["metadata", "name"]);
        let name = if name.is_empty() {
            str_at(object, &["metadata", "generateName"])
        } else {
            name
        };
        // the API server sets a Namespace request's namespace to the Namespace's name
        let namespace = if kind == "Namespace" && group.is_empty() {
            name
        } else {
            str_at(object, &["metadata", "namespace"])
        };
        Request {
            uid: String::new(),
            operation: "CREATE".into(),
            group,
            version,
            resource: resource_for_kind(&kind),
            kind,
            sub_resource: String::new(),
            name: name.to_owned(),
            namespace: namespace.to_owned(),
            object: Some(object.clone()),
            old_object: None,
            user_info: json!({"username": "", "groups": []}),
            dry_run: false,
            options: None,
        }
    }

    /// The request of an `AdmissionReview` (or of a bare `AdmissionRequest`): operation,
    /// kind, resource, subresource, name, namespace, object, oldObject, userInfo, dryRun,
    /// options. `None` when it has no `request` nor any of those fields.
    pub fn from_admission_review(review: &Value) -> Option<Request> {
        let req = review.get("request").unwrap_or(review);
        let object = non_null(req.get("object"));
        let old_object = non_null(req.get("oldObject"));
        let any = object.as_ref().or(old_object.as_ref());
        if req.get("operation").is_none() && any.is_none() {
            return None;
        }
        let (mut group, mut version) = (
            str_at(req, &["kind", "group"]).to_owned(),
            str_at(req, &["kind", "version"]).to_owned(),
        );
        let mut kind = str_at(req, &["kind", "kind"]).to_owned();
        if kind.is_empty() {
            if let Some(o) = any {
                (group, version) = split_api_version(str_at(o, &["apiVersion"]));
                kind = str_at(o, &["kind"]).to_owned();
            }
        }
        let resource = match str_at(req, &["resource", "resource"]) {
            "" => resource_for_kind(&kind),
            r => r.to_owned(),
        };
        let from_object = |path: &[&str]| any.map(|o| str_at(o, path)).unwrap_or("").to_owned();
        let name = match str_at(req, &["name"]) {
            "" => from_object(&["metadata", "name"]),
            n => n.to_owned(),
        };
        let namespace = match str_at(req, &["namespace"]) {
            "" => from_object(&["metadata", "namespace"]),
            n => n.to_owned(),
        };
        let operation = match str_at(req, &["operation"]) {
            "" => "CREATE".to_owned(),
            op => op.to_owned(),
        };
        Some(Request {
            uid: str_at(req, &["uid"]).to_owned(),
            operation,
            group,
            version,
            kind,
            resource,
            sub_resource: str_at(req, &["subResource"]).to_owned(),
            name,
            namespace,
            object,
            old_object,
            user_info: req.get("userInfo").cloned().unwrap_or_else(|| json!({})),
            dry_run: req.get("dryRun").and_then(Value::as_bool).unwrap_or(false),
            options: non_null(req.get("options")),
        })
    }

    /// Whether the resource is cluster-scoped: a built-in cluster-scoped kind, or any
    /// other kind without a namespace.
    pub fn is_cluster_scoped(&self) -> bool {
        is_cluster_scoped_kind(&self.kind) || self.namespace.is_empty()
    }

    /// The `request` variable: the AdmissionRequest fields as Kubernetes exposes them.
    pub fn to_value(&self) -> Value {
        let kind = json!({"group": self.group, "version": self.version, "kind": self.kind});
        let resource =
            json!({"group": self.group, "version": self.version, "resource": self.resource});
        let mut m = Map::new();
        m.insert("uid".into(), json!(self.uid));
        m.insert("kind".into(), kind.clone());
        m.insert("resource".into(), resource.clone());
        m.insert("requestKind".into(), kind);
        m.insert("requestResource".into(), resource);
        if !self.sub_resource.is_empty() {
            m.insert("subResource".into(), json!(self.sub_resource));
            m.insert("requestSubResource".into(), json!(self.sub_resource));
        }
        m.insert("name".into(), json!(self.name));
        m.insert("namespace".into(), json!(self.namespace));
        m.insert("operation".into(), json!(self.operation));
        m.insert("userInfo".into(), self.user_info.clone());
        m.insert("dryRun".into(), json!(self.dry_run));
        if let Some(o) = &self.options {
            m.insert("options".into(), o.clone());
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_derived_from_kinds() {
        for (kind, resource) in [
            ("Pod", "pods"),
            ("Deployment", "deployments"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Gateway", "gateways"),
            ("Endpoints", "endpoints"),
            ("StorageClass", "storageclasses"),
            ("ComponentStatus", "componentstatuses"),
            ("PodDisruptionBudget", "poddisruptionbudgets"),
        ] {
            assert_eq!(resource_for_kind(kind), resource, "{kind}");
        }
    }

    #[test]
    fn manifests_become_create_requests() {
        let r = Request::for_object(&json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}}));
        assert_eq!(r.operation, "CREATE");
        assert_eq!((r.group.as_str(), r.version.as_str()), ("apps", "v1"));
        assert_eq!(r.resource, "deployments");
        assert!(!r.is_cluster_scoped());
        let v = r.to_value();
        assert_eq!(v["resource"]["resource"], "deployments");
        assert_eq!(v["namespace"], "shop");
        let ns = Request::for_object(&json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop"}}));
        assert!(ns.is_cluster_scoped());
        assert_eq!(ns.group, "");
        assert_eq!(ns.namespace, "shop");
    }

    #[test]
    fn admission_reviews_give_their_request() {
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"operation": "UPDATE", "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"}, "subResource": "status",
            "namespace": "a", "name": "p", "userInfo": {"username": "alice"},
            "object": {"kind": "Pod", "metadata": {"name": "p"}},
            "oldObject": {"kind": "Pod", "metadata": {"name": "p"}}}});
        let r = Request::from_admission_review(&review).unwrap();
        assert_eq!(r.operation, "UPDATE");
        assert_eq!(r.sub_resource, "status");
        assert_eq!(r.to_value()["subResource"], "status");
        assert_eq!(r.user_info["username"], "alice");
        assert!(r.old_object.is_some());
        assert_eq!(
            Request::from_admission_review(&json!({"kind": "Pod"})),
            None
        );
    }
}
