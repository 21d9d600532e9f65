//! Request handlers.

use super::api_error::ApiError;
use super::state::AppState;
use crate::certs::error_chain;
use crate::review::Verdict;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::Ordering;
use std::time::Instant;
use tracing::Instrument;

/// `POST /validate`: an AdmissionReview in, an AdmissionReview out.
pub async fn validate(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|r| super::body_rejection(r, state.limits.max_body_bytes))?;
    let started = Instant::now();
    let today = state.clock.today();
    let evaluator = state.evaluator.clone();
    let semaphore = state.semaphore.clone();
    let span = tracing::Span::current();
    let images = state.images.clone();
    let work = async move {
        // The workload's images verified at their registries first (within the
        // verification budget, inside the webhook's timeout).
        let (signatures, notes) = match &images {
            Some(iv) => match crate::images::ImageVerification::workload_of(&body) {
                Some(w) => {
                    let (e, n) = iv.verify_workload(&w).await;
                    (Some(e), n)
                }
                None => (None, Vec::new()),
            },
            None => (None, Vec::new()),
        };
        let _permit = semaphore
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Internal("shutting down".into()))?;
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            evaluator
                .review_with(&body, today, signatures.as_ref())
                .map(|mut outcome| {
                    add_warnings(&mut outcome, &notes);
                    outcome
                })
        })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
    }
    .instrument(tracing::Span::current());
    let outcome = match tokio::time::timeout(state.limits.timeout, work).await {
        Err(_) => {
            state.metrics.count("timeout", started.elapsed());
            tracing::warn!(
                timeout_ms = state.limits.timeout.as_millis() as u64,
                "evaluation timed out"
            );
            return Err(ApiError::Timeout);
        }
        Ok(Err(e)) => {
            state.metrics.count("error", started.elapsed());
            tracing::error!(error = %e, "evaluation failed");
            return Err(e);
        }
        Ok(Ok(Err(e))) => {
            state.metrics.count("malformed", started.elapsed());
            let message = error_chain(&e);
            tracing::warn!(error = %message, "malformed AdmissionReview");
            return Err(ApiError::BadRequest(message));
        }
        Ok(Ok(Ok(outcome))) => outcome,
    };
    let body =
        serde_json::to_vec(&outcome.review).map_err(|e| ApiError::Internal(e.to_string()))?;
    state.metrics.record(&outcome, started.elapsed());
    log(&outcome);
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Adds the image verification notes (images not verified under failure policy `Ignore`)
/// to an evaluated review's warnings.
fn add_warnings(outcome: &mut crate::review::Outcome, notes: &[String]) {
    if notes.is_empty() || outcome.verdict == Verdict::Skipped {
        return;
    }
    if let Some(r) = outcome.review.response.as_mut() {
        r.warnings
            .get_or_insert_with(Vec::new)
            .extend(notes.iter().map(|n| format!("palisade: IMG007 {n}")));
    }
}

fn log(outcome: &crate::review::Outcome) {
    let s = &outcome.subject;
    if outcome.verdict == Verdict::Skipped {
        tracing::debug!(uid = %s.uid, operation = s.operation, kind = %s.kind, "not evaluated");
        return;
    }
    let rules: Vec<&str> = outcome.findings.iter().map(|d| d.finding.rule_id).collect();
    tracing::info!(
        uid = %s.uid,
        operation = s.operation,
        kind = %s.kind,
        namespace = s.namespace.as_deref().unwrap_or(""),
        name = %s.name,
        dry_run = s.dry_run,
        verdict = outcome.verdict.as_str(),
        rules = %rules.join(","),
        "admission decision"
    );
    for d in &outcome.findings {
        if d.mode == palisade_core::Mode::Audit {
            tracing::info!(
                uid = %s.uid,
                rule = d.finding.rule_id,
                severity = d.finding.severity.as_str(),
                kind = %s.kind,
                namespace = s.namespace.as_deref().unwrap_or(""),
                name = %s.name,
                path = d.finding.path.as_deref().unwrap_or(""),
                message = %d.finding.message,
                "audit finding"
            );
        }
    }
}

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: serving (not yet shutting down).
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response()
    }
}

/// `GET /metrics`: Prometheus / OpenMetrics text.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
