//! What Gatekeeper code blocks and ValidatingAdmissionPolicies share: composited variables
//! (`variables.NAME`, evaluated lazily, in order, each at most once per request) and
//! validation messages.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::Value;

use crate::env::{as_bool, clip};
use crate::{CelError, Compiled, KubeCel, Scope};

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
        let compiled = cel.compile(expr).map_err(|e| CelError::Invalid {
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

/// Fails when `compiled` reads a `variables.NAME` that `known` does not know.
pub(crate) fn check_refs(
    compiled: &Compiled,
    known: &dyn Fn(&str) -> bool,
    path: &str,
) -> Result<(), CelError> {
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

/// The variables of one evaluation: the base scope (object, request, params...) and the
/// composited variables, computed on first use.
pub(crate) struct Evaluation<'a> {
    cel: &'a KubeCel,
    base: Scope,
    /// Variables whose value is given rather than computed (Gatekeeper's `params`).
    given: Vec<(String, Value)>,
    defs: &'a [VarDef],
    cache: RefCell<Vec<Option<Result<Value, CelError>>>>,
}

impl<'a> Evaluation<'a> {
    pub(crate) fn new(
        cel: &'a KubeCel,
        base: Scope,
        given: Vec<(String, Value)>,
        defs: &'a [VarDef],
    ) -> Evaluation<'a> {
        Evaluation {
            cel,
            base,
            given,
            defs,
            cache: RefCell::new(vec![None; defs.len()]),
        }
    }

    fn ensure(&self, i: usize) -> Result<Value, CelError> {
        if let Some(done) = &self.cache.borrow()[i] {
            return done.clone();
        }
        let def = &self.defs[i];
        let result = self
            .eval(&def.compiled)
            .map_err(|e| CelError::Evaluation(format!("variables.{}: {e}", def.name)));
        self.cache.borrow_mut()[i] = Some(result.clone());
        result
    }

    /// Evaluates `compiled` with the variables it reads.
    pub(crate) fn eval(&self, compiled: &Compiled) -> Result<Value, CelError> {
        let mut scope = self.base.clone();
        let wanted = |name: &str| compiled.variable_refs().is_none_or(|r| r.contains(name));
        if compiled.uses_ident("variables") {
            let mut map: HashMap<Key, Value> = HashMap::new();
            for (name, value) in &self.given {
                if wanted(name) {
                    map.insert(Key::String(Arc::new(name.clone())), value.clone());
                }
            }
            for (i, def) in self.defs.iter().enumerate() {
                if wanted(&def.name) {
                    let v = self.ensure(i)?;
                    map.insert(Key::String(Arc::new(def.name.clone())), v);
                }
            }
            scope.set("variables", Value::Map(Map { map: Arc::new(map) }));
        }
        self.cel.evaluate(compiled, &scope)
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
