use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Services of type `LoadBalancer` without `loadBalancerSourceRanges` (nor the
    /// `service.beta.kubernetes.io/load-balancer-source-ranges` annotation) that are not marked internal
    /// (`service.beta.kubernetes.io/azure-load-balancer-internal: "true"`,
    /// `service.beta.kubernetes.io/aws-load-balancer-internal`, `aws-load-balancer-scheme: internal`,
    /// `networking.gke.io/load-balancer-type: Internal`, `cloud.google.com/load-balancer-type: Internal`).
    ///
    /// ## Why it matters
    /// The cloud provider opens the service to the whole internet: scanners find it within minutes.
    ///
    /// ## How to fix
    /// Restrict `loadBalancerSourceRanges` to the clients' ranges, make the load balancer internal, or put a WAF or
    /// ingress gateway in front.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: LoadBalancer
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: LoadBalancer
    ///   loadBalancerSourceRanges: ["203.0.113.0/24"]
    /// ```
    pub(crate) struct LoadBalancerWithoutSourceRanges;
    id: "NET007",
    name: "load-balancer-without-source-ranges",
    severity: Medium,
    summary: "Public LoadBalancer Service open to every address",
    references: ["nsa:network-separation", "nist:4.3.3", "owasp:K07", "book:workload.api-authorized-ips", "book:workload.waf"],
    tags: ["network"],
    level: None,
    scope: Object,
    kinds: &["Service"],
    options: &[],
}

impl Rule for LoadBalancerWithoutSourceRanges {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "Service" || !object.group().is_empty() {
            return;
        }
        if object.pointer("/spec/type").and_then(Value::as_str) != Some("LoadBalancer") {
            return;
        }
        let ranges = object
            .pointer("/spec/loadBalancerSourceRanges")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
            || object
                .annotation("service.beta.kubernetes.io/load-balancer-source-ranges")
                .is_some_and(|v| !v.trim().is_empty());
        let ann = |k: &str| object.annotation(k).map(str::to_ascii_lowercase);
        let internal = ann("service.beta.kubernetes.io/azure-load-balancer-internal").as_deref()
            == Some("true")
            || ann("service.beta.kubernetes.io/aws-load-balancer-internal")
                .is_some_and(|v| v == "true" || v.contains('.'))
            || ann("service.beta.kubernetes.io/aws-load-balancer-scheme").as_deref()
                == Some("internal")
            || ann("networking.gke.io/load-balancer-type").as_deref() == Some("internal")
            || ann("cloud.google.com/load-balancer-type").as_deref() == Some("internal")
            || ann("service.beta.kubernetes.io/oci-load-balancer-internal").as_deref()
                == Some("true");
        if ranges || internal {
            return;
        }
        cx.report("/spec/type".to_owned(), format!("LoadBalancer Service {} is open to every address (no loadBalancerSourceRanges, not internal)", object.name))
            .fix("set loadBalancerSourceRanges, or make the load balancer internal");
    }
}
