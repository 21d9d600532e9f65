use crate::RenderOptions;
use palisade_core::{Report, ReportFinding, Severity};
use std::fmt::Write;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn rows(out: &mut String, findings: &[ReportFinding]) {
    out.push_str("| Severity | Rule | Object | Location | Finding |\n|---|---|---|---|---|\n");
    for f in findings {
        let loc = f
            .location
            .as_ref()
            .map(|l| format!("`{}`", crate::loc_text(l)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "| {} | `{}` {} | {} | {} | {}{} |",
            f.severity,
            f.rule_id,
            f.rule_name,
            cell(&f.object.to_string()),
            cell(&loc),
            cell(&f.message),
            f.fix
                .as_ref()
                .map(|x| format!("<br>fix: {}", cell(x)))
                .unwrap_or_default()
        );
    }
}

pub(crate) fn render(report: &Report, _opts: &RenderOptions) -> String {
    let s = report.summary();
    let mut out = String::new();
    let icon = if s.findings == 0 && report.errors.is_empty() {
        "✅"
    } else {
        "❌"
    };
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|sev| format!("{} {sev}", s.by_severity.get(sev).copied().unwrap_or(0)))
        .collect();
    let _ = writeln!(
        out,
        "## {icon} Palisade: {} finding{} ({})\n",
        s.findings,
        if s.findings == 1 { "" } else { "s" },
        counts.join(", ")
    );
    let _ = writeln!(
        out,
        "Scanned {} objects from {} files with {} rules. Suppressed: {} by exception, {} by annotation. Expired exceptions: {}.\n",
        report.stats.objects, report.stats.files, report.rules.len(), s.suppressed_by_exception, s.suppressed_by_annotation, s.expired_exceptions
    );
    for n in &report.notes {
        let _ = writeln!(out, "> **Note:** {}\n", cell(n));
    }
    if !report.findings.is_empty() {
        rows(&mut out, &report.findings);
        out.push('\n');
    }
    if !report.suppressed.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Suppressed findings ({})</summary>\n",
            report.suppressed.len()
        );
        rows(&mut out, &report.suppressed);
        out.push_str("\n</details>\n\n");
    }
    if !report.expired_exceptions.is_empty() {
        out.push_str("### Expired exceptions\n\n");
        for e in &report.expired_exceptions {
            let ex = &e.exception;
            let _ = writeln!(
                out,
                "- #{} `{}` expired {}{}: {} ({} finding(s) reported again)",
                ex.index,
                ex.rules.join(", "),
                ex.expires.map(|d| d.to_string()).unwrap_or_default(),
                ex.owner
                    .as_ref()
                    .map(|o| format!(", owner {o}"))
                    .unwrap_or_default(),
                cell(&ex.reason),
                e.findings
            );
        }
        out.push('\n');
    }
    if let Some(c) = &report.compliance {
        let _ = writeln!(
            out,
            "### Compliance: {} ({}): {} passed, {} failed, {} not evaluated\n\n| control | status | findings | rules |\n|---|---|---|---|",
            c.framework.title(),
            c.framework,
            c.passed,
            c.failed,
            c.not_evaluated
        );
        for x in &c.controls {
            let _ = writeln!(
                out,
                "| {}:{} | {} | {} | {} |",
                c.framework,
                x.control,
                match x.status {
                    palisade_core::compliance::ControlStatus::Pass => "pass",
                    palisade_core::compliance::ControlStatus::Fail => "**fail**",
                    palisade_core::compliance::ControlStatus::NotEvaluated => "not evaluated",
                },
                x.findings,
                x.rules.join(", ")
            );
        }
        out.push('\n');
    }
    if let Some(m) = &report.mode_preview {
        let _ = writeln!(out, "### Mode preview: {}\n", crate::mode_preview_title(m));
        for line in crate::mode_preview_lines(m) {
            let _ = writeln!(out, "- {line}");
        }
        out.push('\n');
    }
    if let Some(r) = &report.rollout {
        let _ = writeln!(
            out,
            "### Pod Security rollout preview: enforce={}\n",
            r.target
        );
        out.push_str(
            "| Namespace | enforce | audit | warn | would be rejected |\n|---|---|---|---|---|\n",
        );
        for ns in &r.namespaces {
            let rejected: Vec<String> = ns
                .rejected
                .iter()
                .map(|w| format!("{} ({})", w.object, w.checks.join(", ")))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} of {}{}{} |",
                ns.namespace,
                ns.enforce.as_deref().unwrap_or("-"),
                ns.audit.as_deref().unwrap_or("-"),
                ns.warn.as_deref().unwrap_or("-"),
                ns.rejected.len(),
                ns.workloads,
                if rejected.is_empty() { "" } else { ": " },
                cell(&rejected.join("; "))
            );
        }
        out.push('\n');
    }
    if !report.skipped_rules.is_empty() {
        let _ = writeln!(out, "### Not evaluated\n");
        for r in &report.skipped_rules {
            let _ = writeln!(
                out,
                "- **{}** {}: {}",
                r.rule_id,
                r.rule_name,
                cell(&r.reason)
            );
        }
        out.push('\n');
    }
    for (title, issues) in [
        ("Input errors", &report.errors),
        ("Input warnings", &report.warnings),
    ] {
        if !issues.is_empty() {
            let _ = writeln!(out, "### {title}\n");
            for i in issues.iter() {
                let _ = writeln!(out, "- `{}`", cell(&i.to_string()));
            }
            out.push('\n');
        }
    }
    out
}
