//! The gatekeeper-library privileged-container template, per object: bare `regorus`
//! (Gatekeeper's input document built and evaluated on one compiled engine) against Palisade
//! (the constraint as a rule through the analysis facade, `run_rules` then `apply_policy` with
//! the rules selected once, as the admission webhook runs them: match, input, evaluation,
//! finding, policy), each object in its own inventory. Prints the ratio at the end.
//!
//! The template is read from the corpus (`PALISADE_CORPUS`, else the first
//! `<ancestor>/shared/corpus`); without it the bench says so and stops.

#![allow(missing_docs, clippy::print_stdout)]

use criterion::{Criterion, Throughput};
use palisade_analyze::{
    apply_policy, run_rules, selected_rules, ExtraRules, InputSummary, Options,
};
use palisade_core::{Inventory, Rule};
use palisade_policy::constraint::EnforcementPoint;
use palisade_policy::{rules_for, EvalOptions, PolicySet};
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::{Duration, Instant};

const OBJECTS: usize = 64;

fn pods() -> Vec<Value> {
    (0..OBJECTS)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("pod-{i}"), "namespace": format!("ns-{}", i % 4), "labels": {"app": "web"}},
                "spec": {
                    "initContainers": [{"name": "init", "image": "busybox:1.36"}],
                    "containers": [
                        {"name": "app", "image": "registry.example.com/app:1.0", "securityContext": {"privileged": i % 3 == 0}},
                        {"name": "sidecar", "image": "registry.example.com/proxy:2.1"}
                    ]}})
        })
        .collect()
}

struct Setup {
    engine: regorus::Engine,
    rule: String,
    inventories: Vec<Inventory>,
    parameters: Value,
    opts: Options,
    rules: Vec<&'static dyn Rule>,
}

fn setup() -> Option<Setup> {
    let dir = palisade_testkit::corpus(
        "gatekeeper-library/library/pod-security-policy/privileged-containers",
    )?;
    if !dir.is_dir() {
        return None;
    }
    let mut objects = palisade_load::load_file(&dir.join("template.yaml")).objects;
    objects.extend(
        palisade_load::load_file(&dir.join("samples/psp-privileged-container/constraint.yaml"))
            .objects,
    );
    let mut set = PolicySet::default();
    set.add_objects(&objects);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let template = set.templates[0].clone();
    let parameters = set
        .constraints()
        .next()
        .expect("the sample constraint")
        .constraint
        .parameters
        .clone();
    let program = template.rego().expect("a Rego engine");
    // Bare regorus: the same Rego and libs on one engine.
    let mut engine = regorus::Engine::new();
    engine.set_rego_v0(true);
    engine.set_strict_builtin_errors(false);
    engine
        .add_policy("t.rego".into(), program.source.clone())
        .unwrap();
    for (i, l) in program.libs.iter().enumerate() {
        engine.add_policy(format!("l{i}.rego"), l.clone()).unwrap();
    }
    let rules = rules_for(&set, EnforcementPoint::Validation, EvalOptions::default());
    let mut opts = Options::new("2026-06-01".parse().unwrap());
    opts.select = vec!["gatekeeper".into()];
    opts.extra_rules = ExtraRules(rules.iter().map(|r| *r as &'static dyn Rule).collect());
    let inventories = pods()
        .into_iter()
        .map(|p| {
            let o = palisade_core::Object::from_value(p, None, Default::default()).unwrap();
            Inventory::new(vec![o])
        })
        .collect();
    // The rules are selected once, as the admission webhook's evaluator does.
    let rules = selected_rules(&opts);
    Some(Setup {
        engine,
        rule: format!("data.{}.violation", program.package),
        inventories,
        parameters,
        opts,
        rules,
    })
}

fn bare(s: &mut Setup) -> usize {
    let mut n = 0;
    for inv in &s.inventories {
        let obj = &inv.objects()[0].value();
        let input = json!({"review": {
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "name": obj["metadata"]["name"], "namespace": obj["metadata"]["namespace"],
            "operation": "CREATE", "dryRun": false, "object": obj},
            "parameters": s.parameters});
        s.engine.set_input(regorus::Value::from(input));
        let v = s.engine.eval_rule(s.rule.clone()).unwrap();
        n += v.as_set().map(|x| x.len()).unwrap_or(0);
    }
    n
}

fn facade(s: &Setup) -> usize {
    s.inventories
        .iter()
        .map(|inv| {
            let raw = run_rules(inv, &s.rules, &s.opts);
            apply_policy(inv, raw, &s.rules, InputSummary::default(), &s.opts)
                .findings
                .len()
        })
        .sum()
}

/// The fastest of many rounds of each, the two interleaved so that a machine busy with
/// something else slows both alike.
fn best_of_interleaved(rounds: usize, s: &mut Setup) -> (Duration, Duration) {
    let (mut b, mut f) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        let t = Instant::now();
        for _ in 0..5 {
            black_box(bare(s));
        }
        b = b.min(t.elapsed());
        let t = Instant::now();
        for _ in 0..5 {
            black_box(facade(s));
        }
        f = f.min(t.elapsed());
    }
    (b, f)
}

fn main() {
    let Some(mut s) = setup() else {
        return;
    };
    // Both report the same violations.
    assert_eq!(bare(&mut s), facade(&s));
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("privileged-container");
    g.throughput(Throughput::Elements(OBJECTS as u64));
    g.bench_function("bare-regorus", |b| b.iter(|| black_box(bare(&mut s))));
    g.bench_function("palisade-facade", |b| b.iter(|| black_box(facade(&s))));
    g.finish();
    c.final_summary();
    let (b, f) = best_of_interleaved(60, &mut s);
    let per = |d: Duration| d.as_secs_f64() * 1e6 / (5 * OBJECTS) as f64;
    println!(
        "per object: bare regorus {:.1} µs, Palisade facade {:.1} µs, ratio {:.2}x",
        per(b),
        per(f),
        f.as_secs_f64() / b.as_secs_f64()
    );
}
