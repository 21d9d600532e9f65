use crate::RenderOptions;
use palisade_core::Report;
use quick_xml::escape::escape;
use std::fmt::Write;

pub(crate) fn render(report: &Report, _opts: &RenderOptions) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let failures = report.findings.len() + report.errors.len();
    let mut suites = String::new();
    let mut tests = 0;
    for rule in &report.rules {
        let findings: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule_id == rule.id)
            .collect();
        let skipped: Vec<_> = report
            .suppressed
            .iter()
            .filter(|f| f.rule_id == rule.id)
            .collect();
        let not_run = report.skipped_rules.iter().find(|s| s.rule_id == rule.id);
        if let Some(nr) = not_run {
            // Not evaluated: one skipped test case that says why (never a silent pass).
            tests += 1;
            let _ = writeln!(
                suites,
                "  <testsuite name=\"{} {}\" tests=\"1\" failures=\"0\" skipped=\"1\">\n    <testcase classname=\"{}\" name=\"not evaluated\">\n      <skipped message=\"{}\"/>\n    </testcase>\n  </testsuite>",
                rule.id,
                rule.name,
                rule.id,
                escape(nr.reason.as_str())
            );
            continue;
        }
        let n = findings.len() + skipped.len();
        let count = n.max(1);
        tests += count;
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{} {}\" tests=\"{count}\" failures=\"{}\" skipped=\"{}\">",
            rule.id,
            rule.name,
            findings.len(),
            skipped.len()
        );
        for f in &findings {
            let loc = f.location.as_ref().map(crate::loc_text).unwrap_or_default();
            let _ = writeln!(
                suites,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\">\n      <failure message=\"{}\" type=\"{}\">{}{}</failure>\n    </testcase>",
                rule.id,
                escape(f.object.to_string()),
                escape(loc.split(':').next().unwrap_or("")),
                escape(f.message.as_str()),
                f.severity,
                escape(format!("{loc}: {}", f.message)),
                escape(f.fix.as_ref().map(|x| format!("\nfix: {x}")).unwrap_or_default()),
            );
        }
        for f in &skipped {
            let _ = writeln!(
                suites,
                "    <testcase classname=\"{}\" name=\"{}\">\n      <skipped message=\"suppressed\"/>\n    </testcase>",
                rule.id,
                escape(f.object.to_string())
            );
        }
        if n == 0 {
            let _ = writeln!(
                suites,
                "    <testcase classname=\"{}\" name=\"no findings\"/>",
                rule.id
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    if !report.errors.is_empty() {
        tests += report.errors.len();
        let _ = writeln!(
            suites,
            "  <testsuite name=\"input\" tests=\"{0}\" failures=\"{0}\">",
            report.errors.len()
        );
        for e in &report.errors {
            let _ = writeln!(
                suites,
                "    <testcase classname=\"input\" name=\"{}\">\n      <failure message=\"{}\" type=\"error\"/>\n    </testcase>",
                escape(e.file.as_str()),
                escape(e.to_string())
            );
        }
        suites.push_str("  </testsuite>\n");
    }
    let _ = writeln!(
        out,
        "<testsuites name=\"palisade\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out
}
