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

use crate::review::FailurePolicy;
use palisade_core::trust::ImageTrust;
use palisade_core::{Object, PodTemplate, SpanIndex};
use palisade_registry::{Registry, Trust, Verifier};
use palisade_supply::signatures::SignatureEvidence;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// The image verification of the webhook.
pub struct ImageVerification {
    verifier: Arc<Verifier>,
    image_trust: ImageTrust,
    trusts: HashMap<String, Trust>,
    failure_policy: FailurePolicy,
    budget: Duration,
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
        }
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
    }
}
