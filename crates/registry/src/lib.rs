//! The OCI distribution client behind image signature verification.
//!
//! A front-end-level crate (it pulls in tokio, hyper and rustls, which the engines must not):
//! `palisade scan --verify-images` uses it, and the signature logic itself lives in
//! `palisade-supply` (`cosign`). The client speaks the OCI distribution API
//! (`/v2/<name>/manifests/<reference>`, `/v2/<name>/blobs/<digest>`, uploads for the tests),
//! over HTTPS, or plain HTTP for loopback registries (`localhost`, `127.0.0.1`, `[::1]`, as
//! Docker treats them). When a registry answers 401, the client follows its
//! `WWW-Authenticate` challenge: `Basic` with the registry's login from the [`Keychain`]
//! (Docker config file, image pull Secrets), `Bearer realm=...` by fetching a token from the
//! realm, with that login when there is one, anonymously otherwise.
//!
//! [`Verifier`] resolves a tag to its digest, fetches the cosign signatures stored under
//! `sha256-<hex>.sig` and the Notation signatures that refer to the digest (OCI referrers
//! API, else the `sha256-<hex>` referrers tag), judges them against the trust policy's keys
//! and trust store (`palisade-supply`), and caches each digest's
//! verdict for a time to live. It also remembers which digest each tag resolved to when it was
//! verified, so that a tag moved to unsigned content after signing is reported as such.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use palisade_core::ImageRef;
use palisade_supply::cosign::{self, PublicKey, SignatureLayer};
use palisade_supply::notation::{self, Envelope, TrustStore};
use palisade_supply::signatures::Verdict;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub mod credentials;
pub mod policy;
#[cfg(feature = "testing")]
pub mod testing;

pub use credentials::{CredentialError, Credentials, Keychain, PullSecretKind, PullSecretLogins};

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// Media types accepted for manifests.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// The largest manifest or signature blob read (a signature payload is a few hundred bytes).
const MAX_BODY: usize = 4 << 20;

/// Why the registry could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No answer in time.
    #[error("{registry} did not answer within {seconds}s")]
    Timeout {
        /// The registry.
        registry: String,
        /// The timeout.
        seconds: u64,
    },
    /// The connection failed.
    #[error("{registry} cannot be reached: {reason}")]
    Unreachable {
        /// The registry.
        registry: String,
        /// Why.
        reason: String,
    },
    /// An unexpected status.
    #[error("{registry} answered {status} to {what}{}", auth_hint(.status))]
    Status {
        /// The registry.
        registry: String,
        /// The status code.
        status: u16,
        /// The request.
        what: String,
    },
    /// A malformed answer.
    #[error("{registry}: {reason}")]
    Invalid {
        /// The registry.
        registry: String,
        /// Why.
        reason: String,
    },
    /// The client could not be set up.
    #[error("TLS set-up: {0}")]
    Tls(String),
}

/// What a refusal to authenticate means for the user.
fn auth_hint(status: &u16) -> &'static str {
    if *status == 401 {
        " (authentication refused: no login for this registry, or one it does not accept)"
    } else {
        ""
    }
}

/// A manifest as fetched.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// Its digest (`sha256:...`), computed from the bytes.
    pub digest: String,
    /// Its media type.
    pub media_type: String,
    /// The bytes.
    pub body: Bytes,
}

/// An OCI distribution API client.
#[derive(Clone)]
pub struct Registry {
    client: Client,
    timeout: Duration,
    /// The `Authorization` header each registry last accepted (a bearer token, or basic
    /// authentication with its login).
    auth: std::sync::Arc<Mutex<HashMap<String, String>>>,
    keychain: std::sync::Arc<Keychain>,
}

fn is_loopback(registry: &str) -> bool {
    let host = registry
        .rsplit_once(':')
        .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
        .map_or(registry, |(h, _)| h);
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// The API host of a registry (Docker Hub's is `registry-1.docker.io`).
fn api_host(registry: &str) -> &str {
    if registry == palisade_core::image::DOCKER_HUB {
        "registry-1.docker.io"
    } else {
        registry
    }
}

/// A `Bearer realm="...",service="...",scope="..."` challenge's parameters.
fn challenge_params(header: &str) -> Option<HashMap<String, String>> {
    let rest = header.trim().strip_prefix("Bearer ")?;
    let mut out = HashMap::new();
    let mut s = rest;
    while let Some((k, v)) = s.split_once('=') {
        let k = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let v = v.trim_start();
        let (value, tail) = if let Some(q) = v.strip_prefix('"') {
            let end = q.find('"')?;
            (&q[..end], &q[end + 1..])
        } else {
            let end = v.find(',').unwrap_or(v.len());
            (&v[..end], &v[end..])
        };
        out.insert(k, value.to_owned());
        s = tail;
    }
    Some(out)
}

impl Registry {
    /// A client whose every request (and token fetch) is bounded by `timeout`.
    pub fn new(timeout: Duration) -> Result<Registry, RegistryError> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()
            .map_err(|e| RegistryError::Tls(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(connector);
        Ok(Registry {
            client,
            timeout,
            auth: Default::default(),
            keychain: Default::default(),
        })
    }

    /// The same client, with registry logins used when a registry asks for authentication.
    pub fn with_keychain(mut self, keychain: Keychain) -> Registry {
        self.keychain = std::sync::Arc::new(keychain);
        self.auth = Default::default();
        self
    }

    fn url(registry: &str, path: &str) -> String {
        let scheme = if is_loopback(registry) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{}{path}", api_host(registry))
    }

    async fn send(
        &self,
        registry: &str,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        auth: Option<&str>,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes), RegistryError> {
        let mut req = Request::builder().method(method).uri(url).header(
            hyper::header::USER_AGENT,
            concat!("palisade/", env!("CARGO_PKG_VERSION")),
        );
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(a) = auth {
            req = req.header(hyper::header::AUTHORIZATION, a);
        }
        let req = req
            .body(Full::new(body))
            .map_err(|e| RegistryError::Invalid {
                registry: registry.to_owned(),
                reason: format!("bad request {url}: {e}"),
            })?;
        let fut = async {
            let resp = self
                .client
                .request(req)
                .await
                .map_err(|e| RegistryError::Unreachable {
                    registry: registry.to_owned(),
                    reason: e.to_string(),
                })?;
            let (parts, body) = resp.into_parts();
            let bytes = http_body_util::Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| RegistryError::Invalid {
                    registry: registry.to_owned(),
                    reason: format!("reading the answer to {url}: {e}"),
                })?
                .to_bytes();
            Ok((parts.status, parts.headers, bytes))
        };
        tokio::time::timeout(self.timeout, fut)
            .await
            .map_err(|_| RegistryError::Timeout {
                registry: registry.to_owned(),
                seconds: self.timeout.as_secs(),
            })?
    }

    /// A request, answering one authentication challenge when the registry asks: basic
    /// authentication with the registry's login, or a bearer token from the challenge's realm
    /// (with that login when there is one).
    async fn request(
        &self,
        registry: &str,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> Result<(StatusCode, hyper::HeaderMap, Bytes), RegistryError> {
        let url = Registry::url(registry, path);
        let cached = self.auth.lock().expect("auth cache").get(registry).cloned();
        let first = self
            .send(
                registry,
                method.clone(),
                &url,
                headers,
                body.clone(),
                cached.as_deref(),
            )
            .await?;
        if first.0 != StatusCode::UNAUTHORIZED {
            return Ok(first);
        }
        let Some(challenge) = first
            .1
            .get(hyper::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
        else {
            return Ok(first);
        };
        let login = self.keychain.get(registry);
        let header = if challenge
            .trim_start()
            .get(..6)
            .is_some_and(|s| s.eq_ignore_ascii_case("basic "))
        {
            match login {
                Some(c) => c.basic(),
                None => return Ok(first),
            }
        } else {
            let Some(params) = challenge_params(&challenge) else {
                return Ok(first);
            };
            let Some(realm) = params.get("realm") else {
                return Ok(first);
            };
            let mut token_url = realm.clone();
            let mut sep = if realm.contains('?') { '&' } else { '?' };
            for k in ["service", "scope"] {
                if let Some(v) = params.get(k) {
                    token_url.push(sep);
                    token_url.push_str(k);
                    token_url.push('=');
                    token_url.push_str(&encode(v));
                    sep = '&';
                }
            }
            let basic = login.map(Credentials::basic);
            let (status, _, tok) = self
                .send(
                    registry,
                    Method::GET,
                    &token_url,
                    &[],
                    Bytes::new(),
                    basic.as_deref(),
                )
                .await?;
            if !status.is_success() {
                return Ok(first);
            }
            let token = serde_json::from_slice::<Value>(&tok)
                .ok()
                .and_then(|v| {
                    v.get("token")
                        .or_else(|| v.get("access_token"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .ok_or_else(|| RegistryError::Invalid {
                    registry: registry.to_owned(),
                    reason: "the token service answered without a token".to_owned(),
                })?;
            format!("Bearer {token}")
        };
        if cached.as_deref() == Some(header.as_str()) {
            // The same authorization was just refused.
            return Ok(first);
        }
        self.auth
            .lock()
            .expect("auth cache")
            .insert(registry.to_owned(), header.clone());
        self.send(registry, method, &url, headers, body, Some(&header))
            .await
    }

    /// A manifest by tag or digest; `None` when the registry does not have it.
    pub async fn manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
    ) -> Result<Option<Manifest>, RegistryError> {
        let path = format!("/v2/{repository}/manifests/{reference}");
        let (status, headers, body) = self
            .request(
                registry,
                Method::GET,
                &path,
                &[("accept", MANIFEST_ACCEPT)],
                Bytes::new(),
            )
            .await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(RegistryError::Status {
                registry: registry.to_owned(),
                status: status.as_u16(),
                what: format!("GET {path}"),
            });
        }
        let digest = cosign::sha256_digest(&body);
        if reference.contains(':') && reference != digest {
            return Err(RegistryError::Invalid {
                registry: registry.to_owned(),
                reason: format!("the manifest served for {reference} has digest {digest}"),
            });
        }
        let media_type = headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .or_else(|| {
                serde_json::from_slice::<Value>(&body)
                    .ok()?
                    .get("mediaType")?
                    .as_str()
                    .map(str::to_owned)
            })
            .unwrap_or_default();
        Ok(Some(Manifest {
            digest,
            media_type,
            body,
        }))
    }

    /// A blob, checked against its digest.
    pub async fn blob(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Bytes, RegistryError> {
        let path = format!("/v2/{repository}/blobs/{digest}");
        let (status, _, body) = self
            .request(registry, Method::GET, &path, &[], Bytes::new())
            .await?;
        if !status.is_success() {
            return Err(RegistryError::Status {
                registry: registry.to_owned(),
                status: status.as_u16(),
                what: format!("GET {path}"),
            });
        }
        Ok(body)
    }

    /// Uploads a blob (monolithic upload); returns its digest.
    pub async fn push_blob(
        &self,
        registry: &str,
        repository: &str,
        data: Bytes,
    ) -> Result<String, RegistryError> {
        let digest = cosign::sha256_digest(&data);
        let path = format!("/v2/{repository}/blobs/uploads/");
        let (status, headers, _) = self
            .request(registry, Method::POST, &path, &[], Bytes::new())
            .await?;
        let location = headers
            .get(hyper::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .filter(|_| status == StatusCode::ACCEPTED)
            .ok_or_else(|| RegistryError::Status {
                registry: registry.to_owned(),
                status: status.as_u16(),
                what: format!("POST {path}"),
            })?;
        let location = match location.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
            None => location.to_owned(),
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={}", encode(&digest));
        let (status, _, _) = self
            .request(
                registry,
                Method::PUT,
                &put,
                &[("content-type", "application/octet-stream")],
                data,
            )
            .await?;
        if status != StatusCode::CREATED {
            return Err(RegistryError::Status {
                registry: registry.to_owned(),
                status: status.as_u16(),
                what: "PUT blob".to_owned(),
            });
        }
        Ok(digest)
    }

    /// Uploads a manifest under a tag or its digest; returns its digest.
    pub async fn push_manifest(
        &self,
        registry: &str,
        repository: &str,
        reference: &str,
        media_type: &str,
        body: Bytes,
    ) -> Result<String, RegistryError> {
        let digest = cosign::sha256_digest(&body);
        let path = format!("/v2/{repository}/manifests/{reference}");
        let (status, _, _) = self
            .request(
                registry,
                Method::PUT,
                &path,
                &[("content-type", media_type)],
                body,
            )
            .await?;
        if status != StatusCode::CREATED {
            return Err(RegistryError::Status {
                registry: registry.to_owned(),
                status: status.as_u16(),
                what: format!("PUT {path}"),
            });
        }
        Ok(digest)
    }

    /// The cosign signature layers stored for a digest (empty when it has none).
    pub async fn cosign_signatures(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Vec<SignatureLayer>, RegistryError> {
        let Some(m) = self
            .manifest(registry, repository, &cosign::signature_tag(digest))
            .await?
        else {
            return Ok(Vec::new());
        };
        let doc: Value = serde_json::from_slice(&m.body).map_err(|e| RegistryError::Invalid {
            registry: registry.to_owned(),
            reason: format!("the signature manifest of {digest} is not JSON: {e}"),
        })?;
        let mut out = Vec::new();
        for layer in doc["layers"].as_array().into_iter().flatten() {
            let Some(d) = layer["digest"].as_str() else {
                continue;
            };
            let payload = self.blob(registry, repository, d).await?;
            out.push(SignatureLayer {
                digest: d.to_owned(),
                signature: layer
                    .pointer(&format!(
                        "/annotations/{}",
                        cosign::SIGNATURE_ANNOTATION.replace('/', "~1")
                    ))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                payload: payload.to_vec(),
            });
        }
        Ok(out)
    }
}

impl Registry {
    /// The descriptors of the manifests that refer to `digest` with `artifact_type`: from the
    /// OCI referrers API (`GET /v2/<name>/referrers/<digest>?artifactType=...`), or, when
    /// the registry does not serve it (404), from the referrers tag schema: the image index
    /// tagged `sha256-<hex>`.
    pub async fn referrers(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
        artifact_type: &str,
    ) -> Result<Vec<Value>, RegistryError> {
        let path = format!(
            "/v2/{repository}/referrers/{digest}?artifactType={}",
            encode(artifact_type)
        );
        let (status, _, body) = self
            .request(
                registry,
                Method::GET,
                &path,
                &[("accept", "application/vnd.oci.image.index.v1+json")],
                Bytes::new(),
            )
            .await?;
        let index = if status.is_success() {
            body
        } else if status == StatusCode::NOT_FOUND {
            match self
                .manifest(registry, repository, &digest.replacen(':', "-", 1))
                .await?
            {
                Some(m) => m.body,
                None => return Ok(Vec::new()),
            }
        } else {
            return Err(RegistryError::Status {
                registry: registry.to_owned(),
                status: status.as_u16(),
                what: format!("GET {path}"),
            });
        };
        let index: Value = serde_json::from_slice(&index).map_err(|e| RegistryError::Invalid {
            registry: registry.to_owned(),
            reason: format!("the referrers of {digest} are not a JSON image index: {e}"),
        })?;
        Ok(index["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["artifactType"].as_str() == Some(artifact_type))
            .cloned()
            .collect())
    }

    /// The Notation signature envelopes stored for a digest: each referrer whose artifact
    /// type is `application/vnd.cncf.notary.signature` and whose `subject` is the digest,
    /// with its envelope layer.
    pub async fn notation_signatures(
        &self,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<Vec<Envelope>, RegistryError> {
        let mut out = Vec::new();
        for desc in self
            .referrers(registry, repository, digest, notation::ARTIFACT_TYPE)
            .await?
        {
            let Some(d) = desc["digest"].as_str() else {
                continue;
            };
            let Some(m) = self.manifest(registry, repository, d).await? else {
                continue;
            };
            let doc: Value =
                serde_json::from_slice(&m.body).map_err(|e| RegistryError::Invalid {
                    registry: registry.to_owned(),
                    reason: format!("the Notation signature manifest {d} is not JSON: {e}"),
                })?;
            let artifact = doc["artifactType"]
                .as_str()
                .or_else(|| doc.pointer("/config/mediaType").and_then(Value::as_str));
            if artifact != Some(notation::ARTIFACT_TYPE)
                || doc.pointer("/subject/digest").and_then(Value::as_str) != Some(digest)
            {
                continue;
            }
            for layer in doc["layers"].as_array().into_iter().flatten() {
                let (Some(ld), Some(mt)) = (layer["digest"].as_str(), layer["mediaType"].as_str())
                else {
                    continue;
                };
                let blob = self.blob(registry, repository, ld).await?;
                out.push(Envelope {
                    media_type: mt.to_owned(),
                    digest: ld.to_owned(),
                    blob: blob.to_vec(),
                });
            }
        }
        Ok(out)
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The outcome of verifying one image reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The digest verified (the pinned one, else the tag's), when it could be resolved.
    pub digest: Option<String>,
    /// The verdict, or why the registry could not give one.
    pub verdict: Result<Verdict, RegistryError>,
    /// Whether the verdict came from the cache.
    pub cached: bool,
}

/// What a trust policy accepts: cosign signatures by its keys, Notation signatures chained
/// to its trust store (by its signers), or both.
#[derive(Clone, Debug, Default)]
pub struct Trust {
    /// cosign public keys, when the policy accepts cosign.
    pub cosign: Option<Vec<PublicKey>>,
    /// The Notation trust store, when the policy accepts Notation.
    pub notation: Option<TrustStore>,
}

/// Verifies images against trust policies, caching each digest's verdict for `ttl`.
///
/// Verdicts are cached per (logins, image, digest): the logins are the front-end's own (the
/// Docker config file) unless an image pull Secret gave one for the image's registry, in
/// which case they are that Secret's (`namespace/name`), so that a verdict reached with one
/// namespace's pull Secret never answers for a workload that does not have it.
pub struct Verifier {
    registry: Registry,
    ttl: Duration,
    verdicts: Mutex<HashMap<VerdictKey, (Instant, Verdict)>>,
    /// The digest a tag resolved to when it was last verified, while that verdict is cached.
    tags: Mutex<HashMap<(String, String), String>>,
}

/// A cached verdict's key: the logins' scope (`""`, or the pull Secret `namespace/name`), the
/// image's repository and the digest.
type VerdictKey = (String, String, String);

/// What is known of an image beyond its reference: the digest a Pod runs it at (its
/// status's `imageID`), and the image pull Secrets of its workload.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// The digest running.
    pub running: Option<&'a str>,
    /// The workload's image pull Secrets' logins.
    pub logins: Option<&'a PullSecretLogins>,
}

impl Verifier {
    /// A verifier over a registry client.
    pub fn new(registry: Registry, ttl: Duration) -> Verifier {
        Verifier {
            registry,
            ttl,
            verdicts: Mutex::default(),
            tags: Mutex::default(),
        }
    }

    async fn verdict(
        &self,
        registry: &Registry,
        scope: &str,
        image: &ImageRef,
        digest: &str,
        trust: &Trust,
    ) -> Result<(Verdict, bool), RegistryError> {
        let key = (scope.to_owned(), image.full_name(), digest.to_owned());
        if let Some((at, v)) = self.verdicts.lock().expect("cache").get(&key) {
            if at.elapsed() < self.ttl {
                return Ok((v.clone(), true));
            }
        }
        let mut verdicts = Vec::new();
        if let Some(keys) = &trust.cosign {
            let layers = registry
                .cosign_signatures(&image.registry, &image.repository, digest)
                .await?;
            verdicts.push(cosign::judge(digest, &layers, keys));
        }
        if let Some(store) = &trust.notation {
            let envelopes = registry
                .notation_signatures(&image.registry, &image.repository, digest)
                .await?;
            verdicts.push(notation::judge(
                digest,
                &envelopes,
                store,
                jiff::Timestamp::now(),
            ));
        }
        let v = Verdict::combine(verdicts);
        self.verdicts
            .lock()
            .expect("cache")
            .insert(key, (Instant::now(), v.clone()));
        Ok((v, false))
    }

    /// Verifies an image: the digest it pins, else the digest its tag resolves to now.
    /// A pinned digest whose tag now points to other content that a trusted key signed, and a
    /// tag verified earlier at a signed digest that now points to content nobody trusted
    /// signed, are reported as a moved tag.
    pub async fn verify(&self, image: &ImageRef, trust: &Trust) -> Outcome {
        self.verify_in(image, trust, Context::default()).await
    }

    /// Verifies an image as [`Verifier::verify`] does, knowing more:
    ///
    /// - with a running digest (a Pod's status), that digest is judged, and the digest the
    ///   tag resolves to now is compared with it: when they differ and a trusted signer
    ///   signed one and not the other, the tag moved (the workload runs unsigned content
    ///   while the tag points to signed content; or, for an image not pinned by digest, it
    ///   runs signed content while the tag, which the next pull follows, points to content
    ///   nobody trusted signed);
    /// - with image pull Secrets' logins, the registry requests about this image use the
    ///   login a Secret gives for its registry (else the front-end's own), and nothing of it
    ///   outlives the call.
    pub async fn verify_in(&self, image: &ImageRef, trust: &Trust, cx: Context<'_>) -> Outcome {
        match cx
            .logins
            .and_then(|l| Some((l, l.scope_for(&image.registry)?)))
        {
            Some((logins, scope)) => {
                // A digest whose verdict is cached needs no client (nor a request).
                let digest = cx.running.or(image.digest.as_deref());
                if let Some(d) = digest.filter(|d| image.digest.as_deref() == Some(*d)) {
                    let key = (scope.clone(), image.full_name(), d.to_owned());
                    if let Some((at, v)) = self.verdicts.lock().expect("cache").get(&key) {
                        if at.elapsed() < self.ttl {
                            return Outcome {
                                digest: Some(d.to_owned()),
                                verdict: Ok(v.clone()),
                                cached: true,
                            };
                        }
                    }
                }
                // A client of its own: its logins and the tokens they earn are dropped with it.
                let registry = self
                    .registry
                    .clone()
                    .with_keychain(logins.keychain_over(&self.registry.keychain));
                self.verify_with(&registry, &scope, image, trust, cx.running)
                    .await
            }
            None => {
                self.verify_with(&self.registry, "", image, trust, cx.running)
                    .await
            }
        }
    }

    async fn verify_with(
        &self,
        registry: &Registry,
        scope: &str,
        image: &ImageRef,
        trust: &Trust,
        running_now: Option<&str>,
    ) -> Outcome {
        let tag = image.tag.clone().unwrap_or_else(|| "latest".to_owned());
        let tag_key = (scope.to_owned(), format!("{}:{tag}", image.full_name()));
        let resolve = || async {
            registry
                .manifest(&image.registry, &image.repository, &tag)
                .await
                .map(|m| m.map(|m| m.digest))
        };
        let fail = |digest: Option<String>, e: RegistryError| Outcome {
            digest,
            verdict: Err(e),
            cached: false,
        };
        if let Some(running) = running_now {
            return self
                .verify_running(registry, scope, image, trust, running, &tag)
                .await;
        }
        let running = match &image.digest {
            Some(d) => d.clone(),
            None => match resolve().await {
                Ok(Some(d)) => d,
                Ok(None) => {
                    return fail(
                        None,
                        RegistryError::Invalid {
                            registry: image.registry.clone(),
                            reason: format!("{}:{tag} does not exist", image.full_name()),
                        },
                    )
                }
                Err(e) => return fail(None, e),
            },
        };
        let (verdict, cached) = match self.verdict(registry, scope, image, &running, trust).await {
            Ok(x) => x,
            Err(e) => return fail(Some(running), e),
        };
        let trusted = matches!(verdict, Verdict::Verified { .. });
        if trusted {
            if image.digest.is_none() {
                self.tags
                    .lock()
                    .expect("cache")
                    .insert(tag_key, running.clone());
            }
            return Outcome {
                digest: Some(running),
                verdict: Ok(verdict),
                cached,
            };
        }
        if matches!(verdict, Verdict::Unsigned | Verdict::UntrustedSigner { .. }) {
            // Tag-only: a digest verified earlier for this tag, still cached.
            let (earlier, now) = if image.digest.is_none() {
                (
                    self.tags.lock().expect("cache").get(&tag_key).cloned(),
                    false,
                )
            } else if image.tag.is_some() {
                // Pinned and tagged: what the tag points to now.
                (resolve().await.ok().flatten(), true)
            } else {
                (None, false)
            };
            if let Some(other) = earlier.filter(|d| *d != running) {
                if let Ok((Verdict::Verified { .. }, _)) =
                    self.verdict(registry, scope, image, &other, trust).await
                {
                    return Outcome {
                        digest: Some(running.clone()),
                        verdict: Ok(Verdict::TagMoved {
                            running,
                            tag: now.then(|| other.clone()),
                            signed: other,
                        }),
                        cached,
                    };
                }
            }
        }
        Outcome {
            digest: Some(running),
            verdict: Ok(verdict),
            cached,
        }
    }

    /// A Pod's running digest judged, and compared with the digest its tag resolves to now.
    async fn verify_running(
        &self,
        registry: &Registry,
        scope: &str,
        image: &ImageRef,
        trust: &Trust,
        running: &str,
        tag: &str,
    ) -> Outcome {
        let (verdict, cached) = match self.verdict(registry, scope, image, running, trust).await {
            Ok(x) => x,
            Err(e) => {
                return Outcome {
                    digest: Some(running.to_owned()),
                    verdict: Err(e),
                    cached: false,
                }
            }
        };
        let done = |verdict: Verdict| Outcome {
            digest: Some(running.to_owned()),
            verdict: Ok(verdict),
            cached,
        };
        // An image pinned by a digest and run at it: the tag (if written) is not what runs
        // nor what a restart pulls.
        if image.digest.as_deref() == Some(running)
            || (image.digest.is_some() && image.tag.is_none())
        {
            return done(verdict);
        }
        let pinned_elsewhere = image.digest.as_deref().filter(|d| *d != running);
        let trusted = matches!(verdict, Verdict::Verified { .. });
        // What the tag points to now (or the pinned digest, when the Pod runs another).
        let now = match pinned_elsewhere {
            Some(d) => Some(d.to_owned()),
            None => match registry
                .manifest(&image.registry, &image.repository, tag)
                .await
            {
                Ok(m) => m.map(|m| m.digest),
                Err(e) => {
                    return Outcome {
                        digest: Some(running.to_owned()),
                        verdict: Err(e),
                        cached: false,
                    }
                }
            },
        };
        let Some(now) = now.filter(|d| d != running) else {
            return done(verdict);
        };
        if !trusted && !matches!(verdict, Verdict::Unsigned | Verdict::UntrustedSigner { .. }) {
            // A broken or moved signature on the running digest speaks for itself.
            return done(verdict);
        }
        let now_verdict = match self.verdict(registry, scope, image, &now, trust).await {
            Ok((v, _)) => v,
            Err(e) => {
                return Outcome {
                    digest: Some(running.to_owned()),
                    verdict: Err(e),
                    cached: false,
                }
            }
        };
        let now_trusted = matches!(now_verdict, Verdict::Verified { .. });
        match (trusted, now_trusted) {
            // Runs unsigned content; the tag (or the pinned digest) is signed.
            (false, true) => done(Verdict::TagMoved {
                running: running.to_owned(),
                signed: now.clone(),
                tag: Some(now),
            }),
            // Runs signed content; the tag, which the next pull follows, is not.
            (true, false) if pinned_elsewhere.is_none() => done(Verdict::TagMoved {
                running: running.to_owned(),
                signed: running.to_owned(),
                tag: Some(now),
            }),
            _ => done(verdict),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let p = challenge_params(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
        )
        .unwrap();
        assert_eq!(p["realm"], "https://auth.docker.io/token");
        assert_eq!(p["service"], "registry.docker.io");
        assert_eq!(p["scope"], "repository:library/nginx:pull");
        assert!(challenge_params("Basic realm=x").is_none());
        assert!(
            is_loopback("127.0.0.1:5000") && is_loopback("localhost") && !is_loopback("ghcr.io")
        );
        assert_eq!(
            Registry::url("docker.io", "/v2/"),
            "https://registry-1.docker.io/v2/"
        );
        assert_eq!(encode("repository:a/b:pull"), "repository%3Aa%2Fb%3Apull");
    }
}
