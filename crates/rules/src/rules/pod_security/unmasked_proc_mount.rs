use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Containers whose `securityContext.procMount` is set to anything but `Default`. From v1.35 pods in a user
    /// namespace (`hostUsers: false`) are exempt at the baseline level; under the restricted profile the check is
    /// replaced by POD014.
    ///
    /// Same semantics as the upstream Pod Security Admission check `procMount` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// `/proc` is masked in containers to hide kernel interfaces (`/proc/kcore`, `/proc/sysrq-trigger`...). An unmasked
    /// `/proc` exposes them to the container.
    ///
    /// ## How to fix
    /// Remove `procMount: Unmasked`.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   procMount: Unmasked
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   procMount: Default
    /// ```
    pub(crate) struct UnmaskedProcMount;
    id: "POD013",
    name: "unmasked-proc-mount",
    severity: High,
    summary: "Container uses an unmasked /proc",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:procMount", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for UnmaskedProcMount {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check("procMount", "remove `procMount: Unmasked`", object, cx);
    }
}
