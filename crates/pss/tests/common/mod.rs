//! Shared loading of the upstream pod-security-admission fixture corpus.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use palisade_pss::{Level, Version};
use serde_json::Value;

/// One fixture pod.
pub struct Fixture {
    /// Path relative to the corpus root, e.g. `baseline/v1.25/fail/privileged0.yaml`.
    pub rel: String,
    /// Level the fixture is evaluated at.
    pub level: Level,
    /// Policy version the fixture is evaluated at.
    pub version: Version,
    /// Whether the fixture must be allowed (`pass/`) or denied (`fail/`).
    pub expect_pass: bool,
    /// Lowercased check id from the file name (`None` for `base*.yaml`).
    pub check: Option<String>,
    /// The pod's `metadata`.
    pub metadata: Value,
    /// The pod's `spec`.
    pub spec: Value,
}

/// Finds the corpus: `$PALISADE_CORPUS` (the `testdata` directory itself, or a
/// directory containing `test/testdata` or `psa/test/testdata`), else the first
/// `<ancestor>/shared/corpus/psa/test/testdata` of the crate directory.
///
/// Panics when `PALISADE_CORPUS` is set but names no such directory; without the corpus,
/// says SKIPPED (fails under `CI=true`).
pub fn corpus_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PALISADE_CORPUS") {
        let p = PathBuf::from(p);
        let found = [
            p.join("psa/test/testdata"),
            p.join("test/testdata"),
            p.clone(),
        ]
        .into_iter()
        .find(|c| c.join("baseline").is_dir() || c.join("restricted").is_dir());
        return Some(found.unwrap_or_else(|| {
            panic!(
                "PALISADE_CORPUS={} holds no PSA fixture corpus",
                p.display()
            )
        }));
    }
    palisade_testkit::corpus("psa/test/testdata")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    v.sort();
    v
}

/// Loads every `<level>/<version>/<pass|fail>/*.yaml` fixture under `root`.
pub fn load(root: &Path) -> Vec<Fixture> {
    let mut out = Vec::new();
    for level_dir in sorted_entries(root) {
        if !level_dir.is_dir() {
            continue;
        }
        let level_name = level_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let level: Level = level_name
            .parse()
            .unwrap_or_else(|_| panic!("unexpected level directory {}", level_dir.display()));
        for version_dir in sorted_entries(&level_dir) {
            let version_name = version_dir
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let version: Version = version_name.parse().unwrap_or_else(|_| {
                panic!("unexpected version directory {}", version_dir.display())
            });
            for outcome in ["pass", "fail"] {
                let dir = version_dir.join(outcome);
                if !dir.is_dir() {
                    continue;
                }
                for file in sorted_entries(&dir) {
                    if file.extension().and_then(|e| e.to_str()) != Some("yaml") {
                        continue;
                    }
                    let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
                    let check = if stem.starts_with("base") {
                        None
                    } else {
                        Some(
                            stem.trim_end_matches(|c: char| c.is_ascii_digit())
                                .to_owned(),
                        )
                    };
                    let text = std::fs::read_to_string(&file)
                        .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
                    let pod: Value = serde_yaml_ng::from_str(&text)
                        .unwrap_or_else(|e| panic!("parsing {}: {e}", file.display()));
                    out.push(Fixture {
                        rel: format!("{level_name}/{version_name}/{outcome}/{stem}.yaml"),
                        level,
                        version,
                        expect_pass: outcome == "pass",
                        check,
                        metadata: pod.get("metadata").cloned().unwrap_or(Value::Null),
                        spec: pod.get("spec").cloned().unwrap_or(Value::Null),
                    });
                }
            }
        }
    }
    out
}
