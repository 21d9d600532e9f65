use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init and ephemeral) whose `ports` set a non-zero `hostPort`.
    ///
    /// Same semantics as the upstream Pod Security Admission check `hostPorts` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// A host port exposes the pod on every address of the node, bypassing Services, network policies and load
    /// balancer source ranges, and pins the pod to nodes where the port is free.
    ///
    /// ## How to fix
    /// Remove `hostPort` and expose the port through a Service (ClusterIP, or LoadBalancer with source ranges).
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    /// - containerPort: 8080
    ///   hostPort: 8080
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// ports:
    /// - containerPort: 8080
    /// ```
    pub(crate) struct HostPort;
    id: "POD009",
    name: "host-port",
    severity: Medium,
    summary: "Container binds a port on the node",
    references: ["cis:5.2.13", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:hostPorts", "book:ops.pod-security-policy"],
    tags: ["pss", "baseline"],
    level: Some(PssLevel::Baseline),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for HostPort {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check("hostPorts", "remove hostPort; use a Service", object, cx);
    }
}
