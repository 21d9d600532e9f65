use crate::RenderOptions;
use palisade_core::report::{ExpiredException, InputStats, RolloutPreview, Summary};
use palisade_core::{InputIssue, PssLevel, PssVersion, Report, ReportFinding, Severity};
use serde::Serialize;

/// The version of the JSON report schema. Bumped only on incompatible changes; fields may be
/// added without a bump.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct RuleSummary {
    id: &'static str,
    name: &'static str,
    severity: Severity,
    summary: &'static str,
    references: &'static [&'static str],
    tags: &'static [&'static str],
}

/// The input summary: the counts, and the notes on how the input was evaluated.
#[derive(Serialize)]
struct Input<'a> {
    #[serde(flatten)]
    stats: &'a InputStats,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

/// The document, serialized straight from the report (no intermediate JSON tree: a large
/// scan's report is written with little more memory than the report itself).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    schema_version: u32,
    tool: Tool<'a>,
    profile: Option<PssLevel>,
    pss_version: Option<PssVersion>,
    summary: Summary,
    input: Input<'a>,
    findings: &'a [ReportFinding],
    suppressed: &'a [ReportFinding],
    expired_exceptions: &'a [ExpiredException],
    errors: &'a [InputIssue],
    warnings: &'a [InputIssue],
    /// Kinds that could not be read: the scan is partial.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    unreadable: &'a [palisade_core::UnreadableKind],
    /// Selected rules that did not run, with the reason.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    skipped_rules: &'a [palisade_core::SkippedRule],
    #[serde(skip_serializing_if = "Option::is_none")]
    rollout: Option<&'a RolloutPreview>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mode_preview: Option<&'a palisade_core::ModePreview>,
    rules: Vec<RuleSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compliance: Option<&'a palisade_core::compliance::ComplianceSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'a palisade_core::node::NodeReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    events: Option<&'a palisade_core::EventStats>,
}

pub(crate) fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = Vec::new();
    // Writing to memory fails only if the report cannot be serialised, which its types rule out.
    let _ = write(report, opts, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Serialises the report straight to `out` (no document string in memory: a large scan's
/// findings go out as they are serialised), with a final newline.
pub(crate) fn write(
    report: &Report,
    opts: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let doc = JsonReport {
        schema_version: SCHEMA_VERSION,
        tool: Tool {
            name: "palisade",
            version: &opts.tool_version,
        },
        profile: report.profile,
        pss_version: report.pss_version,
        summary: report.summary(),
        input: Input {
            stats: &report.stats,
            notes: &report.notes,
        },
        findings: &report.findings,
        suppressed: &report.suppressed,
        expired_exceptions: &report.expired_exceptions,
        errors: &report.errors,
        warnings: &report.warnings,
        unreadable: &report.unreadable,
        skipped_rules: &report.skipped_rules,
        rollout: report.rollout.as_ref(),
        mode_preview: report.mode_preview.as_ref(),
        rules: report
            .rules
            .iter()
            .map(|r| RuleSummary {
                id: r.id,
                name: r.name,
                severity: r.severity,
                summary: r.summary,
                references: r.references,
                tags: r.tags,
            })
            .collect(),
        compliance: report.compliance.as_ref(),
        node: report.node.as_ref(),
        events: report.events.as_ref(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
