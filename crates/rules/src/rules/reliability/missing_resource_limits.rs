use palisade_core::{ContainerKind, Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers and init containers without a memory limit or without CPU and memory
    /// requests (`resources.limits.memory`, `resources.requests.cpu`,
    /// `resources.requests.memory`). Ephemeral containers cannot set resources and are not
    /// checked. A CPU limit is not required: it throttles without protecting the node.
    ///
    /// ## Why it matters
    /// Without a memory limit one leaking or attacked container can exhaust the node and get
    /// its neighbours evicted (a denial of service across tenants); without requests the
    /// scheduler overcommits nodes and rollouts stall or cascade.
    ///
    /// ## How to fix
    /// Set requests from observed usage and a memory limit above the peak.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example.com/app:1.4.2
    ///   resources:
    ///     requests: { cpu: 100m, memory: 128Mi }
    ///     limits: { memory: 256Mi }
    /// ```
    pub(crate) struct MissingResourceLimits;
    id: "REL001",
    name: "missing-resource-limits",
    severity: Medium,
    summary: "Container has no memory limit or no CPU/memory requests",
    references: ["nsa:pod-security", "nist:4.4.3", "owasp:K01", "cis:5.7", "book:ops.zero-downtime"],
    tags: ["reliability"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

fn has(resources: Option<&Value>, section: &str, key: &str) -> bool {
    resources
        .and_then(|r| r.get(section))
        .and_then(|s| s.get(key))
        .is_some_and(|v| !v.is_null())
}

impl Rule for MissingResourceLimits {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for c in pod
            .containers()
            .filter(|c| c.kind != ContainerKind::Ephemeral)
        {
            let r = c.get("resources");
            let mut missing = Vec::new();
            if !has(r, "limits", "memory") {
                missing.push("limits.memory");
            }
            if !has(r, "requests", "cpu") && !has(r, "limits", "cpu") {
                // A CPU limit alone makes the request default to it.
                missing.push("requests.cpu");
            }
            if !has(r, "requests", "memory") && !has(r, "limits", "memory") {
                missing.push("requests.memory");
            }
            if missing.is_empty() {
                continue;
            }
            let path = if r.is_some() {
                c.pointer("/resources")
            } else {
                c.pointer("")
            };
            let f = cx
                .report(
                    path,
                    format!(
                        "{} has no resources.{}",
                        c.describe(),
                        missing.join(", resources.")
                    ),
                )
                .fix("set resources.requests (cpu, memory) and resources.limits.memory")
                .property("container", c.name);
            if !missing.contains(&"limits.memory") {
                f.severity(palisade_core::Severity::Low);
            }
        }
    }
}
