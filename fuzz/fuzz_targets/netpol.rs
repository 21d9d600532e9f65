//! Any text as NetworkPolicies, Namespaces and workloads: building the model and asking
//! whether each workload can reach each other one (and an outside address) never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use palisade_netpol::{Endpoint, Netpol};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let loaded = palisade_load::load_str("fuzz.yaml", text);
    let net = Netpol::from_objects(loaded.objects.iter().map(|o| o.value()));
    let ends: Vec<Endpoint> = net
        .workloads()
        .iter()
        .take(8)
        .map(|w| Endpoint::Workload {
            namespace: w.namespace.clone(),
            name: w.name.clone(),
            kind: Some(w.kind.clone()),
        })
        .chain(["10.0.0.1", "169.254.169.254"].iter().filter_map(|s| Endpoint::parse(s).ok()))
        .collect();
    for from in &ends {
        for to in &ends {
            let _ = net.can(from, to, None);
        }
    }
});
