//! PolicyReports (`wgpolicyk8s.io/v1alpha2`): one `PolicyReport` per namespace and one
//! `ClusterPolicyReport` for cluster-scoped objects, as the Policy Working Group's CRDs
//! define them, in a multi-document YAML stream that `kubectl apply -f -` takes.
//!
//! One result per (rule, object): `fail` for an active finding (the first finding's message,
//! the others counted in `properties.findings`), `skip` for findings only suppressed by an
//! exception or annotation. Passing (rule, object) pairs are counted in the summary, not
//! listed. The summary counts are exact; the results are capped at [`MAX_RESULTS`] per
//! report, most severe first, then by rule and object, and a capped report says so in its
//! `palisade.dev/results` annotation (`shown/total`), so a large namespace never comes near
//! etcd's object size limit.
//!
//! The documents are built as the report [`types`], from which [`crd`] derives the CRDs'
//! OpenAPI schema.

pub mod crd;
pub mod types;

use palisade_core::{Report, ReportFinding};
use serde_json::Value;
use std::collections::BTreeMap;
use types::{
    ObjectReference, PolicyReport, PolicyReportResult, ReportMetadata, ResultSeverity,
    ResultStatus, Summary,
};

/// Results listed per report at most.
pub const MAX_RESULTS: usize = 500;
/// Longest message kept in a result, in characters.
const MAX_MESSAGE: usize = 512;

struct Pair<'a> {
    first: &'a ReportFinding,
    findings: usize,
    suppressed: bool,
}

/// The namespace whose report lists an object: its own; `default` for a namespaced object
/// written without one (as `kubectl apply` places it); `None` for cluster-scoped objects.
pub fn report_namespace(o: &palisade_core::ObjectRef) -> Option<String> {
    match &o.namespace {
        Some(ns) => Some(ns.clone()),
        None if palisade_core::object::is_cluster_scoped(
            palisade_core::object::group_of(&o.api_version),
            &o.kind,
        ) =>
        {
            None
        }
        None => Some("default".to_owned()),
    }
}

/// The reports, as YAML documents.
pub(crate) fn render(report: &Report, opts: &crate::RenderOptions) -> String {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write(report, opts, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes the reports to `out` as YAML documents, one at a time (each is bounded by
/// [`MAX_RESULTS`]; the stream of them is never held whole).
pub(crate) fn write(
    report: &Report,
    opts: &crate::RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    for r in reports(report, opts) {
        // Serialising plain structs of strings, numbers and maps cannot fail.
        let doc = serde_json::to_value(&r).unwrap_or_default();
        out.write_all(b"---\n")?;
        out.write_all(
            serde_yaml_ng::to_string(&doc)
                .unwrap_or_default()
                .as_bytes(),
        )?;
    }
    Ok(())
}

/// The reports, as JSON values (one per namespace with something to say, cluster-scoped
/// objects last).
pub fn documents(report: &Report, opts: &crate::RenderOptions) -> Vec<Value> {
    reports(report, opts)
        .iter()
        // Serialising plain structs of strings, numbers and maps cannot fail.
        .map(|r| serde_json::to_value(r).unwrap_or_default())
        .collect()
}

/// The reports (one per namespace with something to say, cluster-scoped objects last).
pub fn reports(report: &Report, opts: &crate::RenderOptions) -> Vec<PolicyReport> {
    // (namespace) -> (rule, object) -> pair
    let mut by_ns: BTreeMap<Option<String>, BTreeMap<(&'static str, String), Pair<'_>>> =
        BTreeMap::new();
    for (f, suppressed) in report
        .findings
        .iter()
        .map(|f| (f, false))
        .chain(report.suppressed.iter().map(|f| (f, true)))
    {
        let key = (f.rule_id, f.object.to_string());
        let pairs = by_ns.entry(report_namespace(&f.object)).or_default();
        match pairs.get_mut(&key) {
            Some(p) => {
                p.findings += 1;
                // Active beats suppressed: the pair fails when any finding is active.
                if p.suppressed && !suppressed {
                    p.first = f;
                    p.suppressed = false;
                }
            }
            None => {
                pairs.insert(
                    key,
                    Pair {
                        first: f,
                        findings: 1,
                        suppressed,
                    },
                );
            }
        }
    }
    let evaluated = report.evaluations.clone().unwrap_or_default();
    let mut namespaces: Vec<Option<String>> = by_ns.keys().cloned().collect();
    for ns in evaluated.keys() {
        if !namespaces.contains(ns) {
            namespaces.push(ns.clone());
        }
    }
    // Namespaces in order, cluster-scoped last.
    namespaces.sort_by(|a, b| (a.is_none(), a).cmp(&(b.is_none(), b)));
    let empty = BTreeMap::new();
    namespaces
        .into_iter()
        .map(|ns| {
            let pairs = by_ns.get(&ns).unwrap_or(&empty);
            let fail = pairs.values().filter(|p| !p.suppressed).count();
            let skip = pairs.len() - fail;
            let pass = evaluated
                .get(&ns)
                .copied()
                .unwrap_or(0)
                .saturating_sub(pairs.len());
            let mut list: Vec<&Pair<'_>> = pairs.values().collect();
            list.sort_by(|a, b| {
                (
                    b.first.severity,
                    a.first.rule_id,
                    a.first.object.to_string(),
                )
                    .cmp(&(
                        a.first.severity,
                        b.first.rule_id,
                        b.first.object.to_string(),
                    ))
            });
            let total = list.len();
            let results: Vec<PolicyReportResult> = list
                .iter()
                .take(MAX_RESULTS)
                .map(|p| result(p, opts))
                .collect();
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            PolicyReport {
                api_version: format!("{}/{}", crd::GROUP, crd::VERSION),
                kind: if ns.is_some() {
                    "PolicyReport"
                } else {
                    "ClusterPolicyReport"
                }
                .to_owned(),
                metadata: ReportMetadata {
                    name: match &ns {
                        Some(_) => "palisade",
                        None => "palisade-cluster",
                    }
                    .to_owned(),
                    labels: [
                        ("app.kubernetes.io/managed-by", "palisade"),
                        ("app.kubernetes.io/part-of", "palisade"),
                    ]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect(),
                    annotations: [(
                        "palisade.dev/results".to_owned(),
                        format!("{}/{total}", results.len()),
                    )]
                    .into(),
                    namespace: ns,
                },
                summary: Summary {
                    pass: count(pass),
                    fail: count(fail),
                    warn: 0,
                    error: 0,
                    skip: count(skip),
                },
                results,
                ..PolicyReport::default()
            }
        })
        .collect()
}

fn result(p: &Pair<'_>, opts: &crate::RenderOptions) -> PolicyReportResult {
    let f = p.first;
    let mut message: String = f.message.chars().take(MAX_MESSAGE).collect();
    if message.len() < f.message.len() {
        message.push('…');
    }
    let mut properties = BTreeMap::new();
    properties.insert("ruleName".into(), f.rule_name.to_owned());
    properties.insert("mode".into(), f.mode.to_string());
    properties.insert("findings".into(), p.findings.to_string());
    if let Some(path) = &f.path {
        properties.insert("path".into(), path.clone());
    }
    if let Some(fix) = &f.fix {
        properties.insert("fix".into(), fix.chars().take(MAX_MESSAGE).collect());
    }
    if let Some(s) = &f.suppression {
        properties.insert("suppressedBy".into(), crate::suppression_text(s));
    }
    properties.insert("version".into(), opts.tool_version.clone());
    PolicyReportResult {
        source: Some("palisade".into()),
        policy: f.rule_id.to_owned(),
        rule: Some(f.rule_name.to_owned()),
        category: Some(category(f.rule_id).to_owned()),
        message: Some(message),
        result: Some(if p.suppressed {
            ResultStatus::Skip
        } else {
            ResultStatus::Fail
        }),
        scored: Some(true),
        severity: Some(severity(f.severity)),
        resources: vec![ObjectReference {
            api_version: Some(f.object.api_version.clone()),
            kind: Some(f.object.kind.clone()),
            name: Some(f.object.name.clone()),
            namespace: f.object.namespace.clone(),
            ..ObjectReference::default()
        }],
        properties,
        ..PolicyReportResult::default()
    }
}

/// The rule family (`POD`); a host check named by its CIS id belongs to `CIS`.
fn category(id: &str) -> &str {
    let family = id.trim_end_matches(|c: char| c.is_ascii_digit());
    if family.is_empty() || family.contains('.') {
        "CIS"
    } else {
        family
    }
}

fn severity(s: palisade_core::Severity) -> ResultSeverity {
    match s {
        palisade_core::Severity::Critical => ResultSeverity::Critical,
        palisade_core::Severity::High => ResultSeverity::High,
        palisade_core::Severity::Medium => ResultSeverity::Medium,
        palisade_core::Severity::Low => ResultSeverity::Low,
        palisade_core::Severity::Info => ResultSeverity::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::{Mode, ObjectRef, Severity};

    fn finding(rule: &'static str, severity: Severity, name: &str) -> ReportFinding {
        ReportFinding {
            rule_id: rule,
            rule_name: "r",
            severity,
            message: "m".repeat(2000),
            object: ObjectRef {
                api_version: "v1".into(),
                kind: "Pod".into(),
                namespace: Some("big".into()),
                name: name.into(),
            }
            .into(),
            location: None,
            path: None,
            fix: None,
            mode: Mode::Audit,
            properties: Default::default(),
            suppression: None,
        }
    }

    #[test]
    fn a_large_namespace_is_capped_with_exact_counts_most_severe_first() {
        let mut report = Report::default();
        for i in 0..600 {
            report
                .findings
                .push(finding("POD002", Severity::Low, &format!("p{i:03}")));
        }
        report
            .findings
            .push(finding("POD001", Severity::Critical, "z"));
        // Two findings of one rule on one object are one result.
        report
            .findings
            .push(finding("POD001", Severity::Critical, "z"));
        report.evaluations = Some([(Some("big".to_owned()), 2000)].into());
        let opts = crate::RenderOptions {
            color: false,
            tool_version: "t".into(),
        };
        let docs = documents(&report, &opts);
        assert_eq!(docs.len(), 1);
        let d = &docs[0];
        assert_eq!(d["summary"]["fail"], 601);
        assert_eq!(d["summary"]["pass"], 2000 - 601);
        let results = d["results"].as_array().unwrap();
        assert_eq!(results.len(), MAX_RESULTS);
        assert_eq!(
            d["metadata"]["annotations"]["palisade.dev/results"],
            "500/601"
        );
        assert_eq!(results[0]["policy"], "POD001");
        assert_eq!(results[0]["properties"]["findings"], "2");
        assert_eq!(results[1]["resources"][0]["name"], "p000");
        // Messages are bounded: the report stays far below etcd's limit.
        assert!(results[0]["message"].as_str().unwrap().chars().count() <= MAX_MESSAGE + 1);
        assert!(serde_json::to_string(d).unwrap().len() < 1 << 20);
    }
}
