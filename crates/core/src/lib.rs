//! Core model of Palisade.
//!
//! This crate holds the types every other part of Palisade speaks: the [`Object`] view of a
//! Kubernetes object with its source location, the [`Inventory`] of objects with its indexes,
//! the [`PodTemplate`] view shared by every workload kind, [`Finding`]s and [`Severity`], the
//! [`Rule`] trait with its [`RuleMeta`], the policy configuration ([`Policy`]) and the
//! [`Report`] that renderers turn into output. It performs no I/O.

pub mod compliance;
pub mod config;
pub mod credentials;
pub mod family;
pub mod finding;
pub mod image;
pub mod inventory;
pub mod labels;
pub mod node;
pub mod object;
pub mod podspec;
pub mod report;
pub mod resources;
pub mod rule;
pub mod running;
pub mod select;
pub mod selector;
pub mod trust;

pub use compliance::{ComplianceSummary, Framework};
pub use config::{Exception, Mode, Policy, PolicyError};
pub use family::{Family, FAMILIES};
pub use finding::{Finding, Properties, Severity};
pub use image::{ImageRef, RegistryPattern};
pub use inventory::{Inventory, ObjectId, ReviewRequest};
pub use node::{CheckResult, CheckStatus, NodeReport};
pub use object::{redact_secret, Object, ObjectRef, SourceLoc, SpanIndex, LAST_APPLIED, REDACTED};
pub use podspec::{Container, ContainerKind, PodTemplate};
pub use report::{
    EventStats, InputIssue, ModePreview, ModePreviewEntry, Report, ReportFinding, SkippedRule,
    Summary, UnreadableKind,
};
pub use rule::{AdmissionNeeds, Context, PssLevel, PssVersion, Rule, RuleMeta, RuleOption, Scope};
