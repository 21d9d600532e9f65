//! The `imageTrust` policy put to work, shared by `palisade scan --verify-images` and the
//! admission webhook: each policy's keys and trust store read from their files, and a set of
//! image references verified into the evidence IMG007 reads.

use crate::{Context, PullSecretLogins, Trust, Verifier};
use palisade_core::trust::{ImageTrust, UnknownScope, Verification};
use palisade_core::ImageRef;
use palisade_supply::cosign::PublicKey;
use palisade_supply::notation::TrustStore;
use palisade_supply::signatures::{
    ImageKey, ImageVerification, SignatureEvidence, SignatureResult,
};
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

/// One image to verify: its evidence key (the reference as written, the digest running when
/// known, the image pull Secrets named by `key.logins`) and those Secrets' logins.
#[derive(Clone, Debug)]
pub struct Job {
    /// The evidence key.
    pub key: ImageKey,
    /// The workload's image pull Secrets' logins (dropped once verified).
    pub logins: Option<Arc<PullSecretLogins>>,
}

impl Job {
    /// An image reference alone.
    pub fn image(image: impl Into<String>) -> Job {
        Job {
            key: ImageKey::image(image),
            logins: None,
        }
    }
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
    verify_jobs(
        verifier,
        image_trust,
        trusts,
        images.into_iter().map(Job::image),
        fail_closed,
        deadline,
    )
    .await
}

/// [`verify_images`] for images with their running digests and image pull Secrets: each
/// distinct key is verified once.
pub async fn verify_jobs(
    verifier: &Arc<Verifier>,
    image_trust: &ImageTrust,
    trusts: &HashMap<String, Trust>,
    jobs_in: impl IntoIterator<Item = Job>,
    fail_closed: bool,
    deadline: Option<Duration>,
) -> (SignatureEvidence, Vec<String>) {
    let mut evidence = SignatureEvidence::default();
    let mut notes = Vec::new();
    let mut jobs = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for job in jobs_in {
        if !seen.insert(job.key.clone()) {
            continue;
        }
        let Ok(parsed) = ImageRef::parse(&job.key.image) else {
            continue;
        };
        match image_trust.policy_for(&parsed) {
            None if image_trust.default == UnknownScope::Reject => {
                evidence.images.insert(
                    job.key,
                    ImageVerification {
                        policy: String::new(),
                        digest: None,
                        result: SignatureResult::OutsideTrustPolicies,
                    },
                );
            }
            None => {}
            Some(p) if p.verification == Verification::Skip => {}
            Some(p) => jobs.push((job, parsed, p.name.clone())),
        }
    }
    let mut set = tokio::task::JoinSet::new();
    let mut pending: HashMap<ImageKey, String> = HashMap::new();
    for (job, parsed, name) in jobs {
        let v = verifier.clone();
        let t = trusts.get(&name).cloned().unwrap_or_default();
        pending.insert(job.key.clone(), name.clone());
        set.spawn(async move {
            let cx = Context {
                running: job.key.running.as_deref(),
                logins: job.logins.as_deref(),
            };
            let o = v.verify_in(&parsed, &t, cx).await;
            (job.key, name, o)
        });
    }
    let failed = |evidence: &mut SignatureEvidence,
                  notes: &mut Vec<String>,
                  key: ImageKey,
                  name: String,
                  digest: Option<String>,
                  reason: String| {
        if !fail_closed {
            notes.push(format!(
                "{key}: not verified, the registry did not answer ({reason}); failure policy ignore"
            ));
        }
        evidence.images.insert(
            key,
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
    for (key, name, o) in done {
        pending.remove(&key);
        match o.verdict {
            Ok(v) => {
                evidence.images.insert(
                    key,
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
                key,
                name,
                o.digest,
                e.to_string(),
            ),
        }
    }
    let mut late: Vec<(ImageKey, String)> = pending.into_iter().collect();
    late.sort();
    for (key, name) in late {
        let secs = deadline.map_or(0.0, |d| d.as_secs_f64());
        failed(
            &mut evidence,
            &mut notes,
            key,
            name,
            None,
            format!("the registry did not answer within the {secs:.1}s verification budget"),
        );
    }
    notes.sort();
    (evidence, notes)
}
