//! Errors of the webhook library.

use std::path::PathBuf;

/// Why a request body is not an AdmissionReview this webhook can answer (HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The body is not valid JSON, or not shaped like an AdmissionReview.
    #[error("malformed AdmissionReview")]
    Json(#[source] serde_json::Error),
    /// The body's `kind` is not `AdmissionReview`.
    #[error("expected kind AdmissionReview, got `{0}`")]
    NotAReview(String),
    /// The body's `apiVersion` is not one this webhook answers.
    #[error("unsupported AdmissionReview apiVersion `{0}` (expected admission.k8s.io/v1)")]
    ApiVersion(String),
    /// The review has no `request`.
    #[error("AdmissionReview has no request")]
    NoRequest,
    /// The request has no `uid`.
    #[error("AdmissionReview request has no uid")]
    NoUid,
    /// The request's object is not a Kubernetes object.
    #[error("the request's object is not a Kubernetes object")]
    NotAnObject(#[source] palisade_core::object::NotAnObject),
}

/// TLS set-up errors: reading or parsing the certificate and key, building the rustls config.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A PEM file could not be parsed.
    #[error("invalid PEM in {}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("no certificate in {}", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The private key is of an unsupported type.
    #[error("unsupported private key in {}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// The rustls error.
        #[source]
        source: rustls::Error,
    },
    /// The key does not match the certificate, or rustls rejected the configuration.
    #[error("invalid TLS configuration")]
    Rustls(#[source] rustls::Error),
}

/// Certificate generation errors.
#[derive(Debug, thiserror::Error)]
pub enum CertGenError {
    /// rcgen failed.
    #[error("cannot generate a certificate")]
    Rcgen(#[source] rcgen::Error),
    /// A certificate or key PEM given to the generator is invalid.
    #[error("invalid certificate authority")]
    InvalidCa(#[source] rcgen::Error),
}

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// TLS set-up failed.
    #[error("TLS set-up failed")]
    Tls(#[from] TlsError),
    /// Accepting connections failed.
    #[error("cannot accept connections")]
    Accept(#[source] std::io::Error),
}
