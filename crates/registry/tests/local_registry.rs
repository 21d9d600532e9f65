//! Signature verification against a real registry: Debian's `docker-registry` (CNCF
//! distribution) started on 127.0.0.1 by the test, with images the test pushes itself and
//! signs with keys it generates, in cosign's format. Skipped, saying so, when
//! `/usr/bin/docker-registry` is absent (`.ci/run` installs it where it can).

#![allow(clippy::print_stderr)]

use base64::Engine as _;
use palisade_core::ImageRef;
use palisade_registry::testing::{
    keypair, push_image, push_notation_signature, push_signature, start, TestCa,
};
use palisade_registry::{Registry, RegistryError, Trust, Verifier};
use palisade_supply::notation::TrustStore;
use palisade_supply::signatures::Verdict;
use std::time::{Duration, Instant};

fn image(s: &str) -> ImageRef {
    ImageRef::parse(s).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cosign_outcomes_against_a_local_registry() {
    let Some(local) = start().await else {
        return;
    };
    let addr = local.addr.clone();
    let reg = addr.as_str();
    let r = Registry::new(Duration::from_secs(5)).unwrap();
    let (release, trusted, _) = keypair();
    let (stranger, _, _) = keypair();
    let keys = Trust {
        cosign: Some(vec![trusted]),
        notation: None,
    };

    // Signed by the trusted key.
    let signed = push_image(&r, reg, "shop/api", "1.0", b"api v1").await;
    push_signature(&r, reg, "shop/api", &signed, &signed, &release, None).await;
    // Unsigned.
    push_image(&r, reg, "shop/frontend", "4.2", b"frontend").await;
    // Signed by someone else.
    let theirs = push_image(&r, reg, "shop/worker", "2.0", b"worker").await;
    push_signature(&r, reg, "shop/worker", &theirs, &theirs, &stranger, None).await;
    // A corrupted signature (not DER).
    let corrupt = push_image(&r, reg, "shop/backup", "1.0", b"backup").await;
    let garbage = base64::engine::general_purpose::STANDARD.encode(b"corrupted-signature-bytes");
    push_signature(
        &r,
        reg,
        "shop/backup",
        &corrupt,
        &corrupt,
        &release,
        Some(&garbage),
    )
    .await;

    let v = Verifier::new(r.clone(), Duration::from_secs(300));
    let api = image(&format!("{reg}/shop/api:1.0"));
    let start_uncached = Instant::now();
    let o = v.verify(&api, &keys).await;
    let uncached = start_uncached.elapsed();
    assert_eq!(o.digest.as_deref(), Some(signed.as_str()));
    assert!(
        matches!(&o.verdict, Ok(Verdict::Verified { key, .. }) if key == "release.pub"),
        "{o:?}"
    );
    assert!(!o.cached);
    // Pinned by digest, and cached.
    let pinned = image(&format!("{reg}/shop/api@{signed}"));
    let start_cached = Instant::now();
    let o = v.verify(&pinned, &keys).await;
    let cached = start_cached.elapsed();
    assert!(
        o.cached && matches!(o.verdict, Ok(Verdict::Verified { .. })),
        "{o:?}"
    );
    eprintln!("verification: uncached {uncached:?} (tag resolution, signature manifest, payload blob), cached {cached:?}");

    let o = v
        .verify(&image(&format!("{reg}/shop/frontend:4.2")), &keys)
        .await;
    assert_eq!(o.verdict, Ok(Verdict::Unsigned));
    let o = v
        .verify(&image(&format!("{reg}/shop/worker:2.0")), &keys)
        .await;
    assert_eq!(
        o.verdict,
        Ok(Verdict::UntrustedSigner {
            signatures: 1,
            reason: None
        })
    );
    let o = v
        .verify(&image(&format!("{reg}/shop/backup:1.0")), &keys)
        .await;
    assert!(
        matches!(o.verdict, Ok(Verdict::InvalidSignature { .. })),
        "{o:?}"
    );

    // The tag moves to new, unsigned content after signing.
    let moved = push_image(&r, reg, "shop/api", "1.0", b"api v1, rebuilt").await;
    assert_ne!(moved, signed);
    let o = v.verify(&api, &keys).await;
    assert_eq!(
        o.verdict,
        Ok(Verdict::TagMoved {
            running: moved.clone(),
            signed: signed.clone(),
            tag: None
        })
    );
    // A workload pinned to the new digest with the old tag: the tag's earlier signed digest
    // is not what runs; pinned to the signed digest, it still verifies.
    let o = v
        .verify(&image(&format!("{reg}/shop/api:1.0@{signed}")), &keys)
        .await;
    assert!(matches!(o.verdict, Ok(Verdict::Verified { .. })), "{o:?}");
    // A signature stored for one digest that signs another.
    let replay = push_image(&r, reg, "shop/api", "1.1", b"api v1.1").await;
    push_signature(&r, reg, "shop/api", &replay, &signed, &release, None).await;
    let o = v
        .verify(&image(&format!("{reg}/shop/api:1.1")), &keys)
        .await;
    assert_eq!(
        o.verdict,
        Ok(Verdict::TagMoved {
            running: replay,
            signed: signed.clone(),
            tag: None
        })
    );

    // Registry down: a cached digest still verifies; anything else is an error the caller's
    // failure policy decides on.
    drop(local);
    let o = v.verify(&pinned, &keys).await;
    assert!(o.cached && matches!(o.verdict, Ok(Verdict::Verified { .. })));
    let o = v
        .verify(&image(&format!("{reg}/shop/other:1")), &keys)
        .await;
    assert!(
        matches!(o.verdict, Err(RegistryError::Unreachable { .. })),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_registry_that_does_not_answer_times_out() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let r = Registry::new(Duration::from_millis(300)).unwrap();
    let v = Verifier::new(r, Duration::from_secs(60));
    let t = Instant::now();
    let o = v
        .verify(&image(&format!("{addr}/shop/api:1.0")), &Trust::default())
        .await;
    assert!(
        matches!(o.verdict, Err(RegistryError::Timeout { .. })),
        "{o:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    hold.abort();
}

/// Notation signatures pushed as the `notation` CLI stores them (a referrer manifest with the
/// JWS envelope as its layer, listed in the `sha256-<hex>` referrers tag, since this
/// registry has no referrers API), verified against a trust store of one root.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notation_outcomes_against_a_local_registry() {
    let Some(local) = start().await else {
        return;
    };
    let reg = local.addr.as_str();
    let r = Registry::new(Duration::from_secs(5)).unwrap();
    let root = TestCa::root("Contoso Root");
    let stranger_root = TestCa::root("Elsewhere Root");
    let release = root.signer("Contoso Release", 2025, 2099);
    let expired = root.signer("Contoso Release", 2019, 2021);
    let stranger = stranger_root.signer("Contoso Release", 2025, 2099);

    let signed = push_image(&r, reg, "shop/api", "1.0", b"api").await;
    push_notation_signature(
        &r,
        reg,
        "shop/api",
        &signed,
        release.envelope(&signed, false),
    )
    .await;
    push_image(&r, reg, "shop/frontend", "1.0", b"frontend").await;
    let untrusted = push_image(&r, reg, "shop/worker", "1.0", b"worker").await;
    push_notation_signature(
        &r,
        reg,
        "shop/worker",
        &untrusted,
        stranger.envelope(&untrusted, false),
    )
    .await;
    let old = push_image(&r, reg, "shop/backup", "1.0", b"backup").await;
    push_notation_signature(&r, reg, "shop/backup", &old, expired.envelope(&old, false)).await;
    let tampered = push_image(&r, reg, "shop/cart", "1.0", b"cart").await;
    push_notation_signature(
        &r,
        reg,
        "shop/cart",
        &tampered,
        release.envelope(&tampered, true),
    )
    .await;
    // A signature stored for one digest that signs another.
    let replay = push_image(&r, reg, "shop/api", "1.1", b"api 1.1").await;
    push_notation_signature(
        &r,
        reg,
        "shop/api",
        &replay,
        release.envelope(&signed, false),
    )
    .await;

    let mut store = TrustStore::new();
    store
        .add_pem("certs/contoso-root.pem", &root.pem())
        .unwrap();
    let trust = Trust {
        cosign: None,
        notation: Some(store.clone()),
    };
    let v = Verifier::new(r.clone(), Duration::from_secs(300));
    let verify = |s: &str| {
        let i = image(&format!("{reg}/{s}"));
        let v = &v;
        let trust = &trust;
        async move { v.verify(&i, trust).await }
    };

    let t = Instant::now();
    let o = verify("shop/api:1.0").await;
    let uncached = t.elapsed();
    assert!(
        matches!(&o.verdict, Ok(Verdict::Verified { key, .. }) if key.contains("CN=Contoso Release")),
        "{o:?}"
    );
    eprintln!("Notation verification: uncached {uncached:?} (tag, referrers, signature manifest, envelope)");
    assert_eq!(
        verify("shop/frontend:1.0").await.verdict,
        Ok(Verdict::Unsigned)
    );
    let o = verify("shop/worker:1.0").await;
    assert!(
        matches!(&o.verdict, Ok(Verdict::UntrustedSigner { reason: Some(r), .. }) if r.contains("does not lead to a root")),
        "{o:?}"
    );
    let o = verify("shop/backup:1.0").await;
    assert!(
        matches!(&o.verdict, Ok(Verdict::InvalidSignature { reason }) if reason.contains("expired at")),
        "{o:?}"
    );
    let o = verify("shop/cart:1.0").await;
    assert!(
        matches!(&o.verdict, Ok(Verdict::InvalidSignature { reason }) if reason.contains("does not verify")),
        "{o:?}"
    );
    assert_eq!(
        verify("shop/api:1.1").await.verdict,
        Ok(Verdict::TagMoved {
            running: replay,
            signed: signed.clone(),
            tag: None
        })
    );

    // Signers named by the policy: the release certificate passes, others are untrusted.
    let mut named = store.clone();
    named.set_signers(vec![palisade_core::trust::parse_distinguished_name(
        "CN=Contoso Nightly,O=Contoso,C=US",
    )
    .unwrap()]);
    let o = Verifier::new(r.clone(), Duration::from_secs(300))
        .verify(
            &image(&format!("{reg}/shop/api:1.0")),
            &Trust {
                cosign: None,
                notation: Some(named),
            },
        )
        .await;
    assert!(
        matches!(&o.verdict, Ok(Verdict::UntrustedSigner { reason: Some(r), .. }) if r.contains("not one of the policy's signers")),
        "{o:?}"
    );

    // Both kinds accepted: an image with only a Notation signature verifies, and one with
    // only a cosign signature by the trusted key too.
    let (cosign_key, cosign_pub, _) = keypair();
    let cosigned = push_image(&r, reg, "shop/search", "1.0", b"search").await;
    push_signature(
        &r,
        reg,
        "shop/search",
        &cosigned,
        &cosigned,
        &cosign_key,
        None,
    )
    .await;
    let both = Trust {
        cosign: Some(vec![cosign_pub]),
        notation: Some(store),
    };
    let v2 = Verifier::new(r.clone(), Duration::from_secs(300));
    for s in ["shop/api:1.0", "shop/search:1.0"] {
        let o = v2.verify(&image(&format!("{reg}/{s}")), &both).await;
        assert!(
            matches!(o.verdict, Ok(Verdict::Verified { .. })),
            "{s}: {o:?}"
        );
    }
    let o = v2
        .verify(&image(&format!("{reg}/shop/frontend:1.0")), &both)
        .await;
    assert_eq!(o.verdict, Ok(Verdict::Unsigned));
}

/// A registry with htpasswd (basic) authentication: refused without a login, verified with
/// the login from a Docker config file's `auths`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_logins_from_a_docker_config() {
    use palisade_registry::testing::start_with_login;
    use palisade_registry::Keychain;
    let Some(local) = start_with_login("ci", "pull-only-s3cret").await else {
        return;
    };
    let reg = local.addr.as_str();
    let auth = base64::engine::general_purpose::STANDARD.encode("ci:pull-only-s3cret");
    let config = format!(r#"{{"auths": {{"http://{reg}": {{"auth": "{auth}"}}}}}}"#);
    let dir = tempfile_dir();
    std::fs::write(dir.join("config.json"), &config).unwrap();
    let keychain = Keychain::from_docker_config_file(&dir.join("config.json")).unwrap();
    let r = Registry::new(Duration::from_secs(5))
        .unwrap()
        .with_keychain(keychain);
    let (key, public, _) = keypair();
    let signed = push_image(&r, reg, "shop/api", "1.0", b"api").await;
    push_signature(&r, reg, "shop/api", &signed, &signed, &key, None).await;
    let trust = Trust {
        cosign: Some(vec![public]),
        notation: None,
    };
    let api = image(&format!("{reg}/shop/api:1.0"));

    let o = Verifier::new(r, Duration::from_secs(60))
        .verify(&api, &trust)
        .await;
    assert!(matches!(o.verdict, Ok(Verdict::Verified { .. })), "{o:?}");

    // Anonymous: refused, and the refusal is the registry's answer, not a verdict.
    let anonymous = Registry::new(Duration::from_secs(5)).unwrap();
    let o = Verifier::new(anonymous, Duration::from_secs(60))
        .verify(&api, &trust)
        .await;
    assert!(
        matches!(&o.verdict, Err(RegistryError::Status { status: 401, .. })),
        "{o:?}"
    );
    // A wrong password: refused the same way, and never printed.
    let wrong = Keychain::from_docker_config(
        &format!(r#"{{"auths": {{"{reg}": {{"username": "ci", "password": "wrong-s3cret"}}}}}}"#),
        "config.json",
    )
    .unwrap();
    let o = Verifier::new(
        Registry::new(Duration::from_secs(5))
            .unwrap()
            .with_keychain(wrong),
        Duration::from_secs(60),
    )
    .verify(&api, &trust)
    .await;
    let shown = format!("{o:?}");
    assert!(
        matches!(&o.verdict, Err(RegistryError::Status { status: 401, .. })),
        "{shown}"
    );
    assert!(!shown.contains("s3cret"), "{shown}");
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "palisade-registry-login-{}-{}",
        std::process::id(),
        palisade_registry::testing::free_port()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The OCI referrers API, where a registry serves it: a small in-memory registry (Debian's
/// `docker-registry` 2.8 has no referrers API) that answers the referrers request and has no
/// `sha256-<hex>` tag, so the signature can only be found through the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notation_through_the_referrers_api() {
    use palisade_supply::cosign::sha256_digest;
    use palisade_supply::notation;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let root = TestCa::root("Contoso Root");
    let signer = root.signer("Contoso Release", 2025, 2099);
    let media = "application/vnd.oci.image.manifest.v1+json";
    let image_manifest = serde_json::json!({"schemaVersion": 2, "mediaType": media,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:00", "size": 2},
        "layers": []})
    .to_string();
    let digest = sha256_digest(image_manifest.as_bytes());
    let envelope = signer.envelope(&digest, false);
    let env_digest = sha256_digest(&envelope);
    let sig_manifest = serde_json::json!({"schemaVersion": 2, "mediaType": media,
        "artifactType": notation::ARTIFACT_TYPE,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
        "layers": [{"mediaType": notation::JWS_MEDIA_TYPE, "digest": env_digest, "size": envelope.len()}],
        "subject": {"mediaType": media, "digest": digest, "size": image_manifest.len()}})
    .to_string();
    let sig_digest = sha256_digest(sig_manifest.as_bytes());
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": media, "digest": sig_digest, "size": sig_manifest.len(), "artifactType": notation::ARTIFACT_TYPE},
            {"mediaType": media, "digest": "sha256:ff", "size": 1, "artifactType": "application/vnd.example.sbom"}
        ]})
    .to_string();
    let mut routes: HashMap<String, (String, Vec<u8>)> = HashMap::new();
    routes.insert(
        "/v2/shop/api/manifests/1.0".into(),
        (media.into(), image_manifest.clone().into_bytes()),
    );
    routes.insert(
        format!("/v2/shop/api/manifests/{digest}"),
        (media.into(), image_manifest.into_bytes()),
    );
    routes.insert(
        format!("/v2/shop/api/manifests/{sig_digest}"),
        (media.into(), sig_manifest.into_bytes()),
    );
    routes.insert(
        format!("/v2/shop/api/blobs/{env_digest}"),
        ("application/octet-stream".into(), envelope),
    );
    routes.insert(
        format!(
            "/v2/shop/api/referrers/{digest}?artifactType=application%2Fvnd.cncf.notary.signature"
        ),
        (
            "application/vnd.oci.image.index.v1+json".into(),
            index.into_bytes(),
        ),
    );
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let reg = listener.local_addr().unwrap().to_string();
    let (routes, log) = (Arc::new(routes), seen.clone());
    let server = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let (routes, log) = (routes.clone(), log.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                log.lock().unwrap().push(path.clone());
                let (status, ctype, body) = match routes.get(&path) {
                    Some((t, b)) => ("200 OK", t.clone(), b.clone()),
                    None => (
                        "404 Not Found",
                        "text/plain".to_owned(),
                        b"not found".to_vec(),
                    ),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
                let _ = s.write_all(&body).await;
            });
        }
    });
    let mut store = TrustStore::new();
    store.add_pem("root.pem", &root.pem()).unwrap();
    let trust = Trust {
        cosign: None,
        notation: Some(store),
    };
    let v = Verifier::new(
        Registry::new(Duration::from_secs(5)).unwrap(),
        Duration::from_secs(60),
    );
    let o = v
        .verify(&image(&format!("{reg}/shop/api:1.0")), &trust)
        .await;
    assert!(matches!(o.verdict, Ok(Verdict::Verified { .. })), "{o:?}");
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().any(|p| p.contains("/referrers/")), "{seen:?}");
    assert!(
        !seen
            .iter()
            .any(|p| p.ends_with(&digest.replacen(':', "-", 1))),
        "{seen:?}"
    );
    server.abort();
}

/// Image pull Secrets' logins: used for the images of the workload whose Secrets they are,
/// and cached apart, so that a verdict reached with one namespace's Secret never answers for
/// a workload without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_logins_from_image_pull_secrets() {
    use palisade_registry::testing::start_with_login;
    use palisade_registry::{Context, Keychain, PullSecretKind, PullSecretLogins};
    let Some(local) = start_with_login("puller", "pull-secret-s3cret").await else {
        return;
    };
    let reg = local.addr.as_str();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let config = format!(
        r#"{{"auths": {{"{reg}": {{"auth": "{}"}}}}}}"#,
        b64("puller:pull-secret-s3cret")
    );
    let pusher = Registry::new(Duration::from_secs(5))
        .unwrap()
        .with_keychain(Keychain::from_docker_config(&config, "test").unwrap());
    let (key, public, _) = keypair();
    let signed = push_image(&pusher, reg, "shop/api", "1.0", b"api").await;
    push_signature(&pusher, reg, "shop/api", &signed, &signed, &key, None).await;
    let trust = Trust {
        cosign: Some(vec![public]),
        notation: None,
    };
    let api = image(&format!("{reg}/shop/api:1.0"));

    // The front-end itself has no login (no Docker config file).
    let v = Verifier::new(
        Registry::new(Duration::from_secs(5)).unwrap(),
        Duration::from_secs(60),
    );
    let mut shop = PullSecretLogins::new("shop");
    shop.add(
        "shop",
        "regcred",
        PullSecretKind::DockerConfigJson,
        &b64(&config),
    )
    .unwrap();
    fn with(l: &PullSecretLogins) -> Context<'_> {
        Context {
            running: None,
            logins: Some(l),
        }
    }
    let t = Instant::now();
    let o = v.verify_in(&api, &trust, with(&shop)).await;
    let uncached = t.elapsed();
    assert!(matches!(o.verdict, Ok(Verdict::Verified { .. })), "{o:?}");
    // The same verdict again comes from the cache of that Secret's logins.
    assert!(v.verify_in(&api, &trust, with(&shop)).await.cached);
    // Pinned by digest: a cached verdict asks the registry nothing, with or without logins.
    let pinned = image(&format!("{reg}/shop/api:1.0@{signed}"));
    let own_login = Verifier::new(pusher.clone(), Duration::from_secs(60));
    assert!(!own_login.verify(&pinned, &trust).await.cached);
    let t = Instant::now();
    let o = own_login.verify(&pinned, &trust).await;
    let cached_plain = t.elapsed();
    assert!(o.cached);
    let t = Instant::now();
    let o = v.verify_in(&pinned, &trust, with(&shop)).await;
    let cached_logins = t.elapsed();
    assert!(
        o.cached && matches!(o.verdict, Ok(Verdict::Verified { .. })),
        "{o:?}"
    );
    eprintln!(
        "pull Secret logins: uncached {uncached:?} (401, basic login, tag, signature manifest, payload); cached by digest {cached_logins:?} with them, {cached_plain:?} with the Docker config file's login"
    );
    // Without the Secret: refused, though a verdict for the same digest is cached.
    let o = v.verify(&api, &trust).await;
    assert!(
        matches!(&o.verdict, Err(RegistryError::Status { status: 401, .. })),
        "{o:?}"
    );
    // Another namespace's workload with no Secret of its own: refused too.
    let billing = PullSecretLogins::new("billing");
    let o = v.verify_in(&api, &trust, with(&billing)).await;
    assert!(
        matches!(&o.verdict, Err(RegistryError::Status { status: 401, .. })),
        "{o:?}"
    );
    // The legacy `.dockercfg` format works the same.
    let mut legacy = PullSecretLogins::new("shop");
    legacy
        .add(
            "shop",
            "legacy",
            PullSecretKind::DockerCfg,
            &b64(&format!(
                r#"{{"{reg}": {{"username": "puller", "password": "pull-secret-s3cret"}}}}"#
            )),
        )
        .unwrap();
    let o = v.verify_in(&api, &trust, with(&legacy)).await;
    assert!(matches!(o.verdict, Ok(Verdict::Verified { .. })), "{o:?}");
    assert!(!o.cached, "a verdict is cached per Secret");
    let shown = format!("{o:?} {shop:?} {legacy:?}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("puller"),
        "{shown}"
    );
}

/// A Pod's running digest (its status's `imageID`) against the digest its tag resolves to
/// now: the tag moved, one way or the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_digest_against_the_tag() {
    use palisade_registry::Context;
    let Some(local) = start().await else {
        return;
    };
    let reg = local.addr.as_str();
    let r = Registry::new(Duration::from_secs(5)).unwrap();
    let (key, public, _) = keypair();
    let trust = Trust {
        cosign: Some(vec![public]),
        notation: None,
    };
    fn running(d: &str) -> Context<'_> {
        Context {
            running: Some(d),
            logins: None,
        }
    }
    // shop/api:1.0 was signed and deployed; the tag was then pushed over, unsigned.
    let signed = push_image(&r, reg, "shop/api", "1.0", b"api v1").await;
    push_signature(&r, reg, "shop/api", &signed, &signed, &key, None).await;
    let rebuilt = push_image(&r, reg, "shop/api", "1.0", b"api v1 rebuilt").await;
    // shop/web:2.0 runs an unsigned build; the tag now points to a signed one.
    let old = push_image(&r, reg, "shop/web", "2.0", b"web old").await;
    let fixed = push_image(&r, reg, "shop/web", "2.0", b"web signed").await;
    push_signature(&r, reg, "shop/web", &fixed, &fixed, &key, None).await;

    let v = Verifier::new(r, Duration::from_secs(60));
    let api = image(&format!("{reg}/shop/api:1.0"));
    let web = image(&format!("{reg}/shop/web:2.0"));
    // Without the running digest, the tag's digest now is judged.
    assert_eq!(v.verify(&api, &trust).await.verdict, Ok(Verdict::Unsigned));
    // Running the signed digest while the tag points to unsigned content.
    let o = v.verify_in(&api, &trust, running(&signed)).await;
    assert_eq!(o.digest.as_deref(), Some(signed.as_str()));
    assert_eq!(
        o.verdict,
        Ok(Verdict::TagMoved {
            running: signed.clone(),
            signed: signed.clone(),
            tag: Some(rebuilt.clone()),
        })
    );
    // Running the unsigned digest while the tag points to signed content.
    let o = v.verify_in(&web, &trust, running(&old)).await;
    assert_eq!(
        o.verdict,
        Ok(Verdict::TagMoved {
            running: old.clone(),
            signed: fixed.clone(),
            tag: Some(fixed.clone()),
        })
    );
    let text = o.verdict.unwrap().to_string();
    assert!(text.contains(&old) && text.contains(&fixed), "{text}");
    // Running what the tag points to: the plain verdicts.
    assert!(matches!(
        v.verify_in(&web, &trust, running(&fixed)).await.verdict,
        Ok(Verdict::Verified { .. })
    ));
    assert_eq!(
        v.verify_in(&api, &trust, running(&rebuilt)).await.verdict,
        Ok(Verdict::Unsigned)
    );
    // Pinned by digest and running it: the tag is not what runs nor what a restart pulls.
    let pinned = image(&format!("{reg}/shop/api:1.0@{signed}"));
    assert!(matches!(
        v.verify_in(&pinned, &trust, running(&signed)).await.verdict,
        Ok(Verdict::Verified { .. })
    ));
}
