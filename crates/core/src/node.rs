//! The result of host checks (`palisade node`): one result per check, grouped by CIS
//! section, with PASS / FAIL / WARN / MANUAL / SKIP counts. Renderers read it from
//! [`crate::Report::node`].

use crate::finding::Severity;
use serde::Serialize;
use std::fmt;

/// The verdict of one host check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CheckStatus {
    /// The host meets the recommendation.
    Pass,
    /// The host does not meet it.
    Fail,
    /// Something to look at: close to failing (a certificate near expiry), a weaker but
    /// accepted setting, or a file the check expected and did not find.
    Warn,
    /// The benchmark marks the check manual: the observed facts are shown, never a verdict.
    Manual,
    /// Not applicable on this host (the component is not present).
    Skip,
}

impl CheckStatus {
    /// Every status, in display order.
    pub const ALL: [CheckStatus; 5] = [
        CheckStatus::Pass,
        CheckStatus::Fail,
        CheckStatus::Warn,
        CheckStatus::Manual,
        CheckStatus::Skip,
    ];

    /// The upper-case name (`PASS`).
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Warn => "WARN",
            CheckStatus::Manual => "MANUAL",
            CheckStatus::Skip => "SKIP",
        }
    }
}

impl fmt::Display for CheckStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts of results by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCounts {
    /// PASS results.
    pub pass: usize,
    /// FAIL results.
    pub fail: usize,
    /// WARN results.
    pub warn: usize,
    /// MANUAL results.
    pub manual: usize,
    /// SKIP results.
    pub skip: usize,
    /// FAIL and WARN results suppressed by an exception (counted here, not as FAIL or WARN).
    #[serde(skip_serializing_if = "is_zero")]
    pub suppressed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl StatusCounts {
    /// Adds one result.
    pub fn add(&mut self, s: CheckStatus) {
        self.add_result(s, false);
    }

    /// Adds one result; a suppressed FAIL or WARN counts as suppressed.
    pub fn add_result(&mut self, s: CheckStatus, suppressed: bool) {
        if suppressed && matches!(s, CheckStatus::Fail | CheckStatus::Warn) {
            self.suppressed += 1;
            return;
        }
        match s {
            CheckStatus::Pass => self.pass += 1,
            CheckStatus::Fail => self.fail += 1,
            CheckStatus::Warn => self.warn += 1,
            CheckStatus::Manual => self.manual += 1,
            CheckStatus::Skip => self.skip += 1,
        }
    }

    /// The count of one status.
    pub fn get(&self, s: CheckStatus) -> usize {
        match s {
            CheckStatus::Pass => self.pass,
            CheckStatus::Fail => self.fail,
            CheckStatus::Warn => self.warn,
            CheckStatus::Manual => self.manual,
            CheckStatus::Skip => self.skip,
        }
    }
}

/// The result of one host check.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckResult {
    /// The check id: the CIS recommendation (`1.2.2`) or a Palisade check (`tls.cert-expiry`).
    pub id: String,
    /// The section id it is grouped under (`1.2`, `tls`).
    pub section: String,
    /// The family: `CP` (control plane), `NODE` (worker and host) or `VER` (versions).
    pub family: &'static str,
    /// What the check verifies.
    pub title: String,
    /// The verdict.
    pub status: CheckStatus,
    /// Severity of a FAIL or WARN.
    pub severity: Severity,
    /// The component it concerns (`kube-apiserver`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// What was observed (the effective value and where it came from).
    pub observed: String,
    /// What is expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The file concerned, as a path on the host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// Whether the benchmark marks the check automated (false: manual).
    pub automated: bool,
    /// Present when an exception of the configuration covers this FAIL or WARN: it is
    /// listed and counted as suppressed, and does not fail the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<crate::report::Suppression>,
}

/// A section of results.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSection {
    /// `1.2`, `4.1`, `tls`...
    pub id: String,
    /// `API Server`.
    pub title: String,
    /// Counts of its results.
    pub counts: StatusCounts,
}

/// A component found on the host.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeComponent {
    /// `kube-apiserver`, `kubelet`...
    pub name: String,
    /// Where its configuration was read (`process 1234`, a manifest, a systemd drop-in).
    pub sources: Vec<String>,
    /// Its version, when known (from an image tag).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The result of `palisade node`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReport {
    /// The benchmark version (`cis-1.12`).
    pub benchmark: String,
    /// The host root the checks read (`/` on a host).
    pub root: String,
    /// The node's name as exceptions match it (`match: {kind: Node, name: ...}`): the
    /// root's `/etc/hostname`, else the root path.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// The components found.
    pub components: Vec<NodeComponent>,
    /// Sections in benchmark order, with counts.
    pub sections: Vec<NodeSection>,
    /// Every result, in section order.
    pub results: Vec<CheckResult>,
    /// Counts over every result.
    pub totals: StatusCounts,
}

impl NodeReport {
    /// Recomputes the section and total counts from the results (sections without results
    /// are dropped; results of unknown sections get a section titled by their id).
    pub fn recount(&mut self) {
        self.totals = StatusCounts::default();
        for s in &mut self.sections {
            s.counts = StatusCounts::default();
        }
        for r in &self.results {
            let suppressed = r.suppression.is_some();
            self.totals.add_result(r.status, suppressed);
            match self.sections.iter_mut().find(|s| s.id == r.section) {
                Some(s) => s.counts.add_result(r.status, suppressed),
                None => {
                    let mut counts = StatusCounts::default();
                    counts.add_result(r.status, suppressed);
                    self.sections.push(NodeSection {
                        id: r.section.clone(),
                        title: r.section.clone(),
                        counts,
                    });
                }
            }
        }
        self.sections.retain(|s| {
            s.counts.suppressed > 0 || CheckStatus::ALL.iter().any(|st| s.counts.get(*st) > 0)
        });
        let order: Vec<String> = self.sections.iter().map(|s| s.id.clone()).collect();
        self.results
            .sort_by_key(|r| order.iter().position(|s| *s == r.section));
    }

    /// The results of one section.
    pub fn section_results<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a CheckResult> {
        self.results.iter().filter(move |r| r.section == id)
    }
}
