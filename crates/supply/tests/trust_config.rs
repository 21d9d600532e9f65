//! The `imageTrust` section of `palisade.yaml`: parsed into the trust policy, and every
//! mistake reported with its line.

use palisade_core::trust::{UnknownScope, Verification};
use palisade_core::{ImageRef, Policy, PolicyError};

fn parse(yaml: &str) -> Result<Policy, Vec<PolicyError>> {
    let docs = palisade_load::yaml::parse_documents(yaml, 1, true).unwrap();
    Policy::from_value(&docs[0].value, &docs[0].spans, "palisade.yaml", &[])
}

#[test]
fn policies_scopes_and_default() {
    let p = parse(
        r#"
imageTrust:
  policies:
    - name: shop-release
      scopes: ["contoso.azurecr.io/shop/*"]
      cosign:
        publicKeys: [keys/release.pub]
      notation:
        trustStore: [certs/contoso-root.pem]
        signers: ["CN=Contoso Release,O=Contoso,C=US"]
    - name: upstream
      scopes: ["registry.k8s.io/*"]
      verification: skip
  default: reject
"#,
    )
    .unwrap();
    let t = p.image_trust.unwrap();
    assert_eq!(t.default, UnknownScope::Reject);
    assert_eq!(t.policies.len(), 2);
    let shop = &t.policies[0];
    assert_eq!(shop.line, 4);
    assert_eq!(
        shop.cosign.as_ref().unwrap().public_keys,
        ["keys/release.pub"]
    );
    let n = shop.notation.as_ref().unwrap();
    assert_eq!(n.trust_store, ["certs/contoso-root.pem"]);
    assert_eq!(n.signers, ["CN=Contoso Release,O=Contoso,C=US"]);
    assert_eq!(t.policies[1].verification, Verification::Skip);
    let img = |s: &str| ImageRef::parse(s).unwrap();
    assert_eq!(
        t.policy_for(&img("contoso.azurecr.io/shop/api:2.3.1"))
            .map(|p| p.name.as_str()),
        Some("shop-release")
    );
    assert_eq!(
        t.policy_for(&img("registry.k8s.io/pause:3.9"))
            .map(|p| p.name.as_str()),
        Some("upstream")
    );
    assert!(t.policy_for(&img("nginx")).is_none());
}

#[test]
fn mistakes_name_their_line() {
    let errors = parse(
        r#"imageTrust:
  policies:
    - name: a
      scopes: ["x.io/*"]
    - name: a
      scopes: []
      cosign: { publicKeys: "k.pub", keyring: x }
    - scopes: ["y.io/*"]
      verification: maybe
      notation: { signers: ["CN=x"] }
  default: deny
  extra: 1
"#,
    )
    .unwrap_err();
    let got: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let want = [
        "palisade.yaml:3:7: imageTrust.policies[0] accepts no signature: add `cosign` (publicKeys) and/or `notation` (trustStore), or set `verification: skip`",
        "palisade.yaml:5:7: imageTrust.policies[1].name `a` is used by another policy",
        "palisade.yaml:6:7: imageTrust.policies[1].scopes must not be empty",
        "palisade.yaml:7:38: unknown key `keyring` in imageTrust.policies[1].cosign",
        "palisade.yaml:8:7: imageTrust.policies[2] needs a `name`",
        "palisade.yaml:9:7: imageTrust.policies[2].verification must be `enforce` or `skip`, found `maybe`",
        "palisade.yaml:10:7: imageTrust.policies[2].notation.trustStore is required",
        "palisade.yaml:11:3: imageTrust.default must be `skip` or `reject`, found `deny`",
        "palisade.yaml:12:3: unknown key `extra` in imageTrust",
    ];
    assert_eq!(got.len(), want.len(), "{}", got.join("\n"));
    for w in want {
        assert!(
            got.iter().any(|g| g.starts_with(w)),
            "missing {w:?} in:\n{}",
            got.join("\n")
        );
    }
}
