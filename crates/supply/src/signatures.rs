//! The verification results a front-end hands to the rule catalogue: one per image
//! reference (as the workloads write it), with the trust policy that applied, and the
//! verdict on one image digest that both signature kinds (cosign, Notation) give.

use std::collections::HashMap;
use std::fmt;

/// The verdict on one image digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A trusted signer signed this digest.
    Verified {
        /// The signer: a cosign key (its file), or `Notation signer` and the signing
        /// certificate's subject.
        key: String,
        /// Its id: the key's, or the SHA-256 of the signing certificate.
        key_id: String,
    },
    /// No signature of an accepted kind is stored for the digest.
    Unsigned,
    /// Well-formed signatures, none by a trusted signer: another cosign key (or a cosign
    /// signature altered without breaking its encoding: ECDSA cannot tell them apart), a
    /// Notation certificate that does not chain to the trust store or whose subject is not
    /// one of the policy's signers.
    UntrustedSigner {
        /// How many signatures were checked.
        signatures: usize,
        /// What was wrong with the signer, when it is known (Notation).
        reason: Option<String>,
    },
    /// A signature that is broken: cosign: not base64 or not DER, a payload that does not
    /// match its digest or is not a simple-signing document; Notation: an envelope that is
    /// malformed, whose signature does not verify with its certificate's key, whose
    /// certificates are expired or not yet valid, or which has expired.
    InvalidSignature {
        /// Why.
        reason: String,
    },
    /// A trusted key signed another digest than the one running: the signature found names
    /// `signed`, or the tag now points to `tag_digest` while the workload runs another.
    TagMoved {
        /// The digest the workload runs.
        running: String,
        /// The digest the trusted signature (or the tag) names.
        signed: String,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Verified { key, key_id } => write!(f, "signed with {key} ({key_id})"),
            Verdict::Unsigned => f.write_str("unsigned: no signature is stored for this digest"),
            Verdict::UntrustedSigner {
                signatures,
                reason: None,
            } => write!(
                f,
                "signed by an untrusted signer: none of its {signatures} signature(s) verifies with a trusted key"
            ),
            Verdict::UntrustedSigner {
                reason: Some(reason),
                ..
            } => write!(f, "signed by an untrusted signer: {reason}"),
            Verdict::InvalidSignature { reason } => write!(f, "invalid signature: {reason}"),
            Verdict::TagMoved { running, signed } => write!(
                f,
                "tag moved: the digest running is {running}, the digest signed is {signed}"
            ),
        }
    }
}

impl Verdict {
    /// The verdict of an image none of whose signatures verified: a tag moved since it was
    /// signed comes first, then a signature that is not valid, else `otherwise` (unsigned, or
    /// signed by no trusted signer).
    pub(crate) fn not_verified(
        digest: &str,
        moved: Option<String>,
        invalid: Option<String>,
        otherwise: Verdict,
    ) -> Verdict {
        if let Some(signed) = moved {
            return Verdict::TagMoved {
                running: digest.to_owned(),
                signed,
            };
        }
        if let Some(reason) = invalid {
            return Verdict::InvalidSignature { reason };
        }
        otherwise
    }

    /// How strongly a verdict speaks against the image, to pick the one to report when a
    /// policy accepts several kinds and none verifies: a trusted signature of another digest,
    /// then a broken signature, then an untrusted signer, then nothing stored.
    fn weight(&self) -> u8 {
        match self {
            Verdict::Verified { .. } => 4,
            Verdict::TagMoved { .. } => 3,
            Verdict::InvalidSignature { .. } => 2,
            Verdict::UntrustedSigner { .. } => 1,
            Verdict::Unsigned => 0,
        }
    }

    /// The verdict of a policy that accepts several signature kinds, from each kind's
    /// verdict: verified when one kind verifies, else the heaviest failure.
    pub fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        verdicts.into_iter().fold(Verdict::Unsigned, |best, v| {
            if v.weight() > best.weight() {
                v
            } else {
                best
            }
        })
    }
}

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
