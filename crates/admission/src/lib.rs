//! Palisade's validating admission webhook.
//!
//! The same rule set as `palisade scan`, evaluated on each AdmissionReview through the
//! analysis facade ([`palisade_analyze`]), with the policy's per-rule and per-namespace
//! modes: `deny` rejects with a message naming each rule, field and fix; `warn` allows with
//! warnings; `audit` allows with an audit annotation, a metric and a log line. Expiring
//! exceptions apply exactly as in a scan, against the day of the request.
//!
//! Layout (after kubewarden's policy-server): [`review`] parses and evaluates one review
//! (pure, synchronous: the fuzz target); [`api`] holds the routes, handlers, state and the
//! error type; [`server`] the HTTPS accept loop with connection limits, deadlines and graceful
//! shutdown; [`certs`] TLS with hot reload and a small CA; [`metrics`] the Prometheus metrics;
//! [`install`] the deployment manifests. The library never prints: it logs through `tracing`.

pub mod api;
pub mod audit;
pub mod background;
pub mod certs;
pub mod client;
pub mod cluster_view;
pub mod error;
pub mod images;
pub mod install;
pub mod metrics;
pub mod review;
pub mod server;
pub mod sink;

pub use api::{router, AppState, Clock, FixedClock, Limits, SystemClock};
pub use cluster_view::{ClusterView, NotReady, StaticView};
pub use error::{CertGenError, ReviewError, ServeError, TlsError};
pub use images::{ImageVerification, PullSecretSource};
pub use review::{Evaluator, EvaluatorOptions, FailurePolicy, Outcome, Verdict};
pub use server::{shutdown_signal, Server, ServerConfig};
