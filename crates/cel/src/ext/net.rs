//! Kubernetes IP and CIDR libraries: `ip()`, `isIP()`, `ip.isCanonical()`, `family`,
//! `isUnspecified`, `isLoopback`, `isLinkLocalMulticast`, `isLinkLocalUnicast`,
//! `isGlobalUnicast`, `cidr()`, `isCIDR()`, `containsIP`, `containsCIDR`, `ip`
//! (of a CIDR), `masked`, `prefixLength`, and `string()` of both.
//!
//! As in Kubernetes, IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) and zones
//! (`fe80::1%eth0`) are refused, and so are IPv4 octets with leading zeros.

use std::net::IpAddr;
use std::sync::Arc;

use cel::common::types::Type;
use cel::objects::Opaque;
use cel::{DeclarationError, Env, Value};
use ipnet::IpNet;

use super::{opaque_arg, str_arg, value_fn, STRING};

const IP_TYPE_NAME: &str = "net.IP";
const CIDR_TYPE_NAME: &str = "net.CIDR";

/// An IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ip(IpAddr);

/// A CIDR: an address and a prefix length (the address need not be masked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr(IpNet);

impl Opaque for Ip {
    fn runtime_type_name(&self) -> &str {
        IP_TYPE_NAME
    }
}

impl Opaque for Cidr {
    fn runtime_type_name(&self) -> &str {
        CIDR_TYPE_NAME
    }
}

/// The string form of an IP or CIDR library value.
pub(crate) fn display(o: &dyn Opaque) -> Option<String> {
    if let Some(ip) = o.downcast_ref::<Ip>() {
        Some(ip.0.to_string())
    } else {
        o.downcast_ref::<Cidr>().map(|c| c.0.to_string())
    }
}

/// Parses an address as Kubernetes' `ip()` does.
pub(crate) fn parse_ip(s: &str) -> Result<IpAddr, String> {
    let ip: IpAddr = s
        .parse()
        .map_err(|_| format!("{s:?} is not a valid IP address"))?;
    if let IpAddr::V6(v6) = ip {
        if v6.to_ipv4_mapped().is_some() {
            return Err(format!("{s:?}: IPv4-mapped IPv6 addresses are not allowed"));
        }
    }
    Ok(ip)
}

/// Parses a CIDR as Kubernetes' `cidr()` does.
pub(crate) fn parse_cidr(s: &str) -> Result<IpNet, String> {
    let err = || format!("{s:?} is not a valid CIDR");
    let (addr, len) = s.split_once('/').ok_or_else(err)?;
    let ip = parse_ip(addr).map_err(|_| err())?;
    if len.is_empty()
        || len.len() > 3
        || !len.bytes().all(|b| b.is_ascii_digit())
        || (len.len() > 1 && len.starts_with('0'))
    {
        return Err(err());
    }
    let len: u8 = len.parse().map_err(|_| err())?;
    IpNet::new(ip, len).map_err(|_| err())
}

fn ip_of(args: &[Value], i: usize) -> Result<IpAddr, String> {
    match args.get(i) {
        Some(Value::String(s)) => parse_ip(s),
        _ => opaque_arg::<Ip>(args, i, "net.IP").map(|ip| ip.0),
    }
}

fn cidr_of(args: &[Value], i: usize) -> Result<IpNet, String> {
    match args.get(i) {
        Some(Value::String(s)) => parse_cidr(s),
        _ => opaque_arg::<Cidr>(args, i, "net.CIDR").map(|c| c.0),
    }
}

fn ip_value(ip: IpAddr) -> Value {
    Value::Opaque(Arc::new(Ip(ip)))
}

fn ip(args: &[Value]) -> Result<Value, String> {
    parse_ip(str_arg(args, 0)?).map(ip_value)
}

fn is_ip(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(parse_ip(str_arg(args, 0)?).is_ok()))
}

fn is_canonical(args: &[Value]) -> Result<Value, String> {
    let s = str_arg(args, 0)?;
    Ok(Value::Bool(parse_ip(s)?.to_string() == s))
}

fn family(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(if ip_of(args, 0)?.is_ipv4() { 4 } else { 6 }))
}

fn is_unspecified(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(ip_of(args, 0)?.is_unspecified()))
}

fn is_loopback(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(ip_of(args, 0)?.is_loopback()))
}

fn link_local_multicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            o[0] == 224 && o[1] == 0 && o[2] == 0
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            o[0] == 0xff && o[1] & 0x0f == 0x02
        }
    }
}

fn link_local_unicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
    }
}

fn is_link_local_multicast(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(link_local_multicast(ip_of(args, 0)?)))
}

fn is_link_local_unicast(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(link_local_unicast(ip_of(args, 0)?)))
}

fn is_global_unicast(args: &[Value]) -> Result<Value, String> {
    let ip = ip_of(args, 0)?;
    let broadcast = matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    Ok(Value::Bool(
        !(ip.is_unspecified()
            || ip.is_loopback()
            || ip.is_multicast()
            || link_local_unicast(ip)
            || broadcast),
    ))
}

fn ip_string(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(Arc::new(ip_of(args, 0)?.to_string())))
}

fn cidr(args: &[Value]) -> Result<Value, String> {
    parse_cidr(str_arg(args, 0)?).map(|c| Value::Opaque(Arc::new(Cidr(c))))
}

fn is_cidr(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(parse_cidr(str_arg(args, 0)?).is_ok()))
}

fn contains_ip(args: &[Value]) -> Result<Value, String> {
    let c = cidr_of(args, 0)?;
    Ok(Value::Bool(c.trunc().contains(&ip_of(args, 1)?)))
}

fn contains_cidr(args: &[Value]) -> Result<Value, String> {
    let c = cidr_of(args, 0)?;
    let other = cidr_of(args, 1)?;
    Ok(Value::Bool(
        other.prefix_len() >= c.prefix_len() && c.trunc().contains(&other.network()),
    ))
}

fn cidr_ip(args: &[Value]) -> Result<Value, String> {
    Ok(ip_value(cidr_of(args, 0)?.addr()))
}

fn masked(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Opaque(Arc::new(Cidr(cidr_of(args, 0)?.trunc()))))
}

fn prefix_length(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(cidr_of(args, 0)?.prefix_len() as i64))
}

fn cidr_string(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(Arc::new(cidr_of(args, 0)?.to_string())))
}

value_fn!(ip_fn, "ip", ip);
value_fn!(is_ip_fn, "isIP", is_ip);
value_fn!(is_canonical_fn, "ip.isCanonical", is_canonical);
value_fn!(family_fn, "family", family);
value_fn!(is_unspecified_fn, "isUnspecified", is_unspecified);
value_fn!(is_loopback_fn, "isLoopback", is_loopback);
value_fn!(
    is_link_local_multicast_fn,
    "isLinkLocalMulticast",
    is_link_local_multicast
);
value_fn!(
    is_link_local_unicast_fn,
    "isLinkLocalUnicast",
    is_link_local_unicast
);
value_fn!(is_global_unicast_fn, "isGlobalUnicast", is_global_unicast);
value_fn!(ip_string_fn, "string", ip_string);
value_fn!(cidr_fn, "cidr", cidr);
value_fn!(is_cidr_fn, "isCIDR", is_cidr);
value_fn!(contains_ip_fn, "containsIP", contains_ip);
value_fn!(contains_cidr_fn, "containsCIDR", contains_cidr);
value_fn!(cidr_ip_fn, "ip", cidr_ip);
value_fn!(masked_fn, "masked", masked);
value_fn!(prefix_length_fn, "prefixLength", prefix_length);
value_fn!(cidr_string_fn, "string", cidr_string);

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let ipt = || Type::new_opaque_type(IP_TYPE_NAME);
    let cidrt = || Type::new_opaque_type(CIDR_TYPE_NAME);
    env.add_type(ipt())?;
    env.add_type(cidrt())?;
    env.add_overload("ip", "string_to_ip", vec![STRING], ip_fn)?;
    env.add_overload("isIP", "is_ip_string", vec![STRING], is_ip_fn)?;
    env.add_overload(
        "ip.isCanonical",
        "ip_is_canonical",
        vec![STRING],
        is_canonical_fn,
    )?;
    for (name, f) in [
        ("family", family_fn as cel::common::functions::Function),
        ("isUnspecified", is_unspecified_fn),
        ("isLoopback", is_loopback_fn),
        ("isLinkLocalMulticast", is_link_local_multicast_fn),
        ("isLinkLocalUnicast", is_link_local_unicast_fn),
        ("isGlobalUnicast", is_global_unicast_fn),
    ] {
        env.add_member_overload(name, &format!("net_ip_{name}"), ipt(), vec![], f)?;
    }
    env.add_overload("string", "net_ip_to_string", vec![ipt()], ip_string_fn)?;
    env.add_overload("cidr", "string_to_cidr", vec![STRING], cidr_fn)?;
    env.add_overload("isCIDR", "is_cidr_string", vec![STRING], is_cidr_fn)?;
    for (arg, id) in [(ipt(), "ip"), (STRING, "string")] {
        env.add_member_overload(
            "containsIP",
            &format!("cidr_contains_ip_{id}"),
            cidrt(),
            vec![arg],
            contains_ip_fn,
        )?;
    }
    for (arg, id) in [(cidrt(), "cidr"), (STRING, "string")] {
        env.add_member_overload(
            "containsCIDR",
            &format!("cidr_contains_cidr_{id}"),
            cidrt(),
            vec![arg],
            contains_cidr_fn,
        )?;
    }
    env.add_member_overload("ip", "cidr_ip", cidrt(), vec![], cidr_ip_fn)?;
    env.add_member_overload("masked", "cidr_masked", cidrt(), vec![], masked_fn)?;
    env.add_member_overload(
        "prefixLength",
        "cidr_prefix_length",
        cidrt(),
        vec![],
        prefix_length_fn,
    )?;
    env.add_overload(
        "string",
        "net_cidr_to_string",
        vec![cidrt()],
        cidr_string_fn,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{fails, is_true};

    #[test]
    fn kubernetes_ip_examples() {
        // The examples of the Kubernetes IP library documentation.
        is_true("isIP('127.0.0.1')");
        is_true("isIP('::1')");
        is_true("!isIP('127.0.0.256')");
        is_true("!isIP('::ffff:127.0.0.1')");
        is_true("!isIP('fe80::1%eth0')");
        is_true("!isIP('127.000.0.1')");
        is_true("ip.isCanonical('127.0.0.1')");
        is_true("ip.isCanonical('2001:db8::abcd')");
        is_true("!ip.isCanonical('2001:DB8::ABCD')");
        is_true("!ip.isCanonical('2001:db8:0:0:0:0:0:abcd')");
        is_true("ip('127.0.0.1').family() == 4");
        is_true("ip('::1').family() == 6");
        is_true("ip('0.0.0.0').isUnspecified()");
        is_true("ip('::').isUnspecified()");
        is_true("ip('127.0.0.1').isLoopback()");
        is_true("ip('::1').isLoopback()");
        is_true("!ip('10.0.0.1').isLoopback()");
        is_true("ip('224.0.0.1').isLinkLocalMulticast()");
        is_true("ip('ff02::1').isLinkLocalMulticast()");
        is_true("!ip('224.0.1.1').isLinkLocalMulticast()");
        is_true("ip('169.254.169.254').isLinkLocalUnicast()");
        is_true("ip('fe80::1').isLinkLocalUnicast()");
        is_true("ip('192.168.0.1').isGlobalUnicast()");
        is_true("ip('2001:db8::abcd').isGlobalUnicast()");
        is_true("!ip('255.255.255.255').isGlobalUnicast()");
        is_true("!ip('224.0.0.1').isGlobalUnicast()");
        is_true("string(ip('2001:db8:0:0::abcd')) == '2001:db8::abcd'");
        is_true("ip('127.0.0.1') == ip('127.0.0.1')");
        is_true("ip('127.0.0.1') != ip('127.0.0.2')");
        is_true("type(ip('::1')) == net.IP");
        fails("ip('foo')", "not a valid IP address");
    }

    #[test]
    fn kubernetes_cidr_examples() {
        // The examples of the Kubernetes CIDR library documentation.
        is_true("isCIDR('192.168.0.0/16')");
        is_true("!isCIDR('192.168.0.0/33')");
        is_true("!isCIDR('192.168.0.0')");
        is_true("!isCIDR('192.168.0.0/016')");
        is_true("cidr('192.168.0.0/16').containsIP(ip('192.168.0.1'))");
        is_true("cidr('192.168.0.0/16').containsIP('192.168.0.1')");
        is_true("!cidr('192.168.0.0/16').containsIP('192.169.0.1')");
        is_true("!cidr('192.168.0.0/16').containsIP('::1')");
        is_true("cidr('192.168.0.0/24').containsCIDR(cidr('192.168.0.0/25'))");
        is_true("cidr('192.168.0.0/24').containsCIDR('192.168.0.128/25')");
        is_true("!cidr('192.168.0.0/24').containsCIDR('192.168.0.0/23')");
        is_true("cidr('2001:db8::/32').containsCIDR('2001:db8::/48')");
        is_true("cidr('192.168.0.1/24').ip() == ip('192.168.0.1')");
        is_true("cidr('192.168.0.1/24').masked() == cidr('192.168.0.0/24')");
        is_true("string(cidr('192.168.0.1/24').masked()) == '192.168.0.0/24'");
        is_true("cidr('192.168.0.0/16').prefixLength() == 16");
        is_true("cidr('::1/128').ip().family() == 6");
        is_true("type(cidr('10.0.0.0/8')) == net.CIDR");
        fails("cidr('10.0.0.0/abc')", "not a valid CIDR");
    }
}
