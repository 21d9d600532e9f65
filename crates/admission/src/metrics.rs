//! Prometheus metrics: decisions by rule, mode and outcome; requests by verdict; latency.

use crate::review::{Outcome, Verdict};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
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
        Metrics {
            registry,
            decisions,
            requests,
            latency,
        }
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
