//! Rule families: the one table of every family's id prefix, name, folder and description.
//! The registry's checks, `palisade-dev new-rule`, the generated rule docs and README's
//! family table all read it.

use serde::Serialize;

/// A rule family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Family {
    /// The id prefix (`POD`): a rule's id is the prefix and three digits.
    pub prefix: &'static str,
    /// The kebab-case name (`pod-security`).
    pub name: &'static str,
    /// The folder of its rules under `crates/rules/src/rules/` (`pod_security`), or `None`
    /// for a family with no rule in the catalogue crate (detection rules live in
    /// `palisade-detect`).
    pub folder: Option<&'static str>,
    /// What the family covers, in one sentence.
    pub description: &'static str,
}

/// Every family, in prefix order.
pub static FAMILIES: &[Family] = &[
    Family {
        prefix: "CP",
        name: "control-plane",
        folder: Some("control_plane"),
        description: "control-plane configuration: API server, controller manager, scheduler and etcd flags in static pod manifests, and the control-plane host checks of `palisade node`",
    },
    Family {
        prefix: "DET",
        name: "detection",
        folder: None,
        description: "threat detection over Kubernetes audit events (`palisade detect`)",
    },
    Family {
        prefix: "IMG",
        name: "images",
        folder: Some("images"),
        description: "image provenance: mutable tags, digests, pull policy, registry allowlists, vulnerability evidence and signatures",
    },
    Family {
        prefix: "NET",
        name: "network",
        folder: Some("network"),
        description: "network policies and exposure on NetworkPolicy semantics: default deny, the metadata endpoint, public Services and Ingresses",
    },
    Family {
        prefix: "NODE",
        name: "node",
        folder: Some("node"),
        description: "node and kubelet hardening: kubelet flags, workloads that amount to a shell on the node, and the node host checks of `palisade node`",
    },
    Family {
        prefix: "PLAT",
        name: "platform",
        folder: Some("platform"),
        description: "platform integrations: workload identity, an admission policy engine, runtime threat detection, a node reboot daemon, Arc agent upgrades",
    },
    Family {
        prefix: "POD",
        name: "pod-security",
        folder: Some("pod_security"),
        description: "pod and container security: the Pod Security Standards controls, and beyond them",
    },
    Family {
        prefix: "RBAC",
        name: "rbac",
        folder: Some("rbac"),
        description: "access control on the API server's RBAC semantics: cluster-admin and wildcard grants, secret read, exec, escalation verbs and paths",
    },
    Family {
        prefix: "REL",
        name: "reliability",
        folder: Some("reliability"),
        description: "reliability and rollout safety: probes, resources, replicas, rollout strategy, disruption budgets, spreading",
    },
    Family {
        prefix: "SEC",
        name: "secrets",
        folder: Some("secrets"),
        description: "secrets handling: literal credentials, committed Secrets, secrets in environment variables, legacy tokens, external secret stores",
    },
    Family {
        prefix: "VER",
        name: "versions",
        folder: Some("versions"),
        description: "version and patch currency (end of life, skew, known CVEs) and upgrade readiness (API versions removed or deprecated)",
    },
];

impl Family {
    /// The family with this prefix (case-insensitive) or name.
    pub fn find(prefix_or_name: &str) -> Option<&'static Family> {
        FAMILIES
            .iter()
            .find(|f| f.prefix.eq_ignore_ascii_case(prefix_or_name) || f.name == prefix_or_name)
    }

    /// The family of a rule id (`POD001`): its letters, when they are a family's prefix.
    pub fn of_id(id: &str) -> Option<&'static Family> {
        let letters = id.trim_end_matches(|c: char| c.is_ascii_digit());
        FAMILIES.iter().find(|f| f.prefix == letters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_names_and_folders_are_unique_and_sorted() {
        let prefixes: Vec<_> = FAMILIES.iter().map(|f| f.prefix).collect();
        let mut sorted = prefixes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(prefixes, sorted, "prefixes must be unique and in order");
        for f in FAMILIES {
            assert!(
                f.prefix.chars().all(|c| c.is_ascii_uppercase()),
                "{}",
                f.prefix
            );
            assert!(
                f.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                f.name
            );
            assert_eq!(
                FAMILIES.iter().filter(|g| g.name == f.name).count(),
                1,
                "{}",
                f.name
            );
            if let Some(folder) = f.folder {
                assert_eq!(
                    FAMILIES.iter().filter(|g| g.folder == Some(folder)).count(),
                    1,
                    "{folder}"
                );
            }
        }
        assert_eq!(
            Family::of_id("POD001").map(|f| f.name),
            Some("pod-security")
        );
        assert_eq!(Family::of_id("PO001"), None);
        assert_eq!(Family::find("node").map(|f| f.prefix), Some("NODE"));
    }
}
