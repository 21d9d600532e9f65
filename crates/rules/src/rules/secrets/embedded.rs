//! Credentials inside file-like values (a ConfigMap key holding `app.env`, `application.yaml`,
//! `config.json`, `db.properties`...): the value is read as the file it is, and each of its
//! settings becomes an [`Entry`] (its field, its line in the value, its value) for the
//! credential classifier.
//!
//! The format comes from the key's extension (`.json`, `.yaml`/`.yml`: YAML, which reads JSON
//! too; `.env`, `.ini`, `.cfg`, `.conf`, `.cnf`, `.toml`: `name = value` lines;
//! `.properties`: `name = value` or `name: value` lines). A key without a known extension is
//! read by its content: a `{`/`[` value as JSON, a multi-line value of mostly `NAME=value`
//! lines as such, another multi-line value as YAML. Scripts, templates, code, certificates
//! and other files (`.sh`, `.py`, `.tpl`, `.pem`...) are not read as settings. YAML is read
//! event by event: aliases are not expanded, nesting and entry counts are bounded.

use saphyr_parser::{Event, Parser, ScalarStyle};

/// One setting of a file-like value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The setting's name: `DB_PASSWORD`, `db.password`, or a path in a document
    /// (`auth.apiKey`, `users[0].password`).
    pub(crate) field: String,
    /// The setting's own name (the last segment of `field`), which the classifier reads.
    pub(crate) name: String,
    /// Line of the setting in the value (1-based).
    pub(crate) line: usize,
    /// The literal value (unquoted). Never shown.
    pub(crate) value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// YAML or JSON.
    Document,
    /// `name = value` lines; `colon`: `name: value` too (Java properties).
    Lines { colon: bool },
}

/// Extensions whose content is not a list of settings: scripts, code, templates, markup,
/// certificates and keys (a PEM key is found by its shape, on the whole value).
const NOT_SETTINGS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "ps1",
    "py",
    "rb",
    "js",
    "mjs",
    "ts",
    "go",
    "java",
    "lua",
    "pl",
    "php",
    "groovy",
    "kts",
    "sql",
    "tpl",
    "tmpl",
    "template",
    "j2",
    "jinja",
    "jinja2",
    "gotmpl",
    "xml",
    "html",
    "htm",
    "md",
    "txt",
    "csv",
    "svg",
    "css",
    "crt",
    "cer",
    "pem",
    "key",
    "pub",
    "csr",
    "rego",
    "cel",
    "proto",
    "pbtxt",
    "dockerfile",
    "service",
    "nginx",
];

/// How a key's value is read, from its extension (`None`: not as settings).
fn format_of(key: &str, value: &str) -> Option<Format> {
    let lower = key.to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    if file == ".env" || file.starts_with(".env.") || file.ends_with(".env") {
        return Some(Format::Lines { colon: false });
    }
    let ext = file.rsplit_once('.').map(|(_, e)| e);
    match ext {
        Some("json" | "yaml" | "yml") => return Some(Format::Document),
        Some("properties") => return Some(Format::Lines { colon: true }),
        Some("ini" | "cfg" | "conf" | "cnf" | "toml") => {
            return Some(Format::Lines { colon: false })
        }
        Some(e) if NOT_SETTINGS.contains(&e) => return None,
        _ => {}
    }
    // No extension, or one that says nothing (`dex.config`, `resource.exclusions`): the
    // content decides.
    let t = value.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return Some(Format::Document);
    }
    if !value.trim().contains('\n') {
        return None;
    }
    let (kv, significant) = scan_lines(value, false, &mut |_| {});
    if kv > 0 && kv * 2 >= significant {
        Some(Format::Lines { colon: false })
    } else {
        Some(Format::Document)
    }
}

/// The settings of a file-like value, when the key's extension or the value's content says
/// it is one (`None` otherwise: a plain value, or a file that is not a list of settings).
pub(crate) fn entries(key: &str, value: &str) -> Option<Vec<Entry>> {
    match format_of(key, value)? {
        Format::Lines { colon } => {
            let mut out = Vec::new();
            scan_lines(value, colon, &mut |e| out.push(e));
            Some(out)
        }
        Format::Document => document_entries(value),
    }
}

/// A setting's name as files write them: `DB_PASSWORD`, `db.password`, `api-key`.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Reads `name = value` lines (and `name: value` with `colon`), skipping blank lines,
/// comments (`#`, `;`, `!`, `//`) and `[section]` headers; `export NAME=value` is a setting.
/// Returns the number of settings and of significant lines (neither blank nor comments).
fn scan_lines(value: &str, colon: bool, out: &mut dyn FnMut(Entry)) -> (usize, usize) {
    let (mut kv, mut significant) = (0, 0);
    for (i, raw) in value.lines().enumerate() {
        let t = raw.trim();
        if t.is_empty()
            || t.starts_with('#')
            || t.starts_with(';')
            || t.starts_with('!')
            || t.starts_with("//")
        {
            continue;
        }
        significant += 1;
        if t.starts_with('[') && t.ends_with(']') {
            kv += 1; // an ini section header is part of the format
            continue;
        }
        let t = t.strip_prefix("export ").map_or(t, str::trim_start);
        let sep = t.find(|c| c == '=' || (colon && c == ':'));
        let Some(sep) = sep else {
            continue;
        };
        let name = t[..sep].trim();
        let rest = &t[sep + 1..];
        if !is_name(name) || rest.starts_with('=') {
            continue; // `a == b` is code, not a setting
        }
        kv += 1;
        out(Entry {
            field: name.to_owned(),
            name: name.to_owned(),
            line: i + 1,
            value: unquote(rest).to_owned(),
        });
    }
    (kv, significant)
}

/// A setting's value (what follows the separator) without its quotes, or, unquoted, without
/// a comment that whitespace separates from it (`KEY=  # set later` is empty).
fn unquote(rest: &str) -> &str {
    let v = rest.trim_start();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q) {
            return inner.find(q).map_or(inner, |end| &inner[..end]);
        }
    }
    let bytes = rest.as_bytes();
    let cut = (0..bytes.len())
        .find(|&i| matches!(bytes[i], b'#' | b';') && i > 0 && bytes[i - 1].is_ascii_whitespace())
        .unwrap_or(bytes.len());
    rest[..cut].trim()
}

/// The deepest nesting and the most settings read from one value.
const MAX_DEPTH: usize = 64;
const MAX_ENTRIES: usize = 10_000;

enum Frame {
    /// A mapping: the path segment that leads to it, the current key (`None` while a key is
    /// expected), whether the next scalar is a key.
    Map {
        segment: String,
        key: Option<String>,
        expect_key: bool,
    },
    /// A sequence: the path segment that leads to it, the next index.
    Seq { segment: String, index: usize },
}

/// True for a plain YAML scalar that resolves to null, a boolean or a number (YAML 1.1 and
/// 1.2 spellings): not a string, so not a credential.
fn typed_plain(v: &str) -> bool {
    matches!(
        v,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "yes"
            | "Yes"
            | "YES"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
            | ".inf"
            | "-.inf"
            | ".nan"
    ) || v.parse::<f64>().is_ok()
        || v.strip_prefix("0x")
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The path of the current position: the segments of the open frames.
fn path_of(stack: &[Frame]) -> String {
    let mut path = String::new();
    for f in stack {
        let segment = match f {
            Frame::Map { segment, .. } | Frame::Seq { segment, .. } => segment,
        };
        if segment.starts_with('[') || path.is_empty() {
            path.push_str(segment);
        } else {
            path.push('.');
            path.push_str(segment);
        }
    }
    path
}

/// The segment a new node gets from its parent: the current key of a mapping, the index
/// of a sequence.
fn child_segment(stack: &mut [Frame]) -> String {
    match stack.last_mut() {
        Some(Frame::Map { key, .. }) => display_key(key.as_deref().unwrap_or("?")),
        Some(Frame::Seq { index, .. }) => {
            let s = format!("[{index}]");
            *index += 1;
            s
        }
        None => String::new(),
    }
}

/// A key as shown in a field path: a key that looks generated (long and random) could be
/// the secret itself, so it is replaced with `*`.
fn display_key(k: &str) -> String {
    if super::high_entropy(k) {
        "*".to_owned()
    } else {
        k.to_owned()
    }
}

/// After a node ends inside a mapping, the next scalar is a key again.
fn value_done(stack: &mut [Frame]) {
    if let Some(Frame::Map {
        expect_key, key, ..
    }) = stack.last_mut()
    {
        if !*expect_key {
            *expect_key = true;
            *key = None;
        } else {
            // a complex key (a mapping or sequence used as a key) just ended
            *expect_key = false;
            *key = Some("?".to_owned());
        }
    }
}

/// The string settings of a YAML or JSON document (every document of a stream), with their
/// paths. `None` when the value is not YAML at all (a scanner error before any setting).
fn document_entries(value: &str) -> Option<Vec<Entry>> {
    let mut out = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = Parser::new_from_str(value);
    let mut mapping_seen = false;
    while let Some(next) = parser.next_event() {
        let Ok((event, span)) = next else {
            // Not (or no longer) YAML: what was read so far stands if it was a mapping.
            return mapping_seen.then_some(out);
        };
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    break;
                }
                let segment = child_segment(&mut stack);
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    mapping_seen = true;
                    Frame::Map {
                        segment,
                        key: None,
                        expect_key: true,
                    }
                } else {
                    Frame::Seq { segment, index: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_done(&mut stack);
            }
            Event::Scalar(text, style, ..) => match stack.last_mut() {
                Some(Frame::Map {
                    key, expect_key, ..
                }) if *expect_key => {
                    *key = Some(text.into_owned());
                    *expect_key = false;
                }
                Some(Frame::Map { key, .. }) => {
                    let name = key.clone().unwrap_or_default();
                    let typed = style == ScalarStyle::Plain && typed_plain(&text);
                    if !typed {
                        let parent = path_of(&stack);
                        let shown = display_key(&name);
                        let field = if parent.is_empty() {
                            shown
                        } else {
                            format!("{parent}.{shown}")
                        };
                        out.push(Entry {
                            field,
                            name,
                            line: span.start.line(),
                            value: text.into_owned(),
                        });
                    }
                    value_done(&mut stack);
                }
                Some(Frame::Seq { .. }) => {
                    // A list item: no name of its own; its shape may still give it away.
                    let typed = style == ScalarStyle::Plain && typed_plain(&text);
                    let field = format!("{}{}", path_of(&stack), child_segment(&mut stack));
                    if !typed {
                        out.push(Entry {
                            field,
                            name: String::new(),
                            line: span.start.line(),
                            value: text.into_owned(),
                        });
                    }
                }
                None => {}
            },
            Event::Alias(_) => {
                // an alias repeats another node: nothing literal here
                if let Some(Frame::Seq { index, .. }) = stack.last_mut() {
                    *index += 1;
                } else {
                    value_done(&mut stack);
                }
            }
            _ => {}
        }
        if out.len() >= MAX_ENTRIES {
            break;
        }
    }
    mapping_seen.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(key: &str, value: &str) -> Vec<(String, usize, String)> {
        entries(key, value)
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field, e.line, e.value))
            .collect()
    }

    fn t(field: &str, line: usize, value: &str) -> (String, usize, String) {
        (field.to_owned(), line, value.to_owned())
    }

    #[test]
    fn env_and_properties_lines() {
        let env = "# db\nDB_HOST=db\nexport DB_PASSWORD=\"s3cr3t pw\" \nAPI_KEY=abc # note\n\nBROKEN LINE\nX==1\nTOKEN=   # later\nPW=#not-a-comment\n";
        assert_eq!(
            fields("app.env", env),
            [
                t("DB_HOST", 2, "db"),
                t("DB_PASSWORD", 3, "s3cr3t pw"),
                t("API_KEY", 4, "abc"),
                t("TOKEN", 8, ""),
                t("PW", 9, "#not-a-comment"),
            ]
        );
        assert_eq!(
            fields(
                "db.properties",
                "! comment\ndb.user: app\ndb.password = hunter22\n"
            ),
            [t("db.user", 2, "app"), t("db.password", 3, "hunter22")]
        );
        // `:` is a separator in properties files only
        assert_eq!(
            fields("nsswitch.conf", "passwd: compat\ngroup: compat\n"),
            []
        );
        assert_eq!(
            fields("my.ini", "[database]\npassword = 'x y'\n; c\n"),
            [t("password", 2, "x y")]
        );
    }

    #[test]
    fn documents_give_paths_and_lines() {
        let yaml = "db:\n  host: db\n  password: hunter22\n  port: 5432\nusers:\n- name: a\n  token: 'abc'\nflags: [x, true]\n";
        assert_eq!(
            fields("application.yaml", yaml),
            [
                t("db.host", 2, "db"),
                t("db.password", 3, "hunter22"),
                t("users[0].name", 6, "a"),
                t("users[0].token", 7, "abc"),
                t("flags[0]", 8, "x"),
            ]
        );
        assert_eq!(
            fields(
                "config.json",
                r#"{"auth": {"apiKey": "k-123", "retries": 3, "on": true}}"#
            ),
            [t("auth.apiKey", 1, "k-123")]
        );
        // quoted numbers are strings
        assert_eq!(fields("c.yaml", "pin: '1234'\n"), [t("pin", 1, "1234")]);
    }

    #[test]
    fn content_decides_without_an_extension() {
        assert_eq!(
            fields("config", "A=1\nDB_PASSWORD=x1\n"),
            [t("A", 1, "1"), t("DB_PASSWORD", 2, "x1")]
        );
        assert_eq!(
            fields("oidc.config", "name: x\nclientSecret: $oidc.secret\n").len(),
            2
        );
        assert_eq!(fields("blob", r#"{"token": "t"}"#), [t("token", 1, "t")]);
        // plain values, scripts and prose are not settings
        assert_eq!(entries("DB_PASSWORD", "hunter22"), None);
        assert_eq!(entries("run.sh", "PASSWORD=x\n"), None);
        assert_eq!(entries("notes", "just some words\nand more words\n"), None);
    }

    #[test]
    fn hostile_documents_are_bounded() {
        let deep = "[".repeat(10_000);
        assert!(entries("x.json", &deep).is_none_or(|e| e.is_empty()));
        let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: [*c, *c]\n";
        assert_eq!(fields("b.yaml", bomb).len(), 2, "aliases are not expanded");
        assert_eq!(
            fields("k.yaml", "? [a, b]\n: v\npassword: p\n")
                .last()
                .unwrap()
                .0,
            "password"
        );
        let random = "{\"q8Zt3LmX0vR7pK2wYc9N\": {\"password\": \"x\"}}";
        assert_eq!(fields("r.json", random), [t("*.password", 1, "x")]);
    }

    #[test]
    fn malformed_values_do_not_panic() {
        for v in [
            "{",
            "[[[",
            "key: 'unterminated\n",
            "- - - -\n",
            "? \n",
            "&a *a\n",
            "a: !!binary x\nb: *nope\n",
            "%YAML 1.2\n---\na: b\n...\n---\nc: d\n",
            "{\n\t\"password\": \"tabbed\"\n}",
            "é=ü\n密码=值\nPASSWORD=пароль # коммент\n",
            "=\n:\n==\n\"\n'\n",
            "\u{0}\u{1}: \u{2}\n",
            "[section\nx = \"unterminated\n",
        ] {
            for key in ["v.json", "v.yaml", "v.env", "v.properties", "v"] {
                let _ = entries(key, v);
            }
        }
        assert_eq!(
            fields(
                "t.json",
                "{\n\t\"password\": \"tabbed\",\n\t\"n\": {\"token\": \"x\"}\n}"
            ),
            [t("password", 2, "tabbed"), t("n.token", 3, "x")],
            "JSON indented with tabs"
        );
        assert_eq!(
            fields("x.env", "PASSWORD=пароль # коммент\n"),
            [t("PASSWORD", 1, "пароль")]
        );
    }
}
