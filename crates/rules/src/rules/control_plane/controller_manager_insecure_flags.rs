use super::{FlagCheck, Test::*};
use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// The flags of `kube-controller-manager` containers in static pod manifests, against
    /// the CIS Kubernetes Benchmark section 1.3: `--terminated-pod-gc-threshold` set, not 0 (1.3.1),
    /// `--profiling=false` (1.3.2), `--use-service-account-credentials=true` (1.3.3),
    /// `--service-account-private-key-file` (1.3.4) and `--root-ca-file` (1.3.5) naming a
    /// file when set (unset is safe in current Kubernetes: without a signing key the legacy
    /// token controller does not run, and the root CA published to namespaces falls back to
    /// the controller manager's own cluster CA), the
    /// `RotateKubeletServerCertificate` feature gate not disabled (1.3.6),
    /// `--bind-address=127.0.0.1` (1.3.7).
    ///
    /// ## Why it matters
    /// The controller manager holds credentials that can create any pod and sign service
    /// account tokens; shared credentials, an exposed profiling endpoint or a listener on
    /// every interface widen what one compromise reaches.
    ///
    /// ## How to fix
    /// Set the flags in the static pod manifest (or kubeadm's
    /// `controllerManager.extraArgs`).
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kube-controller-manager
    /// - --bind-address=0.0.0.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// command:
    /// - kube-controller-manager
    /// - --bind-address=127.0.0.1
    /// - --profiling=false
    /// - --use-service-account-credentials=true
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 1.3; NSA/CISA Kubernetes Hardening Guidance, "Protecting
    /// the control plane"; NIST SP 800-190 4.3.1; OWASP Kubernetes Top 10 K09.
    pub(crate) struct ControllerManagerInsecureFlags;
    id: "CP002",
    name: "controller-manager-insecure-flags",
    severity: Medium,
    summary: "kube-controller-manager runs with an insecure flag",
    references: ["cis:1.3", "nsa:control-plane", "nist:4.3.1", "owasp:K09", "book:ops.control-plane-access", "book:workload.cert-rotation"],
    tags: ["control-plane"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

const CHECKS: &[FlagCheck] = &[
    FlagCheck {
        cis: "1.3.1",
        flags: &["--terminated-pod-gc-threshold"],
        test: Set,
    },
    FlagCheck {
        cis: "1.3.1",
        flags: &["--terminated-pod-gc-threshold"],
        test: Not("0"),
    },
    FlagCheck {
        cis: "1.3.2",
        flags: &["--profiling"],
        test: Is("false"),
    },
    FlagCheck {
        cis: "1.3.3",
        flags: &["--use-service-account-credentials"],
        test: Is("true"),
    },
    FlagCheck {
        cis: "1.3.4",
        flags: &["--service-account-private-key-file"],
        test: NotEmpty,
    },
    FlagCheck {
        cis: "1.3.5",
        flags: &["--root-ca-file"],
        test: NotEmpty,
    },
    FlagCheck {
        cis: "1.3.6",
        flags: &["--feature-gates"],
        test: GateNotFalse("RotateKubeletServerCertificate"),
    },
    FlagCheck {
        cis: "1.3.7",
        flags: &["--bind-address"],
        test: Is("127.0.0.1"),
    },
];

impl Rule for ControllerManagerInsecureFlags {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        super::check_component(object, cx, "kube-controller-manager", CHECKS);
    }
}
