//! The background audit's evaluation (object-local rules one object at a time with results
//! kept per object, the other rules over the kinds they read) gives the report a scan of the
//! same objects gives, and re-evaluates only what changed.

use crate::util::{corpus, date, options};
use palisade_admission::background::{Auditor, BoxFuture, ReportSink};
use palisade_admission::StaticView;
use palisade_analyze::{analyze, evaluations, InputSummary, Options};
use palisade_core::{Inventory, Object, Report, SpanIndex};
use palisade_load::packed::PackedLine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const TODAY: &str = "2026-11-23";

#[derive(Debug)]
struct NoSink;

impl ReportSink for NoSink {
    fn apply<'a>(&'a self, _: &'a Value) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    fn delete<'a>(
        &'a self,
        _: &'a str,
        _: Option<&'a str>,
        _: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// The objects of these files as a cluster holds them: no source positions, one object per
/// kind, namespace and name (the first; files of different projects reuse names).
fn cluster_objects(paths: &[PathBuf]) -> Vec<Object> {
    let mut seen = std::collections::HashSet::new();
    palisade_load::load_paths(paths)
        .objects
        .into_iter()
        .filter(|o| seen.insert((o.kind.clone(), o.namespace.clone(), o.name.clone())))
        .filter_map(|o| Object::from_value(o.into_value(), None, SpanIndex::default()).ok())
        .collect()
}

type Rows = BTreeMap<(String, &'static str, Option<String>, String, bool), usize>;

/// A report as comparable rows: (object, rule, path, message, suppressed) with counts.
fn rows(r: &Report) -> Rows {
    let mut out = Rows::new();
    for (f, s) in r
        .findings
        .iter()
        .map(|f| (f, false))
        .chain(r.suppressed.iter().map(|f| (f, true)))
    {
        *out.entry((
            f.object.to_string(),
            f.rule_id,
            f.path.clone(),
            format!("{} {:?} {:?}", f.message, f.severity, f.mode),
            s,
        ))
        .or_insert(0) += 1;
    }
    out
}

/// Fails naming the rows only one side has.
fn assert_same(what: &str, audit: &Rows, scan: &Rows) {
    let mut diff = Vec::new();
    for (k, n) in audit {
        if scan.get(k) != Some(n) {
            diff.push(format!("audit {n}x, scan {:?}x: {k:?}", scan.get(k)));
        }
    }
    for (k, n) in scan {
        if !audit.contains_key(k) {
            diff.push(format!("scan {n}x only: {k:?}"));
        }
    }
    assert!(
        diff.is_empty(),
        "{what}: audit and scan differ in {} rows:\n{}",
        diff.len(),
        diff.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
}

fn lines(objects: &[Object]) -> Vec<PackedLine> {
    objects
        .iter()
        .map(|o| PackedLine::new(&o.value().to_string()))
        .collect()
}

fn auditor(opts: &Options, objects: Vec<Object>) -> Auditor {
    Auditor::new(
        opts.clone(),
        Arc::new(StaticView::new(objects)),
        Arc::new(NoSink),
    )
}

/// Audit = scan over these objects; returns the number of findings.
fn compare(what: &str, objects: Vec<Object>, opts: &Options) -> usize {
    let inventory = Inventory::new(objects.clone());
    let mut scan = analyze(&inventory, InputSummary::default(), opts);
    scan.evaluations = Some(evaluations(&inventory, opts));
    let a = auditor(opts, Vec::new());
    let first = a.evaluate(lines(&objects), opts.today);
    assert_same(what, &rows(&first), &rows(&scan));
    assert_eq!(
        first.evaluations, scan.evaluations,
        "{what}: evaluation counts"
    );
    // The second cycle answers from the kept results, with the same report.
    let second = a.evaluate(lines(&objects), opts.today);
    assert_same(what, &rows(&second), &rows(&scan));
    scan.findings.len() + scan.suppressed.len()
}

#[test]
fn audit_cycles_report_what_a_scan_reports_over_fixtures() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules/fixtures");
    let mut files = Vec::new();
    for d in std::fs::read_dir(&fixtures).expect("fixtures") {
        let d = d.expect("entry").path();
        if !d.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&d).expect("fixture dir") {
            let f = f.expect("entry").path();
            if f.extension().is_some_and(|e| e == "yaml") {
                files.push(f);
            }
        }
    }
    files.sort();
    let opts = Options::new(date(TODAY));
    let mut findings = 0;
    for f in &files {
        findings += compare(
            &f.display().to_string(),
            cluster_objects(std::slice::from_ref(f)),
            &opts,
        );
    }
    // And every fixture together, as one cluster: the inventory rules relate them.
    findings += compare("all fixtures", cluster_objects(&files), &opts);
    assert!(findings > 500, "{findings}");
}

#[test]
fn audit_cycles_report_what_a_scan_reports_over_real_manifests() {
    let Some(real_manifests) = corpus("real-manifests") else {
        return;
    };
    let (files, _) = palisade_load::expand_paths(&[real_manifests]);
    let opts = Options::new(date(TODAY));
    let all = cluster_objects(&files);
    assert!(all.len() > 1000, "{}", all.len());
    let n = compare("real-world manifests", all, &opts);
    assert!(n > 1000, "{n}");
}

#[test]
fn a_changed_object_is_evaluated_again_and_a_deleted_one_leaves() {
    let opts = Options::new(date(TODAY));
    let pod = |name: &str, privileged: bool| -> Object {
        let v = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"containers": [{"name": "c", "image": "registry.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "securityContext": {"privileged": privileged}}]}
        });
        Object::from_value(v, None, SpanIndex::default()).unwrap()
    };
    let a = auditor(&opts, Vec::new());
    let has = |r: &Report, name: &str| {
        r.findings
            .iter()
            .any(|f| f.rule_id == "POD001" && f.object.name == name)
    };
    let r1 = a.evaluate(lines(&[pod("a", true), pod("b", false)]), opts.today);
    assert!(has(&r1, "a") && !has(&r1, "b"));
    assert_eq!(a.last_evaluated(), 2);
    // b turns privileged, a is deleted: only b is evaluated again.
    let r2 = a.evaluate(lines(&[pod("b", true)]), opts.today);
    assert!(!has(&r2, "a") && has(&r2, "b"));
    assert_eq!(a.last_evaluated(), 1);
    let r3 = a.evaluate(lines(&[pod("b", true)]), opts.today);
    assert_eq!(rows(&r3), rows(&r2));
    assert_eq!(a.last_evaluated(), 0);
    // A new day evaluates everything again (an exception may have expired).
    let r4 = a.evaluate(lines(&[pod("b", true)]), date("2026-11-24"));
    assert_eq!(a.last_evaluated(), 1);
    assert!(has(&r4, "b"));
}

/// An object from JSON, as a cluster holds it.
fn object(v: Value) -> Object {
    Object::from_value(v, None, SpanIndex::default()).unwrap()
}

/// A cycle over these objects gives what a scan of them gives.
fn cycle(a: &Auditor, objects: &[Object], opts: &Options, today: &str) -> Report {
    let report = a.evaluate(lines(objects), date(today));
    let mut scan_opts = opts.clone();
    scan_opts.today = date(today);
    let scan = analyze(
        &Inventory::new(objects.to_vec()),
        InputSummary::default(),
        &scan_opts,
    );
    assert_same(today, &rows(&report), &rows(&scan));
    report
}

/// The objects kept for the rules that relate objects to each other (cut down, not parsed
/// again) are what those rules read in the next cycles: a change of one object is seen by
/// the next cycle, whichever side of the relation changed, and only that object is judged
/// again.
#[test]
fn a_change_is_seen_by_the_next_cycle_and_unchanged_objects_are_not_judged_again() {
    let opts = Options::new(date(TODAY));
    let pod = |name: &str, app: &str| {
        object(serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "labels": {"app": app}},
            "spec": {"containers": [{"name": "c", "image": "registry.example/app:1.0"}]}
        }))
    };
    let policy = |app: &str| {
        object(serde_json::json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "allow", "namespace": "shop"},
            "spec": {"podSelector": {"matchLabels": {"app": app}}, "policyTypes": ["Ingress"]}
        }))
    };
    let unselected = |r: &Report| -> Vec<String> {
        r.findings
            .iter()
            .filter(|f| f.rule_id == "NET003")
            .map(|f| f.object.name.clone())
            .collect()
    };
    let a = auditor(&opts, Vec::new());
    let r1 = cycle(
        &a,
        &[pod("a", "a"), pod("b", "b"), policy("a")],
        &opts,
        TODAY,
    );
    assert_eq!(unselected(&r1), ["b"]);
    assert_eq!(a.last_evaluated(), 3);
    // b's labels change: the policy selects it now.
    let r2 = cycle(
        &a,
        &[pod("a", "a"), pod("b", "a"), policy("a")],
        &opts,
        TODAY,
    );
    assert!(unselected(&r2).is_empty());
    assert_eq!(a.last_evaluated(), 1);
    // Nothing changes: nothing is judged again, and the kept objects give the same report.
    let r3 = cycle(
        &a,
        &[pod("a", "a"), pod("b", "a"), policy("a")],
        &opts,
        TODAY,
    );
    assert_eq!(rows(&r3), rows(&r2));
    assert_eq!(a.last_evaluated(), 0);
    // The policy changes: the unchanged Pods, not judged again, are read by NET003 as kept.
    let r4 = cycle(
        &a,
        &[pod("a", "a"), pod("b", "a"), policy("z")],
        &opts,
        TODAY,
    );
    assert_eq!(unselected(&r4), ["a", "b"]);
    assert_eq!(a.last_evaluated(), 1);
}

/// A new day judges every object again from its whole content: an exception that expired
/// overnight stops suppressing its finding, though the object did not change.
#[test]
fn a_new_day_judges_date_dependent_results_again() {
    let config = "exceptions:\n  - rules: [POD001]\n    match: { namespace: shop, kind: Pod, name: p }\n    reason: migration\n    expires: 2026-11-23\n";
    let opts = options(config, TODAY);
    let objects = [object(serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "p", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "registry.example/app:1.0",
            "securityContext": {"privileged": true}}]}
    }))];
    let pod001 = |fs: &[palisade_core::ReportFinding]| fs.iter().any(|f| f.rule_id == "POD001");
    let a = auditor(&opts, Vec::new());
    let r1 = cycle(&a, &objects, &opts, TODAY);
    assert!(pod001(&r1.suppressed) && !pod001(&r1.findings));
    let r2 = cycle(&a, &objects, &opts, TODAY);
    assert_eq!(a.last_evaluated(), 0);
    assert_eq!(rows(&r2), rows(&r1));
    // The last day of the exception was yesterday.
    let r3 = cycle(&a, &objects, &opts, "2026-11-24");
    assert_eq!(a.last_evaluated(), 1);
    assert!(pod001(&r3.findings) && !pod001(&r3.suppressed));
    // And again that day, from what was kept.
    let r4 = cycle(&a, &objects, &opts, "2026-11-24");
    assert_eq!(a.last_evaluated(), 0);
    assert_eq!(rows(&r4), rows(&r3));
}

/// A loaded Gatekeeper constraint whose match reads the object's Namespace
/// (namespaceSelector): the audit gives what the scan gives.
#[test]
fn a_constraint_matching_on_namespace_labels_audits_as_it_scans() {
    use palisade_analyze::ExtraRules;
    use palisade_core::Rule;
    use palisade_policy::constraint::EnforcementPoint;
    use palisade_policy::{apply_modes, rules_for, EvalOptions, PolicySet};
    let text = format!(
        "{}---\napiVersion: constraints.gatekeeper.sh/v1beta1\nkind: K8sNoPrivilegedByUser\nmetadata: {{name: no-priv}}\nspec:\n  enforcementAction: dryrun\n  match:\n    kinds: [{{apiGroups: [\"\"], kinds: [Pod]}}]\n    namespaceSelector: {{matchLabels: {{enforce: \"yes\"}}}}\n",
        crate::gatekeeper::TEMPLATE
            .replace("input.review.operation == \"CREATE\"", "true")
            .replace(
                "[input.review.userInfo.username, c.name]",
                "[\"someone\", c.name]"
            )
    );
    let loaded = palisade_load::load_str("policy.yaml", &text);
    let mut set = PolicySet::default();
    set.add_objects(&loaded.objects);
    assert!(set.errors.is_empty(), "{:?}", set.errors);
    let rules = rules_for(&set, EnforcementPoint::Audit, EvalOptions::default());
    assert_eq!(rules.len(), 1);
    let mut opts = Options::new(date(TODAY));
    apply_modes(&rules, &mut opts.policy);
    opts.extra_rules = ExtraRules(rules.iter().map(|r| *r as &'static dyn Rule).collect());
    let objects = palisade_load::load_str(
        "cluster.yaml",
        r#"apiVersion: v1
kind: Namespace
metadata: {name: enforced, labels: {enforce: "yes"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: free}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: enforced}
spec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: free}
spec: {containers: [{name: c, image: busybox, securityContext: {privileged: true}}]}
"#,
    )
    .objects
    .into_iter()
    .filter_map(|o| Object::from_value(o.into_value(), None, SpanIndex::default()).ok())
    .collect::<Vec<_>>();
    compare("namespaceSelector constraint", objects.clone(), &opts);
    let report = auditor(&opts, Vec::new()).evaluate(lines(&objects), opts.today);
    let hits: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.rule_id.contains('/'))
        .map(|f| f.object.to_string())
        .collect();
    assert_eq!(hits, ["Pod enforced/p"]);
    assert!(Auditor::kinds_for(&opts).contains("Namespace"));
}
