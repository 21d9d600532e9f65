//! The kinds Palisade reads from a cluster (and admits at its webhook): kind, API version,
//! resource name, scope. Data only; the cluster reader and the webhook installer share it.

/// One resource Palisade lists.
#[derive(Debug)]
pub struct Resource {
    /// `kind`.
    pub kind: &'static str,
    /// `apiVersion` (`v1`, `apps/v1`).
    pub api_version: &'static str,
    /// The resource name in URLs (`pods`).
    pub plural: &'static str,
    /// Namespaced (true) or cluster-scoped.
    pub namespaced: bool,
    /// Listed as metadata only (Secrets: their values never leave the API server; CRDs:
    /// their schemas are large and no rule reads them).
    pub metadata_only: bool,
}

impl Resource {
    /// The API group (empty for the core group).
    pub fn group(&self) -> &'static str {
        match self.api_version.rsplit_once('/') {
            Some((g, _)) => g,
            None => "",
        }
    }

    /// The name kubectl uses: `pods`, `ingresses.networking.k8s.io`.
    pub fn resource_name(&self) -> String {
        match self.group() {
            "" => self.plural.to_owned(),
            g => format!("{}.{g}", self.plural),
        }
    }

    /// The list URL path, all namespaces or one.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let prefix = match self.group() {
            "" => "/api/v1".to_owned(),
            _ => format!("/apis/{}", self.api_version),
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{prefix}/namespaces/{ns}/{}", self.plural),
            _ => format!("{prefix}/{}", self.plural),
        }
    }
}

const fn ns(kind: &'static str, api_version: &'static str, plural: &'static str) -> Resource {
    Resource {
        kind,
        api_version,
        plural,
        namespaced: true,
        metadata_only: false,
    }
}

const fn cluster(kind: &'static str, api_version: &'static str, plural: &'static str) -> Resource {
    Resource {
        kind,
        api_version,
        plural,
        namespaced: false,
        metadata_only: false,
    }
}

/// Every resource Palisade reads, in the order objects are reported.
pub static RESOURCES: &[Resource] = &[
    cluster("Namespace", "v1", "namespaces"),
    cluster("Node", "v1", "nodes"),
    ns("Pod", "v1", "pods"),
    ns("PodTemplate", "v1", "podtemplates"),
    ns("ReplicationController", "v1", "replicationcontrollers"),
    ns("Deployment", "apps/v1", "deployments"),
    ns("ReplicaSet", "apps/v1", "replicasets"),
    ns("StatefulSet", "apps/v1", "statefulsets"),
    ns("DaemonSet", "apps/v1", "daemonsets"),
    ns("Job", "batch/v1", "jobs"),
    ns("CronJob", "batch/v1", "cronjobs"),
    ns("Service", "v1", "services"),
    ns("Ingress", "networking.k8s.io/v1", "ingresses"),
    cluster("IngressClass", "networking.k8s.io/v1", "ingressclasses"),
    ns("NetworkPolicy", "networking.k8s.io/v1", "networkpolicies"),
    // CNI policy kinds, read where the cluster serves them (Cilium's CRDs; Calico's API
    // server). Calico's `NetworkPolicy` shares the kind name: lookups by kind alone find
    // the Kubernetes one first.
    ns(
        "CiliumNetworkPolicy",
        "cilium.io/v2",
        "ciliumnetworkpolicies",
    ),
    cluster(
        "CiliumClusterwideNetworkPolicy",
        "cilium.io/v2",
        "ciliumclusterwidenetworkpolicies",
    ),
    ns("NetworkPolicy", "projectcalico.org/v3", "networkpolicies"),
    cluster(
        "GlobalNetworkPolicy",
        "projectcalico.org/v3",
        "globalnetworkpolicies",
    ),
    cluster("Tier", "projectcalico.org/v3", "tiers"),
    ns("ServiceAccount", "v1", "serviceaccounts"),
    ns("ConfigMap", "v1", "configmaps"),
    Resource {
        kind: "Secret",
        api_version: "v1",
        plural: "secrets",
        namespaced: true,
        metadata_only: true,
    },
    ns("Role", "rbac.authorization.k8s.io/v1", "roles"),
    cluster(
        "ClusterRole",
        "rbac.authorization.k8s.io/v1",
        "clusterroles",
    ),
    ns(
        "RoleBinding",
        "rbac.authorization.k8s.io/v1",
        "rolebindings",
    ),
    cluster(
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io/v1",
        "clusterrolebindings",
    ),
    ns("PodDisruptionBudget", "policy/v1", "poddisruptionbudgets"),
    ns(
        "HorizontalPodAutoscaler",
        "autoscaling/v2",
        "horizontalpodautoscalers",
    ),
    ns("LimitRange", "v1", "limitranges"),
    ns("ResourceQuota", "v1", "resourcequotas"),
    cluster(
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io/v1",
        "validatingwebhookconfigurations",
    ),
    cluster(
        "MutatingWebhookConfiguration",
        "admissionregistration.k8s.io/v1",
        "mutatingwebhookconfigurations",
    ),
    cluster(
        "ValidatingAdmissionPolicy",
        "admissionregistration.k8s.io/v1",
        "validatingadmissionpolicies",
    ),
    cluster(
        "ValidatingAdmissionPolicyBinding",
        "admissionregistration.k8s.io/v1",
        "validatingadmissionpolicybindings",
    ),
    Resource {
        kind: "CustomResourceDefinition",
        api_version: "apiextensions.k8s.io/v1",
        plural: "customresourcedefinitions",
        namespaced: false,
        metadata_only: true,
    },
    // Trivy Operator's reports (read where the cluster serves them: IMG006's evidence).
    ns(
        "VulnerabilityReport",
        "aquasecurity.github.io/v1alpha1",
        "vulnerabilityreports",
    ),
    ns(
        "AzureIdentity",
        "aadpodidentity.k8s.io/v1",
        "azureidentities",
    ),
    ns(
        "AzureIdentityBinding",
        "aadpodidentity.k8s.io/v1",
        "azureidentitybindings",
    ),
];
