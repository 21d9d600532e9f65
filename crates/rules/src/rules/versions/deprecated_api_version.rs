use super::api_removals::{migrate, InUse, KINDS, TABLE_DATE};
use palisade_core::{Context, Object, Rule};

declare_rule! {
    /// ## What it checks
    /// Objects whose `apiVersion` is deprecated at the target Kubernetes release and will be
    /// removed by a later one, from the same embedded table as VER005 (every API removal
    /// since v1.16, from the Kubernetes deprecation guide). The message names the release
    /// that removes it and the API to migrate to. Once the target reaches the removal, VER005
    /// reports the object instead.
    ///
    /// The target is `--target-version v1.N`; without it, a cluster scan targets the release after the cluster's, a manifest scan the release after the API
    /// server's static pod when the scan holds one, else the newest release Palisade knows
    /// (by which every API in the table is removed, so this rule then reports nothing).
    /// Objects read from a cluster are also judged by the `apiVersion` of their
    /// `last-applied-configuration` annotation, as VER005 does. Not evaluated at admission,
    /// for the reasons VER005 gives.
    ///
    /// ## Why it matters
    /// A deprecated API still works, but the release that removes it is known: migrating
    /// now, one manifest at a time, is cheaper than finding every use on the day of the
    /// upgrade, and the API server already returns a deprecation warning on each call.
    ///
    /// ## How to fix
    /// Move the manifest to the replacement `apiVersion` before the removal release.
    ///
    /// ## Example
    /// ```yaml
    /// # scanned with --target-version v1.24
    /// apiVersion: policy/v1beta1
    /// kind: PodDisruptionBudget
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// ```
    pub(crate) struct DeprecatedApiVersion;
    id: "VER006",
    name: "deprecated-api-version",
    severity: Low,
    summary: "Object uses an API version deprecated at the target release, removed in a later one",
    references: ["nsa:upgrading", "nist:4.3.5", "owasp:K10", "book:platform.patches"],
    tags: ["versions", "upgrade"],
    level: None,
    scope: Object,
    kinds: KINDS,
    options: &[],
}

impl Rule for DeprecatedApiVersion {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    super::api_removals::api_table_rule!();

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        let Some(u) = InUse::of(object, cx) else {
            return;
        };
        let r = u.removal;
        if u.target < r.deprecated_in || u.target >= r.removed_in {
            return;
        }
        cx.report(
            Some(u.path.clone()),
            format!(
                "{} is deprecated since Kubernetes v1.{} and removed in v1.{}; target v1.{} ({}): {}",
                u.what(),
                r.deprecated_in,
                r.removed_in,
                u.target,
                u.why,
                migrate(r)
            ),
        )
        .fix(format!("{} before v1.{} (table of {TABLE_DATE})", migrate(r), r.removed_in))
        .property("removedIn", format!("v1.{}", r.removed_in))
        .property("targetVersion", format!("v1.{}", u.target));
    }
}
