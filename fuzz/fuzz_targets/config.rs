//! Any text as `palisade.yaml`: parsing and validation never panic, and every problem names
//! a line of the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_core::config::Policy;
use palisade_core::RuleMeta;
use std::sync::OnceLock;

fn catalogue() -> &'static [&'static RuleMeta] {
    static METAS: OnceLock<Vec<&'static RuleMeta>> = OnceLock::new();
    METAS.get_or_init(palisade_analyze::catalogue::scan_rules)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(docs) = palisade_load::yaml::parse_documents(text, 1, true) else { return };
    for d in &docs {
        if let Err(errors) = Policy::from_value(&d.value, &d.spans, "palisade.yaml", catalogue()) {
            assert!(!errors.is_empty());
        }
    }
});
