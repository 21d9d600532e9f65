use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods whose `securityContext.sysctls` name a sysctl outside the safe set of the policy version (the set grew at
    /// v1.27, v1.29, v1.32 and v1.37).
    ///
    /// Same semantics as the upstream Pod Security Admission check `sysctls` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// Unsafe sysctls change kernel settings shared with other pods on the node (network stack, memory, IPC limits):
    /// a denial of service or worse for every neighbour.
    ///
    /// ## How to fix
    /// Remove the sysctl, or run the workload on dedicated nodes with an expiring exception.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   sysctls:
    ///   - { name: kernel.msgmax, value: "65536" }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   sysctls:
    ///   - { name: net.ipv4.ip_unprivileged_port_start, value: "0" }
    /// ```
    pub(crate) struct UnsafeSysctl;
    id: "POD017",
    name: "unsafe-sysctl",
    severity: High,
    summary: "Pod sets a sysctl outside the safe set",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:sysctls", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for UnsafeSysctl {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check("sysctls", "remove sysctls outside the safe set", object, cx);
    }
}
