//! The Kubernetes CEL environment: the `cel` crate's standard library and strings
//! extension, plus the Kubernetes libraries this crate writes (see [`crate::ext`]), and the
//! bounds every expression must fit in.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cel::common::ast::{operators, CallExpr, SelectExpr};
use cel::common::ast::{EntryExpr, Expr};
use cel::common::value::{CowVal, Val};
use cel::context::VariableResolver;
use cel::{Context, Env, IdedExpr, Value};

/// The longest expression accepted, in bytes. Kubernetes bounds expressions by an estimated
/// cost; the `cel` crate has no cost model, so Palisade bounds the text instead.
pub const MAX_EXPRESSION_LEN: usize = 16 * 1024;

/// How deeply comprehensions (`all`, `exists`, `exists_one`, `map`, `filter`) may nest:
/// each level multiplies the work by the size of a list, so deeper nesting is refused at
/// compile time rather than risking a run that does not end.
pub const MAX_COMPREHENSION_DEPTH: usize = 4;

/// How many comprehension iterations, plus characters and elements produced by the string
/// and list functions of this crate, one expression may spend. Kubernetes meters
/// expressions by an estimated and a runtime cost; this budget is the runtime part.
pub const EVALUATION_BUDGET: u64 = 1_000_000;

/// How deeply the parser may recurse (parentheses, operators, calls).
const MAX_PARSE_DEPTH: u16 = 64;

/// How deeply operations may nest in the parsed expression (`a + b + c` is 3 levels):
/// evaluation recurses once per level, and this bound keeps it within the 2 MiB stack of
/// an ordinary thread, even in a debug build.
pub const MAX_AST_DEPTH: usize = 32;

/// The stack of the thread that parses an expression.
const PARSE_STACK: usize = 256 << 20;

/// An error compiling or evaluating CEL.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CelError {
    /// The expression does not parse.
    #[error("{expression:?} does not compile: {message}")]
    Parse {
        /// The expression text.
        expression: String,
        /// The parser's message.
        message: String,
    },
    /// The expression is longer than [`MAX_EXPRESSION_LEN`].
    #[error("expression of {len} bytes is longer than the {max} bytes allowed")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The expression nests comprehensions deeper than [`MAX_COMPREHENSION_DEPTH`], or
    /// operations deeper than [`MAX_AST_DEPTH`].
    #[error("expression nests {depth} levels of {what}; at most {max} are allowed")]
    TooComplex {
        /// What is nested.
        what: &'static str,
        /// Its nesting depth.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// The expression uses something Palisade does not evaluate (the `authorizer`).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Evaluation failed (no such key, no matching overload, division by zero...).
    #[error("{0}")]
    Evaluation(String),
    /// The expression evaluated to a value of the wrong type.
    #[error("expression must evaluate to {want}, got {got}")]
    Type {
        /// What was expected.
        want: &'static str,
        /// What it evaluated to.
        got: String,
    },
    /// A policy or code block is malformed.
    #[error("{path}: {message}")]
    Invalid {
        /// The field path (`spec.validations[0].expression`).
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// The Kubernetes CEL environment. Build it once and share it: compiling and evaluating
/// need only `&self`.
#[derive(Clone)]
pub struct KubeCel {
    env: Arc<Env>,
}

impl std::fmt::Debug for KubeCel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KubeCel")
    }
}

impl Default for KubeCel {
    fn default() -> Self {
        KubeCel::new()
    }
}

impl KubeCel {
    /// The environment: the standard library with optional syntax (`a.?b`, `orValue`), and
    /// the Kubernetes strings, lists, regex, quantity, URL, IP and CIDR libraries.
    pub fn new() -> KubeCel {
        let mut env = Env::stdlib();
        // Each registration below declares names that are not in the standard library; a
        // failure here is a programming error caught by every test.
        crate::ext::register(&mut env).expect("Kubernetes libraries register");
        KubeCel { env: Arc::new(env) }
    }

    /// Compiles one expression, checking it against the bounds of this crate.
    pub fn compile(&self, source: &str) -> Result<Compiled, CelError> {
        self.compile_as(source, false)
    }

    /// As [`KubeCel::compile`], with Gatekeeper's reading of presence tests: `has(a.b.c)`
    /// is false, rather than an error, when `a.b` is absent. CEL in Go (and so the API
    /// server) fails on the absent `a.b` (cel-go#912); the Gatekeeper library's templates
    /// are written for, and their suites expect, `false`.
    pub fn compile_lenient(&self, source: &str) -> Result<Compiled, CelError> {
        self.compile_as(source, true)
    }

    fn compile_as(&self, source: &str, lenient: bool) -> Result<Compiled, CelError> {
        if source.len() > MAX_EXPRESSION_LEN {
            return Err(CelError::TooLong {
                len: source.len(),
                max: MAX_EXPRESSION_LEN,
            });
        }
        let env = Arc::clone(&self.env);
        let text = source.to_owned();
        // The parser recurses once per nesting level; it runs on a thread with a stack
        // large enough for any expression within the length bound, whatever its shape.
        let parsed = std::thread::Builder::new()
            .name("cel-compile".into())
            .stack_size(PARSE_STACK)
            .spawn(move || -> Result<(IdedExpr, Walk), CelError> {
                let parse_error = |e: cel::ParseErrors| CelError::Parse {
                    expression: clip(text.trim(), 200),
                    message: clip(e.to_string().trim(), 600),
                };
                let mut expr = env
                    .parser()
                    .max_recursion_depth(MAX_PARSE_DEPTH)
                    .parse(&text)
                    .map_err(parse_error)?;
                let mut ids = u64::MAX / 2;
                rewrite(&mut expr, &mut ids, 0, lenient);
                let mut walk = Walk::default();
                walk.visit(&expr, 0, 0);
                if walk.max_depth > MAX_COMPREHENSION_DEPTH {
                    return Err(CelError::TooComplex {
                        what: "nested comprehensions",
                        depth: walk.max_depth,
                        max: MAX_COMPREHENSION_DEPTH,
                    });
                }
                if walk.max_ast_depth > MAX_AST_DEPTH {
                    return Err(CelError::TooComplex {
                        what: "nested operations",
                        depth: walk.max_ast_depth,
                        max: MAX_AST_DEPTH,
                    });
                }
                let mut free = BTreeSet::new();
                free_idents(&expr, &mut Vec::new(), &mut free, 0);
                walk.free = free;
                Ok((expr, walk))
            })
            .map_err(|e| CelError::Evaluation(format!("cannot start the compiler: {e}")))?
            .join()
            .map_err(|_| CelError::Parse {
                expression: clip(source.trim(), 200),
                message: "the parser failed".into(),
            })?;
        let (expr, walk) = parsed?;
        Ok(Compiled {
            expr: Arc::new(expr),
            source: source.to_owned(),
            variables: walk.variables,
            all_variables: walk.all_variables,
            variables_map: walk.variables_map,
            idents: walk.idents,
            free: walk.free,
        })
    }

    /// Evaluates a compiled expression with the variables of `scope`.
    pub fn evaluate(&self, compiled: &Compiled, scope: &Scope) -> Result<Value, CelError> {
        if compiled.idents.contains("authorizer") && !scope.vars.contains_key("authorizer") {
            return Err(CelError::Unsupported(
                "the `authorizer` variable (authorization checks need the API server)".into(),
            ));
        }
        let vals = Vals::from_scope(scope)?;
        self.evaluate_with(compiled, &vals)
    }

    /// Evaluates with variables that are already CEL values, borrowed rather than copied
    /// (the path compiled policies take: each object is converted once per request).
    pub(crate) fn evaluate_with(
        &self,
        compiled: &Compiled,
        vars: &dyn VariableResolver,
    ) -> Result<Value, CelError> {
        if compiled.idents.contains("authorizer") && vars.resolve("authorizer").is_none() {
            return Err(CelError::Unsupported(
                "the `authorizer` variable (authorization checks need the API server)".into(),
            ));
        }
        let _budget = crate::ext::BudgetGuard::enter();
        let mut ctx = Context::with_env(Arc::clone(&self.env));
        ctx.set_variable_resolver(vars);
        Value::resolve(&compiled.expr, &ctx)
            .map_err(|e| CelError::Evaluation(clip(&e.to_string(), 600)))
    }

    /// As [`KubeCel::evaluate_with`], keeping the result as the interpreter holds it (the
    /// path of composited variables, which other expressions then borrow).
    pub(crate) fn evaluate_detached(
        &self,
        compiled: &Compiled,
        vars: &dyn VariableResolver,
    ) -> Result<Box<dyn Val>, CelError> {
        if compiled.idents.contains("authorizer") && vars.resolve("authorizer").is_none() {
            return Err(CelError::Unsupported(
                "the `authorizer` variable (authorization checks need the API server)".into(),
            ));
        }
        let _budget = crate::ext::BudgetGuard::enter();
        let mut ctx = Context::with_env(Arc::clone(&self.env));
        ctx.set_variable_resolver(vars);
        let v = Value::resolve_val(&compiled.expr, &ctx)
            .map_err(|e| CelError::Evaluation(clip(&e.to_string(), 600)))?;
        detach(v.as_ref())
    }

    /// Compiles and evaluates `source` to a boolean.
    pub fn eval_bool(&self, source: &str, scope: &Scope) -> Result<bool, CelError> {
        let c = self.compile(source)?;
        as_bool(self.evaluate(&c, scope)?)
    }
}

/// `s` cut to at most `max` characters (an ellipsis marks the cut): messages quote
/// expressions, which may be long.
pub(crate) fn clip(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((i, _)) => format!("{}…", &s[..i]),
    }
}

/// The boolean a validation or condition evaluated to.
pub(crate) fn as_bool(v: Value) -> Result<bool, CelError> {
    match v {
        Value::Bool(b) => Ok(b),
        other => Err(CelError::Type {
            want: "bool",
            got: crate::ext::type_name(&other).to_owned(),
        }),
    }
}

/// A compiled expression and what it references.
#[derive(Debug, Clone)]
pub struct Compiled {
    expr: Arc<IdedExpr>,
    source: String,
    /// Names `variables.NAME` refers to.
    variables: BTreeSet<String>,
    /// Whether `variables` is used other than as `variables.NAME` (indexed or whole).
    all_variables: bool,
    /// Whether `variables` itself must be a map (`has(variables.x)`, `variables['x']`).
    variables_map: bool,
    /// Every identifier.
    idents: BTreeSet<String>,
    /// The identifiers that are neither bound by a comprehension, nor a type, nor a
    /// function namespace: the variables the expression needs from its environment.
    free: BTreeSet<String>,
}

impl Compiled {
    /// The expression text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The composited variables (`variables.NAME`) this expression reads; `None` when it
    /// may read any of them (`variables["x"]` or `variables` as a whole).
    pub fn variable_refs(&self) -> Option<&BTreeSet<String>> {
        (!self.all_variables).then_some(&self.variables)
    }

    /// Fails when the expression names a variable that is not among `declared` (an
    /// undeclared reference, such as a misspelt `objct`): the part of type checking that
    /// needs no types.
    pub fn check_declared(&self, declared: &[&str]) -> Result<(), CelError> {
        match self.free.iter().find(|n| !declared.contains(&n.as_str())) {
            None => Ok(()),
            Some(n) => Err(CelError::Parse {
                expression: clip(self.source.trim(), 200),
                message: format!(
                    "undeclared reference to {n:?} (the variables are {})",
                    declared.join(", ")
                ),
            }),
        }
    }

    /// Whether the expression needs `variables` as a map rather than only `variables.NAME`.
    pub(crate) fn needs_variables_map(&self) -> bool {
        self.variables_map
    }

    /// Whether the expression names the identifier `name` (outside field selections).
    pub fn uses_ident(&self, name: &str) -> bool {
        self.idents.contains(name)
    }
}

/// Variables as CEL values, handed to the interpreter by reference.
#[derive(Default)]
pub(crate) struct Vals {
    pub(crate) map: HashMap<String, Box<dyn Val>>,
}

impl Vals {
    /// Binds `name` to a JSON value (a Kubernetes object when `object`: null entries are
    /// left out).
    pub(crate) fn set_json(&mut self, name: &str, v: &serde_json::Value, object: bool) {
        self.map
            .insert(name.to_owned(), crate::json::json_to_val(v, object));
    }

    pub(crate) fn from_scope(scope: &Scope) -> Result<Vals, CelError> {
        let mut map = HashMap::new();
        for (name, value) in &scope.vars {
            map.insert(name.clone(), to_val(value.clone())?);
        }
        Ok(Vals { map })
    }
}

/// A value as the interpreter holds it.
pub(crate) fn to_val(v: Value) -> Result<Box<dyn Val>, CelError> {
    Box::<dyn Val>::try_from(v).map_err(|e| CelError::Evaluation(e.to_string()))
}

/// An owned copy of a value the interpreter produced, detached from what it borrowed, in
/// one pass for the common kinds (others go through [`Value`]).
pub(crate) fn detach(v: &dyn Val) -> Result<Box<dyn Val>, CelError> {
    use cel::common::types::{
        CelBool, CelDouble, CelInt, CelList, CelMap, CelNull, CelString, CelUInt, Kind,
    };
    let detached: Option<Box<dyn Val>> = match v.get_type().kind() {
        Kind::Boolean => v
            .downcast_ref::<CelBool>()
            .map(|b| Box::new(CelBool::from(*b.inner())) as Box<dyn Val>),
        Kind::Int => v
            .downcast_ref::<CelInt>()
            .map(|i| Box::new(CelInt::from(*i.inner())) as Box<dyn Val>),
        Kind::UInt => v
            .downcast_ref::<CelUInt>()
            .map(|u| Box::new(CelUInt::from(*u.inner())) as Box<dyn Val>),
        Kind::Double => v
            .downcast_ref::<CelDouble>()
            .map(|d| Box::new(CelDouble::from(*d.inner())) as Box<dyn Val>),
        Kind::String => v
            .downcast_ref::<CelString>()
            .map(|s| Box::new(CelString::from(s.inner().to_owned())) as Box<dyn Val>),
        Kind::NullType => Some(Box::new(CelNull)),
        Kind::List => match v.downcast_ref::<CelList>() {
            Some(l) => Some(Box::new(CelList::from(
                l.inner()
                    .iter()
                    .map(|x| detach(x.as_ref()))
                    .collect::<Result<Vec<_>, _>>()?,
            ))),
            None => None,
        },
        Kind::Map => match v.downcast_ref::<CelMap>() {
            Some(m) => Some(Box::new(CelMap::from(
                m.inner()
                    .iter()
                    .map(|(k, x)| Ok((k.clone().into_static(), detach(x.as_ref())?)))
                    .collect::<Result<HashMap<_, _>, CelError>>()?,
            ))),
            None => None,
        },
        _ => None,
    };
    match detached {
        Some(d) => Ok(d),
        None => to_val(Value::try_from(v).map_err(|e| CelError::Evaluation(e.to_string()))?),
    }
}

impl VariableResolver for Vals {
    fn resolve<'b>(&'b self, name: &str) -> Option<CowVal<'b, 'b>> {
        self.map.get(name).map(|v| CowVal::Borrowed(v.as_ref()))
    }
}

/// The variables an expression is evaluated with.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: HashMap<String, Value>,
}

impl Scope {
    /// An empty scope.
    pub fn new() -> Scope {
        Scope::default()
    }

    /// Binds `name` to a CEL value.
    pub fn set(&mut self, name: &str, value: Value) -> &mut Scope {
        self.vars.insert(name.to_owned(), value);
        self
    }

    /// Binds `name` to a JSON value.
    pub fn set_json(&mut self, name: &str, value: &serde_json::Value) -> &mut Scope {
        self.set(name, crate::json::to_cel(value))
    }

    /// Binds `name` to a Kubernetes object (see [`crate::object_to_cel`]).
    pub fn set_object(&mut self, name: &str, value: &serde_json::Value) -> &mut Scope {
        self.set(name, crate::json::object_to_cel(value))
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
}

/// Rewrites a parsed expression: every comprehension's range passes through the budget
/// meter; with `lenient`, each presence test on a selection is guarded by the presence
/// test of the selection it is made on (`has(a.b) && has(a.b.c)`), so that `has(a.b.c)`
/// is false when `a.b` is absent (see [`KubeCel::compile_lenient`]).
fn rewrite(e: &mut IdedExpr, ids: &mut u64, level: usize, lenient: bool) {
    if level > MAX_AST_DEPTH + 1 {
        return;
    }
    let level = level + 1;
    match &mut e.expr {
        Expr::Select(s) => rewrite(&mut s.operand, ids, level, lenient),
        Expr::Call(c) => {
            if let Some(t) = &mut c.target {
                rewrite(t, ids, level, lenient);
            }
            for a in &mut c.args {
                rewrite(a, ids, level, lenient);
            }
        }
        Expr::List(l) => {
            for x in &mut l.elements {
                rewrite(x, ids, level, lenient);
            }
        }
        Expr::Map(m) => {
            for entry in &mut m.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        rewrite(&mut me.key, ids, level, lenient);
                        rewrite(&mut me.value, ids, level, lenient);
                    }
                    EntryExpr::StructField(f) => rewrite(&mut f.value, ids, level, lenient),
                }
            }
        }
        Expr::Struct(st) => {
            for entry in &mut st.entries {
                match &mut entry.expr {
                    EntryExpr::MapEntry(me) => {
                        rewrite(&mut me.key, ids, level, lenient);
                        rewrite(&mut me.value, ids, level, lenient);
                    }
                    EntryExpr::StructField(f) => rewrite(&mut f.value, ids, level, lenient),
                }
            }
        }
        Expr::Comprehension(c) => {
            rewrite(&mut c.iter_range, ids, level, lenient);
            // every iteration is charged to the evaluation's budget
            let range = std::mem::take(&mut c.iter_range);
            c.iter_range = IdedExpr {
                id: next_id(ids),
                expr: Expr::Call(CallExpr {
                    func_name: crate::ext::METER.to_owned(),
                    target: None,
                    args: vec![range],
                }),
            };
            rewrite(&mut c.accu_init, ids, level, lenient);
            rewrite(&mut c.loop_cond, ids, level, lenient);
            rewrite(&mut c.loop_step, ids, level, lenient);
            rewrite(&mut c.result, ids, level, lenient);
        }
        Expr::Unspecified | Expr::Ident(_) | Expr::Literal(_) => {}
    }
    if !lenient {
        return;
    }
    let Expr::Select(test) = &e.expr else { return };
    if !test.test {
        return;
    }
    let Expr::Select(inner) = &test.operand.expr else {
        return;
    };
    if inner.test {
        return;
    }
    // `variables.NAME` is a composited variable, not a map entry: it is there or the
    // expression does not load, so it needs no guard (and no `variables` map)
    if matches!(&inner.operand.expr, Expr::Ident(root) if root == "variables") {
        return;
    }
    let mut guard = IdedExpr {
        id: next_id(ids),
        expr: Expr::Select(SelectExpr {
            operand: inner.operand.clone(),
            field: inner.field.clone(),
            test: true,
        }),
    };
    rewrite(&mut guard, ids, level, lenient);
    let original = std::mem::take(e);
    *e = IdedExpr {
        id: next_id(ids),
        expr: Expr::Call(CallExpr {
            func_name: operators::LOGICAL_AND.to_owned(),
            target: None,
            args: vec![guard, original],
        }),
    };
}

fn next_id(ids: &mut u64) -> u64 {
    *ids += 1;
    *ids
}

/// Type names, which resolve to type values rather than variables.
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
    "optional_type",
    "timestamp",
    "duration",
];

/// Qualifiers of function and type names (`format.dns1123Label()`, `net.IP`).
const NAMESPACES: &[&str] = &[
    "format",
    "ip",
    "strings",
    "optional",
    "math",
    "base64",
    "lists",
    "sets",
    "net",
    "kubernetes",
    "google",
];

/// Collects the identifiers the expression reads from its environment.
fn free_idents(e: &IdedExpr, bound: &mut Vec<String>, out: &mut BTreeSet<String>, level: usize) {
    if level > MAX_AST_DEPTH + 2 {
        return;
    }
    let level = level + 1;
    let is_namespace =
        |x: &IdedExpr| matches!(&x.expr, Expr::Ident(n) if NAMESPACES.contains(&n.as_str()));
    match &e.expr {
        Expr::Unspecified | Expr::Literal(_) => {}
        Expr::Ident(name) => {
            if !bound.iter().any(|b| b == name) && !TYPE_NAMES.contains(&name.as_str()) {
                out.insert(name.trim_start_matches('.').to_owned());
            }
        }
        Expr::Select(s) => {
            if !is_namespace(&s.operand) {
                free_idents(&s.operand, bound, out, level);
            }
        }
        Expr::Call(c) => {
            if let Some(t) = &c.target {
                if !is_namespace(t) {
                    free_idents(t, bound, out, level);
                }
            }
            for a in &c.args {
                free_idents(a, bound, out, level);
            }
        }
        Expr::List(l) => {
            for x in &l.elements {
                free_idents(x, bound, out, level);
            }
        }
        Expr::Map(m) => {
            for entry in &m.entries {
                match &entry.expr {
                    EntryExpr::MapEntry(me) => {
                        free_idents(&me.key, bound, out, level);
                        free_idents(&me.value, bound, out, level);
                    }
                    EntryExpr::StructField(f) => free_idents(&f.value, bound, out, level),
                }
            }
        }
        Expr::Struct(st) => {
            for entry in &st.entries {
                match &entry.expr {
                    EntryExpr::MapEntry(me) => {
                        free_idents(&me.key, bound, out, level);
                        free_idents(&me.value, bound, out, level);
                    }
                    EntryExpr::StructField(f) => free_idents(&f.value, bound, out, level),
                }
            }
        }
        Expr::Comprehension(c) => {
            free_idents(&c.iter_range, bound, out, level);
            free_idents(&c.accu_init, bound, out, level);
            let before = bound.len();
            bound.push(c.accu_var.clone());
            bound.push(c.iter_var.clone());
            if let Some(v2) = &c.iter_var2 {
                bound.push(v2.clone());
            }
            free_idents(&c.loop_cond, bound, out, level);
            free_idents(&c.loop_step, bound, out, level);
            bound.truncate(before);
            bound.push(c.accu_var.clone());
            free_idents(&c.result, bound, out, level);
            bound.truncate(before);
        }
    }
}

#[derive(Default)]
struct Walk {
    free: BTreeSet<String>,
    max_depth: usize,
    max_ast_depth: usize,
    variables_map: bool,
    variables: BTreeSet<String>,
    all_variables: bool,
    idents: BTreeSet<String>,
}

impl Walk {
    fn visit(&mut self, e: &IdedExpr, depth: usize, level: usize) {
        let level = level + 1;
        self.max_ast_depth = self.max_ast_depth.max(level);
        if level > MAX_AST_DEPTH + 1 {
            return;
        }
        match &e.expr {
            Expr::Unspecified | Expr::Literal(_) => {}
            Expr::Ident(name) => {
                if name == "variables" {
                    self.all_variables = true;
                    self.variables_map = true;
                }
                self.idents.insert(name.clone());
            }
            Expr::Select(s) => {
                if let Expr::Ident(root) = &s.operand.expr {
                    if root == "variables" {
                        self.variables.insert(s.field.clone());
                        self.idents.insert(root.clone());
                        // a presence test needs `variables` itself, as a map
                        self.variables_map |= s.test;
                        return;
                    }
                }
                self.visit(&s.operand, depth, level);
            }
            Expr::Call(c) => {
                if let Some(t) = &c.target {
                    self.visit(t, depth, level);
                }
                for a in &c.args {
                    self.visit(a, depth, level);
                }
            }
            Expr::List(l) => {
                for x in &l.elements {
                    self.visit(x, depth, level);
                }
            }
            Expr::Map(m) => {
                for entry in &m.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(me) => {
                            self.visit(&me.key, depth, level);
                            self.visit(&me.value, depth, level);
                        }
                        EntryExpr::StructField(f) => self.visit(&f.value, depth, level),
                    }
                }
            }
            Expr::Struct(s) => {
                for entry in &s.entries {
                    match &entry.expr {
                        EntryExpr::MapEntry(me) => {
                            self.visit(&me.key, depth, level);
                            self.visit(&me.value, depth, level);
                        }
                        EntryExpr::StructField(f) => self.visit(&f.value, depth, level),
                    }
                }
            }
            Expr::Comprehension(c) => {
                let inner = depth + 1;
                self.max_depth = self.max_depth.max(inner);
                self.visit(&c.iter_range, depth, level);
                self.visit(&c.accu_init, depth, level);
                self.visit(&c.loop_cond, inner, level);
                self.visit(&c.loop_step, inner, level);
                self.visit(&c.result, depth, level);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(src: &str) -> Result<Value, CelError> {
        let k = KubeCel::new();
        let c = k.compile(src)?;
        k.evaluate(&c, &Scope::new())
    }

    #[test]
    fn standard_macros_and_optionals() {
        assert_eq!(eval("[1, 2, 3].all(x, x > 0)"), Ok(Value::Bool(true)));
        assert_eq!(
            eval("[1, 2, 3].exists_one(x, x > 2)"),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            eval("[1, 2, 3].filter(x, x > 1).map(x, x * 2)"),
            Ok(vec![4i64, 6].into())
        );
        assert_eq!(
            eval("has({'a': 1}.a) && !has({'a': 1}.b)"),
            Ok(Value::Bool(true))
        );
        assert_eq!(eval("{'a': {'b': 1}}.?a.?c.orValue(7)"), Ok(Value::Int(7)));
        assert_eq!(eval("{'a': {'b': 1}}.?a.?b.orValue(7)"), Ok(Value::Int(1)));
        // a presence test on an absent parent fails, as in Go and the API server...
        assert!(eval("has({'a': {'b': 1}}.x.y.z)").is_err());
        assert_eq!(eval("has({'a': {'b': 1}}.a.b)"), Ok(Value::Bool(true)));
        assert_eq!(eval("has({'a': {'b': 1}}.a.c)"), Ok(Value::Bool(false)));
        // ...and is false in Gatekeeper's lenient reading
        let lenient = |src: &str| {
            let k = KubeCel::new();
            let c = k.compile_lenient(src)?;
            k.evaluate(&c, &Scope::new())
        };
        assert_eq!(
            lenient("has({'a': {'b': 1}}.x.y.z)"),
            Ok(Value::Bool(false))
        );
        assert_eq!(lenient("has({'a': {'b': 1}}.a.b)"), Ok(Value::Bool(true)));
        assert_eq!(
            lenient("[{'a': {}}, {}].map(x, has(x.a.b))"),
            Ok(vec![false, false].into())
        );
        assert!(
            lenient("{'a': 1}.x.y == 1").is_err(),
            "selection itself still fails"
        );
    }

    #[test]
    fn timestamps_and_durations() {
        let t = |src: &str| assert_eq!(eval(src), Ok(Value::Bool(true)), "{src}");
        t("timestamp('2024-01-01T00:00:00Z') < timestamp('2024-06-01T00:00:00Z')");
        t("duration('1h') > duration('30m')");
        t("timestamp('2024-01-01T00:00:00Z') + duration('36h') == timestamp('2024-01-02T12:00:00Z')");
        t("timestamp('2024-03-05T10:00:00Z').getFullYear() == 2024");
        t("timestamp('2024-03-05T10:00:00Z').getMonth() == 2");
        t("string(duration('90s')) == '90s'");
        assert!(eval("timestamp('yesterday')").is_err());
        assert_eq!(
            crate::from_cel(&eval("timestamp('2024-01-01T00:00:00Z')").unwrap()),
            serde_json::json!("2024-01-01T00:00:00+00:00")
        );
    }

    #[test]
    fn strings_extension() {
        assert_eq!(eval("'TacoCat'.lowerAscii()"), Ok("tacocat".into()));
        assert_eq!(eval("'TacoCat'.upperAscii()"), Ok("TACOCAT".into()));
        assert_eq!(eval("'a,b,c'.split(',').join('-')"), Ok("a-b-c".into()));
        assert_eq!(eval("'hello'.replace('l', 'L', 1)"), Ok("heLlo".into()));
        assert_eq!(eval("'tacocat'.substring(4)"), Ok("cat".into()));
        assert_eq!(eval("'  x '.trim()"), Ok("x".into()));
        assert_eq!(eval("'hello mellow'.indexOf('ll')"), Ok(Value::Int(2)));
        assert_eq!(eval("'hello mellow'.lastIndexOf('ll')"), Ok(Value::Int(8)));
        assert_eq!(eval("'abc'.charAt(1)"), Ok("b".into()));
        assert_eq!(
            eval("'%s has %d'.format(['pod', 2])"),
            Ok("pod has 2".into())
        );
    }

    #[test]
    fn bounds_refuse_pathological_expressions() {
        let long = format!("'{}' == ''", "a".repeat(MAX_EXPRESSION_LEN));
        assert!(matches!(eval(&long), Err(CelError::TooLong { .. })));
        let deep = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(matches!(eval(&deep), Err(CelError::Parse { .. })));
        let nested = "[1].all(a, [1].all(b, [1].all(c, [1].all(d, [1].all(e, true)))))";
        assert!(matches!(
            eval(nested),
            Err(CelError::TooComplex { depth: 5, .. })
        ));
        assert!(eval("[1].all(a, [1].all(b, [1].all(c, [1].all(d, true))))").is_ok());
        assert!(matches!(eval("1 +"), Err(CelError::Parse { .. })));
        // long chains of operators, unary or binary, and long selections are refused
        // rather than overflowing a stack when parsed or evaluated
        // (the parser folds repeated `!` and `-`, so those evaluate)
        assert_eq!(
            eval(&format!("{}true", "!".repeat(4000))),
            Ok(Value::Bool(true))
        );
        assert_eq!(eval(&format!("{}1", "-".repeat(4000))), Ok(Value::Int(1)));
        for chain in [
            vec!["1"; 4000].join(" + "),
            format!("{}1", "-!".repeat(2000)),
            format!("{{}}{}", ".a".repeat(4000)),
            format!("{}1{}", "[".repeat(3000), "]".repeat(3000)),
            format!("{}1{}", "size(".repeat(2000), ")".repeat(2000)),
        ] {
            assert!(
                matches!(
                    eval(&chain),
                    Err(CelError::TooComplex { .. } | CelError::Parse { .. })
                ),
                "{}",
                &chain[..20]
            );
            let message = eval(&chain).unwrap_err().to_string();
            assert!(
                message.len() < 2000,
                "messages are bounded: {}",
                message.len()
            );
        }
        // the deepest expression allowed evaluates on an ordinary thread
        let deepest = format!("{} == 2", vec!["1"; MAX_AST_DEPTH - 2].join(" * "));
        assert_eq!(eval(&deepest), Ok(Value::Bool(false)));
        assert!(matches!(eval("1 / 0"), Err(CelError::Evaluation(_))));
        // work that grows past the budget stops with an error instead of running on
        let big_list = format!("[{}]", vec!["1"; 300].join(","));
        let quartic = format!(
            "{t}.all(a, {t}.all(b, {t}.all(c, {t}.all(d, true))))",
            t = big_list
        );
        assert!(matches!(eval(&quartic), Err(CelError::Evaluation(m)) if m.contains("budget")));
        let amplify = format!("'aaaaaaaaaa'{}", ".replace('a', 'aaaaaaaaaa')".repeat(20));
        assert!(matches!(eval(&amplify), Err(CelError::Evaluation(m)) if m.contains("budget")));
        assert!(eval(&format!("{t}.all(a, {t}.all(b, true))", t = big_list)).is_ok());
        assert!(matches!(eval("nope.x"), Err(CelError::Evaluation(_))));
    }

    #[test]
    fn references_are_collected() {
        let k = KubeCel::new();
        let c = k
            .compile("variables.a + variables.b > 0 && object.x == 1")
            .unwrap();
        assert_eq!(
            c.variable_refs().unwrap().iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(c.uses_ident("object"));
        let all = k.compile("variables['a'] == 1").unwrap();
        assert!(all.variable_refs().is_none());
        let declared = ["object", "variables"];
        assert!(c.check_declared(&declared).is_ok());
        let typo = k.compile("objct.spec.replicas > 1").unwrap();
        assert!(
            matches!(typo.check_declared(&declared), Err(CelError::Parse { message, .. }) if message.contains("objct"))
        );
        // comprehension variables, types and function namespaces are not variables
        let scoped = k
            .compile(
                "object.items.all(x, x.map(y, y + 1).size() > 0) && type(object) == map \
                 && format.dns1123Label().validate('a') == optional.none() \
                 && type(ip('::1')) == net.IP && strings.quote('a') != ''",
            )
            .unwrap();
        assert!(
            scoped.check_declared(&declared).is_ok(),
            "{:?}",
            scoped.free
        );
        let leaked = k.compile("object.items.all(x, true) && x > 0").unwrap();
        assert!(leaked.check_declared(&declared).is_err());
        let authz = k.compile("authorizer.group('').resource('pods')").unwrap();
        assert!(matches!(
            k.evaluate(&authz, &Scope::new()),
            Err(CelError::Unsupported(_))
        ));
    }
}

#[cfg(test)]
mod budget_tests {
    use super::*;

    #[test]
    fn variables_spend_from_the_budget_of_the_expression_that_reads_them() {
        // each variable alone fits in the budget; the validation that reads all of them
        // does not, and must fail rather than start afresh for each variable
        let big = format!("[{}]", vec!["1"; 500].join(","));
        let vars: Vec<(String, String)> = (0..4)
            .map(|i| {
                (
                    format!("v{i}"),
                    format!("{big}.map(a, {big}.map(b, a)).size()"),
                )
            })
            .collect();
        let k = KubeCel::new();
        let defs = crate::program::compile_vars(&k, &vars, &[], "spec.variables", false).unwrap();
        let ev = crate::program::Evaluation::new(&k, Vals::default(), Vec::new(), &defs);
        let one = k.compile("variables.v0 > 0").unwrap();
        assert!(ev.eval(&one).is_ok());
        let ev = crate::program::Evaluation::new(&k, Vals::default(), Vec::new(), &defs);
        let all = k
            .compile("variables.v0 + variables.v1 + variables.v2 + variables.v3 > 0")
            .unwrap();
        assert!(matches!(ev.eval(&all), Err(CelError::Evaluation(m)) if m.contains("budget")));
    }
}

#[cfg(test)]
mod detach_tests {
    use super::*;

    #[test]
    fn detached_values_equal_the_values_they_copy() {
        let k = KubeCel::new();
        for src in [
            "[1, 'a', 2.5, true, null, {'k': [1u, b'x']}]",
            "{'a': {'b': ['c']}, 1: 2, true: false}",
            "quantity('1Gi')",
            "optional.of(1)",
            "ip('::1')",
            "type(1)",
            "'plain'",
        ] {
            let c = k.compile(src).unwrap();
            let vals = Vals::default();
            let direct = k.evaluate_with(&c, &vals).unwrap();
            let detached = k.evaluate_detached(&c, &vals).unwrap();
            assert_eq!(Value::try_from(detached.as_ref()).unwrap(), direct, "{src}");
        }
    }
}
