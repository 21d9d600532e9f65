use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Windows pods or containers that set `securityContext.windowsOptions.hostProcess: true`.
    ///
    /// Same semantics as the upstream Pod Security Admission check `windowsHostProcess` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// A HostProcess container runs directly on the Windows node with its privileges: the Windows equivalent of a
    /// privileged container.
    ///
    /// ## How to fix
    /// Remove `hostProcess: true`; run node agents as Windows services managed outside the cluster, or grant an
    /// expiring exception.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   windowsOptions:
    ///     hostProcess: true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   windowsOptions:
    ///     runAsUserName: ContainerUser
    /// ```
    pub(crate) struct WindowsHostProcess;
    id: "POD019",
    name: "windows-host-process",
    severity: Critical,
    summary: "Windows HostProcess container",
    references: ["cis:5.2.11", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:windowsHostProcess", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for WindowsHostProcess {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "windowsHostProcess",
            "remove `windowsOptions.hostProcess: true`",
            object,
            cx,
        );
    }
}
