//! cosign signatures with public keys: the simple-signing payload, ECDSA P-256 / SHA-256
//! signatures, and the verdict on an image digest.
//!
//! cosign stores the signatures of the manifest `sha256:HEX` of a repository as an OCI
//! manifest tagged `sha256-HEX.sig` in that repository. Each layer is one signature: its blob
//! is the simple-signing payload (a JSON document naming the signed manifest digest under
//! `critical.image.docker-manifest-digest`), and its annotation
//! `dev.cosignproject.cosign/signature` is the base64 ASN.1 DER ECDSA signature of that blob.
//! This module checks those pieces; fetching them is the registry client's job.

pub use crate::signatures::Verdict;
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// The annotation holding a layer's signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The media type of a simple-signing payload layer.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// The DER header of a P-256 SubjectPublicKeyInfo (id-ecPublicKey, prime256v1), followed by
/// the 65-byte uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A trusted cosign public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// Where it came from (its file), for messages.
    pub name: String,
    /// The key id: `sha256:` and the hex SHA-256 of its SubjectPublicKeyInfo.
    pub id: String,
    point: Vec<u8>,
}

/// Why a public key could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct KeyError {
    /// The key's file.
    pub name: String,
    /// What is wrong.
    pub reason: String,
}

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) holding an ECDSA P-256 key, as
    /// `cosign generate-key-pair` writes `cosign.pub`.
    pub fn from_pem(name: &str, pem: &str) -> Result<PublicKey, KeyError> {
        let err = |reason: &str| KeyError {
            name: name.to_owned(),
            reason: reason.to_owned(),
        };
        let body: String = pem
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != "-----BEGIN PUBLIC KEY-----")
            .skip(1)
            .take_while(|l| *l != "-----END PUBLIC KEY-----")
            .collect();
        if body.is_empty() {
            return Err(err("no `-----BEGIN PUBLIC KEY-----` block"));
        }
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| err("the PEM block is not valid base64"))?;
        PublicKey::from_spki_der(name, &der)
    }

    /// Reads a DER SubjectPublicKeyInfo holding an ECDSA P-256 key.
    pub fn from_spki_der(name: &str, der: &[u8]) -> Result<PublicKey, KeyError> {
        if der.len() != P256_SPKI_PREFIX.len() + 65 || !der.starts_with(&P256_SPKI_PREFIX) {
            return Err(KeyError {
                name: name.to_owned(),
                reason: "not an ECDSA P-256 public key (cosign's default; other key types are not supported)".to_owned(),
            });
        }
        Ok(PublicKey {
            name: name.to_owned(),
            id: format!("sha256:{}", hex(&Sha256::digest(der))),
            point: der[P256_SPKI_PREFIX.len()..].to_vec(),
        })
    }

    /// The SubjectPublicKeyInfo DER of an uncompressed P-256 point (tests and tooling).
    pub fn spki_der_of_point(point: &[u8]) -> Vec<u8> {
        let mut der = P256_SPKI_PREFIX.to_vec();
        der.extend_from_slice(point);
        der
    }

    /// True when `signature` (ASN.1 DER) is this key's signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &self.point)
            .verify(message, signature)
            .is_ok()
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256:HEX` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// The tag cosign stores the signatures of a manifest digest under: `sha256-HEX.sig`.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replacen(':', "-", 1))
}

/// A simple-signing payload for a manifest digest, as `cosign sign` writes it.
pub fn payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": { "docker-reference": docker_reference },
            "image": { "docker-manifest-digest": digest },
            "type": "cosign container image signature"
        },
        "optional": null
    }))
    .expect("a JSON value serialises")
}

/// One signature layer as fetched: the annotation and the payload blob.
#[derive(Clone, Debug)]
pub struct SignatureLayer {
    /// The layer's digest in the signature manifest.
    pub digest: String,
    /// `dev.cosignproject.cosign/signature`, when present.
    pub signature: Option<String>,
    /// The blob (the simple-signing payload).
    pub payload: Vec<u8>,
}

/// Judges the signature layers stored for `digest` against the trusted keys.
pub fn judge(digest: &str, layers: &[SignatureLayer], keys: &[PublicKey]) -> Verdict {
    if layers.is_empty() {
        return Verdict::Unsigned;
    }
    let mut invalid = None;
    let mut moved = None;
    let mut checked = 0;
    for layer in layers {
        let Some(sig) = &layer.signature else {
            continue;
        };
        checked += 1;
        if sha256_digest(&layer.payload) != layer.digest {
            invalid.get_or_insert_with(|| {
                format!(
                    "the payload of layer {} does not match its digest",
                    layer.digest
                )
            });
            continue;
        }
        let Ok(sig) = base64::engine::general_purpose::STANDARD.decode(sig.trim()) else {
            invalid.get_or_insert_with(|| "the signature annotation is not base64".to_owned());
            continue;
        };
        if !is_der_ecdsa_signature(&sig) {
            invalid.get_or_insert_with(|| {
                "the signature is not an ASN.1 DER ECDSA signature".to_owned()
            });
            continue;
        }
        let Some(key) = keys.iter().find(|k| k.verifies(&layer.payload, &sig)) else {
            continue;
        };
        let signed = serde_json::from_slice::<Value>(&layer.payload)
            .ok()
            .and_then(|v| {
                v.pointer("/critical/image/docker-manifest-digest")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            });
        match signed {
            Some(s) if s == digest => {
                return Verdict::Verified {
                    key: key.name.clone(),
                    key_id: key.id.clone(),
                }
            }
            Some(s) => {
                moved.get_or_insert(s);
            }
            None => {
                invalid.get_or_insert_with(|| {
                    "the signed payload is not a simple-signing document (no critical.image.docker-manifest-digest)".to_owned()
                });
            }
        }
    }
    let otherwise = if checked == 0 {
        Verdict::Unsigned
    } else {
        Verdict::UntrustedSigner {
            signatures: checked,
            reason: None,
        }
    };
    Verdict::not_verified(digest, moved, invalid, otherwise)
}

/// A DER `SEQUENCE { INTEGER r, INTEGER s }` with short lengths, as ECDSA P-256 signatures are.
fn is_der_ecdsa_signature(sig: &[u8]) -> bool {
    let int = |b: &[u8]| -> Option<usize> {
        (b.len() >= 2 && b[0] == 0x02 && b[1] >= 1 && usize::from(b[1]) + 2 <= b.len())
            .then(|| usize::from(b[1]) + 2)
    };
    if sig.len() < 8 || sig[0] != 0x30 || usize::from(sig[1]) + 2 != sig.len() {
        return false;
    }
    let body = &sig[2..];
    let Some(r) = int(body) else { return false };
    let Some(s) = int(&body[r..]) else {
        return false;
    };
    r + s == body.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

    fn keypair() -> (EcdsaKeyPair, PublicKey) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let der = PublicKey::spki_der_of_point(kp.public_key().as_ref());
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        );
        let pk = PublicKey::from_pem("release.pub", &pem).unwrap();
        (kp, pk)
    }

    fn layer(kp: &EcdsaKeyPair, payload: Vec<u8>) -> SignatureLayer {
        let sig = kp.sign(&SystemRandom::new(), &payload).unwrap();
        SignatureLayer {
            digest: sha256_digest(&payload),
            signature: Some(base64::engine::general_purpose::STANDARD.encode(sig.as_ref())),
            payload,
        }
    }

    #[test]
    fn verdicts() {
        let (kp, key) = keypair();
        let (other, _) = keypair();
        let d = "sha256:aa";
        let keys = std::slice::from_ref(&key);
        let good = layer(&kp, payload("r.io/app", d));
        assert!(matches!(
            judge(d, std::slice::from_ref(&good), keys),
            Verdict::Verified { .. }
        ));
        assert_eq!(judge(d, &[], keys), Verdict::Unsigned);
        let theirs = layer(&other, payload("r.io/app", d));
        assert_eq!(
            judge(d, &[theirs], keys),
            Verdict::UntrustedSigner {
                signatures: 1,
                reason: None
            }
        );
        let mut corrupt = good.clone();
        corrupt.signature = Some("MEUCIQ-not-base64".to_owned());
        assert!(matches!(
            judge(d, &[corrupt], keys),
            Verdict::InvalidSignature { .. }
        ));
        let mut tampered = good.clone();
        tampered.payload = payload("r.io/app", "sha256:bb");
        assert!(matches!(
            judge(d, &[tampered], keys),
            Verdict::InvalidSignature { .. }
        ));
        let elsewhere = layer(&kp, payload("r.io/app", "sha256:bb"));
        assert_eq!(
            judge(d, &[elsewhere], keys),
            Verdict::TagMoved {
                running: d.to_owned(),
                signed: "sha256:bb".to_owned(),
                tag: None
            }
        );
        assert_eq!(signature_tag("sha256:abc"), "sha256-abc.sig");
        assert!(key.id.starts_with("sha256:") && key.id.len() == 71);
    }

    #[test]
    fn keys() {
        assert!(PublicKey::from_pem("k", "nothing").is_err());
        let rsa_like =
            "-----BEGIN PUBLIC KEY-----\nMA0GCSqGSIb3DQEBAQUAAwIAAA==\n-----END PUBLIC KEY-----";
        let e = PublicKey::from_pem("k.pub", rsa_like).unwrap_err();
        assert!(e.to_string().contains("not an ECDSA P-256"), "{e}");
    }
}
