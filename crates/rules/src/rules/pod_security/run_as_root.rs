use palisade_core::{Context, Object, PodTemplate, PssLevel, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Pods whose containers are not required to run as a non-root user. Same semantics as the
    /// Pod Security Standards `runAsNonRoot` check (restricted level): either the pod sets
    /// `securityContext.runAsNonRoot: true` and no container overrides it with `false`, or
    /// every container (regular, init, ephemeral) sets `runAsNonRoot: true` itself. Pods with
    /// `spec.os.name: windows` and pods in a user namespace (`hostUsers: false`) are exempt, as
    /// upstream exempts them.
    ///
    /// ## Why it matters
    /// Without `runAsNonRoot`, the image decides the user, and most images run as root. Root in
    /// a container is root on the node's kernel: one escape bug away from the node.
    ///
    /// ## How to fix
    /// Set `securityContext.runAsNonRoot: true` at pod level (and a non-zero `runAsUser` if the
    /// image has no numeric non-root user).
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
    ///   securityContext:
    ///     runAsNonRoot: true
    ///     runAsUser: 10001
    ///   containers:
    ///   - name: app
    ///     image: registry.example.com/app:1.4.2
    /// ```
    ///
    /// ## References
    /// CIS Kubernetes Benchmark 5.2.7; NSA/CISA Kubernetes Hardening Guidance, "Use containers
    /// built to run applications as non-root users"; NIST SP 800-190 4.4.3; OWASP Kubernetes
    /// Top 10 K01; Pod Security Standards, restricted, "Running as Non-root".
    pub(crate) struct RunAsRoot;
    id: "POD003",
    name: "run-as-root",
    severity: Medium,
    summary: "Containers are not required to run as non-root",
    references: ["cis:5.2.7", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:runAsNonRoot", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for RunAsRoot {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        if pod.is_windows() || pod.get("hostUsers").and_then(Value::as_bool) == Some(false) {
            return;
        }
        let pod_level = pod
            .security_context()
            .get("runAsNonRoot")
            .and_then(Value::as_bool);
        if pod_level == Some(false) {
            cx.report(
                pod.spec_pointer("/securityContext/runAsNonRoot"),
                "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)",
            )
            .fix("set `securityContext.runAsNonRoot: true` on the pod");
        }
        let mut explicit_false = Vec::new();
        let mut unset = Vec::new();
        for c in pod.containers() {
            match c.security("runAsNonRoot").and_then(Value::as_bool) {
                Some(false) => explicit_false.push(c),
                Some(true) => {}
                None => unset.push(c),
            }
        }
        for c in &explicit_false {
            cx.report(
                c.pointer("/securityContext/runAsNonRoot"),
                format!(
                    "runAsNonRoot != true ({} must not set securityContext.runAsNonRoot=false)",
                    c.describe()
                ),
            )
            .fix("remove `runAsNonRoot: false` or set it to true")
            .property("container", c.name);
        }
        if pod_level != Some(true) && pod_level != Some(false) && !unset.is_empty() {
            let names: Vec<String> = unset.iter().map(|c| format!("\"{}\"", c.name)).collect();
            let noun = if unset.len() == 1 {
                unset[0].kind.noun()
            } else {
                "containers"
            };
            cx.report(
                pod.spec_pointer(if pod.spec.get("securityContext").is_some() { "/securityContext" } else { "" }),
                format!(
                    "runAsNonRoot != true (pod or {noun} {} must set securityContext.runAsNonRoot=true)",
                    names.join(", ")
                ),
            )
            .fix("set `securityContext.runAsNonRoot: true` on the pod");
        }
    }
}
