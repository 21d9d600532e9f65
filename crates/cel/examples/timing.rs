//! Times the Gatekeeper capabilities template's CEL code block per object.
#![allow(clippy::print_stdout)]
use palisade_cel::{native_validation_code, CompiledGatekeeperCode, Request};

fn main() {
    let lib = std::env::args().nth(1).expect("gatekeeper-library dir");
    let t: serde_json::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(format!(
            "{lib}/library/pod-security-policy/capabilities/template.yaml"
        ))
        .unwrap(),
    )
    .unwrap();
    let code = CompiledGatekeeperCode::compile(native_validation_code(&t).unwrap()).unwrap();
    let pod: serde_json::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(format!("{lib}/library/pod-security-policy/capabilities/samples/psp-capabilities-baseline/example_disallowed.yaml")).unwrap(),
    )
    .unwrap();
    let params = serde_json::json!({"allowedCapabilities": ["something"], "requiredDropCapabilities": ["must_drop"]});
    let req = Request::for_object(&pod);
    let n = 2000;
    let start = std::time::Instant::now();
    let mut count = 0;
    for _ in 0..n {
        count += code.evaluate(&req, Some(&params)).unwrap().len();
    }
    let per = start.elapsed() / n;
    println!("{count} violations; {per:?} per object");
}
