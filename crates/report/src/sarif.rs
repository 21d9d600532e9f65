use crate::{fingerprint, RenderOptions};
use palisade_core::report::Suppression;
use palisade_core::{Report, ReportFinding, Severity};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// A fix of one finding, as SARIF carries it: edits to one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactFix {
    /// What the fix does.
    pub description: String,
    /// The file, as the finding's location names it.
    pub file: String,
    /// The edits, in order, on the file as it is.
    pub replacements: Vec<Replacement>,
}

/// One edit: the region from `start` to `end` (1-based lines and columns, columns in UTF-16
/// code units as SARIF counts them; `end` is exclusive) becomes `inserted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replacement {
    /// First line.
    pub start_line: usize,
    /// Column on the first line.
    pub start_column: usize,
    /// Line of the end.
    pub end_line: usize,
    /// Column of the end.
    pub end_column: usize,
    /// The new text.
    pub inserted: String,
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning reads `security-severity` (0-10) to rank alerts.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Percent-encodes a file path into a URI reference (keeps `/`, unreserved characters).
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A result's level: its severity's, at most `warning` for a host check's WARN (a weaker
/// setting or something close to failing, not a failure).
fn result_level(f: &ReportFinding) -> &'static str {
    let l = level(f.severity);
    if l == "error" && f.properties.get("status").map(String::as_str) == Some("WARN") {
        "warning"
    } else {
        l
    }
}

/// SARIF `fixes` of one result: one `artifactChange` with its replacements.
fn fixes(fix: &ArtifactFix) -> Value {
    let replacements: Vec<Value> = fix
        .replacements
        .iter()
        .map(|r| {
            json!({
                "deletedRegion": {
                    "startLine": r.start_line,
                    "startColumn": r.start_column,
                    "endLine": r.end_line,
                    "endColumn": r.end_column,
                },
                "insertedContent": { "text": r.inserted },
            })
        })
        .collect();
    json!([{
        "description": { "text": fix.description },
        "artifactChanges": [{
            "artifactLocation": { "uri": uri(&fix.file) },
            "replacements": replacements,
        }],
    }])
}

fn result(f: &ReportFinding, rule_index: usize, fix: Option<&ArtifactFix>) -> Value {
    let mut location = json!({
        "logicalLocations": [{
            "fullyQualifiedName": match &f.object.namespace {
                Some(ns) => format!("{}/{}/{}", f.object.kind, ns, f.object.name),
                None => format!("{}/{}", f.object.kind, f.object.name),
            },
            "kind": "object",
        }]
    });
    if let Some(l) = &f.location {
        location["physicalLocation"] = json!({ "artifactLocation": { "uri": uri(&l.file) } });
        if l.line > 0 {
            location["physicalLocation"]["region"] =
                json!({ "startLine": l.line, "startColumn": l.column.max(1) });
        }
    }
    let mut properties = json!({
        "severity": f.severity,
        "mode": f.mode,
        "object": f.object,
    });
    if let Some(p) = &f.path {
        properties["path"] = json!(p);
    }
    if let Some(fix) = &f.fix {
        properties["fix"] = json!(fix);
    }
    for (k, v) in &f.properties {
        properties[k.as_ref()] = json!(v);
    }
    let mut r = json!({
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": result_level(f),
        "message": { "text": f.message },
        "locations": [location],
        "partialFingerprints": { "palisade/v1": fingerprint(f) },
        "properties": properties,
    });
    if let Some(s) = f.suppression.as_deref() {
        let justification = match s {
            Suppression::Exception { reason, .. } => reason.clone(),
            Suppression::Annotation { reason } => reason
                .clone()
                .unwrap_or_else(|| "palisade.dev/ignore annotation".into()),
        };
        r["suppressions"] = json!([{ "kind": if matches!(s, Suppression::Annotation { .. }) { "inSource" } else { "external" }, "justification": justification }]);
    }
    if let Some(fix) = fix {
        r["fixes"] = fixes(fix);
    }
    r
}

pub(crate) fn render(report: &Report, opts: &RenderOptions) -> String {
    render_with_fixes(report, opts, &HashMap::new())
}

/// [`render`], with SARIF `fixes` on the findings (by index in `report.findings`) that have
/// one: the bytes [`write_with_fixes`] writes.
pub(crate) fn render_with_fixes(
    report: &Report,
    opts: &RenderOptions,
    fixes: &HashMap<usize, ArtifactFix>,
) -> String {
    let mut out = Vec::new();
    // Writing to memory fails only if the document cannot be serialised, which its types
    // rule out.
    let _ = write_with_fixes(report, opts, fixes, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the SARIF document to `out`, with a final newline. The document without its
/// results is built first (small: the rules, the notifications, the run's properties); the
/// results are made and written one at a time, so a large scan's document is never held in
/// memory whole.
pub(crate) fn write_with_fixes(
    report: &Report,
    opts: &RenderOptions,
    fixes: &HashMap<usize, ArtifactFix>,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let rule_index = rule_indexes(report);
    let (doc, run) = document(report, opts, &rule_index);
    let results = Results {
        report,
        fixes,
        rule_index: &rule_index,
    };
    let doc = Splice {
        object: &doc,
        key: "runs",
        value: [Splice {
            object: &run,
            key: "results",
            value: results,
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}

/// Each rule's index in `tool.driver.rules` (the first, should an id appear twice).
fn rule_indexes(report: &Report) -> HashMap<&'static str, usize> {
    let mut index = HashMap::with_capacity(report.rules.len());
    for (i, r) in report.rules.iter().enumerate() {
        index.entry(r.id).or_insert(i);
    }
    index
}

/// A JSON object written in its own key order, the value at `key` replaced by `value`.
struct Splice<'a, T> {
    object: &'a Map<String, Value>,
    key: &'static str,
    value: T,
}

impl<T: Serialize> Serialize for Splice<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.object.len()))?;
        for (k, v) in self.object {
            if k == self.key {
                map.serialize_entry(k, &self.value)?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        map.end()
    }
}

/// The run's results: the findings (with their fixes), then the suppressed findings, each
/// made as it is written.
struct Results<'a> {
    report: &'a Report,
    fixes: &'a HashMap<usize, ArtifactFix>,
    rule_index: &'a HashMap<&'static str, usize>,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index = |id: &str| self.rule_index.get(id).copied().unwrap_or(0);
        serializer.collect_seq(
            self.report
                .findings
                .iter()
                .enumerate()
                .map(|(i, f)| result(f, index(f.rule_id), self.fixes.get(&i)))
                .chain(
                    self.report
                        .suppressed
                        .iter()
                        .map(|f| result(f, index(f.rule_id), None)),
                ),
        )
    }
}

/// The document without its results: the top-level object, whose `runs` and the run's
/// `results` are placeholders (null) that [`write_with_fixes`] fills, and the run.
fn document(
    report: &Report,
    opts: &RenderOptions,
    rule_index: &HashMap<&'static str, usize>,
) -> (Map<String, Value>, Map<String, Value>) {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            let doc = r.doc_markdown();
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": doc.split("\n\n").nth(1).unwrap_or(r.summary).replace('\n', " ") },
                "help": { "text": doc, "markdown": doc },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "tags": r.tags.iter().copied().chain(r.references.iter().copied()).collect::<Vec<_>>(),
                    "security-severity": security_severity(r.severity),
                    "precision": "high",
                },
            })
        })
        .collect();
    let index = |id: &str| rule_index.get(id).copied().unwrap_or(0);
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| (e, "error"))
        .chain(report.warnings.iter().map(|w| (w, "warning")))
        .map(|(i, lvl)| {
            let mut n = json!({ "level": lvl, "message": { "text": i.message } });
            let mut loc =
                json!({ "physicalLocation": { "artifactLocation": { "uri": uri(&i.file) } } });
            if i.line > 0 {
                loc["physicalLocation"]["region"] =
                    json!({ "startLine": i.line, "startColumn": i.column.max(1) });
            }
            n["locations"] = json!([loc]);
            n
        })
        .chain(report.skipped_rules.iter().map(|r| {
            json!({
                "level": "warning",
                "message": { "text": format!("{} {}: {}", r.rule_id, r.rule_name, r.reason) },
                "associatedRule": { "id": r.rule_id, "index": index(r.rule_id) },
            })
        }))
        .collect();
    let mut run = Map::new();
    run.insert(
        "tool".into(),
        json!({ "driver": {
            "name": "palisade",
            "version": opts.tool_version,
            "informationUri": "https://github.com/palisade-dev/palisade",
            "rules": rules,
        }}),
    );
    run.insert(
        "invocations".into(),
        json!([{
            "executionSuccessful": report.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }]),
    );
    run.insert("results".into(), Value::Null);
    // What is not a result: the host checks' counts by status and section, the events read.
    let mut run_properties = Map::new();
    if let Some(n) = &report.node {
        let sections: Vec<Value> = n
            .sections
            .iter()
            .map(|s| json!({ "id": s.id, "title": s.title, "counts": s.counts }))
            .collect();
        run_properties.insert("benchmark".into(), json!(n.benchmark));
        run_properties.insert("root".into(), json!(n.root));
        run_properties.insert("host".into(), json!(n.host));
        run_properties.insert("sections".into(), json!(sections));
        run_properties.insert("totals".into(), json!(n.totals));
    }
    if let Some(e) = &report.events {
        run_properties.insert("events".into(), json!(e));
    }
    if !run_properties.is_empty() {
        run.insert("properties".into(), Value::Object(run_properties));
    }
    let mut doc = Map::new();
    doc.insert(
        "$schema".into(),
        json!("https://json.schemastore.org/sarif-2.1.0.json"),
    );
    doc.insert("version".into(), json!("2.1.0"));
    doc.insert("runs".into(), Value::Null);
    (doc, run)
}
