//! Text edits that set a field or add a list item at a JSON-pointer-like path, written in the
//! style of the surrounding text: block or flow, YAML or JSON, its indentation and quoting.
//! Nothing outside the edited range changes.

use crate::tree::{Kind, Node};
use saphyr_parser::ScalarStyle;
use serde_json::Value;

/// What a fix does to one document: data, applied by [`apply_op`].
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Sets the field at `path` (segments from the object's root) to `value`, creating the
    /// mappings on the way that are missing.
    Set {
        /// Path segments (mapping keys, or sequence indexes in decimal).
        path: Vec<String>,
        /// The new value.
        value: Value,
    },
    /// Makes the sequence at `path` contain `item` (appending it), creating the sequence and
    /// the mappings on the way when missing.
    Include {
        /// Path segments.
        path: Vec<String>,
        /// The item the sequence must hold.
        item: Value,
    },
}

impl Op {
    /// The path the operation writes, as a JSON pointer.
    pub fn pointer(&self) -> String {
        let path = match self {
            Op::Set { path, .. } | Op::Include { path, .. } => path,
        };
        path.iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect()
    }
}

/// One replacement of a byte range of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// First byte replaced.
    pub start: usize,
    /// Byte just past the replaced range (equal to `start` for an insertion).
    pub end: usize,
    /// The new text.
    pub text: String,
}

impl Edit {
    /// Applies the edit to `text`.
    pub fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.text.len());
        out.push_str(&text[..self.start]);
        out.push_str(&self.text);
        out.push_str(&text[self.end..]);
        out
    }
}

/// Why an edit cannot be made exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct EditError {
    /// 1-based line of the node that stops the edit.
    pub line: u32,
    /// Why.
    pub reason: String,
}

/// Layout conventions read from the document.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Spaces per nesting level of block mappings.
    pub step: usize,
    /// Spaces between a key and the `-` of its block sequence's items (0: `key:\n- item`).
    pub seq_indent: usize,
    /// The document is JSON (flow mappings with double-quoted keys).
    pub json: bool,
}

impl Layout {
    /// Reads the conventions from a document's root node.
    pub fn of(text: &str, root: &Node) -> Layout {
        let mut step = None;
        let mut seq_indent = None;
        root.walk(&mut |n| {
            if let Kind::Map {
                flow: false,
                entries,
            } = &n.kind
            {
                for (k, v) in entries {
                    match &v.kind {
                        Kind::Map { flow: false, .. } if v.line > k.line && step.is_none() => {
                            step = Some(v.column.saturating_sub(k.column) as usize);
                        }
                        Kind::Seq { flow: false, items } if seq_indent.is_none() => {
                            if let Some(first) = items.first() {
                                if let Some(dash) = dash_column(text, first.start) {
                                    seq_indent = Some(dash.saturating_sub(k.column as usize));
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        });
        let json = match &root.kind {
            Kind::Map {
                flow: true,
                entries,
            } => entries.first().is_none_or(|(k, _)| {
                matches!(
                    k.kind,
                    Kind::Scalar {
                        style: ScalarStyle::DoubleQuoted,
                        ..
                    }
                )
            }),
            _ => false,
        };
        Layout {
            step: step.filter(|s| *s > 0).unwrap_or(2),
            seq_indent: seq_indent.unwrap_or(0),
            json,
        }
    }
}

/// The column (in characters) of the `-` that introduces the block sequence item starting at
/// byte `item_start`.
fn dash_column(text: &str, item_start: usize) -> Option<usize> {
    let line_start = text[..item_start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..item_start];
    let trimmed = before.trim_end_matches([' ', '\t']);
    if !trimmed.ends_with('-') {
        return None;
    }
    Some(trimmed.chars().count() - 1)
}

fn err(node: &Node, reason: impl Into<String>) -> EditError {
    EditError {
        line: node.line,
        reason: reason.into(),
    }
}

/// Computes the edit that performs `op` on the document rooted at `root` (`None` when the
/// document already holds what `op` asks for).
pub fn apply_op(text: &str, root: &Node, op: &Op) -> Result<Option<Edit>, EditError> {
    let layout = Layout::of(text, root);
    let (path, leaf) = match op {
        Op::Set { path, value } => (path, value.clone()),
        Op::Include { path, item } => (path, Value::Array(vec![item.clone()])),
    };
    let mut node = root;
    // The mapping holding `node` and the key node naming it.
    let mut holder: Option<(&Node, &Node)> = None;
    let anchored = |n: &Node| {
        err(
            n,
            "the field is inside an anchored node (`&name`), which aliases elsewhere reuse",
        )
    };
    for (i, seg) in path.iter().enumerate() {
        if matches!(node.kind, Kind::Alias) {
            return Err(err(node, "the field is written through a YAML alias"));
        }
        if node.anchored {
            return Err(anchored(node));
        }
        match &node.kind {
            Kind::Map { entries, .. } => {
                if node.has_merge_key() {
                    return Err(err(node, "the mapping uses a YAML merge key (`<<`)"));
                }
                match entries.iter().rev().find(|(k, _)| k.scalar() == Some(seg)) {
                    Some((k, v)) => {
                        holder = Some((node, k));
                        node = v;
                    }
                    None => {
                        let value = nest(&path[i + 1..], leaf);
                        return insert_entry(text, node, seg, &value, &layout).map(Some);
                    }
                }
            }
            Kind::Seq { items, .. } => {
                let item = seg
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get(i))
                    .ok_or_else(|| err(node, format!("no item {seg} in the sequence")))?;
                holder = None;
                node = item;
            }
            Kind::Scalar { .. } if node.is_null() => {
                let value = nest(&path[i..], leaf);
                return replace_null(text, node, holder, &value, &layout).map(Some);
            }
            _ => {
                return Err(err(
                    node,
                    format!(
                        "expected a mapping or sequence on the way to `{}`",
                        op.pointer()
                    ),
                ))
            }
        }
    }
    if matches!(node.kind, Kind::Alias) {
        return Err(err(node, "the field is written through a YAML alias"));
    }
    if node.anchored {
        return Err(anchored(node));
    }
    match op {
        Op::Set { value, .. } => {
            if node.is_null() && !value.is_null() {
                return replace_null(text, node, holder, value, &layout).map(Some);
            }
            match &node.kind {
                Kind::Scalar { style, value: old } => {
                    if scalar_equals(old, *style, value) {
                        return Ok(None);
                    }
                    let rendered = render_scalar_like(value, *style, layout.json);
                    Ok(Some(Edit {
                        start: node.start,
                        end: node.end,
                        text: rendered,
                    }))
                }
                _ if value.is_object() || value.is_array() => Err(err(
                    node,
                    "replacing a whole collection is not an exact edit",
                )),
                _ => Err(err(node, format!("`{}` is not a scalar", op.pointer()))),
            }
        }
        Op::Include { item, .. } => match &node.kind {
            Kind::Seq { items, flow } => {
                if items
                    .iter()
                    .any(|i| matches!(&i.kind, Kind::Scalar { value, style } if scalar_equals(value, *style, item)))
                {
                    return Ok(None);
                }
                append_item(text, node, items, *flow, item, &layout).map(Some)
            }
            Kind::Scalar { .. } if node.is_null() => replace_null(
                text,
                node,
                holder,
                &Value::Array(vec![item.clone()]),
                &layout,
            )
            .map(Some),
            _ => Err(err(node, format!("`{}` is not a list", op.pointer()))),
        },
    }
}

/// `{a: {b: leaf}}` for the path `[a, b]`.
fn nest(path: &[String], leaf: Value) -> Value {
    path.iter().rev().fold(leaf, |v, k| {
        let mut m = serde_json::Map::new();
        m.insert(k.clone(), v);
        Value::Object(m)
    })
}

/// Whether a written scalar already means `value` (Kubernetes' YAML 1.1 booleans included).
fn scalar_equals(old: &str, style: ScalarStyle, value: &Value) -> bool {
    let plain = matches!(style, ScalarStyle::Plain);
    match value {
        Value::Bool(b) => {
            plain
                && matches!(
                    (b, old),
                    (
                        true,
                        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON"
                    ) | (
                        false,
                        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF"
                    )
                )
        }
        Value::String(s) => old == s && (!plain || !is_special_plain(s)),
        Value::Number(n) => plain && old == n.to_string(),
        _ => false,
    }
}

/// A plain scalar YAML (1.1, as Kubernetes reads it) would not read as this string.
fn is_special_plain(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s.is_empty()
        || matches!(
            lower.as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
        )
        || s.parse::<f64>().is_ok()
        || s.starts_with(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '.'))
        || s.contains(": ")
        || s.contains(" #")
        || s.contains(['{', '}', '[', ']', ',', '"', '\'', '\n', '\t'])
        || s.ends_with([' ', ':'])
}

/// A scalar in YAML flow/plain style, or JSON.
fn render_scalar(v: &Value, json: bool) -> String {
    match v {
        Value::String(s) if !json && !is_special_plain(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A replacement scalar written in the quoting style of the one it replaces.
fn render_scalar_like(v: &Value, style: ScalarStyle, json: bool) -> String {
    match (v, style) {
        (Value::String(s), ScalarStyle::SingleQuoted) if !json => {
            format!("'{}'", s.replace('\'', "''"))
        }
        (Value::String(s), ScalarStyle::DoubleQuoted) => Value::String(s.clone()).to_string(),
        _ => render_scalar(v, json),
    }
}

/// A value in flow style on one line (`{a: b}`, `[x]`), or compact JSON.
fn render_flow(v: &Value, json: bool) -> String {
    match v {
        Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", render_key(k, json), render_flow(v, json)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(|v| render_flow(v, json)).collect();
            format!("[{}]", parts.join(", "))
        }
        other => render_scalar(other, json),
    }
}

fn render_key(k: &str, json: bool) -> String {
    render_scalar(&Value::String(k.to_owned()), json)
}

/// JSON spread over lines, continuation lines indented by `indent` plus `step` per level.
fn render_json_pretty(v: &Value, indent: usize, step: usize) -> String {
    use serde::Serialize;
    let ind = vec![b' '; step];
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(&ind);
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    if v.serialize(&mut ser).is_err() {
        return v.to_string();
    }
    let s = String::from_utf8(buf).unwrap_or_else(|_| v.to_string());
    let pad = " ".repeat(indent);
    s.lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_owned()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Block lines for `key: value` at `indent`, without a final newline.
fn render_block_entry(key: &str, v: &Value, indent: usize, layout: &Layout) -> String {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut out = format!("{pad}{}:", render_key(key, false));
            for (k, v) in m {
                out.push('\n');
                out.push_str(&render_block_entry(k, v, indent + layout.step, layout));
            }
            out
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let dash = " ".repeat(indent + layout.seq_indent);
            let mut out = format!("{pad}{}:", render_key(key, false));
            for i in a {
                out.push_str(&format!("\n{dash}- {}", render_scalar(i, false)));
            }
            out
        }
        other => format!(
            "{pad}{}: {}",
            render_key(key, false),
            render_flow(other, false)
        ),
    }
}

/// Where a new line goes after `node`'s content: the start of the line following its last
/// character. Refuses when the content ends with a block scalar that keeps its trailing
/// newlines (`|+`), which a new line would change.
fn after_content(text: &str, node: &Node) -> Result<usize, EditError> {
    let mut last = node;
    loop {
        match &last.kind {
            Kind::Map {
                flow: false,
                entries,
            } if !entries.is_empty() => last = &entries[entries.len() - 1].1,
            Kind::Seq { flow: false, items } if !items.is_empty() => last = &items[items.len() - 1],
            _ => break,
        }
    }
    if let Kind::Scalar {
        style: ScalarStyle::Literal | ScalarStyle::Folded,
        ..
    } = last.kind
    {
        // The header (`|+`, `>2-`...) is before the content the span covers.
        let from = text[..last.start].rfind(['|', '>']).unwrap_or(last.start);
        let header = text[from..].lines().next().unwrap_or("");
        if header.contains('+') {
            return Err(err(
                last,
                "a block scalar that keeps its trailing newlines (`|+`) ends here",
            ));
        }
    }
    let mut p = node.end.max(last.end).min(text.len());
    while p > node.start && text.as_bytes()[p - 1].is_ascii_whitespace() {
        p -= 1;
    }
    Ok(match text[p..].find('\n') {
        Some(i) => p + i + 1,
        None => text.len(),
    })
}

/// An insertion of whole lines at `at` (a line start, or the end of a text without a final
/// newline).
fn insert_lines(text: &str, at: usize, lines: &str) -> Edit {
    let text = if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
        format!("\n{lines}")
    } else {
        format!("{lines}\n")
    };
    Edit {
        start: at,
        end: at,
        text,
    }
}

/// The column (in characters) of the node's line start, for flow content spread over lines.
fn line_of(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

fn insert_entry(
    text: &str,
    map: &Node,
    key: &str,
    value: &Value,
    layout: &Layout,
) -> Result<Edit, EditError> {
    let Kind::Map { flow, entries } = &map.kind else {
        return Err(err(map, "not a mapping"));
    };
    if !*flow {
        let indent = entries
            .first()
            .map_or(map.column as usize, |(k, _)| k.column as usize);
        let at = after_content(text, map)?;
        return Ok(insert_lines(
            text,
            at,
            &render_block_entry(key, value, indent, layout),
        ));
    }
    let json = layout.json
        || entries.first().is_some_and(|(k, _)| {
            matches!(
                k.kind,
                Kind::Scalar {
                    style: ScalarStyle::DoubleQuoted,
                    ..
                }
            )
        });
    let close = map.end.saturating_sub(1);
    match entries.last() {
        None => Ok(Edit {
            start: close,
            end: close,
            text: format!("{}: {}", render_key(key, json), render_flow(value, json)),
        }),
        Some((last_key, last_value)) => {
            let tail = &text[last_value.end..close];
            let trailing_comma = tail.contains(',');
            let at = if trailing_comma {
                last_value.end + tail.find(',').unwrap_or(0) + 1
            } else {
                last_value.end
            };
            let multiline = last_key.line > map.line;
            let entry = if multiline && json {
                let indent = last_key.column as usize;
                format!(
                    "{}: {}",
                    render_key(key, json),
                    render_json_pretty(value, indent, layout.step)
                )
            } else {
                format!("{}: {}", render_key(key, json), render_flow(value, json))
            };
            let sep = if multiline {
                let ls = line_of(text, last_key.start);
                let pad = &text[ls..last_key.start];
                let pad: String = pad
                    .chars()
                    .map(|c| if c == '\t' { '\t' } else { ' ' })
                    .collect();
                format!("\n{pad}")
            } else {
                " ".to_owned()
            };
            Ok(Edit {
                start: at,
                end: at,
                text: if trailing_comma {
                    format!("{sep}{entry},")
                } else {
                    format!(",{sep}{entry}")
                },
            })
        }
    }
}

fn append_item(
    text: &str,
    seq: &Node,
    items: &[Node],
    flow: bool,
    item: &Value,
    layout: &Layout,
) -> Result<Edit, EditError> {
    let style = items.last().and_then(|i| match &i.kind {
        Kind::Scalar { style, .. } => Some(*style),
        _ => None,
    });
    let rendered = match style {
        Some(s) => render_scalar_like(item, s, layout.json),
        None => render_flow(item, layout.json),
    };
    if !flow {
        let first = items
            .first()
            .ok_or_else(|| err(seq, "empty block sequence"))?;
        let dash = dash_column(text, first.start)
            .ok_or_else(|| err(first, "cannot find the sequence's `-`"))?;
        let at = after_content(text, seq)?;
        return Ok(insert_lines(
            text,
            at,
            &format!("{}- {rendered}", " ".repeat(dash)),
        ));
    }
    let close = seq.end.saturating_sub(1);
    match items.last() {
        None => Ok(Edit {
            start: close,
            end: close,
            text: rendered,
        }),
        Some(last) => {
            let tail = &text[last.end..close];
            let multiline = last.line > seq.line;
            let sep = if multiline {
                let ls = line_of(text, last.start);
                format!("\n{}", " ".repeat(text[ls..last.start].chars().count()))
            } else {
                " ".to_owned()
            };
            if let Some(c) = tail.find(',') {
                let at = last.end + c + 1;
                Ok(Edit {
                    start: at,
                    end: at,
                    text: format!("{sep}{rendered},"),
                })
            } else {
                Ok(Edit {
                    start: last.end,
                    end: last.end,
                    text: format!(",{sep}{rendered}"),
                })
            }
        }
    }
}

/// Replaces a null value (`key:`, `key: ~`, `key: null`) with `value`.
fn replace_null(
    text: &str,
    null: &Node,
    holder: Option<(&Node, &Node)>,
    value: &Value,
    layout: &Layout,
) -> Result<Edit, EditError> {
    let Some((map, key)) = holder else {
        return Err(err(null, "a null item cannot be replaced exactly"));
    };
    let flow_parent = matches!(map.kind, Kind::Map { flow: true, .. });
    if flow_parent {
        if null.start == null.end {
            return Err(err(
                null,
                "an empty value in a flow mapping cannot be edited exactly",
            ));
        }
        let json = layout.json
            || matches!(
                key.kind,
                Kind::Scalar {
                    style: ScalarStyle::DoubleQuoted,
                    ..
                }
            );
        return Ok(Edit {
            start: null.start,
            end: null.end,
            text: render_flow(value, json),
        });
    }
    // Block: the content goes on the lines below the key, one level deeper.
    let indent = key.column as usize + layout.step;
    let body = match value {
        Value::Object(m) if !m.is_empty() => m
            .iter()
            .map(|(k, v)| render_block_entry(k, v, indent, layout))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(a) if !a.is_empty() && a.iter().all(|i| !i.is_object() && !i.is_array()) => {
            let dash = " ".repeat(key.column as usize + layout.seq_indent);
            a.iter()
                .map(|i| format!("{dash}- {}", render_scalar(i, false)))
                .collect::<Vec<_>>()
                .join("\n")
        }
        other => {
            return Ok(Edit {
                start: null.start,
                end: null.end,
                text: render_flow(other, false),
            })
        }
    };
    // The colon after the key.
    let colon = text[key.end..]
        .find(':')
        .map(|i| key.end + i)
        .ok_or_else(|| err(key, "cannot find the key's `:`"))?;
    if null.start == null.end || null.start < colon {
        // `key:` with nothing after it (but perhaps a comment): add the lines below.
        let eol = text[colon..].find('\n').map_or(text.len(), |i| colon + i);
        let eol = if text[..eol].ends_with('\r') {
            eol - 1
        } else {
            eol
        };
        return Ok(Edit {
            start: eol,
            end: eol,
            text: format!("\n{body}"),
        });
    }
    // `key: ~` / `key: null`: the null goes, the lines come below.
    Ok(Edit {
        start: colon + 1,
        end: null.end,
        text: format!("\n{body}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::parse;
    use serde_json::json;

    fn run(text: &str, op: Op) -> String {
        let docs = parse(text).unwrap();
        match apply_op(text, &docs[0], &op).unwrap() {
            Some(e) => e.apply(text),
            None => text.to_owned(),
        }
    }

    fn set(path: &str, v: Value) -> Op {
        Op::Set {
            path: path.split('/').map(str::to_owned).collect(),
            value: v,
        }
    }

    fn include(path: &str, v: Value) -> Op {
        Op::Include {
            path: path.split('/').map(str::to_owned).collect(),
            item: v,
        }
    }

    #[test]
    fn adds_a_key_at_the_end_of_a_block_mapping_keeping_comments() {
        let t = "spec:\n  containers:\n  - name: a # the app\n    image: x\n    # trailing comment\n  volumes: []\n";
        let out = run(
            t,
            set(
                "spec/containers/0/securityContext/allowPrivilegeEscalation",
                json!(false),
            ),
        );
        assert_eq!(
            out,
            "spec:\n  containers:\n  - name: a # the app\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n    # trailing comment\n  volumes: []\n"
        );
    }

    #[test]
    fn fills_an_empty_flow_mapping_and_extends_a_flow_one() {
        let t = "c:\n  securityContext: {}\n  b: {x: 1}\n";
        let out = run(t, set("c/securityContext/privileged", json!(false)));
        assert_eq!(
            out,
            "c:\n  securityContext: {privileged: false}\n  b: {x: 1}\n"
        );
        let out = run(t, set("c/b/w", json!("two words")));
        assert_eq!(
            out,
            "c:\n  securityContext: {}\n  b: {x: 1, w: two words}\n"
        );
        // `y` reads as a boolean in YAML 1.1: quoted.
        let out = run(t, set("c/b/y", json!(1)));
        assert_eq!(out, "c:\n  securityContext: {}\n  b: {x: 1, \"y\": 1}\n");
    }

    #[test]
    fn replaces_a_scalar_in_place_keeping_quotes() {
        let t = "a:\n  privileged: true   # why\n  p: 'IfNotPresent'\n";
        assert_eq!(
            run(t, set("a/privileged", json!(false))),
            "a:\n  privileged: false   # why\n  p: 'IfNotPresent'\n"
        );
        assert_eq!(
            run(t, set("a/p", json!("Always"))),
            "a:\n  privileged: true   # why\n  p: 'Always'\n"
        );
        // Already what is asked: no edit.
        assert_eq!(run(t, set("a/privileged", json!(true))), t);
    }

    #[test]
    fn fills_an_empty_value_below_its_key() {
        let t = "spec:\n  securityContext: # set below\n  x: 1\n";
        assert_eq!(
            run(t, set("spec/securityContext/seccompProfile/type", json!("RuntimeDefault"))),
            "spec:\n  securityContext: # set below\n    seccompProfile:\n      type: RuntimeDefault\n  x: 1\n"
        );
        let t = "spec:\n  securityContext: ~\n";
        assert_eq!(
            run(t, set("spec/securityContext/runAsNonRoot", json!(true))),
            "spec:\n  securityContext:\n    runAsNonRoot: true\n"
        );
    }

    #[test]
    fn appends_to_block_and_flow_sequences_in_their_style() {
        let t = "caps:\n  drop:\n    - NET_RAW\n  add: [\"CHOWN\"]\n";
        assert_eq!(
            run(t, include("caps/drop", json!("ALL"))),
            "caps:\n  drop:\n    - NET_RAW\n    - ALL\n  add: [\"CHOWN\"]\n"
        );
        assert_eq!(
            run(t, include("caps/add", json!("ALL"))),
            "caps:\n  drop:\n    - NET_RAW\n  add: [\"CHOWN\", \"ALL\"]\n"
        );
        assert_eq!(run(t, include("caps/drop", json!("NET_RAW"))), t);
        let t = "caps: {drop: []}\n";
        assert_eq!(
            run(t, include("caps/drop", json!("ALL"))),
            "caps: {drop: [ALL]}\n"
        );
        let t = "caps: {}\n";
        assert_eq!(
            run(t, include("caps/drop", json!("ALL"))),
            "caps: {drop: [ALL]}\n"
        );
    }

    #[test]
    fn new_block_sequences_follow_the_document_s_indentation() {
        let t = "spec:\n    containers:\n        - name: a\n";
        assert_eq!(
            run(t, include("spec/containers/0/securityContext/capabilities/drop", json!("ALL"))),
            "spec:\n    containers:\n        - name: a\n          securityContext:\n              capabilities:\n                  drop:\n                      - ALL\n"
        );
    }

    #[test]
    fn json_keeps_its_layout() {
        let t = "{\n  \"spec\": {\n    \"containers\": [\n      {\n        \"name\": \"a\"\n      }\n    ]\n  }\n}\n";
        let out = run(
            t,
            include(
                "spec/containers/0/securityContext/capabilities/drop",
                json!("ALL"),
            ),
        );
        assert_eq!(
            out,
            "{\n  \"spec\": {\n    \"containers\": [\n      {\n        \"name\": \"a\",\n        \"securityContext\": {\n          \"capabilities\": {\n            \"drop\": [\n              \"ALL\"\n            ]\n          }\n        }\n      }\n    ]\n  }\n}\n"
        );
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v.pointer("/spec/containers/0/securityContext/capabilities/drop/0"),
            Some(&json!("ALL"))
        );
        let t = "{\"a\": {\"b\": 1}}";
        assert_eq!(
            run(t, set("a/c", json!(false))),
            "{\"a\": {\"b\": 1, \"c\": false}}"
        );
    }

    #[test]
    fn refuses_aliases_merge_keys_and_kept_block_scalars() {
        let t = "base: &b {x: 1}\nuse: *b\n";
        let d = parse(t).unwrap();
        assert!(apply_op(t, &d[0], &set("use/y", json!(1))).is_err());
        let t = "m:\n  <<: {x: 1}\n  y: 2\n";
        let d = parse(t).unwrap();
        assert!(apply_op(t, &d[0], &set("m/z", json!(1))).is_err());
        let t = "m:\n  s: |+\n    keep\n\n";
        let d = parse(t).unwrap();
        assert!(apply_op(t, &d[0], &set("m/z", json!(1))).is_err());
    }

    #[test]
    fn appends_at_the_end_of_a_file_without_final_newline() {
        let t = "a:\n  b: 1";
        assert_eq!(run(t, set("a/c", json!(true))), "a:\n  b: 1\n  c: true");
    }
}
