use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Services with a non-empty `spec.externalIPs`.
    ///
    /// ## Why it matters
    /// Whoever can create a Service with `externalIPs` can intercept traffic to any address the cluster routes
    /// (CVE-2020-8554); legitimate uses are rare.
    ///
    /// ## How to fix
    /// Remove `externalIPs`; use a LoadBalancer. Block the field cluster-wide with an admission policy
    /// (the DenyServiceExternalIPs admission plugin).
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   externalIPs: ["203.0.113.10"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// spec:
    ///   type: LoadBalancer
    /// ```
    pub(crate) struct ServiceExternalIps;
    id: "NET009",
    name: "service-external-ips",
    severity: Medium,
    summary: "Service sets externalIPs",
    references: ["nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.network-policies"],
    tags: ["network"],
    level: None,
    scope: Object,
    kinds: &["Service"],
    options: &[],
}

impl Rule for ServiceExternalIps {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "Service" || !object.group().is_empty() {
            return;
        }
        if object
            .pointer("/spec/externalIPs")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
        {
            cx.report(
                "/spec/externalIPs".to_owned(),
                format!("Service {} sets externalIPs", object.name),
            )
            .fix("remove externalIPs; use a LoadBalancer Service");
        }
    }
}
