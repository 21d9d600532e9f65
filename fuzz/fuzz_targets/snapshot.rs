//! Any bytes as a snapshot file: the header, the digest and the object lines are checked
//! without a panic, and what reads is loaded as a cluster scan loads it.
//!
//! An input that starts with the gzip magic number is read as it is (the compression, the
//! header line, the digest). Any other input is taken as a snapshot's decompressed content,
//! the header line and then one object per line: its digest is put right and it is
//! compressed before it is read, so that mutations reach the header's fields and the object
//! lines instead of all failing the gzip check or the digest.
#![no_main]

use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};
use std::io::Write;

fuzz_target!(|data: &[u8]| {
    let file = if palisade_load::snapshot::has_magic(data) {
        data.to_vec()
    } else {
        compress(&with_digest(data))
    };
    if let Ok((header, lines)) = palisade_load::snapshot::read_lines_from("fuzz.snapshot", &file[..]) {
        let loaded = palisade_load::cluster::loaded_from_lines(lines, &header.unreadable, "fuzz");
        assert!(loaded.stats.objects >= loaded.objects.len());
    }
});

/// The content with the header's `digest` set to the SHA-256 of the lines after it (left as
/// it is when the first line is not a JSON object).
fn with_digest(data: &[u8]) -> Vec<u8> {
    let split = data.iter().position(|&b| b == b'\n').map_or(data.len(), |i| i + 1);
    let (first, payload) = data.split_at(split);
    let Ok(serde_json::Value::Object(mut header)) = serde_json::from_slice(first) else {
        return data.to_vec();
    };
    let hex: String = Sha256::digest(payload).iter().map(|b| format!("{b:02x}")).collect();
    header.insert("digest".into(), format!("sha256:{hex}").into());
    let mut out = serde_json::to_vec(&header).expect("a JSON object serialises");
    out.push(b'\n');
    out.extend_from_slice(payload);
    out
}

fn compress(data: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(data).expect("writing to memory");
    gz.finish().expect("writing to memory")
}
