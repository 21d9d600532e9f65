//! Kubelet checks as functions over a `KubeletConfiguration` (a `serde_json::Value`), so a
//! kubelet configuration read through the API (`/api/v1/nodes/NAME/proxy/configz`) is checked
//! the same way as the file on a host.

use super::cis::FLAG_CHECKS;
use super::own;
use super::Component;
use crate::engine::flag_result;
use crate::flags::Flags;
use crate::tls::{weak_cipher, weak_tls_version};
use palisade_core::{CheckResult, CheckStatus};
use serde_json::Value;

/// Every kubelet check (CIS §4.2 of the benchmark `minor`, and the TLS checks) over a
/// kubelet configuration alone (a `KubeletConfiguration`, or the `/configz` answer that wraps
/// it in `kubeletconfig`).
pub fn kubelet_config_checks(config: &Value, minor: u32) -> Vec<CheckResult> {
    // The kubelet's `/configz` endpoint wraps the configuration in `kubeletconfig`.
    let config = config.get("kubeletconfig").unwrap_or(config);
    kubelet_checks(&Flags::default(), Some(config), minor)
}

/// Every kubelet check over its flags and configuration file.
pub fn kubelet_checks(flags: &Flags, config: Option<&Value>, minor: u32) -> Vec<CheckResult> {
    let mut out: Vec<CheckResult> = FLAG_CHECKS
        .iter()
        .filter(|c| c.component == Component::Kubelet)
        .filter(|c| c.versions.since <= minor && minor <= c.versions.until)
        .map(|c| flag_result(c, flags, config))
        .collect();
    out.extend(kubelet_tls_checks(flags, config));
    out
}

fn setting(flags: &Flags, config: Option<&Value>, flag: &str, ptr: &str) -> Option<String> {
    flags.get(flag).map(str::to_owned).or_else(|| {
        config
            .and_then(|c| c.pointer(ptr))
            .map(crate::flags::value_text)
    })
}

/// The kubelet's TLS settings: minimum version, weak suites, client-certificate
/// authentication, serving-certificate bootstrap.
pub fn kubelet_tls_checks(flags: &Flags, config: Option<&Value>) -> Vec<CheckResult> {
    let k = Some(Component::Kubelet);
    let mut out = Vec::new();
    let min = setting(flags, config, "tls-min-version", "/tlsMinVersion");
    let weak = min.as_deref().is_some_and(weak_tls_version);
    out.push(own::KUBELET_TLS_MIN_VERSION.result(
        if weak {
            CheckStatus::Fail
        } else {
            CheckStatus::Pass
        },
        k,
        match &min {
            Some(v) => format!("tlsMinVersion={v}"),
            None => "tlsMinVersion unset (default VersionTLS12)".to_owned(),
        },
        None,
    ));
    let suites = setting(flags, config, "tls-cipher-suites", "/tlsCipherSuites");
    let weak: Vec<String> = suites
        .as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| weak_cipher(s))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    out.push(own::KUBELET_CIPHER_SUITES.result(
        if weak.is_empty() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        k,
        match (&suites, weak.is_empty()) {
            (None, _) => "tlsCipherSuites unset (Go's secure defaults)".to_owned(),
            (Some(_), true) => "tlsCipherSuites lists AEAD suites only".to_owned(),
            (Some(_), false) => format!("weak suites: {}", weak.join(", ")),
        },
        None,
    ));
    let ca = setting(
        flags,
        config,
        "client-ca-file",
        "/authentication/x509/clientCAFile",
    );
    out.push(own::KUBELET_CLIENT_CERT_AUTH.result(
        if ca.is_some() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        k,
        match &ca {
            Some(c) => format!("authentication.x509.clientCAFile={c}"),
            None => "authentication.x509.clientCAFile unset".to_owned(),
        },
        None,
    ));
    let bootstrap = setting(flags, config, "server-tls-bootstrap", "/serverTLSBootstrap");
    let cert = setting(flags, config, "tls-cert-file", "/tlsCertFile");
    let ok = bootstrap.as_deref() == Some("true") || cert.is_some();
    out.push(own::KUBELET_SERVING_CERT.result(        if ok { CheckStatus::Pass } else { CheckStatus::Warn },        k,        match (&bootstrap, &cert) {
            (_, Some(c)) => format!("tlsCertFile={c}"),
            (Some(b), None) => format!("serverTLSBootstrap={b}"),
            (None, None) => "serverTLSBootstrap unset (default false) and no tlsCertFile: the kubelet serves a self-signed certificate".to_owned(),
        },        None,    ));
    out
}
