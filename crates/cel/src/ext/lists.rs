//! Kubernetes list library: `isSorted`, `sum`, `min`, `max`, `indexOf`, `lastIndexOf`.

use std::cmp::Ordering;

use cel::{DeclarationError, Env, Value};

use super::{type_name, value_fn, DYN, LIST};

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_member_overload("isSorted", "list_is_sorted", LIST, vec![], is_sorted_fn)?;
    env.add_member_overload("sum", "list_sum", LIST, vec![], sum_fn)?;
    env.add_member_overload("min", "list_min", LIST, vec![], min_fn)?;
    env.add_member_overload("max", "list_max", LIST, vec![], max_fn)?;
    env.add_member_overload("indexOf", "list_index_of", LIST, vec![DYN], index_of_fn)?;
    env.add_member_overload(
        "lastIndexOf",
        "list_last_index_of",
        LIST,
        vec![DYN],
        last_index_of_fn,
    )?;
    Ok(())
}

value_fn!(is_sorted_fn, "isSorted", is_sorted);
value_fn!(sum_fn, "sum", sum);
value_fn!(min_fn, "min", min);
value_fn!(max_fn, "max", max);
value_fn!(index_of_fn, "indexOf", index_of);
value_fn!(last_index_of_fn, "lastIndexOf", last_index_of);

fn list(args: &[Value]) -> Result<&[Value], String> {
    match args.first() {
        Some(Value::List(l)) => Ok(l.as_slice()),
        Some(other) => Err(format!("expected list, got {}", type_name(other))),
        None => Err("missing receiver".into()),
    }
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    if std::mem::discriminant(a) != std::mem::discriminant(b) {
        return Err(format!(
            "cannot compare {} and {}",
            type_name(a),
            type_name(b)
        ));
    }
    if let (Value::Opaque(x), Value::Opaque(y)) = (a, b) {
        if let (Some(x), Some(y)) = (
            x.downcast_ref::<super::Quantity>(),
            y.downcast_ref::<super::Quantity>(),
        ) {
            return Ok(x.cmp_value(y));
        }
    }
    a.partial_cmp(b)
        .ok_or_else(|| format!("{} values are not ordered", type_name(a)))
}

fn is_sorted(args: &[Value]) -> Result<Value, String> {
    let l = list(args)?;
    for w in l.windows(2) {
        if compare(&w[0], &w[1])? == Ordering::Greater {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn sum(args: &[Value]) -> Result<Value, String> {
    let l = list(args)?;
    let mut acc = match l.first() {
        None | Some(Value::Int(_)) => Value::Int(0),
        Some(Value::UInt(_)) => Value::UInt(0),
        Some(Value::Float(_)) => Value::Float(0.0),
        Some(other) => return Err(format!("cannot sum {}", type_name(other))),
    };
    for v in l {
        acc = match (&acc, v) {
            (Value::Int(a), Value::Int(b)) => {
                Value::Int(a.checked_add(*b).ok_or("integer overflow")?)
            }
            (Value::UInt(a), Value::UInt(b)) => {
                Value::UInt(a.checked_add(*b).ok_or("unsigned integer overflow")?)
            }
            (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
            (_, other) => {
                return Err(format!(
                    "cannot add {} to a sum of {}",
                    type_name(other),
                    type_name(&acc)
                ))
            }
        };
    }
    Ok(acc)
}

fn extreme(args: &[Value], want: Ordering, name: &str) -> Result<Value, String> {
    let l = list(args)?;
    let mut best = l
        .first()
        .ok_or_else(|| format!("{name} of an empty list"))?;
    for v in &l[1..] {
        if compare(v, best)? == want {
            best = v;
        }
    }
    Ok(best.clone())
}

fn min(args: &[Value]) -> Result<Value, String> {
    extreme(args, Ordering::Less, "min")
}

fn max(args: &[Value]) -> Result<Value, String> {
    extreme(args, Ordering::Greater, "max")
}

fn index_of(args: &[Value]) -> Result<Value, String> {
    let l = list(args)?;
    let needle = args.get(1).ok_or("missing argument")?;
    Ok(Value::Int(
        l.iter().position(|v| v == needle).map_or(-1, |i| i as i64),
    ))
}

fn last_index_of(args: &[Value]) -> Result<Value, String> {
    let l = list(args)?;
    let needle = args.get(1).ok_or("missing argument")?;
    Ok(Value::Int(
        l.iter().rposition(|v| v == needle).map_or(-1, |i| i as i64),
    ))
}

#[cfg(test)]
mod tests {
    use crate::ext::testing::{eval, fails, is_true};
    use cel::Value;

    #[test]
    fn kubernetes_list_examples() {
        // The examples of the Kubernetes list library documentation.
        is_true("[1, 2, 3].isSorted()");
        is_true("!['c', 'a', 'b'].isSorted()");
        is_true("[1, 2, 3].sum() == 6");
        is_true("[].sum() == 0");
        is_true("[1.5, 2.5].sum() == 4.0");
        is_true("[1, 2, 3].max() == 3");
        is_true("[3, 1, 2].min() == 1");
        is_true("['b', 'a'].min() == 'a'");
        is_true("[1, 2, 3, 2].indexOf(2) == 1");
        is_true("[1, 2, 3, 2].lastIndexOf(2) == 3");
        is_true("['a'].indexOf('z') == -1");
        is_true("[quantity('1Gi'), quantity('2M')].min() == quantity('2M')");
        assert_eq!(eval("[].max()").map_err(|e| e.contains("empty")), Err(true));
        fails("[1, 'a'].isSorted()", "cannot compare");
        fails("['a'].sum()", "cannot sum");
        fails("[9223372036854775807, 1].sum()", "overflow");
        assert_eq!(eval("[[1], [2]].indexOf([2])"), Ok(Value::Int(1)));
    }
}
