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

/// `scan --cluster --verify-images` against the replay server and a registry with htpasswd
/// logins: each Pod's image pull Secrets (its own, else its ServiceAccount's) are read from
/// its namespace and used for its images only; a Secret that cannot be read (missing in the
/// Pod's namespace, forbidden) leaves the Pod's images to anonymous access, which the
/// registry refuses, and the report says so; the password appears in no output. A Pod whose
/// status says it runs an unsigned digest while its tag now points to a signed one is a
/// moved tag.
#[test]
fn image_pull_secrets_in_a_cluster_scan() {
    use base64::Engine as _;
    use palisade_replay::{Config, Replay, SyntheticList};
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::Arc;
    let Some(rec) =
        palisade_replay::find_recordings(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
    else {
        palisade_testkit::missing("shared/corpus/apiserver-recordings/api (the test corpus)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    const PASSWORD: &str = "pull-secret-pw-9c41e7";
    let Some(local) = rt.block_on(palisade_registry::testing::start_with_login(
        "puller", PASSWORD,
    )) else {
        return;
    };
    let reg = local.addr.clone();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let auth = b64(&format!("puller:{PASSWORD}"));
    let config = format!(r#"{{"auths": {{"{reg}": {{"auth": "{auth}"}}}}}}"#);
    let (key, _, pem) = keypair();
    let (api, old_web, new_web) = rt.block_on(async {
        let keychain = palisade_registry::Keychain::from_docker_config(&config, "test").unwrap();
        let r = Registry::new(Duration::from_secs(5))
            .unwrap()
            .with_keychain(keychain);
        let api = push_image(&r, &reg, "shop/api", "1.0", b"api").await;
        push_signature(&r, &reg, "shop/api", &api, &api, &key, None).await;
        // web:2.0 ran unsigned; the tag was then pushed over with a signed build.
        let old = push_image(&r, &reg, "shop/web", "2.0", b"web old").await;
        let new = push_image(&r, &reg, "shop/web", "2.0", b"web signed").await;
        push_signature(&r, &reg, "shop/web", &new, &new, &key, None).await;
        (api, old, new)
    });
    assert_ne!(old_web, new_web);

    let pod = |ns: &str, name: &str, image: &str, spec_extra: serde_json::Value| {
        let mut spec = json!({"containers": [{"name": "app", "image": image}]});
        for (k, v) in spec_extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}")},
            "spec": spec})
    };
    let api_image = format!("{reg}/shop/api:1.0");
    let web_image = format!("{reg}/shop/web:2.0");
    let regcred = json!({"imagePullSecrets": [{"name": "regcred"}]});
    let mut web = pod("shop", "web", &web_image, regcred.clone());
    web["status"] = json!({"containerStatuses": [{"name": "app", "image": web_image,
        "imageID": format!("docker-pullable://{reg}/shop/web@{old_web}")}]});
    let pods = vec![
        // Its own pull Secret: verified.
        pod("shop", "api-own", &api_image, regcred.clone()),
        // Its ServiceAccount's pull Secret: verified.
        pod(
            "shop",
            "api-sa",
            &api_image,
            json!({"serviceAccountName": "builder"}),
        ),
        // Names `regcred`, which exists in `shop` only: never shop's.
        pod("billing", "api-billing", &api_image, regcred.clone()),
        // A Secret it may not read.
        pod(
            "shop",
            "api-forbidden",
            &api_image,
            json!({"imagePullSecrets": [{"name": "locked"}]}),
        ),
        web,
    ];
    let mut synthetic = HashMap::new();
    synthetic.insert(
        "/api/v1/pods".to_owned(),
        SyntheticList {
            api_version: "v1".into(),
            kind: "PodList".into(),
            items: Arc::new(pods),
        },
    );
    let mut routes = HashMap::new();
    routes.insert(
        "/api/v1/namespaces/shop/secrets/regcred".to_owned(),
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "regcred", "namespace": "shop"},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": b64(&config)}}),
    );
    routes.insert(
        "/api/v1/namespaces/shop/serviceaccounts/builder".to_owned(),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": "builder", "namespace": "shop"},
            "imagePullSecrets": [{"name": "regcred"}]}),
    );
    let replay = Replay::start(Config {
        recordings: rec,
        synthetic,
        routes,
        forbid: vec!["/api/v1/namespaces/shop/secrets/locked".to_owned()],
        ..Config::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    replay.write_kubeconfig(&kubeconfig).unwrap();
    std::fs::write(dir.path().join("release.pub"), pem).unwrap();
    std::fs::write(
        dir.path().join("palisade.yaml"),
        format!(
            "imageTrust:\n  policies:\n    - name: shop-release\n      scopes: [\"{reg}/shop/*\"]\n      cosign: {{ publicKeys: [release.pub] }}\n"
        ),
    )
    .unwrap();
    let run = |format: &str, output: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
        cmd.current_dir(dir.path())
            .env("KUBECONFIG", &kubeconfig)
            .env("DOCKER_CONFIG", dir.path().join("no-docker-config"))
            .env("NO_COLOR", "1")
            .args([
                "scan",
                "--cluster",
                "--config",
                "palisade.yaml",
                "--select",
                "IMG007",
            ])
            .args([
                "--verify-images",
                "--verify-timeout",
                "5",
                "--format",
                format,
            ]);
        if let Some(o) = output {
            cmd.args(["--output", o]);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run("table", None);
    eprintln!("{out}{err}");
    assert_eq!(code, 1, "{out}{err}");
    let finding_of = |name: &str| {
        out.lines()
            .skip_while(|l| !l.starts_with(&format!("Pod {name}")))
            .skip(1)
            .take_while(|l| l.starts_with(' '))
            .collect::<Vec<_>>()
            .join("\n")
    };
    // With the pull Secret (the Pod's own, or its ServiceAccount's): verified.
    assert!(!out.contains("Pod shop/api-own"), "{out}");
    assert!(!out.contains("Pod shop/api-sa"), "{out}");
    // Another namespace's Secret is not used: the registry refuses the anonymous request.
    let billing = finding_of("billing/api-billing");
    assert!(billing.contains("answered 401"), "{out}");
    assert!(
        out.contains("image pull Secret billing/regcred not used (404"),
        "{out}"
    );
    // A Secret it may not read: anonymous, refused, and the report says why.
    assert!(
        finding_of("shop/api-forbidden").contains("answered 401"),
        "{out}"
    );
    assert!(
        out.contains("image pull Secret shop/locked not used (403"),
        "{out}"
    );
    // The running digest is unsigned; the tag now points to the signed one.
    let web = finding_of("shop/web");
    assert!(
        web.contains(&format!(
            "tag moved: the digest running is {old_web}, the digest signed is {new_web} (where the tag points now)"
        )),
        "{out}"
    );
    assert!(!out.contains(&api), "{out}");
    // The password (and its encodings) is in no output and no report file.
    for format in ["json", "sarif", "policyreport"] {
        let file = format!("report.{format}");
        let (code, out, err) = run(format, Some(&file));
        assert_eq!(code, 1, "{format}: {out}{err}");
        let written = std::fs::read_to_string(dir.path().join(&file)).unwrap();
        assert!(written.contains("IMG007"), "{format}: {written}");
        for text in [&out, &err, &written] {
            for needle in [PASSWORD, auth.as_str(), b64(&config).as_str()] {
                assert!(!text.contains(needle), "{format} shows a login: {text}");
            }
        }
    }
    for text in [&out, &err] {
        for needle in [PASSWORD, auth.as_str(), b64(&config).as_str()] {
            assert!(!text.contains(needle), "a login is shown: {text}");
        }
    }
    // Only the Secrets the scanned Pods name were read, in their own namespace, each once
    // per scan (four scans).
    let secret_reads: Vec<String> = replay
        .requests()
        .into_iter()
        .filter(|r| r.contains("/secrets/"))
        .collect();
    eprintln!("{secret_reads:?}");
    assert!(
        secret_reads
            .iter()
            .all(|r| r.contains("/namespaces/shop/secrets/regcred")
                || r.contains("/namespaces/shop/secrets/locked")
                || r.contains("/namespaces/billing/secrets/regcred")),
        "{secret_reads:?}"
    );
    assert_eq!(
        secret_reads
            .iter()
            .filter(|r| r.contains("/namespaces/shop/secrets/regcred"))
            .count(),
        4,
        "{secret_reads:?}"
    );
}

/// `scan --cluster --verify-images` of workloads whose Pods are folded into them: the digests
/// the Pods run (their status's `imageID`) are verified and reported on the workload. A
/// Deployment whose Pods run the signed digest passes; one whose Pods run the unsigned digest
/// they pulled before the tag moved fails (tag moved), and so does a CronJob whose Job's Pod
/// does; a rollout caught between two digests is one finding naming both, with how many Pods
/// run each; Pods that run the signed digest of a tag since pushed over with unsigned content
/// are a moved tag too; a Deployment whose Pods have no status yet is judged at the digest
/// its tag names now. The staged scan (`--format json`) and the whole-inventory one
/// (`--framework cis` needs the whole objects) give the same findings.
#[test]
fn folded_pods_in_a_cluster_scan() {
    use palisade_replay::{Config, Replay, SyntheticList};
    use serde_json::{json, Value};
    use std::collections::HashMap;
    use std::sync::Arc;
    let Some(rec) =
        palisade_replay::find_recordings(std::path::Path::new(env!("CARGO_MANIFEST_DIR")))
    else {
        palisade_testkit::missing("shared/corpus/apiserver-recordings/api (the test corpus)");
        return;
    };
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
    let (old_web, new_web, signed_api, unsigned_api) = rt.block_on(async {
        let r = Registry::new(Duration::from_secs(5)).unwrap();
        // web:2.0 ran unsigned; the tag was then pushed over with a signed build.
        let old = push_image(&r, &reg, "shop/web", "2.0", b"web old").await;
        let new = push_image(&r, &reg, "shop/web", "2.0", b"web signed").await;
        push_signature(&r, &reg, "shop/web", &new, &new, &key, None).await;
        // api:1.0 was signed; the tag was then pushed over with unsigned content.
        let signed = push_image(&r, &reg, "shop/api", "1.0", b"api signed").await;
        push_signature(&r, &reg, "shop/api", &signed, &signed, &key, None).await;
        let unsigned = push_image(&r, &reg, "shop/api", "1.0", b"api pushed over").await;
        (old, new, signed, unsigned)
    });
    let web = format!("{reg}/shop/web:2.0");
    let api = format!("{reg}/shop/api:1.0");
    let template = |image: &str| json!({"spec": {"containers": [{"name": "app", "image": image}]}});
    let owner = |kind: &str, name: &str| {
        json!([{"apiVersion": if kind == "Job" || kind == "CronJob" { "batch/v1" } else { "apps/v1" },
            "kind": kind, "name": name, "uid": format!("uid-{name}"), "controller": true}])
    };
    let deployment = |name: &str, image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}")},
            "spec": {"selector": {"matchLabels": {"app": name}}, "template": template(image)}})
    };
    let replica_set = |name: &str, deployment: &str, image: &str| {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
                "ownerReferences": owner("Deployment", deployment)},
            "spec": {"selector": {"matchLabels": {"app": deployment}}, "template": template(image)}})
    };
    let pod = |name: &str, kind: &str, of: &str, image: &str, running: Option<&str>| {
        let mut p = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "shop", "uid": format!("uid-{name}"),
                "ownerReferences": owner(kind, of)},
            "spec": {"containers": [{"name": "app", "image": image}]}});
        if let Some(d) = running {
            let repo = image.rsplit_once(':').unwrap().0;
            p["status"] = json!({"containerStatuses": [{"name": "app", "image": image,
                "imageID": format!("docker-pullable://{repo}@{d}")}]});
        }
        p
    };
    let deployments = vec![
        deployment("web-current", &web),
        deployment("web-stale", &web),
        deployment("web-rollout", &web),
        deployment("api-pending", &api),
        deployment("api-running", &api),
    ];
    let replica_sets = vec![
        replica_set("web-current-1", "web-current", &web),
        replica_set("web-stale-1", "web-stale", &web),
        replica_set("web-rollout-1", "web-rollout", &web),
        replica_set("web-rollout-2", "web-rollout", &web),
        replica_set("api-pending-1", "api-pending", &api),
        replica_set("api-running-1", "api-running", &api),
    ];
    let rs = "ReplicaSet";
    let pods = vec![
        pod("web-current-1-a", rs, "web-current-1", &web, Some(&new_web)),
        pod("web-current-1-b", rs, "web-current-1", &web, Some(&new_web)),
        pod("web-stale-1-a", rs, "web-stale-1", &web, Some(&old_web)),
        pod("web-stale-1-b", rs, "web-stale-1", &web, Some(&old_web)),
        pod("web-rollout-1-a", rs, "web-rollout-1", &web, Some(&old_web)),
        pod("web-rollout-1-b", rs, "web-rollout-1", &web, Some(&old_web)),
        pod("web-rollout-2-a", rs, "web-rollout-2", &web, Some(&new_web)),
        pod("api-pending-1-a", rs, "api-pending-1", &api, None),
        pod(
            "api-running-1-a",
            rs,
            "api-running-1",
            &api,
            Some(&signed_api),
        ),
        pod(
            "web-reindex-1-a",
            "Job",
            "web-reindex-1",
            &web,
            Some(&old_web),
        ),
    ];
    let cron_job = json!({"apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": "web-reindex", "namespace": "shop", "uid": "uid-web-reindex"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": template(&web)}}}});
    let job = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "web-reindex-1", "namespace": "shop", "uid": "uid-web-reindex-1",
            "ownerReferences": owner("CronJob", "web-reindex")},
        "spec": {"template": template(&web)}});
    let list = |api_version: &str, kind: &str, items: Vec<Value>| SyntheticList {
        api_version: api_version.into(),
        kind: kind.into(),
        items: Arc::new(items),
    };
    let mut synthetic = HashMap::new();
    for (path, l) in [
        ("/api/v1/pods", list("v1", "PodList", pods)),
        (
            "/apis/apps/v1/deployments",
            list("apps/v1", "DeploymentList", deployments),
        ),
        (
            "/apis/apps/v1/replicasets",
            list("apps/v1", "ReplicaSetList", replica_sets),
        ),
        (
            "/apis/batch/v1/cronjobs",
            list("batch/v1", "CronJobList", vec![cron_job]),
        ),
        (
            "/apis/batch/v1/jobs",
            list("batch/v1", "JobList", vec![job]),
        ),
    ] {
        synthetic.insert(path.to_owned(), l);
    }
    let replay = Replay::start(Config {
        recordings: rec,
        synthetic,
        ..Config::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    replay.write_kubeconfig(&kubeconfig).unwrap();
    std::fs::write(dir.path().join("release.pub"), pem).unwrap();
    std::fs::write(
        dir.path().join("palisade.yaml"),
        format!(
            "imageTrust:\n  policies:\n    - name: shop-release\n      scopes: [\"{reg}/shop/*\"]\n      cosign: {{ publicKeys: [release.pub] }}\n"
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .current_dir(dir.path())
            .env("KUBECONFIG", &kubeconfig)
            .env("DOCKER_CONFIG", dir.path().join("no-docker-config"))
            .env("NO_COLOR", "1")
            .args(["scan", "--cluster", "--config", "palisade.yaml"])
            .args([
                "--select",
                "IMG007",
                "--verify-images",
                "--verify-timeout",
                "5",
            ])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, staged, err) = run(&["--format", "json"]);
    assert_eq!(code, 1, "{staged}{err}");
    let (code, whole, err) = run(&["--format", "json", "--framework", "cis"]);
    assert_eq!(code, 1, "{whole}{err}");
    let findings = |text: &str| -> Vec<Value> {
        let v: Value = serde_json::from_str(text).unwrap();
        v["findings"].as_array().unwrap().clone()
    };
    let (staged, whole) = (findings(&staged), findings(&whole));
    assert_eq!(staged, whole);
    // Each finding's workload and message.
    let by_object: HashMap<String, String> = staged
        .iter()
        .map(|f| {
            let o = &f["object"];
            (
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                ),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    eprintln!("{by_object:#?}");
    let mut objects: Vec<&str> = by_object.keys().map(String::as_str).collect();
    objects.sort_unstable();
    assert_eq!(
        objects,
        [
            "CronJob/web-reindex",
            "Deployment/api-pending",
            "Deployment/api-running",
            "Deployment/web-rollout",
            "Deployment/web-stale"
        ],
        "{staged:#?}"
    );
    let moved = format!(
        "tag moved: the digest running is {old_web}, the digest signed is {new_web} (where the tag points now)"
    );
    assert_eq!(
        by_object["Deployment/web-stale"],
        format!("container \"app\" image \"{web}\" at {old_web}, run by 2 Pods: {moved} (trust policy `shop-release`)")
    );
    assert_eq!(
        by_object["CronJob/web-reindex"],
        format!("container \"app\" image \"{web}\" at {old_web}, run by 1 Pod: {moved} (trust policy `shop-release`)")
    );
    // The rollout: one finding, both digests in order, with their Pods.
    let rollout = &by_object["Deployment/web-rollout"];
    assert!(
        rollout.starts_with(&format!(
            "container \"app\" image \"{web}\": its 3 Pods run 2 digests: "
        )),
        "{rollout}"
    );
    let (first, second) = if old_web < new_web {
        (
            format!("2 Pods at {old_web}: {moved}"),
            format!("1 Pod at {new_web}: signed with release.pub"),
        )
    } else {
        (
            format!("1 Pod at {new_web}: signed with release.pub"),
            format!("2 Pods at {old_web}: {moved}"),
        )
    };
    let (a, b) = (rollout.find(&first), rollout.find(&second));
    assert!(a.is_some() && b.is_some() && a < b, "{rollout}");
    // The signed digest runs, but the tag now names unsigned content.
    assert!(
        by_object["Deployment/api-running"].contains(&format!(
            "at {signed_api}, run by 1 Pod: tag moved: the digest running, {signed_api}, is signed, but the tag now points to {unsigned_api}, which no trusted signer signed"
        )),
        "{by_object:#?}"
    );
    // No status: judged at the digest the tag names now.
    assert_eq!(
        by_object["Deployment/api-pending"],
        format!("container \"app\" image \"{api}\" at {unsigned_api}: unsigned: no signature is stored for this digest (trust policy `shop-release`)")
    );
    // The JSON carries the digests and their Pods.
    let rollout = staged
        .iter()
        .find(|f| f["object"]["name"] == "web-rollout")
        .unwrap();
    let mut digests = [format!("{old_web}=2"), format!("{new_web}=1")];
    digests.sort();
    assert_eq!(
        rollout["properties"]["runningDigests"],
        json!(digests.join(","))
    );
    // The table names the workloads, never the folded Pods.
    let (code, table, err) = run(&[]);
    assert_eq!(code, 1, "{table}{err}");
    assert!(table.contains("Deployment shop/web-rollout"), "{table}");
    assert!(!table.contains("Pod shop/"), "{table}");
}
