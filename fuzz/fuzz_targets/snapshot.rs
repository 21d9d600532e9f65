//! Any bytes as a snapshot file: the header, the digest and the object lines are checked
//! without a panic, and what reads is loaded as a cluster scan loads it.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((header, lines)) = palisade_load::snapshot::read_lines_from("fuzz.snapshot", data) {
        let loaded = palisade_load::cluster::loaded_from_lines(lines, &header.unreadable, "fuzz");
        assert!(loaded.stats.objects >= loaded.objects.len());
    }
});
