//! The Kubernetes CEL libraries the `cel` crate lacks, written as small functions over
//! [`cel::Value`]s: lists, regex, quantity, URL, IP and CIDR.
//!
//! Each library function is a plain Rust function from argument values to a result value
//! (or a message); [`value_fn!`] turns it into an overload the environment can call.

mod format;
mod lists;
mod net;
mod quantity;
mod regex;
mod semver;
mod strings;
pub(crate) mod url;

use std::cell::Cell;

use cel::common::types::{Type, DYN_TYPE, INT_TYPE, LIST_TYPE, STRING_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError, Value};

pub(crate) use quantity::Quantity;

/// A library function: argument values in, a value or a message out.
pub(crate) type LibFn = fn(&[Value]) -> Result<Value, String>;

/// Calls `f` with the arguments converted to [`Value`]s.
pub(crate) fn call<'b, 'v>(
    name: &str,
    args: Vec<CowVal<'b, 'v>>,
    f: LibFn,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let values = args
        .iter()
        .map(|a| Value::try_from(a.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let out = f(&values).map_err(|m| ExecutionError::function_error(name, m))?;
    let boxed: Box<dyn Val> = out.try_into()?;
    Ok(CowVal::Owned(boxed))
}

/// Declares `fn $wrapper` calling the library function `$f` under the CEL name `$name`.
macro_rules! value_fn {
    ($wrapper:ident, $name:expr, $f:path) => {
        fn $wrapper<'b, 'v>(
            args: Vec<cel::common::value::CowVal<'b, 'v>>,
        ) -> Result<cel::common::value::CowVal<'b, 'v>, cel::ExecutionError> {
            crate::ext::call($name, args, $f)
        }
    };
}
pub(crate) use value_fn;

/// Shorthands for the argument types of overloads.
pub(crate) const STRING: Type = STRING_TYPE;
pub(crate) const INT: Type = INT_TYPE;
pub(crate) const LIST: Type = LIST_TYPE;
pub(crate) const DYN: Type = DYN_TYPE;

/// The function every comprehension's range is passed through at compile time, so that
/// each iteration is charged to the budget.
pub(crate) const METER: &str = "__palisade_meter";

thread_local! {
    static SPENT: Cell<u64> = const { Cell::new(0) };
    static DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// The budget of one top-level evaluation (evaluation is synchronous, on one thread): the
/// outermost guard starts it afresh, and variables computed while an expression runs
/// spend from the same budget.
pub(crate) struct BudgetGuard;

impl BudgetGuard {
    pub(crate) fn enter() -> BudgetGuard {
        DEPTH.with(|d| {
            if d.get() == 0 {
                SPENT.with(|s| s.set(0));
            }
            d.set(d.get() + 1);
        });
        BudgetGuard
    }
}

impl Drop for BudgetGuard {
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
    }
}

/// Charges `units` (iterations, characters or elements) to the current evaluation.
pub(crate) fn charge(units: u64) -> Result<(), String> {
    SPENT.with(|s| {
        let spent = s.get().saturating_add(units);
        s.set(spent);
        if spent > crate::env::EVALUATION_BUDGET {
            Err(format!(
                "evaluation budget of {} exceeded (comprehension iterations and produced \
                 characters or elements)",
                crate::env::EVALUATION_BUDGET
            ))
        } else {
            Ok(())
        }
    })
}

/// Charges the size of a comprehension's range and passes it through unchanged.
fn meter<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let range = args
        .pop()
        .ok_or_else(ExecutionError::missing_argument_or_target)?;
    let size = range
        .as_sizer()
        .map_or(1, |s| u64::try_from(*s.size().inner()).unwrap_or(0));
    charge(size).map_err(|m| ExecutionError::function_error("comprehension", m))?;
    Ok(range)
}

/// Registers every library of this module.
pub(crate) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(METER, "palisade_meter", vec![DYN], meter)?;
    strings::register(env)?;
    format::register(env)?;
    semver::register(env)?;
    lists::register(env)?;
    regex::register(env)?;
    quantity::register(env)?;
    url::register(env)?;
    net::register(env)?;
    Ok(())
}

/// The CEL type name of a value, for messages.
pub(crate) fn type_name(v: &Value) -> &str {
    match v {
        Value::List(_) => "list",
        Value::Map(_) => "map",
        Value::Function(..) => "function",
        Value::Int(_) => "int",
        Value::UInt(_) => "uint",
        Value::Float(_) => "double",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Bool(_) => "bool",
        Value::Opaque(o) => o.runtime_type_name(),
        Value::Struct(_) => "struct",
        Value::Null => "null_type",
        Value::Duration(_) => "google.protobuf.Duration",
        Value::Timestamp(_) => "google.protobuf.Timestamp",
    }
}

/// A value as text, the way `string()` renders scalars; library values render as their
/// Kubernetes string form.
pub(crate) fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".into(),
        Value::Timestamp(t) => t.to_rfc3339(),
        Value::Duration(d) => {
            let nanos = d.subsec_nanos();
            if nanos == 0 {
                format!("{}s", d.num_seconds())
            } else {
                format!("{}.{:09}s", d.num_seconds(), nanos.unsigned_abs())
                    .trim_end_matches('0')
                    .to_owned()
            }
        }
        Value::Opaque(o) => {
            if let Some(q) = o.downcast_ref::<Quantity>() {
                q.to_string()
            } else if let Some(s) = net::display(o.as_ref()) {
                s
            } else if let Some(u) = o.downcast_ref::<url::Url>() {
                u.to_string()
            } else {
                format!("{:?}", o.as_debug())
            }
        }
        other => format!("{other:?}"),
    }
}

/// The string argument at `i`.
pub(crate) fn str_arg(args: &[Value], i: usize) -> Result<&str, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(other) => Err(format!("expected string, got {}", type_name(other))),
        None => Err("missing argument".into()),
    }
}

/// The int argument at `i`.
pub(crate) fn int_arg(args: &[Value], i: usize) -> Result<i64, String> {
    match args.get(i) {
        Some(Value::Int(n)) => Ok(*n),
        Some(other) => Err(format!("expected int, got {}", type_name(other))),
        None => Err("missing argument".into()),
    }
}

/// The opaque library value of type `T` at `i`.
pub(crate) fn opaque_arg<T: Clone + 'static>(
    args: &[Value],
    i: usize,
    what: &str,
) -> Result<T, String> {
    match args.get(i) {
        Some(Value::Opaque(o)) => o
            .downcast_ref::<T>()
            .cloned()
            .ok_or_else(|| format!("expected {what}, got {}", o.runtime_type_name())),
        Some(other) => Err(format!("expected {what}, got {}", type_name(other))),
        None => Err("missing argument".into()),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use crate::{KubeCel, Scope};
    use cel::Value;

    /// Evaluates `src` in the Kubernetes environment with no variables.
    pub(crate) fn eval(src: &str) -> Result<Value, String> {
        let k = KubeCel::new();
        let c = k.compile(src).map_err(|e| e.to_string())?;
        k.evaluate(&c, &Scope::new()).map_err(|e| e.to_string())
    }

    /// Asserts `src` evaluates to `true`.
    #[track_caller]
    pub(crate) fn is_true(src: &str) {
        assert_eq!(eval(src), Ok(Value::Bool(true)), "{src}");
    }

    /// Asserts `src` fails to evaluate, with `needle` in the message.
    #[track_caller]
    pub(crate) fn fails(src: &str, needle: &str) {
        match eval(src) {
            Err(e) => assert!(e.contains(needle), "{src}: {e}"),
            Ok(v) => panic!("{src}: expected an error, got {v:?}"),
        }
    }
}
