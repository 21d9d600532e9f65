use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods and pod templates with `hostPath` volumes. Same semantics as the Pod Security
    /// Standards `hostPathVolumes` check (baseline level). Mounts of especially sensitive host
    /// paths (`/`, `/etc`, `/proc`, `/var/lib/kubelet`, container runtime sockets) are
    /// reported as critical.
    ///
    /// ## Why it matters
    /// A hostPath volume gives the container the node's files. Writable mounts of `/`, `/etc`
    /// or the runtime socket (`/var/run/docker.sock`, `/run/containerd/containerd.sock`) are a
    /// node takeover; even read-only mounts leak kubelet credentials and other pods' secrets.
    ///
    /// ## How to fix
    /// Use `emptyDir`, a PersistentVolumeClaim, a ConfigMap or a projected volume. Node agents
    /// that truly need host files belong in a dedicated namespace with an expiring exception.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: docker
    ///   hostPath: { path: /var/run/docker.sock }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// volumes:
    /// - name: scratch
    ///   emptyDir: {}
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.2.12; NSA/CISA Kubernetes Hardening Guidance, "Pod
    /// security"; NIST SP 800-190 4.4.3, 4.5.5; OWASP Kubernetes Top 10 K01; Pod Security
    /// Standards, baseline, "HostPath Volumes".
    pub(crate) struct HostPathVolume;
    id: "POD005",
    name: "host-path-volume",
    severity: High,
    summary: "Pod mounts a hostPath volume",
    references: ["cis:5.2.12", "nsa:pod-security", "nist:4.4.3", "nist:4.5.5", "owasp:K01", "pss:hostPathVolumes", "book:ops.pod-security-policy", "book:platform.node-access"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

const SENSITIVE: &[&str] = &[
    "/",
    "/etc",
    "/proc",
    "/sys",
    "/root",
    "/boot",
    "/dev",
    "/var/lib/kubelet",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/etc/kubernetes",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run",
    "/run",
];

fn normalise(path: &str) -> &str {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        "/"
    } else {
        t
    }
}

impl Rule for HostPathVolume {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for (i, v) in pod.volumes() {
            let Some(hp) = v.get("hostPath") else {
                continue;
            };
            if hp.is_null() {
                continue;
            }
            let name = v.get("name").and_then(Value::as_str).unwrap_or("");
            let path = hp.get("path").and_then(Value::as_str).unwrap_or("");
            let sensitive = SENSITIVE.contains(&normalise(path));
            let f = cx
                .report(
                    pod.spec_pointer(&format!("/volumes/{i}/hostPath")),
                    format!("hostPath volumes (volume \"{name}\" mounts host path \"{path}\")"),
                )
                .fix("replace the hostPath volume with emptyDir, a PersistentVolumeClaim or a projected volume")
                .property("volume", name)
                .property("hostPath", path);
            if sensitive {
                f.severity(palisade_core::Severity::Critical);
            }
        }
    }
}
