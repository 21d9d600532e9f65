use palisade_core::{Context, Object, Rule};
use palisade_node::Component;

declare_rule! {
    /// ## What it checks
    /// Pods running `kube-scheduler` (static pod manifests in `/etc/kubernetes/manifests`, or the
    /// mirror pods kubeadm clusters show in `kube-system`) whose command line fails an automated
    /// check of CIS Kubernetes Benchmark section 1.4 (Scheduler). Each failing check is one finding
    /// at the flag (or at the command when the flag is missing), with the CIS id in its
    /// `cis` property and the check's own severity. Unset flags take the component's default.
    ///
    /// The checks are the table `palisade node` runs on a host (`palisade-node`, newest
    /// benchmark); checks CIS marks manual are not evaluated here.
    ///
    /// ## Why it matters
    /// The control plane is the cluster: a component that accepts anonymous or unauthorised
    /// requests, skips TLS verification or exposes profiling and metrics on every interface
    /// hands an attacker the keys to every workload and Secret.
    ///
    /// ## How to fix
    /// Edit the static pod manifest on each control-plane node (kubeadm: through the
    /// `ClusterConfiguration` extra args, so upgrades keep the change); the kubelet restarts the
    /// component. The finding's fix names the flag.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Pod
    /// metadata: { name: kube-scheduler, namespace: kube-system }
    /// spec:
    ///   containers:
    ///   - name: kube-scheduler
    ///     command: [kube-scheduler, --profiling=true]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Pod
    /// metadata: { name: kube-scheduler, namespace: kube-system }
    /// spec:
    ///   containers:
    ///   - name: kube-scheduler
    ///     command: [kube-scheduler, --profiling=false, ...]   # and every flag of CIS 1.4
    /// ```
    pub(crate) struct InsecureSchedulerFlags;
    id: "CP003",
    name: "insecure-scheduler-flags",
    severity: Medium,
    summary: "Scheduler static pod fails CIS flag checks",
    references: ["cis:1.4", "nsa:control-plane", "nist:4.3.2", "owasp:K09", "book:platform.control-plane-tls", "book:ops.control-plane-access"],
    tags: ["control-plane", "cis"],
    level: None,
    scope: Object,
    kinds: &["Pod"],
    options: &[],
}

impl Rule for InsecureSchedulerFlags {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn applies_to(&self, object: &Object) -> bool {
        crate::rules::control_plane::runs_component(Component::Scheduler, object)
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        super::check_component(Component::Scheduler, object, cx);
    }
}
