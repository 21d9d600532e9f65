//! `VER`: version and patch currency. Versions come from the inventory: the API server's from
//! the image tag of its static pod (kubeadm mirror pods, or manifests scanned as files), the
//! kubelets' and kube-proxies' from each Node's `status.nodeInfo`. Tables live in
//! `palisade-node::version`; known CVEs are read by the front-end (`--cve-data DIR`) and
//! handed to the rules through the inventory's derived-view cache.

pub(crate) mod api_removals;
pub(crate) mod deprecated_api_version;
pub(crate) mod end_of_life_node_software;
pub(crate) mod known_cve;
pub(crate) mod node_version_skew;
pub(crate) mod removed_api_version;
pub(crate) mod unsupported_kubernetes_version;

use palisade_core::{Context, Inventory, ObjectId};
use palisade_node::discover::container_component;
use palisade_node::version::{Version, TABLE_DATE};
use palisade_node::Component;
use serde_json::Value;

/// The day to evaluate end of life against: the scan's, else the table's date.
pub(crate) fn today(cx: &Context<'_>) -> jiff::civil::Date {
    cx.today().unwrap_or(TABLE_DATE)
}

/// A control-plane component found as a Pod, with its version from the image tag.
pub(crate) struct ControlPlanePod {
    pub(crate) object: ObjectId,
    pub(crate) component: Component,
    pub(crate) image_path: String,
    pub(crate) version: Version,
}

/// Every control-plane static pod with a versioned image.
pub(crate) fn control_plane_pods(inv: &Inventory) -> Vec<ControlPlanePod> {
    let mut out = Vec::new();
    for (id, o) in inv.of_kind("Pod") {
        // Each Pod is read once, without keeping its tree.
        o.with_unpacked(|o| control_plane_containers(id, o, &mut out));
    }
    out
}

/// The control-plane containers of one Pod with a versioned image, added to `out`.
fn control_plane_containers(
    id: ObjectId,
    o: &palisade_core::Object,
    out: &mut Vec<ControlPlanePod>,
) {
    let Some(cs) = o.pointer("/spec/containers").and_then(Value::as_array) else {
        return;
    };
    for (i, c) in cs.iter().enumerate() {
        let Some((component, _)) = container_component(c) else {
            continue;
        };
        let Some(image) = c.get("image").and_then(Value::as_str) else {
            continue;
        };
        let tag = image
            .split('@')
            .next()
            .and_then(|i| i.rsplit_once(':'))
            .map(|(_, t)| t);
        if let Some(version) = tag.filter(|t| !t.contains('/')).and_then(Version::parse) {
            out.push(ControlPlanePod {
                object: id,
                component,
                image_path: format!("/spec/containers/{i}/image"),
                version,
            });
        }
    }
}

/// The API server's version: the lowest among its pods (the one an upgrade left behind).
pub(crate) fn api_server_version(inv: &Inventory) -> Option<Version> {
    control_plane_pods(inv)
        .into_iter()
        .filter(|p| p.component == Component::ApiServer)
        .map(|p| p.version)
        .min()
}

/// A field of a Node's `status.nodeInfo`.
pub(crate) fn node_info<'a>(node: &'a palisade_core::Object, field: &str) -> Option<&'a str> {
    node.pointer(&format!("/status/nodeInfo/{field}"))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}
