//! The audit → enforce rollout preview: for each namespace, its Pod Security labels and the
//! workloads a raised `enforce` level would reject, evaluated exactly as Pod Security
//! Admission evaluates pods.

use palisade_core::report::{NamespaceRollout, RolloutPreview, RolloutWorkload};
use palisade_core::{Inventory, PodTemplate, PssLevel, PssVersion};
use std::collections::BTreeMap;

const PREFIX: &str = "pod-security.kubernetes.io/";

/// A Pod Security label pair (`enforce` + `enforce-version`), as Pod Security Admission reads
/// it: an absent or invalid level is privileged, an absent or invalid version is latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelPolicy {
    /// The level.
    pub level: PssLevel,
    /// The version.
    pub version: PssVersion,
}

impl std::fmt::Display for LabelPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.level, self.version)
    }
}

/// Reads one mode's labels (`enforce`, `audit`, `warn`) from a Namespace's labels. `None` when
/// the level label is absent.
pub fn label_policy(
    labels: &serde_json::Map<String, serde_json::Value>,
    mode: &str,
) -> Option<LabelPolicy> {
    let level = labels.get(&format!("{PREFIX}{mode}"))?.as_str()?;
    let version = labels
        .get(&format!("{PREFIX}{mode}-version"))
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse().ok())
        .unwrap_or_default();
    Some(LabelPolicy {
        level: level.parse().unwrap_or(PssLevel::Privileged),
        version,
    })
}

fn pss_level(l: PssLevel) -> palisade_pss::Level {
    match l {
        PssLevel::Privileged => palisade_pss::Level::Privileged,
        PssLevel::Baseline => palisade_pss::Level::Baseline,
        PssLevel::Restricted => palisade_pss::Level::Restricted,
    }
}

fn pss_version(v: PssVersion) -> palisade_pss::Version {
    match v {
        PssVersion::Latest => palisade_pss::Version::Latest,
        PssVersion::Minor(m) => palisade_pss::Version::V(m),
    }
}

/// Previews raising every namespace's `enforce` to `target`.
pub fn preview(inventory: &Inventory, target: LabelPolicy) -> RolloutPreview {
    let empty = serde_json::Map::new();
    let mut namespaces: BTreeMap<String, NamespaceRollout> = BTreeMap::new();
    for (_, ns) in inventory
        .of_kind("Namespace")
        .filter(|(_, o)| o.group().is_empty())
    {
        let labels = ns
            .pointer("/metadata/labels")
            .and_then(|l| l.as_object())
            .unwrap_or(&empty);
        namespaces.insert(
            ns.name.clone(),
            NamespaceRollout {
                namespace: ns.name.clone(),
                declared: true,
                enforce: label_policy(labels, "enforce").map(|p| p.to_string()),
                audit: label_policy(labels, "audit").map(|p| p.to_string()),
                warn: label_policy(labels, "warn").map(|p| p.to_string()),
                workloads: 0,
                rejected: Vec::new(),
            },
        );
    }
    for obj in inventory.objects() {
        let Some(pod) = PodTemplate::of(obj) else {
            continue;
        };
        let ns_name = obj
            .namespace
            .clone()
            .unwrap_or_else(|| "default".to_owned());
        let entry = namespaces
            .entry(ns_name.clone())
            .or_insert_with(|| NamespaceRollout {
                namespace: ns_name.clone(),
                declared: false,
                enforce: None,
                audit: None,
                warn: None,
                workloads: 0,
                rejected: Vec::new(),
            });
        entry.workloads += 1;
        let violations = palisade_pss::evaluate(
            pss_level(target.level),
            pss_version(target.version),
            pod.metadata,
            pod.spec,
        );
        if violations.is_empty() {
            continue;
        }
        let today = inventory
            .find("Namespace", None, &ns_name)
            .and_then(|n| n.pointer("/metadata/labels").and_then(|l| l.as_object()))
            .and_then(|l| label_policy(l, "enforce"))
            .is_some_and(|p| {
                !palisade_pss::evaluate(
                    pss_level(p.level),
                    pss_version(p.version),
                    pod.metadata,
                    pod.spec,
                )
                .is_empty()
            });
        entry.rejected.push(RolloutWorkload {
            object: obj.reference(),
            location: obj.locate(None),
            checks: violations.iter().map(|v| v.check_id.to_owned()).collect(),
            messages: violations.iter().map(|v| v.message()).collect(),
            rejected_today: today,
        });
    }
    RolloutPreview {
        target: target.to_string(),
        namespaces: namespaces.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_lists_what_a_raised_level_rejects() {
        let yaml = "\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: baseline
    pod-security.kubernetes.io/enforce-version: v1.25
    pod-security.kubernetes.io/warn: restricted
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: web, image: web:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop}
spec:
  hostPID: true
  containers: [{name: d, image: d:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: other}
spec:
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: a
    image: a:1
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
";
        let l = palisade_load::load_str("ns.yaml", yaml);
        let inv = Inventory::new(l.objects);
        let p = preview(
            &inv,
            LabelPolicy {
                level: PssLevel::Restricted,
                version: PssVersion::Latest,
            },
        );
        assert_eq!(p.target, "restricted@latest");
        let names: Vec<_> = p.namespaces.iter().map(|n| n.namespace.as_str()).collect();
        assert_eq!(names, ["legacy", "other", "shop"]);
        let shop = &p.namespaces[2];
        assert_eq!(shop.enforce.as_deref(), Some("baseline@v1.25"));
        assert_eq!(shop.warn.as_deref(), Some("restricted@latest"));
        assert_eq!(shop.workloads, 2);
        assert_eq!(shop.rejected.len(), 2);
        let debug = shop
            .rejected
            .iter()
            .find(|w| w.object.name == "debug")
            .unwrap();
        assert!(
            debug.rejected_today,
            "hostPID is rejected by baseline already"
        );
        assert!(debug.checks.contains(&"hostNamespaces".to_owned()));
        let web = shop
            .rejected
            .iter()
            .find(|w| w.object.name == "web")
            .unwrap();
        assert!(!web.rejected_today);
        assert!(web.checks.contains(&"runAsNonRoot".to_owned()));
        let other = &p.namespaces[1];
        assert!(!other.declared && other.rejected.is_empty() && other.workloads == 1);
        let legacy = &p.namespaces[0];
        assert!(legacy.declared && legacy.enforce.is_none());
    }
}
