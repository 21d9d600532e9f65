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

/// References are written once, in each rule's `references`; the `## References` section of
/// every page (and of `palisade explain`) is generated from them.
#[test]
fn no_rule_doc_writes_its_references_by_hand() {
    for m in palisade_analyze::catalogue::all() {
        assert!(
            !m.doc.contains("## References"),
            "{}: its documentation has a hand-written `## References` section; list the \
             references in its metadata only",
            m.id
        );
        let page = palisade_dev::rule_page(m);
        assert_eq!(
            page.matches("\n## References\n").count(),
            usize::from(!m.references.is_empty()),
            "{}: the page has no (or more than one) generated `## References` section",
            m.id
        );
        for r in m.references {
            assert!(
                page.contains(&format!("(`{r}`)")),
                "{}: `{r}` is missing from the page's references",
                m.id
            );
        }
    }
}

/// README's family table is generated from `palisade_core::FAMILIES`: a table that disagrees
/// with it (a family added, a rule count changed) fails the check.
#[test]
fn a_stale_family_table_fails_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let readme = std::fs::read_to_string(palisade_dev::repo_root().join("README.md")).unwrap();
    let stale = palisade_dev::with_families_table(
        &readme,
        "| family | name | rules | covers |\n|---|---|---|---|\n| `POD` | pod-security | 1 of `palisade scan` | pods |\n",
    )
    .expect("README.md has the family table markers");
    std::fs::write(dir.path().join("README.md"), &stale).unwrap();
    let problems = palisade_dev::generate_docs(dir.path(), true).unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p == "README.md's family table is stale"),
        "{problems:?}"
    );
    // Regenerating writes the table back.
    palisade_dev::generate_docs(dir.path(), false).unwrap();
    let written = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
    assert_eq!(written, readme);
    std::fs::write(dir.path().join("README.md"), "no table\n").unwrap();
    let problems = palisade_dev::generate_docs(dir.path(), true).unwrap();
    assert!(
        problems.iter().any(|p| p.contains("has no family table")),
        "{problems:?}"
    );
}
