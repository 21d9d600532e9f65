//! `IMG`: image provenance (registries, digests, tags) and vulnerability evidence.

pub(crate) mod mutable_image_tag;
pub(crate) mod public_registry_image;
pub(crate) mod pull_policy_not_always;
pub(crate) mod registry_not_allowed;
pub(crate) mod unpatched_image_vulnerability;
pub(crate) mod unpinned_image_digest;
pub(crate) mod unverified_image_signature;

use palisade_core::{image, Context, ImageRef, Object, PodTemplate, RegistryPattern};

/// The `allowedRegistries` option shared by IMG004 and IMG005.
pub(crate) const ALLOWED_REGISTRIES: palisade_core::RuleOption = palisade_core::RuleOption {
    name: "allowedRegistries",
    kind: palisade_core::rule::OptionKind::StringList,
    doc:
        "registries and repository prefixes images may come from (`contoso.azurecr.io/`, \
          `ghcr.io/contoso`, `docker.io/library/`, `*.azurecr.io`); the rule is inactive when unset",
};

/// Reports every image outside the rule's allowlist whose registry is public (`public`) or
/// not (`!public`). Does nothing when no allowlist is configured.
pub(crate) fn check_allowlist(object: &Object, cx: &mut Context<'_>, public: bool) {
    let patterns: Vec<RegistryPattern> = cx
        .string_list("allowedRegistries")
        .into_iter()
        .filter_map(RegistryPattern::parse)
        .collect();
    if patterns.is_empty() {
        return;
    }
    let Some(pod) = PodTemplate::of(object) else {
        return;
    };
    for c in pod.containers() {
        let image = c.image().trim();
        let Ok(parsed) = ImageRef::parse(image) else {
            continue;
        };
        if patterns.iter().any(|p| p.matches(&parsed)) {
            continue;
        }
        let known_public = image::public_registry(&parsed);
        if known_public.is_some() != public {
            continue;
        }
        let message = match known_public {
            Some(_) => format!(
                "{} image \"{image}\" is pulled straight from the public registry {} (resolved as {}), outside allowedRegistries",
                c.describe(),
                parsed.registry,
                parsed.full_name()
            ),
            None => format!(
                "{} image \"{image}\" comes from registry {} (resolved as {}), outside allowedRegistries",
                c.describe(),
                parsed.registry,
                parsed.full_name()
            ),
        };
        cx.report(c.pointer("/image"), message)
            .fix("push the image to an allowed registry (or mirror it there) and reference it from there")
            .property("container", c.name)
            .property("image", image)
            .property("registry", parsed.registry.as_str());
    }
}
