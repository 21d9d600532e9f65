//! Kubernetes NetworkPolicy semantics and reachability queries for Palisade.
//!
//! Build a [`Netpol`] inventory from parsed Kubernetes objects with
//! [`Netpol::from_objects`] (NetworkPolicies, Namespaces, Pods and workload pod
//! templates), then ask [`Netpol::can`] whether traffic between two endpoints is allowed
//! and why, or use the audit helpers ([`Netpol::namespaces_without_default_deny`],
//! [`Netpol::unselected_pods`], [`Netpol::policies_allowing_all_namespaces`],
//! [`Netpol::policies_allowing_any_ip`], [`Netpol::metadata_endpoint_reachable`]).
//!
//! Semantics follow the `networking.k8s.io/v1` API: a pod is isolated for a direction
//! only when a policy selecting it has that policy type; isolated traffic must be
//! admitted by some rule of some such policy; a connection needs both egress at the
//! source and ingress at the destination. `policyTypes` defaults to `Ingress`, plus
//! `Egress` when the policy has egress rules.
//!
//! ```
//! use palisade_netpol::{Endpoint, Netpol, PortSpec};
//! let objs = vec![
//!     serde_json::json!({"apiVersion": "v1", "kind": "Pod",
//!         "metadata": {"name": "web", "namespace": "app", "labels": {"app": "web"}},
//!         "spec": {"containers": [{"name": "c", "ports": [{"containerPort": 8080}]}]}}),
//!     serde_json::json!({"apiVersion": "v1", "kind": "Pod",
//!         "metadata": {"name": "client", "namespace": "app"}, "spec": {"containers": []}}),
//!     serde_json::json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
//!         "metadata": {"name": "deny", "namespace": "app"}, "spec": {"podSelector": {}}}),
//! ];
//! let np = Netpol::from_objects(&objs);
//! let v = np.can(&Endpoint::parse("app/client").unwrap(), &Endpoint::parse("app/web").unwrap(),
//!     Some(&PortSpec::tcp(8080))).unwrap();
//! assert!(!v.allowed);
//! ```

mod calico;
mod calico_selector;
mod cilium;
mod eval;
mod model;
/// Label selectors (shared with the rest of Palisade).
pub use palisade_core::labels as selector;

pub use calico::{Action, CalicoPolicy, CalicoPort, CalicoRule, CalicoTier, EntityRule};
pub use calico_selector::CalicoSelector;
pub use cilium::{CiliumPolicy, CiliumPort, CiliumRule, Entity};
pub use eval::{
    DirectionVerdict, Endpoint, MetadataReach, Netpol, NetpolError, PolicyRef, PortSpec, RuleRef,
    Verdict, NAMESPACE_NAME_LABEL,
};
pub use model::{
    ContainerPort, Direction, NetworkPolicy, Peer, PolicyKind, PolicyPort, PolicyRule, PortRef,
    Protocol, Workload,
};
