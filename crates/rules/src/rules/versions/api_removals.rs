//! The API versions Kubernetes has removed since v1.16, from the Kubernetes deprecation
//! guide ("Deprecated API Migration Guide", kubernetes.io/docs/reference/using-api/
//! deprecation-guide/), as of [`TABLE_DATE`]: for each group/version and kind, the release
//! that deprecated it, the release that stopped serving it, and what replaces it.

use palisade_core::object::LAST_APPLIED;
use palisade_core::{Context, Inventory, Object};

/// The day this table was last checked against the deprecation guide (its newest removal
/// is v1.32's).
pub(crate) const TABLE_DATE: &str = "2026-12-03";

/// One removed API version of one kind.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Removal {
    /// `group/version` as written in `apiVersion`.
    pub(crate) api_version: &'static str,
    /// The kind.
    pub(crate) kind: &'static str,
    /// The minor release (`1.N`) that deprecated it.
    pub(crate) deprecated_in: u32,
    /// The minor release (`1.N`) that no longer serves it.
    pub(crate) removed_in: u32,
    /// The `apiVersion` to migrate to, or what replaces the API when nothing serves the
    /// kind any more.
    pub(crate) replacement: Replacement,
}

/// What replaces a removed API version.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Replacement {
    /// The same kind in another `apiVersion`.
    ApiVersion(&'static str),
    /// No API serves the kind any more.
    None(&'static str),
}

const fn r(
    api_version: &'static str,
    kind: &'static str,
    deprecated_in: u32,
    removed_in: u32,
    to: &'static str,
) -> Removal {
    Removal {
        api_version,
        kind,
        deprecated_in,
        removed_in,
        replacement: Replacement::ApiVersion(to),
    }
}

/// Every removal since v1.16, by release.
pub(crate) const REMOVALS: &[Removal] = &[
    // v1.16
    r("extensions/v1beta1", "NetworkPolicy", 9, 16, "networking.k8s.io/v1"),
    r("extensions/v1beta1", "PodSecurityPolicy", 10, 16, "policy/v1beta1"),
    r("extensions/v1beta1", "DaemonSet", 9, 16, "apps/v1"),
    r("apps/v1beta2", "DaemonSet", 9, 16, "apps/v1"),
    r("extensions/v1beta1", "Deployment", 9, 16, "apps/v1"),
    r("apps/v1beta1", "Deployment", 9, 16, "apps/v1"),
    r("apps/v1beta2", "Deployment", 9, 16, "apps/v1"),
    r("apps/v1beta1", "StatefulSet", 9, 16, "apps/v1"),
    r("apps/v1beta2", "StatefulSet", 9, 16, "apps/v1"),
    r("extensions/v1beta1", "ReplicaSet", 9, 16, "apps/v1"),
    r("apps/v1beta1", "ReplicaSet", 9, 16, "apps/v1"),
    r("apps/v1beta2", "ReplicaSet", 9, 16, "apps/v1"),
    // v1.22
    r("admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", 16, 22, "admissionregistration.k8s.io/v1"),
    r("admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", 16, 22, "admissionregistration.k8s.io/v1"),
    r("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", 16, 22, "apiextensions.k8s.io/v1"),
    r("apiregistration.k8s.io/v1beta1", "APIService", 19, 22, "apiregistration.k8s.io/v1"),
    r("authentication.k8s.io/v1beta1", "TokenReview", 19, 22, "authentication.k8s.io/v1"),
    r("authorization.k8s.io/v1beta1", "SubjectAccessReview", 19, 22, "authorization.k8s.io/v1"),
    r("authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", 19, 22, "authorization.k8s.io/v1"),
    r("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", 19, 22, "authorization.k8s.io/v1"),
    r("certificates.k8s.io/v1beta1", "CertificateSigningRequest", 19, 22, "certificates.k8s.io/v1"),
    r("coordination.k8s.io/v1beta1", "Lease", 19, 22, "coordination.k8s.io/v1"),
    r("extensions/v1beta1", "Ingress", 14, 22, "networking.k8s.io/v1"),
    r("networking.k8s.io/v1beta1", "Ingress", 19, 22, "networking.k8s.io/v1"),
    r("networking.k8s.io/v1beta1", "IngressClass", 19, 22, "networking.k8s.io/v1"),
    r("rbac.authorization.k8s.io/v1beta1", "ClusterRole", 17, 22, "rbac.authorization.k8s.io/v1"),
    r("rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", 17, 22, "rbac.authorization.k8s.io/v1"),
    r("rbac.authorization.k8s.io/v1beta1", "Role", 17, 22, "rbac.authorization.k8s.io/v1"),
    r("rbac.authorization.k8s.io/v1beta1", "RoleBinding", 17, 22, "rbac.authorization.k8s.io/v1"),
    r("scheduling.k8s.io/v1beta1", "PriorityClass", 14, 22, "scheduling.k8s.io/v1"),
    r("storage.k8s.io/v1beta1", "CSIDriver", 19, 22, "storage.k8s.io/v1"),
    r("storage.k8s.io/v1beta1", "CSINode", 17, 22, "storage.k8s.io/v1"),
    r("storage.k8s.io/v1beta1", "StorageClass", 19, 22, "storage.k8s.io/v1"),
    r("storage.k8s.io/v1beta1", "VolumeAttachment", 19, 22, "storage.k8s.io/v1"),
    // v1.25
    r("batch/v1beta1", "CronJob", 21, 25, "batch/v1"),
    r("discovery.k8s.io/v1beta1", "EndpointSlice", 21, 25, "discovery.k8s.io/v1"),
    r("events.k8s.io/v1beta1", "Event", 19, 25, "events.k8s.io/v1"),
    r("autoscaling/v2beta1", "HorizontalPodAutoscaler", 22, 25, "autoscaling/v2"),
    r("policy/v1beta1", "PodDisruptionBudget", 21, 25, "policy/v1"),
    Removal {
        api_version: "policy/v1beta1",
        kind: "PodSecurityPolicy",
        deprecated_in: 21,
        removed_in: 25,
        replacement: Replacement::None(
            "no API replaces it: use Pod Security Admission (pod-security.kubernetes.io labels) or a policy engine",
        ),
    },
    r("node.k8s.io/v1beta1", "RuntimeClass", 22, 25, "node.k8s.io/v1"),
    // v1.26
    r("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", 23, 26, "flowcontrol.apiserver.k8s.io/v1"),
    r("flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", 23, 26, "flowcontrol.apiserver.k8s.io/v1"),
    r("autoscaling/v2beta2", "HorizontalPodAutoscaler", 23, 26, "autoscaling/v2"),
    // v1.27
    r("storage.k8s.io/v1beta1", "CSIStorageCapacity", 24, 27, "storage.k8s.io/v1"),
    // v1.29
    r("flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", 26, 29, "flowcontrol.apiserver.k8s.io/v1"),
    r("flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", 26, 29, "flowcontrol.apiserver.k8s.io/v1"),
    // v1.32
    r("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", 29, 32, "flowcontrol.apiserver.k8s.io/v1"),
    r("flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", 29, 32, "flowcontrol.apiserver.k8s.io/v1"),
];

/// What VER005/VER006 read in full: the API server's static Pod, for the release it runs.
/// Of the objects they judge they read only `apiVersion`, `kind` and the last-applied
/// annotation (metadata), so a CustomResourceDefinition's schema is never kept for them.
pub(crate) const FULL_KINDS: &[&str] = &["Pod"];

/// The [`Rule`](palisade_core::Rule) methods VER005 and VER006 share: not evaluated at
/// admission, [`FULL_KINDS`] read in full, and the inventory read for the target release.
macro_rules! api_table_rule {
    () => {
        fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
            palisade_core::AdmissionNeeds::ScanOnly
        }

        fn full_kinds(&self) -> &'static [&'static str] {
            $crate::rules::versions::api_removals::FULL_KINDS
        }

        fn reads_inventory(&self) -> bool {
            // Without --target-version, the target is the release after the scanned API server's.
            true
        }
    };
}
pub(crate) use api_table_rule;

/// Every kind of the table (the kinds the VER005/VER006 rules read).
pub(crate) const KINDS: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CSIStorageCapacity",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "CronJob",
    "CustomResourceDefinition",
    "DaemonSet",
    "Deployment",
    "EndpointSlice",
    "Event",
    "FlowSchema",
    "HorizontalPodAutoscaler",
    "Ingress",
    "IngressClass",
    "Lease",
    "LocalSubjectAccessReview",
    "MutatingWebhookConfiguration",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "PodSecurityPolicy",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "ReplicaSet",
    "Role",
    "RoleBinding",
    "RuntimeClass",
    "SelfSubjectAccessReview",
    "StatefulSet",
    "StorageClass",
    "SubjectAccessReview",
    "TokenReview",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// The removal of this `apiVersion` and kind, when the table has one.
pub(crate) fn removal(api_version: &str, kind: &str) -> Option<&'static Removal> {
    REMOVALS
        .iter()
        .find(|r| r.api_version == api_version && r.kind == kind)
}

/// The table entry for the API version an object was written in, and where that version is
/// written: its own `apiVersion`, else (for an object read from a cluster, which the API
/// server returns in the version the reader asked for) the `apiVersion` of its
/// `kubectl.kubernetes.io/last-applied-configuration` annotation, which records what the
/// client applied.
pub(crate) fn used_removal(object: &Object) -> Option<(&'static Removal, String)> {
    if let Some(r) = removal(&object.api_version, &object.kind) {
        return Some((r, "/apiVersion".to_owned()));
    }
    let applied: serde_json::Value =
        serde_json::from_str(&object.read_annotation(LAST_APPLIED)?).ok()?;
    let version = applied.get("apiVersion")?.as_str()?;
    let r = removal(version, &object.kind)?;
    Some((
        r,
        format!(
            "/metadata/annotations/{}",
            LAST_APPLIED.replace('~', "~0").replace('/', "~1")
        ),
    ))
}

/// The newest minor release the version table knows.
pub(crate) fn latest_known() -> u32 {
    palisade_node::version::RELEASES
        .last()
        .map(|(m, _, _)| *m)
        .unwrap_or(32)
}

/// The minor version an upgrade targets: the front-end's (`--target-version`, or the
/// version after the scanned cluster's), else the version after the API server's static pod
/// when the scan holds one, else the newest release the table knows.
pub(crate) fn target(cx: &Context<'_>, inv: Option<&Inventory>) -> (u32, &'static str) {
    if let Some(t) = cx.target_version() {
        return (t, "the upgrade target");
    }
    if let Some(minor) = inv.and_then(|inv| inv.derived(ApiServerMinor::of).0) {
        return (minor + 1, "the release after the scanned API server's");
    }
    (latest_known(), "the newest release Palisade knows")
}

/// The scanned API server's minor version, computed once per scan.
struct ApiServerMinor(Option<u32>);

impl ApiServerMinor {
    fn of(inv: &Inventory) -> Self {
        ApiServerMinor(super::api_server_version(inv).and_then(|v| u32::try_from(v.minor).ok()))
    }
}

/// An object's use of a removed API version, with the release it is judged against.
pub(crate) struct InUse {
    /// The table's entry.
    pub(crate) removal: &'static Removal,
    /// `/apiVersion`, or the last-applied annotation's path.
    pub(crate) path: String,
    /// The target minor version, and why it is the target.
    pub(crate) target: u32,
    pub(crate) why: &'static str,
}

impl InUse {
    /// What an object uses (its `apiVersion`, or what it was last applied as) and the target
    /// release ([`target`]); `None` when it uses no version of the table.
    pub(crate) fn of(object: &Object, cx: &Context<'_>) -> Option<InUse> {
        let (removal, path) = used_removal(object)?;
        let (target, why) = target(cx, cx.inventory());
        Some(InUse {
            removal,
            path,
            target,
            why,
        })
    }

    /// The message's opening: `batch/v1beta1 CronJob`, or `last applied as ...` when the
    /// version is the last-applied annotation's.
    pub(crate) fn what(&self) -> String {
        format!(
            "{}{} {}",
            if self.path == "/apiVersion" {
                ""
            } else {
                "last applied as "
            },
            self.removal.api_version,
            self.removal.kind
        )
    }
}

/// What to migrate to.
pub(crate) fn migrate(r: &Removal) -> String {
    match r.replacement {
        Replacement::ApiVersion(v) => format!("migrate to {v}"),
        Replacement::None(what) => what.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for r in REMOVALS {
            assert!(r.deprecated_in < r.removed_in, "{r:?}");
            assert!(r.removed_in >= 16, "{r:?}");
            assert!(KINDS.contains(&r.kind), "{} missing from KINDS", r.kind);
            if let Replacement::ApiVersion(v) = r.replacement {
                assert_ne!(v, r.api_version, "{r:?}");
            }
            let dups = REMOVALS
                .iter()
                .filter(|o| o.api_version == r.api_version && o.kind == r.kind)
                .count();
            assert_eq!(dups, 1, "{r:?} listed twice");
        }
        for k in KINDS {
            assert!(REMOVALS.iter().any(|r| r.kind == *k), "{k} has no removal");
        }
    }
}
