use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init and ephemeral) that do not set
    /// `securityContext.allowPrivilegeEscalation: false`. Same semantics as the Pod Security
    /// Standards `allowPrivilegeEscalation` check (restricted level): the field must be
    /// explicitly `false`, because Kubernetes defaults it to `true`. Pods with
    /// `spec.os.name: windows` are exempt, as upstream exempts them.
    ///
    /// ## Why it matters
    /// With privilege escalation allowed, a process can gain more privileges than its parent
    /// through setuid binaries or file capabilities (`no_new_privs` is not set), turning a
    /// foothold in the container into root inside it.
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
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.2.6; NSA/CISA Kubernetes Hardening Guidance, "Pod security";
    /// NIST SP 800-190 4.4.3; OWASP Kubernetes Top 10 K01; Pod Security Standards,
    /// restricted, "Privilege Escalation".
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
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        if pod.is_windows() {
            return;
        }
        for c in pod.containers() {
            if c.security("allowPrivilegeEscalation")
                .and_then(Value::as_bool)
                != Some(false)
            {
                let path = if c.security("allowPrivilegeEscalation").is_some() {
                    c.pointer("/securityContext/allowPrivilegeEscalation")
                } else {
                    c.pointer("/securityContext")
                };
                cx.report(
                    path,
                    format!(
                        "allowPrivilegeEscalation != false ({} must set securityContext.allowPrivilegeEscalation=false)",
                        c.describe()
                    ),
                )
                .fix("set `securityContext.allowPrivilegeEscalation: false`")
                .property("container", c.name);
            }
        }
    }
}
