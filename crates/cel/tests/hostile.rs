//! Expressions are user input: whatever the text, compiling and evaluating it ends with a
//! value or an error, never a panic or a hang.

use palisade_cel::{CompiledGatekeeperCode, KubeCel, Request, Scope};
use proptest::prelude::*;
use serde_json::json;

/// Fragments of CEL, so that generated text reaches past the lexer.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("object".to_owned()),
        Just(".spec".to_owned()),
        Just(".containers".to_owned()),
        Just("[0]".to_owned()),
        Just(".all(c, ".to_owned()),
        Just(".map(x, ".to_owned()),
        Just(".filter(x, ".to_owned()),
        Just("has(".to_owned()),
        Just(")".to_owned()),
        Just("(".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just(" + ".to_owned()),
        Just(" && ".to_owned()),
        Just(" ? ".to_owned()),
        Just(" : ".to_owned()),
        Just(" == ".to_owned()),
        Just("!".to_owned()),
        Just("-".to_owned()),
        Just("'a'".to_owned()),
        Just("1".to_owned()),
        Just("1.5".to_owned()),
        Just("null".to_owned()),
        Just(".?x".to_owned()),
        Just(".orValue(".to_owned()),
        Just("quantity('1Gi')".to_owned()),
        Just(".replace('a', 'aa')".to_owned()),
        Just(".split('')".to_owned()),
        Just("ip('::1')".to_owned()),
        Just("cidr('10.0.0.0/8')".to_owned()),
        Just("url('https://x/')".to_owned()),
        Just(".join(',')".to_owned()),
        Just("'%s'.format(".to_owned()),
        Just("variables.v".to_owned()),
        Just("size(".to_owned()),
        Just(", ".to_owned()),
        "[a-z ]{0,3}".prop_map(|s| s),
        any::<char>().prop_map(|c| c.to_string()),
    ]
}

fn expression() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 250, .. ProptestConfig::default() })]

    #[test]
    fn any_expression_compiles_and_evaluates_without_panicking(src in expression()) {
        let cel = KubeCel::new();
        if let Ok(c) = cel.compile(&src) {
            let mut scope = Scope::new();
            scope.set_object("object", &json!({"spec": {"containers": [{"name": "a", "image": "x"}]}}));
            let _ = cel.evaluate(&c, &scope);
        }
    }

    #[test]
    fn any_code_block_loads_and_evaluates_without_panicking(
        var in expression(), validation in expression(), message in expression()
    ) {
        let block = json!({"source": {
            "variables": [{"name": "v", "expression": var}],
            "validations": [{"expression": validation, "messageExpression": message}]}});
        if let Ok(code) = CompiledGatekeeperCode::compile(&block) {
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "a", "image": "x"}]}});
            let _ = code.evaluate(&Request::for_object(&pod), Some(&json!({"x": [1]})));
        }
    }
}

#[test]
fn extreme_durations_and_timestamps_are_errors_or_values() {
    let cel = KubeCel::new();
    for src in [
        "duration('9223372036854775807h')",
        "duration('99999999999999999999999s')",
        "duration('-9223372036854775808s') - duration('1s')",
        "timestamp('9999-12-31T23:59:59Z') + duration('87600h')",
        "timestamp('0001-01-01T00:00:00Z') - duration('87600h')",
        "timestamp(9223372036854775807)",
        "duration('1h') * 9223372036854775807",
    ] {
        let c = cel.compile(src).unwrap();
        let _ = cel.evaluate(&c, &Scope::new());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    /// The library functions parse user strings: none of them panics on any string.
    #[test]
    fn library_functions_take_any_string(
        s in prop_oneof![".{0,40}", "[0-9]{1,25}(h|m|s|ms|us|ns){1,3}", "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{8,14}(Z|[+-][0-9]{2}:[0-9]{2})"],
        n in -3i64..50,
    ) {
        let cel = KubeCel::new();
        let mut scope = Scope::new();
        scope.set_json("s", &json!(s));
        scope.set_json("n", &json!(n));
        for src in [
            "quantity(s).asApproximateFloat()",
            "isQuantity(s)",
            "url(s).getEscapedPath() + url(s).getHostname() + url(s).getPort()",
            "url(s).getQuery()",
            "ip(s).family()",
            "cidr(s).masked().prefixLength()",
            "cidr('10.0.0.0/8').containsIP(s)",
            "semver(s, true).major()",
            "format.uri().validate(s)",
            "format.datetime().validate(s)",
            "format.qualifiedName().validate(s)",
            "s.split('')",
            "s.split(s, n)",
            "s.substring(n)",
            "s.charAt(n)",
            "s.indexOf(s, n)",
            "s.lastIndexOf('a', n)",
            "s.replace('', 'x', n)",
            "s.format([1, 'a', 2.5])",
            "s.find(s)",
            "s.findAll('.', n)",
            "s.matches(s)",
            "timestamp(s)",
            "duration(s)",
            "timestamp(s) + duration(s)",
        ] {
            let c = cel.compile(src).unwrap();
            let _ = cel.evaluate(&c, &scope);
        }
    }
}
