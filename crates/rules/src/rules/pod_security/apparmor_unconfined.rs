use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods and containers whose AppArmor profile (the `appArmorProfile` fields, or the
    /// `container.apparmor.security.beta.kubernetes.io/*` annotations) is anything other than the runtime default or a
    /// localhost profile (`Unconfined`, `unconfined`).
    ///
    /// Same semantics as the upstream Pod Security Admission check `appArmorProfile` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// An unconfined container loses the mandatory access control that blocks writes to `/proc` and `/sys`, mounts
    /// and other known escape techniques.
    ///
    /// ## How to fix
    /// Remove the override, or set `appArmorProfile: { type: RuntimeDefault }` (or a `Localhost` profile).
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   appArmorProfile:
    ///     type: Unconfined
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   appArmorProfile:
    ///     type: RuntimeDefault
    /// ```
    pub(crate) struct AppArmorUnconfined;
    id: "POD011",
    name: "apparmor-unconfined",
    severity: Medium,
    summary: "AppArmor profile is unconfined or not a default profile",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:appArmorProfile", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for AppArmorUnconfined {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "appArmorProfile",
            "use the RuntimeDefault or a Localhost AppArmor profile",
            object,
            cx,
        );
    }
}
