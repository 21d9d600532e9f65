use super::{FlagCheck, Test::*};
use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// The flags of `kube-apiserver` containers in static pod manifests (kubeadm's
    /// `/etc/kubernetes/manifests/kube-apiserver.yaml`, or the Pod in a `kube-system`
    /// snapshot), against the CIS Kubernetes Benchmark section 1.2: `--anonymous-auth=false`
    /// (1.2.1); no `--token-auth-file` (1.2.2) or `--basic-auth-file`; kubelet client
    /// certificate, key (1.2.4) and CA (1.2.5) set, `--kubelet-https` not false;
    /// `--authorization-mode` without `AlwaysAllow` and with `Node` and `RBAC` (1.2.6-1.2.8);
    /// admission plugins: no `AlwaysAdmit` (1.2.10), `AlwaysPullImages` (1.2.11),
    /// `ServiceAccount` and `NamespaceLifecycle` not disabled (1.2.12, 1.2.13; both are on
    /// by default),
    /// `NodeRestriction` (1.2.14); no `--insecure-bind-address`, `--insecure-port` 0 when set
    /// (the insecure port is gone since Kubernetes 1.20),
    /// `--secure-port` not 0; `--profiling=false` (1.2.15); audit log path, max age ≥ 30,
    /// max backups ≥ 10, max size ≥ 100 (1.2.16-1.2.19); `--service-account-lookup` not
    /// false (1.2.21); service account key file (1.2.22); etcd client certificate, key
    /// (1.2.24) and CA (1.2.27); TLS certificate and key (1.2.25); an encryption provider
    /// configuration (1.2.28); strong TLS cipher suites only (1.2.30). One finding per
    /// failed control, naming the flag.
    ///
    /// ## Why it matters
    /// The API server is the cluster: anonymous or token-file authentication, an
    /// authorizer that allows everything, plaintext ports, missing audit logs or unencrypted
    /// Secrets at rest each hand the cluster, or the evidence of its compromise, to an
    /// attacker.
    ///
    /// ## How to fix
    /// Set the flags in the static pod manifest (or the kubeadm `ClusterConfiguration`'s
    /// `apiServer.extraArgs`); the finding's fix names the change.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --anonymous-auth=true
    /// - --authorization-mode=AlwaysAllow
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// command:
    /// - kube-apiserver
    /// - --anonymous-auth=false
    /// - --authorization-mode=Node,RBAC
    /// - --enable-admission-plugins=NodeRestriction,AlwaysPullImages
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 1.2; NSA/CISA Kubernetes Hardening Guidance, "Protecting
    /// the control plane"; NIST SP 800-190 4.3.1; OWASP Kubernetes Top 10 K09
    /// (misconfigured cluster components).
    pub(crate) struct ApiserverInsecureFlags;
    id: "CP001",
    name: "apiserver-insecure-flags",
    severity: High,
    summary: "kube-apiserver runs with an insecure flag",
    references: ["cis:1.2", "nsa:control-plane", "nist:4.3.1", "owasp:K09", "book:ops.control-plane-access", "book:platform.control-plane-tls", "book:ops.audit-logging"],
    tags: ["control-plane"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

const CHECKS: &[FlagCheck] = &[
    FlagCheck {
        cis: "1.2.1",
        flags: &["--anonymous-auth"],
        test: Is("false"),
    },
    FlagCheck {
        cis: "1.2.2",
        flags: &["--token-auth-file"],
        test: Unset,
    },
    FlagCheck {
        cis: "1.2.2 (v1.5)",
        flags: &["--basic-auth-file"],
        test: Unset,
    },
    FlagCheck {
        cis: "1.2.4 (v1.5)",
        flags: &["--kubelet-https"],
        test: Not("false"),
    },
    FlagCheck {
        cis: "1.2.4",
        flags: &["--kubelet-client-certificate", "--kubelet-client-key"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.5",
        flags: &["--kubelet-certificate-authority"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.6",
        flags: &["--authorization-mode"],
        test: Excludes("AlwaysAllow"),
    },
    FlagCheck {
        cis: "1.2.7",
        flags: &["--authorization-mode"],
        test: Contains("Node"),
    },
    FlagCheck {
        cis: "1.2.8",
        flags: &["--authorization-mode"],
        test: Contains("RBAC"),
    },
    FlagCheck {
        cis: "1.2.10",
        flags: &["--enable-admission-plugins"],
        test: Excludes("AlwaysAdmit"),
    },
    FlagCheck {
        cis: "1.2.11",
        flags: &["--enable-admission-plugins"],
        test: Contains("AlwaysPullImages"),
    },
    FlagCheck {
        cis: "1.2.12",
        flags: &["--disable-admission-plugins"],
        test: Excludes("ServiceAccount"),
    },
    FlagCheck {
        cis: "1.2.13",
        flags: &["--disable-admission-plugins"],
        test: Excludes("NamespaceLifecycle"),
    },
    FlagCheck {
        cis: "1.2.14",
        flags: &["--enable-admission-plugins"],
        test: Contains("NodeRestriction"),
    },
    FlagCheck {
        cis: "1.2.15 (v1.6)",
        flags: &["--insecure-bind-address"],
        test: Unset,
    },
    FlagCheck {
        cis: "1.2.16 (v1.6)",
        flags: &["--insecure-port"],
        test: IfSet("0"),
    },
    FlagCheck {
        cis: "1.2.17 (v1.6)",
        flags: &["--secure-port"],
        test: Not("0"),
    },
    FlagCheck {
        cis: "1.2.15",
        flags: &["--profiling"],
        test: Is("false"),
    },
    FlagCheck {
        cis: "1.2.16",
        flags: &["--audit-log-path"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.17",
        flags: &["--audit-log-maxage"],
        test: AtLeast(30),
    },
    FlagCheck {
        cis: "1.2.18",
        flags: &["--audit-log-maxbackup"],
        test: AtLeast(10),
    },
    FlagCheck {
        cis: "1.2.19",
        flags: &["--audit-log-maxsize"],
        test: AtLeast(100),
    },
    FlagCheck {
        cis: "1.2.21",
        flags: &["--service-account-lookup"],
        test: Not("false"),
    },
    FlagCheck {
        cis: "1.2.22",
        flags: &["--service-account-key-file"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.24",
        flags: &["--etcd-certfile", "--etcd-keyfile"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.25",
        flags: &["--tls-cert-file", "--tls-private-key-file"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.27",
        flags: &["--etcd-cafile"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.28",
        flags: &["--encryption-provider-config"],
        test: Set,
    },
    FlagCheck {
        cis: "1.2.30",
        flags: &["--tls-cipher-suites"],
        test: StrongCiphers,
    },
];

impl Rule for ApiserverInsecureFlags {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        super::check_component(object, cx, "kube-apiserver", CHECKS);
    }
}
