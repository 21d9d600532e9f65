//! Compliance frameworks: the controls each rule maps to (its `framework:id` references),
//! and the per-control pass/fail summary of a report.

use crate::report::ReportFinding;
use crate::rule::RuleMeta;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A compliance framework, selected with `--framework`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Framework {
    /// CIS Kubernetes Benchmark (`cis:5.2.2`).
    Cis,
    /// NSA/CISA Kubernetes Hardening Guidance (`nsa:pod-security`).
    Nsa,
    /// NIST SP 800-190 (`nist:4.4.3`).
    Nist,
    /// OWASP Kubernetes Top 10 (`owasp:K01`).
    Owasp,
    /// The book's recommendations (`book:ops.pod-security-policy`).
    Book,
}

impl Framework {
    /// Every framework.
    pub const ALL: [Framework; 5] = [
        Framework::Cis,
        Framework::Nsa,
        Framework::Nist,
        Framework::Owasp,
        Framework::Book,
    ];

    /// The reference prefix (`cis`).
    pub fn prefix(self) -> &'static str {
        match self {
            Framework::Cis => "cis",
            Framework::Nsa => "nsa",
            Framework::Nist => "nist",
            Framework::Owasp => "owasp",
            Framework::Book => "book",
        }
    }

    /// The framework's full title.
    pub fn title(self) -> &'static str {
        match self {
            Framework::Cis => "CIS Kubernetes Benchmark",
            Framework::Nsa => "NSA/CISA Kubernetes Hardening Guidance",
            Framework::Nist => "NIST SP 800-190",
            Framework::Owasp => "OWASP Kubernetes Top 10",
            Framework::Book => "Book recommendations",
        }
    }

    /// The controls of this framework a rule maps to (`5.2.2`, without the prefix).
    pub fn controls(self, rule: &RuleMeta) -> Vec<&'static str> {
        rule.references
            .iter()
            .filter_map(|r| r.strip_prefix(self.prefix())?.strip_prefix(':'))
            .collect()
    }

    /// True when the rule maps to at least one control of this framework.
    pub fn covers(self, rule: &RuleMeta) -> bool {
        !self.controls(rule).is_empty()
    }
}

/// The sections of the NSA/CISA Kubernetes Hardening Guidance, by reference id.
const NSA_SECTIONS: &[(&str, &str)] = &[
    ("pod-security", "Kubernetes Pod security"),
    ("network-separation", "Network separation and hardening"),
    ("control-plane", "Control plane hardening"),
    ("secrets", "Secrets"),
    (
        "authentication-authorization",
        "Authentication and authorization",
    ),
    (
        "logging-threat-detection",
        "Audit logging and threat detection",
    ),
    ("upgrading", "Upgrading and application security practices"),
];

/// The risks of NIST SP 800-190, section 4, by number.
const NIST_SECTIONS: &[(&str, &str)] = &[
    ("4.1.1", "Image vulnerabilities"),
    ("4.1.2", "Image configuration defects"),
    ("4.1.3", "Embedded malware"),
    ("4.1.4", "Embedded clear text secrets"),
    ("4.1.5", "Use of untrusted images"),
    ("4.2.1", "Insecure connections to registries"),
    ("4.2.2", "Stale images in registries"),
    (
        "4.2.3",
        "Insufficient authentication and authorization restrictions",
    ),
    ("4.3.1", "Unbounded administrative access"),
    ("4.3.2", "Unauthorized access"),
    ("4.3.3", "Poorly separated inter-container network traffic"),
    ("4.3.4", "Mixing of workload sensitivity levels"),
    ("4.3.5", "Orchestrator node trust"),
    ("4.4.1", "Vulnerabilities within the runtime software"),
    ("4.4.2", "Unbounded network access from containers"),
    ("4.4.3", "Insecure container runtime configurations"),
    ("4.4.4", "App vulnerabilities"),
    ("4.4.5", "Rogue containers"),
    ("4.5.1", "Large attack surface"),
    ("4.5.2", "Shared kernel"),
    ("4.5.3", "Host OS component vulnerabilities"),
    ("4.5.4", "Improper user access rights"),
    ("4.5.5", "Host OS file system tampering"),
];

/// The OWASP Kubernetes Top 10 (2022), by id.
const OWASP_RISKS: &[(&str, &str)] = &[
    ("K01", "Insecure Workload Configurations"),
    ("K02", "Supply Chain Vulnerabilities"),
    ("K03", "Overly Permissive RBAC Configurations"),
    ("K04", "Lack of Centralized Policy Enforcement"),
    ("K05", "Inadequate Logging and Monitoring"),
    ("K06", "Broken Authentication Mechanisms"),
    ("K07", "Missing Network Segmentation Controls"),
    ("K08", "Secrets Management Failures"),
    ("K09", "Misconfigured Cluster Components"),
    ("K10", "Outdated and Vulnerable Kubernetes Components"),
];

fn titled(table: &[(&str, &'static str)], id: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == id).map(|(_, t)| *t)
}

/// One reference (`framework:id`) in words, as the documentation shows it: `cis:5.2.2` is
/// "CIS Kubernetes Benchmark 5.2.2", `mitre:T1609` a link to the technique. A reference
/// without a known prefix is shown as written.
pub fn describe_reference(reference: &str) -> String {
    let Some((prefix, id)) = reference.split_once(':') else {
        return format!("`{reference}`");
    };
    let with_title = |framework: Framework, title: Option<&str>| match title {
        Some(t) => format!("{} {id}, \"{t}\"", framework.title()),
        None => format!("{} {id}", framework.title()),
    };
    match prefix {
        "cis" => with_title(Framework::Cis, None),
        "nsa" => match titled(NSA_SECTIONS, id) {
            Some(t) => format!("{}, \"{t}\"", Framework::Nsa.title()),
            None => with_title(Framework::Nsa, None),
        },
        "nist" => with_title(Framework::Nist, titled(NIST_SECTIONS, id)),
        "owasp" => with_title(Framework::Owasp, titled(OWASP_RISKS, id)),
        "book" => format!("Book recommendation `{id}`"),
        "pss" => format!("Pod Security Standards, upstream check `{id}`"),
        "mitre" => format!(
            "MITRE ATT&CK (Containers matrix) [{id}](https://attack.mitre.org/techniques/{}/)",
            id.replace('.', "/")
        ),
        _ => format!("`{reference}`"),
    }
}

/// The `## References` section of a rule's documentation, generated from its `references`
/// (the one place they are written): one line per reference, with its `framework:id` for
/// `--select`. Empty when the rule has none.
pub fn references_markdown(rule: &RuleMeta) -> String {
    if rule.references.is_empty() {
        return String::new();
    }
    let mut out = String::from("## References\n");
    for r in rule.references {
        out.push_str(&format!("- {} (`{r}`)\n", describe_reference(r)));
    }
    out
}

impl fmt::Display for Framework {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}

impl FromStr for Framework {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Framework::ALL
            .into_iter()
            .find(|f| f.prefix().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown framework `{s}` (expected one of: cis, nsa, nist, owasp, book)")
            })
    }
}

/// Orders control ids naturally (`5.2.2` before `5.2.10`, `K02` before `K10`).
pub fn control_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn key(s: &str) -> Vec<(u64, String)> {
        s.split(['.', ':'])
            .map(|p| {
                let digits: String = p.chars().filter(char::is_ascii_digit).collect();
                (digits.parse().unwrap_or(u64::MAX), p.to_owned())
            })
            .collect()
    }
    key(a).cmp(&key(b))
}

/// The rules mapped to each control of a framework, controls in natural order.
pub fn rules_by_control<'a>(
    framework: Framework,
    rules: impl IntoIterator<Item = &'a RuleMeta>,
) -> Vec<(&'static str, Vec<&'a RuleMeta>)> {
    let mut map: BTreeMap<&'static str, Vec<&'a RuleMeta>> = BTreeMap::new();
    for r in rules {
        for c in framework.controls(r) {
            map.entry(c).or_default().push(r);
        }
    }
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_by(|a, b| control_order(a.0, b.0));
    v
}

/// Whether a control passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ControlStatus {
    /// None of its rules has an active finding.
    Pass,
    /// At least one of its rules has an active finding.
    Fail,
    /// None of its rules had anything to judge in the input (a control-plane control on
    /// application manifests): neither passed nor failed.
    NotEvaluated,
}

/// One control of a compliance summary.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlResult {
    /// The control id (`5.2.2`).
    pub control: &'static str,
    /// Pass or fail.
    pub status: ControlStatus,
    /// The rules that ran for it.
    pub rules: Vec<&'static str>,
    /// Active findings of those rules.
    pub findings: usize,
}

/// The per-control result of a scan for one framework.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceSummary {
    /// The framework.
    pub framework: Framework,
    /// Controls that passed.
    pub passed: usize,
    /// Controls that failed.
    pub failed: usize,
    /// Controls none of whose rules applied to the input.
    pub not_evaluated: usize,
    /// Every control covered by the rules that ran, in natural order.
    pub controls: Vec<ControlResult>,
}

impl ComplianceSummary {
    /// Computes the summary: a control fails when any of its rules has an active finding
    /// (suppressed findings do not count), and is not evaluated when none of its rules
    /// `evaluated` (had anything in the input to judge).
    pub fn compute(
        framework: Framework,
        rules: &[&'static RuleMeta],
        findings: &[ReportFinding],
        evaluated: &dyn Fn(&str) -> bool,
    ) -> ComplianceSummary {
        let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
        for f in findings {
            *per_rule.entry(f.rule_id).or_default() += 1;
        }
        let controls: Vec<ControlResult> = rules_by_control(framework, rules.iter().copied())
            .into_iter()
            .map(|(control, rs)| {
                let n: usize = rs
                    .iter()
                    .map(|r| per_rule.get(r.id).copied().unwrap_or(0))
                    .sum();
                ControlResult {
                    control,
                    status: if n > 0 {
                        ControlStatus::Fail
                    } else if rs.iter().any(|r| evaluated(r.id)) {
                        ControlStatus::Pass
                    } else {
                        ControlStatus::NotEvaluated
                    },
                    rules: rs.iter().map(|r| r.id).collect(),
                    findings: n,
                }
            })
            .collect();
        ComplianceSummary {
            framework,
            passed: controls
                .iter()
                .filter(|c| c.status == ControlStatus::Pass)
                .count(),
            failed: controls
                .iter()
                .filter(|c| c.status == ControlStatus::Fail)
                .count(),
            not_evaluated: controls
                .iter()
                .filter(|c| c.status == ControlStatus::NotEvaluated)
                .count(),
            controls,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_and_parse() {
        let mut v = vec!["5.2.10", "5.2.2", "1.2.11", "4"];
        v.sort_by(|a, b| control_order(a, b));
        assert_eq!(v, ["1.2.11", "4", "5.2.2", "5.2.10"]);
        let mut v = vec!["K10", "K02"];
        v.sort_by(|a, b| control_order(a, b));
        assert_eq!(v, ["K02", "K10"]);
        assert_eq!("CIS".parse::<Framework>(), Ok(Framework::Cis));
        assert!("pss".parse::<Framework>().is_err());
    }
}
