use palisade_core::{Context, Object, PodTemplate, Rule};

declare_rule! {
    /// ## What it checks
    /// Regular containers of long-running workloads (Deployment, StatefulSet, DaemonSet,
    /// ReplicaSet, ReplicationController) without a `readinessProbe` or without a
    /// `livenessProbe`. Jobs, CronJobs, bare Pods, init and ephemeral containers are not
    /// checked; an init container with `restartPolicy: Always` (a sidecar) is not required to
    /// have them either.
    ///
    /// ## Why it matters
    /// Without a readiness probe a rolling update sends traffic to pods that are not ready and
    /// can take the whole service down while reporting success; without a liveness probe a
    /// hung process keeps its pod forever. Zero-downtime rollouts need both.
    ///
    /// ## How to fix
    /// Add an HTTP, TCP, gRPC or exec `readinessProbe` and `livenessProbe` that reflect the
    /// application's health.
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
    ///   readinessProbe: { httpGet: { path: /ready, port: 8080 } }
    ///   livenessProbe: { httpGet: { path: /healthz, port: 8080 } }
    /// ```
    pub(crate) struct MissingProbes;
    id: "REL002",
    name: "missing-probes",
    severity: Low,
    summary: "Container of a long-running workload has no readiness or liveness probe",
    references: ["nist:4.4.3", "nsa:upgrading", "owasp:K01", "book:ops.zero-downtime"],
    tags: ["reliability"],
    level: None,
    scope: Object,
    kinds: &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"],
    options: &[],
}

impl Rule for MissingProbes {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if !matches!(
            object.kind.as_str(),
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController"
        ) {
            return;
        }
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        for c in pod
            .containers()
            .filter(|c| c.kind == palisade_core::ContainerKind::Container)
        {
            let missing: Vec<&str> = ["readinessProbe", "livenessProbe"]
                .into_iter()
                .filter(|p| c.get(p).is_none_or(|v| v.is_null()))
                .collect();
            if missing.is_empty() {
                continue;
            }
            cx.report(
                c.pointer(""),
                format!("{} has no {}", c.describe(), missing.join(" and ")),
            )
            .fix("add a readinessProbe and a livenessProbe")
            .property("container", c.name);
        }
    }
}
