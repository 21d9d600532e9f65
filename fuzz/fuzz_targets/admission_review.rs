//! AdmissionReview bytes -> parse -> evaluate, as the webhook's `/validate` does. Any input
//! must give either a well-formed response echoing the uid or a `ReviewError` (HTTP 400);
//! never a panic.
//!
//! ```sh
//! cargo +nightly fuzz run admission_review
//! ```
//! Seed the corpus with `shared/corpus/apiserver-recordings/admission/reviews/*.json`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_admission::{Evaluator, EvaluatorOptions};
use palisade_analyze::Options;
use palisade_core::{Mode, Policy};
use std::sync::OnceLock;

fn evaluator() -> &'static Evaluator {
    static E: OnceLock<Evaluator> = OnceLock::new();
    E.get_or_init(|| {
        let today = jiff::civil::date(2026, 11, 23);
        let policy = Policy {
            default_mode: Mode::Deny,
            ..Policy::default()
        };
        Evaluator::new(
            Options {
                policy,
                ..Options::new(today)
            },
            EvaluatorOptions::default(),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let today = jiff::civil::date(2026, 11, 23);
    if let Ok(outcome) = evaluator().review(data, today) {
        let response = outcome.review.response.as_ref().expect("a response");
        assert!(!response.uid.is_empty());
        let _ = serde_json_roundtrip(&outcome.review);
    }
});

fn serde_json_roundtrip<T: serde::Serialize>(v: &T) -> usize {
    serde_json::to_vec(v).map(|b| b.len()).unwrap_or(0)
}
