//! Helpers shared by the test binaries that run `palisade` against the replay server.

#![allow(dead_code, clippy::print_stderr)]

use palisade_replay::{find_recordings, Config, Replay};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs the `palisade` binary in `dir`, with no colours.
pub fn palisade_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Bytes of output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A run's standard output as text.
pub fn stdout(o: &Output) -> String {
    text(&o.stdout)
}

/// A run's standard error as text.
pub fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

/// A run's standard output as JSON (a panic showing both outputs when it is not).
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&o.stdout), text(&o.stderr)))
}

/// Starts a replay server and writes a kubeconfig for it in a new temporary directory (which
/// lives as long as the returned `TempDir`): the server, the directory and the kubeconfig.
pub fn serve(config: Config) -> (Replay, tempfile::TempDir, PathBuf) {
    let srv = Replay::start(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kc = dir.path().join("kubeconfig");
    srv.write_kubeconfig(&kc).unwrap();
    (srv, dir, kc)
}

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
