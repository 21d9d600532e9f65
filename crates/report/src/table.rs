use crate::RenderOptions;
use anstyle::{AnsiColor, Style};
use palisade_core::{Report, ReportFinding, Severity};
use std::fmt::Write;

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Critical => Style::new()
            .bold()
            .fg_color(Some(AnsiColor::BrightRed.into())),
        Severity::High => Style::new().fg_color(Some(AnsiColor::Red.into())),
        Severity::Medium => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
        Severity::Low => Style::new().fg_color(Some(AnsiColor::Cyan.into())),
        Severity::Info => Style::new().dimmed(),
    }
}

pub(crate) struct Painter(pub(crate) bool);

impl Painter {
    pub(crate) fn paint(&self, style: Style, text: &str) -> String {
        if self.0 {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
}

fn location(f: &ReportFinding) -> String {
    match &f.location {
        Some(l) => crate::loc_text(l),
        // A detection alert: when it happened.
        None => f
            .path
            .clone()
            .or_else(|| f.properties.get("time").cloned())
            .unwrap_or_default(),
    }
}

fn group(out: &mut String, p: &Painter, findings: &[ReportFinding], suppressed: bool) {
    let mut i = 0;
    while i < findings.len() {
        let obj = &findings[i].object;
        let file = findings[i].location.as_ref().map(|l| l.file.to_string());
        let mut j = i;
        while j < findings.len()
            && findings[j].object == *obj
            && findings[j].location.as_ref().map(|l| l.file.to_string()) == file
        {
            j += 1;
        }
        let _ = writeln!(out, "{}", p.paint(Style::new().bold(), &obj.to_string()));
        let width = findings[i..j]
            .iter()
            .map(|f| f.rule_name.len())
            .max()
            .unwrap_or(0);
        for f in &findings[i..j] {
            let sev = format!("{:<8}", f.severity.as_str().to_uppercase());
            let _ = writeln!(
                out,
                "  {} {} {:<width$}  {}  {}",
                p.paint(severity_style(f.severity), &sev),
                f.rule_id,
                f.rule_name,
                p.paint(Style::new().underline(), &location(f)),
                f.message,
            );
            if let Some(fix) = &f.fix {
                let _ = writeln!(out, "  {:<8} {:>6} {:<width$}  fix: {fix}", "", "", "");
            }
            if suppressed {
                if let Some(s) = &f.suppression {
                    let why = crate::suppression_text(s);
                    let _ = writeln!(out, "  {:<8} {:>6} {:<width$}  {why}", "", "", "");
                }
            }
        }
        out.push('\n');
        i = j;
    }
}

/// The exceptions that have expired, with the findings they would have covered.
pub(crate) fn expired_exceptions(out: &mut String, p: &Painter, report: &Report) {
    if !report.expired_exceptions.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                Style::new().bold().underline(),
                "Expired exceptions (no longer applied)"
            )
        );
        for e in &report.expired_exceptions {
            let ex = &e.exception;
            let _ = writeln!(
                out,
                "  #{} rules [{}] match {} expired {}{}{}: {}; {} finding(s) reported again",
                ex.index,
                ex.rules.join(", "),
                serde_json::to_string(&ex.matches).unwrap_or_default(),
                ex.expires.map(|d| d.to_string()).unwrap_or_default(),
                ex.owner
                    .as_ref()
                    .map(|o| format!(", owner {o}"))
                    .unwrap_or_default(),
                ex.ticket
                    .as_ref()
                    .map(|t| format!(", ticket {t}"))
                    .unwrap_or_default(),
                ex.reason,
                e.findings
            );
        }
        out.push('\n');
    }
}

pub(crate) fn render(report: &Report, opts: &RenderOptions) -> String {
    let p = Painter(opts.color);
    let mut out = String::new();
    group(&mut out, &p, &report.findings, false);
    if !report.suppressed.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.paint(Style::new().bold().underline(), "Suppressed findings")
        );
        group(&mut out, &p, &report.suppressed, true);
    }
    expired_exceptions(&mut out, &p, report);
    if let Some(m) = &report.mode_preview {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                Style::new().bold().underline(),
                &format!("Mode preview: {}", crate::mode_preview_title(m))
            )
        );
        for line in crate::mode_preview_lines(m) {
            let _ = writeln!(out, "  {line}");
        }
        out.push('\n');
    }
    if let Some(r) = &report.rollout {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                Style::new().bold().underline(),
                &format!("Pod Security rollout preview: enforce={}", r.target)
            )
        );
        for ns in &r.namespaces {
            let labels = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            let _ = writeln!(
                out,
                "  namespace {}{}: enforce {}, audit {}, warn {}: {} of {} workload{} would be rejected",
                ns.namespace,
                if ns.declared { "" } else { " (no Namespace object scanned)" },
                ns.enforce.clone().unwrap_or_else(|| "- (privileged)".into()),
                labels(&ns.audit),
                labels(&ns.warn),
                ns.rejected.len(),
                ns.workloads,
                if ns.workloads == 1 { "" } else { "s" },
            );
            for w in &ns.rejected {
                let _ = writeln!(
                    out,
                    "    {}  {}  {}{}",
                    w.object,
                    w.location
                        .as_ref()
                        .map(|l| format!("{}:{}", l.file, l.line))
                        .unwrap_or_default(),
                    w.checks.join(", "),
                    if w.rejected_today {
                        "  (already rejected today)"
                    } else {
                        ""
                    }
                );
            }
        }
        out.push('\n');
    }
    for (title, issues, style) in [
        (
            "Errors",
            &report.errors,
            Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
        ),
        (
            "Warnings",
            &report.warnings,
            Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
        ),
    ] {
        if issues.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", p.paint(style, title));
        for i in issues.iter() {
            let _ = writeln!(out, "  {i}");
        }
        out.push('\n');
    }
    if !report.skipped_rules.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
                "Not evaluated (a kind they need could not be read)"
            )
        );
        for r in &report.skipped_rules {
            let _ = writeln!(
                out,
                "  {} {}: needs {}",
                r.rule_id,
                r.rule_name,
                r.unreadable_kinds.join(", ")
            );
        }
        out.push('\n');
    }
    if let Some(c) = &report.compliance {
        let _ = writeln!(
            out,
            "{}",
            p.paint(
                Style::new().bold().underline(),
                &format!(
                    "Compliance: {} ({}): {} control{} passed, {} failed, {} not evaluated (nothing in the input they apply to)",
                    c.framework.title(),
                    c.framework,
                    c.passed,
                    if c.passed == 1 { "" } else { "s" },
                    c.failed,
                    c.not_evaluated
                )
            )
        );
        let w = c
            .controls
            .iter()
            .map(|x| x.control.len())
            .max()
            .unwrap_or(0);
        for x in &c.controls {
            let status = match x.status {
                palisade_core::compliance::ControlStatus::Pass => "PASS",
                palisade_core::compliance::ControlStatus::Fail => "FAIL",
                palisade_core::compliance::ControlStatus::NotEvaluated => "NOT EVALUATED",
            };
            let _ = writeln!(
                out,
                "  {}:{:<w$}  {}  {} finding{}  ({})",
                c.framework,
                x.control,
                if x.status == palisade_core::compliance::ControlStatus::Fail {
                    p.paint(severity_style(Severity::High), status)
                } else {
                    status.to_owned()
                },
                x.findings,
                if x.findings == 1 { "" } else { "s" },
                x.rules.join(", ")
            );
        }
        out.push('\n');
    }
    let s = report.summary();
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|sev| {
            let n = s.by_severity.get(sev).copied().unwrap_or(0);
            let text = format!("{n} {sev}");
            if n > 0 {
                p.paint(severity_style(*sev), &text)
            } else {
                text
            }
        })
        .collect();
    let st = &report.stats;
    let _ = writeln!(
        out,
        "{} {} finding{} ({}) in {} object{}",
        p.paint(Style::new().bold(), "Summary:"),
        s.findings,
        if s.findings == 1 { "" } else { "s" },
        counts.join(", "),
        s.objects_with_findings,
        if s.objects_with_findings == 1 {
            ""
        } else {
            "s"
        },
    );
    let _ = writeln!(
        out,
        "  suppressed: {} by exception, {} by annotation; expired exceptions: {}",
        s.suppressed_by_exception, s.suppressed_by_annotation, s.expired_exceptions
    );
    let rules = format!(
        "{} rule{} (profile {}, Pod Security Standards {})",
        report.rules.len() - report.skipped_rules.len(),
        if report.rules.len() - report.skipped_rules.len() == 1 {
            ""
        } else {
            "s"
        },
        report
            .profile
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into()),
        report
            .pss_version
            .map(|p| p.to_string())
            .unwrap_or_else(|| "latest".into()),
    );
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if let Some(ev) = &report.events {
        // Audit events (`palisade detect`).
        let n = report.rules.len();
        let _ = writeln!(
            out,
            "  read {} event{} with {n} detection rule{}: {} alert{} raised; {} line{} not JSON, {} JSON value{} not audit events, {} over the size limit, {} EventList item{} not audit events",
            ev.events,
            plural(ev.events as usize),
            plural(n),
            ev.alerts,
            plural(ev.alerts as usize),
            ev.bad_lines,
            plural(ev.bad_lines as usize),
            ev.non_events,
            plural(ev.non_events as usize),
            ev.oversized,
            ev.bad_items,
            plural(ev.bad_items as usize),
        );
    } else if st.owned_folded > 0 || !report.unreadable.is_empty() {
        // A cluster or a snapshot: objects read, folded into their owners, kinds unread.
        let _ = writeln!(
            out,
            "  read {} object{} ({} reported through their owner), scanned {} with {}; {} kind{} could not be read, {} rule{} not evaluated, {} error{}",
            st.documents,
            plural(st.documents),
            st.owned_folded,
            st.objects,
            rules,
            report.unreadable.len(),
            plural(report.unreadable.len()),
            report.skipped_rules.len(),
            plural(report.skipped_rules.len()),
            report.errors.len(),
            plural(report.errors.len()),
        );
    } else {
        let _ = writeln!(
            out,
            "  scanned {} object{} from {} file{} with {}; {} document{} without apiVersion/kind skipped, {} template file{} skipped, {} error{}",
            st.objects,
            plural(st.objects),
            st.files,
            plural(st.files),
            rules,
            st.skipped_documents,
            plural(st.skipped_documents),
            st.template_files,
            plural(st.template_files),
            report.errors.len(),
            plural(report.errors.len()),
        );
    }
    for n in &report.notes {
        let _ = writeln!(out, "  note: {n}");
    }
    out
}
