use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Containers that do not set `securityContext.allowPrivilegeEscalation: false` explicitly (Kubernetes defaults it
    /// to true). Pods with `spec.os.name: windows` are exempt from v1.25, as upstream.
    ///
    /// Same semantics as the upstream Pod Security Admission check `allowPrivilegeEscalation` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// With privilege escalation allowed, a process can gain more privileges than its parent through setuid binaries
    /// or file capabilities (`no_new_privs` is not set), turning a foothold in the container into root inside it.
    ///
    /// ## How to fix
    /// Set `allowPrivilegeEscalation: false` in every container's `securityContext`.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   securityContext:
    ///     allowPrivilegeEscalation: false
    /// ```
    pub(crate) struct PrivilegeEscalation;
    id: "POD002",
    name: "privilege-escalation-allowed",
    severity: Medium,
    summary: "Container does not set allowPrivilegeEscalation: false",
    references: ["cis:5.2.6", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:allowPrivilegeEscalation", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for PrivilegeEscalation {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "allowPrivilegeEscalation",
            "set `securityContext.allowPrivilegeEscalation: false` in every container",
            object,
            cx,
        );
    }
}
