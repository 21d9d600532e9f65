use palisade_core::{Context, Inventory, PodTemplate, Rule};

declare_rule! {
    /// ## What it checks
    /// Use of the deprecated Azure AD pod-managed identity (aad-pod-identity): objects of
    /// kind `AzureIdentity`, `AzureIdentityBinding` or `AzurePodIdentityException` (group
    /// `aadpodidentity.k8s.io`), and pods or pod templates labelled `aadpodidbinding`. It
    /// reports what is present, so it runs on manifests and cluster scans alike.
    ///
    /// ## Why it matters
    /// Pod-managed identity was deprecated in 2022 and is out of support: it works by
    /// intercepting the node's instance metadata endpoint (NMI runs privileged on every node,
    /// with iptables redirection) and any pod that can reach IMDS can try to obtain the
    /// identities assigned to the node. Microsoft Entra Workload ID replaces it with
    /// federated, short-lived, audience-bound tokens and no privileged component.
    ///
    /// ## How to fix
    /// Migrate to workload identity: a ServiceAccount annotated with
    /// `azure.workload.identity/client-id`, a federated credential on the managed identity,
    /// pods labelled `azure.workload.identity/use: "true"`; then remove aad-pod-identity.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   labels: { aadpodidbinding: app-identity }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// metadata:
    ///   labels: { azure.workload.identity/use: "true" }
    /// spec:
    ///   serviceAccountName: app   # annotated azure.workload.identity/client-id
    /// ```
    pub(crate) struct PodManagedIdentity;
    id: "PLAT001",
    name: "pod-managed-identity",
    severity: Medium,
    summary: "Deprecated Azure AD pod-managed identity is in use",
    references: ["nsa:authentication-authorization", "nist:4.3.2", "owasp:K06", "cis:5.1.6", "book:ops.workload-identity"],
    tags: ["platform", "identity"],
    level: None,
    scope: Inventory,
    kinds: &["AzureIdentity", "AzureIdentityBinding", "AzurePodIdentityException", "Pod", "PodTemplate", "ReplicationController", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"],
    options: &[],
}

impl Rule for PodManagedIdentity {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn object_local(&self) -> bool {
        // Reported on the object that uses the identity, for what it says itself.
        true
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        for (i, o) in inv.objects().iter().enumerate() {
            let id = palisade_core::ObjectId(i);
            if o.group() == "aadpodidentity.k8s.io"
                && matches!(
                    o.kind.as_str(),
                    "AzureIdentity" | "AzureIdentityBinding" | "AzurePodIdentityException"
                )
            {
                cx.report_on(
                    id,
                    None,
                    format!("{} of the deprecated Azure AD pod-managed identity", o.kind),
                )
                .fix("migrate to Microsoft Entra Workload ID and remove aad-pod-identity");
                continue;
            }
            if palisade_core::podspec::template_base(o.group(), &o.kind).is_none() {
                continue;
            }
            // Each workload is read once, without keeping its tree.
            o.with_unpacked(|o| {
                let Some(pod) = PodTemplate::of(o) else {
                    return;
                };
                // Pods created by a workload are reported on the workload.
                if o.kind == "Pod" && o.pointer("/metadata/ownerReferences").is_some() {
                    return;
                }
                if let Some(binding) = pod
                    .metadata
                    .pointer("/labels/aadpodidbinding")
                    .and_then(|v| v.as_str())
                {
                    cx.report_on(
                        id,
                        Some(pod.metadata_pointer("/labels/aadpodidbinding")),
                        format!("pod template uses pod-managed identity binding \"{binding}\" (label aadpodidbinding)"),
                    )
                    .fix("use workload identity: label azure.workload.identity/use: \"true\" and a ServiceAccount with azure.workload.identity/client-id");
                }
            });
        }
    }
}
