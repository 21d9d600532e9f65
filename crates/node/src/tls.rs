//! TLS and certificates: expiry and key strength of every certificate in the PKI directory
//! and the kubeconfigs, the TLS settings of the API server and the kubelet, encryption of
//! Secrets at rest and audit logging.

use crate::checks::kubelet::kubelet_tls_checks;
use crate::checks::own;
use crate::checks::Component;
use crate::discover::{Discovery, Found};
use crate::engine::result;
use crate::root::Root;
use base64::Engine as _;
use palisade_core::{CheckResult, CheckStatus, Severity};
use serde_json::Value;
use x509_parser::pem::Pem;
use x509_parser::public_key::PublicKey;

/// Certificates expiring within this many days warn.
pub const EXPIRY_WARN_DAYS: i64 = 30;

/// Kubeconfigs whose embedded client certificates are checked.
pub const KUBECONFIGS: &[&str] = &[
    "/etc/kubernetes/admin.conf",
    "/etc/kubernetes/super-admin.conf",
    "/etc/kubernetes/kubelet.conf",
    "/etc/kubernetes/controller-manager.conf",
    "/etc/kubernetes/scheduler.conf",
];

/// Whether a TLS cipher suite is weak: CBC mode, RC4, 3DES, NULL/export, or RSA key exchange
/// without forward secrecy.
pub fn weak_cipher(suite: &str) -> bool {
    let s = suite.trim();
    ["CBC", "RC4", "3DES", "NULL", "EXPORT", "_DES_"]
        .iter()
        .any(|w| s.contains(w))
        || s.starts_with("TLS_RSA_WITH_")
}

/// Whether a Go TLS version name is older than TLS 1.2.
pub fn weak_tls_version(v: &str) -> bool {
    matches!(v.trim(), "VersionTLS10" | "VersionTLS11")
}

/// A certificate's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertInfo {
    /// Subject.
    pub subject: String,
    /// Expiry, seconds since the epoch.
    pub not_after: i64,
    /// `RSA`, `EC`, `Ed25519`...
    pub algorithm: String,
    /// Key size in bits (0 when not meaningful).
    pub bits: usize,
}

fn rsa_bits(modulus: &[u8]) -> usize {
    let m: &[u8] = {
        let first = modulus
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(modulus.len());
        &modulus[first..]
    };
    match m.first() {
        Some(b) => 8 * m.len() - b.leading_zeros() as usize,
        None => 0,
    }
}

/// Parses every certificate of a PEM bundle.
pub fn parse_certs(pem: &[u8]) -> Result<Vec<CertInfo>, String> {
    let mut out = Vec::new();
    for p in Pem::iter_from_buffer(pem) {
        let p = p.map_err(|e| e.to_string())?;
        if p.label != "CERTIFICATE" {
            continue;
        }
        let cert = p.parse_x509().map_err(|e| e.to_string())?;
        let (algorithm, bits) = match cert.public_key().parsed() {
            Ok(PublicKey::RSA(rsa)) => ("RSA".to_owned(), rsa_bits(rsa.modulus)),
            Ok(PublicKey::EC(ec)) => ("EC".to_owned(), ec.key_size()),
            Ok(PublicKey::DSA(_)) => ("DSA".to_owned(), 0),
            Ok(PublicKey::GostR3410(_)) | Ok(PublicKey::GostR3410_2012(_)) => {
                ("GOST".to_owned(), 0)
            }
            Ok(PublicKey::Unknown(_)) | Err(_) => {
                let oid = cert.public_key().algorithm.algorithm.to_id_string();
                let name = if oid == "1.3.101.112" {
                    "Ed25519".to_owned()
                } else {
                    oid
                };
                (name, 0)
            }
        };
        out.push(CertInfo {
            subject: cert.subject().to_string(),
            not_after: cert.validity().not_after.timestamp(),
            algorithm,
            bits,
        });
    }
    Ok(out)
}

fn date(ts: i64) -> String {
    jiff::Timestamp::from_second(ts)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| ts.to_string())
}

/// Expiry and key-strength results for the certificates of one file.
pub fn cert_results(where_: &str, pem: &[u8], now: jiff::Timestamp) -> Vec<CheckResult> {
    let certs = match parse_certs(pem) {
        Ok(c) => c,
        Err(e) => {
            return vec![result(
                own::CERT_EXPIRY.id,
                own::CERT_EXPIRY.family,
                own::CERT_UNREADABLE_TITLE,
                CheckStatus::Warn,
                Severity::Low,
                None,
                format!("{where_}: cannot parse the certificate: {e}"),
                None,
                Some(where_.to_owned()),
                None,
                true,
            )]
        }
    };
    let mut out = Vec::new();
    for c in certs {
        let days = (c.not_after - now.as_second()).div_euclid(86_400);
        let (status, sev, text) = if c.not_after <= now.as_second() {
            (
                CheckStatus::Fail,
                Severity::Critical,
                format!("{where_}: {} expired on {}", c.subject, date(c.not_after)),
            )
        } else if days < EXPIRY_WARN_DAYS {
            (
                CheckStatus::Warn,
                Severity::High,
                format!(
                    "{where_}: {} expires on {} ({days} days)",
                    c.subject,
                    date(c.not_after)
                ),
            )
        } else {
            (
                CheckStatus::Pass,
                Severity::High,
                format!(
                    "{where_}: {} valid until {} ({days} days)",
                    c.subject,
                    date(c.not_after)
                ),
            )
        };
        let mut r = own::CERT_EXPIRY.result(status, None, text, Some(where_.to_owned()));
        r.severity = sev;
        out.push(r);
        let weak = (c.algorithm == "RSA" && c.bits < 2048) || c.algorithm == "DSA";
        out.push(own::KEY_STRENGTH.result(
            if weak {
                CheckStatus::Fail
            } else {
                CheckStatus::Pass
            },
            None,
            format!("{where_}: {} {} {} bits", c.subject, c.algorithm, c.bits),
            Some(where_.to_owned()),
        ));
    }
    out
}

/// The client certificates embedded in (or referenced by) a kubeconfig.
pub fn kubeconfig_certs(root: &Root, path: &str, text: &str) -> Vec<(String, Vec<u8>)> {
    let Ok(v) = serde_yaml_ng::from_str::<Value>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for u in v
        .get("users")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = u.get("name").and_then(Value::as_str).unwrap_or("?");
        let user = u.get("user");
        if let Some(data) = user
            .and_then(|u| u.get("client-certificate-data"))
            .and_then(Value::as_str)
        {
            if let Ok(pem) = base64::engine::general_purpose::STANDARD.decode(data.trim()) {
                out.push((format!("{path} (user {name})"), pem));
            }
        } else if let Some(file) = user
            .and_then(|u| u.get("client-certificate"))
            .and_then(Value::as_str)
        {
            if let Ok(pem) = root.read_bytes(file) {
                out.push((format!("{file} (user {name} of {path})"), pem));
            }
        }
    }
    out
}

fn api_flag<'a>(api: &'a Found, name: &str) -> Option<&'a str> {
    api.flags.get(name)
}

/// The encryption providers for Secrets in an EncryptionConfiguration, in order.
pub fn secret_providers(config: &Value) -> Option<Vec<(String, Value)>> {
    let resources = config.get("resources")?.as_array()?;
    for r in resources {
        let covers = r
            .get("resources")
            .and_then(Value::as_array)
            .is_some_and(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .any(|s| s == "secrets" || s == "*.*" || s == "*.")
            });
        if covers {
            let providers = r.get("providers")?.as_array()?;
            return Some(
                providers
                    .iter()
                    .filter_map(|p| {
                        p.as_object()?
                            .iter()
                            .next()
                            .map(|(k, v)| (k.clone(), v.clone()))
                    })
                    .collect(),
            );
        }
    }
    Some(Vec::new())
}

/// Evaluates an EncryptionConfiguration for Secrets: identity first (or no provider) fails,
/// `kms` v2, `aescbc` and `secretbox` pass, `aesgcm` and `kms` v1 warn.
pub fn evaluate_encryption(config: &Value) -> (CheckStatus, String) {
    let Some(providers) = secret_providers(config) else {
        return (
            CheckStatus::Fail,
            "not an EncryptionConfiguration (no resources)".to_owned(),
        );
    };
    let Some((first, settings)) = providers.first() else {
        return (
            CheckStatus::Fail,
            "no provider configured for secrets: they are stored in plain text".to_owned(),
        );
    };
    let names: Vec<&str> = providers.iter().map(|(k, _)| k.as_str()).collect();
    let list = names.join(", ");
    match first.as_str() {
        "identity" => (CheckStatus::Fail, format!("first provider for secrets is identity (providers: {list}): new Secrets are written unencrypted")),
        "kms" => {
            let v2 = settings.get("apiVersion").and_then(Value::as_str) == Some("v2");
            if v2 {
                (CheckStatus::Pass, format!("secrets encrypted with kms v2 (providers: {list})"))
            } else {
                (CheckStatus::Warn, format!("secrets encrypted with kms v1, deprecated (providers: {list})"))
            }
        }
        "aescbc" | "secretbox" => (CheckStatus::Pass, format!("secrets encrypted with {first} (providers: {list})")),
        "aesgcm" => (CheckStatus::Warn, format!("secrets encrypted with aesgcm, which needs key rotation every 200k writes (providers: {list})")),
        other => (CheckStatus::Warn, format!("unknown first provider {other} (providers: {list})")),
    }
}

fn read_encryption(root: &Root, api: &Found) -> (CheckStatus, String, Option<String>) {
    let Some(path) = api_flag(api, "encryption-provider-config") else {
        return (
            CheckStatus::Fail,
            "--encryption-provider-config unset: Secrets are stored in etcd in plain text"
                .to_owned(),
            None,
        );
    };
    let text = match root.read(path) {
        Ok(t) => t,
        Err(e) => {
            return (
                CheckStatus::Fail,
                format!("{path}: {e}"),
                Some(path.to_owned()),
            )
        }
    };
    match serde_yaml_ng::from_str::<Value>(&text) {
        Ok(v) => {
            let (s, t) = evaluate_encryption(&v);
            (s, format!("{path}: {t}"), Some(path.to_owned()))
        }
        Err(e) => (
            CheckStatus::Fail,
            format!("{path}: not YAML: {e}"),
            Some(path.to_owned()),
        ),
    }
}

/// CIS 1.2.28 (manual): the encryption providers, observed only.
pub fn encryption_manual(root: &Root, api: &Found) -> CheckResult {
    let (_, text, file) = read_encryption(root, api);
    own::ENCRYPTION_PROVIDERS.result(
        CheckStatus::Manual,
        Some(Component::ApiServer),
        format!("{text} (CIS marks this check manual: observed only; see tls.encryption-at-rest)"),
        file,
    )
}

/// Every TLS, certificate, encryption and audit check.
pub fn checks(root: &Root, d: &Discovery, now: jiff::Timestamp) -> Vec<CheckResult> {
    let mut out = Vec::new();
    // Certificates in the PKI directory and kubeconfigs.
    for path in root.walk("/etc/kubernetes/pki") {
        if path.ends_with(".crt") {
            if let Ok(pem) = root.read_bytes(&path) {
                out.extend(cert_results(&path, &pem, now));
            }
        }
    }
    for kc in KUBECONFIGS {
        if let Ok(text) = root.read(kc) {
            for (where_, pem) in kubeconfig_certs(root, kc, &text) {
                out.extend(cert_results(&where_, &pem, now));
            }
        }
    }
    if let Some(api) = d.get(Component::ApiServer) {
        let c = Some(Component::ApiServer);
        let min = api_flag(api, "tls-min-version");
        let weak = min.is_some_and(weak_tls_version);
        out.push(own::APISERVER_TLS_MIN_VERSION.result(
            if weak {
                CheckStatus::Fail
            } else {
                CheckStatus::Pass
            },
            c,
            match min {
                Some(v) => format!("--tls-min-version={v}"),
                None => "--tls-min-version unset (default VersionTLS12)".to_owned(),
            },
            None,
        ));
        let suites = api_flag(api, "tls-cipher-suites");
        let weak: Vec<&str> = suites
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| weak_cipher(s))
                    .collect()
            })
            .unwrap_or_default();
        out.push(own::APISERVER_CIPHER_SUITES.result(
            if weak.is_empty() {
                CheckStatus::Pass
            } else {
                CheckStatus::Fail
            },
            c,
            match (suites, weak.is_empty()) {
                (None, _) => "--tls-cipher-suites unset (Go's secure defaults)".to_owned(),
                (Some(_), true) => "--tls-cipher-suites lists AEAD suites only".to_owned(),
                (Some(_), false) => format!("weak suites: {}", weak.join(", ")),
            },
            None,
        ));
        let (status, text, file) = read_encryption(root, api);
        out.push(own::ENCRYPTION_AT_REST.result(status, c, text, file));
        // Audit policy.
        let (status, text, file) = match api_flag(api, "audit-policy-file") {
            None => (
                CheckStatus::Fail,
                "--audit-policy-file unset: no audit events are recorded".to_owned(),
                None,
            ),
            Some(p) => match root.read(p).map(|t| serde_yaml_ng::from_str::<Value>(&t)) {
                Ok(Ok(v))
                    if v.get("kind").and_then(Value::as_str) == Some("Policy")
                        && v.get("rules")
                            .and_then(Value::as_array)
                            .is_some_and(|r| !r.is_empty()) =>
                {
                    let n = v["rules"].as_array().map_or(0, Vec::len);
                    (
                        CheckStatus::Pass,
                        format!("{p}: audit Policy with {n} rules"),
                        Some(p.to_owned()),
                    )
                }
                Ok(Ok(_)) => (
                    CheckStatus::Fail,
                    format!("{p}: not an audit Policy with rules"),
                    Some(p.to_owned()),
                ),
                Ok(Err(e)) => (
                    CheckStatus::Fail,
                    format!("{p}: not YAML: {e}"),
                    Some(p.to_owned()),
                ),
                Err(e) => (CheckStatus::Fail, format!("{p}: {e}"), Some(p.to_owned())),
            },
        };
        out.push(own::AUDIT_POLICY.result(status, c, text, file));
        let log = api_flag(api, "audit-log-path");
        let hook = api_flag(api, "audit-webhook-config-file");
        out.push(own::AUDIT_LOG.result(
            if log.is_some() || hook.is_some() {
                CheckStatus::Pass
            } else {
                CheckStatus::Fail
            },
            c,
            match (log, hook) {
                (Some(l), _) => format!("--audit-log-path={l}"),
                (None, Some(h)) => format!("--audit-webhook-config-file={h}"),
                _ => "neither --audit-log-path nor --audit-webhook-config-file is set".to_owned(),
            },
            None,
        ));
    }
    if let Some(k) = d.get(Component::Kubelet) {
        out.extend(kubelet_tls_checks(&k.flags, k.config.as_ref()));
    }
    out
}
