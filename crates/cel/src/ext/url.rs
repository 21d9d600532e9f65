//! Kubernetes URL library: `url()`, `isURL()`, and on a URL `getScheme`, `getHost`,
//! `getHostname`, `getPort`, `getEscapedPath`, `getQuery`.
//!
//! As in Kubernetes, a URL is either absolute (with a scheme) or an absolute path
//! (`/path`). The parser is small and written here; it follows the Go URL parser on the
//! parts these functions expose.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use cel::common::types::Type;
use cel::objects::{Key, Map, Opaque};
use cel::{DeclarationError, Env, Value};

use super::{opaque_arg, str_arg, value_fn, STRING};

const TYPE_NAME: &str = "kubernetes.URL";

/// A parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    raw: String,
    scheme: String,
    /// `host[:port]` as written, brackets kept.
    host: String,
    /// The path as written (still escaped).
    raw_path: String,
    raw_query: String,
}

impl Opaque for Url {
    fn runtime_type_name(&self) -> &str {
        TYPE_NAME
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

fn unhex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes `s` (with `+` as a space when `plus` is set); `None` on a bad escape.
fn unescape(s: &str, plus: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = unhex(*b.get(i + 1)?)?;
                let lo = unhex(*b.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Escapes a path as Go's `EscapedPath` does for a path without a valid raw form.
fn escape_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &c in path.as_bytes() {
        if c.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&c) {
            out.push(c as char);
        } else {
            out.push_str(&format!("%{c:02X}"));
        }
    }
    out
}

/// Whether a written path is already validly escaped (and so is kept as written).
fn valid_encoded(path: &str) -> bool {
    let b = path.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if b.get(i + 1).and_then(|&h| unhex(h)).is_none()
                || b.get(i + 2).and_then(|&h| unhex(h)).is_none()
            {
                return false;
            }
            i += 3;
            continue;
        }
        if !(c.is_ascii_alphanumeric() || b"-_.~!$&'()*+,;=:@/".contains(&c)) {
            return false;
        }
        i += 1;
    }
    true
}

impl Url {
    pub(crate) fn parse(s: &str) -> Result<Url, String> {
        let err = |why: &str| format!("{s:?} is not a valid URL: {why}");
        if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(err("control character"));
        }
        let before_fragment = s.split_once('#').map_or(s, |(a, _)| a);
        let (rest, raw_query) = match before_fragment.split_once('?') {
            Some((a, q)) => (a, q.to_owned()),
            None => (before_fragment, String::new()),
        };
        let (scheme, rest) = if rest.starts_with('/') {
            (String::new(), rest)
        } else {
            let (scheme, rest) = rest
                .split_once(':')
                .ok_or_else(|| err("not an absolute URL or absolute path"))?;
            let ok = scheme
                .as_bytes()
                .first()
                .is_some_and(u8::is_ascii_alphabetic)
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
            if !ok {
                return Err(err("invalid scheme"));
            }
            (scheme.to_ascii_lowercase(), rest)
        };
        let (host, raw_path) = match rest.strip_prefix("//") {
            Some(after) => {
                let end = after.find('/').unwrap_or(after.len());
                let (authority, path) = after.split_at(end);
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                Self::check_host(host).map_err(|why| err(&why))?;
                (host.to_owned(), path.to_owned())
            }
            None => (String::new(), rest.to_owned()),
        };
        if unescape(&raw_path, false).is_none() {
            return Err(err("invalid escape in path"));
        }
        Ok(Url {
            raw: s.to_owned(),
            scheme,
            host,
            raw_path,
            raw_query,
        })
    }

    fn check_host(host: &str) -> Result<(), String> {
        let port = if let Some(inner) = host.strip_prefix('[') {
            let (v6, after) = inner.split_once(']').ok_or("missing ']' in host")?;
            if v6.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(format!("invalid IPv6 host {v6:?}"));
            }
            match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("invalid port")?),
            }
        } else {
            if host.bytes().any(|b| b" <>\"{}|\\^`[]".contains(&b)) {
                return Err(format!("invalid character in host {host:?}"));
            }
            host.rsplit_once(':').map(|(_, p)| p)
        };
        if let Some(p) = port {
            if !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("invalid port {p:?}"));
            }
        }
        Ok(())
    }

    fn hostname_port(&self) -> (&str, &str) {
        let h = self.host.as_str();
        if let Some(inner) = h.strip_prefix('[') {
            let (v6, after) = inner.split_once(']').unwrap_or((inner, ""));
            (v6, after.strip_prefix(':').unwrap_or(""))
        } else {
            match h.rsplit_once(':') {
                Some((name, port)) => (name, port),
                None => (h, ""),
            }
        }
    }

    fn escaped_path(&self) -> String {
        if valid_encoded(&self.raw_path) {
            self.raw_path.clone()
        } else {
            escape_path(&unescape(&self.raw_path, false).unwrap_or_default())
        }
    }

    fn query(&self) -> Vec<(String, String)> {
        self.raw_query
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.contains(';'))
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                Some((unescape(k, true)?, unescape(v, true)?))
            })
            .collect()
    }
}

fn this(args: &[Value]) -> Result<Url, String> {
    opaque_arg::<Url>(args, 0, "URL")
}

fn string(s: impl Into<String>) -> Value {
    Value::String(Arc::new(s.into()))
}

fn url(args: &[Value]) -> Result<Value, String> {
    Url::parse(str_arg(args, 0)?).map(|u| Value::Opaque(Arc::new(u)))
}

fn is_url(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(Url::parse(str_arg(args, 0)?).is_ok()))
}

fn get_scheme(args: &[Value]) -> Result<Value, String> {
    Ok(string(this(args)?.scheme))
}

fn get_host(args: &[Value]) -> Result<Value, String> {
    Ok(string(this(args)?.host))
}

fn get_hostname(args: &[Value]) -> Result<Value, String> {
    Ok(string(this(args)?.hostname_port().0))
}

fn get_port(args: &[Value]) -> Result<Value, String> {
    Ok(string(this(args)?.hostname_port().1))
}

fn get_escaped_path(args: &[Value]) -> Result<Value, String> {
    Ok(string(this(args)?.escaped_path()))
}

fn get_query(args: &[Value]) -> Result<Value, String> {
    let mut grouped: HashMap<Key, Vec<Value>> = HashMap::new();
    for (k, v) in this(args)?.query() {
        grouped
            .entry(Key::String(Arc::new(k)))
            .or_default()
            .push(string(v));
    }
    let map = grouped
        .into_iter()
        .map(|(k, v)| (k, Value::List(Arc::new(v))))
        .collect();
    Ok(Value::Map(Map { map: Arc::new(map) }))
}

value_fn!(url_fn, "url", url);
value_fn!(is_url_fn, "isURL", is_url);
value_fn!(get_scheme_fn, "getScheme", get_scheme);
value_fn!(get_host_fn, "getHost", get_host);
value_fn!(get_hostname_fn, "getHostname", get_hostname);
value_fn!(get_port_fn, "getPort", get_port);
value_fn!(get_escaped_path_fn, "getEscapedPath", get_escaped_path);
value_fn!(get_query_fn, "getQuery", get_query);

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let t = || Type::new_opaque_type(TYPE_NAME);
    env.add_type(t())?;
    env.add_overload("url", "string_to_url", vec![STRING], url_fn)?;
    env.add_overload("isURL", "is_url_string", vec![STRING], is_url_fn)?;
    for (name, f) in [
        (
            "getScheme",
            get_scheme_fn as cel::common::functions::Function,
        ),
        ("getHost", get_host_fn),
        ("getHostname", get_hostname_fn),
        ("getPort", get_port_fn),
        ("getEscapedPath", get_escaped_path_fn),
        ("getQuery", get_query_fn),
    ] {
        env.add_member_overload(name, &format!("url_{name}"), t(), vec![], f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{fails, is_true};

    #[test]
    fn kubernetes_url_examples() {
        // The examples of the Kubernetes URL library documentation.
        is_true("url('https://example.com/path') != url('https://example.com/other')");
        is_true("isURL('https://example.com:80/')");
        is_true("isURL('/absolute-path')");
        is_true("!isURL('example.com')");
        is_true("!isURL('https://exa mple.com/')");
        is_true("!isURL('https://example.com:8x/')");
        is_true("url('/absolute-path').getScheme() == ''");
        is_true("url('https://example.com/').getScheme() == 'https'");
        is_true("url('https://example.com:80/').getHost() == 'example.com:80'");
        is_true("url('https://[::1]:80/').getHost() == '[::1]:80'");
        is_true("url('https://[::1]/').getHost() == '[::1]'");
        is_true("url('/path').getHost() == ''");
        is_true("url('https://example.com:80/').getHostname() == 'example.com'");
        is_true("url('https://127.0.0.1:80/').getHostname() == '127.0.0.1'");
        is_true("url('https://[::1]:80/').getHostname() == '::1'");
        is_true("url('https://user:pw@example.com/').getHostname() == 'example.com'");
        is_true("url('https://example.com:80/').getPort() == '80'");
        is_true("url('https://example.com/').getPort() == ''");
        is_true("url('https://example.com/path').getEscapedPath() == '/path'");
        is_true("url('https://example.com/path with spaces/').getEscapedPath() == '/path%20with%20spaces/'");
        is_true("url('https://example.com/a%2Fb').getEscapedPath() == '/a%2Fb'");
        is_true("url('https://example.com/').getEscapedPath() == '/'");
        is_true("url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}");
        is_true("url('https://example.com/?k=a+b%21').getQuery() == {'k': ['a b!']}");
        is_true("url('https://example.com/').getQuery() == {}");
        fails("url('not a url')", "not a valid URL");
        fails("url('https://example.com/%zz')", "invalid escape");
    }
}
