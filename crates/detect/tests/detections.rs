//! Regression tests for what the detector reports and what it does not: dry runs and
//! admission rejections (DET023, DET026), Palisade's own cluster reads (DET011, DET012),
//! grouping of repeated alerts, kubectl's WebSocket attempt and SPDY retry of one exec,
//! deleted events (DET031), and failed exec attempts (DET001). Each is tested on events
//! written for it and, where the labelled apiserver recording has the case, on its events.
#![allow(clippy::print_stdout)]

mod common;

use palisade_detect::{Alert, Detector, DetectorOptions, GroupOptions, RuleSet, Severity};
use serde_json::{json, Value};

/// `2026-01-01T00:00:00Z` plus `ms` milliseconds.
fn ts(ms: u64) -> String {
    let (s, ms) = (ms / 1000, ms % 1000);
    format!(
        "2026-01-01T{:02}:{:02}:{:02}.{ms:03}000Z",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// A completed request: `resource` is `resource[/namespace[/name[/subresource]]]`.
fn req(id: &str, ms: u64, user: &str, verb: &str, uri: &str, object: &str, code: i64) -> Value {
    let mut parts = object.splitn(4, '/');
    let mut o = json!({"resource": parts.next().unwrap_or("")});
    for key in ["namespace", "name", "subresource"] {
        if let Some(p) = parts.next().filter(|p| !p.is_empty()) {
            o[key] = json!(p);
        }
    }
    json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": id, "stage": "ResponseComplete", "verb": verb, "requestURI": uri,
        "user": {"username": user, "groups": ["system:authenticated"]},
        "sourceIPs": ["10.0.0.7"], "userAgent": "kubectl/v1.32.4 (linux/amd64) kubernetes/4cb5f07",
        "objectRef": o,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": ts(ms), "stageTimestamp": ts(ms),
        "annotations": {"authorization.k8s.io/decision": if code == 403 { "forbid" } else { "allow" }}
    })
}

fn feed(d: &mut Detector, events: &[Value]) -> Vec<Alert> {
    events
        .iter()
        .flat_map(|e| d.feed_line(&e.to_string()))
        .collect()
}

fn ids(alerts: &[Alert]) -> Vec<&str> {
    alerts.iter().map(|a| a.rule_id.as_str()).collect()
}

fn of<'a>(alerts: &'a [Alert], rule: &str) -> Vec<&'a Alert> {
    alerts.iter().filter(|a| a.rule_id == rule).collect()
}

fn ungrouped() -> Detector {
    Detector::with_options(
        RuleSet::builtin(),
        DetectorOptions {
            grouping: GroupOptions::off(),
            ..DetectorOptions::default()
        },
    )
}

/// A privileged pod created by alice, with the query `q` (`?...` or empty).
fn privileged_pod(id: &str, ms: u64, q: &str, code: i64, message: &str) -> Value {
    let mut e = req(
        id,
        ms,
        "alice",
        "create",
        &format!("/api/v1/namespaces/dev/pods{q}"),
        "pods/dev/root-shell",
        code,
    );
    e["level"] = json!("Request");
    e["annotations"]["authorization.k8s.io/decision"] = json!("allow");
    e["responseStatus"]["message"] = json!(message);
    e["requestObject"] = json!({"kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "root-shell"},
        "spec": {"hostPID": true, "containers": [{"name": "c", "image": "busybox",
            "securityContext": {"privileged": true}}]}});
    e
}

const POD_SECURITY: &str = r#"pods "root-shell" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#;

#[test]
fn dry_runs_raise_no_change_or_refusal_alerts() {
    // Created for real, and as server-side dry runs (the query, as kubectl sends it).
    let mut d = ungrouped();
    let real = feed(&mut d, &[privileged_pod("p1", 0, "", 201, "")]);
    assert!(ids(&real).contains(&"DET004"), "{real:?}");
    for (i, q) in [
        "?dryRun=All&fieldManager=kubectl-client-side-apply",
        "?fieldManager=x&dryRun=All",
        "?dry%52un=%41ll", // the API server decodes keys and values
    ]
    .iter()
    .enumerate()
    {
        let a = feed(
            &mut d,
            &[privileged_pod(&format!("d{i}"), 1000, q, 201, "")],
        );
        assert!(a.is_empty(), "{q}: {a:?}");
    }
    // Values the API server does not take as a dry run are not one here either.
    for (i, q) in [
        "?dryRun=true",
        "?dryRun=all",
        "?dryRun=All;x=1",
        "?xdryRun=All",
    ]
    .iter()
    .enumerate()
    {
        let a = feed(
            &mut d,
            &[privileged_pod(&format!("n{i}"), 2000, q, 201, "")],
        );
        assert!(ids(&a).contains(&"DET004"), "{q}: {a:?}");
    }

    // DET026: a refused privileged pod is an attempt; a refused dry run is not.
    let a = feed(&mut d, &[privileged_pod("r1", 3000, "", 403, POD_SECURITY)]);
    let refused = of(&a, "DET026");
    assert_eq!(refused.len(), 1, "{a:?}");
    assert!(
        refused[0].message.contains("refused by admission (403)"),
        "{}",
        refused[0].message
    );
    let a = feed(
        &mut d,
        &[privileged_pod("r2", 3100, "?dryRun=All", 403, POD_SECURITY)],
    );
    assert!(a.is_empty(), "{a:?}");
    // A conflict or an invalid object is a failure, not a refusal.
    for (i, code) in [409, 422].iter().enumerate() {
        let a = feed(
            &mut d,
            &[privileged_pod(
                &format!("c{i}"),
                3200,
                "",
                *code,
                "conflict",
            )],
        );
        assert!(a.is_empty(), "{code}: {a:?}");
    }

    // DET023: ten RBAC refusals count, ten refused dry runs do not.
    let probe = |id: String, ms: u64, q: &str| {
        req(
            &id,
            ms,
            "nobody",
            "create",
            &format!("/api/v1/namespaces/prod/configmaps{q}"),
            "configmaps/prod",
            403,
        )
    };
    let dry: Vec<Value> = (0..12)
        .map(|i| probe(format!("q{i}"), 10_000 + i * 100, "?dryRun=All"))
        .collect();
    assert!(of(&feed(&mut d, &dry), "DET023").is_empty());
    let real: Vec<Value> = (0..10)
        .map(|i| probe(format!("w{i}"), 20_000 + i * 100, ""))
        .collect();
    assert_eq!(of(&feed(&mut d, &real), "DET023").len(), 1);
}

/// A namespace deletion at `level`, with the query `q` and the request body `body`.
fn ns_delete(id: &str, level: &str, q: &str, body: Option<Value>) -> String {
    let mut e = req(
        id,
        0,
        "bob",
        "delete",
        &format!("/api/v1/namespaces/prod{q}"),
        "namespaces//prod",
        200,
    );
    e["level"] = json!(level);
    if let Some(b) = body {
        e["requestObject"] = b;
    }
    e.to_string()
}

#[test]
fn a_deletion_is_a_dry_run_only_when_the_api_server_read_it_as_one() {
    let deleted = |line: String| {
        let a = ungrouped().feed_line(&line);
        of(&a, "DET022").len() == 1
    };
    let opts = |dry: bool| {
        let mut o = json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1",
            "propagationPolicy": "Background"});
        if dry {
            o["dryRun"] = json!(["All"]);
        }
        o
    };
    // kubectl delete --dry-run=server sends the dry run in the body: recorded at Request level.
    assert!(!deleted(ns_delete("a", "Request", "", Some(opts(true)))));
    assert!(!deleted(ns_delete(
        "b",
        "RequestResponse",
        "",
        Some(opts(true))
    )));
    // A body overrides the query: `?dryRun=All` next to a body without it deletes.
    assert!(deleted(ns_delete(
        "c",
        "Request",
        "?dryRun=All",
        Some(opts(false))
    )));
    // No body recorded at Request level: none was sent, the query decided.
    assert!(!deleted(ns_delete("d", "Request", "?dryRun=All", None)));
    // At Metadata level a body cannot be seen: the query alone proves nothing.
    assert!(deleted(ns_delete("e", "Metadata", "?dryRun=All", None)));
    assert!(deleted(ns_delete("f", "", "?dryRun=All", None)));
    assert!(deleted(ns_delete("g", "Request", "", None)));
}

/// A request refused by admission: authorized, then rejected with `message`.
fn admission_refusal(id: String, ms: u64, code: i64, message: &str) -> Value {
    let mut e = req(
        &id,
        ms,
        "dave",
        "create",
        "/apis/apps/v1/namespaces/shop/deployments",
        "deployments/shop",
        code,
    );
    e["annotations"]["authorization.k8s.io/decision"] = json!("allow");
    e["responseStatus"]["reason"] = json!("Forbidden");
    e["responseStatus"]["message"] = json!(message);
    e
}

#[test]
fn admission_rejections_are_not_authorization_failures() {
    let messages = [
        (
            403,
            r#"admission webhook "validate.kyverno.svc" denied the request: no privileged"#,
        ),
        (
            400,
            r#"admission webhook "policy.example.com" denied the request: bad label"#,
        ),
        (403, POD_SECURITY),
        (
            422,
            r#"deployments.apps "web" is forbidden: ValidatingAdmissionPolicy 'replicas' with binding 'replicas-b' denied request: failed expression: object.spec.replicas <= 5"#,
        ),
        (
            403,
            r#"deployments.apps "web" is forbidden: exceeded quota: compute, requested: cpu=1"#,
        ),
        (
            500,
            r#"Internal error occurred: failed calling webhook "sidecar.example.com": connection refused"#,
        ),
    ];
    let refusals_rule = r#"
rules:
  - id: DET950
    name: who-refused
    severity: info
    mitre: [T1613]
    condition: exists(refusedBy)
    output: "{refusedBy}"
"#;
    let mut rules = RuleSet::builtin();
    rules.add_yaml("refused.yaml", refusals_rule).unwrap();
    let mut d = Detector::with_options(
        rules,
        DetectorOptions {
            grouping: GroupOptions::off(),
            ..DetectorOptions::default()
        },
    );
    for (k, (code, msg)) in messages.iter().enumerate() {
        let burst: Vec<Value> = (0..12)
            .map(|i| {
                admission_refusal(format!("m{k}-{i}"), k as u64 * 120_000 + i * 10, *code, msg)
            })
            .collect();
        let a = feed(&mut d, &burst);
        assert!(of(&a, "DET023").is_empty(), "{msg}: {a:?}");
        let who = of(&a, "DET950");
        assert_eq!(who.len(), 12, "{msg}");
        assert!(
            who.iter().all(|w| w.message == "admission"),
            "{msg}: {who:?}"
        );
    }
    // RBAC escalation prevention is neither (authorized, refused by the RBAC registry).
    let escalation = admission_refusal(
        "esc".into(),
        900_000,
        403,
        r#"rolebindings.rbac.authorization.k8s.io "x" is forbidden: user "ci" (groups=["ci"]) is attempting to grant RBAC permissions not currently held"#,
    );
    assert!(of(&feed(&mut d, &[escalation]), "DET950").is_empty());
    // Authorization refusals, with the decision annotation or (old logs) without it.
    let mut stripped = Vec::new();
    for i in 0..10u64 {
        let mut e = req(
            &format!("s{i}"),
            1_000_000 + i * 10,
            "mallory",
            "list",
            "/api/v1/secrets",
            "secrets",
            403,
        );
        e.as_object_mut().unwrap().remove("annotations");
        e["responseStatus"]["message"] = json!(
            r#"secrets is forbidden: User "mallory" cannot list resource "secrets" in API group "" at the cluster scope"#
        );
        stripped.push(e);
    }
    let a = feed(&mut d, &stripped);
    assert_eq!(of(&a, "DET023").len(), 1, "{a:?}");
    assert!(of(&a, "DET950")
        .iter()
        .all(|w| w.message == "authorization"));
    // Without the annotation, an admission message still is not an authorization refusal.
    let mut pss = admission_refusal("p".into(), 2_000_000, 403, POD_SECURITY);
    pss.as_object_mut().unwrap().remove("annotations");
    assert_eq!(of(&feed(&mut d, &[pss]), "DET950")[0].message, "admission");
}

/// The recorded events with these audit ids, in log order.
fn recorded(ids: &[&str]) -> Option<Vec<Value>> {
    let dir = common::corpus_dir("apiserver-recordings/audit")?;
    let text = std::fs::read_to_string(dir.join("audit.jsonl")).ok()?;
    Some(
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| ids.contains(&e["auditID"].as_str().unwrap_or("")))
            .collect(),
    )
}

/// The recorded event `id` (ResponseComplete), repeated `n` times with fresh audit ids,
/// 100 ms apart.
fn repeated(id: &str, n: usize) -> Option<Vec<Value>> {
    let base = recorded(&[id])?
        .into_iter()
        .find(|e| e["stage"] == "ResponseComplete")?;
    Some(
        (0..n)
            .map(|i| {
                let mut e = base.clone();
                e["auditID"] = json!(format!("{id}-{i}"));
                e["stageTimestamp"] = json!(ts(i as u64 * 100));
                e["requestReceivedTimestamp"] = json!(ts(i as u64 * 100));
                e
            })
            .collect(),
    )
}

#[test]
fn recorded_refusals_authorization_counts_admission_does_not() {
    // A48: nobody's RBAC refusals (decision forbid). A24: alice's pod refused by Pod
    // Security (authorized, 403). A26: carol's CSR refused by admission. A49: RBAC
    // escalation prevention.
    let Some(rbac) = repeated("a405cb5c-0d37-4790-b009-11e27ae99c0d", 10) else {
        return;
    };
    let a = feed(&mut ungrouped(), &rbac);
    assert_eq!(of(&a, "DET023").len(), 1, "{a:?}");
    let Some(pss) = repeated("782f481c-22d9-4723-8fd8-ca1f6b9f7e71", 12) else {
        return;
    };
    assert_eq!(pss[0]["responseStatus"]["code"], 403);
    let a = feed(&mut ungrouped(), &pss);
    assert!(of(&a, "DET023").is_empty(), "{a:?}");
    assert_eq!(
        of(&a, "DET026").len(),
        12,
        "each refused hostNetwork pod is an attempt"
    );
    // A dry-run of the same request (the log has none: the query added) is not.
    let mut dry = pss[0].clone();
    let uri = dry["requestURI"].as_str().unwrap().to_string();
    dry["requestURI"] = json!(format!("{uri}&dryRun=All"));
    assert!(feed(&mut ungrouped(), &[dry]).is_empty());
}

#[test]
fn palisade_reads_are_exempt_only_from_palisade_identity_and_agent() {
    let palisade_sa = "system:serviceaccount:palisade-system:palisade-admission";
    // A cluster scan: list secrets (as metadata) in 22 namespaces within a minute.
    let scan = |user: &str, agent: &str| -> Vec<Value> {
        (0..22)
            .map(|i| {
                let mut e = req(
                    &format!("{user}-{agent}-{i}"),
                    i * 500,
                    user,
                    "list",
                    &format!("/api/v1/namespaces/ns{i}/secrets?limit=500"),
                    &format!("secrets/ns{i}"),
                    200,
                );
                e["userAgent"] = json!(agent);
                e
            })
            .collect()
    };
    let fired = |rules: RuleSet, events: &[Value]| {
        let mut d = Detector::new(rules);
        let mut a = feed(&mut d, events);
        a.extend(d.flush());
        a
    };
    let own = fired(
        RuleSet::builtin(),
        &scan(palisade_sa, "palisade/0.4.0 (linux/amd64)"),
    );
    assert!(own.is_empty(), "{own:?}");
    // Palisade's token used from another tool: reported.
    let stolen = fired(RuleSet::builtin(), &scan(palisade_sa, "kubectl/v1.32.4"));
    assert!(ids(&stolen).contains(&"DET011") && ids(&stolen).contains(&"DET012"));
    // Anyone can claim the user agent: reported.
    let spoofed = fired(RuleSet::builtin(), &scan("mallory", "palisade/0.4.0"));
    assert!(ids(&spoofed).contains(&"DET011") && ids(&spoofed).contains(&"DET012"));

    // Palisade running as another service account: one override per rule.
    let mine = r#"
overrides:
  - id: DET011
    except:
      clients:
        - serviceAccounts: ["security:scanner"]
          userAgents: ["palisade/*"]
  - id: DET012
    except:
      clients:
        - serviceAccounts: ["security:scanner"]
          userAgents: ["palisade/*"]
"#;
    let mut rules = RuleSet::builtin();
    rules.add_yaml("palisade.yaml", mine).unwrap();
    let scanner = "system:serviceaccount:security:scanner";
    assert!(fired(rules.clone(), &scan(scanner, "palisade/1.0")).is_empty());
    assert!(!fired(rules.clone(), &scan(scanner, "curl/8.0")).is_empty());
    assert!(!fired(
        rules,
        &scan("system:serviceaccount:other:scanner", "palisade/1.0")
    )
    .is_empty());
    assert!(!fired(RuleSet::builtin(), &scan(scanner, "palisade/1.0")).is_empty());

    // Entries that would exempt by user agent alone, or anyone, are refused when loaded.
    for (entry, why) in [
        (
            r#"{ userAgents: ["palisade/*"] }"#,
            "never exempts a request on its own",
        ),
        (
            r#"{ users: ["*"], userAgents: ["palisade/*"] }"#,
            "matches everyone",
        ),
        (
            r#"{ serviceAccounts: ["*:scanner"], userAgents: ["palisade/*"] }"#,
            "spelled out",
        ),
        (r#"{ serviceAccounts: ["scanner"] }"#, "NAMESPACE:NAME"),
        (
            r#"{ groups: ["system:authenticated"], userAgents: ["palisade/*"] }"#,
            "groups",
        ),
    ] {
        let text =
            format!("overrides:\n  - id: DET011\n    except:\n      clients:\n        - {entry}\n");
        let e = RuleSet::builtin().add_yaml("bad.yaml", &text).unwrap_err();
        assert!(e.message.contains(why), "{entry}: {e}");
        assert!(e.to_string().starts_with("bad.yaml:"), "{e}");
    }
    let own_rule = r#"
rules:
  - id: DET960
    name: ua-only
    severity: low
    mitre: [T1613]
    condition: verb == "list"
    output: "{user}"
    except:
      clients:
        - userAgents: ["palisade/*"]
"#;
    let e = RuleSet::from_yaml("own.yaml", own_rule).unwrap_err();
    assert!(
        e.message.contains("DET960") && e.message.contains("on its own"),
        "{e}"
    );
}

#[test]
fn recorded_enumeration_is_exempt_only_as_palisade() {
    // A12: mallory lists secrets in 15 namespaces and cluster-wide (curl).
    let Some(events) = recorded(&[
        "74f3377e-28f4-4047-ad96-ed4250b176e9",
        "b667bcc1-7710-4fbe-be35-56e3e39716af",
        "f159b696-f10d-40d6-a8fe-5bff06b85c1d",
    ]) else {
        return;
    };
    let Some(all) = common::corpus_dir("apiserver-recordings/audit") else {
        return;
    };
    let text = std::fs::read_to_string(all.join("audit.jsonl")).unwrap();
    let a12: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["user"]["username"] == "mallory"
                && e["objectRef"]["resource"] == "secrets"
                && e["stageTimestamp"].as_str().unwrap_or("") < "2026-11-23T15:25:40"
        })
        .collect();
    assert_eq!(a12.len(), 16);
    assert!(events.len() >= 3);
    let run = |user: &str, agent: &str| {
        let evs: Vec<Value> = a12
            .iter()
            .map(|e| {
                let mut e = e.clone();
                e["user"]["username"] = json!(user);
                e["userAgent"] = json!(agent);
                e
            })
            .collect();
        let mut d = Detector::new(RuleSet::builtin());
        let mut a = feed(&mut d, &evs);
        a.extend(d.flush());
        a
    };
    let as_recorded = run("mallory", "curl/7.88.1");
    assert!(ids(&as_recorded).contains(&"DET012"));
    let spoofed = run("mallory", "palisade/0.4.0");
    assert_eq!(ids(&spoofed), ids(&as_recorded));
    let own = run(
        "system:serviceaccount:palisade-system:palisade-admission",
        "palisade/0.4.0",
    );
    assert!(own.is_empty(), "{own:?}");
}

/// `n` secret lists by `user` in `n` namespaces, `step_ms` apart, from `start_ms`.
fn secret_lists(user: &str, n: u64, start_ms: u64, step_ms: u64) -> Vec<Value> {
    (0..n)
        .map(|i| {
            req(
                &format!("{user}-{start_ms}-{i}"),
                start_ms + i * step_ms,
                user,
                "list",
                &format!("/api/v1/namespaces/ns{i}/secrets"),
                &format!("secrets/ns{i}"),
                200,
            )
        })
        .collect()
}

#[test]
fn bursts_are_grouped_first_at_once_then_a_summary() {
    let mut d = Detector::new(RuleSet::builtin());
    let burst = secret_lists("mallory", 22, 0, 2000); // 22 lists within 42 s
                                                      // The first alert is reported with the first event, not later.
    let first = d.feed_line(&burst[0].to_string());
    assert_eq!(ids(&first), ["DET011"]);
    assert!(first[0].group.is_none() && first[0].count.is_none());
    assert_eq!(first[0].audit_id, "mallory-0-0");
    let mut rest = Vec::new();
    for e in &burst[1..] {
        rest.extend(d.feed_line(&e.to_string()));
    }
    // Meanwhile only the threshold rule DET012 (not grouped) fires.
    assert_eq!(ids(&rest), ["DET012"]);
    // Another subject has its own group, reported at once.
    let other = d.feed_line(&secret_lists("eve", 1, 43_000, 1)[0].to_string());
    assert_eq!(ids(&other), ["DET011"]);
    // Any event after the window (60 s from the first alert) closes the group.
    let later = req(
        "late",
        61_000,
        "bob",
        "get",
        "/api/v1/namespaces/x/pods/y",
        "pods/x/y",
        200,
    );
    let closed = d.feed_line(&later.to_string());
    assert_eq!(ids(&closed), ["DET011"], "{closed:?}");
    let s = &closed[0];
    let g = s.group.as_ref().expect("a summary");
    assert_eq!((g.total, g.reported, s.count), (22, 1, Some(21)));
    assert_eq!(
        (g.first_time.as_str(), g.last_time.as_str()),
        (ts(0).as_str(), ts(42_000).as_str())
    );
    assert_eq!(s.time, g.last_time);
    assert_eq!(g.first_audit_id, "mallory-0-0");
    assert_eq!(s.audit_id, "mallory-0-21");
    assert_eq!(g.window, "60s");
    assert_eq!(g.distinct_objects, 22);
    let sample: Vec<String> = g.sample_objects.iter().map(|o| o.display()).collect();
    assert_eq!(
        sample,
        [
            "secrets/ns0",
            "secrets/ns1",
            "secrets/ns2",
            "secrets/ns3",
            "secrets/ns4"
        ]
    );
    assert!(
        s.message
            .starts_with("22 secrets-read alerts for mallory within 60s")
            && s.message.contains("and 17 more")
            && s.message.ends_with("last: mallory list secrets/ns21"),
        "{}",
        s.message
    );
    // The JSON line keeps every field it had and adds the group.
    let v: Value = serde_json::from_str(&s.to_json_line().unwrap()).unwrap();
    for key in [
        "time",
        "ruleId",
        "ruleName",
        "severity",
        "message",
        "user",
        "groups",
        "sourceIPs",
        "verb",
        "object",
        "code",
        "mitre",
        "auditID",
        "count",
    ] {
        assert!(v.get(key).is_some(), "{key} missing: {v}");
    }
    assert_eq!(v["group"]["total"], 22);
    assert_eq!(v["group"]["sampleObjects"][0]["namespace"], "ns0");
    assert!(
        serde_json::from_str::<Value>(&first[0].to_json_line().unwrap())
            .unwrap()
            .get("group")
            .is_none()
    );
    // eve's group had one alert, already reported: nothing more to say.
    assert!(d.flush().is_empty());
    let st = d.stats();
    assert_eq!((st.grouped, st.alerts), (21, 4));
    // Summed counts never count an alert twice: 22 + 1 DET011 alerts were raised.
    let all: Vec<&Alert> = first
        .iter()
        .chain(&rest)
        .chain(&other)
        .chain(&closed)
        .collect();
    let represented: u32 = all
        .iter()
        .filter(|a| a.rule_id == "DET011")
        .map(|a| a.count.unwrap_or(1))
        .sum();
    assert_eq!(represented, 23);
}

#[test]
fn grouping_window_mode_and_rule_settings() {
    let burst = secret_lists("mallory", 22, 0, 2000);
    // Holding the first alert too (reading a finished log): one alert for the group.
    let hold = DetectorOptions {
        grouping: GroupOptions {
            report_first: false,
            ..GroupOptions::default()
        },
        ..DetectorOptions::default()
    };
    let mut d = Detector::with_options(RuleSet::builtin(), hold.clone());
    let during = feed(&mut d, &burst);
    assert_eq!(ids(&during), ["DET012"]);
    let end = d.flush();
    assert_eq!(ids(&end), ["DET011"]);
    let g = end[0].group.as_ref().unwrap();
    assert_eq!((g.total, g.reported, end[0].count), (22, 0, Some(22)));
    // A group of one held alert is reported as it was.
    let mut d = Detector::with_options(RuleSet::builtin(), hold);
    feed(&mut d, &secret_lists("eve", 1, 0, 1));
    let one = d.flush();
    assert_eq!(ids(&one), ["DET011"]);
    assert!(one[0].group.is_none() && one[0].count.is_none());

    // A shorter window: the same burst makes a group per 10 s.
    let short = DetectorOptions {
        grouping: GroupOptions {
            window_micros: 10_000_000,
            ..GroupOptions::default()
        },
        ..DetectorOptions::default()
    };
    let mut d = Detector::with_options(RuleSet::builtin(), short);
    let mut a = feed(&mut d, &burst);
    a.extend(d.flush());
    let det011 = of(&a, "DET011");
    let firsts = det011.iter().filter(|a| a.group.is_none()).count();
    assert_eq!(firsts, 4, "groups open at 0, 12, 24, 36 s");
    let total: u32 = det011.iter().map(|a| a.count.unwrap_or(1)).sum();
    assert_eq!(total, 22);

    // Per rule: off, its own window, and by namespace as well.
    let rules = r#"
overrides:
  - id: DET011
    group: { enabled: false }
"#;
    let mut rs = RuleSet::builtin();
    rs.add_yaml("g.yaml", rules).unwrap();
    let mut d = Detector::new(rs);
    let mut a = feed(&mut d, &burst);
    a.extend(d.flush());
    assert_eq!(of(&a, "DET011").len(), 22);
    let by_ns = r#"
rules:
  - id: DET970
    name: configmap-read
    severity: low
    mitre: [T1613]
    condition: objectRef.resource == "configmaps"
    output: "{user} read {object}"
    group: { window: 5m, by: [user, namespace] }
"#;
    let mut d = Detector::new(RuleSet::from_yaml("n.yaml", by_ns).unwrap());
    let reads: Vec<Value> = (0..6u64)
        .map(|i| {
            let ns = if i % 2 == 0 { "a" } else { "b" };
            req(
                &format!("c{i}"),
                i * 50_000,
                "bob",
                "get",
                &format!("/api/v1/namespaces/{ns}/configmaps/x"),
                &format!("configmaps/{ns}/x"),
                200,
            )
        })
        .collect();
    let mut a = feed(&mut d, &reads);
    assert_eq!(a.len(), 2, "one first alert per namespace: {a:?}");
    a.extend(d.flush());
    let summaries: Vec<&Alert> = a.iter().filter(|x| x.group.is_some()).collect();
    assert_eq!(summaries.len(), 2);
    assert!(summaries
        .iter()
        .all(|s| s.group.as_ref().unwrap().window == "300s"));
    for (bad, why) in [
        ("group: { by: [namespace] }", "must include user"),
        ("group: { window: soon }", "duration"),
        ("group: { by: [verb] }", "verb"),
    ] {
        let text = by_ns.replace("group: { window: 5m, by: [user, namespace] }", bad);
        let e = RuleSet::from_yaml("n.yaml", &text).unwrap_err();
        assert!(e.message.contains(why), "{bad}: {e}");
    }
}

#[test]
fn tick_reports_due_summaries_without_new_events() {
    let mut d = Detector::new(RuleSet::builtin());
    let base = 1_767_225_600_000_000i64; // 2026-01-01T00:00:00Z in microseconds
    let a = feed(&mut d, &secret_lists("mallory", 3, 0, 1000));
    assert_eq!(ids(&a), ["DET011"]);
    // Not due yet (the window runs to 60 s after the first alert): nothing, nothing lost.
    assert!(d.tick(base + 30_000_000).is_empty());
    assert!(d.tick(base + 60_000_000).is_empty());
    let due = d.tick(base + 60_000_001);
    assert_eq!(ids(&due), ["DET011"]);
    assert_eq!(due[0].group.as_ref().unwrap().total, 3);
    assert!(d.flush().is_empty());
}

/// kubectl's WebSocket attempt (GET) and SPDY retry (POST) of one exec command.
fn exec_pair(
    user: &str,
    command: &str,
    attempt_code: i64,
    retry_code: i64,
    gap_ms: u64,
) -> Vec<Value> {
    let uri = format!("/api/v1/namespaces/dev/pods/web/exec?command={command}&container=app&stderr=true&stdout=true");
    let mut out = Vec::new();
    for (id, verb, code, ms) in [
        ("ws", "get", attempt_code, 0),
        ("spdy", "create", retry_code, gap_ms),
    ] {
        for stage in ["ResponseStarted", "ResponseComplete"] {
            let mut e = req(
                &format!("{id}-{user}-{command}"),
                ms,
                user,
                verb,
                &uri,
                "pods/dev/web/exec",
                code,
            );
            e["stage"] = json!(stage);
            e["level"] = json!("RequestResponse");
            if code >= 400 {
                e["responseStatus"]["message"] = json!("pod web does not have a host assigned");
                e["responseStatus"]["reason"] = json!("BadRequest");
            }
            out.push(e);
        }
    }
    out
}

#[test]
fn kubectl_exec_fallback_is_reported_once() {
    // Both fail (the pod has no node): one attempt alert, from the retry.
    let mut d = Detector::new(RuleSet::builtin());
    let mut a = feed(&mut d, &exec_pair("alice", "env", 400, 400, 7));
    a.extend(d.flush());
    assert_eq!(ids(&a), ["DET001"], "{a:?}");
    assert_eq!(a[0].audit_id, "spdy-alice-env");
    assert_eq!(a[0].related_audit_ids, ["ws-alice-env"]);
    assert_eq!(a[0].severity, Severity::Medium);
    assert!(
        a[0].message.contains("tried to exec")
            && a[0]
                .message
                .contains("WebSocket attempt failed with code 400"),
        "{}",
        a[0].message
    );
    assert_eq!(d.stats().retries_merged, 1);

    // A server without WebSocket support: the attempt fails, the retry runs the command.
    let mut d = Detector::new(RuleSet::builtin());
    let a = feed(&mut d, &exec_pair("bob", "id", 400, 101, 20));
    assert_eq!(ids(&a), ["DET001"]);
    assert!(
        a[0].message.starts_with("bob ran exec") && a[0].severity == Severity::High,
        "{}",
        a[0].message
    );
    assert!(d.flush().is_empty());

    // A WebSocket session that was upgraded (101) is reported at once: no retry follows.
    let mut d = Detector::new(RuleSet::builtin());
    let pair = exec_pair("carol", "ls", 101, 101, 7);
    let first = d.feed_line(&pair[0].to_string());
    assert_eq!(ids(&first), ["DET001"]);
    assert_eq!(first[0].audit_id, "ws-carol-ls");

    // Not the same command, not the same user, or too late: both are reported.
    for (events, what) in [
        (
            [
                exec_pair("dave", "env", 400, 400, 7)[..2].to_vec(),
                exec_pair("dave", "id", 400, 400, 7)[2..].to_vec(),
            ]
            .concat(),
            "command",
        ),
        (
            [
                exec_pair("erin", "env", 400, 400, 7)[..2].to_vec(),
                exec_pair("frank", "env", 400, 400, 7)[2..].to_vec(),
            ]
            .concat(),
            "user",
        ),
        (exec_pair("gina", "env", 400, 400, 6_000), "time"),
    ] {
        let mut d = Detector::new(RuleSet::builtin());
        let mut a = feed(&mut d, &events);
        a.extend(d.flush());
        assert_eq!(of(&a, "DET001").len(), 2, "{what}: {a:?}");
        assert!(a.iter().all(|x| x.related_audit_ids.is_empty()), "{what}");
    }

    // An attempt whose retry never comes is reported once its window has passed...
    let mut d = Detector::new(RuleSet::builtin());
    let attempt = &exec_pair("hal", "env", 400, 400, 7)[..2];
    assert!(feed(&mut d, attempt).is_empty());
    let later = req(
        "later",
        5_100,
        "x",
        "get",
        "/api/v1/namespaces/x/pods/y",
        "pods/x/y",
        200,
    );
    let released = d.feed_line(&later.to_string());
    assert_eq!(ids(&released), ["DET001"]);
    assert!(released[0].message.contains("tried to exec"));
    // ...or at flush, and with de-duplication turned off, at once.
    let mut d = Detector::new(RuleSet::builtin());
    feed(&mut d, attempt);
    assert_eq!(ids(&d.flush()), ["DET001"]);
    let mut d = Detector::with_options(
        RuleSet::builtin(),
        DetectorOptions {
            retry_window_micros: 0,
            ..DetectorOptions::default()
        },
    );
    assert_eq!(ids(&feed(&mut d, attempt)), ["DET001"]);

    // Refused twice by RBAC: one DET030.
    let mut d = Detector::new(RuleSet::builtin());
    let mut a = feed(&mut d, &exec_pair("ivy", "sh", 403, 403, 5));
    a.extend(d.flush());
    assert_eq!(ids(&a), ["DET030"], "{a:?}");
}

#[test]
fn recorded_exec_fallbacks_are_reported_once() {
    // A45 and A51: kubectl exec into a pod without a node. The WebSocket GET and the SPDY
    // POST both fail with 400.
    for (attempt, retry, user) in [
        (
            "0aaecaa1-2493-4fb0-9758-72c4a0894d88",
            "d5755bd8-37d7-41d3-a2db-696d5e028eee",
            "ci-deployer",
        ),
        (
            "ae58089a-e769-48a8-b60c-8d8af103a876",
            "e108e0c3-fcae-4c91-90f6-5afc3cfbe8ce",
            "alice",
        ),
    ] {
        let Some(events) = recorded(&[attempt, retry]) else {
            return;
        };
        assert_eq!(events.len(), 4);
        let mut d = Detector::new(RuleSet::builtin());
        let mut a = feed(&mut d, &events);
        a.extend(d.flush());
        assert_eq!(ids(&a), ["DET001"], "{a:?}");
        let x = &a[0];
        assert_eq!((x.user.as_str(), x.audit_id.as_str()), (user, retry));
        assert_eq!(x.related_audit_ids, [attempt]);
        assert_eq!(x.severity, Severity::Medium);
        assert!(
            x.message
                .starts_with(&format!("{user} tried to exec on pod "))
                && x.message.contains("which failed (code 400: pod ")
                && x.message.contains("does not have a host assigned)"),
            "{}",
            x.message
        );
    }
}

fn event_delete(id: &str, ms: u64, user: &str, verb: &str, name: &str, group: &str) -> Value {
    let path = if group.is_empty() {
        "/api/v1"
    } else {
        "/apis/events.k8s.io/v1"
    };
    let uri = if verb == "deletecollection" {
        format!("{path}/namespaces/prod/events")
    } else {
        format!("{path}/namespaces/prod/events/{name}")
    };
    let mut e = req(
        id,
        ms,
        user,
        verb,
        &uri,
        &format!("events/prod/{name}"),
        200,
    );
    if !group.is_empty() {
        e["objectRef"]["apiGroup"] = json!(group);
    }
    e
}

#[test]
fn deleted_events_are_reported_as_indicator_removal() {
    let rule = RuleSet::builtin();
    let r = rule.get("DET031").expect("DET031");
    assert_eq!(
        (r.name.as_str(), r.mitre.as_slice()),
        ("events-deleted", ["T1070".to_string()].as_slice())
    );
    assert!(r.description.contains("Indicator Removal"));
    assert!(r.enabled);

    // kubectl delete events --all: one delete per event.
    let mut d = Detector::new(RuleSet::builtin());
    let deletes: Vec<Value> = (0..30)
        .map(|i| {
            event_delete(
                &format!("e{i}"),
                i * 20,
                "mallory",
                "delete",
                &format!("web.{i:x}"),
                "",
            )
        })
        .collect();
    let a = feed(&mut d, &deletes);
    assert_eq!(ids(&a), ["DET031"]);
    assert_eq!(a[0].message, "mallory deleted event prod/web.0");
    assert_eq!(
        (a[0].severity, a[0].mitre.as_slice()),
        (Severity::Medium, ["T1070".to_string()].as_slice())
    );
    let s = d.flush();
    assert_eq!(ids(&s), ["DET031"]);
    assert_eq!(s[0].group.as_ref().unwrap().total, 30);

    // One request deleting them all, in either API group.
    for group in ["", "events.k8s.io"] {
        let mut d = Detector::new(RuleSet::builtin());
        let a = feed(
            &mut d,
            &[event_delete(
                "dc",
                0,
                "mallory",
                "deletecollection",
                "",
                group,
            )],
        );
        assert_eq!(ids(&a), ["DET031"], "{group}");
        assert_eq!(a[0].severity, Severity::High);
        assert!(
            a[0].message
                .starts_with("mallory deleted the events of namespace prod in one request"),
            "{}",
            a[0].message
        );
    }
    // Not reported: the namespace controller, a refused request, a dry run in the body.
    let mut quiet = vec![
        event_delete(
            "nc1",
            0,
            "system:kube-controller-manager",
            "deletecollection",
            "",
            "",
        ),
        event_delete(
            "nc2",
            0,
            "system:serviceaccount:kube-system:namespace-controller",
            "deletecollection",
            "",
            "",
        ),
    ];
    let mut refused = event_delete("f", 0, "mallory", "delete", "x", "");
    refused["responseStatus"]["code"] = json!(403);
    quiet.push(refused);
    let mut dry = event_delete("dry", 0, "mallory", "delete", "x", "");
    dry["level"] = json!("Request");
    dry["requestObject"] =
        json!({"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", "dryRun": ["All"]});
    quiet.push(dry);
    let mut d = ungrouped();
    let a = feed(&mut d, &quiet);
    assert!(of(&a, "DET031").is_empty(), "{a:?}");
}

#[test]
fn recorded_events_deletion_by_a_person_is_reported() {
    // The recording has the namespace controller emptying admission-lab and sandbox
    // (deletecollection on events in both API groups): not reported. The same requests by
    // a person are.
    let Some(dir) = common::corpus_dir("apiserver-recordings/audit") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    let collections: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["objectRef"]["resource"] == "events" && e["verb"] == "deletecollection")
        .collect();
    assert_eq!(collections.len(), 4);
    assert!(feed(&mut ungrouped(), &collections).is_empty());
    let by_mallory: Vec<Value> = collections
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e["user"] =
                json!({"username": "mallory", "groups": ["contractors", "system:authenticated"]});
            e
        })
        .collect();
    let a = feed(&mut ungrouped(), &by_mallory);
    assert_eq!(ids(&a), ["DET031"; 4]);
    assert!(a.iter().all(|x| x.severity == Severity::High));
}

#[test]
fn failed_exec_is_reported_as_an_attempt_without_credentials() {
    let exec = |id: &str, code: i64, message: &str| {
        let mut e = req(id, 0, "alice", "create",
            "/api/v1/namespaces/db/pods/pg-0/exec?command=psql&command=--password%3DHunter9x&container=pg",
            "pods/db/pg-0/exec", code);
        e["responseStatus"]["message"] = json!(message);
        e
    };
    let mut d = ungrouped();
    let ok = feed(&mut d, &[exec("ok", 101, "")]);
    assert_eq!(ok[0].severity, Severity::High);
    assert!(
        ok[0]
            .message
            .starts_with("alice ran exec on pod db/pg-0 (code 101)"),
        "{}",
        ok[0].message
    );
    // The kubelet unreachable: the status message quotes the kubelet URL with the command.
    let failed = feed(&mut d, &[exec("ko", 500,
        "error sending request: Post \"https://10.0.3.7:10250/exec/db/pg-0/pg?command=psql&command=--password%3DHunter9x&error=1&output=1\": dial tcp 10.0.3.7:10250: connect: connection refused")]);
    assert_eq!(ids(&failed), ["DET001"]);
    let f = &failed[0];
    assert_eq!(f.severity, Severity::Medium);
    assert!(f.message.starts_with("alice tried to exec on pod db/pg-0, which failed (code 500: error sending request: Post"), "{}", f.message);
    assert!(f.message.contains("connection refused"), "{}", f.message);
    let line = f.to_json_line().unwrap();
    assert!(!line.contains("Hunter9x"), "{line}");
    assert!(
        line.contains("--password%3D***") || line.contains("--password=***"),
        "{line}"
    );
    let nohost = feed(
        &mut d,
        &[exec("nh", 400, "pod pg-0 does not have a host assigned")],
    );
    assert!(nohost[0]
        .message
        .contains("which failed (code 400: pod pg-0 does not have a host assigned)"));

    // Variants are checked when rules load.
    let base = r#"
rules:
  - id: DET980
    name: v
    severity: high
    mitre: [T1609]
    condition: verb == "get"
    output: "{user}"
    variants:
      - VARIANT
"#;
    for (variant, why) in [
        ("when: \"!success\"", "needs a severity or an output"),
        (
            "{ when: \"verbz == 1\", severity: low }",
            "unknown field 'verbz'",
        ),
        ("{ when: success, output: \"{nope.x}\" }", "nope.x"),
        ("{ when: success, severity: extreme }", "extreme"),
    ] {
        let e = RuleSet::from_yaml("v.yaml", &base.replace("VARIANT", variant)).unwrap_err();
        assert!(e.message.contains(why), "{variant}: {e}");
    }
}

#[test]
fn odd_times_never_panic_nor_lose_alerts() {
    let mut d = Detector::new(RuleSet::builtin());
    // An exec attempt without any timestamp, then its retry with one.
    let mut pair = exec_pair("zed", "sh", 400, 400, 7);
    for e in &mut pair[..2] {
        let o = e.as_object_mut().unwrap();
        o.remove("stageTimestamp");
        o.remove("requestReceivedTimestamp");
    }
    let mut a = feed(&mut d, &pair);
    // Grouped alerts at the end of time, at year 0 and without a usable time.
    let mut lists = secret_lists("zed", 3, 0, 1);
    lists[0]["stageTimestamp"] = json!("9999-12-31T23:59:59.999999Z");
    lists[1]["stageTimestamp"] = json!("0000-01-01T00:00:00Z");
    lists[2]["stageTimestamp"] = json!("not a time");
    lists[2]["requestReceivedTimestamp"] = json!(null);
    a.extend(feed(&mut d, &lists));
    a.extend(d.tick(i64::MIN));
    a.extend(d.tick(i64::MAX));
    a.extend(d.flush());
    let det011: u32 = of(&a, "DET011")
        .iter()
        .map(|x| {
            if x.group.is_some() {
                x.count.unwrap_or(1)
            } else {
                1
            }
        })
        .sum();
    assert_eq!(det011, 3, "{a:?}");
    assert!(!of(&a, "DET001").is_empty());
    assert!(d.flush().is_empty());
}
