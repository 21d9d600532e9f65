//! The monitoring samples in `deploy/` use metrics `/metrics` really exposes.

use palisade_admission::metrics::Metrics;
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn deploy_samples_use_only_exposed_metrics() {
    // Every family gets a sample: a reviewed privileged Pod, an error, an audit cycle.
    let metrics = Metrics::new();
    let evaluator = palisade_admission::Evaluator::new(
        crate::util::options("profile: restricted\n", "2026-11-23"),
        palisade_admission::EvaluatorOptions::default(),
    );
    let body = crate::util::review("u", "CREATE", crate::util::privileged_pod("a", "p"));
    let outcome = evaluator
        .review(body.to_string().as_bytes(), crate::util::date("2026-11-23"))
        .expect("review");
    assert!(!outcome.findings.is_empty());
    metrics.record(&outcome, std::time::Duration::from_millis(1));
    metrics.count("error", std::time::Duration::from_millis(1));
    let findings: Vec<_> = outcome.findings.iter().map(|d| d.finding.clone()).collect();
    metrics.record_audit(&findings, 1, std::time::Duration::from_millis(5));
    let text = metrics.encode();
    let exposed: BTreeSet<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy");
    let mut used = BTreeSet::new();
    for f in ["prometheus-rules.yaml", "grafana-dashboard.json"] {
        let body = std::fs::read_to_string(dir.join(f)).expect("deploy sample");
        let mut rest = body.as_str();
        while let Some(i) = rest.find("palisade_admission_") {
            let tail = &rest[i..];
            let end = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            used.insert(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    assert!(used.len() >= 6, "{used:?}");
    for name in &used {
        let base = ["_total", "_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s))
            .unwrap_or(name);
        assert!(
            exposed.contains(base) || exposed.contains(name.as_str()),
            "deploy/ uses {name}, which /metrics does not expose ({exposed:?})"
        );
    }
}
