use super::pss_check;
use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule, Severity};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods and pod templates with `hostPath` volumes. A mount that exposes an especially sensitive host path is
    /// reported as critical: container runtime sockets (`/var/run/docker.sock`,
    /// `/run/containerd/containerd.sock`, CRI-O's, cri-dockerd's, k3s's), `/var/lib/kubelet`, `/etc/kubernetes`,
    /// `/var/lib/etcd`, `/var/lib/docker`, `/var/lib/containerd`, `/etc`, `/root`, `/proc`, `/sys`, `/dev`, `/boot`.
    ///
    /// A mount is rated by the most sensitive path it *contains*, not only by its own name: mounting `/var`
    /// exposes `/var/run/docker.sock` and `/var/lib/kubelet`, so it is as critical as they are, and so are
    /// `/var/lib`, `/run`, `/run/containerd` and `/` (which contains everything). Paths are compared after a
    /// lexical normalisation (`//` and `/./` collapsed, `..` resolved, trailing `/` dropped), so
    /// `//var/run/docker.sock` and `/var/./run/docker.sock` are the socket. Symbolic links on the node cannot be
    /// seen from a manifest and are not followed, which is why both the `/var/run/...` and `/run/...` spellings
    /// are listed. The message names each critical volume, its path and, when it differs, the sensitive path it
    /// contains (`volume "host" mounts /var, which contains /var/run/docker.sock`); the finding points at the
    /// first critical volume.
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

/// Host paths whose mount is a node takeover or a credential leak, most telling first: a mount
/// that contains several is described by the first.
const SENSITIVE: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/lib/kubelet",
    "/etc/kubernetes",
    "/var/lib/etcd",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/etc",
    "/root",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
];

/// A path normalised lexically: `//` and `/./` collapsed, `..` resolved against the path
/// itself (never above `/`), no trailing `/`. Symbolic links are not followed (the node's
/// files are not visible to a scan); a relative path is read from `/`.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The most telling sensitive path a (normalised) mount exposes: the mount itself or a path
/// inside it (mounting `/var` exposes `/var/run/docker.sock`; `/` exposes everything).
fn exposed(mount: &str) -> Option<&'static str> {
    SENSITIVE.iter().copied().find(|s| *s == mount).or_else(|| {
        SENSITIVE.iter().copied().find(|s| {
            mount == "/"
                || s.strip_prefix(mount)
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    })
}

/// How a critical mount is described: `volume "v" mounts /var, which contains
/// /var/run/docker.sock`.
fn describe(volume: &str, written: &str, mount: &str, sensitive: &str) -> String {
    // A trailing `/` changes nothing worth a word: `/etc/` is shown as `/etc`.
    let trimmed = written.trim_end_matches('/');
    let shown = if trimmed.is_empty() || trimmed == mount {
        mount
    } else {
        written
    };
    if sensitive != mount {
        format!("volume {volume:?} mounts {shown}, which contains {sensitive}")
    } else if shown != mount {
        format!("volume {volume:?} mounts {shown}, which is {mount}")
    } else {
        format!("volume {volume:?} mounts {mount}")
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
        let Some(finding) = pss_check(
            "hostPathVolumes",
            "replace hostPath volumes with emptyDir, a PersistentVolumeClaim or a projected volume",
            object,
            cx,
        ) else {
            return;
        };
        let mut critical: Vec<(String, String)> = Vec::new();
        for (i, v) in pod.volumes() {
            let Some(written) = v.pointer("/hostPath/path").and_then(Value::as_str) else {
                continue;
            };
            let mount = normalise(written);
            if let Some(sensitive) = exposed(&mount) {
                let name = v.get("name").and_then(Value::as_str).unwrap_or("");
                critical.push((
                    pod.spec_pointer(&format!("/volumes/{i}/hostPath")),
                    describe(name, written, &mount, sensitive),
                ));
            }
        }
        let Some((path, _)) = critical.first() else {
            return;
        };
        finding.path = Some(path.clone());
        let clauses: Vec<&str> = critical.iter().map(|(_, d)| d.as_str()).collect();
        finding.message = format!("{}; {}", finding.message, clauses.join("; "));
        finding.severity(Severity::Critical);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_lexically() {
        for (raw, want) in [
            ("/var/run/docker.sock", "/var/run/docker.sock"),
            ("//var/run/docker.sock", "/var/run/docker.sock"),
            ("/var/./run/docker.sock", "/var/run/docker.sock"),
            ("/var/lib/../run/docker.sock", "/var/run/docker.sock"),
            ("/var/lib/kubelet/", "/var/lib/kubelet"),
            ("/../../etc", "/etc"),
            ("/", "/"),
            ("//", "/"),
            ("", "/"),
            ("var/log", "/var/log"),
        ] {
            assert_eq!(normalise(raw), want, "{raw}");
        }
    }

    #[test]
    fn rates_by_what_the_mount_contains() {
        assert_eq!(exposed("/"), Some("/var/run/docker.sock"));
        assert_eq!(exposed("/var"), Some("/var/run/docker.sock"));
        assert_eq!(exposed("/var/lib"), Some("/var/lib/kubelet"));
        assert_eq!(
            exposed("/run/containerd"),
            Some("/run/containerd/containerd.sock")
        );
        assert_eq!(exposed("/etc"), Some("/etc"));
        assert_eq!(exposed("/var/run"), Some("/var/run/docker.sock"));
        assert_eq!(exposed("/proc"), Some("/proc"));
        assert_eq!(exposed("/var/log"), None);
        assert_eq!(exposed("/var/lib/docker/containers"), None);
        assert_eq!(exposed("/varnish"), None);
        assert_eq!(exposed("/var/run/docker"), None);
        assert_eq!(exposed("/etcd-data"), None);
    }

    #[test]
    fn names_the_contained_path_when_it_differs() {
        assert_eq!(
            describe("v", "/var/", "/var", "/var/run/docker.sock"),
            r#"volume "v" mounts /var, which contains /var/run/docker.sock"#
        );
        assert_eq!(
            describe("v", "/etc/", "/etc", "/etc"),
            r#"volume "v" mounts /etc"#
        );
        assert_eq!(
            describe("v", "//", "/", "/var/run/docker.sock"),
            r#"volume "v" mounts /, which contains /var/run/docker.sock"#
        );
        assert_eq!(
            describe(
                "v",
                "//var/run/docker.sock",
                "/var/run/docker.sock",
                "/var/run/docker.sock"
            ),
            r#"volume "v" mounts //var/run/docker.sock, which is /var/run/docker.sock"#
        );
        assert_eq!(
            describe("v", "/proc", "/proc", "/proc"),
            r#"volume "v" mounts /proc"#
        );
    }
}
