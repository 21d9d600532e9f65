use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods whose containers are not required to run as a non-root user: the pod sets `securityContext.runAsNonRoot:
    /// true` and no container sets it to false, or every container sets it to true. Windows pods are exempt from
    /// v1.25; pods in a user namespace (`hostUsers: false`) from v1.35.
    ///
    /// Same semantics as the upstream Pod Security Admission check `runAsNonRoot` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// Without `runAsNonRoot`, the image decides the user, and most images run as root. Root in a container is root
    /// on the node's kernel: one escape bug away from the node.
    ///
    /// ## How to fix
    /// Set `securityContext.runAsNonRoot: true` on the pod, and a non-zero `runAsUser` if the image has no numeric
    /// non-root user.
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
    ///     runAsNonRoot: true
    ///     runAsUser: 10001
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    pub(crate) struct RunAsRoot;
    id: "POD003",
    name: "run-as-root",
    severity: Medium,
    summary: "Containers are not required to run as non-root",
    references: ["cis:5.2.7", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:runAsNonRoot", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for RunAsRoot {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check(
            "runAsNonRoot",
            "set `securityContext.runAsNonRoot: true` on the pod",
            object,
            cx,
        );
    }
}
