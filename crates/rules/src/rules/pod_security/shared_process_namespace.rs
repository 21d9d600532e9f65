use palisade_core::{Context, Object, PodTemplate, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods with `spec.shareProcessNamespace: true`: every container of the pod sees and can
    /// signal the processes of the others.
    ///
    /// ## Why it matters
    /// With one process namespace, a compromised container (a sidecar, a debug container)
    /// sees the other containers' processes with their command lines and environment, can
    /// signal them, and, as the same user, reaches their filesystems through
    /// `/proc/<pid>/root`, secrets and service-account tokens included. The isolation
    /// between containers of a pod is gone.
    ///
    /// ## How to fix
    /// Remove `shareProcessNamespace`. For debugging, attach an ephemeral container that
    /// targets one container (`kubectl debug --target`) for the time of the investigation.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   shareProcessNamespace: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   shareProcessNamespace: false
    /// ```
    pub(crate) struct SharedProcessNamespace;
    id: "POD025",
    name: "shared-process-namespace",
    severity: Medium,
    summary: "Containers of the pod share one process namespace",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "book:ops.pod-security-policy"],
    tags: ["workload", "hardening"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for SharedProcessNamespace {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        if pod.flag("shareProcessNamespace") {
            cx.report(
                Some(pod.spec_pointer("/shareProcessNamespace")),
                "shareProcessNamespace: true lets every container see, signal and read the files of the others' processes",
            )
            .fix("remove shareProcessNamespace; debug with an ephemeral container targeting one container");
        }
    }
}
