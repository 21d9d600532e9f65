use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// `Secret` objects written in manifests with at least one non-empty value in `data` or
    /// `stringData`: a secret committed to the repository. Values are redacted as they are
    /// loaded, so the finding names the keys only; keys whose value is empty (a template to be
    /// filled in) do not count.
    ///
    /// Keys named like configuration files (`grafana.ini`, `alertmanager.yaml`,
    /// `config.json`, `*.conf`, `*.toml`, `*.properties`, `*.cfg`, `*.xml`) do not count:
    /// values are redacted as they are loaded, so their content cannot be inspected, and in
    /// practice they are mostly configuration kept in a Secret; review those by hand.
    ///
    /// Objects read from a live cluster or a snapshot (they carry `metadata.uid`,
    /// `resourceVersion` or `creationTimestamp`) are not manifests and pass, as do
    /// service-account token Secrets (SEC006) and Secrets that Helm or a controller fills in
    /// at install time (no value).
    ///
    /// ## Why it matters
    /// Base64 is an encoding, not encryption: a Secret in git is a credential readable by
    /// everyone with access to the repository, its forks, CI logs and backups, for ever (git
    /// history keeps it after deletion).
    ///
    /// ## How to fix
    /// Remove the Secret from the repository and rotate the credential. Keep the value in an
    /// external store (Azure Key Vault, AWS Secrets Manager, Vault) and sync it with the
    /// Secrets Store CSI driver or External Secrets, or commit it encrypted (Sealed Secrets,
    /// SOPS).
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: Secret
    /// metadata: { name: db }
    /// stringData:
    ///   password: s3cr3t-prod-pw
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: external-secrets.io/v1beta1
    /// kind: ExternalSecret
    /// metadata: { name: db }
    /// spec:
    ///   secretStoreRef: { name: vault, kind: ClusterSecretStore }
    ///   data:
    ///   - secretKey: password
    ///     remoteRef: { key: prod/db, property: password }
    /// ```
    pub(crate) struct SecretInManifest;
    id: "SEC004",
    name: "secret-in-manifest",
    severity: High,
    summary: "Secret with values is committed in a manifest",
    references: ["nist:4.1.4", "nsa:secrets", "owasp:K08", "cis:5.4.2", "book:workload.secrets"],
    tags: ["secrets"],
    level: None,
    scope: Object,
    kinds: &["Secret"],
    options: &[],
}

/// True when a key names a configuration file rather than a credential.
fn config_file(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    [
        ".yaml",
        ".yml",
        ".json",
        ".ini",
        ".conf",
        ".toml",
        ".properties",
        ".cfg",
        ".xml",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// True when an object was read from a live API server rather than written by hand.
pub(crate) fn from_live_cluster(object: &Object) -> bool {
    [
        "/metadata/uid",
        "/metadata/resourceVersion",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .any(|p| object.pointer(p).is_some_and(|v| !v.is_null()))
}

impl Rule for SecretInManifest {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "Secret" || object.group() != "" || from_live_cluster(object) {
            return;
        }
        if object.pointer("/type").and_then(Value::as_str)
            == Some("kubernetes.io/service-account-token")
        {
            return;
        }
        let mut keys = Vec::new();
        let mut first = None;
        for field in ["data", "stringData"] {
            let Some(map) = object
                .pointer(&format!("/{field}"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (k, v) in map {
                if v.as_str().is_some_and(|s| !s.is_empty()) && !config_file(k) {
                    if first.is_none() {
                        first = Some(format!("/{field}"));
                    }
                    keys.push(k.as_str());
                }
            }
        }
        let Some(path) = first else {
            return;
        };
        keys.sort_unstable();
        keys.dedup();
        cx.report(
            path,
            format!(
                "Secret committed with {} value(s) (keys: {}; values redacted)",
                keys.len(),
                keys.join(", ")
            ),
        )
        .fix("remove the Secret from the repository, rotate it, and sync it from an external store (or commit it encrypted)")
        .property("keys", keys.join(","));
    }
}
