//! Kubernetes RBAC authorizer semantics and queries for Palisade.
//!
//! Build an [`Rbac`] inventory from parsed Kubernetes objects with
//! [`Rbac::from_objects`], then ask:
//! * [`Rbac::can`] / [`Rbac::authorize`]: is a request allowed, and by which
//!   binding → role → rule (or because the identity is in `system:masters`);
//! * [`Rbac::who_can`]: every subject allowed to perform a request;
//! * [`Rbac::risks`]: subjects holding risky grants;
//! * [`Rbac::escalation_paths`]: step-by-step paths to cluster-admin-equivalent power;
//! * [`Rbac::usage`] and [`suggest`]: from an audit log ([`Evidence`]), the granted rules
//!   no request exercised, and the minimal rules covering what a subject did;
//! * hygiene checks: [`Rbac::bindings_to_missing_service_accounts`],
//!   [`Rbac::anonymous_bindings`], [`Rbac::default_service_account_bindings`].
//!
//! Matching follows `k8s.io/kubernetes/plugin/pkg/auth/authorizer/rbac` and
//! `pkg/apis/rbac/v1/evaluation_helpers.go`; aggregated ClusterRoles are computed as the
//! clusterrole-aggregation controller does.
//!
//! ```
//! use palisade_rbac::{Rbac, Request, Subject};
//! let objs: Vec<serde_json::Value> = vec![
//!     serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
//!         "metadata": {"name": "reader", "namespace": "dev"},
//!         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
//!     serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
//!         "metadata": {"name": "alice-reads", "namespace": "dev"},
//!         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
//!         "subjects": [{"kind": "User", "name": "alice"}]}),
//! ];
//! let rbac = Rbac::from_objects(&objs);
//! let req = Request::parse("get", "pods").unwrap().in_namespace("dev");
//! assert!(rbac.can(&Subject::parse("alice"), &req).allowed);
//! assert!(!rbac.can(&Subject::parse("bob"), &req).allowed);
//! ```

mod analysis;
mod authz;
mod bootstrap;
mod evidence;
mod graph;
mod model;
mod request;
/// Label selectors (shared with the rest of Palisade).
pub use palisade_core::labels as selector;

pub use analysis::{BindingSubject, EscalationPath, Risk, RiskKind, RoleRisk, Step, Technique};
pub use authz::{
    Decision, GrantRef, Rbac, Reason, SubjectGrant, UserInfo, SYSTEM_ANONYMOUS,
    SYSTEM_AUTHENTICATED, SYSTEM_MASTERS, SYSTEM_SERVICEACCOUNTS, SYSTEM_UNAUTHENTICATED,
};
pub use evidence::{
    made_by, parse_time_micros, suggest, AuditedRequest, AuthzDecision, BindingUsage, Confidence,
    Evidence, RuleStatus, RuleUsage, SubjectUsage, SuggestedRole, SuggestedRule, Suggestion,
    UsageReport, Window, MAX_RESOURCE_NAMES,
};
pub use graph::{AttackPath, Goal, Hop, PathNode, MAX_HOPS};
pub use model::{
    Binding, BindingKind, PolicyRule, Role, RoleKind, RoleRef, ServiceAccountRef, Subject,
    SubjectKind, ALL, AUTOUPDATE_ANNOTATION,
};
pub use request::{ParseError, Request, Target};
