//! Times each inventory rule (and all per-object rules together) over the manifests under
//! the given paths, on one thread, and prints one JSON line per rule: the rule, the objects,
//! the best time of `--repeat` runs and the time per object. `bench/rule_times.py` runs it at
//! two corpus sizes to show that each rule's time per object stays flat as the input grows.
//!
//! Times are the CPU time of the measuring thread (`/proc/thread-self/schedstat`, Linux),
//! so that other work on the machine does not count; elsewhere, wall-clock time.
//!
//! usage: rule_times PATH... [--repeat N]

use palisade_analyze::{catalogue, selected_rules, Options};
use palisade_core::{Context, Inventory, ObjectId, Scope};
use std::path::PathBuf;
use std::time::Instant;

/// A clock: this thread's CPU time where Linux exposes it, else the wall clock.
struct Clock(Instant);

impl Clock {
    fn start() -> Self {
        Clock(Instant::now())
    }

    /// Seconds since `start`, on the same clock.
    fn elapsed(&self, cpu_at_start: Option<f64>) -> f64 {
        match (cpu_at_start, thread_cpu()) {
            (Some(a), Some(b)) => b - a,
            _ => self.0.elapsed().as_secs_f64(),
        }
    }
}

/// This thread's CPU time in seconds (first field of `/proc/thread-self/schedstat`, in ns).
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

#[allow(clippy::print_stdout)]
fn main() {
    let mut paths = Vec::new();
    let mut repeat = 3;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--repeat" {
            repeat = args.next().and_then(|n| n.parse().ok()).unwrap_or(3);
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    let loaded = palisade_load::load_paths(&paths);
    let inventory = Inventory::new(loaded.objects);
    let n = inventory.len();
    let opts = Options::new(jiff::civil::date(2026, 1, 1));
    let _ = catalogue::scan_rules();
    let rules = selected_rules(&opts);
    let profile = opts.profile();
    let time = |f: &dyn Fn()| {
        (0..repeat)
            .map(|_| {
                let cpu = thread_cpu();
                let t = Clock::start();
                f();
                t.elapsed(cpu)
            })
            .fold(f64::INFINITY, f64::min)
    };
    let object_rules: Vec<_> = rules
        .iter()
        .filter(|r| r.meta().scope == Scope::Object)
        .collect();
    let all_objects = time(&|| {
        for (i, o) in inventory.objects().iter().enumerate() {
            for r in &object_rules {
                let mut cx = Context::new(r.meta(), None, profile).with_inventory(&inventory);
                cx.set_object(ObjectId(i));
                r.check(o, &mut cx);
                let _ = cx.take_findings();
            }
        }
    });
    println!(
        "{{\"rule\":\"object rules\",\"objects\":{n},\"seconds\":{all_objects:.6},\"microsPerObject\":{:.3}}}",
        all_objects * 1e6 / n.max(1) as f64
    );
    for r in rules.iter().filter(|r| r.meta().scope == Scope::Inventory) {
        // A fresh inventory per run: derived views (the RBAC graph...) are part of the cost,
        // copying the objects is not (it is done, and the copy dropped, outside the clock).
        let s = (0..repeat)
            .map(|_| {
                let inv = Inventory::new(inventory.objects().to_vec());
                let cpu = thread_cpu();
                let t = Clock::start();
                let mut cx = Context::new(r.meta(), None, profile).with_inventory(&inv);
                r.check_inventory(&inv, &mut cx);
                let _ = cx.take_findings();
                let s = t.elapsed(cpu);
                drop(inv);
                s
            })
            .fold(f64::INFINITY, f64::min);
        println!(
            "{{\"rule\":\"{}\",\"objects\":{n},\"seconds\":{s:.6},\"microsPerObject\":{:.3}}}",
            r.meta().id,
            s * 1e6 / n.max(1) as f64
        );
    }
}
