use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init and ephemeral) of Pods and of every workload's pod template
    /// that set `securityContext.privileged: true`. Same semantics as the Pod Security
    /// Standards `privileged` check (baseline level).
    ///
    /// ## Why it matters
    /// A privileged container runs with every capability and with the host's devices: it can
    /// mount the node's disks, load kernel modules and leave the container at will. One
    /// compromised privileged pod is a compromised node, and from the node the cluster.
    ///
    /// ## How to fix
    /// Remove `privileged: true`. Grant the one capability the workload needs instead
    /// (`capabilities.add`), or move node-level agents to a dedicated, audited namespace with
    /// an exception that expires.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     privileged: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     privileged: false
    ///     allowPrivilegeEscalation: false
    ///     capabilities: { drop: ["ALL"] }
    /// ```
    ///
    /// ## Exceptions
    /// CNI, CSI and node-monitoring DaemonSets often need it: give them a time-boxed
    /// exception in `palisade.yaml`.
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.2.2; NSA/CISA Kubernetes Hardening Guidance, "Pod security"
    /// (non-root, unprivileged containers); NIST SP 800-190 4.4.3; OWASP Kubernetes Top 10
    /// K01; Pod Security Standards, baseline, "Privileged Containers".
    pub(crate) struct PrivilegedContainer;
    id: "POD001",
    name: "privileged-container",
    severity: Critical,
    summary: "Container runs privileged",
    references: ["cis:5.2.2", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:privileged", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for PrivilegedContainer {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for c in pod.containers() {
            if c.security("privileged").and_then(Value::as_bool) == Some(true) {
                cx.report(
                    c.pointer("/securityContext/privileged"),
                    format!(
                        "{} runs privileged (securityContext.privileged=true)",
                        c.describe()
                    ),
                )
                .fix("remove `privileged: true`; add only the capabilities the container needs")
                .property("container", c.name);
            }
        }
    }
}
