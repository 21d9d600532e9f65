//! Alerts raised by the detector.

use serde::Serialize;

use crate::rules::Severity;

/// The object an alert is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertObject {
    /// Resource (plural), e.g. `pods`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub resource: String,
    /// Namespace, empty for cluster-scoped objects.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Object name, when the request names one.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Subresource, e.g. `exec`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    /// API group, empty for the core group.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_group: String,
}

impl AlertObject {
    /// `resource/namespace/name[/subresource]`, leaving out empty parts.
    pub fn display(&self) -> String {
        let mut parts: Vec<&str> = Vec::with_capacity(4);
        for p in [
            &self.resource,
            &self.namespace,
            &self.name,
            &self.subresource,
        ] {
            if !p.is_empty() {
                parts.push(p);
            }
        }
        parts.join("/")
    }
}

/// One detection.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// Event time (the stage timestamp, RFC 3339).
    pub time: String,
    /// Rule id, e.g. `DET001`.
    pub rule_id: String,
    /// Rule name, e.g. `pod-exec-attach`.
    pub rule_name: String,
    /// Severity.
    pub severity: Severity,
    /// Rendered output message.
    pub message: String,
    /// The authenticated user.
    pub user: String,
    /// The user's groups.
    pub groups: Vec<String>,
    /// The impersonated user, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<String>,
    /// Source IPs, client first.
    #[serde(rename = "sourceIPs")]
    pub source_ips: Vec<String>,
    /// Verb.
    pub verb: String,
    /// Target object.
    pub object: AlertObject,
    /// HTTP status code, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// MITRE ATT&CK technique ids.
    pub mitre: Vec<String>,
    /// Audit id of the (last) event that raised the alert.
    #[serde(rename = "auditID")]
    pub audit_id: String,
    /// For threshold rules: how many events were counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

impl Alert {
    /// The alert as one line of JSON (no trailing newline).
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
