//! Container image references: parsing with Docker's normalisation (implicit `docker.io` and
//! `library/`, `index.docker.io`), and registry allowlist matching. Shared by the rule
//! catalogue and any engine that needs to reason about images.

/// The registry Docker Hub images resolve to.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed image reference: `[registry/]repository[:tag][@digest]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host (with its port), lowercased; `docker.io` for Docker Hub, whatever
    /// alias the reference used (`index.docker.io`, `registry-1.docker.io`, none at all).
    pub registry: String,
    /// The repository path inside the registry; `library/` is added to single-component
    /// Docker Hub names (`nginx` is `library/nginx`).
    pub repository: String,
    /// The tag, when present.
    pub tag: Option<String>,
    /// The digest (`sha256:...`), when present.
    pub digest: Option<String>,
    /// Whether the reference named its registry explicitly.
    pub explicit_registry: bool,
}

/// Why an image reference could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImageRefError {
    /// The reference is empty.
    #[error("empty image reference")]
    Empty,
    /// The reference holds characters no image reference can hold (templating, spaces...).
    #[error("not an image reference")]
    Invalid,
}

fn is_registry_component(first: &str) -> bool {
    first.contains('.') || first.contains(':') || first == "localhost"
}

fn normalize_host(host: &str) -> String {
    let h = host.to_ascii_lowercase();
    match h.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            DOCKER_HUB.to_owned()
        }
        _ => h,
    }
}

impl ImageRef {
    /// Parses a reference the way the container runtime resolves it.
    pub fn parse(reference: &str) -> Result<ImageRef, ImageRefError> {
        let r = reference.trim();
        if r.is_empty() {
            return Err(ImageRefError::Empty);
        }
        if !r
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '@'))
        {
            return Err(ImageRefError::Invalid);
        }
        let (name, digest) = match r.split_once('@') {
            Some((n, d)) => (n, Some(d.to_owned())),
            None => (r, None),
        };
        if name.is_empty() || digest.as_deref().is_some_and(|d| !d.contains(':')) {
            return Err(ImageRefError::Invalid);
        }
        let (first, rest) = match name.split_once('/') {
            Some((f, rest)) if is_registry_component(f) => (Some(f), rest),
            _ => (None, name),
        };
        let last_start = rest.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match rest[last_start..].split_once(':') {
            Some((n, t)) => (format!("{}{n}", &rest[..last_start]), Some(t.to_owned())),
            None => (rest.to_owned(), None),
        };
        if path.is_empty() || path.split('/').any(str::is_empty) || tag.as_deref() == Some("") {
            return Err(ImageRefError::Invalid);
        }
        let registry = first.map_or_else(|| DOCKER_HUB.to_owned(), normalize_host);
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        Ok(ImageRef {
            registry,
            repository,
            tag,
            digest,
            explicit_registry: first.is_some(),
        })
    }

    /// `registry/repository`, normalised (`docker.io/library/nginx`).
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// True when the reference is pinned by digest.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// True when what the reference resolves to can change: no digest, and a tag that is
    /// missing (implicitly `latest`) or any tag at all (tags are mutable in every registry
    /// that does not enforce immutability).
    pub fn is_mutable(&self) -> bool {
        self.digest.is_none()
    }

    /// True when the reference has no digest and its tag is missing or `latest`.
    pub fn is_latest(&self) -> bool {
        self.digest.is_none() && matches!(self.tag.as_deref(), None | Some("latest"))
    }

    /// The registry host without its port.
    pub fn host(&self) -> &str {
        self.registry
            .rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(self.registry.as_str(), |(h, _)| h)
    }
}

/// One entry of a registry allowlist: a registry host (`contoso.azurecr.io`, optionally with
/// a port, `*.` for any subdomain), optionally followed by a repository path prefix
/// (`docker.io/library/`, `ghcr.io/contoso`). A path prefix matches at component boundaries:
/// `ghcr.io/contoso` allows `ghcr.io/contoso/app` but not `ghcr.io/contoso-evil/app`. An
/// entry without a registry component (`library/nginx`, `nginx`) is a Docker Hub path, as
/// the runtime would resolve it; `index.docker.io` is `docker.io`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryPattern {
    host: String,
    wildcard: bool,
    path: String,
}

impl RegistryPattern {
    /// Parses an allowlist entry (`https://` and trailing `/` are ignored).
    pub fn parse(entry: &str) -> Option<RegistryPattern> {
        let e = entry.trim();
        let e = e
            .strip_prefix("https://")
            .or_else(|| e.strip_prefix("http://"))
            .unwrap_or(e);
        let e = e.trim_end_matches('/');
        if e.is_empty() {
            return None;
        }
        let (first, rest) = e.split_once('/').unwrap_or((e, ""));
        let (host, path) = if let Some(suffix) = first.strip_prefix("*.") {
            return Some(RegistryPattern {
                host: suffix.to_ascii_lowercase(),
                wildcard: true,
                path: rest.to_owned(),
            });
        } else if is_registry_component(first) {
            (normalize_host(first), rest.to_owned())
        } else {
            // A Docker Hub path: `nginx` is `library/nginx`.
            let path = if e.contains('/') {
                e.to_owned()
            } else {
                format!("library/{e}")
            };
            (DOCKER_HUB.to_owned(), path)
        };
        Some(RegistryPattern {
            host,
            wildcard: false,
            path,
        })
    }

    /// True when the image falls under this entry.
    pub fn matches(&self, image: &ImageRef) -> bool {
        let host_ok = if self.wildcard {
            image
                .host()
                .strip_suffix(self.host.as_str())
                .is_some_and(|p| p.ends_with('.') && p.len() > 1)
        } else {
            image.registry == self.host
        };
        host_ok
            && (self.path.is_empty()
                || image.repository == self.path
                || image
                    .repository
                    .strip_prefix(self.path.as_str())
                    .is_some_and(|r| r.starts_with('/')))
    }
}

/// Registries that serve images to anyone on the internet. Pulling from them directly means
/// the cluster trusts every publisher there and depends on their availability; a private
/// mirror or pull-through cache with scanning is the usual alternative.
pub const PUBLIC_REGISTRIES: &[&str] = &[
    "docker.io",
    "ghcr.io",
    "quay.io",
    "gcr.io",
    "*.gcr.io",
    "registry.k8s.io",
    "k8s.gcr.io",
    "public.ecr.aws",
    "mcr.microsoft.com",
    "registry.gitlab.com",
    "docker.elastic.co",
    "nvcr.io",
    "cgr.dev",
    "registry.access.redhat.com",
];

/// The public registry an image comes from, if it is one of [`PUBLIC_REGISTRIES`].
pub fn public_registry(image: &ImageRef) -> Option<&'static str> {
    PUBLIC_REGISTRIES
        .iter()
        .copied()
        .find(|p| RegistryPattern::parse(p).is_some_and(|pat| pat.matches(image)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn docker_hub_normalisation() {
        let i = p("nginx");
        assert_eq!(i.full_name(), "docker.io/library/nginx");
        assert_eq!(i.tag, None);
        assert!(!i.explicit_registry);
        assert_eq!(p("bitnami/redis:7").full_name(), "docker.io/bitnami/redis");
        assert_eq!(
            p("index.docker.io/library/nginx:1").full_name(),
            "docker.io/library/nginx"
        );
        assert_eq!(p("docker.io/nginx").full_name(), "docker.io/library/nginx");
        assert_eq!(p("registry-1.docker.io/x/y").full_name(), "docker.io/x/y");
    }

    #[test]
    fn tags_digests_ports() {
        let i = p("localhost:5000/app");
        assert_eq!(i.registry, "localhost:5000");
        assert_eq!(i.host(), "localhost");
        assert_eq!(i.tag, None);
        let i = p("localhost:5000/team/app:latest");
        assert_eq!(i.repository, "team/app");
        assert_eq!(i.tag.as_deref(), Some("latest"));
        assert!(i.is_latest());
        let i = p("a.io/b/c:v1@sha256:00");
        assert_eq!(i.tag.as_deref(), Some("v1"));
        assert_eq!(i.digest.as_deref(), Some("sha256:00"));
        assert!(i.is_pinned() && !i.is_mutable() && !i.is_latest());
        let i = p("nginx@sha256:abc");
        assert_eq!(i.tag, None);
        assert!(i.is_pinned());
        assert!(p("nginx:1.27").is_mutable());
        assert!(!p("nginx:1.27").is_latest());
        assert_eq!(p("Contoso.AzureCR.io/app:1").registry, "contoso.azurecr.io");
    }

    #[test]
    fn invalid() {
        assert_eq!(ImageRef::parse(" "), Err(ImageRefError::Empty));
        for s in [
            "{{ .Values.image }}",
            "${IMAGE}",
            "a b",
            "app:",
            "a//b",
            "x@nodigest",
        ] {
            assert!(ImageRef::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn allowlist() {
        let m = |pat: &str, img: &str| RegistryPattern::parse(pat).unwrap().matches(&p(img));
        assert!(m("contoso.azurecr.io/", "contoso.azurecr.io/app:1"));
        assert!(m("contoso.azurecr.io", "contoso.azurecr.io/team/app:1"));
        assert!(!m("contoso.azurecr.io", "contoso.azurecr.io.evil.com/app"));
        assert!(!m("contoso.azurecr.io", "evilcontoso.azurecr.io/app"));
        assert!(m("ghcr.io/contoso", "ghcr.io/contoso/app"));
        assert!(!m("ghcr.io/contoso", "ghcr.io/contoso-evil/app"));
        assert!(m("docker.io/library/", "nginx:1.27"));
        assert!(m("index.docker.io/library", "nginx"));
        assert!(!m("docker.io/library/", "bitnami/redis"));
        assert!(m("docker.io", "bitnami/redis"));
        assert!(m("nginx", "docker.io/library/nginx:1"));
        assert!(!m("nginx", "nginx-ingress"));
        assert!(m("*.azurecr.io", "contoso.azurecr.io/app"));
        assert!(!m("*.azurecr.io", "azurecr.io/app"));
        assert!(m("localhost:5000", "localhost:5000/app"));
        assert!(!m("localhost:5000", "localhost:5001/app"));
        assert!(!m("localhost", "localhost:5000/app"));
        assert!(m(
            "https://mcr.microsoft.com/",
            "mcr.microsoft.com/dotnet/runtime:8.0"
        ));
    }

    #[test]
    fn public() {
        assert_eq!(public_registry(&p("nginx")), Some("docker.io"));
        assert_eq!(public_registry(&p("us.gcr.io/p/app")), Some("*.gcr.io"));
        assert_eq!(
            public_registry(&p("registry.k8s.io/pause:3.9")),
            Some("registry.k8s.io")
        );
        assert_eq!(public_registry(&p("contoso.azurecr.io/app")), None);
        assert_eq!(public_registry(&p("localhost:5000/app")), None);
    }
}
