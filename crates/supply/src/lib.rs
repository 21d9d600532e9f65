//! Supply-chain evidence about the images workloads run.
//!
//! - [`vuln`]: vulnerability reports (Trivy JSON, Grype JSON, SARIF image scans, Trivy
//!   Operator `VulnerabilityReport` objects) read into one model and joined with the images
//!   of a workload's containers, by digest or else by normalised reference.
//!
//! - [`cosign`]: cosign signatures with public keys (simple-signing payloads, ECDSA P-256)
//!   and the verdict on an image digest; the registry client (`palisade-registry`) fetches
//!   the pieces.
//!
//! - [`notation`]: Notation (Notary Project) signatures: JWS envelopes, certificate chains
//!   to a trust store of root certificates, signer identities.
//!
//! No I/O beyond what the caller hands in (texts and parsed objects), and no async runtime:
//! the rule catalogue depends on this crate.

pub mod cosign;
pub mod notation;
pub mod signatures;
pub mod vuln;
