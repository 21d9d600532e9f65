//! Fails when `docs/rules` is not what `generate-docs` would write.

#[test]
fn rule_docs_are_current() {
    let problems = palisade_dev::generate_docs(&palisade_dev::repo_root(), true).unwrap();
    assert!(
        problems.is_empty(),
        "{}\nrun `cargo run -p palisade-dev -- generate-docs`",
        problems.join("\n")
    );
}
