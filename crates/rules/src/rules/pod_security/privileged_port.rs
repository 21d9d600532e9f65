use super::{effective, report_places};
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Containers that declare a `containerPort` below 1024 (a privileged port) while they
    /// provably run as a non-root user: their effective `runAsUser` (the container's, else
    /// the pod's) is not 0, or their effective `runAsNonRoot` is `true`. A container whose
    /// user the manifest does not fix is not reported (it may run as root, where the port
    /// binds).
    ///
    /// Not reported either when the bind is allowed: the container adds `NET_BIND_SERVICE`,
    /// or the pod sets the safe sysctl `net.ipv4.ip_unprivileged_port_start` at or below the
    /// port. Windows pods are not reported.
    ///
    /// ## Why it matters
    /// A non-root process cannot bind a port below the kernel's
    /// `ip_unprivileged_port_start` (1024 by default). The workload then fails to start, and
    /// the usual "fix" under pressure is to run it as root or privileged. Some runtimes
    /// (containerd 2.0, Docker) lower the sysctl to 0 for pod networks, so the same manifest
    /// works on one cluster and not on the next. Declaring the port the application really
    /// binds as non-root (8080, 8443) avoids both.
    ///
    /// ## How to fix
    /// Listen on a port at or above 1024 and map the privileged port in the Service
    /// (`port: 80`, `targetPort: 8080`); or add `NET_BIND_SERVICE` (allowed by the restricted
    /// profile), or set `net.ipv4.ip_unprivileged_port_start` in the pod's sysctls.
    ///
    /// ## Example
    /// ```yaml
    /// securityContext:
    ///   runAsNonRoot: true
    /// containers:
    /// - name: web
    ///   ports:
    ///   - containerPort: 80
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// securityContext:
    ///   runAsNonRoot: true
    /// containers:
    /// - name: web
    ///   ports:
    ///   - containerPort: 8080
    /// ```
    pub(crate) struct PrivilegedPort;
    id: "POD027",
    name: "privileged-port-non-root",
    severity: Low,
    summary: "Non-root container declares a privileged port (< 1024) it cannot bind",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "book:ops.pod-security-policy"],
    tags: ["workload"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

/// The pod's `net.ipv4.ip_unprivileged_port_start`, when it sets it.
fn unprivileged_port_start(pod: &PodTemplate<'_>) -> Option<i64> {
    pod.security_context()
        .get("sysctls")?
        .as_array()?
        .iter()
        .find(|s| {
            s.get("name").and_then(Value::as_str) == Some("net.ipv4.ip_unprivileged_port_start")
        })?
        .get("value")?
        .as_str()?
        .trim()
        .parse()
        .ok()
}

impl Rule for PrivilegedPort {
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
        let start = unprivileged_port_start(&pod).unwrap_or(1024);
        let mut places = Vec::new();
        for c in pod.containers() {
            let user = effective(&pod, &c, "runAsUser").and_then(|(v, _)| v.as_i64());
            let non_root = match user {
                Some(0) => false,
                Some(_) => true,
                None => {
                    effective(&pod, &c, "runAsNonRoot").and_then(|(v, _)| v.as_bool()) == Some(true)
                }
            };
            if !non_root {
                continue;
            }
            let bind_service = c
                .security("capabilities")
                .and_then(|caps| caps.get("add"))
                .and_then(Value::as_array)
                .is_some_and(|add| {
                    add.iter()
                        .filter_map(Value::as_str)
                        .any(|cap| cap == "NET_BIND_SERVICE" || cap == "CAP_NET_BIND_SERVICE")
                });
            if bind_service {
                continue;
            }
            let ports = c
                .get("ports")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            for (i, p) in ports.iter().enumerate() {
                let Some(port) = p.get("containerPort").and_then(Value::as_i64) else {
                    continue;
                };
                if (1..1024).contains(&port) && port < start {
                    let who = match user {
                        Some(u) => format!("user {u}"),
                        None => "a non-root user (runAsNonRoot)".to_owned(),
                    };
                    places.push((
                        c.pointer(&format!("/ports/{i}/containerPort")),
                        format!(
                            "{} declares port {port} and runs as {who} without NET_BIND_SERVICE",
                            c.describe()
                        ),
                    ));
                }
            }
        }
        report_places(
            cx,
            "privileged port with a non-root user",
            &places,
            "listen on a port >= 1024 and map it in the Service, or add the NET_BIND_SERVICE capability",
        );
    }
}
