use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods and pod templates that set `hostNetwork`, `hostPID` or `hostIPC` to true.
    ///
    /// Same semantics as the upstream Pod Security Admission check `hostNamespaces` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// `hostPID` shows every process of the node (and their environment through `/proc`), `hostIPC` opens the node's
    /// shared memory, and `hostNetwork` puts the pod on the node's interfaces, where it reaches the kubelet and the
    /// instance metadata endpoint, beyond network policies.
    ///
    /// ## How to fix
    /// Remove the `host*` fields. Expose ports through a Service; read node metrics through the kubelet.
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
        pss_check(
            "hostNamespaces",
            "remove hostNetwork, hostPID and hostIPC",
            object,
            cx,
        );
    }
}
