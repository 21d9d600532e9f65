//! Unit tests of the public API: parsing, version selection, messages, paths.

use palisade_pss::{checks, evaluate, evaluate_check, Level, Version, Violation};
use serde_json::{json, Value};

fn eval(level: Level, version: &str, metadata: Value, spec: Value) -> Vec<Violation> {
    evaluate(level, version.parse().unwrap(), &metadata, &spec)
}

fn ids(v: &[Violation]) -> Vec<&'static str> {
    v.iter().map(|v| v.check_id).collect()
}

fn only(v: &[Violation], id: &str) -> Violation {
    let found: Vec<&Violation> = v.iter().filter(|v| v.check_id == id).collect();
    assert_eq!(found.len(), 1, "expected one {id} violation in {v:#?}");
    found[0].clone()
}

/// A pod passing restricted at every version, with the given container fields merged in.
fn restricted_pod() -> Value {
    json!({
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app",
            "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}
        }]
    })
}

// ---------------------------------------------------------------------------
// Level / Version
// ---------------------------------------------------------------------------

#[test]
fn level_parse_and_display() {
    for (s, l) in [
        ("privileged", Level::Privileged),
        ("baseline", Level::Baseline),
        ("restricted", Level::Restricted),
    ] {
        assert_eq!(s.parse::<Level>().unwrap(), l);
        assert_eq!(l.to_string(), s);
    }
    for bad in ["", "Baseline", "RESTRICTED", "privileged ", "foo"] {
        assert!(bad.parse::<Level>().is_err(), "{bad:?}");
    }
    assert!(Level::Privileged < Level::Baseline && Level::Baseline < Level::Restricted);
}

#[test]
fn version_parse_display_and_order() {
    assert_eq!("latest".parse::<Version>().unwrap(), Version::Latest);
    assert_eq!("v1.0".parse::<Version>().unwrap(), Version::V(0));
    assert_eq!("v1.25".parse::<Version>().unwrap(), Version::V(25));
    assert_eq!("v1.100".parse::<Version>().unwrap(), Version::V(100));
    for bad in [
        "",
        "1.25",
        "v1.",
        "v1.025",
        "v2.0",
        "v1.-1",
        "v1.2.3",
        "Latest",
        "v1.x",
        "v1.+3",
        "v1.99999999999",
    ] {
        let err = bad.parse::<Version>().unwrap_err();
        assert!(err.to_string().contains("invalid version"), "{bad:?}");
    }
    assert_eq!(Version::Latest.to_string(), "latest");
    assert_eq!(Version::V(7).to_string(), "v1.7");
    assert!(Version::V(0) < Version::V(1));
    assert!(Version::V(9) < Version::V(10));
    assert!(Version::V(u32::MAX) < Version::Latest);
    let mut v = vec![Version::Latest, Version::V(30), Version::V(2)];
    v.sort();
    assert_eq!(v, vec![Version::V(2), Version::V(30), Version::Latest]);
}

#[test]
fn effective_minor_clamps_to_newest() {
    assert_eq!(Version::NEWEST_MINOR, 37);
    assert_eq!(Version::Latest.effective_minor(), 37);
    assert_eq!(Version::V(37).effective_minor(), 37);
    assert_eq!(Version::V(50).effective_minor(), 37);
    assert_eq!(Version::V(3).effective_minor(), 3);
}

#[test]
fn check_registry_matches_upstream_index() {
    // From upstream policy/check_*.go `Versions` (checks_index.txt).
    let expected: &[(&str, Level, &[u32])] = &[
        ("appArmorProfile", Level::Baseline, &[0]),
        ("capabilities_baseline", Level::Baseline, &[0]),
        ("hostNamespaces", Level::Baseline, &[0]),
        ("hostPathVolumes", Level::Baseline, &[0]),
        ("hostPorts", Level::Baseline, &[0]),
        ("hostProbesAndHostLifecycle", Level::Baseline, &[34]),
        ("privileged", Level::Baseline, &[0]),
        ("procMount", Level::Baseline, &[0, 35]),
        ("seLinuxOptions", Level::Baseline, &[0, 31]),
        ("seccompProfile_baseline", Level::Baseline, &[0, 19]),
        ("sysctls", Level::Baseline, &[0, 27, 29, 32, 37]),
        ("windowsHostProcess", Level::Baseline, &[0]),
        ("allowPrivilegeEscalation", Level::Restricted, &[8, 25]),
        ("capabilities_restricted", Level::Restricted, &[22, 25]),
        ("procMount_restricted", Level::Restricted, &[35]),
        ("restrictedVolumes", Level::Restricted, &[0]),
        ("runAsNonRoot", Level::Restricted, &[0, 35]),
        ("runAsUser", Level::Restricted, &[23, 35]),
        ("seccompProfile_restricted", Level::Restricted, &[19, 25]),
    ];
    let got: Vec<(&str, Level, &[u32])> = checks()
        .iter()
        .map(|c| (c.id, c.level, c.min_versions))
        .collect();
    assert_eq!(got, expected);
    assert!(checks().iter().all(|c| !c.title.is_empty()));
    assert_eq!(
        checks()
            .iter()
            .find(|c| c.id == "privileged")
            .unwrap()
            .title,
        "Privileged Containers"
    );
}

// ---------------------------------------------------------------------------
// version selection
// ---------------------------------------------------------------------------

#[test]
fn privileged_level_allows_everything() {
    let spec = json!({"hostNetwork": true, "containers": [{"name": "a", "securityContext": {"privileged": true}}]});
    for v in ["v1.0", "v1.20", "latest"] {
        assert!(eval(Level::Privileged, v, Value::Null, spec.clone()).is_empty());
    }
}

#[test]
fn checks_do_not_run_before_their_first_version() {
    let spec = json!({
        "securityContext": {"runAsNonRoot": true, "runAsUser": 0},
        "containers": [{"name": "a"}]
    });
    // allowPrivilegeEscalation starts at v1.8, runAsUser at v1.23.
    assert!(eval(Level::Restricted, "v1.7", Value::Null, spec.clone()).is_empty());
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.8", Value::Null, spec.clone())),
        ["allowPrivilegeEscalation"]
    );
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.22", Value::Null, spec.clone())),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "seccompProfile_restricted"
        ]
    );
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.23", Value::Null, spec)),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "runAsUser",
            "seccompProfile_restricted"
        ]
    );
}

#[test]
fn host_probes_check_starts_at_1_34() {
    let spec = json!({"containers": [{"name": "a", "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}}}]});
    assert!(eval(Level::Baseline, "v1.33", Value::Null, spec.clone()).is_empty());
    let v = eval(Level::Baseline, "v1.34", Value::Null, spec.clone());
    assert_eq!(ids(&v), ["hostProbesAndHostLifecycle"]);
    assert_eq!(v, eval(Level::Baseline, "latest", Value::Null, spec));
}

#[test]
fn capabilities_baseline_is_overridden_in_restricted_from_1_22() {
    let mut spec = restricted_pod();
    spec["containers"][0]["securityContext"]["capabilities"]["add"] = json!(["NET_RAW"]);
    // Before v1.22 restricted runs the baseline capabilities check.
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.21", Value::Null, spec.clone())),
        ["capabilities_baseline"]
    );
    // From v1.22 the restricted check replaces it.
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.22", Value::Null, spec.clone())),
        ["capabilities_restricted"]
    );
    assert_eq!(
        ids(&eval(Level::Baseline, "v1.22", Value::Null, spec)),
        ["capabilities_baseline"]
    );
}

#[test]
fn windows_pods_are_exempt_from_linux_only_restricted_checks_from_1_25() {
    let spec = json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]});
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.24", Value::Null, spec.clone())),
        [
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "seccompProfile_restricted"
        ]
    );
    assert!(eval(Level::Restricted, "v1.25", Value::Null, spec.clone()).is_empty());
    // Only the exact value "windows" relaxes.
    let mut linux = spec;
    linux["os"]["name"] = json!("Windows");
    assert_eq!(
        eval(Level::Restricted, "v1.25", Value::Null, linux).len(),
        3
    );
}

#[test]
fn windows_exemption_can_pass_restricted_but_not_baseline_for_api_invalid_pods() {
    // Upstream asymmetry: API validation rejects Linux-only fields on Windows
    // pods, so upstream never sees this pod; capabilities_restricted (Windows
    // exempt) overrides capabilities_baseline in restricted.
    let spec = json!({
        "os": {"name": "windows"},
        "securityContext": {"runAsNonRoot": true},
        "containers": [{"name": "a", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]
    });
    assert!(eval(Level::Restricted, "latest", Value::Null, spec.clone()).is_empty());
    assert_eq!(
        ids(&eval(Level::Baseline, "latest", Value::Null, spec)),
        ["capabilities_baseline"]
    );
}

#[test]
fn seccomp_annotations_before_1_19_fields_after() {
    let meta = json!({"annotations": {
        "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
        "container.seccomp.security.alpha.kubernetes.io/a": "unconfined",
        "container.seccomp.security.alpha.kubernetes.io/ghost": "unconfined",
        "container.seccomp.security.alpha.kubernetes.io/b": "runtime/default"
    }});
    let spec = json!({"containers": [{"name": "a"}, {"name": "b"}]});
    let v = eval(Level::Baseline, "v1.18", meta.clone(), spec.clone());
    let s = only(&v, "seccompProfile_baseline");
    assert_eq!(s.reason, "seccompProfile");
    assert_eq!(
        s.detail,
        r#"forbidden annotations container.seccomp.security.alpha.kubernetes.io/a="unconfined", seccomp.security.alpha.kubernetes.io/pod="unconfined""#
    );
    assert_eq!(
        s.paths,
        [
            "/metadata/annotations/container.seccomp.security.alpha.kubernetes.io~1a",
            "/metadata/annotations/seccomp.security.alpha.kubernetes.io~1pod"
        ]
    );
    assert_eq!(s.containers, ["a"]);
    // From v1.19 only the fields count.
    assert!(eval(Level::Baseline, "v1.19", meta.clone(), spec.clone()).is_empty());
    let spec = json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "a"}]});
    assert!(eval(Level::Baseline, "v1.18", Value::Null, spec.clone()).is_empty());
    let s = only(
        &eval(Level::Baseline, "v1.19", Value::Null, spec),
        "seccompProfile_baseline",
    );
    assert_eq!(
        s.detail,
        r#"pod must not set securityContext.seccompProfile.type to "Unconfined""#
    );
    assert_eq!(s.paths, ["/spec/securityContext/seccompProfile/type"]);
}

#[test]
fn sysctl_safe_set_grows_by_version() {
    let cases: &[(&str, &str)] = &[
        ("kernel.shm_rmid_forced", "v1.0"),
        ("net.ipv4.ip_local_reserved_ports", "v1.27"),
        ("net.ipv4.tcp_keepalive_time", "v1.29"),
        ("net.ipv4.tcp_fin_timeout", "v1.29"),
        ("net.ipv4.tcp_keepalive_intvl", "v1.29"),
        ("net.ipv4.tcp_keepalive_probes", "v1.29"),
        ("net.ipv4.tcp_rmem", "v1.32"),
        ("net.ipv4.tcp_wmem", "v1.32"),
        ("net.ipv4.tcp_slow_start_after_idle", "v1.37"),
        ("net.ipv4.tcp_notsent_lowat", "v1.37"),
    ];
    for (name, since) in cases {
        let since: Version = since.parse().unwrap();
        let spec = json!({"securityContext": {"sysctls": [{"name": name, "value": "1"}]}, "containers": [{"name": "a"}]});
        for minor in 0..=40 {
            let v = evaluate(Level::Baseline, Version::V(minor), &Value::Null, &spec);
            assert_eq!(
                v.is_empty(),
                Version::V(minor) >= since,
                "{name} at v1.{minor}"
            );
        }
    }
    let spec = json!({"securityContext": {"sysctls": [
        {"name": "kernel.msgmax", "value": "1"},
        {"name": "net.ipv4.tcp_syncookies", "value": "1"},
        {"name": "net/ipv4/tcp_syncookies", "value": "1"}
    ]}, "containers": [{"name": "a"}]});
    let s = only(
        &eval(Level::Baseline, "latest", Value::Null, spec),
        "sysctls",
    );
    assert_eq!(s.reason, "forbidden sysctls");
    assert_eq!(s.detail, "kernel.msgmax, net/ipv4/tcp_syncookies");
    assert_eq!(
        s.paths,
        [
            "/spec/securityContext/sysctls/0/name",
            "/spec/securityContext/sysctls/2/name"
        ]
    );
}

#[test]
fn selinux_container_engine_t_allowed_from_1_31() {
    let spec = json!({"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}]});
    assert_eq!(
        ids(&eval(Level::Baseline, "v1.30", Value::Null, spec.clone())),
        ["seLinuxOptions"]
    );
    assert!(eval(Level::Baseline, "v1.31", Value::Null, spec).is_empty());
}

#[test]
fn user_namespaces_relax_proc_mount_and_run_as_from_1_35() {
    let spec = json!({
        "hostUsers": false,
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}, "runAsUser": 0},
        "containers": [{"name": "a", "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "procMount": "Unmasked"
        }}]
    });
    assert_eq!(
        ids(&eval(Level::Baseline, "v1.34", Value::Null, spec.clone())),
        ["procMount"]
    );
    assert!(eval(Level::Baseline, "v1.35", Value::Null, spec.clone()).is_empty());
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.34", Value::Null, spec.clone())),
        ["procMount", "runAsNonRoot", "runAsUser"]
    );
    // Restricted still requires the default procMount (procMount_restricted).
    assert_eq!(
        ids(&eval(Level::Restricted, "v1.35", Value::Null, spec.clone())),
        ["procMount_restricted"]
    );
    // hostUsers: true (or unset) does not relax anything.
    let mut host = spec;
    host["hostUsers"] = json!(true);
    assert_eq!(
        ids(&eval(Level::Restricted, "latest", Value::Null, host)),
        ["procMount_restricted", "runAsNonRoot", "runAsUser"]
    );
}

#[test]
fn violations_follow_upstream_order() {
    let spec = json!({
        "hostNetwork": true,
        "securityContext": {"sysctls": [{"name": "kernel.msgmax"}]},
        "volumes": [{"name": "v", "hostPath": {"path": "/"}}],
        "containers": [{"name": "a", "securityContext": {"privileged": true}}]
    });
    assert_eq!(
        ids(&eval(Level::Restricted, "latest", Value::Null, spec)),
        [
            "hostNamespaces",
            "hostPathVolumes",
            "privileged",
            "sysctls",
            "allowPrivilegeEscalation",
            "capabilities_restricted",
            "restrictedVolumes",
            "runAsNonRoot",
            "seccompProfile_restricted",
        ]
    );
}

#[test]
fn evaluate_check_single() {
    let spec = json!({"containers": [{"name": "a", "securityContext": {"privileged": true}}]});
    let v = evaluate_check("privileged", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.check_id, "privileged");
    assert!(evaluate_check("hostPorts", Version::Latest, &Value::Null, &spec).is_none());
    assert!(evaluate_check("nope", Version::Latest, &Value::Null, &spec).is_none());
    // runAsUser does not exist before v1.23.
    let root = json!({"securityContext": {"runAsUser": 0}});
    assert!(evaluate_check("runAsUser", Version::V(22), &Value::Null, &root).is_none());
    assert!(evaluate_check("runAsUser", Version::V(23), &Value::Null, &root).is_some());
}

// ---------------------------------------------------------------------------
// messages and paths (upstream ForbiddenReason / ForbiddenDetail)
// ---------------------------------------------------------------------------

#[test]
fn message_allow_privilege_escalation() {
    let spec = json!({
        "initContainers": [{"name": "init", "securityContext": {"allowPrivilegeEscalation": true}}],
        "containers": [{"name": "a"}, {"name": "b", "securityContext": {"allowPrivilegeEscalation": false}}],
        "ephemeralContainers": [{"name": "debug", "securityContext": {}}]
    });
    let v = evaluate_check(
        "allowPrivilegeEscalation",
        Version::Latest,
        &Value::Null,
        &spec,
    )
    .unwrap();
    assert_eq!(v.reason, "allowPrivilegeEscalation != false");
    assert_eq!(
        v.detail,
        r#"containers "init", "a", "debug" must set securityContext.allowPrivilegeEscalation=false"#
    );
    assert_eq!(
        v.message(),
        r#"allowPrivilegeEscalation != false (containers "init", "a", "debug" must set securityContext.allowPrivilegeEscalation=false)"#
    );
    assert_eq!(
        v.paths,
        [
            "/spec/initContainers/0/securityContext/allowPrivilegeEscalation",
            "/spec/containers/0",
            "/spec/ephemeralContainers/0"
        ]
    );
    assert_eq!(v.containers, ["init", "a", "debug"]);
    let one = json!({"containers": [{"name": "app"}]});
    let v = evaluate_check(
        "allowPrivilegeEscalation",
        Version::Latest,
        &Value::Null,
        &one,
    )
    .unwrap();
    assert_eq!(
        v.detail,
        r#"container "app" must set securityContext.allowPrivilegeEscalation=false"#
    );
}

#[test]
fn message_app_armor() {
    let meta = json!({"annotations": {
        "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
        "container.apparmor.security.beta.kubernetes.io/b": "localhost/foo",
        "container.apparmor.security.beta.kubernetes.io/c": "runtime/default"
    }});
    let spec = json!({
        "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
        "containers": [
            {"name": "a"},
            {"name": "x", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}},
            {"name": "y", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}}
        ]
    });
    let v = evaluate_check("appArmorProfile", Version::Latest, &meta, &spec).unwrap();
    assert_eq!(v.reason, "forbidden AppArmor profiles");
    assert_eq!(
        v.detail,
        r#"pod and container "y" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/a="unconfined"""#
    );
    assert_eq!(
        v.paths,
        [
            "/spec/securityContext/appArmorProfile/type",
            "/spec/containers/2/securityContext/appArmorProfile/type",
            "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1a"
        ]
    );
    assert_eq!(v.containers, ["y", "a"]);
    let v = evaluate_check("appArmorProfile", Version::V(0), &meta, &json!({})).unwrap();
    assert_eq!(v.reason, "forbidden AppArmor profile");
}

#[test]
fn message_capabilities() {
    let spec = json!({"containers": [
        {"name": "a", "securityContext": {"capabilities": {"add": ["NET_RAW", "CHOWN", "SYS_ADMIN"]}}},
        {"name": "b", "securityContext": {"capabilities": {"add": ["NET_RAW"], "drop": ["ALL"]}}},
        {"name": "c", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}}},
        {"name": "d"}
    ]});
    let v = evaluate_check(
        "capabilities_baseline",
        Version::Latest,
        &Value::Null,
        &spec,
    )
    .unwrap();
    assert_eq!(v.reason, "non-default capabilities");
    assert_eq!(
        v.detail,
        r#"containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add"#
    );
    assert_eq!(
        v.paths,
        [
            "/spec/containers/0/securityContext/capabilities/add/0",
            "/spec/containers/0/securityContext/capabilities/add/2",
            "/spec/containers/1/securityContext/capabilities/add/0"
        ]
    );
    let v = evaluate_check(
        "capabilities_restricted",
        Version::Latest,
        &Value::Null,
        &spec,
    )
    .unwrap();
    assert_eq!(v.reason, "unrestricted capabilities");
    assert_eq!(
        v.detail,
        r#"containers "a", "d" must set securityContext.capabilities.drop=["ALL"]; containers "a", "b" must not include "CHOWN", "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add"#
    );
    assert_eq!(v.containers, ["a", "b", "d"]);
    assert!(v.paths.contains(&"/spec/containers/3".to_owned()));
}

#[test]
fn message_host_namespaces_paths_ports() {
    let spec = json!({
        "hostIPC": true, "hostPID": true, "hostNetwork": true,
        "volumes": [{"name": "a", "hostPath": {"path": "/"}}, {"name": "b", "emptyDir": {}}, {"name": "c", "hostPath": {}}],
        "containers": [
            {"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}, {"containerPort": 9000, "hostPort": 9000}]},
            {"name": "b", "ports": [{"containerPort": 10, "hostPort": 0}]}
        ]
    });
    let v = evaluate_check("hostNamespaces", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "host namespaces");
    assert_eq!(v.detail, "hostNetwork=true, hostPID=true, hostIPC=true");
    assert_eq!(
        v.paths,
        ["/spec/hostNetwork", "/spec/hostPID", "/spec/hostIPC"]
    );
    let v = evaluate_check("hostPathVolumes", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "hostPath volumes");
    assert_eq!(v.detail, r#"volumes "a", "c""#);
    assert_eq!(
        v.paths,
        ["/spec/volumes/0/hostPath", "/spec/volumes/2/hostPath"]
    );
    let v = evaluate_check("hostPorts", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "hostPort");
    // Upstream sorts the ports as strings.
    assert_eq!(v.detail, r#"container "a" uses hostPorts 80, 9000"#);
    assert_eq!(
        v.paths,
        [
            "/spec/containers/0/ports/0/hostPort",
            "/spec/containers/0/ports/1/hostPort"
        ]
    );
}

#[test]
fn message_privileged_procmount_windows() {
    let spec = json!({
        "securityContext": {"windowsOptions": {"hostProcess": true}},
        "containers": [
            {"name": "a", "securityContext": {"privileged": true, "procMount": "Unmasked", "windowsOptions": {"hostProcess": true}}},
            {"name": "b", "securityContext": {"privileged": false, "procMount": "Default"}}
        ]
    });
    let v = evaluate_check("privileged", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "privileged");
    assert_eq!(
        v.detail,
        r#"container "a" must not set securityContext.privileged=true"#
    );
    let v = evaluate_check("procMount", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "procMount");
    assert_eq!(
        v.detail,
        r#"container "a" must not set securityContext.procMount to "Unmasked""#
    );
    assert_eq!(v.paths, ["/spec/containers/0/securityContext/procMount"]);
    let v = evaluate_check("windowsHostProcess", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "hostProcess");
    assert_eq!(
        v.detail,
        r#"pod and container "a" must not set securityContext.windowsOptions.hostProcess=true"#
    );
}

#[test]
fn message_restricted_volumes() {
    let spec = json!({"volumes": [
        {"name": "implicit-empty-dir"},
        {"name": "cm", "configMap": {"name": "x"}},
        {"name": "nfs", "nfs": {"server": "s", "path": "/"}},
        {"name": "hp", "hostPath": {"path": "/"}},
        {"name": "nfs2", "nfs": {"server": "s", "path": "/"}}
    ]});
    let v = evaluate_check("restrictedVolumes", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "restricted volume types");
    assert_eq!(
        v.detail,
        r#"volumes "nfs", "hp", "nfs2" use restricted volume types "hostPath", "nfs""#
    );
    assert_eq!(
        v.paths,
        [
            "/spec/volumes/2/nfs",
            "/spec/volumes/3/hostPath",
            "/spec/volumes/4/nfs"
        ]
    );
    let one = json!({"volumes": [{"name": "g", "gitRepo": {"repository": "r"}}]});
    let v = evaluate_check("restrictedVolumes", Version::Latest, &Value::Null, &one).unwrap();
    assert_eq!(
        v.detail,
        r#"volume "g" uses restricted volume type "gitRepo""#
    );
}

#[test]
fn message_run_as_non_root() {
    let explicit = json!({
        "securityContext": {"runAsNonRoot": false},
        "containers": [{"name": "a", "securityContext": {"runAsNonRoot": false}}, {"name": "b"}]
    });
    let v = evaluate_check("runAsNonRoot", Version::Latest, &Value::Null, &explicit).unwrap();
    assert_eq!(v.reason, "runAsNonRoot != true");
    assert_eq!(
        v.detail,
        r#"pod and container "a" must not set securityContext.runAsNonRoot=false"#
    );
    assert_eq!(
        v.paths,
        [
            "/spec/securityContext/runAsNonRoot",
            "/spec/containers/0/securityContext/runAsNonRoot"
        ]
    );
    let implicit = json!({"containers": [{"name": "a"}, {"name": "b", "securityContext": {"runAsNonRoot": true}}, {"name": "c"}]});
    let v = evaluate_check("runAsNonRoot", Version::Latest, &Value::Null, &implicit).unwrap();
    assert_eq!(
        v.detail,
        r#"pod or containers "a", "c" must set securityContext.runAsNonRoot=true"#
    );
    assert_eq!(v.paths, ["/spec/securityContext"]);
    assert_eq!(v.containers, ["a", "c"]);
    let ok = json!({"securityContext": {"runAsNonRoot": true}, "containers": [{"name": "a"}]});
    assert!(evaluate_check("runAsNonRoot", Version::Latest, &Value::Null, &ok).is_none());
}

#[test]
fn message_run_as_user() {
    let spec = json!({
        "securityContext": {"runAsUser": 0},
        "containers": [{"name": "a", "securityContext": {"runAsUser": 0}}, {"name": "b", "securityContext": {"runAsUser": 1000}}]
    });
    let v = evaluate_check("runAsUser", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "runAsUser=0");
    assert_eq!(
        v.detail,
        r#"pod and container "a" must not set runAsUser=0"#
    );
}

#[test]
fn message_selinux() {
    let spec = json!({
        "securityContext": {"seLinuxOptions": {"type": "spc_t"}},
        "containers": [
            {"name": "a", "securityContext": {"seLinuxOptions": {"type": "foo", "user": "u", "role": "r"}}},
            {"name": "b", "securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c1"}}}
        ]
    });
    let v = evaluate_check("seLinuxOptions", Version::Latest, &Value::Null, &spec).unwrap();
    assert_eq!(v.reason, "seLinuxOptions");
    assert_eq!(
        v.detail,
        r#"pod and container "a" set forbidden securityContext.seLinuxOptions: types "foo", "spc_t"; user may not be set; role may not be set"#
    );
    assert_eq!(
        v.paths,
        [
            "/spec/securityContext/seLinuxOptions/type",
            "/spec/containers/0/securityContext/seLinuxOptions/type",
            "/spec/containers/0/securityContext/seLinuxOptions/user",
            "/spec/containers/0/securityContext/seLinuxOptions/role"
        ]
    );
}

#[test]
fn message_seccomp_restricted() {
    let implicit = json!({"containers": [{"name": "a"}, {"name": "b", "securityContext": {"seccompProfile": {"type": "Localhost"}}}]});
    let v = evaluate_check(
        "seccompProfile_restricted",
        Version::Latest,
        &Value::Null,
        &implicit,
    )
    .unwrap();
    assert_eq!(v.reason, "seccompProfile");
    assert_eq!(
        v.detail,
        r#"pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#
    );
    assert_eq!(v.paths, ["/spec/securityContext"]);
    let explicit = json!({
        "securityContext": {"seccompProfile": {"type": "Unconfined"}},
        "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}, {"name": "b"}]
    });
    let v = evaluate_check(
        "seccompProfile_restricted",
        Version::Latest,
        &Value::Null,
        &explicit,
    )
    .unwrap();
    assert_eq!(
        v.detail,
        r#"pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined""#
    );
}

#[test]
fn message_host_probes() {
    let spec = json!({"containers": [
        {"name": "a",
         "readinessProbe": {"tcpSocket": {"host": "::1", "port": 1}},
         "lifecycle": {"preStop": {"httpGet": {"host": "example.com", "port": 80}}, "postStart": {"exec": {"command": ["x"]}}}},
        {"name": "b", "startupProbe": {"httpGet": {"host": "", "port": 80}}}
    ]});
    let v = evaluate_check(
        "hostProbesAndHostLifecycle",
        Version::Latest,
        &Value::Null,
        &spec,
    )
    .unwrap();
    assert_eq!(
        v.paths,
        [
            "/spec/containers/0/readinessProbe/tcpSocket/host",
            "/spec/containers/0/lifecycle/preStop/httpGet/host"
        ]
    );
    assert_eq!(v.containers, ["a"]);
    assert!(v.detail.contains(r#""::1", "example.com""#), "{}", v.detail);
}

// ---------------------------------------------------------------------------
// robustness
// ---------------------------------------------------------------------------

#[test]
fn malformed_inputs_never_panic() {
    let weird = [
        Value::Null,
        json!(true),
        json!(1),
        json!("spec"),
        json!([]),
        json!([{"containers": []}]),
        json!({}),
        json!({"containers": null}),
        json!({"containers": "a"}),
        json!({"containers": [null, 1, "x", [], {}]}),
        json!({"containers": [{"name": 7, "securityContext": "x", "ports": {"hostPort": 1}}]}),
        json!({"containers": [{"securityContext": {"capabilities": {"add": "ALL", "drop": [1, null]}}}]}),
        json!({"containers": [{"securityContext": {"capabilities": {"add": [1, null, {"x": 1}]}}}]}),
        json!({"containers": [{"ports": [null, {"hostPort": "80"}, {"hostPort": 1.5}, {"hostPort": -1}, {"hostPort": 18446744073709551615u64}]}]}),
        json!({"containers": [{"livenessProbe": {"httpGet": "x"}, "lifecycle": {"preStop": []}}]}),
        json!({"securityContext": [], "volumes": {"a": 1}}),
        json!({"securityContext": {"sysctls": [null, {"name": 5}, "x"], "seLinuxOptions": "x", "runAsUser": "0"}}),
        json!({"securityContext": {"seccompProfile": {"type": 5}, "appArmorProfile": {"type": null}}}),
        json!({"volumes": [null, 3, {"name": {"x": 1}, "hostPath": "x"}, {"nfs": null}]}),
        json!({"os": "windows", "hostUsers": "false", "hostNetwork": 1}),
    ];
    let metas = [
        Value::Null,
        json!([]),
        json!({"annotations": null}),
        json!({"annotations": ["a"]}),
        json!({"annotations": {"container.apparmor.security.beta.kubernetes.io/a": 5,
                               "seccomp.security.alpha.kubernetes.io/pod": null,
                               "container.apparmor.security.beta.kubernetes.io/\u{0}\"\\\n": "\u{1}\u{85}é\"x"}}),
    ];
    for spec in &weird {
        for meta in &metas {
            for level in [Level::Privileged, Level::Baseline, Level::Restricted] {
                for minor in [0, 8, 19, 22, 25, 31, 35, 37, 1000] {
                    let _ = evaluate(level, Version::V(minor), meta, spec);
                }
                let _ = evaluate(level, Version::Latest, meta, spec);
            }
        }
    }
}

#[test]
fn wrong_types_are_treated_as_unset() {
    // Strings are not booleans: "true" does not enable privileged/hostNetwork.
    let spec = json!({"hostNetwork": "true", "containers": [{"name": "a", "securityContext": {"privileged": "true"}}]});
    assert!(eval(Level::Baseline, "latest", Value::Null, spec).is_empty());
    // An unset runAsNonRoot (wrong type) is still required in restricted.
    let spec = json!({"securityContext": {"runAsNonRoot": "true"}, "containers": [{"name": "a"}]});
    assert!(evaluate_check("runAsNonRoot", Version::Latest, &Value::Null, &spec).is_some());
}

#[test]
fn go_quote_in_annotation_messages() {
    let meta =
        json!({"annotations": {"container.apparmor.security.beta.kubernetes.io/a": "x\"y\n\u{1}"}});
    let v = evaluate_check("appArmorProfile", Version::Latest, &meta, &json!({})).unwrap();
    assert_eq!(
        v.detail,
        "annotation must not set AppArmor profile type to \"container.apparmor.security.beta.kubernetes.io/a=\"x\\\"y\\n\\x01\"\""
    );
}
