//! Alerts raised by the detector.

use serde::Serialize;

use crate::rules::Severity;

/// The object an alert is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
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
    /// For threshold rules: how many events were counted. For the summary of a group of
    /// alerts: how many alerts the summary stands for (those not reported one by one), so
    /// that adding up `count` (1 when absent) over all alerts never counts one twice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Set on the summary of a group of repeated alerts (same rule and subject within a
    /// window): see [`AlertGroup`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<AlertGroup>,
    /// Audit ids of other requests folded into this alert: kubectl's failed WebSocket
    /// attempt of the same exec, attach or port-forward command, which it retried over SPDY.
    #[serde(rename = "relatedAuditIDs", skip_serializing_if = "Vec::is_empty")]
    pub related_audit_ids: Vec<String>,
}

/// What the summary of a group of repeated alerts covers. The alert carrying it shows the
/// last alert of the group (time, audit id, object, user); `count` is `total - reported`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertGroup {
    /// Alerts of the group, the ones already reported included.
    pub total: u32,
    /// Alerts of the group already reported one by one: 1 when the first alert was
    /// reported at once (streaming), 0 when the whole group is reported by this summary.
    pub reported: u32,
    /// Time of the first alert of the group.
    pub first_time: String,
    /// Time of the last alert of the group (also the summary's `time`).
    pub last_time: String,
    /// Audit id of the first alert of the group.
    #[serde(rename = "firstAuditID")]
    pub first_audit_id: String,
    /// The grouping window, e.g. `60s`.
    pub window: String,
    /// How many distinct objects the alerts were about (counted up to 1,000).
    pub distinct_objects: u32,
    /// The first distinct objects (a sample, in order of appearance).
    pub sample_objects: Vec<AlertObject>,
}

impl Alert {
    /// The alert as one line of JSON (no trailing newline).
    pub fn to_json_line(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string(self)
    }
}
