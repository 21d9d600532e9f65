//! `palisade scan --verify-images`: the images of the scanned workloads verified against the
//! configuration's `imageTrust` policy (cosign and Notation signatures at the registry,
//! through palisade-registry), handed to IMG007 through the inventory's derived-view cache.

use anyhow::Context as _;
use palisade_core::trust::{UnknownScope, Verification};
use palisade_core::{ImageRef, Inventory, PodTemplate, Policy};
use palisade_registry::Trust;
use palisade_supply::cosign::PublicKey;
use palisade_supply::notation::TrustStore;
use palisade_supply::signatures::{ImageVerification, SignatureEvidence, SignatureResult};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What the scan does with an image whose registry does not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailurePolicy {
    /// Report it (IMG007).
    Fail,
    /// Note it in the report and do not report it.
    Ignore,
}

fn resolve(config: Option<&str>, file: &str) -> PathBuf {
    let p = Path::new(file);
    match config.and_then(|c| Path::new(c).parent()) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_owned(),
    }
}

/// The keys and trust stores of each trust policy, read once, by policy name. Files are
/// resolved relative to the configuration file; an unreadable or malformed one is an error
/// naming the policy and the file.
pub(crate) fn trust_of(
    policy: &Policy,
    trust: &palisade_core::trust::ImageTrust,
) -> anyhow::Result<HashMap<String, Trust>> {
    let read = |p: &palisade_core::trust::TrustPolicy, f: &str| {
        let path = resolve(policy.file.as_deref(), f);
        std::fs::read_to_string(&path).with_context(|| {
            format!(
                "imageTrust policy `{}`: cannot read {}",
                p.name,
                path.display()
            )
        })
    };
    let mut out = HashMap::new();
    for p in &trust.policies {
        let mut t = Trust::default();
        if let Some(c) = &p.cosign {
            let mut list = Vec::new();
            for f in &c.public_keys {
                list.push(
                    PublicKey::from_pem(f, &read(p, f)?)
                        .with_context(|| format!("imageTrust policy `{}`", p.name))?,
                );
            }
            t.cosign = Some(list);
        }
        if let Some(n) = &p.notation {
            let mut store = TrustStore::new();
            for f in &n.trust_store {
                store
                    .add_pem(f, &read(p, f)?)
                    .with_context(|| format!("imageTrust policy `{}`", p.name))?;
            }
            let mut signers = Vec::new();
            for s in &n.signers {
                signers.push(
                    palisade_core::trust::parse_distinguished_name(s)
                        .map_err(anyhow::Error::msg)
                        .with_context(|| format!("imageTrust policy `{}`", p.name))?,
                );
            }
            store.set_signers(signers);
            t.notation = Some(store);
        }
        out.insert(p.name.clone(), t);
    }
    Ok(out)
}

/// Verifies every image of the inventory's workloads; the evidence and the report notes.
pub(crate) fn verify(
    inventory: &Inventory,
    policy: &Policy,
    failure: FailurePolicy,
    timeout: Duration,
) -> anyhow::Result<(SignatureEvidence, Vec<String>)> {
    let Some(trust) = &policy.image_trust else {
        anyhow::bail!(
            "--verify-images needs an `imageTrust` section in the configuration (see README: Policy configuration)"
        );
    };
    let keys = trust_of(policy, trust)?;
    let images: BTreeSet<String> = inventory
        .objects()
        .iter()
        .filter_map(PodTemplate::of)
        .flat_map(|pod| {
            pod.containers()
                .map(|c| c.image().trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|i| !i.is_empty())
        .collect();
    let mut evidence = SignatureEvidence::default();
    let mut notes = Vec::new();
    let mut jobs = Vec::new();
    for image in images {
        let Ok(parsed) = ImageRef::parse(&image) else {
            continue;
        };
        match trust.policy_for(&parsed) {
            None if trust.default == UnknownScope::Reject => {
                evidence.images.insert(
                    image,
                    ImageVerification {
                        policy: String::new(),
                        digest: None,
                        result: SignatureResult::OutsideTrustPolicies,
                    },
                );
            }
            None => {}
            Some(p) if p.verification == Verification::Skip => {}
            Some(p) => jobs.push((image, parsed, p.name.clone())),
        }
    }
    if jobs.is_empty() {
        return Ok((evidence, notes));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the registry client's runtime")?;
    let registry = palisade_registry::Registry::new(timeout)?;
    let verifier = std::sync::Arc::new(palisade_registry::Verifier::new(
        registry,
        Duration::from_secs(300),
    ));
    let results = rt.block_on(async {
        let mut set = tokio::task::JoinSet::new();
        for (image, parsed, name) in jobs {
            let v = verifier.clone();
            let k = keys.get(&name).cloned().unwrap_or_default();
            set.spawn(async move {
                let o = v.verify(&parsed, &k).await;
                (image, name, o)
            });
        }
        let mut out = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(r) = r {
                out.push(r);
            }
        }
        out
    });
    for (image, name, o) in results {
        let result = match o.verdict {
            Ok(v) => SignatureResult::Judged(v),
            Err(e) => {
                if failure == FailurePolicy::Ignore {
                    notes.push(format!(
                        "{image}: not verified, the registry did not answer ({e}); --verify-failure-policy ignore"
                    ));
                }
                SignatureResult::RegistryError {
                    reason: e.to_string(),
                    fail_closed: failure == FailurePolicy::Fail,
                }
            }
        };
        evidence.images.insert(
            image,
            ImageVerification {
                policy: name,
                digest: o.digest,
                result,
            },
        );
    }
    notes.sort();
    Ok((evidence, notes))
}
