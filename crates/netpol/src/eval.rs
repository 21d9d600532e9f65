//! The NetworkPolicy inventory and its reachability queries.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use serde::Serialize;
use serde_json::Value;

use crate::model::{
    describe, meta_str, parse_policy, parse_workload, template_pointer, Direction, NetworkPolicy,
    Peer, PolicyRule, PortRef, Protocol, Workload,
};
use palisade_core::labels::{labels_of, Labels};

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
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl std::fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
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
    workloads: Vec<Workload>,
    namespaces: BTreeMap<String, Labels>,
    /// Objects recognised but malformed, with the reason.
    pub skipped: Vec<String>,
    policies_by_ns: HashMap<String, Vec<usize>>,
    workload_index: HashMap<(String, String), Vec<usize>>,
}

/// One side of a query, resolved.
enum Side<'a> {
    Pod(&'a Workload),
    Ip(IpAddr),
}

impl Netpol {
    /// Builds the inventory. Picks NetworkPolicy (networking.k8s.io/v1), Namespace,
    /// Pod and workloads with pod templates (Deployment, StatefulSet, DaemonSet,
    /// ReplicaSet, ReplicationController, Job, CronJob), also inside `List` items;
    /// ignores other kinds; malformed objects go to [`Netpol::skipped`]. Objects
    /// without `metadata.namespace` are placed in `default`.
    pub fn from_objects<'a>(objs: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut n = Netpol::default();
        for o in objs {
            n.add(o, 0);
        }
        n.index();
        n
    }

    fn add(&mut self, o: &Value, depth: usize) {
        let Some(kind) = o.get("kind").and_then(Value::as_str) else {
            return;
        };
        let res: Result<(), String> = match kind {
            "NetworkPolicy" => {
                let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
                // extensions/v1beta1 is the pre-1.16 name of the same API.
                if api.is_empty()
                    || api.starts_with("networking.k8s.io/")
                    || api == "extensions/v1beta1"
                {
                    parse_policy(o).map(|p| self.policies.push(p))
                } else {
                    Ok(()) // e.g. crd.projectcalico.org NetworkPolicy: not this API
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
                let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
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
        for (i, p) in self.policies.iter().enumerate() {
            referenced.insert(p.namespace.clone());
            self.policies_by_ns
                .entry(p.namespace.clone())
                .or_default()
                .push(i);
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
        self.policies_by_ns
            .get(&pod.namespace)
            .into_iter()
            .flatten()
            .map(|&i| &self.policies[i])
            .filter(|p| p.has_type(d) && p.pod_selector.matches(&pod.labels))
            .collect()
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

    fn direction(
        &self,
        d: Direction,
        pod: Option<&Workload>,
        other: &Side<'_>,
        dest: &Side<'_>,
        port: Option<(Protocol, u16)>,
    ) -> DirectionVerdict {
        let Some(pod) = pod else {
            return DirectionVerdict {
                direction: d,
                applies: false,
                isolating: vec![],
                allowed: true,
                admitted_by: vec![],
            };
        };
        let isolating = self.isolating_policies(pod, d);
        let mut admitted = Vec::new();
        for p in &isolating {
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
                    });
                }
            }
        }
        DirectionVerdict {
            direction: d,
            applies: true,
            allowed: isolating.is_empty() || !admitted.is_empty(),
            isolating: isolating.iter().map(|p| policy_ref(p)).collect(),
            admitted_by: admitted,
        }
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
        let egress = self.direction(Direction::Egress, src_pod, &dst, &dst, port);
        let ingress = self.direction(Direction::Ingress, dst_pod, &src, &dst, port);
        let mut notes = Vec::new();
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
    /// everything.
    pub fn namespaces_without_default_deny(&self, d: Direction) -> Vec<String> {
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
            })
            .cloned()
            .collect()
    }

    /// Pods and workloads selected by no policy of their namespace (any type).
    pub fn unselected_pods(&self) -> Vec<&Workload> {
        self.workloads
            .iter()
            .filter(|w| {
                !self
                    .policies_by_ns
                    .get(&w.namespace)
                    .into_iter()
                    .flatten()
                    .any(|&i| self.policies[i].pod_selector.matches(&w.labels))
            })
            .collect()
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
    }
}
