//! The `imageTrust` policy put to work, shared by `palisade scan --verify-images` and the
//! admission webhook: each policy's keys and trust store read from their files, and a set of
//! image references verified into the evidence IMG007 reads.

use crate::{Trust, Verifier};
use palisade_core::trust::{ImageTrust, UnknownScope, Verification};
use palisade_core::ImageRef;
use palisade_supply::cosign::PublicKey;
use palisade_supply::notation::TrustStore;
use palisade_supply::signatures::{ImageVerification, SignatureEvidence, SignatureResult};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Why a trust policy's files could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("imageTrust policy `{policy}`: {reason}")]
pub struct TrustFileError {
    /// The policy.
    pub policy: String,
    /// The file and what is wrong with it.
    pub reason: String,
}

fn resolve(config: Option<&Path>, file: &str) -> PathBuf {
    let p = Path::new(file);
    match config.and_then(Path::parent) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_owned(),
    }
}

/// The keys and trust stores of each trust policy, by policy name. Files are resolved
/// relative to the configuration file `config`.
pub fn load_trust(
    trust: &ImageTrust,
    config: Option<&Path>,
) -> Result<HashMap<String, Trust>, TrustFileError> {
    let mut out = HashMap::new();
    for p in &trust.policies {
        let err = |reason: String| TrustFileError {
            policy: p.name.clone(),
            reason,
        };
        let read = |f: &str| {
            let path = resolve(config, f);
            std::fs::read_to_string(&path)
                .map_err(|e| err(format!("cannot read {}: {e}", path.display())))
        };
        let mut t = Trust::default();
        if let Some(c) = &p.cosign {
            let mut list = Vec::new();
            for f in &c.public_keys {
                list.push(PublicKey::from_pem(f, &read(f)?).map_err(|e| err(e.to_string()))?);
            }
            t.cosign = Some(list);
        }
        if let Some(n) = &p.notation {
            let mut store = TrustStore::new();
            for f in &n.trust_store {
                store
                    .add_pem(f, &read(f)?)
                    .map_err(|e| err(e.to_string()))?;
            }
            let mut signers = Vec::new();
            for s in &n.signers {
                signers.push(
                    palisade_core::trust::parse_distinguished_name(s)
                        .map_err(|e| err(format!("notation.signers: {e}")))?,
                );
            }
            store.set_signers(signers);
            t.notation = Some(store);
        }
        out.insert(p.name.clone(), t);
    }
    Ok(out)
}

/// The evidence for a set of image references (as the workloads write them) and the notes
/// for the report: images no policy covers are left out (or reported as outside every
/// policy with `default: reject`), skipped scopes are left out, the others are verified
/// concurrently. A registry that fails is `RegistryError` with `fail_closed`; with
/// `fail_closed` false a note says the image was not verified. When `deadline` is given,
/// images not verified by then are registry errors too (the webhook's time budget).
pub async fn verify_images(
    verifier: &Arc<Verifier>,
    image_trust: &ImageTrust,
    trusts: &HashMap<String, Trust>,
    images: impl IntoIterator<Item = String>,
    fail_closed: bool,
    deadline: Option<Duration>,
) -> (SignatureEvidence, Vec<String>) {
    let mut evidence = SignatureEvidence::default();
    let mut notes = Vec::new();
    let mut jobs = Vec::new();
    for image in images {
        let Ok(parsed) = ImageRef::parse(&image) else {
            continue;
        };
        match image_trust.policy_for(&parsed) {
            None if image_trust.default == UnknownScope::Reject => {
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
    let mut set = tokio::task::JoinSet::new();
    let mut pending: HashMap<String, String> = HashMap::new();
    for (image, parsed, name) in jobs {
        let v = verifier.clone();
        let t = trusts.get(&name).cloned().unwrap_or_default();
        pending.insert(image.clone(), name.clone());
        set.spawn(async move {
            let o = v.verify(&parsed, &t).await;
            (image, name, o)
        });
    }
    let failed = |evidence: &mut SignatureEvidence,
                  notes: &mut Vec<String>,
                  image: String,
                  name: String,
                  digest: Option<String>,
                  reason: String| {
        if !fail_closed {
            notes.push(format!(
                "{image}: not verified, the registry did not answer ({reason}); failure policy ignore"
            ));
        }
        evidence.images.insert(
            image,
            ImageVerification {
                policy: name,
                digest,
                result: SignatureResult::RegistryError {
                    reason,
                    fail_closed,
                },
            },
        );
    };
    let mut done = Vec::new();
    // Without a deadline, the per-request timeouts of the registry client bound the wait.
    let sleep = tokio::time::sleep(deadline.unwrap_or(Duration::from_secs(u64::from(u32::MAX))));
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            r = set.join_next() => match r {
                Some(Ok(r)) => done.push(r),
                Some(Err(_)) => {}
                None => break,
            },
            () = &mut sleep => {
                set.abort_all();
                break;
            }
        }
    }
    for (image, name, o) in done {
        pending.remove(&image);
        match o.verdict {
            Ok(v) => {
                evidence.images.insert(
                    image,
                    ImageVerification {
                        policy: name,
                        digest: o.digest,
                        result: SignatureResult::Judged(v),
                    },
                );
            }
            Err(e) => failed(
                &mut evidence,
                &mut notes,
                image,
                name,
                o.digest,
                e.to_string(),
            ),
        }
    }
    let mut late: Vec<(String, String)> = pending.into_iter().collect();
    late.sort();
    for (image, name) in late {
        let secs = deadline.map_or(0.0, |d| d.as_secs_f64());
        failed(
            &mut evidence,
            &mut notes,
            image,
            name,
            None,
            format!("the registry did not answer within the {secs:.1}s verification budget"),
        );
    }
    notes.sort();
    (evidence, notes)
}
