use super::report_places;
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;
use std::collections::BTreeMap;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init and ephemeral) that mount a `hostPath` volume without
    /// `readOnly: true` on the `volumeMount`. A `hostPath` volume has no read-only setting of
    /// its own: each mount decides, and a mount is writable unless it says otherwise. One
    /// finding per object names each writable mount and the host path behind it.
    ///
    /// POD005 reports every hostPath volume (mounted or not, read-only or not); this rule
    /// reports the narrower, worse case of a container that can write to the node.
    ///
    /// ## Why it matters
    /// A writable host path lets the container change the node's files: plant a binary or a
    /// cron entry, rewrite kubelet or container-runtime configuration, fill the node's disk,
    /// or tamper with other pods' data and logs. A read-only mount still exposes data but
    /// cannot be used to take the node over this way.
    ///
    /// ## How to fix
    /// Set `readOnly: true` on every mount of a hostPath volume the container only reads, and
    /// replace the others with `emptyDir` or a PersistentVolumeClaim.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: agent
    ///   volumeMounts:
    ///   - { name: logs, mountPath: /host/logs }
    /// volumes:
    /// - name: logs
    ///   hostPath: { path: /var/log }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    /// - name: agent
    ///   volumeMounts:
    ///   - { name: logs, mountPath: /host/logs, readOnly: true }
    /// volumes:
    /// - name: logs
    ///   hostPath: { path: /var/log }
    /// ```
    pub(crate) struct WritableHostPath;
    id: "POD023",
    name: "writable-host-path",
    severity: High,
    summary: "Container mounts a hostPath volume read-write",
    references: ["cis:5.2.12", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "book:ops.pod-security-policy", "book:platform.node-access"],
    tags: ["workload", "hardening"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for WritableHostPath {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        // Volume name -> host path.
        let host: BTreeMap<&str, &str> = pod
            .volumes()
            .filter_map(|(_, v)| {
                let path = v.pointer("/hostPath/path").and_then(Value::as_str)?;
                Some((v.get("name").and_then(Value::as_str)?, path))
            })
            .collect();
        if host.is_empty() {
            return;
        }
        let mut places = Vec::new();
        for c in pod.containers() {
            let mounts = c
                .get("volumeMounts")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for (i, m) in mounts.iter().enumerate() {
                let Some(name) = m.get("name").and_then(Value::as_str) else {
                    continue;
                };
                let Some(path) = host.get(name) else {
                    continue;
                };
                if m.get("readOnly").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let at = m.get("mountPath").and_then(Value::as_str).unwrap_or("?");
                places.push((
                    c.pointer(&format!("/volumeMounts/{i}")),
                    format!(
                        "{} mounts host path {path} (volume {name:?}) read-write at {at}",
                        c.describe()
                    ),
                ));
            }
        }
        report_places(
            cx,
            "writable host path",
            &places,
            "set readOnly: true on the volumeMount, or replace the hostPath volume with emptyDir or a PersistentVolumeClaim",
        );
    }
}
