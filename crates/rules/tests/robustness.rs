//! No rule panics on malformed objects: every node of every fixture object is replaced, in
//! turn, by values of every other JSON type, and every rule runs on the result (per-object
//! rules on the object, inventory rules on an inventory holding it).

use palisade_core::{Context, Inventory, Object, ObjectId, PssLevel, Scope, SpanIndex};
use serde_json::{json, Value};
use std::path::Path;

fn run_all(objects: Vec<Object>) {
    let inv = Inventory::new(objects);
    for rule in palisade_rules::RULES {
        let options = serde_json::Map::from_iter([(
            "allowedRegistries".to_owned(),
            json!(["contoso.azurecr.io/"]),
        )]);
        let opts = (!rule.meta().options.is_empty()).then_some(&options);
        let mut cx = Context::new(rule.meta(), opts, PssLevel::Restricted).with_inventory(&inv);
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
        // Every finding must point somewhere resolvable or nowhere: locating never panics.
        for f in cx.take_findings() {
            let _ = inv.get(f.object).locate(f.path.as_deref());
        }
    }
}

#[test]
fn no_rule_panics_on_malformed_objects() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    let replacements = [
        json!(null),
        json!(7),
        json!("x"),
        json!([]),
        json!({}),
        json!(true),
    ];
    let mut runs = 0;
    for dir in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            // Fixture data folders (CVE data for VER004) hold no manifests.
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let loaded = palisade_load::load_str("f.yaml", &text);
            let values: Vec<Value> = loaded.objects.iter().map(|o| o.value().clone()).collect();
            for (i, v) in values.iter().enumerate() {
                let ptrs = palisade_testkit::json_pointers(v);
                for p in ptrs {
                    if p == "/kind" || p == "/apiVersion" || p.starts_with("/metadata/name") {
                        continue;
                    }
                    for r in &replacements {
                        let mut mutated = values.clone();
                        if let Some(slot) = mutated[i].pointer_mut(&p) {
                            *slot = r.clone();
                        }
                        let objects: Vec<Object> = mutated
                            .into_iter()
                            .filter_map(|v| Object::from_value(v, None, SpanIndex::default()).ok())
                            .collect();
                        run_all(objects);
                        runs += 1;
                    }
                }
            }
        }
    }
    assert!(runs > 1000, "{runs}");
}
