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
