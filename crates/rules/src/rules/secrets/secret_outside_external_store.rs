use palisade_core::{Context, Inventory, PodTemplate, Rule};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

declare_rule! {
    /// ## What it checks
    /// In namespaces where a `SecretProviderClass` (Secrets Store CSI driver) exists, the
    /// workloads that still consume a plain Kubernetes Secret: a `secret` volume, an env var
    /// with `valueFrom.secretKeyRef`, or `envFrom.secretRef`. Secrets that a
    /// SecretProviderClass of the namespace syncs from the external store
    /// (`spec.secretObjects[].secretName`) pass, as do service-account token and image-pull
    /// Secrets (not referenced this way). An inventory rule: it needs the SecretProviderClass
    /// objects, so scan the namespace or the cluster as a whole; without any it is silent.
    ///
    /// ## Why it matters
    /// The cluster already has an external secret store wired in; a Secret created by hand
    /// next to it escapes the store's rotation, access policy and audit trail, and usually
    /// means the value also lives in a manifest or a script somewhere.
    ///
    /// ## How to fix
    /// Put the value in the external store and mount it through the namespace's
    /// SecretProviderClass (a `csi` volume with driver `secrets-store.csi.k8s.io`), or sync it
    /// with `secretObjects` if an env var or another controller needs a Secret.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: db
    ///   secret: { secretName: db-password }   # created by hand
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// volumes:
    /// - name: db
    ///   csi:
    ///     driver: secrets-store.csi.k8s.io
    ///     readOnly: true
    ///     volumeAttributes: { secretProviderClass: app-keyvault }
    /// ```
    pub(crate) struct SecretOutsideExternalStore;
    id: "SEC007",
    name: "secret-outside-external-store",
    severity: Low,
    summary: "Workload uses a plain Secret where an external secret store is set up",
    references: ["cis:5.4.2", "nsa:secrets", "nist:4.1.4", "owasp:K08", "book:workload.secrets"],
    tags: ["secrets"],
    level: None,
    scope: Inventory,
    kinds: &["SecretProviderClass", "Pod", "PodTemplate", "ReplicationController", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"],
    options: &[],
}

impl Rule for SecretOutsideExternalStore {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_namespace_scoped(&self) -> bool {
        true
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        // namespace -> secrets synced from the store
        let mut stores: HashMap<Option<&str>, HashSet<&str>> = HashMap::new();
        for (_, spc) in inv.of_kind("SecretProviderClass") {
            if spc.group() != "secrets-store.csi.x-k8s.io" {
                continue;
            }
            let synced = stores.entry(spc.namespace.as_deref()).or_default();
            for so in spc
                .pointer("/spec/secretObjects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(n) = so.get("secretName").and_then(Value::as_str) {
                    synced.insert(n);
                }
            }
        }
        if stores.is_empty() {
            return;
        }
        for (id, o) in inv.objects().iter().enumerate() {
            let Some(synced) = stores.get(&o.namespace.as_deref()) else {
                continue;
            };
            if palisade_core::podspec::template_base(o.group(), &o.kind).is_none() {
                continue;
            }
            // Each workload is read once, without keeping its tree.
            o.with_unpacked(|o| {
                let Some(pod) = PodTemplate::of(o) else {
                    return;
                };
                // Pods owned by a workload are reported on the workload.
                if o.kind == "Pod" && o.pointer("/metadata/ownerReferences").is_some() {
                    return;
                }
                let id = palisade_core::ObjectId(id);
                let mut uses: Vec<(String, String)> = Vec::new();
                for (i, v) in pod.volumes() {
                    if let Some(name) = v.pointer("/secret/secretName").and_then(Value::as_str) {
                        uses.push((
                            pod.spec_pointer(&format!("/volumes/{i}/secret")),
                            name.to_owned(),
                        ));
                    }
                }
                for c in pod.containers() {
                    for (i, e) in c
                        .get("env")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        if let Some(name) = e
                            .pointer("/valueFrom/secretKeyRef/name")
                            .and_then(Value::as_str)
                        {
                            uses.push((
                                c.pointer(&format!("/env/{i}/valueFrom/secretKeyRef")),
                                name.to_owned(),
                            ));
                        }
                    }
                    for (i, e) in c
                        .get("envFrom")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .enumerate()
                    {
                        if let Some(name) = e.pointer("/secretRef/name").and_then(Value::as_str) {
                            uses.push((
                                c.pointer(&format!("/envFrom/{i}/secretRef")),
                                name.to_owned(),
                            ));
                        }
                    }
                }
                let mut seen = HashSet::new();
                for (path, name) in uses {
                    if synced.contains(name.as_str()) || !seen.insert(name.clone()) {
                        continue;
                    }
                    cx.report_on(
                        id,
                        path,
                        format!(
                            "uses Secret \"{name}\", not synced from the namespace's SecretProviderClass (external store)"
                        ),
                    )
                    .fix("store the value in the external store and mount it through a SecretProviderClass csi volume")
                    .property("secret", name);
                }
            });
        }
    }
}
