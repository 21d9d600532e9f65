//! Evaluates every pod of the upstream fixture corpus at its level and version.
//!
//! The corpus is located like the corpus test does (`PALISADE_CORPUS`, else the
//! first `<ancestor>/shared/corpus/psa/test/testdata`); without it the bench
//! falls back to a few synthetic pods so that it always runs.

// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use palisade_pss::{evaluate, Level, Version};
use serde_json::{json, Value};

#[path = "../tests/common/mod.rs"]
mod common;

fn pods() -> Vec<(Level, Version, Value, Value)> {
    if let Some(root) = common::corpus_dir() {
        let fixtures = common::load(&root);
        if !fixtures.is_empty() {
            return fixtures
                .into_iter()
                .map(|f| (f.level, f.version, f.metadata, f.spec))
                .collect();
        }
    }
    let meta = json!({"name": "p"});
    let spec = json!({
        "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": true}}],
        "initContainers": [{"name": "b"}],
    });
    vec![
        (Level::Baseline, Version::Latest, meta.clone(), spec.clone()),
        (
            Level::Restricted,
            Version::Latest,
            meta.clone(),
            spec.clone(),
        ),
        (Level::Restricted, Version::V(24), meta, spec),
    ]
}

fn bench(c: &mut Criterion) {
    let pods = pods();
    let mut group = c.benchmark_group("pss");
    group.throughput(Throughput::Elements(pods.len() as u64));
    group.bench_function(format!("evaluate_corpus_{}_pods", pods.len()), |b| {
        b.iter(|| {
            let mut n = 0usize;
            for (level, version, meta, spec) in &pods {
                n += evaluate(*level, *version, black_box(meta), black_box(spec)).len();
            }
            black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
