//! Kubernetes semver library: `semver(string[, normalize])`, `isSemver(string[,
//! normalize])`, and on a version `major`, `minor`, `patch`, `compareTo`, `isLessThan`,
//! `isGreaterThan`; `==` compares precedence (build metadata is ignored).
//!
//! Strict Semantic Versioning 2.0.0; with `normalize`, a leading `v`, missing minor or
//! patch numbers and leading zeros are accepted (`v1.02` is `1.2.0`).

use std::cmp::Ordering;
use std::sync::Arc;

use cel::common::types::Type;
use cel::common::types::BOOL_TYPE;
use cel::objects::Opaque;
use cel::{DeclarationError, Env, Value};

use super::{opaque_arg, str_arg, value_fn, STRING};

const TYPE_NAME: &str = "kubernetes.Semver";

/// A version.
#[derive(Debug, Clone)]
pub(crate) struct Semver {
    major: u64,
    minor: u64,
    patch: u64,
    pre: Vec<String>,
}

impl PartialEq for Semver {
    fn eq(&self, other: &Self) -> bool {
        self.cmp_precedence(other) == Ordering::Equal
    }
}

impl Eq for Semver {}

impl Opaque for Semver {
    fn runtime_type_name(&self) -> &str {
        TYPE_NAME
    }
}

fn numeric(s: &str, strict: bool) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if strict && s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

impl Semver {
    pub(crate) fn parse(s: &str, normalize: bool) -> Result<Semver, String> {
        let err = || format!("{s:?} is not a valid semantic version");
        let mut text = s;
        if normalize {
            text = text.strip_prefix('v').unwrap_or(text);
        }
        let text = text.split_once('+').map_or(text, |(v, build)| {
            if build.is_empty()
                || !build.split('.').all(|p| {
                    !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
            {
                "\0"
            } else {
                v
            }
        });
        let (core, pre) = match text.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (text, None),
        };
        let mut parts: Vec<&str> = core.split('.').collect();
        if normalize {
            while parts.len() < 3 {
                parts.push("0");
            }
        }
        if parts.len() != 3 {
            return Err(err());
        }
        let n = |p: &str| numeric(p, !normalize).ok_or_else(err);
        let pre = match pre {
            None => Vec::new(),
            Some(p) => {
                let ids: Vec<String> = p.split('.').map(str::to_owned).collect();
                let ok = ids.iter().all(|id| {
                    !id.is_empty()
                        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                        && !(id.len() > 1
                            && id.starts_with('0')
                            && id.bytes().all(|b| b.is_ascii_digit()))
                });
                if !ok {
                    return Err(err());
                }
                ids
            }
        };
        Ok(Semver {
            major: n(parts[0])?,
            minor: n(parts[1])?,
            patch: n(parts[2])?,
            pre,
        })
    }

    fn cmp_precedence(&self, other: &Semver) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(other.major, other.minor, other.patch))
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let o = match (a.parse::<u64>(), b.parse::<u64>()) {
                            (Ok(x), Ok(y)) => x.cmp(&y),
                            (Ok(_), Err(_)) => Ordering::Less,
                            (Err(_), Ok(_)) => Ordering::Greater,
                            (Err(_), Err(_)) => a.cmp(b),
                        };
                        if o != Ordering::Equal {
                            return o;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            })
    }
}

fn normalize_flag(args: &[Value]) -> Result<bool, String> {
    match args.get(1) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("expected bool, got {}", super::type_name(other))),
    }
}

fn semver(args: &[Value]) -> Result<Value, String> {
    Semver::parse(str_arg(args, 0)?, normalize_flag(args)?).map(|v| Value::Opaque(Arc::new(v)))
}

fn is_semver(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(
        Semver::parse(str_arg(args, 0)?, normalize_flag(args)?).is_ok(),
    ))
}

fn this(args: &[Value], i: usize) -> Result<Semver, String> {
    opaque_arg::<Semver>(args, i, "semver")
}

fn major(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(this(args, 0)?.major as i64))
}

fn minor(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(this(args, 0)?.minor as i64))
}

fn patch(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(this(args, 0)?.patch as i64))
}

fn order(args: &[Value]) -> Result<Ordering, String> {
    Ok(this(args, 0)?.cmp_precedence(&this(args, 1)?))
}

fn compare_to(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(order(args)? as i64))
}

fn is_less_than(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(order(args)? == Ordering::Less))
}

fn is_greater_than(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(order(args)? == Ordering::Greater))
}

value_fn!(semver_fn, "semver", semver);
value_fn!(is_semver_fn, "isSemver", is_semver);
value_fn!(major_fn, "major", major);
value_fn!(minor_fn, "minor", minor);
value_fn!(patch_fn, "patch", patch);
value_fn!(compare_to_fn, "compareTo", compare_to);
value_fn!(is_less_than_fn, "isLessThan", is_less_than);
value_fn!(is_greater_than_fn, "isGreaterThan", is_greater_than);

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let t = || Type::new_opaque_type(TYPE_NAME);
    env.add_type(t())?;
    env.add_overload("semver", "string_to_semver", vec![STRING], semver_fn)?;
    env.add_overload(
        "semver",
        "string_bool_to_semver",
        vec![STRING, BOOL_TYPE],
        semver_fn,
    )?;
    env.add_overload("isSemver", "is_semver_string", vec![STRING], is_semver_fn)?;
    env.add_overload(
        "isSemver",
        "is_semver_string_bool",
        vec![STRING, BOOL_TYPE],
        is_semver_fn,
    )?;
    for (name, f) in [
        ("major", major_fn as cel::common::functions::Function),
        ("minor", minor_fn),
        ("patch", patch_fn),
    ] {
        env.add_member_overload(name, &format!("semver_{name}"), t(), vec![], f)?;
    }
    for (name, f) in [
        (
            "compareTo",
            compare_to_fn as cel::common::functions::Function,
        ),
        ("isLessThan", is_less_than_fn),
        ("isGreaterThan", is_greater_than_fn),
    ] {
        env.add_member_overload(name, &format!("semver_{name}_semver"), t(), vec![t()], f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{fails, is_true};

    #[test]
    fn kubernetes_semver_examples() {
        // The examples of the Kubernetes semver library documentation.
        is_true("isSemver('1.0.0')");
        is_true("!isSemver('1.0')");
        is_true("isSemver('v1.0', true)");
        is_true("!isSemver('01.0.0')");
        is_true("isSemver('1.0.0-alpha.1+build.5')");
        is_true("!isSemver('1.0.0-01')");
        is_true("semver('1.2.3').major() == 1");
        is_true("semver('1.2.3').minor() == 2");
        is_true("semver('1.2.3').patch() == 3");
        is_true("semver('v01.02', true) == semver('1.2.0')");
        is_true("semver('1.2.3').compareTo(semver('1.2.3')) == 0");
        is_true("semver('1.2.3').compareTo(semver('2.0.0')) == -1");
        is_true("semver('1.2.3').compareTo(semver('0.1.2')) == 1");
        is_true("semver('1.2.3').isGreaterThan(semver('1.2.2'))");
        is_true("semver('1.0.0-alpha').isLessThan(semver('1.0.0'))");
        is_true("semver('1.0.0-alpha').isLessThan(semver('1.0.0-alpha.1'))");
        is_true("semver('1.0.0-alpha.1').isLessThan(semver('1.0.0-alpha.beta'))");
        is_true("semver('1.0.0-beta.2').isLessThan(semver('1.0.0-beta.11'))");
        is_true("semver('1.0.0+a') == semver('1.0.0+b')");
        is_true("quantity('1').isLessThan(quantity('2'))");
        fails("semver('1.0')", "not a valid semantic version");
    }
}
