//! Prometheus metrics: decisions by rule, mode and outcome; requests by verdict; latency.

use crate::review::{Outcome, Verdict};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::time::Duration;

/// The labels of one rule decision.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    rule: String,
    mode: String,
    outcome: String,
    operation: String,
}

/// The labels of one request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    verdict: String,
}

/// The webhook's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    decisions: Family<DecisionLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    latency: Histogram,
    audit_violations: Family<AuditLabels, Gauge>,
    audit_duration: Gauge<f64, std::sync::atomic::AtomicU64>,
    audit_objects: Gauge,
    audit_last_success: Gauge,
}

/// The active findings of a background audit cycle, counted by rule, namespace, severity
/// and mode.
#[derive(Debug, Default)]
pub struct AuditCounts(std::collections::HashMap<AuditLabels, i64>);

impl AuditCounts {
    /// Counts these findings.
    pub fn of(findings: &[palisade_core::ReportFinding]) -> AuditCounts {
        let mut counts = std::collections::HashMap::new();
        for f in findings {
            *counts
                .entry(AuditLabels {
                    rule: f.rule_id.to_owned(),
                    namespace: f.object.namespace.clone().unwrap_or_default(),
                    severity: f.severity.as_str().to_owned(),
                    mode: f.mode.to_string(),
                })
                .or_insert(0) += 1;
        }
        AuditCounts(counts)
    }
}

/// Labels of the background audit's violations.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuditLabels {
    rule: String,
    namespace: String,
    severity: String,
    mode: String,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers the metrics.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("palisade_admission");
        let decisions = Family::<DecisionLabels, Counter>::default();
        registry.register(
            "decisions",
            "Findings acted on at admission, by rule, mode (audit, warn, deny), the request's outcome (denied, warned, audited) and operation",
            decisions.clone(),
        );
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "AdmissionReview requests by verdict (allowed, audited, warned, denied, skipped, error, timeout)",
            requests.clone(),
        );
        let latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 18));
        registry.register(
            "request_duration_seconds",
            "Time to answer an AdmissionReview, from the body read to the response",
            latency.clone(),
        );
        let audit_violations = Family::<AuditLabels, Gauge>::default();
        registry.register(
            "audit_violations",
            "Active findings of the last background audit, by rule, namespace (empty: cluster-scoped), severity and mode",
            audit_violations.clone(),
        );
        let audit_duration = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        registry.register(
            "audit_duration_seconds",
            "Duration of the last background audit cycle (evaluation and report updates)",
            audit_duration.clone(),
        );
        let audit_objects = Gauge::default();
        registry.register(
            "audit_objects",
            "Objects evaluated by the last background audit cycle",
            audit_objects.clone(),
        );
        let audit_last_success = Gauge::default();
        registry.register(
            "audit_last_success_timestamp_seconds",
            "Unix time of the last background audit cycle that completed (alert on its age)",
            audit_last_success.clone(),
        );
        Metrics {
            registry,
            decisions,
            requests,
            latency,
            audit_violations,
            audit_duration,
            audit_objects,
            audit_last_success,
        }
    }

    /// Records a completed background audit cycle: its findings replace the previous ones.
    pub fn record_audit(
        &self,
        findings: &[palisade_core::ReportFinding],
        objects: usize,
        elapsed: Duration,
    ) {
        self.record_audit_counts(AuditCounts::of(findings), objects, elapsed);
    }

    /// [`Metrics::record_audit`] with the findings already counted (the cycle counts them
    /// while its report exists, and records once its reports are written).
    pub fn record_audit_counts(&self, counts: AuditCounts, objects: usize, elapsed: Duration) {
        self.audit_violations.clear();
        for (labels, n) in counts.0 {
            self.audit_violations.get_or_create(&labels).set(n);
        }
        self.audit_duration.set(elapsed.as_secs_f64());
        self.audit_objects.set(objects as i64);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        self.audit_last_success.set(now);
    }

    /// Records an answered review.
    pub fn record(&self, outcome: &Outcome, elapsed: Duration) {
        for d in &outcome.findings {
            self.decisions
                .get_or_create(&DecisionLabels {
                    rule: d.finding.rule_id.to_owned(),
                    mode: d.mode.to_string(),
                    outcome: outcome.verdict.as_str().to_owned(),
                    operation: outcome.subject.operation.to_owned(),
                })
                .inc();
        }
        self.count(outcome.verdict.as_str(), elapsed);
    }

    /// Records a request that got no review back (`error`, `timeout`, `overloaded`).
    pub fn count(&self, verdict: &str, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                verdict: verdict.to_owned(),
            })
            .inc();
        self.latency.observe(elapsed.as_secs_f64());
    }

    /// The number of requests recorded with this verdict.
    pub fn requests_with(&self, verdict: Verdict) -> u64 {
        self.requests
            .get_or_create(&RequestLabels {
                verdict: verdict.as_str().to_owned(),
            })
            .get()
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// Serves `/metrics` (OpenMetrics text) and `/healthz` over plain HTTP, for `palisade audit
/// serve`, whose endpoints carry no admission traffic.
pub async fn serve_plain(
    listener: tokio::net::TcpListener,
    metrics: std::sync::Arc<Metrics>,
) -> std::io::Result<()> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let app = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move {
                    (
                        [(
                            header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        metrics.encode(),
                    )
                        .into_response()
                }
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok" }));
    axum::serve(listener, app).await
}
