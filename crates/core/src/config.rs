//! The policy configuration (`palisade.yaml`): profile, rule selection, severities, modes,
//! rule options and expiring exceptions.
//!
//! The file is parsed by the loader into a JSON value with positions; [`Policy::from_value`]
//! validates it completely and returns every problem at once, each with its line.

use crate::finding::Severity;
use crate::object::{escape_segment, type_name, SpanIndex};
use crate::rule::{OptionKind, PssLevel, PssVersion, RuleMeta};
use crate::select;
use jiff::civil::Date;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What the admission webhook does with a finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Allow, record an audit annotation.
    #[default]
    Audit,
    /// Allow, return a warning to the client.
    Warn,
    /// Reject.
    Deny,
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "audit" => Ok(Mode::Audit),
            "warn" => Ok(Mode::Warn),
            "deny" => Ok(Mode::Deny),
            _ => Err(format!(
                "unknown mode `{s}` (expected one of: audit, warn, deny)"
            )),
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Audit => "audit",
            Mode::Warn => "warn",
            Mode::Deny => "deny",
        })
    }
}

/// Settings of one rule.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleConfig {
    /// `enabled: false` turns the rule off.
    pub enabled: Option<bool>,
    /// Severity override.
    pub severity: Option<Severity>,
    /// Admission mode for this rule.
    pub mode: Option<Mode>,
    /// Rule-specific options.
    pub options: Map<String, Value>,
}

/// Which objects an exception covers. Every given field must match; values are globs
/// (`*`, `?`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExceptionMatch {
    /// Namespace glob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Kind glob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name glob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

fn glob(pattern: &Option<String>, value: Option<&str>) -> bool {
    match pattern {
        None => true,
        Some(p) => wildmatch::WildMatch::new(p).matches(value.unwrap_or("")),
    }
}

impl ExceptionMatch {
    /// True when the object matches every given field.
    pub fn matches(&self, namespace: Option<&str>, kind: &str, name: &str) -> bool {
        glob(&self.namespace, namespace)
            && glob(&self.kind, Some(kind))
            && glob(&self.name, Some(name))
    }
}

/// A time-boxed exception owned by the platform team.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exception {
    /// Position in the `exceptions` list.
    pub index: usize,
    /// Rule selectors it covers.
    pub rules: Vec<String>,
    /// Objects it covers.
    #[serde(rename = "match")]
    pub matches: ExceptionMatch,
    /// Why it exists.
    pub reason: String,
    /// Who owns it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Tracking ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Last day it applies (inclusive); absent means it never expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Date>,
    /// Line in the configuration file.
    pub line: u32,
}

impl Exception {
    /// True when the exception has expired on `today` (it applies up to and including its
    /// `expires` day).
    pub fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|e| today > e)
    }

    /// True when it covers this rule and object, regardless of expiry.
    pub fn covers(&self, rule: &RuleMeta, namespace: Option<&str>, kind: &str, name: &str) -> bool {
        self.rules.iter().any(|s| select::matches(s, rule))
            && self.matches.matches(namespace, kind, name)
    }
}

/// The whole policy.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// The file it was read from, if any.
    pub file: Option<String>,
    /// Pod Security Standards level for POD rules.
    pub profile: Option<PssLevel>,
    /// Pod Security Standards version for POD rules.
    pub pss_version: Option<PssVersion>,
    /// Default admission mode.
    pub default_mode: Mode,
    /// Scan exit-code threshold.
    pub fail_on: Option<Severity>,
    /// Selected rules (empty: the default set).
    pub select: Vec<String>,
    /// Rules removed from the selection.
    pub ignore: Vec<String>,
    /// Per-rule settings.
    pub rules: BTreeMap<String, RuleConfig>,
    /// Per-namespace admission mode.
    pub namespaces: BTreeMap<String, Mode>,
    /// Per-(namespace, rule) admission mode: `namespaces.<ns>.rules.<ID>`, the most specific
    /// setting (namespace, then rule id).
    pub namespace_rules: BTreeMap<String, BTreeMap<String, Mode>>,
    /// Exceptions.
    pub exceptions: Vec<Exception>,
    /// Whether `palisade.dev/ignore` annotations on objects are honoured.
    pub allow_annotation_exceptions: bool,
    /// Policy files and directories to load (Gatekeeper templates and constraints), as
    /// written: the front-end resolves them relative to the configuration file.
    pub policies: Vec<String>,
    /// The image trust policy (`imageTrust`): signatures required per registry scope.
    pub image_trust: Option<crate::trust::ImageTrust>,
}

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    /// The file.
    pub file: String,
    /// 1-based line (0 when unknown).
    pub line: u32,
    /// 1-based column (0 when unknown).
    pub column: u32,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 && self.column > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else if self.line > 0 {
            // Where the column is not known, none is printed (not `:0`).
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

struct Validator<'a> {
    file: &'a str,
    spans: &'a SpanIndex,
    errors: Vec<PolicyError>,
}

impl Validator<'_> {
    fn error(&mut self, pointer: &str, message: String) {
        let (line, column) = self.spans.resolve(pointer).unwrap_or((0, 0));
        self.errors.push(PolicyError {
            file: self.file.to_owned(),
            line,
            column,
            message,
        });
    }

    fn object<'v>(
        &mut self,
        v: &'v Value,
        ptr: &str,
        what: &str,
    ) -> Option<&'v Map<String, Value>> {
        match v {
            Value::Object(m) => Some(m),
            Value::Null => None,
            other => {
                self.error(
                    ptr,
                    format!("{what} must be a mapping, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn unknown_keys(&mut self, m: &Map<String, Value>, ptr: &str, known: &[&str], what: &str) {
        for k in m.keys() {
            if !known.contains(&k.as_str()) {
                self.error(
                    &format!("{ptr}/{}", escape_segment(k)),
                    format!(
                        "unknown key `{k}` in {what} (expected one of: {})",
                        known.join(", ")
                    ),
                );
            }
        }
    }

    fn string(&mut self, v: &Value, ptr: &str, what: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.error(
                    ptr,
                    format!("{what} must be a string, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn string_list(&mut self, v: &Value, ptr: &str, what: &str) -> Vec<String> {
        match v {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .filter_map(|(i, x)| {
                    self.string(x, &format!("{ptr}/{i}"), &format!("each entry of {what}"))
                })
                .collect(),
            Value::String(s) => vec![s.clone()],
            other => {
                self.error(
                    ptr,
                    format!(
                        "{what} must be a list of strings, found {}",
                        type_name(other)
                    ),
                );
                Vec::new()
            }
        }
    }

    fn bool(&mut self, v: &Value, ptr: &str, what: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.error(
                    ptr,
                    format!("{what} must be true or false, found {}", type_name(other)),
                );
                None
            }
        }
    }

    fn parsed<T: FromStr>(&mut self, v: &Value, ptr: &str, what: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let s = self.string(v, ptr, what)?;
        match s.parse() {
            Ok(t) => Some(t),
            Err(e) => {
                self.error(ptr, format!("{what}: {e}"));
                None
            }
        }
    }

    fn selectors(&mut self, v: &Value, ptr: &str, what: &str, rules: &[&RuleMeta]) -> Vec<String> {
        // Host check ids and CIS sections (`1.2`, `4.2.1`) read as numbers when unquoted.
        let numbers: Vec<(String, &Value)> = match v {
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, x)| (format!("{ptr}/{i}"), x))
                .collect(),
            x => vec![(ptr.to_owned(), x)],
        };
        let mut quoted = false;
        for (p, x) in numbers.into_iter().filter(|(_, x)| x.is_number()) {
            quoted = true;
            self.error(
                &p,
                format!(
                    "{what}: write `{x}` in quotes (\"{x}\"): unquoted, YAML reads it as a number"
                ),
            );
        }
        if quoted {
            return Vec::new();
        }
        let list = self.string_list(v, ptr, what);
        for (i, s) in list.iter().enumerate() {
            if !select::is_known(s, rules) {
                let p = if v.is_array() {
                    format!("{ptr}/{i}")
                } else {
                    ptr.to_owned()
                };
                self.error(&p, format!("`{s}` in {what} selects no rule"));
            }
        }
        list
    }
}

const TOP_KEYS: &[&str] = &[
    "profile",
    "pssVersion",
    "defaultMode",
    "failOn",
    "select",
    "ignore",
    "rules",
    "namespaces",
    "exceptions",
    "allowAnnotationExceptions",
    "policies",
    "imageTrust",
];

impl Policy {
    /// Validates a parsed configuration document. `rules` is the catalogue, used to check rule
    /// ids, selectors and rule options. Every problem is returned, not only the first.
    pub fn from_value(
        value: &Value,
        spans: &SpanIndex,
        file: &str,
        rules: &[&RuleMeta],
    ) -> Result<Policy, Vec<PolicyError>> {
        let mut v = Validator {
            file,
            spans,
            errors: Vec::new(),
        };
        let mut policy = Policy {
            file: Some(file.to_owned()),
            ..Policy::default()
        };
        let Some(top) = v.object(value, "", "the configuration") else {
            return if v.errors.is_empty() {
                Ok(policy)
            } else {
                Err(v.errors)
            };
        };
        v.unknown_keys(top, "", TOP_KEYS, "the configuration");
        if let Some(x) = top.get("profile") {
            policy.profile = v.parsed(x, "/profile", "profile");
        }
        if let Some(x) = top.get("pssVersion") {
            policy.pss_version = v.parsed(x, "/pssVersion", "pssVersion");
        }
        if let Some(x) = top.get("defaultMode") {
            policy.default_mode = v
                .parsed(x, "/defaultMode", "defaultMode")
                .unwrap_or_default();
        }
        if let Some(x) = top.get("failOn") {
            policy.fail_on = v.parsed(x, "/failOn", "failOn");
        }
        if let Some(x) = top.get("select") {
            policy.select = v.selectors(x, "/select", "select", rules);
        }
        if let Some(x) = top.get("ignore") {
            policy.ignore = v.selectors(x, "/ignore", "ignore", rules);
        }
        if let Some(x) = top.get("allowAnnotationExceptions") {
            policy.allow_annotation_exceptions = v
                .bool(x, "/allowAnnotationExceptions", "allowAnnotationExceptions")
                .unwrap_or(false);
        }
        if let Some(x) = top.get("policies") {
            policy.policies = v.string_list(x, "/policies", "policies");
        }
        if let Some(x) = top.get("imageTrust") {
            policy.image_trust = parse_image_trust(&mut v, x);
        }
        if let Some(m) = top
            .get("rules")
            .and_then(|x| v.object(x, "/rules", "rules"))
        {
            for (id, cfg) in m {
                let ptr = format!("/rules/{}", escape_segment(id));
                let Some(meta) = rules.iter().find(|r| r.id == id) else {
                    v.error(
                        &ptr,
                        format!("unknown rule id `{id}` in rules (see `palisade rules`)"),
                    );
                    continue;
                };
                let Some(cm) = v.object(cfg, &ptr, &format!("rules.{id}")) else {
                    continue;
                };
                let mut rc = RuleConfig::default();
                for (k, x) in cm {
                    let kp = format!("{ptr}/{}", escape_segment(k));
                    match k.as_str() {
                        "enabled" => rc.enabled = v.bool(x, &kp, &format!("rules.{id}.enabled")),
                        "severity" => {
                            rc.severity = v.parsed(x, &kp, &format!("rules.{id}.severity"))
                        }
                        "mode" => rc.mode = v.parsed(x, &kp, &format!("rules.{id}.mode")),
                        _ => match meta.options.iter().find(|o| o.name == k) {
                            Some(opt) => {
                                let ok = match opt.kind {
                                    OptionKind::Bool => x.is_boolean(),
                                    OptionKind::Integer => x.as_u64().is_some(),
                                    OptionKind::StringList => {
                                        x.as_array().is_some_and(|a| a.iter().all(Value::is_string))
                                    }
                                    OptionKind::Severity => {
                                        x.as_str().is_some_and(|s| s.parse::<Severity>().is_ok())
                                    }
                                };
                                if ok {
                                    rc.options.insert(k.clone(), x.clone());
                                } else {
                                    let want = match opt.kind {
                                        OptionKind::Bool => "true or false",
                                        OptionKind::Integer => "a non-negative integer",
                                        OptionKind::StringList => "a list of strings",
                                        OptionKind::Severity => {
                                            "one of critical, high, medium, low, info"
                                        }
                                    };
                                    v.error(
                                        &kp,
                                        format!(
                                            "rules.{id}.{k} must be {want}, found {}",
                                            type_name(x)
                                        ),
                                    );
                                }
                            }
                            None => {
                                let mut known = vec!["enabled", "severity", "mode"];
                                known.extend(meta.options.iter().map(|o| o.name));
                                v.error(
                                    &kp,
                                    format!(
                                        "unknown key `{k}` in rules.{id} (expected one of: {})",
                                        known.join(", ")
                                    ),
                                );
                            }
                        },
                    }
                }
                policy.rules.insert(id.clone(), rc);
            }
        }
        if let Some(m) = top
            .get("namespaces")
            .and_then(|x| v.object(x, "/namespaces", "namespaces"))
        {
            for (ns, cfg) in m {
                let ptr = format!("/namespaces/{}", escape_segment(ns));
                let Some(cm) = v.object(cfg, &ptr, &format!("namespaces.{ns}")) else {
                    continue;
                };
                v.unknown_keys(cm, &ptr, &["mode", "rules"], &format!("namespaces.{ns}"));
                if let Some(x) = cm.get("mode") {
                    if let Some(mode) =
                        v.parsed(x, &format!("{ptr}/mode"), &format!("namespaces.{ns}.mode"))
                    {
                        policy.namespaces.insert(ns.clone(), mode);
                    }
                }
                let rules_ptr = format!("{ptr}/rules");
                let what = format!("namespaces.{ns}.rules");
                if let Some(rm) = cm.get("rules").and_then(|x| v.object(x, &rules_ptr, &what)) {
                    for (id, x) in rm {
                        let kp = format!("{rules_ptr}/{}", escape_segment(id));
                        if !rules.iter().any(|m| m.id == id) {
                            v.error(&kp, format!("unknown rule `{id}` in {what}"));
                            continue;
                        }
                        // `POD001: deny` or `POD001: {mode: deny}`.
                        let (x, mp) = match x {
                            Value::Object(o) => {
                                v.unknown_keys(o, &kp, &["mode"], &format!("{what}.{id}"));
                                match o.get("mode") {
                                    Some(m) => (m, format!("{kp}/mode")),
                                    None => continue,
                                }
                            }
                            other => (other, kp.clone()),
                        };
                        if let Some(mode) = v.parsed(x, &mp, &format!("{what}.{id}")) {
                            policy
                                .namespace_rules
                                .entry(ns.clone())
                                .or_default()
                                .insert(id.clone(), mode);
                        }
                    }
                }
            }
        }
        match top.get("exceptions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for (i, e) in list.iter().enumerate() {
                    if let Some(ex) = parse_exception(&mut v, e, i, rules) {
                        policy.exceptions.push(ex);
                    }
                }
            }
            Some(other) => v.error(
                "/exceptions",
                format!("exceptions must be a list, found {}", type_name(other)),
            ),
        }
        if v.errors.is_empty() {
            Ok(policy)
        } else {
            v.errors.sort_by_key(|e| (e.line, e.column));
            Err(v.errors)
        }
    }

    /// The settings of one rule, if any.
    pub fn rule(&self, id: &str) -> Option<&RuleConfig> {
        self.rules.get(id)
    }

    /// The admission mode of a rule in a namespace, the most specific setting winning: the
    /// rule's mode in that namespace, else the rule's mode, else the namespace's, else the
    /// default. Identical in scan, audit and admission.
    pub fn mode(&self, rule: &str, namespace: Option<&str>) -> Mode {
        namespace
            .and_then(|ns| self.namespace_rules.get(ns)?.get(rule).copied())
            .or_else(|| self.rules.get(rule).and_then(|r| r.mode))
            .or_else(|| namespace.and_then(|ns| self.namespaces.get(ns).copied()))
            .unwrap_or(self.default_mode)
    }
}

fn parse_image_trust(v: &mut Validator<'_>, x: &Value) -> Option<crate::trust::ImageTrust> {
    use crate::trust::{
        CosignTrust, ImageTrust, NotationTrust, TrustPolicy, UnknownScope, Verification,
    };
    let m = v.object(x, "/imageTrust", "imageTrust")?;
    v.unknown_keys(m, "/imageTrust", &["policies", "default"], "imageTrust");
    let mut trust = ImageTrust::default();
    if let Some(d) = m.get("default") {
        match d.as_str() {
            Some("skip") => trust.default = UnknownScope::Skip,
            Some("reject") => trust.default = UnknownScope::Reject,
            _ => v.error(
                "/imageTrust/default",
                format!(
                    "imageTrust.default must be `skip` or `reject`, found {}",
                    describe(d)
                ),
            ),
        }
    }
    // A non-empty list of non-empty strings.
    let files = |v: &mut Validator<'_>, x: Option<&Value>, ptr: &str, what: &str| {
        let Some(x) = x else {
            v.error(ptr, format!("{what} is required"));
            return Vec::new();
        };
        let p = ptr.to_owned();
        let list = v.string_list(x, &p, what);
        if list.is_empty() && x.is_array() {
            v.error(&p, format!("{what} must not be empty"));
        }
        for (i, s) in list.iter().enumerate() {
            if s.trim().is_empty() {
                v.error(&format!("{p}/{i}"), format!("an entry of {what} is empty"));
            }
        }
        list
    };
    match m.get("policies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            let mut names = std::collections::HashSet::new();
            for (i, e) in list.iter().enumerate() {
                let ptr = format!("/imageTrust/policies/{i}");
                let what = format!("imageTrust.policies[{i}]");
                let Some(pm) = v.object(e, &ptr, &what) else {
                    continue;
                };
                v.unknown_keys(
                    pm,
                    &ptr,
                    &["name", "scopes", "verification", "cosign", "notation"],
                    &what,
                );
                let mut tp = TrustPolicy {
                    line: v.spans.resolve(&ptr).map(|p| p.0).unwrap_or(0),
                    ..TrustPolicy::default()
                };
                match pm.get("name") {
                    Some(n) => {
                        if let Some(n) =
                            v.string(n, &format!("{ptr}/name"), &format!("{what}.name"))
                        {
                            if !names.insert(n.clone()) {
                                v.error(
                                    &format!("{ptr}/name"),
                                    format!("{what}.name `{n}` is used by another policy"),
                                );
                            }
                            tp.name = n;
                        }
                    }
                    None => v.error(&ptr, format!("{what} needs a `name`")),
                }
                tp.scopes = files(
                    v,
                    pm.get("scopes"),
                    &format!("{ptr}/scopes"),
                    &format!("{what}.scopes"),
                );
                if let Some(x) = pm.get("verification") {
                    match x.as_str() {
                        Some("enforce") => tp.verification = Verification::Enforce,
                        Some("skip") => tp.verification = Verification::Skip,
                        _ => v.error(
                            &format!("{ptr}/verification"),
                            format!(
                                "{what}.verification must be `enforce` or `skip`, found {}",
                                describe(x)
                            ),
                        ),
                    }
                }
                if let Some(x) = pm.get("cosign") {
                    let cp = format!("{ptr}/cosign");
                    if let Some(cm) = v.object(x, &cp, &format!("{what}.cosign")) {
                        v.unknown_keys(cm, &cp, &["publicKeys"], &format!("{what}.cosign"));
                        tp.cosign = Some(CosignTrust {
                            public_keys: files(
                                v,
                                cm.get("publicKeys"),
                                &format!("{cp}/publicKeys"),
                                &format!("{what}.cosign.publicKeys"),
                            ),
                        });
                    }
                }
                if let Some(x) = pm.get("notation") {
                    let np = format!("{ptr}/notation");
                    if let Some(nm) = v.object(x, &np, &format!("{what}.notation")) {
                        v.unknown_keys(
                            nm,
                            &np,
                            &["trustStore", "signers"],
                            &format!("{what}.notation"),
                        );
                        let trust_store = files(
                            v,
                            nm.get("trustStore"),
                            &format!("{np}/trustStore"),
                            &format!("{what}.notation.trustStore"),
                        );
                        let signers = match nm.get("signers") {
                            Some(x) => files(
                                v,
                                Some(x),
                                &format!("{np}/signers"),
                                &format!("{what}.notation.signers"),
                            ),
                            None => Vec::new(),
                        };
                        for (i, s) in signers.iter().enumerate() {
                            if let Err(e) = crate::trust::parse_distinguished_name(s) {
                                v.error(
                                    &format!("{np}/signers/{i}"),
                                    format!("{what}.notation.signers: {e}"),
                                );
                            }
                        }
                        tp.notation = Some(NotationTrust {
                            trust_store,
                            signers,
                        });
                    }
                }
                if tp.verification == Verification::Enforce
                    && tp.cosign.is_none()
                    && tp.notation.is_none()
                {
                    v.error(
                        &ptr,
                        format!(
                            "{what} accepts no signature: add `cosign` (publicKeys) and/or `notation` (trustStore), or set `verification: skip`"
                        ),
                    );
                }
                trust.policies.push(tp);
            }
        }
        Some(other) => v.error(
            "/imageTrust/policies",
            format!(
                "imageTrust.policies must be a list, found {}",
                type_name(other)
            ),
        ),
    }
    Some(trust)
}

/// A value for an error message: a string quoted, else its type.
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => type_name(other).to_owned(),
    }
}

const EXCEPTION_KEYS: &[&str] = &["rules", "match", "reason", "owner", "ticket", "expires"];

fn parse_exception(
    v: &mut Validator<'_>,
    e: &Value,
    i: usize,
    rules: &[&RuleMeta],
) -> Option<Exception> {
    let ptr = format!("/exceptions/{i}");
    let what = format!("exceptions[{i}]");
    let m = v.object(e, &ptr, &what)?;
    v.unknown_keys(m, &ptr, EXCEPTION_KEYS, &what);
    let before = v.errors.len();
    let rule_sel = match m.get("rules") {
        Some(x) => v.selectors(x, &format!("{ptr}/rules"), &format!("{what}.rules"), rules),
        None => {
            v.error(
                &ptr,
                format!("{what} needs `rules` (the rule ids or selectors it covers)"),
            );
            Vec::new()
        }
    };
    let mut matches = ExceptionMatch::default();
    match m.get("match") {
        Some(x) => {
            if let Some(mm) = v.object(x, &format!("{ptr}/match"), &format!("{what}.match")) {
                v.unknown_keys(
                    mm,
                    &format!("{ptr}/match"),
                    &["namespace", "kind", "name"],
                    &format!("{what}.match"),
                );
                for key in ["namespace", "kind", "name"] {
                    if let Some(val) = mm.get(key) {
                        let s = v.string(
                            val,
                            &format!("{ptr}/match/{key}"),
                            &format!("{what}.match.{key}"),
                        );
                        match key {
                            "namespace" => matches.namespace = s,
                            "kind" => matches.kind = s,
                            _ => matches.name = s,
                        }
                    }
                }
            }
        }
        None => v.error(
            &ptr,
            format!("{what} needs `match` (namespace, kind and/or name)"),
        ),
    }
    let reason = match m.get("reason") {
        Some(x) => v
            .string(x, &format!("{ptr}/reason"), &format!("{what}.reason"))
            .unwrap_or_default(),
        None => {
            v.error(&ptr, format!("{what} needs a `reason`"));
            String::new()
        }
    };
    let owner = m
        .get("owner")
        .and_then(|x| v.string(x, &format!("{ptr}/owner"), &format!("{what}.owner")));
    let ticket = m.get("ticket").and_then(|x| match x {
        Value::Number(n) => Some(n.to_string()),
        _ => v.string(x, &format!("{ptr}/ticket"), &format!("{what}.ticket")),
    });
    let expires = m.get("expires").and_then(|x| {
        let s = v.string(x, &format!("{ptr}/expires"), &format!("{what}.expires"))?;
        match s.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                v.error(
                    &format!("{ptr}/expires"),
                    format!("{what}.expires: `{s}` is not a date (expected YYYY-MM-DD)"),
                );
                None
            }
        }
    });
    if v.errors.len() > before {
        return None;
    }
    Some(Exception {
        index: i,
        rules: rule_sel,
        matches,
        reason,
        owner,
        ticket,
        expires,
        line: v.spans.resolve(&ptr).map(|p| p.0).unwrap_or(0),
    })
}
