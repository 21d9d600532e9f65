//! The parse floor for the scan benchmark: time to merely parse the YAML of the given files
//! on one thread, measured two ways, printed as JSON.
//!
//! - `events`: the YAML parser's event stream only (no values built);
//! - `values`: the same documents built into JSON values, no positions, no rules.
//!
//! Usage: `cargo run --release -p palisade-load --example parse_floor -- DIR_OR_FILES... [--repeat N]`

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let mut paths = Vec::new();
    let mut repeat = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--repeat" {
            repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(3);
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    let (files, _) = palisade_load::expand_paths(&paths);
    let texts: Vec<String> = files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();

    let mut best_events = f64::MAX;
    let mut best_values = f64::MAX;
    let mut docs = 0usize;
    for _ in 0..repeat {
        let t = Instant::now();
        let mut events = 0usize;
        for text in &texts {
            let mut p = saphyr_parser::Parser::new_from_str(text);
            while let Some(Ok(_)) = p.next_event() {
                events += 1;
            }
        }
        std::hint::black_box(events);
        best_events = best_events.min(t.elapsed().as_secs_f64());

        let t = Instant::now();
        docs = 0;
        for text in &texts {
            for (line, piece) in palisade_load::split_documents(text) {
                if let Ok(d) = palisade_load::yaml::parse_documents(piece, line, false) {
                    docs += d.len();
                    std::hint::black_box(d);
                }
            }
        }
        best_values = best_values.min(t.elapsed().as_secs_f64());
    }
    let out = serde_json::json!({
        "files": texts.len(),
        "bytes": bytes,
        "documents": docs,
        "parseEventsSeconds": best_events,
        "parseValuesSeconds": best_values,
    });
    #[allow(clippy::print_stdout)]
    {
        println!("{out}");
    }
}
