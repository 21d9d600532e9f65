//! Renders a [`Report`] for people and for machines: a table for terminals, JSON with a
//! documented stable schema, SARIF 2.1.0 for code-scanning dashboards, JUnit XML for CI test
//! reports, Markdown for pull-request comments, and a self-contained HTML page with charts
//! and a filterable findings table.
//!
//! Renderers only read the report: they cannot see objects, so they cannot print a Secret's
//! value (the model redacts Secret values when objects are built, and rules describe
//! credentials without quoting them).

mod html;
mod json;
mod junit;
mod markdown;
mod node;
pub mod policyreport;
mod sarif;
mod table;

use palisade_core::Report;
use std::str::FromStr;

pub use json::SCHEMA_VERSION;
pub use sarif::{ArtifactFix, Replacement};

/// SARIF 2.1.0 with `fixes` on the findings that have one (`fixes` is keyed by the finding's
/// index in `report.findings`).
pub fn render_sarif_with_fixes(
    report: &Report,
    opts: &RenderOptions,
    fixes: &std::collections::HashMap<usize, ArtifactFix>,
) -> String {
    sarif::render_with_fixes(report, opts, fixes)
}

/// Writes what [`render_sarif_with_fixes`] renders to `out`, result by result (the document
/// is never held in memory whole).
pub fn write_sarif_with_fixes(
    report: &Report,
    opts: &RenderOptions,
    fixes: &std::collections::HashMap<usize, ArtifactFix>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    sarif::write_with_fixes(report, opts, fixes, out)
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A table for people, grouped by object.
    Table,
    /// JSON (see `docs/json-report.md`).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML.
    Junit,
    /// Markdown, for pull-request comments.
    Markdown,
    /// `wgpolicyk8s.io/v1alpha2` PolicyReports (one per namespace) and a ClusterPolicyReport.
    PolicyReport,
    /// One self-contained HTML page: summary charts and a filterable findings table.
    Html,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "table" => Format::Table,
            "json" => Format::Json,
            "sarif" => Format::Sarif,
            "junit" => Format::Junit,
            "markdown" | "md" => Format::Markdown,
            "policyreport" => Format::PolicyReport,
            "html" => Format::Html,
            _ => {
                return Err(format!(
                    "unknown format `{s}` (expected one of: table, json, sarif, junit, markdown, policyreport, html)"
                ))
            }
        })
    }
}

/// Rendering settings.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Use ANSI colours (table only).
    pub color: bool,
    /// The tool's version, written into machine formats.
    pub tool_version: String,
}

/// Renders a report.
pub fn render(report: &Report, format: Format, opts: &RenderOptions) -> String {
    if let Some(n) = &report.node {
        match format {
            Format::Table => return node::table(report, n, opts),
            Format::Junit => return node::junit(n),
            Format::Markdown => return node::markdown(report, n),
            // One writer: host checks' FAILs and WARNs are findings of the report.
            // The HTML page shows the host checks and their findings.
            Format::Json | Format::Sarif | Format::PolicyReport | Format::Html => {}
        }
    }
    match format {
        Format::Table => table::render(report, opts),
        Format::Json => json::render(report, opts),
        Format::Sarif => sarif::render(report, opts),
        Format::Junit => junit::render(report, opts),
        Format::Markdown => markdown::render(report, opts),
        Format::PolicyReport => policyreport::render(report, opts),
        Format::Html => html::render(report, opts),
    }
}

/// Writes the report in `format` to `out`: the bytes [`render`] gives. The JSON and SARIF
/// reports are serialised straight to the writer, finding by finding, and PolicyReports
/// document by document; the other formats are rendered ([`render`]), then written. `out`
/// is written in small pieces: give it a buffer.
pub fn write(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => json::write(report, opts, out),
        Format::Sarif => sarif::write_with_fixes(report, opts, &Default::default(), out),
        Format::PolicyReport => policyreport::write(report, opts, out),
        _ => out.write_all(render(report, format, opts).as_bytes()),
    }
}

/// A location for people: `file:line`, or the file alone when the finding concerns the
/// whole file (line 0: a host file of `palisade node`).
pub(crate) fn loc_text(l: &palisade_core::SourceLoc) -> String {
    if l.line > 0 {
        format!("{}:{}", l.file, l.line)
    } else {
        l.file.to_string()
    }
}

/// How a suppression reads for people: `suppressed by exception #0: reason (owner o,
/// expires 2027-01-31)`.
pub(crate) fn suppression_text(s: &palisade_core::report::Suppression) -> String {
    match s {
        palisade_core::report::Suppression::Exception {
            index,
            reason,
            owner,
            expires,
            ..
        } => format!(
            "suppressed by exception #{index}: {reason}{}{}",
            owner
                .as_ref()
                .map(|o| format!(" (owner {o})"))
                .unwrap_or_default(),
            expires
                .as_ref()
                .map(|e| format!(", expires {e}"))
                .unwrap_or_default()
        ),
        palisade_core::report::Suppression::Annotation { reason } => format!(
            "suppressed by annotation palisade.dev/ignore{}",
            reason
                .as_ref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
    }
}

/// A stable fingerprint of a finding: rule, object and field, not the message or the line, so
/// it survives reformatting of the file.
pub(crate) fn fingerprint(f: &palisade_core::ReportFinding) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let ns = f.object.namespace.as_deref().unwrap_or("");
    // A detection alert is one event: its audit ID tells two alerts on one object apart.
    let event = f.properties.get("auditID").map_or("", String::as_str);
    for part in [
        f.rule_id,
        &f.object.kind,
        ns,
        &f.object.name,
        f.path.as_deref().unwrap_or(""),
        event,
    ] {
        for b in part.as_bytes().iter().chain(b"\x00") {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// The heading of a mode preview.
fn mode_preview_title(m: &palisade_core::ModePreview) -> String {
    let mode = m.mode.to_string();
    let would: usize = m
        .entries
        .iter()
        .filter(|e| e.current != m.mode && counts(e, m.mode))
        .map(|e| e.objects.len())
        .sum();
    format!(
        "what admission would {} if these rules moved to {mode} in these namespaces ({would} object finding{} not in {mode} today)",
        if m.mode == palisade_core::Mode::Deny { "reject" } else { "report" },
        if would == 1 { "" } else { "s" },
    )
}

/// Whether admission acts on the entry's findings in `mode`: not a rule that only warns at
/// admission when previewing deny, nor one admission does not evaluate.
fn counts(e: &palisade_core::ModePreviewEntry, mode: palisade_core::Mode) -> bool {
    match e.admission {
        Some(palisade_core::AdmissionNeeds::ScanOnly) => false,
        Some(palisade_core::AdmissionNeeds::ClusterAbsence) => mode != palisade_core::Mode::Deny,
        _ => true,
    }
}

/// One line per (namespace, rule) of a mode preview.
fn mode_preview_lines(m: &palisade_core::ModePreview) -> Vec<String> {
    if m.entries.is_empty() {
        return vec!["nothing: no active finding".to_owned()];
    }
    m.entries
        .iter()
        .map(|e| {
            let names: Vec<String> = e
                .objects
                .iter()
                .take(5)
                .map(|o| format!("{} {}", o.kind, o.name))
                .collect();
            let more = e.objects.len().saturating_sub(names.len());
            format!(
                "{} {}: {} object{} ({}{}){}",
                e.namespace.as_deref().unwrap_or("(cluster-scoped)"),
                e.rule_id,
                e.objects.len(),
                if e.objects.len() == 1 { "" } else { "s" },
                names.join(", "),
                if more > 0 {
                    format!(", {more} more")
                } else {
                    String::new()
                },
                if e.current == m.mode {
                    format!("; already {} today", e.current)
                } else {
                    format!("; {} today", e.current)
                },
            ) + match e.admission {
                Some(palisade_core::AdmissionNeeds::ClusterAbsence)
                    if m.mode == palisade_core::Mode::Deny =>
                {
                    "; at admission it warns, never denies (it reports something missing)"
                }
                Some(palisade_core::AdmissionNeeds::Cluster) => {
                    "; at admission with --cluster-cache"
                }
                Some(palisade_core::AdmissionNeeds::ScanOnly) => "; not evaluated at admission",
                _ => "",
            }
        })
        .collect()
}
