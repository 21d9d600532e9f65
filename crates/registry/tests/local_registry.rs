//! Signature verification against a real registry: Debian's `docker-registry` (CNCF
//! distribution) started on 127.0.0.1 by the test, with images the test pushes itself and
//! signs with keys it generates, in cosign's format. Skipped, saying so, when
//! `/usr/bin/docker-registry` is absent (`.ci/run` installs it where it can).

#![allow(clippy::print_stderr)]

use base64::Engine as _;
use palisade_core::ImageRef;
use palisade_registry::testing::{keypair, push_image, push_signature, start};
use palisade_registry::{Registry, RegistryError, Verifier};
use palisade_supply::cosign::Verdict;
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
    let keys = [trusted];

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
    assert_eq!(o.verdict, Ok(Verdict::UntrustedSigner { signatures: 1 }));
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
            signed: signed.clone()
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
            signed: signed.clone()
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
    let o = v.verify(&image(&format!("{addr}/shop/api:1.0")), &[]).await;
    assert!(
        matches!(o.verdict, Err(RegistryError::Timeout { .. })),
        "{o:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    hold.abort();
}
