//! Kubelet checks as functions over a `KubeletConfiguration` (a `serde_json::Value`), so a
//! kubelet configuration read through the API (`/api/v1/nodes/NAME/proxy/configz`) is checked
//! the same way as the file on a host.

use super::cis::FLAG_CHECKS;
use super::Component;
use crate::engine::{flag_result, result};
use crate::flags::Flags;
use crate::tls::{weak_cipher, weak_tls_version};
use palisade_core::{CheckResult, CheckStatus, Severity};
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
    out.push(result(
        "tls.kubelet-tls-min-version",
        "NODE",
        "Kubelet accepts TLS 1.2 or newer only",
        if weak {
            CheckStatus::Fail
        } else {
            CheckStatus::Pass
        },
        Severity::Medium,
        k,
        match &min {
            Some(v) => format!("tlsMinVersion={v}"),
            None => "tlsMinVersion unset (default VersionTLS12)".to_owned(),
        },
        Some("VersionTLS12 or VersionTLS13".to_owned()),
        None,
        Some("set tlsMinVersion: VersionTLS12 in the kubelet config"),
        true,
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
    out.push(result(
        "tls.kubelet-cipher-suites",
        "NODE",
        "Kubelet offers no weak TLS cipher suites",
        if weak.is_empty() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        Severity::Medium,
        k,
        match (&suites, weak.is_empty()) {
            (None, _) => "tlsCipherSuites unset (Go's secure defaults)".to_owned(),
            (Some(_), true) => "tlsCipherSuites lists AEAD suites only".to_owned(),
            (Some(_), false) => format!("weak suites: {}", weak.join(", ")),
        },
        Some("no CBC, RC4, 3DES or static-RSA suites".to_owned()),
        None,
        Some("remove the weak suites from tlsCipherSuites"),
        true,
    ));
    let ca = setting(
        flags,
        config,
        "client-ca-file",
        "/authentication/x509/clientCAFile",
    );
    out.push(result(
        "tls.kubelet-client-cert-auth",
        "NODE",
        "Kubelet authenticates clients with certificates",
        if ca.is_some() {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        Severity::High,
        k,
        match &ca {
            Some(c) => format!("authentication.x509.clientCAFile={c}"),
            None => "authentication.x509.clientCAFile unset".to_owned(),
        },
        Some("a client CA file".to_owned()),
        None,
        Some("set authentication.x509.clientCAFile to the cluster CA"),
        true,
    ));
    let bootstrap = setting(flags, config, "server-tls-bootstrap", "/serverTLSBootstrap");
    let cert = setting(flags, config, "tls-cert-file", "/tlsCertFile");
    let ok = bootstrap.as_deref() == Some("true") || cert.is_some();
    out.push(result(
        "tls.kubelet-serving-cert",
        "NODE",
        "Kubelet serves with a CA-signed certificate (serverTLSBootstrap or tlsCertFile)",
        if ok { CheckStatus::Pass } else { CheckStatus::Warn },
        Severity::Medium,
        k,
        match (&bootstrap, &cert) {
            (_, Some(c)) => format!("tlsCertFile={c}"),
            (Some(b), None) => format!("serverTLSBootstrap={b}"),
            (None, None) => "serverTLSBootstrap unset (default false) and no tlsCertFile: the kubelet serves a self-signed certificate".to_owned(),
        },
        Some("serverTLSBootstrap: true (with CSR approval) or tlsCertFile".to_owned()),
        None,
        Some("set serverTLSBootstrap: true and approve kubelet-serving CSRs, so the API server can verify the kubelet (--kubelet-certificate-authority)"),
        true,
    ));
    out
}
