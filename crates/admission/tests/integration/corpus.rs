//! Every AdmissionReview recorded from a real kube-apiserver (v1.32): a well-formed response
//! echoing the uid in the request's apiVersion, and the verdict `palisade scan` gives the
//! same object under the same policy.

use crate::util::{corpus, date, oneshot, options};
use palisade_admission::{AppState, Evaluator, EvaluatorOptions, FixedClock, Limits};
use palisade_analyze::{analyze, InputSummary};
use palisade_core::{Inventory, Mode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// The policy the recorded traffic is judged by: privileged, host-namespace and hostPath
/// pods are rejected; everything else warns, except in `dev` (audit); the log shipper's
/// hostPath has a grace period.
const POLICY: &str = "
profile: restricted
defaultMode: warn
rules:
  POD001: { mode: deny }
  POD004: { mode: deny }
  POD005: { mode: deny }
namespaces:
  dev: { mode: audit }
exceptions:
  - rules: [POD005]
    match: { namespace: admission-lab, kind: DaemonSet, name: log-shipper }
    reason: ships /var/log from the node
    owner: team-observability
    ticket: OPS-1
    expires: 2026-12-31
";

const TODAY: &str = "2026-11-23";

fn reviews_dir() -> Option<PathBuf> {
    corpus("apiserver-recordings/admission")
}

fn state(deny_only_new_on_update: bool, today: &str) -> AppState {
    let evaluator = Evaluator::new(
        options(POLICY, today),
        EvaluatorOptions {
            deny_only_new_on_update,
            ..EvaluatorOptions::default()
        },
    );
    AppState::new(
        evaluator,
        Arc::new(FixedClock::new(date(today))),
        Limits::default(),
    )
}

/// The kinds the evaluator reads (every kind a selected object-local rule reads).
fn evaluated_kinds() -> Vec<&'static str> {
    Evaluator::new(options(POLICY, TODAY), EvaluatorOptions::default())
        .evaluated_kinds()
        .expect("no rule reads every kind")
        .into_iter()
        .map(|(_, k)| k)
        .collect()
}

/// A controller (kube-controller-manager, or one of its per-controller service accounts)
/// creating an object for the workload that controls it.
fn created_by_controller(request: &Value) -> bool {
    let user = request["userInfo"]["username"].as_str().unwrap_or("");
    let controller = user == "system:kube-controller-manager"
        || user
            .strip_prefix("system:serviceaccount:kube-system:")
            .is_some_and(|s| s.ends_with("-controller"));
    controller
        && request["operation"] == "CREATE"
        && request["object"]["metadata"]["ownerReferences"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|o| o["controller"] == true)
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    deny: bool,
    warn: bool,
    audit: bool,
}

/// What `palisade scan` says about the object: loaded from JSON text by the loader, the
/// whole facade run, per-object rules kept (admission sees one object, not the cluster).
fn scan_verdict(object: &Value, namespace: Option<&str>, today: &str) -> Expected {
    let mut object = object.clone();
    if let (Some(ns), Some(meta)) = (namespace, object["metadata"].as_object_mut()) {
        meta.entry("namespace")
            .or_insert_with(|| Value::String(ns.to_owned()));
    }
    let loaded = palisade_load::load_str("object.json", &object.to_string());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let inventory = Inventory::new(loaded.objects);
    let report = analyze(&inventory, InputSummary::default(), &options(POLICY, today));
    let mut e = Expected::default();
    for f in &report.findings {
        let meta = report
            .rules
            .iter()
            .find(|m| m.id == f.rule_id)
            .expect("rule meta");
        let rule = palisade_rules::all()
            .iter()
            .find(|r| r.meta().id == meta.id)
            .expect("rule");
        if !rule.object_local() {
            continue;
        }
        match f.mode {
            Mode::Deny => e.deny = true,
            Mode::Warn => e.warn = true,
            Mode::Audit => e.audit = true,
        }
    }
    e
}

fn got(response: &Value) -> Expected {
    let allowed = response["allowed"].as_bool().expect("allowed is a boolean");
    Expected {
        deny: !allowed,
        warn: response["warnings"]
            .as_array()
            .is_some_and(|w| !w.is_empty()),
        audit: response["auditAnnotations"]["findings"].is_string(),
    }
}

#[tokio::test]
async fn recorded_reviews_match_scan_verdicts() {
    let Some(dir) = reviews_dir() else {
        return;
    };
    let index: Vec<Value> =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).expect("index"))
            .expect("index JSON");
    let strict = state(false, TODAY);
    let lenient = state(true, TODAY);
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_operation: BTreeMap<String, usize> = BTreeMap::new();
    let mut downgraded = 0;
    let mut for_owner = 0;
    let evaluated_kinds = evaluated_kinds();
    assert!(evaluated_kinds.contains(&"ClusterRoleBinding") && evaluated_kinds.contains(&"Pod"));
    for entry in &index {
        let file = entry["file"].as_str().expect("file");
        let body = std::fs::read(dir.join(file)).expect("review file");
        let raw: Value = serde_json::from_slice(&body).expect("review JSON");
        let (status, resp) = oneshot(&strict, body.clone()).await;
        assert_eq!(status, 200, "{file}: {resp}");
        assert_eq!(resp["apiVersion"], raw["apiVersion"], "{file}");
        assert_eq!(resp["kind"], "AdmissionReview", "{file}");
        assert!(resp.get("request").is_none(), "{file}: request echoed");
        let response = &resp["response"];
        assert_eq!(response["uid"], entry["uid"], "{file}: uid not echoed");
        assert_eq!(response["uid"], raw["request"]["uid"], "{file}");
        let op = entry["operation"].as_str().expect("operation");
        *by_operation.entry(op.to_owned()).or_default() += 1;
        let kind = entry["kind"]["kind"].as_str().expect("kind");
        let sub = entry["subResource"].as_str().unwrap_or("");
        let evaluated = matches!(op, "CREATE" | "UPDATE")
            && evaluated_kinds.contains(&kind)
            && (sub.is_empty() || (kind == "Pod" && sub == "ephemeralcontainers"));
        let g = got(response);
        let label = if !evaluated {
            assert_eq!(
                g,
                Expected::default(),
                "{file}: not evaluated, must be a plain allow"
            );
            "skipped"
        } else {
            let mut expected = scan_verdict(
                &raw["request"]["object"],
                raw["request"]["namespace"].as_str(),
                TODAY,
            );
            if created_by_controller(&raw["request"]) && expected.deny {
                // The workload was admitted; what its controller creates for it follows.
                expected.deny = false;
                expected.warn = true;
                for_owner += 1;
            }
            assert_eq!(
                g, expected,
                "{file}: admission and scan disagree: {response}"
            );
            if g.deny {
                let message = response["status"]["message"].as_str().expect("message");
                assert!(message.contains("POD0"), "{file}: {message}");
                assert_eq!(response["status"]["code"], 403);
            }
            // With the default (deny only what an UPDATE introduces), CREATE is unchanged
            // and an UPDATE is never stricter.
            let (_, lenient_resp) = oneshot(&lenient, body.clone()).await;
            let l = got(&lenient_resp["response"]);
            if op == "CREATE" {
                assert_eq!(l, g, "{file}");
            } else if l.deny != g.deny {
                assert!(g.deny && !l.deny && l.warn, "{file}");
                downgraded += 1;
            }
            if g.deny {
                "denied"
            } else if g.warn {
                "warned"
            } else if g.audit {
                "audited"
            } else {
                "allowed"
            }
        };
        *verdicts.entry(label.to_owned()).or_default() += 1;
    }
    println!(
        "{} recorded reviews; by operation {by_operation:?}; verdicts {verdicts:?}; \
         UPDATEs denied only for pre-existing violations (allowed with a warning by default): {downgraded}; \
         objects a controller created for an admitted workload (warned, not denied): {for_owner}",
        index.len()
    );
    assert_eq!(index.len(), 118);
    assert!(verdicts.get("denied").copied().unwrap_or(0) > 0);
    assert!(verdicts.get("warned").copied().unwrap_or(0) > 0);
    assert!(verdicts.get("audited").copied().unwrap_or(0) > 0);
}

/// Hand-checked verdicts for a few recorded reviews.
#[tokio::test]
async fn recorded_reviews_spot_checks() {
    let Some(dir) = reviews_dir() else {
        return;
    };
    let state = state(true, TODAY);
    let check = |file: &'static str| {
        let state = state.clone();
        let dir = dir.clone();
        async move {
            let body = std::fs::read(dir.join("reviews").join(file)).expect(file);
            let (status, resp) = oneshot(&state, body).await;
            assert_eq!(status, 200, "{file}");
            resp["response"].clone()
        }
    };
    // The privileged, host-namespace, hostPath pod: a server-side dry run is evaluated like
    // the real create, and both are denied naming each rule.
    for file in [
        "0023-CREATE-Pod-admission-lab-node-shell.json",
        "0026-CREATE-Pod-admission-lab-node-shell.json",
    ] {
        let r = check(file).await;
        assert_eq!(r["allowed"], false, "{file}");
        let message = r["status"]["message"].as_str().expect("message");
        for id in ["POD001", "POD004", "POD005"] {
            assert!(message.contains(id), "{file}: {message}");
        }
        assert!(message.contains("/spec/containers/0/securityContext/privileged"));
        assert!(message.contains("Fix: "));
    }
    // exec, DELETE, the scale subresource: allowed without evaluation.
    for file in [
        "0027-CONNECT-PodExecOptions-exec-admission-lab-toolbox.json",
        "0093-CONNECT-PodPortForwardOptions-portforward-admission-lab-toolbox.json",
        "0025-DELETE-Deployment-admission-lab-checkout.json",
        "0008-UPDATE-Scale-scale-admission-lab-checkout.json",
    ] {
        let r = check(file).await;
        assert_eq!(r["allowed"], true, "{file}");
        assert!(r.get("warnings").is_none(), "{file}");
    }
    // An ephemeral debug container added through the subresource is evaluated (the
    // debugger sets no security context: warnings under this policy).
    let r = check("0032-UPDATE-Pod-ephemeralcontainers-admission-lab-toolbox.json").await;
    assert_eq!(r["allowed"], true, "{r}");
    let warnings = r["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().is_some_and(|w| w.contains("debugger"))),
        "{r}"
    );
    // The log shipper's hostPath is excepted until 2026-12-31: allowed with warnings now...
    let r = check("0013-CREATE-DaemonSet-admission-lab-log-shipper.json").await;
    assert_eq!(r["allowed"], true, "{r}");
    // ...and denied once the exception has expired.
    let expired = super::corpus::state(true, "2027-01-01");
    let body = std::fs::read(
        dir.join("reviews")
            .join("0013-CREATE-DaemonSet-admission-lab-log-shipper.json"),
    )
    .expect("review");
    let (_, resp) = oneshot(&expired, body).await;
    assert_eq!(resp["response"]["allowed"], false, "{resp}");
    assert!(resp["response"]["status"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("POD005")));
}
