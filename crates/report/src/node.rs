//! Host check results (`palisade node`) as people read them: grouped by CIS section with
//! PASS / FAIL / WARN / MANUAL / SKIP counts, in the table, Markdown and JUnit. JSON and SARIF
//! are the report's writers: a FAIL or WARN is a finding there, with the node's counts as
//! properties of the run.

use crate::RenderOptions;
use anstyle::{AnsiColor, Style};
use palisade_core::node::{CheckStatus, NodeReport, StatusCounts};
use palisade_core::{CheckResult, Report};
use quick_xml::escape::escape;
use std::fmt::Write;

fn status_style(s: CheckStatus) -> Style {
    match s {
        CheckStatus::Pass => Style::new().fg_color(Some(AnsiColor::Green.into())),
        CheckStatus::Fail => Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        CheckStatus::Warn => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        CheckStatus::Manual => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        CheckStatus::Skip => Style::new().dimmed(),
    }
}

fn counts_text(c: &StatusCounts) -> String {
    let mut text = format!(
        "{} PASS, {} FAIL, {} WARN, {} MANUAL, {} SKIP",
        c.pass, c.fail, c.warn, c.manual, c.skip
    );
    if c.suppressed > 0 {
        text.push_str(&format!(", {} SUPPRESSED", c.suppressed));
    }
    text
}

/// The table: results by section, each suppression under its result, then the expired
/// exceptions and the summary.
pub(crate) fn table(report: &Report, n: &NodeReport, opts: &RenderOptions) -> String {
    let p = crate::table::Painter(opts.color);
    let mut out = String::new();
    let _ = writeln!(out, "Benchmark {} on root {}", n.benchmark, n.root);
    if !n.host.is_empty() && n.host != n.root {
        let _ = writeln!(out, "Node {}", n.host);
    }
    if n.components.is_empty() {
        let _ = writeln!(out, "No Kubernetes component found.");
    }
    for c in &n.components {
        let _ = writeln!(
            out,
            "  {}{}: {}",
            c.name,
            c.version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
            c.sources.join(", ")
        );
    }
    for s in &n.sections {
        let _ = writeln!(
            out,
            "\n{}",
            p.paint(
                Style::new().bold(),
                &format!("[{}] {}  ({})", s.id, s.title, counts_text(&s.counts))
            )
        );
        for r in n.section_results(&s.id) {
            let st = format!("[{}]", r.status);
            let _ = writeln!(
                out,
                "{} {} {}",
                p.paint(status_style(r.status), &format!("{st:<8}")),
                r.id,
                r.title
            );
            if r.status != CheckStatus::Pass && r.status != CheckStatus::Skip {
                let _ = writeln!(out, "         observed: {}", r.observed);
                if let Some(e) = &r.expected {
                    let _ = writeln!(out, "         expected: {e}");
                }
                if matches!(r.status, CheckStatus::Fail | CheckStatus::Warn) {
                    if let Some(fix) = &r.remediation {
                        let _ = writeln!(out, "         fix: {fix}");
                    }
                }
                if let Some(s) = &r.suppression {
                    let _ = writeln!(out, "         {}", crate::suppression_text(s));
                }
            }
        }
    }
    if !report.expired_exceptions.is_empty() {
        out.push('\n');
        crate::table::expired_exceptions(&mut out, &p, report);
    }
    let _ = writeln!(out, "\n== Summary: {}", counts_text(&n.totals));
    out
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn status_text(r: &CheckResult) -> String {
    match r.suppression {
        Some(_) => format!("{} (suppressed)", r.status),
        None => r.status.to_string(),
    }
}

/// Markdown.
pub(crate) fn markdown(report: &Report, n: &NodeReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Palisade node checks ({})\n", n.benchmark);
    let _ = writeln!(out, "**{}**\n", counts_text(&n.totals));
    let _ = writeln!(
        out,
        "| section | PASS | FAIL | WARN | MANUAL | SKIP |\n|---|---|---|---|---|---|"
    );
    for s in &n.sections {
        let c = &s.counts;
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} |",
            s.id,
            cell(&s.title),
            c.pass,
            c.fail,
            c.warn,
            c.manual,
            c.skip
        );
    }
    for s in &n.sections {
        let _ = writeln!(
            out,
            "\n### {} {} ({})\n",
            s.id,
            cell(&s.title),
            counts_text(&s.counts)
        );
        let _ = writeln!(out, "| status | id | check | observed |\n|---|---|---|---|");
        for r in n.section_results(&s.id) {
            let observed = match &r.suppression {
                Some(s) => format!("{} ({})", r.observed, crate::suppression_text(s)),
                None => r.observed.clone(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                status_text(r),
                r.id,
                cell(&r.title),
                cell(&observed)
            );
        }
    }
    if !report.expired_exceptions.is_empty() {
        let _ = writeln!(out, "\n### Expired exceptions (no longer applied)\n");
        for e in &report.expired_exceptions {
            let _ = writeln!(
                out,
                "- #{} `{}` expired {}: {} ({} result(s) reported again)",
                e.exception.index,
                e.exception.rules.join(", "),
                e.exception
                    .expires
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                cell(&e.exception.reason),
                e.findings
            );
        }
    }
    out
}

/// JUnit: one test suite per section, one test case per check; FAIL is a failure, WARN a
/// failure of type `warning`, MANUAL and SKIP are skipped.
pub(crate) fn junit(n: &NodeReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"palisade node {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
        n.benchmark,
        n.results.len(),
        n.totals.fail + n.totals.warn,
        n.totals.manual + n.totals.skip + n.totals.suppressed
    );
    for s in &n.sections {
        let c = &s.counts;
        let _ = writeln!(
            out,
            "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">",
            escape(s.id.as_str()),
            escape(s.title.as_str()),
            c.pass + c.fail + c.warn + c.manual + c.skip + c.suppressed,
            c.fail + c.warn,
            c.manual + c.skip + c.suppressed
        );
        for r in n.section_results(&s.id) {
            let name = format!("{} {}", r.id, r.title);
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(s.id.as_str()),
                escape(name.as_str())
            );
            if let Some(s) = &r.suppression {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{} {}: {}\"/>\n    </testcase>",
                    r.status,
                    escape(crate::suppression_text(s).as_str()),
                    escape(r.observed.as_str())
                );
                continue;
            }
            match r.status {
                CheckStatus::Pass => out.push_str("/>\n"),
                CheckStatus::Fail | CheckStatus::Warn => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                        escape(r.observed.as_str()),
                        if r.status == CheckStatus::Fail { "fail" } else { "warning" },
                        escape(r.remediation.as_deref().unwrap_or(""))
                    );
                }
                CheckStatus::Manual | CheckStatus::Skip => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}: {}\"/>\n    </testcase>",
                        r.status,
                        escape(r.observed.as_str())
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
