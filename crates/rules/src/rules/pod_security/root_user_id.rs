use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods or containers that set `securityContext.runAsUser: 0` (root). Same semantics as the
    /// Pod Security Standards `runAsUser` check (restricted level): the pod-level and every
    /// container-level `runAsUser` must not be 0. Windows pods and pods in a user namespace
    /// (`hostUsers: false`) are exempt.
    ///
    /// ## Why it matters
    /// `runAsUser: 0` asks for root explicitly, overriding a non-root user baked into the
    /// image; with `runAsNonRoot: true` the pod would not even start, so this usually means
    /// the pod is meant to run as root.
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
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.2.7; NSA/CISA Kubernetes Hardening Guidance, "Pod security";
    /// NIST SP 800-190 4.4.3; OWASP Kubernetes Top 10 K01; Pod Security Standards, restricted,
    /// "Running as Non-root user".
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
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        if pod.is_windows() || pod.get("hostUsers").and_then(Value::as_bool) == Some(false) {
            return;
        }
        if pod
            .security_context()
            .get("runAsUser")
            .and_then(Value::as_i64)
            == Some(0)
        {
            cx.report(
                pod.spec_pointer("/securityContext/runAsUser"),
                "runAsUser=0 (pod must not set runAsUser=0)",
            )
            .fix("use a non-zero `runAsUser`");
        }
        for c in pod.containers() {
            if c.security("runAsUser").and_then(Value::as_i64) == Some(0) {
                cx.report(
                    c.pointer("/securityContext/runAsUser"),
                    format!("runAsUser=0 ({} must not set runAsUser=0)", c.describe()),
                )
                .fix("use a non-zero `runAsUser`")
                .property("container", c.name);
            }
        }
    }
}
