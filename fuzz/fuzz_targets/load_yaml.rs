//! Any text through the manifest loader, then every rule: never a panic, every issue names
//! a position, and no Secret value survives loading. Run with a memory cap so that an input
//! that makes the loader allocate without bound is a crash:
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run load_yaml seeds/load_yaml -- -rss_limit_mb=512`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, REDACTED};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = palisade_load::load_str("fuzz.yaml", text);
    for issue in loaded.errors.iter().chain(&loaded.warnings) {
        assert!(issue.line > 0, "{issue}");
    }
    for o in loaded.objects.iter().filter(|o| o.kind == "Secret" && o.api_version == "v1") {
        for field in ["data", "stringData"] {
            match o.value().get(field) {
                Some(Value::Object(m)) => assert!(m.values().all(|v| {
                    v.is_null() || v.as_str().is_some_and(|s| s.is_empty() || s == REDACTED)
                })),
                Some(v) => assert!(v.is_null() || v.as_str() == Some(REDACTED)),
                None => {}
            }
        }
    }
    let inv = Inventory::new(loaded.objects);
    let _ = analyze(&inv, InputSummary::default(), &Options::new("2026-01-01".parse().unwrap()));
});
