//! Declarative detection rules: the YAML format, loading, validation and the
//! built-in rule set. The format is documented in the crate README.

use std::fmt;
use std::path::Path as FsPath;

use serde::{Deserialize, Serialize};

use crate::expr::{parse_path, Expr, ParseError, Path};
use crate::glob::glob_match;

/// The built-in rules, in the same YAML format as user rule files.
pub const BUILTIN_RULES_YAML: &str = include_str!("../rules/builtin.yaml");

/// Alert severity, from most to least severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Immediate cluster compromise is likely.
    Critical,
    /// Serious security-relevant change or access.
    High,
    /// Suspicious, worth a look.
    Medium,
    /// Weak signal.
    Low,
    /// Informational audit trail.
    Info,
}

impl Severity {
    /// The lowercase name (`critical`, `high`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error in a rule file: which file, which line, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// File name (or another label given when loading from text).
    pub file: String,
    /// 1-based line number (0 when unknown).
    pub line: usize,
    /// The reason.
    pub message: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

impl std::error::Error for RuleError {}

/// Allowlists: an event matching any entry never raises the rule's alert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Except {
    /// Globs over `user.username`.
    pub users: Vec<String>,
    /// Globs over any of `user.groups`.
    pub groups: Vec<String>,
    /// Globs over `objectRef.namespace`.
    pub namespaces: Vec<String>,
    /// Globs `namespace:name` over service-account users (`system:serviceaccount:NS:NAME`).
    pub service_accounts: Vec<String>,
    /// Known clients: each entry exempts a request only when its subject **and** its user
    /// agent match (see [`ClientExcept`]).
    pub clients: Vec<ClientExcept>,
}

/// An allowlisted client: a subject (users or service accounts) and, optionally, the user
/// agents it uses. A request matches when its user matches one of `users` or
/// `serviceAccounts`, and, when `userAgents` is given, its `User-Agent` matches one of them.
///
/// The user agent is chosen by the client, so it never exempts a request on its own: an
/// entry must name a subject, a user pattern must name someone (not only `*` and `?`), and a
/// service-account pattern must spell its namespace out (anyone who can create service
/// accounts in some namespace could otherwise take a matching name). The user agent narrows
/// the exemption: the subject's token used from another tool (a stolen token in `kubectl`)
/// still alerts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientExcept {
    /// Globs over `user.username`.
    pub users: Vec<String>,
    /// Globs `namespace:name` over service-account users; the namespace has no wildcard.
    pub service_accounts: Vec<String>,
    /// Globs over `userAgent`; empty means any user agent.
    pub user_agents: Vec<String>,
}

impl ClientExcept {
    /// Whether the event comes from this client.
    pub fn matches(&self, ev: &crate::Event) -> bool {
        let user = ev.user.username.as_str();
        let subject = self.users.iter().any(|g| glob_match(g, user))
            || user
                .strip_prefix("system:serviceaccount:")
                .is_some_and(|sa| self.service_accounts.iter().any(|g| glob_match(g, sa)));
        subject
            && (self.user_agents.is_empty()
                || self
                    .user_agents
                    .iter()
                    .any(|g| glob_match(g, &ev.user_agent)))
    }

    /// Why the entry is refused, if it is.
    fn check(&self) -> Result<(), String> {
        if self.users.is_empty() && self.service_accounts.is_empty() {
            return Err("an except.clients entry needs users or serviceAccounts: a user agent is chosen by the client and never exempts a request on its own".into());
        }
        let wild = |p: &str| p.chars().all(|c| c == '*' || c == '?');
        if let Some(u) = self.users.iter().find(|u| wild(u)) {
            return Err(format!(
                "except.clients: user pattern '{u}' matches everyone; name the user"
            ));
        }
        for sa in &self.service_accounts {
            match sa.split_once(':') {
                Some((ns, name))
                    if !ns.is_empty()
                        && !name.is_empty()
                        && !ns.contains(['*', '?'])
                        && !wild(name) => {}
                _ => {
                    return Err(format!(
                        "except.clients: service account '{sa}' must be NAMESPACE:NAME with the namespace spelled out"
                    ))
                }
            }
        }
        Ok(())
    }
}

impl Except {
    fn extend(&mut self, other: Except) {
        self.users.extend(other.users);
        self.groups.extend(other.groups);
        self.namespaces.extend(other.namespaces);
        self.service_accounts.extend(other.service_accounts);
        self.clients.extend(other.clients);
    }

    fn check(&self) -> Result<(), String> {
        self.clients.iter().try_for_each(ClientExcept::check)
    }

    /// Whether the event's identity or namespace is allowlisted.
    pub fn matches(&self, ev: &crate::Event) -> bool {
        let user = ev.user.username.as_str();
        if self.users.iter().any(|g| glob_match(g, user)) {
            return true;
        }
        if self
            .groups
            .iter()
            .any(|g| ev.user.groups.iter().any(|ug| glob_match(g, ug)))
        {
            return true;
        }
        if !self.namespaces.is_empty() {
            if let Some(o) = &ev.object_ref {
                if !o.namespace.is_empty()
                    && self.namespaces.iter().any(|g| glob_match(g, &o.namespace))
                {
                    return true;
                }
            }
        }
        if let Some(sa) = user.strip_prefix("system:serviceaccount:") {
            if self.service_accounts.iter().any(|g| glob_match(g, sa)) {
                return true;
            }
        }
        self.clients.iter().any(|c| c.matches(ev))
    }
}

/// What a threshold counts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ThresholdKey {
    /// `user.username`.
    User,
    /// The first source IP.
    SourceIp,
    /// `objectRef.namespace`.
    Namespace,
}

/// Aggregation: raise one alert when `count` matching events with the same key
/// occur within `window`; then stay quiet for that key for one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    /// Number of matching events needed.
    pub count: u32,
    /// Window length in microseconds.
    pub window_micros: i64,
    /// Grouping key.
    pub by: ThresholdKey,
}

/// How a rule's repeated alerts are grouped (see the README, "Grouping").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupSpec {
    /// Whether the rule's alerts are grouped at all.
    pub enabled: bool,
    /// The rule's own window in microseconds; `None`: the detector's
    /// ([`crate::GroupOptions::window_micros`]).
    pub window_micros: Option<i64>,
    /// Whether the namespace is part of the group key (the rule and the subject always are).
    pub by_namespace: bool,
}

impl Default for GroupSpec {
    fn default() -> Self {
        GroupSpec {
            enabled: true,
            window_micros: None,
            by_namespace: false,
        }
    }
}

/// What a group key is made of, besides the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
enum GroupBy {
    User,
    Namespace,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupYaml {
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    window: Option<String>,
    #[serde(default)]
    by: Vec<GroupBy>,
}

impl GroupYaml {
    fn compile(self) -> Result<GroupSpec, String> {
        let window_micros = match &self.window {
            None => None,
            Some(w) => Some(
                parse_duration_micros(w)
                    .ok_or_else(|| format!("group window '{w}' is not a duration like 60s"))?,
            ),
        };
        if !self.by.is_empty() && !self.by.contains(&GroupBy::User) {
            return Err("group by must include user: a group never mixes identities".to_string());
        }
        Ok(GroupSpec {
            enabled: self.enabled,
            window_micros,
            by_namespace: self.by.contains(&GroupBy::Namespace),
        })
    }
}

/// A variant of a rule's alert: when its condition holds (on an event the rule matched),
/// it replaces the rule's severity and/or output. The first matching variant wins.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The condition source text.
    pub when_source: String,
    /// The severity instead of the rule's, if set.
    pub severity: Option<Severity>,
    /// The output template source instead of the rule's, if set.
    pub output_source: Option<String>,
    pub(crate) when: Expr,
    pub(crate) output: Option<Vec<Piece>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VariantYaml {
    when: String,
    #[serde(default)]
    severity: Option<Severity>,
    #[serde(default)]
    output: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdYaml {
    count: u32,
    window: String,
    #[serde(default = "default_by")]
    by: ThresholdKey,
}

fn default_by() -> ThresholdKey {
    ThresholdKey::User
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleYaml {
    id: String,
    name: String,
    severity: Severity,
    #[serde(default)]
    mitre: Vec<String>,
    #[serde(default)]
    description: String,
    condition: String,
    output: String,
    #[serde(default)]
    except: Except,
    #[serde(default)]
    threshold: Option<ThresholdYaml>,
    #[serde(default)]
    variants: Vec<VariantYaml>,
    #[serde(default)]
    group: Option<GroupYaml>,
    #[serde(default = "yes")]
    enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OverrideYaml {
    id: String,
    #[serde(default)]
    except: Except,
    #[serde(default)]
    group: Option<GroupYaml>,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct FileYaml {
    rules: Vec<RuleYaml>,
    disable: Vec<String>,
    overrides: Vec<OverrideYaml>,
}

/// One piece of an output template.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Piece {
    Text(String),
    Special(Special),
    Field(Path),
}

/// Placeholders with a fixed meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    User,
    Groups,
    Verb,
    Object,
    Resource,
    Namespace,
    Name,
    Subresource,
    Code,
    Uri,
    SourceIp,
    Impersonated,
    UserAgent,
    Count,
    Window,
    Reason,
    Message,
    AuditId,
    Time,
}

const SPECIALS: &[(&str, Special)] = &[
    ("user", Special::User),
    ("groups", Special::Groups),
    ("verb", Special::Verb),
    ("object", Special::Object),
    ("resource", Special::Resource),
    ("namespace", Special::Namespace),
    ("name", Special::Name),
    ("subresource", Special::Subresource),
    ("code", Special::Code),
    ("uri", Special::Uri),
    ("sourceIP", Special::SourceIp),
    ("impersonatedUser", Special::Impersonated),
    ("userAgent", Special::UserAgent),
    ("count", Special::Count),
    ("window", Special::Window),
    ("reason", Special::Reason),
    ("message", Special::Message),
    ("auditID", Special::AuditId),
    ("time", Special::Time),
];

fn parse_template(src: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    let mut rest = src;
    while let Some(i) = rest.find('{') {
        if i > 0 {
            out.push(Piece::Text(rest[..i].to_string()));
        }
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            return Err("unclosed '{' in output".into());
        };
        let name = after[..j].trim();
        if let Some((_, s)) = SPECIALS.iter().find(|(n, _)| *n == name) {
            out.push(Piece::Special(*s));
        } else {
            let p = parse_path(name)
                .map_err(|e| format!("output placeholder {{{name}}}: {}", e.message))?;
            out.push(Piece::Field(p));
        }
        rest = &after[j + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest.to_string()));
    }
    Ok(out)
}

/// A compiled detection rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Identifier, `DET` followed by three digits.
    pub id: String,
    /// Kebab-case name.
    pub name: String,
    /// Severity of the alerts it raises.
    pub severity: Severity,
    /// MITRE ATT&CK (Containers matrix) technique ids.
    pub mitre: Vec<String>,
    /// What the rule detects and why.
    pub description: String,
    /// The condition source text.
    pub condition_source: String,
    /// The output template source text.
    pub output_source: String,
    /// Allowlists.
    pub except: Except,
    /// Optional aggregation.
    pub threshold: Option<Threshold>,
    /// Alternative severities and outputs, by condition (first match wins).
    pub variants: Vec<Variant>,
    /// How repeated alerts of the rule are grouped (threshold rules never are).
    pub group: GroupSpec,
    /// Disabled rules are kept but never evaluated.
    pub enabled: bool,
    /// Where the rule was defined (`file:line`).
    pub origin: String,
    pub(crate) condition: Expr,
    pub(crate) output: Vec<Piece>,
}

/// An ordered collection of rules.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

fn valid_id(id: &str) -> bool {
    id.len() == 6 && id.starts_with("DET") && id[3..].bytes().all(|b| b.is_ascii_digit())
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn valid_mitre(t: &str) -> bool {
    let b = t.as_bytes();
    let base = b.len() >= 5 && b[0] == b'T' && b[1..5].iter().all(u8::is_ascii_digit);
    base && (b.len() == 5
        || (b.len() == 9 && b[5] == b'.' && b[6..].iter().all(u8::is_ascii_digit)))
}

/// Parses durations like `500ms`, `60s`, `5m`, `1h` into microseconds.
pub fn parse_duration_micros(s: &str) -> Option<i64> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000_000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000_000)
    } else if let Some(n) = s.strip_suffix('h') {
        (n, 3_600_000_000)
    } else {
        return None;
    };
    let n: i64 = num.trim().parse().ok()?;
    (n > 0).then_some(n * mult)
}

/// Finds the 1-based line of `key: value` belonging to rule `id` (best effort).
fn find_line(text: &str, id: &str, key: Option<&str>) -> usize {
    let lines: Vec<&str> = text.lines().collect();
    let is_id_line = |l: &str| {
        let t = l.trim_start().trim_start_matches('-').trim_start();
        t.strip_prefix("id:")
            .map(|v| v.trim().trim_matches(['"', '\'']) == id)
            .unwrap_or(false)
    };
    let Some(start) = lines.iter().position(|l| is_id_line(l)) else {
        return 0;
    };
    let Some(key) = key else {
        return start + 1;
    };
    // The rule's item starts at the nearest "- " at or before the id line.
    let item_start = (0..=start)
        .rev()
        .find(|&i| lines[i].trim_start().starts_with("- "))
        .unwrap_or(start);
    let indent = lines[item_start].len() - lines[item_start].trim_start().len();
    for (i, l) in lines.iter().enumerate().skip(item_start) {
        if i > item_start
            && l.trim_start().starts_with("- ")
            && l.len() - l.trim_start().len() <= indent
        {
            break;
        }
        let t = l.trim_start().trim_start_matches("- ");
        if t.starts_with(&format!("{key}:")) {
            return i + 1;
        }
    }
    start + 1
}

impl RuleSet {
    /// An empty rule set.
    pub fn empty() -> RuleSet {
        RuleSet::default()
    }

    /// The built-in rules.
    ///
    /// # Panics
    /// Never in practice: the embedded file is validated by the crate's tests.
    pub fn builtin() -> RuleSet {
        let mut rs = RuleSet::empty();
        if let Err(e) = rs.add_yaml("builtin.yaml", BUILTIN_RULES_YAML) {
            panic!("built-in rules are invalid: {e}");
        }
        rs
    }

    /// Reads a rule file and appends its rules (see [`RuleSet::add_yaml`]).
    pub fn load_file(&mut self, path: &FsPath) -> Result<(), RuleError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RuleError {
            file: label.clone(),
            line: 0,
            message: format!("cannot read rule file: {e}"),
        })?;
        self.add_yaml(&label, &text)
    }

    /// Parses rule-file text and appends its rules, applies its `disable` list
    /// and its `overrides`. `file` labels error messages. On error the set is
    /// left unchanged.
    pub fn add_yaml(&mut self, file: &str, text: &str) -> Result<(), RuleError> {
        let err = |line: usize, message: String| RuleError {
            file: file.to_string(),
            line,
            message,
        };
        let parsed: FileYaml = if text.trim().is_empty() {
            FileYaml::default()
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| {
                let line = e.location().map(|l| l.line()).unwrap_or(0);
                let msg = e.to_string();
                // serde_yaml_ng appends " at line X column Y"; keep just the reason.
                let msg = match msg.find(" at line ") {
                    Some(i) => msg[..i].to_string(),
                    None => msg,
                };
                err(line, msg)
            })?
        };
        let mut next = self.clone();
        for r in parsed.rules {
            let line = find_line(text, &r.id, None);
            if !valid_id(&r.id) {
                return Err(err(
                    line,
                    format!("invalid rule id '{}': expected DET and three digits", r.id),
                ));
            }
            if next.rules.iter().any(|x| x.id == r.id) {
                return Err(err(line, format!("duplicate rule id {}", r.id)));
            }
            if !valid_name(&r.name) {
                return Err(err(
                    find_line(text, &r.id, Some("name")),
                    format!("rule {}: name '{}' is not kebab-case", r.id, r.name),
                ));
            }
            if let Some(bad) = r.mitre.iter().find(|t| !valid_mitre(t)) {
                return Err(err(
                    find_line(text, &r.id, Some("mitre")),
                    format!(
                        "rule {}: '{bad}' is not a MITRE technique id (T1234 or T1234.001)",
                        r.id
                    ),
                ));
            }
            let condition = Expr::parse(&r.condition).map_err(|e: ParseError| {
                err(
                    find_line(text, &r.id, Some("condition")),
                    format!("rule {}: condition: {e}", r.id),
                )
            })?;
            let output = parse_template(&r.output).map_err(|m| {
                err(
                    find_line(text, &r.id, Some("output")),
                    format!("rule {}: {m}", r.id),
                )
            })?;
            r.except.check().map_err(|m| {
                err(
                    find_line(text, &r.id, Some("except")),
                    format!("rule {}: {m}", r.id),
                )
            })?;
            let mut variants = Vec::new();
            for v in r.variants {
                let vl = find_line(text, &r.id, Some("variants"));
                if v.severity.is_none() && v.output.is_none() {
                    return Err(err(
                        vl,
                        format!("rule {}: a variant needs a severity or an output", r.id),
                    ));
                }
                let when = Expr::parse(&v.when)
                    .map_err(|e| err(vl, format!("rule {}: variant when: {e}", r.id)))?;
                let output = match &v.output {
                    None => None,
                    Some(o) => Some(
                        parse_template(o)
                            .map_err(|m| err(vl, format!("rule {}: variant: {m}", r.id)))?,
                    ),
                };
                variants.push(Variant {
                    when_source: v.when.trim().to_string(),
                    severity: v.severity,
                    output_source: v.output,
                    when,
                    output,
                });
            }
            let group = match r.group {
                None => GroupSpec::default(),
                Some(g) => g.compile().map_err(|m| {
                    err(
                        find_line(text, &r.id, Some("group")),
                        format!("rule {}: {m}", r.id),
                    )
                })?,
            };
            let threshold = match r.threshold {
                None => None,
                Some(t) => {
                    let tl = find_line(text, &r.id, Some("threshold"));
                    let window = parse_duration_micros(&t.window).ok_or_else(|| {
                        err(
                            tl,
                            format!(
                                "rule {}: threshold window '{}' is not a duration like 60s",
                                r.id, t.window
                            ),
                        )
                    })?;
                    if t.count == 0 {
                        return Err(err(
                            tl,
                            format!("rule {}: threshold count must be at least 1", r.id),
                        ));
                    }
                    Some(Threshold {
                        count: t.count,
                        window_micros: window,
                        by: t.by,
                    })
                }
            };
            next.rules.push(Rule {
                origin: format!("{file}:{line}"),
                id: r.id,
                name: r.name,
                severity: r.severity,
                mitre: r.mitre,
                description: r.description.trim().to_string(),
                condition_source: r.condition.trim().to_string(),
                output_source: r.output,
                except: r.except,
                threshold,
                variants,
                group,
                enabled: r.enabled,
                condition,
                output,
            });
        }
        for id in parsed.disable {
            let Some(rule) = next.rules.iter_mut().find(|x| x.id == id) else {
                return Err(err(
                    line_of(text, &id),
                    format!("disable: no rule with id {id}"),
                ));
            };
            rule.enabled = false;
        }
        for o in parsed.overrides {
            let line = find_line(text, &o.id, None);
            let Some(rule) = next.rules.iter_mut().find(|x| x.id == o.id) else {
                return Err(err(line, format!("overrides: no rule with id {}", o.id)));
            };
            o.except
                .check()
                .map_err(|m| err(line, format!("overrides: rule {}: {m}", o.id)))?;
            rule.except.extend(o.except);
            if let Some(g) = o.group {
                rule.group = g
                    .compile()
                    .map_err(|m| err(line, format!("overrides: rule {}: {m}", o.id)))?;
            }
            if let Some(e) = o.enabled {
                rule.enabled = e;
            }
        }
        *self = next;
        Ok(())
    }

    /// Parses one rule file into a new set.
    pub fn from_yaml(file: &str, text: &str) -> Result<RuleSet, RuleError> {
        let mut rs = RuleSet::empty();
        rs.add_yaml(file, text)?;
        Ok(rs)
    }

    /// All rules, enabled or not, in load order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// Looks a rule up by id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Enables or disables a rule by id; returns false if there is no such rule.
    pub fn set_enabled(&mut self, id: &str, enabled: bool) -> bool {
        match self.rules.iter_mut().find(|r| r.id == id) {
            Some(r) => {
                r.enabled = enabled;
                true
            }
            None => false,
        }
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .map(|i| i + 1)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load() {
        let rs = RuleSet::builtin();
        assert!(rs.rules().len() >= 20);
        for r in rs.rules() {
            assert!(!r.mitre.is_empty(), "{} has no MITRE id", r.id);
            assert!(!r.description.is_empty(), "{} has no description", r.id);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_micros("60s"), Some(60_000_000));
        assert_eq!(parse_duration_micros("5m"), Some(300_000_000));
        assert_eq!(parse_duration_micros("250ms"), Some(250_000));
        assert_eq!(parse_duration_micros("1h"), Some(3_600_000_000));
        assert_eq!(parse_duration_micros("soon"), None);
        assert_eq!(parse_duration_micros("0s"), None);
    }

    #[test]
    fn ids_names_mitre() {
        assert!(valid_id("DET001") && !valid_id("DET01") && !valid_id("XYZ001"));
        assert!(valid_name("pod-exec") && !valid_name("Pod-Exec") && !valid_name("a--b"));
        assert!(valid_mitre("T1609") && valid_mitre("T1098.006") && !valid_mitre("T16"));
    }
}
