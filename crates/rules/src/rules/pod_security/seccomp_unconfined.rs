use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods and containers whose seccomp profile is `Unconfined` (the `seccompProfile` fields from v1.19, the
    /// `seccomp.security.alpha.kubernetes.io/*` annotations before). Under the restricted profile the check is
    /// replaced by POD016, as upstream.
    ///
    /// Same semantics as the upstream Pod Security Admission check `seccompProfile_baseline` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// Seccomp filters the system calls a container can make; unconfined, every kernel system call is attack surface.
    ///
    /// ## How to fix
    /// Remove the override or set `seccompProfile: { type: RuntimeDefault }`.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   seccompProfile:
    ///     type: Unconfined
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   seccompProfile:
    ///     type: RuntimeDefault
    /// ```
    pub(crate) struct SeccompUnconfined;
    id: "POD015",
    name: "seccomp-unconfined",
    severity: Medium,
    summary: "Seccomp profile is Unconfined",
    references: ["cis:5.7.2", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:seccompProfile_baseline", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for SeccompUnconfined {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "seccompProfile_baseline",
            "use the RuntimeDefault or a Localhost seccomp profile",
            object,
            cx,
        );
    }
}
