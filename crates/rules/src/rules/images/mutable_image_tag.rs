use palisade_core::{Context, ImageRef, Object, PodTemplate, Rule};

declare_rule! {
    /// ## What it checks
    /// Container images referenced without a tag or with the `latest` tag, and without a
    /// digest (`@sha256:...`). An image pinned by digest passes whatever its tag.
    ///
    /// ## Why it matters
    /// A mutable reference means the code that runs is decided at pull time, not at review
    /// time: a pushed tag, a compromised registry account or a typo-squatted upstream ships
    /// straight into the cluster, and two replicas of one Deployment can run different code.
    /// Rollbacks and incident response lose track of what was running.
    ///
    /// ## How to fix
    /// Reference a versioned tag built by your pipeline, ideally pinned by digest:
    /// `registry.example.com/app:1.4.2@sha256:...`.
    ///
    /// ## Example
    /// ```yaml
    /// image: nginx
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: registry.example.com/nginx:1.27.2@sha256:6f1a...
    /// ```
    pub(crate) struct MutableImageTag;
    id: "IMG001",
    name: "mutable-image-tag",
    severity: Medium,
    summary: "Image has no tag or uses `latest`, and no digest",
    references: ["cis:5.5.1", "nsa:pod-security", "nist:4.1.5", "nist:4.2.2", "owasp:K02", "book:ops.trusted-registries", "book:workload.image-scanning"],
    tags: ["supply-chain"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for MutableImageTag {
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
            let problem = match parsed.tag.as_deref() {
                None => "has no tag (implicitly `latest`)",
                Some("latest") => "uses the mutable tag `latest`",
                Some(_) => continue,
            };
            cx.report(
                c.pointer("/image"),
                format!("{} image \"{image}\" {problem}", c.describe()),
            )
            .fix("use a versioned tag, pinned by digest (`name:1.2.3@sha256:...`)")
            .property("container", c.name)
            .property("image", image);
        }
    }
}
