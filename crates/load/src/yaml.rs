//! YAML (and JSON) documents to JSON values, recording where every field is written.
//!
//! Plain scalars are resolved the way Kubernetes' YAML decoder (go-yaml v2 through
//! sigs.k8s.io/yaml) resolves them: `yes`/`no`/`on`/`off` are booleans, `~` and `null` are
//! null, integers in decimal, hexadecimal (`0x`), octal (`0o`, leading `0`) and binary (`0b`)
//! with `_` separators, floats including `.inf` and `.nan` (kept as strings, which JSON cannot
//! hold). Quoted and block scalars are strings. Anchors, aliases and `<<` merge keys are
//! supported.

use palisade_core::object::{index_hash, segment_hash, ROOT_HASH};
use palisade_core::SpanIndex;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::HashMap;

/// A parsed document.
#[derive(Debug)]
pub struct Document {
    /// The value.
    pub value: Value,
    /// Field positions.
    pub spans: SpanIndex,
    /// 1-based line of the document's first node.
    pub line: u32,
    /// 1-based column of the document's first node.
    pub column: u32,
    /// Mapping keys written more than once (the last occurrence is used, as Kubernetes'
    /// decoder does when field validation is not strict).
    pub duplicate_keys: Vec<DuplicateKey>,
}

/// A syntax error with its position (1-based, in the whole file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line} column {column}: {reason}")]
pub struct SyntaxError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What the parser says.
    pub reason: String,
    /// The document is well-formed YAML but exceeds a safety limit (alias expansion,
    /// nesting): no other parser is tried on it.
    pub limit: bool,
}

/// Deepest nesting of mappings and sequences accepted in one document. Kubernetes objects
/// nest a few dozen levels; the limit keeps hostile input from exhausting the stack of
/// whatever walks the value later.
pub const MAX_DEPTH: usize = 1000;

/// go-yaml's alias-expansion bound: documents up to this many nodes may take up to 99% of
/// their nodes from aliases...
const ALIAS_RATIO_RANGE_LOW: u64 = 400_000;
/// ... and documents of this many nodes or more at most 10%, scaling linearly between.
const ALIAS_RATIO_RANGE_HIGH: u64 = 4_000_000;

/// The share of a document's nodes that may come from alias expansion, as go-yaml (the
/// decoder behind Kubernetes' YAML) allows it.
fn allowed_alias_ratio(decoded: u64) -> f64 {
    if decoded <= ALIAS_RATIO_RANGE_LOW {
        0.99
    } else if decoded >= ALIAS_RATIO_RANGE_HIGH {
        0.10
    } else {
        let range = (ALIAS_RATIO_RANGE_HIGH - ALIAS_RATIO_RANGE_LOW) as f64;
        0.99 - 0.89 * ((decoded - ALIAS_RATIO_RANGE_LOW) as f64 / range)
    }
}

/// True when a document that has built `decoded` nodes, `aliased` of them by expanding
/// aliases, exceeds go-yaml's bound ("document contains excessive aliasing").
fn excessive_aliasing(decoded: u64, aliased: u64) -> bool {
    aliased > 100
        && decoded > 1000
        && aliased as f64 / decoded as f64 > allowed_alias_ratio(decoded)
}

/// A mapping key written twice in one mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key.
    pub key: String,
    /// 1-based line and column of the repeated (used) occurrence.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

enum Frame {
    Map {
        map: Map<String, Value>,
        hash: u64,
        key: Option<(String, u64, bool)>,
        anchor: usize,
        merges: Vec<Value>,
        is_key: bool,
        /// Nodes built before this one (its size, for an anchor, is the difference at its end).
        start: u64,
    },
    Seq {
        items: Vec<Value>,
        hash: u64,
        anchor: usize,
        is_key: bool,
        start: u64,
    },
}

struct Builder<'k> {
    keep: Option<&'k dyn Fn(&str) -> bool>,
    root_kind: Option<String>,
    skip_next: bool,
    /// While skipping a body: for each open collection, whether it is a mapping waiting for
    /// a key (so that a collection used as a key is still an error, as when building).
    skip_stack: Vec<Option<bool>>,
    complex_key: Option<(u32, u32)>,
    stack: Vec<Frame>,
    /// Anchored values with their size in nodes (aliases they hold expanded).
    anchors: HashMap<usize, (Value, u64)>,
    /// Nodes built in the current document, aliases expanded.
    decoded: u64,
    /// Of those, the nodes that came from expanding aliases.
    aliased: u64,
    /// The first safety limit the document exceeded: position and reason.
    refused: Option<(u32, u32, String)>,
    duplicates: Vec<DuplicateKey>,
    spans: SpanIndex,
    line_offset: u32,
    record: bool,
    docs: Vec<Document>,
    doc_start: Option<(u32, u32)>,
}

/// What a new node is, for its parent.
enum Slot {
    /// Top of the document.
    Root,
    /// A mapping key.
    Key,
    /// A value whose path hash is known.
    Value(u64),
}

impl Builder<'_> {
    fn pos(&self, span: &Span) -> (u32, u32) {
        (
            span.start.line() as u32 + self.line_offset,
            span.start.col() as u32 + 1,
        )
    }

    /// Works out where the next node goes and records its position.
    fn slot(&mut self, span: &Span) -> Slot {
        let pos = self.pos(span);
        match self.stack.last_mut() {
            None => {
                self.doc_start.get_or_insert(pos);
                Slot::Root
            }
            Some(Frame::Map { key: None, .. }) => Slot::Key,
            Some(Frame::Map {
                key: Some((_, h, _)),
                ..
            }) => Slot::Value(*h),
            Some(Frame::Seq { items, hash, .. }) => {
                let h = index_hash(*hash, items.len());
                if self.record {
                    self.spans.push(h, pos.0, pos.1);
                }
                Slot::Value(h)
            }
        }
    }

    fn put(&mut self, value: Value) {
        if self.stack.len() == 1 {
            if let Some(Frame::Map {
                key: Some((k, _, false)),
                ..
            }) = self.stack.last()
            {
                if k == "kind" {
                    self.root_kind = value.as_str().map(str::to_owned);
                }
            }
        }
        match self.stack.last_mut() {
            None => {
                let (line, column) = self.doc_start.take().unwrap_or((1 + self.line_offset, 1));
                let mut spans = std::mem::take(&mut self.spans);
                spans.shrink_to_fit();
                let duplicate_keys = std::mem::take(&mut self.duplicates);
                self.docs.push(Document {
                    value,
                    spans,
                    line,
                    column,
                    duplicate_keys,
                });
                self.anchors.clear();
            }
            Some(Frame::Map {
                map, key, merges, ..
            }) => match key.take() {
                Some((_, _, true)) => merges.push(value),
                Some((k, _, false)) => {
                    map.insert(k, value);
                }
                // Values always follow their key; nothing to attach a stray value to.
                None => {}
            },
            Some(Frame::Seq { items, .. }) => items.push(value),
        }
    }

    fn set_key(&mut self, key: String, is_merge: bool, span: &Span) {
        let pos = self.pos(span);
        if self.stack.len() == 1 && !matches!(key.as_str(), "apiVersion" | "kind" | "metadata") {
            if let (Some(keep), Some(kind)) = (self.keep, self.root_kind.as_deref()) {
                if !kind.ends_with("List") && !keep(kind) {
                    // The body of an object no rule reads: parsed, not built.
                    self.skip_next = true;
                    return;
                }
            }
        }
        let record = self.record;
        if let Some(Frame::Map {
            key: slot,
            hash,
            map,
            ..
        }) = self.stack.last_mut()
        {
            if !is_merge && map.contains_key(&key) {
                self.duplicates.push(DuplicateKey {
                    key: key.clone(),
                    line: pos.0,
                    column: pos.1,
                });
            }
            let h = segment_hash(*hash, &key);
            if record && !is_merge {
                self.spans.push(h, pos.0, pos.1);
            }
            *slot = Some((key, h, is_merge));
        }
    }

    fn scalar(
        &mut self,
        text: Cow<'_, str>,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<Cow<'_, Tag>>,
        span: &Span,
    ) {
        match self.slot(span) {
            Slot::Key => {
                self.decoded += 1;
                let is_merge = style == ScalarStyle::Plain && text == "<<" && tag.is_none();
                self.set_key(text.into_owned(), is_merge, span);
            }
            Slot::Root | Slot::Value(_) => {
                self.decoded += 1;
                let v = resolve_scalar(text, style, tag.as_deref());
                if anchor != 0 {
                    self.anchors.insert(anchor, (v.clone(), 1));
                }
                self.put(v);
            }
        }
    }

    fn alias(&mut self, id: usize, span: &Span) {
        // Counted as go-yaml counts: the alias node itself, then every node of the anchored
        // value again, as expanded (keys included).
        let size = self.anchors.get(&id).map_or(1, |a| a.1);
        self.decoded += 1 + size;
        self.aliased += size;
        if excessive_aliasing(self.decoded, self.aliased) {
            // Refused before the copy is made: the expansion never happens.
            let (line, column) = self.pos(span);
            self.refused.get_or_insert((
                line,
                column,
                format!(
                    "document contains excessive aliasing: {} of its {} nodes would come from \
                     expanding aliases (the limit Kubernetes' YAML decoder applies)",
                    self.aliased, self.decoded
                ),
            ));
            return;
        }
        let v = self.anchors.get(&id).map_or(Value::Null, |a| a.0.clone());
        match self.slot(span) {
            Slot::Key => {
                let k = match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                self.set_key(k, false, span);
            }
            _ => self.put(v),
        }
    }

    fn start(&mut self, mapping: bool, anchor: usize, span: &Span) {
        if self.stack.len() >= MAX_DEPTH {
            let (line, column) = self.pos(span);
            self.refused.get_or_insert((
                line,
                column,
                format!("document nests deeper than {MAX_DEPTH} levels"),
            ));
            return;
        }
        let start = self.decoded;
        self.decoded += 1;
        let (hash, is_key) = match self.slot(span) {
            Slot::Root => (ROOT_HASH, false),
            Slot::Key => (0, true),
            Slot::Value(h) => (h, false),
        };
        // Complex keys and everything under them get no positions.
        self.stack.push(if mapping {
            Frame::Map {
                map: Map::new(),
                hash,
                key: None,
                anchor,
                merges: Vec::new(),
                is_key,
                start,
            }
        } else {
            Frame::Seq {
                items: Vec::new(),
                hash,
                anchor,
                is_key,
                start,
            }
        });
        if is_key {
            self.record = false;
            let pos = self.pos(span);
            self.complex_key.get_or_insert(pos);
        }
    }

    fn end(&mut self, span: &Span) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (value, anchor, is_key, start) = match frame {
            Frame::Map {
                mut map,
                anchor,
                merges,
                is_key,
                start,
                ..
            } => {
                for m in merges {
                    merge_into(&mut map, m);
                }
                (Value::Object(map), anchor, is_key, start)
            }
            Frame::Seq {
                items,
                anchor,
                is_key,
                start,
                ..
            } => (Value::Array(items), anchor, is_key, start),
        };
        if anchor != 0 {
            let size = self.decoded - start;
            self.anchors.insert(anchor, (value.clone(), size));
        }
        if is_key {
            self.record = !self.stack.iter().any(|f| {
                matches!(
                    f,
                    Frame::Map { is_key: true, .. } | Frame::Seq { is_key: true, .. }
                )
            });
            let k = value.to_string();
            self.set_key(k, false, span);
        } else {
            self.put(value);
        }
    }
}

fn merge_into(map: &mut Map<String, Value>, m: Value) {
    match m {
        Value::Object(src) => {
            for (k, v) in src {
                map.entry(k).or_insert(v);
            }
        }
        Value::Array(list) => {
            for item in list {
                merge_into(map, item);
            }
        }
        _ => {}
    }
}

/// Parses every document of a YAML or JSON text. `first_line` is the 1-based line of the
/// text's first line in its file. `record_spans` turns position recording on.
pub fn parse_documents(
    text: &str,
    first_line: u32,
    record_spans: bool,
) -> Result<Vec<Document>, SyntaxError> {
    parse_documents_filtered(text, first_line, record_spans, None)
}

/// Like [`parse_documents`], but the body (everything but `apiVersion`, `kind` and
/// `metadata`) of an object whose kind `keep` rejects is parsed without being built: such
/// documents come out with their identity and metadata only. `List` kinds are always built.
pub fn parse_documents_filtered(
    text: &str,
    first_line: u32,
    record_spans: bool,
    keep: Option<&dyn Fn(&str) -> bool>,
) -> Result<Vec<Document>, SyntaxError> {
    let mut b = Builder {
        keep,
        root_kind: None,
        skip_next: false,
        skip_stack: Vec::new(),
        complex_key: None,
        stack: Vec::new(),
        anchors: HashMap::new(),
        decoded: 0,
        aliased: 0,
        refused: None,
        duplicates: Vec::new(),
        spans: SpanIndex::default(),
        line_offset: first_line.saturating_sub(1),
        record: record_spans,
        docs: Vec::new(),
        doc_start: None,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(ev) = parser.next_event() {
        let (ev, span) = ev.map_err(|e| SyntaxError {
            line: e.marker().line() as u32 + b.line_offset,
            column: e.marker().col() as u32 + 1,
            reason: e.info().to_owned(),
            limit: false,
        })?;
        if b.skip_next {
            // `Some(expect_key)` for a mapping, `None` for a sequence.
            let top = b.skip_stack.last().copied();
            match ev {
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    if top == Some(Some(true)) {
                        let pos = b.pos(&span);
                        b.complex_key.get_or_insert(pos);
                    }
                    let is_map = matches!(ev, Event::MappingStart(..));
                    b.skip_stack.push(is_map.then_some(true));
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    b.skip_stack.pop();
                    if let Some(Some(expect)) = b.skip_stack.last_mut() {
                        *expect = true;
                    }
                }
                Event::Scalar(..) | Event::Alias(_) => {
                    if let Some(Some(expect)) = b.skip_stack.last_mut() {
                        *expect = !*expect;
                    }
                }
                _ => {}
            }
            if b.skip_stack.is_empty() {
                b.skip_next = false;
            }
            continue;
        }
        match ev {
            Event::Scalar(text, style, anchor, tag) => b.scalar(text, style, anchor, tag, &span),
            Event::Alias(id) => b.alias(id, &span),
            Event::MappingStart(anchor, _) => b.start(true, anchor, &span),
            Event::SequenceStart(anchor, _) => b.start(false, anchor, &span),
            Event::MappingEnd | Event::SequenceEnd => b.end(&span),
            Event::DocumentStart(_) => {
                b.root_kind = None;
                b.spans = SpanIndex::default();
                b.doc_start = None;
                b.record = record_spans;
                b.decoded = 0;
                b.aliased = 0;
                b.duplicates.clear();
                b.anchors.clear();
            }
            _ => {}
        }
        if let Some((line, column, reason)) = b.refused.take() {
            return Err(SyntaxError {
                line,
                column,
                reason,
                limit: true,
            });
        }
        if let Some((line, column)) = b.complex_key {
            // Kubernetes' decoder turns YAML into JSON, whose keys are strings: a mapping or
            // sequence used as a key (often `{{ ... }}` template syntax) cannot be decoded.
            return Err(SyntaxError {
                line,
                column,
                reason:
                    "a mapping or sequence is used as a mapping key, which Kubernetes cannot decode"
                        .to_owned(),
                limit: false,
            });
        }
    }
    Ok(b.docs)
}

/// Parses a document with a libyaml-based parser, the same family of parser Kubernetes'
/// decoder (go-yaml) belongs to. Used to accept what Kubernetes accepts where the main
/// parser is stricter (flow collections closed at a lower indentation, for one), and to reject
/// what Kubernetes rejects where it is more lenient (tabs used as indentation). No positions
/// below the document are recorded for documents read this way.
pub fn parse_documents_compat(text: &str, first_line: u32) -> Result<Vec<Document>, SyntaxError> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for de in serde_yaml_ng::Deserializer::from_str(text) {
        match Value::deserialize(de) {
            Ok(value) => {
                let line = text
                    .lines()
                    .position(|l| {
                        let t = l.trim_start();
                        !(t.is_empty()
                            || t.starts_with('#')
                            || t.starts_with("---")
                            || t.starts_with('%'))
                    })
                    .map_or(first_line, |i| first_line + i as u32);
                out.push(Document {
                    value,
                    spans: SpanIndex::default(),
                    line,
                    column: 1,
                    duplicate_keys: Vec::new(),
                });
            }
            Err(e) => {
                let (line, column) = e.location().map_or((first_line, 1), |l| {
                    (first_line + l.line() as u32 - 1, l.column() as u32)
                });
                return Err(SyntaxError {
                    line,
                    column,
                    reason: e
                        .to_string()
                        .split(" at line ")
                        .next()
                        .unwrap_or_default()
                        .to_owned(),
                    limit: false,
                });
            }
        }
    }
    Ok(out)
}

fn resolve_scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    if let Some(tag) = tag {
        if tag.is_yaml_core_schema() || tag.handle == "!!" {
            return match tag.suffix.as_str() {
                "str" | "binary" | "timestamp" => Value::String(text.into_owned()),
                "null" => Value::Null,
                "bool" => resolve_plain(&text)
                    .filter(Value::is_boolean)
                    .unwrap_or(Value::String(text.into_owned())),
                "int" | "float" => resolve_plain(&text)
                    .filter(Value::is_number)
                    .unwrap_or(Value::String(text.into_owned())),
                _ => resolve_untagged(text, style),
            };
        }
        // A local tag (`!something`): the value as if untagged.
    }
    resolve_untagged(text, style)
}

fn resolve_untagged(text: Cow<'_, str>, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(text.into_owned());
    }
    match resolve_plain(&text) {
        Some(v) => v,
        None => Value::String(text.into_owned()),
    }
}

/// Resolves a plain scalar to null, a boolean or a number; `None` means it is a string.
fn resolve_plain(s: &str) -> Option<Value> {
    let Some(&first) = s.as_bytes().first() else {
        return Some(Value::Null);
    };
    if !(first.is_ascii_digit()
        || matches!(
            first,
            b'-' | b'+'
                | b'.'
                | b'~'
                | b'n'
                | b'N'
                | b'y'
                | b'Y'
                | b't'
                | b'T'
                | b'f'
                | b'F'
                | b'o'
                | b'O'
        ))
    {
        return None;
    }
    match s {
        "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Some(Value::Bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Some(Value::Bool(false))
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return None,
        _ => {}
    }
    resolve_number(s)
}

fn resolve_number(s: &str) -> Option<Value> {
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return None;
    }
    let clean: Cow<'_, str> = if body.contains('_') {
        Cow::Owned(body.replace('_', ""))
    } else {
        Cow::Borrowed(body)
    };
    let int = |digits: &str, radix: u32| -> Option<Value> {
        if digits.is_empty() {
            return None;
        }
        let n = u64::from_str_radix(digits, radix).ok()?;
        if neg {
            let v = i64::try_from(n)
                .ok()
                .map(|v| -v)
                .or_else(|| (n == 1u64 << 63).then_some(i64::MIN))?;
            Some(Value::Number(v.into()))
        } else {
            Some(Value::Number(n.into()))
        }
    };
    if let Some(h) = clean.strip_prefix("0x") {
        return int(h, 16);
    }
    if let Some(b) = clean.strip_prefix("0b") {
        return int(b, 2);
    }
    if let Some(o) = clean.strip_prefix("0o") {
        return int(o, 8);
    }
    if clean.bytes().all(|c| c.is_ascii_digit()) {
        if clean.len() > 1 && clean.starts_with('0') {
            return int(&clean[1..], 8);
        }
        return int(&clean, 10).or_else(|| float(&clean, neg));
    }
    // Floats: digits with one dot and/or an exponent.
    let bytes = clean.as_bytes();
    let mut seen_digit = false;
    let mut seen_dot = false;
    let mut seen_exp = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'0'..=b'9' => seen_digit = true,
            b'.' if !seen_dot && !seen_exp => seen_dot = true,
            b'e' | b'E' if seen_digit && !seen_exp => {
                seen_exp = true;
                if i + 1 < bytes.len() && matches!(bytes[i + 1], b'+' | b'-') {
                    i += 1;
                }
                if i + 1 >= bytes.len() {
                    return None;
                }
            }
            _ => return None,
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    float(&clean, neg)
}

fn float(s: &str, neg: bool) -> Option<Value> {
    let f: f64 = s.parse().ok()?;
    let f = if neg { -f } else { f };
    Number::from_f64(f).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(text: &str) -> Document {
        let mut d = parse_documents(text, 1, true).unwrap();
        assert_eq!(d.len(), 1, "{text}");
        d.remove(0)
    }

    #[test]
    fn scalars_resolve_like_kubernetes() {
        let d = one("a: yes\nb: off\nc: 010\nd: 0x1F\ne: 1_000\nf: 1.5\ng: '1'\nh: ~\ni:\nj: 1e3\nk: .inf\nl: -7\nm: 1.2.3\nn: \"true\"\no: 0o17\np: 2001-12-14\nq: !!str 12\nr: =\n");
        assert_eq!(
            d.value,
            json!({"a":true,"b":false,"c":8,"d":31,"e":1000,"f":1.5,"g":"1","h":null,"i":null,
                   "j":1000.0,"k":".inf","l":-7,"m":"1.2.3","n":"true","o":15,"p":"2001-12-14","q":"12","r":"="})
        );
    }

    #[test]
    fn positions_of_nested_fields() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: true\n  - name: b\n";
        let d = one(text);
        assert_eq!(d.line, 1);
        assert_eq!(
            d.spans
                .resolve("/spec/containers/0/securityContext/privileged"),
            Some((7, 7))
        );
        assert_eq!(d.spans.resolve("/spec/containers/1"), Some((8, 5)));
        assert_eq!(
            d.spans.resolve("/spec/containers/1/securityContext"),
            Some((8, 5))
        );
        assert_eq!(d.spans.resolve("/kind"), Some((2, 1)));
    }

    #[test]
    fn offsets_and_multiple_documents() {
        let docs = parse_documents("---\na: 1\n---\nb:\n  c: 2\n", 10, true).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, 11);
        assert_eq!(docs[1].line, 13);
        assert_eq!(docs[1].spans.resolve("/b/c"), Some((14, 3)));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let d = one("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\nlist: &l [1, 2]\ncopy: *l\n");
        assert_eq!(
            d.value,
            json!({"base":{"x":1,"y":2},"other":{"x":1,"y":3},"list":[1,2],"copy":[1,2]})
        );
    }

    #[test]
    fn complex_keys_in_skipped_bodies_are_still_errors() {
        let keep = |k: &str| k == "Pod";
        let text =
            "apiVersion: v1\nkind: Service\nspec:\n  ports:\n  - targetPort: {{ .Values.port }}\n";
        let e = parse_documents_filtered(text, 1, true, Some(&keep)).unwrap_err();
        assert_eq!((e.line, e.column), (5, 18));
        let fine =
            "apiVersion: v1\nkind: Service\nspec:\n  a: {b: [1, {c: d}], e: f}\n  g: [h]\nz: 1\n";
        assert!(parse_documents_filtered(fine, 1, true, Some(&keep)).is_ok());
    }

    #[test]
    fn bodies_of_unwanted_kinds_are_not_built() {
        let text = "apiVersion: v1\nkind: CustomResourceDefinition\nmetadata: {name: x}\nspec:\n  a: [1, {b: 2}]\nextra: 3\n---\napiVersion: v1\nkind: Pod\nspec: {hostPID: true}\n---\nkind: ConfigMapList\napiVersion: v1\nitems: [{kind: ConfigMap, data: {a: b}}]\n";
        let keep = |k: &str| k == "Pod";
        let docs: Vec<Document> = crate::split_documents(text)
            .into_iter()
            .flat_map(|(l, p)| parse_documents_filtered(p, l, true, Some(&keep)).unwrap())
            .collect();
        assert_eq!(
            docs[0].value,
            json!({"apiVersion": "v1", "kind": "CustomResourceDefinition", "metadata": {"name": "x"}})
        );
        assert_eq!(docs[1].value["spec"]["hostPID"], true);
        assert_eq!(docs[2].value["items"][0]["data"]["a"], "b");
    }

    #[test]
    fn json_documents() {
        let d = one("{\"apiVersion\": \"v1\",\n \"kind\": \"List\",\n \"items\": [{\"a\": 1.0}, {\"b\": null}]}");
        assert_eq!(d.value["items"][1], json!({"b": null}));
        assert_eq!(d.spans.resolve("/items/1"), Some((3, 24)));
    }

    #[test]
    fn errors_carry_positions() {
        let e = parse_documents("a: 1\nb: [1, 2\n", 5, true).unwrap_err();
        assert!(e.line >= 6, "{e}");
    }

    #[test]
    fn complex_keys_are_errors_not_panics() {
        let e = parse_documents("a: 1\nb: {{ .Values.x }}\n", 1, true).unwrap_err();
        assert_eq!((e.line, e.column), (2, 5));
        assert!(e.reason.contains("mapping key"), "{e}");
    }

    #[test]
    fn compat_parser_accepts_what_kubernetes_accepts() {
        // A flow sequence closed at the indentation of its key: go-yaml accepts it.
        let text = "spec:\n  args: [\n      \"-a\", \"b\",\n  ]\n";
        assert!(parse_documents(text, 1, true).is_err());
        let d = parse_documents_compat(text, 1).unwrap();
        assert_eq!(d[0].value["spec"]["args"][1], "b");
        // A tab used as separation: go-yaml rejects it.
        assert!(parse_documents_compat("a:\n  b: 1\n  c:\t\t[x]\n\t", 1).is_err());
    }
}

#[cfg(test)]
pub(crate) mod limits {
    use super::*;

    /// Nine levels of nine aliases each: 9^9 (387 million) strings once expanded.
    pub(crate) fn alias_bomb() -> String {
        let mut s = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (prev, cur) in ('a'..='h').zip('b'..='i') {
            let refs = vec![format!("*{prev}"); 9].join(",");
            s.push_str(&format!("{cur}: &{cur} [{refs}]\n"));
        }
        s
    }

    #[test]
    fn alias_bombs_are_refused_before_they_expand() {
        let text = alias_bomb();
        assert!(text.len() < 400, "{}", text.len());
        let e = parse_documents(&text, 1, true).unwrap_err();
        assert!(e.limit, "{e}");
        assert!(e.reason.contains("excessive aliasing"), "{e}");
        // The alias that crossed the line, not the start of the document.
        assert!(e.line >= 4, "{e}");
    }

    #[test]
    fn nested_mapping_aliases_are_refused() {
        // Each level is a mapping holding the previous level twice under two keys, with
        // merge keys on top: the other way to multiply a small document.
        let mut s = String::from("l0: &l0 {a: x, b: y}\n");
        for i in 1..40 {
            s.push_str(&format!(
                "l{i}: &l{i} {{p: *l{p}, q: *l{p}, <<: *l{p}}}\n",
                p = i - 1
            ));
        }
        let e = parse_documents(&s, 1, true).unwrap_err();
        assert!(e.limit && e.reason.contains("aliasing"), "{e}");
    }

    #[test]
    fn ordinary_aliases_are_fine() {
        // A realistic use: one anchored container spec reused a few hundred times.
        let mut s = String::from(
            "base: &c {name: c, image: nginx, ports: [{containerPort: 80}]}\nitems:\n",
        );
        for _ in 0..300 {
            s.push_str("- *c\n");
        }
        let d = parse_documents(&s, 1, true).unwrap();
        assert_eq!(d[0].value["items"][299]["image"], "nginx");
    }

    #[test]
    fn deep_nesting_is_refused() {
        // Flow collections: the parser's own recursion limit; block collections: ours.
        let flow = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 5),
            "]".repeat(MAX_DEPTH + 5)
        );
        assert!(parse_documents(&flow, 1, true).is_err());
        let block: String = (0..MAX_DEPTH + 5)
            .map(|i| format!("{}k:\n", " ".repeat(i)))
            .collect();
        let e = parse_documents(&block, 1, true).unwrap_err();
        assert!(
            e.reason.contains("deeper") || e.reason.contains("recursion"),
            "{e}"
        );
        assert_eq!(e.line as usize, MAX_DEPTH + 1, "{e}");
        let ok = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert!(parse_documents(&ok, 1, true).is_ok());
    }

    #[test]
    fn duplicate_keys_are_reported_and_the_last_one_wins() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  hostPID: false\n  containers: []\n  hostPID: true\n";
        let d = parse_documents(text, 1, true).unwrap();
        assert_eq!(d[0].value["spec"]["hostPID"], true);
        assert_eq!(
            d[0].duplicate_keys,
            [DuplicateKey {
                key: "hostPID".into(),
                line: 6,
                column: 3
            }]
        );
        assert_eq!(d[0].spans.resolve("/spec/hostPID"), Some((6, 3)));
        // Merged keys overridden by explicit ones are not duplicates.
        let merged = parse_documents("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n", 1, true).unwrap();
        assert!(merged[0].duplicate_keys.is_empty());
    }
}
