//! `CiliumNetworkPolicy` and `CiliumClusterwideNetworkPolicy` (cilium.io/v2), L3/L4 only.
//!
//! Semantics, as documented by Cilium ("Policy Enforcement Modes", "Layer 3 Policies",
//! "Layer 4 Policies", "Deny Policies", "Using Kubernetes Constructs In Policy"):
//! - a rule (`spec`, or each entry of `specs`) selects endpoints with `endpointSelector`;
//!   in a namespaced policy only pods of the policy's namespace; `nodeSelector` selects
//!   nodes (the host firewall), never a pod;
//! - a selected endpoint is in default deny for a direction when some selecting rule has
//!   `ingress`/`ingressDeny` (`egress`/`egressDeny`) entries, unless that rule sets
//!   `enableDefaultDeny.<direction>: false`; an empty list is no section;
//! - allow rules of all policies (Kubernetes NetworkPolicies included) add up; a matching
//!   `ingressDeny`/`egressDeny` rule wins over every allow;
//! - an empty rule `{}` allows nothing (it only turns default deny on); a rule with
//!   `toPorts` and no L3 field allows those ports from/to every peer;
//! - peer `fromEndpoints`/`toEndpoints` selectors of a namespaced policy are limited to
//!   the policy's namespace unless they name `k8s:io.kubernetes.pod.namespace` (or a
//!   namespace-label key `io.cilium.k8s.namespace.labels.*`); in a clusterwide policy
//!   they select pods of every namespace;
//! - CIDR rules match addresses outside the cluster only, never pods;
//! - `toPorts[].rules` (HTTP, Kafka, DNS) are enforced by the proxy: out of scope here,
//!   such a port rule counts as an L4 allow and the verdict says so.

use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

use palisade_core::labels::{LabelSelector, Operator, Requirement};

use crate::model::{meta_str, PolicyKind, PortRef, Protocol};

/// The pod namespace label of Cilium identities.
pub const CILIUM_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// The prefix of namespace labels in Cilium identities.
pub const CILIUM_NAMESPACE_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels.";
/// The service account label of Cilium identities.
pub const CILIUM_SERVICE_ACCOUNT_LABEL: &str = "io.cilium.k8s.policy.serviceaccount";

/// A Cilium entity (`fromEntities` / `toEntities`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Entity {
    /// `world`: everything outside the cluster.
    World,
    /// `world-ipv4`.
    WorldIpv4,
    /// `world-ipv6`.
    WorldIpv6,
    /// `cluster`: every endpoint of the cluster, nodes included.
    Cluster,
    /// `host`: the local node and its host-network pods.
    Host,
    /// `remote-node`: the other nodes and their host-network pods.
    RemoteNode,
    /// `kube-apiserver`.
    KubeApiserver,
    /// `ingress`: Cilium's Envoy ingress.
    Ingress,
    /// `init`: endpoints whose identity is not resolved yet.
    Init,
    /// `health`: Cilium's health endpoints.
    Health,
    /// `unmanaged`: endpoints Cilium does not manage.
    Unmanaged,
    /// `all`: everything.
    All,
}

impl Entity {
    fn parse(s: &str) -> Result<Self, String> {
        Ok(match s {
            "world" => Entity::World,
            "world-ipv4" => Entity::WorldIpv4,
            "world-ipv6" => Entity::WorldIpv6,
            "cluster" => Entity::Cluster,
            "host" => Entity::Host,
            "remote-node" => Entity::RemoteNode,
            "kube-apiserver" => Entity::KubeApiserver,
            "ingress" => Entity::Ingress,
            "init" => Entity::Init,
            "health" => Entity::Health,
            "unmanaged" => Entity::Unmanaged,
            "all" => Entity::All,
            other => return Err(format!("unknown entity {other:?}")),
        })
    }
}

/// One port of a `toPorts` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CiliumPort {
    /// `protocol`; `None` is `ANY` (TCP, UDP and SCTP).
    pub protocol: Option<Protocol>,
    /// `port`; `None` (absent or `"0"`) is every port.
    pub port: Option<PortRef>,
    /// `endPort`, with a numeric `port`.
    pub end_port: Option<u16>,
}

/// One entry of `ingress`, `ingressDeny`, `egress` or `egressDeny`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CiliumRule {
    /// `fromEndpoints` / `toEndpoints`, namespace already applied.
    pub endpoints: Vec<LabelSelector>,
    /// `fromEntities` / `toEntities`.
    pub entities: Vec<Entity>,
    /// `fromCIDR` / `fromCIDRSet` (and `to...`): a CIDR and its `except`.
    pub cidrs: Vec<(IpNet, Vec<IpNet>)>,
    /// For each entry of `cidrs`, where it is in the rule (`fromCIDR/0`, `toCIDRSet/1`).
    pub cidr_fields: Vec<String>,
    /// Whether any L3 field is present (an L3 field this engine does not evaluate too).
    pub has_l3: bool,
    /// Whether `toPorts` (or `icmps`) is present.
    pub has_ports: bool,
    /// The ports of every `toPorts` entry.
    pub ports: Vec<CiliumPort>,
    /// Whether some `toPorts` entry has L7 `rules` (treated as an L4 allow).
    pub l7: bool,
    /// Fields present but not evaluated (`toFQDNs`, `toServices`, ...): they match nothing.
    pub unsupported: Vec<String>,
}

/// One Cilium rule (`spec` or an entry of `specs`) of a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CiliumPolicy {
    /// `CiliumNetworkPolicy` or `CiliumClusterwideNetworkPolicy`.
    pub kind: PolicyKind,
    /// Namespace (`None` for the clusterwide kind).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// JSON pointer of the rule in the object (`/spec` or `/specs/<i>`).
    pub pointer: String,
    /// `endpointSelector`, namespace already applied; `None` for a `nodeSelector` rule.
    pub endpoint_selector: Option<LabelSelector>,
    /// Allow rules at ingress.
    pub ingress: Vec<CiliumRule>,
    /// Deny rules at ingress.
    pub ingress_deny: Vec<CiliumRule>,
    /// Allow rules at egress.
    pub egress: Vec<CiliumRule>,
    /// Deny rules at egress.
    pub egress_deny: Vec<CiliumRule>,
    /// Whether the rule puts the endpoints it selects in default deny at ingress.
    pub default_deny_ingress: bool,
    /// Whether the rule puts the endpoints it selects in default deny at egress.
    pub default_deny_egress: bool,
}

/// Strips the `k8s:` / `any:` source prefix Cilium allows on label keys.
fn normalize_key(k: &str) -> String {
    k.strip_prefix("k8s:")
        .or_else(|| k.strip_prefix("any:"))
        .unwrap_or(k)
        .to_string()
}

fn parse_selector(v: &Value) -> Result<LabelSelector, String> {
    let sel = LabelSelector::from_value(v)?;
    Ok(LabelSelector {
        match_labels: sel
            .match_labels
            .into_iter()
            .map(|(k, v)| (normalize_key(&k), v))
            .collect(),
        match_expressions: sel
            .match_expressions
            .into_iter()
            .map(|mut r| {
                r.key = normalize_key(&r.key);
                r
            })
            .collect(),
    })
}

fn keys(sel: &LabelSelector) -> impl Iterator<Item = &str> {
    sel.match_labels
        .keys()
        .map(String::as_str)
        .chain(sel.match_expressions.iter().map(|r| r.key.as_str()))
}

/// Applies Cilium's namespace defaulting to a peer selector.
fn scope_peer(mut sel: LabelSelector, namespace: Option<&str>) -> LabelSelector {
    if keys(&sel).any(|k| k == CILIUM_NAMESPACE_LABEL || k.starts_with("reserved:")) {
        return sel;
    }
    match namespace {
        Some(ns) => {
            if !keys(&sel).any(|k| k.starts_with(CILIUM_NAMESPACE_LABELS_PREFIX)) {
                sel.match_expressions.push(Requirement {
                    key: CILIUM_NAMESPACE_LABEL.into(),
                    operator: Operator::In,
                    values: vec![ns.to_string()],
                });
            }
        }
        // clusterwide: pods of any namespace (not the reserved identities)
        None => sel.match_expressions.push(Requirement {
            key: CILIUM_NAMESPACE_LABEL.into(),
            operator: Operator::Exists,
            values: vec![],
        }),
    }
    sel
}

fn list<'a>(v: Option<&'a Value>, what: &str) -> Result<&'a [Value], String> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{what} is not a list")),
    }
}

fn parse_cidr(s: &Value, what: &str) -> Result<IpNet, String> {
    let s = s
        .as_str()
        .ok_or_else(|| format!("{what} is not a string"))?;
    // Cilium accepts a bare address as a /32 (/128).
    let net = match s.parse::<IpNet>() {
        Ok(n) => n,
        Err(_) => s
            .parse::<std::net::IpAddr>()
            .map(IpNet::from)
            .map_err(|_| format!("invalid {what} {s:?}"))?,
    };
    Ok(net.trunc())
}

fn parse_port(p: &Value) -> Result<Vec<CiliumPort>, String> {
    let protocol = match p.get("protocol") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "ANY" => None,
        Some(Value::String(s)) => {
            Some(Protocol::parse(s).ok_or_else(|| format!("invalid protocol {s:?}"))?)
        }
        Some(_) => return Err("protocol is not a string".into()),
    };
    let port = match p.get("port") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_u64() {
            Some(0) => None,
            Some(n) if n <= 65535 => Some(PortRef::Number(n as u16)),
            _ => return Err(format!("invalid port {n}")),
        },
        Some(Value::String(s)) => match s.parse::<u32>() {
            Ok(0) => None,
            Ok(n) if n <= 65535 => Some(PortRef::Number(n as u16)),
            Ok(_) => return Err(format!("invalid port {s:?}")),
            Err(_) if crate::model::is_valid_port_name(s) => Some(PortRef::Name(s.clone())),
            Err(_) => return Err(format!("invalid port {s:?}")),
        },
        Some(_) => return Err("port is neither a number nor a string".into()),
    };
    let end_port = match p.get("endPort") {
        None | Some(Value::Null) => None,
        Some(e) => {
            let e = e
                .as_u64()
                .filter(|&e| e <= 65535)
                .ok_or("invalid endPort")? as u16;
            match &port {
                Some(PortRef::Number(n)) if *n <= e => Some(e),
                Some(PortRef::Number(_)) => return Err("endPort is lower than port".into()),
                _ => return Err("endPort requires a numeric port".into()),
            }
        }
    };
    Ok(vec![CiliumPort {
        protocol,
        port,
        end_port,
    }])
}

fn parse_rule(
    r: &Value,
    dir: &str,
    deny: bool,
    namespace: Option<&str>,
) -> Result<CiliumRule, String> {
    if !r.is_object() {
        return Err(format!("{dir} rule is not an object"));
    }
    let (ep_key, ent_key, cidr_key, cidrset_key) = if dir == "ingress" {
        ("fromEndpoints", "fromEntities", "fromCIDR", "fromCIDRSet")
    } else {
        ("toEndpoints", "toEntities", "toCIDR", "toCIDRSet")
    };
    let mut rule = CiliumRule {
        endpoints: Vec::new(),
        entities: Vec::new(),
        cidrs: Vec::new(),
        cidr_fields: Vec::new(),
        has_l3: false,
        has_ports: false,
        ports: Vec::new(),
        l7: false,
        unsupported: Vec::new(),
    };
    for s in list(r.get(ep_key), ep_key)? {
        rule.endpoints.push(scope_peer(
            parse_selector(s).map_err(|e| format!("{ep_key}: {e}"))?,
            namespace,
        ));
        rule.has_l3 = true;
    }
    for e in list(r.get(ent_key), ent_key)? {
        let e = e
            .as_str()
            .ok_or_else(|| format!("{ent_key} entry is not a string"))?;
        rule.entities.push(Entity::parse(e)?);
        rule.has_l3 = true;
    }
    for (i, c) in list(r.get(cidr_key), cidr_key)?.iter().enumerate() {
        rule.cidrs.push((parse_cidr(c, cidr_key)?, Vec::new()));
        rule.cidr_fields.push(format!("{cidr_key}/{i}"));
        rule.has_l3 = true;
    }
    for (i, c) in list(r.get(cidrset_key), cidrset_key)?.iter().enumerate() {
        rule.has_l3 = true;
        if c.get("cidrGroupRef").is_some() || c.get("cidrGroupSelector").is_some() {
            rule.unsupported.push(format!("{cidrset_key}.cidrGroupRef"));
            continue;
        }
        let cidr = parse_cidr(
            c.get("cidr")
                .ok_or_else(|| format!("{cidrset_key} entry without cidr"))?,
            "cidr",
        )?;
        let mut except = Vec::new();
        for e in list(c.get("except"), "except")? {
            let n = parse_cidr(e, "except")?;
            if !cidr.contains(&n.network()) || n.prefix_len() < cidr.prefix_len() {
                return Err(format!("except {n} is not inside cidr {cidr}"));
            }
            except.push(n);
        }
        rule.cidrs.push((cidr, except));
        rule.cidr_fields.push(format!("{cidrset_key}/{i}"));
    }
    let unsupported: &[&str] = if dir == "ingress" {
        &["fromRequires", "fromNodes", "fromGroups"]
    } else {
        &["toRequires", "toNodes", "toGroups", "toFQDNs", "toServices"]
    };
    for k in unsupported {
        if !list(r.get(*k), k)?.is_empty() {
            rule.has_l3 = true;
            rule.unsupported.push((*k).to_string());
        }
    }
    if let Some(tp) = r.get("toPorts").filter(|v| !v.is_null()) {
        let tp = tp.as_array().ok_or("toPorts is not a list")?;
        rule.has_ports = !tp.is_empty();
        for entry in tp {
            let ports = list(entry.get("ports"), "toPorts.ports")?;
            if ports.is_empty() {
                // no port list: every port
                rule.ports.push(CiliumPort {
                    protocol: None,
                    port: None,
                    end_port: None,
                });
            }
            for p in ports {
                rule.ports.extend(parse_port(p)?);
            }
            if entry.get("rules").is_some_and(|v| !v.is_null()) {
                if deny {
                    return Err("deny rules cannot have L7 rules".into());
                }
                rule.l7 = true;
            }
        }
    }
    if !list(r.get("icmps"), "icmps")?.is_empty() {
        // ICMP only: no TCP/UDP/SCTP port is admitted by this entry.
        rule.has_ports = true;
    }
    Ok(rule)
}

/// Parses a CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy into one entry per rule.
pub(crate) fn parse_cilium(obj: &Value, kind: PolicyKind) -> Result<Vec<CiliumPolicy>, String> {
    let name = meta_str(obj, "name").ok_or("missing metadata.name")?;
    let namespace = match kind {
        PolicyKind::CiliumNetworkPolicy => Some(meta_str(obj, "namespace").unwrap_or("default")),
        _ => None,
    };
    let mut specs: Vec<(String, &Value)> = Vec::new();
    if let Some(s) = obj.get("spec").filter(|v| !v.is_null()) {
        specs.push(("/spec".into(), s));
    }
    for (i, s) in list(obj.get("specs"), "specs")?.iter().enumerate() {
        specs.push((format!("/specs/{i}"), s));
    }
    if specs.is_empty() {
        return Err("neither spec nor specs".into());
    }
    let mut out = Vec::new();
    for (pointer, spec) in specs {
        let at = |e: String| format!("{pointer}: {e}");
        if !spec.is_object() {
            return Err(at("rule is not an object".into()));
        }
        let endpoint_selector = match (spec.get("endpointSelector"), spec.get("nodeSelector")) {
            (Some(es), None) if !es.is_null() => {
                let mut sel =
                    parse_selector(es).map_err(|e| at(format!("endpointSelector: {e}")))?;
                if let Some(ns) = namespace {
                    sel.match_expressions.push(Requirement {
                        key: CILIUM_NAMESPACE_LABEL.into(),
                        operator: Operator::In,
                        values: vec![ns.to_string()],
                    });
                }
                Some(sel)
            }
            (None, Some(ns)) if !ns.is_null() => {
                if namespace.is_some() {
                    return Err(at(
                        "nodeSelector is only valid in a clusterwide policy".into()
                    ));
                }
                parse_selector(ns).map_err(|e| at(format!("nodeSelector: {e}")))?;
                None
            }
            _ => {
                return Err(at(
                    "exactly one of endpointSelector and nodeSelector is required".into(),
                ))
            }
        };
        let rules = |key: &str, dir: &str, deny: bool| -> Result<Vec<CiliumRule>, String> {
            list(spec.get(key), key)
                .map_err(&at)?
                .iter()
                .map(|r| parse_rule(r, dir, deny, namespace).map_err(|e| at(format!("{key}: {e}"))))
                .collect()
        };
        let ingress = rules("ingress", "ingress", false)?;
        let ingress_deny = rules("ingressDeny", "ingress", true)?;
        let egress = rules("egress", "egress", false)?;
        let egress_deny = rules("egressDeny", "egress", true)?;
        let flag = |d: &str| -> Result<Option<bool>, String> {
            match spec.pointer(&format!("/enableDefaultDeny/{d}")) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Bool(b)) => Ok(Some(*b)),
                Some(_) => Err(at(format!("enableDefaultDeny.{d} is not a boolean"))),
            }
        };
        let default_deny_ingress =
            flag("ingress")?.unwrap_or(!ingress.is_empty() || !ingress_deny.is_empty());
        let default_deny_egress =
            flag("egress")?.unwrap_or(!egress.is_empty() || !egress_deny.is_empty());
        out.push(CiliumPolicy {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
            pointer,
            endpoint_selector,
            ingress,
            ingress_deny,
            egress,
            egress_deny,
            default_deny_ingress,
            default_deny_egress,
        });
    }
    Ok(out)
}

impl CiliumPolicy {
    /// Allow rules of a direction.
    pub fn allow_rules(&self, d: crate::Direction) -> &[CiliumRule] {
        match d {
            crate::Direction::Ingress => &self.ingress,
            crate::Direction::Egress => &self.egress,
        }
    }

    /// Deny rules of a direction.
    pub fn deny_rules(&self, d: crate::Direction) -> &[CiliumRule] {
        match d {
            crate::Direction::Ingress => &self.ingress_deny,
            crate::Direction::Egress => &self.egress_deny,
        }
    }

    /// Whether the rule puts the endpoints it selects in default deny for `d`.
    pub fn default_deny(&self, d: crate::Direction) -> bool {
        match d {
            crate::Direction::Ingress => self.default_deny_ingress,
            crate::Direction::Egress => self.default_deny_egress,
        }
    }

    /// The name of a rule list in the object.
    pub fn section(d: crate::Direction, deny: bool) -> &'static str {
        match (d, deny) {
            (crate::Direction::Ingress, false) => "ingress",
            (crate::Direction::Ingress, true) => "ingressDeny",
            (crate::Direction::Egress, false) => "egress",
            (crate::Direction::Egress, true) => "egressDeny",
        }
    }
}
