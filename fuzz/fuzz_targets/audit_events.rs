//! Any bytes as audit-log lines and as a whole document: the detector never panics and
//! counts what it could not read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_detect::{Detector, RuleSet};

fuzz_target!(|data: &[u8]| {
    let mut det = Detector::new(RuleSet::builtin());
    if let Ok(text) = std::str::from_utf8(data) {
        for line in text.lines() {
            let _ = det.feed_line(line);
        }
    }
    let _ = det.feed_document(data);
    let _ = det.flush();
});
