use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Containers whose `securityContext.procMount` is set to anything but `Default`, including pods in a user
    /// namespace. Checked from v1.35 at the restricted level.
    ///
    /// Same semantics as the upstream Pod Security Admission check `procMount_restricted` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// A user namespace limits what an unmasked `/proc` allows, but restricted pods keep the mask: defence in depth.
    ///
    /// ## How to fix
    /// Remove `procMount: Unmasked`.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostUsers: false
    ///   containers:
    ///   - name: app
    ///     securityContext:
    ///       procMount: Unmasked
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   hostUsers: false
    ///   containers:
    ///   - name: app
    /// ```
    pub(crate) struct UnmaskedProcMountRestricted;
    id: "POD014",
    name: "unmasked-proc-mount-restricted",
    severity: Medium,
    summary: "Container uses an unmasked /proc, even in a user namespace",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:procMount_restricted", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for UnmaskedProcMountRestricted {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "procMount_restricted",
            "remove `procMount: Unmasked`",
            object,
            cx,
        );
    }
}
