//! The verification results a front-end hands to the rule catalogue: one per image
//! reference (as the workloads write it), with the trust policy that applied, and the
//! verdict on one image digest that both signature kinds (cosign, Notation) give.

pub use palisade_core::running::{digest_of_image_id, object_key, RunningDigests};
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
    /// The digest running differs from the digest signed: a trusted signer signed `signed`
    /// and the workload runs `running` (a signature stored for one digest that signs another,
    /// a tag verified earlier at a signed digest, or the tag's digest now, while the workload
    /// runs another); or, when `signed` is `running`, the workload runs the signed digest but
    /// its tag now points to `tag`, which no trusted signer signed (the next pull gets it).
    TagMoved {
        /// The digest the workload runs.
        running: String,
        /// The digest the trusted signature names.
        signed: String,
        /// The digest the tag resolves to now, when it was resolved and differs from the
        /// digest running.
        tag: Option<String>,
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
            Verdict::TagMoved {
                running,
                signed,
                tag: Some(tag),
            } if signed == running => write!(
                f,
                "tag moved: the digest running, {running}, is signed, but the tag now points to {tag}, which no trusted signer signed"
            ),
            Verdict::TagMoved {
                running,
                signed,
                tag,
            } => {
                write!(
                    f,
                    "tag moved: the digest running is {running}, the digest signed is {signed}"
                )?;
                match tag {
                    Some(t) if t == signed => f.write_str(" (where the tag points now)"),
                    Some(t) => write!(f, " (the tag now points to {t})"),
                    None => Ok(()),
                }
            }
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
                tag: None,
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

/// What one verification is about: an image reference as a workload writes it, the digest a
/// Pod runs it at when the cluster says (`status.containerStatuses[].imageID`), and the image
/// pull Secrets whose logins the registry was asked with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageKey {
    /// The reference as written (`ghcr.io/acme/api:1.2`).
    pub image: String,
    /// The digest running (`sha256:...`), for a Pod read from a cluster.
    pub running: Option<String>,
    /// The image pull Secrets used (`namespace/name,name`), when the workload's were read.
    pub logins: Option<String>,
}

impl ImageKey {
    /// The key of a reference alone (no running digest, the front-end's own logins).
    pub fn image(image: impl Into<String>) -> ImageKey {
        ImageKey {
            image: image.into(),
            running: None,
            logins: None,
        }
    }
}

impl fmt::Display for ImageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.image)?;
        if let Some(r) = &self.running {
            write!(f, " (running {r})")?;
        }
        if let Some(l) = &self.logins {
            write!(f, " (image pull Secrets {l})")?;
        }
        Ok(())
    }
}

/// Every image verified in a scan or an admission review.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureEvidence {
    /// Results by image reference, running digest and logins.
    pub images: HashMap<ImageKey, ImageVerification>,
    /// The image pull Secrets each workload's images were verified with, by
    /// [`object_key`]: the `logins` of its keys.
    pub logins: HashMap<String, String>,
    /// The digests the Pods a cluster scan folded into each workload run (a Deployment's
    /// Pods, say): each was verified as a Pod's running digest is.
    pub folded: RunningDigests,
}

impl SignatureEvidence {
    /// The key of a container's image in a workload: `object` is the workload as read
    /// (a Pod's running digests come from its status), `object_key` its [`object_key`].
    pub fn key_for(
        &self,
        object_key: &str,
        object: &serde_json::Value,
        container: &str,
        image: &str,
    ) -> ImageKey {
        ImageKey {
            image: image.to_owned(),
            running: running_digest(object, container),
            logins: self.logins.get(object_key).cloned(),
        }
    }

    /// The keys of a container's image in a workload that Pods were folded into, one per
    /// digest its Pods run, with how many Pods run it (sorted by digest); `None` when none
    /// of its Pods said (its image is then judged by [`SignatureEvidence::key_for`]).
    pub fn folded_keys(
        &self,
        object_key: &str,
        container: &str,
        image: &str,
    ) -> Option<Vec<(ImageKey, usize)>> {
        let digests = self.folded.get(object_key, container, image)?;
        let logins = self.logins.get(object_key);
        Some(
            digests
                .iter()
                .map(|(d, n)| {
                    let key = ImageKey {
                        image: image.to_owned(),
                        running: Some(d.clone()),
                        logins: logins.cloned(),
                    };
                    (key, *n)
                })
                .collect(),
        )
    }
}

/// The digest a Pod runs a container's image at, from its status (`containerStatuses`,
/// `initContainerStatuses`, `ephemeralContainerStatuses`); `None` for other kinds and for
/// containers not started yet.
pub fn running_digest(object: &serde_json::Value, container: &str) -> Option<String> {
    if object.get("kind").and_then(serde_json::Value::as_str) != Some("Pod") {
        return None;
    }
    let status = object.get("status")?;
    [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|f| status.get(*f)?.as_array())
    .flatten()
    .find(|s| s.get("name").and_then(serde_json::Value::as_str) == Some(container))
    .and_then(|s| s.get("imageID")?.as_str())
    .and_then(digest_of_image_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn running_digests_from_pod_status() {
        assert_eq!(
            digest_of_image_id(&format!("docker-pullable://ghcr.io/acme/api@{D1}")).as_deref(),
            Some(D1)
        );
        assert_eq!(
            digest_of_image_id(&format!("ghcr.io/acme/api@{D1}")).as_deref(),
            Some(D1)
        );
        assert_eq!(digest_of_image_id(D1), None);
        assert_eq!(digest_of_image_id(&format!("docker://{D1}")), None);
        assert_eq!(digest_of_image_id("r.io/a@sha256:abc"), None);
        let pod = json!({"kind": "Pod", "status": {
            "initContainerStatuses": [{"name": "init", "imageID": format!("r.io/i@{D1}")}],
            "containerStatuses": [{"name": "api", "imageID": format!("docker-pullable://r.io/a@{D1}")},
                                  {"name": "web", "imageID": ""}]}});
        assert_eq!(running_digest(&pod, "api").as_deref(), Some(D1));
        assert_eq!(running_digest(&pod, "init").as_deref(), Some(D1));
        assert_eq!(running_digest(&pod, "web"), None);
        assert_eq!(running_digest(&pod, "other"), None);
        let mut deploy = pod.clone();
        deploy["kind"] = json!("Deployment");
        assert_eq!(running_digest(&deploy, "api"), None);
    }

    #[test]
    fn tag_moved_messages() {
        let d2 = D1.replace('1', "2");
        let away = Verdict::TagMoved {
            running: D1.to_owned(),
            signed: D1.to_owned(),
            tag: Some(d2.clone()),
        };
        assert!(
            away.to_string()
                .contains("is signed, but the tag now points to sha256:2222"),
            "{away}"
        );
        let onto = Verdict::TagMoved {
            running: D1.to_owned(),
            signed: d2.clone(),
            tag: Some(d2.clone()),
        };
        assert_eq!(
            onto.to_string(),
            format!("tag moved: the digest running is {D1}, the digest signed is {d2} (where the tag points now)")
        );
    }
}
