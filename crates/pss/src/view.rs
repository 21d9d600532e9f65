//! A borrowed, lightly pre-parsed view over a pod's `metadata` and `spec`.
//!
//! Upstream decodes the pod into typed Go structs before evaluating it. We work
//! directly on `serde_json::Value` and emulate that decode field by field:
//!
//! * a field that is absent or `null` is "unset" (a nil pointer / zero value in Go);
//! * a field holding a JSON value of the wrong type is also treated as unset
//!   (Go's typed decode would have rejected the whole object, so there is no
//!   upstream verdict to match; we simply stay robust and never panic);
//! * non-object entries of container/volume lists are skipped, but list indices
//!   in reported JSON pointers always refer to the original array positions.

use serde_json::{Map, Value};

/// A JSON object.
pub(crate) type Obj = Map<String, Value>;

/// Returns the value as an object, if it is one.
#[inline]
pub(crate) fn as_obj(v: Option<&Value>) -> Option<&Obj> {
    match v {
        Some(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// `o[key]` as an object.
#[inline]
pub(crate) fn get_obj<'a>(o: Option<&'a Obj>, key: &str) -> Option<&'a Obj> {
    as_obj(o?.get(key))
}

/// `o[key]` as a string (`None` when unset or not a string).
#[inline]
pub(crate) fn get_str<'a>(o: Option<&'a Obj>, key: &str) -> Option<&'a str> {
    o?.get(key)?.as_str()
}

/// `o[key]` as a string, with Go's zero value `""` when unset.
#[inline]
pub(crate) fn get_string<'a>(o: Option<&'a Obj>, key: &str) -> &'a str {
    get_str(o, key).unwrap_or("")
}

/// `o[key]` as an array (empty when unset or not an array).
#[inline]
pub(crate) fn get_arr<'a>(o: Option<&'a Obj>, key: &str) -> &'a [Value] {
    match o.and_then(|o| o.get(key)) {
        Some(Value::Array(a)) => a.as_slice(),
        _ => &[],
    }
}

/// Escapes one JSON-pointer reference token (RFC 6901).
pub(crate) fn escape_token(s: &str) -> String {
    if !s.contains(['~', '/']) {
        return s.to_owned();
    }
    s.replace('~', "~0").replace('/', "~1")
}

/// Which list of the pod spec a container comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ContainerKind {
    /// `spec.initContainers`
    Init,
    /// `spec.containers`
    Regular,
    /// `spec.ephemeralContainers`
    Ephemeral,
}

impl ContainerKind {
    fn field(self) -> &'static str {
        match self {
            ContainerKind::Init => "initContainers",
            ContainerKind::Regular => "containers",
            ContainerKind::Ephemeral => "ephemeralContainers",
        }
    }
}

/// The security-context fields the checks read, extracted in one pass.
///
/// Used for both the pod-level `PodSecurityContext` and container-level
/// `SecurityContext` (fields that do not exist at a level simply stay unset).
#[derive(Default, Clone, Copy)]
pub(crate) struct SecCtx<'a> {
    pub allow_privilege_escalation: Option<bool>,
    pub privileged: Option<bool>,
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<&'a Value>,
    pub capabilities: Option<&'a Obj>,
    pub proc_mount: Option<&'a str>,
    pub seccomp_profile: Option<&'a Obj>,
    pub se_linux_options: Option<&'a Obj>,
    pub app_armor_profile: Option<&'a Obj>,
    pub windows_options: Option<&'a Obj>,
    pub sysctls: &'a [Value],
}

impl<'a> SecCtx<'a> {
    fn new(o: Option<&'a Obj>) -> Self {
        let mut sc = SecCtx::default();
        let Some(o) = o else { return sc };
        for (k, v) in o {
            match k.as_str() {
                "allowPrivilegeEscalation" => sc.allow_privilege_escalation = v.as_bool(),
                "privileged" => sc.privileged = v.as_bool(),
                "runAsNonRoot" => sc.run_as_non_root = v.as_bool(),
                "runAsUser" => sc.run_as_user = v.is_number().then_some(v),
                "capabilities" => sc.capabilities = v.as_object(),
                "procMount" => sc.proc_mount = v.as_str(),
                "seccompProfile" => sc.seccomp_profile = v.as_object(),
                "seLinuxOptions" => sc.se_linux_options = v.as_object(),
                "appArmorProfile" => sc.app_armor_profile = v.as_object(),
                "windowsOptions" => sc.windows_options = v.as_object(),
                "sysctls" => {
                    if let Value::Array(a) = v {
                        sc.sysctls = a;
                    }
                }
                _ => {}
            }
        }
        sc
    }
}

/// One container of the pod, in upstream visiting order.
pub(crate) struct Container<'a> {
    pub kind: ContainerKind,
    pub index: usize,
    pub name: &'a str,
    /// Whether `securityContext` is set (an object).
    pub has_sc: bool,
    /// The container's `securityContext` fields.
    pub sc: SecCtx<'a>,
    pub ports: &'a [Value],
    pub liveness_probe: Option<&'a Obj>,
    pub readiness_probe: Option<&'a Obj>,
    pub startup_probe: Option<&'a Obj>,
    pub lifecycle: Option<&'a Obj>,
}

impl<'a> Container<'a> {
    fn new(kind: ContainerKind, index: usize, obj: &'a Obj) -> Self {
        let mut c = Container {
            kind,
            index,
            name: "",
            has_sc: false,
            sc: SecCtx::default(),
            ports: &[],
            liveness_probe: None,
            readiness_probe: None,
            startup_probe: None,
            lifecycle: None,
        };
        for (k, v) in obj {
            match k.as_str() {
                "name" => c.name = v.as_str().unwrap_or(""),
                "securityContext" => {
                    let o = v.as_object();
                    c.has_sc = o.is_some();
                    c.sc = SecCtx::new(o);
                }
                "ports" => {
                    if let Value::Array(a) = v {
                        c.ports = a;
                    }
                }
                "livenessProbe" => c.liveness_probe = v.as_object(),
                "readinessProbe" => c.readiness_probe = v.as_object(),
                "startupProbe" => c.startup_probe = v.as_object(),
                "lifecycle" => c.lifecycle = v.as_object(),
                _ => {}
            }
        }
        c
    }

    /// JSON pointer of the container itself.
    pub fn pointer(&self) -> String {
        format!("/spec/{}/{}", self.kind.field(), self.index)
    }

    /// JSON pointer of `securityContext/<rest>` inside the container.
    pub fn sc_pointer(&self, rest: &str) -> String {
        format!(
            "/spec/{}/{}/securityContext/{}",
            self.kind.field(),
            self.index,
            rest
        )
    }

    /// JSON pointer of `<rest>` inside the container.
    pub fn sub_pointer(&self, rest: &str) -> String {
        format!("/spec/{}/{}/{}", self.kind.field(), self.index, rest)
    }
}

/// The pod view handed to every check.
pub(crate) struct Pod<'a> {
    pub annotations: Option<&'a Obj>,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    pub host_users: Option<bool>,
    /// `spec.os.name == "windows"`.
    pub windows: bool,
    pub volumes: &'a [Value],
    /// `spec.securityContext` fields.
    pub psc: SecCtx<'a>,
    /// Init containers, then containers, then ephemeral containers
    /// (upstream `visitContainers` order).
    pub containers: Vec<Container<'a>>,
}

impl<'a> Pod<'a> {
    pub fn new(metadata: &'a Value, spec: &'a Value) -> Self {
        let annotations = get_obj(metadata.as_object(), "annotations");
        let mut pod = Pod {
            annotations,
            host_network: false,
            host_pid: false,
            host_ipc: false,
            host_users: None,
            windows: false,
            volumes: &[],
            psc: SecCtx::default(),
            containers: Vec::new(),
        };
        let Some(spec) = spec.as_object() else {
            return pod;
        };
        let mut lists: [&'a [Value]; 3] = [&[], &[], &[]];
        for (k, v) in spec {
            match k.as_str() {
                "hostNetwork" => pod.host_network = v.as_bool() == Some(true),
                "hostPID" => pod.host_pid = v.as_bool() == Some(true),
                "hostIPC" => pod.host_ipc = v.as_bool() == Some(true),
                "hostUsers" => pod.host_users = v.as_bool(),
                "os" => pod.windows = get_str(v.as_object(), "name") == Some("windows"),
                "volumes" => {
                    if let Value::Array(a) = v {
                        pod.volumes = a;
                    }
                }
                "securityContext" => pod.psc = SecCtx::new(v.as_object()),
                "initContainers" | "containers" | "ephemeralContainers" => {
                    if let Value::Array(a) = v {
                        let i = match k.as_str() {
                            "initContainers" => 0,
                            "containers" => 1,
                            _ => 2,
                        };
                        lists[i] = a;
                    }
                }
                _ => {}
            }
        }
        let kinds = [
            ContainerKind::Init,
            ContainerKind::Regular,
            ContainerKind::Ephemeral,
        ];
        pod.containers
            .reserve_exact(lists.iter().map(|l| l.len()).sum());
        for (kind, list) in kinds.into_iter().zip(lists) {
            for (index, c) in list.iter().enumerate() {
                if let Value::Object(obj) = c {
                    pod.containers.push(Container::new(kind, index, obj));
                }
            }
        }
        pod
    }

    /// `spec.os.name == "windows"` (the relaxation restricted checks have from v1.25).
    pub fn is_windows(&self) -> bool {
        self.windows
    }

    /// `spec.hostUsers` explicitly set to `false` (the pod runs in a user namespace).
    pub fn in_user_namespace(&self) -> bool {
        self.host_users == Some(false)
    }
}
