//! Any text as policy files (ConstraintTemplates with Rego or CEL, constraints,
//! ValidatingAdmissionPolicies and bindings) and the objects they judge: compiling and
//! evaluating never panics. Policies that compile become rules (leaked on purpose, as in the
//! CLI), so run with `-detect_leaks=0`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_analyze::{analyze, ExtraRules, InputSummary, Options};
use palisade_core::Inventory;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = palisade_load::load_str("fuzz.yaml", text);
    let mut set = palisade_policy::PolicySet::default();
    set.add_objects(&loaded.objects);
    let rules = palisade_policy::rules_for(
        &set,
        palisade_policy::SCAN_POINT,
        palisade_policy::EvalOptions::default(),
    );
    if rules.is_empty() {
        return;
    }
    let mut opts = Options::new("2026-01-01".parse().unwrap());
    opts.extra_rules = ExtraRules(
        rules
            .iter()
            .map(|r| *r as &'static dyn palisade_core::Rule)
            .collect(),
    );
    opts.select = rules.iter().map(|r| palisade_core::Rule::meta(*r).id.to_owned()).collect();
    let objects: Vec<_> = loaded
        .objects
        .into_iter()
        .filter(|o| !palisade_policy::is_policy_object(o))
        .collect();
    let _ = analyze(&Inventory::new(objects), InputSummary::default(), &opts);
});
