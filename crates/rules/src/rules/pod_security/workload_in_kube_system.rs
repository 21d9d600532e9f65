use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Workloads in `kube-system` that show none of the marks of a cluster component, and so
    /// look like applications deployed there. A workload is a cluster component when any of
    /// these holds:
    /// - its pod runs at `priorityClassName: system-cluster-critical` or
    ///   `system-node-critical` (reserved for `kube-system` by the API server);
    /// - it or its pod template carries one of the labels add-ons and control-plane pods
    ///   use: `k8s-app`, `component`, `tier: control-plane`, `kubernetes.io/cluster-service`,
    ///   `addonmanager.kubernetes.io/mode`;
    /// - it is a static (mirror) pod (`kubernetes.io/config.mirror` annotation);
    /// - every image comes from a Kubernetes or managed-Kubernetes registry
    ///   (`registry.k8s.io`, `k8s.gcr.io`, `mcr.microsoft.com/oss/`, `mcr.microsoft.com/aks/`,
    ///   `gke.gcr.io`, `gcr.io/gke-release/`, `public.ecr.aws/eks/`, EKS's
    ///   `602401143452.dkr.ecr.*` account).
    ///
    /// ## Why it matters
    /// `kube-system` holds the cluster's most powerful identities: controller service
    /// accounts, add-on tokens, bootstrap secrets. It is exempt from most policies (Pod
    /// Security, admission webhooks, NetworkPolicies) so that the control plane keeps
    /// running. An application there gets those exemptions and sits next to those
    /// credentials: a compromise of the application is one step from the cluster.
    ///
    /// ## How to fix
    /// Move the application to a namespace of its own. Add-ons that must run in
    /// `kube-system` should use a system priority class.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// metadata:
    ///   name: billing-api
    ///   namespace: kube-system
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Deployment
    /// metadata:
    ///   name: billing-api
    ///   namespace: billing
    /// ```
    pub(crate) struct WorkloadInKubeSystem;
    id: "POD030",
    name: "application-in-kube-system",
    severity: Medium,
    summary: "Application workload runs in `kube-system`",
    references: ["cis:5.7.1", "nsa:network-separation", "nist:4.3.3", "owasp:K01", "book:workload.governance-at-scale", "book:ops.control-plane-access"],
    tags: ["workload", "namespaces"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

const COMPONENT_LABELS: &[&str] = &[
    "k8s-app",
    "component",
    "kubernetes.io/cluster-service",
    "addonmanager.kubernetes.io/mode",
];

const PLATFORM_REGISTRIES: &[&str] = &[
    "registry.k8s.io/",
    "k8s.gcr.io/",
    "mcr.microsoft.com/oss/",
    "mcr.microsoft.com/aks/",
    "gke.gcr.io/",
    "gcr.io/gke-release/",
    "public.ecr.aws/eks/",
    "602401143452.dkr.ecr.",
];

fn has_component_label(metadata: &Value) -> bool {
    let Some(labels) = metadata.get("labels").and_then(Value::as_object) else {
        return false;
    };
    COMPONENT_LABELS.iter().any(|l| labels.contains_key(*l))
        || labels.get("tier").and_then(Value::as_str) == Some("control-plane")
}

/// True when the workload shows a mark of a cluster component (see the rule's doc).
fn is_cluster_component(object: &Object, pod: &PodTemplate<'_>) -> bool {
    let critical = pod
        .get("priorityClassName")
        .and_then(Value::as_str)
        .is_some_and(|p| p == "system-cluster-critical" || p == "system-node-critical");
    let metadata = object.value().get("metadata").unwrap_or(&Value::Null);
    let mirror = object.annotation("kubernetes.io/config.mirror").is_some();
    let images: Vec<&str> = pod.containers().map(|c| c.image()).collect();
    let platform_images = !images.is_empty()
        && images
            .iter()
            .all(|i| PLATFORM_REGISTRIES.iter().any(|r| i.starts_with(r)));
    critical
        || mirror
        || has_component_label(metadata)
        || has_component_label(pod.metadata)
        || platform_images
}

impl Rule for WorkloadInKubeSystem {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.namespace.as_deref() != Some("kube-system") {
            return;
        }
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        if is_cluster_component(object, &pod) {
            return;
        }
        cx.report(
            Some("/metadata/namespace".to_owned()),
            format!(
                "{} {} runs in kube-system without a system priority class, a component label or platform images",
                object.kind, object.name
            ),
        )
        .fix("move the application to its own namespace; add-ons that must run in kube-system should use a system priority class");
    }
}
