//! Every fix against every fail fixture of its rule (crates/rules/fixtures/<ID>/fail_*.yaml):
//! the fixed text re-scans without the rule's finding and without a new one, and kubectl
//! still decodes each workload as the same kind.

#![allow(clippy::print_stderr)]

use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, PssLevel, Report};
use palisade_fix::{fix_file, Options as FixOptions, Resolution, Safety, Target, FIXES};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Fail fixtures a fix must leave alone, with the reason it gives: what they fail on is a
/// decision for the workload's owner.
const MANUAL: &[(&str, &str, &str)] = &[
    ("POD008", "fail_adds_net_admin.yaml", "adds NET_ADMIN"),
    (
        "SEC001",
        "fail_pod_overrides_sa.yaml",
        "asks for the token explicitly",
    ),
];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/fixtures")
}

fn options() -> Options {
    let mut o = Options::new("2026-01-01".parse().unwrap());
    o.profile = Some(PssLevel::Restricted);
    o
}

fn scan(name: &str, text: &str) -> (Inventory, Report) {
    let loaded = palisade_load::load_str(name, text);
    assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors);
    let inv = Inventory::new(loaded.objects);
    let report = analyze(&inv, InputSummary::default(), &options());
    (inv, report)
}

fn counts(r: &Report) -> HashMap<(&'static str, String), usize> {
    let mut m = HashMap::new();
    for f in &r.findings {
        *m.entry((f.rule_id, format!("{}/{}", f.object.kind, f.object.name)))
            .or_default() += 1;
    }
    m
}

fn kubectl() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("kubectl"))
            .find(|p| p.is_file())
    })
}

/// kubectl decodes each workload document of `text` into its typed Go struct, offline
/// (`kubectl set env --local` reads the file without a server), and prints the same kind.
fn kubectl_accepts(kubectl: &Path, name: &str, text: &str) -> usize {
    let mut decoded = 0;
    let dir = std::env::temp_dir().join(format!("palisade-fix-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (_, doc)) in palisade_load::split_documents(text).into_iter().enumerate() {
        let loaded = palisade_load::load_str(name, doc);
        let Some(o) = loaded.objects.first() else {
            continue;
        };
        if !palisade_core::podspec::WORKLOAD_KINDS.contains(&o.kind.as_str())
            || o.kind == "PodTemplate"
        {
            continue;
        }
        let file = dir.join(format!("{}-{i}.yaml", name.replace('/', "_")));
        std::fs::write(&file, doc).unwrap();
        let out = std::process::Command::new(kubectl)
            .args(["set", "env", "--local", "-o", "json", "-f"])
            .arg(&file)
            .arg("PALISADE_FIX_CHECK=1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: kubectl refuses the fixed {}: {}",
            o.kind,
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["kind"], o.kind.as_str(), "{name}");
        decoded += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    decoded
}

#[test]
fn every_fix_clears_its_rule_on_every_fail_fixture() {
    let kubectl = kubectl();
    if kubectl.is_none() {
        eprintln!("SKIPPED the kubectl part: kubectl not on PATH");
    }
    let mut checked = 0;
    let mut decoded = 0;
    for fix in FIXES.iter().filter(|f| f.safety != Safety::Suggestion) {
        let dir = fixtures_dir().join(fix.rule);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("fail"))
            })
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{}: no fail fixture", fix.rule);
        for path in files {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let name = format!("{}/{file}", fix.rule);
            let text = std::fs::read_to_string(&path).unwrap();
            let (inv, before) = scan(&name, &text);
            let targets: Vec<Target> = inv
                .objects()
                .iter()
                .filter(|o| {
                    before
                        .findings
                        .iter()
                        .any(|f| f.rule_id == fix.rule && *f.object == o.reference())
                })
                .map(|o| {
                    let s = o.source.as_ref().unwrap();
                    Target {
                        line: s.line,
                        column: s.column,
                        rules: vec![fix.rule.to_owned()],
                    }
                })
                .collect();
            assert!(!targets.is_empty(), "{name}: the rule reports nothing");
            let ff = fix_file(
                &name,
                &text,
                &targets,
                Some(&inv),
                FixOptions { allow_unsafe: true },
            )
            .unwrap();
            if let Some((_, _, why)) = MANUAL.iter().find(|(r, f, _)| *r == fix.rule && *f == file)
            {
                assert_eq!(ff.text, text, "{name}: a manual case was edited");
                assert!(
                    ff.outcomes
                        .iter()
                        .any(|o| matches!(&o.result, Resolution::Manual(m) if m.contains(why))),
                    "{name}: {:?}",
                    ff.outcomes
                );
                continue;
            }
            assert!(
                ff.outcomes
                    .iter()
                    .all(|o| matches!(o.result, Resolution::Fixed(_))),
                "{name}: {:?}",
                ff.outcomes
            );
            let (_, after) = scan(&name, &ff.text);
            assert!(
                !after.findings.iter().any(|f| f.rule_id == fix.rule),
                "{name}: still reported after the fix:\n{}",
                ff.text
            );
            let (b, a) = (counts(&before), counts(&after));
            for (k, n) in &a {
                if fix.unmasks.contains(&k.0) {
                    continue;
                }
                assert!(
                    b.get(k).copied().unwrap_or(0) >= *n,
                    "{name}: new finding {k:?} after the fix:\n{}",
                    ff.text
                );
            }
            // Only lines the fix wrote differ.
            let changed = palisade_fix::diff::line_replacements(&text, &ff.text);
            assert!(!changed.is_empty(), "{name}: nothing changed");
            if let Some(k) = &kubectl {
                decoded += kubectl_accepts(k, &name, &ff.text);
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} fixtures checked");
    eprintln!("{checked} fixtures fixed and re-scanned, {decoded} workloads decoded by kubectl");
}

#[test]
fn the_fix_table_names_scan_rules_once() {
    let scan = palisade_analyze::catalogue::scan_rules();
    let mut seen = std::collections::HashSet::new();
    for f in FIXES {
        assert!(seen.insert(f.rule), "{} twice", f.rule);
        assert!(
            scan.iter().any(|m| m.id == f.rule),
            "{} is not a scan rule",
            f.rule
        );
        for u in f.unmasks {
            assert!(scan.iter().any(|m| m.id == *u), "{u} is not a scan rule");
        }
        assert!(f.doc().contains(f.text));
    }
}
