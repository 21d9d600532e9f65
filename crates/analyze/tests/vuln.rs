//! IMG006 over the bundled examples with the hand-written reports of the rule's fixtures,
//! as `palisade scan examples/ --vuln-report ...` runs it: the join (digest and reference),
//! the grace period and the exceptions, which apply to it like to every rule.

use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::config::{Exception, ExceptionMatch, RuleConfig};
use palisade_core::Inventory;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn inventory() -> Inventory {
    let loaded = palisade_load::load_paths(&[
        root().join("examples/insecure"),
        root().join("examples/hardened"),
    ]);
    let inv = Inventory::new(loaded.objects);
    let reports = root().join("crates/rules/fixtures/IMG006/reports");
    let files: Vec<PathBuf> = [
        "trivy-shop-api.json",
        "grype-postgres.json",
        "trivy-shop-frontend.sarif",
    ]
    .iter()
    .map(|f| reports.join(f))
    .collect();
    let evidence = palisade_supply::vuln::read_reports(&files, 1 << 20).unwrap();
    inv.derived(move |_| evidence);
    inv
}

fn run(today: jiff::civil::Date, configure: impl FnOnce(&mut Options)) -> palisade_core::Report {
    let inv = inventory();
    let mut opts = Options::new(today);
    opts.select = vec!["IMG006".to_owned()];
    configure(&mut opts);
    analyze(&inv, InputSummary::default(), &opts)
}

fn ids(findings: &[palisade_core::report::ReportFinding]) -> Vec<String> {
    let mut v: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{} {}",
                f.object.name,
                f.properties.get("vulnerability").expect("vulnerability")
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn joins_examples_with_reports() {
    let report = run(jiff::civil::date(2026, 12, 1), |_| {});
    assert_eq!(
        ids(&report.findings),
        [
            "api CVE-2026-90001",
            "api CVE-2026-90001",
            "api CVE-2026-90005",
            "api CVE-2026-90005",
            "frontend CVE-2026-90021",
            "postgres CVE-2026-90011",
        ]
    );
    // The insecure example's `postgres` (Docker Hub, no report) and its unversioned frontend
    // are not joined; the hardened api by digest, the insecure one by reference.
    let api: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.object.name == "api")
        .map(|f| f.message.contains("joined by digest"))
        .collect();
    assert!(api.contains(&true) && api.contains(&false));
    // Earlier, CVE-2026-90005 (published 2026-06-10) was within its 30 days.
    let report = run(jiff::civil::date(2026, 7, 1), |_| {});
    assert!(ids(&report.findings).iter().all(|f| !f.ends_with("90005")));
    // graceDays and minSeverity from the configuration.
    let report = run(jiff::civil::date(2026, 12, 1), |o| {
        let mut rc = RuleConfig::default();
        rc.options.insert("graceDays".into(), 0.into());
        rc.options.insert("minSeverity".into(), "critical".into());
        o.policy.rules.insert("IMG006".into(), rc);
    });
    assert_eq!(
        ids(&report.findings),
        [
            "api CVE-2026-90002",
            "api CVE-2026-90002",
            "postgres CVE-2026-90011"
        ]
    );
}

#[test]
fn exceptions_apply_and_expire() {
    let exception = Exception {
        index: 0,
        rules: vec!["IMG006".into()],
        matches: ExceptionMatch {
            namespace: Some("shop".into()),
            kind: Some("Deployment".into()),
            name: Some("api".into()),
        },
        reason: "libssl3 rebuild scheduled".into(),
        owner: Some("team-shop".into()),
        ticket: Some("SHOP-42".into()),
        expires: Some(jiff::civil::date(2026, 12, 31)),
        line: 1,
    };
    let ex = exception.clone();
    let report = run(jiff::civil::date(2026, 12, 1), move |o| {
        o.policy.exceptions.push(ex)
    });
    assert_eq!(
        ids(&report.findings),
        ["frontend CVE-2026-90021", "postgres CVE-2026-90011"]
    );
    assert_eq!(report.suppressed.len(), 4);
    let report = run(jiff::civil::date(2027, 1, 1), move |o| {
        o.policy.exceptions.push(exception)
    });
    // Expired: the api's findings are back, with those that left their grace period since
    // (CVE-2026-90002 published 2026-11-20, CVE-2026-90012 fixed 2026-11-25).
    assert_eq!(report.expired_exceptions.len(), 1);
    assert!(report.suppressed.is_empty());
    assert_eq!(report.findings.len(), 9);
}
