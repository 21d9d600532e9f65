use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods and containers whose `seLinuxOptions` set `user` or `role`, or a `type` other than `container_t`,
    /// `container_init_t`, `container_kvm_t` (and `container_engine_t` from v1.31).
    ///
    /// Same semantics as the upstream Pod Security Admission check `seLinuxOptions` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// A custom SELinux type or role can lift the confinement SELinux gives containers, such as `spc_t`
    /// (super-privileged container).
    ///
    /// ## How to fix
    /// Remove `user` and `role`, and use one of the container types or none.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     type: spc_t
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   seLinuxOptions:
    ///     level: "s0:c123,c456"
    /// ```
    pub(crate) struct SeLinuxOptionsOverride;
    id: "POD012",
    name: "selinux-options-override",
    severity: Medium,
    summary: "SELinux options set a custom user, role or type",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:seLinuxOptions", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for SeLinuxOptionsOverride {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "seLinuxOptions",
            "remove seLinuxOptions user/role and custom types",
            object,
            cx,
        );
    }
}
