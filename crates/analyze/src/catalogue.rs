//! One catalogue of rule metadata for every verdict Palisade gives: the rules of
//! `palisade scan` (the rule crate's registry), the host checks of `palisade node` (CIS ids
//! such as `1.2.1` and Palisade's own `tls.*`, `access.*`, `version.*` checks) and the
//! built-in detection rules of `palisade detect` (`DET001`...). `palisade rules`,
//! `palisade explain`, selectors and the validation of `palisade.yaml` read it.
//!
//! Host checks and detection rules are data of their engines, not Rust items, so their
//! [`RuleMeta`]s are built once, on first use, and live for the rest of the process.

use palisade_core::{RuleMeta, Scope, Severity};
use palisade_detect::RuleSet;
use palisade_node::catalog::CheckInfo;
use std::fmt::Write;
use std::sync::OnceLock;

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn leak_list(v: Vec<&'static str>) -> &'static [&'static str] {
    Box::leak(v.into_boxed_slice())
}

/// Every rule, host check and built-in detection rule: the rules of `palisade scan` in id
/// order, then the host checks in report order, then the detection rules.
pub fn all() -> &'static [&'static RuleMeta] {
    static ALL: OnceLock<Vec<&'static RuleMeta>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v = palisade_rules::registry::metas();
        v.extend_from_slice(host_checks());
        v.extend_from_slice(detection_rules());
        v
    })
}

/// The rules `palisade scan` runs.
pub fn scan_rules() -> Vec<&'static RuleMeta> {
    palisade_rules::registry::metas()
}

/// What admission needs to evaluate a scan rule (`None` for host checks and detection
/// rules, which admission does not run).
pub fn admission_needs(id: &str) -> Option<palisade_core::AdmissionNeeds> {
    palisade_rules::all()
        .iter()
        .find(|r| r.meta().id == id)
        .map(|r| r.admission_needs())
}

/// The host checks of `palisade node`, in report order.
pub fn host_checks() -> &'static [&'static RuleMeta] {
    static HOST: OnceLock<Vec<&'static RuleMeta>> = OnceLock::new();
    HOST.get_or_init(|| {
        palisade_node::catalog::checks()
            .iter()
            .map(|c| &*Box::leak(Box::new(host_meta(c))))
            .collect()
    })
}

/// The built-in detection rules of `palisade detect`.
pub fn detection_rules() -> &'static [&'static RuleMeta] {
    static DET: OnceLock<Vec<&'static RuleMeta>> = OnceLock::new();
    DET.get_or_init(|| {
        RuleSet::builtin()
            .rules()
            .iter()
            .map(|r| &*Box::leak(Box::new(detection_meta(r))))
            .collect()
    })
}

/// A rule by id (case-insensitive) or name (the first in catalogue order when a name is
/// shared across engines).
pub fn find(id_or_name: &str) -> Option<&'static RuleMeta> {
    all()
        .iter()
        .copied()
        .find(|m| m.id.eq_ignore_ascii_case(id_or_name) || m.name == id_or_name)
}

/// Every entry whose id (case-insensitive) or name is this: a name may be shared by a rule
/// of `palisade scan` and a detection rule about the same risk.
pub fn find_all(id_or_name: &str) -> Vec<&'static RuleMeta> {
    all()
        .iter()
        .copied()
        .filter(|m| m.id.eq_ignore_ascii_case(id_or_name) || m.name == id_or_name)
        .collect()
}

/// The metadata of the rules of a detection rule set: the catalogue's entry for a built-in
/// rule as shipped, a new entry (built once per call, for the life of the process) for a
/// rule added or overridden by a rule file. Call it once per rule set.
pub fn detection_metas(rules: &RuleSet) -> Vec<&'static RuleMeta> {
    rules
        .rules()
        .iter()
        .map(|r| {
            let built = detection_meta(r);
            detection_rules()
                .iter()
                .copied()
                .find(|m| {
                    m.id == built.id
                        && m.name == built.name
                        && m.severity == built.severity
                        && m.references == built.references
                        && m.doc == built.doc
                })
                .unwrap_or_else(|| Box::leak(Box::new(built)))
        })
        .collect()
}

/// A detection severity as a finding's.
pub fn severity(s: palisade_detect::Severity) -> Severity {
    match s {
        palisade_detect::Severity::Critical => Severity::Critical,
        palisade_detect::Severity::High => Severity::High,
        palisade_detect::Severity::Medium => Severity::Medium,
        palisade_detect::Severity::Low => Severity::Low,
        palisade_detect::Severity::Info => Severity::Info,
    }
}

/// A finding's severity as a detection severity (for alerts written as JSON lines).
pub fn detect_severity(s: Severity) -> palisade_detect::Severity {
    match s {
        Severity::Critical => palisade_detect::Severity::Critical,
        Severity::High => palisade_detect::Severity::High,
        Severity::Medium => palisade_detect::Severity::Medium,
        Severity::Low => palisade_detect::Severity::Low,
        Severity::Info => palisade_detect::Severity::Info,
    }
}

/// The book recommendation a host check section serves.
fn book(c: &CheckInfo) -> &'static str {
    match c.section {
        "3.2" => "book:ops.audit-logging",
        "4.1" | "4.2" | "4.3" => "book:platform.node-hardening",
        "tls" if c.id.starts_with("tls.audit") => "book:ops.audit-logging",
        "tls" => "book:platform.control-plane-tls",
        "access" => "book:platform.node-access",
        "version" => "book:platform.patches",
        _ => "book:ops.control-plane-access",
    }
}

fn host_meta(c: &CheckInfo) -> RuleMeta {
    let mut doc = String::from("## What it checks\n");
    let _ = writeln!(doc, "{}.\n", c.title.trim_end_matches('.'));
    let _ = write!(
        doc,
        "`palisade node` reports it in section {} ({})",
        c.section, c.section_title
    );
    if let Some(comp) = c.component {
        let _ = write!(doc, " when `{}` runs on the host", comp.name());
        if c.cis.first() == Some(&c.id) {
            doc.push_str(" (SKIP otherwise)");
        }
    }
    doc.push_str(".\n");
    if let Some(e) = &c.expected {
        let _ = writeln!(doc, "\nExpected: {e}.");
    }
    if !c.automated {
        doc.push_str(
            "\nCIS marks this check manual: it is reported as MANUAL with what was observed, \
             never as a verdict.\n",
        );
    }
    if c.cis.is_empty() {
        doc.push_str(
            "\nA Palisade check; the CIS Kubernetes Benchmark has no recommendation for it.\n",
        );
    }
    if !c.benchmarks.is_empty() {
        let _ = writeln!(doc, "\nBenchmarks: {}.", c.benchmarks.join(", "));
    }
    if let Some(r) = &c.remediation {
        let _ = writeln!(doc, "\n## How to fix\n{r}.");
    }
    let mut references: Vec<&'static str> =
        c.cis.iter().map(|id| leak(format!("cis:{id}"))).collect();
    references.push(book(c));
    RuleMeta {
        id: c.id,
        name: c.id,
        severity: c.severity,
        summary: c.title,
        doc: leak(doc),
        references: leak_list(references),
        tags: &["host"],
        level: None,
        scope: Scope::Host,
        kinds: &[],
        options: &[],
        family_name: Some(c.family),
    }
}

fn detection_meta(r: &palisade_detect::Rule) -> RuleMeta {
    let description = r.description.trim();
    let first = description
        .split_once(". ")
        .map_or(description, |(s, _)| s)
        .trim_end_matches('.');
    let mut doc = format!("## What it detects\n{description}\n\n## Condition\n```\n");
    let _ = writeln!(doc, "{}\n```", r.condition_source.trim());
    let _ = writeln!(doc, "\n## Alert\n`{}`", r.output_source.trim());
    let ex = &r.except;
    let allow: Vec<String> = [
        ("users", &ex.users),
        ("groups", &ex.groups),
        ("namespaces", &ex.namespaces),
        ("service accounts", &ex.service_accounts),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}: {}", v.join(", ")))
    .collect();
    if !allow.is_empty() {
        let _ = writeln!(doc, "\n## Never alerts for\n{}.", allow.join("; "));
    }
    if let Some(t) = &r.threshold {
        let by = match t.by {
            palisade_detect::ThresholdKey::User => "user",
            palisade_detect::ThresholdKey::SourceIp => "client address",
            palisade_detect::ThresholdKey::Namespace => "namespace",
        };
        let window = t.window_micros / 1_000_000;
        let _ = writeln!(
            doc,
            "\n## Threshold\nOne alert when {} matching events of the same {by} occur within {window} s; then quiet for that {by} for one window.",
            t.count
        );
    }
    let mut references: Vec<&'static str> =
        r.mitre.iter().map(|t| leak(format!("mitre:{t}"))).collect();
    references.push("book:ops.threat-detection");
    RuleMeta {
        id: leak(r.id.clone()),
        name: leak(r.name.clone()),
        severity: severity(r.severity),
        summary: leak(first.to_owned()),
        doc: leak(doc),
        references: leak_list(references),
        tags: &["detection"],
        level: None,
        scope: Scope::Event,
        kinds: &[],
        options: &[],
        family_name: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::select;

    #[test]
    fn ids_and_names_are_unique_across_engines() {
        let all = all();
        let mut ids: Vec<String> = all.iter().map(|m| m.id.to_ascii_uppercase()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len(), "an id is in two engines");
        // Names are unique within an engine; across engines one is shared (NET010 and
        // DET020 are both `ingress-without-tls`: one reports the manifest, the other its
        // creation), and a name selects both.
        for group in [
            scan_rules(),
            host_checks().to_vec(),
            detection_rules().to_vec(),
        ] {
            let mut names: Vec<&str> = group.iter().map(|m| m.name).collect();
            names.sort();
            names.dedup();
            assert_eq!(names.len(), group.len(), "a name is used twice");
        }
        assert_eq!(find("ingress-without-tls").unwrap().id, "NET010");
        assert_eq!(find_all("ingress-without-tls").len(), 2);
        assert_eq!(
            all.len(),
            scan_rules().len() + host_checks().len() + detection_rules().len()
        );
    }

    #[test]
    fn every_entry_belongs_to_a_declared_family() {
        for m in all() {
            assert!(
                palisade_core::Family::find(m.family()).is_some(),
                "{}: family {} is not in palisade_core::FAMILIES",
                m.id,
                m.family()
            );
        }
    }

    #[test]
    fn every_engine_is_listed_and_findable() {
        let det = find("det001").unwrap();
        assert_eq!((det.name, det.scope), ("pod-exec-attach", Scope::Event));
        assert!(det.references.contains(&"mitre:T1609"));
        assert!(det.doc_markdown().contains("## What it detects"));
        let host = find("1.2.1").unwrap();
        assert_eq!((host.scope, host.family()), (Scope::Host, "CP"));
        assert!(host.references.contains(&"cis:1.2.1"));
        assert!(host.doc_markdown().contains("manual"));
        let tls = find("tls.encryption-at-rest").unwrap();
        assert!(tls.references.contains(&"cis:1.2.27"));
        assert_eq!(find("privileged-container").unwrap().id, "POD001");
        assert!(find("XYZ123").is_none());
    }

    #[test]
    fn selectors_reach_host_checks_and_detection_rules() {
        let count = |sel: &str| all().iter().filter(|m| select::matches(sel, m)).count();
        assert_eq!(count("DET"), detection_rules().len());
        assert!(count("1.2") >= 25, "{}", count("1.2"));
        // `cis:1.2` also selects CP001 (which cites section 1.2) and the Palisade checks
        // that evaluate a 1.2 recommendation.
        assert!(count("cis:1.2") > count("1.2"));
        assert!(select::matches("cis:1.2", find("CP001").unwrap()));
        assert!(select::matches("cis:1.2", find("tls.audit-log").unwrap()));
        let host = |sel: &str| {
            host_checks()
                .iter()
                .filter(|m| select::matches(sel, m))
                .count()
        };
        assert_eq!(host("tls"), 11);
        assert_eq!(host("tls.kubelet"), 4);
        assert!(select::matches("mitre:T1609", find("DET001").unwrap()));
    }

    #[test]
    fn a_rule_file_override_gets_its_own_entry() {
        let mut rules = RuleSet::builtin();
        let builtin = detection_metas(&rules);
        assert!(builtin
            .iter()
            .zip(detection_rules())
            .all(|(a, b)| std::ptr::eq(*a, *b)));
        rules
            .add_yaml(
                "custom.yaml",
                "rules:\n  - id: DET900\n    name: custom-rule\n    severity: low\n    description: Custom.\n    condition: verb == \"delete\"\n    output: \"{user} deleted\"\n",
            )
            .unwrap();
        let metas = detection_metas(&rules);
        let custom = metas.iter().find(|m| m.id == "DET900").unwrap();
        assert_eq!(
            (custom.name, custom.severity),
            ("custom-rule", Severity::Low)
        );
    }
}
