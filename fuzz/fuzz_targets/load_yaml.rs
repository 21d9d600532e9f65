//! Any text through the manifest loader, then every rule: never a panic, and every issue
//! names a position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::Inventory;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = palisade_load::load_str("fuzz.yaml", text);
    for issue in loaded.errors.iter().chain(&loaded.warnings) {
        assert!(issue.line > 0, "{issue}");
    }
    let inv = Inventory::new(loaded.objects);
    let _ = analyze(&inv, InputSummary::default(), &Options::new("2026-01-01".parse().unwrap()));
});
