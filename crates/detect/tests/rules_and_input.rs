//! Rule-file errors, user rule files, bad input lines, stage de-duplication,
//! thresholds and source ranges.

use palisade_detect::{Detector, DetectorOptions, RuleSet};

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
    let json = a[0].to_json_line();
    assert!(
        json.contains(r#""ruleId":"DET900""#)
            && json.contains(r#""auditID":"a1""#)
            && !json.contains('\n')
    );
}

#[test]
fn bad_lines_are_counted_not_fatal() {
    let mut d = Detector::new(RuleSet::from_yaml("r.yaml", RULE).unwrap());
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
    let mut d = Detector::new(RuleSet::from_yaml("r.yaml", RULE).unwrap());
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
    let mut d = Detector::new(RuleSet::from_yaml("r.yaml", RULE).unwrap());
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
    let base = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"ID","stage":"ResponseComplete","verb":"delete","requestURI":"/api/v1/namespaces/prodQ","user":{"username":"bob"},"objectRef":{"resource":"namespaces","name":"prod"},"responseStatus":{"code":CODE},"stageTimestamp":"2026-01-01T00:00:00Z"}"#;
    let mk = |id: &str, q: &str, code: &str| {
        base.replace("ID", id).replace("Q", q).replace("CODE", code)
    };
    assert!(d.feed_line(&mk("n1", "?dryRun=All", "200")).is_empty());
    assert!(d.feed_line(&mk("n2", "", "403")).is_empty());
    let a = d.feed_line(&mk("n3", "", "200"));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].rule_name, "namespace-deleted");
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
