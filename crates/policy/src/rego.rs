//! The Rego engine of a ConstraintTemplate: compiled once with its libraries, evaluated per
//! object with Gatekeeper's input document.

use crate::Violation;
use regorus::Value as RegoValue;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The longest one evaluation may run: a template that loops for longer is reported as an
/// evaluation error, not left to hang a scan or an admission request.
const EVAL_TIME_LIMIT: Duration = Duration::from_secs(2);

/// Which Rego syntax a template's source is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegoVersion {
    /// Rego v0 (`violation[...] { ... }`), Gatekeeper's default.
    V0,
    /// Rego v1 (`violation contains ... if { ... }`): `source.version: "v1"` in a `code` block.
    V1,
}

/// A compiled Rego template: the main module and its libraries, ready to evaluate.
pub struct RegoProgram {
    /// The template's source, for `palisade explain`.
    pub source: String,
    /// Its libraries.
    pub libs: Vec<String>,
    /// The syntax version.
    pub version: RegoVersion,
    /// The main module's package (`k8spspprivileged`).
    pub package: String,
    /// The rule evaluated: `data.<package>.violation`.
    rule: String,
    /// True when the source reads `data.inventory` (referential templates).
    pub uses_inventory: bool,
    /// A compiled engine to clone from.
    prototype: regorus::Engine,
    /// Engines ready for reuse, each with the inventory it holds (by identity).
    pool: Mutex<Vec<(regorus::Engine, u64)>>,
}

impl std::fmt::Debug for RegoProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoProgram")
            .field("package", &self.package)
            .field("version", &self.version)
            .field("uses_inventory", &self.uses_inventory)
            .finish_non_exhaustive()
    }
}

/// The data document a referential template reads (`data.inventory`), shared by every
/// evaluation of one scan. Each document has its own id: a pooled engine is reused only with
/// the document it holds (an address could be reused by a later document; an id is not).
#[derive(Clone, Debug)]
pub struct RegoData(pub(crate) Arc<RegoValue>, u64);

fn next_data_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl RegoData {
    /// The data document with an empty inventory.
    pub fn empty() -> RegoData {
        static EMPTY: std::sync::OnceLock<RegoData> = std::sync::OnceLock::new();
        EMPTY
            .get_or_init(|| {
                let v = serde_json::json!({"inventory": {"cluster": {}, "namespace": {}}});
                RegoData(Arc::new(RegoValue::from(v)), next_data_id())
            })
            .clone()
    }

    /// A data document from a JSON value (`{"inventory": ...}`).
    pub fn from_json(v: serde_json::Value) -> RegoData {
        RegoData(Arc::new(RegoValue::from(v)), next_data_id())
    }

    fn id(&self) -> u64 {
        self.1
    }
}

/// The deepest nesting of brackets (`{`, `[`, `(`) a template's Rego may have. The Rego
/// parser's time doubles or more with each level (20 levels take seconds, 80 would take
/// years); the gatekeeper-library's templates nest 6 deep at most.
pub const MAX_REGO_NESTING: usize = 10;

/// Where a Rego source first nests brackets deeper than [`MAX_REGO_NESTING`], as
/// `LINE:COLUMN: reason`, skipping strings, raw strings and comments.
fn too_deep(source: &str) -> Option<String> {
    let (mut depth, mut line, mut col) = (0usize, 1usize, 0usize);
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        col += 1;
        match c {
            '\n' => (line, col) = (line + 1, 0),
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        (line, col) = (line + 1, 0);
                        break;
                    }
                }
            }
            '"' | '`' => {
                let mut escaped = false;
                for q in chars.by_ref() {
                    col += 1;
                    if q == '\n' {
                        (line, col) = (line + 1, 0);
                    }
                    if c == '"' && q == '\\' && !escaped {
                        escaped = true;
                        continue;
                    }
                    if q == c && !escaped {
                        break;
                    }
                    escaped = false;
                }
            }
            '{' | '[' | '(' => {
                depth += 1;
                if depth > MAX_REGO_NESTING {
                    return Some(format!(
                        "{line}:{col}: brackets nested more than {MAX_REGO_NESTING} deep \
                         (the Rego parser's time grows exponentially with nesting)"
                    ));
                }
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

fn new_engine(version: RegoVersion) -> regorus::Engine {
    let mut e = regorus::Engine::new();
    e.set_rego_v0(version == RegoVersion::V0);
    // OPA (and so Gatekeeper) treats a builtin error as undefined, not as a failure.
    e.set_strict_builtin_errors(false);
    e.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
        limit: EVAL_TIME_LIMIT,
        check_interval: std::num::NonZeroU32::new(1000).unwrap_or(std::num::NonZeroU32::MIN),
    });
    e
}

impl RegoProgram {
    /// Compiles a template's Rego and its libraries. The error is the compiler's message.
    pub fn compile(
        source: &str,
        libs: &[String],
        version: RegoVersion,
    ) -> Result<RegoProgram, String> {
        // Hostile or unusual Rego must be a load error, never the end of the process.
        std::panic::catch_unwind(|| Self::compile_inner(source, libs, version))
            .unwrap_or_else(|_| Err("the Rego compiler failed on this source".to_owned()))
    }

    fn compile_inner(
        source: &str,
        libs: &[String],
        version: RegoVersion,
    ) -> Result<RegoProgram, String> {
        // The Rego parser's time grows exponentially with the nesting of brackets: refuse
        // deep nesting before it is parsed.
        if let Some(at) = too_deep(source) {
            return Err(format!("template.rego:{at}"));
        }
        for (i, lib) in libs.iter().enumerate() {
            if let Some(at) = too_deep(lib) {
                return Err(format!("in libs[{i}]: libs[{i}].rego:{at}"));
            }
        }
        let mut engine = new_engine(version);
        let package = engine
            .add_policy("template.rego".to_owned(), normalize(source))
            .map_err(|e| format!("{e}"))?;
        for (i, lib) in libs.iter().enumerate() {
            engine
                .add_policy(format!("libs[{i}].rego"), normalize(lib))
                .map_err(|e| format!("in libs[{i}]: {e}"))?;
        }
        let package = package.strip_prefix("data.").unwrap_or(&package).to_owned();
        let mut all = vec![source];
        all.extend(libs.iter().map(String::as_str));
        if let Some(f) = unknown_function(&all) {
            return Err(format!("unknown function `{f}` (neither a builtin nor defined in the template or its libs)"));
        }
        let rule = format!("data.{package}.violation");
        if !engine
            .has_declared_rule_rooted_at("template.rego", "violation")
            .unwrap_or(true)
        {
            return Err(format!(
                "the template's Rego has no `violation` rule (package {package})"
            ));
        }
        // Evaluating once with an empty input finds what the parser leaves to the compiler
        // (unknown functions, unsafe variables) now, not on the first object.
        let mut probe = engine.clone();
        probe.set_input(RegoValue::from(
            serde_json::json!({"review": {}, "parameters": {}}),
        ));
        if let Err(e) = probe.add_data(RegoData::empty().0.as_ref().clone()) {
            return Err(format!("{e}"));
        }
        if let Err(e) = probe.compile_with_entrypoint(&rule.as_str().into()) {
            return Err(format!("{e}"));
        }
        if let Err(e) = probe.eval_rule(rule.clone()) {
            let text = format!("{e}");
            if is_compile_error(&text) {
                return Err(text);
            }
        }
        let uses_inventory =
            source.contains("data.inventory") || libs.iter().any(|l| l.contains("data.inventory"));
        Ok(RegoProgram {
            source: source.to_owned(),
            libs: libs.to_vec(),
            version,
            package,
            rule,
            uses_inventory,
            prototype: engine,
            pool: Mutex::new(Vec::new()),
        })
    }

    /// Evaluates `violation` for one input document.
    pub fn evaluate(&self, input: RegoValue, data: &RegoData) -> Result<Vec<Violation>, String> {
        let popped = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut engine = match popped {
            Some((e, id)) if !self.uses_inventory || id == data.id() => e,
            _ => {
                let mut e = self.prototype.clone();
                let d = if self.uses_inventory {
                    data.0.as_ref().clone()
                } else {
                    RegoData::empty().0.as_ref().clone()
                };
                e.add_data(d).map_err(|e| format!("{e}"))?;
                e
            }
        };
        engine.set_input(input);
        // A panic inside the engine on some template and input is an evaluation error of
        // that constraint, not the end of the scan or of the webhook.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            engine
                .eval_rule(self.rule.clone())
                .map_err(|e| format!("{e}"))
        }))
        .unwrap_or_else(|_| Err("the Rego engine failed on this input".to_owned()));
        let out = result.map(|v| violations(&v));
        // An engine whose evaluation failed is dropped: its state is not trusted for reuse.
        if out.is_ok() {
            let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < 64 {
                pool.push((engine, data.id()));
            }
        }
        out
    }
}

/// Rewrites the two constructs OPA accepts and `regorus` reads otherwise (see
/// [`separate_statements`] and [`expand_bodies`]); the meaning is OPA's.
fn normalize(src: &str) -> String {
    separate_statements(&expand_bodies(src))
}

/// A rule written with several bodies (`f(x) = y { A } { B }`, OPA's shorthand for several
/// rules with the same head) as separate rules: `regorus` reads the second body as an `else`.
/// A line that is exactly `} {` closes one body and opens the next; the head is the last
/// rule head at the module's top level.
fn expand_bodies(src: &str) -> String {
    let top = src
        .lines()
        .find(|l| l.trim_start().starts_with("package"))
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(0);
    let mut head: Option<String> = None;
    let mut out = String::with_capacity(src.len());
    for line in src.lines() {
        let indent = line.len() - line.trim_start().len();
        let code = line.split('#').next().unwrap_or("").trim();
        if indent == top && code.ends_with('{') && !code.starts_with('}') {
            head = Some(code.trim_end_matches('{').trim_end().to_owned());
        }
        match (&head, code == "} {") {
            (Some(h), true) => {
                out.push_str(&line[..indent]);
                out.push_str("}\n");
                out.push_str(&" ".repeat(top));
                out.push_str(h);
                out.push_str(" {\n");
            }
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Ends a statement explicitly (`;`) where the next line starts with `(`: OPA reads a
/// newline between `x` and `(y - z) >= 1` as the end of a statement, `regorus` as a call of
/// `x`. Only lines ending in a name, `]`, `)` or a string are ended so; a line ending in an
/// operator, a comma or an opening bracket continues on the next one in both readings.
fn separate_statements(src: &str) -> String {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = String::with_capacity(src.len() + 16);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        let code = line.split('#').next().unwrap_or("").trim_end();
        let next = lines[i + 1..]
            .iter()
            .map(|l| l.trim())
            .find(|l| !l.is_empty() && !l.starts_with('#'));
        let ends_term = code
            .chars()
            .last()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ']' | ')' | '"'));
        if ends_term && next.is_some_and(|n| n.starts_with('(')) && !line.contains('#') {
            out.push(';');
        }
        out.push('\n');
    }
    out
}

/// The names called as functions (`name(`) in Rego text, outside strings and comments, with
/// whether the name starts its line (a function's definition, or a call as a statement).
fn calls(src: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for line in src.lines() {
        let mut chars = line.char_indices().peekable();
        let mut ident = String::new();
        let mut ident_start = 0usize;
        let mut in_str: Option<char> = None;
        let first = line.len() - line.trim_start().len();
        while let Some((i, c)) = chars.next() {
            if let Some(q) = in_str {
                if c == '\\' && q == '"' {
                    chars.next();
                } else if c == q {
                    in_str = None;
                }
                continue;
            }
            match c {
                '"' | '`' => {
                    in_str = Some(c);
                    ident.clear();
                }
                '#' => break,
                c if c.is_alphanumeric() || c == '_' || (c == '.' && !ident.is_empty()) => {
                    if ident.is_empty() {
                        ident_start = i;
                    }
                    ident.push(c);
                }
                '(' => {
                    if !ident.is_empty() && !ident.starts_with(|c: char| c.is_ascii_digit()) {
                        out.push((std::mem::take(&mut ident), ident_start == first));
                    }
                    ident.clear();
                }
                _ => ident.clear(),
            }
        }
    }
    out
}

/// A function a template calls that no builtin and no definition in its modules provides:
/// `regorus` reports those only when evaluation reaches the call.
fn unknown_function(modules: &[&str]) -> Option<String> {
    let all: Vec<(String, bool)> = modules.iter().flat_map(|m| calls(m)).collect();
    let defined: std::collections::HashSet<&str> = all
        .iter()
        .filter(|(_, at_start)| *at_start)
        .map(|(n, _)| n.rsplit('.').next().unwrap_or(n))
        .collect();
    let builtins = &*regorus::unstable::BUILTINS;
    const KEYWORDS: &[&str] = &[
        "not", "with", "some", "every", "in", "if", "contains", "else", "default", "package",
        "import", "print", "trace", "as",
    ];
    all.iter()
        .map(|(n, _)| n)
        .find(|n| {
            let last = n.rsplit('.').next().unwrap_or(n);
            !builtins.contains_key(n.as_str())
                && !defined.contains(last)
                && !KEYWORDS.contains(&n.as_str())
                && !n.starts_with("input.")
                && !n.starts_with("data.")
        })
        .cloned()
}

/// Errors that mean the template itself is wrong, as opposed to failing on one input.
fn is_compile_error(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "unknown function",
        "could not find",
        "undefined function",
        "unsafe var",
        "var not found",
        "not a function",
        "recursion",
        "parse",
        "expect",
    ]
    .iter()
    .any(|k| t.contains(k))
}

/// The `violation` set as Palisade's violations: each element's `msg` (a string) and
/// `details` (any value; absent: null).
fn violations(v: &RegoValue) -> Vec<Violation> {
    let json: serde_json::Value = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
    let items: Vec<serde_json::Value> = match json {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(_) => vec![json],
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|item| {
            let msg = match item.get("msg") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            let details = item
                .get("details")
                .cloned()
                .unwrap_or(serde_json::Value::Null);
            Violation { msg, details }
        })
        .collect()
}

/// Converts a JSON value to the engine's value type.
pub fn to_rego(v: serde_json::Value) -> RegoValue {
    RegoValue::from(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_starting_with_a_parenthesis_is_a_new_statement() {
        let src = "package p\n\nviolation[{\"msg\": \"spread\"}] {\n  input.parameters.min\n  (input.b - input.a) >= input.parameters.min\n}\n";
        assert!(separate_statements(src).contains("input.parameters.min;\n"));
        let p = RegoProgram::compile(src, &[], RegoVersion::V0).unwrap();
        let input = serde_json::json!({"a": 1, "b": 5, "parameters": {"min": 2}});
        assert_eq!(
            p.evaluate(to_rego(input), &RegoData::empty())
                .unwrap()
                .len(),
            1
        );
        let input = serde_json::json!({"a": 1, "b": 2, "parameters": {"min": 2}});
        assert!(p
            .evaluate(to_rego(input), &RegoData::empty())
            .unwrap()
            .is_empty());
        // A call split over lines is left alone.
        assert!(!separate_statements("x := f(a,\n  (b))\n").contains(';'));
    }

    #[test]
    fn several_bodies_are_several_rules() {
        let src = "package p\n\nkind_of(obj) = k {\n  obj.a\n  k := \"a\"\n} {\n  obj.b\n  k := \"b\"\n}\n\nviolation[{\"msg\": m}] {\n  m := kind_of(input)\n} {\n  input.c\n  m := \"c\"\n}\n";
        let p = RegoProgram::compile(src, &[], RegoVersion::V0).unwrap();
        let msgs = |input: serde_json::Value| -> Vec<String> {
            let mut v: Vec<String> = p
                .evaluate(to_rego(input), &RegoData::empty())
                .unwrap()
                .into_iter()
                .map(|v| v.msg)
                .collect();
            v.sort();
            v
        };
        assert_eq!(msgs(serde_json::json!({"b": true, "c": true})), ["b", "c"]);
        assert_eq!(msgs(serde_json::json!({"a": true})), ["a"]);
        assert!(msgs(serde_json::json!({})).is_empty());
    }

    #[test]
    fn v1_syntax_and_compile_errors() {
        let v1 = "package p\n\nviolation contains {\"msg\": m} if {\n  input.review.object.kind == \"Pod\"\n  m := \"pod\"\n}\n";
        let p = RegoProgram::compile(v1, &[], RegoVersion::V1).unwrap();
        let input = serde_json::json!({"review": {"object": {"kind": "Pod"}}});
        assert_eq!(
            p.evaluate(to_rego(input), &RegoData::empty()).unwrap()[0].msg,
            "pod"
        );
        let e = RegoProgram::compile(
            "package p\nviolation[{\"msg\": m}] { m := undefined_fn(1) }\n",
            &[],
            RegoVersion::V0,
        )
        .unwrap_err();
        assert!(e.contains("undefined_fn"), "{e}");
        assert!(RegoProgram::compile("package p\nallow { true }\n", &[], RegoVersion::V0).is_err());
    }
}
