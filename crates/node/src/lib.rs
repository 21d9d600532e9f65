//! Palisade's node engine: `palisade node` on a host (or a privileged pod with the host
//! mounted at `--root`).
//!
//! [`discover`](discover::discover) finds the components (process command lines, static pod
//! manifests, the kubelet's systemd units and configuration file); [`engine::run`] evaluates
//! the CIS Kubernetes Benchmark tables of [`checks`] (flags and configuration values with
//! each component's defaults, file modes and ownership), the TLS, certificate, encryption and
//! audit checks of [`tls`], and the SSH checks of [`access`]. All file access goes through
//! [`Root`]. The flag tables need no I/O, so the rule catalogue evaluates them on static pod
//! specs found in manifests and clusters.

pub mod access;
pub mod catalog;
pub mod checks;
pub mod cve;
pub mod discover;
pub mod engine;
pub mod flags;
pub mod root;
pub mod tls;
pub mod version;

pub use checks::cis::{BENCHMARKS, DEFAULT_BENCHMARK};
pub use checks::Component;
pub use engine::{run, Options};
pub use flags::Flags;
pub use root::Root;
