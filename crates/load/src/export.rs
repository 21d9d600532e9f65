//! Apply-able manifests from a snapshot, to recover a known-good state.
//!
//! Files are `DIR/<namespace or _cluster>/<kind>.yaml`, one YAML document per object, in an
//! order `kubectl apply -R -f DIR` can follow (`_cluster/` sorts first: Namespaces and
//! CustomResourceDefinitions exist before what lives in them).
//!
//! # What every object loses
//! What the API server writes: `status`, `uid`, `resourceVersion`, `creationTimestamp`,
//! `generation`, `managedFields`, `selfLink`, `ownerReferences`, deletion timestamps, the
//! `last-applied-configuration` annotation, and per kind:
//! - Deployment: the `deployment.kubernetes.io/revision` annotation; DaemonSet: the
//!   `deprecated.daemonset.template.generation` annotation;
//! - Service: allocated `clusterIP(s)` (a headless `None` stays), node ports of Services that
//!   are not `NodePort`, `healthCheckNodePort`;
//! - ServiceAccount: `secrets` (the token controller's references);
//! - Job: the generated selector and the `controller-uid` / `job-name` labels (also with
//!   their `batch.kubernetes.io/` prefix), on the Job and its template;
//! - Namespace: the `kubernetes.io/metadata.name` label and the `kubernetes` finalizer, both
//!   set by the API server;
//! - Node: `timeAdded` of every taint, the taints the node lifecycle and cloud controllers
//!   manage (`node.kubernetes.io/*`, `node.cloudprovider.kubernetes.io/*`; cordoning stays as
//!   `spec.unschedulable`), `podCIDR(s)` (allocated by the node IPAM controller, immutable
//!   once set), `providerID` (set by the kubelet or cloud controller, immutable), and the
//!   `node.alpha.kubernetes.io/ttl`, `volumes.kubernetes.io/controller-managed-attach-detach`
//!   annotations;
//! - Pod: `priority` and `preemptionPolicy` (the Priority admission plugin computes them and
//!   rejects a Pod whose values differ from its class), the `kube-api-access-*` projected
//!   token volume and its mounts (the ServiceAccount admission plugin adds its own), and the
//!   `not-ready` / `unreachable` tolerations of 300 s the DefaultTolerationSeconds admission
//!   plugin adds;
//! - ClusterRole with an `aggregationRule`: `rules` (the aggregation controller computes
//!   them);
//! - CustomResourceDefinition: `status` only (the schema stays: see below).
//!
//! # Objects left out
//! Objects that a fresh cluster already has or that a controller recreates, so that applying
//! the export neither fights the control plane nor restores stale copies:
//! - anything with a controlling owner (Pods of ReplicaSets, ReplicaSets of Deployments, Jobs
//!   of CronJobs, ControllerRevisions...): the owner is exported and recreates them;
//! - Events (core and `events.k8s.io`) and Leases (node heartbeats, leader election):
//!   records, not configuration;
//! - EndpointSlices managed by the `endpointslice` or `endpointslicemirroring` controller
//!   (label `endpointslice.kubernetes.io/managed-by`), and Endpoints of a Service with a
//!   selector (the endpoints controller writes them); Endpoints and EndpointSlices written by
//!   hand, for a Service without selector, stay;
//! - the `kubernetes` Service, Endpoints and EndpointSlice in `default` (the API server
//!   maintains them);
//! - ConfigMaps the control plane publishes: `kube-root-ca.crt` in every namespace (root CA
//!   publisher), `openshift-service-ca.crt` (its OpenShift counterpart),
//!   `kube-system/kube-apiserver-legacy-service-account-token-tracking` (the API server's
//!   legacy-token tracking) and `kube-system/extension-apiserver-authentication` (the API
//!   server's client CA and request-header configuration, rewritten at every start);
//! - RBAC objects with the label `kubernetes.io/bootstrapping: rbac-defaults` (the API server
//!   reconciles them at every start), unless their `rbac.authorization.kubernetes.io/autoupdate`
//!   annotation is `"false"`: then someone changed them on purpose and the API server keeps
//!   their version, so the export does too;
//! - the Namespaces `default`, `kube-system`, `kube-public` and `kube-node-lease` and the
//!   `default` ServiceAccount of every namespace (the API server and the service account
//!   controller create them), unless they carry something beyond what those write (labels
//!   such as Pod Security levels, annotations, `automountServiceAccountToken`,
//!   `imagePullSecrets`): then they are exported, and applying updates the existing ones;
//! - service-account token Secrets of the `default` ServiceAccount, and those the token
//!   controller of Kubernetes before 1.24 generated for every ServiceAccount (named
//!   `<account>-token-<5 characters>`);
//! - PriorityClasses named `system-*`, FlowSchemas and PriorityLevelConfigurations the API
//!   server keeps up to date (`apf.kubernetes.io/autoupdate-spec: "true"`), APIServices it
//!   manages (label `kube-aggregator.kubernetes.io/automanaged`);
//! - `KubeletConfiguration` objects (`snapshot --kubelet-config`): node configuration read
//!   through the kubelet, not API objects.
//!
//! # Secrets
//! Secrets were read as metadata only, so their values are in no snapshot. They are listed,
//! commented, in `<namespace>/secret.yaml` as names to recreate from their source of truth.
//! The exception are service-account token Secrets (type
//! `kubernetes.io/service-account-token`, which the snapshot records): they hold no value
//! anyone supplies, so they are written as manifests (type, the
//! `kubernetes.io/service-account.name` annotation, labels) and the token controller fills in
//! a new token. The `kubernetes.io/service-account.uid` annotation is dropped (the new
//! ServiceAccount has a new uid, and a Secret naming the old one would be deleted).
//!
//! # CustomResourceDefinitions
//! `palisade snapshot` reads CRDs in full, so they are exported with their schemas and the
//! custom resources that depend on them can be restored. A CRD read as metadata only (a
//! snapshot from an older Palisade, or written by another tool) cannot be applied: it is
//! listed, commented, in `_cluster/customresourcedefinition.yaml` as a name to reinstall from
//! its source (chart, operator manifest), and [`Exported::crds_without_spec`] counts it.
//!
//! # YAML
//! Manifests are written by [`to_yaml`], which quotes every string that any YAML 1.1 or 1.2
//! reader could take for something else: kubectl (go-yaml, YAML 1.1) reads an unquoted `no`,
//! `on` or `y` as a boolean, `0x1F`, `010`, `1_000` or `1:20` as a number, `~` as null and
//! `2001-12-14` as a timestamp. Every exported document reads back, with Palisade's loader
//! (which resolves scalars as Kubernetes does) and with a YAML 1.2 reader, as exactly the
//! exported JSON object.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// What an export wrote.
#[derive(Debug, Default)]
pub struct Exported {
    /// The files written.
    pub files: Vec<PathBuf>,
    /// Objects written as manifests.
    pub objects: usize,
    /// Secrets listed to recreate.
    pub secrets: usize,
    /// CustomResourceDefinitions without their schema (read as metadata), listed to
    /// reinstall.
    pub crds_without_spec: usize,
    /// Objects left out (controller children, server-created).
    pub skipped: usize,
}

const SA_TOKEN: &str = "kubernetes.io/service-account-token";
const SA_NAME: &str = "kubernetes.io/service-account.name";

fn meta_str<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get("metadata")?.get(field)?.as_str()
}

fn label<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get("metadata")?.get("labels")?.get(key)?.as_str()
}

fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get("metadata")?.get("annotations")?.get(key)?.as_str()
}

fn group(v: &Value) -> &str {
    v.get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|a| a.rsplit_once('/'))
        .map_or("", |(g, _)| g)
}

/// A service-account token Secret, as recorded (`type`) or, in snapshots that predate the
/// type, by its annotation.
fn is_token_secret(v: &Value) -> bool {
    match v.get("type").and_then(Value::as_str) {
        Some(t) => t == SA_TOKEN,
        None => annotation(v, SA_NAME).is_some(),
    }
}

/// A name the token controller of Kubernetes < 1.24 generated: `<account>-token-xxxxx`,
/// with five characters of its alphabet.
fn generated_token_name(name: &str, account: &str) -> bool {
    name.strip_prefix(account)
        .and_then(|r| r.strip_prefix("-token-"))
        .is_some_and(|s| {
            s.len() == 5
                && s.bytes()
                    .all(|b| b"bcdfghjklmnpqrstvwxz2456789".contains(&b))
        })
}

/// Why an object is left out of an export (see the module documentation), or `None`.
fn left_out(v: &Value, selected_services: &HashSet<(String, String)>) -> Option<&'static str> {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = meta_str(v, "name").unwrap_or("");
    let ns = meta_str(v, "namespace").unwrap_or("");
    let grp = group(v);
    if crate::cluster::controller_of(v).is_some() {
        return Some("created by its controller");
    }
    let control_plane = Some("created by the control plane");
    match (grp, kind) {
        ("kubelet.config.k8s.io", _) => Some("not an API object"),
        ("" | "events.k8s.io", "Event") | ("coordination.k8s.io", "Lease") => {
            Some("a record, not configuration")
        }
        ("discovery.k8s.io", "EndpointSlice") => {
            let managed = label(v, "endpointslice.kubernetes.io/managed-by").is_some_and(|m| {
                matches!(
                    m,
                    "endpointslice-controller.k8s.io" | "endpointslicemirroring-controller.k8s.io"
                )
            });
            let service = label(v, "kubernetes.io/service-name").unwrap_or("");
            if managed || (ns == "default" && service == "kubernetes") {
                control_plane
            } else {
                None
            }
        }
        ("", "Endpoints") => {
            if (ns == "default" && name == "kubernetes")
                || selected_services.contains(&(ns.to_owned(), name.to_owned()))
            {
                control_plane
            } else {
                None
            }
        }
        ("", "Service") if ns == "default" && name == "kubernetes" => control_plane,
        ("", "ConfigMap") => match (ns, name) {
            (_, "kube-root-ca.crt" | "openshift-service-ca.crt")
            | (
                "kube-system",
                "kube-apiserver-legacy-service-account-token-tracking"
                | "extension-apiserver-authentication",
            ) => control_plane,
            _ => None,
        },
        ("", "Secret") if is_token_secret(v) => {
            let account = annotation(v, SA_NAME).unwrap_or("");
            if account == "default" || generated_token_name(name, account) {
                control_plane
            } else {
                None
            }
        }
        ("rbac.authorization.k8s.io", _)
            if label(v, "kubernetes.io/bootstrapping") == Some("rbac-defaults")
                && annotation(v, "rbac.authorization.kubernetes.io/autoupdate")
                    != Some("false") =>
        {
            control_plane
        }
        ("", "Namespace")
            if matches!(
                name,
                "default" | "kube-system" | "kube-public" | "kube-node-lease"
            ) && only_identity(v) =>
        {
            control_plane
        }
        ("", "ServiceAccount") if name == "default" && only_identity(v) => control_plane,
        ("scheduling.k8s.io", "PriorityClass") if name.starts_with("system-") => control_plane,
        ("flowcontrol.apiserver.k8s.io", _)
            if annotation(v, "apf.kubernetes.io/autoupdate-spec") == Some("true") =>
        {
            control_plane
        }
        ("apiregistration.k8s.io", "APIService")
            if label(v, "kube-aggregator.kubernetes.io/automanaged").is_some() =>
        {
            control_plane
        }
        _ => None,
    }
}

/// True when, once cleaned, an object is nothing but its identity: what the control plane
/// creates by itself (an untouched `default` ServiceAccount or Namespace).
fn only_identity(v: &Value) -> bool {
    let mut c = v.clone();
    clean(&mut c);
    let Value::Object(m) = &c else { return true };
    let meta_ok = m
        .get("metadata")
        .and_then(Value::as_object)
        .is_none_or(|md| {
            md.keys()
                .all(|k| matches!(k.as_str(), "name" | "namespace"))
        });
    meta_ok
        && m.iter().all(|(k, v)| {
            matches!(k.as_str(), "apiVersion" | "kind" | "metadata")
                || v.is_null()
                || v.as_object().is_some_and(Map::is_empty)
        })
}

fn drop_null_timestamps(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("creationTimestamp").is_some_and(Value::is_null) {
                m.remove("creationTimestamp");
            }
            m.values_mut().for_each(drop_null_timestamps);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_null_timestamps),
        _ => {}
    }
}

fn remove_annotations(meta: &mut Map<String, Value>, keys: &[&str]) {
    if let Some(Value::Object(a)) = meta.get_mut("annotations") {
        for k in keys {
            a.remove(*k);
        }
        if a.is_empty() {
            meta.remove("annotations");
        }
    }
}

fn remove_labels(meta: &mut Map<String, Value>, keep: impl Fn(&str) -> bool) {
    if let Some(Value::Object(l)) = meta.get_mut("labels") {
        l.retain(|k, _| keep(k));
        if l.is_empty() {
            meta.remove("labels");
        }
    }
}

/// Labels the Job controller generates.
fn job_label(k: &str) -> bool {
    matches!(
        k.strip_prefix("batch.kubernetes.io/").unwrap_or(k),
        "controller-uid" | "job-name"
    )
}

fn pod_spec_clean(spec: &mut Map<String, Value>) {
    spec.remove("priority");
    spec.remove("preemptionPolicy");
    if let Some(Value::Array(t)) = spec.get_mut("tolerations") {
        t.retain(|x| {
            let default = matches!(
                x.get("key").and_then(Value::as_str),
                Some("node.kubernetes.io/not-ready" | "node.kubernetes.io/unreachable")
            ) && x.get("operator").and_then(Value::as_str) == Some("Exists")
                && x.get("effect").and_then(Value::as_str) == Some("NoExecute")
                && x.get("tolerationSeconds").and_then(Value::as_i64) == Some(300)
                && x.get("value").is_none();
            !default
        });
        if t.is_empty() {
            spec.remove("tolerations");
        }
    }
    let mut token_volumes = Vec::new();
    if let Some(Value::Array(vols)) = spec.get_mut("volumes") {
        vols.retain(|vol| {
            let name = vol.get("name").and_then(Value::as_str).unwrap_or("");
            let projected_token = vol
                .pointer("/projected/sources")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|x| x.get("serviceAccountToken").is_some()));
            let generated = name.starts_with("kube-api-access-") && projected_token;
            if generated {
                token_volumes.push(name.to_owned());
            }
            !generated
        });
        if vols.is_empty() {
            spec.remove("volumes");
        }
    }
    if token_volumes.is_empty() {
        return;
    }
    for field in ["containers", "initContainers", "ephemeralContainers"] {
        for c in spec
            .get_mut(field)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let Some(Value::Array(mounts)) = c.get_mut("volumeMounts") else {
                continue;
            };
            mounts.retain(|m| {
                !m.get("name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| token_volumes.iter().any(|t| t == n))
            });
            if mounts.is_empty() {
                if let Value::Object(c) = c {
                    c.remove("volumeMounts");
                }
            }
        }
    }
}

/// Removes the fields the API server (or a controller) writes.
pub fn clean(v: &mut Value) {
    // Pod templates carry `creationTimestamp: null` from the server's encoding.
    drop_null_timestamps(v);
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let grp = group(v).to_owned();
    let Value::Object(m) = v else { return };
    m.remove("status");
    if let Some(Value::Object(meta)) = m.get_mut("metadata") {
        for f in [
            "uid",
            "resourceVersion",
            "creationTimestamp",
            "generation",
            "managedFields",
            "selfLink",
            "ownerReferences",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            meta.remove(f);
        }
        remove_annotations(
            meta,
            &[
                "kubectl.kubernetes.io/last-applied-configuration",
                "deployment.kubernetes.io/revision",
                "deprecated.daemonset.template.generation",
            ],
        );
        match kind.as_str() {
            "Namespace" if grp.is_empty() => {
                remove_labels(meta, |k| k != "kubernetes.io/metadata.name");
            }
            "Node" if grp.is_empty() => remove_annotations(
                meta,
                &[
                    "node.alpha.kubernetes.io/ttl",
                    "volumes.kubernetes.io/controller-managed-attach-detach",
                ],
            ),
            "Job" if grp == "batch" => remove_labels(meta, |k| !job_label(k)),
            _ => {}
        }
    }
    let spec = match m.get_mut("spec") {
        Some(Value::Object(s)) => Some(s),
        _ => None,
    };
    match (grp.as_str(), kind.as_str()) {
        ("", "Service") => {
            let Some(spec) = spec else { return };
            let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
            if !headless {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
            spec.remove("healthCheckNodePort");
            if spec.get("type").and_then(Value::as_str) != Some("NodePort") {
                // Node ports the server allocated for a LoadBalancer.
                if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                    for p in ports.iter_mut() {
                        if let Value::Object(p) = p {
                            p.remove("nodePort");
                        }
                    }
                }
            }
        }
        ("", "ServiceAccount") => {
            m.remove("secrets");
        }
        ("", "Namespace") => {
            let Some(spec) = spec else { return };
            if let Some(Value::Array(f)) = spec.get_mut("finalizers") {
                f.retain(|x| x != "kubernetes");
                if f.is_empty() {
                    spec.remove("finalizers");
                }
            }
            if spec.is_empty() {
                m.remove("spec");
            }
        }
        ("", "Node") => {
            let Some(spec) = spec else { return };
            for f in ["podCIDR", "podCIDRs", "providerID", "externalID"] {
                spec.remove(f);
            }
            if let Some(Value::Array(taints)) = spec.get_mut("taints") {
                taints.retain(|t| {
                    let key = t.get("key").and_then(Value::as_str).unwrap_or("");
                    !(key.starts_with("node.kubernetes.io/")
                        || key.starts_with("node.cloudprovider.kubernetes.io/"))
                });
                for t in taints.iter_mut() {
                    if let Value::Object(t) = t {
                        t.remove("timeAdded");
                    }
                }
                if taints.is_empty() {
                    spec.remove("taints");
                }
            }
            if spec.is_empty() {
                m.remove("spec");
            }
        }
        ("", "Pod") => {
            if let Some(spec) = spec {
                pod_spec_clean(spec);
            }
        }
        ("batch", "Job") => {
            // The controller-uid selector and labels are generated.
            let Some(spec) = spec else { return };
            if spec.get("manualSelector").and_then(Value::as_bool) != Some(true) {
                spec.remove("selector");
            }
            if let Some(Value::Object(tm)) =
                spec.get_mut("template").and_then(|t| t.get_mut("metadata"))
            {
                remove_labels(tm, |k| !job_label(k));
                if tm.is_empty() {
                    if let Some(Value::Object(t)) = spec.get_mut("template") {
                        t.remove("metadata");
                    }
                }
            }
        }
        ("rbac.authorization.k8s.io", "ClusterRole")
            if m.get("aggregationRule").is_some_and(|a| !a.is_null()) =>
        {
            m.remove("rules");
        }
        _ => {}
    }
}

/// A service-account token Secret as a manifest: identity, labels and annotations (without
/// what the token controller or the legacy-token tracker write), type; never `data`.
fn token_secret_manifest(v: &Value) -> Value {
    let mut meta = Map::new();
    for f in ["name", "namespace"] {
        if let Some(x) = v.pointer(&format!("/metadata/{f}")) {
            meta.insert(f.to_owned(), x.clone());
        }
    }
    if let Some(Value::Object(l)) = v.pointer("/metadata/labels") {
        let l: Map<String, Value> = l
            .iter()
            .filter(|(k, _)| !k.starts_with("kubernetes.io/legacy-token-"))
            .map(|(k, x)| (k.clone(), x.clone()))
            .collect();
        if !l.is_empty() {
            meta.insert("labels".into(), Value::Object(l));
        }
    }
    if let Some(Value::Object(a)) = v.pointer("/metadata/annotations") {
        let a: Map<String, Value> = a
            .iter()
            .filter(|(k, x)| {
                !matches!(
                    k.as_str(),
                    "kubernetes.io/service-account.uid"
                        | "kubectl.kubernetes.io/last-applied-configuration"
                ) && x.as_str() != Some(palisade_core::object::REDACTED)
            })
            .map(|(k, x)| (k.clone(), x.clone()))
            .collect();
        if !a.is_empty() {
            meta.insert("annotations".into(), Value::Object(a));
        }
    }
    let mut out = Map::new();
    out.insert("apiVersion".into(), Value::String("v1".into()));
    out.insert("kind".into(), Value::String("Secret".into()));
    out.insert("metadata".into(), Value::Object(meta));
    out.insert("type".into(), Value::String(SA_TOKEN.into()));
    Value::Object(out)
}

/// Writes the manifests of a snapshot's objects into `dir`.
pub fn export(objects: &[Value], dir: &Path) -> std::io::Result<Exported> {
    let mut groups: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut secrets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut crds_listed: Vec<String> = Vec::new();
    let mut out = Exported::default();
    // Services with a selector: their Endpoints are the endpoints controller's.
    let selected_services: HashSet<(String, String)> = objects
        .iter()
        .filter(|v| v.get("kind").and_then(Value::as_str) == Some("Service") && group(v).is_empty())
        .filter(|v| {
            v.pointer("/spec/selector")
                .and_then(Value::as_object)
                .is_some_and(|s| !s.is_empty())
        })
        .map(|v| {
            (
                meta_str(v, "namespace").unwrap_or("").to_owned(),
                meta_str(v, "name").unwrap_or("").to_owned(),
            )
        })
        .collect();
    for v in objects {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() || !v.is_object() || left_out(v, &selected_services).is_some() {
            out.skipped += 1;
            continue;
        }
        let ns = meta_str(v, "namespace").unwrap_or("_cluster").to_owned();
        if kind == "Secret" && v.get("apiVersion").and_then(Value::as_str) == Some("v1") {
            if is_token_secret(v) && annotation(v, SA_NAME).is_some() {
                groups
                    .entry((ns, "Secret".to_owned()))
                    .or_default()
                    .push(token_secret_manifest(v));
            } else {
                secrets
                    .entry(ns)
                    .or_default()
                    .push(meta_str(v, "name").unwrap_or("").to_owned());
            }
            continue;
        }
        if kind == "CustomResourceDefinition"
            && group(v) == "apiextensions.k8s.io"
            && v.get("spec").is_none_or(|s| !s.is_object())
        {
            crds_listed.push(meta_str(v, "name").unwrap_or("").to_owned());
            continue;
        }
        let mut v = v.clone();
        clean(&mut v);
        groups.entry((ns, kind.to_owned())).or_default().push(v);
    }
    let mut files: BTreeMap<PathBuf, String> = BTreeMap::new();
    for (ns, names) in &secrets {
        let mut text = String::from(
            "# Secrets to recreate. Palisade read them as metadata only: their values never\n\
             # left the API server, so they are not here. Recreate each from its source of\n\
             # truth (a vault, a sealed secret, a CI variable), e.g.:\n\
             #   kubectl create secret generic NAME -n NAMESPACE --from-file=...\n",
        );
        for n in names {
            text.push_str(&format!("# - {}\n", comment_safe(n)));
        }
        files.insert(dir.join(ns).join("secret.yaml"), text);
        out.secrets += names.len();
    }
    if !crds_listed.is_empty() {
        let mut text = String::from(
            "# CustomResourceDefinitions to reinstall. This snapshot holds them as metadata only\n\
             # (without their schemas), so they cannot be applied from here: reinstall each\n\
             # from its source (Helm chart, operator manifest), or take a new snapshot with\n\
             # `palisade snapshot`, which reads them in full.\n",
        );
        for n in &crds_listed {
            text.push_str(&format!("# - {}\n", comment_safe(n)));
        }
        files.insert(
            dir.join("_cluster").join("customresourcedefinition.yaml"),
            text,
        );
        out.crds_without_spec = crds_listed.len();
    }
    for ((ns, kind), items) in &groups {
        let text = files
            .entry(dir.join(ns).join(format!("{}.yaml", kind.to_lowercase())))
            .or_default();
        for item in items {
            text.push_str("---\n");
            text.push_str(&to_yaml(item));
        }
        out.objects += items.len();
    }
    for (path, text) in &files {
        if let Some(d) = path.parent() {
            crate::create_private_dir(d)?;
        }
        crate::create_private(path)?.write_all(text.as_bytes())?;
        out.files.push(path.clone());
    }
    Ok(out)
}

/// A name on one comment line: line breaks cannot end the comment early.
fn comment_safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

// ---------------------------------------------------------------------------------------
// YAML emitter
// ---------------------------------------------------------------------------------------

/// The block-style YAML of a JSON value (a mapping at the top: one document, without the
/// `---` line). Strings that a YAML 1.1 reader (kubectl, go-yaml) or a YAML 1.2 reader could
/// resolve to anything but the same string are quoted; multi-line strings are literal blocks
/// when they can be, double-quoted otherwise.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => emit_map(m, 0, false, &mut out),
        Value::Array(a) if !a.is_empty() => emit_seq(a, 0, false, &mut out),
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A scalar or empty collection on one line.
fn inline(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Array(_) => "[]".to_owned(),
        Value::Object(_) => "{}".to_owned(),
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// Writes what follows `key:` or `-`: ` scalar`, a literal block, or a nested collection.
/// `indent` is the indentation of the key or dash.
fn emit_value(v: &Value, indent: usize, after_dash: bool, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            if after_dash {
                out.push(' ');
                emit_map(m, indent + 2, true, out);
            } else {
                out.push('\n');
                emit_map(m, indent + 2, false, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            if after_dash {
                out.push(' ');
                emit_seq(a, indent + 2, true, out);
            } else {
                // A sequence in a mapping sits at the key's indentation, as kubectl writes it.
                out.push('\n');
                emit_seq(a, indent, false, out);
            }
        }
        Value::String(s) if literal_ok(s) => {
            out.push(' ');
            literal(s, indent + 2, out);
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

/// Mapping entries at `indent`; with `inline_first`, the first key continues the current
/// line (after `- `).
fn emit_map(m: &Map<String, Value>, indent: usize, inline_first: bool, out: &mut String) {
    for (i, (k, v)) in m.iter().enumerate() {
        if !(i == 0 && inline_first) {
            pad(out, indent);
        }
        let key = key_repr(k);
        if key.len() > 1000 {
            // An implicit key is limited to 1024 characters: an explicit one is not.
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            pad(out, indent);
            out.push(':');
            if let Value::Array(a) = v {
                if !a.is_empty() {
                    out.push('\n');
                    emit_seq(a, indent + 2, false, out);
                    continue;
                }
            }
            emit_value(v, indent, false, out);
            continue;
        }
        out.push_str(&key);
        out.push(':');
        emit_value(v, indent, false, out);
    }
}

fn emit_seq(a: &[Value], indent: usize, inline_first: bool, out: &mut String) {
    for (i, v) in a.iter().enumerate() {
        if !(i == 0 && inline_first) {
            pad(out, indent);
        }
        out.push('-');
        if is_block(v) {
            emit_value(v, indent, true, out);
        } else {
            emit_value(v, indent, false, out);
        }
    }
}

/// A mapping key: like any string, but never a block scalar.
fn key_repr(k: &str) -> String {
    scalar(k)
}

/// A single-line string: plain when nothing can misread it, single-quoted when it is
/// printable, double-quoted with escapes otherwise.
fn scalar(s: &str) -> String {
    if plain_ok(s) {
        s.to_owned()
    } else if s.chars().all(printable) && !s.contains('\n') {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

/// Characters that may appear as they are in a quoted or plain scalar: not a control
/// character, and not one of the characters YAML 1.1 treats as a line break (NEL, LS, PS)
/// or a byte-order mark.
fn printable(c: char) -> bool {
    !(c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if !printable(c) => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether a string may be written plain: it reads back as the same string under YAML 1.1
/// (go-yaml, kubectl) and YAML 1.2, in block context, as a key or a value.
fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !s.chars().all(|c| printable(c) && c != '\t')
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || s.starts_with("---")
        || s.starts_with("...")
    {
        return false;
    }
    // Indicators. `-`, `?` and `:` start a plain scalar only when a non-space follows.
    if "[]{},#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') && s.chars().nth(1).is_none_or(|c| c == ' ') {
        return false;
    }
    !ambiguous(s)
}

/// Strings some YAML reader resolves to something else when they are plain: booleans and
/// nulls of YAML 1.1 and 1.2 in any case, anything that starts like a number (integers,
/// floats, octal, hexadecimal, binary, sexagesimal, timestamps, `.inf`, `.nan`), the merge
/// key `<<` and the value key `=`.
fn ambiguous(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "~" | "<<" | "="
    ) {
        return true;
    }
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, ".inf" | ".nan") {
        return true;
    }
    let b = body.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_digit() => true,
        Some(b'.') => b.get(1).is_some_and(u8::is_ascii_digit),
        _ => body.len() < lower.len() && b.is_empty(),
    }
}

/// Whether a string can be a literal block scalar (`|`): it has a line break, only
/// printable characters (tabs allowed), no carriage return, and is not only line breaks and
/// spaces (whose indentation a reader could not tell).
fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && s.chars().all(|c| c == '\n' || c == '\t' || printable(c))
        && s.chars().any(|c| !matches!(c, '\n' | ' '))
        // Trailing spaces on the last line before a clip/strip chomp are kept by readers,
        // but a line of only spaces right after the header confuses some: quote those.
        && !s.lines().next().is_some_and(|l| !l.is_empty() && l.trim().is_empty())
}

/// A literal block scalar whose lines are indented by `indent`.
fn literal(s: &str, indent: usize, out: &mut String) {
    out.push('|');
    if s.starts_with(' ') || s.starts_with('\n') {
        // The first line cannot tell the indentation: say it.
        out.push('2');
    }
    let trailing = s.len() - s.trim_end_matches('\n').len();
    match trailing {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    out.push('\n');
    let body = s.trim_end_matches('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    // Kept trailing line breaks beyond the one that ends the last line.
    for _ in 1..trailing {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn export_cleans_and_groups() {
        let dir = tempfile::tempdir().unwrap();
        let objs = vec![
            json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"a","uid":"u","resourceVersion":"3","creationTimestamp":"t"},"spec":{"clusterIP":"10.0.0.3","clusterIPs":["10.0.0.3"],"ports":[{"port":80}]},"status":{}}),
            json!({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"a","ownerReferences":[{"kind":"ReplicaSet","name":"r","controller":true}]}}),
            json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"a"}}),
            json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}),
        ];
        let e = export(&objs, dir.path()).unwrap();
        assert_eq!((e.objects, e.secrets, e.skipped), (2, 1, 1));
        let svc = std::fs::read_to_string(dir.path().join("a/service.yaml")).unwrap();
        assert!(
            !svc.contains("clusterIP") && !svc.contains("uid") && !svc.contains("status"),
            "{svc}"
        );
        let sec = std::fs::read_to_string(dir.path().join("a/secret.yaml")).unwrap();
        assert!(sec.lines().all(|l| l.starts_with('#')), "{sec}");
        assert!(dir.path().join("_cluster/namespace.yaml").exists());
    }

    /// Strings every YAML reader must get back as the same strings.
    const TRICKY: &[&str] = &[
        "no",
        "No",
        "NO",
        "yes",
        "Yes",
        "y",
        "Y",
        "n",
        "N",
        "on",
        "On",
        "off",
        "OFF",
        "true",
        "False",
        "null",
        "Null",
        "~",
        "",
        " ",
        "1.0",
        "1",
        "0",
        "-1",
        "+1",
        "010",
        "0o17",
        "0x1F",
        "0b101",
        "1_000",
        "1e3",
        "1E-3",
        ".5",
        "-.5",
        ".inf",
        "-.Inf",
        "+.inf",
        ".nan",
        ".NaN",
        "2001-12-14",
        "2001-12-14T21:59:43.10-05:00",
        "2026-11-23T15:14:45Z",
        "12:30",
        "190:20:30",
        "1.2.3",
        "10.0.0.1",
        "<<",
        "=",
        "-",
        "--",
        "---",
        "...",
        "- a",
        "? a",
        ": a",
        "a: b",
        "a #b",
        "a#b",
        "#a",
        "&a",
        "*a",
        "!a",
        "!!str",
        "|",
        ">",
        "%a",
        "@a",
        "`a",
        "'a'",
        "\"a\"",
        "[a]",
        "{a: b}",
        "a,b",
        "a:",
        ":a",
        "-a",
        "?a",
        " lead",
        "trail ",
        "tab\there",
        "\ttab",
        "a\nb",
        "a\nb\n",
        "a\nb\n\n",
        "\na",
        "  indented\nx",
        "x\n  y\n",
        "\n",
        "\n\n",
        "line\r\nbreak",
        "nul\u{0}",
        "bell\u{7}",
        "del\u{7f}",
        "nel\u{85}x",
        "ls\u{2028}x",
        "ps\u{2029}x",
        "bom\u{feff}",
        "ünïcødé",
        "日本語",
        "emoji 🚀",
        "quote's",
        "back\\slash",
        "-- --config=/etc/x",
        "--save",
        "http://a/#/b",
        "C:\\path",
        "a: ",
        "{{ .Values.x }}",
        "$(VAR)",
        "*",
        "0.0.0.0/0",
        "1Gi",
        "500m",
        "0755",
        "+",
        "-0",
        "0.",
        "1.",
        "1e",
        "e1",
        "x: |\n  y",
        "last\n ",
    ];

    fn tricky_object() -> Value {
        let mut data = Map::new();
        let mut list = Vec::new();
        for (i, s) in TRICKY.iter().enumerate() {
            data.insert(format!("k{i}"), json!(s));
            list.push(json!(s));
        }
        let keys: Map<String, Value> = TRICKY
            .iter()
            .map(|s| ((*s).to_owned(), json!(format!("value of {s}"))))
            .collect();
        json!({"apiVersion":"v1","kind":"ConfigMap",
            "metadata":{"name":"tricky","namespace":"web","labels":{"enabled":"no","replicas":"3"},
                "annotations":{"note":"on","when":"2001-12-14","mask":"0x1F"}},
            "data":data,
            "spec":{"list":list,"keys":keys,"nested":[[1,2],["no",[]],{},[],[{"a":"yes"}],
                {"m":{"n":[{"o":"~"}]}}],"numbers":[0,-1,1.5,1e300,-0.0,12345678901234567u64],
                "bools":[true,false],"null":null,"empty":{},"emptyList":[],
                "multi":["a\nb", {"x":"c\nd\n"}, [" e\nf"]]},
            (("k".repeat(1100))): "long key"})
    }

    #[test]
    fn exported_yaml_reads_back_as_the_same_object() {
        let v = tricky_object();
        let text = format!("---\n{}", to_yaml(&v));
        // Palisade's loader resolves plain scalars as Kubernetes (go-yaml v2) does.
        let docs = crate::yaml::parse_documents(&text, 1, false).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].value, v, "{text}");
        // A YAML 1.2 (libyaml) reader agrees.
        let back: Value = serde_yaml_ng::from_str(&text).unwrap();
        assert_eq!(back, v, "{text}");
        // The cases the issue names are quoted.
        for s in [
            "'no'",
            "'yes'",
            "'on'",
            "'1.0'",
            "'0x1F'",
            "'~'",
            "'2001-12-14'",
        ] {
            assert!(text.contains(s), "{s} not quoted in {text}");
        }
        assert!(text.contains("name: tricky\n"), "{text}");
    }

    #[test]
    fn every_document_of_an_export_reads_back_as_exported() {
        let dir = tempfile::tempdir().unwrap();
        let mut cm = tricky_object();
        cm.as_object_mut().unwrap().remove(&"k".repeat(1100));
        let objs = vec![
            cm,
            json!({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","annotations":{"node.alpha.kubernetes.io/ttl":"0"}},
                "spec":{"podCIDR":"10.244.1.0/24","taints":[{"key":"dedicated","value":"no","effect":"NoSchedule","timeAdded":"2026-11-23T15:14:45Z"},
                    {"key":"node.kubernetes.io/unreachable","effect":"NoSchedule","timeAdded":"2026-11-23T15:14:45Z"}]}}),
            json!({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"redis","namespace":"argocd"},
                "spec":{"template":{"spec":{"containers":[{"name":"redis","args":["--save","","--appendonly","no"]}]}}}}),
        ];
        let mut expected: Vec<Value> = objs.clone();
        expected.iter_mut().for_each(clean);
        let e = export(&objs, dir.path()).unwrap();
        assert_eq!(e.objects, 3);
        let mut read = Vec::new();
        for f in &e.files {
            let text = std::fs::read_to_string(f).unwrap();
            for d in crate::yaml::parse_documents(&text, 1, false).unwrap() {
                read.push(d.value);
            }
        }
        for x in &expected {
            assert!(read.contains(x), "{x} not read back from {:?}", e.files);
        }
        let node = std::fs::read_to_string(dir.path().join("_cluster/node.yaml")).unwrap();
        assert!(
            !node.contains("timeAdded")
                && !node.contains("podCIDR")
                && !node.contains("unreachable"),
            "{node}"
        );
        assert!(node.contains("value: 'no'"), "{node}");
    }

    #[test]
    fn control_plane_objects_are_left_out() {
        let none = HashSet::new();
        let out = |v: Value| left_out(&v, &none).is_some();
        let boot = json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
            "metadata":{"name":"view","labels":{"kubernetes.io/bootstrapping":"rbac-defaults"},
            "annotations":{"rbac.authorization.kubernetes.io/autoupdate":"true"}}});
        assert!(out(boot.clone()));
        let mut pinned = boot;
        pinned["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] =
            json!("false");
        assert!(
            !out(pinned),
            "a bootstrap role the admin pinned is exported"
        );
        assert!(out(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-apiserver-legacy-service-account-token-tracking","namespace":"kube-system"}})
        ));
        assert!(out(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-root-ca.crt","namespace":"shop"}})
        ));
        assert!(!out(
            json!({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app","namespace":"kube-system"}})
        ));
        assert!(out(
            json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"kubernetes","namespace":"default"},"spec":{}})
        ));
        assert!(out(
            json!({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"kubernetes","namespace":"default"}})
        ));
        assert!(out(
            json!({"apiVersion":"v1","kind":"Event","metadata":{"name":"e"}})
        ));
        assert!(out(
            json!({"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l"}})
        ));
        assert!(out(
            json!({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"s-abc","namespace":"a",
                "labels":{"endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io"}}})
        ));
        assert!(!out(
            json!({"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"manual","namespace":"a"}})
        ));
        let selected: HashSet<(String, String)> = [("a".to_owned(), "web".to_owned())].into();
        let ep = |n: &str| json!({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":n,"namespace":"a"}});
        assert!(left_out(&ep("web"), &selected).is_some());
        assert!(left_out(&ep("external-db"), &selected).is_none());
        // The default ServiceAccount and namespaces: out when untouched, in when hardened.
        let sa = json!({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"a","uid":"u"},"secrets":[{"name":"x"}]});
        assert!(out(sa.clone()));
        let mut hardened = sa;
        hardened["automountServiceAccountToken"] = json!(false);
        assert!(!out(hardened));
        let ks = json!({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"kube-system",
            "labels":{"kubernetes.io/metadata.name":"kube-system"}},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}});
        assert!(out(ks.clone()));
        let mut labelled = ks;
        labelled["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = json!("privileged");
        assert!(!out(labelled));
        // Token Secrets: the default account's and generated ones are out, others in.
        let tok = |n: &str, sa: &str| {
            json!({"apiVersion":"v1","kind":"Secret","type":SA_TOKEN,
            "metadata":{"name":n,"namespace":"a","annotations":{SA_NAME:sa}}})
        };
        assert!(out(tok("default-token-x", "default")));
        assert!(out(tok("ci-token-b7x2k", "ci")));
        assert!(!out(tok("runner-token", "runner")));
        assert!(out(
            json!({"apiVersion":"kubelet.config.k8s.io/v1beta1","kind":"KubeletConfiguration","metadata":{"name":"n"}})
        ));
        assert!(out(
            json!({"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"system-node-critical"}})
        ));
    }

    #[test]
    fn token_secrets_are_manifests_without_values_and_crds_need_their_spec() {
        let dir = tempfile::tempdir().unwrap();
        let objs = vec![
            json!({"apiVersion":"v1","kind":"Secret","type":SA_TOKEN,"data":{"token":"<redacted>"},
                "metadata":{"name":"runner-token","namespace":"ci","uid":"u",
                    "labels":{"kubernetes.io/legacy-token-last-used":"2026-11-23","team":"ci"},
                    "annotations":{SA_NAME:"runner","kubernetes.io/service-account.uid":"old",
                        "kubectl.kubernetes.io/last-applied-configuration":"<redacted>"}}}),
            json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"ci"}}),
            json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"a.example.com"}}),
            json!({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"b.example.com","uid":"u"},
                "spec":{"group":"example.com","names":{"kind":"B","plural":"bs"},"scope":"Namespaced","versions":[]},
                "status":{"storedVersions":["v1"]}}),
        ];
        let e = export(&objs, dir.path()).unwrap();
        assert_eq!((e.objects, e.secrets, e.crds_without_spec), (2, 1, 1));
        let sec = std::fs::read_to_string(dir.path().join("ci/secret.yaml")).unwrap();
        assert!(sec.contains("# - db\n"), "{sec}");
        let docs = crate::yaml::parse_documents(&sec, 1, false).unwrap();
        assert_eq!(
            docs[0].value,
            json!({"apiVersion":"v1","kind":"Secret","type":SA_TOKEN,
                "metadata":{"name":"runner-token","namespace":"ci","labels":{"team":"ci"},
                    "annotations":{SA_NAME:"runner"}}})
        );
        assert!(
            !sec.contains("redacted") && !sec.contains("\ndata:"),
            "{sec}"
        );
        let crds =
            std::fs::read_to_string(dir.path().join("_cluster/customresourcedefinition.yaml"))
                .unwrap();
        assert!(crds.contains("# - a.example.com\n"), "{crds}");
        let docs = crate::yaml::parse_documents(&crds, 1, false).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].value["metadata"]["name"], "b.example.com");
        assert!(docs[0].value.get("status").is_none());
    }
}
