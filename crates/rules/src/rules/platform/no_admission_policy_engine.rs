use palisade_core::{Context, Inventory, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Cluster snapshots (the inventory holds the `kube-system` Namespace or a Node) with no
    /// admission policy enforcement at all: no ValidatingWebhookConfiguration of a known
    /// policy engine (Palisade, OPA Gatekeeper, Azure Policy for Kubernetes, which runs
    /// Gatekeeper, Kyverno, Kubewarden, Polaris, jsPolicy, k-rail, Datree; recognised by the
    /// configuration's name, its webhooks' names or the namespace of their service), no
    /// ValidatingAdmissionPolicy with a ValidatingAdmissionPolicyBinding, and no Namespace
    /// enforcing Pod Security Admission at `baseline` or `restricted`
    /// (`pod-security.kubernetes.io/enforce`). On plain manifests the rule is silent: it
    /// cannot see the cluster.
    ///
    /// ## Why it matters
    /// Without admission control, every rule in this catalogue is advice: anyone allowed to
    /// create a pod can create a privileged one, and a scan only finds it afterwards.
    ///
    /// ## How to fix
    /// Enforce Pod Security Admission on application namespaces, and deploy a policy engine
    /// (`palisade admission install`, Gatekeeper or Azure Policy, Kyverno) for the rest;
    /// start in audit mode and promote to deny.
    ///
    /// ## Example
    /// ```yaml
    /// # a cluster snapshot with no policy webhook and namespaces without
    /// # pod-security.kubernetes.io/enforce
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: v1
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    ///   labels: { pod-security.kubernetes.io/enforce: restricted }
    /// ```
    pub(crate) struct NoAdmissionPolicyEngine;
    id: "PLAT002",
    name: "no-admission-policy-engine",
    severity: Medium,
    summary: "Cluster has no admission policy enforcement",
    references: ["nsa:pod-security", "cis:5.2.1", "nist:4.3.5", "owasp:K04", "book:ops.pod-security-policy", "book:workload.governance-at-scale"],
    tags: ["platform", "cluster"],
    level: None,
    scope: Inventory,
    kinds: &["Namespace", "Node", "ValidatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"],
    options: &[],
}

const ENGINES: &[&str] = &[
    "palisade",
    "gatekeeper",
    "azure-policy",
    "kyverno",
    "kubewarden",
    "polaris",
    "jspolicy",
    "k-rail",
    "datree",
];

fn is_engine(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ENGINES.iter().any(|e| n.contains(e))
}

impl Rule for NoAdmissionPolicyEngine {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn applies_to(&self, object: &palisade_core::Object) -> bool {
        super::is_cluster_anchor(object)
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let Some(anchor) = super::cluster_anchor(inv) else {
            return;
        };
        let webhook = inv.of_kind("ValidatingWebhookConfiguration").any(|(_, o)| {
            is_engine(&o.name)
                || o.pointer("/webhooks")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .any(|w| {
                        w.get("name").and_then(Value::as_str).is_some_and(is_engine)
                            || w.pointer("/clientConfig/service/namespace")
                                .and_then(Value::as_str)
                                .is_some_and(is_engine)
                    })
        });
        let vap = inv.of_kind("ValidatingAdmissionPolicy").next().is_some()
            && inv
                .of_kind("ValidatingAdmissionPolicyBinding")
                .next()
                .is_some();
        let pss = inv.of_kind("Namespace").any(|(_, o)| {
            matches!(
                o.labels()
                    .find(|(k, _)| *k == "pod-security.kubernetes.io/enforce")
                    .map(|(_, v)| v),
                Some("baseline" | "restricted")
            )
        });
        if webhook || vap || pss {
            return;
        }
        cx.report_on(
            anchor,
            None,
            "the cluster has no admission policy engine (no policy webhook, no bound ValidatingAdmissionPolicy) and no namespace enforces Pod Security",
        )
        .fix("enforce Pod Security Admission on application namespaces and deploy a policy engine (palisade admission install, Gatekeeper/Azure Policy, Kyverno)");
    }
}
