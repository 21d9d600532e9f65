use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods whose `spec.hostAliases` is a non-empty list: entries the kubelet writes into
    /// the pod's `/etc/hosts`. The message lists the names and the addresses they are pinned
    /// to.
    ///
    /// ## Why it matters
    /// `/etc/hosts` is consulted before DNS. An alias silently sends a name (an API
    /// endpoint, a package mirror, the cloud metadata host) to a fixed address, bypassing
    /// DNS, service discovery and whatever DNS-level controls the cluster has; in a manifest
    /// from a chart or a pull request it is a quiet way to redirect traffic. Pinned addresses
    /// also go stale when the real service moves.
    ///
    /// ## How to fix
    /// Remove `hostAliases`; publish the name through DNS (a Service, an `ExternalName`
    /// Service or a DNS record) instead.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   hostAliases:
    ///   - ip: 203.0.113.10
    ///     hostnames: [api.payments.example]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Service
    /// spec:
    ///   type: ExternalName
    ///   externalName: api.payments.example
    /// ```
    pub(crate) struct HostAliases;
    id: "POD024",
    name: "host-aliases",
    severity: Low,
    summary: "Pod pins host names to addresses in /etc/hosts (hostAliases)",
    references: ["cis:5.7.3", "nsa:network-separation", "nist:4.4.3", "owasp:K01", "book:ops.pod-security-policy"],
    tags: ["workload"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for HostAliases {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        let Some(aliases) = pod.get("hostAliases").and_then(Value::as_array) else {
            return;
        };
        if aliases.is_empty() {
            return;
        }
        let entries: Vec<String> = aliases
            .iter()
            .map(|a| {
                let ip = a.get("ip").and_then(Value::as_str).unwrap_or("?");
                let names: Vec<&str> = a
                    .get("hostnames")
                    .and_then(Value::as_array)
                    .map(|h| h.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                format!("{} -> {ip}", names.join(", "))
            })
            .collect();
        cx.report(
            Some(pod.spec_pointer("/hostAliases")),
            format!(
                "hostAliases pin names in /etc/hosts: {}",
                entries.join("; ")
            ),
        )
        .fix("remove hostAliases and publish the names through DNS (a Service or a DNS record)");
    }
}
