//! The `wgpolicyk8s.io/v1alpha2` report types. They are the single source of both what
//! Palisade writes (the documents are built as these types and serialised) and the OpenAPI
//! schema of the CRDs `palisade admission install` adds (derived from them, see
//! [`super::crd`]). Their doc comments are the schema's descriptions.
//!
//! They cover the whole v1alpha2 shape, also the fields Palisade does not fill (`scope`,
//! `scopeSelector`, `resourceSelector`, `timestamp`), so that reports other tools write into
//! the same CRDs keep every field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// PolicyReport (namespaced) or ClusterPolicyReport (cluster-scoped): the results of policy
/// checks on the objects of one scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReport {
    /// APIVersion defines the versioned schema of this representation of an object.
    #[serde(default)]
    pub api_version: String,
    /// Kind is a string value representing the REST resource this object represents.
    #[serde(default)]
    pub kind: String,
    /// Standard object metadata.
    #[serde(default)]
    #[schemars(schema_with = "object_metadata")]
    pub metadata: ReportMetadata,
    /// Scope is an optional reference to the report scope (e.g. a Deployment, Namespace, or
    /// Node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<ObjectReference>,
    /// ScopeSelector is an optional selector for multiple scopes (e.g. Pods). Either one of,
    /// or none of, but not both of, Scope or ScopeSelector should be specified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_selector: Option<LabelSelector>,
    /// PolicyReportSummary provides a summary of results.
    #[serde(default)]
    pub summary: Summary,
    /// PolicyReportResult provides result details.
    #[serde(default)]
    pub results: Vec<PolicyReportResult>,
}

/// The metadata Palisade sets on a report. In the CRD schema `metadata` is a plain object,
/// as the API server requires.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportMetadata {
    /// The report's name.
    pub name: String,
    /// Its namespace (none for a ClusterPolicyReport).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// `metadata` in a CRD schema: an object whose fields the API server itself validates.
fn object_metadata(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "object" })
}

/// PolicyReportSummary provides a summary of results.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Summary {
    /// Pass provides the count of policies whose requirements were met.
    pub pass: i64,
    /// Fail provides the count of policies whose requirements were not met.
    pub fail: i64,
    /// Warn provides the count of non-scored policies whose requirements were not met.
    pub warn: i64,
    /// Error provides the count of policies that could not be evaluated.
    pub error: i64,
    /// Skip indicates the count of policies that were not selected for evaluation.
    pub skip: i64,
}

/// PolicyReportResult provides the result for an individual policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyReportResult {
    /// Source is an identifier for the policy engine that manages this report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Policy is the name or identifier of the policy.
    pub policy: String,
    /// Rule is the name or identifier of the rule within the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Category indicates policy category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Severity indicates policy check result criticality.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<ResultSeverity>,
    /// Timestamp indicates the time the result was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Result indicates the outcome of the policy rule execution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<ResultStatus>,
    /// Scored indicates if this result is scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scored: Option<bool>,
    /// Subjects is an optional reference to the checked Kubernetes resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ObjectReference>,
    /// SubjectSelector is an optional label selector for checked Kubernetes resources. Either
    /// a Subject or a SubjectSelector can be specified; if neither is, the result is for the
    /// report's scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_selector: Option<LabelSelector>,
    /// Description is a short user friendly message for the policy rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Properties provides additional information for the policy rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
}

/// The outcome of a policy rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    /// The requirements were met.
    Pass,
    /// The requirements were not met.
    Fail,
    /// A non-scored requirement was not met.
    Warn,
    /// The policy could not be evaluated.
    Error,
    /// The policy was not evaluated (Palisade: the finding is suppressed by an exception).
    Skip,
}

/// The criticality of a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResultSeverity {
    /// Critical.
    Critical,
    /// High.
    High,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// Informational.
    Info,
}

/// A point in time, as seconds and nanoseconds since the Unix epoch (protobuf `Timestamp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Timestamp {
    /// Non-negative fractions of a second at nanosecond resolution, 0 to 999,999,999.
    pub nanos: i32,
    /// Seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
}

/// A reference to a Kubernetes object (`corev1.ObjectReference`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// API version of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// If referring to a piece of an object instead of an entire object, a JSON/Go field
    /// access statement, such as `spec.containers{name}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
    /// Kind of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Namespace of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Specific resourceVersion to which this reference is made, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// UID of the referent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// A label selector (`metav1.LabelSelector`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// matchExpressions is a list of label selector requirements. The requirements are ANDed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
    /// matchLabels is a map of {key,value} pairs; each is a requirement that the label `key`
    /// has the value `value`. The requirements are ANDed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, String>>,
}

/// A label selector requirement: a key, an operator and values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LabelSelectorRequirement {
    /// key is the label key that the selector applies to.
    pub key: String,
    /// operator represents a key's relationship to a set of values: In, NotIn, Exists and
    /// DoesNotExist.
    pub operator: String,
    /// values is an array of string values: non-empty for In and NotIn, empty for Exists and
    /// DoesNotExist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}
