//! Mapping from Falco's k8saudit rules (plugins/k8saudit/rules/k8s_audit_rules.yaml)
//! to Palisade rules. `docs/falco-k8saudit.md` is the readable version.

/// How one Falco rule relates to Palisade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FalcoMapping {
    /// The Falco rule name.
    pub falco: &'static str,
    /// The equivalent Palisade rule id, if there is one.
    pub palisade: Option<&'static str>,
    /// Whether the Falco legacy test cases for this rule can be compared one to
    /// one (same events, same count). False when semantics deliberately differ.
    pub comparable: bool,
    /// Why it maps this way, or why it is left out.
    pub note: &'static str,
}

const fn m(
    falco: &'static str,
    palisade: Option<&'static str>,
    comparable: bool,
    note: &'static str,
) -> FalcoMapping {
    FalcoMapping {
        falco,
        palisade,
        comparable,
        note,
    }
}

/// All 48 rules of Falco's k8saudit rule file, plus legacy rule names used by
/// Falco's older regression tests.
pub const FALCO_MAP: &[FalcoMapping] = &[
    m("Disallowed K8s User", None, false, "Needs a site-specific list of allowed users; Palisade's rules are about actions, and allowlists live in each rule's `except`."),
    m("Create Disallowed Pod", None, false, "Image allowlisting is admission-control policy, not audit-log detection."),
    m("Create Privileged Pod", Some("DET004"), true, "Also covers workloads with pod templates and the SYS_ADMIN capability."),
    m("Create Sensitive Mount Pod", Some("DET006"), true, "Palisade's path list is a superset of Falco's."),
    m("Create HostNetwork Pod", Some("DET005"), true, "DET005 covers hostNetwork, hostPID and hostIPC in one rule."),
    m("Create HostPid Pod", Some("DET005"), true, "See Create HostNetwork Pod."),
    m("Create HostIPC Pod", Some("DET005"), true, "See Create HostNetwork Pod."),
    m("Create NodePort Service", Some("DET018"), true, "Needs the request body of services in the audit log."),
    m("Create/Modify Configmap With Private Credentials", None, false, "Substring search for key names in ConfigMap data is noisy; secret scanning of manifests belongs to the Palisade scanner."),
    m("Anonymous Request Allowed", Some("DET013"), true, "Health endpoints are excluded; DET014 additionally reports refused anonymous requests."),
    m("Attach/Exec Pod", Some("DET001"), true, "Also alerts when the kubelet connection failed after authorization."),
    m("port-forward", Some("DET002"), true, ""),
    m("EphemeralContainers Created", Some("DET003"), true, "Refused attempts are reported by DET030."),
    m("Create Disallowed Namespace", None, false, "Needs a site-specific list of allowed namespaces."),
    m("Pod Created in Kube Namespace", Some("DET017"), false, "DET017 deliberately ignores pods created by controllers and kube-system service accounts (the workload's creation is the point of control); Falco's test trace is a replicaset-controller pod, so the counts differ by design."),
    m("Service Account Created in Kube Namespace", None, false, "Creating a service account grants nothing by itself; the binding that follows is what DET007-DET010 watch."),
    m("System ClusterRole Modified/Deleted", Some("DET029"), true, ""),
    m("Attach to cluster-admin Role", Some("DET007"), true, "Also covers RoleBindings to cluster-admin."),
    m("ClusterRole With Wildcard Created", Some("DET008"), true, "Also covers Roles and changes, not only creation."),
    m("ClusterRole With Write Privileges Created", None, false, "Almost every role grants some write verb; Palisade flags the dangerous grants instead (DET008 wildcards, DET009 secrets, DET010 escalation/exec)."),
    m("ClusterRole With Pod Exec Created", Some("DET010"), true, "DET010 also covers bind/escalate/impersonate grants."),
    m("K8s Deployment Created", None, false, "Audit-trail (INFO) rule: every change, not a threat signal."),
    m("K8s Deployment Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s Service Created", None, false, "Audit-trail (INFO) rule; exposure is covered by DET018/DET019."),
    m("K8s Service Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s ConfigMap Created", None, false, "Audit-trail (INFO) rule."),
    m("K8s ConfigMap Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s Namespace Created", None, false, "Audit-trail (INFO) rule."),
    m("K8s Namespace Deleted", Some("DET022"), true, "Deleting a namespace destroys everything in it, so Palisade keeps it as a detection."),
    m("K8s Serviceaccount Created", None, false, "Audit-trail (INFO) rule."),
    m("K8s Serviceaccount Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s Role Created", None, false, "Audit-trail (INFO) rule; dangerous grants are DET008-DET010."),
    m("K8s Role Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s ClusterRole Created", None, false, "Audit-trail (INFO) rule; dangerous grants are DET008-DET010."),
    m("K8s ClusterRole Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s RoleBinding Created", None, false, "Audit-trail (INFO) rule; cluster-admin bindings are DET007."),
    m("K8s RoleBinding Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s ClusterRoleBinding Created", None, false, "Audit-trail (INFO) rule; cluster-admin bindings are DET007."),
    m("K8s ClusterRoleBinding Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s Secret Created", None, false, "Audit-trail (INFO) rule."),
    m("K8s Secret Deleted", None, false, "Audit-trail (INFO) rule."),
    m("K8s Secret Get Successfully", Some("DET011"), false, "DET011 excludes control-plane readers and also covers list/watch; Falco alerts on every successful get."),
    m("K8s Secret Get Unsuccessfully Tried", Some("DET023"), false, "Single refusals are noise; Palisade reports bursts of refusals per identity (DET023)."),
    m("All K8s Audit Events", None, false, "Debug rule that matches every event."),
    m("Full K8s Administrative Access", None, false, "Flags any use of system:masters/cluster-admin; with admins working normally this only produces noise. Binding cluster-admin (DET007) and impersonating system:masters (DET025) are detected."),
    m("Ingress Object without TLS Certificate Created", Some("DET020"), true, "Needs the request body of ingresses in the audit log."),
    m("Untrusted Node Successfully Joined the Cluster", None, false, "Needs a site-specific list of node names; not covered."),
    m("Untrusted Node Unsuccessfully Tried to Join the Cluster", None, false, "Needs a site-specific list of node names; not covered."),
];

/// Legacy rule names used only by Falco's older regression tests.
pub const FALCO_LEGACY_MAP: &[FalcoMapping] = &[
    m(
        "K8s Role/Clusterrole Created",
        None,
        false,
        "Legacy audit-trail rule (split into K8s Role/ClusterRole Created).",
    ),
    m(
        "K8s Role/Clusterrole Deleted",
        None,
        false,
        "Legacy audit-trail rule.",
    ),
    m(
        "K8s Role/Clusterrolebinding Created",
        None,
        false,
        "Legacy audit-trail rule.",
    ),
    m(
        "K8s Role/Clusterrolebinding Deleted",
        None,
        false,
        "Legacy audit-trail rule.",
    ),
    m(
        "json_pointer_example",
        None,
        false,
        "Test-only rule of the Falco engine.",
    ),
];

/// Looks up a Falco rule name (current or legacy).
pub fn lookup(falco_rule: &str) -> Option<&'static FalcoMapping> {
    FALCO_MAP
        .iter()
        .chain(FALCO_LEGACY_MAP.iter())
        .find(|m| m.falco == falco_rule)
}
