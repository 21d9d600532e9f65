use palisade_core::object::string_list;
use palisade_core::{Context, Object, PodTemplate, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Workloads that amount to a shell on the node:
    /// - `kubectl debug node/NAME` leftovers: pods named `node-debugger-*` with `hostPID` or
    ///   `hostNetwork` and the node's root file system (`hostPath: /`) mounted at `/host`;
    /// - node-shell pods and DaemonSets (`kubectl node-shell` and the like): a container that
    ///   runs `nsenter` into PID 1 (`-t 1` / `--target 1`) with `hostPID`;
    /// - any workload that is privileged, shares the host's PID namespace and mounts the host's
    ///   root (`hostPath: /`): together they give a root shell on the node;
    /// - DaemonSets named `*node-shell*` or `*debug*` that share the host's PID namespace.
    ///
    /// ## Why it matters
    /// Each of these is interactive root on a node, outside the audit trail of SSH: whoever can
    /// exec into the pod reads every container's files and Secrets on the node, the kubelet's
    /// credentials, and can pivot to the control plane. A forgotten debug pod keeps that door
    /// open after the incident it was made for.
    ///
    /// ## How to fix
    /// Delete debugging pods when done (`kubectl delete pod node-debugger-...`); give node
    /// agents only the host paths and capabilities they need; grant `kubectl debug node` and
    /// node-shell plugins through a break-glass role, not standing access.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Pod
    /// metadata: { name: node-debugger-worker-1-x7k2p }
    /// spec:
    ///   hostPID: true
    ///   hostNetwork: true
    ///   containers:
    ///   - name: debugger
    ///     image: busybox
    ///     volumeMounts: [{ name: host-root, mountPath: /host }]
    ///   volumes:
    ///   - { name: host-root, hostPath: { path: / } }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// # delete the debug pod when done; node agents mount only what they need
    /// volumes:
    /// - { name: cni, hostPath: { path: /etc/cni/net.d } }
    /// ```
    pub(crate) struct NodeShellWorkload;
    id: "NODE001",
    name: "node-shell-workload",
    severity: Critical,
    summary: "Workload amounts to a root shell on the node (debug pod, nsenter, privileged host root)",
    references: ["cis:5.2.2", "cis:5.2.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "owasp:K08", "book:platform.node-access"],
    tags: ["node"],
    level: None,
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

/// `nsenter ... -t 1` / `--target 1` / `--target=1` anywhere in the command line (also inside
/// a `sh -c` string).
fn nsenter_pid1(container: &Value) -> bool {
    let mut all = string_list(container.get("command"));
    all.extend(string_list(container.get("args")));
    let line = all.join(" ");
    if !line.contains("nsenter") {
        return false;
    }
    let toks: Vec<&str> = line.split_whitespace().collect();
    toks.windows(2)
        .any(|w| (w[0] == "-t" || w[0] == "--target") && w[1] == "1")
        || toks.iter().any(|t| *t == "--target=1" || *t == "-t1")
}

impl Rule for NodeShellWorkload {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(pod) = PodTemplate::of(object) else {
            return;
        };
        let host_pid = pod.flag("hostPID");
        let host_net = pod.flag("hostNetwork");
        let root_volumes: Vec<(usize, &str)> = pod
            .volumes()
            .filter(|(_, v)| {
                v.pointer("/hostPath/path")
                    .and_then(Value::as_str)
                    .is_some_and(|p| p.trim_end_matches('/').is_empty())
            })
            .filter_map(|(i, v)| Some((i, v.get("name")?.as_str()?)))
            .collect();
        let root_mount = |c: &palisade_core::Container<'_>| -> Option<String> {
            c.get("volumeMounts")?.as_array()?.iter().find_map(|m| {
                let name = m.get("name")?.as_str()?;
                root_volumes.iter().any(|(_, v)| *v == name).then(|| {
                    m.get("mountPath")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned()
                })
            })
        };
        let root_path = root_volumes
            .first()
            .map(|(i, _)| pod.spec_pointer(&format!("/volumes/{i}/hostPath/path")));
        let name = object.name.as_str();
        // kubectl debug node leftovers.
        if object.kind == "Pod" && name.starts_with("node-debugger-") && (host_pid || host_net) {
            if let Some(c) = pod
                .containers()
                .find(|c| root_mount(c).as_deref() == Some("/host"))
            {
                cx.report(
                    root_path.clone(),
                    format!(
                        "pod {name} is a `kubectl debug node` leftover: {} has the node's root at /host with {}",
                        c.describe(),
                        if host_pid { "hostPID" } else { "hostNetwork" }
                    ),
                )
                .fix(format!("delete it when the debugging is done: kubectl delete pod {name}"))
                .severity(palisade_core::Severity::High);
                return;
            }
        }
        // nsenter into PID 1.
        if host_pid {
            if let Some(c) = pod.containers().find(|c| nsenter_pid1(c.value)) {
                cx.report(
                    Some(c.pointer("/command")),
                    format!(
                        "{} runs nsenter into the host's PID 1 with hostPID: a node shell",
                        c.describe()
                    ),
                )
                .fix(
                    "delete the node-shell pod; grant node access through a break-glass procedure",
                );
                return;
            }
        }
        // Privileged + hostPID + host root.
        if host_pid {
            let privileged = pod.containers().find(|c| {
                c.security("privileged").and_then(Value::as_bool) == Some(true)
                    && root_mount(c).is_some()
            });
            if let Some(c) = privileged {
                cx.report(
                    Some(pod.spec_pointer("/hostPID")),
                    format!(
                        "{} is privileged, shares the host's PID namespace and mounts the host's root at {}: a root shell on the node",
                        c.describe(),
                        root_mount(&c).unwrap_or_default()
                    ),
                )
                .fix("mount only the host paths the agent needs, drop privileged, and do not share the host PID namespace");
                return;
            }
        }
        // Named node-shell / debug DaemonSets.
        let lname = name.to_ascii_lowercase();
        if object.kind == "DaemonSet"
            && host_pid
            && (lname.contains("node-shell") || lname.contains("debug"))
        {
            cx.report(
                Some(pod.spec_pointer("/hostPID")),
                format!("DaemonSet {name} looks like a node-shell or debug DaemonSet with hostPID on every node"),
            )
            .fix("delete the DaemonSet when the debugging is done")
            .severity(palisade_core::Severity::High);
        }
    }
}
