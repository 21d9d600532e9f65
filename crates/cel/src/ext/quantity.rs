//! Kubernetes quantity library: `quantity()`, `isQuantity()`, and on a quantity `sign`,
//! `isInteger`, `asInteger`, `asApproximateFloat`, `add`, `sub`, `compareTo`,
//! `isLessThan`, `isGreaterThan`; `==` compares values (`1Gi == 1024Mi`).
//!
//! A quantity is kept exactly as `num × 10^scale` (binary suffixes are multiplied out),
//! normalised so that equal values are equal structs.

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use cel::common::types::Type;
use cel::objects::Opaque;
use cel::{DeclarationError, Env, Value};

use super::{opaque_arg, str_arg, value_fn, INT, STRING};

/// The CEL type name of quantities.
pub(crate) const TYPE_NAME: &str = "kubernetes.Quantity";

/// The most significant digits a quantity may have (the API server keeps far fewer).
const MAX_DIGITS: usize = 36;
/// The largest decimal exponent accepted.
const MAX_SCALE: i64 = 1000;

/// An exact Kubernetes quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quantity {
    num: i128,
    scale: i32,
}

impl Opaque for Quantity {
    fn runtime_type_name(&self) -> &str {
        TYPE_NAME
    }
}

fn qtype() -> Type {
    Type::new_opaque_type(TYPE_NAME)
}

impl Quantity {
    fn new(mut num: i128, mut scale: i32) -> Quantity {
        if num == 0 {
            return Quantity { num: 0, scale: 0 };
        }
        while num % 10 == 0 {
            num /= 10;
            scale += 1;
        }
        Quantity { num, scale }
    }

    /// Parses the Kubernetes quantity syntax: an optionally signed decimal number, then a
    /// binary suffix (`Ki`..`Ei`), a decimal suffix (`n`, `u`, `m`, ``, `k`, `M`..`E`) or
    /// a decimal exponent (`e3`, `E-2`).
    pub(crate) fn parse(s: &str) -> Result<Quantity, String> {
        let err = || format!("{s:?} is not a valid quantity");
        let (neg, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty()) || frac_part.contains('.') {
            return Err(err());
        }
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > MAX_DIGITS {
            return Err(format!("{s:?} has more digits than a quantity may have"));
        }
        let mut num: i128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| err())?
        };
        let mut scale: i64 = -(frac_part.len() as i64);
        let binary = |n: i128, power: u32| -> Result<i128, String> {
            n.checked_mul(1i128 << (10 * power))
                .ok_or_else(|| format!("{s:?} is too large"))
        };
        match suffix {
            "" => {}
            "Ki" => num = binary(num, 1)?,
            "Mi" => num = binary(num, 2)?,
            "Gi" => num = binary(num, 3)?,
            "Ti" => num = binary(num, 4)?,
            "Pi" => num = binary(num, 5)?,
            "Ei" => num = binary(num, 6)?,
            "n" => scale -= 9,
            "u" => scale -= 6,
            "m" => scale -= 3,
            "k" => scale += 3,
            "M" => scale += 6,
            "G" => scale += 9,
            "T" => scale += 12,
            "P" => scale += 15,
            "E" => scale += 18,
            _ => {
                let exp = suffix
                    .strip_prefix('e')
                    .or_else(|| suffix.strip_prefix('E'))
                    .ok_or_else(err)?;
                let valid = {
                    let d = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && d.len() <= 6
                };
                if !valid {
                    return Err(err());
                }
                scale += exp.parse::<i64>().map_err(|_| err())?;
            }
        }
        if scale.abs() > MAX_SCALE {
            return Err(format!("{s:?} is out of range"));
        }
        if neg {
            num = -num;
        }
        Ok(Quantity::new(num, scale as i32))
    }

    fn digits(&self) -> i64 {
        let mut n = self.num.unsigned_abs();
        let mut d = 0;
        while n > 0 {
            n /= 10;
            d += 1;
        }
        d
    }

    /// Orders two quantities by value.
    pub(crate) fn cmp_value(&self, other: &Quantity) -> Ordering {
        let sign = self.num.signum().cmp(&other.num.signum());
        if sign != Ordering::Equal || self.num == 0 {
            return sign;
        }
        // Same sign, both non-zero: compare magnitudes, then flip for negatives.
        let mag = (self.digits() + self.scale as i64).cmp(&(other.digits() + other.scale as i64));
        let abs = if mag != Ordering::Equal {
            mag
        } else {
            // Same order of magnitude: the scales differ by fewer digits than either has.
            // (a widened that overflows is larger than any u128)
            let (a, b) = (self.num.unsigned_abs(), other.num.unsigned_abs());
            let widen = |x: u128, by: i32| {
                u32::try_from(by)
                    .ok()
                    .and_then(|by| 10u128.checked_pow(by))
                    .and_then(|p| x.checked_mul(p))
            };
            match self.scale.cmp(&other.scale) {
                Ordering::Equal => a.cmp(&b),
                Ordering::Greater => {
                    widen(a, self.scale - other.scale).map_or(Ordering::Greater, |w| w.cmp(&b))
                }
                Ordering::Less => {
                    widen(b, other.scale - self.scale).map_or(Ordering::Less, |w| a.cmp(&w))
                }
            }
        };
        if self.num < 0 {
            abs.reverse()
        } else {
            abs
        }
    }

    /// The value as an `i64`, when it is an integer that fits.
    fn as_i64(&self) -> Option<i64> {
        if self.scale < 0 {
            return None;
        }
        let mut n = self.num;
        for _ in 0..self.scale {
            n = n.checked_mul(10)?;
        }
        i64::try_from(n).ok()
    }

    fn as_f64(&self) -> f64 {
        self.num as f64 * 10f64.powi(self.scale)
    }

    fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        let scale = self.scale.min(other.scale);
        let widen = |q: &Quantity| -> Option<i128> {
            let diff = u32::try_from(q.scale - scale).ok()?;
            q.num.checked_mul(10i128.checked_pow(diff)?)
        };
        Some(Quantity::new(
            widen(self)?.checked_add(widen(other)?)?,
            scale,
        ))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale >= 0 && self.scale <= 18 {
            write!(f, "{}{}", self.num, "0".repeat(self.scale as usize))
        } else if self.scale < 0 && self.scale >= -18 {
            let digits = self.num.unsigned_abs().to_string();
            let point = -self.scale as usize;
            let padded = format!("{digits:0>width$}", width = point + 1);
            let (i, frac) = padded.split_at(padded.len() - point);
            let sign = if self.num < 0 { "-" } else { "" };
            write!(f, "{sign}{i}.{frac}")
        } else {
            write!(f, "{}e{}", self.num, self.scale)
        }
    }
}

fn wrap(q: Quantity) -> Value {
    Value::Opaque(Arc::new(q))
}

fn this(args: &[Value]) -> Result<Quantity, String> {
    opaque_arg::<Quantity>(args, 0, "quantity")
}

fn operand(args: &[Value]) -> Result<Quantity, String> {
    match args.get(1) {
        Some(Value::Int(i)) => Ok(Quantity::new(*i as i128, 0)),
        _ => opaque_arg::<Quantity>(args, 1, "quantity"),
    }
}

fn quantity(args: &[Value]) -> Result<Value, String> {
    Quantity::parse(str_arg(args, 0)?).map(wrap)
}

fn is_quantity(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(Quantity::parse(str_arg(args, 0)?).is_ok()))
}

fn sign(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(this(args)?.num.signum() as i64))
}

fn is_integer(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(this(args)?.as_i64().is_some()))
}

fn as_integer(args: &[Value]) -> Result<Value, String> {
    let q = this(args)?;
    q.as_i64()
        .map(Value::Int)
        .ok_or_else(|| format!("{q} is not an integer that fits in int"))
}

fn as_approximate_float(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Float(this(args)?.as_f64()))
}

fn add(args: &[Value]) -> Result<Value, String> {
    this(args)?
        .checked_add(&operand(args)?)
        .map(wrap)
        .ok_or_else(|| "quantity overflow".into())
}

fn sub(args: &[Value]) -> Result<Value, String> {
    let o = operand(args)?;
    let negated = o.num.checked_neg().ok_or("quantity overflow")?;
    this(args)?
        .checked_add(&Quantity::new(negated, o.scale))
        .map(wrap)
        .ok_or_else(|| "quantity overflow".into())
}

fn compare_to(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Int(match this(args)?.cmp_value(&operand(args)?) {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }))
}

fn is_less_than(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(
        this(args)?.cmp_value(&operand(args)?) == Ordering::Less,
    ))
}

fn is_greater_than(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(
        this(args)?.cmp_value(&operand(args)?) == Ordering::Greater,
    ))
}

value_fn!(quantity_fn, "quantity", quantity);
value_fn!(is_quantity_fn, "isQuantity", is_quantity);
value_fn!(sign_fn, "sign", sign);
value_fn!(is_integer_fn, "isInteger", is_integer);
value_fn!(as_integer_fn, "asInteger", as_integer);
value_fn!(
    as_approximate_float_fn,
    "asApproximateFloat",
    as_approximate_float
);
value_fn!(add_fn, "add", add);
value_fn!(sub_fn, "sub", sub);
value_fn!(compare_to_fn, "compareTo", compare_to);
value_fn!(is_less_than_fn, "isLessThan", is_less_than);
value_fn!(is_greater_than_fn, "isGreaterThan", is_greater_than);

pub(super) fn register(env: &mut Env) -> Result<(), DeclarationError> {
    let q = qtype;
    env.add_type(q())?;
    env.add_overload("quantity", "string_to_quantity", vec![STRING], quantity_fn)?;
    env.add_overload(
        "isQuantity",
        "is_quantity_string",
        vec![STRING],
        is_quantity_fn,
    )?;
    env.add_member_overload("sign", "quantity_sign", q(), vec![], sign_fn)?;
    env.add_member_overload(
        "isInteger",
        "quantity_is_integer",
        q(),
        vec![],
        is_integer_fn,
    )?;
    env.add_member_overload(
        "asInteger",
        "quantity_as_integer",
        q(),
        vec![],
        as_integer_fn,
    )?;
    env.add_member_overload(
        "asApproximateFloat",
        "quantity_as_float",
        q(),
        vec![],
        as_approximate_float_fn,
    )?;
    for (name, f) in [
        ("add", add_fn as cel::common::functions::Function),
        ("sub", sub_fn),
        ("compareTo", compare_to_fn),
        ("isLessThan", is_less_than_fn),
        ("isGreaterThan", is_greater_than_fn),
    ] {
        env.add_member_overload(
            name,
            &format!("quantity_{name}_quantity"),
            q(),
            vec![q()],
            f,
        )?;
        if matches!(name, "add" | "sub") {
            env.add_member_overload(name, &format!("quantity_{name}_int"), q(), vec![INT], f)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Quantity;
    use crate::ext::testing::{fails, is_true};
    use std::cmp::Ordering;

    #[test]
    fn parses_the_kubernetes_syntax() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert_eq!(q("1Gi"), q("1024Mi"));
        assert_eq!(q("1k"), q("1000"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("500m"), q("0.5"));
        assert_eq!(q(".5"), q("0.5"));
        assert_eq!(q("5."), q("5"));
        assert_eq!(q("+2"), q("2"));
        assert_eq!(q("1.5E-3"), q("1500u"));
        assert_eq!(q("100n"), q("0.0000001"));
        for bad in [
            "", "Gi", "1.2.3", "1 Gi", "1gi", "1e", "1e+", "--1", "1Gib", "0x10", ".",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Quantity::parse(&"9".repeat(40)).is_err());
        assert!(Quantity::parse("1e99999").is_err());
        assert_eq!(q("1Gi").to_string(), "1073741824");
        assert_eq!(q("250m").to_string(), "0.25");
        assert_eq!(q("-1.5").to_string(), "-1.5");
    }

    #[test]
    fn orders_by_value() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        assert_eq!(q("1Gi").cmp_value(&q("1G")), Ordering::Greater);
        assert_eq!(q("999m").cmp_value(&q("1")), Ordering::Less);
        assert_eq!(q("-2").cmp_value(&q("-1")), Ordering::Less);
        assert_eq!(q("-1").cmp_value(&q("0")), Ordering::Less);
        assert_eq!(q("1.0").cmp_value(&q("1000m")), Ordering::Equal);
        assert_eq!(q("1E").cmp_value(&q("1n")), Ordering::Greater);
        assert_eq!(q("11").cmp_value(&q("1.2e1")), Ordering::Less);
        // values near the top of the range compare without overflowing
        let huge = q("147573952589676412927Ei");
        assert_eq!(q("9e38").cmp_value(&huge), Ordering::Greater);
        assert_eq!(huge.cmp_value(&q("9e38")), Ordering::Less);
        assert_eq!(
            q("-9e38").cmp_value(&Quantity::new(-huge.num, huge.scale)),
            Ordering::Less
        );
        assert_eq!(huge.cmp_value(&huge), Ordering::Equal);
    }

    #[test]
    fn kubernetes_quantity_examples() {
        // The examples of the Kubernetes quantity library documentation.
        is_true("quantity('50M') == quantity('0.05G')");
        is_true("isQuantity('1.3G')");
        is_true("!isQuantity('1.3Gi ')");
        is_true("quantity('1.5G').isInteger()");
        is_true("!quantity('1.5').isInteger()");
        is_true("quantity('50k').asInteger() == 50000");
        is_true("quantity('50k').asApproximateFloat() == 50000.0");
        is_true("quantity('50k').sign() == 1");
        is_true("quantity('-1').sign() == -1");
        is_true("quantity('0').sign() == 0");
        is_true("quantity('200M').compareTo(quantity('0.2G')) == 0");
        is_true("quantity('50M').compareTo(quantity('50Mi')) == -1");
        is_true("quantity('50Mi').compareTo(quantity('50M')) == 1");
        is_true("quantity('50M').isLessThan(quantity('100M'))");
        is_true("quantity('100M').isGreaterThan(quantity('50M'))");
        is_true("quantity('50k').add(20) == quantity('50020')");
        is_true("quantity('50k').add(quantity('20k')) == quantity('70k')");
        is_true("quantity('50k').sub(20) == quantity('49980')");
        is_true("quantity('50k').sub(quantity('20k')) == quantity('30k')");
        is_true("quantity('1Gi') == quantity('1024Mi')");
        is_true("quantity('1Gi') != quantity('1G')");
        is_true("type(quantity('1')) == kubernetes.Quantity");
        fails("quantity('1.5').asInteger()", "not an integer");
        fails("quantity('one')", "not a valid quantity");
        fails("quantity('10Ei').asInteger()", "not an integer");
        fails(
            "quantity('147573952589676412927Ei').add(quantity('147573952589676412927Ei'))",
            "overflow",
        );
        is_true("quantity('147573952589676412927Ei').isGreaterThan(quantity('9e37'))");
    }
}
