//! Kubernetes CEL for Palisade.
//!
//! * [`KubeCel`]: a CEL environment with the Kubernetes CEL libraries (strings, lists,
//!   regex, quantity, URL, IP, CIDR, format, semver; timestamps and durations) on top of
//!   the `cel` crate, with bounds on what an expression may cost to parse and run.
//! * [`gatekeeper`]: Gatekeeper ConstraintTemplate `K8sNativeValidation` code blocks,
//!   compiled once and evaluated per object.
//! * [`vap`]: `admissionregistration.k8s.io/v1` ValidatingAdmissionPolicy and
//!   ValidatingAdmissionPolicyBinding semantics.
//!
//! The crate does no I/O: objects come in as `serde_json::Value`s. Its README lists what
//! is supported and what is not.

mod env;
mod ext;
pub mod gatekeeper;
mod json;
mod program;
mod request;
pub mod vap;

pub use cel::Value as CelValue;
pub use env::{
    CelError, Compiled, KubeCel, Scope, EVALUATION_BUDGET, MAX_AST_DEPTH, MAX_COMPREHENSION_DEPTH,
    MAX_EXPRESSION_LEN,
};
pub use gatekeeper::{
    evaluate_gatekeeper_code, native_validation_code, CompiledGatekeeperCode, Violation,
};
pub use json::{from_cel, object_to_cel, to_cel};
pub use request::{resource_for_kind, Request};
pub use vap::{
    FailurePolicy, LoadError, Outcome, OutcomeKind, SourceRef, ValidationAction, VapSet,
};

#[cfg(test)]
mod tests {
    /// Compiled policies are shared between the threads of a server.
    #[test]
    fn compiled_policies_are_send_and_sync() {
        fn shared<T: Send + Sync + Clone>() {}
        shared::<crate::KubeCel>();
        shared::<crate::Compiled>();
        shared::<crate::CompiledGatekeeperCode>();
        shared::<crate::VapSet>();
        shared::<crate::Outcome>();
        shared::<crate::LoadError>();
        shared::<crate::CelError>();
        shared::<crate::Request>();
    }
}
