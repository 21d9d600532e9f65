use palisade_core::{Context, ImageRef, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers whose image is not pinned by digest and whose effective `imagePullPolicy`
    /// is not `Always`: `IfNotPresent` or `Never` set explicitly, or no policy with a
    /// version tag (Kubernetes then defaults to `IfNotPresent`). Without a policy, an image
    /// with no tag or `latest` defaults to `Always` and passes; a digest-pinned image passes
    /// whatever its policy, since its content cannot change.
    ///
    /// ## Why it matters
    /// With a mutable tag and `IfNotPresent`, each node runs whatever it cached when it first
    /// pulled the tag: replicas on different nodes run different code, a fixed image is not
    /// picked up, and a pod reuses an image cached by another tenant without the registry
    /// checking its pull credentials.
    ///
    /// ## How to fix
    /// Pin the image by digest (preferred), or set `imagePullPolicy: Always`.
    ///
    /// ## Example
    /// ```yaml
    /// image: registry.example.com/app:1.4
    /// imagePullPolicy: IfNotPresent
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: registry.example.com/app:1.4.2@sha256:6f1a...
    /// ```
    pub(crate) struct PullPolicyNotAlways;
    id: "IMG003",
    name: "pull-policy-not-always",
    severity: Low,
    summary: "Image with a mutable tag is not pulled with `imagePullPolicy: Always`",
    references: ["cis:1.2.11", "nsa:pod-security", "nist:4.1.5", "owasp:K02", "book:ops.trusted-registries"],
    tags: ["supply-chain"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for PullPolicyNotAlways {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for c in pod.containers() {
            let image = c.image().trim();
            let Ok(parsed) = ImageRef::parse(image) else {
                continue;
            };
            if parsed.is_pinned() {
                continue;
            }
            let (policy, path) = match c.get("imagePullPolicy").and_then(Value::as_str) {
                Some("Always") => continue,
                Some(p) => (p, c.pointer("/imagePullPolicy")),
                None if parsed.is_latest() => continue,
                None => (
                    "IfNotPresent (the default for a tagged image)",
                    c.pointer("/image"),
                ),
            };
            cx.report(
                path,
                format!(
                    "{} pulls the mutable image \"{image}\" with imagePullPolicy {policy}",
                    c.describe()
                ),
            )
            .fix("pin the image by digest, or set `imagePullPolicy: Always`")
            .property("container", c.name)
            .property("image", image);
        }
    }
}
