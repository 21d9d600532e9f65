use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods and pod templates that get a service account token mounted automatically: the pod
    /// does not set `automountServiceAccountToken: false`, and its ServiceAccount (when the
    /// scan includes it) does not either. A pod-level `true` overrides the ServiceAccount, as
    /// in Kubernetes.
    ///
    /// ## Why it matters
    /// Most applications never call the Kubernetes API, yet every pod gets a token by default.
    /// Whoever compromises the pod gets the service account's permissions: enumeration at the
    /// least, and often much more.
    ///
    /// ## How to fix
    /// Set `automountServiceAccountToken: false` on the ServiceAccount or in the pod spec;
    /// pods that need the API mount a projected, short-lived token explicitly.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   automountServiceAccountToken: false
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    pub(crate) struct ServiceAccountTokenAutomount;
    id: "SEC001",
    name: "service-account-token-automount",
    severity: Low,
    summary: "Service account token is mounted automatically",
    references: ["cis:5.1.6", "nsa:authentication-authorization", "nist:4.3.2", "owasp:K03", "book:ops.rbac", "book:ops.workload-identity"],
    tags: ["secrets"],
    level: None,
    scope: Object,
    kinds: &["Pod", "PodTemplate", "ReplicationController", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "ServiceAccount"],
    options: &[],
}

impl Rule for ServiceAccountTokenAutomount {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_namespace_scoped(&self) -> bool {
        true
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn object_local(&self) -> bool {
        // The Pod's ServiceAccount may turn the token off for every Pod that uses it: the
        // verdict needs that other object.
        false
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        match pod
            .get("automountServiceAccountToken")
            .and_then(Value::as_bool)
        {
            Some(false) => return,
            Some(true) => {}
            None => {
                let sa = pod
                    .get("serviceAccountName")
                    .or_else(|| pod.get("serviceAccount"))
                    .and_then(Value::as_str)
                    .unwrap_or("default");
                let sa_off = cx
                    .inventory()
                    .and_then(|inv| inv.find("ServiceAccount", object.namespace.as_deref(), sa))
                    .and_then(|o| o.pointer("/automountServiceAccountToken"))
                    .and_then(Value::as_bool)
                    == Some(false);
                if sa_off {
                    return;
                }
            }
        }
        let path = if pod.get("automountServiceAccountToken").is_some() {
            pod.spec_pointer("/automountServiceAccountToken")
        } else {
            pod.spec_pointer("")
        };
        cx.report(
            path,
            "service account token is automounted (automountServiceAccountToken is not false)",
        )
        .fix("set `automountServiceAccountToken: false` on the pod or its ServiceAccount");
    }
}
