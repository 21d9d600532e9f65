use super::{control_plane_pods, node_info};
use palisade_core::{Context, Inventory, ObjectId, Rule, Severity};
use palisade_node::cve::{CveDatabase, Running};
use palisade_node::version::Version;

declare_rule! {
    /// ## What it checks
    /// Known CVEs whose affected version ranges contain a running component's version: the
    /// control-plane components from the image tags of their static pods, the kubelet and
    /// kube-proxy from each Node's `status.nodeInfo`. The CVE data is a directory in the
    /// k8s-cves format (`palisade scan --cve-data DIR`; `palisade update-db` converts the
    /// Kubernetes project's official CVE feed to it). Without data the rule reports nothing.
    /// One finding per CVE and object, naming the fixing version.
    ///
    /// ## Why it matters
    /// A published Kubernetes CVE comes with its fix and, soon after, with public exploit
    /// details; a component still in the affected range is exposed to exactly that.
    ///
    /// ## How to fix
    /// Upgrade the component to the fixing patch release of its minor (or a later minor).
    ///
    /// ## Example
    /// ```yaml
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     kubeletVersion: v1.22.3   # in the range of several kubelet CVEs
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Node
    /// status:
    ///   nodeInfo:
    ///     kubeletVersion: v1.34.2
    /// ```
    pub(crate) struct KnownCve;
    id: "VER004",
    name: "known-cve",
    severity: High,
    summary: "Running Kubernetes component has a known CVE",
    references: ["nsa:upgrading", "nist:4.3.5", "owasp:K10", "book:platform.patches"],
    tags: ["versions", "cve"],
    level: None,
    scope: Inventory,
    kinds: &["Pod", "Node"],
    options: &[],
}

fn severity(score: Option<f64>) -> Severity {
    match score {
        Some(s) if s >= 9.0 => Severity::Critical,
        Some(s) if s >= 7.0 => Severity::High,
        Some(s) if s >= 4.0 => Severity::Medium,
        Some(_) => Severity::Low,
        None => Severity::High,
    }
}

impl Rule for KnownCve {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn applies_to(&self, object: &palisade_core::Object) -> bool {
        // Versions come from Nodes and control-plane Pods, not from application Pods.
        object.kind == "Node" || crate::rules::control_plane::runs_any_component(object)
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        // The front-end loads the data into the derived-view cache; without it: empty.
        let db = inv.derived(|_| CveDatabase::default());
        if db.cves.is_empty() {
            return;
        }
        let mut targets: Vec<(ObjectId, String, Running)> = Vec::new();
        for p in control_plane_pods(inv) {
            targets.push((
                p.object,
                p.image_path,
                Running {
                    component: p.component.name().to_owned(),
                    version: p.version,
                },
            ));
        }
        for (id, node) in inv.of_kind("Node") {
            for (field, component) in [
                ("kubeletVersion", "kubelet"),
                ("kubeProxyVersion", "kube-proxy"),
            ] {
                if let Some(v) = node_info(node, field).and_then(Version::parse) {
                    targets.push((
                        id,
                        format!("/status/nodeInfo/{field}"),
                        Running {
                            component: component.to_owned(),
                            version: v,
                        },
                    ));
                }
            }
        }
        for (object, path, running) in targets {
            for m in db.matching(std::slice::from_ref(&running)) {
                let fixed = m
                    .affected
                    .fixed_by
                    .as_deref()
                    .map(|f| format!("fixed in {f}"))
                    .unwrap_or_else(|| "no fixed version recorded".to_owned());
                let f = cx
                    .report_on(
                        object,
                        Some(path.clone()),
                        format!(
                            "{} v{} is affected by {} ({}): {}",
                            running.component, running.version, m.cve.cve, m.affected.range, fixed
                        ),
                    )
                    .fix(match &m.affected.fixed_by {
                        Some(f) => format!("upgrade {} to {f} or later", running.component),
                        None => format!(
                            "see {}",
                            m.cve
                                .issue_url
                                .as_deref()
                                .or(m.cve.url.as_deref())
                                .unwrap_or(&m.cve.cve)
                        ),
                    })
                    .severity(severity(m.cve.score()))
                    .property("cve", m.cve.cve.clone())
                    .property("component", running.component.clone());
                if let Some(fx) = &m.affected.fixed_by {
                    f.property("fixedBy", fx.clone());
                }
            }
        }
    }
}
