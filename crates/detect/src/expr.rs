//! The rule condition language: a small boolean expression language over audit
//! event fields. See the crate README for the full reference.
//!
//! ```text
//! expr    := or
//! or      := and (("||" | "or") and)*
//! and     := unary (("&&" | "and") unary)*
//! unary   := ("!" | "not") unary | primary
//! primary := "(" expr ")" | "exists(" path ")" | ("any" | "all") "(" path "," expr ")"
//!          | "true" | "false" | operand [op operand]
//! op      := "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "startsWith" | "endsWith"
//!          | "contains" | "matches"
//! path    := root ("." key | "[" (number | string | "*") "]")*
//! ```

use std::fmt;

use serde_json::Value;

use crate::event::Event;
use crate::glob::glob_match;

/// A condition parse error, with the 1-based column where it was detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based column (in characters) of the offending token.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    At,
    Dot,
    LBrack,
    RBrack,
    LParen,
    RParen,
    Comma,
    Star,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    End,
}

fn lex(src: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |col: usize, m: &str| ParseError {
        column: col + 1,
        message: m.to_string(),
    };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two = |a: char, b: char| c == a && chars.get(i + 1) == Some(&b);
        let tok = if c.is_ascii_alphabetic() || c == '_' {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Ident(chars[start..i].iter().collect()), start));
            continue;
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            let n = s.parse::<f64>().map_err(|_| err(start, "bad number"))?;
            out.push((Tok::Num(n), start));
            continue;
        } else if c == '"' || c == '\'' {
            i += 1;
            let mut s = String::new();
            loop {
                match chars.get(i) {
                    None => return Err(err(start, "unterminated string")),
                    Some(&q) if q == c => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        match chars.get(i + 1) {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(&o) => s.push(o),
                            None => return Err(err(i, "unterminated string")),
                        }
                        i += 2;
                    }
                    Some(&o) => {
                        s.push(o);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(s), start));
            continue;
        } else if two('=', '=') {
            i += 1;
            Tok::Eq
        } else if two('!', '=') {
            i += 1;
            Tok::Ne
        } else if two('<', '=') {
            i += 1;
            Tok::Le
        } else if two('>', '=') {
            i += 1;
            Tok::Ge
        } else if two('&', '&') {
            i += 1;
            Tok::AndAnd
        } else if two('|', '|') {
            i += 1;
            Tok::OrOr
        } else {
            match c {
                '@' => Tok::At,
                '.' => Tok::Dot,
                '[' => Tok::LBrack,
                ']' => Tok::RBrack,
                '(' => Tok::LParen,
                ')' => Tok::RParen,
                ',' => Tok::Comma,
                '*' => Tok::Star,
                '<' => Tok::Lt,
                '>' => Tok::Gt,
                '!' => Tok::Bang,
                _ => return Err(err(start, &format!("unexpected character '{c}'"))),
            }
        };
        i += 1;
        out.push((tok, start));
    }
    out.push((Tok::End, chars.len()));
    Ok(out)
}

/// Known top-level fields (the first segments of a path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    Verb,
    Stage,
    Level,
    AuditId,
    RequestUri,
    RequestPath,
    UserAgent,
    ApiVersion,
    DryRun,
    RefusedBy,
    Success,
    SourceIpOutside,
    UserName,
    UserUid,
    UserGroups,
    UserExtra,
    ImpName,
    ImpGroups,
    SourceIps,
    SourceIp,
    ObjResource,
    ObjNamespace,
    ObjName,
    ObjApiGroup,
    ObjApiVersion,
    ObjSubresource,
    Code,
    Reason,
    Message,
    Status,
    RequestObject,
    ResponseObject,
    Annotations,
    PodSpec,
    Containers,
    RequestReceivedTs,
    StageTs,
    Elem,
}

const ROOTS: &[(&str, Root)] = &[
    ("verb", Root::Verb),
    ("stage", Root::Stage),
    ("level", Root::Level),
    ("auditID", Root::AuditId),
    ("requestURI", Root::RequestUri),
    ("requestPath", Root::RequestPath),
    ("userAgent", Root::UserAgent),
    ("apiVersion", Root::ApiVersion),
    ("dryRun", Root::DryRun),
    ("refusedBy", Root::RefusedBy),
    ("success", Root::Success),
    ("sourceIPOutsideAllowed", Root::SourceIpOutside),
    ("user.username", Root::UserName),
    ("user.uid", Root::UserUid),
    ("user.groups", Root::UserGroups),
    ("user.extra", Root::UserExtra),
    ("impersonatedUser.username", Root::ImpName),
    ("impersonatedUser.groups", Root::ImpGroups),
    ("sourceIPs", Root::SourceIps),
    ("sourceIP", Root::SourceIp),
    ("objectRef.resource", Root::ObjResource),
    ("objectRef.namespace", Root::ObjNamespace),
    ("objectRef.name", Root::ObjName),
    ("objectRef.apiGroup", Root::ObjApiGroup),
    ("objectRef.apiVersion", Root::ObjApiVersion),
    ("objectRef.subresource", Root::ObjSubresource),
    ("responseStatus.code", Root::Code),
    ("responseStatus.reason", Root::Reason),
    ("responseStatus.message", Root::Message),
    ("responseStatus.status", Root::Status),
    ("requestObject", Root::RequestObject),
    ("responseObject", Root::ResponseObject),
    ("annotations", Root::Annotations),
    ("podSpec", Root::PodSpec),
    ("containers", Root::Containers),
    ("requestReceivedTimestamp", Root::RequestReceivedTs),
    ("stageTimestamp", Root::StageTs),
];

impl Root {
    fn takes_segments(self) -> bool {
        matches!(
            self,
            Root::UserExtra
                | Root::UserGroups
                | Root::ImpGroups
                | Root::SourceIps
                | Root::RequestObject
                | Root::ResponseObject
                | Root::Annotations
                | Root::PodSpec
                | Root::Containers
                | Root::Elem
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
    Wild,
}

/// A compiled field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    pub(crate) root: Root,
    pub(crate) segs: Vec<Seg>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    StartsWith,
    EndsWith,
    Contains,
    Matches,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    Not(Box<Node>),
    Const(bool),
    Truthy(Path),
    Exists(Path),
    Any(Path, Box<Node>),
    All(Path, Box<Node>),
    Cmp(Path, Op, Vec<Lit>),
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    node: Node,
    uses_source_ranges: bool,
}

/// A borrowed value produced by resolving a path.
#[derive(Debug, Clone, Copy)]
pub(crate) enum V<'a> {
    Str(&'a str),
    Num(f64),
    Bool(bool),
    Null,
    Json(&'a Value),
}

impl<'a> V<'a> {
    fn from_json(v: &'a Value) -> V<'a> {
        match v {
            Value::String(s) => V::Str(s),
            Value::Number(n) => V::Num(n.as_f64().unwrap_or(f64::NAN)),
            Value::Bool(b) => V::Bool(*b),
            Value::Null => V::Null,
            other => V::Json(other),
        }
    }

    /// Renders the value as text for output templates.
    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            V::Str(s) => out.push_str(s),
            V::Num(n) => {
                let _ = write!(out, "{n}");
            }
            V::Bool(b) => {
                let _ = write!(out, "{b}");
            }
            V::Null => out.push_str("null"),
            V::Json(v) => out.push_str(&v.to_string()),
        }
    }
}

/// Evaluation context: the event plus detector-provided facts.
pub(crate) struct Ctx<'a> {
    pub(crate) ev: &'a Event,
    pub(crate) source_outside: bool,
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    in_elem: usize,
    uses_source_ranges: bool,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn col(&self) -> usize {
        self.toks[self.pos].1 + 1
    }
    fn next(&mut self) -> Tok {
        let t = self.toks[self.pos].0.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn err<T>(&self, m: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError {
            column: self.col(),
            message: m.into(),
        })
    }
    fn expect(&mut self, t: Tok, what: &str) -> Result<(), ParseError> {
        if *self.peek() == t {
            self.next();
            Ok(())
        } else {
            self.err(format!("expected {what}, found {}", describe(self.peek())))
        }
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        let mut v = vec![self.and()?];
        while *self.peek() == Tok::OrOr || self.is_kw("or") {
            self.next();
            v.push(self.and()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Node::Const(false))
        } else {
            Node::Or(v)
        })
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        let mut v = vec![self.unary()?];
        while *self.peek() == Tok::AndAnd || self.is_kw("and") {
            self.next();
            v.push(self.unary()?);
        }
        Ok(if v.len() == 1 {
            v.pop().unwrap_or(Node::Const(true))
        } else {
            Node::And(v)
        })
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        if *self.peek() == Tok::Bang || self.is_kw("not") {
            self.next();
            return Ok(Node::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        match self.peek().clone() {
            Tok::LParen => {
                self.next();
                let n = self.or()?;
                self.expect(Tok::RParen, "')'")?;
                Ok(n)
            }
            Tok::Ident(name) if name == "true" || name == "false" => {
                self.next();
                Ok(Node::Const(name == "true"))
            }
            Tok::Ident(name)
                if (name == "exists" || name == "any" || name == "all")
                    && self.toks.get(self.pos + 1).map(|t| &t.0) == Some(&Tok::LParen) =>
            {
                self.next();
                self.next();
                let path = self.path()?;
                if name == "exists" {
                    self.expect(Tok::RParen, "')'")?;
                    return Ok(Node::Exists(path));
                }
                self.expect(Tok::Comma, "',' after the path of any()/all()")?;
                self.in_elem += 1;
                let body = self.or()?;
                self.in_elem -= 1;
                self.expect(Tok::RParen, "')'")?;
                Ok(if name == "any" {
                    Node::Any(path, Box::new(body))
                } else {
                    Node::All(path, Box::new(body))
                })
            }
            Tok::Ident(_) | Tok::At => {
                let path = self.path()?;
                let op = match self.peek() {
                    Tok::Eq => Some(Op::Eq),
                    Tok::Ne => Some(Op::Ne),
                    Tok::Lt => Some(Op::Lt),
                    Tok::Le => Some(Op::Le),
                    Tok::Gt => Some(Op::Gt),
                    Tok::Ge => Some(Op::Ge),
                    Tok::Ident(s) => match s.as_str() {
                        "in" => Some(Op::In),
                        "startsWith" => Some(Op::StartsWith),
                        "endsWith" => Some(Op::EndsWith),
                        "contains" => Some(Op::Contains),
                        "matches" => Some(Op::Matches),
                        _ => None,
                    },
                    _ => None,
                };
                let Some(op) = op else {
                    return Ok(Node::Truthy(path));
                };
                self.next();
                let lits = if op == Op::In {
                    self.expect(Tok::LBrack, "'[' to start the list after 'in'")?;
                    let mut v = Vec::new();
                    if *self.peek() != Tok::RBrack {
                        loop {
                            v.push(self.literal()?);
                            if *self.peek() == Tok::Comma {
                                self.next();
                                continue;
                            }
                            break;
                        }
                    }
                    self.expect(Tok::RBrack, "',' or ']'")?;
                    v
                } else {
                    let l = self.literal()?;
                    if matches!(
                        op,
                        Op::StartsWith | Op::EndsWith | Op::Contains | Op::Matches
                    ) && !matches!(l, Lit::Str(_))
                    {
                        return self.err("this operator needs a string literal");
                    }
                    vec![l]
                };
                // `x == null` means "x is missing or null"; `x != null` means "x exists".
                if lits == [Lit::Null] && matches!(op, Op::Eq | Op::Ne) {
                    let ex = Node::Exists(path);
                    return Ok(if op == Op::Eq {
                        Node::Not(Box::new(ex))
                    } else {
                        ex
                    });
                }
                Ok(Node::Cmp(path, op, lits))
            }
            other => self.err(format!("expected a condition, found {}", describe(&other))),
        }
    }

    fn literal(&mut self) -> Result<Lit, ParseError> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.next();
                Ok(Lit::Str(s))
            }
            Tok::Num(n) => {
                self.next();
                Ok(Lit::Num(n))
            }
            Tok::Ident(s) if s == "true" || s == "false" => {
                self.next();
                Ok(Lit::Bool(s == "true"))
            }
            Tok::Ident(s) if s == "null" => {
                self.next();
                Ok(Lit::Null)
            }
            other => self.err(format!(
                "expected a literal (string, number, true, false, null), found {}",
                describe(&other)
            )),
        }
    }

    fn path(&mut self) -> Result<Path, ParseError> {
        let start_col = self.col();
        let mut names: Vec<String> = Vec::new();
        let root;
        if *self.peek() == Tok::At {
            if self.in_elem == 0 {
                return self.err("'@' is only valid inside any() or all()");
            }
            self.next();
            root = Root::Elem;
        } else {
            let Tok::Ident(first) = self.next() else {
                return Err(ParseError {
                    column: start_col,
                    message: "expected a field path".into(),
                });
            };
            names.push(first);
            // Greedily read dotted identifiers, then match the longest known root.
            while *self.peek() == Tok::Dot {
                if let Some((Tok::Ident(_), _)) = self.toks.get(self.pos + 1) {
                    self.next();
                    if let Tok::Ident(n) = self.next() {
                        names.push(n);
                    }
                } else {
                    break;
                }
            }
            let mut found = None;
            for take in (1..=names.len().min(2)).rev() {
                let joined = names[..take].join(".");
                if let Some((_, r)) = ROOTS.iter().find(|(n, _)| *n == joined) {
                    found = Some((*r, take));
                    break;
                }
            }
            match found {
                Some((r, take)) => {
                    root = r;
                    names.drain(..take);
                }
                None if self.in_elem > 0 => root = Root::Elem,
                None => {
                    return Err(ParseError {
                        column: start_col,
                        message: format!("unknown field '{}'", names.join(".")),
                    })
                }
            }
        }
        if root == Root::SourceIpOutside {
            self.uses_source_ranges = true;
        }
        let mut segs: Vec<Seg> = names.into_iter().map(Seg::Key).collect();
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.next();
                    match self.next() {
                        Tok::Ident(n) => segs.push(Seg::Key(n)),
                        Tok::Str(n) => segs.push(Seg::Key(n)),
                        _ => return self.err("expected a key after '.'"),
                    }
                }
                Tok::LBrack => {
                    self.next();
                    let s = match self.next() {
                        Tok::Star => Seg::Wild,
                        Tok::Num(n) if n >= 0.0 && n.fract() == 0.0 => Seg::Index(n as usize),
                        Tok::Str(k) => Seg::Key(k),
                        _ => return self.err("expected a number, a string or '*' inside '[]'"),
                    };
                    segs.push(s);
                    self.expect(Tok::RBrack, "']'")?;
                }
                _ => break,
            }
        }
        if !segs.is_empty() && !root.takes_segments() {
            return Err(ParseError {
                column: start_col,
                message: "this field has no sub-fields".into(),
            });
        }
        Ok(Path { root, segs })
    }
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::Ident(s) => format!("'{s}'"),
        Tok::Str(s) => format!("string \"{s}\""),
        Tok::Num(n) => format!("number {n}"),
        Tok::End => "end of condition".into(),
        other => format!("{other:?}"),
    }
}

/// Parses a field path on its own (used by output templates).
pub(crate) fn parse_path(src: &str) -> Result<Path, ParseError> {
    let toks = lex(src)?;
    let mut p = Parser {
        toks,
        pos: 0,
        in_elem: 0,
        uses_source_ranges: false,
    };
    let path = p.path()?;
    if *p.peek() != Tok::End {
        return p.err("unexpected text after the path");
    }
    Ok(path)
}

impl Expr {
    /// Parses a condition.
    pub fn parse(src: &str) -> Result<Expr, ParseError> {
        let toks = lex(src)?;
        let mut p = Parser {
            toks,
            pos: 0,
            in_elem: 0,
            uses_source_ranges: false,
        };
        let node = p.or()?;
        if *p.peek() != Tok::End {
            return p.err(format!("unexpected {}", describe(p.peek())));
        }
        Ok(Expr {
            node,
            uses_source_ranges: p.uses_source_ranges,
        })
    }

    /// The resources (`objectRef.resource`) the condition can match at all, when
    /// its top level requires `objectRef.resource == ...` or `in [...]`; `None`
    /// when any resource may match. Used to index rules by resource.
    pub fn required_resources(&self) -> Option<Vec<String>> {
        let direct = |n: &Node| match n {
            Node::Cmp(
                Path {
                    root: Root::ObjResource,
                    segs,
                },
                Op::Eq | Op::In,
                lits,
            ) if segs.is_empty() => {
                let mut v = Vec::new();
                for l in lits {
                    match l {
                        Lit::Str(s) => v.push(s.clone()),
                        _ => return None,
                    }
                }
                Some(v)
            }
            _ => None,
        };
        match &self.node {
            Node::And(children) => children.iter().find_map(direct),
            n => direct(n),
        }
    }

    /// Whether the condition refers to `sourceIPOutsideAllowed`.
    pub fn uses_source_ranges(&self) -> bool {
        self.uses_source_ranges
    }

    /// Evaluates the condition against an event. `source_outside` is the value of
    /// the derived field `sourceIPOutsideAllowed`.
    pub fn eval(&self, ev: &Event, source_outside: bool) -> bool {
        let ctx = Ctx { ev, source_outside };
        eval(&self.node, &ctx, None)
    }

    pub(crate) fn eval_ctx(&self, ctx: &Ctx<'_>) -> bool {
        eval(&self.node, ctx, None)
    }
}

fn eval<'a>(n: &Node, ctx: &Ctx<'a>, elem: Option<&'a Value>) -> bool {
    match n {
        Node::Or(v) => v.iter().any(|n| eval(n, ctx, elem)),
        Node::And(v) => v.iter().all(|n| eval(n, ctx, elem)),
        Node::Not(n) => !eval(n, ctx, elem),
        Node::Const(b) => *b,
        Node::Truthy(p) => resolve(p, ctx, elem, &mut |v| truthy(v)),
        Node::Exists(p) => resolve(p, ctx, elem, &mut |v| !matches!(v, V::Null)),
        Node::Any(p, body) => resolve_raw(p, ctx, elem, &mut |j| match j {
            Value::Array(a) => a.iter().any(|x| eval(body, ctx, Some(x))),
            other => eval(body, ctx, Some(other)),
        }),
        Node::All(p, body) => {
            let mut seen = false;
            let failed = resolve_raw(p, ctx, elem, &mut |j| {
                seen = true;
                match j {
                    Value::Array(a) => !a.iter().all(|x| eval(body, ctx, Some(x))),
                    other => !eval(body, ctx, Some(other)),
                }
            });
            seen && !failed
        }
        Node::Cmp(p, Op::Ne, lits) => !resolve(p, ctx, elem, &mut |v| cmp_flat(v, Op::Eq, lits)),
        Node::Cmp(p, op, lits) => resolve(p, ctx, elem, &mut |v| cmp_flat(v, *op, lits)),
    }
}

fn truthy(v: V<'_>) -> bool {
    match v {
        V::Bool(b) => b,
        V::Json(Value::Array(a)) => a.iter().any(|x| x.as_bool() == Some(true)),
        _ => false,
    }
}

/// Compares a value (arrays: any element) against the literal(s).
fn cmp_flat(v: V<'_>, op: Op, lits: &[Lit]) -> bool {
    match v {
        V::Json(Value::Array(a)) => a.iter().any(|x| cmp_one(V::from_json(x), op, lits)),
        other => cmp_one(other, op, lits),
    }
}

fn cmp_one(v: V<'_>, op: Op, lits: &[Lit]) -> bool {
    match op {
        Op::In => lits.iter().any(|l| eq(v, l)),
        Op::Eq | Op::Ne => eq(v, &lits[0]),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let ord = match (v, &lits[0]) {
                (V::Num(a), Lit::Num(b)) => a.partial_cmp(b),
                (V::Str(a), Lit::Str(b)) => Some(a.cmp(b.as_str())),
                _ => None,
            };
            match ord {
                Some(o) => match op {
                    Op::Lt => o.is_lt(),
                    Op::Le => o.is_le(),
                    Op::Gt => o.is_gt(),
                    _ => o.is_ge(),
                },
                None => false,
            }
        }
        Op::StartsWith | Op::EndsWith | Op::Contains | Op::Matches => {
            let (V::Str(s), Lit::Str(pat)) = (v, &lits[0]) else {
                return false;
            };
            match op {
                Op::StartsWith => s.starts_with(pat.as_str()),
                Op::EndsWith => s.ends_with(pat.as_str()),
                Op::Contains => s.contains(pat.as_str()),
                _ => glob_match(pat, s),
            }
        }
    }
}

fn eq(v: V<'_>, l: &Lit) -> bool {
    match (v, l) {
        (V::Str(a), Lit::Str(b)) => a == b,
        (V::Num(a), Lit::Num(b)) => a == *b,
        (V::Bool(a), Lit::Bool(b)) => a == *b,
        (V::Null, Lit::Null) => true,
        _ => false,
    }
}

/// Calls `f` on every value the path resolves to; stops and returns true as soon
/// as `f` returns true. Missing fields produce no values.
pub(crate) fn resolve<'a>(
    p: &Path,
    ctx: &Ctx<'a>,
    elem: Option<&'a Value>,
    f: &mut dyn FnMut(V<'a>) -> bool,
) -> bool {
    let ev = ctx.ev;
    let s = |x: &'a str| -> Option<V<'a>> {
        if x.is_empty() {
            None
        } else {
            Some(V::Str(x))
        }
    };
    let obj = ev.object_ref.as_ref();
    let st = ev.response_status.as_ref();
    let scalar: Option<V<'a>> = match p.root {
        Root::Verb => s(&ev.verb),
        Root::Stage => s(&ev.stage),
        Root::Level => s(&ev.level),
        Root::AuditId => s(&ev.audit_id),
        Root::RequestUri => s(&ev.request_uri),
        Root::RequestPath => s(ev.request_path()),
        Root::UserAgent => s(&ev.user_agent),
        Root::ApiVersion => s(&ev.api_version),
        Root::DryRun => Some(V::Bool(ev.dry_run())),
        Root::RefusedBy => ev.refused_by().map(V::Str),
        Root::Success => Some(V::Bool(ev.success())),
        Root::SourceIpOutside => Some(V::Bool(ctx.source_outside)),
        Root::UserName => s(&ev.user.username),
        Root::UserUid => s(&ev.user.uid),
        Root::ImpName => ev.impersonated_user.as_ref().and_then(|u| s(&u.username)),
        Root::SourceIp => ev.source_ips.first().and_then(|x| s(x)),
        Root::ObjResource => obj.and_then(|o| s(&o.resource)),
        Root::ObjNamespace => obj.and_then(|o| s(&o.namespace)),
        Root::ObjName => obj.and_then(|o| s(&o.name)),
        Root::ObjApiGroup => obj.and_then(|o| s(&o.api_group)),
        Root::ObjApiVersion => obj.and_then(|o| s(&o.api_version)),
        Root::ObjSubresource => obj.and_then(|o| s(&o.subresource)),
        Root::Code => ev.code().map(|c| V::Num(c as f64)),
        Root::Reason => st.and_then(|x| s(&x.reason)),
        Root::Message => st.and_then(|x| s(&x.message)),
        Root::Status => st.and_then(|x| s(&x.status)),
        Root::RequestReceivedTs => s(&ev.request_received_timestamp),
        Root::StageTs => s(&ev.stage_timestamp),
        Root::UserGroups => return list(&ev.user.groups, &p.segs, f),
        Root::ImpGroups => {
            return match &ev.impersonated_user {
                Some(u) => list(&u.groups, &p.segs, f),
                None => false,
            }
        }
        Root::SourceIps => return list(&ev.source_ips, &p.segs, f),
        _ => {
            return json_bases(p, ctx, elem, &mut |v, segs| walk(v, segs, f)).unwrap_or(false);
        }
    };
    match scalar {
        Some(v) => f(v),
        None => false,
    }
}

/// Like [`resolve`] but yields raw JSON values; only JSON-backed roots produce values.
fn resolve_raw<'a>(
    p: &Path,
    ctx: &Ctx<'a>,
    elem: Option<&'a Value>,
    f: &mut dyn FnMut(&'a Value) -> bool,
) -> bool {
    json_bases(p, ctx, elem, &mut |v, segs| walk_raw(v, segs, f)).unwrap_or(false)
}

/// Visits the JSON values a JSON-backed root stands for (bodies, annotations, every
/// container of the pod spec), each with the path segments still to walk, until `visit`
/// returns true. `None` when the root is not JSON-backed.
fn json_bases<'a, 'p>(
    p: &'p Path,
    ctx: &Ctx<'a>,
    elem: Option<&'a Value>,
    visit: &mut dyn FnMut(&'a Value, &'p [Seg]) -> bool,
) -> Option<bool> {
    let ev = ctx.ev;
    let base: Option<&'a Value> = match p.root {
        Root::UserExtra => ev.user.extra.as_ref(),
        Root::RequestObject => ev.request_object(),
        Root::ResponseObject => ev.response_object(),
        Root::PodSpec => ev.pod_spec(),
        Root::Elem => elem,
        Root::Annotations => {
            let Some(Seg::Key(k)) = p.segs.first() else {
                return Some(false);
            };
            return Some(
                ev.annotations()
                    .and_then(|m| m.get(k.as_str()))
                    .is_some_and(|v| visit(v, &p.segs[1..])),
            );
        }
        Root::Containers => {
            let Some(spec) = ev.pod_spec() else {
                return Some(false);
            };
            let segs = match p.segs.first() {
                Some(Seg::Wild) => &p.segs[1..],
                _ => &p.segs[..],
            };
            let found = ["containers", "initContainers", "ephemeralContainers"]
                .iter()
                .filter_map(|key| spec.get(*key).and_then(Value::as_array))
                .flatten()
                .any(|c| visit(c, segs));
            return Some(found);
        }
        _ => return None,
    };
    Some(base.is_some_and(|v| visit(v, &p.segs)))
}

fn walk_raw<'a>(v: &'a Value, segs: &[Seg], f: &mut dyn FnMut(&'a Value) -> bool) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return f(v);
    };
    match (first, v) {
        (Seg::Key(k), Value::Object(m)) => m.get(k.as_str()).is_some_and(|x| walk_raw(x, rest, f)),
        (Seg::Key(_), Value::Array(a)) => a.iter().any(|x| walk_raw(x, segs, f)),
        (Seg::Index(i), Value::Array(a)) => a.get(*i).is_some_and(|x| walk_raw(x, rest, f)),
        (Seg::Wild, Value::Array(a)) => a.iter().any(|x| walk_raw(x, rest, f)),
        (Seg::Wild, Value::Object(m)) => m.values().any(|x| walk_raw(x, rest, f)),
        _ => false,
    }
}

fn list<'a>(items: &'a [String], segs: &[Seg], f: &mut dyn FnMut(V<'a>) -> bool) -> bool {
    match segs.first() {
        None | Some(Seg::Wild) => items.iter().any(|x| f(V::Str(x))),
        Some(Seg::Index(i)) => items.get(*i).is_some_and(|x| f(V::Str(x))),
        Some(Seg::Key(_)) => false,
    }
}

fn walk<'a>(v: &'a Value, segs: &[Seg], f: &mut dyn FnMut(V<'a>) -> bool) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return f(V::from_json(v));
    };
    match (first, v) {
        (Seg::Key(k), Value::Object(m)) => m.get(k.as_str()).is_some_and(|x| walk(x, rest, f)),
        // A key applied to an array applies to each element.
        (Seg::Key(_), Value::Array(a)) => a.iter().any(|x| walk(x, segs, f)),
        (Seg::Index(i), Value::Array(a)) => a.get(*i).is_some_and(|x| walk(x, rest, f)),
        (Seg::Wild, Value::Array(a)) => a.iter().any(|x| walk(x, rest, f)),
        (Seg::Wild, Value::Object(m)) => m.values().any(|x| walk(x, rest, f)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(json: &str) -> Event {
        Event::from_json(json).unwrap()
    }

    fn t(cond: &str, json: &str) -> bool {
        Expr::parse(cond)
            .unwrap_or_else(|e| panic!("{cond}: {e}"))
            .eval(&ev(json), false)
    }

    const POD: &str = r#"{"kind":"Event","verb":"create","user":{"username":"alice","groups":["dev","system:authenticated"]},
      "objectRef":{"resource":"pods","namespace":"dev","name":"p"},"responseStatus":{"code":201},
      "requestURI":"/api/v1/namespaces/dev/pods?fieldManager=x",
      "annotations":{"authorization.k8s.io/decision":"allow"},
      "requestObject":{"kind":"Pod","spec":{"hostNetwork":true,
        "containers":[{"name":"a"},{"name":"b","securityContext":{"privileged":true}}],
        "volumes":[{"name":"v","hostPath":{"path":"/etc"}}]}}}"#;

    #[test]
    fn basics() {
        assert!(t(r#"verb == "create""#, POD));
        assert!(!t(r#"verb != "create""#, POD));
        assert!(t(r#"verb in ["get", "create"]"#, POD));
        assert!(t(
            r#"objectRef.resource == "pods" && objectRef.namespace startsWith "de""#,
            POD
        ));
        assert!(t(
            r#"responseStatus.code < 400 and responseStatus.code >= 200"#,
            POD
        ));
        assert!(t(r#"user.groups == "dev""#, POD));
        assert!(t(r#"user.groups[1] == "system:authenticated""#, POD));
        assert!(!t(r#"user.groups[0] == "system:authenticated""#, POD));
        assert!(t(r#"user.username matches "al*""#, POD));
        assert!(t(
            r#"requestPath endsWith "/pods" && !dryRun && success"#,
            POD
        ));
        assert!(t(
            r#"annotations["authorization.k8s.io/decision"] == "allow""#,
            POD
        ));
        assert!(t(
            r#"(verb == "get" || verb == "create") && not (verb == "x")"#,
            POD
        ));
    }

    #[test]
    fn json_paths() {
        assert!(t("requestObject.spec.hostNetwork", POD));
        assert!(t("requestObject.spec.hostNetwork == true", POD));
        assert!(t(
            "requestObject.spec.containers[*].securityContext.privileged == true",
            POD
        ));
        assert!(t(
            "requestObject.spec.containers.securityContext.privileged",
            POD
        ));
        assert!(!t(
            "requestObject.spec.containers[0].securityContext.privileged",
            POD
        ));
        assert!(t("containers[*].securityContext.privileged == true", POD));
        assert!(t(
            r#"podSpec.volumes[*].hostPath.path in ["/", "/etc"]"#,
            POD
        ));
        assert!(t("exists(requestObject.spec.volumes)", POD));
        assert!(!t("exists(requestObject.spec.tls)", POD));
        assert!(!t("exists(responseObject)", POD));
        assert!(t(
            r#"any(podSpec.containers, name == "b" && securityContext.privileged)"#,
            POD
        ));
        assert!(!t(
            r#"any(podSpec.containers, name == "a" && securityContext.privileged)"#,
            POD
        ));
        assert!(t(r#"all(podSpec.containers, exists(name))"#, POD));
        assert!(!t(
            r#"all(podSpec.containers, exists(securityContext))"#,
            POD
        ));
        assert!(t(r#"any(podSpec.containers.name, @ == "a")"#, POD));
        assert!(t(
            r#"any(requestObject.spec.volumes, hostPath.path == "/etc")"#,
            POD
        ));
        assert!(t(r#"podSpec.containers.name contains "b""#, POD));
    }

    #[test]
    fn missing_fields() {
        let e = r#"{"verb":"get"}"#;
        assert!(!t(r#"objectRef.resource == "pods""#, e));
        assert!(t(r#"objectRef.resource != "pods""#, e));
        assert!(!t(r#"responseStatus.code >= 400"#, e));
        assert!(t("success", e));
        assert!(!t("requestObject.spec.hostNetwork", e));
        assert!(!t("impersonatedUser.groups == \"system:masters\"", e));
    }

    #[test]
    fn required_resources() {
        let r = |s: &str| Expr::parse(s).unwrap().required_resources();
        assert_eq!(
            r(r#"objectRef.resource == "pods""#),
            Some(vec!["pods".to_string()])
        );
        assert_eq!(
            r(r#"verb == "get" && objectRef.resource in ["a", "b"]"#),
            Some(vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(r(r#"verb == "get" || objectRef.resource == "a""#), None);
        assert_eq!(r(r#"!(objectRef.resource == "a")"#), None);
        assert_eq!(r(r#"objectRef.resource != "a""#), None);
    }

    #[test]
    fn parse_errors() {
        let err = |s: &str| Expr::parse(s).unwrap_err();
        assert_eq!(
            err(r#"verb == "x" &&"#).message,
            "expected a condition, found end of condition"
        );
        let e = err(r#"verbz == "x""#);
        assert_eq!((e.column, e.message.as_str()), (1, "unknown field 'verbz'"));
        let e = err(r#"verb == "x" && objectRef.resource in "pods""#);
        assert_eq!(e.column, 38);
        assert!(err(r#"verb == "x"#).message.contains("unterminated"));
        assert!(err("verb startsWith 3").message.contains("string literal"));
        assert!(err("verb.x == 1").message.contains("no sub-fields"));
        assert!(err("@ == 1").message.contains("any()"));
        assert!(err("verb == \"a\" )").message.contains("unexpected"));
        assert!(err("verb # 1").message.contains("unexpected character"));
    }
}
