//! Property tests: level monotonicity and robustness on arbitrary JSON.

use palisade_pss::{evaluate, Level, Version};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![(0u32..=40).prop_map(Version::V), Just(Version::Latest),]
}

fn pick(values: &'static [&'static str]) -> impl Strategy<Value = &'static str> {
    proptest::sample::select(values)
}

/// `good` with weight `w` (out of 10), otherwise `other`: keeps a good share
/// of generated pods compliant with restricted, so that the implication is
/// exercised on both sides.
fn biased<T: Clone + std::fmt::Debug + 'static>(
    w: u32,
    good: T,
    other: impl Strategy<Value = T> + 'static,
) -> BoxedStrategy<T> {
    prop_oneof![w => Just(good), (10 - w) => other].boxed()
}

/// Inserts `v` under `k` when present.
fn put(m: &mut Map<String, Value>, k: &str, v: Option<Value>) {
    if let Some(v) = v {
        m.insert(k.to_owned(), v);
    }
}

const CAPS: &[&str] = &[
    "ALL",
    "NET_BIND_SERVICE",
    "CHOWN",
    "NET_RAW",
    "SYS_ADMIN",
    "KILL",
    "chown",
];
const SECCOMP: &[&str] = &["RuntimeDefault", "Localhost", "Unconfined", ""];
const APPARMOR: &[&str] = &["RuntimeDefault", "Localhost", "Unconfined"];
const SELINUX_TYPES: &[&str] = &[
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
    "spc_t",
];
const SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_notsent_lowat",
    "kernel.msgmax",
];
const VOLUMES: &[&str] = &[
    "emptyDir",
    "configMap",
    "secret",
    "projected",
    "hostPath",
    "nfs",
    "gitRepo",
    "none",
];

/// Security context fields. Linux-only fields are left out for Windows pods,
/// as API validation rejects them there (upstream relies on that).
fn security_context(windows: bool) -> impl Strategy<Value = Option<Value>> {
    let linux = (
        biased(8, Some(false), option::of(any::<bool>())),
        biased(7, None, option::of(any::<bool>())),
        biased(
            8,
            Some((vec![], vec!["ALL"])),
            option::of((vec(pick(CAPS), 0..3), vec(pick(CAPS), 0..3))),
        ),
        biased(8, None, option::of(pick(&["Default", "Unmasked"]))),
        biased(8, None, option::of(prop_oneof![Just(0u32), Just(1000u32)])),
        biased(7, None, option::of(pick(SECCOMP))),
        biased(
            8,
            None,
            option::of((pick(SELINUX_TYPES), any::<bool>(), any::<bool>())),
        ),
        biased(8, None, option::of(pick(APPARMOR))),
    );
    let common = (
        biased(7, None, option::of(any::<bool>())),
        biased(8, None, option::of(any::<bool>())),
    );
    let present = biased(9, true, any::<bool>());
    (present, linux, common).prop_map(move |(present, l, c)| {
        if !present {
            return None;
        }
        let mut m = Map::new();
        let (ape, privileged, caps, proc_mount, run_as_user, seccomp, selinux, apparmor) = l;
        if !windows {
            put(&mut m, "allowPrivilegeEscalation", ape.map(Value::from));
            put(&mut m, "privileged", privileged.map(Value::from));
            put(
                &mut m,
                "capabilities",
                caps.map(|(add, drop)| json!({"add": add, "drop": drop})),
            );
            put(&mut m, "procMount", proc_mount.map(Value::from));
            put(&mut m, "runAsUser", run_as_user.map(Value::from));
            put(
                &mut m,
                "seccompProfile",
                seccomp.map(|t| json!({"type": t})),
            );
            put(
                &mut m,
                "seLinuxOptions",
                selinux.map(|(t, user, role)| {
                    let mut o = json!({"type": t});
                    if user {
                        o["user"] = json!("u");
                    }
                    if role {
                        o["role"] = json!("r");
                    }
                    o
                }),
            );
            put(
                &mut m,
                "appArmorProfile",
                apparmor.map(|t| json!({"type": t})),
            );
        }
        let (run_as_non_root, host_process) = c;
        put(&mut m, "runAsNonRoot", run_as_non_root.map(Value::from));
        put(
            &mut m,
            "windowsOptions",
            host_process.map(|h| json!({"hostProcess": h})),
        );
        Some(Value::Object(m))
    })
}

fn container(name: String, windows: bool) -> impl Strategy<Value = Value> {
    (
        security_context(windows),
        biased(8, None, option::of(prop_oneof![Just(0u32), Just(8080u32)])),
        biased(8, None, option::of(pick(&["", "10.0.0.1"]))),
        biased(8, None, option::of(pick(&["", "example.com"]))),
    )
        .prop_map(move |(sc, host_port, probe_host, hook_host)| {
            let mut m = Map::new();
            m.insert("name".into(), json!(name));
            put(&mut m, "securityContext", sc);
            put(
                &mut m,
                "ports",
                host_port.map(|p| json!([{"containerPort": 8080, "hostPort": p}])),
            );
            put(
                &mut m,
                "livenessProbe",
                probe_host.map(|h| json!({"httpGet": {"host": h, "port": 80}})),
            );
            put(
                &mut m,
                "lifecycle",
                hook_host.map(|h| json!({"preStop": {"tcpSocket": {"host": h, "port": 80}}})),
            );
            Value::Object(m)
        })
}

fn containers(prefix: &'static str, max: usize, windows: bool) -> BoxedStrategy<Vec<Value>> {
    (1..=max)
        .prop_flat_map(move |n| {
            (0..n)
                .map(|i| container(format!("{prefix}{i}"), windows))
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// A pod (metadata, spec) over every field any check reads.
fn pod() -> impl Strategy<Value = (Value, Value)> {
    pick(&["", "linux", "windows"]).prop_flat_map(|os| {
        let windows = os == "windows";
        let pod_level = (
            biased(7, Some(true), option::of(any::<bool>())),
            biased(8, None, option::of(prop_oneof![Just(0u32), Just(1000u32)])),
            biased(7, Some("RuntimeDefault"), option::of(pick(SECCOMP))),
            biased(8, None, option::of((pick(SELINUX_TYPES), any::<bool>()))),
            biased(8, None, option::of(pick(APPARMOR))),
            biased(7, vec![], vec(pick(SYSCTLS), 0..3)),
            biased(8, None, option::of(any::<bool>())),
        );
        let host = (
            biased(9, false, any::<bool>()),
            biased(9, false, any::<bool>()),
            biased(9, false, any::<bool>()),
            option::of(any::<bool>()),
        );
        let annotations = biased(
            7,
            Default::default(),
            btree_map(
                pick(&[
                    "container.apparmor.security.beta.kubernetes.io/c0",
                    "container.apparmor.security.beta.kubernetes.io/i0",
                    "seccomp.security.alpha.kubernetes.io/pod",
                    "container.seccomp.security.alpha.kubernetes.io/c0",
                    "container.seccomp.security.alpha.kubernetes.io/i0",
                ]),
                pick(&["unconfined", "runtime/default", "localhost/p", ""]),
                0..3,
            ),
        );
        (
            Just(os),
            pod_level,
            host,
            annotations,
            biased(5, vec![], vec(pick(VOLUMES), 0..3)),
            containers("c", 2, windows),
            prop_oneof![Just(vec![]), containers("i", 1, windows)],
            prop_oneof![3 => Just(vec![]), 1 => containers("e", 1, windows)],
        )
            .prop_map(
                move |(os, pod_level, host, annotations, volumes, cs, inits, ephemerals)| {
                    let (rnr, rau, seccomp, selinux, apparmor, sysctls, host_process) = pod_level;
                    let mut sc = Map::new();
                    put(&mut sc, "runAsNonRoot", rnr.map(Value::from));
                    put(
                        &mut sc,
                        "windowsOptions",
                        host_process.map(|h| json!({"hostProcess": h})),
                    );
                    let mut spec = Map::new();
                    let (net, pid, ipc, host_users) = host;
                    if !windows {
                        put(&mut sc, "runAsUser", rau.map(Value::from));
                        put(
                            &mut sc,
                            "seccompProfile",
                            seccomp.map(|t| json!({"type": t})),
                        );
                        put(
                            &mut sc,
                            "seLinuxOptions",
                            selinux.map(|(t, user)| {
                                if user {
                                    json!({"type": t, "user": "u"})
                                } else {
                                    json!({"type": t})
                                }
                            }),
                        );
                        put(
                            &mut sc,
                            "appArmorProfile",
                            apparmor.map(|t| json!({"type": t})),
                        );
                        if !sysctls.is_empty() {
                            sc.insert(
                                "sysctls".into(),
                                Value::Array(
                                    sysctls
                                        .iter()
                                        .map(|n| json!({"name": n, "value": "1"}))
                                        .collect(),
                                ),
                            );
                        }
                        spec.insert("hostPID".into(), json!(pid));
                        spec.insert("hostIPC".into(), json!(ipc));
                        put(&mut spec, "hostUsers", host_users.map(Value::from));
                    }
                    spec.insert("hostNetwork".into(), json!(net));
                    if !os.is_empty() {
                        spec.insert("os".into(), json!({"name": os}));
                    }
                    spec.insert("securityContext".into(), Value::Object(sc));
                    spec.insert("containers".into(), Value::Array(cs));
                    spec.insert("initContainers".into(), Value::Array(inits));
                    spec.insert("ephemeralContainers".into(), Value::Array(ephemerals));
                    let volumes: Vec<Value> = volumes
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            if *t == "none" {
                                json!({"name": format!("v{i}")})
                            } else {
                                json!({"name": format!("v{i}"), *t: {}})
                            }
                        })
                        .collect();
                    spec.insert("volumes".into(), Value::Array(volumes));
                    let mut ann = Map::new();
                    if !windows {
                        for (k, v) in annotations {
                            ann.insert(k.into(), json!(v));
                        }
                    }
                    (
                        json!({"name": "p", "annotations": ann}),
                        Value::Object(spec),
                    )
                },
            )
    })
}

/// Arbitrary JSON whose object keys are drawn from the field names the checks
/// read, so that malformed values reach deep into the evaluator.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    const KEYS: &[&str] = &[
        "containers",
        "initContainers",
        "ephemeralContainers",
        "securityContext",
        "capabilities",
        "add",
        "drop",
        "name",
        "type",
        "ports",
        "hostPort",
        "volumes",
        "hostPath",
        "nfs",
        "sysctls",
        "seccompProfile",
        "seLinuxOptions",
        "appArmorProfile",
        "windowsOptions",
        "hostProcess",
        "runAsNonRoot",
        "runAsUser",
        "procMount",
        "privileged",
        "allowPrivilegeEscalation",
        "livenessProbe",
        "lifecycle",
        "preStop",
        "httpGet",
        "tcpSocket",
        "host",
        "os",
        "hostUsers",
        "hostNetwork",
        "annotations",
        "user",
        "role",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        pick(&[
            "",
            "ALL",
            "windows",
            "Unconfined",
            "unconfined",
            "x/y~z",
            "c0"
        ])
        .prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 96, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(pick(KEYS), inner, 0..5).prop_map(|m| {
                Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, .. ProptestConfig::default() })]

    /// Any (API-valid) pod that passes restricted at version V passes baseline at V.
    #[test]
    fn restricted_implies_baseline((meta, spec) in pod(), v in version()) {
        let restricted = evaluate(Level::Restricted, v, &meta, &spec);
        let baseline = evaluate(Level::Baseline, v, &meta, &spec);
        if restricted.is_empty() {
            prop_assert!(baseline.is_empty(), "passes restricted but not baseline at {v}: {baseline:#?}\nspec={spec}\nmeta={meta}");
        }
        // Every baseline violation is also reported in restricted, directly or
        // through the restricted check that overrides it.
        for b in &baseline {
            let replacement = match b.check_id {
                "capabilities_baseline" => "capabilities_restricted",
                "seccompProfile_baseline" => "seccompProfile_restricted",
                "procMount" => "procMount_restricted",
                other => other,
            };
            prop_assert!(
                restricted.iter().any(|r| r.check_id == b.check_id || r.check_id == replacement),
                "baseline violation {} missing from restricted at {v}", b.check_id
            );
        }
        prop_assert!(evaluate(Level::Privileged, v, &meta, &spec).is_empty());
        // Reported JSON pointers resolve in the pod (absent pod-level fields
        // point at /spec/securityContext, which may itself be absent).
        let pod = json!({"metadata": meta, "spec": spec});
        for violation in restricted.iter().chain(&baseline) {
            prop_assert!(!violation.paths.is_empty());
            for p in &violation.paths {
                prop_assert!(
                    pod.pointer(p).is_some() || p == "/spec/securityContext",
                    "{} path {p} does not resolve", violation.check_id
                );
            }
        }
    }

    /// Arbitrary JSON never panics, and results are deterministic.
    #[test]
    fn arbitrary_json_never_panics(meta in arbitrary_json(), spec in arbitrary_json(), v in version()) {
        for level in [Level::Baseline, Level::Restricted] {
            let a = evaluate(level, v, &meta, &spec);
            let b = evaluate(level, v, &meta, &spec);
            prop_assert_eq!(a, b);
        }
        let wrapped_meta = json!({"annotations": meta});
        let wrapped_spec = json!({"containers": [spec.clone()], "initContainers": spec, "volumes": [{}]});
        let _ = evaluate(Level::Restricted, v, &wrapped_meta, &wrapped_spec);
    }
}
