use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init and ephemeral) that set `securityContext.privileged: true`, and Windows pods whose
    /// containers do (the upstream check applies to every OS).
    ///
    /// Same semantics as the upstream Pod Security Admission check `privileged` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// A privileged container runs with every capability and the host's devices: it can mount the node's disks, load
    /// kernel modules and leave the container at will. One compromised privileged pod is a compromised node, and from
    /// the node the cluster.
    ///
    /// ## How to fix
    /// Remove `privileged: true`. Grant the one capability the workload needs instead (`capabilities.add`), or move
    /// node-level agents to a dedicated namespace with an exception that expires.
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
    /// ```
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
        pss_check(
            "privileged",
            "remove `privileged: true`; add only the capabilities the container needs",
            object,
            cx,
        );
    }
}
