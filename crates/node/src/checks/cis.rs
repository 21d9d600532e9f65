//! The CIS Kubernetes Benchmark checks (v1.10 to v1.12): §1 control plane, §2 etcd, §3.2
//! audit policy and §4 worker node, as data. The ids, titles and manual/automated marks are
//! CIS's; the expected values follow kube-bench's tests, with the component's real default
//! when a setting is unset (noted where that is stricter than kube-bench).

use super::Component::{
    ApiServer as Api, ControllerManager as Cm, Etcd, Kubelet, Proxy, Scheduler as Sched,
};
use super::{FileCheck, FileTarget as T, FlagCheck, Setting, Test, Versions, ALL_VERSIONS as ALL};
use palisade_core::Severity::{self, Critical, High, Low, Medium};

/// Benchmarks of the table, newest first: `--benchmark` accepts these names.
pub const BENCHMARKS: &[&str] = &["cis-1.12", "cis-1.11", "cis-1.10"];

/// The default benchmark: the newest.
pub const DEFAULT_BENCHMARK: &str = "cis-1.12";

/// The CIS minor of the newest benchmark.
pub const NEWEST_MINOR: u32 = 12;

/// The CIS minor of a benchmark name (`cis-1.12` → 12).
pub fn benchmark_minor(name: &str) -> Option<u32> {
    BENCHMARKS
        .contains(&name)
        .then(|| name.strip_prefix("cis-1.")?.parse().ok())
        .flatten()
}

/// Section titles, in benchmark order (Palisade's own sections last).
pub const SECTIONS: &[(&str, &str)] = &[
    ("1.1", "Control Plane Node Configuration Files"),
    ("1.2", "API Server"),
    ("1.3", "Controller Manager"),
    ("1.4", "Scheduler"),
    ("2", "Etcd Node Configuration"),
    ("3.2", "Logging"),
    ("4.1", "Worker Node Configuration Files"),
    ("4.2", "Kubelet"),
    ("4.3", "kube-proxy"),
    ("tls", "Palisade: TLS, certificates and encryption at rest"),
    ("access", "Palisade: node access (SSH)"),
    ("version", "Palisade: version currency"),
];

/// The section of a CIS id (`1.2.3` → `1.2`, `2.1` → `2`).
pub fn section_of(id: &str) -> &str {
    if id.starts_with("2.") {
        return "2";
    }
    match id.rfind('.') {
        Some(i) if id.matches('.').count() >= 2 => &id[..i],
        _ => id,
    }
}

const fn until(v: u32) -> Versions {
    Versions {
        since: 10,
        until: v,
    }
}
const fn since(v: u32) -> Versions {
    Versions {
        since: v,
        until: 99,
    }
}
const fn only(v: u32) -> Versions {
    Versions { since: v, until: v }
}

const fn s(flag: &'static str) -> Setting {
    Setting::flag(flag)
}
const fn d(flag: &'static str, default: &'static str) -> Setting {
    Setting::flag_default(flag, default)
}
/// A kubelet setting: flag, config-file pointer, flag default, config-file default.
const fn k(
    flag: &'static str,
    config: &'static str,
    default: Option<&'static str>,
    config_default: Option<&'static str>,
) -> Setting {
    Setting {
        flag,
        config: Some(config),
        default,
        config_default,
    }
}

#[allow(clippy::too_many_arguments)]
const fn f(
    id: &'static str,
    title: &'static str,
    component: super::Component,
    settings: &'static [Setting],
    test: Test,
    manual: bool,
    severity: Severity,
    remediation: &'static str,
) -> FlagCheck {
    FlagCheck {
        id,
        title,
        component,
        settings,
        test,
        manual,
        severity,
        remediation,
        versions: ALL,
    }
}

const fn v(mut c: FlagCheck, versions: Versions) -> FlagCheck {
    c.versions = versions;
    c
}

const STRONG_API_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

const STRONG_KUBELET_CIPHERS: &[&str] = &[
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
];

/// Every flag and configuration check.
pub static FLAG_CHECKS: &[FlagCheck] = &[
    // 1.2 API server
    f("1.2.1", "Ensure that the --anonymous-auth argument is set to false", Api, &[d("anonymous-auth", "true")], Test::Eq("false"), true, High, "set --anonymous-auth=false (keep it only if health checks need anonymous access, with RBAC granting nothing to system:anonymous)"),
    f("1.2.2", "Ensure that the --token-auth-file parameter is not set", Api, &[s("token-auth-file")], Test::Absent, false, High, "remove --token-auth-file; use client certificates, OIDC or webhook token authentication"),
    f("1.2.3", "Ensure that the --DenyServiceExternalIPs is set", Api, &[s("enable-admission-plugins")], Test::Has("DenyServiceExternalIPs"), true, Medium, "add DenyServiceExternalIPs to --enable-admission-plugins"),
    f("1.2.4", "Ensure that the --kubelet-client-certificate and --kubelet-client-key arguments are set as appropriate", Api, &[s("kubelet-client-certificate"), s("kubelet-client-key")], Test::Present, false, High, "set --kubelet-client-certificate and --kubelet-client-key"),
    f("1.2.5", "Ensure that the --kubelet-certificate-authority argument is set as appropriate", Api, &[s("kubelet-certificate-authority")], Test::Present, false, High, "set --kubelet-certificate-authority to the CA that signs kubelet serving certificates"),
    f("1.2.6", "Ensure that the --authorization-mode argument is not set to AlwaysAllow", Api, &[d("authorization-mode", "AlwaysAllow")], Test::NotHas("AlwaysAllow"), false, Critical, "set --authorization-mode=Node,RBAC"),
    f("1.2.7", "Ensure that the --authorization-mode argument includes Node", Api, &[d("authorization-mode", "AlwaysAllow")], Test::Has("Node"), false, High, "set --authorization-mode=Node,RBAC"),
    f("1.2.8", "Ensure that the --authorization-mode argument includes RBAC", Api, &[d("authorization-mode", "AlwaysAllow")], Test::Has("RBAC"), false, High, "set --authorization-mode=Node,RBAC"),
    f("1.2.9", "Ensure that the admission control plugin EventRateLimit is set", Api, &[s("enable-admission-plugins")], Test::Has("EventRateLimit"), true, Low, "add EventRateLimit to --enable-admission-plugins with an --admission-control-config-file"),
    f("1.2.10", "Ensure that the admission control plugin AlwaysAdmit is not set", Api, &[s("enable-admission-plugins")], Test::NotHas("AlwaysAdmit"), false, High, "remove AlwaysAdmit from --enable-admission-plugins"),
    f("1.2.11", "Ensure that the admission control plugin AlwaysPullImages is set", Api, &[s("enable-admission-plugins")], Test::Has("AlwaysPullImages"), true, Medium, "add AlwaysPullImages to --enable-admission-plugins"),
    f("1.2.12", "Ensure that the admission control plugin ServiceAccount is set", Api, &[s("disable-admission-plugins")], Test::NotHas("ServiceAccount"), false, Medium, "remove ServiceAccount from --disable-admission-plugins"),
    f("1.2.13", "Ensure that the admission control plugin NamespaceLifecycle is set", Api, &[s("disable-admission-plugins")], Test::NotHas("NamespaceLifecycle"), false, Medium, "remove NamespaceLifecycle from --disable-admission-plugins"),
    f("1.2.14", "Ensure that the admission control plugin NodeRestriction is set", Api, &[s("enable-admission-plugins")], Test::Has("NodeRestriction"), false, High, "add NodeRestriction to --enable-admission-plugins"),
    f("1.2.15", "Ensure that the --profiling argument is set to false", Api, &[d("profiling", "true")], Test::Eq("false"), false, Low, "set --profiling=false"),
    f("1.2.16", "Ensure that the --audit-log-path argument is set", Api, &[s("audit-log-path")], Test::Present, false, Medium, "set --audit-log-path (and --audit-policy-file)"),
    f("1.2.17", "Ensure that the --audit-log-maxage argument is set to 30 or as appropriate", Api, &[s("audit-log-maxage")], Test::Gte(30), false, Low, "set --audit-log-maxage=30"),
    f("1.2.18", "Ensure that the --audit-log-maxbackup argument is set to 10 or as appropriate", Api, &[s("audit-log-maxbackup")], Test::Gte(10), false, Low, "set --audit-log-maxbackup=10"),
    f("1.2.19", "Ensure that the --audit-log-maxsize argument is set to 100 or as appropriate", Api, &[s("audit-log-maxsize")], Test::Gte(100), false, Low, "set --audit-log-maxsize=100"),
    f("1.2.21", "Ensure that the --service-account-lookup argument is set to true", Api, &[d("service-account-lookup", "true")], Test::Eq("true"), false, Medium, "remove --service-account-lookup=false"),
    f("1.2.22", "Ensure that the --service-account-key-file argument is set as appropriate", Api, &[s("service-account-key-file")], Test::Present, false, Medium, "set --service-account-key-file"),
    f("1.2.23", "Ensure that the --etcd-certfile and --etcd-keyfile arguments are set as appropriate", Api, &[s("etcd-certfile"), s("etcd-keyfile")], Test::Present, false, High, "set --etcd-certfile and --etcd-keyfile"),
    f("1.2.24", "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate", Api, &[s("tls-cert-file"), s("tls-private-key-file")], Test::Present, false, High, "set --tls-cert-file and --tls-private-key-file"),
    f("1.2.25", "Ensure that the --client-ca-file argument is set as appropriate", Api, &[s("client-ca-file")], Test::Present, false, High, "set --client-ca-file"),
    f("1.2.26", "Ensure that the --etcd-cafile argument is set as appropriate", Api, &[s("etcd-cafile")], Test::Present, false, High, "set --etcd-cafile"),
    f("1.2.27", "Ensure that the --encryption-provider-config argument is set as appropriate", Api, &[s("encryption-provider-config")], Test::Present, true, High, "set --encryption-provider-config to an EncryptionConfiguration (see check tls.encryption-at-rest)"),
    f("1.2.29", "Ensure that the API Server only makes use of Strong Cryptographic Ciphers", Api, &[s("tls-cipher-suites")], Test::OnlyOf(STRONG_API_CIPHERS), true, Medium, "set --tls-cipher-suites to AEAD ECDHE suites only"),
    v(f("1.2.30", "Ensure that the --service-account-extend-token-expiration parameter is set to false", Api, &[d("service-account-extend-token-expiration", "true")], Test::Eq("false"), false, Low, "set --service-account-extend-token-expiration=false"), since(12)),
    // 1.3 controller manager
    f("1.3.1", "Ensure that the --terminated-pod-gc-threshold argument is set as appropriate", Cm, &[s("terminated-pod-gc-threshold")], Test::Present, true, Low, "set --terminated-pod-gc-threshold=10 (or as appropriate)"),
    f("1.3.2", "Ensure that the --profiling argument is set to false", Cm, &[d("profiling", "true")], Test::Eq("false"), false, Low, "set --profiling=false"),
    f("1.3.3", "Ensure that the --use-service-account-credentials argument is set to true", Cm, &[d("use-service-account-credentials", "false")], Test::NotEq("false"), false, Medium, "set --use-service-account-credentials=true"),
    f("1.3.4", "Ensure that the --service-account-private-key-file argument is set as appropriate", Cm, &[s("service-account-private-key-file")], Test::Present, false, Medium, "set --service-account-private-key-file"),
    f("1.3.5", "Ensure that the --root-ca-file argument is set as appropriate", Cm, &[s("root-ca-file")], Test::Present, false, Medium, "set --root-ca-file"),
    f("1.3.6", "Ensure that the RotateKubeletServerCertificate argument is set to true", Cm, &[s("feature-gates")], Test::NotHas("RotateKubeletServerCertificate=false"), false, Medium, "remove RotateKubeletServerCertificate=false from --feature-gates"),
    // kube-bench accepts an unset --bind-address; its real default is 0.0.0.0, so Palisade fails it.
    f("1.3.7", "Ensure that the --bind-address argument is set to 127.0.0.1", Cm, &[d("bind-address", "0.0.0.0")], Test::Loopback, false, Medium, "set --bind-address=127.0.0.1"),
    // 1.4 scheduler
    f("1.4.1", "Ensure that the --profiling argument is set to false", Sched, &[d("profiling", "true")], Test::Eq("false"), false, Low, "set --profiling=false"),
    f("1.4.2", "Ensure that the --bind-address argument is set to 127.0.0.1", Sched, &[d("bind-address", "0.0.0.0")], Test::Loopback, false, Medium, "set --bind-address=127.0.0.1"),
    // 2 etcd
    f("2.1", "Ensure that the --cert-file and --key-file arguments are set as appropriate", Etcd, &[s("cert-file"), s("key-file")], Test::Present, false, High, "set --cert-file and --key-file"),
    f("2.2", "Ensure that the --client-cert-auth argument is set to true", Etcd, &[d("client-cert-auth", "false")], Test::Eq("true"), false, Critical, "set --client-cert-auth=true"),
    f("2.3", "Ensure that the --auto-tls argument is not set to true", Etcd, &[d("auto-tls", "false")], Test::Eq("false"), false, High, "remove --auto-tls=true"),
    f("2.4", "Ensure that the --peer-cert-file and --peer-key-file arguments are set as appropriate", Etcd, &[s("peer-cert-file"), s("peer-key-file")], Test::Present, false, High, "set --peer-cert-file and --peer-key-file"),
    f("2.5", "Ensure that the --peer-client-cert-auth argument is set to true", Etcd, &[d("peer-client-cert-auth", "false")], Test::Eq("true"), false, High, "set --peer-client-cert-auth=true"),
    f("2.6", "Ensure that the --peer-auto-tls argument is not set to true", Etcd, &[d("peer-auto-tls", "false")], Test::Eq("false"), false, High, "remove --peer-auto-tls=true"),
    f("2.7", "Ensure that a unique Certificate Authority is used for etcd", Etcd, &[s("trusted-ca-file")], Test::Present, true, Medium, "give etcd its own CA (--trusted-ca-file), different from the cluster CA"),
    // 3.2 logging
    f("3.2.1", "Ensure that a minimal audit policy is created", Api, &[s("audit-policy-file")], Test::Present, true, Medium, "set --audit-policy-file (see check tls.audit-logging)"),
    // 4.2 kubelet
    f("4.2.1", "Ensure that the --anonymous-auth argument is set to false", Kubelet, &[k("anonymous-auth", "/authentication/anonymous/enabled", Some("true"), Some("false"))], Test::Eq("false"), false, Critical, "set authentication.anonymous.enabled: false in the kubelet config"),
    f("4.2.2", "Ensure that the --authorization-mode argument is not set to AlwaysAllow", Kubelet, &[k("authorization-mode", "/authorization/mode", Some("AlwaysAllow"), Some("Webhook"))], Test::NotHas("AlwaysAllow"), false, Critical, "set authorization.mode: Webhook in the kubelet config"),
    f("4.2.3", "Ensure that the --client-ca-file argument is set as appropriate", Kubelet, &[k("client-ca-file", "/authentication/x509/clientCAFile", None, None)], Test::Present, false, High, "set authentication.x509.clientCAFile in the kubelet config"),
    f("4.2.4", "Verify that if defined, the --read-only-port argument is set to 0", Kubelet, &[k("read-only-port", "/readOnlyPort", Some("10255"), Some("0"))], Test::Eq("0"), true, Medium, "set readOnlyPort: 0 in the kubelet config"),
    f("4.2.5", "Ensure that the --streaming-connection-idle-timeout argument is not set to 0", Kubelet, &[k("streaming-connection-idle-timeout", "/streamingConnectionIdleTimeout", Some("4h0m0s"), Some("4h0m0s"))], Test::NonZeroDuration, true, Low, "set streamingConnectionIdleTimeout: 5m in the kubelet config"),
    f("4.2.6", "Ensure that the --make-iptables-util-chains argument is set to true", Kubelet, &[k("make-iptables-util-chains", "/makeIPTablesUtilChains", Some("true"), Some("true"))], Test::Eq("true"), false, Low, "set makeIPTablesUtilChains: true in the kubelet config"),
    f("4.2.7", "Ensure that the --hostname-override argument is not set", Kubelet, &[s("hostname-override")], Test::Absent, true, Low, "remove --hostname-override from the kubelet's unit"),
    f("4.2.8", "Ensure that the eventRecordQPS argument is set to a level which ensures appropriate event capture", Kubelet, &[k("event-qps", "/eventRecordQPS", Some("50"), Some("50"))], Test::Gte(0), true, Low, "set eventRecordQPS in the kubelet config"),
    f("4.2.9", "Ensure that the --tls-cert-file and --tls-private-key-file arguments are set as appropriate", Kubelet, &[k("tls-cert-file", "/tlsCertFile", None, None), k("tls-private-key-file", "/tlsPrivateKeyFile", None, None)], Test::Present, true, Medium, "set tlsCertFile and tlsPrivateKeyFile, or serverTLSBootstrap: true"),
    // kube-bench accepts an unset rotateCertificates; its real default is false, so Palisade fails it.
    f("4.2.10", "Ensure that the --rotate-certificates argument is not set to false", Kubelet, &[k("rotate-certificates", "/rotateCertificates", Some("false"), Some("false"))], Test::Eq("true"), false, Medium, "set rotateCertificates: true in the kubelet config"),
    f("4.2.11", "Verify that the RotateKubeletServerCertificate argument is set to true", Kubelet, &[k("feature-gates", "/featureGates", None, None)], Test::NotHas("RotateKubeletServerCertificate=false"), true, Medium, "remove RotateKubeletServerCertificate=false from the kubelet's feature gates"),
    f("4.2.12", "Ensure that the Kubelet only makes use of Strong Cryptographic Ciphers", Kubelet, &[k("tls-cipher-suites", "/tlsCipherSuites", None, None)], Test::OnlyOf(STRONG_KUBELET_CIPHERS), true, Medium, "set tlsCipherSuites to AEAD ECDHE suites only"),
    f("4.2.13", "Ensure that a limit is set on pod PIDs", Kubelet, &[k("pod-max-pids", "/podPidsLimit", None, None)], Test::Present, true, Low, "set podPidsLimit in the kubelet config"),
    v(f("4.2.14", "Ensure that the --seccomp-default parameter is set to true", Kubelet, &[k("seccomp-default", "/seccompDefault", Some("false"), Some("false"))], Test::Eq("true"), true, Medium, "set seccompDefault: true in the kubelet config"), since(11)),
    v(f("4.2.15", "Ensure that the --IPAddressDeny is set to any", Kubelet, &[s("IPAddressDeny")], Test::Present, true, Low, "set IPAddressDeny=any in the kubelet's systemd unit"), only(11)),
    // 4.3 kube-proxy
    f("4.3.1", "Ensure that the kube-proxy metrics service is bound to localhost", Proxy, &[k("metrics-bind-address", "/metricsBindAddress", Some("127.0.0.1:10249"), Some("127.0.0.1:10249"))], Test::Loopback, false, Medium, "set --metrics-bind-address=127.0.0.1:10249"),
];

#[allow(clippy::too_many_arguments)]
const fn file(
    id: &'static str,
    title: &'static str,
    component: super::Component,
    target: T,
    max_mode: Option<u32>,
    owner: Option<&'static str>,
    manual: bool,
    versions: Versions,
) -> FileCheck {
    FileCheck {
        id,
        title,
        component,
        target,
        max_mode,
        owner,
        manual,
        versions,
    }
}

const RR: Option<&str> = Some("root:root");

/// Every file check.
pub static FILE_CHECKS: &[FileCheck] = &[
    file("1.1.1", "Ensure that the API server pod specification file permissions are set to 600 or more restrictive", Api, T::Manifest(Api), Some(0o600), None, false, ALL),
    file("1.1.2", "Ensure that the API server pod specification file ownership is set to root:root", Api, T::Manifest(Api), None, RR, false, ALL),
    file("1.1.3", "Ensure that the controller manager pod specification file permissions are set to 600 or more restrictive", Cm, T::Manifest(Cm), Some(0o600), None, false, ALL),
    file("1.1.4", "Ensure that the controller manager pod specification file ownership is set to root:root", Cm, T::Manifest(Cm), None, RR, false, ALL),
    file("1.1.5", "Ensure that the scheduler pod specification file permissions are set to 600 or more restrictive", Sched, T::Manifest(Sched), Some(0o600), None, false, ALL),
    file("1.1.6", "Ensure that the scheduler pod specification file ownership is set to root:root", Sched, T::Manifest(Sched), None, RR, false, ALL),
    file("1.1.7", "Ensure that the etcd pod specification file permissions are set to 600 or more restrictive", Etcd, T::Manifest(Etcd), Some(0o600), None, false, ALL),
    file("1.1.8", "Ensure that the etcd pod specification file ownership is set to root:root", Etcd, T::Manifest(Etcd), None, RR, false, ALL),
    file("1.1.9", "Ensure that the Container Network Interface file permissions are set to 600 or more restrictive", Kubelet, T::CniFiles, Some(0o600), None, true, ALL),
    file("1.1.10", "Ensure that the Container Network Interface file ownership is set to root:root", Kubelet, T::CniFiles, None, RR, true, ALL),
    file("1.1.11", "Ensure that the etcd data directory permissions are set to 700 or more restrictive", Etcd, T::EtcdDataDir, Some(0o700), None, false, ALL),
    file("1.1.12", "Ensure that the etcd data directory ownership is set to etcd:etcd", Etcd, T::EtcdDataDir, None, Some("etcd:etcd"), false, ALL),
    file("1.1.13", "Ensure that the default administrative credential file permissions are set to 600", Api, T::AdminConfs, Some(0o600), None, false, ALL),
    file("1.1.14", "Ensure that the default administrative credential file ownership is set to root:root", Api, T::AdminConfs, None, RR, false, ALL),
    file("1.1.15", "Ensure that the scheduler.conf file permissions are set to 600 or more restrictive", Sched, T::SchedulerKubeconfig, Some(0o600), None, false, ALL),
    file("1.1.16", "Ensure that the scheduler.conf file ownership is set to root:root", Sched, T::SchedulerKubeconfig, None, RR, false, ALL),
    file("1.1.17", "Ensure that the controller-manager.conf file permissions are set to 600 or more restrictive", Cm, T::ControllerManagerKubeconfig, Some(0o600), None, false, ALL),
    file("1.1.18", "Ensure that the controller-manager.conf file ownership is set to root:root", Cm, T::ControllerManagerKubeconfig, None, RR, false, ALL),
    file("1.1.19", "Ensure that the Kubernetes PKI directory and file ownership is set to root:root", Api, T::PkiTree, None, RR, false, ALL),
    file("1.1.20", "Ensure that the Kubernetes PKI certificate file permissions are set to 600 or more restrictive", Api, T::PkiCerts, Some(0o600), None, true, until(10)),
    file("1.1.20", "Ensure that the Kubernetes PKI certificate file permissions are set to 644 or more restrictive", Api, T::PkiCerts, Some(0o644), None, true, since(11)),
    file("1.1.21", "Ensure that the Kubernetes PKI key file permissions are set to 600", Api, T::PkiKeys, Some(0o600), None, true, ALL),
    file("4.1.1", "Ensure that the kubelet service file permissions are set to 600 or more restrictive", Kubelet, T::KubeletService, Some(0o600), None, false, ALL),
    file("4.1.2", "Ensure that the kubelet service file ownership is set to root:root", Kubelet, T::KubeletService, None, RR, false, ALL),
    file("4.1.3", "If proxy kubeconfig file exists ensure permissions are set to 600 or more restrictive", Proxy, T::ProxyKubeconfig, Some(0o600), None, true, ALL),
    file("4.1.4", "If proxy kubeconfig file exists ensure ownership is set to root:root", Proxy, T::ProxyKubeconfig, None, RR, true, ALL),
    file("4.1.5", "Ensure that the --kubeconfig kubelet.conf file permissions are set to 600 or more restrictive", Kubelet, T::KubeletKubeconfig, Some(0o600), None, false, ALL),
    file("4.1.6", "Ensure that the --kubeconfig kubelet.conf file ownership is set to root:root", Kubelet, T::KubeletKubeconfig, None, RR, false, ALL),
    file("4.1.7", "Ensure that the certificate authorities file permissions are set to 600 or more restrictive", Kubelet, T::KubeletClientCa, Some(0o600), None, true, until(10)),
    file("4.1.7", "Ensure that the certificate authorities file permissions are set to 644 or more restrictive", Kubelet, T::KubeletClientCa, Some(0o644), None, true, since(11)),
    file("4.1.8", "Ensure that the client certificate authorities file ownership is set to root:root", Kubelet, T::KubeletClientCa, None, RR, true, ALL),
    file("4.1.9", "If the kubelet config.yaml configuration file is being used validate permissions set to 600 or more restrictive", Kubelet, T::KubeletConfig, Some(0o600), None, false, ALL),
    file("4.1.10", "If the kubelet config.yaml configuration file is being used validate file ownership is set to root:root", Kubelet, T::KubeletConfig, None, RR, false, ALL),
];

/// The CIS ids that the encryption-provider check (1.2.28) stands for: evaluated by
/// `tls.encryption-at-rest` and listed as MANUAL under its CIS number.
pub const ENCRYPTION_PROVIDERS_ID: &str = "1.2.28";

/// Checks that CIS marks manual and that have nothing to observe on a host: listed as MANUAL
/// when their component is present.
pub const MANUAL_ONLY: &[(&str, &str, super::Component)] = &[
    (
        "1.2.20",
        "Ensure that the --request-timeout argument is set as appropriate",
        Api,
    ),
    (
        "3.2.2",
        "Ensure that the audit policy covers key security concerns",
        Api,
    ),
];

/// How `palisade node` reports a CIS check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCoverage {
    /// The CIS id.
    pub id: &'static str,
    /// Whether CIS marks it manual (reported as MANUAL with the observed facts).
    pub manual: bool,
    /// Palisade's own automated check of the same concern, if any.
    pub related: Option<&'static str>,
}

/// Palisade's automated check that evaluates what a (manual) CIS check asks.
pub fn related_check(id: &str) -> Option<&'static str> {
    Some(match id {
        "1.2.16" | "1.2.17" | "1.2.18" | "1.2.19" => "tls.audit-log",
        "1.2.27" | "1.2.28" => "tls.encryption-at-rest",
        "1.2.29" => "tls.apiserver-cipher-suites",
        "3.2.1" | "3.2.2" => "tls.audit-policy",
        "4.2.3" => "tls.kubelet-client-cert-auth",
        "4.2.9" => "tls.kubelet-serving-cert",
        "4.2.12" => "tls.kubelet-cipher-suites",
        _ => return None,
    })
}

/// Every CIS check `palisade node` reports for a benchmark (`minor`: 12 for cis-1.12).
pub fn host_coverage(minor: u32) -> Vec<HostCoverage> {
    let mut out: Vec<HostCoverage> = Vec::new();
    let applies = |v: Versions| v.since <= minor && minor <= v.until;
    for c in FLAG_CHECKS.iter().filter(|c| applies(c.versions)) {
        out.push(HostCoverage {
            id: c.id,
            manual: c.manual,
            related: related_check(c.id),
        });
    }
    for c in FILE_CHECKS.iter().filter(|c| applies(c.versions)) {
        out.push(HostCoverage {
            id: c.id,
            manual: c.manual,
            related: related_check(c.id),
        });
    }
    for (id, _, _) in MANUAL_ONLY {
        out.push(HostCoverage {
            id,
            manual: true,
            related: related_check(id),
        });
    }
    out.push(HostCoverage {
        id: ENCRYPTION_PROVIDERS_ID,
        manual: true,
        related: related_check(ENCRYPTION_PROVIDERS_ID),
    });
    out
}
