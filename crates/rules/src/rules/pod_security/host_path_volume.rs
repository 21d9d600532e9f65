use super::pss_check;
use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule, Severity};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods and pod templates with `hostPath` volumes. Mounts of especially sensitive host paths (`/`, `/etc`,
    /// `/proc`, `/var/lib/kubelet`, container runtime sockets) are reported as critical.
    ///
    /// Same semantics as the upstream Pod Security Admission check `hostPathVolumes` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// A hostPath volume gives the container the node's files. A writable `/`, `/etc` or runtime socket
    /// (`/var/run/docker.sock`, `/run/containerd/containerd.sock`) is a node takeover; even read-only mounts leak
    /// kubelet credentials and other pods' secrets.
    ///
    /// ## How to fix
    /// Use `emptyDir`, a PersistentVolumeClaim, a ConfigMap or a projected volume. Node agents that truly need host
    /// files belong in a dedicated namespace with an expiring exception.
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
    /// CIS Kubernetes Benchmark 5.2.12;
    /// NSA/CISA Kubernetes Hardening Guidance, "Pod security"; NIST SP 800-190 4.4.3; OWASP
    /// Kubernetes Top 10 K01; Pod Security Standards, baseline, upstream check `hostPathVolumes`.
    pub(crate) struct HostPathVolume;
    id: "POD005",
    name: "host-path-volume",
    severity: High,
    summary: "Pod mounts a hostPath volume",
    references: ["cis:5.2.12", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:hostPathVolumes", "book:ops.pod-security-policy", "book:platform.node-access"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

/// Host paths whose mount is a node takeover or a credential leak.
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
        let Some(finding) = pss_check(
            "hostPathVolumes",
            "replace hostPath volumes with emptyDir, a PersistentVolumeClaim or a projected volume",
            object,
            cx,
        ) else {
            return;
        };
        let sensitive = PodTemplate::of(object).is_some_and(|pod| {
            pod.volumes().any(|(_, v)| {
                v.pointer("/hostPath/path")
                    .and_then(Value::as_str)
                    .is_some_and(|p| SENSITIVE.contains(&normalise(p)))
            })
        });
        if sensitive {
            finding.severity(Severity::Critical);
        }
    }
}
