//! Integration tests of the webhook (one binary, topic modules).

#![allow(clippy::print_stdout, clippy::print_stderr)]

// The recorded AdmissionReviews from a real kube-apiserver, through `router().oneshot`.
mod corpus;
// The deployment manifests pass Palisade's own restricted profile.
mod install;
// Malformed input, limits and modes through `router().oneshot`.
mod router;
// End to end over real TLS on 127.0.0.1: modes, expiring exceptions, certificate rotation
// under traffic, malformed bodies, graceful shutdown.
mod tls;
mod util;
