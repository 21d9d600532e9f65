//! What alert text must not repeat, and how much of a field it repeats.
//!
//! Credentials in command lines (the `command=` arguments of exec and attach requests, a
//! container's `command` and `args`), in request URIs and in JSON values are replaced with
//! [`MASK`]; the names around them stay. Long fields are cut at [`MAX_FIELD_BYTES`].
//!
//! A value is masked when:
//!
//! * it follows a credential-like name (the SEC002 classifier): `--password=VALUE`,
//!   `--token VALUE`, `-password VALUE`, `NAME=VALUE` (environment assignments, `key=value`
//!   pairs in connection strings, query strings and `--set` lists), a JSON key;
//! * it is the attached value of a tool's short password option: `-pVALUE` for the MySQL and
//!   MariaDB clients, `-p VALUE` / `-pVALUE` for `sshpass` and the MongoDB tools (and for
//!   `docker`, `podman`, `helm`, `oc`, `az`... after `login`), `-a VALUE` for `redis-cli`, the
//!   password half of `-u USER:PASSWORD` / `--user USER:PASSWORD` for `curl`;
//! * it is the credential of an `Authorization:`, `Proxy-Authorization:` or `Cookie:` header,
//!   or of a header whose name is credential-like (`X-Api-Key:`); the scheme (`Bearer`) stays;
//! * it is the password (or a token-like user) in the userinfo of a URL
//!   (`postgresql://user:***@host/db`);
//! * it has the shape of a credential whatever its name (a PEM private key, a cloud access
//!   key, a JSON Web Token, a GitHub or Slack token...).
//!
//! A shell command line given as one argument (`sh -c "mysql -uroot -pSECRET"`) is split
//! with shell quoting rules and each word is judged the same way.

use std::borrow::Cow;
use std::fmt::Write as _;

use serde_json::Value;

use crate::credentials::{
    credential_name, credential_shape, high_entropy, sensitive_pair, weak_credential_name,
};

/// What replaces a credential in alert text.
pub const MASK: &str = "***";

/// Largest interpolated field in an alert, in bytes: each placeholder of a rule's output, and
/// each text field of an [`Alert`](crate::Alert) (user, object name, audit id...). A longer
/// value is cut at a character boundary and ends with `…(N bytes truncated)`.
pub const MAX_FIELD_BYTES: usize = 1024;

/// Most entries kept in an alert's lists (groups, source IPs); the rest are replaced by one
/// `…(N more)` entry.
pub const MAX_LIST_ITEMS: usize = 64;

/// How deep quoted shell text inside quoted shell text is split before it is masked whole.
const MAX_SHELL_DEPTH: usize = 4;

/// Cuts `s` to at most `max` bytes (at a character boundary), marking the cut.
pub fn truncate_field(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut cut = max;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    let dropped = s.len() - cut;
    s.truncate(cut);
    let _ = write!(s, "…({dropped} bytes truncated)");
}

/// Keeps at most [`MAX_LIST_ITEMS`] entries of at most [`MAX_FIELD_BYTES`] each.
pub(crate) fn cap_list(list: &mut Vec<String>) {
    if list.len() > MAX_LIST_ITEMS {
        let more = list.len() - MAX_LIST_ITEMS;
        list.truncate(MAX_LIST_ITEMS);
        list.push(format!("…({more} more)"));
    }
    for s in list.iter_mut() {
        truncate_field(s, MAX_FIELD_BYTES);
    }
}

/// Tools seen so far on a command line, for their own short password options.
#[derive(Debug, Clone, Copy, Default)]
struct Tools {
    /// MySQL-style clients: `-pVALUE` (attached only; `-p VALUE` prompts).
    mysql: bool,
    /// `sshpass`, MongoDB tools: `-pVALUE` and `-p VALUE`.
    p_option: bool,
    /// `redis-cli`: `-a VALUE`.
    redis: bool,
    /// `curl`: `-u USER:PASSWORD`.
    curl: bool,
    /// Container and cloud CLIs whose `login` takes `-p VALUE`.
    login_cli: bool,
    /// The word `login` was seen.
    login: bool,
}

impl Tools {
    fn note(&mut self, word: &str) {
        let base = word.rsplit('/').next().unwrap_or(word);
        match base {
            "mysql" | "mysqldump" | "mysqladmin" | "mysqlimport" | "mysqlcheck" | "mysqlshow"
            | "mysqlpump" | "mysqlslap" | "mysqlsh" | "mariadb" | "mariadb-dump"
            | "mariadb-admin" | "mycli" => self.mysql = true,
            "sshpass" | "mongo" | "mongosh" | "mongodump" | "mongorestore" | "mongoexport"
            | "mongoimport" | "mongostat" | "mongotop" | "mongofiles" => self.p_option = true,
            "redis-cli" | "keydb-cli" | "valkey-cli" => self.redis = true,
            "curl" => self.curl = true,
            "docker" | "podman" | "nerdctl" | "buildah" | "skopeo" | "helm" | "oc" | "az"
            | "crane" => self.login_cli = true,
            "login" => self.login = true,
            _ => {}
        }
    }
}

/// What the previous word says about the next one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Next {
    #[default]
    Nothing,
    /// A credential: mask it.
    Value,
    /// Maybe a credential: mask it if it looks random.
    WeakValue,
    /// `USER:PASSWORD`: mask the password.
    UserPass,
    /// The value of a credential header: an optional scheme, then the credential.
    HeaderValue,
}

/// State carried from one word of a command line to the next.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ArgState {
    tools: Tools,
    next: Next,
}

/// The masked form of one command-line word, or `None` when it can be repeated as is.
pub(crate) fn redact_arg(word: &str, st: &mut ArgState) -> Option<String> {
    redact_arg_at(word, st, 0)
}

fn redact_arg_at(word: &str, st: &mut ArgState, depth: usize) -> Option<String> {
    match std::mem::take(&mut st.next) {
        Next::Value if !word.is_empty() => return Some(MASK.to_string()),
        Next::WeakValue if high_entropy(word) || credential_shape(word).is_some() => {
            return Some(MASK.to_string())
        }
        Next::UserPass => return redact_user_pass(word),
        Next::HeaderValue => {
            if is_auth_scheme(word) {
                st.next = Next::Value;
                return None;
            }
            return (!word.is_empty()).then(|| MASK.to_string());
        }
        _ => {}
    }
    if word.chars().any(char::is_whitespace) {
        if depth >= MAX_SHELL_DEPTH {
            return Some(MASK.to_string());
        }
        let (out, tools) = redact_shell(word, st.tools, depth + 1);
        st.tools = tools;
        return out;
    }
    st.tools.note(word);
    if let Some(r) = redact_header(word, st) {
        return r;
    }
    if word.len() > 1
        && word.starts_with('-')
        && !word[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        if let Some(r) = redact_flag(word, st) {
            return r;
        }
    }
    redact_value(word)
}

fn redact_user_pass(v: &str) -> Option<String> {
    match v.split_once(':') {
        Some((user, pass)) if !pass.is_empty() => Some(format!("{user}:{MASK}")),
        _ => None,
    }
}

fn is_auth_scheme(w: &str) -> bool {
    [
        "bearer",
        "basic",
        "token",
        "digest",
        "negotiate",
        "ntlm",
        "apikey",
        "dpop",
    ]
    .iter()
    .any(|s| w.eq_ignore_ascii_case(s))
}

fn credential_header(name: &str) -> bool {
    [
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
        || credential_name(name)
}

/// `Name:VALUE` / `Name:` for credential headers. `Some(result)` when the word is one.
fn redact_header(word: &str, st: &mut ArgState) -> Option<Option<String>> {
    let (name, value) = word.split_once(':')?;
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        || !credential_header(name)
    {
        return None;
    }
    if value.is_empty() {
        st.next = Next::HeaderValue;
        return Some(None);
    }
    if is_auth_scheme(value) {
        st.next = Next::Value;
        return Some(None);
    }
    Some(Some(format!("{name}:{MASK}")))
}

/// A flag that takes a value (`--no-password`, `--skip-password` do not).
fn value_flag(name: &str) -> bool {
    !name.is_empty() && !name.starts_with("no-") && !name.starts_with("skip-")
}

/// Options (`-x...`, `--name[=value]`). `Some(result)` when the option decided the word.
fn redact_flag(word: &str, st: &mut ArgState) -> Option<Option<String>> {
    let dashes = if word.starts_with("--") { 2 } else { 1 };
    let (prefix, body) = word.split_at(dashes);
    if let Some((name, value)) = body.split_once('=') {
        if value_flag(name) && sensitive_pair(name, value) {
            return Some(Some(format!("{prefix}{name}={MASK}")));
        }
        if st.tools.curl && matches!(name, "user" | "proxy-user") {
            return Some(redact_user_pass(value).map(|v| format!("{prefix}{name}={v}")));
        }
        return Some(redact_value(value).map(|v| format!("{prefix}{name}={v}")));
    }
    if let (1, Some(first)) = (dashes, body.chars().next()) {
        let rest = &body[first.len_utf8()..];
        let t = st.tools;
        let login = t.login_cli && t.login;
        let (attached, separate) = match first {
            'p' => (t.mysql || t.p_option || login, t.p_option || login),
            'a' => (t.redis, t.redis),
            _ => (false, false),
        };
        if attached && !rest.is_empty() {
            return Some(Some(format!("-{first}{MASK}")));
        }
        if separate && rest.is_empty() {
            st.next = Next::Value;
            return Some(None);
        }
        if t.curl && matches!(first, 'u' | 'U') {
            if rest.is_empty() {
                st.next = Next::UserPass;
                return Some(None);
            }
            return Some(redact_user_pass(rest).map(|v| format!("-{first}{v}")));
        }
    }
    if value_flag(body) && credential_name(body) {
        st.next = Next::Value;
        return Some(None);
    }
    if value_flag(body) && weak_credential_name(body) {
        st.next = Next::WeakValue;
        return Some(None);
    }
    if st.tools.curl && dashes == 2 && matches!(body, "user" | "proxy-user") {
        st.next = Next::UserPass;
        return Some(None);
    }
    None
}

/// A value on its own: JSON with credential keys, URLs with a password, `key=value` lists with
/// credential keys, credential shapes.
pub(crate) fn redact_value(v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    let t = v.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        if let Ok(mut j) = serde_json::from_str::<Value>(v) {
            return redact_json(&mut j, None).then(|| j.to_string());
        }
    }
    let mut cur: Cow<'_, str> = Cow::Borrowed(v);
    if let Some(r) = redact_urls(&cur) {
        cur = Cow::Owned(r);
    }
    if let Some(r) = redact_pairs(&cur) {
        cur = Cow::Owned(r);
    }
    if credential_shape(&cur).is_some() {
        return Some(MASK.to_string());
    }
    match cur {
        Cow::Owned(s) => Some(s),
        Cow::Borrowed(_) => None,
    }
}

/// Masks the password (or a token-like user name) in every `scheme://userinfo@host`.
fn redact_urls(v: &str) -> Option<String> {
    if !v.contains("://") {
        return None;
    }
    let mut out = String::with_capacity(v.len());
    let mut rest = v;
    let mut changed = false;
    while let Some(i) = rest.find("://") {
        let start = i + 3;
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let end = after
            .find(|c: char| matches!(c, '/' | '?' | '#' | '"' | '\'') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                let masked = match userinfo.split_once(':') {
                    Some((user, pass)) if !pass.is_empty() => Some(format!("{user}:{MASK}")),
                    Some(_) => None,
                    None if credential_shape(userinfo).is_some() || high_entropy(userinfo) => {
                        Some(MASK.to_string())
                    }
                    None => None,
                };
                match masked {
                    Some(m) => {
                        out.push_str(&m);
                        changed = true;
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    changed.then_some(out)
}

fn key_like(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 256
        && k.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b' ')
        })
}

/// Masks the values of credential-like keys in `k=v` lists separated by `;`, `&`, `?` or `,`
/// (environment assignments, connection strings, query strings, `--set a=b,c=d`). A masked
/// value runs on over following separators until the next `k=` item.
fn redact_pairs(v: &str) -> Option<String> {
    if !v.contains('=') {
        return None;
    }
    let is_sep = |c: char| matches!(c, ';' | '&' | '?' | ',');
    // Items with the separator that ends each.
    let mut items: Vec<(&str, &str)> = Vec::new();
    let mut rest = v;
    while !rest.is_empty() {
        match rest.find(is_sep) {
            Some(i) => {
                items.push((&rest[..i], &rest[i..i + 1]));
                rest = &rest[i + 1..];
            }
            None => {
                items.push((rest, ""));
                rest = "";
            }
        }
    }
    let mut out = String::with_capacity(v.len());
    let mut changed = false;
    let mut masking = false;
    // The separator before the current item, written only if the item is.
    let mut pending = "";
    for (item, sep) in items {
        let pair = item.split_once('=').filter(|(k, _)| key_like(k.trim()));
        match pair {
            Some((k, val)) => {
                out.push_str(pending);
                masking = sensitive_pair(k.trim(), val);
                if masking {
                    let _ = write!(out, "{k}={MASK}");
                    changed = true;
                } else {
                    out.push_str(item);
                }
            }
            None if masking => {}
            None => {
                out.push_str(pending);
                out.push_str(item);
            }
        }
        pending = sep;
    }
    out.push_str(pending);
    changed.then_some(out)
}

/// One word of shell text with its place in the text.
struct ShellWord {
    start: usize,
    end: usize,
    text: String,
    /// The quote character when the word was one quoted string.
    quote: Option<char>,
    /// `;`, `|`, `&` and their doubles.
    operator: bool,
}

fn shell_words(s: &str) -> Vec<ShellWord> {
    let mut words = Vec::new();
    let mut it = s.char_indices().peekable();
    while let Some(&(start, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        if matches!(c, ';' | '|' | '&') {
            let mut end = start;
            while let Some(&(i, c)) = it.peek() {
                if !matches!(c, ';' | '|' | '&') {
                    break;
                }
                end = i + c.len_utf8();
                it.next();
            }
            words.push(ShellWord {
                start,
                end,
                text: String::new(),
                quote: None,
                operator: true,
            });
            continue;
        }
        let mut text = String::new();
        let mut end = start;
        let mut segments = 0;
        let mut quote = None;
        while let Some(&(i, c)) = it.peek() {
            if c.is_whitespace() || matches!(c, ';' | '|' | '&') {
                break;
            }
            it.next();
            end = i + c.len_utf8();
            segments += 1;
            match c {
                '\'' | '"' => {
                    quote = Some(c);
                    while let Some((j, d)) = it.next() {
                        end = j + d.len_utf8();
                        if d == c {
                            break;
                        }
                        if d == '\\' && c == '"' {
                            if let Some(&(k, e)) = it.peek() {
                                if matches!(e, '"' | '\\' | '$' | '`') {
                                    it.next();
                                    end = k + e.len_utf8();
                                    text.push(e);
                                    continue;
                                }
                            }
                        }
                        text.push(d);
                    }
                }
                '\\' => {
                    if let Some((j, d)) = it.next() {
                        end = j + d.len_utf8();
                        text.push(d);
                    }
                }
                _ => text.push(c),
            }
        }
        let whole = segments == 1
            && quote.is_some_and(|q| s[start..end].starts_with(q) && s[start..end].ends_with(q));
        words.push(ShellWord {
            start,
            end,
            text,
            quote: if whole { quote } else { None },
            operator: false,
        });
    }
    words
}

/// Masks credentials in shell text, keeping its layout; returns the tools seen.
fn redact_shell(s: &str, tools: Tools, depth: usize) -> (Option<String>, Tools) {
    let mut st = ArgState {
        tools,
        next: Next::Nothing,
    };
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    let mut changed = false;
    for w in shell_words(s) {
        if w.operator {
            st.next = Next::Nothing;
            continue;
        }
        if let Some(new) = redact_arg_at(&w.text, &mut st, depth) {
            out.push_str(&s[last..w.start]);
            match w.quote {
                Some(q) => {
                    out.push(q);
                    out.push_str(&new);
                    out.push(q);
                }
                None if new.chars().any(char::is_whitespace) => {
                    out.push('\'');
                    out.push_str(&new);
                    out.push('\'');
                }
                None => out.push_str(&new),
            }
            last = w.end;
            changed = true;
        }
    }
    out.push_str(&s[last..]);
    (changed.then_some(out), st.tools)
}

/// Masks credentials in free text (a command line, a header, a URL, a value).
pub(crate) fn redact_text(s: &str) -> Option<String> {
    redact_arg(s, &mut ArgState::default())
}

/// Masks credentials in a command given as separate words (`argv`).
pub(crate) fn redact_argv(words: &mut [String]) -> bool {
    let mut st = ArgState::default();
    let mut changed = false;
    for w in words.iter_mut() {
        if let Some(r) = redact_arg(w, &mut st) {
            *w = r;
            changed = true;
        }
    }
    changed
}

/// Masks credentials in a JSON value; `key` is the name it was found under. Returns whether
/// anything changed. Values under credential-like keys are masked whole; `{name, value}` pairs
/// (environment variables) by their name; `command` and `args` string arrays as one command
/// line; other strings as free text.
pub(crate) fn redact_json(v: &mut Value, key: Option<&str>) -> bool {
    if let Some(k) = key {
        let masked = match v {
            Value::String(s) => sensitive_pair(k, s),
            Value::Null | Value::Bool(_) => false,
            _ => credential_name(k),
        };
        if masked {
            *v = Value::String(MASK.to_string());
            return true;
        }
        if matches!(k, "command" | "args") {
            if let Value::Array(a) = v {
                if a.iter().all(Value::is_string) {
                    let mut words: Vec<String> = a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect();
                    if redact_argv(&mut words) {
                        *a = words.into_iter().map(Value::String).collect();
                        return true;
                    }
                    return false;
                }
            }
        }
    }
    match v {
        Value::Object(m) => {
            let mut changed = false;
            let env_name = m.get("name").and_then(Value::as_str).map(str::to_string);
            if let (Some(n), Some(Value::String(val))) = (env_name, m.get_mut("value")) {
                if sensitive_pair(&n, val) {
                    *val = MASK.to_string();
                    changed = true;
                }
            }
            // A container's command and args form one command line.
            if m.get("command").is_some_and(Value::is_array)
                && m.get("args").is_some_and(Value::is_array)
            {
                let mut words: Vec<String> = ["command", "args"]
                    .iter()
                    .filter_map(|k| m.get(*k).and_then(Value::as_array))
                    .flatten()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect();
                let n_cmd = m
                    .get("command")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                if redact_argv(&mut words) {
                    let args = words.split_off(n_cmd);
                    for (k, list) in [("command", words), ("args", args)] {
                        if let Some(Value::Array(a)) = m.get_mut(k) {
                            for (x, w) in a.iter_mut().zip(list) {
                                if x.is_string() {
                                    *x = Value::String(w);
                                }
                            }
                        }
                    }
                    changed = true;
                }
            }
            for (k, child) in m.iter_mut() {
                changed |= redact_json(child, Some(k));
            }
            changed
        }
        Value::Array(a) => {
            let mut changed = false;
            for x in a.iter_mut() {
                changed |= redact_json(x, None);
            }
            changed
        }
        Value::String(s) => match redact_text(s) {
            Some(r) => {
                *s = r;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// Decodes `%XX` escapes and `+` (as in a form-encoded query).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// Masks credentials in a free-text message, such as a response status message: a URL or
/// request path in it is masked like a request URI (an exec error can quote the kubelet URL
/// with the command's `command=` arguments), any other word like a value (credential shapes,
/// `key=value` pairs with a credential-like key, passwords in URLs). `None` when nothing
/// needs masking.
pub(crate) fn redact_message(msg: &str) -> Option<String> {
    if msg.is_empty() {
        return None;
    }
    let trim = |c: char| {
        matches!(
            c,
            '"' | '\'' | '(' | ')' | '[' | ']' | '<' | '>' | ',' | ';' | ':'
        )
    };
    let mut out = String::with_capacity(msg.len());
    let mut changed = false;
    let mut rest = msg;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..end];
        rest = &rest[end..];
        let inner = word.trim_matches(trim);
        let start = word.find(inner).unwrap_or(0);
        let masked = if inner.is_empty() {
            None
        } else if inner.contains("://") || (inner.starts_with('/') && inner.contains('?')) {
            let uri = redact_uri(inner);
            match redact_urls(&uri) {
                Some(u) => Some(u),
                None => match uri {
                    Cow::Owned(u) => Some(u),
                    Cow::Borrowed(_) => None,
                },
            }
        } else {
            redact_value(inner)
        };
        match masked {
            Some(m) => {
                out.push_str(&word[..start]);
                out.push_str(&m);
                out.push_str(&word[start + inner.len()..]);
                changed = true;
            }
            None => out.push_str(word),
        }
    }
    changed.then_some(out)
}

/// The request URI with credentials masked: the `command=` arguments of exec and attach
/// requests as one command line, and query parameters with credential-like names or values.
pub(crate) fn redact_uri(uri: &str) -> Cow<'_, str> {
    let Some(q) = uri.find('?') else {
        return match redact_urls(uri) {
            Some(s) => Cow::Owned(s),
            None => Cow::Borrowed(uri),
        };
    };
    let (path, query) = (&uri[..q], &uri[q + 1..]);
    let (query, fragment) = match query.find('#') {
        Some(h) => (&query[..h], &query[h..]),
        None => (query, ""),
    };
    let mut st = ArgState::default();
    let mut out = String::with_capacity(uri.len());
    out.push_str(path);
    out.push('?');
    let mut changed = false;
    for (i, param) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (k, v) = param.split_once('=').unwrap_or((param, ""));
        let key = percent_decode(k);
        let val = percent_decode(v);
        let new = if key == "command" {
            redact_arg(&val, &mut st)
        } else if sensitive_pair(&key, &val) {
            Some(MASK.to_string())
        } else {
            redact_value(&val)
        };
        match new {
            Some(n) => {
                let _ = write!(out, "{k}={}", percent_encode(&n));
                changed = true;
            }
            None => out.push_str(param),
        }
    }
    out.push_str(fragment);
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        redact_argv(&mut w);
        w
    }

    #[test]
    fn messages() {
        let m = redact_message(
            "error sending request: Post \"https://10.0.0.1:10250/exec/ns/p/c?command=mysql&command=-pS3cretX&output=1\": dial tcp 10.0.0.1:10250: connect: connection refused",
        )
        .unwrap();
        assert!(!m.contains("S3cretX"), "{m}");
        assert!(
            m.starts_with("error sending request: Post \"https://10.0.0.1:10250/exec/ns/p/c?command=mysql&command=-p***&output=1\": dial tcp"),
            "{m}"
        );
        let m = redact_message(
            "failed calling webhook \"x\": Post \"https://hook:Pw0rd@hook.svc/validate?timeout=10s\": EOF",
        )
        .unwrap();
        assert!(
            m.contains("https://hook:***@hook.svc/validate") && !m.contains("Pw0rd"),
            "{m}"
        );
        let m = redact_message("container env DB_PASSWORD=hunter2 is not allowed").unwrap();
        assert_eq!(m, "container env DB_PASSWORD=*** is not allowed");
        assert_eq!(
            redact_message("pod web does not have a host assigned"),
            None
        );
        assert_eq!(redact_message(""), None);
        assert_eq!(redact_message("  \"\" ::: ()"), None);
    }

    #[test]
    fn command_lines() {
        assert_eq!(
            argv(&["mysql", "-uroot", "-pSECRET", "db"]),
            ["mysql", "-uroot", "-p***", "db"]
        );
        assert_eq!(argv(&["mysql", "-p", "db"]), ["mysql", "-p", "db"]);
        assert_eq!(
            argv(&["app", "--password=x", "--token", "abc", "--user", "bob"]),
            ["app", "--password=***", "--token", "***", "--user", "bob"]
        );
        assert_eq!(argv(&["TOKEN=abc", "env"]), ["TOKEN=***", "env"]);
        assert_eq!(
            argv(&["curl", "-H", "Authorization: Bearer xyz", "https://x"]),
            ["curl", "-H", "Authorization: Bearer ***", "https://x"]
        );
        assert_eq!(
            argv(&["curl", "-u", "bob:pw", "-H", "X-Api-Key: k1"]),
            ["curl", "-u", "bob:***", "-H", "X-Api-Key: ***"]
        );
        assert_eq!(
            argv(&["psql", "postgresql://user:pass@host/db"]),
            ["psql", "postgresql://user:***@host/db"]
        );
        assert_eq!(
            argv(&[
                "sh",
                "-c",
                "mysql -uroot -pSECRET && curl -H 'Authorization: Bearer xyz' x"
            ]),
            [
                "sh",
                "-c",
                "mysql -uroot -p*** && curl -H 'Authorization: Bearer ***' x"
            ]
        );
        assert_eq!(
            argv(&["sshpass", "-p", "pw1", "ssh", "-p", "22", "host"]),
            ["sshpass", "-p", "***", "ssh", "-p", "***", "host"]
        );
        assert_eq!(argv(&["ssh", "-p", "22", "h"]), ["ssh", "-p", "22", "h"]);
        assert_eq!(argv(&["redis-cli", "-a", "pw"]), ["redis-cli", "-a", "***"]);
        assert_eq!(
            argv(&["docker", "login", "-u", "me", "-p", "pw"]),
            ["docker", "login", "-u", "me", "-p", "***"]
        );
        assert_eq!(
            argv(&[
                "kubectl",
                "create",
                "secret",
                "generic",
                "s",
                "--from-literal=password=pw"
            ]),
            [
                "kubectl",
                "create",
                "secret",
                "generic",
                "s",
                "--from-literal=password=***"
            ]
        );
        assert_eq!(
            argv(&["helm", "install", "--set", "db.password=pw,replicas=2"]),
            ["helm", "install", "--set", "db.password=***,replicas=2"]
        );
        assert_eq!(argv(&["ls", "-la", "/tmp"]), ["ls", "-la", "/tmp"]);
        assert_eq!(
            argv(&["app", "--password-file", "/run/pw", "--no-password", "x"]),
            ["app", "--password-file", "/run/pw", "--no-password", "x"]
        );
        assert_eq!(
            argv(&["curl", "-d", r#"{"user":"a","password":"pw"}"#]),
            // The user's key order is kept.
            ["curl", "-d", r#"{"user":"a","password":"***"}"#]
        );
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(argv(&["vault", jwt]), ["vault", "***"]);
        assert_eq!(
            redact_text("Server=db;Password=Hunter2;Database=x").as_deref(),
            Some("Server=db;Password=***;Database=x")
        );
        assert_eq!(redact_text("PASSWORD=a,b").as_deref(), Some("PASSWORD=***"));
    }

    #[test]
    fn uris() {
        let uri = "/api/v1/namespaces/dev/pods/db/exec?command=mysql&command=-uroot&command=-pSECRET&container=db&stdin=true";
        assert_eq!(
            redact_uri(uri),
            "/api/v1/namespaces/dev/pods/db/exec?command=mysql&command=-uroot&command=-p***&container=db&stdin=true"
        );
        let uri = "/api/v1/namespaces/dev/pods/db/exec?command=sh&command=-c&command=PGPASSWORD%3Dpw+psql+postgresql%3A%2F%2Fu%3Ap%40h%2Fd";
        let r = redact_uri(uri);
        assert_eq!(
            percent_decode(&r[r.rfind("command=").unwrap() + 8..]),
            "PGPASSWORD=*** psql postgresql://u:***@h/d"
        );
        assert!(matches!(
            redact_uri("/api/v1/pods?limit=5&watch=true"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            redact_uri("/proxy/login?user=a&access_token=t0k"),
            "/proxy/login?user=a&access_token=***"
        );
    }

    #[test]
    fn json_values() {
        let mut v: Value = serde_json::json!({
            "containers": [{
                "command": ["mysql"], "args": ["-pSECRET"],
                "env": [{"name": "DB_PASSWORD", "value": "pw"}, {"name": "MODE", "value": "x"}]
            }],
            "apiToken": "abc", "note": "see postgres://u:pw@h/d"
        });
        assert!(redact_json(&mut v, None));
        let s = v.to_string();
        for secret in ["SECRET", "\"pw\"", "abc", "u:pw@"] {
            assert!(!s.contains(secret), "{secret} in {s}");
        }
        assert!(s.contains("mysql") && s.contains("MODE") && s.contains("\"x\""));
    }

    #[test]
    fn odd_input_never_panics() {
        let odd = [
            "-é",
            "-ü=1",
            "--é=x",
            "-",
            "--",
            "--=",
            "\"open",
            "'",
            "\\",
            "a=b=c",
            "://",
            "x://@",
            "a://:@",
            "@",
            ":",
            "Authorization:",
            "Authorization: ",
            "-p",
            "é=é;é",
            "%",
            "%é%4",
            "=",
            ";;&&||",
            "sh -c \"'\\\"",
            "{\"a\":",
            "[[[[",
            "é é 'é' \"é\"",
        ];
        for s in odd {
            let _ = redact_text(s);
            let _ = redact_uri(&format!("/x?command={s}&{s}={s}"));
            let _ = argv(&["mysql", s, s, "curl", "-u", s, "-H", s, s]);
            let mut v = Value::String(s.to_string());
            redact_json(&mut v, Some(s));
        }
        let deep = format!("{}x{}", "\"'".repeat(50), "'\"".repeat(50));
        let _ = redact_text(&format!("sh -c {deep} y"));
        assert_eq!(argv(&["mysql", "-é", "-pé"]), ["mysql", "-é", "-p***"]);
    }

    #[test]
    fn truncation() {
        let mut s = "é".repeat(600);
        truncate_field(&mut s, MAX_FIELD_BYTES);
        assert!(
            s.starts_with("éé") && s.ends_with("…(176 bytes truncated)"),
            "{s}"
        );
        let mut short = "abc".to_string();
        truncate_field(&mut short, 2);
        assert_eq!(short, "ab…(1 bytes truncated)");
        let mut list: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        cap_list(&mut list);
        assert_eq!(list.len(), MAX_LIST_ITEMS + 1);
        assert_eq!(list.last().map(String::as_str), Some("…(36 more)"));
    }
}
