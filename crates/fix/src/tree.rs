//! A light syntax tree of a YAML (or JSON) stream: every node with its byte range and style,
//! enough to edit the text in place without re-emitting it.
//!
//! Built from `saphyr-parser` events (the parser the loader uses), so what the tree sees is
//! what the scan saw.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Node {
    /// Byte offset where the node starts (for a flow collection, its opening bracket).
    pub start: usize,
    /// Byte offset just past the node's last character (for a block collection, past its last
    /// descendant's content; for a flow collection, past its closing bracket).
    pub end: usize,
    /// 1-based line of `start`.
    pub line: u32,
    /// 0-based column (in characters) of `start`.
    pub column: u32,
    /// The node carries an anchor (`&name`): aliases elsewhere reuse it.
    pub anchored: bool,
    /// What the node is.
    pub kind: Kind,
}

/// The kinds of node.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A scalar with its decoded value and style.
    Scalar {
        /// The decoded value.
        value: String,
        /// Plain, quoted or block.
        style: ScalarStyle,
    },
    /// A mapping.
    Map {
        /// Flow style (`{...}`).
        flow: bool,
        /// Keys and values in document order.
        entries: Vec<(Node, Node)>,
    },
    /// A sequence.
    Seq {
        /// Flow style (`[...]`).
        flow: bool,
        /// Items in document order.
        items: Vec<Node>,
    },
    /// An alias (`*name`): edits never go through one.
    Alias,
}

impl Node {
    /// The value under `key` in a mapping (the last one, as the loader keeps the last of a
    /// duplicated key).
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map { entries, .. } => entries
                .iter()
                .rev()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `key` in a mapping.
    pub fn key_node(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map { entries, .. } => entries
                .iter()
                .rev()
                .find(|(k, _)| k.scalar() == Some(key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    /// The decoded value of a scalar.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }

    /// True for a plain scalar that YAML resolves to null (`~`, `null`, empty).
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { value, style: ScalarStyle::Plain }
            if matches!(value.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// True when a mapping holds a `<<` merge key (its effective value is not only what it
    /// writes itself).
    pub fn has_merge_key(&self) -> bool {
        match &self.kind {
            Kind::Map { entries, .. } => entries.iter().any(|(k, _)| {
                k.scalar() == Some("<<")
                    && matches!(
                        k.kind,
                        Kind::Scalar {
                            style: ScalarStyle::Plain,
                            ..
                        }
                    )
            }),
            _ => false,
        }
    }

    /// Visits the node and its descendants, depth first.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Node)) {
        f(self);
        match &self.kind {
            Kind::Map { entries, .. } => {
                for (k, v) in entries {
                    k.walk(f);
                    v.walk(f);
                }
            }
            Kind::Seq { items, .. } => {
                for i in items {
                    i.walk(f);
                }
            }
            _ => {}
        }
    }
}

/// A parse failure, with its 1-based position.
#[derive(Debug, Clone, thiserror::Error)]
#[error("line {line} column {column}: {reason}")]
pub struct ParseError {
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// What the parser says.
    pub reason: String,
}

/// Char index to byte offset, for text that is not pure ASCII.
struct Offsets(Option<Vec<usize>>);

impl Offsets {
    fn new(text: &str) -> Offsets {
        if text.is_ascii() {
            return Offsets(None);
        }
        let mut v: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        v.push(text.len());
        Offsets(Some(v))
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.0 {
            None => char_index,
            Some(v) => v
                .get(char_index)
                .copied()
                .unwrap_or(*v.last().unwrap_or(&0)),
        }
    }
}

enum Open {
    Map {
        node: Node,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
    Seq {
        node: Node,
        items: Vec<Node>,
    },
}

/// Parses every document of `text`; each document's root node in order (an empty document
/// is a null scalar).
pub fn parse(text: &str) -> Result<Vec<Node>, ParseError> {
    let offsets = Offsets::new(text);
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mk = |span: &Span, anchor: usize, kind: Kind| Node {
        start: offsets.byte(span.start.index()),
        end: offsets.byte(span.end.index()),
        line: span.start.line() as u32,
        column: span.start.col() as u32,
        anchored: anchor > 0,
        kind,
    };
    // Whether a collection starting at `at` is in flow style (past its anchor and tag).
    let opens = |at: usize, bracket: char| {
        let mut rest = &text[at..];
        loop {
            rest = rest.trim_start_matches([' ', '\t', '\r', '\n']);
            if rest.starts_with('&') || rest.starts_with('!') {
                let end = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
                rest = &rest[end..];
            } else {
                return rest.starts_with(bracket);
            }
        }
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| ParseError {
            line: e.marker().line() as u32,
            column: e.marker().col() as u32 + 1,
            reason: e.info().to_owned(),
        })?;
        let done = match event {
            Event::StreamEnd => break,
            Event::Scalar(value, style, anchor, _) => Some(mk(
                &span,
                anchor,
                Kind::Scalar {
                    value: value.into_owned(),
                    style,
                },
            )),
            Event::Alias(_) => Some(mk(&span, 0, Kind::Alias)),
            Event::MappingStart(anchor, _) => {
                let flow = opens(offsets.byte(span.start.index()), '{');
                stack.push(Open::Map {
                    node: mk(
                        &span,
                        anchor,
                        Kind::Map {
                            flow,
                            entries: Vec::new(),
                        },
                    ),
                    entries: Vec::new(),
                    key: None,
                });
                None
            }
            Event::SequenceStart(anchor, _) => {
                let flow = opens(offsets.byte(span.start.index()), '[');
                stack.push(Open::Seq {
                    node: mk(
                        &span,
                        anchor,
                        Kind::Seq {
                            flow,
                            items: Vec::new(),
                        },
                    ),
                    items: Vec::new(),
                });
                None
            }
            Event::MappingEnd | Event::SequenceEnd => {
                let close_end = offsets.byte(span.end.index());
                match stack.pop() {
                    Some(Open::Map {
                        mut node, entries, ..
                    }) => {
                        let flow = matches!(node.kind, Kind::Map { flow: true, .. });
                        node.end = if flow {
                            close_end
                        } else {
                            entries.last().map_or(node.start, |(k, v)| v.end.max(k.end))
                        };
                        node.kind = Kind::Map { flow, entries };
                        Some(node)
                    }
                    Some(Open::Seq { mut node, items }) => {
                        let flow = matches!(node.kind, Kind::Seq { flow: true, .. });
                        node.end = if flow {
                            close_end
                        } else {
                            items.last().map_or(node.start, |i| i.end)
                        };
                        node.kind = Kind::Seq { flow, items };
                        Some(node)
                    }
                    None => None,
                }
            }
            _ => None,
        };
        if let Some(node) = done {
            match stack.last_mut() {
                None => docs.push(node),
                Some(Open::Map { entries, key, .. }) => match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                },
                Some(Open::Seq { items, .. }) => items.push(node),
            }
        }
    }
    Ok(docs)
}

/// The node at `line`:`column` (1-based both, as the loader reports objects) among the
/// document roots and the items of `List` documents.
pub fn object_root(docs: &[Node], line: u32, column: u32) -> Option<&Node> {
    let at = |n: &Node| n.line == line && n.column + 1 == column;
    for d in docs {
        if at(d) {
            return Some(d);
        }
        if let Some(Kind::Seq { items, .. }) = d.get("items").map(|n| &n.kind) {
            if let Some(i) = items.iter().find(|i| at(i)) {
                return Some(i);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_the_written_text() {
        let t = "a: 1\nb:\n  c: [x, \"y\"]\n  d: {e: f}\n---\n{\"k\": \"é\", \"m\": 2}\n";
        let docs = parse(t).unwrap();
        assert_eq!(docs.len(), 2);
        let b = docs[0].get("b").unwrap();
        assert_eq!(&t[b.start..b.end], "c: [x, \"y\"]\n  d: {e: f}");
        let c = b.get("c").unwrap();
        assert_eq!(&t[c.start..c.end], "[x, \"y\"]");
        let m = docs[1].get("m").unwrap();
        assert_eq!(&t[m.start..m.end], "2");
        let k = docs[1].get("k").unwrap();
        assert_eq!(&t[k.start..k.end], "\"é\"");
    }

    #[test]
    fn anchored_flow_collections_are_flow() {
        let t = "a: &x {b: 1}\nc: !!seq [1]\n";
        let docs = parse(t).unwrap();
        let a = docs[0].get("a").unwrap();
        assert!(a.anchored);
        assert!(matches!(a.kind, Kind::Map { flow: true, .. }));
        assert!(matches!(
            docs[0].get("c").unwrap().kind,
            Kind::Seq { flow: true, .. }
        ));
    }
}
