//! Registry credentials, as Docker keeps them: the `auths` of a Docker config file
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`) and of the
//! `.dockerconfigjson` of a `kubernetes.io/dockerconfigjson` image pull Secret (the same
//! format). Each entry is `auth` (base64 of `user:password`) or `username` and `password`.
//! Credential helpers (`credsStore`, `credHelpers`) are not run, and identity tokens are not
//! used.
//!
//! A password never leaves this module except in the `Authorization` header sent to the
//! registry (or its token service): [`Credentials`] prints as its user name only, and
//! errors name the file and the registry entry, never a value.

use base64::Engine as _;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// A registry login.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    username: String,
    password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// A login from a user name and password.
    pub fn new(username: &str, password: &str) -> Credentials {
        Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    /// The user name.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The `Authorization` header value of HTTP basic authentication.
    pub(crate) fn basic(&self) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// Why credentials could not be read. Never holds a credential.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {reason}")]
pub struct CredentialError {
    /// The file or Secret read.
    pub source_name: String,
    /// What is wrong.
    pub reason: String,
}

/// Registry logins by registry host (`ghcr.io`, `127.0.0.1:5000`, `docker.io`).
#[derive(Clone, Debug, Default)]
pub struct Keychain {
    by_registry: HashMap<String, Credentials>,
}

/// The registry host a Docker config key names: `https://index.docker.io/v1/` is
/// `docker.io`, `https://ghcr.io` is `ghcr.io`.
pub fn registry_of_key(key: &str) -> String {
    let k = key
        .trim()
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = k.split('/').next().unwrap_or(k).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            palisade_core::image::DOCKER_HUB.to_owned()
        }
        _ => host,
    }
}

impl Keychain {
    /// An empty keychain (anonymous access only).
    pub fn new() -> Keychain {
        Keychain::default()
    }

    /// Reads the `auths` of a Docker config document (`config.json`, or a pull Secret's
    /// `.dockerconfigjson`); `source_name` names it in errors.
    pub fn from_docker_config(text: &str, source_name: &str) -> Result<Keychain, CredentialError> {
        let err = |reason: String| CredentialError {
            source_name: source_name.to_owned(),
            reason,
        };
        // serde_json's messages give a line and column, never the text.
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| err(format!("not a JSON Docker config: {e}")))?;
        let mut out = Keychain::default();
        let Some(auths) = doc.get("auths") else {
            return Ok(out);
        };
        let Some(auths) = auths.as_object() else {
            return Err(err("`auths` is not an object".to_owned()));
        };
        for (key, entry) in auths {
            let from_auth = entry
                .get("auth")
                .and_then(Value::as_str)
                .filter(|a| !a.is_empty());
            let creds = if let Some(auth) = from_auth {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| err(format!("auths.\"{key}\".auth is not base64 text")))?;
                let (user, pass) = decoded.split_once(':').ok_or_else(|| {
                    err(format!(
                        "auths.\"{key}\".auth is not `user:password` in base64"
                    ))
                })?;
                Credentials::new(user, pass)
            } else {
                match (
                    entry.get("username").and_then(Value::as_str),
                    entry.get("password").and_then(Value::as_str),
                ) {
                    (Some(u), Some(p)) => Credentials::new(u, p),
                    // An entry without a login (a credential helper's, an identity token).
                    _ => continue,
                }
            };
            out.by_registry.insert(registry_of_key(key), creds);
        }
        Ok(out)
    }

    /// The Docker config file Docker itself reads: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`.
    pub fn default_docker_config_path() -> Option<PathBuf> {
        match std::env::var_os("DOCKER_CONFIG") {
            Some(dir) if !dir.is_empty() => Some(Path::new(&dir).join("config.json")),
            _ => std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(|h| Path::new(&h).join(".docker/config.json")),
        }
    }

    /// Reads a Docker config file; a missing file is an empty keychain.
    pub fn from_docker_config_file(path: &Path) -> Result<Keychain, CredentialError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Keychain::from_docker_config(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Keychain::default()),
            Err(e) => Err(CredentialError {
                source_name: path.display().to_string(),
                reason: format!("cannot be read: {e}"),
            }),
        }
    }

    /// Adds the logins of `other`; an existing login for the same registry is kept.
    pub fn merge(&mut self, other: Keychain) {
        for (k, v) in other.by_registry {
            self.by_registry.entry(k).or_insert(v);
        }
    }

    /// The login for a registry host.
    pub fn get(&self, registry: &str) -> Option<&Credentials> {
        self.by_registry.get(&registry.to_ascii_lowercase())
    }

    /// The registries with a login, sorted.
    pub fn registries(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.by_registry.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// True when the keychain holds no login.
    pub fn is_empty(&self) -> bool {
        self.by_registry.is_empty()
    }
}

/// The kinds of image pull Secret whose logins are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullSecretKind {
    /// `kubernetes.io/dockerconfigjson`: `data[".dockerconfigjson"]`, a Docker config file.
    DockerConfigJson,
    /// `kubernetes.io/dockercfg` (legacy): `data[".dockercfg"]`, the `auths` object alone.
    DockerCfg,
}

impl PullSecretKind {
    /// The kind of a Secret `type`, when it is an image pull Secret.
    pub fn of_type(secret_type: &str) -> Option<PullSecretKind> {
        match secret_type {
            "kubernetes.io/dockerconfigjson" => Some(PullSecretKind::DockerConfigJson),
            "kubernetes.io/dockercfg" => Some(PullSecretKind::DockerCfg),
            _ => None,
        }
    }

    /// The `data` key that holds the logins.
    pub fn data_key(self) -> &'static str {
        match self {
            PullSecretKind::DockerConfigJson => ".dockerconfigjson",
            PullSecretKind::DockerCfg => ".dockercfg",
        }
    }
}

/// The registry logins of the image pull Secrets of one workload, all from its own namespace,
/// for the registry requests about that workload's images only; dropped after them.
///
/// Nothing about the logins is printable: `Debug` shows the namespace, the Secrets' names and
/// the registries, never a user name or password, and errors name the Secret and the entry.
#[derive(Clone, Default)]
pub struct PullSecretLogins {
    namespace: String,
    secrets: Vec<String>,
    keychain: Keychain,
    /// The Secret each registry's login came from.
    source: HashMap<String, String>,
}

impl fmt::Debug for PullSecretLogins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PullSecretLogins")
            .field("namespace", &self.namespace)
            .field("secrets", &self.secrets)
            .field("registries", &self.keychain.registries())
            .finish()
    }
}

impl PullSecretLogins {
    /// No logins yet, for a workload of `namespace`.
    pub fn new(namespace: &str) -> PullSecretLogins {
        PullSecretLogins {
            namespace: namespace.to_owned(),
            ..PullSecretLogins::default()
        }
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Adds the logins of the Secret `namespace/name`, whose `data` entry for `kind` is
    /// `encoded` (base64, as the API server returns it). A Secret of another namespace than
    /// the workload's is refused: a workload never uses another namespace's logins. A
    /// registry that an earlier Secret has a login for keeps it (the kubelet tries the
    /// Secrets in order).
    pub fn add(
        &mut self,
        namespace: &str,
        name: &str,
        kind: PullSecretKind,
        encoded: &str,
    ) -> Result<(), CredentialError> {
        let source_name = format!("Secret {namespace}/{name}");
        let err = |reason: String| CredentialError {
            source_name: source_name.clone(),
            reason,
        };
        if namespace != self.namespace {
            return Err(err(format!(
                "is not in namespace {}, the workload's: not used",
                self.namespace
            )));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| err(format!("data[\"{}\"] is not base64 text", kind.data_key())))?;
        let keychain = match kind {
            PullSecretKind::DockerConfigJson => {
                Keychain::from_docker_config(&decoded, &source_name)?
            }
            PullSecretKind::DockerCfg => {
                // The legacy format is the `auths` object of the newer one.
                let auths: Value = serde_json::from_str(&decoded).map_err(|e| {
                    err(format!(
                        "data[\".dockercfg\"] is not a JSON Docker config: {e}"
                    ))
                })?;
                Keychain::from_docker_config(
                    &serde_json::json!({ "auths": auths }).to_string(),
                    &source_name,
                )?
            }
        };
        for r in keychain.registries() {
            if self.keychain.get(r).is_none() {
                self.source.insert(r.to_owned(), name.to_owned());
            }
        }
        self.keychain.merge(keychain);
        self.secrets.push(name.to_owned());
        Ok(())
    }

    /// The Secrets read, in order.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// `namespace/name,name`: the Secrets read, as evidence names them.
    pub fn describe(&self) -> String {
        format!("{}/{}", self.namespace, self.secrets.join(","))
    }

    /// True when no Secret gave a login.
    pub fn is_empty(&self) -> bool {
        self.keychain.is_empty()
    }

    /// The Secret (`namespace/name`) whose login is used for `registry`, if any.
    pub fn scope_for(&self, registry: &str) -> Option<String> {
        self.source
            .get(&registry.to_ascii_lowercase())
            .map(|s| format!("{}/{s}", self.namespace))
    }

    /// The keychain: these logins first, then `fallback`'s for the other registries.
    pub(crate) fn keychain_over(&self, fallback: &Keychain) -> Keychain {
        let mut k = self.keychain.clone();
        k.merge(fallback.clone());
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_config_entries() {
        let auth = base64::engine::general_purpose::STANDARD.encode("ci:s3cret:with:colons");
        let text = format!(
            r#"{{"auths": {{
                "https://index.docker.io/v1/": {{"auth": "{auth}"}},
                "ghcr.io": {{"username": "bot", "password": "tok"}},
                "https://127.0.0.1:5000/v2/": {{"auth": "{auth}"}},
                "helper.example.com": {{}}
            }}, "credsStore": "desktop"}}"#
        );
        let k = Keychain::from_docker_config(&text, "config.json").unwrap();
        assert_eq!(k.registries(), ["127.0.0.1:5000", "docker.io", "ghcr.io"]);
        let hub = k.get("docker.io").unwrap();
        assert_eq!(hub.username(), "ci");
        assert_eq!(
            hub.basic(),
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("ci:s3cret:with:colons")
            )
        );
        // Never printed.
        let shown = format!("{hub:?} {k:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(Keychain::from_docker_config("{}", "c").unwrap().is_empty());
    }

    #[test]
    fn errors_name_the_entry_not_the_value() {
        let e = Keychain::from_docker_config(
            r#"{"auths": {"ghcr.io": {"auth": "!!not-base64-password!!"}}}"#,
            "/home/ci/.docker/config.json",
        )
        .unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("/home/ci/.docker/config.json") && m.contains("ghcr.io"),
            "{m}"
        );
        assert!(!m.contains("not-base64-password"), "{m}");
        let e = Keychain::from_docker_config("{\"auths\": [", "c.json").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let no_colon = base64::engine::general_purpose::STANDARD.encode("justatoken");
        let e = Keychain::from_docker_config(
            &format!(r#"{{"auths": {{"r.io": {{"auth": "{no_colon}"}}}}}}"#),
            "c.json",
        )
        .unwrap_err();
        assert!(!e.to_string().contains("justatoken"), "{e}");
    }

    #[test]
    fn pull_secret_logins() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let config = format!(
            r#"{{"auths": {{"127.0.0.1:5000": {{"auth": "{}"}}}}}}"#,
            b64("puller:pull-pw-1")
        );
        let legacy = format!(
            r#"{{"ghcr.io": {{"auth": "{}", "email": "x@example.com"}}, "127.0.0.1:5000": {{"username": "other", "password": "pull-pw-2"}}}}"#,
            b64("bot:pull-pw-3")
        );
        let mut l = PullSecretLogins::new("shop");
        l.add(
            "shop",
            "regcred",
            PullSecretKind::DockerConfigJson,
            &b64(&config),
        )
        .unwrap();
        l.add("shop", "legacy", PullSecretKind::DockerCfg, &b64(&legacy))
            .unwrap();
        assert_eq!(l.describe(), "shop/regcred,legacy");
        // The first Secret's login wins for a registry both name.
        assert_eq!(
            l.scope_for("127.0.0.1:5000").as_deref(),
            Some("shop/regcred")
        );
        assert_eq!(l.scope_for("GHCR.io").as_deref(), Some("shop/legacy"));
        assert_eq!(l.scope_for("docker.io"), None);
        let k = l.keychain_over(&Keychain::new());
        assert_eq!(k.get("127.0.0.1:5000").unwrap().username(), "puller");
        // Another namespace's Secret is refused.
        let e = l
            .add(
                "billing",
                "regcred",
                PullSecretKind::DockerConfigJson,
                &b64(&config),
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("Secret billing/regcred") && e.to_string().contains("not used"),
            "{e}"
        );
        // Nothing printable shows a login.
        let shown = format!("{l:?}");
        assert!(
            !shown.contains("pull-pw") && !shown.contains("puller") && !shown.contains("bot"),
            "{shown}"
        );
        assert!(
            shown.contains("regcred") && shown.contains("127.0.0.1:5000"),
            "{shown}"
        );
        let e = l
            .add(
                "shop",
                "broken",
                PullSecretKind::DockerConfigJson,
                "%%pull-pw-4%%",
            )
            .unwrap_err();
        assert!(
            e.to_string().contains("Secret shop/broken") && !e.to_string().contains("pull-pw"),
            "{e}"
        );
        assert_eq!(
            PullSecretKind::of_type("kubernetes.io/dockercfg"),
            Some(PullSecretKind::DockerCfg)
        );
        assert_eq!(PullSecretKind::of_type("Opaque"), None);
    }

    #[test]
    fn keys_to_registries() {
        assert_eq!(registry_of_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(registry_of_key("Contoso.azurecr.io"), "contoso.azurecr.io");
        assert_eq!(registry_of_key("http://localhost:5000"), "localhost:5000");
    }
}
