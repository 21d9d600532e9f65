//! Notation (Notary Project) signatures: JWS envelopes signed with an X.509 certificate
//! chained to a trust store, and the verdict on an image digest.
//!
//! Notation stores a signature of the manifest `sha256:HEX` as an OCI manifest whose
//! `subject` is that manifest, whose artifact type (config media type) is
//! `application/vnd.cncf.notary.signature`, and whose one layer is the signature envelope:
//! `application/jose+json` (JWS JSON flattened serialization) or `application/cose`
//! (COSE_Sign1). The registry client finds these manifests (OCI referrers API, or the
//! `sha256-HEX` referrers tag) and hands the envelopes here. A JWS envelope verifies when,
//! per the Notary Project signature specification:
//!
//! - its protected header is well formed: `cty` is the Notary payload type, `crit` lists
//!   `io.cncf.notary.signingScheme` and only headers this verifier understands, the signing
//!   scheme is `notary.x509` with a `io.cncf.notary.signingTime`, and the signature's own
//!   `io.cncf.notary.expiry`, when given, has not passed;
//! - `alg` matches the signing certificate's key (ES256 with P-256, ES384 with P-384, PS256,
//!   PS384 and PS512 with RSA keys of 2048, 3072 and 4096 bits) and the signature over
//!   `BASE64URL(protected) '.' BASE64URL(payload)` verifies with that key;
//! - the certificate chain `x5c` (leaf first) leads to a root certificate of the trust store,
//!   every certificate valid now (`notary.x509` without a timestamp countersignature: "every
//!   certificate MUST be within its validity period at the time of verification"; timestamp
//!   countersignatures are not read), the leaf fit for code signing (its extended key usage,
//!   when present, includes code signing; its key usage, when present, digital signature);
//! - the leaf's subject is one of the policy's signers (attribute by attribute), when the
//!   policy names signers;
//! - the payload's `targetArtifact.digest` is the image digest (a trusted signature of
//!   another digest is a moved tag).
//!
//! COSE envelopes, ES512 (P-521) and the `notary.x509.signingAuthority` scheme are reported
//! as unsupported (an invalid signature that says so), never passed.

use crate::cosign::{hex, sha256_digest, KeyError};
use crate::signatures::Verdict;
use base64::Engine as _;
use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::time::Duration;
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::{FromDer as _, X509Certificate};

/// The artifact type (config media type) of a Notation signature manifest.
pub const ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// The media type of a JWS envelope layer.
pub const JWS_MEDIA_TYPE: &str = "application/jose+json";
/// The media type of a COSE envelope layer.
pub const COSE_MEDIA_TYPE: &str = "application/cose";
/// The content type of the signed payload.
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
/// The signing scheme verified.
pub const SIGNING_SCHEME: &str = "notary.x509";

/// id-kp-codeSigning (1.3.6.1.5.5.7.3.3), DER contents.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// The critical protected headers understood (the registered `alg`/`cty` are never critical).
const KNOWN_CRITICAL: &[&str] = &[
    "io.cncf.notary.signingScheme",
    "io.cncf.notary.expiry",
    "io.cncf.notary.authenticSigningTime",
];

/// The root certificates a policy trusts, and the signers it accepts.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    roots: Vec<CertificateDer<'static>>,
    /// The subjects of the roots, for messages.
    pub root_subjects: Vec<String>,
    signers: Vec<Vec<(String, String)>>,
}

/// A Notation signature envelope as fetched.
#[derive(Clone, Debug)]
pub struct Envelope {
    /// The layer's media type (`application/jose+json`, `application/cose`).
    pub media_type: String,
    /// The layer's digest in the signature manifest.
    pub digest: String,
    /// The blob.
    pub blob: Vec<u8>,
}

impl TrustStore {
    /// An empty store (nothing verifies until a root is added).
    pub fn new() -> TrustStore {
        TrustStore::default()
    }

    /// Adds every `CERTIFICATE` block of a PEM file.
    pub fn add_pem(&mut self, name: &str, pem: &str) -> Result<(), KeyError> {
        let err = |reason: String| KeyError {
            name: name.to_owned(),
            reason,
        };
        let mut found = 0;
        let mut lines = pem.lines().map(str::trim);
        while lines.any(|l| l == "-----BEGIN CERTIFICATE-----") {
            let body: String = lines
                .by_ref()
                .take_while(|l| *l != "-----END CERTIFICATE-----")
                .collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(body)
                .map_err(|_| err(format!("certificate {} is not valid base64", found + 1)))?;
            let (_, cert) = X509Certificate::from_der(&der).map_err(|e| {
                err(format!(
                    "certificate {} is not an X.509 certificate: {e}",
                    found + 1
                ))
            })?;
            self.root_subjects.push(cert.subject().to_string());
            self.roots.push(CertificateDer::from(der));
            found += 1;
        }
        if found == 0 {
            return Err(err("no `-----BEGIN CERTIFICATE-----` block".to_owned()));
        }
        Ok(())
    }

    /// Accepts only signing certificates with one of these subjects (RFC 4514 names, as
    /// `palisade_core::trust::parse_distinguished_name` reads them); none: any subject.
    pub fn set_signers(&mut self, signers: Vec<Vec<(String, String)>>) {
        self.signers = signers;
    }

    /// How many roots the store holds.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// True when the store holds no root.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// What one envelope gave.
enum One {
    Verified { subject: String, thumbprint: String },
    Moved { signed: String },
    Invalid(String),
    Untrusted(String),
}

/// Judges the Notation envelopes stored for `digest` against a trust store, at `now`.
pub fn judge(
    digest: &str,
    envelopes: &[Envelope],
    store: &TrustStore,
    now: jiff::Timestamp,
) -> Verdict {
    if envelopes.is_empty() {
        return Verdict::Unsigned;
    }
    let mut moved = None;
    let mut invalid = None;
    let mut untrusted = None;
    for e in envelopes {
        let one = if sha256_digest(&e.blob) != e.digest {
            One::Invalid(format!(
                "the Notation envelope {} does not match its digest",
                e.digest
            ))
        } else if e.media_type == JWS_MEDIA_TYPE {
            verify_jws(&e.blob, digest, store, now)
        } else if e.media_type == COSE_MEDIA_TYPE {
            One::Invalid(
                "COSE Notation envelopes (application/cose) are not supported; sign with `notation sign --signature-format jws`".to_owned(),
            )
        } else {
            One::Invalid(format!(
                "the Notation envelope {} has media type `{}`, not {JWS_MEDIA_TYPE}",
                e.digest, e.media_type
            ))
        };
        match one {
            One::Verified {
                subject,
                thumbprint,
            } => {
                return Verdict::Verified {
                    key: format!("Notation signer \"{subject}\""),
                    key_id: thumbprint,
                }
            }
            One::Moved { signed } => {
                moved.get_or_insert(signed);
            }
            One::Invalid(r) => {
                invalid.get_or_insert(r);
            }
            One::Untrusted(r) => {
                untrusted.get_or_insert(r);
            }
        }
    }
    let otherwise = Verdict::UntrustedSigner {
        signatures: envelopes.len(),
        reason: untrusted,
    };
    Verdict::not_verified(digest, moved, invalid, otherwise)
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn rfc3339(header: &Value, name: &str) -> Result<Option<jiff::Timestamp>, String> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => s
            .parse::<jiff::Timestamp>()
            .map(Some)
            .map_err(|_| format!("the protected header `{name}` is not an RFC 3339 time: `{s}`")),
        Some(_) => Err(format!("the protected header `{name}` is not a string")),
    }
}

/// The subject's attributes as (short type, value), sorted.
fn subject_attributes(cert: &X509Certificate<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rdn in cert.subject().iter() {
        for atv in rdn.iter() {
            let oid = atv.attr_type().to_id_string();
            let name = match oid.as_str() {
                "2.5.4.3" => "CN",
                "2.5.4.6" => "C",
                "2.5.4.7" => "L",
                "2.5.4.8" => "ST",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "2.5.4.5" => "SERIALNUMBER",
                "1.2.840.113549.1.9.1" => "EMAILADDRESS",
                other => other,
            };
            let value = atv.as_str().map(str::to_owned).unwrap_or_default();
            out.push((name.to_owned(), value));
        }
    }
    out.sort();
    out
}

/// The bit length of a big-endian unsigned integer.
fn bit_len(bytes: &[u8]) -> usize {
    let bytes = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => return 0,
    };
    bytes.len() * 8 - bytes[0].leading_zeros() as usize
}

/// The verification algorithm for `alg` and the leaf's key, after checking that they match.
fn algorithm(
    alg: &str,
    cert: &X509Certificate<'_>,
) -> Result<&'static dyn VerificationAlgorithm, String> {
    use x509_parser::public_key::PublicKey;
    let spki = cert.public_key();
    let key = spki
        .parsed()
        .map_err(|e| format!("the signing certificate's key cannot be read: {e}"))?;
    let (kind, expected): (String, &str) = match &key {
        PublicKey::EC(_) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string())
                .unwrap_or_default();
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => ("ECDSA P-256".to_owned(), "ES256"),
                "1.3.132.0.34" => ("ECDSA P-384".to_owned(), "ES384"),
                "1.3.132.0.35" => ("ECDSA P-521".to_owned(), "ES512"),
                other => {
                    return Err(format!(
                    "the signing certificate's curve {other} is not one the Notary Project allows"
                ))
                }
            }
        }
        PublicKey::RSA(rsa) => {
            let bits = bit_len(rsa.modulus);
            let expected = match bits {
                2048 => "PS256",
                3072 => "PS384",
                4096 => "PS512",
                _ => return Err(format!("the signing certificate's RSA key has {bits} bits; the Notary Project allows 2048, 3072 and 4096")),
            };
            (format!("RSA {bits}"), expected)
        }
        _ => return Err("the signing certificate's key is neither ECDSA nor RSA".to_owned()),
    };
    if alg != expected {
        return Err(format!(
            "`alg` is {alg} but the signing certificate's key ({kind}) signs with {expected}"
        ));
    }
    Ok(match alg {
        "ES256" => &sig::ECDSA_P256_SHA256_FIXED,
        "ES384" => &sig::ECDSA_P384_SHA384_FIXED,
        "PS256" => &sig::RSA_PSS_2048_8192_SHA256,
        "PS384" => &sig::RSA_PSS_2048_8192_SHA384,
        "PS512" => &sig::RSA_PSS_2048_8192_SHA512,
        _ => return Err(format!("{alg} (ECDSA P-521) signatures are not supported")),
    })
}

fn verify_jws(blob: &[u8], digest: &str, store: &TrustStore, now: jiff::Timestamp) -> One {
    let bad = |r: &str| One::Invalid(format!("malformed Notation JWS envelope: {r}"));
    let Ok(env) = serde_json::from_slice::<Value>(blob) else {
        return bad("not JSON");
    };
    let field = |k: &str| env.get(k).and_then(Value::as_str);
    let (Some(protected_b64), Some(payload_b64), Some(signature_b64)) =
        (field("protected"), field("payload"), field("signature"))
    else {
        return bad("not a flattened JWS JSON serialization (`protected`, `payload`, `signature`)");
    };
    let Some(protected) =
        b64url(protected_b64).and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    else {
        return bad("the protected header is not base64url JSON");
    };
    let Some(payload) = b64url(payload_b64) else {
        return bad("the payload is not base64url");
    };
    let Some(signature) = b64url(signature_b64) else {
        return bad("the signature is not base64url");
    };
    // Protected header.
    if protected.get("cty").and_then(Value::as_str) != Some(PAYLOAD_CONTENT_TYPE) {
        return bad(&format!("`cty` is not {PAYLOAD_CONTENT_TYPE}"));
    }
    let crit: Vec<&str> = match protected.get("crit").and_then(Value::as_array) {
        Some(a) => a.iter().filter_map(Value::as_str).collect(),
        None => return bad("no `crit` header"),
    };
    if !crit.contains(&"io.cncf.notary.signingScheme") {
        return bad("`crit` does not list io.cncf.notary.signingScheme");
    }
    if let Some(unknown) = crit.iter().find(|c| !KNOWN_CRITICAL.contains(c)) {
        return One::Invalid(format!(
            "the Notation signature needs the critical header `{unknown}` understood (a verification plugin?), which this verifier does not support"
        ));
    }
    match protected
        .get("io.cncf.notary.signingScheme")
        .and_then(Value::as_str)
    {
        Some(SIGNING_SCHEME) => {}
        Some(other) => {
            return One::Invalid(format!(
                "the Notation signing scheme `{other}` is not supported (only {SIGNING_SCHEME})"
            ))
        }
        None => return bad("no io.cncf.notary.signingScheme"),
    }
    match rfc3339(&protected, "io.cncf.notary.signingTime") {
        Ok(Some(_)) => {}
        Ok(None) => return bad("no io.cncf.notary.signingTime (required by notary.x509)"),
        Err(e) => return bad(&e),
    }
    match rfc3339(&protected, "io.cncf.notary.expiry") {
        Ok(Some(exp)) if exp <= now => {
            return One::Invalid(format!("the Notation signature expired at {exp}"))
        }
        Ok(_) => {}
        Err(e) => return bad(&e),
    }
    if crit.contains(&"io.cncf.notary.expiry") != protected.get("io.cncf.notary.expiry").is_some() {
        return bad("io.cncf.notary.expiry and its `crit` entry go together");
    }
    let Some(alg) = protected.get("alg").and_then(Value::as_str) else {
        return bad("no `alg` header");
    };
    // Certificate chain.
    let chain: Vec<Vec<u8>> = match env.pointer("/header/x5c").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => {
            let mut out = Vec::new();
            for c in a {
                match c
                    .as_str()
                    .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                {
                    Some(der) => out.push(der),
                    None => return bad("an `x5c` entry is not base64"),
                }
            }
            out
        }
        _ => return bad("no certificate chain (`header.x5c`)"),
    };
    let mut parsed = Vec::new();
    for (i, der) in chain.iter().enumerate() {
        match X509Certificate::from_der(der) {
            Ok((_, c)) => parsed.push(c),
            Err(e) => return bad(&format!("certificate {i} of `x5c` is not X.509: {e}")),
        }
    }
    let leaf = &parsed[0];
    let subject = leaf.subject().to_string();
    // The signature, with the leaf's key.
    let algo = match algorithm(alg, leaf) {
        Ok(a) => a,
        Err(e) => return One::Invalid(e),
    };
    let key = &leaf.public_key().subject_public_key.data;
    let signing_input = format!("{protected_b64}.{payload_b64}");
    if UnparsedPublicKey::new(algo, key.as_ref())
        .verify(signing_input.as_bytes(), &signature)
        .is_err()
    {
        return One::Invalid(format!(
            "the Notation signature does not verify with the key of its signing certificate \"{subject}\""
        ));
    }
    // Validity, named per certificate.
    let now_s = now.as_second();
    for c in &parsed {
        let v = c.validity();
        if now_s > v.not_after.timestamp() {
            return One::Invalid(format!(
                "the certificate \"{}\" of the Notation signature expired at {}",
                c.subject(),
                v.not_after
            ));
        }
        if now_s < v.not_before.timestamp() {
            return One::Invalid(format!(
                "the certificate \"{}\" of the Notation signature is not valid before {}",
                c.subject(),
                v.not_before
            ));
        }
    }
    if let Ok(Some(ku)) = leaf.key_usage() {
        if !ku.value.digital_signature() {
            return One::Invalid(format!(
                "the signing certificate \"{subject}\" is not for digital signatures (key usage)"
            ));
        }
    }
    // The chain to a root of the trust store.
    let anchors: Vec<_> = store
        .roots
        .iter()
        .filter_map(|r| webpki::anchor_from_trusted_cert(r).ok())
        .collect();
    let leaf_der = CertificateDer::from(chain[0].as_slice());
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|d| CertificateDer::from(d.as_slice()))
        .collect();
    let ee = match EndEntityCert::try_from(&leaf_der) {
        Ok(ee) => ee,
        Err(e) => return bad(&format!("the signing certificate cannot be used: {e}")),
    };
    let time = UnixTime::since_unix_epoch(Duration::from_secs(now_s.max(0) as u64));
    if let Err(e) = ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        time,
        KeyUsage::required_if_present(CODE_SIGNING),
        None,
        None,
    ) {
        return match e {
            webpki::Error::UnknownIssuer => One::Untrusted(format!(
                "the certificate chain of \"{subject}\" does not lead to a root certificate of the trust store"
            )),
            webpki::Error::RequiredEkuNotFoundContext(_) => One::Invalid(format!(
                "the signing certificate \"{subject}\" is not for code signing (extended key usage)"
            )),
            other => One::Invalid(format!(
                "the certificate chain of \"{subject}\" is invalid: {other}"
            )),
        };
    }
    // Signer identity.
    if !store.signers.is_empty() {
        let attrs = subject_attributes(leaf);
        if !store.signers.contains(&attrs) {
            return One::Untrusted(format!(
                "the Notation signing certificate \"{subject}\" chains to the trust store but is not one of the policy's signers"
            ));
        }
    }
    // The payload names the digest.
    let Ok(payload) = serde_json::from_slice::<Value>(&payload) else {
        return bad("the payload is not JSON");
    };
    let Some(signed) = payload
        .pointer("/targetArtifact/digest")
        .and_then(Value::as_str)
    else {
        return bad("the payload has no targetArtifact.digest");
    };
    if signed != digest {
        return One::Moved {
            signed: signed.to_owned(),
        };
    }
    One::Verified {
        subject,
        thumbprint: format!("sha256:{}", hex(&Sha256::digest(&chain[0]))),
    }
}

/// The `targetArtifact` descriptor of a signature payload.
pub fn target_artifact(digest: &str, media_type: &str, size: usize) -> Value {
    serde_json::json!({"mediaType": media_type, "digest": digest, "size": size})
}

/// Builds a Notation JWS envelope (tests and tooling): the payload for `target` (see
/// [`target_artifact`]), the protected header for `alg` with `signing_time` and an optional
/// `expiry`, signed by `sign` over the JWS signing input, with the chain `x5c` (DER, leaf
/// first).
pub fn jws_envelope(
    target: Value,
    alg: &str,
    signing_time: jiff::Timestamp,
    expiry: Option<jiff::Timestamp>,
    x5c: &[Vec<u8>],
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> Vec<u8> {
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = serde_json::json!({ "targetArtifact": target });
    let mut crit = vec!["io.cncf.notary.signingScheme"];
    let mut header = serde_json::json!({
        "alg": alg,
        "cty": PAYLOAD_CONTENT_TYPE,
        "io.cncf.notary.signingScheme": SIGNING_SCHEME,
        "io.cncf.notary.signingTime": signing_time.to_string(),
    });
    if let Some(e) = expiry {
        header["io.cncf.notary.expiry"] = Value::String(e.to_string());
        crit.push("io.cncf.notary.expiry");
    }
    header["crit"] = serde_json::json!(crit);
    let p = url.encode(header.to_string());
    let b = url.encode(payload.to_string());
    let signature = sign(format!("{p}.{b}").as_bytes());
    serde_json::to_vec(&serde_json::json!({
        "payload": b,
        "protected": p,
        "header": {
            "x5c": x5c.iter().map(|d| base64::engine::general_purpose::STANDARD.encode(d)).collect::<Vec<_>>(),
            "io.cncf.notary.signingAgent": concat!("palisade/", env!("CARGO_PKG_VERSION")),
        },
        "signature": url.encode(signature),
    }))
    .expect("a JSON value serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    struct Ca {
        cert: rcgen::Certificate,
        key: KeyPair,
    }

    fn ca(cn: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        Ca {
            cert: p.self_signed(&key).unwrap(),
            key,
        }
    }

    /// A code-signing leaf of `ca` valid from `from` to `to` (years); its DER and signer.
    fn leaf(ca: &Ca, from: i32, to: i32) -> (Vec<u8>, EcdsaKeyPair) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name
            .push(DnType::CommonName, "Contoso Release");
        p.distinguished_name
            .push(DnType::OrganizationName, "Contoso");
        p.distinguished_name.push(DnType::CountryName, "US");
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        p.not_before = rcgen::date_time_ymd(from, 1, 1);
        p.not_after = rcgen::date_time_ymd(to, 1, 1);
        let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
        let signer = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &SystemRandom::new(),
        )
        .unwrap();
        (cert.der().to_vec(), signer)
    }

    fn envelope(
        digest: &str,
        signer: &EcdsaKeyPair,
        chain: &[Vec<u8>],
        expiry: Option<jiff::Timestamp>,
    ) -> Envelope {
        let blob = jws_envelope(
            target_artifact(digest, "application/vnd.oci.image.manifest.v1+json", 100),
            "ES256",
            "2026-01-01T00:00:00Z".parse().unwrap(),
            expiry,
            chain,
            |m| {
                signer
                    .sign(&SystemRandom::new(), m)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            },
        );
        Envelope {
            media_type: JWS_MEDIA_TYPE.to_owned(),
            digest: sha256_digest(&blob),
            blob,
        }
    }

    fn store(ca: &Ca, signers: &[&str]) -> TrustStore {
        let mut s = TrustStore::new();
        s.add_pem("root.pem", &ca.cert.pem()).unwrap();
        s.set_signers(
            signers
                .iter()
                .map(|d| palisade_core::trust::parse_distinguished_name(d).unwrap())
                .collect(),
        );
        s
    }

    fn now() -> jiff::Timestamp {
        "2026-06-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn verdicts() {
        let root = ca("Contoso Root");
        let other = ca("Elsewhere Root");
        let d = "sha256:aa";
        let (cert, signer) = leaf(&root, 2025, 2030);
        let good = envelope(d, &signer, std::slice::from_ref(&cert), None);
        let trust = store(&root, &[]);
        let v = judge(d, std::slice::from_ref(&good), &trust, now());
        assert!(
            matches!(&v, Verdict::Verified { key, key_id } if key.contains("CN=Contoso Release") && key_id.starts_with("sha256:")),
            "{v:?}"
        );
        assert_eq!(judge(d, &[], &trust, now()), Verdict::Unsigned);
        // The signer named in the policy, attribute by attribute.
        let named = store(&root, &["C=US, O=Contoso, CN=Contoso Release"]);
        assert!(matches!(
            judge(d, std::slice::from_ref(&good), &named, now()),
            Verdict::Verified { .. }
        ));
        let someone = store(&root, &["CN=Contoso Nightly,O=Contoso,C=US"]);
        let v = judge(d, std::slice::from_ref(&good), &someone, now());
        assert!(
            matches!(&v, Verdict::UntrustedSigner { reason: Some(r), .. } if r.contains("not one of the policy's signers")),
            "{v:?}"
        );
        // Another root.
        let v = judge(d, std::slice::from_ref(&good), &store(&other, &[]), now());
        assert!(
            matches!(&v, Verdict::UntrustedSigner { reason: Some(r), .. } if r.contains("does not lead to a root")),
            "{v:?}"
        );
        // Another digest, signed by a trusted signer.
        let v = judge("sha256:bb", std::slice::from_ref(&good), &trust, now());
        assert_eq!(
            v,
            Verdict::TagMoved {
                running: "sha256:bb".to_owned(),
                signed: d.to_owned(),
                tag: None
            }
        );
        // An expired leaf.
        let (old, old_signer) = leaf(&root, 2020, 2022);
        let v = judge(d, &[envelope(d, &old_signer, &[old], None)], &trust, now());
        assert!(
            matches!(&v, Verdict::InvalidSignature { reason } if reason.contains("expired at")),
            "{v:?}"
        );
        // A signature past its own expiry.
        let v = judge(
            d,
            &[envelope(
                d,
                &signer,
                std::slice::from_ref(&cert),
                Some("2026-03-01T00:00:00Z".parse().unwrap()),
            )],
            &trust,
            now(),
        );
        assert!(
            matches!(&v, Verdict::InvalidSignature { reason } if reason.contains("signature expired")),
            "{v:?}"
        );
        // A tampered signature: one byte flipped, re-stored with a matching layer digest.
        let mut env: Value = serde_json::from_slice(&good.blob).unwrap();
        let mut sig = b64url(env["signature"].as_str().unwrap()).unwrap();
        sig[10] ^= 1;
        env["signature"] =
            Value::String(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig));
        let blob = serde_json::to_vec(&env).unwrap();
        let tampered = Envelope {
            media_type: JWS_MEDIA_TYPE.to_owned(),
            digest: sha256_digest(&blob),
            blob,
        };
        let v = judge(d, &[tampered], &trust, now());
        assert!(
            matches!(&v, Verdict::InvalidSignature { reason } if reason.contains("does not verify")),
            "{v:?}"
        );
        // A blob that does not match its layer digest.
        let mut swapped = good.clone();
        swapped.digest = "sha256:00".to_owned();
        assert!(matches!(
            judge(d, &[swapped], &trust, now()),
            Verdict::InvalidSignature { .. }
        ));
        // COSE is reported, not passed.
        let mut cose = good.clone();
        cose.media_type = COSE_MEDIA_TYPE.to_owned();
        let v = judge(d, &[cose], &trust, now());
        assert!(
            matches!(&v, Verdict::InvalidSignature { reason } if reason.contains("COSE")),
            "{v:?}"
        );
        // A verified envelope among broken ones verifies.
        let mut junk = good.clone();
        junk.blob = b"{}".to_vec();
        junk.digest = sha256_digest(&junk.blob);
        assert!(matches!(
            judge(d, &[junk, good], &trust, now()),
            Verdict::Verified { .. }
        ));
    }

    #[test]
    fn alg_must_match_the_key() {
        let root = ca("Contoso Root");
        let (cert, signer) = leaf(&root, 2025, 2030);
        let blob = jws_envelope(
            target_artifact("sha256:aa", "application/vnd.oci.image.manifest.v1+json", 1),
            "PS256",
            now(),
            None,
            &[cert],
            |m| {
                signer
                    .sign(&SystemRandom::new(), m)
                    .unwrap()
                    .as_ref()
                    .to_vec()
            },
        );
        let e = Envelope {
            media_type: JWS_MEDIA_TYPE.to_owned(),
            digest: sha256_digest(&blob),
            blob,
        };
        let v = judge("sha256:aa", &[e], &store(&root, &[]), now());
        assert!(
            matches!(&v, Verdict::InvalidSignature { reason } if reason.contains("`alg` is PS256")),
            "{v:?}"
        );
    }

    #[test]
    fn trust_store_files() {
        let mut s = TrustStore::new();
        assert!(s.add_pem("x.pem", "nothing").is_err());
        let e = s
            .add_pem(
                "x.pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            )
            .unwrap_err();
        assert!(e.to_string().contains("not an X.509 certificate"), "{e}");
        let root = ca("Contoso Root");
        s.add_pem(
            "root.pem",
            &format!("{}{}", root.cert.pem(), ca("Second").cert.pem()),
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert!(s.root_subjects[0].contains("Contoso Root"));
    }

    #[test]
    fn bit_lengths() {
        assert_eq!(bit_len(&[0, 0x80, 0]), 16);
        assert_eq!(bit_len(&[0x7f, 0]), 15);
        assert_eq!(bit_len(&[0]), 0);
    }
}
