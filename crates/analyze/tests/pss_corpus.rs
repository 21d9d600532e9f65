//! The POD rules, run through the analysis facade exactly as `palisade scan --select pss
//! --profile LEVEL --pss-version V` runs them, agree with every upstream Pod Security
//! Admission fixture in `../shared/corpus/psa/test/testdata`: pass fixtures give no POD
//! finding, fail fixtures give a finding carrying the check their file name names.

#![allow(clippy::print_stderr)]

use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, PssLevel, PssVersion};
use std::path::PathBuf;

fn testdata() -> Option<PathBuf> {
    palisade_testkit::corpus("psa/test/testdata")
}

/// Baseline checks that the restricted level replaces, by the replacing check.
fn replaced_by(check: &str) -> Option<&'static str> {
    match check {
        "capabilities_baseline" => Some("capabilities_restricted"),
        "seccompprofile_baseline" => Some("seccompProfile_restricted"),
        "procmount" => Some("procMount_restricted"),
        _ => None,
    }
}

#[test]
fn pod_rules_agree_with_pod_security_admission_fixtures() {
    let Some(root) = testdata() else {
        return;
    };
    let mut checked = 0;
    let mut disagreements = Vec::new();
    for level_dir in std::fs::read_dir(&root).unwrap() {
        let level_dir = level_dir.unwrap().path();
        let Ok(level) = level_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .parse::<PssLevel>()
        else {
            continue;
        };
        for version_dir in std::fs::read_dir(&level_dir).unwrap() {
            let version_dir = version_dir.unwrap().path();
            let version: PssVersion = version_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .parse()
                .unwrap();
            let mut opts = Options::new("2026-01-01".parse().unwrap());
            opts.profile = Some(level);
            opts.pss_version = Some(version);
            opts.select = vec!["pss".into()];
            for verdict in ["pass", "fail"] {
                let Ok(files) = std::fs::read_dir(version_dir.join(verdict)) else {
                    continue;
                };
                for f in files {
                    let f = f.unwrap().path();
                    let text = std::fs::read_to_string(&f).unwrap();
                    let loaded = palisade_load::load_str(&f.display().to_string(), &text);
                    assert!(
                        loaded.errors.is_empty(),
                        "{}: {:?}",
                        f.display(),
                        loaded.errors
                    );
                    let inv = Inventory::new(loaded.objects);
                    let report = analyze(&inv, InputSummary::default(), &opts);
                    let checks: Vec<&str> = report
                        .findings
                        .iter()
                        .filter_map(|x| x.properties.get("pssCheck").map(String::as_str))
                        .collect();
                    let stem = f.file_stem().unwrap().to_string_lossy().to_string();
                    let named = stem
                        .trim_end_matches(|c: char| c.is_ascii_digit())
                        .to_ascii_lowercase();
                    checked += 1;
                    let ok = if verdict == "pass" {
                        report.findings.is_empty()
                    } else {
                        checks.iter().any(|c| c.eq_ignore_ascii_case(&named))
                            || (level == PssLevel::Restricted
                                && replaced_by(&named).is_some_and(|r| checks.contains(&r)))
                    };
                    if !ok {
                        disagreements.push(format!(
                            "{}: {checks:?}",
                            f.strip_prefix(&root).unwrap().display()
                        ));
                    }
                }
            }
        }
    }
    eprintln!("{checked} Pod Security Admission fixtures checked through the POD rules");
    assert!(checked > 3000, "only {checked} fixtures found");
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
