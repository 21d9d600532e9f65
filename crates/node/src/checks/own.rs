//! Palisade's own host checks (sections `tls`, `access`, `version`) and the CIS checks
//! evaluated outside the flag and file tables, as data: each is one constant that both the
//! evaluation and the rule catalogue read, so an id, title or remediation is written once.

use super::Component;
use crate::engine::result;
use palisade_core::Severity::{self, High, Info, Low, Medium};
use palisade_core::{CheckResult, CheckStatus};

/// A host check with a fixed id, title, severity and remediation.
#[derive(Clone, Copy, Debug)]
pub struct HostCheck {
    /// The id (`tls.cert-expiry`, or a CIS id such as `1.2.28`).
    pub id: &'static str,
    /// What it verifies.
    pub title: &'static str,
    /// `CP` (control plane), `NODE` (worker and host) or `VER` (versions).
    pub family: &'static str,
    /// Severity of a FAIL or WARN (a result may raise it: an expired certificate is critical).
    pub severity: Severity,
    /// What is expected.
    pub expected: Option<&'static str>,
    /// How to fix a failure.
    pub remediation: Option<&'static str>,
    /// False for checks CIS marks manual (reported as MANUAL, never a verdict).
    pub automated: bool,
    /// The component whose configuration it reads, if it is about one.
    pub component: Option<Component>,
}

impl HostCheck {
    /// A result of this check.
    pub(crate) fn result(
        &self,
        status: CheckStatus,
        component: Option<Component>,
        observed: String,
        file: Option<String>,
    ) -> CheckResult {
        result(
            self.id,
            self.family,
            self.title,
            status,
            self.severity,
            component,
            observed,
            self.expected.map(str::to_owned),
            file,
            self.remediation,
            self.automated,
        )
    }
}

#[allow(clippy::too_many_arguments)]
const fn check(
    id: &'static str,
    title: &'static str,
    family: &'static str,
    severity: Severity,
    expected: &'static str,
    remediation: &'static str,
    component: Option<Component>,
) -> HostCheck {
    HostCheck {
        id,
        title,
        family,
        severity,
        expected: Some(expected),
        remediation: Some(remediation),
        automated: true,
        component,
    }
}

/// CIS 1.2.28 (manual): the encryption providers, observed (evaluated by
/// [`ENCRYPTION_AT_REST`]).
pub const ENCRYPTION_PROVIDERS: HostCheck = HostCheck {
    id: super::cis::ENCRYPTION_PROVIDERS_ID,
    title: "Ensure that encryption providers are appropriately configured",
    family: "CP",
    severity: High,
    expected: Some("aescbc, kms or secretbox first for secrets"),
    remediation: Some(
        "configure an EncryptionConfiguration with kms v2, aescbc or secretbox first for secrets",
    ),
    automated: false,
    component: Some(Component::ApiServer),
};

/// Expiry of every certificate in the PKI directory and the kubeconfigs.
pub const CERT_EXPIRY: HostCheck = check(
    "tls.cert-expiry",
    "Certificates are not expired nor expiring within 30 days",
    "CP",
    High,
    "valid for more than 30 days",
    "renew the certificate (kubeadm certs renew all, or your PKI's process) and restart the components that use it",
    None,
);

/// The title of a [`CERT_EXPIRY`] result for a file that is not a readable certificate.
pub const CERT_UNREADABLE_TITLE: &str = "Certificate can be read";

/// Key strength of every certificate.
pub const KEY_STRENGTH: HostCheck = check(
    "tls.key-strength",
    "Certificate keys are strong (RSA >= 2048 bits, ECDSA, Ed25519)",
    "CP",
    High,
    "RSA of 2048 bits or more, or ECDSA/Ed25519",
    "reissue the certificate with an RSA key of at least 2048 bits or an ECDSA P-256 key",
    None,
);

/// The API server's minimum TLS version.
pub const APISERVER_TLS_MIN_VERSION: HostCheck = check(
    "tls.apiserver-tls-min-version",
    "API server accepts TLS 1.2 or newer only",
    "CP",
    Medium,
    "VersionTLS12 or VersionTLS13",
    "set --tls-min-version=VersionTLS12",
    Some(Component::ApiServer),
);

/// The API server's cipher suites.
pub const APISERVER_CIPHER_SUITES: HostCheck = check(
    "tls.apiserver-cipher-suites",
    "API server offers no weak TLS cipher suites",
    "CP",
    Medium,
    "no CBC, RC4, 3DES or static-RSA suites",
    "remove the weak suites from --tls-cipher-suites",
    Some(Component::ApiServer),
);

/// Encryption of Secrets at rest.
pub const ENCRYPTION_AT_REST: HostCheck = check(
    "tls.encryption-at-rest",
    "Secrets are encrypted at rest (kms v2, aescbc or secretbox first)",
    "CP",
    High,
    "kms v2, aescbc or secretbox as the first provider for secrets",
    "write an EncryptionConfiguration with kms (apiVersion v2) or aescbc first for secrets, pass it with --encryption-provider-config, then rewrite Secrets (kubectl get secrets -A -o json | kubectl replace -f -)",
    Some(Component::ApiServer),
);

/// The audit policy.
pub const AUDIT_POLICY: HostCheck = check(
    "tls.audit-policy",
    "An audit policy is configured",
    "CP",
    Medium,
    "--audit-policy-file naming an audit.k8s.io Policy with rules",
    "write an audit Policy (Metadata for most resources, RequestResponse for RBAC and secrets access as metadata) and pass it with --audit-policy-file",
    Some(Component::ApiServer),
);

/// Where audit events go.
pub const AUDIT_LOG: HostCheck = check(
    "tls.audit-log",
    "Audit events are written to a log or a webhook",
    "CP",
    Medium,
    "--audit-log-path or --audit-webhook-config-file",
    "set --audit-log-path (with rotation flags) or --audit-webhook-config-file",
    Some(Component::ApiServer),
);

/// The kubelet's minimum TLS version.
pub const KUBELET_TLS_MIN_VERSION: HostCheck = check(
    "tls.kubelet-tls-min-version",
    "Kubelet accepts TLS 1.2 or newer only",
    "NODE",
    Medium,
    "VersionTLS12 or VersionTLS13",
    "set tlsMinVersion: VersionTLS12 in the kubelet config",
    Some(Component::Kubelet),
);

/// The kubelet's cipher suites.
pub const KUBELET_CIPHER_SUITES: HostCheck = check(
    "tls.kubelet-cipher-suites",
    "Kubelet offers no weak TLS cipher suites",
    "NODE",
    Medium,
    "no CBC, RC4, 3DES or static-RSA suites",
    "remove the weak suites from tlsCipherSuites",
    Some(Component::Kubelet),
);

/// The kubelet's client-certificate authentication.
pub const KUBELET_CLIENT_CERT_AUTH: HostCheck = check(
    "tls.kubelet-client-cert-auth",
    "Kubelet authenticates clients with certificates",
    "NODE",
    High,
    "a client CA file",
    "set authentication.x509.clientCAFile to the cluster CA",
    Some(Component::Kubelet),
);

/// The kubelet's serving certificate.
pub const KUBELET_SERVING_CERT: HostCheck = check(
    "tls.kubelet-serving-cert",
    "Kubelet serves with a CA-signed certificate (serverTLSBootstrap or tlsCertFile)",
    "NODE",
    Medium,
    "serverTLSBootstrap: true (with CSR approval) or tlsCertFile",
    "set serverTLSBootstrap: true and approve kubelet-serving CSRs, so the API server can verify the kubelet (--kubelet-certificate-authority)",
    Some(Component::Kubelet),
);

/// Whether the node runs an SSH daemon.
pub const SSHD_PRESENT: HostCheck = check(
    "access.sshd-present",
    "SSH daemon exposure",
    "NODE",
    Info,
    "no standing SSH access to nodes",
    "remove or disable sshd on nodes, or restrict it to a bastion",
    None,
);

/// `PermitRootLogin`.
pub const SSHD_ROOT_LOGIN: HostCheck = check(
    "access.sshd-root-login",
    "SSH does not allow root to log in with a password",
    "NODE",
    High,
    "PermitRootLogin no (or prohibit-password)",
    "set PermitRootLogin no",
    None,
);

/// `PasswordAuthentication`.
pub const SSHD_PASSWORD_AUTH: HostCheck = check(
    "access.sshd-password-auth",
    "SSH does not accept passwords",
    "NODE",
    High,
    "PasswordAuthentication no",
    "set PasswordAuthentication no (and KbdInteractiveAuthentication no)",
    None,
);

/// `ListenAddress`.
pub const SSHD_LISTEN_ADDRESS: HostCheck = check(
    "access.sshd-listen-address",
    "SSH listens on a management address only",
    "NODE",
    Low,
    "a management-network address",
    "set ListenAddress to the management interface's address",
    None,
);

/// End of life of the running Kubernetes release.
pub const SUPPORTED_RELEASE: HostCheck = check(
    "version.supported-release",
    "Kubernetes release is supported (not past its end of life)",
    "VER",
    High,
    "a release before its end of life",
    "upgrade one minor at a time to a supported release",
    None,
);

/// Known CVEs of the running version (with `--cve-data`).
pub const KNOWN_CVES: HostCheck = check(
    "version.known-cves",
    "No known CVE affects the running version",
    "VER",
    High,
    "no CVE whose affected range contains the version",
    "upgrade to the fixing patch release",
    None,
);

/// Every check of this module, in report order.
pub static HOST_CHECKS: &[&HostCheck] = &[
    &ENCRYPTION_PROVIDERS,
    &CERT_EXPIRY,
    &KEY_STRENGTH,
    &APISERVER_TLS_MIN_VERSION,
    &APISERVER_CIPHER_SUITES,
    &ENCRYPTION_AT_REST,
    &AUDIT_POLICY,
    &AUDIT_LOG,
    &KUBELET_TLS_MIN_VERSION,
    &KUBELET_CIPHER_SUITES,
    &KUBELET_CLIENT_CERT_AUTH,
    &KUBELET_SERVING_CERT,
    &SSHD_PRESENT,
    &SSHD_ROOT_LOGIN,
    &SSHD_PASSWORD_AUTH,
    &SSHD_LISTEN_ADDRESS,
    &SUPPORTED_RELEASE,
    &KNOWN_CVES,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_texts_follow_the_constant() {
        let days = crate::tls::EXPIRY_WARN_DAYS.to_string();
        assert!(CERT_EXPIRY.title.contains(&days));
        assert!(CERT_EXPIRY.expected.unwrap().contains(&days));
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = HOST_CHECKS.iter().map(|c| c.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), HOST_CHECKS.len());
    }
}
