use super::report_places;
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers that declare port 22 (SSH) over TCP, as `containerPort` or `hostPort`. UDP
    /// and SCTP ports 22 are not SSH and are not reported.
    ///
    /// ## Why it matters
    /// An SSH server in a container is a way in that Kubernetes does not see: it has its own
    /// credentials, bypasses RBAC and the audit log of `kubectl exec`, and is a common
    /// target of password spraying when the port is exposed. Containers are replaced, not
    /// logged into.
    ///
    /// ## How to fix
    /// Remove the SSH server from the image and the port from the manifest; use `kubectl
    /// exec` or `kubectl debug`, which RBAC controls and the audit log records.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    /// - name: app
    ///   ports:
    ///   - containerPort: 22
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// containers:
    /// - name: app
    ///   ports:
    ///   - containerPort: 8080
    /// ```
    pub(crate) struct SshPort;
    id: "POD026",
    name: "ssh-port",
    severity: Medium,
    summary: "Container exposes SSH (port 22)",
    references: ["cis:5.7.3", "nsa:network-separation", "nist:4.4.3", "owasp:K01", "book:platform.node-access", "book:ops.control-plane-access"],
    tags: ["workload", "network"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for SshPort {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        let mut places = Vec::new();
        for c in pod.containers() {
            let ports = c
                .get("ports")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for (i, p) in ports.iter().enumerate() {
                let tcp = p
                    .get("protocol")
                    .and_then(Value::as_str)
                    .is_none_or(|proto| proto == "TCP");
                if !tcp {
                    continue;
                }
                for field in ["containerPort", "hostPort"] {
                    if p.get(field).and_then(Value::as_i64) == Some(22) {
                        places.push((
                            c.pointer(&format!("/ports/{i}/{field}")),
                            format!("{} declares {field} 22", c.describe()),
                        ));
                    }
                }
            }
        }
        report_places(
            cx,
            "SSH port exposed",
            &places,
            "remove the SSH server and port 22; use kubectl exec or kubectl debug",
        );
    }
}
