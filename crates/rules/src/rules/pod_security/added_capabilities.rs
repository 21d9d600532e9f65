use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Containers whose `securityContext.capabilities.add` lists a capability outside the baseline set (`AUDIT_WRITE`,
    /// `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`, `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`,
    /// `SETPCAP`, `SETUID`, `SYS_CHROOT`). Under the restricted profile from v1.22 this check is replaced by POD008,
    /// as upstream replaces it.
    ///
    /// Same semantics as the upstream Pod Security Admission check `capabilities_baseline` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// Capabilities such as `SYS_ADMIN`, `NET_ADMIN`, `SYS_PTRACE` or `NET_RAW` break the isolation between
    /// container and node: mounting filesystems, reconfiguring the network, reading other processes' memory,
    /// spoofing traffic.
    ///
    /// ## How to fix
    /// Remove the capability; redesign the feature that needs it, or isolate the workload with an expiring exception.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: ["SYS_ADMIN"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: ["ALL"]
    /// ```
    pub(crate) struct AddedCapabilities;
    id: "POD007",
    name: "added-capabilities",
    severity: High,
    summary: "Container adds a capability beyond the default set",
    references: ["cis:5.2.9", "cis:5.2.8", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:capabilities_baseline", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for AddedCapabilities {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "capabilities_baseline",
            "add no capability beyond the default set",
            object,
            cx,
        );
    }
}
