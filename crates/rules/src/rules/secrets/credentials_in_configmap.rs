use super::describe_value;
use palisade_core::object::escape_segment;
use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// ConfigMaps whose `data` holds credentials: a key named like a credential
    /// (`password`, `db-password`, `apiKey`...) with a literal value that is not a
    /// placeholder, or any value with the shape of a credential (a PEM private key, a cloud
    /// access key, a known token format, a URL or connection string with an inline password).
    /// The finding names the key; the value is never printed or stored.
    ///
    /// ## Why it matters
    /// ConfigMaps are not secrets: they are readable by every role that can read
    /// configuration (`view` included), are never encrypted at rest, and end up in logs,
    /// dashboards and backups.
    ///
    /// ## How to fix
    /// Move the credential into a Secret (from an external store through the Secrets Store CSI
    /// driver where possible), mount it as a file, and rotate it.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// data:
    ///   DB_PASSWORD: "s3cr3t-prod-pw"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Secret
    /// type: Opaque
    /// # created out of band or synced from a vault; not committed
    /// ```
    ///
    /// ## References
    /// NIST SP 800-190 4.1.4; NSA/CISA Kubernetes Hardening Guidance, "Secrets"; OWASP
    /// Kubernetes Top 10 K08; CIS Kubernetes Benchmark 5.4.1.
    pub(crate) struct CredentialsInConfigMap;
    id: "SEC003",
    name: "credentials-in-configmap",
    severity: High,
    summary: "ConfigMap holds a credential",
    references: ["nist:4.1.4", "nsa:secrets", "owasp:K08", "cis:5.4.1", "book:workload.secrets"],
    tags: ["secrets"],
    level: None,
    scope: Object,
    kinds: &["ConfigMap"],
    options: &[],
}

impl Rule for CredentialsInConfigMap {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "ConfigMap" || object.group() != "" {
            return;
        }
        let Some(data) = object.pointer("/data").and_then(Value::as_object) else {
            return;
        };
        for (key, value) in data {
            let Some(value) = value.as_str() else {
                continue;
            };
            let Some(what) = super::classify(key, value) else {
                continue;
            };
            cx.report(
                format!("/data/{}", escape_segment(key)),
                format!("key {key} holds {what} ({})", describe_value(value)),
            )
            .fix(format!(
                "move {key} into a Secret and mount it as a file; rotate it"
            ))
            .property("key", key.as_str());
        }
    }
}
