//! The one error type of the HTTP layer, answered as JSON.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An HTTP error answer: `{"error": "..."}` with a status code. A request that is a valid
/// AdmissionReview never gets one, except when it cannot be evaluated in time; the API
/// server then applies the webhook's `failurePolicy`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not an AdmissionReview request (400).
    #[error("{0}")]
    BadRequest(String),
    /// Evaluation did not finish within the request timeout (503).
    #[error("evaluation timed out")]
    Timeout,
    /// Evaluation failed unexpectedly (500).
    #[error("evaluation failed: {0}")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            Json(serde_json::json!({ "error": self.to_string() })),
        )
            .into_response()
    }
}
