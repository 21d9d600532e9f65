//! Image signatures at admission (IMG007): a local `docker-registry` started by the test
//! (SKIPPED without `/usr/bin/docker-registry`) with a signed and an unsigned image, the
//! webhook in deny and in warn mode, and a registry that accepts connections and never
//! answers under both failure policies, within the webhook's timeout.

use crate::util::{oneshot, review, state};
use palisade_admission::{FailurePolicy, FixedClock, ImageVerification};
use palisade_registry::testing::{keypair, push_image, push_signature, start};
use palisade_registry::{Registry, Trust};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn pod(image: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {"containers": [{"name": "api", "image": image}]}
    })
}

fn policy(mode: &str, reg: &str) -> String {
    format!(
        "select: [IMG007]\nrules:\n  IMG007: {{ mode: {mode} }}\nimageTrust:\n  policies:\n    - name: shop-release\n      scopes: [\"{reg}/shop/*\"]\n      cosign: {{ publicKeys: [release.pub] }}\n"
    )
}

fn webhook(
    mode: &str,
    reg: &str,
    trust: Trust,
    failure: FailurePolicy,
    budget: Duration,
) -> palisade_admission::AppState {
    let yaml = policy(mode, reg);
    let clock = Arc::new(FixedClock::new("2026-06-01".parse().unwrap()));
    let image_trust = crate::util::policy(&yaml).image_trust.unwrap();
    let trusts = HashMap::from([("shop-release".to_owned(), trust)]);
    state(&yaml, clock).with_image_verification(ImageVerification::new(
        image_trust,
        trusts,
        Registry::new(budget).unwrap(),
        failure,
        budget,
        Duration::from_secs(300),
    ))
}

fn response(v: &Value) -> (bool, String, Vec<String>) {
    let r = &v["response"];
    (
        r["allowed"].as_bool().unwrap(),
        r["status"]["message"].as_str().unwrap_or("").to_owned(),
        r["warnings"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|w| w.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_and_warn_modes_against_a_local_registry() {
    let Some(local) = start().await else {
        return;
    };
    let reg = local.addr.clone();
    let r = Registry::new(Duration::from_secs(5)).unwrap();
    let (key, public, _) = keypair();
    let signed = push_image(&r, &reg, "shop/api", "1.0", b"api").await;
    push_signature(&r, &reg, "shop/api", &signed, &signed, &key, None).await;
    push_image(&r, &reg, "shop/frontend", "1.0", b"frontend").await;
    let trust = Trust {
        cosign: Some(vec![public]),
        notation: None,
    };

    let deny = webhook(
        "deny",
        &reg,
        trust.clone(),
        FailurePolicy::Fail,
        Duration::from_secs(3),
    );
    let body = review("u1", "CREATE", pod(&format!("{reg}/shop/api:1.0")));
    let (status, v) = oneshot(&deny, body.to_string()).await;
    assert_eq!(status, 200);
    let (allowed, message, _) = response(&v);
    assert!(allowed, "signed image denied: {v}");

    let body = review("u2", "CREATE", pod(&format!("{reg}/shop/frontend:1.0")));
    let (_, v) = oneshot(&deny, body.to_string()).await;
    let (allowed, message2, _) = response(&v);
    assert!(!allowed, "{v}");
    assert!(
        message2.contains("IMG007") && message2.contains("unsigned"),
        "{message2}"
    );
    assert!(message.is_empty());

    let warn = webhook(
        "warn",
        &reg,
        trust,
        FailurePolicy::Fail,
        Duration::from_secs(3),
    );
    let (_, v) = oneshot(&warn, body.to_string()).await;
    let (allowed, _, warnings) = response(&v);
    assert!(allowed, "{v}");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("IMG007") && w.contains("unsigned")),
        "{warnings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_never_answers_follows_the_failure_policy() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let reg = listener.local_addr().unwrap().to_string();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let (_, public, _) = keypair();
    let trust = Trust {
        cosign: Some(vec![public]),
        notation: None,
    };
    let budget = Duration::from_millis(800);
    let body = review("u3", "CREATE", pod(&format!("{reg}/shop/api:1.0")));

    // Fail: denied, saying the registry did not answer, well within the webhook's timeout.
    let fail = webhook("deny", &reg, trust.clone(), FailurePolicy::Fail, budget);
    let t = Instant::now();
    let (status, v) = oneshot(&fail, body.to_string()).await;
    let took = t.elapsed();
    assert_eq!(status, 200);
    let (allowed, message, _) = response(&v);
    assert!(!allowed, "{v}");
    assert!(
        message.contains("could not be verified (failure policy fail)")
            && message.contains("did not answer"),
        "{message}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");

    // Ignore: admitted, with a warning that says the image was not verified.
    let ignore = webhook("deny", &reg, trust, FailurePolicy::Ignore, budget);
    let t = Instant::now();
    let (_, v) = oneshot(&ignore, body.to_string()).await;
    let took = t.elapsed();
    let (allowed, _, warnings) = response(&v);
    assert!(allowed, "{v}");
    assert!(
        warnings.iter().any(
            |w| w.contains("IMG007") && w.contains("not verified, the registry did not answer")
        ),
        "{warnings:?}"
    );
    assert!(took < Duration::from_secs(3), "took {took:?}");
    eprintln!("registry timeout at admission: answered in {took:?} with a {budget:?} budget");
    hold.abort();
}

/// Image pull Secrets as the webhook would read them, from memory: `namespace/name` to the
/// Docker config the Secret holds; ServiceAccounts to the Secrets they name.
struct StaticSecrets {
    secrets: HashMap<(String, String), String>,
    accounts: HashMap<(String, String), Vec<String>>,
}

impl palisade_admission::PullSecretSource for StaticSecrets {
    fn logins<'a>(
        &'a self,
        namespace: &'a str,
        names: &'a [String],
    ) -> palisade_admission::background::BoxFuture<
        'a,
        (palisade_registry::PullSecretLogins, Vec<String>),
    > {
        use base64::Engine as _;
        Box::pin(async move {
            let mut l = palisade_registry::PullSecretLogins::new(namespace);
            let mut notes = Vec::new();
            for n in names {
                match self.secrets.get(&(namespace.to_owned(), n.clone())) {
                    Some(config) => l
                        .add(
                            namespace,
                            n,
                            palisade_registry::PullSecretKind::DockerConfigJson,
                            &base64::engine::general_purpose::STANDARD.encode(config),
                        )
                        .unwrap(),
                    None => notes.push(format!(
                        "image pull Secret {namespace}/{n} not used (404 NotFound); images verified without it"
                    )),
                }
            }
            (l, notes)
        })
    }

    fn service_account<'a>(
        &'a self,
        namespace: &'a str,
        name: &'a str,
    ) -> palisade_admission::background::BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(async move {
            Ok(self
                .accounts
                .get(&(namespace.to_owned(), name.to_owned()))
                .cloned()
                .unwrap_or_default())
        })
    }
}

/// A registry with htpasswd logins: a Pod whose namespace has the pull Secret (its own, or
/// its ServiceAccount's) is admitted, one in another namespace naming a Secret of the same
/// name is denied for want of a login, and the password is in no response.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_pull_secrets_at_admission() {
    use base64::Engine as _;
    const PASSWORD: &str = "admission-pull-pw-51c0";
    let Some(local) = palisade_registry::testing::start_with_login("puller", PASSWORD).await else {
        return;
    };
    let reg = local.addr.clone();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("puller:{PASSWORD}"));
    let config = format!(r#"{{"auths": {{"{reg}": {{"auth": "{auth}"}}}}}}"#);
    let r = Registry::new(Duration::from_secs(5))
        .unwrap()
        .with_keychain(palisade_registry::Keychain::from_docker_config(&config, "test").unwrap());
    let (key, public, _) = keypair();
    let signed = push_image(&r, &reg, "shop/api", "1.0", b"api").await;
    push_signature(&r, &reg, "shop/api", &signed, &signed, &key, None).await;
    let trust = Trust {
        cosign: Some(vec![public]),
        notation: None,
    };
    let source = StaticSecrets {
        secrets: HashMap::from([(("shop".to_owned(), "regcred".to_owned()), config.clone())]),
        accounts: HashMap::from([(
            ("shop".to_owned(), "builder".to_owned()),
            vec!["regcred".to_owned()],
        )]),
    };
    let yaml = policy("deny", &reg);
    let clock = Arc::new(FixedClock::new("2026-06-01".parse().unwrap()));
    let budget = Duration::from_secs(3);
    let app = state(&yaml, clock).with_image_verification(
        ImageVerification::new(
            crate::util::policy(&yaml).image_trust.unwrap(),
            HashMap::from([("shop-release".to_owned(), trust)]),
            Registry::new(budget).unwrap(),
            FailurePolicy::Fail,
            budget,
            Duration::from_secs(300),
        )
        .with_pull_secrets(Arc::new(source)),
    );
    let image = format!("{reg}/shop/api:1.0");
    let with_spec = |ns: &str, extra: Value| {
        let mut p = pod(&image);
        p["metadata"]["namespace"] = json!(ns);
        for (k, v) in extra.as_object().unwrap() {
            p["spec"][k] = v.clone();
        }
        p
    };
    let regcred = json!({"imagePullSecrets": [{"name": "regcred"}]});
    let mut all = String::new();

    let (_, v) = oneshot(
        &app,
        review("p1", "CREATE", with_spec("shop", regcred.clone())).to_string(),
    )
    .await;
    all.push_str(&v.to_string());
    let (allowed, _, _) = response(&v);
    assert!(allowed, "with the pull Secret: {v}");
    let (_, v) = oneshot(
        &app,
        review(
            "p2",
            "CREATE",
            with_spec("shop", json!({"serviceAccountName": "builder"})),
        )
        .to_string(),
    )
    .await;
    all.push_str(&v.to_string());
    assert!(response(&v).0, "with the ServiceAccount's pull Secret: {v}");
    // Another namespace: `regcred` there does not exist, and shop's is never used, though
    // shop's verdict for the same digest is cached.
    let (_, v) = oneshot(
        &app,
        review("p3", "CREATE", with_spec("billing", regcred.clone())).to_string(),
    )
    .await;
    all.push_str(&v.to_string());
    let (allowed, message, warnings) = response(&v);
    assert!(!allowed, "{v}");
    assert!(
        message.contains("answered 401") && message.contains("authentication refused"),
        "{message}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("image pull Secret billing/regcred not used")),
        "{warnings:?}"
    );
    // No pull Secret at all: the same.
    let (_, v) = oneshot(
        &app,
        review("p4", "CREATE", with_spec("shop", json!({}))).to_string(),
    )
    .await;
    all.push_str(&v.to_string());
    assert!(!response(&v).0, "{v}");
    for needle in [PASSWORD, auth.as_str()] {
        assert!(!all.contains(needle), "a login is shown: {all}");
    }
}
