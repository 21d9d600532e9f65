//! Kubernetes regex library: `find` and `findAll` (RE2 syntax, which the `regex` crate
//! follows closely; look-around and backreferences are refused by both).

use cel::{DeclarationError, Env, Value};

use super::{int_arg, str_arg, value_fn, INT, STRING};
use std::sync::Arc;

/// The largest compiled program a pattern may produce, bounding hostile patterns.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_member_overload("find", "string_find_string", STRING, vec![STRING], find_fn)?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string",
        STRING,
        vec![STRING],
        find_all_fn,
    )?;
    env.add_member_overload(
        "findAll",
        "string_find_all_string_int",
        STRING,
        vec![STRING, INT],
        find_all_fn,
    )?;
    Ok(())
}

value_fn!(find_fn, "find", find);
value_fn!(find_all_fn, "findAll", find_all);

pub(crate) fn compile(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("invalid regular expression {pattern:?}: {e}"))
}

fn find(args: &[Value]) -> Result<Value, String> {
    let s = str_arg(args, 0)?;
    let re = compile(str_arg(args, 1)?)?;
    Ok(Value::String(Arc::new(
        re.find(s)
            .map(|m| m.as_str().to_owned())
            .unwrap_or_default(),
    )))
}

fn find_all(args: &[Value]) -> Result<Value, String> {
    let s = str_arg(args, 0)?;
    let re = compile(str_arg(args, 1)?)?;
    let limit = if args.len() > 2 {
        int_arg(args, 2)?
    } else {
        -1
    };
    if limit == 0 {
        return Ok(Value::List(Arc::new(Vec::new())));
    }
    let found = re
        .find_iter(s)
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|m| Value::String(Arc::new(m.as_str().to_owned())))
        .collect();
    Ok(Value::List(Arc::new(found)))
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{fails, is_true};

    #[test]
    fn kubernetes_regex_examples() {
        is_true("'abc 123'.find('[0-9]+') == '123'");
        is_true("'abc'.find('[0-9]+') == ''");
        is_true("'123 abc 456'.findAll('[0-9]+') == ['123', '456']");
        is_true("'123 abc 456'.findAll('[0-9]+', 1) == ['123']");
        is_true("'123 abc 456'.findAll('[0-9]+', 0) == []");
        is_true("'xyz'.findAll('[0-9]+') == []");
        is_true("'abc'.matches('^a.c$')");
        fails("'abc'.find('(')", "invalid regular expression");
        fails("'abc'.find('(a)\\\\1')", "invalid regular expression");
    }
}
