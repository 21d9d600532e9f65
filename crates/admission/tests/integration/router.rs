//! Malformed input, limits and the side routes, through `router().oneshot` (no socket).

use crate::util::{date, oneshot, privileged_pod, review, state};
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use palisade_admission::audit::{audit_router, AuditState};
use palisade_admission::FixedClock;
use palisade_detect::{Detector, RuleSet};
use serde_json::Value;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tower::ServiceExt;

fn deny_state() -> palisade_admission::AppState {
    state(
        "defaultMode: deny\n",
        Arc::new(FixedClock::new(date("2026-11-23"))),
    )
}

#[tokio::test]
async fn malformed_bodies_get_400_with_a_message() {
    let state = deny_state();
    let no_request =
        serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"});
    let mut wrong_version = review("u1", "CREATE", privileged_pod("a", "p"));
    wrong_version["apiVersion"] = "admission.k8s.io/v2".into();
    let mut wrong_kind = review("u1", "CREATE", privileged_pod("a", "p"));
    wrong_kind["kind"] = "Pod".into();
    let mut no_uid = review("", "CREATE", privileged_pod("a", "p"));
    no_uid["request"]["uid"] = "".into();
    let mut bad_op = review("u1", "CREATE", privileged_pod("a", "p"));
    bad_op["request"]["operation"] = "PATCH".into();
    let mut object_not_a_map = review("u1", "CREATE", privileged_pod("a", "p"));
    object_not_a_map["request"]["object"] = serde_json::json!([1, 2]);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", b"\x00\xffnot json".to_vec()),
        (
            "truncated",
            br#"{"apiVersion": "admission.k8s.io/v1", "kind": "Adm"#.to_vec(),
        ),
        ("array", b"[]".to_vec()),
        ("number", b"42".to_vec()),
        ("no request", no_request.to_string().into_bytes()),
        ("wrong apiVersion", wrong_version.to_string().into_bytes()),
        ("wrong kind", wrong_kind.to_string().into_bytes()),
        ("no uid", no_uid.to_string().into_bytes()),
        ("unknown operation", bad_op.to_string().into_bytes()),
        (
            "object not a map",
            object_not_a_map.to_string().into_bytes(),
        ),
    ];
    for (what, body) in bodies {
        let (status, resp) = oneshot(&state, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {resp}");
        assert!(
            resp["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: {resp}"
        );
    }
    // Still serving.
    let (status, resp) = oneshot(
        &state,
        review("u2", "CREATE", privileged_pod("a", "p")).to_string(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp["response"]["allowed"], false);
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let state = deny_state();
    let mut big = review("u1", "CREATE", privileged_pod("a", "p"));
    big["request"]["object"]["metadata"]["annotations"] =
        serde_json::json!({ "filler": "x".repeat(3 * 1024 * 1024) });
    let (status, resp) = oneshot(&state, big.to_string()).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_too_large(&resp, None, 3 * 1024 * 1024);
}

/// The 413 answer: a Kubernetes `Status` naming the limit (and the declared length).
fn assert_too_large(resp: &Value, declared: Option<u64>, limit: usize) {
    assert_eq!(resp["apiVersion"], "v1", "{resp}");
    assert_eq!(resp["kind"], "Status", "{resp}");
    assert_eq!(resp["status"], "Failure", "{resp}");
    assert_eq!(resp["reason"], "RequestEntityTooLarge", "{resp}");
    assert_eq!(resp["code"], 413, "{resp}");
    let message = resp["message"].as_str().expect("message");
    assert!(
        message.contains(&format!("limit of {limit} bytes")),
        "{message}"
    );
    match declared {
        Some(n) => assert!(message.contains(&format!("of {n} bytes ")), "{message}"),
        None => assert!(message.starts_with("request body exceeds"), "{message}"),
    }
    assert_eq!(resp["error"].as_str(), Some(message));
}

/// A request body that never arrives.
struct Never;

impl hyper::body::Body for Never {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

/// A request body of this many 512-byte chunks, without a declared length.
struct Chunks(usize);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        if self.0 == 0 {
            return Poll::Ready(None);
        }
        self.0 -= 1;
        Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(vec![
            b' ';
            512
        ])))))
    }
}

/// POSTs a body that never arrives, with this declared length; the answer must not wait
/// for the body.
async fn post_unsent(
    app: axum::Router,
    path: &str,
    declared: u64,
) -> (StatusCode, Option<String>, Value) {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .header("content-length", declared.to_string())
        .body(Body::new(Never))
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(10), app.oneshot(req))
        .await
        .expect("answered without reading the body")
        .expect("infallible");
    let status = resp.status();
    let connection = resp
        .headers()
        .get("connection")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        connection,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_without_reading_the_body() {
    let app = palisade_admission::router(deny_state());
    let (status, connection, resp) = post_unsent(app, "/validate", 50 * 1024 * 1024).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_too_large(&resp, Some(50 * 1024 * 1024), 3 * 1024 * 1024);
    // HTTP/1.1: the unread body makes the connection unusable.
    assert_eq!(connection.as_deref(), Some("close"));
}

#[tokio::test]
async fn audit_batches_over_the_limit_get_the_same_413() {
    let mut audit = AuditState::new(
        Detector::new(RuleSet::empty()),
        Arc::new(|_: &[palisade_detect::Alert]| {}),
    );
    audit.max_body_bytes = 1024;
    let app = audit_router(audit);
    let (status, _, resp) = post_unsent(app.clone(), "/audit", 1_000_000).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_too_large(&resp, Some(1_000_000), 1024);
    // Without a declared length: cut at the limit.
    let req = Request::builder()
        .method("POST")
        .uri("/audit")
        .body(Body::new(Chunks(4)))
        .expect("request");
    let resp = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    assert_too_large(&serde_json::from_slice(&bytes).expect("JSON"), None, 1024);
    // Under the limit: accepted.
    let req = Request::builder()
        .method("POST")
        .uri("/audit")
        .body(Body::from("{\"kind\":\"EventList\",\"items\":[]}"))
        .expect("request");
    let resp = app.oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn object_without_type_meta_or_namespace_is_completed_from_the_request() {
    let state = deny_state();
    let mut r = review("u1", "CREATE", privileged_pod("team-a", "p"));
    let object = r["request"]["object"].as_object_mut().expect("object");
    object.remove("apiVersion");
    object.remove("kind");
    object["metadata"]
        .as_object_mut()
        .expect("meta")
        .remove("namespace");
    r["request"]["namespace"] = "team-a".into();
    let (status, resp) = oneshot(&state, r.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp["response"]["allowed"], false);
    let message = resp["response"]["status"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("Pod team-a/p"), "{message}");
}

#[tokio::test]
async fn v1beta1_is_answered_in_v1beta1() {
    let state = deny_state();
    let mut r = review("u1", "CREATE", privileged_pod("a", "p"));
    r["apiVersion"] = "admission.k8s.io/v1beta1".into();
    let (status, resp) = oneshot(&state, r.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(resp["apiVersion"], "admission.k8s.io/v1beta1");
    assert_eq!(resp["response"]["uid"], "u1");
}

#[tokio::test]
async fn update_denies_only_what_it_introduces() {
    let state = deny_state();
    let old = privileged_pod("a", "p");
    let mut new = old.clone();
    new["metadata"]["labels"] = serde_json::json!({"tier": "debug"});
    let mut r = review("u1", "UPDATE", new.clone());
    r["request"]["oldObject"] = old.clone();
    let (_, resp) = oneshot(&state, r.to_string()).await;
    assert_eq!(resp["response"]["allowed"], true, "{resp}");
    assert!(resp["response"]["warnings"]
        .as_array()
        .is_some_and(|w| !w.is_empty()));
    // Adding a host namespace is new: denied.
    new["spec"]["hostPID"] = true.into();
    let mut r = review("u2", "UPDATE", new);
    r["request"]["oldObject"] = old;
    let (_, resp) = oneshot(&state, r.to_string()).await;
    assert_eq!(resp["response"]["allowed"], false, "{resp}");
    let message = resp["response"]["status"]["message"]
        .as_str()
        .expect("message");
    assert!(
        message.contains("POD004") && !message.contains("POD001"),
        "{message}"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let state = deny_state();
    oneshot(
        &state,
        review("u1", "CREATE", privileged_pod("a", "p")).to_string(),
    )
    .await;
    let app = palisade_admission::router(state.clone());
    for (path, needle) in [
        ("/healthz", "ok"),
        ("/readyz", "ok"),
        ("/metrics", "palisade_admission_decisions_total{rule=\"POD001\",mode=\"deny\",outcome=\"denied\",operation=\"CREATE\"} 1"),
        ("/metrics", "palisade_admission_request_duration_seconds_bucket"),
    ] {
        let resp = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("infallible");
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains(needle), "{path}: {text}");
    }
    state
        .ready
        .store(false, std::sync::atomic::Ordering::Relaxed);
    let resp = app
        .oneshot(
            Request::get("/readyz")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
}

/// A cheap stand-in for the fuzz target (`fuzz/fuzz_targets/admission_review.rs`): mutated
/// reviews (bytes flipped, truncated, spliced, values swapped) never panic the evaluator.
#[test]
fn mutated_reviews_never_panic() {
    use palisade_admission::{Evaluator, EvaluatorOptions};
    let evaluator = Evaluator::new(
        crate::util::options("defaultMode: deny\n", "2026-11-23"),
        EvaluatorOptions::default(),
    );
    let mut seeds: Vec<Vec<u8>> = vec![review("u", "CREATE", privileged_pod("a", "p"))
        .to_string()
        .into_bytes()];
    if let Some(reviews) = crate::util::corpus("apiserver-recordings/admission/reviews") {
        for name in [
            "0001-CREATE-Deployment-admission-lab-checkout.json",
            "0022-UPDATE-Pod-admission-lab-toolbox.json",
            "0027-CONNECT-PodExecOptions-exec-admission-lab-toolbox.json",
            "0008-UPDATE-Scale-scale-admission-lab-checkout.json",
        ] {
            if let Ok(b) = std::fs::read(reviews.join(name)) {
                seeds.push(b);
            }
        }
    }
    let today = date("2026-11-23");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let tokens: [&[u8]; 8] = [
        b"null", b"[]", b"{}", b"\"\"", b"-1e999", b"true", b"\"Pod\"", b"0",
    ];
    for i in 0..3000 {
        let seed = &seeds[i % seeds.len()];
        let mut b = seed.clone();
        match next() % 4 {
            0 => {
                let n = (next() % 8 + 1) as usize;
                for _ in 0..n {
                    let at = (next() as usize) % b.len();
                    b[at] = next() as u8;
                }
            }
            1 => b.truncate((next() as usize) % b.len()),
            2 => {
                // Replace a value after a random colon with another JSON token.
                let at = (next() as usize) % b.len();
                if let Some(colon) = b[at..].iter().position(|&c| c == b':') {
                    let start = at + colon + 1;
                    let end = b[start..]
                        .iter()
                        .position(|&c| c == b',' || c == b'}')
                        .map_or(b.len(), |e| start + e);
                    let t = tokens[(next() as usize) % tokens.len()];
                    b.splice(start..end, t.iter().copied());
                }
            }
            _ => {
                let other = &seeds[(next() as usize) % seeds.len()];
                let cut = (next() as usize) % b.len().min(other.len());
                b.truncate(cut);
                b.extend_from_slice(&other[cut..]);
            }
        }
        if let Ok(outcome) = evaluator.review(&b, today) {
            let response = outcome.review.response.expect("response");
            assert!(!response.uid.is_empty());
        }
    }
}

#[tokio::test]
async fn evaluation_is_bounded_in_time() {
    use palisade_admission::{AppState, Evaluator, EvaluatorOptions, Limits};
    let evaluator = Evaluator::new(
        crate::util::options("defaultMode: deny\n", "2026-11-23"),
        EvaluatorOptions::default(),
    );
    let state = AppState::new(
        evaluator,
        Arc::new(FixedClock::new(date("2026-11-23"))),
        Limits {
            timeout: std::time::Duration::from_millis(50),
            max_concurrent: 1,
            ..Limits::default()
        },
    );
    // Every evaluation slot is taken: the request waits, then gets 503 (the API server then
    // applies the webhook's failurePolicy).
    let permit = state
        .semaphore
        .clone()
        .acquire_owned()
        .await
        .expect("permit");
    let body = review("u1", "CREATE", privileged_pod("a", "p")).to_string();
    let (status, resp) = oneshot(&state, body.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{resp}");
    assert!(resp["error"]
        .as_str()
        .is_some_and(|m| m.contains("timed out")));
    drop(permit);
    let (status, _) = oneshot(&state, body).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn privileged_ephemeral_container_is_denied() {
    let state = deny_state();
    let mut old = privileged_pod("a", "p");
    old["spec"]["containers"][0]["securityContext"] = serde_json::json!({});
    let mut new = old.clone();
    new["spec"]["ephemeralContainers"] = serde_json::json!([{
        "name": "debugger",
        "image": "registry.example.com/busybox:1.36",
        "securityContext": { "privileged": true }
    }]);
    let mut r = review("u1", "UPDATE", new);
    r["request"]["oldObject"] = old;
    r["request"]["subResource"] = "ephemeralcontainers".into();
    r["request"]["requestSubResource"] = "ephemeralcontainers".into();
    let (_, resp) = oneshot(&state, r.to_string()).await;
    assert_eq!(resp["response"]["allowed"], false, "{resp}");
    let message = resp["response"]["status"]["message"]
        .as_str()
        .expect("message");
    assert!(message.contains("POD001"), "{message}");
    // Other subresources (status, scale) are not evaluated.
    let mut r = review("u2", "UPDATE", privileged_pod("a", "p"));
    r["request"]["subResource"] = "status".into();
    let (_, resp) = oneshot(&state, r.to_string()).await;
    assert_eq!(resp["response"]["allowed"], true, "{resp}");
}
