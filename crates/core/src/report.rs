//! The result of an analysis, as renderers see it.

use crate::config::{Exception, Mode};
use crate::finding::Severity;
use crate::object::{ObjectRef, SourceLoc};
use crate::rule::{PssLevel, PssVersion, RuleMeta};
use serde::Serialize;
use std::collections::BTreeMap;

/// How a finding was suppressed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Suppression {
    /// By an exception of the configuration.
    Exception {
        /// Position in the `exceptions` list.
        index: usize,
        /// Its reason.
        reason: String,
        /// Its owner.
        #[serde(skip_serializing_if = "Option::is_none")]
        owner: Option<String>,
        /// Its ticket.
        #[serde(skip_serializing_if = "Option::is_none")]
        ticket: Option<String>,
        /// Its last day.
        #[serde(skip_serializing_if = "Option::is_none")]
        expires: Option<String>,
    },
    /// By the object's `palisade.dev/ignore` annotation (only when the configuration allows it).
    Annotation {
        /// The annotation's `palisade.dev/ignore-reason`, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// A finding with everything a renderer needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportFinding {
    /// Rule id.
    pub rule_id: &'static str,
    /// Rule name.
    pub rule_name: &'static str,
    /// Effective severity (after configuration).
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The object (shared by the findings of one object).
    pub object: std::sync::Arc<ObjectRef>,
    /// Where: the file and line of the offending field (absent for cluster objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLoc>,
    /// JSON pointer of the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<std::borrow::Cow<'static, str>>,
    /// Admission mode this finding would have.
    pub mode: Mode,
    /// Extra facts.
    #[serde(skip_serializing_if = "crate::finding::Properties::is_empty")]
    pub properties: crate::finding::Properties,
    /// Present when the finding is suppressed (boxed: most findings are not, and a large
    /// report holds hundreds of thousands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Box<Suppression>>,
}

/// A problem with the input: a file or document that could not be read or parsed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputIssue {
    /// The file.
    pub file: String,
    /// 1-based line, 0 when it concerns the whole file.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
    /// What is wrong, and what to do.
    pub message: String,
}

impl std::fmt::Display for InputIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line > 0 && self.column > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else if self.line > 0 {
            // Where the column is not known, none is printed (not `:0`).
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

/// An exception whose expiry date has passed: it no longer applies.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpiredException {
    /// The exception.
    #[serde(flatten)]
    pub exception: Exception,
    /// How many findings it would have suppressed (they are reported).
    pub findings: usize,
}

/// Counts of the input.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputStats {
    /// Files read.
    pub files: usize,
    /// YAML/JSON documents read.
    pub documents: usize,
    /// Kubernetes objects scanned.
    pub objects: usize,
    /// Documents skipped because they are not Kubernetes objects (no apiVersion/kind).
    pub skipped_documents: usize,
    /// Files skipped because they are templates (Helm / Go template syntax).
    pub template_files: usize,
    /// Objects read from a cluster or snapshot that are reported through their owner (Pods
    /// of a ReplicaSet, ReplicaSets of a Deployment...), not on their own.
    #[serde(skip_serializing_if = "is_zero")]
    pub owned_folded: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Counts of the audit events `palisade detect` read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventStats {
    /// Audit events evaluated (`EventList` items count individually).
    pub events: u64,
    /// Alerts raised (before the policy: suppressed ones included).
    pub alerts: u64,
    /// Lines that were not JSON.
    pub bad_lines: u64,
    /// JSON values that were not audit events.
    pub non_events: u64,
    /// Lines and documents over the size limits, skipped.
    pub oversized: u64,
    /// `EventList` items that were not audit events.
    pub bad_items: u64,
}

/// A kind a cluster scan (or the snapshot it reads) could not read: 403, timeout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadableKind {
    /// The kind (`NetworkPolicy`); empty when only the resource is known.
    pub kind: String,
    /// The resource (`networkpolicies.networking.k8s.io`).
    pub resource: String,
    /// Why (`HTTP 403: ...`).
    pub reason: String,
}

/// A selected rule that did not run, and why: it reports on the whole inventory (often on
/// something *missing* from it) and a kind it reads could not be read, so any answer it
/// gave could be wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRule {
    /// The rule id.
    pub rule_id: &'static str,
    /// The rule name.
    pub rule_name: &'static str,
    /// The kinds it needs that could not be read.
    pub unreadable_kinds: Vec<String>,
    /// A sentence for people.
    pub reason: String,
}

/// Counts for the summary.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Active findings by severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Active findings.
    pub findings: usize,
    /// Findings suppressed by exceptions.
    pub suppressed_by_exception: usize,
    /// Findings suppressed by annotations.
    pub suppressed_by_annotation: usize,
    /// Expired exceptions.
    pub expired_exceptions: usize,
    /// Objects with at least one active finding.
    pub objects_with_findings: usize,
}

/// A workload that the previewed Pod Security level would reject.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutWorkload {
    /// The workload (or Pod).
    pub object: ObjectRef,
    /// Where it is written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLoc>,
    /// The upstream checks that fail, in upstream order.
    pub checks: Vec<String>,
    /// Pod Security Admission's messages for them.
    pub messages: Vec<String>,
    /// Whether the namespace's current enforce level already rejects it.
    pub rejected_today: bool,
}

/// One namespace in the audit → enforce rollout preview.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceRollout {
    /// The namespace.
    pub namespace: String,
    /// Whether a Namespace object for it was scanned (its labels are known).
    pub declared: bool,
    /// `pod-security.kubernetes.io/enforce` (and `-version`), e.g. `baseline@v1.25`;
    /// absent means privileged (no enforcement).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enforce: Option<String>,
    /// The `audit` label, as for `enforce`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<String>,
    /// The `warn` label, as for `enforce`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn: Option<String>,
    /// Pods and workloads in the namespace.
    pub workloads: usize,
    /// Those the previewed level would reject.
    pub rejected: Vec<RolloutWorkload>,
}

/// The answer to "what would be rejected if enforce were raised to LEVEL?".
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutPreview {
    /// The previewed level and version, e.g. `restricted@latest`.
    pub target: String,
    /// Every namespace with a Namespace object or a workload.
    pub namespaces: Vec<NamespaceRollout>,
}

type PreviewKey = (Option<String>, &'static str);

/// The answer to "what would admission reject if this rule, in this namespace, moved to
/// MODE?": per (namespace, rule), the objects with an active finding today.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModePreview {
    /// The previewed mode.
    pub mode: Mode,
    /// One entry per namespace and rule with active findings, by namespace then rule.
    pub entries: Vec<ModePreviewEntry>,
}

/// One (namespace, rule) of a [`ModePreview`].
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModePreviewEntry {
    /// The namespace (`None`: cluster-scoped objects).
    pub namespace: Option<String>,
    /// The rule.
    pub rule_id: &'static str,
    /// Its mode there today (the most specific setting).
    pub current: Mode,
    /// The objects it would reject (or rejects already, when `current` is the mode
    /// previewed).
    pub objects: Vec<ObjectRef>,
    /// What admission needs to evaluate the rule (a rule about something missing warns and
    /// never denies there; a fact about the whole cluster is not evaluated there).
    pub admission: Option<crate::rule::AdmissionNeeds>,
}

impl ModePreview {
    /// The preview of `mode` from a report's active findings; `needs` says what admission
    /// needs for a rule id.
    pub fn of(
        findings: &[ReportFinding],
        mode: Mode,
        needs: impl Fn(&str) -> Option<crate::rule::AdmissionNeeds>,
    ) -> ModePreview {
        let mut by: BTreeMap<PreviewKey, (Mode, Vec<ObjectRef>)> = BTreeMap::new();
        for f in findings {
            let e = by
                .entry((f.object.namespace.clone(), f.rule_id))
                .or_insert((f.mode, Vec::new()));
            if !e.1.contains(&f.object) {
                e.1.push(ObjectRef::clone(&f.object));
            }
        }
        ModePreview {
            mode,
            entries: by
                .into_iter()
                .map(
                    |((namespace, rule_id), (current, objects))| ModePreviewEntry {
                        namespace,
                        rule_id,
                        current,
                        objects,
                        admission: needs(rule_id),
                    },
                )
                .collect(),
        }
    }
}

/// Everything one analysis produced.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Active findings, sorted by file, line, rule.
    pub findings: Vec<ReportFinding>,
    /// Suppressed findings (counted, listed, never hidden).
    pub suppressed: Vec<ReportFinding>,
    /// Exceptions that have expired.
    pub expired_exceptions: Vec<ExpiredException>,
    /// Input errors (malformed documents, unreadable files).
    pub errors: Vec<InputIssue>,
    /// Input warnings (template files, skipped documents worth mentioning).
    pub warnings: Vec<InputIssue>,
    /// Input counts.
    pub stats: InputStats,
    /// Notes on how the input was evaluated, shown with the input summary (e.g. that
    /// manifest files were taken as one cluster by the rules that relate objects).
    pub notes: Vec<String>,
    /// The rules that ran.
    pub rules: Vec<&'static RuleMeta>,
    /// The profile used.
    pub profile: Option<PssLevel>,
    /// The Pod Security Standards version used.
    pub pss_version: Option<PssVersion>,
    /// The rollout preview, when asked for.
    pub rollout: Option<RolloutPreview>,
    /// The mode preview (`--preview-mode`), when asked for.
    pub mode_preview: Option<ModePreview>,
    /// (rule, object) pairs evaluated, per namespace (`None`: cluster-scoped objects), when
    /// asked for: the denominator of PolicyReport summaries.
    pub evaluations: Option<BTreeMap<Option<String>, usize>>,
    /// The per-control compliance summary, when a framework was asked for.
    pub compliance: Option<crate::compliance::ComplianceSummary>,
    /// Host check results (`palisade node`).
    pub node: Option<crate::node::NodeReport>,
    /// Kinds that could not be read (cluster scans and snapshots): the scan is partial.
    pub unreadable: Vec<UnreadableKind>,
    /// Selected rules that did not run because a kind they need could not be read.
    pub skipped_rules: Vec<SkippedRule>,
    /// The audit events read (`palisade detect`): the findings are its alerts.
    pub events: Option<EventStats>,
}

impl Report {
    /// The summary counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for sev in Severity::ALL {
            s.by_severity.insert(sev, 0);
        }
        for f in &self.findings {
            *s.by_severity.entry(f.severity).or_default() += 1;
        }
        s.findings = self.findings.len();
        for f in &self.suppressed {
            match f.suppression.as_deref() {
                Some(crate::report::Suppression::Annotation { .. }) => {
                    s.suppressed_by_annotation += 1
                }
                _ => s.suppressed_by_exception += 1,
            }
        }
        s.expired_exceptions = self.expired_exceptions.len();
        let mut objs: Vec<&ObjectRef> = self.findings.iter().map(|f| &*f.object).collect();
        objs.sort();
        objs.dedup();
        s.objects_with_findings = objs.len();
        s
    }

    /// The highest severity among active findings.
    pub fn max_severity(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

#[cfg(test)]
mod tests {
    use super::InputIssue;

    #[test]
    fn an_input_issue_names_the_place_it_knows() {
        let issue = |line, column| InputIssue {
            file: "a.yaml".into(),
            line,
            column,
            message: "bad".into(),
        };
        assert_eq!(issue(3, 7).to_string(), "a.yaml:3:7: bad");
        assert_eq!(issue(3, 0).to_string(), "a.yaml:3: bad");
        assert_eq!(issue(0, 0).to_string(), "a.yaml: bad");
    }
}
