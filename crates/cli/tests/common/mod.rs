//! Helpers shared by the test binaries that run `palisade` against the replay server.

#![allow(dead_code, clippy::print_stderr)]

use palisade_replay::find_recordings;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The recorded API server's `api/` directory, or `None` (with a message; a failure under
/// `CI=true`) without the corpus.
pub fn recordings() -> Option<PathBuf> {
    let r = find_recordings(Path::new(env!("CARGO_MANIFEST_DIR")));
    if r.is_none() {
        palisade_testkit::missing("shared/corpus/apiserver-recordings/api (the test corpus)");
    }
    r
}

/// Runs the `palisade` binary with this kubeconfig and no colours.
pub fn palisade(args: &[&str], kubeconfig: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}
