use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Secrets of type `kubernetes.io/service-account-token`: long-lived service account
    /// tokens, created by hand (or, before Kubernetes 1.24, automatically for every
    /// ServiceAccount).
    ///
    /// ## Why it matters
    /// These tokens never expire and are not bound to a pod: whoever reads the Secret (a
    /// backup, a `get secrets` grant, a leaked manifest) holds the service account's
    /// permissions until the Secret is deleted. Projected tokens from the TokenRequest API
    /// are short-lived, audience-bound and rotated by the kubelet.
    ///
    /// ## How to fix
    /// Delete the Secret; let pods use projected tokens (the default since 1.22), and get
    /// tokens for external systems with `kubectl create token` (short-lived) or, better,
    /// workload identity federation.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Secret
    /// type: kubernetes.io/service-account-token
    /// metadata:
    ///   name: ci-token
    ///   annotations: { kubernetes.io/service-account.name: ci }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # no Secret: `kubectl create token ci --duration 1h`, or workload identity
    /// ```
    pub(crate) struct LegacyServiceAccountToken;
    id: "SEC006",
    name: "legacy-service-account-token",
    severity: Medium,
    summary: "Long-lived service account token Secret",
    references: ["cis:5.1.6", "nsa:authentication-authorization", "nist:4.3.2", "owasp:K03", "book:ops.workload-identity", "book:workload.secrets"],
    tags: ["secrets", "rbac"],
    level: None,
    scope: Object,
    kinds: &["Secret"],
    options: &[],
}

impl Rule for LegacyServiceAccountToken {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "Secret" || object.group() != "" {
            return;
        }
        if object.pointer("/type").and_then(Value::as_str)
            != Some("kubernetes.io/service-account-token")
        {
            return;
        }
        let sa = object
            .annotation("kubernetes.io/service-account.name")
            .unwrap_or("?");
        cx.report(
            Some("/type".to_owned()),
            format!("long-lived token Secret for service account \"{sa}\""),
        )
        .fix("delete it; use projected tokens, `kubectl create token` or workload identity")
        .property("serviceAccount", sa);
    }
}
