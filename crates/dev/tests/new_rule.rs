//! `palisade-dev new-rule` on a copy of the repository: the files it writes, and the new rule
//! compiled into the catalogue crate with its fixtures passing (only `palisade-rules` and its
//! dependencies are built, in their own target directory).

use palisade_dev::new_rule::{new_rule, NewRuleError};
use std::path::Path;
use std::process::Command;

/// Copies the repository's sources (no `.git`, no build output) to `to`.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".git" || name == "target" {
            continue;
        }
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).unwrap();
        }
    }
}

fn copy_repo(to: &Path) {
    let root = palisade_dev::repo_root();
    for file in ["Cargo.toml", "Cargo.lock", "README.md"] {
        std::fs::copy(root.join(file), to.join(file)).unwrap();
    }
    copy_tree(&root.join("crates"), &to.join("crates"));
    copy_tree(&root.join("docs/rules"), &to.join("docs/rules"));
}

#[test]
fn new_rule_scaffolds_a_rule_that_compiles_and_passes_its_fixtures() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_repo(root);

    // The next free id: one past the family's highest.
    let highest = palisade_analyze::catalogue::all()
        .iter()
        .filter_map(|m| m.id.strip_prefix("POD")?.parse::<u32>().ok())
        .max()
        .unwrap();
    let expected_id = format!("POD{:03}", highest + 1);
    let last_pod_entry = std::fs::read_to_string(root.join("crates/rules/src/registry.rs"))
        .unwrap()
        .lines()
        .rfind(|l| l.starts_with("    &pod_security::"))
        .unwrap()
        .to_owned();

    let s = new_rule(root, "pod-security", "stdin-container").unwrap();
    assert_eq!(s.id, expected_id);
    assert_eq!(
        (s.folder, s.module.as_str(), s.type_name.as_str()),
        ("pod_security", "stdin_container", "StdinContainer")
    );
    let rule = std::fs::read_to_string(
        root.join("crates/rules/src/rules/pod_security/stdin_container.rs"),
    )
    .unwrap();
    assert!(rule.contains(&format!("id: \"{expected_id}\",")), "{rule}");
    assert!(rule.contains("name: \"stdin-container\","), "{rule}");
    assert!(rule.contains("pub(crate) struct StdinContainer;"), "{rule}");
    assert!(
        !rule.contains("/// ## References"),
        "references are generated"
    );
    let mod_rs =
        std::fs::read_to_string(root.join("crates/rules/src/rules/pod_security/mod.rs")).unwrap();
    let mods: Vec<&str> = mod_rs
        .lines()
        .filter(|l| l.starts_with("pub(crate) mod "))
        .collect();
    assert!(mods.contains(&"pub(crate) mod stdin_container;"));
    let mut sorted = mods.clone();
    sorted.sort_unstable();
    assert_eq!(mods, sorted, "mod lines stay in name order");
    // The registry entry follows the family's last rule: id order.
    let registry = std::fs::read_to_string(root.join("crates/rules/src/registry.rs")).unwrap();
    let lines: Vec<&str> = registry.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == "    &pod_security::stdin_container::StdinContainer,")
        .expect("registry entry");
    assert_eq!(lines[at - 1], last_pod_entry);
    let fixtures = root.join("crates/rules/fixtures").join(&expected_id);
    assert!(fixtures.join("fail_example.yaml").is_file());
    assert!(fixtures.join("pass_example.yaml").is_file());

    // What it refuses, writing nothing.
    assert!(matches!(
        new_rule(root, "XYZ", "a"),
        Err(NewRuleError::UnknownFamily(_))
    ));
    assert!(matches!(
        new_rule(root, "DET", "a"),
        Err(NewRuleError::NoFolder("DET"))
    ));
    assert!(matches!(
        new_rule(root, "POD", "Stdin_Container"),
        Err(NewRuleError::BadName(_))
    ));
    assert!(matches!(
        new_rule(root, "NET", "privileged-container"),
        Err(NewRuleError::Exists(_))
    ));
    assert!(matches!(
        new_rule(root, "POD", "stdin-container"),
        Err(NewRuleError::Exists(_))
    ));

    // The new rule compiles into the catalogue, its fixture tests exist (they are made from
    // the registry) and pass: the fail fixture reports, the pass fixture does not.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| palisade_dev::repo_root().join("target"))
        .join("new-rule-scaffold");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["test", "-p", "palisade-rules", "--test", "fixtures", "--"])
        .arg(format!("{expected_id}::"))
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        // The new fail fixture's snapshot is written, as `cargo insta accept` would.
        .env("INSTA_UPDATE", "always")
        .env("INSTA_FORCE_PASS", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for test in ["has_pass_and_fail_fixtures", "fail_example", "pass_example"] {
        assert!(
            stdout.lines().any(
                |l| l.starts_with(&format!("test {expected_id}::{test} ")) && l.ends_with("ok")
            ),
            "{expected_id}::{test} did not run and pass:\n{stdout}"
        );
    }
    assert!(stdout.contains("3 passed"), "{stdout}");
    let snapshot = std::fs::read_to_string(
        root.join("crates/rules/tests/snapshots")
            .join(format!("fixtures__{expected_id}_example.snap")),
    )
    .unwrap();
    assert!(
        snapshot.contains("[/spec/containers/0/stdin] container \"shell\" keeps stdin open"),
        "{snapshot}"
    );
}
