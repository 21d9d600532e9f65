use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Probes (liveness, readiness, startup) and lifecycle hooks (postStart, preStop) whose `httpGet.host` or
    /// `tcpSocket.host` is set. Checked from v1.34.
    ///
    /// Same semantics as the upstream Pod Security Admission check `hostProbesAndHostLifecycle` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// The kubelet runs probes and hooks from the node. A `host` field turns them into requests the node makes on the
    /// pod author's behalf: to the instance metadata endpoint, to the kubelet, to services the pod itself cannot reach
    /// (server-side request forgery).
    ///
    /// ## How to fix
    /// Remove `host` so the kubelet targets the pod's own IP.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: { host: 169.254.169.254, path: /latest/meta-data/, port: 80 }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// readinessProbe:
    ///   httpGet: { path: /ready, port: 8080 }
    /// ```
    pub(crate) struct HostProbeOrLifecycle;
    id: "POD010",
    name: "host-probe-or-lifecycle",
    severity: Medium,
    summary: "Probe or lifecycle hook targets another host",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:hostProbesAndHostLifecycle", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for HostProbeOrLifecycle {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "hostProbesAndHostLifecycle",
            "remove `host` from probes and lifecycle hooks",
            object,
            cx,
        );
    }
}
