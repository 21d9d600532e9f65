//! The verification results a front-end hands to the rule catalogue: one per image
//! reference (as the workloads write it), with the trust policy that applied.

use crate::cosign::Verdict;
use std::collections::HashMap;

/// What verifying one image gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureResult {
    /// The registry answered and the signatures were judged.
    Judged(Verdict),
    /// No trust policy covers the image and `imageTrust.default` is `reject`.
    OutsideTrustPolicies,
    /// The registry could not answer (down, timeout, unexpected answer).
    RegistryError {
        /// Why.
        reason: String,
        /// True when the failure policy is `fail` (the image is reported); false for
        /// `ignore` (it is not, and the report says so in a note).
        fail_closed: bool,
    },
}

/// The verification of one image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageVerification {
    /// The trust policy that applied (empty for images outside every policy).
    pub policy: String,
    /// The digest verified, when it was resolved.
    pub digest: Option<String>,
    /// The result.
    pub result: SignatureResult,
}

/// Every image verified in a scan, by reference as written in the workloads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureEvidence {
    /// Results by image reference.
    pub images: HashMap<String, ImageVerification>,
}
