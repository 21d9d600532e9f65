//! The install manifests pass Palisade's own restricted profile with zero findings.

use palisade_admission::install::{objects, render, InstallOptions};
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{Inventory, PssLevel};

/// A release pinned by digest, as production installs should be (the default image is a tag
/// only, which IMG002 reports like for any workload).
const PINNED: &str =
    "ghcr.io/palisade-dev/palisade:0.1.0@sha256:5b1f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

#[test]
fn install_manifests_pass_the_restricted_profile() {
    let ca = palisade_admission::certs::CertAuthority::generate("test-ca").expect("ca");
    for opts in [
        InstallOptions {
            image: PINNED.into(),
            ..InstallOptions::default()
        },
        InstallOptions {
            image: PINNED.into(),
            namespace: "security".into(),
            replicas: 3,
            failure_policy: "Ignore".into(),
            ca_pem: Some(ca.cert_pem()),
            ..InstallOptions::default()
        },
    ] {
        let text = render(&opts);
        let loaded = palisade_load::load_str("install.yaml", &text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let kinds: Vec<&str> = loaded.objects.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "Namespace",
                "ServiceAccount",
                "ConfigMap",
                "Deployment",
                "PodDisruptionBudget",
                "Service",
                "NetworkPolicy",
                "ValidatingWebhookConfiguration"
            ]
        );
        let inventory = Inventory::new(loaded.objects);
        let report = analyze(
            &inventory,
            InputSummary::default(),
            &Options {
                profile: Some(PssLevel::Restricted),
                ..Options::new("2026-11-23".parse().expect("date"))
            },
        );
        assert!(report.findings.is_empty(), "{:#?}", report.findings);
        assert!(report.suppressed.is_empty());
    }
    // The default image is a version tag: exactly the digest finding the README names, and
    // the tag is pulled each time.
    let text = render(&InstallOptions::default());
    let loaded = palisade_load::load_str("install.yaml", &text);
    let inventory = Inventory::new(loaded.objects);
    let report = analyze(
        &inventory,
        InputSummary::default(),
        &Options {
            profile: Some(PssLevel::Restricted),
            ..Options::new("2026-11-23".parse().expect("date"))
        },
    );
    let ids: Vec<&str> = report.findings.iter().map(|f| f.rule_id).collect();
    assert_eq!(ids, ["IMG002"], "{:#?}", report.findings);
    assert!(text.contains("imagePullPolicy: Always"));
}

#[test]
fn install_manifests_have_the_required_settings() {
    let ca = palisade_admission::certs::CertAuthority::generate("test-ca").expect("ca");
    let objs = objects(&InstallOptions {
        ca_pem: Some(ca.cert_pem()),
        replicas: 1,
        ..InstallOptions::default()
    });
    let deploy = &objs[3];
    assert_eq!(deploy["spec"]["replicas"], 2, "at least two replicas");
    let pod = &deploy["spec"]["template"]["spec"];
    assert!(pod["affinity"]["podAntiAffinity"].is_object());
    assert_eq!(pod["automountServiceAccountToken"], false);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    let wh = &objs[7]["webhooks"][0];
    assert_eq!(wh["sideEffects"], "None");
    assert_eq!(wh["matchPolicy"], "Equivalent");
    assert_eq!(wh["admissionReviewVersions"][0], "v1");
    assert_eq!(wh["failurePolicy"], "Fail");
    let excluded = &wh["namespaceSelector"]["matchExpressions"][0];
    assert_eq!(excluded["operator"], "NotIn");
    assert_eq!(
        excluded["values"],
        serde_json::json!(["kube-system", "palisade-system"])
    );
    let bundle = wh["clientConfig"]["caBundle"].as_str().expect("caBundle");
    assert!(
        bundle.starts_with("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"),
        "{bundle}"
    );
    let text = render(&InstallOptions::default());
    assert!(text.contains("caBundle is empty"));
}
