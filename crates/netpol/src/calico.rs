//! Calico `NetworkPolicy` and `GlobalNetworkPolicy` (projectcalico.org/v3, and the
//! crd.projectcalico.org/v1 objects the Kubernetes datastore stores) and `Tier`, L3/L4.
//!
//! Semantics, as documented by Calico ("Network policy", "Global network policy",
//! "Tier", "Get started with policy tiers"):
//! - tiers are evaluated by `order` (lowest first; a tier without order comes last);
//!   policies of a tier that select the endpoint and have the direction in `types` are
//!   evaluated by `order` (lowest first, without order last, then by name);
//! - rules run in order: `Allow` and `Deny` are final, `Log` continues, `Pass` skips to
//!   the next tier; a tier that applies to the endpoint but takes no action drops the
//!   packet (its `defaultAction`, `Deny` unless set to `Pass`);
//! - Kubernetes NetworkPolicies are policies of the `default` tier at order 1000;
//! - when no tier applies (or the last one passes), the namespace profile allows;
//! - `types` defaults to `Ingress`, or `Egress` when only egress rules exist, or both;
//! - a namespaced policy selects pods of its namespace; a rule `selector` without
//!   `namespaceSelector` means the policy's namespace (every namespace for a global
//!   policy); `notSelector`/`notNets` negate the packet match.

use ipnet::IpNet;
use serde::Serialize;
use serde_json::Value;

use crate::calico_selector::CalicoSelector;
use crate::model::{meta_str, PolicyKind};

/// The order Calico gives Kubernetes NetworkPolicies in the default tier.
pub const KUBERNETES_POLICY_ORDER: f64 = 1000.0;
/// The order of the `default` tier when no Tier object gives one.
pub const DEFAULT_TIER_ORDER: f64 = 1_000_000.0;

/// A rule's action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    /// Allow: final.
    Allow,
    /// Deny: final.
    Deny,
    /// Log: processing continues.
    Log,
    /// Pass: skip to the next tier.
    Pass,
}

/// A port of `ports` / `notPorts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CalicoPort {
    /// A number or a `start:end` range.
    Range(u16, u16),
    /// A named port of the endpoint.
    Named(String),
}

/// `source` / `destination` of a rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EntityRule {
    /// `nets`.
    pub nets: Vec<IpNet>,
    /// `notNets`.
    pub not_nets: Vec<IpNet>,
    /// `selector`.
    pub selector: Option<CalicoSelector>,
    /// `notSelector`.
    pub not_selector: Option<CalicoSelector>,
    /// `namespaceSelector`.
    pub namespace_selector: Option<CalicoSelector>,
    /// `ports`.
    pub ports: Vec<CalicoPort>,
    /// `notPorts`.
    pub not_ports: Vec<CalicoPort>,
    /// `serviceAccounts.names`.
    pub service_account_names: Vec<String>,
    /// `serviceAccounts.selector`.
    pub service_account_selector: Option<CalicoSelector>,
    /// Whether `serviceAccounts` is present.
    pub has_service_accounts: bool,
    /// Fields present but not evaluated (`services`).
    pub unsupported: Vec<String>,
}

/// One ingress or egress rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalicoRule {
    /// `action`.
    pub action: Action,
    /// `protocol` as an IP protocol number.
    pub protocol: Option<u8>,
    /// `notProtocol`.
    pub not_protocol: Option<u8>,
    /// `ipVersion`.
    pub ip_version: Option<u8>,
    /// `source`.
    pub source: EntityRule,
    /// `destination`.
    pub destination: EntityRule,
    /// Whether `http` (application layer) match criteria are present (treated as L4).
    pub l7: bool,
}

/// A Calico NetworkPolicy or GlobalNetworkPolicy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalicoPolicy {
    /// Calico `NetworkPolicy` or `GlobalNetworkPolicy`.
    pub kind: PolicyKind,
    /// Namespace (`None` for a global policy).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// `tier` (default `default`).
    pub tier: String,
    /// `order` (`None`: after every ordered policy).
    pub order: Option<f64>,
    /// `selector`.
    pub selector: CalicoSelector,
    /// `namespaceSelector` (global policies).
    pub namespace_selector: Option<CalicoSelector>,
    /// `serviceAccountSelector`.
    pub service_account_selector: Option<CalicoSelector>,
    /// Whether `types` (after defaulting) has Ingress.
    pub ingress_type: bool,
    /// Whether `types` (after defaulting) has Egress.
    pub egress_type: bool,
    /// Ingress rules.
    pub ingress: Vec<CalicoRule>,
    /// Egress rules.
    pub egress: Vec<CalicoRule>,
    /// Whether the policy only applies to host endpoints in practice
    /// (`doNotTrack`, `preDNAT`): not evaluated for pods.
    pub host_only: bool,
}

impl CalicoPolicy {
    /// Whether the policy has the type `d`.
    pub fn has_type(&self, d: crate::Direction) -> bool {
        match d {
            crate::Direction::Ingress => self.ingress_type,
            crate::Direction::Egress => self.egress_type,
        }
    }

    /// The rules of direction `d`.
    pub fn rules(&self, d: crate::Direction) -> &[CalicoRule] {
        match d {
            crate::Direction::Ingress => &self.ingress,
            crate::Direction::Egress => &self.egress,
        }
    }
}

/// A Calico Tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalicoTier {
    /// Name.
    pub name: String,
    /// `order` (`None`: last).
    pub order: Option<f64>,
    /// `defaultAction` is `Pass` (instead of `Deny`).
    pub default_pass: bool,
}

fn list<'a>(v: Option<&'a Value>, what: &str) -> Result<&'a [Value], String> {
    match v {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(format!("{what} is not a list")),
    }
}

fn selector(v: Option<&Value>, what: &str) -> Result<Option<CalicoSelector>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => CalicoSelector::parse(s)
            .map(Some)
            .map_err(|e| format!("{what}: {e}")),
        Some(_) => Err(format!("{what} is not a string")),
    }
}

fn order(v: Option<&Value>) -> Result<Option<f64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_f64().map(Some).ok_or("invalid order".into()),
        Some(_) => Err("order is not a number".into()),
    }
}

/// Parses a protocol name or number into an IP protocol number.
fn protocol(v: Option<&Value>, what: &str) -> Result<Option<u8>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|&p| (1..=255).contains(&p))
            .map(|p| Some(p as u8))
            .ok_or_else(|| format!("invalid {what} {n}")),
        Some(Value::String(s)) => Ok(Some(match s.as_str() {
            "TCP" => 6,
            "UDP" => 17,
            "ICMP" => 1,
            "ICMPv6" => 58,
            "SCTP" => 132,
            "UDPLite" => 136,
            other => other
                .parse::<u8>()
                .ok()
                .filter(|&p| p >= 1)
                .ok_or_else(|| format!("invalid {what} {other:?}"))?,
        })),
        Some(_) => Err(format!("{what} is neither a string nor a number")),
    }
}

fn ports(v: Option<&Value>, what: &str) -> Result<Vec<CalicoPort>, String> {
    let mut out = Vec::new();
    for p in list(v, what)? {
        out.push(match p {
            Value::Number(n) => {
                let n = n
                    .as_u64()
                    .filter(|&n| n <= 65535)
                    .ok_or_else(|| format!("invalid port {n}"))? as u16;
                CalicoPort::Range(n, n)
            }
            Value::String(s) => match s.split_once(':') {
                Some((a, b)) => {
                    let a: u16 = a
                        .trim()
                        .parse()
                        .map_err(|_| format!("invalid port range {s:?}"))?;
                    let b: u16 = b
                        .trim()
                        .parse()
                        .map_err(|_| format!("invalid port range {s:?}"))?;
                    if a > b {
                        return Err(format!("invalid port range {s:?}"));
                    }
                    CalicoPort::Range(a, b)
                }
                None => match s.parse::<u16>() {
                    Ok(n) => CalicoPort::Range(n, n),
                    Err(_) if !s.is_empty() => CalicoPort::Named(s.clone()),
                    Err(_) => return Err("empty port".into()),
                },
            },
            _ => return Err(format!("{what} entry is neither a number nor a string")),
        });
    }
    Ok(out)
}

fn nets(v: Option<&Value>, what: &str) -> Result<Vec<IpNet>, String> {
    let mut out = Vec::new();
    for n in list(v, what)? {
        let s = n
            .as_str()
            .ok_or_else(|| format!("{what} entry is not a string"))?;
        let net = match s.parse::<IpNet>() {
            Ok(n) => n,
            Err(_) => s
                .parse::<std::net::IpAddr>()
                .map(IpNet::from)
                .map_err(|_| format!("invalid {what} entry {s:?}"))?,
        };
        out.push(net.trunc());
    }
    Ok(out)
}

fn entity(v: Option<&Value>, what: &str) -> Result<EntityRule, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(EntityRule::default());
    };
    if !v.is_object() {
        return Err(format!("{what} is not an object"));
    }
    let at = |f: &str| format!("{what}.{f}");
    let mut e = EntityRule {
        nets: nets(v.get("nets"), &at("nets"))?,
        not_nets: nets(v.get("notNets"), &at("notNets"))?,
        selector: selector(v.get("selector"), &at("selector"))?,
        not_selector: selector(v.get("notSelector"), &at("notSelector"))?,
        namespace_selector: selector(v.get("namespaceSelector"), &at("namespaceSelector"))?,
        ports: ports(v.get("ports"), &at("ports"))?,
        not_ports: ports(v.get("notPorts"), &at("notPorts"))?,
        ..EntityRule::default()
    };
    if let Some(sa) = v.get("serviceAccounts").filter(|v| !v.is_null()) {
        e.has_service_accounts = true;
        for n in list(sa.get("names"), &at("serviceAccounts.names"))? {
            e.service_account_names.push(
                n.as_str()
                    .ok_or_else(|| at("serviceAccounts.names entry is not a string"))?
                    .to_string(),
            );
        }
        e.service_account_selector = selector(sa.get("selector"), &at("serviceAccounts.selector"))?;
    }
    if v.get("services").is_some_and(|s| !s.is_null()) {
        e.unsupported.push(at("services"));
    }
    Ok(e)
}

fn rule(v: &Value, what: &str) -> Result<CalicoRule, String> {
    if !v.is_object() {
        return Err(format!("{what} is not an object"));
    }
    let action = match v.get("action").and_then(Value::as_str) {
        Some("Allow") => Action::Allow,
        Some("Deny") => Action::Deny,
        Some("Log") => Action::Log,
        Some("Pass") => Action::Pass,
        other => return Err(format!("{what}: invalid action {other:?}")),
    };
    let ip_version = match v.get("ipVersion") {
        None | Some(Value::Null) => None,
        Some(x) => match x.as_u64() {
            Some(4) => Some(4),
            Some(6) => Some(6),
            _ => return Err(format!("{what}: invalid ipVersion")),
        },
    };
    Ok(CalicoRule {
        action,
        protocol: protocol(v.get("protocol"), "protocol").map_err(|e| format!("{what}: {e}"))?,
        not_protocol: protocol(v.get("notProtocol"), "notProtocol")
            .map_err(|e| format!("{what}: {e}"))?,
        ip_version,
        source: entity(v.get("source"), &format!("{what}.source"))?,
        destination: entity(v.get("destination"), &format!("{what}.destination"))?,
        l7: v.get("http").is_some_and(|h| !h.is_null()),
    })
}

/// Parses a Calico NetworkPolicy or GlobalNetworkPolicy.
pub(crate) fn parse_calico(obj: &Value, kind: PolicyKind) -> Result<CalicoPolicy, String> {
    let name = meta_str(obj, "name").ok_or("missing metadata.name")?;
    let namespace = match kind {
        PolicyKind::CalicoNetworkPolicy => {
            Some(meta_str(obj, "namespace").unwrap_or("default").to_string())
        }
        _ => None,
    };
    let empty = Value::Object(Default::default());
    let spec = obj.get("spec").filter(|s| s.is_object()).unwrap_or(&empty);
    let rules = |key: &str| -> Result<Vec<CalicoRule>, String> {
        list(spec.get(key), key)?
            .iter()
            .enumerate()
            .map(|(i, r)| rule(r, &format!("{key}[{i}]")))
            .collect()
    };
    let ingress = rules("ingress")?;
    let egress = rules("egress")?;
    let (ingress_type, egress_type) = match list(spec.get("types"), "types")? {
        [] => (!ingress.is_empty() || egress.is_empty(), !egress.is_empty()),
        types => {
            let (mut i, mut e) = (false, false);
            for t in types {
                match t.as_str() {
                    Some("Ingress") => i = true,
                    Some("Egress") => e = true,
                    other => return Err(format!("invalid type {other:?}")),
                }
            }
            (i, e)
        }
    };
    let tier = match spec.get("tier") {
        None | Some(Value::Null) => "default".to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => return Err("tier is not a string".into()),
    };
    let flag = |k: &str| spec.get(k).and_then(Value::as_bool).unwrap_or(false);
    Ok(CalicoPolicy {
        kind,
        namespace,
        name: name.to_string(),
        tier,
        order: order(spec.get("order"))?,
        selector: selector(spec.get("selector"), "selector")?.unwrap_or(CalicoSelector::All),
        namespace_selector: if kind == PolicyKind::CalicoGlobalNetworkPolicy {
            selector(spec.get("namespaceSelector"), "namespaceSelector")?
        } else {
            None
        },
        service_account_selector: selector(
            spec.get("serviceAccountSelector"),
            "serviceAccountSelector",
        )?,
        ingress_type,
        egress_type,
        ingress,
        egress,
        host_only: flag("doNotTrack") || flag("preDNAT"),
    })
}

/// Parses a Calico Tier.
pub(crate) fn parse_tier(obj: &Value) -> Result<CalicoTier, String> {
    let name = meta_str(obj, "name").ok_or("missing metadata.name")?;
    let spec = obj.get("spec");
    let default_pass = match spec.and_then(|s| s.get("defaultAction")) {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "Deny" => false,
        Some(Value::String(s)) if s == "Pass" => true,
        Some(other) => return Err(format!("invalid defaultAction {other}")),
    };
    Ok(CalicoTier {
        name: name.to_string(),
        order: order(spec.and_then(|s| s.get("order")))?,
        default_pass,
    })
}

impl CalicoPort {
    /// Whether the port matches `num`, resolving names on the endpoint's container ports.
    pub fn matches(&self, num: u16, named: impl Fn(&str) -> Option<u16>) -> bool {
        match self {
            CalicoPort::Range(a, b) => (*a..=*b).contains(&num),
            CalicoPort::Named(n) => named(n) == Some(num),
        }
    }
}
