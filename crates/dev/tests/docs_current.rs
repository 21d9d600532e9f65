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
