//! Test support (feature `testing`): a local `docker-registry` started on 127.0.0.1, and
//! images pushed and signed with generated keys and certificates (cosign, Notation). Used by this crate's tests and the
//! CLI's; not part of the product.

#![allow(clippy::print_stderr, clippy::unwrap_used, clippy::missing_panics_doc)]

use crate::Registry;
use base64::Engine as _;
use bytes::Bytes;
use palisade_supply::cosign::{self, PublicKey};
use palisade_supply::notation;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The registry binary of Debian's `docker-registry`.
pub const BINARY: &str = "/usr/bin/docker-registry";

/// A `docker-registry` child process on 127.0.0.1, stopped when dropped.
pub struct LocalRegistry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for LocalRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `/usr/bin/docker-registry` on a free port; `None` (after saying SKIPPED) when it
/// is not installed.
pub async fn start() -> Option<LocalRegistry> {
    start_with(None).await
}

/// Starts `/usr/bin/docker-registry` with HTTP basic authentication (an htpasswd file with
/// one bcrypt entry for `user`); `None` (after saying SKIPPED) when it is not installed.
pub async fn start_with_login(user: &str, password: &str) -> Option<LocalRegistry> {
    start_with(Some((user, password))).await
}

async fn start_with(login: Option<(&str, &str)>) -> Option<LocalRegistry> {
    if !std::path::Path::new(BINARY).exists() {
        eprintln!("SKIPPED: {BINARY} not found (apt-get install docker-registry)");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("config.yml");
    let mut text = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
        dir.path().join("data").display()
    );
    if let Some((user, password)) = login {
        let htpasswd = dir.path().join("htpasswd");
        let hash = bcrypt::hash(password, 5).unwrap();
        std::fs::write(&htpasswd, format!("{user}:{hash}\n")).unwrap();
        text.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: palisade-test\n    path: {}\n",
            htpasswd.display()
        ));
    }
    std::fs::write(&config, text).unwrap();
    let child = Command::new(BINARY)
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reg = LocalRegistry {
        child,
        addr,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if tokio::net::TcpStream::connect(&reg.addr).await.is_ok() {
            return Some(reg);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("docker-registry did not listen on {} within 10s", reg.addr);
}

/// A new P-256 key pair and its public key as a trust policy would list it.
pub fn keypair() -> (EcdsaKeyPair, PublicKey, String) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
    let kp =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD
            .encode(PublicKey::spki_der_of_point(kp.public_key().as_ref()))
    );
    (kp, PublicKey::from_pem("release.pub", &pem).unwrap(), pem)
}

/// The OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Pushes a small image (a config and one layer of `content`) under `tag`; its digest.
pub async fn push_image(r: &Registry, reg: &str, repo: &str, tag: &str, content: &[u8]) -> String {
    let config = Bytes::from(json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).to_string());
    let config_digest = r.push_blob(reg, repo, config.clone()).await.unwrap();
    let layer = Bytes::copy_from_slice(content);
    let layer_digest = r.push_blob(reg, repo, layer.clone()).await.unwrap();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}]
    });
    r.push_manifest(
        reg,
        repo,
        tag,
        OCI_MANIFEST,
        Bytes::from(manifest.to_string()),
    )
    .await
    .unwrap()
}

/// Stores a cosign signature of `signed` under `digest`'s signature tag; `signature`
/// replaces the real one when given (a corrupted signature).
pub async fn push_signature(
    r: &Registry,
    reg: &str,
    repo: &str,
    digest: &str,
    signed: &str,
    key: &EcdsaKeyPair,
    signature: Option<&str>,
) {
    let payload = Bytes::from(cosign::payload(&format!("{reg}/{repo}"), signed));
    let sig = key.sign(&SystemRandom::new(), &payload).unwrap();
    let sig = signature.map_or_else(
        || base64::engine::general_purpose::STANDARD.encode(sig.as_ref()),
        str::to_owned,
    );
    let payload_digest = r.push_blob(reg, repo, payload.clone()).await.unwrap();
    let config = Bytes::from_static(b"{}");
    let config_digest = r.push_blob(reg, repo, config.clone()).await.unwrap();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{
            "mediaType": cosign::PAYLOAD_MEDIA_TYPE,
            "digest": payload_digest,
            "size": payload.len(),
            "annotations": {cosign::SIGNATURE_ANNOTATION: sig}
        }]
    });
    r.push_manifest(
        reg,
        repo,
        &cosign::signature_tag(digest),
        OCI_MANIFEST,
        Bytes::from(manifest.to_string()),
    )
    .await
    .unwrap();
}

/// A certificate authority of the tests: a self-signed root, or an intermediate.
pub struct TestCa {
    /// The certificate.
    pub cert: rcgen::Certificate,
    key: rcgen::KeyPair,
}

impl TestCa {
    /// A self-signed root certificate authority.
    pub fn root(cn: &str) -> TestCa {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        TestCa {
            cert: p.self_signed(&key).unwrap(),
            key,
        }
    }

    /// The root's PEM, as a trust store file holds it.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A code-signing certificate (ECDSA P-256) with the subject `CN=cn,O=Contoso,C=US`,
    /// valid from January 1st of `from` to January 1st of `to`.
    pub fn signer(&self, cn: &str, from: i32, to: i32) -> NotationSigner {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(rcgen::DnType::CommonName, cn);
        p.distinguished_name
            .push(rcgen::DnType::OrganizationName, "Contoso");
        p.distinguished_name.push(rcgen::DnType::CountryName, "US");
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::CodeSigning];
        p.not_before = rcgen::date_time_ymd(from, 1, 1);
        p.not_after = rcgen::date_time_ymd(to, 1, 1);
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        NotationSigner {
            chain: vec![cert.der().to_vec(), self.cert.der().to_vec()],
            key: EcdsaKeyPair::from_pkcs8(
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                &key.serialize_der(),
                &SystemRandom::new(),
            )
            .unwrap(),
        }
    }
}

/// A Notation signing identity: its key and its certificate chain (leaf, root).
pub struct NotationSigner {
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    key: EcdsaKeyPair,
}

impl NotationSigner {
    /// A JWS envelope signing `signed`; `tamper` flips a bit of the signature.
    pub fn envelope(&self, signed: &str, tamper: bool) -> Vec<u8> {
        notation::jws_envelope(
            notation::target_artifact(signed, OCI_MANIFEST, 0),
            "ES256",
            jiff::Timestamp::now(),
            None,
            &self.chain,
            |m| {
                let mut sig = self
                    .key
                    .sign(&SystemRandom::new(), m)
                    .unwrap()
                    .as_ref()
                    .to_vec();
                if tamper {
                    sig[5] ^= 1;
                }
                sig
            },
        )
    }
}

/// Stores a Notation signature (the envelope as its layer) referring to `digest`, and adds
/// it to the referrers tag `sha256-<hex>` (the referrers tag schema, for registries without
/// the referrers API); the signature manifest's digest.
pub async fn push_notation_signature(
    r: &Registry,
    reg: &str,
    repo: &str,
    digest: &str,
    envelope: Vec<u8>,
) -> String {
    let subject = r.manifest(reg, repo, digest).await.unwrap().unwrap();
    let envelope = Bytes::from(envelope);
    let env_digest = r.push_blob(reg, repo, envelope.clone()).await.unwrap();
    let config = Bytes::from_static(b"{}");
    let config_digest = r.push_blob(reg, repo, config.clone()).await.unwrap();
    let manifest = Bytes::from(
        json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": notation::ARTIFACT_TYPE,
            "config": {"mediaType": notation::ARTIFACT_TYPE, "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": notation::JWS_MEDIA_TYPE, "digest": env_digest, "size": envelope.len()}],
            "subject": {"mediaType": subject.media_type, "digest": digest, "size": subject.body.len()},
        })
        .to_string(),
    );
    let sig_digest = cosign::sha256_digest(&manifest);
    r.push_manifest(reg, repo, &sig_digest, OCI_MANIFEST, manifest.clone())
        .await
        .unwrap();
    let tag = digest.replacen(':', "-", 1);
    let mut manifests = match r.manifest(reg, repo, &tag).await.unwrap() {
        Some(m) => serde_json::from_slice::<serde_json::Value>(&m.body).unwrap()["manifests"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
        None => Vec::new(),
    };
    manifests.push(json!({
        "mediaType": OCI_MANIFEST,
        "digest": sig_digest,
        "size": manifest.len(),
        "artifactType": notation::ARTIFACT_TYPE,
    }));
    let index = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    });
    r.push_manifest(
        reg,
        repo,
        &tag,
        "application/vnd.oci.image.index.v1+json",
        Bytes::from(index.to_string()),
    )
    .await
    .unwrap();
    sig_digest
}
