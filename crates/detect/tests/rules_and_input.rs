//! Rule-file errors, user rule files, bad input lines, stage de-duplication,
//! thresholds and source ranges; input limits and bad `EventList` items; what
//! alerts never repeat (credentials in commands, Secret values).

use palisade_detect::{
    Alert, Detector, DetectorOptions, Event, GroupOptions, InputErrorKind, RuleSet, MAX_FIELD_BYTES,
};

/// A detector that reports every alert on its own: the tests using it are about what
/// each alert says, not about grouping repeated alerts (see `tests/detections.rs`).
fn ungrouped(rules: RuleSet) -> Detector {
    Detector::with_options(
        rules,
        DetectorOptions {
            grouping: GroupOptions::off(),
            ..DetectorOptions::default()
        },
    )
}

const RULE: &str = r#"
rules:
  - id: DET900
    name: test-rule
    severity: low
    mitre: [T1609]
    description: test
    condition: verb == "delete"
    output: "{user} deleted {object}"
"#;

fn ev(id: &str, stage: &str, verb: &str, code: Option<i64>, user: &str, t: &str) -> String {
    let status = code
        .map(|c| format!(r#","responseStatus":{{"code":{c}}}"#))
        .unwrap_or_default();
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"{id}","stage":"{stage}","verb":"{verb}","requestURI":"/api/v1/namespaces/x/configmaps/y","user":{{"username":"{user}","groups":["g"]}},"sourceIPs":["10.1.2.3"],"objectRef":{{"resource":"configmaps","namespace":"x","name":"y"}}{status},"stageTimestamp":"{t}"}}"#
    )
}

#[test]
fn rule_file_errors_name_file_line_and_reason() {
    let bad_condition = RULE.replace(r#"verb == "delete""#, r#"verb == "delete" &&"#);
    let e = RuleSet::from_yaml("mine.yaml", &bad_condition).unwrap_err();
    assert_eq!(e.file, "mine.yaml");
    assert_eq!(e.line, 8);
    assert!(
        e.message.contains("DET900") && e.message.contains("condition"),
        "{e}"
    );
    assert!(e.to_string().starts_with("mine.yaml:8: "), "{e}");

    let bad_field = RULE.replace("verb ==", "verbb ==");
    let e = RuleSet::from_yaml("f.yaml", &bad_field).unwrap_err();
    assert!(e.message.contains("unknown field 'verbb'"), "{e}");

    let bad_id = RULE.replace("DET900", "DET9");
    let e = RuleSet::from_yaml("f.yaml", &bad_id).unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.message.contains("invalid rule id"), "{e}");

    let bad_sev = RULE.replace("severity: low", "severity: extreme");
    let e = RuleSet::from_yaml("f.yaml", &bad_sev).unwrap_err();
    assert_eq!(e.line, 5, "{e}");
    assert!(e.message.contains("extreme"), "{e}");

    let bad_name = RULE.replace("test-rule", "Test_Rule");
    let e = RuleSet::from_yaml("f.yaml", &bad_name).unwrap_err();
    assert_eq!(e.line, 4);
    assert!(e.message.contains("kebab-case"), "{e}");

    let bad_mitre = RULE.replace("T1609", "X1");
    assert!(RuleSet::from_yaml("f.yaml", &bad_mitre)
        .unwrap_err()
        .message
        .contains("MITRE"));

    let bad_output = RULE.replace("{object}", "{nope.field}");
    assert!(RuleSet::from_yaml("f.yaml", &bad_output)
        .unwrap_err()
        .message
        .contains("nope.field"));

    let unknown_key = RULE.replace("description: test", "descripton: test");
    let e = RuleSet::from_yaml("f.yaml", &unknown_key).unwrap_err();
    assert!(e.message.contains("descripton"), "{e}");
    assert_eq!(e.line, 7);

    let bad_window = format!("{RULE}    threshold: {{ count: 3, window: soon }}\n");
    assert!(RuleSet::from_yaml("f.yaml", &bad_window)
        .unwrap_err()
        .message
        .contains("duration"));

    let mut rs = RuleSet::builtin();
    let dup = RULE.replace("DET900", "DET001");
    assert!(rs
        .add_yaml("d.yaml", &dup)
        .unwrap_err()
        .message
        .contains("duplicate"));
    assert!(rs.add_yaml("d.yaml", "disable: [DET999]\n").is_err());
    let e = RuleSet::empty()
        .load_file(std::path::Path::new("/nonexistent/rules.yaml"))
        .unwrap_err();
    assert!(e.message.contains("cannot read"));
}

#[test]
fn user_rules_append_disable_and_override() {
    let mut rs = RuleSet::builtin();
    let n = rs.rules().len();
    rs.add_yaml(
        "user.yaml",
        &format!("{RULE}disable: [DET011]\noverrides:\n  - id: DET001\n    except:\n      users: [\"ops-*\"]\n"),
    )
    .unwrap();
    assert_eq!(rs.rules().len(), n + 1);
    assert!(!rs.get("DET011").unwrap().enabled);
    assert!(rs
        .get("DET001")
        .unwrap()
        .except
        .users
        .iter()
        .any(|u| u == "ops-*"));
    let mut d = Detector::new(rs);
    assert!(d.rules().iter().all(|r| r.id != "DET011"));
    let a = d.feed_line(&ev(
        "a1",
        "ResponseComplete",
        "delete",
        Some(200),
        "bob",
        "2026-01-01T00:00:00Z",
    ));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].rule_id, "DET900");
    assert_eq!(a[0].message, "bob deleted configmaps/x/y");
    let json = a[0].to_json_line().unwrap();
    assert!(
        json.contains(r#""ruleId":"DET900""#)
            && json.contains(r#""auditID":"a1""#)
            && !json.contains('\n')
    );
}

#[test]
fn bad_lines_are_counted_not_fatal() {
    let mut d = ungrouped(RuleSet::from_yaml("r.yaml", RULE).unwrap());
    assert!(d.feed_line("not json at all").is_empty());
    assert!(d.feed_line("{\"kind\":0}").is_empty());
    assert!(d.feed_line("[1,2,3]").is_empty());
    assert!(d
        .feed_line("{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}")
        .is_empty());
    assert!(d.feed_line("{\"truncated\": ").is_empty());
    assert!(d.feed_line("   ").is_empty());
    let a = d.feed_line(&ev(
        "ok",
        "ResponseComplete",
        "delete",
        Some(200),
        "bob",
        "2026-01-01T00:00:00Z",
    ));
    assert_eq!(a.len(), 1);
    let s = d.stats();
    assert_eq!(
        (s.events, s.alerts, s.bad_lines, s.non_events),
        (1, 1, 2, 3)
    );
    // A document mixing good events and garbage.
    let doc = format!(
        "{}\nnot json\n{}\n",
        ev(
            "d1",
            "ResponseComplete",
            "delete",
            Some(200),
            "a",
            "2026-01-01T00:00:01Z"
        ),
        ev(
            "d2",
            "ResponseComplete",
            "delete",
            Some(200),
            "a",
            "2026-01-01T00:00:02Z"
        )
    );
    assert_eq!(d.feed_document(doc.as_bytes()).len(), 2);
    assert_eq!(d.stats().bad_lines, 3);
}

#[test]
fn event_lists_and_v1beta1() {
    let mut d = ungrouped(RuleSet::from_yaml("r.yaml", RULE).unwrap());
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{},{}]}}"#,
        ev(
            "l1",
            "ResponseComplete",
            "delete",
            Some(200),
            "a",
            "2026-01-01T00:00:01Z"
        ),
        ev(
            "l2",
            "ResponseComplete",
            "get",
            Some(200),
            "a",
            "2026-01-01T00:00:02Z"
        )
    );
    assert_eq!(d.feed_document(list.as_bytes()).len(), 1);
    let beta = ev(
        "b1",
        "ResponseComplete",
        "delete",
        Some(200),
        "a",
        "2026-01-01T00:00:03Z",
    )
    .replace("audit.k8s.io/v1", "audit.k8s.io/v1beta1");
    assert_eq!(d.feed_line(&beta).len(), 1);
    let no_version = ev(
        "b2",
        "ResponseComplete",
        "delete",
        Some(200),
        "a",
        "2026-01-01T00:00:04Z",
    )
    .replace(r#""kind":"Event","apiVersion":"audit.k8s.io/v1","#, "");
    assert_eq!(d.feed_line(&no_version).len(), 1);
    assert_eq!(d.stats().events, 4);
}

#[test]
fn stages_are_deduplicated() {
    let mut d = ungrouped(RuleSet::from_yaml("r.yaml", RULE).unwrap());
    // RequestReceived is held; the ResponseComplete of the same request wins.
    assert!(d
        .feed_line(&ev(
            "s1",
            "RequestReceived",
            "delete",
            None,
            "a",
            "2026-01-01T00:00:00Z"
        ))
        .is_empty());
    assert_eq!(
        d.feed_line(&ev(
            "s1",
            "ResponseComplete",
            "delete",
            Some(200),
            "a",
            "2026-01-01T00:00:00.1Z"
        ))
        .len(),
        1
    );
    // ResponseStarted alerts at once; the matching ResponseComplete does not.
    assert_eq!(
        d.feed_line(&ev(
            "s2",
            "ResponseStarted",
            "delete",
            Some(101),
            "a",
            "2026-01-01T00:00:01Z"
        ))
        .len(),
        1
    );
    assert!(d
        .feed_line(&ev(
            "s2",
            "ResponseComplete",
            "delete",
            Some(101),
            "a",
            "2026-01-01T00:00:02Z"
        ))
        .is_empty());
    // A RequestReceived alone is evaluated once the grace period has passed...
    assert!(d
        .feed_line(&ev(
            "s3",
            "RequestReceived",
            "delete",
            None,
            "a",
            "2026-01-01T00:00:03Z"
        ))
        .is_empty());
    let later = d.feed_line(&ev(
        "s4",
        "ResponseComplete",
        "get",
        Some(200),
        "a",
        "2026-01-01T00:00:30Z",
    ));
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].audit_id, "s3");
    // ...or at flush.
    assert!(d
        .feed_line(&ev(
            "s5",
            "RequestReceived",
            "delete",
            None,
            "a",
            "2026-01-01T00:00:31Z"
        ))
        .is_empty());
    assert_eq!(d.flush().len(), 1);
}

#[test]
fn thresholds_fire_once_per_window() {
    let rules = RULE.replace(
        "output:",
        "threshold: { count: 3, window: 10s, by: user }\n    output:",
    );
    let mut d = Detector::new(RuleSet::from_yaml("r.yaml", &rules).unwrap());
    let mut fired = Vec::new();
    for i in 0..8 {
        let t = format!("2026-01-01T00:00:{:02}Z", i);
        fired.extend(d.feed_line(&ev(
            &format!("t{i}"),
            "ResponseComplete",
            "delete",
            Some(200),
            "a",
            &t,
        )));
    }
    // Other users are counted separately.
    fired.extend(d.feed_line(&ev(
        "o1",
        "ResponseComplete",
        "delete",
        Some(200),
        "b",
        "2026-01-01T00:00:08Z",
    )));
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].count, Some(3));
    // After the quiet window, counting starts again.
    for i in 0..3 {
        let t = format!("2026-01-01T00:01:{:02}Z", i);
        fired.extend(d.feed_line(&ev(
            &format!("u{i}"),
            "ResponseComplete",
            "delete",
            Some(200),
            "a",
            &t,
        )));
    }
    assert_eq!(fired.len(), 2);
}

#[test]
fn source_ranges_rule_is_inactive_without_ranges() {
    let line = ev(
        "ip",
        "ResponseComplete",
        "get",
        Some(200),
        "a",
        "2026-01-01T00:00:00Z",
    );
    let mut d = Detector::new(RuleSet::builtin());
    assert!(d.rules().iter().all(|r| r.id != "DET024"));
    assert!(d.feed_line(&line).is_empty());
    let opts = DetectorOptions {
        allowed_source_ranges: vec!["192.168.0.0/16".parse().unwrap()],
        ..DetectorOptions::default()
    };
    let mut d = Detector::with_options(RuleSet::builtin(), opts.clone());
    let a = d.feed_line(&line);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].rule_id, "DET024");
    let opts2 = DetectorOptions {
        allowed_source_ranges: vec!["10.0.0.0/8".parse().unwrap()],
        ..opts
    };
    assert!(Detector::with_options(RuleSet::builtin(), opts2)
        .feed_line(&line)
        .is_empty());
}

#[test]
fn dry_run_and_failed_requests_do_not_count_as_changes() {
    let mut d = Detector::new(RuleSet::builtin());
    let base = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"ID","stage":"ResponseComplete","verb":"delete","requestURI":"/api/v1/namespaces/prodQ","user":{"username":"bob"},"objectRef":{"resource":"namespaces","name":"prod"},"responseStatus":{"code":CODE},"stageTimestamp":"2026-01-01T00:00:00Z"}"#;
    let mk = |id: &str, q: &str, code: &str| {
        base.replace("ID", id).replace("Q", q).replace("CODE", code)
    };
    // At Request level no body was recorded, so none was sent: the query decided.
    assert!(d.feed_line(&mk("n1", "?dryRun=All", "200")).is_empty());
    assert!(d.feed_line(&mk("n2", "", "403")).is_empty());
    let a = d.feed_line(&mk("n3", "", "200"));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].rule_name, "namespace-deleted");
    // At Metadata level a body (which overrides the query) may have been sent unseen:
    // the deletion is reported. (More cases in tests/detections.rs.)
    let metadata = mk("n4", "?dryRun=All", "200").replace("\"Request\"", "\"Metadata\"");
    let a = ungrouped(RuleSet::builtin()).feed_line(&metadata);
    assert_eq!(a.len(), 1, "{a:?}");
}

#[test]
fn state_is_bounded_and_pruned() {
    let rules = RULE.replace(
        "output:",
        "threshold: { count: 1000, window: 10s, by: user }\n    output:",
    );
    let opts = DetectorOptions {
        max_state_entries: 50,
        ..DetectorOptions::default()
    };
    let mut d = Detector::with_options(RuleSet::from_yaml("r.yaml", &rules).unwrap(), opts);
    // Many users within one window: buckets are capped.
    for i in 0..500 {
        d.feed_line(&ev(
            &format!("b{i}"),
            "ResponseComplete",
            "delete",
            Some(200),
            &format!("u{i}"),
            "2026-01-01T00:00:00Z",
        ));
    }
    assert!(d.state_entries() <= 50, "{}", d.state_entries());
    // Held RequestReceived events are capped too.
    for i in 0..500 {
        d.feed_line(&ev(
            &format!("r{i}"),
            "RequestReceived",
            "get",
            None,
            "x",
            "2026-01-01T00:00:01Z",
        ));
    }
    assert!(d.state_entries() <= 100, "{}", d.state_entries());
    // Time moving on prunes everything (GC runs every 1024 events).
    for i in 0..2100 {
        d.feed_line(&ev(
            &format!("l{i}"),
            "ResponseComplete",
            "get",
            Some(200),
            "x",
            "2026-01-01T01:00:00Z",
        ));
    }
    assert_eq!(d.state_entries(), 0);
}

/// `application/x-www-form-urlencoded`, as kubectl writes exec commands.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn exec_event(id: &str, command: &[&str]) -> String {
    let query: Vec<String> = command
        .iter()
        .map(|c| format!("command={}", form_encode(c)))
        .chain(["container=db".to_string(), "stdin=true".to_string()])
        .collect();
    serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": id, "stage": "ResponseComplete", "verb": "create",
        "requestURI": format!("/api/v1/namespaces/dev/pods/db-0/exec?{}", query.join("&")),
        "user": {"username": "alice", "groups": ["dev"]}, "sourceIPs": ["10.0.0.5"],
        "objectRef": {"resource": "pods", "namespace": "dev", "name": "db-0", "subresource": "exec"},
        "responseStatus": {"code": 101},
        "stageTimestamp": "2026-01-01T00:00:00Z"
    })
    .to_string()
}

/// Every text an alert can end up in: its JSON line and its debug form (the table and
/// SARIF outputs render the same fields).
fn alert_text(alerts: &[Alert]) -> String {
    alerts
        .iter()
        .map(|a| format!("{}\n{a:?}\n", a.to_json_line().unwrap()))
        .collect()
}

#[test]
fn exec_commands_keep_their_name_and_lose_their_credentials() {
    let user_rule = r#"
rules:
  - id: DET901
    name: exec-uri-field
    severity: low
    mitre: [T1609]
    condition: objectRef.subresource == "exec"
    output: "{requestURI}"
"#;
    let mut rules = RuleSet::builtin();
    rules.add_yaml("mine.yaml", user_rule).unwrap();
    let mut d = ungrouped(rules);
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["mysql", "-uroot", "-pHunter2a", "shop"],
            "Hunter2a",
            "command=mysql",
        ),
        (
            &["mysqladmin", "--password=Hunter2b", "status"],
            "Hunter2b",
            "command=mysqladmin",
        ),
        (
            &["kubectl", "--token", "Hunter2c", "get", "pods"],
            "Hunter2c",
            "command=kubectl",
        ),
        (&["env", "TOKEN=Hunter2d", "sh"], "Hunter2d", "command=env"),
        (
            &["sh", "-c", "TOKEN=Hunter2e env"],
            "Hunter2e",
            "command=sh",
        ),
        (
            &[
                "curl",
                "-H",
                "Authorization: Bearer Hunter2f",
                "https://api.internal",
            ],
            "Hunter2f",
            "command=curl",
        ),
        (
            &["psql", "postgresql://app:Hunter2g@db:5432/shop"],
            "Hunter2g",
            "command=psql",
        ),
        (
            &["sh", "-c", "mysql -uroot -pHunter2h -e 'select 1'"],
            "Hunter2h",
            "mysql+-uroot+-p***",
        ),
        (
            &["curl", "-u", "admin:Hunter2i", "http://x"],
            "Hunter2i",
            "admin%3A***",
        ),
    ];
    for (i, (command, secret, kept)) in cases.iter().enumerate() {
        let line = exec_event(&format!("x{i}"), command);
        assert!(line.contains(&form_encode(secret)));
        let alerts = d.feed_line(&line);
        let ids: Vec<&str> = alerts.iter().map(|a| a.rule_id.as_str()).collect();
        assert_eq!(ids, ["DET001", "DET901"], "{command:?}");
        let text = alert_text(&alerts);
        assert!(!text.contains(secret), "{secret} leaked: {text}");
        for a in &alerts {
            assert!(a.message.contains(kept), "{kept} missing: {}", a.message);
            assert!(a.message.contains("***"), "{}", a.message);
            assert!(a.message.contains("container=db"), "{}", a.message);
        }
    }
    // Commands without credentials are shown as they are.
    let plain = d.feed_line(&exec_event("p", &["ls", "-la", "/var/lib/mysql"]));
    assert!(
        plain[0].message.ends_with(
            "exec?command=ls&command=-la&command=%2Fvar%2Flib%2Fmysql&container=db&stdin=true"
        ),
        "{}",
        plain[0].message
    );
}

#[test]
fn body_fields_in_outputs_are_masked() {
    let user_rule = r#"
rules:
  - id: DET902
    name: pod-dump
    severity: low
    mitre: [T1610]
    condition: objectRef.resource == "pods" && verb == "create"
    output: "{containers.env} {containers.args} {requestObject.spec.containers.env.value}"
"#;
    let mut d = Detector::new(RuleSet::from_yaml("mine.yaml", user_rule).unwrap());
    let ev = serde_json::json!({
        "kind": "Event", "auditID": "p1", "stage": "ResponseComplete", "verb": "create",
        "level": "Request", "user": {"username": "bob"},
        "objectRef": {"resource": "pods", "namespace": "dev", "name": "web"},
        "responseStatus": {"code": 201},
        "requestObject": {"kind": "Pod", "spec": {"containers": [{
            "name": "app", "image": "app:1",
            "command": ["mysqld"], "args": ["--password=Hunter3a", "--port=3306"],
            "env": [{"name": "DB_PASSWORD", "value": "Hunter3b"}, {"name": "MODE", "value": "prod"}]
        }]}}
    })
    .to_string();
    let alerts = d.feed_line(&ev);
    assert_eq!(alerts.len(), 1);
    let text = alert_text(&alerts);
    assert!(!text.contains("Hunter3"), "{text}");
    for kept in [
        "DB_PASSWORD",
        "MODE",
        "prod",
        "--port=3306",
        "--password=***",
    ] {
        assert!(
            alerts[0].message.contains(kept),
            "{kept}: {}",
            alerts[0].message
        );
    }
}

fn secret_event(id: &str) -> String {
    let applied = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod"},
        "stringData": {"password": "CANARY-applied"}
    })
    .to_string();
    let secret = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "db", "namespace": "prod", "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": applied,
            "note": "{\"data\":{\"x\":\"CANARY-note\"}}"
        }},
        "data": {"password": "Q0FOQVJZLWRhdGE="},
        "stringData": {"token": "CANARY-string"},
        "type": "Opaque"
    });
    serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "RequestResponse",
        "auditID": id, "stage": "ResponseComplete", "verb": "create",
        "requestURI": "/api/v1/namespaces/prod/secrets?fieldManager=kubectl-client-side-apply",
        "user": {"username": "mallory", "groups": ["dev"]},
        "objectRef": {"resource": "secrets", "namespace": "prod", "name": "db", "apiVersion": "v1"},
        "responseStatus": {"code": 201},
        "requestObject": secret, "responseObject": secret,
        "stageTimestamp": "2026-01-01T00:00:00Z"
    })
    .to_string()
}

const CANARIES: &[&str] = &[
    "CANARY-applied",
    "Q0FOQVJZLWRhdGE",
    "CANARY-string",
    "CANARY-note",
    "CANARY-list",
    "CANARY-table",
    "CANARY-item",
];

fn assert_no_canary(what: &str, text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "{c} in {what}: {text}");
    }
}

#[test]
fn secret_values_are_dropped_when_events_are_read() {
    let dump = r#"
rules:
  - id: DET903
    name: dump-bodies
    severity: low
    mitre: [T1552.007]
    condition: objectRef.resource == "secrets"
    output: "{requestObject} | {responseObject} | {requestObject.data.password} | {responseObject.metadata.annotations}"
  - id: DET904
    name: secret-has-password-key
    severity: low
    mitre: [T1552.007]
    condition: exists(requestObject.data.password) && exists(requestObject.stringData.token)
    output: "{name} {requestObject.type}"
"#;
    let mut rules = RuleSet::builtin();
    rules.add_yaml("dump.yaml", dump).unwrap();
    let mut d = ungrouped(rules);

    // The parsed event holds no secret value, raw or parsed.
    let ev = Event::from_json(&secret_event("s0")).unwrap();
    let raw = format!(
        "{} {}",
        ev.request_object.as_ref().unwrap().get(),
        ev.response_object.as_ref().unwrap().get()
    );
    assert_no_canary("raw bodies", &raw);
    assert!(raw.contains("\"password\"") && raw.contains("Opaque"));
    assert_no_canary("parsed body", &ev.request_object().unwrap().to_string());

    // A single line, an EventList (one line and pretty-printed), and a read log.
    let line = secret_event("s1");
    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{},{}]}}"#,
        secret_event("s2"),
        r#"{"kind":"Event","auditID":"bad","user":"CANARY-item"}"#
    );
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&list.replace("\"s2\"", "\"s3\"")).unwrap(),
    )
    .unwrap();
    let list_response = serde_json::json!({
        "kind": "Event", "auditID": "s4", "stage": "ResponseComplete", "verb": "list",
        "level": "RequestResponse", "user": {"username": "mallory"},
        "objectRef": {"resource": "secrets", "namespace": "prod"},
        "responseStatus": {"code": 200},
        "responseObject": {"kind": "SecretList", "items": [{"metadata": {"name": "a"}, "data": {"k": "CANARY-list"}}]}
    })
    .to_string();
    let table_response = serde_json::json!({
        "kind": "Event", "auditID": "s5", "stage": "ResponseComplete", "verb": "list",
        "level": "RequestResponse", "user": {"username": "mallory"},
        "objectRef": {"resource": "secrets", "namespace": "prod"},
        "responseStatus": {"code": 200},
        "responseObject": {"kind": "Table", "rows": [{"cells": ["a", "Opaque"], "object": {
            "kind": "PartialObjectMetadata",
            "metadata": {"name": "a", "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"k\":\"CANARY-table\"}}"}}}}]}
    })
    .to_string();
    let mut alerts = d.feed_line(&line);
    alerts.extend(d.feed_line(&list));
    alerts.extend(d.feed_document(pretty.as_bytes()));
    alerts.extend(d.feed_line(&list_response));
    alerts.extend(d.feed_line(&table_response));
    let log = format!("{line}\n{list}\n");
    d.feed_reader("audit.log", log.as_bytes(), |a| {
        alerts.extend(a);
        Ok::<(), std::io::Error>(())
    })
    .unwrap();
    alerts.extend(d.flush());

    let dumps = alerts.iter().filter(|a| a.rule_id == "DET903").count();
    assert_eq!(dumps, 7, "{alerts:#?}");
    let keys = alerts.iter().filter(|a| a.rule_id == "DET904").count();
    assert_eq!(keys, 5, "rules still see which keys a Secret has");
    assert!(alerts.iter().any(|a| a.message.contains("<redacted>")));
    assert_no_canary("alerts", &alert_text(&alerts));
    let errors: String = d.input_errors().iter().map(|e| format!("{e}\n")).collect();
    assert_eq!(d.stats().bad_items, 3, "{errors}");
    assert_no_canary("input errors", &errors);
    assert_no_canary("stats", &format!("{:?}", d.stats()));
}

#[test]
fn a_bad_event_list_item_does_not_lose_the_others() {
    let mut d = Detector::new(RuleSet::builtin());
    let good = |id: &str| exec_event(id, &["sh"]);
    let doc = format!(
        "{{\n  \"kind\": \"EventList\",\n  \"apiVersion\": \"audit.k8s.io/v1\",\n  \"items\": [\n    {},\n    {{\"kind\": \"Event\", \"auditID\": \"b\",\n     \"verb\": 5}},\n    {}\n  ]\n}}\n",
        good("g1"),
        good("g2")
    );
    let mut alerts = Vec::new();
    d.feed_reader("list.json", doc.as_bytes(), |a| {
        alerts.extend(a);
        Ok::<(), std::io::Error>(())
    })
    .unwrap();
    let ids: Vec<&str> = alerts.iter().map(|a| a.audit_id.as_str()).collect();
    assert_eq!(ids, ["g1", "g2"]);
    assert_eq!(d.stats().bad_items, 1);
    let e = &d.input_errors()[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.item, e.kind),
        ("list.json", 7, Some(1), InputErrorKind::BadItem)
    );
    let shown = e.to_string();
    assert!(
        shown.starts_with(
            "list.json:7: EventList item 1: not an audit event (invalid type: integer `5`"
        ),
        "{shown}"
    );

    // On one line, with the line number given; and with an envelope that is not an
    // audit event list but has items.
    let line = format!(
        r#"{{"kind":"EventList","items":[{},null,{}]}}"#,
        good("g3"),
        good("g4")
    );
    let mut out = Vec::new();
    d.feed_line_at("audit.log", 12, &line, &mut out);
    let broken_envelope = format!(
        r#"{{"kind":"EventList","apiVersion":7,"items":[{},{{"verb":[]}}]}}"#,
        good("g5")
    );
    d.feed_line_at("audit.log", 13, &broken_envelope, &mut out);
    let ids: Vec<&str> = out.iter().map(|a| a.audit_id.as_str()).collect();
    assert_eq!(ids, ["g3", "g4", "g5"]);
    let located: Vec<String> = d.input_errors()[1..]
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(located.len(), 2, "{located:?}");
    assert!(
        located[0].starts_with("audit.log:12: EventList item 1: "),
        "{located:?}"
    );
    assert!(
        located[1].starts_with("audit.log:13: EventList item 1: "),
        "{located:?}"
    );
    assert_eq!(d.stats().bad_items, 3);
    assert_eq!(d.stats().events, 5);

    // JSON lines fed as one document: a line that is not JSON is located too.
    let doc = format!("{}\n\nnot json\n{}\n", good("g6"), good("g7"));
    d.take_input_errors();
    let mut out = Vec::new();
    d.feed_document_at("batch.jsonl", doc.as_bytes(), &mut out);
    assert_eq!(out.len(), 2);
    let e = &d.input_errors()[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.kind),
        ("batch.jsonl", 3, InputErrorKind::NotJson)
    );
}

#[test]
fn long_lines_are_refused_and_long_fields_cut() {
    let opts = DetectorOptions {
        max_line_bytes: 1 << 20,
        ..DetectorOptions::default()
    };
    let mut d = Detector::with_options(RuleSet::builtin(), opts);
    let first = format!("{}\n", exec_event("l1", &["sh"]));
    let last = format!("\n{}\n", exec_event("l3", &["sh"]));
    // A 24 MiB line between two events, never held in memory as a whole.
    let huge = std::io::repeat(b'x').take(24 << 20);
    use std::io::Read as _;
    let input = std::io::BufReader::new(first.as_bytes().chain(huge).chain(last.as_bytes()));
    let mut alerts = Vec::new();
    d.feed_reader("big.log", input, |a| {
        alerts.extend(a);
        Ok::<(), std::io::Error>(())
    })
    .unwrap();
    let ids: Vec<&str> = alerts.iter().map(|a| a.audit_id.as_str()).collect();
    assert_eq!(ids, ["l1", "l3"]);
    assert_eq!(d.stats().oversized, 1);
    let e = &d.input_errors()[0];
    assert_eq!(
        (e.file.as_str(), e.line, e.kind),
        ("big.log", 2, InputErrorKind::LineTooLong)
    );
    assert!(e.to_string().contains("25165824 bytes"), "{e}");
    // The same limit on a line given as text.
    let mut out = Vec::new();
    d.feed_line_at("big.log", 9, &"y".repeat((1 << 20) + 1), &mut out);
    assert_eq!(d.stats().oversized, 2);

    // A long URI (within the line limit) and a long user name are cut in the alert.
    let mut long = exec_event("l4", &["echo", &"a".repeat(200_000)]);
    long = long.replace("\"alice\"", &format!("\"{}\"", "u".repeat(5000)));
    let a = &d.feed_line(&long)[0];
    assert!(a.message.len() < 3 * MAX_FIELD_BYTES, "{}", a.message.len());
    assert!(a.message.contains("bytes truncated)"), "{}", a.message);
    assert!(a.user.len() < MAX_FIELD_BYTES + 40 && a.user.ends_with("(3976 bytes truncated)"));
    assert!(a.to_json_line().unwrap().len() < 8 * MAX_FIELD_BYTES);

    // A document over its limit is not read.
    let opts = DetectorOptions {
        max_document_bytes: 4096,
        ..DetectorOptions::default()
    };
    let mut d = Detector::with_options(RuleSet::builtin(), opts);
    let doc = format!(
        "{{\n \"kind\": \"EventList\",\n \"items\": [{}, {}]\n}}\n",
        exec_event("d1", &["sh"]),
        exec_event("d2", &[&"b".repeat(5000)])
    );
    let mut alerts = Vec::new();
    d.feed_reader("doc.json", doc.as_bytes(), |a| {
        alerts.extend(a);
        Ok::<(), std::io::Error>(())
    })
    .unwrap();
    assert!(alerts.is_empty());
    assert_eq!(d.input_errors()[0].kind, InputErrorKind::DocumentTooLarge);
    assert_eq!(d.input_errors()[0].file, "doc.json");
}
