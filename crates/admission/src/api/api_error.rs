//! The one error type of the HTTP layer, answered as JSON.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// An HTTP error answer. A request that is a valid AdmissionReview never gets one, except
/// when it cannot be evaluated in time; the API server then applies the webhook's
/// `failurePolicy`.
///
/// The body is a Kubernetes `Status` (`apiVersion: v1`, `kind: Status`, `status: Failure`,
/// `message`, `reason`, `code`), which the API server's client decodes for any answer other
/// than 200, so that its error (and the user's) carries the message; the same message is
/// also under `error`:
///
/// ```json
/// {"apiVersion":"v1","kind":"Status","metadata":{},"status":"Failure",
///  "message":"request body of 52428800 bytes exceeds the limit of 3145728 bytes",
///  "reason":"RequestEntityTooLarge","code":413,
///  "error":"request body of 52428800 bytes exceeds the limit of 3145728 bytes"}
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not an AdmissionReview request (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the limit (413). Refused before reading the body when its
    /// declared length is over the limit.
    #[error(
        "request body {}exceeds the limit of {limit} bytes",
        length.map(|n| format!("of {n} bytes ")).unwrap_or_default()
    )]
    PayloadTooLarge {
        /// The limit, in bytes.
        limit: usize,
        /// The body's declared length (`Content-Length`), when it has one.
        length: Option<u64>,
    },
    /// Evaluation did not finish within the request timeout (503).
    #[error("evaluation timed out")]
    Timeout,
    /// Evaluation failed unexpectedly (500).
    #[error("evaluation failed: {0}")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `reason` of the `Status` (Kubernetes' `StatusReason` names).
    pub fn reason(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "BadRequest",
            ApiError::PayloadTooLarge { .. } => "RequestEntityTooLarge",
            ApiError::Timeout => "ServiceUnavailable",
            ApiError::Internal(_) => "InternalError",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = self.to_string();
        (
            status,
            Json(serde_json::json!({
                "apiVersion": "v1",
                "kind": "Status",
                "metadata": {},
                "status": "Failure",
                "message": message,
                "reason": self.reason(),
                "code": status.as_u16(),
                "error": message,
            })),
        )
            .into_response()
    }
}
