//! The background audit (`palisade audit serve`, `palisade admission serve --audit-interval`):
//! every interval, the whole rule set runs over the cluster as the watch cache holds it (no
//! relist: the cache follows the cluster through its watches), and the results are published
//! as PolicyReports (one per namespace, a ClusterPolicyReport for cluster-scoped objects) and
//! as metrics. A report is written only when its content changed since the last cycle, and a
//! report whose namespace no longer has anything evaluated is deleted.
//!
//! The evaluation is the one `palisade scan --cluster` makes (the same facade, policy, modes
//! and exceptions), so a row in a PolicyReport and a finding of a scan always agree. This
//! module does no I/O itself: the cluster comes through a [`ClusterView`] and the reports go
//! to a [`ReportSink`], both given by the front-end.

use crate::cluster_view::{ClusterView, NotReady};
use crate::metrics::{AuditCounts, Metrics};
use jiff::civil::Date;
use palisade_analyze::{
    apply_policy, evaluations, run_rules, selected_rules, InputSummary, Options,
};
use palisade_core::{AdmissionNeeds, Inventory, Object, ReportFinding, Rule, SpanIndex};
use palisade_load::packed::{content_hash, PackedLine};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A boxed future, for the sink's methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where reports go: the API server, through server-side apply.
pub trait ReportSink: Send + Sync {
    /// Creates or updates a report (server-side apply of the whole document).
    fn apply<'a>(&'a self, report: &'a Value) -> BoxFuture<'a, Result<(), String>>;
    /// Deletes a report (`namespace` `None`: a ClusterPolicyReport).
    fn delete<'a>(
        &'a self,
        kind: &'a str,
        namespace: Option<&'a str>,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// Why a cycle did not publish.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// The cache has not listed every kind the rules read yet.
    #[error("the cluster cache has not synced: {}", describe(.0))]
    NotSynced(Vec<NotReady>),
    /// The evaluation task failed.
    #[error("the evaluation failed: {0}")]
    Evaluation(String),
}

fn describe(n: &[NotReady]) -> String {
    n.iter()
        .map(|n| format!("{} ({})", n.kind, n.reason))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What one cycle did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CycleStats {
    /// Objects evaluated.
    pub objects: usize,
    /// Objects the object-local rules judged in this cycle: those new or changed since the
    /// cycle before (every object on a new day); the others kept their results.
    pub judged: usize,
    /// Active findings.
    pub findings: usize,
    /// Reports written (new or changed).
    pub applied: usize,
    /// Reports left as they were (same content).
    pub unchanged: usize,
    /// Reports deleted (nothing left to report in their namespace).
    pub deleted: usize,
    /// Reports that could not be written or deleted (retried next cycle).
    pub failed: usize,
    /// Size of the largest report, in bytes of JSON.
    pub largest_report: usize,
}

type ReportKey = (String, Option<String>, String);

/// The background auditor.
pub struct Auditor {
    options: Options,
    view: Arc<dyn ClusterView>,
    sink: Arc<dyn ReportSink>,
    metrics: Option<Arc<Metrics>>,
    kinds: HashSet<&'static str>,
    /// What was last written, by (kind, namespace, name): the hash of its content.
    published: Mutex<HashMap<ReportKey, u128>>,
    /// The per-object results of the last cycle.
    results: Mutex<Results>,
    /// What the rules that relate objects to each other read of an object: each object kept
    /// for them is cut down to it once the object-local rules judged it.
    staged: palisade_analyze::Staged,
}

/// What the rules that judge an object alone said of it.
#[derive(Debug)]
struct Evaluated {
    findings: Vec<ReportFinding>,
    suppressed: Vec<ReportFinding>,
    /// (rule, object) pairs evaluated, by report namespace (one object's: one namespace, a
    /// slice rather than a map node each).
    evaluated: Box<[(Option<String>, usize)]>,
}

/// What the auditor keeps of an object from one cycle to the next: what the object-local
/// rules said of it, and the object cut down to what the other rules read when they read
/// its kind. Its whole content stays in the cluster cache only (packed).
#[derive(Debug)]
struct Kept {
    evaluated: Evaluated,
    /// Packed: parsed only while the other rules run (a parsed object takes many times
    /// the memory of its text).
    object: Option<PackedLine>,
}

/// What the auditor keeps of a cycle, by the hash of each object's content.
#[derive(Debug, Default)]
struct Results {
    today: Option<Date>,
    /// Objects the object-local rules evaluated in that cycle (the others were unchanged).
    evaluated: usize,
    by_hash: HashMap<u128, Kept>,
}

impl std::fmt::Debug for Auditor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auditor")
            .field("kinds", &self.kinds.len())
            .finish_non_exhaustive()
    }
}

impl Auditor {
    /// An auditor of the rules `options` selects (its `today` is replaced per cycle).
    pub fn new(options: Options, view: Arc<dyn ClusterView>, sink: Arc<dyn ReportSink>) -> Self {
        let kinds = Self::kinds_for(&options);
        let staged = palisade_analyze::Staged::new(&options, &[]);
        Auditor {
            staged,
            options,
            view,
            sink,
            metrics: None,
            kinds,
            published: Mutex::new(HashMap::new()),
            results: Mutex::new(Results::default()),
        }
    }

    /// Records each cycle in these metrics too.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// The kinds the selected rules read (every kind Palisade knows when one reads any): what
    /// the watch cache must hold.
    pub fn kinds_for(options: &Options) -> HashSet<&'static str> {
        let rules = selected_rules(options);
        if rules.iter().any(|r| r.meta().kinds.contains(&"*")) {
            return palisade_core::resources::RESOURCES
                .iter()
                .map(|r| r.kind)
                .collect();
        }
        let mut kinds: HashSet<&'static str> = rules
            .iter()
            .flat_map(|r| r.meta().kinds.iter().copied())
            .filter(|k| {
                palisade_core::resources::RESOURCES
                    .iter()
                    .any(|r| r.kind == *k)
            })
            .collect();
        // Policies match on their objects' Namespace (namespaceSelector).
        if rules.iter().any(|r| !built_in(*r)) {
            kinds.insert("Namespace");
        }
        kinds
    }

    /// The kinds this auditor reads.
    pub fn kinds(&self) -> &HashSet<&'static str> {
        &self.kinds
    }

    /// One cycle: evaluate the cached cluster, then write the reports that changed and
    /// delete those that have nothing left.
    pub async fn cycle(self: &Arc<Self>, today: Date) -> Result<CycleStats, CycleError> {
        let started = Instant::now();
        let lines = self
            .view
            .lines(&self.kinds)
            .map_err(CycleError::NotSynced)?;
        let count = lines.len();
        let this = self.clone();
        // The evaluation is CPU work: off the async threads.
        let (findings, counts, docs) = tokio::task::spawn_blocking(move || {
            this.evaluate_with(lines, today, |report| {
                let docs = palisade_report::policyreport::documents(
                    report,
                    &palisade_report::RenderOptions {
                        color: false,
                        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
                    },
                );
                (
                    report.findings.len(),
                    AuditCounts::of(&report.findings),
                    docs,
                )
            })
        })
        .await
        .map_err(|e| CycleError::Evaluation(e.to_string()))?;
        let mut stats = CycleStats {
            objects: count,
            judged: self.last_evaluated(),
            findings,
            ..CycleStats::default()
        };
        // Reports are compared by the hash of their content: what was published is not kept.
        let mut current: HashMap<ReportKey, u128> = HashMap::new();
        for doc in &docs {
            let text = doc.to_string();
            stats.largest_report = stats.largest_report.max(text.len());
            current.insert(key(doc), content_hash(&text));
        }
        let previous = self
            .published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut published = previous.clone();
        for doc in &docs {
            let k = key(doc);
            let hash = current[&k];
            if previous.get(&k) == Some(&hash) {
                stats.unchanged += 1;
                continue;
            }
            match self.sink.apply(doc).await {
                Ok(()) => {
                    stats.applied += 1;
                    published.insert(k, hash);
                }
                Err(e) => {
                    stats.failed += 1;
                    tracing::warn!(report = %describe_key(&k), error = %e, "cannot write the PolicyReport");
                }
            }
        }
        for k in previous.keys().filter(|k| !current.contains_key(*k)) {
            match self.sink.delete(&k.0, k.1.as_deref(), &k.2).await {
                Ok(()) => {
                    stats.deleted += 1;
                    published.remove(k);
                }
                Err(e) => {
                    stats.failed += 1;
                    tracing::warn!(report = %describe_key(k), error = %e, "cannot delete the PolicyReport");
                }
            }
        }
        *self.published.lock().unwrap_or_else(|e| e.into_inner()) = published;
        if let Some(m) = &self.metrics {
            m.record_audit_counts(counts, stats.objects, started.elapsed());
        }
        Ok(stats)
    }

    /// The report of one cycle over these objects (packed compact JSON lines).
    ///
    /// Rules whose verdict on an object depends on that object alone
    /// ([`AdmissionNeeds::Object`]) are run one object at a time, and their results are kept
    /// from one cycle to the next by the hash of the object's content, with the object cut
    /// down to what the other rules read when they read its kind: an object whose content did
    /// not change is neither unpacked nor parsed nor evaluated again (the same day; on a new
    /// day every object is judged again from its whole content, since an exception can
    /// expire and the image-vulnerability and end-of-life rules read the date). The other
    /// rules run over the kept objects of the kinds they read. The result is the report
    /// [`analyze`] gives over the whole cluster at once.
    ///
    /// [`analyze`]: palisade_analyze::analyze
    pub fn evaluate(&self, lines: Vec<PackedLine>, today: Date) -> palisade_core::Report {
        self.evaluate_with(lines, today, Clone::clone)
    }

    /// [`Auditor::evaluate`], giving the report to `read` only: the findings of the
    /// object-local rules are moved into it from what is kept, and back once `read` returns,
    /// instead of being copied each cycle.
    pub fn evaluate_with<T>(
        &self,
        lines: Vec<PackedLine>,
        today: Date,
        read: impl FnOnce(&palisade_core::Report) -> T,
    ) -> T {
        let mut opts = self.options.clone();
        opts.today = today;
        let rules = selected_rules(&opts);
        let (local, related): (Vec<&'static dyn Rule>, Vec<&'static dyn Rule>) = rules
            .iter()
            .copied()
            // A loaded policy (Gatekeeper constraint, ValidatingAdmissionPolicy) also reads
            // its object's Namespace (namespaceSelector): it runs with the other rules.
            .partition(|r| r.admission_needs() == AdmissionNeeds::Object && built_in(*r));
        let related_kinds: Option<HashSet<&'static str>> =
            if related.iter().any(|r| r.meta().kinds.contains(&"*")) {
                None
            } else {
                let mut kinds: HashSet<&'static str> = related
                    .iter()
                    .flat_map(|r| r.meta().kinds.iter().copied())
                    .collect();
                if related.iter().any(|r| !built_in(*r)) {
                    kinds.insert("Namespace");
                }
                Some(kinds)
            };
        let mut previous =
            std::mem::take(&mut *self.results.lock().unwrap_or_else(|e| e.into_inner()));
        if previous.today != Some(today) {
            previous = Results::default();
        }
        // What was kept of each unchanged object, taken over; what is left of the previous
        // cycle is of objects deleted or changed since.
        let slots: Vec<(u128, Option<Kept>)> = lines
            .iter()
            .map(|l| (l.hash(), previous.by_hash.remove(&l.hash())))
            .collect();
        drop(previous);
        // The objects kept for the other rules are cut down to what those rules read, when
        // none of them is one the cut assumes has already run.
        let cut = !related.iter().any(|r| {
            self.staged
                .early_rules()
                .iter()
                .any(|e| e.meta().id == r.meta().id)
        });
        let fresh = std::sync::atomic::AtomicUsize::new(0);
        // A new or changed object: unpacked, parsed, judged by the object-local rules, and
        // cut down (or dropped) once judged.
        let judge = |line: &PackedLine| -> Option<Kept> {
            let object = match line
                .value()
                .map(|v| Object::from_value(v, None, SpanIndex::default()))
            {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "a cached object is not an object: not audited");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "a cached object cannot be read: not audited");
                    return None;
                }
            };
            fresh.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let related = related_kinds
                .as_ref()
                .is_none_or(|k| k.contains(object.kind.as_str()));
            let inventory = Inventory::new(vec![object]);
            let findings = run_rules(&inventory, &local, &opts);
            let report = apply_policy(&inventory, findings, &local, InputSummary::default(), &opts);
            let evaluated = Evaluated {
                findings: report.findings,
                suppressed: report.suppressed,
                evaluated: evaluations(&inventory, &opts).into_iter().collect(),
            };
            let object = inventory
                .into_objects()
                .pop()
                .filter(|_| related)
                .map(|mut o| {
                    if cut {
                        self.staged.cut(&mut o);
                    }
                    PackedLine::new(&o.to_json())
                });
            Some(Kept { evaluated, object })
        };
        let mut slots: Vec<(u128, Option<Kept>)> = slots
            .into_par_iter()
            .zip(lines.par_iter())
            .map(|((hash, kept), line)| (hash, kept.or_else(|| judge(line))))
            .collect();
        drop(lines);
        // The rules that relate objects to each other, over the kept objects of the kinds
        // they read, parsed for the run and dropped after it. Parsed on this thread: the
        // memory of the run stays in one allocator arena, returned whole after it.
        let objects: Vec<Object> = slots
            .iter()
            .filter_map(|(_, k)| k.as_ref()?.object.as_ref())
            .filter_map(|line| {
                // Rebuilt without the spare capacity parsing leaves (all of them are held
                // at once).
                let v = palisade_core::object::rebuilt(&line.value().ok()?);
                Object::from_value(v, None, SpanIndex::default()).ok()
            })
            .collect();
        let inventory = Inventory::new(objects);
        let findings = run_rules(&inventory, &related, &opts);
        let mut report = apply_policy(
            &inventory,
            findings,
            &related,
            InputSummary::default(),
            &opts,
        );
        drop(inventory);
        report.rules = rules.iter().map(|r| r.meta()).collect();
        // The object-local findings, moved in with the index of the object they came from.
        let mut counts = std::collections::BTreeMap::new();
        // Sized once: grown by doubling, the list of every finding would hold up to twice
        // its size while it grows.
        let kept = |which: fn(&Evaluated) -> usize| -> usize {
            slots
                .iter()
                .filter_map(|s| s.1.as_ref())
                .map(|k| which(&k.evaluated))
                .sum()
        };
        // The related rules' own findings first, with no object index.
        let sized = |from: Vec<ReportFinding>, local: usize| {
            let mut all: Vec<(ReportFinding, usize)> = Vec::with_capacity(from.len() + local);
            all.extend(from.into_iter().map(|f| (f, usize::MAX)));
            all
        };
        let mut findings = sized(
            std::mem::take(&mut report.findings),
            kept(|e| e.findings.len()),
        );
        let mut suppressed = sized(
            std::mem::take(&mut report.suppressed),
            kept(|e| e.suppressed.len()),
        );
        for (i, k) in slots.iter_mut().enumerate() {
            let Some(k) = k.1.as_mut() else { continue };
            let e = &mut k.evaluated;
            findings.extend(std::mem::take(&mut e.findings).into_iter().map(|f| (f, i)));
            suppressed.extend(
                std::mem::take(&mut e.suppressed)
                    .into_iter()
                    .map(|f| (f, i)),
            );
            for (ns, n) in &e.evaluated {
                *counts.entry(ns.clone()).or_insert(0) += n;
            }
        }
        let order = |a: &(ReportFinding, usize), b: &(ReportFinding, usize)| {
            let (a, b) = (&a.0, &b.0);
            (&a.object, a.rule_id, &a.path, &a.message)
                .cmp(&(&b.object, b.rule_id, &b.path, &b.message))
        };
        findings.sort_by(order);
        suppressed.sort_by(order);
        // The places first, then the findings moved out of the same list.
        let found_at: Vec<usize> = findings.iter().map(|f| f.1).collect();
        let kept_at: Vec<usize> = suppressed.iter().map(|f| f.1).collect();
        report.findings = findings.into_iter().map(|f| f.0).collect();
        report.suppressed = suppressed.into_iter().map(|f| f.0).collect();
        report.evaluations = Some(counts);
        let out = read(&report);
        // Back to the objects they came from (those of the other rules are the report's).
        for (f, i) in report.findings.into_iter().zip(found_at) {
            if let Some(k) = slots.get_mut(i).and_then(|s| s.1.as_mut()) {
                k.evaluated.findings.push(f);
            }
        }
        for (f, i) in report.suppressed.into_iter().zip(kept_at) {
            if let Some(k) = slots.get_mut(i).and_then(|s| s.1.as_mut()) {
                k.evaluated.suppressed.push(f);
            }
        }
        for k in slots.iter_mut().filter_map(|s| s.1.as_mut()) {
            k.evaluated.findings.shrink_to_fit();
            k.evaluated.suppressed.shrink_to_fit();
        }
        let results = Results {
            today: Some(today),
            evaluated: fresh.load(std::sync::atomic::Ordering::Relaxed),
            by_hash: slots
                .into_iter()
                .filter_map(|(h, k)| Some((h, k?)))
                .collect(),
        };
        *self.results.lock().unwrap_or_else(|e| e.into_inner()) = results;
        out
    }

    /// How many objects the last cycle evaluated with the object-local rules: those new or
    /// changed since the cycle before (all of them on a new day).
    pub fn last_evaluated(&self) -> usize {
        self.results
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .evaluated
    }

    /// Runs a cycle every `interval` (the first at once) until `shutdown` resolves; a cycle
    /// that cannot run (cache not synced) is retried after a few seconds.
    pub async fn run(
        self: Arc<Self>,
        interval: Duration,
        today: impl Fn() -> Date + Send + 'static,
        shutdown: impl Future<Output = ()> + Send,
    ) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.cycle(today()).await {
                Ok(s) => {
                    tracing::info!(
                        objects = s.objects,
                        judged = s.judged,
                        findings = s.findings,
                        applied = s.applied,
                        unchanged = s.unchanged,
                        deleted = s.deleted,
                        failed = s.failed,
                        largest_report_bytes = s.largest_report,
                        "background audit cycle"
                    );
                    interval
                }
                Err(e) => {
                    tracing::warn!(error = %e, "background audit cycle skipped");
                    interval.min(Duration::from_secs(5))
                }
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}

/// A rule of Palisade's catalogue (not a loaded policy).
fn built_in(rule: &dyn Rule) -> bool {
    palisade_analyze::catalogue::all()
        .iter()
        .any(|m| m.id == rule.meta().id)
}

fn key(doc: &Value) -> ReportKey {
    let s = |p: &str| doc.pointer(p).and_then(Value::as_str).map(str::to_owned);
    (
        s("/kind").unwrap_or_default(),
        s("/metadata/namespace"),
        s("/metadata/name").unwrap_or_default(),
    )
}

fn describe_key(k: &ReportKey) -> String {
    match &k.1 {
        Some(ns) => format!("{} {ns}/{}", k.0, k.2),
        None => format!("{} {}", k.0, k.2),
    }
}
