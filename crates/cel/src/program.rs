//! What Gatekeeper code blocks and ValidatingAdmissionPolicies share: composited variables
//! (`variables.NAME`, evaluated lazily, in order, each at most once per request) and
//! validation messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::objects::{Key, Map};
use cel::Value;

use crate::env::{as_bool, clip, to_val, Vals};
use crate::{CelError, Compiled, KubeCel};

/// A compiled variable definition.
#[derive(Debug, Clone)]
pub(crate) struct VarDef {
    pub(crate) name: String,
    pub(crate) compiled: Compiled,
}

/// Compiles variable definitions, checking that each refers only to variables defined
/// before it (`predefined` names are always available). `path` names the list in errors.
pub(crate) fn compile_vars(
    cel: &KubeCel,
    defs: &[(String, String)],
    predefined: &[&str],
    path: &str,
    lenient: bool,
) -> Result<Vec<VarDef>, CelError> {
    let mut out: Vec<VarDef> = Vec::new();
    for (i, (name, expr)) in defs.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if name.is_empty() {
            return Err(CelError::Invalid {
                path: format!("{at}.name"),
                message: "a variable needs a name".into(),
            });
        }
        if out.iter().any(|v| &v.name == name) || predefined.contains(&name.as_str()) {
            return Err(CelError::Invalid {
                path: format!("{at}.name"),
                message: format!("variable {name:?} is defined twice"),
            });
        }
        let compiled = if lenient {
            cel.compile_lenient(expr)
        } else {
            cel.compile(expr)
        }
        .map_err(|e| CelError::Invalid {
            path: format!("{at}.expression"),
            message: e.to_string(),
        })?;
        let known = |n: &str| predefined.contains(&n) || out.iter().any(|v| v.name == n);
        check_refs(&compiled, &known, &format!("{at}.expression"))?;
        out.push(VarDef {
            name: name.clone(),
            compiled,
        });
    }
    Ok(out)
}

/// The variables of admission expressions (ValidatingAdmissionPolicy and Gatekeeper).
pub(crate) const DECLARED: &[&str] = &[
    "object",
    "oldObject",
    "request",
    "params",
    "namespaceObject",
    "authorizer",
    "variables",
];

/// Fails when `compiled` names a variable that admission expressions do not have, or reads
/// a `variables.NAME` that `known` does not know.
pub(crate) fn check_refs(
    compiled: &Compiled,
    known: &dyn Fn(&str) -> bool,
    path: &str,
) -> Result<(), CelError> {
    compiled
        .check_declared(DECLARED)
        .map_err(|e| CelError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    if let Some(refs) = compiled.variable_refs() {
        if let Some(missing) = refs.iter().find(|r| !known(r)) {
            return Err(CelError::Invalid {
                path: path.to_owned(),
                message: format!("variables.{missing} is not defined (before this expression)"),
            });
        }
    }
    Ok(())
}

/// The variables of one evaluation: the base variables (object, request, params...),
/// converted to CEL values once, and the composited variables, computed on first use and
/// then lent to every expression that reads them.
pub(crate) struct Evaluation<'a> {
    cel: &'a KubeCel,
    base: Vals,
    /// Variables whose value is given rather than computed (Gatekeeper's `params`).
    given: Vec<(String, Given)>,
    defs: &'a [VarDef],
    cache: Vec<OnceLock<Result<Box<dyn Val>, CelError>>>,
}

/// A variable whose value is given: a value, or another name for a base variable.
pub(crate) enum Given {
    /// The value.
    Value(Box<dyn Val>),
    /// The base variable of that name (`anyObject` is `object` or `oldObject`).
    Alias(&'static str),
}

/// What one expression sees: the base variables, and `variables.NAME`, computed when the
/// interpreter first asks for it (so `false && variables.failing` does not fail), plus
/// `variables` as a map when the expression needs one.
struct ExprVars<'e, 'a> {
    ev: &'e Evaluation<'a>,
    map: Option<Box<dyn Val>>,
    /// The first variable that failed to compute while the expression ran.
    failed: Mutex<Option<CelError>>,
}

impl VariableResolver for ExprVars<'_, '_> {
    fn resolve<'b>(&'b self, name: &str) -> Option<CowVal<'b, 'b>> {
        if let Some(var) = name.strip_prefix("variables.") {
            return match self.ev.variable(var) {
                Ok(v) => v.map(CowVal::Borrowed),
                Err(e) => {
                    if let Ok(mut failed) = self.failed.lock() {
                        failed.get_or_insert(e);
                    }
                    None
                }
            };
        }
        if name == "variables" {
            return self.map.as_ref().map(|m| CowVal::Borrowed(m.as_ref()));
        }
        self.ev.base.resolve(name)
    }
}

impl<'a> Evaluation<'a> {
    pub(crate) fn new(
        cel: &'a KubeCel,
        base: Vals,
        given: Vec<(String, Given)>,
        defs: &'a [VarDef],
    ) -> Evaluation<'a> {
        Evaluation {
            cel,
            base,
            given,
            defs,
            cache: (0..defs.len()).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The value of `variables.NAME`, computed once; `Ok(None)` when there is no such
    /// variable.
    fn variable(&self, name: &str) -> Result<Option<&dyn Val>, CelError> {
        if let Some((_, given)) = self.given.iter().find(|(n, _)| n == name) {
            return Ok(match given {
                Given::Value(v) => Some(v.as_ref()),
                Given::Alias(base) => self.base.map.get(*base).map(|v| v.as_ref()),
            });
        }
        let Some(i) = self.defs.iter().position(|d| d.name == name) else {
            return Ok(None);
        };
        let def = &self.defs[i];
        let computed = self.cache[i].get_or_init(|| {
            self.with_resolver(&def.compiled, |r| {
                self.cel.evaluate_detached(&def.compiled, r)
            })
            .map_err(|e| CelError::Evaluation(format!("variables.{}: {e}", def.name)))
        });
        match computed {
            Ok(v) => Ok(Some(v.as_ref())),
            Err(e) => Err(e.clone()),
        }
    }

    /// Evaluates `compiled` with the variables it reads.
    pub(crate) fn eval(&self, compiled: &Compiled) -> Result<Value, CelError> {
        self.with_resolver(compiled, |r| self.cel.evaluate_with(compiled, r))
    }

    /// Runs `run` with the variables `compiled` may read; an error computing one of them
    /// is the error of the expression.
    fn with_resolver<T>(
        &self,
        compiled: &Compiled,
        run: impl FnOnce(&ExprVars<'_, 'a>) -> Result<T, CelError>,
    ) -> Result<T, CelError> {
        let map = if compiled.needs_variables_map() {
            let wanted = |name: &str| compiled.variable_refs().is_none_or(|r| r.contains(name));
            let names = self
                .given
                .iter()
                .map(|(n, _)| n.as_str())
                .chain(self.defs.iter().map(|d| d.name.as_str()));
            let mut m: HashMap<Key, Value> = HashMap::new();
            for name in names.filter(|n| wanted(n)) {
                if let Some(v) = self.variable(name)? {
                    let value =
                        Value::try_from(v).map_err(|e| CelError::Evaluation(e.to_string()))?;
                    m.insert(Key::String(Arc::new(name.to_owned())), value);
                }
            }
            Some(to_val(Value::Map(Map { map: Arc::new(m) }))?)
        } else {
            None
        };
        let resolver = ExprVars {
            ev: self,
            map,
            failed: Mutex::new(None),
        };
        let result = run(&resolver);
        let failed = resolver.failed.lock().ok().and_then(|mut f| f.take());
        match (result, failed) {
            (Err(_), Some(variable_error)) => Err(variable_error),
            (result, _) => result,
        }
    }

    /// Evaluates a condition or validation to a boolean.
    pub(crate) fn eval_bool(&self, compiled: &Compiled) -> Result<bool, CelError> {
        as_bool(self.eval(compiled)?)
    }

    /// The message of a failed validation, as Kubernetes builds it: `messageExpression`
    /// when it evaluates to a non-empty string (an error or another type falls back),
    /// else `message`, else `failed expression: EXPR`.
    pub(crate) fn message(
        &self,
        expression: &Compiled,
        message: Option<&str>,
        message_expression: Option<&Compiled>,
    ) -> String {
        if let Some(me) = message_expression {
            if let Ok(Value::String(s)) = self.eval(me) {
                let s = s.trim();
                if !s.is_empty() && !s.contains(['\n', '\r']) {
                    return clip(s, 5000);
                }
            }
        }
        match message {
            Some(m) if !m.is_empty() => m.to_owned(),
            _ => format!("failed expression: {}", expression.source().trim()),
        }
    }
}
