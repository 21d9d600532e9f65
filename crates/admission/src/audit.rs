//! The audit webhook backend: the API server posts batches of audit events (an `EventList`,
//! configured with `--audit-webhook-config-file`) and Palisade's detection rules evaluate them
//! as they arrive. Served like the admission webhook (TLS with certificate reload, graceful
//! shutdown) by [`crate::server::Server::bind_router`].

use crate::api::api_error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;
use palisade_detect::{Alert, Detector};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Where alerts go (the CLI writes them as JSON lines).
pub type AlertSink = Arc<dyn Fn(&[Alert]) + Send + Sync>;

/// What the audit backend serves with.
#[derive(Clone)]
pub struct AuditState {
    /// The detector; batches are evaluated one at a time, in arrival order, so windowed rules
    /// (bursts of 403s) see events in order.
    pub detector: Arc<Mutex<Detector>>,
    /// Where alerts go.
    pub sink: AlertSink,
    /// Ready to serve (`/readyz`).
    pub ready: Arc<AtomicBool>,
    /// Largest accepted batch, in bytes.
    pub max_body_bytes: usize,
}

impl AuditState {
    /// A state for this detector and sink, with a 32 MiB batch limit.
    pub fn new(detector: Detector, sink: AlertSink) -> AuditState {
        AuditState {
            detector: Arc::new(Mutex::new(detector)),
            sink,
            ready: Arc::new(AtomicBool::new(false)),
            max_body_bytes: 32 << 20,
        }
    }

    /// Reports what is due by now although no later event came: held `RequestReceived`
    /// events past their grace period, exec attempts whose retry never came, and the
    /// summaries of alert groups whose window closed (call it periodically).
    pub fn tick(&self) {
        let now = jiff::Timestamp::now().as_microsecond();
        let alerts = self
            .detector
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tick(now);
        if !alerts.is_empty() {
            (self.sink)(&alerts);
        }
    }

    /// Evaluates everything still held (call it at the end of input, on shutdown).
    pub fn flush(&self) {
        let alerts = self
            .detector
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .flush();
        if !alerts.is_empty() {
            (self.sink)(&alerts);
        }
    }
}

/// `POST /audit` (an EventList, a single Event, or JSON lines), `/healthz`, `/readyz`.
/// Batches larger than [`AuditState::max_body_bytes`] are refused with 413 (a JSON
/// [`ApiError`], see [`crate::api::limit_body`]).
pub fn audit_router(state: AuditState) -> Router {
    let limit = state.max_body_bytes;
    Router::new()
        .route("/audit", post(receive))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(
            limit,
            crate::api::limit_body,
        ))
        .with_state(state)
}

async fn readyz(State(state): State<AuditState>) -> (StatusCode, &'static str) {
    if state.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn receive(
    State(state): State<AuditState>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, String), ApiError> {
    let body = body.map_err(|r| crate::api::body_rejection(r, state.max_body_bytes))?;
    let detector = state.detector.clone();
    // Parsing and evaluation are CPU work: off the async threads.
    let result = tokio::task::spawn_blocking(move || {
        let mut d = detector.lock().unwrap_or_else(|e| e.into_inner());
        let before = d.stats();
        let alerts = d.feed_document(&body);
        let after = d.stats();
        (
            alerts,
            after.events - before.events,
            after.bad_lines - before.bad_lines,
        )
    })
    .await;
    Ok(match result {
        Ok((alerts, events, bad)) => {
            if !alerts.is_empty() {
                (state.sink)(&alerts);
            }
            if events == 0 && bad > 0 {
                (
                    StatusCode::BAD_REQUEST,
                    "the body is not JSON audit events\n".to_owned(),
                )
            } else {
                (
                    StatusCode::OK,
                    format!("{events} events, {} alerts\n", alerts.len()),
                )
            }
        }
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "evaluation failed\n".to_owned(),
        ),
    })
}
