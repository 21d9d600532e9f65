//! Kubernetes strings library (CEL's strings extension): `charAt`, `indexOf`,
//! `lastIndexOf`, `lowerAscii`, `upperAscii`, `replace`, `split`, `substring`, `trim`,
//! `join`, `format`, `strings.quote`, `reverse`. Indices count code points.
//!
//! Written here rather than taken from the `cel` crate so that every string or list
//! produced is charged to the evaluation budget before it is built: a chain of
//! `replace` calls cannot grow a string without bound.

use std::sync::Arc;

use cel::{DeclarationError, Env, Value};

use super::{charge, int_arg, str_arg, type_name, value_fn, INT, LIST, STRING};

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let m = |env: &mut Env, name: &str, id: &str, args: Vec<cel::common::types::Type>, f| {
        env.add_member_overload(name, id, STRING, args, f)
    };
    m(env, "charAt", "string_char_at_int", vec![INT], char_at_fn)?;
    m(
        env,
        "indexOf",
        "string_index_of_string",
        vec![STRING],
        index_of_fn,
    )?;
    m(
        env,
        "indexOf",
        "string_index_of_string_int",
        vec![STRING, INT],
        index_of_fn,
    )?;
    m(
        env,
        "lastIndexOf",
        "string_last_index_of_string",
        vec![STRING],
        last_index_of_fn,
    )?;
    m(
        env,
        "lastIndexOf",
        "string_last_index_of_string_int",
        vec![STRING, INT],
        last_index_of_fn,
    )?;
    m(
        env,
        "lowerAscii",
        "string_lower_ascii",
        vec![],
        lower_ascii_fn,
    )?;
    m(
        env,
        "upperAscii",
        "string_upper_ascii",
        vec![],
        upper_ascii_fn,
    )?;
    m(
        env,
        "replace",
        "string_replace_string_string",
        vec![STRING, STRING],
        replace_fn,
    )?;
    m(
        env,
        "replace",
        "string_replace_string_string_int",
        vec![STRING, STRING, INT],
        replace_fn,
    )?;
    m(env, "split", "string_split_string", vec![STRING], split_fn)?;
    m(
        env,
        "split",
        "string_split_string_int",
        vec![STRING, INT],
        split_fn,
    )?;
    m(
        env,
        "substring",
        "string_substring_int",
        vec![INT],
        substring_fn,
    )?;
    m(
        env,
        "substring",
        "string_substring_int_int",
        vec![INT, INT],
        substring_fn,
    )?;
    m(env, "trim", "string_trim", vec![], trim_fn)?;
    m(env, "reverse", "string_reverse", vec![], reverse_fn)?;
    m(env, "format", "string_format_list", vec![LIST], format_fn)?;
    env.add_member_overload("join", "list_join", LIST, vec![], join_fn)?;
    env.add_member_overload("join", "list_join_string", LIST, vec![STRING], join_fn)?;
    env.add_overload("strings.quote", "strings_quote", vec![STRING], quote_fn)?;
    Ok(())
}

value_fn!(char_at_fn, "charAt", char_at);
value_fn!(index_of_fn, "indexOf", index_of);
value_fn!(last_index_of_fn, "lastIndexOf", last_index_of);
value_fn!(lower_ascii_fn, "lowerAscii", lower_ascii);
value_fn!(upper_ascii_fn, "upperAscii", upper_ascii);
value_fn!(replace_fn, "replace", replace);
value_fn!(split_fn, "split", split);
value_fn!(substring_fn, "substring", substring);
value_fn!(trim_fn, "trim", trim);
value_fn!(reverse_fn, "reverse", reverse);
value_fn!(format_fn, "format", format);
value_fn!(join_fn, "join", join);
value_fn!(quote_fn, "strings.quote", quote);

/// A produced string, charged to the budget.
fn out(s: String) -> Result<Value, String> {
    charge(s.len() as u64)?;
    Ok(Value::String(Arc::new(s)))
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

fn out_of_range(i: i64) -> String {
    format!("index out of range: {i}")
}

fn char_at(args: &[Value]) -> Result<Value, String> {
    let s = chars(str_arg(args, 0)?);
    let i = int_arg(args, 1)?;
    if i < 0 || i as usize > s.len() {
        return Err(out_of_range(i));
    }
    out(s.get(i as usize).map(char::to_string).unwrap_or_default())
}

fn find(hay: &[char], needle: &[char], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from);
    }
    (from..hay.len())
        .take_while(|i| i + needle.len() <= hay.len())
        .find(|&i| hay[i..i + needle.len()] == *needle)
}

fn index_of(args: &[Value]) -> Result<Value, String> {
    let hay = chars(str_arg(args, 0)?);
    let needle = chars(str_arg(args, 1)?);
    let from = if args.len() > 2 { int_arg(args, 2)? } else { 0 };
    if from < 0
        || from as usize > hay.len()
        || (from as usize == hay.len() && !needle.is_empty() && !hay.is_empty())
    {
        return Err(out_of_range(from));
    }
    Ok(Value::Int(
        find(&hay, &needle, from as usize).map_or(-1, |i| i as i64),
    ))
}

fn last_index_of(args: &[Value]) -> Result<Value, String> {
    let hay = chars(str_arg(args, 0)?);
    let needle = chars(str_arg(args, 1)?);
    let last = if args.len() > 2 {
        let off = int_arg(args, 2)?;
        if off < 0 || off as usize > hay.len() || (off as usize == hay.len() && !hay.is_empty()) {
            return Err(out_of_range(off));
        }
        off as usize
    } else {
        hay.len()
    };
    if needle.len() > hay.len() {
        return Ok(Value::Int(-1));
    }
    let start = last.min(hay.len() - needle.len());
    Ok(Value::Int(
        (0..=start)
            .rev()
            .find(|&i| hay[i..i + needle.len()] == *needle)
            .map_or(-1, |i| i as i64),
    ))
}

fn lower_ascii(args: &[Value]) -> Result<Value, String> {
    out(str_arg(args, 0)?.to_ascii_lowercase())
}

fn upper_ascii(args: &[Value]) -> Result<Value, String> {
    out(str_arg(args, 0)?.to_ascii_uppercase())
}

fn replace(args: &[Value]) -> Result<Value, String> {
    let s = str_arg(args, 0)?;
    let from = str_arg(args, 1)?;
    let to = str_arg(args, 2)?;
    let limit = if args.len() > 3 {
        int_arg(args, 3)?
    } else {
        -1
    };
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    // the size of the result, charged before it is built
    let matches = if from.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(from).count()
    }
    .min(limit);
    let grown = (s.len() as u64).saturating_add((matches as u64).saturating_mul(to.len() as u64));
    charge(grown)?;
    let result = if from.is_empty() {
        let mut r = String::new();
        let mut n = 0;
        for c in s.chars() {
            if n < limit {
                r.push_str(to);
                n += 1;
            }
            r.push(c);
        }
        if n < limit {
            r.push_str(to);
        }
        r
    } else {
        s.replacen(from, to, limit)
    };
    Ok(Value::String(Arc::new(result)))
}

fn split(args: &[Value]) -> Result<Value, String> {
    let s = str_arg(args, 0)?;
    let sep = str_arg(args, 1)?;
    let limit = if args.len() > 2 {
        int_arg(args, 2)?
    } else {
        -1
    };
    if limit == 0 {
        return Ok(Value::List(Arc::new(Vec::new())));
    }
    let parts: Vec<String> = if sep.is_empty() {
        let cs: Vec<char> = s.chars().collect();
        match usize::try_from(limit) {
            Ok(n) if n < cs.len() => {
                let mut v: Vec<String> = cs[..n - 1].iter().map(char::to_string).collect();
                v.push(cs[n - 1..].iter().collect());
                v
            }
            _ => cs.iter().map(char::to_string).collect(),
        }
    } else {
        match usize::try_from(limit) {
            Ok(n) => s.splitn(n, sep).map(str::to_owned).collect(),
            Err(_) => s.split(sep).map(str::to_owned).collect(),
        }
    };
    charge(parts.len() as u64 + s.len() as u64)?;
    Ok(Value::List(Arc::new(
        parts
            .into_iter()
            .map(|p| Value::String(Arc::new(p)))
            .collect(),
    )))
}

fn substring(args: &[Value]) -> Result<Value, String> {
    let s = chars(str_arg(args, 0)?);
    let start = int_arg(args, 1)?;
    let end = if args.len() > 2 {
        int_arg(args, 2)?
    } else {
        s.len() as i64
    };
    if start < 0 || start as usize > s.len() {
        return Err(out_of_range(start));
    }
    if end < 0 || end as usize > s.len() {
        return Err(out_of_range(end));
    }
    if start > end {
        return Err(format!(
            "invalid substring range. start: {start}, end: {end}"
        ));
    }
    out(s[start as usize..end as usize].iter().collect())
}

fn trim(args: &[Value]) -> Result<Value, String> {
    out(str_arg(args, 0)?.trim().to_owned())
}

fn reverse(args: &[Value]) -> Result<Value, String> {
    out(str_arg(args, 0)?.chars().rev().collect())
}

fn join(args: &[Value]) -> Result<Value, String> {
    let Some(Value::List(items)) = args.first() else {
        return Err("join needs a list".into());
    };
    let sep = if args.len() > 1 {
        str_arg(args, 1)?
    } else {
        ""
    };
    let mut total = sep.len().saturating_mul(items.len()) as u64;
    let mut parts = Vec::with_capacity(items.len());
    for item in items.iter() {
        match item {
            Value::String(s) => {
                total = total.saturating_add(s.len() as u64);
                parts.push(s.as_str());
            }
            other => {
                return Err(format!(
                    "join needs a list of strings, got an element of type {}",
                    type_name(other)
                ))
            }
        }
    }
    charge(total)?;
    Ok(Value::String(Arc::new(parts.join(sep))))
}

fn quote(args: &[Value]) -> Result<Value, String> {
    let s = str_arg(args, 0)?;
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '\u{7}' => q.push_str("\\a"),
            '\u{8}' => q.push_str("\\b"),
            '\u{c}' => q.push_str("\\f"),
            '\n' => q.push_str("\\n"),
            '\r' => q.push_str("\\r"),
            '\t' => q.push_str("\\t"),
            '\u{b}' => q.push_str("\\v"),
            '\\' => q.push_str("\\\\"),
            '"' => q.push_str("\\\""),
            c => q.push(c),
        }
    }
    q.push('"');
    out(q)
}

/// `%s` of a value.
fn as_s(v: &Value) -> Result<String, String> {
    Ok(match v {
        Value::String(s) => s.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Float(f) => format_double(*f),
        Value::List(l) => {
            let items = l
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(format!("{s:?}")),
                    other => as_s(other),
                })
                .collect::<Result<Vec<_>, String>>()?;
            format!("[{}]", items.join(", "))
        }
        Value::Map(m) => {
            let mut items = m
                .map
                .iter()
                .map(|(k, v)| {
                    let k = match k {
                        cel::objects::Key::String(s) => format!("{s:?}"),
                        cel::objects::Key::Int(i) => i.to_string(),
                        cel::objects::Key::Uint(u) => u.to_string(),
                        cel::objects::Key::Bool(b) => b.to_string(),
                    };
                    let v = match v {
                        Value::String(s) => format!("{s:?}"),
                        other => as_s(other)?,
                    };
                    Ok(format!("{k}: {v}"))
                })
                .collect::<Result<Vec<_>, String>>()?;
            items.sort();
            format!("{{{}}}", items.join(", "))
        }
        other => super::display(other),
    })
}

fn format_double(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{f}")
    }
}

fn as_f64(v: &Value, clause: char) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::UInt(u) => Ok(*u as f64),
        Value::String(s) if ["NaN", "Infinity", "-Infinity"].contains(&s.as_str()) => {
            Ok(s.parse::<f64>().unwrap_or(f64::NAN))
        }
        other => Err(format!(
            "%{clause} needs a number, got {}",
            type_name(other)
        )),
    }
}

fn format(args: &[Value]) -> Result<Value, String> {
    let fmt = str_arg(args, 0)?;
    let Some(Value::List(values)) = args.get(1) else {
        return Err("format needs a list of arguments".into());
    };
    let mut result = String::new();
    let mut next = values.iter();
    let mut it = fmt.chars().peekable();
    while let Some(c) = it.next() {
        if c != '%' {
            result.push(c);
            continue;
        }
        let mut precision: Option<usize> = None;
        if it.peek() == Some(&'.') {
            it.next();
            let mut digits = String::new();
            while let Some(d) = it.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(*d);
                it.next();
            }
            precision = Some(
                digits
                    .parse()
                    .map_err(|_| "invalid precision".to_string())?,
            );
        }
        let clause = it
            .next()
            .ok_or("could not parse formatting clause: unterminated clause")?;
        if clause == '%' {
            result.push('%');
            continue;
        }
        let arg = next
            .next()
            .ok_or_else(|| format!("index {} out of range", values.len()))?;
        let piece = match clause {
            's' => as_s(arg)?,
            'd' => match arg {
                Value::Int(i) => i.to_string(),
                Value::UInt(u) => u.to_string(),
                Value::Float(f) if !f.is_finite() => format_double(*f),
                other => return Err(format!("%d needs an integer, got {}", type_name(other))),
            },
            'f' => {
                let f = as_f64(arg, 'f')?;
                if f.is_finite() {
                    format!("{:.*}", precision.unwrap_or(6).min(100), f)
                } else {
                    format_double(f)
                }
            }
            'e' => {
                let f = as_f64(arg, 'e')?;
                if f.is_finite() {
                    let s = format!("{:.*e}", precision.unwrap_or(6).min(100), f);
                    // Rust writes 1.5e3; CEL (like C) writes 1.500000e+03
                    match s.split_once('e') {
                        Some((m, e)) => {
                            let (sign, digits) = match e.strip_prefix('-') {
                                Some(d) => ('-', d),
                                None => ('+', e),
                            };
                            format!("{m}e{sign}{digits:0>2}")
                        }
                        None => s,
                    }
                } else {
                    format_double(f)
                }
            }
            'b' => match arg {
                Value::Int(i) => format!("{i:b}"),
                Value::UInt(u) => format!("{u:b}"),
                Value::Bool(b) => (*b as u8).to_string(),
                other => return Err(format!("%b needs an integer, got {}", type_name(other))),
            },
            'o' => match arg {
                Value::Int(i) => format!("{i:o}"),
                Value::UInt(u) => format!("{u:o}"),
                other => return Err(format!("%o needs an integer, got {}", type_name(other))),
            },
            'x' | 'X' => {
                let hex = match arg {
                    Value::Int(i) if *i < 0 => format!("-{:x}", i.unsigned_abs()),
                    Value::Int(i) => format!("{i:x}"),
                    Value::UInt(u) => format!("{u:x}"),
                    Value::String(s) => s.bytes().map(|b| format!("{b:02x}")).collect(),
                    Value::Bytes(b) => b.iter().map(|b| format!("{b:02x}")).collect(),
                    other => {
                        return Err(format!(
                            "%{clause} needs an integer, string or bytes, got {}",
                            type_name(other)
                        ))
                    }
                };
                if clause == 'X' {
                    hex.to_ascii_uppercase()
                } else {
                    hex
                }
            }
            other => {
                return Err(format!(
                    "could not parse formatting clause: unrecognized formatting clause {other:?}"
                ))
            }
        };
        charge(piece.len() as u64)?;
        result.push_str(&piece);
    }
    out(result)
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{eval, fails, is_true};

    #[test]
    fn kubernetes_strings_examples() {
        // The examples of CEL's strings extension, as the Kubernetes documentation lists them.
        is_true("'hello'.charAt(4) == 'o'");
        is_true("'hello'.charAt(5) == ''");
        fails("'hello'.charAt(6)", "out of range");
        is_true("'hello mellow'.indexOf('') == 0");
        is_true("'hello mellow'.indexOf('ello') == 1");
        is_true("'hello mellow'.indexOf('jello') == -1");
        is_true("'hello mellow'.indexOf('', 2) == 2");
        is_true("'hello mellow'.indexOf('ello', 2) == 7");
        fails("'hello mellow'.indexOf('ello', 20)", "out of range");
        is_true("'hello mellow'.lastIndexOf('') == 12");
        is_true("'hello mellow'.lastIndexOf('ello') == 7");
        is_true("'hello mellow'.lastIndexOf('jello') == -1");
        is_true("'hello mellow'.lastIndexOf('ello', 6) == 1");
        fails("'hello mellow'.lastIndexOf('ello', -1)", "out of range");
        is_true("'TacoCat'.lowerAscii() == 'tacocat'");
        is_true("'TacoCÆt Xii'.lowerAscii() == 'tacocÆt xii'");
        is_true("'TacoCat'.upperAscii() == 'TACOCAT'");
        is_true("'hello hello'.replace('he', 'we') == 'wello wello'");
        is_true("'hello hello'.replace('he', 'we', -1) == 'wello wello'");
        is_true("'hello hello'.replace('he', 'we', 1) == 'wello hello'");
        is_true("'hello hello'.replace('he', 'we', 0) == 'hello hello'");
        is_true("'ab'.replace('', '-') == '-a-b-'");
        is_true("'hello hello hello'.split(' ') == ['hello', 'hello', 'hello']");
        is_true("'hello hello hello'.split(' ', 0) == []");
        is_true("'hello hello hello'.split(' ', 1) == ['hello hello hello']");
        is_true("'hello hello hello'.split(' ', 2) == ['hello', 'hello hello']");
        is_true("'hello hello hello'.split(' ', -1) == ['hello', 'hello', 'hello']");
        is_true("'a©c'.split('') == ['a', '©', 'c']");
        is_true("'tacocat'.substring(4) == 'cat'");
        is_true("'tacocat'.substring(0, 4) == 'taco'");
        fails("'tacocat'.substring(-1)", "out of range");
        fails("'tacocat'.substring(2, 1)", "invalid substring range");
        is_true("'  \\ttrim\\n    '.trim() == 'trim'");
        is_true("['hello', 'mellow'].join() == 'hellomellow'");
        is_true("['hello', 'mellow'].join(' ') == 'hello mellow'");
        is_true("[].join('/') == ''");
        fails("[1, 2].join()", "list of strings");
        is_true("strings.quote('single-quote with \"double quote\"') == '\"single-quote with \\\\\"double quote\\\\\"\"'");
        is_true("'gums'.reverse() == 'smug'");
    }

    #[test]
    fn format_clauses() {
        is_true("'this is a string: %s'.format(['hello']) == 'this is a string: hello'");
        is_true("'%d items, %s'.format([3, true]) == '3 items, true'");
        is_true("'%.3f'.format([3.14159]) == '3.142'");
        is_true("'%f'.format([1]) == '1.000000'");
        is_true("'%e'.format([1500.0]) == '1.500000e+03'");
        is_true("'%x %X %o %b'.format([255, 255, 8, 5]) == 'ff FF 10 101'");
        is_true("'%x'.format(['Hi']) == '4869'");
        is_true("'100%% %s'.format([[1, 'a']]) == '100% [1, \"a\"]'");
        fails("'%d'.format(['x'])", "needs an integer");
        fails("'%s %s'.format(['x'])", "out of range");
        fails("'%q'.format(['x'])", "unrecognized");
        assert!(eval("'%s'.format([{'a': 1}])").is_ok());
    }
}
