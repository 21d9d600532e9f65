//! `palisade scan --verify-images`: the images of the scanned workloads verified against the
//! configuration's `imageTrust` policy (cosign and Notation signatures at the registry,
//! through palisade-registry), handed to IMG007 through the inventory's derived-view cache.

use anyhow::Context as _;
use palisade_core::{Inventory, PodTemplate, Policy};
use palisade_supply::signatures::SignatureEvidence;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// What the scan does with an image whose registry does not answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FailurePolicy {
    /// Report it (IMG007).
    Fail,
    /// Note it in the report and do not report it.
    Ignore,
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
    let trusts =
        palisade_registry::policy::load_trust(trust, policy.file.as_deref().map(Path::new))?;
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the registry client's runtime")?;
    // Registry logins: the Docker config file Docker reads (`$DOCKER_CONFIG/config.json`,
    // else `~/.docker/config.json`), used only when a registry asks for authentication.
    let keychain = match palisade_registry::Keychain::default_docker_config_path() {
        Some(path) => palisade_registry::Keychain::from_docker_config_file(&path)
            .context("registry credentials")?,
        None => palisade_registry::Keychain::new(),
    };
    let registry = palisade_registry::Registry::new(timeout)?.with_keychain(keychain);
    let verifier = std::sync::Arc::new(palisade_registry::Verifier::new(
        registry,
        Duration::from_secs(300),
    ));
    Ok(rt.block_on(palisade_registry::policy::verify_images(
        &verifier,
        trust,
        &trusts,
        images,
        failure == FailurePolicy::Fail,
        None,
    )))
}
