//! `palisade scan --verify-images`: the images of the scanned workloads verified against the
//! configuration's `imageTrust` policy (cosign and Notation signatures at the registry,
//! through palisade-registry), handed to IMG007 through the inventory's derived-view cache.
//! In a cluster scan, each workload's image pull Secrets are read for its registry logins
//! (`palisade_cluster::pull_secrets`), used for its images only, and dropped.

use anyhow::Context as _;
use palisade_cluster::pull_secrets::{self, PullSecretReader};
use palisade_core::{Inventory, PodTemplate, Policy};
use palisade_registry::{PullSecretKind, PullSecretLogins};
use palisade_supply::signatures::{
    object_key, running_digest, ImageKey, RunningDigests, SignatureEvidence,
};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
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
/// `cluster` is the cluster the inventory was read from: the workloads' image pull Secrets
/// are then read from it for their registry logins. `folded`: the digests the Pods folded
/// into the workloads run, each verified as a Pod's running digest is (a container none of
/// whose Pods said is verified at the digest its tag names now).
pub(crate) fn verify(
    inventory: &Inventory,
    policy: &Policy,
    failure: FailurePolicy,
    timeout: Duration,
    cluster: Option<&palisade_cluster::ReadOptions>,
    folded: RunningDigests,
) -> anyhow::Result<(SignatureEvidence, Vec<String>)> {
    let Some(trust) = &policy.image_trust else {
        anyhow::bail!(
            "--verify-images needs an `imageTrust` section in the configuration (see README: Policy configuration)"
        );
    };
    let trusts =
        palisade_registry::policy::load_trust(trust, policy.file.as_deref().map(Path::new))?;
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
    rt.block_on(async {
        let (logins, mut notes) = match cluster {
            Some(opts) => {
                // Only the workloads with an image a trust policy verifies need logins.
                let verified = |image: &str| {
                    palisade_core::ImageRef::parse(image).is_ok_and(|i| {
                        trust.policy_for(&i).is_some_and(|p| {
                            p.verification != palisade_core::trust::Verification::Skip
                        })
                    })
                };
                pull_secret_logins(inventory, opts, &verified).await
            }
            None => (HashMap::new(), Vec::new()),
        };
        let mut jobs = Vec::new();
        let mut scoped = HashMap::new();
        for o in inventory.objects() {
            let Some(pod) = PodTemplate::of(o) else {
                continue;
            };
            let key = object_key(&o.kind, o.namespace.as_deref(), &o.name);
            let l = logins.get(&key).cloned();
            if let Some(l) = &l {
                scoped.insert(key.clone(), l.describe());
            }
            for c in pod.containers() {
                let image = c.image().trim();
                if image.is_empty() {
                    continue;
                }
                let running: Vec<Option<String>> = match folded.get(&key, c.name, image) {
                    Some(digests) => digests.keys().cloned().map(Some).collect(),
                    None => vec![running_digest(o.value(), c.name)],
                };
                for running in running {
                    jobs.push(palisade_registry::policy::Job {
                        key: ImageKey {
                            image: image.to_owned(),
                            running,
                            logins: l.as_ref().map(|l| l.describe()),
                        },
                        logins: l.clone(),
                    });
                }
            }
        }
        let (mut evidence, n) = palisade_registry::policy::verify_jobs(
            &verifier,
            trust,
            &trusts,
            jobs,
            failure == FailurePolicy::Fail,
            None,
        )
        .await;
        // The logins are dropped here; the evidence keeps the Secrets' names only.
        drop(logins);
        evidence.logins = scoped;
        evidence.folded = folded;
        notes.extend(n);
        Ok((evidence, notes))
    })
}

/// The image pull Secrets' logins of each workload of a cluster, by evidence object key:
/// its own `imagePullSecrets`, else its ServiceAccount's (from the inventory, else read),
/// each Secret read once from the workload's namespace. A Secret that cannot be read or
/// used is a note, and the workload's images are verified with the Docker config file's
/// logins, or anonymously.
async fn pull_secret_logins(
    inventory: &Inventory,
    opts: &palisade_cluster::ReadOptions,
    verified: &dyn Fn(&str) -> bool,
) -> (HashMap<String, Arc<PullSecretLogins>>, Vec<String>) {
    let mut notes = Vec::new();
    // Which Secrets each namespaced workload names.
    let mut named: Vec<(String, String, Vec<String>)> = Vec::new();
    let mut accounts: BTreeMap<(String, String), Option<Vec<String>>> = BTreeMap::new();
    let mut wanted: Vec<(String, String, String)> = Vec::new();
    for o in inventory.objects() {
        let (Some(pod), Some(ns)) = (PodTemplate::of(o), o.namespace.as_deref()) else {
            continue;
        };
        if !pod.containers().any(|c| verified(c.image().trim())) {
            continue;
        }
        let key = object_key(&o.kind, Some(ns), &o.name);
        let own = pull_secrets::names(pod.get("imagePullSecrets"));
        if !own.is_empty() {
            named.push((key, ns.to_owned(), own));
            continue;
        }
        let sa = pod
            .get("serviceAccountName")
            .or_else(|| pod.get("serviceAccount"))
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default");
        let from_inventory = inventory
            .find("ServiceAccount", Some(ns), sa)
            .map(|a| pull_secrets::names(a.value().get("imagePullSecrets")));
        accounts
            .entry((ns.to_owned(), sa.to_owned()))
            .or_insert(from_inventory);
        wanted.push((key, ns.to_owned(), sa.to_owned()));
    }
    if named.is_empty() && accounts.is_empty() {
        return (HashMap::new(), notes);
    }
    let reader = match PullSecretReader::connect(opts).await {
        Ok(r) => r,
        Err(e) => {
            notes.push(format!(
                "image pull Secrets not read ({:#}): images verified with the Docker config file's logins, or anonymously",
                anyhow::Error::new(e)
            ));
            return (HashMap::new(), notes);
        }
    };
    for ((ns, sa), names) in accounts.iter_mut() {
        if names.is_none() {
            *names = Some(match reader.service_account_pull_secrets(ns, sa).await {
                Ok(n) => n,
                Err(e) if e.starts_with("404") => Vec::new(),
                Err(e) => {
                    notes.push(format!(
                        "ServiceAccount {ns}/{sa}: its image pull Secrets not read ({e}): its workloads' images verified with the Docker config file's logins, or anonymously"
                    ));
                    Vec::new()
                }
            });
        }
    }
    for (key, ns, sa) in wanted {
        let names = accounts
            .get(&(ns.clone(), sa))
            .cloned()
            .flatten()
            .unwrap_or_default();
        if !names.is_empty() {
            named.push((key, ns, names));
        }
    }
    // Each Secret read once, kept only until the logins are built.
    let mut secrets: BTreeMap<(String, String), Result<pull_secrets::PullSecret, String>> =
        BTreeMap::new();
    for (_, ns, names) in &named {
        for n in names {
            if let std::collections::btree_map::Entry::Vacant(e) =
                secrets.entry((ns.clone(), n.clone()))
            {
                e.insert(reader.pull_secret(ns, n).await);
            }
        }
    }
    let mut unusable: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut built: HashMap<(String, Vec<String>), Option<Arc<PullSecretLogins>>> = HashMap::new();
    let mut out = HashMap::new();
    for (key, ns, names) in named {
        let logins = built
            .entry((ns.clone(), names.clone()))
            .or_insert_with(|| {
                let mut l = PullSecretLogins::new(&ns);
                for n in &names {
                    match secrets.get(&(ns.clone(), n.clone())) {
                        Some(Ok(s)) => {
                            if let Err(e) = add_secret(&mut l, s) {
                                unusable.insert((ns.clone(), n.clone()), e);
                            }
                        }
                        Some(Err(e)) => {
                            unusable.insert((ns.clone(), n.clone()), e.clone());
                        }
                        None => {}
                    }
                }
                (!l.is_empty()).then(|| Arc::new(l))
            })
            .clone();
        if let Some(l) = logins {
            out.insert(key, l);
        }
    }
    drop(secrets);
    for ((ns, name), reason) in unusable {
        notes.push(format!(
            "image pull Secret {ns}/{name} not used ({reason}): the images of the workloads that name it verified with their other pull Secrets, the Docker config file's logins, or anonymously"
        ));
    }
    (out, notes)
}

/// Adds a pull Secret's logins; why they cannot be used otherwise.
fn add_secret(l: &mut PullSecretLogins, s: &pull_secrets::PullSecret) -> Result<(), String> {
    let kind = match s.secret_type {
        pull_secrets::PullSecretType::DockerConfigJson => PullSecretKind::DockerConfigJson,
        pull_secrets::PullSecretType::DockerCfg => PullSecretKind::DockerCfg,
    };
    l.add(&s.namespace, &s.name, kind, s.encoded())
        .map_err(|e| e.reason)
}

/// The webhook's image pull Secrets (`admission serve --image-pull-secrets`): each review
/// reads the Secrets its workload names, one `GET` each, and drops them once its images are
/// verified.
pub(crate) struct ClusterPullSecrets(pub(crate) PullSecretReader);

impl palisade_admission::PullSecretSource for ClusterPullSecrets {
    fn logins<'a>(
        &'a self,
        namespace: &'a str,
        names: &'a [String],
    ) -> palisade_admission::background::BoxFuture<'a, (PullSecretLogins, Vec<String>)> {
        Box::pin(async move {
            let mut l = PullSecretLogins::new(namespace);
            let mut notes = Vec::new();
            for n in names {
                let r = match self.0.pull_secret(namespace, n).await {
                    Ok(s) => add_secret(&mut l, &s),
                    Err(e) => Err(e),
                };
                if let Err(e) = r {
                    notes.push(format!(
                        "image pull Secret {namespace}/{n} not used ({e}); images verified without it"
                    ));
                }
            }
            (l, notes)
        })
    }

    fn service_account<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> palisade_admission::background::BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(async move {
            match self.0.service_account_pull_secrets(namespace, name).await {
                // Not created yet: no pull Secrets of its own.
                Err(e) if e.starts_with("404") => Ok(Vec::new()),
                r => r,
            }
        })
    }
}
