//! Exact, format-preserving fixes for Palisade findings.
//!
//! [`rules::FIXES`] is the one table of fixes (rule id, safety, text, plan). A plan is a list
//! of [`edit::Op`]s on an object's fields; [`edit::apply_op`] turns one into a text edit on the
//! document's syntax tree ([`tree`]), written in the document's own style, so that comments,
//! key order, quoting, indentation and the other documents stay byte for byte.
//! [`engine::fix_file`] does it for a whole file.

pub mod diff;
pub mod edit;
pub mod engine;
pub mod rules;
pub mod tree;

pub use engine::{fix_file, FileError, FileFix, Options, Outcome, Resolution, Target};
pub use rules::{fix_for, Plan, RuleFix, Safety, FIXES};
