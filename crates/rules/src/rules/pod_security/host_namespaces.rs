use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods and pod templates that share the node's namespaces: `hostNetwork: true`,
    /// `hostPID: true` or `hostIPC: true`. Same semantics as the Pod Security Standards
    /// `hostNamespaces` check (baseline level).
    ///
    /// ## Why it matters
    /// `hostPID` shows every process of the node (and their environment and files through
    /// `/proc`), `hostIPC` opens the node's shared memory, and `hostNetwork` puts the pod on
    /// the node's interfaces, where it can reach the kubelet and the instance metadata
    /// endpoint and sniff other pods' traffic, beyond the reach of network policies.
    ///
    /// ## How to fix
    /// Remove the `host*` fields. Expose ports through a Service; read metrics through the
    /// kubelet or the container runtime's API instead of the host's `/proc`.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostNetwork: true
    ///   hostPID: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   hostNetwork: false
    /// ```
    ///
    /// ## Exceptions
    /// CNI plugins and node exporters: grant a time-boxed exception.
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.2.3, 5.2.4, 5.2.5; NSA/CISA Kubernetes Hardening Guidance,
    /// "Pod security"; NIST SP 800-190 4.4.3; OWASP Kubernetes Top 10 K01; Pod Security
    /// Standards, baseline, "Host Namespaces".
    pub(crate) struct HostNamespaces;
    id: "POD004",
    name: "host-namespaces",
    severity: High,
    summary: "Pod shares the host's network, PID or IPC namespace",
    references: ["cis:5.2.3", "cis:5.2.4", "cis:5.2.5", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:hostNamespaces", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for HostNamespaces {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for field in ["hostNetwork", "hostPID", "hostIPC"] {
            if pod.flag(field) {
                cx.report(
                    pod.spec_pointer(&format!("/{field}")),
                    format!("host namespaces ({field}=true)"),
                )
                .fix(format!("remove `{field}: true`"))
                .property("field", field);
            }
        }
    }
}
