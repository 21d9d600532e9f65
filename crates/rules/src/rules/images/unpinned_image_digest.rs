use palisade_core::{Context, ImageRef, Object, PodTemplate, Rule};

declare_rule! {
    /// ## What it checks
    /// Container images referenced by a version tag but not pinned by digest
    /// (`@sha256:...`). Images without a tag or tagged `latest` are reported by IMG001
    /// instead, so each image gets one finding. References that are not image references
    /// (unrendered templating such as `{{ .Values.image }}`) are skipped.
    ///
    /// ## Why it matters
    /// A tag is a mutable pointer: whoever can push to the repository (a compromised CI
    /// token, a hijacked upstream account) can move `1.4.2` to other code, and the next pod
    /// start runs it without any change to the manifest. A digest names the content itself.
    ///
    /// ## How to fix
    /// Pin the digest your pipeline built and scanned, keeping the tag for readability
    /// (`app:1.4.2@sha256:...`); let a bot (Renovate, Dependabot) update both.
    ///
    /// ## Example
    /// ```yaml
    /// image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: registry.example.com/app:1.4.2@sha256:6f1a...
    /// ```
    pub(crate) struct UnpinnedImageDigest;
    id: "IMG002",
    name: "unpinned-image-digest",
    severity: Low,
    summary: "Image is referenced by tag, not pinned by digest",
    references: ["cis:5.5.1", "nsa:pod-security", "nist:4.1.5", "nist:4.2.2", "owasp:K02", "book:ops.trusted-registries", "book:workload.image-scanning"],
    tags: ["supply-chain"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for UnpinnedImageDigest {
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
            if parsed.is_pinned() || parsed.is_latest() {
                continue;
            }
            cx.report(
                c.pointer("/image"),
                format!("{} image \"{image}\" is not pinned by digest", c.describe()),
            )
            .fix("pin the digest of the tested build: `name:tag@sha256:...`")
            .property("container", c.name)
            .property("image", image);
        }
    }
}
