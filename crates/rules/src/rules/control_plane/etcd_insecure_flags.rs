use super::{FlagCheck, Test::*};
use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// The flags of `etcd` containers in static pod manifests, against the CIS Kubernetes
    /// Benchmark section 2: `--cert-file` and `--key-file` set (2.1),
    /// `--client-cert-auth=true` (2.2), `--auto-tls` not true (2.3), `--peer-cert-file` and
    /// `--peer-key-file` set (2.4), `--peer-client-cert-auth=true` (2.5).
    ///
    /// ## Why it matters
    /// etcd holds every object of the cluster, Secrets included; without TLS and client
    /// certificate authentication, anyone who reaches its port reads or rewrites the
    /// cluster.
    ///
    /// ## How to fix
    /// Set the flags in the etcd static pod manifest (kubeadm's `etcd.local.extraArgs`).
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - etcd
    /// - --auto-tls=true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// command:
    /// - etcd
    /// - --cert-file=/etc/kubernetes/pki/etcd/server.crt
    /// - --key-file=/etc/kubernetes/pki/etcd/server.key
    /// - --client-cert-auth=true
    /// - --peer-client-cert-auth=true
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 2; NSA/CISA Kubernetes Hardening Guidance, "Protecting the
    /// control plane" (etcd); NIST SP 800-190 4.3.1; OWASP Kubernetes Top 10 K09.
    pub(crate) struct EtcdInsecureFlags;
    id: "CP004",
    name: "etcd-insecure-flags",
    severity: High,
    summary: "etcd runs without TLS or client certificate authentication",
    references: ["cis:2", "nsa:control-plane", "nist:4.3.1", "owasp:K09", "book:platform.control-plane-tls"],
    tags: ["control-plane"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

const CHECKS: &[FlagCheck] = &[
    FlagCheck {
        cis: "2.1",
        flags: &["--cert-file", "--key-file"],
        test: Set,
    },
    FlagCheck {
        cis: "2.2",
        flags: &["--client-cert-auth"],
        test: Is("true"),
    },
    FlagCheck {
        cis: "2.3",
        flags: &["--auto-tls"],
        test: Not("true"),
    },
    FlagCheck {
        cis: "2.4",
        flags: &["--peer-cert-file", "--peer-key-file"],
        test: Set,
    },
    FlagCheck {
        cis: "2.5",
        flags: &["--peer-client-cert-auth"],
        test: Is("true"),
    },
];

impl Rule for EtcdInsecureFlags {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        super::check_component(object, cx, "etcd", CHECKS);
    }
}
