use super::api_removals::{migrate, InUse, KINDS, TABLE_DATE};
use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// Objects whose `apiVersion` the target Kubernetes release no longer serves, from an
    /// embedded table of every API removal since v1.16 (the Kubernetes deprecation guide:
    /// `extensions/v1beta1` workloads and Ingress, `policy/v1beta1` PodSecurityPolicy and
    /// PodDisruptionBudget, `batch/v1beta1` CronJob, `autoscaling/v2beta1` and `v2beta2`,
    /// the `flowcontrol.apiserver.k8s.io` betas up to v1beta3 in v1.32, and the rest; dated
    /// in `versions::api_removals::TABLE_DATE`). The message names the release that removed
    /// it and the API to migrate to.
    ///
    /// The target is `--target-version v1.N`; without it, a cluster scan targets the release after the cluster's, a manifest scan the release after the API
    /// server's static pod when the scan holds one, else the newest release Palisade knows.
    /// Objects removed only after the target are not reported here (VER006 reports those
    /// already deprecated at the target).
    ///
    /// A cluster scan reads every object at the version Palisade asks for, not the one its
    /// client wrote, so for objects read from a cluster the rule also looks at the
    /// `apiVersion` recorded in the `kubectl.kubernetes.io/last-applied-configuration`
    /// annotation (what `kubectl apply` last sent): a Deployment applied as
    /// `extensions/v1beta1` is reported although the API server returns it as `apps/v1`.
    /// Objects created otherwise (Helm 3, server-side apply, controllers) carry no such
    /// record; scan their manifests (Helm output, GitOps repositories) too.
    ///
    /// Not evaluated at admission: the API server refuses an unserved version before any
    /// webhook sees it, and a webhook receives the object converted to the version it
    /// registered for.
    ///
    /// ## Why it matters
    /// `kubectl apply`, Helm and GitOps controllers fail on an object whose API version is
    /// gone: after the upgrade, deployments stop, and a Helm release whose stored manifest
    /// uses a removed API cannot even be upgraded or rolled back without repair. Finding
    /// them before the upgrade keeps the cluster on a supported, patched release.
    ///
    /// ## How to fix
    /// Move the manifest to the replacement `apiVersion` (mind the field changes the
    /// deprecation guide lists for it) before upgrading; `kubectl convert` helps for simple
    /// cases.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: batch/v1beta1
    /// kind: CronJob
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: batch/v1
    /// kind: CronJob
    /// ```
    pub(crate) struct RemovedApiVersion;
    id: "VER005",
    name: "removed-api-version",
    severity: High,
    summary: "Object uses an API version the target Kubernetes release no longer serves",
    references: ["nsa:upgrading", "nist:4.3.5", "owasp:K10", "book:platform.patches"],
    tags: ["versions", "upgrade"],
    level: None,
    scope: Object,
    kinds: KINDS,
    options: &[],
}

impl Rule for RemovedApiVersion {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    super::api_removals::api_table_rule!();

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(u) = InUse::of(object, cx) else {
            return;
        };
        let r = u.removal;
        if u.target < r.removed_in {
            return;
        }
        cx.report(
            Some(u.path.clone()),
            format!(
                "{} is no longer served since Kubernetes v1.{} (deprecated in v1.{}); target v1.{} ({}): {}",
                u.what(),
                r.removed_in,
                r.deprecated_in,
                u.target,
                u.why,
                migrate(r)
            ),
        )
        .fix(format!("{} (table of {TABLE_DATE})", migrate(r)))
        .property("removedIn", format!("v1.{}", r.removed_in))
        .property("targetVersion", format!("v1.{}", u.target));
    }
}

#[cfg(test)]
mod tests {
    use super::super::api_removals::REMOVALS;
    use super::super::deprecated_api_version::DeprecatedApiVersion;
    use super::*;
    use palisade_core::{Inventory, ObjectId, PssLevel};

    /// The findings of `rule` over one fixture of VER005 at a target version.
    fn run_at(rule: &dyn Rule, text: &str, target: u32) -> usize {
        let loaded = palisade_load::load_str("test.yaml", text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let inv = Inventory::new(loaded.objects);
        let mut cx = Context::new(rule.meta(), None, PssLevel::Restricted)
            .with_inventory(&inv)
            .with_target_version(Some(target));
        for (i, o) in inv.objects().iter().enumerate() {
            cx.set_object(ObjectId(i));
            rule.check(o, &mut cx);
        }
        cx.take_findings().len()
    }

    /// Every removal of the table has a fail fixture; a target before the removal does not
    /// report it (VER006 does once it is deprecated), the removal release and later do.
    #[test]
    fn every_removal_reports_from_its_release_on() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/VER005");
        let mut covered = 0;
        for r in REMOVALS {
            let text = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .find(|t| {
                    t.contains(&format!("apiVersion: {}\n", r.api_version))
                        && t.contains(&format!("kind: {}\n", r.kind))
                        && t.starts_with("# Removed in")
                })
                .unwrap_or_else(|| panic!("no fixture for {} {}", r.api_version, r.kind));
            let id = format!("{} {}", r.api_version, r.kind);
            assert_eq!(
                run_at(&RemovedApiVersion, &text, r.removed_in - 1),
                0,
                "{id} before v1.{}",
                r.removed_in
            );
            assert_eq!(
                run_at(&RemovedApiVersion, &text, r.removed_in),
                1,
                "{id} at v1.{}",
                r.removed_in
            );
            assert_eq!(run_at(&RemovedApiVersion, &text, 40), 1, "{id} at v1.40");
            assert_eq!(
                run_at(&DeprecatedApiVersion, &text, r.removed_in - 1),
                1,
                "{id} deprecated before removal"
            );
            assert_eq!(
                run_at(&DeprecatedApiVersion, &text, r.deprecated_in - 1),
                0,
                "{id} before deprecation"
            );
            assert_eq!(
                run_at(&DeprecatedApiVersion, &text, r.removed_in),
                0,
                "{id} once removed"
            );
            covered += 1;
        }
        assert_eq!(covered, REMOVALS.len());
    }
}
