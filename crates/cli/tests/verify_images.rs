//! `palisade scan --verify-images` end to end: a local `docker-registry` (started by the
//! test; SKIPPED without `/usr/bin/docker-registry`), images pushed and signed by the test
//! (cosign, Notation), a trust policy in `palisade.yaml`, and the registry going down under
//! both failure policies.

#![allow(clippy::print_stderr)]

use palisade_registry::testing::{
    keypair, push_image, push_notation_signature, push_signature, start, TestCa,
};
use palisade_registry::Registry;
use std::process::Command;
use std::time::Duration;

fn scan(dir: &std::path::Path, extra: &[&str]) -> (i32, String) {
    scan_with_docker_config(dir, extra, &dir.join("no-docker-config"))
}

fn scan_with_docker_config(
    dir: &std::path::Path,
    extra: &[&str],
    docker_config: &std::path::Path,
) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .current_dir(dir)
        .env("DOCKER_CONFIG", docker_config)
        .args([
            "scan",
            "app.yaml",
            "--config",
            "palisade.yaml",
            "--select",
            "IMG007",
        ])
        .args([
            "--verify-images",
            "--verify-timeout",
            "2",
            "--color",
            "never",
        ])
        .args(extra)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn verify_images_at_scan() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some(local) = rt.block_on(start()) else {
        return;
    };
    let reg = local.addr.clone();
    let (key, _, pem) = keypair();
    let root = TestCa::root("Contoso Root");
    rt.block_on(async {
        let r = Registry::new(Duration::from_secs(5)).unwrap();
        let api = push_image(&r, &reg, "shop/api", "2.3.1", b"api").await;
        push_signature(&r, &reg, "shop/api", &api, &api, &key, None).await;
        push_image(&r, &reg, "shop/frontend", "4.2.0", b"frontend").await;
        // Notation: signed by the release certificate, and by an expired one.
        let cart = push_image(&r, &reg, "shop/cart", "1.0", b"cart").await;
        let release = root.signer("Contoso Release", 2025, 2099);
        push_notation_signature(&r, &reg, "shop/cart", &cart, release.envelope(&cart, false)).await;
        let old = push_image(&r, &reg, "shop/backup", "1.0", b"backup").await;
        let expired = root.signer("Contoso Release", 2019, 2021);
        push_notation_signature(&r, &reg, "shop/backup", &old, expired.envelope(&old, false)).await;
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("keys")).unwrap();
    std::fs::write(dir.path().join("keys/release.pub"), pem).unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs/contoso-root.pem"), root.pem()).unwrap();
    std::fs::write(
        dir.path().join("palisade.yaml"),
        format!(
            "imageTrust:\n  policies:\n    - name: shop-release\n      scopes: [\"{reg}/shop/*\"]\n      cosign: {{ publicKeys: [keys/release.pub] }}\n      notation:\n        trustStore: [certs/contoso-root.pem]\n        signers: [\"CN=Contoso Release,O=Contoso,C=US\"]\n  default: skip\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{ name: shop, namespace: shop }}\nspec:\n  containers:\n    - name: api\n      image: {reg}/shop/api:2.3.1\n    - name: web\n      image: {reg}/shop/frontend:4.2.0\n    - name: pause\n      image: registry.k8s.io/pause:3.9\n    - name: cart\n      image: {reg}/shop/cart:1.0\n    - name: backup\n      image: {reg}/shop/backup:1.0\n"
        ),
    )
    .unwrap();
    let (code, out) = scan(dir.path(), &[]);
    eprintln!("{out}");
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("container \"web\"") && out.contains("unsigned: no signature"),
        "{out}"
    );
    assert!(
        out.contains("container \"backup\"") && out.contains("expired at"),
        "{out}"
    );
    assert!(!out.contains("container \"api\""), "{out}");
    assert!(!out.contains("container \"cart\""), "{out}");
    assert!(!out.contains("pause"), "{out}");

    // The registry goes down: fail-closed reports both images, fail-open notes them.
    drop(local);
    let (code, out) = scan(dir.path(), &[]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.matches("could not be verified (failure policy fail)")
            .count(),
        4,
        "{out}"
    );
    let (code, out) = scan(dir.path(), &["--verify-failure-policy", "ignore"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("not verified, the registry did not answer"),
        "{out}"
    );

    // No imageTrust section: a usage error.
    std::fs::write(dir.path().join("palisade.yaml"), "defaultMode: audit\n").unwrap();
    let (code, out) = scan(dir.path(), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("needs an `imageTrust` section"), "{out}");
}

/// A registry that asks for a login: the scan reads it from the Docker config file
/// (`$DOCKER_CONFIG/config.json`) and never prints it.
#[test]
fn verify_images_with_registry_credentials() {
    use base64::Engine as _;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some(local) = rt.block_on(palisade_registry::testing::start_with_login(
        "ci",
        "pull-s3cret",
    )) else {
        return;
    };
    let reg = local.addr.clone();
    let auth = base64::engine::general_purpose::STANDARD.encode("ci:pull-s3cret");
    let config = format!(r#"{{"auths": {{"{reg}": {{"auth": "{auth}"}}}}}}"#);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("docker")).unwrap();
    std::fs::write(dir.path().join("docker/config.json"), &config).unwrap();
    let (key, _, pem) = keypair();
    rt.block_on(async {
        let keychain = palisade_registry::Keychain::from_docker_config(&config, "test").unwrap();
        let r = Registry::new(Duration::from_secs(5))
            .unwrap()
            .with_keychain(keychain);
        let api = push_image(&r, &reg, "shop/api", "2.3.1", b"api").await;
        push_signature(&r, &reg, "shop/api", &api, &api, &key, None).await;
    });
    std::fs::write(dir.path().join("release.pub"), pem).unwrap();
    std::fs::write(
        dir.path().join("palisade.yaml"),
        format!(
            "imageTrust:\n  policies:\n    - name: shop-release\n      scopes: [\"{reg}/shop/*\"]\n      cosign: {{ publicKeys: [release.pub] }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{ name: shop, namespace: shop }}\nspec:\n  containers:\n    - name: api\n      image: {reg}/shop/api:2.3.1\n"
        ),
    )
    .unwrap();
    let (code, out) = scan(dir.path(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("answered 401"), "{out}");
    let (code, out) = scan_with_docker_config(dir.path(), &[], &dir.path().join("docker"));
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("s3cret") && !out.contains(&auth), "{out}");
    // A malformed Docker config is an error naming the file, not its content.
    std::fs::write(
        dir.path().join("docker/config.json"),
        r#"{"auths": {"r.io": {"auth": "%%pull-s3cret%%"}}}"#,
    )
    .unwrap();
    let (code, out) = scan_with_docker_config(dir.path(), &[], &dir.path().join("docker"));
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("config.json") && out.contains("r.io"), "{out}");
    assert!(!out.contains("s3cret"), "{out}");
}
