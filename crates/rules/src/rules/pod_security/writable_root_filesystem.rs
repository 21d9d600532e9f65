use super::report_places;
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers (regular, init and ephemeral) whose `securityContext.readOnlyRootFilesystem`
    /// is not `true`. One finding per object names every such container.
    ///
    /// Not reported: privileged containers (POD001 reports them, and a privileged container
    /// can remount its root filesystem read-write, so the setting would not hold), and
    /// Windows pods (`spec.os.name: windows`), where the field is not supported and the API
    /// server rejects it.
    ///
    /// ## Why it matters
    /// A writable root filesystem lets an intruder drop tools and binaries, change the
    /// application's code or configuration and persist until the container restarts. A
    /// read-only root, with `emptyDir` volumes for the paths the application writes (`/tmp`,
    /// caches), turns those steps into errors.
    ///
    /// ## How to fix
    /// Set `readOnlyRootFilesystem: true` on each container and mount an `emptyDir` where the
    /// application writes.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example/app:1.0
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    /// - name: app
    ///   image: registry.example/app:1.0
    ///   securityContext:
    ///     readOnlyRootFilesystem: true
    ///   volumeMounts:
    ///   - { name: tmp, mountPath: /tmp }
    /// volumes:
    /// - name: tmp
    ///   emptyDir: {}
    /// ```
    pub(crate) struct WritableRootFilesystem;
    id: "POD021",
    name: "writable-root-filesystem",
    severity: Low,
    summary: "Container root filesystem is not read-only",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "book:ops.pod-security-policy"],
    tags: ["workload", "hardening"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for WritableRootFilesystem {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        if pod.is_windows() {
            return;
        }
        let mut places = Vec::new();
        for c in pod.containers() {
            if c.security("privileged").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            match c.security("readOnlyRootFilesystem") {
                Some(Value::Bool(true)) => {}
                Some(v) => places.push((
                    c.pointer("/securityContext/readOnlyRootFilesystem"),
                    format!("{} sets readOnlyRootFilesystem: {v}", c.describe()),
                )),
                None => places.push((
                    c.pointer(""),
                    format!("{} does not set readOnlyRootFilesystem", c.describe()),
                )),
            }
        }
        report_places(
            cx,
            "root filesystem is writable",
            &places,
            "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the application writes",
        );
    }
}
