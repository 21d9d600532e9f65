//! Throughput of the detector over ~1,000,000 audit events built from the real
//! corpus event shapes (audit ids and user names varied), next to the bare
//! `serde_json` parse floor of the same lines.
#![allow(missing_docs, clippy::print_stdout)]

use std::path::PathBuf;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use palisade_detect::{Detector, RuleSet};

const EVENTS: usize = 1_000_000;

fn corpus() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("PALISADE_CORPUS") {
        return Some(PathBuf::from(p));
    }
    let mut dir = Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    while let Some(d) = dir {
        let c = d.join("shared").join("corpus");
        if c.is_dir() {
            return Some(c);
        }
        dir = d.parent().map(PathBuf::from);
    }
    None
}

fn templates() -> Vec<String> {
    let Some(c) = corpus() else {
        println!("corpus not found: using a small built-in event set");
        return vec![
            r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"00000000-0000-0000-0000-000000000000","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/dev/pods","verb":"list","user":{"username":"alice","groups":["dev","system:authenticated"]},"sourceIPs":["10.0.0.1"],"userAgent":"kubectl","objectRef":{"resource":"pods","namespace":"dev","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-11-23T15:21:36.175072Z","stageTimestamp":"2026-11-23T15:21:36.176106Z"}"#.to_string(),
        ];
    };
    let text = std::fs::read_to_string(c.join("apiserver-recordings/audit/audit.jsonl"))
        .unwrap_or_default();
    text.lines().map(str::to_string).collect()
}

/// Replaces the first 8 characters of the audit id and non-system user names.
fn vary(t: &str, i: usize) -> String {
    let mut s = t.to_string();
    if let Some(p) = s.find("\"auditID\":\"") {
        let at = p + 11;
        if s.len() >= at + 8 {
            s.replace_range(at..at + 8, &format!("{:08x}", i as u32));
        }
    }
    if let Some(p) = s.find("\"username\":\"") {
        let at = p + 12;
        if let Some(end) = s[at..].find('"') {
            if !s[at..at + end].starts_with("system:") {
                s.replace_range(at..at + end, &format!("user{}", i % 97));
            }
        }
    }
    s
}

fn bench(c: &mut Criterion) {
    let t = templates();
    let lines: Vec<String> = (0..EVENTS).map(|i| vary(&t[i % t.len()], i)).collect();
    let bytes: usize = lines.iter().map(String::len).sum();
    println!(
        "{} events, {:.1} MiB, {:.0} bytes/event",
        lines.len(),
        bytes as f64 / 1048576.0,
        bytes as f64 / lines.len() as f64
    );

    // One plain timed pass each, printed side by side.
    let rate = |f: &dyn Fn() -> usize| {
        let start = Instant::now();
        let n = f();
        (EVENTS as f64 / start.elapsed().as_secs_f64(), n)
    };
    let (value, _) = rate(&|| {
        lines
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .unwrap()
                    .is_object() as usize
            })
            .sum()
    });
    let (ignored, _) = rate(&|| {
        lines
            .iter()
            .map(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok() as usize)
            .sum()
    });
    let (typed, _) = rate(&|| {
        lines
            .iter()
            .map(|l| palisade_detect::Event::from_json(l).is_ok() as usize)
            .sum()
    });
    let (det, alerts) = rate(&|| {
        let mut d = Detector::new(RuleSet::builtin());
        lines.iter().map(|l| d.feed_line(l).len()).sum()
    });
    println!("parse floor serde_json::Value:      {value:>10.0} events/s");
    println!("parse floor serde IgnoredAny (scan): {ignored:>10.0} events/s");
    println!("typed Event parse (lazy bodies):    {typed:>10.0} events/s");
    println!("detector feed_line (30 rules):      {det:>10.0} events/s, {alerts} alerts");

    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.bench_function("serde_json_value_parse_floor", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for l in &lines {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                n += v.is_object() as usize;
            }
            n
        })
    });
    g.bench_function("serde_ignored_any_scan_floor", |b| {
        b.iter(|| {
            lines
                .iter()
                .map(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok() as usize)
                .sum::<usize>()
        })
    });
    g.bench_function("detector_feed_line", |b| {
        b.iter(|| {
            let mut d = Detector::new(RuleSet::builtin());
            let mut n = 0usize;
            for l in &lines {
                n += d.feed_line(l).len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
