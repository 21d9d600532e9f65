//! Palisade's rule catalogue.
//!
//! One file per rule under `rules/<family>/`, each a unit struct whose doc comment is the
//! user documentation (`palisade explain ID`), declared with [`declare_rule!`]; one registry
//! ([`registry::RULES`]) lists them all in id order.

#[macro_use]
mod macros;
pub mod registry;
mod rules;
#[cfg(test)]
mod testing;

pub use registry::{all, find, RULES};
