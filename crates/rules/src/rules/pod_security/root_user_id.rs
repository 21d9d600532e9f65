use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods or containers that set `securityContext.runAsUser: 0` (root). Checked from v1.23; pods in a user
    /// namespace (`hostUsers: false`) are exempt from v1.35.
    ///
    /// Same semantics as the upstream Pod Security Admission check `runAsUser` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// `runAsUser: 0` asks for root explicitly, overriding a non-root user baked into the image.
    ///
    /// ## How to fix
    /// Use a non-zero UID (`runAsUser: 10001`) and build the image to work as that user.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsUser: 0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   runAsNonRoot: true
    ///   runAsUser: 10001
    /// ```
    pub(crate) struct RootUserId;
    id: "POD006",
    name: "root-user-id",
    severity: Medium,
    summary: "Pod or container sets runAsUser: 0",
    references: ["cis:5.2.7", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:runAsUser", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for RootUserId {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check("runAsUser", "use a non-zero runAsUser", object, cx);
    }
}
