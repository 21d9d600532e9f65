//! Threat detection over Kubernetes audit events.
//!
//! Feed audit events (JSON lines, single events or `EventList` documents) to a
//! [`Detector`]; it evaluates declarative YAML [`rules`](RuleSet) and returns
//! [`Alert`]s. See the crate README for the rule format and the condition
//! language.
//!
//! ```
//! use palisade_detect::{Detector, RuleSet};
//! let mut d = Detector::new(RuleSet::builtin());
//! let alerts = d.feed_line(r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"1",
//!   "stage":"ResponseComplete","verb":"create","user":{"username":"alice"},
//!   "requestURI":"/api/v1/namespaces/dev/pods/web/exec?command=sh",
//!   "objectRef":{"resource":"pods","namespace":"dev","name":"web","subresource":"exec"},
//!   "responseStatus":{"code":101}}"#);
//! assert_eq!(alerts[0].rule_name, "pod-exec-attach");
//! ```

pub mod alert;
mod credentials;
pub mod detector;
pub mod event;
pub mod expr;
pub mod falco_map;
pub mod glob;
pub mod group;
pub mod input;
pub mod redact;
pub mod rules;
pub mod scrub;

pub use alert::{Alert, AlertGroup, AlertObject};
pub use detector::{Detector, DetectorOptions, Stats};
pub use event::{Event, ItemError, ObjectRef, ResponseStatus, UserInfo};
pub use expr::{Expr, ParseError};
pub use group::GroupOptions;
pub use input::{
    parse_size, InputError, InputErrorKind, Line, LineReader, DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_LINE_BYTES,
};
pub use redact::{MASK, MAX_FIELD_BYTES};
pub use rules::{
    ClientExcept, Except, GroupSpec, Rule, RuleError, RuleSet, Severity, Threshold, ThresholdKey,
    Variant, BUILTIN_RULES_YAML,
};
pub use scrub::REDACTED;
