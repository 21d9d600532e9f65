//! The NetworkPolicy inventory and its reachability queries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

use crate::calico::{parse_calico, parse_tier, Action, CalicoPolicy, CalicoTier, EntityRule};
use crate::calico::{DEFAULT_TIER_ORDER, KUBERNETES_POLICY_ORDER};
use crate::cilium::{
    parse_cilium, CiliumPolicy, CiliumRule, Entity, CILIUM_NAMESPACE_LABEL,
    CILIUM_NAMESPACE_LABELS_PREFIX, CILIUM_SERVICE_ACCOUNT_LABEL,
};
use crate::model::{
    describe, meta_str, parse_policy, parse_workload, template_pointer, Direction, NetworkPolicy,
    Peer, PolicyKind, PolicyRule, PortRef, Protocol, Workload,
};
use palisade_core::labels::{labels_of, LabelSelector, Labels};

/// The label every namespace carries automatically.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// A traffic endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Endpoint {
    /// A pod or workload, by namespace and object name (optionally with its kind, for
    /// when a Pod and a workload share a name).
    Workload {
        /// Namespace.
        namespace: String,
        /// Object name.
        name: String,
        /// Kind (`Pod`, `Deployment`, ...), or `None` for the first object with this name.
        kind: Option<String>,
    },
    /// An IP address outside the inventory's pods.
    Ip(IpAddr),
}

impl Endpoint {
    /// Parses `namespace/name`, `namespace/Kind/name`, or an IP address.
    pub fn parse(s: &str) -> Result<Self, NetpolError> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Endpoint::Ip(ip));
        }
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [ns, name] if !ns.is_empty() && !name.is_empty() => Ok(Endpoint::Workload {
                namespace: ns.to_string(),
                name: name.to_string(),
                kind: None,
            }),
            [ns, kind, name] if !ns.is_empty() && !kind.is_empty() && !name.is_empty() => {
                Ok(Endpoint::Workload {
                    namespace: ns.to_string(),
                    name: name.to_string(),
                    kind: Some(kind.to_string()),
                })
            }
            _ => Err(NetpolError::InvalidEndpoint(s.to_string())),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Workload {
                namespace,
                name,
                kind: Some(k),
            } => write!(f, "{namespace}/{k}/{name}"),
            Endpoint::Workload {
                namespace, name, ..
            } => write!(f, "{namespace}/{name}"),
            Endpoint::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// The port of a query.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PortSpec {
    /// Protocol.
    pub protocol: Protocol,
    /// Port number or a container-port name of the destination.
    pub port: PortRef,
}

impl PortSpec {
    /// A TCP port.
    pub fn tcp(port: u16) -> Self {
        PortSpec {
            protocol: Protocol::Tcp,
            port: PortRef::Number(port),
        }
    }

    /// Parses `8080`, `8080/TCP`, `53/UDP`, `http` or `http/TCP` (protocol
    /// case-insensitive here, for command lines).
    pub fn parse(s: &str) -> Result<Self, NetpolError> {
        let (p, proto) = match s.split_once('/') {
            Some((p, pr)) => (
                p,
                Protocol::parse(&pr.to_ascii_uppercase())
                    .ok_or_else(|| NetpolError::InvalidPort(s.to_string()))?,
            ),
            None => (s, Protocol::Tcp),
        };
        if p.is_empty() {
            return Err(NetpolError::InvalidPort(s.to_string()));
        }
        let port = match p.parse::<u16>() {
            Ok(0) => return Err(NetpolError::InvalidPort(s.to_string())),
            Ok(n) => PortRef::Number(n),
            Err(_) => PortRef::Name(p.to_string()),
        };
        Ok(PortSpec {
            protocol: proto,
            port,
        })
    }
}

/// Errors of the query API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetpolError {
    /// The endpoint string could not be parsed.
    InvalidEndpoint(String),
    /// The port string could not be parsed.
    InvalidPort(String),
    /// No pod or workload with that namespace/name.
    UnknownEndpoint(String),
    /// Both endpoints are IP addresses: no policy applies.
    NoPodEndpoint,
    /// A named query port that the destination does not declare.
    UnresolvedNamedPort(String),
}

impl std::fmt::Display for NetpolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetpolError::InvalidEndpoint(s) => write!(f, "invalid endpoint {s:?}"),
            NetpolError::InvalidPort(s) => write!(f, "invalid port {s:?}"),
            NetpolError::UnknownEndpoint(s) => write!(f, "no pod or workload {s}"),
            NetpolError::NoPodEndpoint => f.write_str("at least one endpoint must be a pod"),
            NetpolError::UnresolvedNamedPort(s) => {
                write!(f, "destination has no container port named {s:?}")
            }
        }
    }
}

impl std::error::Error for NetpolError {}

/// Identifies a policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PolicyRef {
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Kind (omitted from JSON for a Kubernetes NetworkPolicy).
    #[serde(skip_serializing_if = "PolicyKind::is_kubernetes")]
    pub kind: PolicyKind,
}

impl std::fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, self.namespace.is_empty()) {
            (PolicyKind::NetworkPolicy, _) => write!(f, "{}/{}", self.namespace, self.name),
            (k, true) => write!(f, "{} {}", k.label(), self.name),
            (k, false) => write!(f, "{} {}/{}", k.label(), self.namespace, self.name),
        }
    }
}

/// Identifies a rule (and optionally a peer) of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RuleRef {
    /// The policy.
    pub policy: PolicyRef,
    /// Ingress or egress.
    pub direction: Direction,
    /// Index in `spec.ingress` / `spec.egress`.
    pub rule_index: usize,
    /// Index in the rule's `from` / `to`, when a specific peer is meant (`None`: the rule
    /// has no peers, i.e. every peer).
    pub peer_index: Option<usize>,
    /// JSON pointer of the rule in its object, for Cilium and Calico rules (whose lists
    /// are not `spec.ingress` / `spec.egress` of one spec).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// The answer for one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectionVerdict {
    /// Ingress (at the destination) or egress (at the source).
    pub direction: Direction,
    /// False when the endpoint on this side is an IP address: no policy applies there.
    pub applies: bool,
    /// Policies that select the pod and have this policy type. Empty: not isolated.
    pub isolating: Vec<PolicyRef>,
    /// Whether this direction permits the traffic.
    pub allowed: bool,
    /// Rules that admit the traffic (empty when not isolated or when denied).
    pub admitted_by: Vec<RuleRef>,
    /// Deny rules that drop the traffic (Cilium `ingressDeny`/`egressDeny`, Calico
    /// `Deny`); omitted from JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub denied_by: Vec<RuleRef>,
}

/// Result of [`Netpol::can`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Traffic is allowed iff egress at the source and ingress at the destination allow it.
    pub allowed: bool,
    /// Egress from the source.
    pub egress: DirectionVerdict,
    /// Ingress at the destination.
    pub ingress: DirectionVerdict,
    /// The resolved destination port, when a port was given.
    pub port: Option<(Protocol, u16)>,
    /// Caveats (e.g. hostNetwork pods).
    pub notes: Vec<String>,
}

/// A NetworkPolicy inventory: policies, pods/workload templates and namespace labels.
#[derive(Debug, Clone, Default)]
pub struct Netpol {
    policies: Vec<NetworkPolicy>,
    cilium: Vec<CiliumPolicy>,
    calico: Vec<CalicoPolicy>,
    tiers: Vec<CalicoTier>,
    workloads: Vec<Workload>,
    namespaces: BTreeMap<String, Labels>,
    /// Objects recognised but malformed, with the reason.
    pub skipped: Vec<String>,
    /// For each entry of [`Netpol::skipped`], the position of the input object it comes
    /// from (the `List` for an item of a list), so callers can name file and line.
    pub skipped_inputs: Vec<usize>,
    policies_by_ns: HashMap<String, Vec<usize>>,
    /// The distinct pod selectors of each namespace's policies: policies that share one
    /// (copies of a chart) are matched against a pod once.
    selectors_by_ns: HashMap<String, Vec<SelectorGroup>>,
    workload_index: HashMap<(String, String), Vec<usize>>,
}

/// Policies of one namespace with the same pod selector.
#[derive(Debug, Clone)]
struct SelectorGroup {
    selector: LabelSelector,
    /// Indices in [`Netpol::policies`], ascending.
    policies: Vec<usize>,
    /// Whether one of them has the Ingress type; the Egress type.
    types: [bool; 2],
}

impl SelectorGroup {
    fn has_type(&self, d: Direction) -> bool {
        self.types[d as usize]
    }
}

/// One side of a query, resolved.
enum Side<'a> {
    Pod(&'a Workload),
    Ip(IpAddr),
}

/// One direction of a query, as the CNI engines judge it: the direction, the pod on the
/// judged side, the Kubernetes policies isolating it there, the other side, the destination
/// and the port.
#[derive(Clone, Copy)]
struct DirectionQuery<'q> {
    d: Direction,
    pod: &'q Workload,
    kube_isolating: &'q [&'q NetworkPolicy],
    other: &'q Side<'q>,
    dest: &'q Side<'q>,
    port: Option<(Protocol, u16)>,
}

impl Netpol {
    /// Builds the inventory. Picks NetworkPolicy (networking.k8s.io/v1),
    /// CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy (cilium.io/v2), Calico
    /// NetworkPolicy, GlobalNetworkPolicy and Tier (projectcalico.org/v3 and
    /// crd.projectcalico.org/v1), Namespace,
    /// Pod and workloads with pod templates (Deployment, StatefulSet, DaemonSet,
    /// ReplicaSet, ReplicationController, Job, CronJob), also inside `List` items;
    /// ignores other kinds; malformed objects go to [`Netpol::skipped`]. Objects
    /// without `metadata.namespace` are placed in `default`.
    pub fn from_objects<'a>(objs: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut n = Netpol::default();
        for (i, o) in objs.into_iter().enumerate() {
            n.add_input(i, o);
        }
        n.index();
        n
    }

    /// Adds input `i`, and which input each of the objects it skipped came from.
    fn add_input(&mut self, i: usize, o: &Value) {
        let before = self.skipped.len();
        self.add(o, 0);
        self.skipped_inputs
            .extend(std::iter::repeat_n(i, self.skipped.len() - before));
    }

    /// [`Netpol::from_objects`] of a scan's objects, reading only the objects of the kinds
    /// the model is built from ([`Netpol::reads_kind`]), each without keeping the tree of a
    /// packed one ([`palisade_core::Object::with_value`]).
    pub fn from_inventory(objs: &[palisade_core::Object]) -> Self {
        let mut n = Netpol::default();
        for (i, o) in objs.iter().enumerate() {
            if !Netpol::reads_kind(&o.kind) {
                continue;
            }
            o.with_value(|v| n.add_input(i, v));
        }
        n.index();
        n
    }

    /// Whether the model reads objects of `kind` (an object of another kind adds nothing to
    /// it): network policies of every engine, Namespaces, lists and the kinds that run pods.
    pub fn reads_kind(kind: &str) -> bool {
        matches!(
            kind,
            "NetworkPolicy"
                | "GlobalNetworkPolicy"
                | "Tier"
                | "CiliumNetworkPolicy"
                | "CiliumClusterwideNetworkPolicy"
                | "Namespace"
        ) || kind.ends_with("List")
            || template_pointer(kind).is_some()
    }

    fn add(&mut self, o: &Value, depth: usize) {
        let Some(kind) = o.get("kind").and_then(Value::as_str) else {
            return;
        };
        let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let calico_api =
            api.starts_with("projectcalico.org/") || api.starts_with("crd.projectcalico.org/");
        let cilium_api = api.starts_with("cilium.io/");
        let res: Result<(), String> = match kind {
            "NetworkPolicy" if calico_api => {
                parse_calico(o, PolicyKind::CalicoNetworkPolicy).map(|p| self.calico.push(p))
            }
            "GlobalNetworkPolicy" if calico_api => {
                parse_calico(o, PolicyKind::CalicoGlobalNetworkPolicy).map(|p| self.calico.push(p))
            }
            "Tier" if calico_api => parse_tier(o).map(|t| self.tiers.push(t)),
            "CiliumNetworkPolicy" if cilium_api => {
                parse_cilium(o, PolicyKind::CiliumNetworkPolicy).map(|p| self.cilium.extend(p))
            }
            "CiliumClusterwideNetworkPolicy" if cilium_api => {
                parse_cilium(o, PolicyKind::CiliumClusterwideNetworkPolicy)
                    .map(|p| self.cilium.extend(p))
            }
            "NetworkPolicy" => {
                // extensions/v1beta1 is the pre-1.16 name of the same API.
                if api.is_empty()
                    || api.starts_with("networking.k8s.io/")
                    || api == "extensions/v1beta1"
                {
                    parse_policy(o).map(|p| self.policies.push(p))
                } else {
                    Ok(()) // another group's NetworkPolicy: not this API
                }
            }
            "Namespace" => match meta_str(o, "name") {
                Some(name) => {
                    let mut labels = labels_of(o);
                    labels.insert(NAMESPACE_NAME_LABEL.into(), name.into());
                    self.namespaces.insert(name.into(), labels);
                    Ok(())
                }
                None => Err("missing metadata.name".into()),
            },
            k if k == "List" || k.ends_with("List") => {
                if depth < 4 {
                    if let Some(items) = o.get("items").and_then(Value::as_array) {
                        for it in items {
                            self.add(it, depth + 1);
                        }
                    }
                }
                Ok(())
            }
            k => {
                // A custom resource that happens to be called `Deployment` runs no pods.
                let builtin = api.is_empty()
                    || palisade_core::podspec::template_base(
                        palisade_core::object::group_of(api),
                        k,
                    )
                    .is_some();
                match template_pointer(k).filter(|_| builtin) {
                    Some(ptr) => parse_workload(o, k, ptr).map(|w| self.workloads.push(w)),
                    None => Ok(()),
                }
            }
        };
        if let Err(e) = res {
            self.skipped.push(format!("{}: {e}", describe(o)));
        }
    }

    fn index(&mut self) {
        let mut referenced: BTreeSet<String> = BTreeSet::new();
        let mut group_of: HashMap<(&str, &LabelSelector), usize> = HashMap::new();
        for (i, p) in self.policies.iter().enumerate() {
            referenced.insert(p.namespace.clone());
            self.policies_by_ns
                .entry(p.namespace.clone())
                .or_default()
                .push(i);
            let groups = self.selectors_by_ns.entry(p.namespace.clone()).or_default();
            let g = *group_of
                .entry((p.namespace.as_str(), &p.pod_selector))
                .or_insert_with(|| {
                    groups.push(SelectorGroup {
                        selector: p.pod_selector.clone(),
                        policies: Vec::new(),
                        types: [false; 2],
                    });
                    groups.len() - 1
                });
            let g = &mut groups[g];
            g.policies.push(i);
            g.types[Direction::Ingress as usize] |= p.ingress_type;
            g.types[Direction::Egress as usize] |= p.egress_type;
        }
        for ns in self
            .cilium
            .iter()
            .filter_map(|p| p.namespace.as_ref())
            .chain(self.calico.iter().filter_map(|p| p.namespace.as_ref()))
        {
            referenced.insert(ns.clone());
        }
        for (i, w) in self.workloads.iter().enumerate() {
            referenced.insert(w.namespace.clone());
            self.workload_index
                .entry((w.namespace.clone(), w.name.clone()))
                .or_default()
                .push(i);
        }
        for ns in referenced {
            self.namespaces.entry(ns.clone()).or_insert_with(|| {
                let mut l = Labels::new();
                l.insert(NAMESPACE_NAME_LABEL.into(), ns);
                l
            });
        }
    }

    /// All policies.
    pub fn policies(&self) -> &[NetworkPolicy] {
        &self.policies
    }

    /// All pods and workload templates.
    pub fn workloads(&self) -> &[Workload] {
        &self.workloads
    }

    /// Namespaces (from Namespace objects or referenced) with their labels, including
    /// `kubernetes.io/metadata.name`.
    pub fn namespaces(&self) -> &BTreeMap<String, Labels> {
        &self.namespaces
    }

    /// Looks up a pod or workload.
    pub fn workload(&self, namespace: &str, name: &str, kind: Option<&str>) -> Option<&Workload> {
        self.workload_index
            .get(&(namespace.to_string(), name.to_string()))?
            .iter()
            .map(|&i| &self.workloads[i])
            .find(|w| kind.is_none_or(|k| w.kind.eq_ignore_ascii_case(k)))
    }

    fn resolve(&self, e: &Endpoint) -> Result<Side<'_>, NetpolError> {
        match e {
            Endpoint::Ip(ip) => Ok(Side::Ip(*ip)),
            Endpoint::Workload {
                namespace,
                name,
                kind,
            } => self
                .workload(namespace, name, kind.as_deref())
                .map(Side::Pod)
                .ok_or_else(|| NetpolError::UnknownEndpoint(e.to_string())),
        }
    }

    /// Policies of the pod's namespace that select it and have the given type.
    pub fn isolating_policies(&self, pod: &Workload, d: Direction) -> Vec<&NetworkPolicy> {
        let mut ids: Vec<usize> = self
            .selector_groups(pod)
            .filter(|g| g.has_type(d) && g.selector.matches(&pod.labels))
            .flat_map(|g| g.policies.iter().copied())
            .filter(|&i| self.policies[i].has_type(d))
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|i| &self.policies[i]).collect()
    }

    /// The pod selectors of the policies of the pod's namespace.
    fn selector_groups(&self, pod: &Workload) -> impl Iterator<Item = &SelectorGroup> {
        self.selectors_by_ns
            .get(&pod.namespace)
            .into_iter()
            .flatten()
    }

    /// Whether a Kubernetes policy of the pod's namespace with the type `d` selects it.
    fn kube_isolated(&self, pod: &Workload, d: Direction) -> bool {
        self.selector_groups(pod)
            .any(|g| g.has_type(d) && g.selector.matches(&pod.labels))
    }

    fn peer_matches(&self, policy: &NetworkPolicy, peer: &Peer, other: &Side<'_>) -> bool {
        match (peer, other) {
            (Peer::IpBlock { .. }, Side::Ip(ip)) => peer.contains_ip(*ip),
            // Whether ipBlock applies to pod IPs is implementation-defined; pods are
            // matched by selectors only.
            (Peer::IpBlock { .. }, Side::Pod(_)) => false,
            (Peer::Pods { .. }, Side::Ip(_)) => false,
            (
                Peer::Pods {
                    namespace_selector,
                    pod_selector,
                },
                Side::Pod(w),
            ) => {
                let ns_ok = match namespace_selector {
                    None => w.namespace == policy.namespace,
                    Some(sel) => self
                        .namespaces
                        .get(&w.namespace)
                        .is_some_and(|labels| sel.matches(labels)),
                };
                ns_ok && pod_selector.as_ref().is_none_or(|s| s.matches(&w.labels))
            }
        }
    }

    fn ports_match(rule: &PolicyRule, port: Option<(Protocol, u16)>, dest: &Side<'_>) -> bool {
        let Some((proto, num)) = port else {
            return true;
        };
        if rule.ports.is_empty() {
            return true;
        }
        rule.ports.iter().any(|p| {
            if p.protocol != proto {
                return false;
            }
            match &p.port {
                None => true,
                Some(PortRef::Number(n)) => match p.end_port {
                    Some(end) => (*n..=end).contains(&num),
                    None => *n == num,
                },
                Some(PortRef::Name(name)) => match dest {
                    Side::Pod(w) => w.named_port(name, proto) == Some(num),
                    Side::Ip(_) => false,
                },
            }
        })
    }

    /// Rules of a Kubernetes NetworkPolicy that admit the traffic.
    fn kube_admitted(
        &self,
        p: &NetworkPolicy,
        d: Direction,
        other: &Side<'_>,
        dest: &Side<'_>,
        port: Option<(Protocol, u16)>,
    ) -> Vec<RuleRef> {
        let mut admitted = Vec::new();
        for (ri, rule) in p.rules(d).iter().enumerate() {
            if !Self::ports_match(rule, port, dest) {
                continue;
            }
            let peer_index = if rule.peers.is_empty() {
                Some(None)
            } else {
                rule.peers
                    .iter()
                    .position(|peer| self.peer_matches(p, peer, other))
                    .map(Some)
            };
            if let Some(peer_index) = peer_index {
                admitted.push(RuleRef {
                    policy: policy_ref(p),
                    direction: d,
                    rule_index: ri,
                    peer_index,
                    path: None,
                });
            }
        }
        admitted
    }

    fn direction(
        &self,
        d: Direction,
        pod: Option<&Workload>,
        other: &Side<'_>,
        dest: &Side<'_>,
        port: Option<(Protocol, u16)>,
        notes: &mut Vec<String>,
    ) -> DirectionVerdict {
        let Some(pod) = pod else {
            return DirectionVerdict {
                direction: d,
                applies: false,
                isolating: vec![],
                allowed: true,
                admitted_by: vec![],
                denied_by: vec![],
            };
        };
        let isolating = self.isolating_policies(pod, d);
        if self.cilium.is_empty() && self.calico.is_empty() {
            let mut admitted = Vec::new();
            for p in &isolating {
                admitted.extend(self.kube_admitted(p, d, other, dest, port));
            }
            return DirectionVerdict {
                direction: d,
                applies: true,
                allowed: isolating.is_empty() || !admitted.is_empty(),
                isolating: isolating.iter().map(|p| policy_ref(p)).collect(),
                admitted_by: admitted,
                denied_by: vec![],
            };
        }
        let q = DirectionQuery {
            d,
            pod,
            kube_isolating: &isolating,
            other,
            dest,
            port,
        };
        let mut out: Option<DirectionVerdict> = None;
        if !self.cilium.is_empty() {
            out = Some(self.cilium_direction(q, notes));
        }
        if !self.calico.is_empty() {
            let c = self.calico_direction(q, notes);
            out = Some(match out {
                None => c,
                Some(mut v) => {
                    // Both CNIs' kinds in one scan: answer for either being the one enforced.
                    v.allowed &= c.allowed;
                    for r in c.isolating {
                        if !v.isolating.contains(&r) {
                            v.isolating.push(r);
                        }
                    }
                    v.admitted_by.extend(
                        c.admitted_by
                            .into_iter()
                            .filter(|r| r.policy.kind != PolicyKind::NetworkPolicy),
                    );
                    v.denied_by.extend(c.denied_by);
                    v
                }
            });
        }
        out.unwrap_or_else(|| unreachable_verdict(d))
    }

    /// Cilium: allow rules of every policy (Kubernetes ones included) add up, deny rules
    /// win, and default deny holds when any selecting policy asks for it.
    fn cilium_direction(&self, q: DirectionQuery<'_>, notes: &mut Vec<String>) -> DirectionVerdict {
        let DirectionQuery {
            d,
            pod,
            kube_isolating,
            other,
            dest,
            port,
        } = q;
        let mut isolating: Vec<PolicyRef> = kube_isolating.iter().map(|p| policy_ref(p)).collect();
        let mut admitted = Vec::new();
        for p in kube_isolating {
            admitted.extend(self.kube_admitted(p, d, other, dest, port));
        }
        let mut denied = Vec::new();
        let selecting: Vec<&CiliumPolicy> = if pod.host_network {
            if self.cilium.iter().any(|p| p.endpoint_selector.is_some()) {
                push_note(
                    notes,
                    format!("{} uses hostNetwork: Cilium endpoint policies do not apply to it (it has the node's identity)", pod.key()),
                );
            }
            Vec::new()
        } else {
            let labels = self.cilium_labels(pod);
            self.cilium
                .iter()
                .filter(|p| {
                    p.endpoint_selector
                        .as_ref()
                        .is_some_and(|s| s.matches(&labels))
                })
                .collect()
        };
        for p in &selecting {
            let pref = cilium_ref(p);
            if p.default_deny(d) && !isolating.contains(&pref) {
                isolating.push(pref.clone());
            }
            for deny in [false, true] {
                let rules = if deny {
                    p.deny_rules(d)
                } else {
                    p.allow_rules(d)
                };
                for (ri, r) in rules.iter().enumerate() {
                    let level = self.cilium_rule_level(r, other, dest, port);
                    let hit = if deny {
                        level == Level::All
                    } else {
                        level != Level::No
                    };
                    let path = format!("{}/{}/{ri}", p.pointer, CiliumPolicy::section(d, deny));
                    for u in &r.unsupported {
                        push_note(notes, format!("{pref} {path} uses {u}, which this engine does not evaluate (it matches nothing here)"));
                    }
                    if !hit {
                        continue;
                    }
                    if r.l7 {
                        push_note(notes, format!("{pref} {path} has L7 rules: enforced by Cilium's proxy, counted here as an L4 allow"));
                    }
                    let rr = RuleRef {
                        policy: pref.clone(),
                        direction: d,
                        rule_index: ri,
                        peer_index: None,
                        path: Some(path),
                    };
                    if deny {
                        denied.push(rr);
                    } else {
                        admitted.push(rr);
                    }
                }
            }
        }
        let allowed = denied.is_empty() && (isolating.is_empty() || !admitted.is_empty());
        DirectionVerdict {
            direction: d,
            applies: true,
            isolating,
            allowed,
            admitted_by: if denied.is_empty() { admitted } else { vec![] },
            denied_by: denied,
        }
    }

    /// How much of the queried traffic a Cilium rule matches.
    fn cilium_rule_level(
        &self,
        r: &CiliumRule,
        other: &Side<'_>,
        dest: &Side<'_>,
        port: Option<(Protocol, u16)>,
    ) -> Level {
        let l3 = if !r.has_l3 {
            // `{}` selects nothing; `toPorts` alone applies to every peer.
            r.has_ports
        } else {
            match other {
                Side::Pod(w) if w.host_network => {
                    r.entities.iter().any(|e| {
                        matches!(
                            e,
                            Entity::Host | Entity::RemoteNode | Entity::Cluster | Entity::All
                        )
                    }) || {
                        let mut l = Labels::new();
                        l.insert("reserved:host".into(), String::new());
                        l.insert("reserved:remote-node".into(), String::new());
                        r.endpoints.iter().any(|s| s.matches(&l))
                    }
                }
                Side::Pod(w) => {
                    r.entities
                        .iter()
                        .any(|e| matches!(e, Entity::Cluster | Entity::All))
                        || {
                            let l = self.cilium_labels(w);
                            r.endpoints.iter().any(|s| s.matches(&l))
                        }
                }
                Side::Ip(ip) => {
                    r.entities.iter().any(|e| match e {
                        Entity::World | Entity::All => true,
                        Entity::WorldIpv4 => ip.is_ipv4(),
                        Entity::WorldIpv6 => ip.is_ipv6(),
                        _ => false,
                    }) || r
                        .cidrs
                        .iter()
                        .any(|(c, ex)| c.contains(ip) && !ex.iter().any(|e| e.contains(ip)))
                }
            }
        };
        if !l3 {
            return Level::No;
        }
        if !r.has_ports {
            return Level::All;
        }
        let Some((proto, num)) = port else {
            return if r
                .ports
                .iter()
                .any(|p| p.protocol.is_none() && p.port.is_none())
            {
                Level::All
            } else {
                Level::Some
            };
        };
        let hit = r.ports.iter().any(|p| {
            p.protocol.is_none_or(|pp| pp == proto)
                && match &p.port {
                    None => true,
                    Some(PortRef::Number(n)) => match p.end_port {
                        Some(end) => (*n..=end).contains(&num),
                        None => *n == num,
                    },
                    Some(PortRef::Name(name)) => match dest {
                        Side::Pod(w) => w.named_port(name, proto) == Some(num),
                        Side::Ip(_) => false,
                    },
                }
        });
        if hit {
            Level::All
        } else {
            Level::No
        }
    }

    /// The labels of a pod's Cilium identity: its labels plus the namespace, the
    /// namespace's labels and the service account.
    fn cilium_labels(&self, w: &Workload) -> Labels {
        let mut l = w.labels.clone();
        l.insert(CILIUM_NAMESPACE_LABEL.into(), w.namespace.clone());
        l.insert(
            CILIUM_SERVICE_ACCOUNT_LABEL.into(),
            w.service_account.clone(),
        );
        l.insert("io.cilium.k8s.policy.cluster".into(), "default".into());
        if let Some(ns) = self.namespaces.get(&w.namespace) {
            for (k, v) in ns {
                l.insert(format!("{CILIUM_NAMESPACE_LABELS_PREFIX}{k}"), v.clone());
            }
        }
        l
    }

    /// The labels Calico gives a pod's workload endpoint.
    fn calico_labels(w: &Workload) -> Labels {
        let mut l = w.labels.clone();
        l.insert("projectcalico.org/namespace".into(), w.namespace.clone());
        l.insert("projectcalico.org/orchestrator".into(), "k8s".into());
        l.insert(
            "projectcalico.org/serviceaccount".into(),
            w.service_account.clone(),
        );
        l
    }

    /// The labels Calico's namespace selectors see.
    fn calico_namespace_labels(&self, ns: &str) -> Labels {
        let mut l = self.namespaces.get(ns).cloned().unwrap_or_default();
        l.insert("projectcalico.org/name".into(), ns.to_string());
        l
    }

    fn calico_selects(&self, p: &CalicoPolicy, w: &Workload) -> bool {
        if w.host_network || p.host_only {
            return false;
        }
        let in_scope = match &p.namespace {
            Some(ns) => *ns == w.namespace,
            None => p
                .namespace_selector
                .as_ref()
                .is_none_or(|s| s.matches(&self.calico_namespace_labels(&w.namespace))),
        };
        in_scope
            && p.selector.matches(&Self::calico_labels(w))
            && p.service_account_selector.as_ref().is_none_or(|s| {
                let mut l = Labels::new();
                l.insert("projectcalico.org/name".into(), w.service_account.clone());
                s.matches(&l)
            })
    }

    /// Whether one side of a packet matches a Calico `source` / `destination`.
    fn calico_entity(&self, p: &CalicoPolicy, e: &EntityRule, side: &Side<'_>) -> bool {
        match side {
            Side::Pod(w) if !w.host_network => {
                // A pod's address is unknown: `nets` matches it only when it covers
                // every address, `notNets` excludes it only then.
                if !e.nets.is_empty() && !e.nets.iter().any(|n| n.prefix_len() == 0) {
                    return false;
                }
                if e.not_nets.iter().any(|n| n.prefix_len() == 0) {
                    return false;
                }
                let in_scope = match &e.namespace_selector {
                    Some(s) => s.matches(&self.calico_namespace_labels(&w.namespace)),
                    None => p.namespace.as_ref().is_none_or(|ns| *ns == w.namespace),
                };
                let labels = Self::calico_labels(w);
                if let Some(sel) = &e.selector {
                    if !(in_scope && sel.matches(&labels)) {
                        return false;
                    }
                } else if e.namespace_selector.is_some() && !in_scope {
                    return false;
                }
                if let Some(sel) = &e.not_selector {
                    if in_scope && sel.matches(&labels) {
                        return false;
                    }
                }
                if e.has_service_accounts {
                    let mut l = Labels::new();
                    l.insert("projectcalico.org/name".into(), w.service_account.clone());
                    let ok = in_scope
                        && (e.service_account_names.is_empty()
                            || e.service_account_names.contains(&w.service_account))
                        && e.service_account_selector
                            .as_ref()
                            .is_none_or(|s| s.matches(&l));
                    if !ok {
                        return false;
                    }
                }
                true
            }
            // Host-network pods use the node's address (unknown here): not a workload
            // endpoint, matched by `nets` only when they cover every address.
            Side::Pod(_) => {
                (e.nets.is_empty() || e.nets.iter().any(|n| n.prefix_len() == 0))
                    && !e.not_nets.iter().any(|n| n.prefix_len() == 0)
                    && e.selector.is_none()
                    && e.namespace_selector.is_none()
                    && !e.has_service_accounts
            }
            Side::Ip(ip) => {
                if !e.nets.is_empty() && !e.nets.iter().any(|n| n.contains(ip)) {
                    return false;
                }
                if e.not_nets.iter().any(|n| n.contains(ip)) {
                    return false;
                }
                // Selectors select endpoints (their addresses); `notSelector` leaves
                // outside addresses matched.
                e.selector.is_none() && e.namespace_selector.is_none() && !e.has_service_accounts
            }
        }
    }

    /// How much of the queried traffic a Calico rule matches.
    #[allow(clippy::too_many_arguments)]
    fn calico_rule_level(
        &self,
        p: &CalicoPolicy,
        r: &crate::calico::CalicoRule,
        src: &Side<'_>,
        dst: &Side<'_>,
        port: Option<(Protocol, u16)>,
        path: &str,
        notes: &mut Vec<String>,
    ) -> Level {
        let mut partial = false;
        let proto_num = |p: Protocol| match p {
            Protocol::Tcp => 6u8,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        };
        if let Some(pr) = r.protocol {
            match port {
                Some((q, _)) if proto_num(q) != pr => return Level::No,
                Some(_) => {}
                None => partial = true,
            }
        }
        if let Some(np) = r.not_protocol {
            match port {
                Some((q, _)) if proto_num(q) == np => return Level::No,
                Some(_) => {}
                None => partial = true,
            }
        }
        if let Some(v) = r.ip_version {
            for side in [src, dst] {
                if let Side::Ip(ip) = side {
                    if (v == 4) != ip.is_ipv4() {
                        return Level::No;
                    }
                }
            }
        }
        if let Some(u) = r
            .source
            .unsupported
            .iter()
            .chain(&r.destination.unsupported)
            .next()
        {
            push_note(notes, format!("{} {path} uses {u}, which this engine does not evaluate (it matches nothing here)", calico_ref(p)));
            return Level::No;
        }
        if !self.calico_entity(p, &r.source, src) || !self.calico_entity(p, &r.destination, dst) {
            return Level::No;
        }
        let de = &r.destination;
        if !de.ports.is_empty() || !de.not_ports.is_empty() {
            match port {
                None => partial = true,
                Some((q, num)) => {
                    let named = |n: &str| match dst {
                        Side::Pod(w) => w.named_port(n, q),
                        Side::Ip(_) => None,
                    };
                    if !de.ports.is_empty() && !de.ports.iter().any(|cp| cp.matches(num, named)) {
                        return Level::No;
                    }
                    if de.not_ports.iter().any(|cp| cp.matches(num, named)) {
                        return Level::No;
                    }
                }
            }
        }
        // Source ports are the client's (usually ephemeral): part of the traffic at most.
        if !r.source.ports.is_empty() || !r.source.not_ports.is_empty() {
            partial = true;
        }
        if r.l7 {
            push_note(notes, format!("{} {path} has HTTP match criteria: application-layer policy, counted here as an L4 rule", calico_ref(p)));
        }
        if partial {
            Level::Some
        } else {
            Level::All
        }
    }

    /// Calico: tiers by order, policies by order, first Allow/Deny wins, Pass goes to the
    /// next tier, a tier that applies but decides nothing denies; Kubernetes policies sit
    /// in the default tier at order 1000; no tier deciding leaves the profile's allow.
    fn calico_direction(&self, q: DirectionQuery<'_>, notes: &mut Vec<String>) -> DirectionVerdict {
        let DirectionQuery {
            d,
            pod,
            kube_isolating,
            other,
            dest,
            port,
        } = q;
        let pod_side = Side::Pod(pod);
        let (src, dst) = match d {
            Direction::Ingress => (other, &pod_side),
            Direction::Egress => (&pod_side, other),
        };
        if pod.host_network && self.calico.iter().any(|p| !p.host_only) {
            push_note(notes, format!("{} uses hostNetwork: Calico policies apply to it only through host endpoints, which this engine does not model", pod.key()));
        }
        let mut verdict = DirectionVerdict {
            direction: d,
            applies: true,
            isolating: Vec::new(),
            allowed: true,
            admitted_by: Vec::new(),
            denied_by: Vec::new(),
        };
        for (tier, default_pass) in self.calico_tiers() {
            enum Entry<'a> {
                Calico(&'a CalicoPolicy),
                Kube(&'a NetworkPolicy),
            }
            let mut entries: Vec<(f64, String, Entry<'_>)> = self
                .calico
                .iter()
                .filter(|p| p.tier == tier && p.has_type(d) && self.calico_selects(p, pod))
                .map(|p| {
                    (
                        p.order.unwrap_or(f64::INFINITY),
                        p.name.clone(),
                        Entry::Calico(p),
                    )
                })
                .collect();
            // Host-network pods are not workload endpoints: no policy applies to them.
            if tier == "default" && !pod.host_network {
                entries.extend(kube_isolating.iter().map(|p| {
                    (
                        KUBERNETES_POLICY_ORDER,
                        format!("knp.default.{}", p.name),
                        Entry::Kube(p),
                    )
                }));
            }
            if entries.is_empty() {
                continue;
            }
            entries.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            let mut passed = false;
            'policies: for (_, _, e) in &entries {
                match e {
                    Entry::Kube(p) => {
                        verdict.isolating.push(policy_ref(p));
                        let admitted = self.kube_admitted(p, d, other, dest, port);
                        if !admitted.is_empty() {
                            verdict.admitted_by = admitted;
                            return verdict;
                        }
                    }
                    Entry::Calico(p) => {
                        let pref = calico_ref(p);
                        verdict.isolating.push(pref.clone());
                        let list = match d {
                            Direction::Ingress => "ingress",
                            Direction::Egress => "egress",
                        };
                        for (ri, r) in p.rules(d).iter().enumerate() {
                            let path = format!("/spec/{list}/{ri}");
                            let level = self.calico_rule_level(p, r, src, dst, port, &path, notes);
                            let rr = RuleRef {
                                policy: pref.clone(),
                                direction: d,
                                rule_index: ri,
                                peer_index: None,
                                path: Some(path),
                            };
                            match r.action {
                                Action::Allow if level != Level::No => {
                                    verdict.admitted_by.push(rr);
                                    return verdict;
                                }
                                Action::Deny if level == Level::All => {
                                    verdict.allowed = false;
                                    verdict.denied_by.push(rr);
                                    return verdict;
                                }
                                Action::Pass if level == Level::All => {
                                    passed = true;
                                    break 'policies;
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            if !passed && !default_pass {
                verdict.allowed = false;
                return verdict;
            }
        }
        if !verdict.isolating.is_empty() {
            push_note(notes, format!("{} {}: every Calico tier that applies passed the traffic on; the namespace profile allows it", pod.key(), match d { Direction::Ingress => "ingress", Direction::Egress => "egress" }));
        }
        verdict
    }

    /// Tier names in evaluation order, with whether their default action is Pass.
    fn calico_tiers(&self) -> Vec<(String, bool)> {
        let mut tiers: BTreeMap<String, (Option<f64>, bool)> = BTreeMap::new();
        tiers.insert("default".into(), (Some(DEFAULT_TIER_ORDER), false));
        for p in &self.calico {
            tiers.entry(p.tier.clone()).or_insert((None, false));
        }
        for t in &self.tiers {
            tiers.insert(t.name.clone(), (t.order, t.default_pass));
        }
        let mut v: Vec<(String, Option<f64>, bool)> =
            tiers.into_iter().map(|(n, (o, p))| (n, o, p)).collect();
        v.sort_by(|a, b| {
            a.1.unwrap_or(f64::INFINITY)
                .total_cmp(&b.1.unwrap_or(f64::INFINITY))
                .then_with(|| a.0.cmp(&b.0))
        });
        v.into_iter().map(|(n, _, p)| (n, p)).collect()
    }

    /// Whether traffic from `from` to `to` (on `port`, or on any port when `None`) is
    /// allowed: egress at the source AND ingress at the destination. With `port: None`,
    /// a rule restricted to some ports still counts as admitting (some) traffic.
    pub fn can(
        &self,
        from: &Endpoint,
        to: &Endpoint,
        port: Option<&PortSpec>,
    ) -> Result<Verdict, NetpolError> {
        let src = self.resolve(from)?;
        let dst = self.resolve(to)?;
        if matches!((&src, &dst), (Side::Ip(_), Side::Ip(_))) {
            return Err(NetpolError::NoPodEndpoint);
        }
        let port = match port {
            None => None,
            Some(PortSpec {
                protocol,
                port: PortRef::Number(n),
            }) => Some((*protocol, *n)),
            Some(PortSpec {
                protocol,
                port: PortRef::Name(name),
            }) => match &dst {
                Side::Pod(w) => Some((
                    *protocol,
                    w.named_port(name, *protocol)
                        .ok_or_else(|| NetpolError::UnresolvedNamedPort(name.clone()))?,
                )),
                Side::Ip(_) => return Err(NetpolError::UnresolvedNamedPort(name.clone())),
            },
        };
        let src_pod = match &src {
            Side::Pod(w) => Some(*w),
            Side::Ip(_) => None,
        };
        let dst_pod = match &dst {
            Side::Pod(w) => Some(*w),
            Side::Ip(_) => None,
        };
        let mut notes = Vec::new();
        let egress = self.direction(Direction::Egress, src_pod, &dst, &dst, port, &mut notes);
        let ingress = self.direction(Direction::Ingress, dst_pod, &src, &dst, port, &mut notes);
        for w in [src_pod, dst_pod].into_iter().flatten() {
            if w.host_network {
                notes.push(format!(
                    "{} uses hostNetwork: NetworkPolicy behaviour for host-network pods is undefined",
                    w.key()
                ));
            }
        }
        Ok(Verdict {
            allowed: egress.allowed && ingress.allowed,
            egress,
            ingress,
            port,
            notes,
        })
    }

    /// Namespaces lacking a default deny for `d`: no policy in the namespace selects
    /// every pod (empty `podSelector`), has the type `d`, and has no rule that admits
    /// everything. A Cilium rule counts when its endpoint selector holds every pod of
    /// the namespace whatever their labels (`{}` in a CiliumNetworkPolicy, or only
    /// namespace keys in a clusterwide one), it turns default deny on for `d`, and none
    /// of its allow rules is `fromEntities`/`toEntities: [all]` on every port. A Calico
    /// policy counts when it selects `all()` of the namespace (namespaced, or global
    /// with a matching or absent `namespaceSelector`), has the type `d`, sits in a tier
    /// whose default action is Deny, and has no `Allow` or `Pass` rule without match
    /// criteria.
    pub fn namespaces_without_default_deny(&self, d: Direction) -> Vec<String> {
        // The Cilium and Calico rules that can give a namespace its default deny, each
        // distinct one once (copies of a policy across a large scan are tried once).
        let cilium = self.cilium_default_deny_selectors(d);
        let calico = self.calico_default_deny_candidates(d);
        self.namespaces
            .keys()
            .filter(|ns| {
                !self
                    .policies_by_ns
                    .get(*ns)
                    .into_iter()
                    .flatten()
                    .map(|&i| &self.policies[i])
                    .any(|p| {
                        p.pod_selector.is_empty()
                            && p.has_type(d)
                            && !p.rules(d).iter().any(PolicyRule::allows_everything)
                    })
                    && !self.cilium_default_deny(&cilium, ns)
                    && !self.calico_default_deny(&calico, ns)
            })
            .cloned()
            .collect()
    }

    /// The distinct endpoint selectors of the Cilium rules that turn default deny on for `d`
    /// without an allow rule of `fromEntities`/`toEntities: [all]` on every port, and that
    /// select on namespace keys only (so they hold every pod of a namespace they select).
    fn cilium_default_deny_selectors(&self, d: Direction) -> Vec<&LabelSelector> {
        let ns_key =
            |k: &str| k == CILIUM_NAMESPACE_LABEL || k.starts_with(CILIUM_NAMESPACE_LABELS_PREFIX);
        let mut seen = std::collections::HashSet::new();
        self.cilium
            .iter()
            .filter(|p| {
                p.default_deny(d)
                    && !p
                        .allow_rules(d)
                        .iter()
                        .any(|r| !r.has_ports && r.entities.contains(&Entity::All))
            })
            .filter_map(|p| p.endpoint_selector.as_ref())
            .filter(|sel| {
                sel.match_labels.keys().all(|k| ns_key(k))
                    && sel.match_expressions.iter().all(|r| ns_key(&r.key))
            })
            .filter(|sel| seen.insert(*sel))
            .collect()
    }

    /// Whether one of the selectors holds every pod of `ns`, whatever their labels.
    fn cilium_default_deny(&self, selectors: &[&LabelSelector], ns: &str) -> bool {
        if selectors.is_empty() {
            return false;
        }
        let mut l = Labels::new();
        l.insert(CILIUM_NAMESPACE_LABEL.into(), ns.to_string());
        if let Some(nsl) = self.namespaces.get(ns) {
            for (k, v) in nsl {
                l.insert(format!("{CILIUM_NAMESPACE_LABELS_PREFIX}{k}"), v.clone());
            }
        }
        selectors.iter().any(|sel| sel.matches(&l))
    }

    /// The Calico policies that give the namespaces they select a default deny for `d`:
    /// the type `d`, a tier that does not pass by default, no `Allow` or `Pass` rule without
    /// match criteria, no service-account selector, not host-only, and a selector of `all()`
    /// or of the namespace labels alone. Distinct (namespace, selector, namespaceSelector)
    /// once.
    fn calico_default_deny_candidates(&self, d: Direction) -> Vec<&CalicoPolicy> {
        let pass_tiers: BTreeSet<&str> = self
            .tiers
            .iter()
            .filter(|t| t.default_pass)
            .map(|t| t.name.as_str())
            .collect();
        let mut seen = std::collections::HashSet::new();
        self.calico
            .iter()
            .filter(|p| {
                (p.selector.is_all()
                    || p.selector.keys().iter().all(|k| {
                        *k == "projectcalico.org/namespace"
                            || *k == "projectcalico.org/orchestrator"
                    }))
                    && p.service_account_selector.is_none()
                    && !p.host_only
                    && p.has_type(d)
                    && !pass_tiers.contains(p.tier.as_str())
                    && !p.rules(d).iter().any(|r| {
                        matches!(r.action, Action::Allow | Action::Pass)
                            && r.protocol.is_none()
                            && r.not_protocol.is_none()
                            && r.ip_version.is_none()
                            && r.source == EntityRule::default()
                            && r.destination == EntityRule::default()
                    })
            })
            .filter(|p| seen.insert((&p.namespace, &p.selector, &p.namespace_selector)))
            .collect()
    }

    /// Whether one of the candidate Calico policies selects every pod of `ns`.
    fn calico_default_deny(&self, candidates: &[&CalicoPolicy], ns: &str) -> bool {
        candidates.iter().any(|p| {
            // `all()`, or an expression on the namespace label alone that holds for `ns`
            let selects_namespace = p.selector.is_all() || {
                let mut l = Labels::new();
                l.insert("projectcalico.org/namespace".into(), ns.to_string());
                l.insert("projectcalico.org/orchestrator".into(), "k8s".into());
                p.selector.matches(&l)
            };
            selects_namespace
                && match &p.namespace {
                    Some(pns) => pns == ns,
                    None => p
                        .namespace_selector
                        .as_ref()
                        .is_none_or(|s| s.matches(&self.calico_namespace_labels(ns))),
                }
        })
    }

    /// Pods and workloads selected by no policy of their namespace (any type), nor by
    /// a Cilium or Calico policy.
    pub fn unselected_pods(&self) -> Vec<&Workload> {
        self.workloads
            .iter()
            .filter(|w| {
                !self
                    .selector_groups(w)
                    .any(|g| g.selector.matches(&w.labels))
                    && !self.selected_by_cni_policy(w)
            })
            .collect()
    }

    fn selected_by_cni_policy(&self, w: &Workload) -> bool {
        if self.cilium.is_empty() && self.calico.is_empty() {
            return false;
        }
        let labels = self.cilium_labels(w);
        (!w.host_network
            && self.cilium.iter().any(|p| {
                p.endpoint_selector
                    .as_ref()
                    .is_some_and(|s| s.matches(&labels))
            }))
            || self.calico.iter().any(|p| self.calico_selects(p, w))
    }

    /// Whether the namespace holds a namespaced policy of any kind (Kubernetes,
    /// CiliumNetworkPolicy, Calico NetworkPolicy).
    pub fn namespace_has_policies(&self, ns: &str) -> bool {
        self.policies_by_ns.contains_key(ns)
            || self
                .cilium
                .iter()
                .any(|p| p.namespace.as_deref() == Some(ns))
            || self
                .calico
                .iter()
                .any(|p| p.namespace.as_deref() == Some(ns))
    }

    /// Whether some policy of any kind restricts the pod's traffic in direction `d`
    /// (Kubernetes isolation, Cilium default deny, or a Calico policy with that type).
    pub fn is_isolated(&self, pod: &Workload, d: Direction) -> bool {
        if self.kube_isolated(pod, d) {
            return true;
        }
        let labels = self.cilium_labels(pod);
        (!pod.host_network
            && self.cilium.iter().any(|p| {
                p.default_deny(d)
                    && p.endpoint_selector
                        .as_ref()
                        .is_some_and(|s| s.matches(&labels))
            }))
            || self
                .calico
                .iter()
                .any(|p| p.has_type(d) && self.calico_selects(p, pod))
    }

    /// Cilium rules (one per `spec` / `specs` entry) of the inventory.
    pub fn cilium_policies(&self) -> &[CiliumPolicy] {
        &self.cilium
    }

    /// Calico policies of the inventory.
    pub fn calico_policies(&self) -> &[CalicoPolicy] {
        &self.calico
    }

    /// Rules that admit every namespace: a peer with an empty `namespaceSelector`
    /// (`{}`, optionally ANDed with a podSelector), or a rule with no peers at all
    /// (`peer_index: None`, which admits everything).
    pub fn policies_allowing_all_namespaces(&self) -> Vec<RuleRef> {
        self.rules_where(
            |peer| matches!(peer, Peer::Pods { namespace_selector: Some(s), .. } if s.is_empty()),
        )
    }

    /// Rules that admit any IP address: an ipBlock of `0.0.0.0/0` or `::/0` (even with
    /// `except`), or a rule with no peers at all (`peer_index: None`).
    pub fn policies_allowing_any_ip(&self) -> Vec<RuleRef> {
        self.rules_where(
            |peer| matches!(peer, Peer::IpBlock { cidr, .. } if cidr.prefix_len() == 0),
        )
    }

    /// Cilium and Calico allow rules that name every address as a peer: `fromEntities`
    /// / `toEntities` `world` or `all`, a CIDR of prefix 0 (even with `except`); a Calico
    /// `Allow` rule whose source (ingress) or destination (egress) `nets` holds a prefix 0.
    /// Each reference has the JSON pointer of the field in `path`.
    pub fn cni_rules_allowing_any_ip(&self) -> Vec<RuleRef> {
        self.cni_rules_where(
            |r, dir| {
                let ent = match dir {
                    Direction::Ingress => "fromEntities",
                    Direction::Egress => "toEntities",
                };
                let mut out: Vec<String> = r
                    .entities
                    .iter()
                    .position(|e| matches!(e, Entity::World | Entity::All))
                    .map(|i| format!("{ent}/{i}"))
                    .into_iter()
                    .collect();
                for ((c, _), field) in r.cidrs.iter().zip(&r.cidr_fields) {
                    if c.prefix_len() == 0 {
                        out.push(field.clone());
                    }
                }
                out
            },
            |e| {
                e.nets
                    .iter()
                    .position(|n| n.prefix_len() == 0)
                    .map(|i| format!("nets/{i}"))
            },
        )
    }

    /// Cilium and Calico allow rules that name every namespace: `fromEndpoints` /
    /// `toEndpoints` selecting on nothing but the existence of the pod namespace (a
    /// clusterwide `{}`, or `k8s:io.kubernetes.pod.namespace` Exists), the `cluster` or
    /// `all` entity; a Calico `Allow` rule whose `namespaceSelector` is `all()`.
    pub fn cni_rules_allowing_all_namespaces(&self) -> Vec<RuleRef> {
        self.cni_rules_where(
            |r, dir| {
                let (eps, ent) = match dir {
                    Direction::Ingress => ("fromEndpoints", "fromEntities"),
                    Direction::Egress => ("toEndpoints", "toEntities"),
                };
                let mut out = Vec::new();
                for (i, sel) in r.endpoints.iter().enumerate() {
                    let only_ns_exists = sel.match_labels.is_empty()
                        && sel.match_expressions.iter().all(|q| {
                            q.key == CILIUM_NAMESPACE_LABEL
                                && q.operator == palisade_core::labels::Operator::Exists
                        });
                    if only_ns_exists {
                        out.push(format!("{eps}/{i}"));
                    }
                }
                if let Some(i) = r
                    .entities
                    .iter()
                    .position(|e| matches!(e, Entity::Cluster | Entity::All))
                {
                    out.push(format!("{ent}/{i}"));
                }
                out
            },
            |e| {
                e.namespace_selector
                    .as_ref()
                    .filter(|s| s.is_all())
                    .map(|_| "namespaceSelector".to_string())
            },
        )
    }

    fn cni_rules_where(
        &self,
        cilium: impl Fn(&CiliumRule, Direction) -> Vec<String>,
        calico: impl Fn(&EntityRule) -> Option<String>,
    ) -> Vec<RuleRef> {
        let mut out = Vec::new();
        for d in [Direction::Ingress, Direction::Egress] {
            // node (host firewall) rules are not about pods
            for p in self.cilium.iter().filter(|p| p.endpoint_selector.is_some()) {
                for (ri, r) in p.allow_rules(d).iter().enumerate() {
                    for field in cilium(r, d) {
                        out.push(RuleRef {
                            policy: cilium_ref(p),
                            direction: d,
                            rule_index: ri,
                            peer_index: Some(0),
                            path: Some(format!(
                                "{}/{}/{ri}/{field}",
                                p.pointer,
                                CiliumPolicy::section(d, false)
                            )),
                        });
                    }
                }
            }
            for p in &self.calico {
                if !p.has_type(d) {
                    continue;
                }
                for (ri, r) in p.rules(d).iter().enumerate() {
                    let (side, e) = match d {
                        Direction::Ingress => ("source", &r.source),
                        Direction::Egress => ("destination", &r.destination),
                    };
                    if r.action != Action::Allow {
                        continue;
                    }
                    if let Some(field) = calico(e) {
                        let list = match d {
                            Direction::Ingress => "ingress",
                            Direction::Egress => "egress",
                        };
                        out.push(RuleRef {
                            policy: calico_ref(p),
                            direction: d,
                            rule_index: ri,
                            peer_index: Some(0),
                            path: Some(format!("/spec/{list}/{ri}/{side}/{field}")),
                        });
                    }
                }
            }
        }
        out
    }

    fn rules_where(&self, pred: impl Fn(&Peer) -> bool) -> Vec<RuleRef> {
        let mut out = Vec::new();
        for p in &self.policies {
            for d in [Direction::Ingress, Direction::Egress] {
                if !p.has_type(d) {
                    continue; // rules of a direction the policy does not have are ignored
                }
                for (ri, r) in p.rules(d).iter().enumerate() {
                    if r.peers.is_empty() {
                        out.push(RuleRef {
                            policy: policy_ref(p),
                            direction: d,
                            rule_index: ri,
                            peer_index: None,
                            path: None,
                        });
                        continue;
                    }
                    for (pi, peer) in r.peers.iter().enumerate() {
                        if pred(peer) {
                            out.push(RuleRef {
                                policy: policy_ref(p),
                                direction: d,
                                rule_index: ri,
                                peer_index: Some(pi),
                                path: None,
                            });
                        }
                    }
                }
            }
        }
        out
    }

    /// Whether the pod can reach the cloud metadata endpoint 169.254.169.254 (TCP 80),
    /// and whether it has internet egress (probed with 1.1.1.1 and 8.8.8.8 on TCP 443).
    pub fn metadata_endpoint_reachable(
        &self,
        endpoint: &Endpoint,
    ) -> Result<MetadataReach, NetpolError> {
        let md: IpAddr = [169, 254, 169, 254].into();
        let metadata = self.can(endpoint, &Endpoint::Ip(md), Some(&PortSpec::tcp(80)))?;
        let mut internet = false;
        for ip in [[1, 1, 1, 1], [8, 8, 8, 8]] {
            let v = self.can(
                endpoint,
                &Endpoint::Ip(IpAddr::from(ip)),
                Some(&PortSpec::tcp(443)),
            )?;
            internet |= v.allowed;
        }
        Ok(MetadataReach {
            reachable: metadata.allowed,
            internet_egress: internet,
            verdict: metadata,
        })
    }
}

/// Result of [`Netpol::metadata_endpoint_reachable`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataReach {
    /// Egress to 169.254.169.254:80/TCP is allowed.
    pub reachable: bool,
    /// Egress to public internet addresses is allowed (so the metadata endpoint is
    /// reachable through a too-wide egress rule unless it is excepted).
    pub internet_egress: bool,
    /// The verdict for the metadata endpoint.
    pub verdict: Verdict,
}

fn policy_ref(p: &NetworkPolicy) -> PolicyRef {
    PolicyRef {
        namespace: p.namespace.clone(),
        name: p.name.clone(),
        kind: PolicyKind::NetworkPolicy,
    }
}

fn cilium_ref(p: &CiliumPolicy) -> PolicyRef {
    PolicyRef {
        namespace: p.namespace.clone().unwrap_or_default(),
        name: p.name.clone(),
        kind: p.kind,
    }
}

fn calico_ref(p: &CalicoPolicy) -> PolicyRef {
    PolicyRef {
        namespace: p.namespace.clone().unwrap_or_default(),
        name: p.name.clone(),
        kind: p.kind,
    }
}

fn push_note(notes: &mut Vec<String>, n: String) {
    if !notes.contains(&n) {
        notes.push(n);
    }
}

fn unreachable_verdict(d: Direction) -> DirectionVerdict {
    DirectionVerdict {
        direction: d,
        applies: true,
        isolating: vec![],
        allowed: true,
        admitted_by: vec![],
        denied_by: vec![],
    }
}

/// How much of the queried traffic a rule matches: with no port in the query, a rule
/// limited to some ports or protocols matches part of it (enough for an allow to admit
/// some traffic, not enough for a deny to drop all of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    No,
    Some,
    All,
}
