use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods whose seccomp profile is not explicitly `RuntimeDefault` or `Localhost`, at pod level or in every
    /// container. Checked from v1.19; Windows pods are exempt from v1.25.
    ///
    /// Same semantics as the upstream Pod Security Admission check `seccompProfile_restricted` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// Without an explicit profile most runtimes run containers unconfined: every system call reaches the kernel.
    ///
    /// ## How to fix
    /// Set `securityContext.seccompProfile.type: RuntimeDefault` on the pod.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   securityContext:
    ///     seccompProfile: { type: RuntimeDefault }
    /// ```
    pub(crate) struct SeccompProfileNotSet;
    id: "POD016",
    name: "seccomp-profile-not-set",
    severity: Medium,
    summary: "Seccomp profile is not set to RuntimeDefault or Localhost",
    references: ["cis:5.7.2", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:seccompProfile_restricted", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for SeccompProfileNotSet {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "seccompProfile_restricted",
            "set `securityContext.seccompProfile.type: RuntimeDefault` on the pod",
            object,
            cx,
        );
    }
}
