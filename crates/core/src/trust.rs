//! The image trust policy (`imageTrust` in `palisade.yaml`): which signatures the images of
//! each registry or repository scope must carry, and whose.
//!
//! ```yaml
//! imageTrust:
//!   policies:
//!     - name: shop-release
//!       scopes: ["contoso.azurecr.io/shop/*"]
//!       cosign:
//!         publicKeys: [keys/release.pub]          # PEM public keys (ECDSA P-256)
//!       notation:
//!         trustStore: [certs/contoso-root.pem]    # root certificates (PEM)
//!         signers: ["CN=Contoso Release,O=Contoso,C=US"]
//!     - name: upstream
//!       scopes: ["registry.k8s.io/*"]
//!       verification: skip
//!   default: skip                                 # scopes no policy names: skip | reject
//! ```
//!
//! A scope is a glob (`*`, `?`; `*` crosses `/`) over the image's normalised
//! `registry/repository` (`nginx` is `docker.io/library/nginx`); the first policy in file
//! order with a matching scope applies. The signature kinds a policy accepts are the sections
//! it has (`cosign`, `notation`); a signature of any accepted kind by any trusted signer
//! verifies the image. Files are resolved relative to the configuration file by the
//! front-end. The mode of the findings comes from the usual resolution for the verification
//! rule (`rules.<ID>.mode`, `namespaces`, `defaultMode`).

use crate::image::ImageRef;
use serde::Serialize;

/// Whether a scope's images are verified.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Every image must carry a valid signature by a trusted signer.
    #[default]
    Enforce,
    /// Not verified.
    Skip,
}

/// What happens to images that no policy's scope covers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownScope {
    /// Not verified (the default).
    #[default]
    Skip,
    /// Reported: the image comes from outside every trust policy.
    Reject,
}

/// cosign verification: the public keys that are trusted signers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CosignTrust {
    /// PEM files, as written in the configuration.
    #[serde(rename = "publicKeys")]
    pub public_keys: Vec<String>,
}

/// Notation verification: the trust store's root certificates and the signers accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NotationTrust {
    /// PEM files of root certificates, as written in the configuration.
    #[serde(rename = "trustStore")]
    pub trust_store: Vec<String>,
    /// Subjects of the signing certificate accepted (RFC 4514 distinguished names, compared
    /// attribute by attribute); empty: any certificate that chains to the trust store.
    pub signers: Vec<String>,
}

/// One trust policy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TrustPolicy {
    /// Its name, unique in the file.
    pub name: String,
    /// Registry/repository globs.
    pub scopes: Vec<String>,
    /// Enforce or skip.
    pub verification: Verification,
    /// cosign, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cosign: Option<CosignTrust>,
    /// Notation, when accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notation: Option<NotationTrust>,
    /// Line in the configuration file.
    pub line: u32,
}

/// The `imageTrust` section.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImageTrust {
    /// The policies, in file order.
    pub policies: Vec<TrustPolicy>,
    /// What happens to images outside every scope.
    pub default: UnknownScope,
}

impl TrustPolicy {
    /// True when one of the policy's scopes covers the image.
    pub fn covers(&self, image: &ImageRef) -> bool {
        let name = image.full_name();
        self.scopes
            .iter()
            .any(|s| wildmatch::WildMatch::new(s.trim_end_matches('/')).matches(&name))
    }
}

/// A distinguished name as `notation.signers` writes it (RFC 4514: `CN=Contoso Release,O=Contoso,C=US`):
/// its attributes as (upper-case type, value) pairs, sorted, so that two names compare
/// attribute by attribute whatever their order. `\,` and the other RFC 4514 escapes are
/// read as the character they escape.
pub fn parse_distinguished_name(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) => cur.push(e),
                None => return Err(format!("`{s}` ends with a lone `\\`")),
            },
            ',' | '+' => parts.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    let mut out = Vec::new();
    for part in parts {
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!(
                "`{s}` is not a distinguished name: `{}` has no `=` (write `CN=...,O=...,C=..`)",
                part.trim()
            ));
        };
        let (k, v) = (k.trim().to_ascii_uppercase(), v.trim().to_owned());
        if k.is_empty() || v.is_empty() {
            return Err(format!(
                "`{s}` is not a distinguished name: `{}` has an empty type or value",
                part.trim()
            ));
        }
        out.push((k, v));
    }
    out.sort();
    Ok(out)
}

impl ImageTrust {
    /// The policy that applies to an image: the first, in file order, whose scope covers it.
    pub fn policy_for(&self, image: &ImageRef) -> Option<&TrustPolicy> {
        self.policies.iter().find(|p| p.covers(image))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_scope_wins() {
        let p = |name: &str, scopes: &[&str]| TrustPolicy {
            name: name.to_owned(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ..TrustPolicy::default()
        };
        let t = ImageTrust {
            policies: vec![
                p("shop", &["contoso.azurecr.io/shop/*"]),
                p("contoso", &["contoso.azurecr.io/*", "*.contoso.com/*"]),
                p("hub", &["docker.io/library/*"]),
            ],
            default: UnknownScope::Skip,
        };
        let get = |s: &str| {
            t.policy_for(&ImageRef::parse(s).unwrap())
                .map(|p| p.name.as_str())
        };
        assert_eq!(get("contoso.azurecr.io/shop/api:1@sha256:00"), Some("shop"));
        assert_eq!(get("contoso.azurecr.io/shop/team/api"), Some("shop"));
        assert_eq!(
            get("contoso.azurecr.io/mirror/postgres:16"),
            Some("contoso")
        );
        assert_eq!(get("registry.contoso.com/x"), Some("contoso"));
        assert_eq!(get("nginx"), Some("hub"));
        assert_eq!(get("bitnami/redis"), None);
        assert_eq!(get("contoso.azurecr.io.evil.com/shop/api"), None);
    }

    #[test]
    fn distinguished_names_compare_by_attribute() {
        let a = parse_distinguished_name("CN=Contoso Release,O=Contoso,C=US").unwrap();
        let b = parse_distinguished_name("c=US, o=Contoso, cn=Contoso Release").unwrap();
        assert_eq!(a, b);
        let esc = parse_distinguished_name(r"CN=Release\, Shop,O=Contoso").unwrap();
        assert!(esc.contains(&("CN".to_owned(), "Release, Shop".to_owned())));
        assert!(parse_distinguished_name("Contoso Release").is_err());
        assert!(parse_distinguished_name("CN=").is_err());
    }
}
