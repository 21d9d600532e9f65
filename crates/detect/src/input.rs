//! Reading audit logs with bounded memory, and the errors found in them.
//!
//! [`LineReader`] splits a stream into lines without ever holding more than the line limit
//! ([`DEFAULT_MAX_LINE_BYTES`], 16 MiB, by default) of one line: a longer line is skipped up
//! to its newline and reported as [`InputErrorKind::LineTooLong`]. The limit leaves room for
//! the largest event the API server writes: request bodies are capped at 3 MiB, and one event
//! holds at most a request and a response object.

use std::fmt;
use std::io::{self, BufRead};

/// Default longest line of a JSON-lines audit log (16 MiB).
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// Default largest single JSON document (a pretty-printed `Event` or `EventList`) read into
/// memory at once (256 MiB).
pub const DEFAULT_MAX_DOCUMENT_BYTES: usize = 256 << 20;

/// Most input errors kept with their location by a detector; all are counted in
/// [`Stats`](crate::Stats).
pub const MAX_KEPT_INPUT_ERRORS: usize = 100;

/// What was wrong with a piece of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputErrorKind {
    /// A line that is not JSON (or not UTF-8).
    NotJson,
    /// A line longer than the limit; skipped without being read into memory.
    LineTooLong,
    /// An `EventList` item that is not an audit event; the other items were evaluated.
    BadItem,
    /// A single JSON document larger than the limit; not read.
    DocumentTooLarge,
}

impl InputErrorKind {
    /// A stable kebab-case name (`not-json`, `line-too-long`, `bad-item`,
    /// `document-too-large`).
    pub fn as_str(self) -> &'static str {
        match self {
            InputErrorKind::NotJson => "not-json",
            InputErrorKind::LineTooLong => "line-too-long",
            InputErrorKind::BadItem => "bad-item",
            InputErrorKind::DocumentTooLarge => "document-too-large",
        }
    }
}

/// One input error, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// File name, `-` for stdin, `<input>` when the caller gave none.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// For [`InputErrorKind::BadItem`]: the 0-based index of the item in the `EventList`.
    pub item: Option<usize>,
    /// What was wrong.
    pub kind: InputErrorKind,
    /// Why, in words (never the input's values).
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(i) = self.item {
            write!(f, ": EventList item {i}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for InputError {}

/// The reason of a JSON error without its position and without quoted input (a string of
/// the wrong type could be a credential).
pub(crate) fn json_error_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut out = String::with_capacity(text.len().min(200));
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            out.push_str("\"…\"");
            while let Some(d) = chars.next() {
                match d {
                    '\\' => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            }
        } else {
            out.push(c);
        }
        if out.len() >= 200 {
            out.push('…');
            break;
        }
    }
    out
}

/// One line from a [`LineReader`].
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// A line (without its newline).
    Text {
        /// 1-based line number.
        number: u64,
        /// The bytes of the line.
        text: &'a [u8],
    },
    /// A line longer than the limit, skipped.
    TooLong {
        /// 1-based line number.
        number: u64,
        /// Its length in bytes.
        bytes: u64,
    },
}

/// Splits a byte stream into lines, holding at most `max` bytes of one line.
///
/// [`LineReader::next_line`] returns `None` at the end of the available input and keeps an
/// unfinished last line, so that a follower can call it again when the file has grown;
/// [`LineReader::finish`] returns that last line at the real end of input.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    max: usize,
    buf: Vec<u8>,
    /// Bytes of the current line skipped so far (it is over the limit).
    skipped: Option<u64>,
    line: u64,
    consumed: u64,
}

impl<R: BufRead> LineReader<R> {
    /// A reader refusing lines longer than `max` bytes.
    pub fn new(inner: R, max: usize) -> LineReader<R> {
        LineReader {
            inner,
            max,
            buf: Vec::new(),
            skipped: None,
            line: 0,
            consumed: 0,
        }
    }

    /// Bytes consumed from the underlying reader so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Number of the last line returned.
    pub fn line_number(&self) -> u64 {
        self.line
    }

    /// The underlying reader; it has consumed nothing beyond the last complete line and the
    /// unfinished line kept.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The unfinished line kept so far (at most the limit).
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    fn reset(&mut self) {
        if self.buf.capacity() > 1 << 20 {
            self.buf = Vec::new();
        } else {
            self.buf.clear();
        }
        self.skipped = None;
    }

    /// The next complete line, or `None` when the input has no complete line left.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        if let Some(last) = self.buf.last() {
            if *last == b'\n' {
                self.reset();
            }
        }
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                return Ok(None);
            }
            let (chunk, found) = match avail.iter().position(|&b| b == b'\n') {
                Some(i) => (&avail[..i], true),
                None => (avail, false),
            };
            let n = chunk.len();
            match self.skipped.as_mut() {
                Some(s) => *s += n as u64,
                None if self.buf.len() + n > self.max => {
                    self.skipped = Some((self.buf.len() + n) as u64);
                    self.buf = Vec::new();
                }
                None => self.buf.extend_from_slice(chunk),
            }
            let used = n + usize::from(found);
            self.inner.consume(used);
            self.consumed += used as u64;
            if found {
                self.line += 1;
                if let Some(bytes) = self.skipped.take() {
                    self.reset();
                    return Ok(Some(Line::TooLong {
                        number: self.line,
                        bytes,
                    }));
                }
                self.buf.push(b'\n');
                let len = self.buf.len() - 1;
                return Ok(Some(Line::Text {
                    number: self.line,
                    text: &self.buf[..len],
                }));
            }
        }
    }

    /// The unfinished last line, at the end of input (`None` when the input ended with a
    /// newline).
    pub fn finish(&mut self) -> Option<Line<'_>> {
        if self.buf.last() == Some(&b'\n') {
            self.reset();
        }
        if let Some(bytes) = self.skipped.take() {
            self.line += 1;
            self.reset();
            return Some(Line::TooLong {
                number: self.line,
                bytes,
            });
        }
        if self.buf.is_empty() {
            return None;
        }
        self.line += 1;
        self.buf.push(b'\n');
        let len = self.buf.len() - 1;
        Some(Line::Text {
            number: self.line,
            text: &self.buf[..len],
        })
    }
}

/// Parses a size such as `16777216`, `16MiB`, `512KiB`, `1GiB` (also `K`, `M`, `G`, `KB`,
/// `MB`, `GB`, all powers of 1024).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: usize = s[..digits].parse().ok()?;
    let mult: usize = match s[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], max: usize, cap: usize) -> Vec<String> {
        let mut r = LineReader::new(io::BufReader::with_capacity(cap, input), max);
        let mut out = Vec::new();
        let show = |l: Line<'_>| match l {
            Line::Text { number, text } => format!("{number}:{}", String::from_utf8_lossy(text)),
            Line::TooLong { number, bytes } => format!("{number}:too long ({bytes})"),
        };
        while let Some(l) = r.next_line().unwrap() {
            out.push(show(l));
        }
        if let Some(l) = r.finish() {
            out.push(show(l));
        }
        out
    }

    #[test]
    fn long_lines_are_skipped_in_bounded_memory() {
        let mut input = b"short\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', 10_000));
        input.extend_from_slice(b"\n\nlast");
        for cap in [3, 64, 8192] {
            assert_eq!(
                collect(&input, 100, cap),
                ["1:short", "2:too long (10000)", "3:", "4:last"]
            );
        }
        assert_eq!(collect(b"a\r\nbb\n", 2, 1), ["1:a\r", "2:bb"]);
        assert_eq!(collect(b"abc", 2, 1), ["1:too long (3)"]);
        assert!(collect(b"", 2, 1).is_empty());
    }

    #[test]
    fn the_reader_holds_at_most_the_limit() {
        let line = vec![b'y'; 1 << 20];
        let mut r = LineReader::new(io::BufReader::with_capacity(4096, &line[..]), 1000);
        assert!(r.next_line().unwrap().is_none());
        assert!(r.pending().is_empty() && r.buf.capacity() <= 8192);
        assert_eq!(
            r.finish(),
            Some(Line::TooLong {
                number: 1,
                bytes: 1 << 20
            })
        );
    }

    #[test]
    fn a_follower_gets_the_rest_of_a_line_later() {
        let mut r = LineReader::new(io::Cursor::new(b"{\"a\":".to_vec()), 100);
        assert!(r.next_line().unwrap().is_none());
        r.inner.get_mut().extend_from_slice(b"1}\nnext\n");
        assert_eq!(
            r.next_line().unwrap(),
            Some(Line::Text {
                number: 1,
                text: b"{\"a\":1}"
            })
        );
        assert_eq!(r.consumed(), 8);
    }

    #[test]
    fn sizes_and_reasons() {
        assert_eq!(parse_size("16MiB"), Some(16 << 20));
        assert_eq!(parse_size("512 k"), Some(512 << 10));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("1XB"), None);
        let e = serde_json::from_str::<u32>("\"hunter2\"").unwrap_err();
        let r = json_error_reason(&e);
        assert!(!r.contains("hunter2") && !r.contains("line"), "{r}");
    }
}
