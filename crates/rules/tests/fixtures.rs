//! The generic fixture test: every rule has `fixtures/<ID>/pass_*.yaml` and `fail_*.yaml`;
//! each fail fixture must produce at least one finding of that rule and each pass fixture
//! none. The findings of each fail fixture are snapshotted (`<ID>_<case>.snap`).

#![allow(clippy::print_stderr)]

use palisade_core::{Context, Inventory, ObjectId, PssLevel, Rule, Scope};
use std::fmt::Write;
use std::path::Path;

fn run(rule: &dyn Rule, file: &Path) -> (Vec<String>, usize) {
    let name = format!(
        "fixtures/{}/{}",
        rule.meta().id,
        file.file_name().unwrap().to_string_lossy()
    );
    let text = std::fs::read_to_string(file).unwrap();
    let loaded = palisade_load::load_str(&name, &text);
    assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors);
    let inv = Inventory::new(loaded.objects);
    // Data a front-end would load (`--cve-data DIR`): `fixtures/<ID>/data/`.
    let data = file.parent().unwrap().join("data");
    if data.is_dir() {
        let db = palisade_node::cve::CveDatabase::load(&data).unwrap();
        inv.derived(move |_| db);
    }
    // Vulnerability reports a front-end would load (`--vuln-report FILE...`):
    // `fixtures/<ID>/reports/`.
    let reports = file.parent().unwrap().join("reports");
    if reports.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(&reports)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let mut evidence = palisade_supply::vuln::VulnEvidence::default();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let name = format!("reports/{}", f.file_name().unwrap().to_string_lossy());
            evidence
                .reports
                .extend(palisade_supply::vuln::parse_report(&name, &text).unwrap());
        }
        inv.derived(move |_| evidence);
    }
    // Signature verification results a front-end would produce (`--verify-images`):
    // `fixtures/<ID>/signatures/results.json`, `{"IMAGE": {"policy", "digest", "result"}}`
    // with result `verified`, `unsigned`, `untrusted`, `invalid:REASON`, `moved:DIGEST`,
    // `outside`, `error-fail:REASON` or `error-ignore:REASON`.
    let signatures = file.parent().unwrap().join("signatures/results.json");
    if signatures.is_file() {
        inv.derived(move |_| signature_evidence(&signatures));
    }
    // A rule is exercised at its own level (a baseline check that the restricted level
    // replaces reports only under the baseline profile).
    let profile = rule.meta().level.unwrap_or(PssLevel::Restricted);
    // A fixture may set rule options on its first line: `# options: {"allowedRegistries": [...]}`.
    let options: Option<serde_json::Map<String, serde_json::Value>> = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# options:"))
        .map(|json| serde_json::from_str(json.trim()).expect("fixture options are a JSON object"));
    let mut cx = Context::new(rule.meta(), options.as_ref(), profile).with_inventory(&inv);
    // The day dates are judged against, on a leading comment line: `# today: 2026-12-01`.
    if let Some(day) = text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| l.strip_prefix("# today:"))
    {
        cx = cx.with_today(
            day.trim()
                .parse()
                .expect("fixture `# today:` is YYYY-MM-DD"),
        );
    }
    match rule.meta().scope {
        Scope::Object => {
            for (i, o) in inv.objects().iter().enumerate() {
                cx.set_object(ObjectId(i));
                rule.check(o, &mut cx);
            }
        }
        Scope::Inventory => rule.check_inventory(&inv, &mut cx),
        Scope::Host | Scope::Event => {
            panic!("{}: the catalogue's rules read objects", rule.meta().id)
        }
    }
    let findings = cx.take_findings();
    let lines = findings
        .iter()
        .map(|f| {
            let o = inv.get(f.object);
            let loc = o.locate(f.path.as_deref()).unwrap();
            let mut s = format!(
                "{}:{} {} [{}] {}",
                loc.line,
                loc.column,
                o.reference(),
                f.path.as_deref().unwrap_or("-"),
                f.message
            );
            if let Some(sev) = f.severity {
                let _ = write!(s, " (severity {sev})");
            }
            s
        })
        .collect();
    (lines, findings.len())
}

fn signature_evidence(path: &Path) -> palisade_supply::signatures::SignatureEvidence {
    use palisade_supply::cosign::Verdict;
    use palisade_supply::signatures::{ImageVerification, SignatureResult};
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut ev = palisade_supply::signatures::SignatureEvidence::default();
    for (image, v) in doc.as_object().unwrap() {
        let digest = v["digest"].as_str().map(str::to_owned);
        let r = v["result"].as_str().unwrap();
        let (kind, arg) = r.split_once(':').unwrap_or((r, ""));
        let result = match kind {
            "verified" => SignatureResult::Judged(Verdict::Verified {
                key: "keys/release.pub".into(),
                key_id: "sha256:00".into(),
            }),
            "unsigned" => SignatureResult::Judged(Verdict::Unsigned),
            "untrusted" => SignatureResult::Judged(Verdict::UntrustedSigner {
                signatures: 1,
                reason: None,
            }),
            "invalid" => SignatureResult::Judged(Verdict::InvalidSignature { reason: arg.into() }),
            "moved" => SignatureResult::Judged(Verdict::TagMoved {
                running: digest.clone().unwrap(),
                signed: arg.into(),
            }),
            "outside" => SignatureResult::OutsideTrustPolicies,
            "error-fail" | "error-ignore" => SignatureResult::RegistryError {
                reason: arg.into(),
                fail_closed: kind == "error-fail",
            },
            other => panic!("{}: unknown result {other}", path.display()),
        };
        ev.images.insert(
            image.clone(),
            ImageVerification {
                policy: v["policy"].as_str().unwrap_or("").to_owned(),
                digest,
                result,
            },
        );
    }
    ev
}

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut checked = 0;
    for rule in palisade_rules::RULES {
        let id = rule.meta().id;
        let dir = root.join(id);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("{id} has no fixtures directory {}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        let (mut pass, mut fail) = (0, 0);
        for path in entries {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            let (lines, n) = run(*rule, &path);
            if let Some(case) = stem.strip_prefix("fail_") {
                fail += 1;
                assert!(n > 0, "{id}/{stem}: expected findings, got none");
                insta::assert_snapshot!(format!("{id}_{case}"), lines.join("\n"));
            } else if stem.starts_with("pass_") {
                pass += 1;
                assert_eq!(
                    n,
                    0,
                    "{id}/{stem}: expected no finding, got:\n{}",
                    lines.join("\n")
                );
            } else {
                panic!("{id}: fixture {stem} must start with pass_ or fail_");
            }
            checked += 1;
        }
        assert!(
            pass > 0 && fail > 0,
            "{id} needs at least one pass_ and one fail_ fixture"
        );
    }
    eprintln!("{checked} fixtures checked");
}
