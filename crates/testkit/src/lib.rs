//! Test support: where the shared test data lives, and what a test does without it.
//!
//! Several tests compare Palisade with upstream material kept outside the repository, in
//! `../shared` beside the clone: `corpus/` (real-world manifests, the Pod Security Admission
//! fixtures, Gatekeeper's library, Checkov's fixtures, recorded API-server traffic, CVE data,
//! kube-bench's configuration) and `schemas/` (SARIF, the PolicyReport CRDs). A developer
//! without it gets a `SKIPPED` line and a passing test; under `CI=true` the same test fails
//! with a message naming what is missing, so a CI run without the data cannot be green having
//! tested nothing.
//!
//! ```no_run
//! let Some(root) = palisade_testkit::corpus("real-manifests") else { return };
//! ```

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};

/// The variable that points at the corpus directory itself (instead of `../shared/corpus`).
pub const CORPUS_VAR: &str = "PALISADE_CORPUS";

/// Whether the tests run in CI: `CI` is `true` or `1` (as GitHub Actions, GitLab and
/// `.ci/run` set it). There, missing shared data is a failure.
pub fn ci() -> bool {
    std::env::var("CI")
        .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
        .unwrap_or(false)
}

/// `shared/corpus/<rel>` (a file or directory): under `$PALISADE_CORPUS` when it is set,
/// else in the first ancestor of the workspace that has it. `None` when it is missing,
/// after [`missing`] has said so (or failed the test under CI).
pub fn corpus(rel: &str) -> Option<PathBuf> {
    let found = match std::env::var_os(CORPUS_VAR) {
        Some(root) => Some(PathBuf::from(root).join(rel)).filter(|p| p.exists()),
        None => find_shared(&format!("corpus/{rel}")),
    };
    if found.is_none() {
        missing(&format!(
            "shared/corpus/{rel} (the test corpus, ../shared/corpus beside the clone, or ${CORPUS_VAR})"
        ));
    }
    found
}

/// `shared/schemas/<rel>`, found as [`corpus`] finds the corpus (without a variable).
pub fn schema(rel: &str) -> Option<PathBuf> {
    let found = find_shared(&format!("schemas/{rel}"));
    if found.is_none() {
        missing(&format!(
            "shared/schemas/{rel} (the published schemas, ../shared/schemas beside the clone)"
        ));
    }
    found
}

/// Says that `what` (shared test data) is missing: a `SKIPPED` line on stderr, or, under
/// `CI=true`, a panic naming it, which fails the test.
///
/// For tests that locate their data themselves; [`corpus`] and [`schema`] call it.
pub fn missing(what: &str) {
    report_missing(ci(), what);
}

fn report_missing(ci: bool, what: &str) {
    if ci {
        panic!(
            "missing shared test data: {what} not found; under CI=true the tests that need it \
             fail instead of skipping"
        );
    }
    eprintln!("SKIPPED: {what} not found");
}

/// `shared/<rel>` in the first ancestor of this crate (hence of the workspace) that has it.
fn find_shared(rel: &str) -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared").join(rel))
        .find(|p| p.exists())
}

/// The JSON pointer of every node below `v` (not `v` itself), parents before children: the
/// places a robustness test replaces in turn.
pub fn json_pointers(v: &serde_json::Value) -> Vec<String> {
    fn walk(v: &serde_json::Value, base: &str, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let p = format!("{base}/{}", k.replace('~', "~0").replace('/', "~1"));
                    out.push(p.clone());
                    walk(x, &p, out);
                }
            }
            serde_json::Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let p = format!("{base}/{i}");
                    out.push(p.clone());
                    walk(x, &p, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_that_no_ancestor_holds_is_not_found() {
        assert_eq!(find_shared("no/such/test/data/anywhere"), None);
    }

    #[test]
    fn missing_data_fails_under_ci_and_names_it() {
        let err = std::panic::catch_unwind(|| report_missing(true, "shared/corpus/x")).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("shared/corpus/x not found"), "{msg}");
    }

    #[test]
    fn missing_data_skips_outside_ci() {
        report_missing(false, "shared/corpus/x");
    }

    #[test]
    fn json_pointers_escape_and_list_parents_first() {
        let v = serde_json::json!({"a/b": [1, {"c~": null}], "d": {}});
        assert_eq!(
            json_pointers(&v),
            ["/a~1b", "/a~1b/0", "/a~1b/1", "/a~1b/1/c~0", "/d"]
        );
    }
}
