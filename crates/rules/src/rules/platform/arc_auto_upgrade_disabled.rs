use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Azure Arc-enabled Kubernetes clusters whose Arc agents do not upgrade themselves: the
    /// ConfigMap `azure-clusterconfig` in the `azure-arc` namespace, which the Arc agents'
    /// Helm chart renders from its values, has `AZURE_ARC_AUTOUPDATE: "false"` (what
    /// `az connectedk8s update --auto-upgrade false`, or the Helm value
    /// `systemDefaultValues.azureArcAgents.autoUpdate=false`, produces). That ConfigMap is
    /// the only thing detected; the Helm release itself is a Secret, whose values Palisade
    /// never reads. The rule reports what is present, so it is silent unless the scan
    /// includes the `azure-arc` namespace's ConfigMaps.
    ///
    /// ## Why it matters
    /// The Arc agents hold the cluster's connection to Azure (identity, configuration,
    /// extensions) and run with broad permissions; Microsoft supports only recent agent
    /// versions, and security fixes reach a cluster with auto-upgrade disabled only when
    /// someone upgrades by hand.
    ///
    /// ## How to fix
    /// `az connectedk8s update --name <cluster> --resource-group <rg> --auto-upgrade true`,
    /// or upgrade the agents on a schedule (`az connectedk8s upgrade`) and disable this rule
    /// with that reason.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ConfigMap
    /// metadata: { name: azure-clusterconfig, namespace: azure-arc }
    /// data:
    ///   AZURE_ARC_AUTOUPDATE: "false"
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// data:
    ///   AZURE_ARC_AUTOUPDATE: "true"
    /// ```
    pub(crate) struct ArcAutoUpgradeDisabled;
    id: "PLAT005",
    name: "arc-auto-upgrade-disabled",
    severity: Medium,
    summary: "Azure Arc agents have auto-upgrade disabled",
    references: ["nsa:upgrading", "nist:4.4.1", "owasp:K10", "book:platform.patches"],
    tags: ["platform", "cluster"],
    level: None,
    scope: Object,
    kinds: &["ConfigMap"],
    options: &[],
}

impl Rule for ArcAutoUpgradeDisabled {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "ConfigMap"
            || !object.group().is_empty()
            || object.name != "azure-clusterconfig"
            || object.namespace.as_deref() != Some("azure-arc")
        {
            return;
        }
        let Some(v) = object
            .pointer("/data/AZURE_ARC_AUTOUPDATE")
            .and_then(Value::as_str)
        else {
            return;
        };
        if v.trim().eq_ignore_ascii_case("false") {
            cx.report(
                Some("/data/AZURE_ARC_AUTOUPDATE".to_owned()),
                "Azure Arc agents have auto-upgrade disabled (AZURE_ARC_AUTOUPDATE is false)",
            )
            .fix("az connectedk8s update --auto-upgrade true, or upgrade the agents on a schedule");
        }
    }
}
