use palisade_core::{Context, Object, Rule};
use palisade_node::checks::Component;

declare_rule! {
    /// ## What it checks
    /// The flags of `kubelet` containers in Pod manifests (kubelets run as pods by some
    /// installers and test setups; a kubelet running as a host service is `palisade node`'s),
    /// evaluated with the same CIS table as `palisade node` (its automated section 4.2 checks,
    /// with the kubelet's defaults for unset flags), for example: `--anonymous-auth=false` (4.2.1),
    /// `--authorization-mode` not `AlwaysAllow` (4.2.2), `--client-ca-file` set (4.2.3),
    /// `--read-only-port=0` (4.2.4), `--streaming-connection-idle-timeout` not 0 (4.2.5),
    /// `--protect-kernel-defaults=true` (4.2.6), `--make-iptables-util-chains` not false
    /// (4.2.7), no `--hostname-override` (4.2.8), TLS certificate and key set (4.2.10),
    /// `--rotate-certificates` not false (4.2.11), the `RotateKubeletServerCertificate`
    /// feature gate not disabled (4.2.12), strong TLS cipher suites only (4.2.13).
    ///
    /// ## Why it matters
    /// The kubelet API runs commands in every pod of its node: anonymous access or an
    /// authorizer that allows everything is remote code execution on the node.
    ///
    /// ## How to fix
    /// Set the flags, or better the equivalent fields of the kubelet configuration file.
    ///
    /// ## Example
    /// ```yaml
    /// command:
    /// - kubelet
    /// - --anonymous-auth=true
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// command:
    /// - kubelet
    /// - --anonymous-auth=false
    /// - --authorization-mode=Webhook
    /// - --client-ca-file=/etc/kubernetes/pki/ca.crt
    /// ```
    pub(crate) struct KubeletInsecureFlags;
    id: "NODE002",
    name: "kubelet-insecure-flags",
    severity: High,
    summary: "kubelet runs with an insecure flag",
    references: ["cis:4.2", "nsa:control-plane", "nist:4.4.2", "owasp:K09", "book:platform.node-hardening", "book:workload.cert-rotation"],
    tags: ["node"],
    level: None,
    scope: Object,
    kinds: &["Pod"],
    options: &[],
}

impl Rule for KubeletInsecureFlags {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn applies_to(&self, object: &Object) -> bool {
        crate::rules::control_plane::runs_component(Component::Kubelet, object)
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        crate::rules::control_plane::check_component(Component::Kubelet, object, cx);
    }
}
