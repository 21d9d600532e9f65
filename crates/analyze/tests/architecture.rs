//! The documents that describe the workspace agree with it: the dependency diagram of
//! `docs/architecture.md` with `cargo metadata`, the Layout table of README.md with the crates
//! under `crates/` (each with its own README), and README's rule-family table with the rule
//! registry.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The diagram's name of a package: `palisade-rules` is `rules`, the binary `cli`.
fn short(package: &str) -> String {
    match package {
        "palisade" => "cli".to_owned(),
        p => p.strip_prefix("palisade-").unwrap_or(p).to_owned(),
    }
}

/// The workspace's packages: name -> (manifest directory, normal dependencies on other
/// workspace packages).
fn workspace() -> BTreeMap<String, (PathBuf, BTreeSet<String>)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();
    packages
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap();
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .filter_map(|d| d["name"].as_str())
                .filter(|d| names.contains(d) && *d != name)
                .map(str::to_owned)
                .collect();
            let dir = PathBuf::from(p["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_path_buf();
            (name.to_owned(), (dir, deps))
        })
        .collect()
}

/// The lines of the first fenced block of `lang` after `heading` in `text`.
fn fenced<'a>(text: &'a str, heading: &str, lang: &str) -> Vec<&'a str> {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("no `{heading}`"));
    text[at..]
        .lines()
        .skip_while(|l| l.trim() != format!("```{lang}"))
        .skip(1)
        .take_while(|l| l.trim() != "```")
        .collect()
}

/// The rows of the first Markdown table after `heading`, as cells.
fn table(text: &str, heading: &str) -> Vec<Vec<String>> {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("no `{heading}`"));
    text[at..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().trim_matches('`').to_owned())
                .collect()
        })
        .collect()
}

#[test]
fn the_dependency_diagram_is_cargo_metadata() {
    let doc = read("docs/architecture.md");
    let drawn: BTreeSet<(String, String)> = fenced(&doc, "## Dependencies", "mermaid")
        .into_iter()
        .filter_map(|l| l.split_once("-->"))
        .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
        .collect();
    let actual: BTreeSet<(String, String)> = workspace()
        .into_iter()
        .flat_map(|(name, (_, deps))| deps.into_iter().map(move |d| (short(&name), short(&d))))
        .collect();
    let missing: Vec<_> = actual.difference(&drawn).collect();
    let stale: Vec<_> = drawn.difference(&actual).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "docs/architecture.md's diagram disagrees with cargo metadata:\n\
         edges missing from the diagram: {missing:?}\nedges that do not exist: {stale:?}"
    );
}

#[test]
fn the_layout_lists_every_crate_and_every_crate_has_a_readme() {
    let readme = read("README.md");
    let listed: BTreeMap<String, String> = table(&readme, "## Layout")
        .into_iter()
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect();
    let root = root().canonicalize().unwrap();
    let mut crates = BTreeMap::new();
    for (name, (dir, _)) in workspace() {
        let rel = dir
            .canonicalize()
            .unwrap()
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            dir.join("README.md").is_file(),
            "{rel} ({name}) has no README.md"
        );
        crates.insert(rel, name);
    }
    assert_eq!(
        listed, crates,
        "README.md's Layout table (folder -> package) disagrees with the workspace"
    );
}

#[test]
fn the_readme_rule_family_table_is_the_registry() {
    let readme = read("README.md");
    let mut registry: BTreeMap<String, usize> = BTreeMap::new();
    for meta in palisade_analyze::catalogue::scan_rules() {
        let family = meta.id.trim_end_matches(|c: char| c.is_ascii_digit());
        *registry.entry(family.to_owned()).or_default() += 1;
    }
    // The table is generated from the family declarations (`generate-docs`); its rules column
    // says `N of `palisade scan`` for each family that has scan rules.
    let table: BTreeMap<String, usize> = table(&readme, "<!-- families: generated")
        .into_iter()
        .filter_map(|row| {
            let rules = row[2].replace('`', "");
            let n = rules
                .split(", ")
                .find_map(|part| part.strip_suffix(" of palisade scan")?.parse().ok())?;
            Some((row[0].clone(), n))
        })
        .collect();
    assert_eq!(
        table, registry,
        "README.md's rule-family table (family -> rules of `palisade scan`) disagrees with the registry"
    );
}
