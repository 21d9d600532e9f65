use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// Container images whose registry and repository are outside the configured allowlist
    /// (`rules.IMG004.allowedRegistries` in `palisade.yaml`), when that registry is not one of
    /// the well-known public registries (those are IMG005's, so that an image gets one
    /// finding). The rule is inactive until an allowlist is set.
    ///
    /// Matching follows the container runtime's resolution: `nginx` is
    /// `docker.io/library/nginx`, `index.docker.io` is `docker.io`, hosts are compared
    /// exactly (with their port), repository prefixes at `/` boundaries (`ghcr.io/contoso`
    /// does not allow `ghcr.io/contoso-evil`), and `*.example.com` allows any subdomain.
    ///
    /// ## Why it matters
    /// Images from arbitrary registries bypass the scanning, signing and retention policies
    /// of the registries the platform controls; a typo or a hijacked name pulls an attacker's
    /// image.
    ///
    /// ## How to fix
    /// Push or mirror the image to an allowed registry, or add the registry to the allowlist
    /// after review.
    ///
    /// ## Example
    /// ```yaml
    /// # palisade.yaml: rules: { IMG004: { allowedRegistries: ["contoso.azurecr.io/"] } }
    /// image: registry.evil.example/app:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: contoso.azurecr.io/app:1.4.2@sha256:6f1a...
    /// ```
    pub(crate) struct RegistryNotAllowed;
    id: "IMG004",
    name: "registry-not-allowed",
    severity: High,
    summary: "Image comes from a registry outside the allowlist",
    references: ["cis:5.5.1", "nsa:pod-security", "nist:4.1.5", "nist:4.2.3", "owasp:K02", "book:ops.trusted-registries"],
    tags: ["supply-chain"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[super::ALLOWED_REGISTRIES],
}

impl Rule for RegistryNotAllowed {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        super::check_allowlist(object, cx, false);
    }
}
