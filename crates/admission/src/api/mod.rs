//! The HTTP layer: routes, handlers, state and the one error type (policy-server's layout).

pub mod api_error;
pub mod handlers;
pub mod state;

use api_error::ApiError;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH};
use axum::http::{HeaderValue, StatusCode, Version};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
pub use state::{AppState, Clock, FixedClock, Limits, SystemClock};

/// The webhook's routes: `POST /validate`, `GET /healthz`, `GET /readyz`, `GET /metrics`.
/// Bodies larger than [`Limits::max_body_bytes`] are refused with 413 (see [`limit_body`]); a
/// request (body read included, so a slow client cannot hold a slot) that takes longer than
/// twice [`Limits::timeout`] gets 503.
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
        .layer(middleware::from_fn_with_state(limit, limit_body))
        .with_state(state)
}

/// Enforces a body size limit of `limit` bytes, with [`ApiError::PayloadTooLarge`] (413).
/// A body whose declared length (`Content-Length`) is over the limit is refused at once,
/// without reading it. A body without a declared length (HTTP/1.1 chunked, HTTP/2 without
/// `content-length`) is read up to the limit by the handler's extractor, under the route's
/// [`DefaultBodyLimit`] (which must be the same limit), and refused when it goes past it. On
/// HTTP/1.x a 413 answer carries `Connection: close`: the rest of the body is not read, so the
/// connection cannot carry another request.
pub async fn limit_body(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let version = req.version();
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut response = match declared {
        Some(length) if length > limit as u64 => {
            tracing::warn!(length, limit, "request body over the limit; refused unread");
            ApiError::PayloadTooLarge {
                limit,
                length: Some(length),
            }
            .into_response()
        }
        _ => next.run(req).await,
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && version < Version::HTTP_2 {
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The error for a body the extractor could not read: 413 past the limit, 400 otherwise.
pub(crate) fn body_rejection(
    rejection: axum::extract::rejection::BytesRejection,
    limit: usize,
) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        tracing::warn!(limit, "request body over the limit");
        ApiError::PayloadTooLarge {
            limit,
            length: None,
        }
    } else {
        ApiError::BadRequest(rejection.body_text())
    }
}

/// Bounds the whole request, body read included.
async fn request_timeout(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.limits.timeout * 2, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!("request timed out (body read and evaluation)");
            ApiError::Timeout.into_response()
        }
    }
}
