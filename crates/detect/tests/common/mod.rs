//! Shared test helpers: locating the corpus.
#![allow(dead_code, clippy::print_stdout)]

use std::path::PathBuf;

/// Finds `shared/corpus`: `$PALISADE_CORPUS`, else the first ancestor of the
/// crate directory that has `shared/corpus`.
pub fn corpus() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PALISADE_CORPUS") {
        let p = PathBuf::from(p);
        if p.is_dir() {
            return Some(p);
        }
    }
    let mut dir = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let c = d.join("shared").join("corpus");
        if c.is_dir() {
            return Some(c);
        }
        dir = d.parent().map(PathBuf::from);
    }
    None
}

/// The corpus sub-directory, or `None` after printing why the test is skipped.
pub fn corpus_dir(sub: &str) -> Option<PathBuf> {
    match corpus().map(|c| c.join(sub)) {
        Some(p) if p.exists() => Some(p),
        _ => {
            println!(
                "SKIPPED: corpus directory shared/corpus/{sub} not found (set PALISADE_CORPUS)"
            );
            None
        }
    }
}
