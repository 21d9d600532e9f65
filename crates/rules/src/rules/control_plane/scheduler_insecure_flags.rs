use super::{FlagCheck, Test::*};
use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// The flags of `kube-scheduler` containers in static pod manifests, against the CIS
    /// Kubernetes Benchmark section 1.4: `--profiling=false` (1.4.1) and
    /// `--bind-address=127.0.0.1` (1.4.2).
    ///
    /// ## Why it matters
    /// The profiling endpoint exposes internals and costs resources; a scheduler listening on
    /// every interface exposes its metrics and debug endpoints to the network.
    ///
    /// ## How to fix
    /// Set the flags in the static pod manifest (or kubeadm's `scheduler.extraArgs`).
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kube-scheduler
    /// - --profiling=true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// command:
    /// - kube-scheduler
    /// - --profiling=false
    /// - --bind-address=127.0.0.1
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 1.4; NSA/CISA Kubernetes Hardening Guidance, "Protecting
    /// the control plane"; NIST SP 800-190 4.3.1; OWASP Kubernetes Top 10 K09.
    pub(crate) struct SchedulerInsecureFlags;
    id: "CP003",
    name: "scheduler-insecure-flags",
    severity: Medium,
    summary: "kube-scheduler runs with an insecure flag",
    references: ["cis:1.4", "nsa:control-plane", "nist:4.3.1", "owasp:K09", "book:ops.control-plane-access"],
    tags: ["control-plane"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

const CHECKS: &[FlagCheck] = &[
    FlagCheck {
        cis: "1.4.1",
        flags: &["--profiling"],
        test: Is("false"),
    },
    FlagCheck {
        cis: "1.4.2",
        flags: &["--bind-address"],
        test: Is("127.0.0.1"),
    },
];

impl Rule for SchedulerInsecureFlags {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        super::check_component(object, cx, "kube-scheduler", CHECKS);
    }
}
