//! Severities and the findings rules report.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::inventory::ObjectId;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; no action needed.
    Info,
    /// Hardening that is good practice.
    Low,
    /// A weakness an attacker can use together with another one.
    Medium,
    /// A direct path to compromise of the workload or namespace.
    High,
    /// A direct path to compromise of the node or cluster.
    Critical,
}

impl Severity {
    /// Every severity, from lowest to highest.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A severity name that is not one of critical, high, medium, low, info.
#[derive(Debug, thiserror::Error)]
#[error("unknown severity `{0}` (expected one of: critical, high, medium, low, info)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "info" => Severity::Info,
            "low" => Severity::Low,
            "medium" => Severity::Medium,
            "high" => Severity::High,
            "critical" => Severity::Critical,
            _ => return Err(UnknownSeverity(s.to_owned())),
        })
    }
}

/// The machine-readable facts of a finding, sorted by key: a sorted vector (a finding has a
/// handful), where a B-tree would take a 500-byte node for each finding's first entry. Keys
/// are the rules' own words (`container`, `pssCheck`), kept without a copy of their text.
pub type Properties = litemap::LiteMap<Cow<'static, str>, String>;

/// What a rule reports: the object, the field and what is wrong with it. Data, not an error.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// The rule id (`POD001`).
    pub rule: &'static str,
    /// The object the finding is about.
    pub object: ObjectId,
    /// JSON pointer of the offending field (or of where the missing field belongs).
    pub path: Option<String>,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, when more specific than the rule's doc (most are a rule's own words,
    /// kept without a copy of their text).
    pub fix: Option<Cow<'static, str>>,
    /// Severity for this finding when it differs from the rule's default.
    pub severity: Option<Severity>,
    /// Extra machine-readable facts (`container`, `pssCheck`...). Never a secret value.
    pub properties: Properties,
    /// Where `path` is written, resolved while the object's whole document was at hand (a
    /// file scan checks each object as its file is read, then keeps only what the remaining
    /// rules need). `None`: resolved from the inventory's object when the report is built.
    pub location: Option<crate::object::SourceLoc>,
}

impl Finding {
    /// Gives back the spare capacity of the message, the path and the properties (text built
    /// with `format!` and a list grown by [`Finding::property`] hold up to twice, and four
    /// entries, what they need).
    pub fn compact(&mut self) {
        self.message.shrink_to_fit();
        if let Some(p) = &mut self.path {
            p.shrink_to_fit();
        }
        if !self.properties.is_empty() {
            let mut v = std::mem::take(&mut self.properties).into_tuple_vec();
            v.shrink_to_fit();
            for (_, value) in &mut v {
                value.shrink_to_fit();
            }
            self.properties = Properties::from_sorted_store_unchecked(v);
        }
    }

    /// Sets the fix hint.
    pub fn fix(&mut self, fix: impl Into<Cow<'static, str>>) -> &mut Self {
        self.fix = Some(fix.into());
        self
    }

    /// Adds a property.
    pub fn property(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<String>,
    ) -> &mut Self {
        self.properties.insert(key.into(), value.into());
        self
    }

    /// Overrides the rule's default severity for this one finding.
    pub fn severity(&mut self, severity: Severity) -> &mut Self {
        self.severity = Some(severity);
        self
    }
}
