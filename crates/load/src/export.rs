//! Apply-able manifests from a snapshot, to recover a known-good state.
//!
//! Every object loses what the API server writes: `status`, `uid`, `resourceVersion`,
//! `creationTimestamp`, `generation`, `managedFields`, `selfLink`, `ownerReferences`, the
//! `last-applied-configuration` annotation, a Service's `clusterIP(s)`, a ServiceAccount's
//! `secrets`. Objects a controller creates (Pods of ReplicaSets, ReplicaSets of Deployments,
//! Jobs of CronJobs, anything with a controlling owner) are left out, and so are objects
//! the control plane creates by itself (`kube-root-ca.crt` ConfigMaps, service-account
//! token Secrets). Secrets were read as metadata only: they are listed, commented, as names
//! to recreate. Files are `DIR/<namespace or _cluster>/<kind>.yaml`.

use serde_json::Value;
use std::collections::BTreeMap;
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
    /// Objects left out (controller children, server-created).
    pub skipped: usize,
}

fn meta_str<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get("metadata")?.get(field)?.as_str()
}

fn server_created(v: &Value) -> bool {
    let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = meta_str(v, "name").unwrap_or("");
    if crate::cluster::controller_of(v).is_some() {
        return true;
    }
    match kind {
        "ConfigMap" => matches!(name, "kube-root-ca.crt" | "openshift-service-ca.crt"),
        "Secret" => v
            .pointer("/metadata/annotations/kubernetes.io~1service-account.name")
            .is_some(),
        "Endpoints" | "EndpointSlice" | "Event" | "Lease" => true,
        _ => false,
    }
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

/// Removes the fields the API server writes.
pub fn clean(v: &mut Value) {
    // Pod templates carry `creationTimestamp: null` from the server's encoding.
    drop_null_timestamps(v);
    let kind = v
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
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
        if let Some(Value::Object(a)) = meta.get_mut("annotations") {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
            a.remove("deployment.kubernetes.io/revision");
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    match kind.as_str() {
        "Service" => {
            if let Some(Value::Object(spec)) = m.get_mut("spec") {
                let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
                if !headless {
                    spec.remove("clusterIP");
                    spec.remove("clusterIPs");
                }
                if spec.get("type").and_then(Value::as_str) != Some("NodePort") {
                    // Node ports the server allocated for a LoadBalancer.
                    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
                        for p in ports {
                            if let Value::Object(p) = p {
                                p.remove("nodePort");
                            }
                        }
                    }
                }
            }
        }
        "ServiceAccount" => {
            m.remove("secrets");
        }
        "Job" => {
            // The controller-uid selector and labels are generated.
            if let Some(Value::Object(spec)) = m.get_mut("spec") {
                spec.remove("selector");
                if let Some(Value::Object(l)) = spec
                    .get_mut("template")
                    .and_then(|t| t.get_mut("metadata"))
                    .and_then(|md| md.get_mut("labels"))
                {
                    l.retain(|k, _| !k.contains("controller-uid") && k != "job-name");
                }
            }
        }
        _ => {}
    }
}

/// Writes the manifests of a snapshot's objects into `dir`.
pub fn export(objects: &[Value], dir: &Path) -> std::io::Result<Exported> {
    let mut groups: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    let mut secrets: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut out = Exported::default();
    for v in objects {
        let kind = v.get("kind").and_then(Value::as_str).unwrap_or("");
        if kind.is_empty() || server_created(v) {
            out.skipped += 1;
            continue;
        }
        let ns = meta_str(v, "namespace").unwrap_or("_cluster").to_owned();
        if kind == "Secret" && v.get("apiVersion").and_then(Value::as_str) == Some("v1") {
            secrets
                .entry(ns)
                .or_default()
                .push(meta_str(v, "name").unwrap_or("").to_owned());
            continue;
        }
        let mut v = v.clone();
        clean(&mut v);
        groups.entry((ns, kind.to_owned())).or_default().push(v);
    }
    for ((ns, kind), items) in &groups {
        let d = dir.join(ns);
        crate::create_private_dir(&d)?;
        let mut text = String::new();
        for item in items {
            text.push_str("---\n");
            text.push_str(&serde_yaml_ng::to_string(item).map_err(std::io::Error::other)?);
        }
        let path = d.join(format!("{}.yaml", kind.to_lowercase()));
        crate::create_private(&path)?.write_all(text.as_bytes())?;
        out.objects += items.len();
        out.files.push(path);
    }
    for (ns, names) in &secrets {
        let d = dir.join(ns);
        crate::create_private_dir(&d)?;
        let mut text = String::from(
            "# Secrets to recreate. Palisade read them as metadata only: their values never\n\
             # left the API server, so they are not here. Recreate each from its source of\n\
             # truth (a vault, a sealed secret, a CI variable), e.g.:\n\
             #   kubectl create secret generic NAME -n NAMESPACE --from-file=...\n",
        );
        for n in names {
            text.push_str(&format!("# - {n}\n"));
        }
        let path = d.join("secret.yaml");
        crate::create_private(&path)?.write_all(text.as_bytes())?;
        out.secrets += names.len();
        out.files.push(path);
    }
    out.files.sort();
    Ok(out)
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
}
