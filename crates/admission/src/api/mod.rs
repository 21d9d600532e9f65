//! The HTTP layer: routes, handlers, state and the one error type (policy-server's layout).

pub mod api_error;
pub mod handlers;
pub mod state;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
pub use state::{AppState, Clock, FixedClock, Limits, SystemClock};

/// The webhook's routes: `POST /validate`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
/// Bodies larger than [`Limits::max_body_bytes`] are refused with 413; a request (body read
/// included, so a slow client cannot hold a slot) that takes longer than twice
/// [`Limits::timeout`] gets 503.
pub fn router(state: AppState) -> Router {
    let limit = state.limits.max_body_bytes;
    Router::new()
        .route(
            "/validate",
            post(handlers::validate).layer(middleware::from_fn_with_state(
                state.clone(),
                request_timeout,
            )),
        )
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/metrics", get(handlers::metrics))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// Bounds the whole request, body read included.
async fn request_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.limits.timeout * 2, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!("request timed out (body read and evaluation)");
            api_error::ApiError::Timeout.into_response()
        }
    }
}
