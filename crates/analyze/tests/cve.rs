//! Known CVEs with the data of `../shared/corpus/k8s-cves`: a cluster whose API server is
//! v1.24.0 and whose kubelets (and kube-proxies) are v1.22.3 reports exactly the CVEs whose
//! ranges contain those versions. The expectation is computed here from the YAML, with a
//! range evaluator of its own.

#![allow(clippy::print_stderr)]

use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::Inventory;
use std::collections::BTreeSet;
use std::path::PathBuf;

fn data() -> Option<PathBuf> {
    palisade_testkit::corpus("k8s-cves/cves")
}

fn parse(v: &str) -> (u64, u64, u64) {
    // A pre-release bound (`< 1.20.0-alpha.2`) orders like its release for released
    // versions under the operators the data uses (`<`, `>=`).
    let v = v.trim().trim_start_matches('v').split('-').next().unwrap();
    let mut it = v.split('.').map(|p| p.parse::<u64>().unwrap());
    (
        it.next().unwrap(),
        it.next().unwrap_or(0),
        it.next().unwrap_or(0),
    )
}

/// go-version constraints, evaluated independently of palisade-node.
fn in_range(v: (u64, u64, u64), range: &str) -> bool {
    range.split(',').all(|c| {
        let c = c.trim();
        let ops = ["<=", ">=", "<", ">", "="];
        let (op, rest) = ops
            .iter()
            .find_map(|o| c.strip_prefix(o).map(|r| (*o, r)))
            .unwrap_or(("=", c));
        let t = parse(rest);
        match op {
            "<=" => v <= t,
            ">=" => v >= t,
            "<" => v < t,
            ">" => v > t,
            _ => v == t,
        }
    })
}

const CLUSTER: &str = "apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver-cp-1
  namespace: kube-system
spec:
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.24.0
    command: [kube-apiserver, --authorization-mode=Node,RBAC]
---
apiVersion: v1
kind: Node
metadata:
  name: worker-1
status:
  nodeInfo:
    kubeletVersion: v1.22.3
    kubeProxyVersion: v1.22.3
---
apiVersion: v1
kind: Node
metadata:
  name: worker-2
status:
  nodeInfo:
    kubeletVersion: v1.22.3
    kubeProxyVersion: v1.22.3
";

#[test]
fn cves_of_a_v1_24_api_server_and_v1_22_kubelets() {
    let Some(dir) = data() else {
        return;
    };
    // Expectation, from the files.
    let mut expected = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let v: serde_json::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let id = v["cve"].as_str().unwrap().to_owned();
        let components: Vec<&str> = v["components"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
            .unwrap_or_default();
        let ranges: Vec<&str> = v["affected"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["range"].as_str()).collect())
            .unwrap_or_default();
        for (component, version) in [
            ("kube-apiserver", "1.24.0"),
            ("kubelet", "1.22.3"),
            ("kube-proxy", "1.22.3"),
        ] {
            if components.contains(&component) && ranges.iter().any(|r| in_range(parse(version), r))
            {
                expected.insert(id.clone());
            }
        }
    }
    assert!(!expected.is_empty());
    // Palisade, as `palisade scan --select VER004 --cve-data DIR` runs it.
    let loaded = palisade_load::load_str("cluster.yaml", CLUSTER);
    let inventory = Inventory::new(loaded.objects);
    let db = palisade_node::cve::CveDatabase::load(&dir).unwrap();
    inventory.derived(move |_| db);
    let mut opts = Options::new(jiff::civil::date(2026, 11, 23));
    opts.select = vec!["VER004".to_owned()];
    let report = analyze(&inventory, InputSummary::default(), &opts);
    let got: BTreeSet<String> = report
        .findings
        .iter()
        .map(|f| f.properties.get("cve").expect("cve").clone())
        .collect();
    assert_eq!(got, expected);
    // Both nodes carry the kubelet CVEs.
    let kubelet_5528: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.properties.get("cve").expect("cve") == "CVE-2023-5528")
        .map(|f| f.object.name.clone())
        .collect();
    assert_eq!(kubelet_5528, ["worker-1", "worker-2"]);
    eprintln!("{} CVEs: {:?}", got.len(), got);
}
