//! Helpers shared by the tests.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use jiff::civil::Date;
use palisade_admission::{AppState, Evaluator, EvaluatorOptions, FixedClock, Limits};
use palisade_analyze::Options;
use palisade_core::Policy;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

/// A policy from YAML text, validated as `palisade scan` does.
pub fn policy(yaml: &str) -> Policy {
    let docs = palisade_load::yaml::parse_documents(yaml, 1, true).expect("policy YAML");
    let Some(doc) = docs.into_iter().next() else {
        return Policy::default();
    };
    let metas = palisade_rules::registry::metas();
    Policy::from_value(&doc.value, &doc.spans, "test-policy.yaml", &metas)
        .unwrap_or_else(|e| panic!("invalid test policy: {e:?}"))
}

pub fn date(s: &str) -> Date {
    s.parse().expect("date")
}

pub fn options(yaml: &str, today: &str) -> Options {
    Options {
        policy: policy(yaml),
        ..Options::new(date(today))
    }
}

pub fn state(yaml: &str, clock: Arc<FixedClock>) -> AppState {
    let today = clock_today(&clock);
    let evaluator = Evaluator::new(
        Options {
            policy: policy(yaml),
            ..Options::new(today)
        },
        EvaluatorOptions::default(),
    );
    AppState::new(evaluator, clock, Limits::default())
}

fn clock_today(clock: &FixedClock) -> Date {
    use palisade_admission::Clock;
    clock.today()
}

/// POSTs a body to `/validate` through the router without a socket.
pub async fn oneshot(state: &AppState, body: impl Into<Body>) -> (StatusCode, Value) {
    let app = palisade_admission::router(state.clone());
    let req = Request::builder()
        .method("POST")
        .uri("/validate")
        .header("content-type", "application/json")
        .body(body.into())
        .expect("request");
    let resp = app.oneshot(req).await.expect("infallible");
    let status = resp.status();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, value)
}

/// `shared/corpus/<sub>`, if present (else SKIPPED, or a failure under `CI=true`).
pub fn corpus(sub: &str) -> Option<PathBuf> {
    palisade_testkit::corpus(sub)
}

/// A minimal AdmissionReview for `object`.
pub fn review(uid: &str, operation: &str, object: Value) -> Value {
    let kind = object["kind"].as_str().unwrap_or("Pod").to_owned();
    let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_owned();
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.clone()),
    };
    let resource = format!("{}s", kind.to_lowercase());
    let namespace = object["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_owned();
    let name = object["metadata"]["name"].as_str().unwrap_or("").to_owned();
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": { "group": group, "version": version, "kind": kind },
            "resource": { "group": group, "version": version, "resource": resource },
            "requestKind": { "group": group, "version": version, "kind": kind },
            "requestResource": { "group": group, "version": version, "resource": resource },
            "name": name,
            "namespace": namespace,
            "operation": operation,
            "userInfo": { "username": "tester", "groups": ["system:authenticated"] },
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": { "apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions" }
        }
    })
}

/// A privileged pod in `namespace`.
pub fn privileged_pod(namespace: &str, name: &str) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": { "name": name, "namespace": namespace },
        "spec": {
            "containers": [{
                "name": "shell",
                "image": "registry.example.com/tools/shell:1.2.3",
                "securityContext": { "privileged": true }
            }]
        }
    })
}
