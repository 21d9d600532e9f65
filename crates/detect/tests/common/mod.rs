//! Shared test helpers: locating the corpus.
#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus sub-directory, or `None` after saying the test is skipped (a failure under
/// `CI=true`).
pub fn corpus_dir(sub: &str) -> Option<PathBuf> {
    palisade_testkit::corpus(sub)
}
