//! One self-contained HTML page: summary charts (inline SVG), a filterable findings table,
//! suppressed findings with their exceptions, expired exceptions, skipped rules, unreadable
//! kinds and input problems.
//!
//! Every string of the report goes through [`esc`]; the page's only script is the constant
//! [`SCRIPT`], allowed by its hash in the page's Content-Security-Policy, which also forbids
//! every fetch: the page works offline and an injected script could not run. The output
//! depends on the report only (no clock): expiry dates are printed as dates, and the script
//! adds "in N days" relative to the day the page is viewed.

use crate::RenderOptions;
use base64::Engine as _;
use palisade_core::compliance::{ControlStatus, Framework};
use palisade_core::node::{CheckStatus, StatusCounts};
use palisade_core::report::Suppression;
use palisade_core::{Report, ReportFinding, RuleMeta, Severity};
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Severities from the most to the least severe.
fn severities() -> impl Iterator<Item = Severity> {
    Severity::ALL.into_iter().rev()
}

fn sev_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#7f1d1d",
        Severity::High => "#dc2626",
        Severity::Medium => "#f59e0b",
        Severity::Low => "#0ea5e9",
        Severity::Info => "#9ca3af",
    }
}

fn status_color(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "#16a34a",
        CheckStatus::Fail => "#dc2626",
        CheckStatus::Warn => "#f59e0b",
        CheckStatus::Manual => "#0ea5e9",
        CheckStatus::Skip => "#9ca3af",
    }
}

const STYLE: &str = r#"
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f9fafb;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 10px}
h3{font-size:14px;margin:0 0 8px}
.muted{color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:22px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:14px}
.chart{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.chart svg{display:block;max-width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:4px 12px;margin-top:6px;font-size:12px}
.donut-body{display:flex;align-items:center;gap:28px}
.legend-v{flex-direction:column;font-size:13px}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.filters{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:center;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin-bottom:10px}
.filters input[type=search]{width:280px;padding:5px 8px;border:1px solid #d1d5db;border-radius:6px}
.filters select{padding:4px 6px;border:1px solid #d1d5db;border-radius:6px}
.filters label{white-space:nowrap}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line)}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{background:#f3f4f6;font-weight:600;font-size:13px}
td{overflow-wrap:anywhere}
table.findings th:nth-child(1){width:90px}table.findings th:nth-child(2){width:150px}table.findings th:nth-child(3){width:170px}table.findings th:nth-child(4){width:200px}table.findings th:nth-child(6){width:210px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f4f6;padding:0 3px;border-radius:3px}
.sev{display:inline-block;white-space:nowrap;min-width:64px;text-align:center;color:#fff;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600}
.sev-critical{background:#7f1d1d}.sev-high{background:#dc2626}.sev-medium{background:#f59e0b}.sev-low{background:#0ea5e9}.sev-info{background:#9ca3af}
.st{display:inline-block;white-space:nowrap;min-width:64px;text-align:center;color:#fff;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600}
.st-PASS{background:#16a34a}.st-FAIL{background:#dc2626}.st-WARN{background:#f59e0b}.st-MANUAL{background:#0ea5e9}.st-SKIP{background:#9ca3af}
.fix{margin-top:4px;color:#065f46}
.props{margin-top:4px;font-size:12px;color:var(--muted)}
.ref{display:inline-block;font-size:11px;background:#eef2ff;color:#3730a3;border-radius:3px;padding:0 4px;margin:1px 2px 1px 0;white-space:nowrap}
.why{margin-top:4px;font-size:12px;color:#92400e}
.soon{color:#b45309;font-weight:600}.past{color:#b91c1c;font-weight:600}
.note{background:#fffbeb;border:1px solid #fde68a;border-radius:6px;padding:6px 10px;margin:6px 0}
.bad{background:#fef2f2;border-color:#fecaca}
ul.plain{margin:0;padding-left:18px}
footer{margin-top:32px;font-size:12px;color:var(--muted)}
"#;

/// The page's script: filters, counts of shown rows, days until each expiry, and the
/// `data-ready` marker on `<body>` once done. Constant: it reads the page, never data.
const SCRIPT: &str = r##"
(function () {
  "use strict";
  var q = document.getElementById("q");
  var ns = document.getElementById("ns");
  var sevs = Array.prototype.slice.call(document.querySelectorAll("input[name=sev]"));
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-sev]"));
  function apply() {
    var text = q ? q.value.trim().toLowerCase() : "";
    var n = ns ? ns.value : "*";
    var on = {};
    sevs.forEach(function (c) { on[c.value] = c.checked; });
    var shown = {}, total = {};
    rows.forEach(function (r) {
      var t = r.getAttribute("data-table");
      total[t] = (total[t] || 0) + 1;
      var ok = on[r.getAttribute("data-sev")] !== false &&
        (n === "*" || r.getAttribute("data-ns") === n) &&
        (text === "" || r.textContent.toLowerCase().indexOf(text) >= 0);
      r.hidden = !ok;
      if (ok) { shown[t] = (shown[t] || 0) + 1; }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-count-for]"), function (e) {
      var t = e.getAttribute("data-count-for");
      e.textContent = (shown[t] || 0) + " of " + (total[t] || 0) + " shown";
    });
  }
  // The filters live in the address's fragment (#q=text&ns=name&sev=critical,high), so a
  // filtered view can be bookmarked or shared.
  function fromHash() {
    var h = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) { h[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); }
    });
    if (q && h.q !== undefined) { q.value = h.q; }
    if (ns && h.ns !== undefined) {
      for (var i = 0; i < ns.options.length; i++) {
        if (ns.options[i].value === h.ns) { ns.value = h.ns; }
      }
    }
    if (h.sev !== undefined) {
      var want = h.sev.split(",");
      sevs.forEach(function (c) { c.checked = want.indexOf(c.value) >= 0; });
    }
  }
  function toHash() {
    var parts = [];
    if (q && q.value) { parts.push("q=" + encodeURIComponent(q.value)); }
    if (ns && ns.value !== "*") { parts.push("ns=" + encodeURIComponent(ns.value)); }
    var on = sevs.filter(function (c) { return c.checked; }).map(function (c) { return c.value; });
    if (on.length !== sevs.length) { parts.push("sev=" + on.join(",")); }
    history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
  }
  function changed() { apply(); toHash(); }
  if (q) { q.addEventListener("input", changed); }
  if (ns) { ns.addEventListener("change", changed); }
  sevs.forEach(function (c) { c.addEventListener("change", changed); });
  fromHash();
  apply();
  var now = new Date();
  var today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  Array.prototype.forEach.call(document.querySelectorAll("[data-expires]"), function (e) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(e.getAttribute("data-expires"));
    if (!m) { return; }
    var days = Math.round((Date.UTC(+m[1], +m[2] - 1, +m[3]) - today) / 86400000);
    if (days < 0) {
      e.textContent = "expired " + (-days) + " day" + (days === -1 ? "" : "s") + " ago";
      e.className = "past";
    } else {
      e.textContent = days === 0 ? "last day today" : "in " + days + " day" + (days === 1 ? "" : "s");
      e.className = days <= 30 ? "soon" : "muted";
    }
  });
  document.body.setAttribute("data-ready", "1");
})();
"##;

/// The Content-Security-Policy: nothing may be fetched, and only [`SCRIPT`] may run.
fn csp() -> String {
    let hash = sha2::Sha256::digest(SCRIPT.as_bytes());
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(hash)
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// A donut chart of `(label, count, colour)` segments, with the total in the middle.
fn donut(out: &mut String, id: &str, title: &str, parts: &[(String, usize, &str)]) {
    let total: usize = parts.iter().map(|p| p.1).sum();
    let r = 60.0_f64;
    let c = 2.0 * std::f64::consts::PI * r;
    let _ = write!(
        out,
        "<div class=\"chart\" id=\"{id}\"><h3>{}</h3><div class=\"donut-body\"><svg class=\"donut\" viewBox=\"0 0 170 170\" width=\"170\" height=\"170\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title)
    );
    let _ = write!(
        out,
        "<circle cx=\"85\" cy=\"85\" r=\"{r}\" fill=\"none\" stroke=\"#e5e7eb\" stroke-width=\"22\"/>"
    );
    let mut offset = 0.0;
    for (label, n, color) in parts {
        if *n == 0 {
            continue;
        }
        let len = c * (*n as f64) / (total as f64);
        let _ = write!(
            out,
            "<circle class=\"seg\" cx=\"85\" cy=\"85\" r=\"{r}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"22\" stroke-dasharray=\"{len:.2} {:.2}\" stroke-dashoffset=\"{:.2}\" transform=\"rotate(-90 85 85)\"><title>{}: {n}</title></circle>",
            c - len,
            if offset == 0.0 { 0.0 } else { -offset },
            esc(label)
        );
        offset += len;
    }
    let _ = write!(
        out,
        "<text x=\"85\" y=\"83\" text-anchor=\"middle\" font-size=\"26\" font-weight=\"700\" fill=\"#1f2937\">{total}</text><text x=\"85\" y=\"103\" text-anchor=\"middle\" font-size=\"12\" fill=\"#6b7280\">total</text></svg><div class=\"legend legend-v\">"
    );
    for (label, n, color) in parts {
        let _ = write!(
            out,
            "<span><i style=\"background:{color}\"></i>{} <b>{n}</b></span>",
            esc(label)
        );
    }
    out.push_str("</div></div></div>");
}

/// One bar of a [`bars`] chart: a label and its counts by severity.
struct Bar {
    label: String,
    counts: BTreeMap<Severity, usize>,
}

impl Bar {
    fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

/// A horizontal bar chart, each bar stacked by severity.
fn bars(out: &mut String, id: &str, title: &str, note: &str, rows: &[Bar]) {
    let label_w = 150.0;
    let bar_w = 330.0;
    let row_h = 22.0;
    let height = (rows.len().max(1) as f64) * row_h + 6.0;
    let max = rows.iter().map(Bar::total).max().unwrap_or(0).max(1);
    let _ = write!(
        out,
        "<div class=\"chart\" id=\"{id}\"><h3>{}</h3><svg class=\"bars\" viewBox=\"0 0 {w} {height}\" width=\"{w}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        esc(title),
        esc(title),
        w = label_w + bar_w + 50.0,
    );
    if rows.is_empty() {
        let _ = write!(
            out,
            "<text x=\"0\" y=\"16\" font-size=\"12\" fill=\"#6b7280\">no active finding</text>"
        );
    }
    for (i, row) in rows.iter().enumerate() {
        let y = i as f64 * row_h + 3.0;
        let label: String = if row.label.chars().count() > 22 {
            row.label.chars().take(21).collect::<String>() + "…"
        } else {
            row.label.clone()
        };
        let _ = write!(
            out,
            "<g class=\"bar\"><title>{}: {}</title><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\" fill=\"#1f2937\">{}</text>",
            esc(&row.label),
            row.total(),
            label_w - 8.0,
            y + 13.0,
            esc(&label)
        );
        let mut x = label_w;
        for sev in severities() {
            let n = row.counts.get(&sev).copied().unwrap_or(0);
            if n == 0 {
                continue;
            }
            let w = bar_w * n as f64 / max as f64;
            let _ = write!(
                out,
                "<rect x=\"{x:.2}\" y=\"{y:.1}\" width=\"{w:.2}\" height=\"{:.1}\" fill=\"{}\"><title>{}: {n} {sev}</title></rect>",
                row_h - 6.0,
                sev_color(sev),
                esc(&row.label),
            );
            x += w;
        }
        let _ = write!(
            out,
            "<text x=\"{:.2}\" y=\"{:.1}\" font-size=\"12\" fill=\"#6b7280\">{}</text></g>",
            x + 5.0,
            y + 13.0,
            row.total()
        );
    }
    out.push_str("</svg>");
    if !note.is_empty() {
        let _ = write!(out, "<div class=\"legend muted\">{}</div>", esc(note));
    }
    out.push_str("</div>");
}

/// Rows of a bar chart from findings grouped by `key` (a finding may count under several
/// keys), most findings first, at most `cap` bars (the rest summed in one).
fn group_bars<'a>(
    findings: &'a [ReportFinding],
    key: impl Fn(&'a ReportFinding) -> Vec<String>,
    order: impl Fn(&str) -> usize,
    cap: usize,
    rest: &str,
) -> Vec<Bar> {
    let mut by: BTreeMap<String, BTreeMap<Severity, usize>> = BTreeMap::new();
    for f in findings {
        for k in key(f) {
            *by.entry(k).or_default().entry(f.severity).or_default() += 1;
        }
    }
    let mut rows: Vec<Bar> = by
        .into_iter()
        .map(|(label, counts)| Bar { label, counts })
        .collect();
    rows.sort_by(|a, b| {
        order(&a.label)
            .cmp(&order(&b.label))
            .then(b.total().cmp(&a.total()))
            .then(a.label.cmp(&b.label))
    });
    if rows.len() > cap {
        let more = rows.split_off(cap - 1);
        let mut counts = BTreeMap::new();
        for r in &more {
            for (s, n) in &r.counts {
                *counts.entry(*s).or_default() += n;
            }
        }
        rows.push(Bar {
            label: format!("{} {rest}", more.len()),
            counts,
        });
    }
    rows
}

fn namespace_of(f: &ReportFinding) -> &str {
    f.object.namespace.as_deref().unwrap_or("")
}

fn namespace_label(ns: &str) -> &str {
    if ns.is_empty() {
        "(cluster-scoped)"
    } else {
        ns
    }
}

fn family_of(f: &ReportFinding, meta: Option<&&RuleMeta>) -> String {
    match meta {
        Some(m) => m.family().to_owned(),
        None => {
            let letters: String = f
                .rule_id
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            if letters.is_empty() {
                "other".to_owned()
            } else {
                letters
            }
        }
    }
}

/// The framework of a reference (`cis` of `cis:5.2.2`).
fn framework_of(reference: &str) -> &str {
    reference.split(':').next().unwrap_or(reference)
}

fn location(f: &ReportFinding) -> String {
    match &f.location {
        Some(l) => crate::loc_text(l),
        None => f
            .path
            .clone()
            .or_else(|| f.properties.get("time").cloned())
            .unwrap_or_default(),
    }
}

/// The findings table (`table` names it for the filters: `active` or `suppressed`).
fn findings_table(
    out: &mut String,
    table: &str,
    findings: &[ReportFinding],
    metas: &BTreeMap<&str, &RuleMeta>,
) {
    let _ = write!(
        out,
        "<table class=\"findings\" id=\"{table}-findings\"><thead><tr><th>Severity</th><th>Rule</th><th>Object</th><th>Location</th><th>Finding</th><th>References</th></tr></thead><tbody>"
    );
    if findings.is_empty() {
        out.push_str("<tr class=\"empty\"><td colspan=\"6\" class=\"muted\">none</td></tr>");
    }
    for f in findings {
        let meta = metas.get(f.rule_id);
        let _ = write!(
            out,
            "<tr data-table=\"{table}\" data-sev=\"{sev}\" data-ns=\"{ns}\"><td><span class=\"sev sev-{sev}\">{sev}</span><div class=\"muted\">{mode}</div></td><td><code>{id}</code>{name}</td><td>{obj}</td><td>{loc}{path}</td><td>{msg}",
            sev = f.severity,
            ns = esc(namespace_of(f)),
            mode = f.mode,
            id = esc(f.rule_id),
            name = if f.rule_name == f.rule_id {
                String::new()
            } else {
                format!("<br>{}", esc(f.rule_name))
            },
            obj = esc(&f.object.to_string()),
            loc = match location(f) {
                l if l.is_empty() => String::new(),
                l => format!("<code>{}</code>", esc(&l)),
            },
            path = match (&f.location, &f.path) {
                (Some(_), Some(p)) => format!("<div class=\"muted\"><code>{}</code></div>", esc(p)),
                _ => String::new(),
            },
            msg = esc(&f.message),
        );
        if let Some(fix) = &f.fix {
            let _ = write!(out, "<div class=\"fix\">fix: {}</div>", esc(fix));
        }
        if !f.properties.is_empty() {
            let props: Vec<String> = f
                .properties
                .iter()
                .map(|(k, v)| format!("{}={}", esc(k), esc(v)))
                .collect();
            let _ = write!(out, "<div class=\"props\">{}</div>", props.join(", "));
        }
        if let Some(s) = &f.suppression {
            let _ = write!(
                out,
                "<div class=\"why\">{}</div>",
                esc(&crate::suppression_text(s))
            );
        }
        out.push_str("</td><td>");
        if let Some(m) = meta {
            for r in m.references {
                let _ = write!(out, "<span class=\"ref\">{}</span>", esc(r));
            }
        }
        out.push_str("</td></tr>");
    }
    out.push_str("</tbody></table>");
}

fn issues_list(out: &mut String, id: &str, title: &str, issues: &[palisade_core::InputIssue]) {
    if issues.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section id=\"{id}\"><h2>{} ({})</h2><ul class=\"plain\">",
        esc(title),
        issues.len()
    );
    for i in issues {
        let _ = write!(out, "<li><code>{}</code></li>", esc(&i.to_string()));
    }
    out.push_str("</ul></section>");
}

/// What the page is about, from what the report carries.
fn subject(report: &Report) -> &'static str {
    if report.node.is_some() {
        "node checks"
    } else if report.events.is_some() {
        "audit detection"
    } else {
        "scan"
    }
}

/// One sentence on the input.
fn input_text(report: &Report) -> String {
    let st = &report.stats;
    let rules = report.rules.len() - report.skipped_rules.len().min(report.rules.len());
    if let Some(n) = &report.node {
        return format!(
            "Benchmark {} on root {}{}: {} result{}, {} rule{}.",
            n.benchmark,
            n.root,
            if n.host.is_empty() || n.host == n.root {
                String::new()
            } else {
                format!(" (node {})", n.host)
            },
            n.results.len(),
            plural(n.results.len()),
            rules,
            plural(rules)
        );
    }
    if let Some(ev) = &report.events {
        return format!(
            "Read {} audit event{} with {rules} detection rule{}: {} alert{} raised; {} line{} not JSON, {} JSON value{} not audit events, {} over the size limit, {} EventList item{} not audit events.",
            ev.events,
            plural(ev.events as usize),
            plural(rules),
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
    }
    let profile = format!(
        "profile {}, Pod Security Standards {}",
        report
            .profile
            .map(|p| p.to_string())
            .unwrap_or_else(|| "-".into()),
        report
            .pss_version
            .map(|p| p.to_string())
            .unwrap_or_else(|| "latest".into())
    );
    if st.owned_folded > 0 || !report.unreadable.is_empty() {
        format!(
            "Read {} object{} ({} reported through their owner), scanned {} with {rules} rule{} ({profile}); {} kind{} could not be read, {} rule{} not evaluated.",
            st.documents,
            plural(st.documents),
            st.owned_folded,
            st.objects,
            plural(rules),
            report.unreadable.len(),
            plural(report.unreadable.len()),
            report.skipped_rules.len(),
            plural(report.skipped_rules.len()),
        )
    } else {
        format!(
            "Scanned {} object{} from {} file{} with {rules} rule{} ({profile}); {} document{} without apiVersion/kind skipped, {} template file{} skipped.",
            st.objects,
            plural(st.objects),
            st.files,
            plural(st.files),
            plural(rules),
            st.skipped_documents,
            plural(st.skipped_documents),
            st.template_files,
            plural(st.template_files),
        )
    }
}

/// The exceptions that suppressed findings, with the count of findings each suppressed,
/// soonest expiry first (never-expiring ones last).
fn exceptions_in_use(out: &mut String, report: &Report) {
    struct Used<'a> {
        reason: &'a str,
        owner: Option<&'a str>,
        ticket: Option<&'a str>,
        expires: Option<&'a str>,
        findings: usize,
    }
    let mut by: BTreeMap<usize, Used> = BTreeMap::new();
    let mut annotations = 0;
    for f in &report.suppressed {
        match f.suppression.as_deref() {
            Some(Suppression::Exception {
                index,
                reason,
                owner,
                ticket,
                expires,
            }) => {
                by.entry(*index)
                    .or_insert(Used {
                        reason,
                        owner: owner.as_deref(),
                        ticket: ticket.as_deref(),
                        expires: expires.as_deref(),
                        findings: 0,
                    })
                    .findings += 1;
            }
            Some(Suppression::Annotation { .. }) => annotations += 1,
            None => {}
        }
    }
    let mut used: Vec<(usize, Used)> = by.into_iter().collect();
    used.sort_by(|a, b| match (a.1.expires, b.1.expires) {
        (Some(x), Some(y)) => x.cmp(y).then(a.0.cmp(&b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    });
    out.push_str("<section id=\"exceptions\"><h2>Exceptions</h2>");
    if used.is_empty() {
        out.push_str("<p class=\"muted\">No finding is suppressed by an exception.</p>");
    } else {
        out.push_str("<p class=\"muted\">Exceptions that suppressed findings in this report, soonest expiry first; the days left count from the day this page is viewed.</p><table id=\"exceptions-in-use\"><thead><tr><th>#</th><th>Expires</th><th>Reason</th><th>Owner</th><th>Ticket</th><th>Findings suppressed</th></tr></thead><tbody>");
        for (index, u) in &used {
            let _ = write!(
                out,
                "<tr><td>{index}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                match u.expires {
                    Some(e) => format!("{}<br><span data-expires=\"{}\"></span>", esc(e), esc(e)),
                    None => "never".to_owned(),
                },
                esc(u.reason),
                esc(u.owner.unwrap_or("-")),
                esc(u.ticket.unwrap_or("-")),
                u.findings
            );
        }
        out.push_str("</tbody></table>");
    }
    if annotations > 0 {
        let _ = write!(
            out,
            "<p>{annotations} finding{} suppressed by the <code>palisade.dev/ignore</code> annotation.</p>",
            plural(annotations)
        );
    }
    if !report.expired_exceptions.is_empty() {
        let _ = write!(
            out,
            "<h3 id=\"expired\" style=\"margin-top:14px\">Expired exceptions ({}): no longer applied, their findings are reported</h3><table id=\"expired-exceptions\"><thead><tr><th>#</th><th>Expired</th><th>Rules</th><th>Match</th><th>Reason</th><th>Owner</th><th>Ticket</th><th>Findings reported again</th></tr></thead><tbody>",
            report.expired_exceptions.len()
        );
        for e in &report.expired_exceptions {
            let ex = &e.exception;
            let expires = ex.expires.map(|d| d.to_string()).unwrap_or_default();
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}<br><span data-expires=\"{}\"></span></td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                ex.index,
                esc(&expires),
                esc(&expires),
                esc(&ex.rules.join(", ")),
                esc(&serde_json::to_string(&ex.matches).unwrap_or_default()),
                esc(&ex.reason),
                esc(ex.owner.as_deref().unwrap_or("-")),
                esc(ex.ticket.as_deref().unwrap_or("-")),
                e.findings
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}

fn node_section(out: &mut String, n: &palisade_core::NodeReport) {
    out.push_str("<section id=\"node\"><h2>Host checks</h2>");
    if !n.components.is_empty() {
        out.push_str("<p>");
        let comps: Vec<String> = n
            .components
            .iter()
            .map(|c| {
                format!(
                    "<code>{}{}</code> ({})",
                    esc(&c.name),
                    c.version
                        .as_deref()
                        .map(|v| format!(" {}", esc(v)))
                        .unwrap_or_default(),
                    esc(&c.sources.join(", "))
                )
            })
            .collect();
        out.push_str(&comps.join(", "));
        out.push_str("</p>");
    }
    let counts = |c: &StatusCounts| {
        let mut s = CheckStatus::ALL
            .iter()
            .map(|st| format!("{} {st}", c.get(*st)))
            .collect::<Vec<_>>()
            .join(", ");
        if c.suppressed > 0 {
            s.push_str(&format!(", {} SUPPRESSED", c.suppressed));
        }
        s
    };
    out.push_str("<table id=\"node-results\"><thead><tr><th>Status</th><th>Check</th><th>Observed</th><th>Expected</th><th>Fix</th></tr></thead><tbody>");
    for s in &n.sections {
        let _ = write!(
            out,
            "<tr><th colspan=\"5\">[{}] {} <span class=\"muted\">({})</span></th></tr>",
            esc(&s.id),
            esc(&s.title),
            esc(&counts(&s.counts))
        );
        for r in n.section_results(&s.id) {
            let _ = write!(
                out,
                "<tr><td><span class=\"st st-{st}\">{st}</span>{}</td><td><code>{}</code> {}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                if r.suppression.is_some() {
                    "<div class=\"muted\">suppressed</div>"
                } else {
                    ""
                },
                esc(&r.id),
                esc(&r.title),
                r.file
                    .as_deref()
                    .map(|f| format!("<div class=\"muted\"><code>{}</code></div>", esc(f)))
                    .unwrap_or_default(),
                esc(&r.observed),
                esc(r.expected.as_deref().unwrap_or("")),
                if matches!(r.status, CheckStatus::Fail | CheckStatus::Warn) {
                    esc(r.remediation.as_deref().unwrap_or(""))
                } else {
                    String::new()
                },
                st = r.status,
            );
        }
    }
    out.push_str("</tbody></table></section>");
}

fn compliance_section(out: &mut String, c: &palisade_core::compliance::ComplianceSummary) {
    let _ = write!(
        out,
        "<section id=\"compliance\"><h2>Compliance: {} ({})</h2><p>{} control{} passed, {} failed, {} not evaluated (nothing in the input they apply to).</p><table><thead><tr><th>Control</th><th>Status</th><th>Findings</th><th>Rules</th></tr></thead><tbody>",
        esc(c.framework.title()),
        c.framework,
        c.passed,
        plural(c.passed),
        c.failed,
        c.not_evaluated
    );
    for x in &c.controls {
        let status = match x.status {
            ControlStatus::Pass => "<span class=\"st st-PASS\">pass</span>",
            ControlStatus::Fail => "<span class=\"st st-FAIL\">fail</span>",
            ControlStatus::NotEvaluated => "<span class=\"st st-SKIP\">not evaluated</span>",
        };
        let _ = write!(
            out,
            "<tr><td><code>{}:{}</code></td><td>{status}</td><td>{}</td><td>{}</td></tr>",
            c.framework,
            esc(x.control),
            x.findings,
            esc(&x.rules.join(", "))
        );
    }
    out.push_str("</tbody></table></section>");
}

fn previews(out: &mut String, report: &Report) {
    if let Some(m) = &report.mode_preview {
        let _ = write!(
            out,
            "<section id=\"mode-preview\"><h2>Mode preview</h2><p>{}</p><ul class=\"plain\">",
            esc(&crate::mode_preview_title(m))
        );
        for line in crate::mode_preview_lines(m) {
            let _ = write!(out, "<li>{}</li>", esc(&line));
        }
        out.push_str("</ul></section>");
    }
    if let Some(r) = &report.rollout {
        let _ = write!(
            out,
            "<section id=\"rollout\"><h2>Pod Security rollout preview: enforce={}</h2><table><thead><tr><th>Namespace</th><th>enforce</th><th>audit</th><th>warn</th><th>Would be rejected</th></tr></thead><tbody>",
            esc(&r.target)
        );
        for ns in &r.namespaces {
            let rejected: Vec<String> = ns
                .rejected
                .iter()
                .map(|w| {
                    format!(
                        "{} ({}){}",
                        esc(&w.object.to_string()),
                        esc(&w.checks.join(", ")),
                        if w.rejected_today {
                            " <span class=\"muted\">already rejected today</span>"
                        } else {
                            ""
                        }
                    )
                })
                .collect();
            let _ = write!(
                out,
                "<tr><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} of {}{}{}</td></tr>",
                esc(&ns.namespace),
                if ns.declared {
                    ""
                } else {
                    " <span class=\"muted\">(no Namespace object scanned)</span>"
                },
                esc(ns.enforce.as_deref().unwrap_or("- (privileged)")),
                esc(ns.audit.as_deref().unwrap_or("-")),
                esc(ns.warn.as_deref().unwrap_or("-")),
                ns.rejected.len(),
                ns.workloads,
                if rejected.is_empty() { "" } else { ": " },
                rejected.join("; ")
            );
        }
        out.push_str("</tbody></table></section>");
    }
}

pub(crate) fn render(report: &Report, opts: &RenderOptions) -> String {
    let s = report.summary();
    let metas: BTreeMap<&str, &RuleMeta> = report.rules.iter().map(|m| (m.id, *m)).collect();
    let mut out = String::with_capacity(64 * 1024);
    let title = format!("Palisade {} report", subject(report));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{}\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"generator\" content=\"palisade {}\"><title>{}</title><style>{STYLE}</style></head><body><main>",
        csp(),
        esc(&opts.tool_version),
        esc(&title)
    );
    let _ = write!(
        out,
        "<header><h1>{}</h1><div class=\"muted\">{}</div></header>",
        esc(&title),
        esc(&input_text(report))
    );
    for n in &report.notes {
        let _ = write!(out, "<div class=\"note\">Note: {}</div>", esc(n));
    }
    if !report.unreadable.is_empty() {
        let _ = write!(
            out,
            "<div class=\"note bad\">Partial scan: {} kind{} could not be read, {} rule{} not evaluated (see below).</div>",
            report.unreadable.len(),
            plural(report.unreadable.len()),
            report.skipped_rules.len(),
            plural(report.skipped_rules.len()),
        );
    }

    // Summary cards.
    let cards: [(&str, String, &str); 6] = [
        ("findings", s.findings.to_string(), "active findings"),
        (
            "objects",
            s.objects_with_findings.to_string(),
            "objects with findings",
        ),
        (
            "suppressed",
            (s.suppressed_by_exception + s.suppressed_by_annotation).to_string(),
            "suppressed",
        ),
        (
            "expired",
            s.expired_exceptions.to_string(),
            "expired exceptions",
        ),
        (
            "skipped",
            report.skipped_rules.len().to_string(),
            "rules not evaluated",
        ),
        ("errors", report.errors.len().to_string(), "input errors"),
    ];
    out.push_str("<div class=\"cards\" id=\"summary\">");
    for (id, n, label) in cards {
        let _ = write!(
            out,
            "<div class=\"card\" data-card=\"{id}\"><b>{n}</b>{label}</div>"
        );
    }
    out.push_str("</div>");

    // Charts.
    out.push_str("<section id=\"charts\"><div class=\"charts\">");
    let sev_parts: Vec<(String, usize, &str)> = severities()
        .map(|sev| {
            (
                sev.to_string(),
                s.by_severity.get(&sev).copied().unwrap_or(0),
                sev_color(sev),
            )
        })
        .collect();
    donut(
        &mut out,
        "chart-severity",
        "Active findings by severity",
        &sev_parts,
    );
    let family_rows = group_bars(
        &report.findings,
        |f| vec![family_of(f, metas.get(f.rule_id))],
        |_| 0,
        12,
        "other families",
    );
    bars(&mut out, "chart-family", "By rule family", "", &family_rows);
    let framework_rank = |k: &str| {
        Framework::ALL
            .iter()
            .position(|f| f.prefix() == k)
            .unwrap_or(Framework::ALL.len())
    };
    let framework_rows = group_bars(
        &report.findings,
        |f| {
            let mut v: Vec<String> = metas
                .get(f.rule_id)
                .map(|m| {
                    m.references
                        .iter()
                        .map(|r| framework_of(r).to_owned())
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v.dedup();
            v
        },
        framework_rank,
        12,
        "other frameworks",
    );
    bars(
        &mut out,
        "chart-framework",
        "By framework",
        "A finding counts once under each framework its rule cites.",
        &framework_rows,
    );
    let ns_rows = group_bars(
        &report.findings,
        |f| vec![namespace_label(namespace_of(f)).to_owned()],
        |_| 0,
        12,
        "other namespaces",
    );
    if report.node.is_none() {
        // Host checks are all on the node: no namespace to chart.
        bars(&mut out, "chart-namespace", "By namespace", "", &ns_rows);
    }
    if let Some(n) = &report.node {
        let parts: Vec<(String, usize, &str)> = CheckStatus::ALL
            .iter()
            .map(|st| (st.to_string(), n.totals.get(*st), status_color(*st)))
            .collect();
        donut(&mut out, "chart-node", "Host checks by status", &parts);
    }
    out.push_str("</div></section>");

    // Findings with filters.
    let mut namespaces: Vec<&str> = report
        .findings
        .iter()
        .chain(&report.suppressed)
        .map(namespace_of)
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let _ = write!(
        out,
        "<section id=\"findings\"><h2>Findings ({}) <span class=\"muted\" data-count-for=\"active\"></span></h2><div class=\"filters\"><label>Filter <input type=\"search\" id=\"q\" placeholder=\"rule, object, message...\"></label><label>Namespace <select id=\"ns\"><option value=\"*\">all</option>",
        report.findings.len()
    );
    for ns in &namespaces {
        let _ = write!(
            out,
            "<option value=\"{}\">{}</option>",
            esc(ns),
            esc(namespace_label(ns))
        );
    }
    out.push_str("</select></label><span>Severity</span>");
    for sev in severities() {
        let _ = write!(
            out,
            "<label><input type=\"checkbox\" name=\"sev\" value=\"{sev}\" checked> <span class=\"sev sev-{sev}\">{sev}</span></label>"
        );
    }
    out.push_str("</div>");
    findings_table(&mut out, "active", &report.findings, &metas);
    out.push_str("</section>");

    let _ = write!(
        out,
        "<section id=\"suppressed\"><h2>Suppressed findings ({}) <span class=\"muted\" data-count-for=\"suppressed\"></span></h2>",
        report.suppressed.len()
    );
    findings_table(&mut out, "suppressed", &report.suppressed, &metas);
    out.push_str("</section>");

    exceptions_in_use(&mut out, report);

    if let Some(n) = &report.node {
        node_section(&mut out, n);
    }
    if let Some(c) = &report.compliance {
        compliance_section(&mut out, c);
    }
    previews(&mut out, report);

    if !report.skipped_rules.is_empty() {
        let _ = write!(
            out,
            "<section id=\"skipped-rules\"><h2>Rules not evaluated ({})</h2><table><thead><tr><th>Rule</th><th>Needs</th><th>Why</th></tr></thead><tbody>",
            report.skipped_rules.len()
        );
        for r in &report.skipped_rules {
            let _ = write!(
                out,
                "<tr><td><code>{}</code> {}</td><td>{}</td><td>{}</td></tr>",
                esc(r.rule_id),
                esc(r.rule_name),
                esc(&r.unreadable_kinds.join(", ")),
                esc(&r.reason)
            );
        }
        out.push_str("</tbody></table></section>");
    }
    if !report.unreadable.is_empty() {
        let _ = write!(
            out,
            "<section id=\"unreadable\"><h2>Kinds that could not be read ({})</h2><table><thead><tr><th>Kind</th><th>Resource</th><th>Reason</th></tr></thead><tbody>",
            report.unreadable.len()
        );
        for u in &report.unreadable {
            let _ = write!(
                out,
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&u.kind),
                esc(&u.resource),
                esc(&u.reason)
            );
        }
        out.push_str("</tbody></table></section>");
    }
    issues_list(&mut out, "errors", "Input errors", &report.errors);
    issues_list(&mut out, "warnings", "Input warnings", &report.warnings);

    let _ = writeln!(
        out,
        "<footer>palisade {}. Self-contained page: no network access.</footer></main><script>{SCRIPT}</script></body></html>",
        esc(&opts.tool_version)
    );
    out
}
