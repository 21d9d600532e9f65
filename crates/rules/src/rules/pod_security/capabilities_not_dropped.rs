use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Containers that do not list `ALL` in `securityContext.capabilities.drop`, or that add a capability other than
    /// `NET_BIND_SERVICE`. Checked from v1.22; Windows pods are exempt from v1.25.
    ///
    /// Same semantics as the upstream Pod Security Admission check `capabilities_restricted` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// Container runtimes grant a default set of capabilities (`NET_RAW` among them, used for ARP and DNS spoofing).
    /// Dropping all of them removes kernel attack surface an exploit would need.
    ///
    /// ## How to fix
    /// Add `capabilities: { drop: ["ALL"] }` to every container, and add back `NET_BIND_SERVICE` only if it binds a
    /// port below 1024.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     add: ["NET_ADMIN"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   capabilities:
    ///     drop: ["ALL"]
    ///     add: ["NET_BIND_SERVICE"]
    /// ```
    pub(crate) struct CapabilitiesNotDropped;
    id: "POD008",
    name: "capabilities-not-dropped",
    severity: Medium,
    summary: "Container does not drop ALL capabilities, or adds one other than NET_BIND_SERVICE",
    references: ["cis:5.2.8", "cis:5.2.10", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:capabilities_restricted", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for CapabilitiesNotDropped {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "capabilities_restricted",
            "drop ALL capabilities; add back only NET_BIND_SERVICE if needed",
            object,
            cx,
        );
    }
}
