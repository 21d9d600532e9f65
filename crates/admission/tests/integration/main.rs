//! Integration tests of the webhook (one binary, topic modules).

#![allow(clippy::print_stdout, clippy::print_stderr)]

// The background audit's incremental evaluation = a scan of the same objects.
mod background;
// Rules that read the rest of the cluster, from a cluster view; the failure policy.
mod cluster;
// The monitoring samples of deploy/ match the metrics.
mod deploy;
// Idle, slow and oversized clients over real TLS: deadlines, the connection limit, 413s.
mod connections;
// The recorded AdmissionReviews from a real kube-apiserver, through `router().oneshot`.
mod corpus;
// Admission = scan: the same rule ids for every fixture and real-world object.
mod equality;
// Gatekeeper constraints at admission: deny, warn and dryrun, the request in input.review.
mod gatekeeper;
// The deployment manifests pass Palisade's own restricted profile.
mod install;
// Malformed input, limits and modes through `router().oneshot`.
mod router;
// Image signatures (IMG007) against a local registry; a registry that never answers.
mod signatures;
// End to end over real TLS on 127.0.0.1: modes, expiring exceptions, certificate rotation
// under traffic, malformed bodies, graceful shutdown.
mod tls;
mod util;
