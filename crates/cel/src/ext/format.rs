//! Kubernetes format library: `format.named(name)` (an optional format),
//! `format.dns1123Label()`, `format.dns1123Subdomain()`, `format.dns1035Label()`,
//! `format.qualifiedName()`, `format.dns1123LabelPrefix()`,
//! `format.dns1123SubdomainPrefix()`, `format.dns1035LabelPrefix()`,
//! `format.labelValue()`, `format.uri()`, `format.uuid()`, `format.byte()`,
//! `format.date()`, `format.datetime()`, and `<format>.validate(string)`: `optional.none()`
//! when the string is valid, else an optional list of messages (worded after the API
//! server's).

use std::sync::Arc;

use cel::common::types::Type;
use cel::objects::{Opaque, OptionalValue};
use cel::{DeclarationError, Env, Value};

use super::{opaque_arg, str_arg, value_fn, STRING};

const TYPE_NAME: &str = "kubernetes.NamedFormat";

const NAMES: &[&str] = &[
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "dns1123LabelPrefix",
    "dns1123SubdomainPrefix",
    "dns1035LabelPrefix",
    "labelValue",
    "uri",
    "uuid",
    "byte",
    "date",
    "datetime",
];

/// A named format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Format(&'static str);

impl Opaque for Format {
    fn runtime_type_name(&self) -> &str {
        TYPE_NAME
    }
}

fn is_alnum_lower(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, or with `first_alpha` `[a-z]([-a-z0-9]*[a-z0-9])?`.
fn dns_label(s: &str, first_alpha: bool) -> bool {
    let b: Vec<char> = s.chars().collect();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    (if first_alpha {
        first.is_ascii_lowercase()
    } else {
        is_alnum_lower(*first)
    }) && is_alnum_lower(*last)
        && b.iter().all(|c| is_alnum_lower(*c) || *c == '-')
}

fn mask_trailing_dash(s: &str) -> String {
    match s.strip_suffix('-') {
        Some(stem) if !stem.is_empty() => format!("{stem}a"),
        _ => s.to_owned(),
    }
}

fn label_errors(s: &str, first_alpha: bool) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !dns_label(s, first_alpha) {
        errs.push(if first_alpha {
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_owned()
        } else {
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_owned()
        });
    }
    errs
}

fn subdomain_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_owned());
    }
    if s.is_empty() || !s.split('.').all(|l| dns_label(l, false)) {
        errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_owned());
    }
    errs
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn qualified_part(s: &str) -> bool {
    let b: Vec<char> = s.chars().collect();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || ['-', '_', '.'].contains(c))
}

const QUALIFIED: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

fn qualified_name_errors(s: &str) -> Vec<String> {
    let (prefix, name) = match s.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    let mut errs = Vec::new();
    if name.contains('/') {
        errs.push("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')".to_owned());
        return errs;
    }
    if let Some(p) = prefix {
        if p.is_empty() {
            errs.push("prefix part must be non-empty".to_owned());
        } else {
            errs.extend(
                subdomain_errors(p)
                    .into_iter()
                    .map(|e| format!("prefix part {e}")),
            );
        }
    }
    if name.is_empty() {
        errs.push("name part must be non-empty".to_owned());
    } else {
        if name.len() > 63 {
            errs.push("name part must be no more than 63 characters".to_owned());
        }
        if !qualified_part(name) {
            errs.push(QUALIFIED.to_owned());
        }
    }
    errs
}

fn label_value_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_owned());
    }
    if !s.is_empty() && !qualified_part(s) {
        errs.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')".to_owned());
    }
    errs
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn is_base64(s: &str) -> bool {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return false;
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    pad <= 2
        && b[..b.len() - pad]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'+' || *c == b'/')
}

fn is_date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    if p.len() != 3 || p[0].len() != 4 || p[1].len() != 2 || p[2].len() != 2 {
        return false;
    }
    let (Ok(y), Ok(m), Ok(d)) = (
        p[0].parse::<u32>(),
        p[1].parse::<u32>(),
        p[2].parse::<u32>(),
    ) else {
        return false;
    };
    if !(p.iter().all(|x| x.bytes().all(|b| b.is_ascii_digit()))) {
        return false;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn is_datetime(s: &str) -> bool {
    let Some((date, time)) = s.split_once(['T', 't']) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let (clock, zone) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, None)
    } else if let Some(i) = time.rfind(['+', '-']) {
        (&time[..i], Some(&time[i + 1..]))
    } else {
        return false;
    };
    let clock = clock.split_once('.').map_or(clock, |(c, frac)| {
        if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
            "invalid"
        } else {
            c
        }
    });
    let hms = |t: &str, parts: usize, max: [u32; 3]| {
        let p: Vec<&str> = t.split(':').collect();
        p.len() == parts
            && p.iter().zip(max).all(|(x, m)| {
                x.len() == 2
                    && x.bytes().all(|b| b.is_ascii_digit())
                    && x.parse::<u32>().is_ok_and(|v| v <= m)
            })
    };
    hms(clock, 3, [23, 59, 60]) && zone.is_none_or(|z| hms(z, 2, [23, 59, 0]))
}

fn validate_with(name: &str, s: &str) -> Vec<String> {
    match name {
        "dns1123Label" => label_errors(s, false),
        "dns1123LabelPrefix" => label_errors(&mask_trailing_dash(s), false),
        "dns1035Label" => label_errors(s, true),
        "dns1035LabelPrefix" => label_errors(&mask_trailing_dash(s), true),
        "dns1123Subdomain" => subdomain_errors(s),
        "dns1123SubdomainPrefix" => subdomain_errors(&mask_trailing_dash(s)),
        "qualifiedName" => qualified_name_errors(s),
        "labelValue" => label_value_errors(s),
        "uri" => match super::url::Url::parse(s) {
            Ok(_) => Vec::new(),
            Err(_) => vec!["invalid URI".to_owned()],
        },
        "uuid" => (!is_uuid(s))
            .then(|| "does not match the UUID format".to_owned())
            .into_iter()
            .collect(),
        "byte" => (!is_base64(s))
            .then(|| "invalid base64".to_owned())
            .into_iter()
            .collect(),
        "date" => (!is_date(s))
            .then(|| "invalid date".to_owned())
            .into_iter()
            .collect(),
        "datetime" => (!is_datetime(s))
            .then(|| "invalid datetime".to_owned())
            .into_iter()
            .collect(),
        _ => vec![format!("unknown format {name:?}")],
    }
}

fn format_value(name: &'static str) -> Value {
    Value::Opaque(Arc::new(Format(name)))
}

fn named(args: &[Value]) -> Result<Value, String> {
    let name = str_arg(args, 0)?;
    let found = NAMES.iter().find(|n| **n == name).map(|n| format_value(n));
    Ok(Value::Opaque(Arc::new(match found {
        Some(f) => OptionalValue::of(f),
        None => OptionalValue::none(),
    })))
}

fn validate(args: &[Value]) -> Result<Value, String> {
    let f = opaque_arg::<Format>(args, 0, "format")?;
    let errs = validate_with(f.0, str_arg(args, 1)?);
    Ok(Value::Opaque(Arc::new(if errs.is_empty() {
        OptionalValue::none()
    } else {
        OptionalValue::of(Value::List(Arc::new(
            errs.into_iter()
                .map(|e| Value::String(Arc::new(e)))
                .collect(),
        )))
    })))
}

value_fn!(named_fn, "format.named", named);
value_fn!(validate_fn, "validate", validate);

macro_rules! constructors {
    ($($f:ident => $name:literal),* $(,)?) => {
        $(
            fn $f(_: &[Value]) -> Result<Value, String> {
                Ok(format_value($name))
            }
        )*
        fn register_constructors(env: &mut Env) -> Result<(), DeclarationError> {
            $({
                value_fn!(wrapper, concat!("format.", $name), $f);
                env.add_overload(concat!("format.", $name), concat!("format_", $name), vec![], wrapper)?;
            })*
            Ok(())
        }
    };
}

constructors! {
    dns1123_label => "dns1123Label",
    dns1123_subdomain => "dns1123Subdomain",
    dns1035_label => "dns1035Label",
    qualified_name => "qualifiedName",
    dns1123_label_prefix => "dns1123LabelPrefix",
    dns1123_subdomain_prefix => "dns1123SubdomainPrefix",
    dns1035_label_prefix => "dns1035LabelPrefix",
    label_value => "labelValue",
    uri => "uri",
    uuid => "uuid",
    byte => "byte",
    date => "date",
    datetime => "datetime",
}

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let t = || Type::new_opaque_type(TYPE_NAME);
    env.add_type(t())?;
    env.add_overload(
        "format.named",
        "format_named_string",
        vec![STRING],
        named_fn,
    )?;
    env.add_member_overload(
        "validate",
        "format_validate_string",
        t(),
        vec![STRING],
        validate_fn,
    )?;
    register_constructors(env)
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{eval, is_true};

    #[test]
    fn kubernetes_format_examples() {
        // The examples of the Kubernetes format library documentation.
        is_true("!format.dns1123Label().validate('my-name').hasValue()");
        is_true("format.dns1123Label().validate('MY_NAME').hasValue()");
        is_true("format.named('dns1123Label').hasValue()");
        is_true("!format.named('unknown').hasValue()");
        is_true("format.named('dns1123Subdomain').value().validate('a.b.c').hasValue() == false");
        is_true("format.dns1123Subdomain().validate('-a.b').value().size() == 1");
        is_true("format.dns1123Label().validate('a' + 'b'.replace('b', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb')).value().size() == 1");
        is_true("!format.dns1035Label().validate('abc-123').hasValue()");
        is_true("format.dns1035Label().validate('1abc').hasValue()");
        is_true("!format.dns1123LabelPrefix().validate('web-').hasValue()");
        is_true("format.dns1123Label().validate('web-').hasValue()");
        is_true("!format.qualifiedName().validate('example.com/MyName').hasValue()");
        is_true("format.qualifiedName().validate('example.com/').hasValue()");
        is_true("format.qualifiedName().validate('a/b/c').hasValue()");
        is_true("!format.labelValue().validate('').hasValue()");
        is_true("format.labelValue().validate('-x').hasValue()");
        is_true("!format.uri().validate('https://example.com/a').hasValue()");
        is_true("format.uri().validate('example.com').hasValue()");
        is_true("!format.uuid().validate('123e4567-e89b-12d3-a456-426614174000').hasValue()");
        is_true("format.uuid().validate('123e4567e89b12d3a456426614174000').hasValue()");
        is_true("!format.byte().validate('aGVsbG8=').hasValue()");
        is_true("format.byte().validate('aGVsbG8').hasValue()");
        is_true("!format.date().validate('2024-02-29').hasValue()");
        is_true("format.date().validate('2023-02-29').hasValue()");
        is_true("!format.datetime().validate('2024-02-29T12:30:00Z').hasValue()");
        is_true("!format.datetime().validate('2024-02-29T12:30:00.123+02:00').hasValue()");
        is_true("format.datetime().validate('2024-02-29 12:30:00').hasValue()");
        assert!(eval("format.dns1123Label().validate(1)").is_err());
    }
}
