//! No rule panics on any object: arbitrary JSON under every kind the rules read, in one
//! inventory, goes through the whole facade (per-object and inventory rules, the rollout
//! preview, the policy).

use palisade_analyze::{analyze, rollout, InputSummary, Options};
use palisade_core::{Inventory, Object, PssLevel, PssVersion, SpanIndex};
use proptest::prelude::*;
use serde_json::{json, Value};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop::sample::select(vec![
            "",
            "*",
            "0",
            "true",
            "ALL",
            "privileged",
            "restricted",
            "0.0.0.0/0",
            "169.254.169.254/32",
            "default",
            "RuntimeDefault",
            "Unconfined",
            "SYS_ADMIN",
            "/",
            "http",
            "TCP"
        ])
        .prop_map(|s| json!(s)),
        "[a-z/.:-]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        let keys = prop::sample::select(vec![
            "metadata",
            "spec",
            "template",
            "containers",
            "initContainers",
            "securityContext",
            "privileged",
            "name",
            "namespace",
            "labels",
            "annotations",
            "rules",
            "subjects",
            "roleRef",
            "verbs",
            "resources",
            "apiGroups",
            "ingress",
            "egress",
            "from",
            "to",
            "ports",
            "port",
            "podSelector",
            "namespaceSelector",
            "ipBlock",
            "cidr",
            "except",
            "volumes",
            "hostPath",
            "path",
            "env",
            "value",
            "image",
            "type",
            "selector",
            "matchLabels",
            "matchExpressions",
            "policyTypes",
            "hostPID",
            "capabilities",
            "add",
            "drop",
            "data",
            "replicas",
            "jobTemplate",
            "items",
            "kind",
            "tls",
            "hosts",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..6).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

const KINDS: &[(&str, &str)] = &[
    ("v1", "Pod"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "CronJob"),
    ("batch/v1", "Job"),
    ("v1", "PodTemplate"),
    ("v1", "Namespace"),
    ("v1", "Service"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "ServiceAccount"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
    ("policy/v1", "PodDisruptionBudget"),
    ("v1", "List"),
];

fn object() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(KINDS.to_vec()),
        arb_json(),
        arb_json(),
        "[a-z]{1,3}",
    )
        .prop_map(|((av, kind), body, spec, name)| {
            let mut v = match body {
                Value::Object(m) => Value::Object(m),
                other => json!({"spec": other}),
            };
            v["apiVersion"] = json!(av);
            v["kind"] = json!(kind);
            if v.get("spec").is_none() {
                v["spec"] = spec;
            }
            if !v.get("metadata").is_some_and(Value::is_object) {
                v["metadata"] = json!({"name": name, "namespace": "ns"});
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn no_rule_panics_on_any_object(values in prop::collection::vec(object(), 1..8)) {
        let objects: Vec<Object> = values
            .into_iter()
            .filter_map(|v| Object::from_value(v, None, SpanIndex::default()).ok())
            .collect();
        let inv = Inventory::new(objects);
        for profile in [PssLevel::Baseline, PssLevel::Restricted] {
            let mut opts = Options::new("2026-01-01".parse().unwrap());
            opts.profile = Some(profile);
            opts.pss_version = Some(PssVersion::Minor(20));
            let report = analyze(&inv, InputSummary::default(), &opts);
            for f in &report.findings {
                prop_assert!(!f.message.is_empty());
            }
        }
        let _ = rollout::preview(&inv, rollout::LabelPolicy { level: PssLevel::Restricted, version: PssVersion::Latest });
    }
}
