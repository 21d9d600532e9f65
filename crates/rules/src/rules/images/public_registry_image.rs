use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// Container images pulled straight from a well-known public registry (`docker.io`,
    /// `ghcr.io`, `quay.io`, `gcr.io` and `*.gcr.io`, `registry.k8s.io`, `k8s.gcr.io`,
    /// `public.ecr.aws`, `mcr.microsoft.com`, `registry.gitlab.com`, `docker.elastic.co`,
    /// `nvcr.io`, `cgr.dev`, `registry.access.redhat.com`) when an allowlist is configured
    /// (`rules.IMG005.allowedRegistries`; set the same list as IMG004's) and the image is not
    /// in it. An allowlisted public path (`mcr.microsoft.com/`, `docker.io/library/`) passes.
    /// "Public" describes the registry service, open to anyone on the internet; the
    /// repository itself may be private (a private `gcr.io` project, a private Docker Hub
    /// repository), which still leaves the pull dependent on that service and outside the
    /// platform's own registry.
    /// The rule is inactive until an allowlist is set: without one, Palisade cannot tell a
    /// deliberate choice from an accident. Images from other, unknown registries are
    /// IMG004's.
    ///
    /// ## Why it matters
    /// A public registry serves anyone's images: the cluster trusts every publisher there,
    /// depends on the registry's availability and rate limits at pod start, and skips the
    /// scanning a private mirror or pull-through cache would apply.
    ///
    /// ## How to fix
    /// Mirror the image into your registry (a pull-through cache, or an import job that scans
    /// it) and reference the mirror.
    ///
    /// ## Example
    /// ```yaml
    /// # palisade.yaml: rules: { IMG005: { allowedRegistries: ["contoso.azurecr.io/"] } }
    /// image: docker.io/bitnami/redis:7.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// image: contoso.azurecr.io/mirror/bitnami/redis:7.2@sha256:6f1a...
    /// ```
    pub(crate) struct PublicRegistryImage;
    id: "IMG005",
    name: "public-registry-image",
    severity: Medium,
    summary: "Image is pulled from a public registry outside the allowlist",
    references: ["cis:5.5.1", "nsa:pod-security", "nist:4.1.5", "nist:4.2.3", "owasp:K02", "book:ops.trusted-registries", "book:workload.image-scanning"],
    tags: ["supply-chain"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[super::ALLOWED_REGISTRIES],
}

impl Rule for PublicRegistryImage {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        super::check_allowlist(object, cx, true);
    }
}
