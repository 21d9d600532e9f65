//! Agreement with the upstream pod-security-admission fixture corpus.
//!
//! Every `pass/` fixture must be allowed and every `fail/` fixture denied at its
//! level and version, with the check named by the file (or, at the restricted
//! level, the restricted check that overrides it) among the violations.

mod common;

use palisade_pss::{checks, evaluate, Level};

/// Restricted checks that replace a baseline check at the restricted level
/// (upstream `OverrideCheckIDs`): a restricted `fail/` fixture written for the
/// baseline check is denied by the overriding check instead.
const OVERRIDES: &[(&str, &str)] = &[
    ("capabilities_baseline", "capabilities_restricted"),
    ("seccompProfile_baseline", "seccompProfile_restricted"),
    ("procMount", "procMount_restricted"),
];

#[test]
#[allow(clippy::print_stdout, clippy::print_stderr)]
fn corpus_agreement() {
    let Some(root) = common::corpus_dir() else {
        return;
    };
    let fixtures = common::load(&root);
    assert!(!fixtures.is_empty(), "no fixtures under {}", root.display());

    let mut disagreements = Vec::new();
    let mut malformed = Vec::new();
    for f in &fixtures {
        let violations = evaluate(f.level, f.version, &f.metadata, &f.spec);
        if f.expect_pass {
            if !violations.is_empty() {
                let msgs: Vec<String> = violations
                    .iter()
                    .map(|v| format!("{}: {}", v.check_id, v.message()))
                    .collect();
                disagreements.push(format!("{}: expected allowed, got {msgs:?}", f.rel));
            }
            continue;
        }
        if violations.is_empty() {
            disagreements.push(format!("{}: expected denied, got allowed", f.rel));
            continue;
        }
        check_well_formed(f, &violations, &mut malformed);
        let Some(prefix) = &f.check else {
            continue;
        };
        let Some(info) = checks().iter().find(|c| c.id.eq_ignore_ascii_case(prefix)) else {
            disagreements.push(format!("{}: file name names no known check", f.rel));
            continue;
        };
        let mut accepted = vec![info.id];
        if f.level == Level::Restricted {
            accepted.extend(
                OVERRIDES
                    .iter()
                    .filter(|(base, _)| *base == info.id)
                    .map(|(_, over)| *over),
            );
        }
        if !violations.iter().any(|v| accepted.contains(&v.check_id)) {
            let got: Vec<&str> = violations.iter().map(|v| v.check_id).collect();
            disagreements.push(format!(
                "{}: denied, but not by {accepted:?} (got {got:?})",
                f.rel
            ));
        }
    }

    let agreed = fixtures.len() - disagreements.len();
    println!(
        "corpus: {} fixtures checked under {}, {} agree, {} disagree",
        fixtures.len(),
        root.display(),
        agreed,
        disagreements.len()
    );
    for d in &disagreements {
        println!("  DISAGREE {d}");
    }
    assert!(
        malformed.is_empty(),
        "malformed violations:\n{}",
        malformed.join("\n")
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} fixtures disagree:\n{}",
        disagreements.len(),
        fixtures.len(),
        disagreements.join("\n")
    );
}

/// Every violation has a reason, a detail and at least one JSON pointer; every
/// pointer resolves in the pod, except `/spec/securityContext`, which names
/// where a missing pod-level field should be set.
fn check_well_formed(
    f: &common::Fixture,
    violations: &[palisade_pss::Violation],
    out: &mut Vec<String>,
) {
    let pod = serde_json::json!({"metadata": f.metadata, "spec": f.spec});
    for v in violations {
        if v.reason.is_empty() || v.detail.is_empty() || v.paths.is_empty() {
            out.push(format!(
                "{}: {} has an empty reason, detail or paths: {v:?}",
                f.rel, v.check_id
            ));
        }
        for p in &v.paths {
            if pod.pointer(p).is_none() && p != "/spec/securityContext" {
                out.push(format!(
                    "{}: {} path {p} does not resolve",
                    f.rel, v.check_id
                ));
            }
        }
    }
}
