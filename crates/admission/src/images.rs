//! Image signature verification at admission (IMG007): when the policy has an `imageTrust`
//! section, the images of a reviewed workload are verified at their registries before the
//! rules run, within a time budget inside the webhook's own timeout, and the verdicts are
//! handed to the rules as `palisade scan --verify-images` hands them.
//!
//! Verdicts are cached per digest (and tags' digests) for a time to live, so a rollout that
//! creates a Deployment, its ReplicaSet and its Pods asks the registry once. A registry that
//! does not answer within the budget follows the failure policy: `Fail` reports the image
//! (IMG007 then denies in deny mode, saying the registry did not answer), `Ignore` admits and
//! says so in a warning.

use crate::background::BoxFuture;
use crate::review::FailurePolicy;
use palisade_core::trust::ImageTrust;
use palisade_core::{Object, PodTemplate, SpanIndex};
use palisade_registry::policy::Job;
use palisade_registry::{PullSecretLogins, Registry, Trust, Verifier};
use palisade_supply::signatures::{object_key, running_digest, ImageKey, SignatureEvidence};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// Where the webhook reads image pull Secrets (the cluster's API, through the front-end's
/// client): only when `admission serve --image-pull-secrets` asks, since reading Secrets is
/// a privilege the installation must grant.
pub trait PullSecretSource: Send + Sync {
    /// The logins of the image pull Secrets `names` of `namespace` (read from that
    /// namespace only), and, for each that cannot be read or used, why (never a value).
    fn logins<'a>(
        &'a self,
        namespace: &'a str,
        names: &'a [String],
    ) -> BoxFuture<'a, (PullSecretLogins, Vec<String>)>;

    /// The `imagePullSecrets` of the ServiceAccount `namespace/name`.
    fn service_account<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> BoxFuture<'a, Result<Vec<String>, String>>;
}

/// The image verification of the webhook.
pub struct ImageVerification {
    verifier: Arc<Verifier>,
    image_trust: ImageTrust,
    trusts: HashMap<String, Trust>,
    failure_policy: FailurePolicy,
    budget: Duration,
    pull_secrets: Option<Arc<dyn PullSecretSource>>,
}

/// The workload an AdmissionReview carries, as image verification sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// Its evidence key (`Kind/namespace/name`, as the rules name it).
    pub key: String,
    /// Its namespace (the request's when the object has none).
    pub namespace: Option<String>,
    /// Each container's image and the digest it runs at (a Pod's status).
    pub images: Vec<(String, Option<String>)>,
    /// Its own `imagePullSecrets`.
    pub pull_secrets: Vec<String>,
    /// Its ServiceAccount (`default` when unset).
    pub service_account: String,
}

impl std::fmt::Debug for ImageVerification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageVerification")
            .field("policies", &self.trusts.len())
            .field("failure_policy", &self.failure_policy)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl ImageVerification {
    /// Verification of the images `image_trust` covers, with each policy's keys and trust
    /// store (`palisade_registry::policy::load_trust`), through `registry`, verdicts cached
    /// for `ttl`; at most `budget` per review.
    pub fn new(
        image_trust: ImageTrust,
        trusts: HashMap<String, Trust>,
        registry: Registry,
        failure_policy: FailurePolicy,
        budget: Duration,
        ttl: Duration,
    ) -> ImageVerification {
        ImageVerification {
            verifier: Arc::new(Verifier::new(registry, ttl)),
            image_trust,
            trusts,
            failure_policy,
            budget,
            pull_secrets: None,
        }
    }

    /// Also use the workload's image pull Secrets (its own, else its ServiceAccount's), read
    /// from its namespace through `source`, for the registry logins of its images.
    pub fn with_pull_secrets(mut self, source: Arc<dyn PullSecretSource>) -> ImageVerification {
        self.pull_secrets = Some(source);
        self
    }

    /// The time allowed to verify the images of one review.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// The container images of the object an AdmissionReview body carries (`request.object`),
    /// for the workload kinds; empty for anything else.
    pub fn images_of(body: &[u8]) -> Vec<String> {
        let Ok(mut v) = serde_json::from_slice::<Value>(body) else {
            return Vec::new();
        };
        let Some(object) = v.pointer_mut("/request/object").map(Value::take) else {
            return Vec::new();
        };
        if !object.is_object() {
            return Vec::new();
        }
        let Ok(object) = Object::from_value(object, None, SpanIndex::default()) else {
            return Vec::new();
        };
        let Some(pod) = PodTemplate::of(&object) else {
            return Vec::new();
        };
        let images: BTreeSet<String> = pod
            .containers()
            .map(|c| c.image().trim().to_owned())
            .filter(|i| !i.is_empty())
            .collect();
        images.into_iter().collect()
    }

    /// The workload an AdmissionReview body carries (`request.object`), for the workload
    /// kinds with at least one image.
    pub fn workload_of(body: &[u8]) -> Option<Workload> {
        let mut v = serde_json::from_slice::<Value>(body).ok()?;
        let request_ns = v
            .pointer("/request/namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let request_kind = v
            .pointer("/request/kind/kind")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut object = v.pointer_mut("/request/object").map(Value::take)?;
        let map = object.as_object_mut()?;
        // As the review fills them in (see `review::fill_identity`).
        if !map.get("kind").is_some_and(Value::is_string) {
            map.insert("kind".into(), Value::String(request_kind?));
        }
        if let Some(ns) = &request_ns {
            let meta = map
                .entry("metadata")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(meta) = meta.as_object_mut() {
                if meta
                    .get("namespace")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    meta.insert("namespace".into(), Value::String(ns.clone()));
                }
            }
        }
        let object = Object::from_value(object, None, SpanIndex::default()).ok()?;
        let pod = PodTemplate::of(&object)?;
        let mut images: Vec<(String, Option<String>)> = pod
            .containers()
            .map(|c| {
                (
                    c.image().trim().to_owned(),
                    running_digest(object.value(), c.name),
                )
            })
            .filter(|(i, _)| !i.is_empty())
            .collect();
        images.sort();
        images.dedup();
        if images.is_empty() {
            return None;
        }
        let pull_secrets = palisade_core::podspec::pull_secret_names(pod.get("imagePullSecrets"));
        let service_account = pod
            .get("serviceAccountName")
            .or_else(|| pod.get("serviceAccount"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
            .to_owned();
        Some(Workload {
            key: object_key(&object.kind, object.namespace.as_deref(), &object.name),
            namespace: object.namespace.clone(),
            images,
            pull_secrets,
            service_account,
        })
    }

    /// Verifies a workload's images, with its image pull Secrets' logins when the webhook
    /// reads them; the evidence for the rules and the warnings to return (images not
    /// verified under failure policy `Ignore`, pull Secrets that could not be used). The
    /// Secrets are read within the verification budget and dropped before this returns.
    pub async fn verify_workload(&self, w: &Workload) -> (SignatureEvidence, Vec<String>) {
        let started = tokio::time::Instant::now();
        let mut warnings = Vec::new();
        let mut logins = None;
        if let (Some(source), Some(ns)) = (&self.pull_secrets, &w.namespace) {
            let read = async {
                let names = if w.pull_secrets.is_empty() {
                    match source.service_account(ns, &w.service_account).await {
                        Ok(n) => n,
                        Err(e) => {
                            warnings.push(format!(
                                "ServiceAccount {ns}/{}: its image pull Secrets not read ({e}); images verified without them",
                                w.service_account
                            ));
                            Vec::new()
                        }
                    }
                } else {
                    w.pull_secrets.clone()
                };
                if names.is_empty() {
                    return None;
                }
                let (l, notes) = source.logins(ns, &names).await;
                warnings.extend(notes);
                (!l.is_empty()).then(|| Arc::new(l))
            };
            match tokio::time::timeout(self.budget, read).await {
                Ok(l) => logins = l,
                Err(_) => warnings.push(format!(
                    "image pull Secrets of {ns} not read within the {:.1}s verification budget; images verified without them",
                    self.budget.as_secs_f64()
                )),
            }
        }
        let scope = logins.as_ref().map(|l| l.describe());
        let jobs: Vec<Job> = w
            .images
            .iter()
            .map(|(image, running)| Job {
                key: ImageKey {
                    image: image.clone(),
                    running: running.clone(),
                    logins: scope.clone(),
                },
                logins: logins.clone(),
            })
            .collect();
        let left = self.budget.saturating_sub(started.elapsed());
        let (mut evidence, notes) = palisade_registry::policy::verify_jobs(
            &self.verifier,
            &self.image_trust,
            &self.trusts,
            jobs,
            self.failure_policy == FailurePolicy::Fail,
            Some(left),
        )
        .await;
        drop(logins);
        if let Some(scope) = scope {
            evidence.logins.insert(w.key.clone(), scope);
        }
        warnings.extend(notes);
        (evidence, warnings)
    }

    /// Verifies the images; the evidence for the rules and the warnings to return (images
    /// not verified under failure policy `Ignore`).
    pub async fn verify(&self, images: Vec<String>) -> (SignatureEvidence, Vec<String>) {
        palisade_registry::policy::verify_images(
            &self.verifier,
            &self.image_trust,
            &self.trusts,
            images,
            self.failure_policy == FailurePolicy::Fail,
            Some(self.budget),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_of_a_review() {
        let body = serde_json::json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "1", "object": {
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "api", "namespace": "shop"},
                "spec": {"template": {"spec": {
                    "initContainers": [{"name": "init", "image": "r.io/init:1"}],
                    "containers": [{"name": "api", "image": "r.io/api:2"}, {"name": "side", "image": "r.io/api:2"}]
                }}}
            }}
        });
        assert_eq!(
            ImageVerification::images_of(body.to_string().as_bytes()),
            ["r.io/api:2", "r.io/init:1"]
        );
        let cm = serde_json::json!({"request": {"object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}}});
        assert!(ImageVerification::images_of(cm.to_string().as_bytes()).is_empty());
        assert!(ImageVerification::images_of(b"not json").is_empty());
        let delete = serde_json::json!({"request": {"object": null}});
        assert!(ImageVerification::images_of(delete.to_string().as_bytes()).is_empty());
        assert!(ImageVerification::workload_of(delete.to_string().as_bytes()).is_none());
    }

    #[test]
    fn workload_of_a_review() {
        let d = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let body = serde_json::json!({
            "request": {"uid": "1", "namespace": "shop", "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "object": {"apiVersion": "v1", "metadata": {"generateName": "api-"},
                    "spec": {"imagePullSecrets": [{"name": "regcred"}, {"name": "regcred"}],
                        "serviceAccountName": "api",
                        "containers": [{"name": "api", "image": "r.io/api:2"}]},
                    "status": {"containerStatuses": [{"name": "api", "imageID": format!("r.io/api@{d}")}]}}}
        });
        let w = ImageVerification::workload_of(body.to_string().as_bytes()).unwrap();
        // The name the rules see for a generated name.
        assert_eq!(w.key, "Pod/shop/api-*");
        assert_eq!(w.namespace.as_deref(), Some("shop"));
        assert_eq!(w.images, [("r.io/api:2".to_owned(), Some(d.to_owned()))]);
        assert_eq!(w.pull_secrets, ["regcred"]);
        assert_eq!(w.service_account, "api");
    }
}
