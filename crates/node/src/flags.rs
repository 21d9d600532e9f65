//! Command lines and effective values: the flags a component runs with, read from a process
//! command line, a static pod's `command`/`args` or a systemd unit, and the value a check sees
//! once the component's configuration file and defaults are taken into account. No I/O.

use serde_json::Value;
use std::collections::BTreeMap;

/// The flags of one command line, by name without dashes. A flag given twice keeps the last
/// value, as Go's `pflag` does; a boolean flag without value is `true`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    values: BTreeMap<String, String>,
}

impl Flags {
    /// Parses arguments (the program name, when first, is skipped by the caller).
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Flags {
        let mut values = BTreeMap::new();
        let mut i = 0;
        while i < args.len() {
            let a = args[i].as_ref().trim();
            i += 1;
            let Some(name) = a.strip_prefix("--").or_else(|| a.strip_prefix('-')) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            match name.split_once('=') {
                Some((k, v)) => {
                    values.insert(k.to_owned(), unquote(v).to_owned());
                }
                None => {
                    // `--flag value` when the next word is not a flag; else a boolean.
                    match args.get(i).map(|n| n.as_ref().trim()) {
                        Some(next) if !next.starts_with('-') && !next.is_empty() => {
                            values.insert(name.to_owned(), unquote(next).to_owned());
                            i += 1;
                        }
                        _ => {
                            values.insert(name.to_owned(), "true".to_owned());
                        }
                    }
                }
            }
        }
        Flags { values }
    }

    /// Splits a shell-like line (as in a systemd `ExecStart` or an `Environment` value) into
    /// words, honouring single and double quotes, and parses it.
    pub fn parse_line(line: &str) -> Flags {
        Flags::parse(&split_words(line))
    }

    /// Adds the flags of `other`; its values win.
    pub fn extend(&mut self, other: Flags) {
        self.values.extend(other.values);
    }

    /// A flag's value (name without dashes).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name.trim_start_matches('-'))
            .map(String::as_str)
    }

    /// Sets a flag.
    pub fn set(&mut self, name: &str, value: &str) {
        self.values
            .insert(name.trim_start_matches('-').to_owned(), value.to_owned());
    }

    /// True when there is no flag.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Every flag.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Splits a line into words like a shell (quotes group, backslash escapes).
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        cur.push(n);
                        in_word = true;
                    }
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

/// Where an effective value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag.
    Flag,
    /// The component's configuration file.
    Config,
    /// The component's default (nothing set).
    Default,
    /// Unset, with no default.
    Unset,
}

/// The value a setting has: from the flag, else the configuration file, else the default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effective {
    /// The value (`None`: unset without default).
    pub value: Option<String>,
    /// Where it came from.
    pub origin: Origin,
}

/// Renders a configuration value as a flag would carry it: booleans and numbers as text,
/// lists comma-joined, maps as `k=v` pairs.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a.iter().map(value_text).collect::<Vec<_>>().join(","),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect::<Vec<_>>()
            .join(","),
        Value::Null => String::new(),
    }
}
