//! The fixture tests: every rule has `fixtures/<ID>/pass_*.yaml` and `fail_*.yaml`; each
//! fail fixture must produce at least one finding of that rule and each pass fixture none.
//! The findings of each fail fixture are snapshotted (`<ID>_<case>.snap`).
//!
//! One test per fixture, named `<ID>::<file stem>` (`POD001::fail_privileged`), and one
//! `<ID>::has_pass_and_fail_fixtures` per rule, so `cargo test -p palisade-rules POD001` runs
//! one rule's fixtures (libtest-mimic: this target has `harness = false`).

use libtest_mimic::{Arguments, Failed, Trial};
use palisade_core::{Context, Inventory, ObjectId, PssLevel, Rule, Scope};
use std::fmt::Write;
use std::path::{Path, PathBuf};

fn run(rule: &dyn Rule, file: &Path) -> (Vec<String>, usize) {
    let name = format!(
        "fixtures/{}/{}",
        rule.meta().id,
        file.file_name().unwrap().to_string_lossy()
    );
    let text = std::fs::read_to_string(file).unwrap();
    let mut loaded = palisade_load::load_str(&name, &text);
    assert!(loaded.errors.is_empty(), "{name}: {:?}", loaded.errors);
    // A fixture read as a cluster scan reads it (a leading `# cluster: true`): the Pods a
    // workload of the file controls are folded into it, leaving what they run.
    let mut running = palisade_core::running::RunningDigests::default();
    if text
        .lines()
        .take_while(|l| l.starts_with('#'))
        .any(|l| l.trim() == "# cluster: true")
    {
        let values: Vec<serde_json::Value> =
            loaded.objects.iter().map(|o| o.value().clone()).collect();
        let owned = palisade_load::cluster::owned_indexes(&values);
        running = palisade_load::cluster::loaded_from_cluster(values, &[], "the fixture").running;
        let mut i = 0;
        loaded.objects.retain(|_| {
            i += 1;
            !owned.contains(&(i - 1))
        });
    }
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
    // with result `verified`, `unsigned`, `untrusted`, `invalid:REASON`, `moved:SIGNED` (or
    // `moved:SIGNED,TAG` with the digest the tag points to now), `outside`,
    // `error-fail:REASON` or `error-ignore:REASON`. A key `IMAGE running=DIGEST` is the
    // result for a Pod whose status says it runs IMAGE at DIGEST (a Pod of the file, or one
    // folded into its workload).
    let signatures = file.parent().unwrap().join("signatures/results.json");
    if signatures.is_file() {
        let mut evidence = signature_evidence(&signatures);
        evidence.folded = running;
        inv.derived(move |_| evidence);
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
            "moved" => {
                let (signed, tag) = match arg.split_once(',') {
                    Some((s, t)) => (s, Some(t.to_owned())),
                    None => (arg, None),
                };
                SignatureResult::Judged(Verdict::TagMoved {
                    running: digest.clone().unwrap(),
                    signed: signed.into(),
                    tag,
                })
            }
            "outside" => SignatureResult::OutsideTrustPolicies,
            "error-fail" | "error-ignore" => SignatureResult::RegistryError {
                reason: arg.into(),
                fail_closed: kind == "error-fail",
            },
            other => panic!("{}: unknown result {other}", path.display()),
        };
        let key = match image.split_once(" running=") {
            Some((image, running)) => palisade_supply::signatures::ImageKey {
                image: image.to_owned(),
                running: Some(running.to_owned()),
                logins: None,
            },
            None => palisade_supply::signatures::ImageKey::image(image.clone()),
        };
        ev.images.insert(
            key,
            ImageVerification {
                policy: v["policy"].as_str().unwrap_or("").to_owned(),
                digest,
                result,
            },
        );
    }
    ev
}

/// Checks one fixture file of `rule`.
fn check_fixture(rule: &'static dyn Rule, path: &Path) -> Result<(), Failed> {
    let id = rule.meta().id;
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    if !stem.starts_with("fail_") && !stem.starts_with("pass_") {
        return Err(format!("{id}: fixture {stem} must start with pass_ or fail_").into());
    }
    let (lines, n) = run(rule, path);
    if let Some(case) = stem.strip_prefix("fail_") {
        if n == 0 {
            return Err(format!("{id}/{stem}: expected findings, got none").into());
        }
        insta::assert_snapshot!(format!("{id}_{case}"), lines.join("\n"));
    } else if n != 0 {
        return Err(format!(
            "{id}/{stem}: expected no finding, got:\n{}",
            lines.join("\n")
        )
        .into());
    }
    Ok(())
}

/// The fixture files of a rule, sorted, or why there are none.
fn fixture_files(root: &Path, id: &str) -> Result<Vec<PathBuf>, String> {
    let dir = root.join(id);
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| format!("{id} has no fixtures directory {}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for e in entries {
        let path = e.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut trials = Vec::new();
    for &rule in palisade_rules::RULES {
        let id = rule.meta().id;
        let files = fixture_files(&root, id);
        let (pass, fail) = match &files {
            Ok(files) => {
                let count = |prefix: &str| {
                    files
                        .iter()
                        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
                        .count()
                };
                (count("pass_"), count("fail_"))
            }
            Err(_) => (0, 0),
        };
        let problem = match &files {
            Err(e) => Some(e.clone()),
            Ok(_) if pass == 0 || fail == 0 => Some(format!(
                "{id} needs at least one pass_ and one fail_ fixture ({pass} pass_, {fail} fail_)"
            )),
            Ok(_) => None,
        };
        trials.push(Trial::test(
            format!("{id}::has_pass_and_fail_fixtures"),
            move || problem.map_or(Ok(()), |p| Err(p.into())),
        ));
        for path in files.unwrap_or_default() {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            trials.push(Trial::test(format!("{id}::{stem}"), move || {
                check_fixture(rule, &path)
            }));
        }
    }
    // A fixtures directory no rule owns (a renamed or removed rule) is never run: say so.
    let leftovers: Vec<String> = std::fs::read_dir(&root)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| !palisade_rules::RULES.iter().any(|r| r.meta().id == name))
                .collect()
        })
        .unwrap_or_default();
    trials.push(Trial::test("fixtures_belong_to_rules", move || {
        if leftovers.is_empty() {
            Ok(())
        } else {
            Err(format!("fixtures of no rule: {}", leftovers.join(", ")).into())
        }
    }));
    libtest_mimic::run(&args, trials).exit();
}
