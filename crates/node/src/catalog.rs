//! Every check `palisade node` can report, listed without a host: the CIS flag and file
//! tables, the manual-only CIS checks, and Palisade's own TLS, access and version checks. The
//! rule catalogue (`palisade rules`, `palisade explain`, selectors, policy validation) is
//! built from this list.

use crate::checks::cis::{
    self, related_check, FILE_CHECKS, FLAG_CHECKS, MANUAL_ONLY, NEWEST_MINOR, SECTIONS,
};
use crate::checks::own::HOST_CHECKS;
use crate::checks::{Component, Versions};
use crate::engine::section_of_check;
use palisade_core::Severity;

/// A host check as the catalogue lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckInfo {
    /// The id `palisade node` prints: a CIS id (`1.2.1`) or a Palisade check
    /// (`tls.encryption-at-rest`).
    pub id: &'static str,
    /// What it verifies (for a CIS check, CIS's title of the newest benchmark).
    pub title: &'static str,
    /// The section it is reported under (`1.2`, `tls`).
    pub section: &'static str,
    /// The section's title (`API Server`).
    pub section_title: &'static str,
    /// `CP` (control plane), `NODE` (worker and host) or `VER` (versions).
    pub family: &'static str,
    /// Severity of a FAIL or WARN.
    pub severity: Severity,
    /// The component whose presence makes the check apply, if any.
    pub component: Option<Component>,
    /// What is expected.
    pub expected: Option<String>,
    /// How to fix a failure.
    pub remediation: Option<String>,
    /// The CIS recommendations it is (a CIS check) or evaluates (a Palisade check), as CIS
    /// ids (`1.2.27`).
    pub cis: Vec<&'static str>,
    /// False when CIS marks it manual: reported as MANUAL with what was observed.
    pub automated: bool,
    /// The benchmarks (`cis-1.12`...) it belongs to; empty for Palisade's own checks, which
    /// run under every benchmark.
    pub benchmarks: Vec<&'static str>,
}

fn benchmarks(v: Versions) -> Vec<&'static str> {
    cis::BENCHMARKS
        .iter()
        .copied()
        .filter(|b| cis::benchmark_minor(b).is_some_and(|m| v.since <= m && m <= v.until))
        .collect()
}

fn section_title(section: &str) -> &'static str {
    SECTIONS
        .iter()
        .find(|(id, _)| *id == section)
        .map_or("", |(_, t)| t)
}

fn family(c: Component) -> &'static str {
    if c.is_control_plane() {
        "CP"
    } else {
        "NODE"
    }
}

/// Adds a check, or merges it with the entry of the same id (another benchmark's version):
/// the benchmarks are joined, the rest comes from the preferred one.
fn push(out: &mut Vec<CheckInfo>, info: CheckInfo, prefer: bool) {
    let Some(existing) = out.iter_mut().find(|c| c.id == info.id) else {
        out.push(info);
        return;
    };
    let mut benchmarks = existing.benchmarks.clone();
    benchmarks.extend(info.benchmarks.iter().copied());
    benchmarks.sort_by_key(|b| cis::BENCHMARKS.iter().position(|x| x == b));
    benchmarks.dedup();
    if prefer {
        *existing = info;
    }
    existing.benchmarks = benchmarks;
}

/// Every check, each id once, in report order (section, then id). A CIS id that changed
/// title between benchmarks (1.1.20, 4.1.7) is listed with the newest benchmark's.
pub fn checks() -> Vec<CheckInfo> {
    let mut out: Vec<CheckInfo> = Vec::new();
    let newest = |v: Versions| v.since <= NEWEST_MINOR && NEWEST_MINOR <= v.until;
    for c in FLAG_CHECKS {
        let section = section_of_check(c.id);
        push(
            &mut out,
            CheckInfo {
                id: c.id,
                title: c.title,
                section,
                section_title: section_title(section),
                family: family(c.component),
                severity: c.severity,
                component: Some(c.component),
                expected: Some(c.expected()),
                remediation: Some(c.remediation.to_owned()),
                cis: vec![c.id],
                automated: !c.manual,
                benchmarks: benchmarks(c.versions),
            },
            newest(c.versions),
        );
    }
    for c in FILE_CHECKS {
        let section = section_of_check(c.id);
        let (expected, remediation) = match (c.max_mode, c.owner) {
            (Some(m), _) => (
                format!("mode {m:o} or more restrictive"),
                format!("chmod {m:o} the file"),
            ),
            (None, Some(o)) => (format!("owned by {o}"), format!("chown {o} the file")),
            (None, None) => (String::new(), String::new()),
        };
        push(
            &mut out,
            CheckInfo {
                id: c.id,
                title: c.title,
                section,
                section_title: section_title(section),
                family: family(c.component),
                // As the engine reports every file check.
                severity: Severity::Medium,
                component: Some(c.component),
                expected: (!expected.is_empty()).then_some(expected),
                remediation: (!remediation.is_empty()).then_some(remediation),
                cis: vec![c.id],
                automated: !c.manual,
                benchmarks: benchmarks(c.versions),
            },
            newest(c.versions),
        );
    }
    for (id, title, c) in MANUAL_ONLY {
        let section = section_of_check(id);
        push(
            &mut out,
            CheckInfo {
                id,
                title,
                section,
                section_title: section_title(section),
                family: family(*c),
                severity: Severity::Low,
                component: Some(*c),
                expected: None,
                remediation: None,
                cis: vec![id],
                automated: false,
                benchmarks: benchmarks(crate::checks::ALL_VERSIONS),
            },
            true,
        );
    }
    let cis_ids: Vec<&'static str> = out.iter().map(|c| c.id).collect();
    for h in HOST_CHECKS {
        let section = section_of_check(h.id);
        let is_cis = h.id.starts_with(|c: char| c.is_ascii_digit());
        let cis = if is_cis {
            vec![h.id]
        } else {
            let mut related: Vec<&'static str> = cis_ids
                .iter()
                .chain(std::iter::once(&cis::ENCRYPTION_PROVIDERS_ID))
                .copied()
                .filter(|id| related_check(id) == Some(h.id))
                .collect();
            related.dedup();
            related
        };
        push(
            &mut out,
            CheckInfo {
                id: h.id,
                title: h.title,
                section,
                section_title: section_title(section),
                family: h.family,
                severity: h.severity,
                component: h.component,
                expected: h.expected.map(str::to_owned),
                remediation: h.remediation.map(str::to_owned),
                cis,
                automated: h.automated,
                benchmarks: if is_cis {
                    benchmarks(crate::checks::ALL_VERSIONS)
                } else {
                    Vec::new()
                },
            },
            true,
        );
    }
    let order: Vec<&str> = SECTIONS.iter().map(|(id, _)| *id).collect();
    out.sort_by_key(|c| {
        (
            order.iter().position(|s| *s == c.section),
            crate::engine::id_key(c.id),
        )
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_once_with_a_known_section() {
        let all = checks();
        let mut ids: Vec<_> = all.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), all.len());
        for c in &all {
            assert!(
                !c.section_title.is_empty(),
                "{}: section {}",
                c.id,
                c.section
            );
            assert!(!c.title.is_empty(), "{}", c.id);
            assert!(
                ["CP", "NODE", "VER"].contains(&c.family),
                "{}: {}",
                c.id,
                c.family
            );
        }
    }

    #[test]
    fn versioned_titles_and_related_checks() {
        let all = checks();
        let get = |id: &str| all.iter().find(|c| c.id == id).unwrap();
        let c = get("1.1.20");
        assert!(c.title.contains("644"), "{}", c.title);
        assert_eq!(c.benchmarks, ["cis-1.12", "cis-1.11", "cis-1.10"]);
        assert_eq!(get("1.2.30").benchmarks, ["cis-1.12"]);
        assert_eq!(get("tls.encryption-at-rest").cis, ["1.2.27", "1.2.28"]);
        assert_eq!(
            get("tls.audit-log").cis,
            ["1.2.16", "1.2.17", "1.2.18", "1.2.19"]
        );
        assert!(get("access.sshd-root-login").cis.is_empty());
        assert_eq!(get("1.2.28").family, "CP");
        assert!(!get("1.2.28").automated);
        assert_eq!(get("version.known-cves").family, "VER");
    }
}
