//! Secret values never leave the API server through Palisade: every value of every Secret of
//! the recorded cluster (and of a planted canary Secret that carries its values in a custom
//! annotation too) is searched for in every file and every output format of `scan`,
//! `snapshot`, `diff` and `export`, over the replay server and from manifests.

#![allow(clippy::print_stderr)]

mod common;
use base64::Engine as _;
use common::{files_under, palisade, recordings, serve};
use palisade_replay::{Config, Replay, SyntheticList};
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::io::Read as _;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;

const FORMATS: [&str; 7] = [
    "table",
    "json",
    "sarif",
    "junit",
    "markdown",
    "html",
    "policyreport",
];

/// The canary's values: each is searched for in every output.
const CANARY_PASSWORD: &str = "canary-pw-7f3a91c2e5";
const CANARY_TOKEN: &str = "canary-token-0b8d4e6a13";
const CANARY_ANNOTATION: &str = "canary-in-annotation-55e1d0";

fn canary_secret(annotation_value: &str) -> Value {
    let applied = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "canary", "namespace": "payments"},
        "stringData": {"password": CANARY_PASSWORD, "token": CANARY_TOKEN}});
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "canary", "namespace": "payments", "uid": "c0ffee00-0000-4000-8000-000000000001",
            "resourceVersion": "4242",
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": applied.to_string(),
                "example.com/applied-by-tool": json!({"apiVersion": "v1", "kind": "Secret",
                    "stringData": {"note": annotation_value}}).to_string(),
                "owner": "team-payments"}},
        "type": "Opaque",
        "data": {"password": b64(CANARY_PASSWORD), "token": b64(CANARY_TOKEN)}})
}

/// Every value that must never appear: the recorded Secrets' data (encoded and decoded),
/// the values inside their last-applied annotations, and the canary's. Multi-line values
/// (keys, certificates) are also searched line by line. Values that the cluster publishes
/// elsewhere (the cluster CA in every namespace's `kube-root-ca.crt` ConfigMap) are not
/// secrets and are left out, as are values too short to be told from ordinary text.
fn needles(secrets: &[Value], public: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    // The whole value, and each token in it that looks like a credential (a key's base64
    // line, a password inside a config file): long, with letters and digits.
    let mut add = |s: &str| {
        let tokens = s
            .split(|c: char| c.is_whitespace() || "\"',:=;&?".contains(c))
            .filter(|t| {
                t.len() >= 12
                    && t.chars().any(|c| c.is_ascii_digit())
                    && t.chars().any(|c| c.is_ascii_alphabetic())
            });
        for piece in std::iter::once(s.trim()).chain(tokens) {
            if piece.len() >= 12 && !public.contains(piece) {
                out.insert(piece.to_owned());
            }
        }
    };
    for s in secrets {
        for field in ["data", "stringData"] {
            for v in s[field].as_object().into_iter().flat_map(|m| m.values()) {
                let Some(v) = v.as_str() else { continue };
                add(v);
                if field == "data" {
                    if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(v) {
                        add(&String::from_utf8_lossy(&d));
                    }
                }
            }
        }
        let ann = s
            .pointer("/metadata/annotations")
            .and_then(Value::as_object);
        for v in ann.into_iter().flat_map(|m| m.values()) {
            let Ok(applied) = serde_json::from_str::<Value>(v.as_str().unwrap_or("")) else {
                continue;
            };
            for field in ["data", "stringData"] {
                for v in applied[field]
                    .as_object()
                    .into_iter()
                    .flat_map(|m| m.values())
                {
                    add(v.as_str().unwrap_or(""));
                }
            }
        }
    }
    out
}

struct Canary {
    needles: BTreeSet<String>,
    checked: usize,
}

impl Canary {
    fn check(&mut self, what: &str, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        for n in &self.needles {
            // The message names the value by its first characters only.
            assert!(
                !text.contains(n.as_str()),
                "{what} holds a Secret value starting `{}`",
                n.chars().take(6).collect::<String>()
            );
        }
        self.checked += 1;
    }

    fn check_output(&mut self, what: &str, o: &Output) {
        self.check(&format!("{what} (stdout)"), &o.stdout);
        self.check(&format!("{what} (stderr)"), &o.stderr);
    }
}

fn canary_config(rec: &Path, secrets: Vec<Value>) -> Config {
    let mut synthetic = HashMap::new();
    synthetic.insert(
        "/api/v1/secrets".to_owned(),
        SyntheticList {
            api_version: "v1".into(),
            kind: "SecretList".into(),
            items: Arc::new(secrets),
        },
    );
    Config {
        recordings: rec.to_path_buf(),
        synthetic,
        ..Config::default()
    }
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[cfg(unix)]
fn assert_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
}

#[cfg(not(unix))]
fn assert_private(_: &Path) {}

#[test]
fn no_secret_value_reaches_any_output() {
    let Some(rec) = recordings() else { return };
    let mut secrets = palisade_replay::recorded_items(&rec, "/api/v1/secrets").unwrap();
    // The recorded metadata-only list: what the API server really sends for a Secret read as
    // metadata, last-applied annotations with the applied values included.
    let meta_list: Value = serde_json::from_slice(
        &std::fs::read(rec.join("responses/0114-200-list_secrets_metadata_only.json")).unwrap(),
    )
    .unwrap();
    let with_applied = meta_list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s.pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration")
                .is_some()
        })
        .count();
    assert!(
        with_applied >= 8,
        "{with_applied} recorded Secrets with last-applied"
    );
    secrets.push(canary_secret(CANARY_ANNOTATION));
    let (_srv, dir, kc) = serve(canary_config(&rec, secrets.clone()));

    // A snapshot first: what the cluster publishes outside Secrets (the cluster CA in every
    // namespace, URLs in Deployments...) is not a secret, and is left out of the search.
    let a = dir.path().join("a.snapshot");
    let o = palisade(&["snapshot", "-o", a.to_str().unwrap()], &kc);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let raw = gunzip(&a);
    let public: String = String::from_utf8_lossy(&raw)
        .lines()
        .filter(|l| !l.contains("\"kind\":\"Secret\""))
        .collect();
    let mut all = secrets.clone();
    all.extend(meta_list["items"].as_array().unwrap().iter().cloned());
    let mut canary = Canary {
        needles: needles(&all, &public),
        checked: 0,
    };
    for planted in [CANARY_PASSWORD, CANARY_TOKEN, CANARY_ANNOTATION] {
        assert!(canary.needles.contains(planted));
    }
    assert!(canary.needles.len() > 20, "{}", canary.needles.len());
    canary.check_output("snapshot", &o);
    assert!(String::from_utf8_lossy(&raw).contains("\"name\":\"canary\""));
    canary.check("the snapshot file", &raw);
    assert_private(&a);

    // Live scans, every format.
    for f in FORMATS {
        let o = palisade(&["scan", "--cluster", "--fail-on", "none", "-f", f], &kc);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{f}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        canary.check_output(&format!("scan --cluster -f {f}"), &o);
    }

    // A second snapshot where the canary's annotation changed, then diff and scans of both.
    let mut changed = secrets.clone();
    *changed.last_mut().unwrap() = canary_secret("canary-changed-value-9d2c77");
    canary
        .needles
        .insert("canary-changed-value-9d2c77".to_owned());
    let srv_b = Replay::start(canary_config(&rec, changed)).unwrap();
    let kc_b = dir.path().join("kubeconfig-b");
    srv_b.write_kubeconfig(&kc_b).unwrap();
    let b = dir.path().join("b.snapshot");
    let o = palisade(&["snapshot", "-o", b.to_str().unwrap()], &kc_b);
    assert_eq!(o.status.code(), Some(0));
    canary.check("the second snapshot file", &gunzip(&b));
    for f in ["table", "json"] {
        let o = palisade(
            &[
                "diff",
                a.to_str().unwrap(),
                b.to_str().unwrap(),
                "-f",
                f,
                "--fail-on",
                "none",
            ],
            &kc,
        );
        assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
        canary.check_output(&format!("diff -f {f}"), &o);
    }
    for f in FORMATS {
        let o = palisade(
            &["scan", a.to_str().unwrap(), "--fail-on", "none", "-f", f],
            &kc,
        );
        assert_eq!(o.status.code(), Some(0), "{f}");
        canary.check_output(&format!("scan SNAPSHOT -f {f}"), &o);
    }

    // Export: every file, every mode.
    let out = dir.path().join("export");
    let o = palisade(&["export", a.to_str().unwrap(), out.to_str().unwrap()], &kc);
    assert_eq!(o.status.code(), Some(0));
    canary.check_output("export", &o);
    let files = files_under(&out);
    assert!(files.len() > 10, "{files:?}");
    assert!(files
        .iter()
        .any(|f| std::fs::read_to_string(f).unwrap().contains("# - canary")));
    for f in &files {
        canary.check(&f.display().to_string(), &std::fs::read(f).unwrap());
        assert_private(f);
    }

    // A snapshot written by another tool, with the values in it: reading it redacts them.
    let old = dir.path().join("old.snapshot");
    let header = palisade_load::snapshot::read(&a).unwrap().header;
    let lines: Vec<String> = secrets.iter().map(Value::to_string).collect();
    palisade_load::snapshot::write_lines(&old, header, &lines).unwrap();
    assert!(String::from_utf8_lossy(&gunzip(&old)).contains(CANARY_PASSWORD));
    for f in FORMATS {
        let o = palisade(
            &["scan", old.to_str().unwrap(), "--fail-on", "none", "-f", f],
            &kc,
        );
        assert!(matches!(o.status.code(), Some(0 | 1)), "{o:?}");
        canary.check_output(&format!("scan OLD-SNAPSHOT -f {f}"), &o);
    }
    let o = palisade(
        &[
            "diff",
            old.to_str().unwrap(),
            a.to_str().unwrap(),
            "--fail-on",
            "none",
        ],
        &kc,
    );
    canary.check_output("diff OLD-SNAPSHOT", &o);
    let out_old = dir.path().join("export-old");
    let o = palisade(
        &["export", old.to_str().unwrap(), out_old.to_str().unwrap()],
        &kc,
    );
    canary.check_output("export OLD-SNAPSHOT", &o);
    for f in files_under(&out_old) {
        canary.check(&f.display().to_string(), &std::fs::read(&f).unwrap());
    }

    // Manifests: the same Secrets as files, every format.
    let manifests = dir.path().join("secrets.yaml");
    let mut text = String::new();
    for s in &secrets {
        text.push_str("---\n");
        text.push_str(&s.to_string());
        text.push('\n');
    }
    std::fs::write(&manifests, text).unwrap();
    for f in FORMATS {
        let o = palisade(
            &[
                "scan",
                manifests.to_str().unwrap(),
                "--fail-on",
                "none",
                "-f",
                f,
            ],
            &kc,
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{f}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        canary.check_output(&format!("scan secrets.yaml -f {f}"), &o);
    }
    eprintln!(
        "{} outputs checked for {} Secret values",
        canary.checked,
        canary.needles.len()
    );
}
