//! The HTTP layer: routes, handlers, state and the one error type (policy-server's layout).

pub mod api_error;
pub mod handlers;
pub mod state;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
pub use state::{AppState, Clock, FixedClock, Limits, SystemClock};

/// The webhook's routes: `POST /validate`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
/// Bodies larger than [`Limits::max_body_bytes`] are refused with 413.
pub fn router(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    Router::new()
        .route("/validate", post(handlers::validate))
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
