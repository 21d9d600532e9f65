//! Any text as RBAC objects: building the authorizer, answering a few requests, listing who
//! can read secrets and searching escalation paths never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_rbac::Rbac;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = palisade_load::load_str("fuzz.yaml", text);
    let rbac = Rbac::from_objects(loaded.objects.iter().map(|o| o.value()));
    let _ = rbac.escalation_paths();
    let _ = rbac.bindings_to_missing_service_accounts();
    for verb in ["get", "create", "escalate", "impersonate"] {
        let req = palisade_rbac::Request::resource(verb, "", "secrets").in_namespace("default");
        let _ = rbac.who_can(&req);
    }
});
