//! The check functions, one per upstream `policy/check_*.go` behaviour version.
//!
//! Each function mirrors the Go function of the same name in
//! `k8s.io/pod-security-admission/policy`, including its forbidden reason and
//! detail strings. They return `None` when the pod is allowed.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::view::{as_obj, escape_token, get_arr, get_obj, get_string, Obj, Pod, SecCtx};

/// A failed check, before the registry attaches the check id.
pub(crate) struct Fail {
    pub reason: String,
    pub detail: String,
    pub paths: Vec<String>,
    pub containers: Vec<String>,
}

/// Signature of every check function.
pub(crate) type CheckFn = fn(&Pod<'_>) -> Option<Fail>;

// ---------------------------------------------------------------------------
// helpers (policy/helpers.go)
// ---------------------------------------------------------------------------

/// Go `joinQuote`: `"a", "b"`.
fn join_quote<S: AsRef<str>>(items: &[S]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(items.iter().map(|s| s.as_ref().len() + 4).sum());
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push('"');
        out.push_str(s.as_ref());
        out.push('"');
    }
    out
}

/// Go `pluralize`.
fn pluralize(singular: &'static str, plural: &'static str, count: usize) -> &'static str {
    if count == 1 {
        singular
    } else {
        plural
    }
}

/// `"container \"a\""` / `"containers \"a\", \"b\""`.
fn containers_phrase(names: &[String]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// An approximation of Go's `strconv.Quote` (the `%q` verb) for strings.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn annotation_pointer(key: &str) -> String {
    format!("/metadata/annotations/{}", escape_token(key))
}

fn pod_sc_pointer(rest: &str) -> String {
    format!("/spec/securityContext/{rest}")
}

const POD_SC: &str = "/spec/securityContext";

/// Integer-ish view of a JSON number, for Go `int32`/`int64` fields.
fn number_is_zero(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// allowPrivilegeEscalation (Restricted; v1.8, v1.25)
// ---------------------------------------------------------------------------

pub(crate) fn allow_privilege_escalation_1_8(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad = Vec::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        match c.sc.allow_privilege_escalation {
            Some(false) => {}
            Some(true) => {
                bad.push(c.name.to_owned());
                paths.push(c.sc_pointer("allowPrivilegeEscalation"));
            }
            None => {
                bad.push(c.name.to_owned());
                paths.push(c.pointer());
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "allowPrivilegeEscalation != false".into(),
        detail: format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
        paths,
        containers: bad,
    })
}

pub(crate) fn allow_privilege_escalation_1_25(pod: &Pod<'_>) -> Option<Fail> {
    // Pod API validation would have failed if podOS == Windows and
    // allowPrivilegeEscalation has been set, so Windows pods are admitted.
    if pod.is_windows() {
        return None;
    }
    allow_privilege_escalation_1_8(pod)
}

// ---------------------------------------------------------------------------
// appArmorProfile (Baseline; v1.0)
// ---------------------------------------------------------------------------

const APPARMOR_ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn allowed_apparmor_type(t: &str) -> bool {
    matches!(t, "RuntimeDefault" | "Localhost")
}

fn allowed_apparmor_annotation_value(v: &str) -> bool {
    v == "runtime/default" || v.starts_with("localhost/")
}

pub(crate) fn app_armor_profile_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad_setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();

    if let Some(p) = pod.psc.app_armor_profile {
        let t = get_string(Some(p), "type");
        if !allowed_apparmor_type(t) {
            bad_setters.push("pod".into());
            bad_values.insert(t);
            paths.push(pod_sc_pointer("appArmorProfile/type"));
        }
    }

    let mut bad_containers = Vec::new();
    for c in &pod.containers {
        if let Some(p) = c.sc.app_armor_profile {
            let t = get_string(Some(p), "type");
            if !allowed_apparmor_type(t) {
                bad_containers.push(c.name.to_owned());
                bad_values.insert(t);
                paths.push(c.sc_pointer("appArmorProfile/type"));
            }
        }
    }
    if !bad_containers.is_empty() {
        bad_setters.push(containers_phrase(&bad_containers));
    }

    let mut forbidden_annotations: Vec<(String, &str)> = Vec::new();
    if let Some(ann) = pod.annotations {
        for (k, v) in ann {
            let Some(v) = v.as_str() else { continue };
            if k.starts_with(APPARMOR_ANNOTATION_PREFIX) && !allowed_apparmor_annotation_value(v) {
                forbidden_annotations.push((format!("{k}={}", go_quote(v)), k.as_str()));
            }
        }
    }

    let mut bad_value_list: Vec<String> = bad_values.iter().map(|s| (*s).to_owned()).collect();
    if !forbidden_annotations.is_empty() {
        forbidden_annotations.sort();
        for (text, key) in &forbidden_annotations {
            paths.push(annotation_pointer(key));
            let suffix = &key[APPARMOR_ANNOTATION_PREFIX.len()..];
            if pod.containers.iter().any(|c| c.name == suffix)
                && !bad_containers.iter().any(|n| n == suffix)
            {
                bad_containers.push(suffix.to_owned());
            }
            bad_value_list.push(text.clone());
        }
        bad_setters
            .push(pluralize("annotation", "annotations", forbidden_annotations.len()).to_owned());
    }

    if bad_setters.is_empty() {
        return None;
    }
    Some(Fail {
        reason: pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            bad_value_list.len(),
        )
        .into(),
        detail: format!(
            "{} must not set AppArmor profile type to {}",
            bad_setters.join(" and "),
            join_quote(&bad_value_list)
        ),
        paths,
        containers: bad_containers,
    })
}

// ---------------------------------------------------------------------------
// capabilities_baseline (Baseline; v1.0)
// ---------------------------------------------------------------------------

const CAPABILITIES_ALLOWED_1_0: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

pub(crate) fn capabilities_baseline_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad = Vec::new();
    let mut non_default: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        let caps = c.sc.capabilities;
        if caps.is_none() {
            continue;
        }
        let mut valid = true;
        for (j, cap) in get_arr(caps, "add").iter().enumerate() {
            let cap = cap.as_str().unwrap_or("");
            if !CAPABILITIES_ALLOWED_1_0.contains(&cap) {
                valid = false;
                non_default.insert(cap);
                paths.push(c.sc_pointer(&format!("capabilities/add/{j}")));
            }
        }
        if !valid {
            bad.push(c.name.to_owned());
        }
    }
    if bad.is_empty() {
        return None;
    }
    let nd: Vec<&str> = non_default.into_iter().collect();
    Some(Fail {
        reason: "non-default capabilities".into(),
        detail: format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad),
            join_quote(&nd)
        ),
        paths,
        containers: bad,
    })
}

// ---------------------------------------------------------------------------
// capabilities_restricted (Restricted; v1.22, v1.25)
// ---------------------------------------------------------------------------

pub(crate) fn capabilities_restricted_1_22(pod: &Pod<'_>) -> Option<Fail> {
    let mut missing_drop_all = Vec::new();
    let mut adding_forbidden = Vec::new();
    let mut forbidden: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();
    let mut containers: Vec<String> = Vec::new();

    for c in &pod.containers {
        let Some(caps) = c.sc.capabilities else {
            missing_drop_all.push(c.name.to_owned());
            paths.push(c.pointer());
            containers.push(c.name.to_owned());
            continue;
        };
        let caps = Some(caps);
        let mut flagged = false;
        let dropped_all = get_arr(caps, "drop")
            .iter()
            .any(|d| d.as_str() == Some("ALL"));
        if !dropped_all {
            missing_drop_all.push(c.name.to_owned());
            paths.push(
                if caps.is_some_and(|o| o.get("drop").is_some_and(Value::is_array)) {
                    c.sc_pointer("capabilities/drop")
                } else {
                    c.pointer()
                },
            );
            flagged = true;
        }
        let mut added_forbidden = false;
        for (j, cap) in get_arr(caps, "add").iter().enumerate() {
            let cap = cap.as_str().unwrap_or("");
            if cap != "NET_BIND_SERVICE" {
                added_forbidden = true;
                forbidden.insert(cap);
                paths.push(c.sc_pointer(&format!("capabilities/add/{j}")));
            }
        }
        if added_forbidden {
            adding_forbidden.push(c.name.to_owned());
            flagged = true;
        }
        if flagged {
            containers.push(c.name.to_owned());
        }
    }

    let mut details = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        let f: Vec<&str> = forbidden.into_iter().collect();
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&f)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "unrestricted capabilities".into(),
        detail: details.join("; "),
        paths,
        containers,
    })
}

pub(crate) fn capabilities_restricted_1_25(pod: &Pod<'_>) -> Option<Fail> {
    // Windows pods are exempt (API validation forbids capabilities on Windows).
    if pod.is_windows() {
        return None;
    }
    capabilities_restricted_1_22(pod)
}

// ---------------------------------------------------------------------------
// hostNamespaces (Baseline; v1.0)
// ---------------------------------------------------------------------------

pub(crate) fn host_namespaces_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let mut found = Vec::new();
    let mut paths = Vec::new();
    for (field, text) in [
        ("hostNetwork", "hostNetwork=true"),
        ("hostPID", "hostPID=true"),
        ("hostIPC", "hostIPC=true"),
    ] {
        if match field {
            "hostNetwork" => pod.host_network,
            "hostPID" => pod.host_pid,
            _ => pod.host_ipc,
        } {
            found.push(text);
            paths.push(format!("/spec/{field}"));
        }
    }
    if found.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "host namespaces".into(),
        detail: found.join(", "),
        paths,
        containers: Vec::new(),
    })
}

// ---------------------------------------------------------------------------
// hostPathVolumes (Baseline; v1.0)
// ---------------------------------------------------------------------------

pub(crate) fn host_path_volumes_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let mut names = Vec::new();
    let mut paths = Vec::new();
    for (i, v) in pod.volumes.iter().enumerate() {
        let v = as_obj(Some(v));
        if get_obj(v, "hostPath").is_some() {
            names.push(get_string(v, "name").to_owned());
            paths.push(format!("/spec/volumes/{i}/hostPath"));
        }
    }
    if names.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "hostPath volumes".into(),
        detail: format!(
            "{} {}",
            pluralize("volume", "volumes", names.len()),
            join_quote(&names)
        ),
        paths,
        containers: Vec::new(),
    })
}

// ---------------------------------------------------------------------------
// hostPorts (Baseline; v1.0)
// ---------------------------------------------------------------------------

pub(crate) fn host_ports_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad = Vec::new();
    let mut ports: BTreeSet<String> = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        let mut valid = true;
        for (j, p) in c.ports.iter().enumerate() {
            let Some(hp) = as_obj(Some(p)).and_then(|p| p.get("hostPort")) else {
                continue;
            };
            if !hp.is_number() || number_is_zero(hp) {
                continue;
            }
            valid = false;
            ports.insert(hp.to_string());
            paths.push(c.sub_pointer(&format!("ports/{j}/hostPort")));
        }
        if !valid {
            bad.push(c.name.to_owned());
        }
    }
    if bad.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    Some(Fail {
        reason: "hostPort".into(),
        detail: format!(
            "{} {} {} {}",
            containers_phrase(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
        paths,
        containers: bad,
    })
}

// ---------------------------------------------------------------------------
// hostProbesAndHostLifecycle (Baseline; v1.34)
// ---------------------------------------------------------------------------

pub(crate) fn host_probes_and_host_lifecycle_1_34(pod: &Pod<'_>) -> Option<Fail> {
    const HANDLERS: [(&str, Option<&str>); 5] = [
        ("livenessProbe", None),
        ("readinessProbe", None),
        ("startupProbe", None),
        ("lifecycle", Some("postStart")),
        ("lifecycle", Some("preStop")),
    ];
    let mut bad = Vec::new();
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        let mut valid = true;
        for (field, sub) in HANDLERS {
            let mut handler = match field {
                "livenessProbe" => c.liveness_probe,
                "readinessProbe" => c.readiness_probe,
                "startupProbe" => c.startup_probe,
                _ => c.lifecycle,
            };
            if let Some(sub) = sub {
                handler = get_obj(handler, sub);
            }
            if handler.is_none() {
                continue;
            }
            for action in ["httpGet", "tcpSocket"] {
                let host = get_string(get_obj(handler, action), "host");
                if !host.is_empty() {
                    valid = false;
                    hosts.insert(host);
                    let rel = match sub {
                        Some(sub) => format!("{field}/{sub}/{action}/host"),
                        None => format!("{field}/{action}/host"),
                    };
                    paths.push(c.sub_pointer(&rel));
                }
            }
        }
        if !valid {
            bad.push(c.name.to_owned());
        }
    }
    if bad.is_empty() {
        return None;
    }
    let hosts: Vec<&str> = hosts.into_iter().collect();
    Some(Fail {
        reason: "probe or lifecycle host".into(),
        detail: format!(
            "{} {} probe or lifecycle {} {}",
            containers_phrase(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize("host", "hosts", hosts.len()),
            join_quote(&hosts)
        ),
        paths,
        containers: bad,
    })
}

// ---------------------------------------------------------------------------
// privileged (Baseline; v1.0)
// ---------------------------------------------------------------------------

pub(crate) fn privileged_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad = Vec::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        if c.sc.privileged == Some(true) {
            bad.push(c.name.to_owned());
            paths.push(c.sc_pointer("privileged"));
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "privileged".into(),
        detail: format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
        paths,
        containers: bad,
    })
}

// ---------------------------------------------------------------------------
// procMount (Baseline; v1.0, v1.35) and procMount_restricted (Restricted; v1.35)
// ---------------------------------------------------------------------------

fn proc_mount_common(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();
    for c in &pod.containers {
        let Some(pm) = c.sc.proc_mount else {
            continue;
        };
        if pm != "Default" {
            bad.push(c.name.to_owned());
            types.insert(pm);
            paths.push(c.sc_pointer("procMount"));
        }
    }
    if bad.is_empty() {
        return None;
    }
    let types: Vec<&str> = types.into_iter().collect();
    Some(Fail {
        reason: "procMount".into(),
        detail: format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(&types)
        ),
        paths,
        containers: bad,
    })
}

pub(crate) fn proc_mount_1_0(pod: &Pod<'_>) -> Option<Fail> {
    // The user-namespace relaxation is behind the (default-off)
    // UserNamespacesPodSecurityStandards feature gate for this version.
    proc_mount_common(pod)
}

pub(crate) fn proc_mount_1_35(pod: &Pod<'_>) -> Option<Fail> {
    // Pods in a user namespace (hostUsers: false) may use any procMount.
    if pod.in_user_namespace() {
        return None;
    }
    proc_mount_common(pod)
}

pub(crate) fn proc_mount_restricted_1_35(pod: &Pod<'_>) -> Option<Fail> {
    proc_mount_common(pod)
}

// ---------------------------------------------------------------------------
// restrictedVolumes (Restricted; v1.0)
// ---------------------------------------------------------------------------

const ALLOWED_VOLUME_TYPES: [&str; 8] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Restricted volume sources, in upstream's `switch` order (the JSON key is
/// also the name upstream reports).
const RESTRICTED_VOLUME_TYPES: [&str; 22] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "image",
];

pub(crate) fn restricted_volumes_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();
    for (i, v) in pod.volumes.iter().enumerate() {
        let Some(vo) = as_obj(Some(v)) else { continue };
        let set = |k: &str| vo.get(k).is_some_and(Value::is_object);
        if ALLOWED_VOLUME_TYPES.iter().any(|k| set(k)) {
            continue;
        }
        // A volume without any source is defaulted to an emptyDir by the API
        // server before admission runs, so it is allowed.
        let Some(t) = RESTRICTED_VOLUME_TYPES.iter().find(|k| set(k)) else {
            continue;
        };
        bad.push(get_string(Some(vo), "name").to_owned());
        types.insert(t);
        paths.push(format!("/spec/volumes/{i}/{t}"));
    }
    if bad.is_empty() {
        return None;
    }
    let types: Vec<&str> = types.into_iter().collect();
    Some(Fail {
        reason: "restricted volume types".into(),
        detail: format!(
            "{} {} {} {} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quote(&bad),
            pluralize("uses", "use", bad.len()),
            pluralize(
                "restricted volume type",
                "restricted volume types",
                types.len()
            ),
            join_quote(&types)
        ),
        paths,
        containers: Vec::new(),
    })
}

// ---------------------------------------------------------------------------
// runAsNonRoot (Restricted; v1.0, v1.35)
// ---------------------------------------------------------------------------

fn run_as_non_root_common(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad_setters: Vec<String> = Vec::new();
    let mut paths = Vec::new();
    let mut pod_run_as_non_root = false;
    match pod.psc.run_as_non_root {
        Some(false) => {
            bad_setters.push("pod".into());
            paths.push(pod_sc_pointer("runAsNonRoot"));
        }
        Some(true) => pod_run_as_non_root = true,
        None => {}
    }

    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for c in &pod.containers {
        match c.sc.run_as_non_root {
            Some(false) => {
                explicitly_bad.push(c.name.to_owned());
                paths.push(c.sc_pointer("runAsNonRoot"));
            }
            Some(true) => {}
            None => {
                if !pod_run_as_non_root {
                    implicitly_bad.push(c.name.to_owned());
                }
            }
        }
    }
    if !explicitly_bad.is_empty() {
        bad_setters.push(containers_phrase(&explicitly_bad));
    }
    if !bad_setters.is_empty() {
        return Some(Fail {
            reason: "runAsNonRoot != true".into(),
            detail: format!(
                "{} must not set securityContext.runAsNonRoot=false",
                bad_setters.join(" and ")
            ),
            paths,
            containers: explicitly_bad,
        });
    }
    if !implicitly_bad.is_empty() {
        return Some(Fail {
            reason: "runAsNonRoot != true".into(),
            detail: format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicitly_bad)
            ),
            paths: vec![POD_SC.to_owned()],
            containers: implicitly_bad,
        });
    }
    None
}

pub(crate) fn run_as_non_root_1_0(pod: &Pod<'_>) -> Option<Fail> {
    // The user-namespace relaxation is feature-gated (default off) here.
    run_as_non_root_common(pod)
}

pub(crate) fn run_as_non_root_1_35(pod: &Pod<'_>) -> Option<Fail> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_non_root_common(pod)
}

// ---------------------------------------------------------------------------
// runAsUser (Restricted; v1.23, v1.35)
// ---------------------------------------------------------------------------

fn run_as_user_common(pod: &Pod<'_>) -> Option<Fail> {
    let is_root = |sc: &SecCtx<'_>| sc.run_as_user.is_some_and(number_is_zero);
    let mut bad_setters: Vec<String> = Vec::new();
    let mut paths = Vec::new();
    if is_root(&pod.psc) {
        bad_setters.push("pod".into());
        paths.push(pod_sc_pointer("runAsUser"));
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if is_root(&c.sc) {
            bad.push(c.name.to_owned());
            paths.push(c.sc_pointer("runAsUser"));
        }
    }
    if !bad.is_empty() {
        bad_setters.push(containers_phrase(&bad));
    }
    if bad_setters.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "runAsUser=0".into(),
        detail: format!("{} must not set runAsUser=0", bad_setters.join(" and ")),
        paths,
        containers: bad,
    })
}

pub(crate) fn run_as_user_1_23(pod: &Pod<'_>) -> Option<Fail> {
    run_as_user_common(pod)
}

pub(crate) fn run_as_user_1_35(pod: &Pod<'_>) -> Option<Fail> {
    if pod.in_user_namespace() {
        return None;
    }
    run_as_user_common(pod)
}

// ---------------------------------------------------------------------------
// seLinuxOptions (Baseline; v1.0, v1.31)
// ---------------------------------------------------------------------------

const SELINUX_TYPES_1_0: &[&str] = &["", "container_t", "container_init_t", "container_kvm_t"];
const SELINUX_TYPES_1_31: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

#[derive(Default)]
struct SeLinuxState<'a> {
    bad_types: BTreeSet<&'a str>,
    set_user: bool,
    set_role: bool,
    paths: Vec<String>,
}

impl<'a> SeLinuxState<'a> {
    /// Upstream `validSELinuxOptions`.
    fn valid(&mut self, o: &'a Obj, allowed: &[&str], base: &dyn Fn(&str) -> String) -> bool {
        let o = Some(o);
        let mut ok = true;
        let t = get_string(o, "type");
        if !allowed.contains(&t) {
            ok = false;
            self.bad_types.insert(t);
            self.paths.push(base("seLinuxOptions/type"));
        }
        if !get_string(o, "user").is_empty() {
            ok = false;
            self.set_user = true;
            self.paths.push(base("seLinuxOptions/user"));
        }
        if !get_string(o, "role").is_empty() {
            ok = false;
            self.set_role = true;
            self.paths.push(base("seLinuxOptions/role"));
        }
        ok
    }
}

fn se_linux_options(pod: &Pod<'_>, allowed: &[&str]) -> Option<Fail> {
    let mut bad_setters: Vec<String> = Vec::new();
    let mut st = SeLinuxState::default();

    if let Some(o) = pod.psc.se_linux_options {
        if !st.valid(o, allowed, &pod_sc_pointer) {
            bad_setters.push("pod".into());
        }
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if let Some(o) = c.sc.se_linux_options {
            if !st.valid(o, allowed, &|rest| c.sc_pointer(rest)) {
                bad.push(c.name.to_owned());
            }
        }
    }
    if !bad.is_empty() {
        bad_setters.push(containers_phrase(&bad));
    }
    if bad_setters.is_empty() {
        return None;
    }
    let SeLinuxState {
        bad_types,
        set_user,
        set_role,
        paths,
    } = st;
    let mut bad_data = Vec::new();
    if !bad_types.is_empty() {
        let t: Vec<&str> = bad_types.iter().copied().collect();
        bad_data.push(format!(
            "{} {}",
            pluralize("type", "types", t.len()),
            join_quote(&t)
        ));
    }
    if set_user {
        bad_data.push("user may not be set".to_owned());
    }
    if set_role {
        bad_data.push("role may not be set".to_owned());
    }
    Some(Fail {
        reason: "seLinuxOptions".into(),
        detail: format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            bad_setters.join(" and "),
            bad_data.join("; ")
        ),
        paths,
        containers: bad,
    })
}

pub(crate) fn se_linux_options_1_0(pod: &Pod<'_>) -> Option<Fail> {
    se_linux_options(pod, SELINUX_TYPES_1_0)
}

pub(crate) fn se_linux_options_1_31(pod: &Pod<'_>) -> Option<Fail> {
    se_linux_options(pod, SELINUX_TYPES_1_31)
}

// ---------------------------------------------------------------------------
// seccompProfile_baseline (Baseline; v1.0, v1.19)
// ---------------------------------------------------------------------------

const SECCOMP_POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

pub(crate) fn seccomp_profile_baseline_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let ann = pod.annotations?;
    // (annotation text, annotation key, container name); upstream looks up
    // the pod annotation and one annotation per visited container.
    let mut forbidden: Vec<(String, &str, Option<&str>)> = Vec::new();
    for (key, value) in ann {
        if value.as_str() != Some("unconfined") {
            continue;
        }
        let container = if key == SECCOMP_POD_ANNOTATION {
            None
        } else if let Some(name) = key.strip_prefix(SECCOMP_CONTAINER_ANNOTATION_PREFIX) {
            if !pod.containers.iter().any(|c| c.name == name) {
                continue;
            }
            Some(name)
        } else {
            continue;
        };
        forbidden.push((format!("{key}={}", go_quote("unconfined")), key, container));
    }
    if forbidden.is_empty() {
        return None;
    }
    // sets.String semantics: sorted (keys are unique already).
    forbidden.sort_by(|a, b| a.0.cmp(&b.0));
    let containers: Vec<String> = forbidden
        .iter()
        .filter_map(|f| f.2.map(str::to_owned))
        .collect();
    let texts: Vec<&str> = forbidden.iter().map(|f| f.0.as_str()).collect();
    Some(Fail {
        reason: "seccompProfile".into(),
        detail: format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", texts.len()),
            texts.join(", ")
        ),
        paths: forbidden.iter().map(|f| annotation_pointer(f.1)).collect(),
        containers,
    })
}

fn valid_seccomp(t: &str) -> bool {
    t == "Localhost" || t == "RuntimeDefault"
}

pub(crate) fn seccomp_profile_baseline_1_19(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad_setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();
    if let Some(p) = pod.psc.seccomp_profile {
        let t = get_string(Some(p), "type");
        if !valid_seccomp(t) {
            bad_setters.push("pod".into());
            bad_values.insert(t);
            paths.push(pod_sc_pointer("seccompProfile/type"));
        }
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if let Some(p) = c.sc.seccomp_profile {
            let t = get_string(Some(p), "type");
            if !valid_seccomp(t) {
                bad.push(c.name.to_owned());
                bad_values.insert(t);
                paths.push(c.sc_pointer("seccompProfile/type"));
            }
        }
    }
    if !bad.is_empty() {
        bad_setters.push(containers_phrase(&bad));
    }
    if bad_setters.is_empty() {
        return None;
    }
    let v: Vec<&str> = bad_values.into_iter().collect();
    Some(Fail {
        reason: "seccompProfile".into(),
        detail: format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            bad_setters.join(" and "),
            join_quote(&v)
        ),
        paths,
        containers: bad,
    })
}

// ---------------------------------------------------------------------------
// seccompProfile_restricted (Restricted; v1.19, v1.25)
// ---------------------------------------------------------------------------

pub(crate) fn seccomp_profile_restricted_1_19(pod: &Pod<'_>) -> Option<Fail> {
    let mut bad_setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Vec::new();
    let mut pod_seccomp_set = false;
    if let Some(p) = pod.psc.seccomp_profile {
        let t = get_string(Some(p), "type");
        if !valid_seccomp(t) {
            bad_setters.push("pod".into());
            bad_values.insert(t);
            paths.push(pod_sc_pointer("seccompProfile/type"));
        } else {
            pod_seccomp_set = true;
        }
    }
    let mut explicitly_bad = Vec::new();
    let mut implicitly_bad = Vec::new();
    for c in &pod.containers {
        if let Some(p) = c.sc.seccomp_profile {
            let t = get_string(Some(p), "type");
            if !valid_seccomp(t) {
                explicitly_bad.push(c.name.to_owned());
                bad_values.insert(t);
                paths.push(c.sc_pointer("seccompProfile/type"));
            }
        } else if !pod_seccomp_set {
            implicitly_bad.push(c.name.to_owned());
        }
    }
    if !explicitly_bad.is_empty() {
        bad_setters.push(containers_phrase(&explicitly_bad));
    }
    if !bad_setters.is_empty() {
        let v: Vec<&str> = bad_values.into_iter().collect();
        return Some(Fail {
            reason: "seccompProfile".into(),
            detail: format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                bad_setters.join(" and "),
                join_quote(&v)
            ),
            paths,
            containers: explicitly_bad,
        });
    }
    if !implicitly_bad.is_empty() {
        return Some(Fail {
            reason: "seccompProfile".into(),
            detail: format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_phrase(&implicitly_bad)
            ),
            paths: vec![POD_SC.to_owned()],
            containers: implicitly_bad,
        });
    }
    None
}

pub(crate) fn seccomp_profile_restricted_1_25(pod: &Pod<'_>) -> Option<Fail> {
    // Windows pods are exempt (API validation forbids seccomp on Windows).
    if pod.is_windows() {
        return None;
    }
    seccomp_profile_restricted_1_19(pod)
}

// ---------------------------------------------------------------------------
// sysctls (Baseline; v1.0, v1.27, v1.29, v1.32, v1.37)
// ---------------------------------------------------------------------------

const SYSCTLS_1_0: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_ADDED_1_27: &[&str] = &["net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_ADDED_1_29: &[&str] = &[
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_ADDED_1_32: &[&str] = &["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const SYSCTLS_ADDED_1_37: &[&str] = &[
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
];

fn sysctls(pod: &Pod<'_>, allowed: &[&[&str]]) -> Option<Fail> {
    let mut forbidden = Vec::new();
    let mut paths = Vec::new();
    for (j, s) in pod.psc.sysctls.iter().enumerate() {
        let name = get_string(as_obj(Some(s)), "name");
        if !allowed.iter().any(|set| set.contains(&name)) {
            forbidden.push(name);
            paths.push(pod_sc_pointer(&format!("sysctls/{j}/name")));
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "forbidden sysctls".into(),
        detail: forbidden.join(", "),
        paths,
        containers: Vec::new(),
    })
}

pub(crate) fn sysctls_1_0(pod: &Pod<'_>) -> Option<Fail> {
    sysctls(pod, &[SYSCTLS_1_0])
}

pub(crate) fn sysctls_1_27(pod: &Pod<'_>) -> Option<Fail> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_ADDED_1_27])
}

pub(crate) fn sysctls_1_29(pod: &Pod<'_>) -> Option<Fail> {
    sysctls(pod, &[SYSCTLS_1_0, SYSCTLS_ADDED_1_27, SYSCTLS_ADDED_1_29])
}

pub(crate) fn sysctls_1_32(pod: &Pod<'_>) -> Option<Fail> {
    sysctls(
        pod,
        &[
            SYSCTLS_1_0,
            SYSCTLS_ADDED_1_27,
            SYSCTLS_ADDED_1_29,
            SYSCTLS_ADDED_1_32,
        ],
    )
}

pub(crate) fn sysctls_1_37(pod: &Pod<'_>) -> Option<Fail> {
    sysctls(
        pod,
        &[
            SYSCTLS_1_0,
            SYSCTLS_ADDED_1_27,
            SYSCTLS_ADDED_1_29,
            SYSCTLS_ADDED_1_32,
            SYSCTLS_ADDED_1_37,
        ],
    )
}

// ---------------------------------------------------------------------------
// windowsHostProcess (Baseline; v1.0)
// ---------------------------------------------------------------------------

pub(crate) fn windows_host_process_1_0(pod: &Pod<'_>) -> Option<Fail> {
    let host_process = |sc: &SecCtx<'_>| {
        sc.windows_options
            .and_then(|w| w.get("hostProcess"))
            .and_then(Value::as_bool)
    };
    let mut paths = Vec::new();
    let pod_specified = host_process(&pod.psc) == Some(true);
    if pod_specified {
        paths.push(pod_sc_pointer("windowsOptions/hostProcess"));
    }
    let mut bad = Vec::new();
    for c in &pod.containers {
        if host_process(&c.sc) == Some(true) {
            bad.push(c.name.to_owned());
            paths.push(c.sc_pointer("windowsOptions/hostProcess"));
        }
    }
    let mut setters: Vec<String> = Vec::new();
    if pod_specified {
        setters.push("pod".into());
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Fail {
        reason: "hostProcess".into(),
        detail: format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
        paths,
        containers: bad,
    })
}
