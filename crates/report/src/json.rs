use crate::RenderOptions;
use palisade_core::Report;
use serde_json::json;

/// The version of the JSON report schema. Bumped only on incompatible changes; fields may be
/// added without a bump.
pub const SCHEMA_VERSION: u32 = 1;

pub(crate) fn value(report: &Report, opts: &RenderOptions) -> serde_json::Value {
    let mut v = base(report, opts);
    if let Some(n) = &report.node {
        v["node"] = json!(n);
    }
    v
}

fn base(report: &Report, opts: &RenderOptions) -> serde_json::Value {
    json!({
        "schemaVersion": SCHEMA_VERSION,
        "tool": { "name": "palisade", "version": opts.tool_version },
        "profile": report.profile,
        "pssVersion": report.pss_version,
        "summary": report.summary(),
        "input": report.stats,
        "findings": report.findings,
        "suppressed": report.suppressed,
        "expiredExceptions": report.expired_exceptions,
        "errors": report.errors,
        "warnings": report.warnings,
        "rollout": report.rollout,
        "rules": report.rules.iter().map(|r| json!({
            "id": r.id,
            "name": r.name,
            "severity": r.severity,
            "summary": r.summary,
            "references": r.references,
            "tags": r.tags,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut s = serde_json::to_string_pretty(&value(report, opts)).unwrap_or_default();
    s.push('\n');
    s
}
