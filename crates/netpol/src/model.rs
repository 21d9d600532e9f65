//! NetworkPolicy and endpoint model parsed from `serde_json::Value`.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

use palisade_core::labels::{labels_at, LabelSelector, Labels};
pub(crate) use palisade_core::object::meta_str;

/// A transport protocol of a NetworkPolicy port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Protocol {
    /// TCP (the default).
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// Parses `TCP` / `UDP` / `SCTP` exactly as the API spells them (case-sensitive,
    /// as API validation is).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "TCP" => Some(Protocol::Tcp),
            "UDP" => Some(Protocol::Udp),
            "SCTP" => Some(Protocol::Sctp),
            _ => None,
        }
    }
}

/// A port given as a number or as a container-port name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum PortRef {
    /// A numeric port.
    Number(u16),
    /// A named container port.
    Name(String),
}

/// One entry of a rule's `ports`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyPort {
    /// Protocol (defaults to TCP).
    pub protocol: Protocol,
    /// Port; `None` matches every port of the protocol.
    pub port: Option<PortRef>,
    /// `endPort`: with a numeric `port`, the rule covers `port..=end_port`.
    pub end_port: Option<u16>,
}

/// One peer of a rule's `from` / `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Peer {
    /// `podSelector` and/or `namespaceSelector` (ANDed when both are present).
    Pods {
        /// `None`: the policy's own namespace. `Some(empty)`: every namespace.
        namespace_selector: Option<LabelSelector>,
        /// `None`: every pod of the selected namespaces.
        pod_selector: Option<LabelSelector>,
    },
    /// `ipBlock`.
    IpBlock {
        /// `cidr`.
        cidr: IpNet,
        /// `except`.
        except: Vec<IpNet>,
    },
}

impl Peer {
    /// Whether an IP address is inside this peer's ipBlock (and not in an `except`).
    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        match self {
            Peer::IpBlock { cidr, except } => {
                cidr.contains(&ip) && !except.iter().any(|e| e.contains(&ip))
            }
            Peer::Pods { .. } => false,
        }
    }
}

/// One ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRule {
    /// Peers (`from` or `to`); empty means every peer (including every IP).
    pub peers: Vec<Peer>,
    /// Ports; empty means every port.
    pub ports: Vec<PolicyPort>,
}

impl PolicyRule {
    /// True when the rule allows every peer on every port.
    pub fn allows_everything(&self) -> bool {
        self.peers.is_empty() && self.ports.is_empty()
    }
}

/// Traffic direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Direction {
    /// Incoming traffic to a pod.
    Ingress,
    /// Outgoing traffic from a pod.
    Egress,
}

/// A parsed NetworkPolicy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetworkPolicy {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// `spec.podSelector` (absent is the same as `{}`: every pod of the namespace).
    pub pod_selector: LabelSelector,
    /// Whether the policy has the Ingress type (after defaulting).
    pub ingress_type: bool,
    /// Whether the policy has the Egress type (after defaulting).
    pub egress_type: bool,
    /// Ingress rules.
    pub ingress: Vec<PolicyRule>,
    /// Egress rules.
    pub egress: Vec<PolicyRule>,
}

impl NetworkPolicy {
    /// Whether the policy has the given type.
    pub fn has_type(&self, d: Direction) -> bool {
        match d {
            Direction::Ingress => self.ingress_type,
            Direction::Egress => self.egress_type,
        }
    }

    /// The rules of a direction.
    pub fn rules(&self, d: Direction) -> &[PolicyRule] {
        match d {
            Direction::Ingress => &self.ingress,
            Direction::Egress => &self.egress,
        }
    }
}

/// A named (or unnamed) container port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ContainerPort {
    /// `name`, if any.
    pub name: Option<String>,
    /// `containerPort`.
    pub port: u16,
    /// `protocol` (default TCP).
    pub protocol: Protocol,
}

/// A pod, or the pod template of a workload: what NetworkPolicies select.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// `Pod`, `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`,
    /// `ReplicationController`, `Job` or `CronJob`.
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Object name.
    pub name: String,
    /// Pod labels (template labels for workloads).
    pub labels: Labels,
    /// Container ports (containers and restartable init containers).
    pub ports: Vec<ContainerPort>,
    /// `hostNetwork: true` — NetworkPolicy behaviour for such pods is undefined.
    pub host_network: bool,
    /// `serviceAccountName` (`default` when absent).
    pub service_account: String,
}

impl Workload {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// Resolves a named port (with protocol) to its number.
    pub fn named_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        self.ports
            .iter()
            .find(|p| p.name.as_deref() == Some(name) && p.protocol == protocol)
            .map(|p| p.port)
    }
}

pub(crate) fn describe(obj: &Value) -> String {
    palisade_core::object::describe_json(obj, &[])
}

fn opt_selector(v: Option<&Value>) -> Result<Option<LabelSelector>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(s) => LabelSelector::from_value(s).map(Some),
    }
}

fn parse_port_value(v: &Value) -> Result<Option<PortRef>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .filter(|&p| (1..=65535).contains(&p))
            .map(|p| Some(PortRef::Number(p as u16)))
            .ok_or_else(|| format!("invalid port {n}")),
        Value::String(s) if s.is_empty() => Err("empty port".into()),
        // IntOrString: a string is always a port name, and must be a valid one
        // (`"80"` as a string is rejected by API validation).
        Value::String(s) if is_valid_port_name(s) => Ok(Some(PortRef::Name(s.clone()))),
        Value::String(s) => Err(format!("invalid port name {s:?}")),
        _ => Err("port is neither a number nor a string".into()),
    }
}

/// `validation.IsValidPortName`: 1-15 characters of `[a-z0-9-]`, at least one letter,
/// no leading, trailing or doubled hyphen.
pub(crate) fn is_valid_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn parse_rule(v: &Value, peers_key: &str) -> Result<PolicyRule, String> {
    if !v.is_object() {
        return Err("rule is not an object".into());
    }
    let mut rule = PolicyRule {
        peers: Vec::new(),
        ports: Vec::new(),
    };
    match v.get(peers_key) {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for p in a {
                rule.peers.push(parse_peer(p)?);
            }
        }
        Some(_) => return Err(format!("{peers_key} is not a list")),
    }
    match v.get("ports") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for p in a {
                let protocol = match p.get("protocol") {
                    None | Some(Value::Null) => Protocol::Tcp,
                    Some(Value::String(s)) => {
                        Protocol::parse(s).ok_or_else(|| format!("invalid protocol {s:?}"))?
                    }
                    Some(_) => return Err("protocol is not a string".into()),
                };
                let port = parse_port_value(p.get("port").unwrap_or(&Value::Null))?;
                let end_port = match p.get("endPort") {
                    None | Some(Value::Null) => None,
                    Some(e) => {
                        let e = e
                            .as_u64()
                            .filter(|&e| (1..=65535).contains(&e))
                            .ok_or("invalid endPort")? as u16;
                        match &port {
                            Some(PortRef::Number(n)) if *n <= e => Some(e),
                            Some(PortRef::Number(_)) => {
                                return Err("endPort is lower than port".into())
                            }
                            _ => return Err("endPort requires a numeric port".into()),
                        }
                    }
                };
                rule.ports.push(PolicyPort {
                    protocol,
                    port,
                    end_port,
                });
            }
        }
        Some(_) => return Err("ports is not a list".into()),
    }
    Ok(rule)
}

fn parse_peer(p: &Value) -> Result<Peer, String> {
    let ns = opt_selector(p.get("namespaceSelector"))?;
    let pod = opt_selector(p.get("podSelector"))?;
    let ip = p.get("ipBlock").filter(|v| !v.is_null());
    match (ip, ns.is_some() || pod.is_some()) {
        (Some(_), true) => Err("peer mixes ipBlock with selectors".into()),
        (None, false) => Err("peer has neither selectors nor ipBlock".into()),
        (None, true) => Ok(Peer::Pods {
            namespace_selector: ns,
            pod_selector: pod,
        }),
        (Some(ip), false) => {
            let cidr: IpNet = ip
                .get("cidr")
                .and_then(Value::as_str)
                .ok_or("ipBlock without cidr")?
                .parse()
                .map_err(|e| format!("invalid cidr: {e}"))?;
            let cidr = cidr.trunc();
            let mut except = Vec::new();
            if let Some(ex) = ip.get("except").and_then(Value::as_array) {
                for e in ex {
                    let n: IpNet = e
                        .as_str()
                        .ok_or("except entry is not a string")?
                        .parse()
                        .map_err(|e| format!("invalid except cidr: {e}"))?;
                    let n = n.trunc();
                    // API validation: each except must be a strict subset of cidr.
                    if n.prefix_len() <= cidr.prefix_len() || !cidr.contains(&n.network()) {
                        return Err(format!("except {n} is not a strict subset of cidr {cidr}"));
                    }
                    except.push(n);
                }
            }
            Ok(Peer::IpBlock { cidr, except })
        }
    }
}

/// Parses a NetworkPolicy (networking.k8s.io/v1).
pub(crate) fn parse_policy(obj: &Value) -> Result<NetworkPolicy, String> {
    let name = meta_str(obj, "name").ok_or("missing metadata.name")?;
    let namespace = meta_str(obj, "namespace").unwrap_or("default");
    let spec = obj.get("spec").filter(|s| s.is_object());
    let empty = Value::Object(Default::default());
    let spec = spec.unwrap_or(&empty);
    // podSelector is a struct in the Go type: absent == {} == every pod.
    let pod_selector = opt_selector(spec.get("podSelector"))?.unwrap_or_default();
    let rules = |key: &str, peers: &str| -> Result<Vec<PolicyRule>, String> {
        match spec.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a.iter().map(|r| parse_rule(r, peers)).collect(),
            Some(_) => Err(format!("{key} is not a list")),
        }
    };
    let ingress = rules("ingress", "from")?;
    let egress = rules("egress", "to")?;
    let (ingress_type, egress_type) = match spec.get("policyTypes") {
        Some(Value::Array(a)) if !a.is_empty() => {
            let mut i = false;
            let mut e = false;
            for t in a {
                match t.as_str() {
                    Some("Ingress") => i = true,
                    Some("Egress") => e = true,
                    other => return Err(format!("invalid policyType {other:?}")),
                }
            }
            (i, e)
        }
        None | Some(Value::Null) | Some(Value::Array(_)) => (true, !egress.is_empty()),
        Some(_) => return Err("policyTypes is not a list".into()),
    };
    Ok(NetworkPolicy {
        namespace: namespace.to_string(),
        name: name.to_string(),
        pod_selector,
        ingress_type,
        egress_type,
        ingress,
        egress,
    })
}

/// Kinds that carry a pod template, and the pointer to it.
pub(crate) fn template_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Pod" => Some(""),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => Some("/spec/template"),
        "CronJob" => Some("/spec/jobTemplate/spec/template"),
        _ => None,
    }
}

/// Parses a pod or a workload's pod template into a [`Workload`].
pub(crate) fn parse_workload(obj: &Value, kind: &str, ptr: &str) -> Result<Workload, String> {
    let name = meta_str(obj, "name").ok_or("missing metadata.name")?;
    let namespace = meta_str(obj, "namespace").unwrap_or("default");
    let tmpl = if ptr.is_empty() {
        Some(obj)
    } else {
        obj.pointer(ptr)
    };
    let tmpl = tmpl
        .filter(|t| t.is_object())
        .ok_or("missing pod template")?;
    let labels = labels_at(tmpl.pointer("/metadata/labels"));
    let spec = tmpl.get("spec");
    let mut ports = Vec::new();
    let mut collect = |containers: Option<&Value>, sidecars_only: bool| -> Result<(), String> {
        let Some(cs) = containers else { return Ok(()) };
        let Some(cs) = cs.as_array() else {
            return Err("containers is not a list".into());
        };
        for c in cs {
            if sidecars_only && c.get("restartPolicy").and_then(Value::as_str) != Some("Always") {
                continue;
            }
            let Some(ps) = c.get("ports").and_then(Value::as_array) else {
                continue;
            };
            for p in ps {
                let Some(port) = p
                    .get("containerPort")
                    .and_then(Value::as_u64)
                    .filter(|&n| (1..=65535).contains(&n))
                else {
                    return Err("container port without a valid containerPort".into());
                };
                let protocol = match p.get("protocol").and_then(Value::as_str) {
                    None => Protocol::Tcp,
                    Some(s) => {
                        Protocol::parse(s).ok_or_else(|| format!("invalid protocol {s:?}"))?
                    }
                };
                ports.push(ContainerPort {
                    name: p
                        .get("name")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string),
                    port: port as u16,
                    protocol,
                });
            }
        }
        Ok(())
    };
    collect(spec.and_then(|s| s.get("containers")), false)?;
    collect(spec.and_then(|s| s.get("initContainers")), true)?;
    let host_network = spec
        .and_then(|s| s.get("hostNetwork"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let service_account = spec
        .and_then(|s| {
            s.get("serviceAccountName")
                .or_else(|| s.get("serviceAccount"))
        })
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default")
        .to_string();
    Ok(Workload {
        kind: kind.to_string(),
        namespace: namespace.to_string(),
        name: name.to_string(),
        labels,
        ports,
        host_network,
        service_account,
    })
}

/// The kind of a policy the engine reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum PolicyKind {
    /// Kubernetes `NetworkPolicy` (networking.k8s.io/v1).
    #[default]
    NetworkPolicy,
    /// `CiliumNetworkPolicy` (cilium.io/v2, namespaced).
    CiliumNetworkPolicy,
    /// `CiliumClusterwideNetworkPolicy` (cilium.io/v2).
    CiliumClusterwideNetworkPolicy,
    /// Calico `NetworkPolicy` (projectcalico.org/v3, namespaced).
    CalicoNetworkPolicy,
    /// Calico `GlobalNetworkPolicy` (projectcalico.org/v3).
    CalicoGlobalNetworkPolicy,
}

impl PolicyKind {
    /// The object's `kind`.
    pub fn kind(self) -> &'static str {
        match self {
            PolicyKind::NetworkPolicy | PolicyKind::CalicoNetworkPolicy => "NetworkPolicy",
            PolicyKind::CiliumNetworkPolicy => "CiliumNetworkPolicy",
            PolicyKind::CiliumClusterwideNetworkPolicy => "CiliumClusterwideNetworkPolicy",
            PolicyKind::CalicoGlobalNetworkPolicy => "GlobalNetworkPolicy",
        }
    }

    /// The object's API group.
    pub fn group(self) -> &'static str {
        match self {
            PolicyKind::NetworkPolicy => "networking.k8s.io",
            PolicyKind::CiliumNetworkPolicy | PolicyKind::CiliumClusterwideNetworkPolicy => {
                "cilium.io"
            }
            PolicyKind::CalicoNetworkPolicy | PolicyKind::CalicoGlobalNetworkPolicy => {
                "projectcalico.org"
            }
        }
    }

    /// True for the Kubernetes NetworkPolicy.
    pub fn is_kubernetes(&self) -> bool {
        *self == PolicyKind::NetworkPolicy
    }

    /// How messages name the kind: the Kubernetes kind is implied, Calico's
    /// `NetworkPolicy` is qualified by its group.
    pub fn label(self) -> &'static str {
        match self {
            PolicyKind::NetworkPolicy => "NetworkPolicy",
            PolicyKind::CiliumNetworkPolicy => "CiliumNetworkPolicy",
            PolicyKind::CiliumClusterwideNetworkPolicy => "CiliumClusterwideNetworkPolicy",
            PolicyKind::CalicoNetworkPolicy => "NetworkPolicy.projectcalico.org",
            PolicyKind::CalicoGlobalNetworkPolicy => "GlobalNetworkPolicy.projectcalico.org",
        }
    }
}
