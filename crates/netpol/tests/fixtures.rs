//! Table-driven tests: every `tests/fixtures/*.yaml` holds Kubernetes objects plus one
//! `kind: TestCases` document stating the expected answers.

use std::path::{Path, PathBuf};

use palisade_netpol::{Direction, Endpoint, Netpol, PortSpec, RuleRef};
use serde::Deserialize;
use serde_json::Value;

fn load(path: &Path) -> (Vec<Value>, Value) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut objs = Vec::new();
    let mut cases = None;
    for doc in serde_yaml_ng::Deserializer::from_str(&text) {
        let v = Value::deserialize(doc).unwrap();
        if v.is_null() {
            continue;
        }
        if v.get("kind").and_then(Value::as_str) == Some("TestCases") {
            cases = Some(v);
        } else {
            objs.push(v);
        }
    }
    (
        objs,
        cases.unwrap_or_else(|| panic!("{}: no TestCases document", path.display())),
    )
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

fn rule_str(r: &RuleRef) -> String {
    let d = match r.direction {
        Direction::Ingress => "ingress",
        Direction::Egress => "egress",
    };
    match r.peer_index {
        Some(p) => format!("{} {d}#{} peer{p}", r.policy, r.rule_index),
        None => format!("{} {d}#{}", r.policy, r.rule_index),
    }
}

fn run_fixture(path: &Path) -> usize {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let (objs, tc) = load(path);
    let np = Netpol::from_objects(&objs);
    assert!(np.skipped.is_empty(), "{name}: skipped {:?}", np.skipped);
    let mut checks = 0;
    for case in tc
        .get("cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let from = Endpoint::parse(s(case, "from").unwrap()).unwrap();
        let to = Endpoint::parse(s(case, "to").unwrap()).unwrap();
        let port = s(case, "port").map(|p| PortSpec::parse(p).unwrap());
        let ctx = format!("{name}: {from} -> {to} port {port:?}");
        let res = np.can(&from, &to, port.as_ref());
        let expect = s(case, "expect").unwrap();
        checks += 1;
        if expect == "error" {
            assert!(res.is_err(), "{ctx}: expected an error, got {res:?}");
            continue;
        }
        let v = res.unwrap_or_else(|e| panic!("{ctx}: {e}"));
        match expect {
            "allow" => assert!(v.allowed, "{ctx}: expected allow: {v:#?}"),
            "deny" => assert!(!v.allowed, "{ctx}: expected deny: {v:#?}"),
            other => panic!("{ctx}: bad expect {other}"),
        }
        assert_eq!(v.allowed, v.egress.allowed && v.ingress.allowed, "{ctx}");
        if let Some(by) = s(case, "denied_by") {
            let (e, i) = match by {
                "egress" => (false, true),
                "ingress" => (true, false),
                "both" => (false, false),
                other => panic!("{ctx}: bad denied_by {other}"),
            };
            assert_eq!(
                (v.egress.allowed, v.ingress.allowed),
                (e, i),
                "{ctx}: {v:#?}"
            );
        }
        for (key, dv) in [
            ("ingress_isolated", &v.ingress),
            ("egress_isolated", &v.egress),
        ] {
            if let Some(b) = case.get(key).and_then(Value::as_bool) {
                assert_eq!(!dv.isolating.is_empty(), b, "{ctx}: {key}: {dv:#?}");
            }
        }
        for (key, dv) in [
            ("ingress_admitted_by", &v.ingress),
            ("egress_admitted_by", &v.egress),
        ] {
            if case.get(key).is_some() {
                let mut got: Vec<String> = dv
                    .admitted_by
                    .iter()
                    .map(|r| format!("{}#{}", r.policy, r.rule_index))
                    .collect();
                got.sort();
                assert_eq!(got, strings(case.get(key)), "{ctx}: {key}");
            }
        }
        for (key, dv) in [
            ("ingress_denied_by", &v.ingress),
            ("egress_denied_by", &v.egress),
        ] {
            if case.get(key).is_some() {
                let mut got: Vec<String> = dv
                    .denied_by
                    .iter()
                    .map(|r| format!("{}#{}", r.policy, r.rule_index))
                    .collect();
                got.sort();
                assert_eq!(got, strings(case.get(key)), "{ctx}: {key}");
            }
        }
        if let Some(n) = case.get("notes").and_then(Value::as_u64) {
            assert_eq!(v.notes.len() as u64, n, "{ctx}: notes {:?}", v.notes);
        }
        if let Some(text) = s(case, "note_contains") {
            assert!(
                v.notes.iter().any(|n| n.contains(text)),
                "{ctx}: no note contains {text:?}: {:?}",
                v.notes
            );
        }
    }
    if tc.get("unselected").is_some() {
        let mut got: Vec<String> = np.unselected_pods().iter().map(|w| w.key()).collect();
        got.sort();
        assert_eq!(got, strings(tc.get("unselected")), "{name}: unselected");
        checks += 1;
    }
    if tc.get("allowing_all_namespaces").is_some() {
        let mut got: Vec<String> = np
            .policies_allowing_all_namespaces()
            .iter()
            .map(rule_str)
            .collect();
        got.sort();
        assert_eq!(got, strings(tc.get("allowing_all_namespaces")), "{name}");
        checks += 1;
    }
    if tc.get("allowing_any_ip").is_some() {
        let mut got: Vec<String> = np.policies_allowing_any_ip().iter().map(rule_str).collect();
        got.sort();
        assert_eq!(got, strings(tc.get("allowing_any_ip")), "{name}");
        checks += 1;
    }
    for (key, refs) in [
        ("cni_allowing_any_ip", np.cni_rules_allowing_any_ip()),
        (
            "cni_allowing_all_namespaces",
            np.cni_rules_allowing_all_namespaces(),
        ),
    ] {
        if tc.get(key).is_some() {
            let mut got: Vec<String> = refs
                .iter()
                .map(|r| format!("{} {}", r.policy, r.path.as_deref().unwrap_or("-")))
                .collect();
            got.sort();
            assert_eq!(got, strings(tc.get(key)), "{name}: {key}");
            checks += 1;
        }
    }
    if let Some(dd) = tc.get("without_default_deny") {
        for (k, d) in [
            ("Ingress", Direction::Ingress),
            ("Egress", Direction::Egress),
        ] {
            if dd.get(k).is_some() {
                assert_eq!(
                    np.namespaces_without_default_deny(d),
                    strings(dd.get(k)),
                    "{name}: without default deny {k}"
                );
                checks += 1;
            }
        }
    }
    for m in tc
        .get("metadata")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ep = Endpoint::parse(s(m, "endpoint").unwrap()).unwrap();
        let r = np.metadata_endpoint_reachable(&ep).unwrap();
        assert_eq!(
            r.reachable,
            m["reachable"].as_bool().unwrap(),
            "{name}: metadata {ep}"
        );
        assert_eq!(
            r.internet_egress,
            m["internet"].as_bool().unwrap(),
            "{name}: internet {ep}"
        );
        checks += 1;
    }
    assert!(checks > 0, "{name}: no checks");
    checks
}

#[test]
fn fixtures() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "fixtures missing");
    for f in files {
        run_fixture(&f);
    }
}

#[test]
fn default_deny_namespaces() {
    let objs: Vec<Value> = vec![
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "locked"}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "open"}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "allow-all"}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny", "namespace": "locked"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}),
        // absent podSelector == {}: selects every pod; defaults to Ingress only
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "deny-in", "namespace": "open"}, "spec": {}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "all", "namespace": "allow-all"},
            "spec": {"podSelector": {}, "ingress": [{}]}}),
    ];
    let np = Netpol::from_objects(&objs);
    assert!(np.skipped.is_empty(), "{:?}", np.skipped);
    assert_eq!(
        np.namespaces_without_default_deny(Direction::Ingress),
        vec!["allow-all".to_string()]
    );
    assert_eq!(
        np.namespaces_without_default_deny(Direction::Egress),
        vec!["allow-all".to_string(), "open".to_string()]
    );
    assert_eq!(
        np.namespaces()["locked"].get("kubernetes.io/metadata.name"),
        Some(&"locked".to_string())
    );
}

#[test]
fn malformed_objects_are_skipped_not_fatal() {
    let objs: Vec<Value> = vec![
        // ipBlock together with a selector is invalid
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "a", "namespace": "x"},
            "spec": {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "b", "namespace": "x"},
            "spec": {"egress": [{"to": [{"ipBlock": {"cidr": "not-a-cidr"}}]}]}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "c", "namespace": "x"},
            "spec": {"ingress": [{"ports": [{"port": "http", "endPort": 90}]}]}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "d", "namespace": "x"},
            "spec": {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "e", "namespace": "x"}, "spec": {"policyTypes": ["Sideways"]}}),
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "f", "namespace": "x"}, "spec": {"ingress": [{"from": [{}]}]}}),
        // a string port is a port name; "80" is not a valid one
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "c2", "namespace": "x"},
            "spec": {"ingress": [{"ports": [{"port": "80"}]}]}}),
        // except outside the cidr
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "c3", "namespace": "x"},
            "spec": {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}}]}]}}),
        // protocols are case-sensitive in the API
        serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "c4", "namespace": "x"},
            "spec": {"ingress": [{"ports": [{"port": 53, "protocol": "udp"}]}]}}),
        serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "g", "namespace": "x"}, "spec": {}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "h", "namespace": "x"},
            "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 70000}]}]}}),
        // ignored: other API group / other kinds / not an object
        serde_json::json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "NetworkPolicy", "metadata": {"name": "calico"}}),
        serde_json::json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}}),
        serde_json::json!("text"),
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "ok", "namespace": "x"}, "spec": {}}
        ]}),
    ];
    let np = Netpol::from_objects(&objs);
    assert_eq!(np.skipped.len(), 11, "{:?}", np.skipped);
    assert_eq!(np.policies().len(), 1);
    assert_eq!(np.policies()[0].name, "ok");
    assert!(np.policies()[0].ingress_type && !np.policies()[0].egress_type);
}

#[test]
fn endpoint_and_port_parsing() {
    assert!(matches!(Endpoint::parse("10.0.0.1"), Ok(Endpoint::Ip(_))));
    assert!(matches!(Endpoint::parse("::1"), Ok(Endpoint::Ip(_))));
    assert!(matches!(
        Endpoint::parse("ns/Deployment/web"),
        Ok(Endpoint::Workload { kind: Some(_), .. })
    ));
    assert!(Endpoint::parse("web").is_err());
    assert!(Endpoint::parse("/web").is_err());
    assert_eq!(
        PortSpec::parse("53/udp").unwrap().protocol,
        palisade_netpol::Protocol::Udp
    );
    assert!(PortSpec::parse("0").is_err());
    assert!(PortSpec::parse("80/ICMP").is_err());
    let np = Netpol::from_objects(&Vec::<Value>::new());
    assert!(np
        .can(
            &Endpoint::parse("1.1.1.1").unwrap(),
            &Endpoint::parse("2.2.2.2").unwrap(),
            None
        )
        .is_err());
    assert!(np
        .can(
            &Endpoint::parse("a/b").unwrap(),
            &Endpoint::parse("2.2.2.2").unwrap(),
            None
        )
        .is_err());
}

/// Optional sanity check: every NetworkPolicy in Checkov's Kubernetes fixtures parses
/// (or is reported in `skipped`, never a panic). Skipped when the corpus is absent.
#[test]
#[allow(clippy::print_stderr)]
fn checkov_corpus_sanity() {
    let Some(checkov) = palisade_testkit::corpus("checkov-k8s/tests/kubernetes") else {
        return;
    };
    let mut stack = vec![checkov.clone()];
    let mut policies = 0;
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if !p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&p) else {
                continue;
            };
            if !text.contains("NetworkPolicy") {
                continue;
            }
            let mut objs = Vec::new();
            for doc in serde_yaml_ng::Deserializer::from_str(&text) {
                match Value::deserialize(doc) {
                    Ok(v) if !v.is_null() => objs.push(v),
                    _ => {}
                }
            }
            let np = Netpol::from_objects(&objs);
            policies += np.policies().len();
            let _ = np.unselected_pods();
            let _ = np.policies_allowing_any_ip();
        }
    }
    eprintln!("checkov sanity: {policies} NetworkPolicies parsed");
    // Checkov's RequireAllPodsToHaveNetworkPolicy graph check: expected pass/fail pods.
    let dir = checkov.join("graph/checks/resources/RequireAllPodsToHaveNetworkPolicy");
    if let Ok(text) = std::fs::read_to_string(dir.join("template.yaml")) {
        let objs: Vec<Value> = serde_yaml_ng::Deserializer::from_str(&text)
            .filter_map(|d| Value::deserialize(d).ok())
            .filter(|v| !v.is_null())
            .collect();
        let np = Netpol::from_objects(&objs);
        let unselected: Vec<String> = np.unselected_pods().iter().map(|w| w.key()).collect();
        assert!(unselected.contains(&"default/external-proxy-deployment".to_string()));
        assert!(!unselected.contains(&"default/internal-proxy-deployment".to_string()));
    }
    assert!(policies > 0, "corpus present but no NetworkPolicy parsed");
}

#[test]
fn malformed_cilium_and_calico_policies_are_skipped_with_a_reason() {
    let objs: Vec<Value> = vec![
        serde_json::json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "bad-entity", "namespace": "x"},
            "spec": {"endpointSelector": {}, "ingress": [{"fromEntities": ["everywhere"]}]}}),
        serde_json::json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "node-selector", "namespace": "x"},
            "spec": {"nodeSelector": {}, "ingress": [{}]}}),
        serde_json::json!({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": "bad-cidr"},
            "spec": {"endpointSelector": {}, "egress": [{"toCIDR": ["10.0.0.0/33"]}]}}),
        serde_json::json!({"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy",
            "metadata": {"name": "no-spec"}}),
        serde_json::json!({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": "bad-port", "namespace": "x"},
            "spec": {"endpointSelector": {}, "ingress": [{"toPorts": [{"ports": [{"port": "70000"}]}]}]}}),
        serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
            "metadata": {"name": "bad-selector", "namespace": "x"},
            "spec": {"selector": "role = 'db'"}}),
        serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": "bad-action"},
            "spec": {"ingress": [{"action": "Reject"}]}}),
        serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
            "metadata": {"name": "bad-range", "namespace": "x"},
            "spec": {"ingress": [{"action": "Allow", "destination": {"ports": ["90:80"]}}]}}),
        serde_json::json!({"apiVersion": "projectcalico.org/v3", "kind": "Tier",
            "metadata": {"name": "t"}, "spec": {"defaultAction": "Allow"}}),
        // a Calico kind under another group is not read
        serde_json::json!({"apiVersion": "example.com/v1", "kind": "GlobalNetworkPolicy",
            "metadata": {"name": "other"}, "spec": {"ingress": [{"action": "Reject"}]}}),
    ];
    let np = Netpol::from_objects(&objs);
    assert_eq!(np.skipped.len(), 9, "{:#?}", np.skipped);
    assert_eq!(np.skipped_inputs, (0..9).collect::<Vec<_>>());
    for (msg, want) in np.skipped.iter().zip([
        "CiliumNetworkPolicy x/bad-entity: /spec: ingress: unknown entity \"everywhere\"",
        "nodeSelector is only valid in a clusterwide policy",
        "CiliumClusterwideNetworkPolicy bad-cidr: /spec: egress: invalid toCIDR",
        "neither spec nor specs",
        "invalid port \"70000\"",
        "NetworkPolicy x/bad-selector: selector: selector \"role = 'db'\"",
        "invalid action Some(\"Reject\")",
        "invalid port range \"90:80\"",
        "invalid defaultAction",
    ]) {
        assert!(msg.contains(want), "{msg:?} should contain {want:?}");
    }
    assert!(np.cilium_policies().is_empty() && np.calico_policies().is_empty());
}

/// Every node of every Cilium and Calico policy of the fixtures, replaced in turn by a
/// value of each other JSON type: the policy is read or skipped with a reason, and the
/// queries of the fixture still answer (no panic).
#[test]
fn mutated_cilium_and_calico_policies_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let replacements = [Value::Null, serde_json::json!("x y")];
    let mut runs = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !(name.starts_with("cilium") || name.starts_with("calico")) {
            continue;
        }
        let (objs, tc) = load(&path);
        let queries: Vec<(Endpoint, Endpoint, Option<PortSpec>)> = tc["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    Endpoint::parse(s(c, "from").unwrap()).unwrap(),
                    Endpoint::parse(s(c, "to").unwrap()).unwrap(),
                    s(c, "port").map(|p| PortSpec::parse(p).unwrap()),
                )
            })
            .take(3)
            .collect();
        for (i, o) in objs.iter().enumerate() {
            let api = o["apiVersion"].as_str().unwrap_or("");
            if !(api.starts_with("cilium.io") || api.contains("projectcalico.org")) {
                continue;
            }
            let ptrs = palisade_testkit::json_pointers(o);
            for p in &ptrs {
                for r in &replacements {
                    let mut objs2 = objs.clone();
                    *objs2[i].pointer_mut(p).unwrap() = r.clone();
                    let np = Netpol::from_objects(&objs2);
                    assert_eq!(np.skipped.len(), np.skipped_inputs.len());
                    for (from, to, port) in &queries {
                        let _ = np.can(from, to, port.as_ref());
                    }
                    let _ = np.namespaces_without_default_deny(Direction::Ingress);
                    let _ = np.namespaces_without_default_deny(Direction::Egress);
                    let _ = np.unselected_pods();
                    runs += 1;
                }
            }
        }
    }
    assert!(runs > 1000, "{runs}");
}

/// Policies of a namespace that share a pod selector are matched once, and a pod's
/// isolating policies still come in input order, each with its own types.
#[test]
fn policies_sharing_a_selector_isolate_in_input_order() {
    let policy = |name: &str, selector: Value, types: &[&str]| {
        serde_json::json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"podSelector": selector, "policyTypes": types}
        })
    };
    let web = serde_json::json!({"matchLabels": {"app": "web"}});
    let objects = vec![
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "c"}]}
        }),
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}},
            "spec": {"containers": [{"name": "c", "image": "c"}]}
        }),
        policy("web-in-1", web.clone(), &["Ingress"]),
        policy("all", serde_json::json!({}), &["Ingress", "Egress"]),
        policy("web-out", web.clone(), &["Egress"]),
        policy("web-in-2", web.clone(), &["Ingress"]),
        policy(
            "db",
            serde_json::json!({"matchLabels": {"app": "db"}}),
            &["Egress"],
        ),
    ];
    let np = Netpol::from_objects(&objects);
    let names = |pod: &str, d: Direction| -> Vec<String> {
        let w = np.workload("shop", pod, None).expect("pod");
        np.isolating_policies(w, d)
            .into_iter()
            .map(|p| p.name.clone())
            .collect()
    };
    assert_eq!(
        names("web", Direction::Ingress),
        ["web-in-1", "all", "web-in-2"]
    );
    assert_eq!(names("web", Direction::Egress), ["all", "web-out"]);
    assert_eq!(names("db", Direction::Ingress), ["all"]);
    assert_eq!(names("db", Direction::Egress), ["all", "db"]);
    let db = np.workload("shop", "db", None).expect("db");
    assert!(np.is_isolated(db, Direction::Egress));
    assert!(np.unselected_pods().is_empty());
}
