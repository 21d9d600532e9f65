//! RBAC object model parsed from `serde_json::Value` and the rule-matching helpers of
//! `pkg/apis/rbac/v1/evaluation_helpers.go`.

use serde::Serialize;
use serde_json::Value;

use palisade_core::labels::{labels_of, LabelSelector, Labels};
pub(crate) use palisade_core::object::meta_str;

/// `rbacv1.VerbAll`, `ResourceAll`, `APIGroupAll`, `NonResourceAll`.
pub const ALL: &str = "*";

/// One `rbacv1.PolicyRule`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct PolicyRule {
    /// `verbs`.
    pub verbs: Vec<String>,
    /// `apiGroups` (`""` is the core group).
    pub api_groups: Vec<String>,
    /// `resources`, possibly `resource/subresource`, `*` or `*/subresource`.
    pub resources: Vec<String>,
    /// `resourceNames`; empty means any name.
    pub resource_names: Vec<String>,
    /// `nonResourceURLs`; exact or ending in `*`.
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// `VerbMatches`.
    pub fn verb_matches(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == ALL || v == verb)
    }

    /// `APIGroupMatches`.
    pub fn api_group_matches(&self, group: &str) -> bool {
        self.api_groups.iter().any(|g| g == ALL || g == group)
    }

    /// `ResourceMatches`: `combined` is `resource` or `resource/subresource`.
    pub fn resource_matches(&self, combined: &str, subresource: &str) -> bool {
        self.resources.iter().any(|r| {
            if r == ALL || r == combined {
                return true;
            }
            !subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource)
        })
    }

    /// `ResourceNameMatches`: a rule with names never matches a request without one.
    pub fn resource_name_matches(&self, name: &str) -> bool {
        self.resource_names.is_empty() || self.resource_names.iter().any(|n| n == name)
    }

    /// `NonResourceURLMatches`.
    pub fn non_resource_url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|u| {
            u == ALL || u == path || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
        })
    }

    /// `BreakdownRule` (`pkg/registry/rbac/validation/policy_comparator.go`): one rule per
    /// group × resource × verb (× resource name), then one per non-resource URL × verb.
    pub(crate) fn breakdown(&self) -> Vec<PolicyRule> {
        let one = |s: &String| vec![s.clone()];
        let mut out = Vec::new();
        for group in &self.api_groups {
            for resource in &self.resources {
                for verb in &self.verbs {
                    let atom = |names: Vec<String>| PolicyRule {
                        verbs: one(verb),
                        api_groups: one(group),
                        resources: one(resource),
                        resource_names: names,
                        non_resource_urls: Vec::new(),
                    };
                    if self.resource_names.is_empty() {
                        out.push(atom(Vec::new()));
                    } else {
                        out.extend(self.resource_names.iter().map(|n| atom(one(n))));
                    }
                }
            }
        }
        for url in &self.non_resource_urls {
            for verb in &self.verbs {
                out.push(PolicyRule {
                    verbs: one(verb),
                    non_resource_urls: one(url),
                    ..PolicyRule::default()
                });
            }
        }
        out
    }

    /// `ruleCovers` (`policy_comparator.go`): whether this rule grants everything `sub` grants.
    pub(crate) fn covers(&self, sub: &PolicyRule) -> bool {
        let has = |set: &[String], x: &str| set.iter().any(|s| s == x);
        let has_all = |set: &[String], xs: &[String]| xs.iter().all(|x| has(set, x));
        let verbs = has(&self.verbs, ALL) || has_all(&self.verbs, &sub.verbs);
        let groups = has(&self.api_groups, ALL) || has_all(&self.api_groups, &sub.api_groups);
        // `resourceCoversAll`: `*`, an exact match, or `*/subresource` for a subresource.
        let resources = has(&self.resources, ALL)
            || sub.resources.iter().all(|path| {
                has(&self.resources, path)
                    || path
                        .split_once('/')
                        .is_some_and(|(_, sr)| has(&self.resources, &format!("*/{sr}")))
            });
        // `nonResourceURLsCoversAll`: exact, or a trailing-`*` prefix.
        let urls = sub.non_resource_urls.iter().all(|path| {
            self.non_resource_urls.iter().any(|owner| {
                owner == path
                    || (owner.ends_with('*') && path.starts_with(owner.trim_end_matches('*')))
            })
        });
        let names = if sub.resource_names.is_empty() {
            self.resource_names.is_empty()
        } else {
            self.resource_names.is_empty() || has_all(&self.resource_names, &sub.resource_names)
        };
        verbs && groups && resources && names && urls
    }

    fn from_value(v: &Value) -> Result<Self, String> {
        if !v.is_object() {
            return Err("rule is not an object".into());
        }
        Ok(PolicyRule {
            verbs: str_list(v, "verbs")?,
            api_groups: str_list(v, "apiGroups")?,
            resources: str_list(v, "resources")?,
            resource_names: str_list(v, "resourceNames")?,
            non_resource_urls: str_list(v, "nonResourceURLs")?,
        })
    }
}

fn str_list(v: &Value, key: &str) -> Result<Vec<String>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("{key} contains a non-string"))
            })
            .collect(),
        Some(_) => Err(format!("{key} is not a list")),
    }
}

/// `rbacv1.AutoUpdateAnnotationKey`: `"false"` stops the API server from reconciling a
/// bootstrap role.
pub const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";

/// Kind of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum RoleKind {
    /// Namespaced `Role`.
    Role,
    /// Cluster-scoped `ClusterRole`.
    ClusterRole,
}

/// A Role or ClusterRole.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Role {
    /// Role or ClusterRole.
    pub kind: RoleKind,
    /// Namespace (`None` for ClusterRoles).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Labels (used by aggregation).
    pub labels: Labels,
    /// Effective rules (after aggregation for aggregated ClusterRoles).
    pub rules: Vec<PolicyRule>,
    /// `aggregationRule.clusterRoleSelectors`, when the ClusterRole has an aggregation rule.
    #[serde(skip)]
    pub aggregation: Option<Vec<LabelSelector>>,
    /// The role carries `rbac.authorization.kubernetes.io/autoupdate: "false"`: the API
    /// server's reconciliation of bootstrap roles leaves it as written.
    #[serde(skip)]
    pub autoupdate_disabled: bool,
}

/// Kind of a binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum BindingKind {
    /// Namespaced `RoleBinding`.
    RoleBinding,
    /// Cluster-scoped `ClusterRoleBinding`.
    ClusterRoleBinding,
}

/// Kind of a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum SubjectKind {
    /// A user name.
    User,
    /// A group name.
    Group,
    /// A service account (`namespace` + `name`).
    ServiceAccount,
}

/// A subject: a user, a group or a service account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Subject {
    /// User, Group or ServiceAccount.
    pub kind: SubjectKind,
    /// Name.
    pub name: String,
    /// Namespace of a service account (`None` for users and groups, and for a
    /// service-account subject of a ClusterRoleBinding that omits it).
    pub namespace: Option<String>,
}

impl Subject {
    /// A user subject.
    pub fn user(name: &str) -> Self {
        Subject {
            kind: SubjectKind::User,
            name: name.into(),
            namespace: None,
        }
    }

    /// A group subject.
    pub fn group(name: &str) -> Self {
        Subject {
            kind: SubjectKind::Group,
            name: name.into(),
            namespace: None,
        }
    }

    /// A service-account subject.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        Subject {
            kind: SubjectKind::ServiceAccount,
            name: name.into(),
            namespace: Some(namespace.into()),
        }
    }

    /// Parses the CLI forms: `group:NAME`, `system:serviceaccount:NS:NAME`, or a user name.
    /// Also accepts `user:NAME` and `serviceaccount:NS:NAME` / `sa:NS:NAME`.
    pub fn parse(s: &str) -> Self {
        if let Some(g) = s.strip_prefix("group:") {
            return Subject::group(g);
        }
        if let Some(u) = s.strip_prefix("user:") {
            return Subject::user(u);
        }
        for prefix in ["system:serviceaccount:", "serviceaccount:", "sa:"] {
            if let Some(rest) = s.strip_prefix(prefix) {
                if let Some((ns, name)) = rest.split_once(':') {
                    if !ns.is_empty() && !name.is_empty() && !name.contains(':') {
                        return Subject::service_account(ns, name);
                    }
                }
            }
        }
        Subject::user(s)
    }

    /// The user name a service account authenticates as, if this is a service account
    /// with a namespace.
    pub fn service_account_username(&self) -> Option<String> {
        match (&self.kind, &self.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => {
                Some(format!("system:serviceaccount:{ns}:{}", self.name))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            SubjectKind::User => write!(f, "user {}", self.name),
            SubjectKind::Group => write!(f, "group {}", self.name),
            SubjectKind::ServiceAccount => write!(
                f,
                "serviceaccount {}/{}",
                self.namespace.as_deref().unwrap_or("?"),
                self.name
            ),
        }
    }
}

/// `roleRef` of a binding.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RoleRef {
    /// `Role` or `ClusterRole`.
    pub kind: RoleKind,
    /// Role name.
    pub name: String,
}

/// A RoleBinding or ClusterRoleBinding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Binding {
    /// RoleBinding or ClusterRoleBinding.
    pub kind: BindingKind,
    /// Namespace (`None` for ClusterRoleBindings).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// Referenced role.
    pub role_ref: RoleRef,
    /// Subjects as written (a service account without namespace keeps `None`; the
    /// authorizer defaults it to the RoleBinding's namespace).
    pub subjects: Vec<Subject>,
}

impl Binding {
    /// The namespace a service-account subject resolves to, as the authorizer's
    /// `appliesToUser` does: its own namespace, else the binding's namespace.
    pub fn subject_namespace<'a>(&'a self, s: &'a Subject) -> Option<&'a str> {
        s.namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .or(self.namespace.as_deref())
    }

    /// The identity a subject stands for: a service-account namespace defaulted (see
    /// [`Binding::subject_namespace`]), and a `User` named `system:serviceaccount:NS:NAME`
    /// taken as the service account NS/NAME, whose user name it is (the authorizer's
    /// `appliesToUser` compares a User subject's name with the request's user name, so both
    /// forms grant the same identity and are one subject).
    pub fn resolved_subject(&self, s: &Subject) -> Subject {
        match s.kind {
            SubjectKind::ServiceAccount => {
                let mut out = s.clone();
                out.namespace = self.subject_namespace(s).map(str::to_string);
                out
            }
            SubjectKind::User => service_account_of_username(&s.name).unwrap_or_else(|| s.clone()),
            SubjectKind::Group => s.clone(),
        }
    }
}

/// The service account a user name denotes: `system:serviceaccount:NS:NAME` with exactly
/// two non-empty parts after the prefix (`serviceaccount.SplitUsername`).
fn service_account_of_username(name: &str) -> Option<Subject> {
    let rest = name.strip_prefix("system:serviceaccount:")?;
    let (ns, sa) = rest.split_once(':')?;
    (!ns.is_empty() && !sa.is_empty() && !sa.contains(':'))
        .then(|| Subject::service_account(ns, sa))
}

/// A ServiceAccount object in the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ServiceAccountRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

fn rbac_api(obj: &Value) -> bool {
    obj.get("apiVersion")
        .and_then(Value::as_str)
        .is_none_or(|a| a.starts_with("rbac.authorization.k8s.io/"))
}

pub(crate) fn describe(obj: &Value) -> String {
    // The namespace of a cluster-scoped object is ignored (cleared by the API server).
    palisade_core::object::describe_json(obj, &["ClusterRole", "ClusterRoleBinding", "Namespace"])
}

/// Parses a Role / ClusterRole.
pub(crate) fn parse_role(obj: &Value, kind: RoleKind) -> Result<Role, String> {
    if !rbac_api(obj) {
        return Err("apiVersion is not rbac.authorization.k8s.io".into());
    }
    let name = meta_str(obj, "name").ok_or("missing metadata.name")?;
    let namespace = match kind {
        RoleKind::Role => Some(meta_str(obj, "namespace").unwrap_or("default").to_string()),
        RoleKind::ClusterRole => None,
    };
    let rules = match obj.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(PolicyRule::from_value)
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("rules is not a list".into()),
    };
    let aggregation = match (kind, obj.get("aggregationRule")) {
        (RoleKind::ClusterRole, Some(agg)) if !agg.is_null() => {
            let sels = match agg.get("clusterRoleSelectors") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(LabelSelector::from_value)
                    .collect::<Result<_, _>>()?,
                Some(_) => return Err("clusterRoleSelectors is not a list".into()),
            };
            Some(sels)
        }
        _ => None,
    };
    // `computeReconciledRole` (pkg/registry/rbac/reconciliation/reconcile_role.go) protects a
    // role whose annotation is exactly the string "false".
    let autoupdate_disabled = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(AUTOUPDATE_ANNOTATION))
        .and_then(Value::as_str)
        == Some("false");
    Ok(Role {
        kind,
        namespace,
        name: name.to_string(),
        labels: labels_of(obj),
        rules,
        aggregation,
        autoupdate_disabled,
    })
}

/// Parses a RoleBinding / ClusterRoleBinding.
pub(crate) fn parse_binding(obj: &Value, kind: BindingKind) -> Result<Binding, String> {
    if !rbac_api(obj) {
        return Err("apiVersion is not rbac.authorization.k8s.io".into());
    }
    let name = meta_str(obj, "name").ok_or("missing metadata.name")?;
    let namespace = match kind {
        BindingKind::RoleBinding => {
            Some(meta_str(obj, "namespace").unwrap_or("default").to_string())
        }
        BindingKind::ClusterRoleBinding => None,
    };
    let rr = obj.get("roleRef").ok_or("missing roleRef")?;
    let rr_kind = match rr.get("kind").and_then(Value::as_str) {
        Some("Role") if kind == BindingKind::RoleBinding => RoleKind::Role,
        Some("Role") => return Err("ClusterRoleBinding cannot reference a Role".into()),
        Some("ClusterRole") => RoleKind::ClusterRole,
        other => return Err(format!("invalid roleRef.kind {other:?}")),
    };
    let rr_name = rr
        .get("name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or("missing roleRef.name")?;
    let mut subjects = Vec::new();
    match obj.get("subjects") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for s in a {
                let sk = match s.get("kind").and_then(Value::as_str) {
                    Some("User") => SubjectKind::User,
                    Some("Group") => SubjectKind::Group,
                    Some("ServiceAccount") => SubjectKind::ServiceAccount,
                    other => return Err(format!("invalid subject kind {other:?}")),
                };
                let sname = s
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty())
                    .ok_or("subject without name")?;
                let sns = s
                    .get("namespace")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty() && sk == SubjectKind::ServiceAccount)
                    .map(str::to_string);
                if sk == SubjectKind::ServiceAccount
                    && sns.is_none()
                    && kind == BindingKind::ClusterRoleBinding
                {
                    // Rejected by API validation (namespace is required outside a
                    // RoleBinding); it would match nobody.
                    return Err("ServiceAccount subject without namespace".into());
                }
                subjects.push(Subject {
                    kind: sk,
                    name: sname.to_string(),
                    namespace: sns,
                });
            }
        }
        Some(_) => return Err("subjects is not a list".into()),
    }
    Ok(Binding {
        kind,
        namespace,
        name: name.to_string(),
        role_ref: RoleRef {
            kind: rr_kind,
            name: rr_name.to_string(),
        },
        subjects,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], res: &[&str], names: &[&str]) -> PolicyRule {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect();
        PolicyRule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(res),
            resource_names: v(names),
            non_resource_urls: vec![],
        }
    }

    #[test]
    fn star_subresource_matches_only_that_subresource() {
        let r = rule(&["get"], &[""], &["*/status"], &[]);
        assert!(r.resource_matches("pods/status", "status"));
        assert!(!r.resource_matches("pods", ""));
        assert!(!r.resource_matches("pods/exec", "exec"));
        // `*/sta` must not match `status` (length check)
        let r2 = rule(&["get"], &[""], &["*/tus"], &[]);
        assert!(!r2.resource_matches("pods/status", "status"));
    }

    #[test]
    fn star_resource_matches_subresources() {
        let r = rule(&["get"], &[""], &["*"], &[]);
        assert!(r.resource_matches("pods/exec", "exec"));
        let r = rule(&["get"], &[""], &["pods"], &[]);
        assert!(!r.resource_matches("pods/exec", "exec"));
    }

    #[test]
    fn non_resource_prefix() {
        let mut r = rule(&["get"], &[], &[], &[]);
        r.non_resource_urls = vec!["/healthz".into(), "/api/*".into()];
        assert!(r.non_resource_url_matches("/healthz"));
        assert!(!r.non_resource_url_matches("/healthz/ready"));
        assert!(r.non_resource_url_matches("/api/v1"));
        assert!(r.non_resource_url_matches("/api/"));
        assert!(!r.non_resource_url_matches("/apis"));
    }

    #[test]
    fn breakdown_and_covers_follow_the_policy_comparator() {
        // 2 groups × 1 resource × 2 verbs × 2 names.
        let r = rule(&["get", "list"], &["", "apps"], &["pods"], &["a", "b"]);
        let atoms = r.breakdown();
        assert_eq!(atoms.len(), 8);
        assert!(atoms
            .iter()
            .all(|a| r.covers(a) && a.resource_names.len() == 1));
        let admin = rule(&["*"], &["*"], &["*"], &[]);
        assert!(atoms.iter().all(|a| admin.covers(a)));
        // 1 URL × 2 verbs; a resource rule never covers a non-resource URL.
        let mut nr = rule(&["get", "head"], &[], &[], &[]);
        nr.non_resource_urls = vec!["/healthz".into()];
        let atoms = nr.breakdown();
        assert_eq!(atoms.len(), 2);
        assert!(atoms.iter().all(|a| nr.covers(a) && !admin.covers(a)));
        // `*/status` covers `pods/status`, not `pods`.
        let status = rule(&["get"], &[""], &["*/status"], &[]);
        assert!(status.covers(&rule(&["get"], &[""], &["pods/status"], &[])));
        assert!(!status.covers(&rule(&["get"], &[""], &["pods"], &[])));
        // A rule limited to names does not cover the unrestricted rule.
        let named = rule(&["get"], &[""], &["pods"], &["a"]);
        assert!(!named.covers(&rule(&["get"], &[""], &["pods"], &[])));
        // Trailing-`*` non-resource URLs cover by prefix.
        let mut urls = rule(&["get"], &[], &[], &[]);
        urls.non_resource_urls = vec!["/api/*".into()];
        let mut sub = rule(&["get"], &[], &[], &[]);
        sub.non_resource_urls = vec!["/api/v1".into()];
        assert!(urls.covers(&sub));
        sub.non_resource_urls = vec!["/apis".into()];
        assert!(!urls.covers(&sub));
    }

    #[test]
    fn a_user_named_as_a_service_account_is_that_service_account() {
        let b = Binding {
            kind: BindingKind::RoleBinding,
            namespace: Some("shop".into()),
            name: "b".into(),
            role_ref: RoleRef {
                kind: RoleKind::ClusterRole,
                name: "view".into(),
            },
            subjects: vec![],
        };
        assert_eq!(
            b.resolved_subject(&Subject::user("system:serviceaccount:ci:runner")),
            Subject::service_account("ci", "runner")
        );
        for not_sa in [
            "system:serviceaccount:ci",
            "system:serviceaccount::x",
            "system:serviceaccount:a:b:c",
        ] {
            assert_eq!(
                b.resolved_subject(&Subject::user(not_sa)),
                Subject::user(not_sa)
            );
        }
        assert_eq!(
            b.resolved_subject(&Subject {
                kind: SubjectKind::ServiceAccount,
                name: "api".into(),
                namespace: None
            }),
            Subject::service_account("shop", "api")
        );
    }

    #[test]
    fn subject_parse_forms() {
        assert_eq!(Subject::parse("alice"), Subject::user("alice"));
        assert_eq!(Subject::parse("group:devs"), Subject::group("devs"));
        assert_eq!(
            Subject::parse("system:serviceaccount:kube-system:default"),
            Subject::service_account("kube-system", "default")
        );
        assert_eq!(
            Subject::parse("system:anonymous"),
            Subject::user("system:anonymous")
        );
    }
}
