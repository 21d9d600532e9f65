//! The one place Palisade reads Secret values: the image pull Secrets a workload names,
//! each read with a `GET` of that Secret in the workload's own namespace, for the registry
//! logins of image signature verification.
//!
//! Everything else reads Secrets as metadata ([`crate::read`]). Here, only the `data` entry
//! that holds the logins (`.dockerconfigjson`, or the legacy `.dockercfg`) is kept, in a
//! [`PullSecret`] whose `Debug` output and errors never show it; the rest of the Secret is
//! dropped as soon as it is parsed. The caller turns it into registry logins and drops it.
//!
//! A workload's pull Secrets are its own `imagePullSecrets`, else its ServiceAccount's, as
//! the ServiceAccount admission plugin gives a Pod its ServiceAccount's when it names none.

use serde_json::Value;
use std::time::Duration;

/// The kind of an image pull Secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullSecretType {
    /// `kubernetes.io/dockerconfigjson`.
    DockerConfigJson,
    /// `kubernetes.io/dockercfg` (legacy).
    DockerCfg,
}

impl PullSecretType {
    /// The Secret `type`.
    pub fn type_name(self) -> &'static str {
        match self {
            PullSecretType::DockerConfigJson => "kubernetes.io/dockerconfigjson",
            PullSecretType::DockerCfg => "kubernetes.io/dockercfg",
        }
    }

    fn data_key(self) -> &'static str {
        match self {
            PullSecretType::DockerConfigJson => ".dockerconfigjson",
            PullSecretType::DockerCfg => ".dockercfg",
        }
    }
}

/// An image pull Secret's logins entry, as read (base64, as the API server returns `data`).
/// Printing it shows the namespace, the name and the type only.
pub struct PullSecret {
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The type.
    pub secret_type: PullSecretType,
    encoded: String,
}

impl std::fmt::Debug for PullSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullSecret")
            .field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("secret_type", &self.secret_type)
            .finish_non_exhaustive()
    }
}

impl PullSecret {
    /// The logins entry (`data[".dockerconfigjson"]` or `data[".dockercfg"]`), base64.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }

    /// The entry of a Secret object as the API server returns it; why it is not an image
    /// pull Secret otherwise (never a value).
    pub fn from_secret(namespace: &str, name: &str, secret: &Value) -> Result<PullSecret, String> {
        let t = secret.get("type").and_then(Value::as_str).unwrap_or("");
        let secret_type = match t {
            "kubernetes.io/dockerconfigjson" => PullSecretType::DockerConfigJson,
            "kubernetes.io/dockercfg" => PullSecretType::DockerCfg,
            other => {
                return Err(format!(
                    "is of type `{other}`, not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg"
                ))
            }
        };
        let encoded = secret
            .pointer(&format!("/data/{}", secret_type.data_key()))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("has no data[\"{}\"]", secret_type.data_key()))?;
        Ok(PullSecret {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            secret_type,
            encoded: encoded.to_owned(),
        })
    }
}

/// The names in an `imagePullSecrets` list (`[{name: ...}]`), in order, each once.
pub use palisade_core::podspec::pull_secret_names as names;

/// Reads image pull Secrets and ServiceAccounts, one `GET` each.
#[derive(Clone)]
pub struct PullSecretReader {
    client: kube::Client,
    timeout: Duration,
}

impl std::fmt::Debug for PullSecretReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullSecretReader")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

impl PullSecretReader {
    /// A reader over a client (the webhook's, or one made by [`PullSecretReader::connect`]);
    /// each request within `timeout`.
    pub fn new(client: kube::Client, timeout: Duration) -> PullSecretReader {
        PullSecretReader { client, timeout }
    }

    /// A reader for the cluster `opts` names (kubeconfig, context), with its request timeout.
    pub async fn connect(opts: &crate::ReadOptions) -> Result<PullSecretReader, crate::Error> {
        let (client, _, _) = crate::client(opts).await?;
        Ok(PullSecretReader::new(client, opts.timeout))
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        let req = http::Request::get(path)
            .header(http::header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| e.to_string())?;
        match tokio::time::timeout(self.timeout, self.client.request::<Value>(req)).await {
            Err(_) => Err(format!("no answer within {} s", self.timeout.as_secs())),
            Ok(Ok(v)) => Ok(v),
            // The API server's status message names the object and the reason, never a value.
            Ok(Err(kube::Error::Api(e))) => Err(format!("{} {}: {}", e.code, e.reason, e.message)),
            Ok(Err(kube::Error::SerdeError(_))) => Err("the answer is not JSON".to_owned()),
            Ok(Err(e)) => Err(e.to_string()),
        }
    }

    /// The image pull Secret `namespace/name`; why it cannot be used otherwise (403, 404, not
    /// an image pull Secret).
    pub async fn pull_secret(&self, namespace: &str, name: &str) -> Result<PullSecret, String> {
        if !is_name(namespace) || !is_name(name) {
            return Err("is not a valid object name".to_owned());
        }
        let secret = self
            .get(&format!("/api/v1/namespaces/{namespace}/secrets/{name}"))
            .await?;
        PullSecret::from_secret(namespace, name, &secret)
    }

    /// The `imagePullSecrets` of the ServiceAccount `namespace/name`.
    pub async fn service_account_pull_secrets(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Vec<String>, String> {
        if !is_name(namespace) || !is_name(name) {
            return Err("is not a valid object name".to_owned());
        }
        let sa = self
            .get(&format!(
                "/api/v1/namespaces/{namespace}/serviceaccounts/{name}"
            ))
            .await?;
        Ok(names(sa.get("imagePullSecrets")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pull_secret_entries() {
        let s = json!({"kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": "eyJhdXRocyI6e319", "other": "c2VjcmV0LXZhbHVl"}});
        let p = PullSecret::from_secret("shop", "regcred", &s).unwrap();
        assert_eq!(p.encoded(), "eyJhdXRocyI6e319");
        assert_eq!(p.secret_type.type_name(), "kubernetes.io/dockerconfigjson");
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("eyJ") && shown.contains("regcred"),
            "{shown}"
        );
        let legacy = json!({"type": "kubernetes.io/dockercfg", "data": {".dockercfg": "e30="}});
        assert_eq!(
            PullSecret::from_secret("shop", "old", &legacy)
                .unwrap()
                .secret_type,
            PullSecretType::DockerCfg
        );
        let opaque = json!({"type": "Opaque", "data": {"password": "c2VjcmV0LXZhbHVl"}});
        let e = PullSecret::from_secret("shop", "db", &opaque).unwrap_err();
        assert!(e.contains("`Opaque`") && !e.contains("c2Vj"), "{e}");
        let empty = json!({"type": "kubernetes.io/dockerconfigjson", "data": {}});
        assert!(PullSecret::from_secret("shop", "x", &empty)
            .unwrap_err()
            .contains(".dockerconfigjson"));
        assert_eq!(
            names(Some(
                &json!([{"name": "a"}, {"name": ""}, {}, {"name": "b"}, {"name": "a"}])
            )),
            ["a", "b"]
        );
        assert!(names(None).is_empty());
        assert!(!is_name("../x") && !is_name("") && is_name("regcred-1.x"));
    }
}
