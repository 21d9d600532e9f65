//! Unit-test helper: runs one rule over a YAML stream or a fixture file, the way the generic
//! fixture test does, and returns its findings with the fix hints and properties the
//! snapshots leave out.

use palisade_core::{Context, Finding, Inventory, ObjectId, PssLevel, Rule, Scope};

/// The findings of `rule` over a multi-document YAML stream, as `(object name, finding)`.
pub(crate) fn run(rule: &dyn Rule, yaml: &str) -> Vec<(String, Finding)> {
    let loaded = palisade_load::load_str("test.yaml", yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let inv = Inventory::new(loaded.objects);
    let profile = rule.meta().level.unwrap_or(PssLevel::Restricted);
    let mut cx = Context::new(rule.meta(), None, profile).with_inventory(&inv);
    match rule.meta().scope {
        Scope::Object => {
            for (i, o) in inv.objects().iter().enumerate() {
                cx.set_object(ObjectId(i));
                rule.check(o, &mut cx);
            }
        }
        Scope::Inventory => rule.check_inventory(&inv, &mut cx),
        // Host checks and detection rules are not in the scan catalogue's rule set.
        Scope::Host | Scope::Event => unreachable!("{} is not a scan rule", rule.meta().id),
    }
    cx.take_findings()
        .into_iter()
        .map(|f| (inv.get(f.object).name.clone(), f))
        .collect()
}

/// The findings of `rule` over `fixtures/<ID>/<file>`.
pub(crate) fn run_fixture(rule: &dyn Rule, file: &str) -> Vec<(String, Finding)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rule.meta().id)
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    run(rule, &text)
}
