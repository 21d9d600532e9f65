use super::{control_plane_pods, node_info, today};
use palisade_core::{Context, Inventory, Rule, Severity};
use palisade_node::version::{support, Support, Version, RELEASES, TABLE_DATE};
use palisade_node::Component;

declare_rule! {
    /// ## What it checks
    /// The Kubernetes version of the API server (the image tag of its static pod) and of
    /// every kubelet (each Node's `status.nodeInfo.kubeletVersion`) against a built-in table
    /// of Kubernetes minor releases and their end of life (1.19 to 1.35; the table is dated in
    /// `palisade-node::version::TABLE_DATE`). Past the end of life it reports a finding; within
    /// 60 days of it, a finding of medium severity. Versions newer than the table pass. The
    /// day is the scan's (`--today`), else the table's date.
    ///
    /// ## Why it matters
    /// An end-of-life release receives no security patches: every Kubernetes CVE published
    /// after that day stays open on the cluster, and upgrading several minors at once (one
    /// minor per step) takes longer the longer it waits.
    ///
    /// ## How to fix
    /// Upgrade the control plane, then the nodes, one minor at a time, to a supported
    /// release; plan upgrades ahead of each release's end of life.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     kubeletVersion: v1.24.17
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     kubeletVersion: v1.34.2
    /// ```
    pub(crate) struct UnsupportedKubernetesVersion;
    id: "VER001",
    name: "unsupported-kubernetes-version",
    severity: High,
    summary: "Kubernetes version is past (or near) its end of life",
    references: ["nsa:upgrading", "nist:4.3.5", "owasp:K10", "book:platform.patches"],
    tags: ["versions"],
    level: None,
    scope: Inventory,
    kinds: &["Pod", "Node"],
    options: &[],
}

fn verdict(what: &str, v: Version, today: jiff::civil::Date) -> Option<(String, Option<Severity>)> {
    match support(v, today) {
        Support::EndOfLife(d) => Some((format!("{what} v{v}: Kubernetes 1.{} reached its end of life on {d}", v.minor), None)),
        Support::Ancient => Some((
            format!("{what} v{v}: Kubernetes 1.{} is older than every release in the table (end of life long before {})", v.minor, RELEASES[0].2),
            None,
        )),
        Support::EndingSoon(d) => Some((format!("{what} v{v}: Kubernetes 1.{} reaches its end of life on {d}", v.minor), Some(Severity::Medium))),
        Support::Supported(_) | Support::Newer => None,
    }
}

impl Rule for UnsupportedKubernetesVersion {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn applies_to(&self, object: &palisade_core::Object) -> bool {
        // Versions come from Nodes and control-plane Pods, not from application Pods.
        object.kind == "Node" || crate::rules::control_plane::runs_any_component(object)
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let today = today(cx);
        let fix =
            format!("upgrade one minor at a time to a supported release (table of {TABLE_DATE})");
        for p in control_plane_pods(inv)
            .into_iter()
            .filter(|p| p.component == Component::ApiServer)
        {
            if let Some((msg, sev)) = verdict("API server", p.version, today) {
                let f = cx
                    .report_on(p.object, Some(p.image_path.clone()), msg)
                    .fix(fix.clone());
                if let Some(s) = sev {
                    f.severity(s);
                }
            }
        }
        for (id, node) in inv.of_kind("Node") {
            let Some(v) = node_info(node, "kubeletVersion").and_then(Version::parse) else {
                continue;
            };
            if let Some((msg, sev)) = verdict(&format!("kubelet of node {}", node.name), v, today) {
                let f = cx
                    .report_on(id, Some("/status/nodeInfo/kubeletVersion".to_owned()), msg)
                    .fix(fix.clone());
                if let Some(s) = sev {
                    f.severity(s);
                }
            }
        }
    }
}
