//! Any bytes as audit-log lines and as a whole document: the detector never panics and
//! counts what it could not read. The built-in rule set is compiled once, not per input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_detect::{Detector, RuleSet};
use std::sync::OnceLock;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(RuleSet::builtin)
}

fuzz_target!(|data: &[u8]| {
    let mut det = Detector::new(rules().clone());
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            let _ = det.feed_line(line);
        }
    }
    let _ = det.feed_document(data);
    let _ = det.flush();
});
