use palisade_core::{Context, Object, PodTemplate, Rule};

declare_rule! {
    /// ## What it checks
    /// Workloads (Pods and every kind with a pod template) whose `metadata.namespace` is
    /// `default`. A manifest that names no namespace is not reported: `kubectl apply`,
    /// Helm and Argo CD place it in the namespace they are given, which is only `default`
    /// when nobody chose one (a cluster scan always sees the namespace).
    ///
    /// ## Why it matters
    /// Namespaces are the unit of isolation Kubernetes gives: RBAC, NetworkPolicies, Pod
    /// Security Admission labels, quotas and exceptions are all set per namespace. The
    /// `default` namespace is shared by everything deployed without thought, is where
    /// defaults point, and usually carries none of these controls, so a workload there
    /// inherits the weakest setting and shares it with unrelated applications.
    ///
    /// ## How to fix
    /// Create a namespace per application or team, with its Pod Security label,
    /// default-deny NetworkPolicies and quotas, and deploy there.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata:
    ///   name: web
    ///   namespace: default
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Deployment
    /// metadata:
    ///   name: web
    ///   namespace: shop
    /// ```
    pub(crate) struct WorkloadInDefaultNamespace;
    id: "POD029",
    name: "workload-in-default-namespace",
    severity: Low,
    summary: "Workload runs in the `default` namespace",
    references: ["cis:5.7.4", "cis:5.7.1", "nsa:network-separation", "nist:4.3.3", "owasp:K01", "book:workload.governance-at-scale"],
    tags: ["workload", "namespaces"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for WorkloadInDefaultNamespace {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if PodTemplate::of(object).is_none() || object.namespace.as_deref() != Some("default") {
            return;
        }
        cx.report(
            Some("/metadata/namespace".to_owned()),
            format!("{} {} runs in the default namespace", object.kind, object.name),
        )
        .fix("deploy into a namespace of its own, with its Pod Security label, NetworkPolicies and quotas");
    }
}
