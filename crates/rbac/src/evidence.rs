//! Least privilege from evidence: which granted rules the audit log shows in use
//! ([`Rbac::usage`]), and the minimal rules that cover what a subject did ([`suggest`]).
//!
//! Audit events (`audit.k8s.io/v1` `Event`, as JSON values) become [`AuditedRequest`]s: the
//! request attributes the API server authorized (verb, API group, resource, subresource,
//! namespace, name, or a non-resource path), the identity it authorized them for (the
//! impersonated user when there is one), and the authorizer's decision
//! (`authorization.k8s.io/decision`). Each allowed request is attributed to every grant
//! (binding → role → rule) that allows it, so a rule is "unused" only when no request of the
//! window matched it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use serde_json::{json, Value};

use crate::authz::{Rbac, UserInfo, SYSTEM_AUTHENTICATED, SYSTEM_SERVICEACCOUNTS};
use crate::model::{BindingKind, PolicyRule, RoleKind, Subject, SubjectKind, ALL};
use crate::request::{Request, Target};

/// The authorizer's decision recorded in an audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthzDecision {
    /// `authorization.k8s.io/decision: allow`.
    Allow,
    /// `authorization.k8s.io/decision: forbid` (HTTP 403 from authorization).
    Forbid,
}

/// One authorization the API server made, read from an audit event.
#[derive(Debug, Clone, Serialize)]
pub struct AuditedRequest {
    /// `auditID` of the event.
    pub audit_id: String,
    /// The identity the request was authorized for.
    pub user: UserInfo,
    /// The request attributes.
    pub request: Request,
    /// The authorizer's decision.
    pub decision: AuthzDecision,
    /// `requestReceivedTimestamp`, microseconds since the Unix epoch.
    pub time_micros: Option<i64>,
    /// Audit level of the event (`Metadata`, `Request`, `RequestResponse`).
    pub level: String,
    /// True for a check the API server makes besides the request itself: `impersonate`
    /// for an impersonated request, `bind` for a binding written, `escalate` for a role
    /// written (see [`Evidence::add_event`]).
    pub derived: bool,
}

/// Audit events read so far, deduplicated by `auditID`.
#[derive(Debug, Default)]
pub struct Evidence {
    requests: Vec<AuditedRequest>,
    seen: HashSet<String>,
    since: Option<i64>,
    events: usize,
    outside_window: usize,
    first: Option<i64>,
    last: Option<i64>,
    /// API groups (`""` = core) with at least one event in the window, from anyone.
    observed_groups: BTreeSet<String>,
    /// At least one non-resource request in the window.
    observed_non_resource: bool,
}

/// The time span the evidence covers.
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    /// Events before this instant were ignored (`--since`), RFC 3339.
    pub since: Option<String>,
    /// First event in the window, RFC 3339.
    pub first: Option<String>,
    /// Last event in the window, RFC 3339.
    pub last: Option<String>,
    /// `last - first`, in seconds.
    pub covered_seconds: i64,
    /// Audit events read (all stages, before deduplication).
    pub events: usize,
    /// Events left out because they are older than `since`.
    pub outside_window: usize,
    /// Distinct authorized requests (one per `auditID`, plus impersonation checks).
    pub requests: usize,
}

fn micros_to_rfc3339(m: i64) -> String {
    jiff::Timestamp::from_microsecond(m)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| m.to_string())
}

/// Parses an RFC 3339 timestamp to microseconds since the Unix epoch.
pub fn parse_time_micros(s: &str) -> Option<i64> {
    s.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_microsecond())
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn user_info(v: Option<&Value>) -> Option<UserInfo> {
    let v = v?;
    let name = s(v, "username");
    let groups = palisade_core::object::string_list(v.get("groups"));
    let gs: Vec<&str> = groups.iter().map(String::as_str).collect();
    // The authenticators' implicit groups are in the event already; `new` adds them
    // again only where missing.
    Some(UserInfo::new(name, &gs))
}

impl Evidence {
    /// Evidence that ignores events received before `since` (microseconds since the epoch).
    pub fn since(since: Option<i64>) -> Self {
        Evidence {
            since,
            ..Evidence::default()
        }
    }

    /// Adds one audit event (or every item of an `EventList`). Events at stage
    /// `RequestReceived` carry no decision and are skipped; the other stages of a request
    /// share its `auditID` and count once.
    pub fn add_event(&mut self, v: &Value) -> Result<(), String> {
        if !v.is_object() {
            return Err("audit event is not a JSON object".into());
        }
        if s(v, "kind") == "EventList" {
            for item in v
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.add_event(item)?;
            }
            return Ok(());
        }
        self.events += 1;
        // `timestamp` in the audit.k8s.io/v1 of Kubernetes 1.8 and in v1alpha1.
        let time = ["requestReceivedTimestamp", "timestamp", "stageTimestamp"]
            .iter()
            .find_map(|k| parse_time_micros(s(v, k)));
        if let (Some(since), Some(t)) = (self.since, time) {
            if t < since {
                self.outside_window += 1;
                return Ok(());
            }
        }
        if s(v, "stage") == "RequestReceived" {
            return Ok(());
        }
        let id = s(v, "auditID");
        if id.is_empty() {
            return Err("audit event without auditID".into());
        }
        let decision = match v
            .get("annotations")
            .and_then(|a| a.get("authorization.k8s.io/decision"))
            .and_then(Value::as_str)
        {
            Some("allow") => AuthzDecision::Allow,
            Some("forbid") => AuthzDecision::Forbid,
            Some(_) => return Ok(()),
            // API servers before 1.11 write no decision annotation: the status code tells
            // (403 forbidden; 401 never reached authorization; any other code passed it).
            None => match v
                .get("responseStatus")
                .and_then(|r| r.get("code"))
                .and_then(Value::as_i64)
            {
                Some(403) => AuthzDecision::Forbid,
                Some(401) | None => return Ok(()),
                Some(_) => AuthzDecision::Allow,
            },
        };
        if !self.seen.insert(id.to_string()) {
            return Ok(());
        }
        let verb = s(v, "verb").to_ascii_lowercase();
        if verb.is_empty() {
            return Err(format!("audit event {id} has no verb"));
        }
        let Some(actor) = user_info(v.get("user")) else {
            return Err(format!("audit event {id} has no user"));
        };
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        let request = match v.get("objectRef").filter(|o| o.is_object()) {
            Some(o) => {
                let group = s(o, "apiGroup");
                self.observed_groups.insert(group.to_string());
                let sub = s(o, "subresource");
                let mut r = Request::resource(&verb, group, s(o, "resource"))
                    .with_subresource(sub)
                    .in_namespace(s(o, "namespace"));
                // A create of a resource is authorized without a name (the name is in the
                // body); a create on a subresource (pods/exec, serviceaccounts/token) has
                // the parent's name in its URL.
                if !(verb == "create" && sub.is_empty()) {
                    r = r.named(s(o, "name"));
                }
                r
            }
            None => {
                self.observed_non_resource = true;
                let uri = s(v, "requestURI");
                let path = uri.split_once('?').map_or(uri, |(p, _)| p);
                Request::non_resource(&verb, path)
            }
        };
        let level = s(v, "level").to_string();
        let impersonated = user_info(v.get("impersonatedUser"));
        if let Some(target) = &impersonated {
            // The impersonation filter authorizes the actor for each impersonated
            // attribute before the request itself is authorized as the target.
            for check in impersonation_checks(target) {
                self.requests.push(AuditedRequest {
                    audit_id: id.to_string(),
                    user: actor.clone(),
                    request: check,
                    decision,
                    time_micros: time,
                    level: level.clone(),
                    derived: true,
                });
            }
        }
        let user = impersonated.unwrap_or(actor);
        for check in escalation_checks(v, &request) {
            self.requests.push(AuditedRequest {
                audit_id: id.to_string(),
                user: user.clone(),
                request: check,
                decision,
                time_micros: time,
                level: level.clone(),
                derived: true,
            });
        }
        self.requests.push(AuditedRequest {
            audit_id: id.to_string(),
            user,
            request,
            decision,
            time_micros: time,
            level,
            derived: false,
        });
        Ok(())
    }

    /// The requests read.
    pub fn requests(&self) -> &[AuditedRequest] {
        &self.requests
    }

    /// The window covered.
    pub fn window(&self) -> Window {
        Window {
            since: self.since.map(micros_to_rfc3339),
            first: self.first.map(micros_to_rfc3339),
            last: self.last.map(micros_to_rfc3339),
            covered_seconds: match (self.first, self.last) {
                (Some(f), Some(l)) => (l - f) / 1_000_000,
                _ => 0,
            },
            events: self.events,
            outside_window: self.outside_window,
            requests: self.requests.len(),
        }
    }

    /// Whether the log can show a use of this rule: a rule is observable when at least
    /// one of its API groups had an event (from anyone) in the window (`*` when any group
    /// had one), or, for non-resource URLs, when any non-resource request was logged. A
    /// group with no event at all may be dropped by the audit policy, so silence about it
    /// proves nothing.
    fn observable(&self, rule: &PolicyRule) -> Result<(), String> {
        let mut missing = Vec::new();
        if !rule.resources.is_empty() {
            for g in &rule.api_groups {
                let seen = if g == ALL {
                    !self.observed_groups.is_empty()
                } else {
                    self.observed_groups.contains(g)
                };
                if seen {
                    return Ok(());
                }
                missing.push(if g.is_empty() {
                    "core".to_string()
                } else {
                    g.clone()
                });
            }
        }
        if !rule.non_resource_urls.is_empty() {
            if self.observed_non_resource {
                return Ok(());
            }
            missing.push("non-resource URLs".into());
        }
        Err(format!(
            "the log has no event at all for {} (the audit policy may drop it)",
            missing.join(", ")
        ))
    }
}

/// The checks RBAC's escalation prevention makes when a role or binding is written
/// (`pkg/registry/rbac`): writing a binding needs `bind` on the role it refers to (checked in
/// the binding's namespace), and writing a role needs `escalate` (with the request's own
/// namespace and name), unless the writer
/// already holds every permission involved. The log cannot tell which case applied, so an
/// allowed write counts as both. The role a binding refers to is read from the request (or
/// response) body, present at audit level `Request` and above.
fn escalation_checks(v: &Value, request: &Request) -> Vec<Request> {
    let Target::Resource {
        api_group,
        resource,
        subresource,
        namespace,
        name,
    } = &request.target
    else {
        return Vec::new();
    };
    if api_group != "rbac.authorization.k8s.io"
        || !subresource.is_empty()
        || !matches!(request.verb.as_str(), "create" | "update" | "patch")
    {
        return Vec::new();
    }
    let ns = namespace.as_deref().unwrap_or("");
    match resource.as_str() {
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = ["requestObject", "responseObject"]
                .iter()
                .filter_map(|k| v.get(*k).and_then(|o| o.get("roleRef")))
                .find(|r| r.is_object());
            let Some(r) = role_ref else {
                return Vec::new();
            };
            let target = match s(r, "kind") {
                "Role" => "roles",
                "ClusterRole" => "clusterroles",
                _ => return Vec::new(),
            };
            vec![
                Request::resource("bind", "rbac.authorization.k8s.io", target)
                    .in_namespace(ns)
                    .named(s(r, "name")),
            ]
        }
        // `EscalationAllowed` uses the request's own attributes: no name on a create.
        "roles" | "clusterroles" => vec![{
            let r = Request::resource("escalate", "rbac.authorization.k8s.io", resource)
                .in_namespace(ns);
            match name {
                Some(n) => r.named(n),
                None => r,
            }
        }],
        _ => Vec::new(),
    }
}

/// The `impersonate` requests the impersonation filter authorizes for a target identity:
/// `users` (or `serviceaccounts` in the account's namespace) by name, and `groups` for each
/// group beyond those the API server adds itself.
fn impersonation_checks(target: &UserInfo) -> Vec<Request> {
    let mut out = Vec::new();
    let sa = target
        .name
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'));
    match sa {
        Some((ns, name)) => out.push(
            Request::resource("impersonate", "", "serviceaccounts")
                .in_namespace(ns)
                .named(name),
        ),
        None if !target.name.is_empty() => {
            out.push(Request::resource("impersonate", "", "users").named(&target.name))
        }
        None => {}
    }
    for g in &target.groups {
        let implicit = g == SYSTEM_AUTHENTICATED
            || (sa.is_some()
                && (g == SYSTEM_SERVICEACCOUNTS
                    || sa.is_some_and(|(ns, _)| *g == format!("{SYSTEM_SERVICEACCOUNTS}:{ns}"))));
        if !implicit {
            out.push(Request::resource("impersonate", "", "groups").named(g));
        }
    }
    out
}

/// Whether a request was made by (or, for a group, by a member of) `subject`.
pub fn made_by(subject: &Subject, user: &UserInfo) -> bool {
    match subject.kind {
        SubjectKind::User => user.name == subject.name,
        SubjectKind::Group => user.groups.contains(&subject.name),
        SubjectKind::ServiceAccount => {
            subject.service_account_username().as_deref() == Some(user.name.as_str())
        }
    }
}

/// How far an answer about one subject can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// No request of the subject in the window: nothing can be said.
    None,
    /// The log covers less than a day.
    Low,
    /// The log covers at least a day but less than a week, or the subject made fewer than
    /// 20 requests.
    Medium,
    /// At least a week of log and at least 20 requests.
    High,
}

/// What the log says about one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleStatus {
    /// At least one audited request was allowed by this rule.
    Used,
    /// The subject made requests, none matched this rule, and the log could show it.
    Unused,
    /// The log cannot show a use of this rule (see [`RuleUsage::reason`]).
    Unknown,
    /// The subject made no request in the window.
    NoEvidence,
}

/// One rule of a bound role.
#[derive(Debug, Clone, Serialize)]
pub struct RuleUsage {
    /// Index in the role's effective rules.
    pub rule_index: usize,
    /// The rule.
    pub rule: PolicyRule,
    /// Used, unused, unknown or no evidence.
    pub status: RuleStatus,
    /// Audited requests the rule allowed.
    pub requests: usize,
    /// Why the status is `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Verbs of a used rule that no request used (empty when the rule's verbs are `*`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unused_verbs: Vec<String>,
    /// Namespaces of the requests a used rule allowed (`""` for cluster-wide requests).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub namespaces: BTreeSet<String>,
}

/// What the requests credited to one grant did.
#[derive(Default)]
struct Credit {
    requests: usize,
    verbs: BTreeSet<String>,
    namespaces: BTreeSet<String>,
}

/// One binding of a subject and what the log says about its role's rules.
#[derive(Debug, Clone, Serialize)]
pub struct BindingUsage {
    /// RoleBinding or ClusterRoleBinding.
    pub binding_kind: BindingKind,
    /// Namespace of a RoleBinding.
    pub binding_namespace: Option<String>,
    /// Binding name.
    pub binding_name: String,
    /// Role or ClusterRole.
    pub role_kind: RoleKind,
    /// Role name.
    pub role_name: String,
    /// The role is not in the inventory (its rules are unknown).
    pub role_missing: bool,
    /// The role's rules.
    pub rules: Vec<RuleUsage>,
}

/// What the log says about one subject's grants.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectUsage {
    /// The subject.
    pub subject: Subject,
    /// Requests made by the subject (by members, for a group) in the window.
    pub requests: usize,
    /// Of those, allowed by the authorizer.
    pub allowed: usize,
    /// Of those, forbidden by the authorizer.
    pub denied: usize,
    /// Allowed requests made as a member of `system:masters` (RBAC not consulted).
    pub superuser_requests: usize,
    /// Allowed requests no grant of the given RBAC objects explains (the objects may be
    /// older or newer than the log, or another authorizer allowed them).
    pub unexplained: usize,
    /// First and last request, RFC 3339.
    pub first_seen: Option<String>,
    /// Last request, RFC 3339.
    pub last_seen: Option<String>,
    /// How far the answer can be trusted.
    pub confidence: Confidence,
    /// Rules never exercised (`unused`), over all bindings.
    pub unused_rules: usize,
    /// Rules whose use the log cannot show.
    pub unknown_rules: usize,
    /// Bindings and their rules.
    pub bindings: Vec<BindingUsage>,
}

/// The answer of [`Rbac::usage`].
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    /// What the log covers.
    pub window: Window,
    /// One entry per subject named by a binding, sorted.
    pub subjects: Vec<SubjectUsage>,
}

fn confidence(covered_seconds: i64, requests: usize) -> Confidence {
    const DAY: i64 = 86_400;
    if requests == 0 {
        Confidence::None
    } else if covered_seconds < DAY {
        Confidence::Low
    } else if covered_seconds < 7 * DAY || requests < 20 {
        Confidence::Medium
    } else {
        Confidence::High
    }
}

impl Rbac {
    /// For every subject named by a binding: which rules of its roles the audited requests
    /// exercised. An allowed request counts for every grant the RBAC engine says allows it
    /// (whatever the audit level: a `Metadata` event is a use like any other); requests by
    /// `system:masters` members bypass RBAC and exercise no grant.
    pub fn usage(&self, ev: &Evidence) -> UsageReport {
        let window = ev.window();
        let mut used: HashMap<(usize, usize, usize), Credit> = HashMap::new();
        let mut unexplained: Vec<&AuditedRequest> = Vec::new();
        // (user, groups, request) → grants, for repeated requests.
        type Key = (String, Vec<String>, Request);
        let mut cache: HashMap<Key, Vec<(usize, usize, usize)>> = HashMap::new();
        for r in ev.requests() {
            if r.decision != AuthzDecision::Allow || r.user.is_superuser() {
                continue;
            }
            let key = (
                r.user.name.clone(),
                r.user.groups.clone(),
                r.request.clone(),
            );
            let grants = cache
                .entry(key)
                .or_insert_with(|| self.allowing_grants(&r.user, &r.request));
            if grants.is_empty() {
                unexplained.push(r);
            }
            for g in grants.iter() {
                let c = used.entry(*g).or_default();
                c.requests += 1;
                c.verbs.insert(r.request.verb.clone());
                c.namespaces
                    .insert(r.request.namespace().unwrap_or("").to_string());
            }
        }
        let mut subjects = Vec::new();
        for subject in self.subjects() {
            let mine: Vec<&AuditedRequest> = ev
                .requests()
                .iter()
                .filter(|r| made_by(&subject, &r.user))
                .collect();
            let allowed = mine
                .iter()
                .filter(|r| r.decision == AuthzDecision::Allow)
                .count();
            let times: Vec<i64> = mine.iter().filter_map(|r| r.time_micros).collect();
            let requests = mine.len();
            let mut bindings = Vec::new();
            let (mut unused_rules, mut unknown_rules) = (0, 0);
            for (bi, b) in self.bindings().iter().enumerate() {
                for (si, s) in b.subjects.iter().enumerate() {
                    if s.kind == SubjectKind::ServiceAccount && b.subject_namespace(s).is_none() {
                        continue;
                    }
                    if b.resolved_subject(s) != subject {
                        continue;
                    }
                    let role = self.binding_role(bi);
                    let rules = role
                        .map(|role| {
                            role.rules
                                .iter()
                                .enumerate()
                                .map(|(ri, rule)| {
                                    let credit = used.get(&(bi, si, ri));
                                    let n = credit.map_or(0, |c| c.requests);
                                    let unused_verbs: Vec<String> = match credit {
                                        Some(c) if !rule.verbs.iter().any(|v| v == ALL) => rule
                                            .verbs
                                            .iter()
                                            .filter(|v| !c.verbs.contains(*v))
                                            .cloned()
                                            .collect(),
                                        _ => Vec::new(),
                                    };
                                    let (status, reason) = if n > 0 {
                                        (RuleStatus::Used, None)
                                    } else if requests == 0 {
                                        (RuleStatus::NoEvidence, None)
                                    } else {
                                        match ev.observable(rule) {
                                            Ok(()) => (RuleStatus::Unused, None),
                                            Err(why) => (RuleStatus::Unknown, Some(why)),
                                        }
                                    };
                                    match status {
                                        RuleStatus::Unused => unused_rules += 1,
                                        RuleStatus::Unknown => unknown_rules += 1,
                                        _ => {}
                                    }
                                    RuleUsage {
                                        rule_index: ri,
                                        rule: rule.clone(),
                                        status,
                                        requests: n,
                                        reason,
                                        unused_verbs,
                                        namespaces: credit
                                            .map(|c| c.namespaces.clone())
                                            .unwrap_or_default(),
                                    }
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    bindings.push(BindingUsage {
                        binding_kind: b.kind,
                        binding_namespace: b.namespace.clone(),
                        binding_name: b.name.clone(),
                        role_kind: b.role_ref.kind,
                        role_name: b.role_ref.name.clone(),
                        role_missing: role.is_none(),
                        rules,
                    });
                    break;
                }
            }
            subjects.push(SubjectUsage {
                requests,
                allowed,
                denied: requests - allowed,
                superuser_requests: mine
                    .iter()
                    .filter(|r| r.decision == AuthzDecision::Allow && r.user.is_superuser())
                    .count(),
                unexplained: unexplained
                    .iter()
                    .filter(|r| made_by(&subject, &r.user))
                    .count(),
                first_seen: times.iter().min().copied().map(micros_to_rfc3339),
                last_seen: times.iter().max().copied().map(micros_to_rfc3339),
                confidence: confidence(window.covered_seconds, requests),
                unused_rules,
                unknown_rules,
                bindings,
                subject,
            });
        }
        UsageReport { window, subjects }
    }

    /// `(binding, subject, rule)` indexes of every grant that allows the request.
    fn allowing_grants(&self, user: &UserInfo, request: &Request) -> Vec<(usize, usize, usize)> {
        let ns = request.namespace();
        let mut out = Vec::new();
        for (bi, si) in self.hits_for(user) {
            let b = &self.bindings()[bi];
            let applies = match b.kind {
                BindingKind::ClusterRoleBinding => true,
                BindingKind::RoleBinding => ns.is_some() && b.namespace.as_deref() == ns,
            };
            if !applies {
                continue;
            }
            let Some(role) = self.binding_role(bi) else {
                continue;
            };
            for (ri, rule) in role.rules.iter().enumerate() {
                if request.allowed_by(rule) {
                    out.push((bi, si, ri));
                }
            }
        }
        out
    }
}

/// Distinct names at most in a rule's `resourceNames`; more, and the rule names none.
pub const MAX_RESOURCE_NAMES: usize = 5;

/// One suggested rule and the requests that need it.
#[derive(Debug, Clone, Serialize)]
pub struct SuggestedRule {
    /// The rule.
    pub rule: PolicyRule,
    /// The observed requests it covers, summarised (`get pods x3`).
    pub needed_by: Vec<String>,
}

/// A suggested Role (namespace) or ClusterRole (`namespace: None`).
#[derive(Debug, Clone, Serialize)]
pub struct SuggestedRole {
    /// Namespace of a Role; `None` for a ClusterRole.
    pub namespace: Option<String>,
    /// Rules.
    pub rules: Vec<SuggestedRule>,
}

/// The answer of [`suggest`].
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// The subject.
    pub subject: Subject,
    /// Allowed requests the roles cover.
    pub allowed_requests: usize,
    /// Requests the authorizer forbade.
    pub denied_requests: usize,
    /// Roles: ClusterRole first (cluster-scoped and all-namespace requests, non-resource
    /// URLs), then one Role per namespace.
    pub roles: Vec<SuggestedRole>,
    /// Denied requests the suggestion allows all the same: the same request was also
    /// allowed (a grant changed during the window), or an allowed request implies it.
    pub denied_yet_allowed: Vec<String>,
}

#[derive(Default)]
struct Atom {
    names: BTreeSet<String>,
    nameless: bool,
    count: usize,
}

/// A minimal set of rules covering exactly the allowed requests `subject` made: one rule
/// per API group, verb set and name set, `resourceNames` when a verb on a resource was used
/// with at most [`MAX_RESOURCE_NAMES`] names and always with one (or when a broader rule
/// would allow a request the log shows was denied).
pub fn suggest(ev: &Evidence, subject: &Subject) -> Suggestion {
    let mine: Vec<&AuditedRequest> = ev
        .requests()
        .iter()
        .filter(|r| made_by(subject, &r.user))
        .collect();
    let allowed: Vec<&AuditedRequest> = mine
        .iter()
        .copied()
        .filter(|r| r.decision == AuthzDecision::Allow)
        .collect();
    let denied: Vec<&AuditedRequest> = mine
        .iter()
        .copied()
        .filter(|r| r.decision == AuthzDecision::Forbid)
        .collect();
    // (namespace, group, resource[/sub], verb) → names.
    let mut atoms: BTreeMap<(Option<String>, String, String, String), Atom> = BTreeMap::new();
    // (path, verb) → count.
    let mut urls: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &allowed {
        match &r.request.target {
            Target::Resource {
                api_group,
                resource,
                subresource,
                namespace,
                name,
            } => {
                let res = if subresource.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}/{subresource}")
                };
                let a = atoms
                    .entry((
                        namespace.clone(),
                        api_group.clone(),
                        res,
                        r.request.verb.clone(),
                    ))
                    .or_default();
                a.count += 1;
                match name {
                    Some(n) => {
                        a.names.insert(n.clone());
                    }
                    None => a.nameless = true,
                }
            }
            Target::NonResource { path } => {
                *urls
                    .entry((path.clone(), r.request.verb.clone()))
                    .or_default() += 1;
            }
        }
    }
    // Names a denied request would need a broad rule to refuse.
    let denied_names = |key: &(Option<String>, String, String, String),
                        names: &BTreeSet<String>| {
        denied.iter().any(|d| match &d.request.target {
            Target::Resource {
                api_group,
                resource,
                subresource,
                namespace,
                name: Some(n),
            } => {
                let res = if subresource.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}/{subresource}")
                };
                (namespace, api_group, &res, &d.request.verb) == (&key.0, &key.1, &key.2, &key.3)
                    && !names.contains(n)
            }
            _ => false,
        })
    };
    // (namespace, group, names) → resource → verbs, and the requests behind them.
    type Group = (Option<String>, String, Vec<String>);
    type Verbs = (BTreeSet<String>, Vec<String>);
    let mut by_group: BTreeMap<Group, BTreeMap<String, Verbs>> = BTreeMap::new();
    for (key, atom) in &atoms {
        let keep_names = !atom.nameless
            && (atom.names.len() <= MAX_RESOURCE_NAMES || denied_names(key, &atom.names));
        let names: Vec<String> = if keep_names {
            atom.names.iter().cloned().collect()
        } else {
            Vec::new()
        };
        let e = by_group
            .entry((key.0.clone(), key.1.clone(), names))
            .or_default()
            .entry(key.2.clone())
            .or_default();
        e.0.insert(key.3.clone());
        let shown_res = if key.1.is_empty() {
            key.2.clone()
        } else {
            match key.2.split_once('/') {
                Some((r, sr)) => format!("{r}.{}/{sr}", key.1),
                None => format!("{}.{}", key.2, key.1),
            }
        };
        let mut what = format!("{} {shown_res}", key.3);
        if keep_names {
            what.push(' ');
            what.push_str(&atom.names.iter().cloned().collect::<Vec<_>>().join(","));
        }
        if atom.count > 1 {
            what.push_str(&format!(" x{}", atom.count));
        }
        e.1.push(what);
    }
    let mut roles: BTreeMap<Option<String>, Vec<SuggestedRule>> = BTreeMap::new();
    for ((ns, group, names), resources) in by_group {
        // Resources sharing a verb set share a rule.
        let mut by_verbs: BTreeMap<Vec<String>, (Vec<String>, Vec<String>)> = BTreeMap::new();
        for (res, (verbs, needed)) in resources {
            let e = by_verbs.entry(verbs.into_iter().collect()).or_default();
            e.0.push(res);
            e.1.extend(needed);
        }
        for (verbs, (resources, needed_by)) in by_verbs {
            roles.entry(ns.clone()).or_default().push(SuggestedRule {
                rule: PolicyRule {
                    verbs,
                    api_groups: vec![group.clone()],
                    resources,
                    resource_names: names.clone(),
                    non_resource_urls: Vec::new(),
                },
                needed_by,
            });
        }
    }
    // Non-resource URLs: the verbs used on each path, then one rule per verb set.
    let mut url_verbs: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for ((path, verb), count) in urls {
        let e = url_verbs.entry(path.clone()).or_default();
        e.0.push(verb.clone());
        e.1.push(if count > 1 {
            format!("{verb} {path} x{count}")
        } else {
            format!("{verb} {path}")
        });
    }
    let mut url_rules: BTreeMap<Vec<String>, (Vec<String>, Vec<String>)> = BTreeMap::new();
    for (path, (verbs, needed)) in url_verbs {
        let e = url_rules.entry(verbs).or_default();
        e.0.push(path);
        e.1.extend(needed);
    }
    for (verbs, (paths, needed_by)) in url_rules {
        roles.entry(None).or_default().push(SuggestedRule {
            rule: PolicyRule {
                verbs,
                non_resource_urls: paths,
                ..PolicyRule::default()
            },
            needed_by,
        });
    }
    let mut suggestion = Suggestion {
        subject: subject.clone(),
        allowed_requests: allowed.len(),
        denied_requests: denied.len(),
        roles: roles
            .into_iter()
            .map(|(namespace, rules)| SuggestedRole { namespace, rules })
            .collect(),
        denied_yet_allowed: Vec::new(),
    };
    // Denials the suggestion cannot keep: the same request was allowed too (a grant
    // changed in the window), or an allowed request implies it (a list across all
    // namespaces needs a ClusterRoleBinding, which also allows the list in each one).
    let check = Rbac::from_objects(&suggestion.objects("check"));
    let me = UserInfo::from_subject(subject);
    let mut kept: Vec<String> = denied
        .iter()
        .filter(|d| check.authorize(&me, &d.request).allowed)
        .map(|d| d.request.to_string())
        .collect();
    kept.sort();
    kept.dedup();
    suggestion.denied_yet_allowed = kept;
    suggestion
}

fn rule_json(r: &PolicyRule) -> Value {
    let mut m = serde_json::Map::new();
    if !r.non_resource_urls.is_empty() {
        m.insert("nonResourceURLs".into(), json!(r.non_resource_urls));
    } else {
        m.insert("apiGroups".into(), json!(r.api_groups));
        m.insert("resources".into(), json!(r.resources));
        if !r.resource_names.is_empty() {
            m.insert("resourceNames".into(), json!(r.resource_names));
        }
    }
    m.insert("verbs".into(), json!(r.verbs));
    Value::Object(m)
}

impl Suggestion {
    /// The Role/ClusterRole and binding objects, named `name`, as Kubernetes JSON (in the
    /// order of [`Suggestion::roles`], each role followed by its binding).
    pub fn objects(&self, name: &str) -> Vec<Value> {
        let subject = match self.subject.kind {
            SubjectKind::User => {
                json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": self.subject.name})
            }
            SubjectKind::Group => {
                json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": self.subject.name})
            }
            SubjectKind::ServiceAccount => {
                json!({"kind": "ServiceAccount", "name": self.subject.name,
                       "namespace": self.subject.namespace.clone().unwrap_or_default()})
            }
        };
        let mut out = Vec::new();
        for role in &self.roles {
            let rules: Vec<Value> = role.rules.iter().map(|r| rule_json(&r.rule)).collect();
            let (rk, bk, meta) = match &role.namespace {
                Some(ns) => (
                    "Role",
                    "RoleBinding",
                    json!({"name": name, "namespace": ns}),
                ),
                None => ("ClusterRole", "ClusterRoleBinding", json!({"name": name})),
            };
            out.push(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": rk,
                "metadata": meta,
                "rules": rules,
            }));
            out.push(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": bk,
                "metadata": meta,
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": rk, "name": name},
                "subjects": [subject],
            }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, user: &str, groups: &[&str], verb: &str, obj: Value, decision: &str) -> Value {
        let mut e = json!({
            "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
            "auditID": id, "stage": "ResponseComplete", "requestURI": "/api/v1/x",
            "verb": verb, "user": {"username": user, "groups": groups},
            "requestReceivedTimestamp": "2026-11-23T15:00:00.000000Z",
            "annotations": {"authorization.k8s.io/decision": decision},
        });
        if !obj.is_null() {
            e["objectRef"] = obj;
        }
        e
    }

    fn rbac() -> Rbac {
        let objs = vec![
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                "metadata": {"name": "r", "namespace": "dev"},
                "rules": [
                    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                    {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
                    {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"], "verbs": ["get"]},
                    {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}]}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "b", "namespace": "dev"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                "subjects": [{"kind": "User", "name": "alice"}, {"kind": "User", "name": "idle"}]}),
        ];
        Rbac::from_objects(&objs)
    }

    #[test]
    fn usage_statuses() {
        let mut e = Evidence::default();
        let o = |res: &str, sub: &str, name: &str| json!({"resource": res, "subresource": sub, "namespace": "dev", "name": name, "apiVersion": "v1"});
        e.add_event(&ev("1", "alice", &[], "get", o("pods", "", "p"), "allow"))
            .unwrap();
        // Another stage of the same request counts once.
        e.add_event(&ev("1", "alice", &[], "get", o("pods", "", "p"), "allow"))
            .unwrap();
        // configmap `b` is not `a`: forbidden, and the named rule stays unused.
        e.add_event(&ev(
            "2",
            "alice",
            &[],
            "get",
            o("configmaps", "", "b"),
            "forbid",
        ))
        .unwrap();
        let u = rbac().usage(&e);
        assert_eq!(u.window.requests, 2);
        let alice = u
            .subjects
            .iter()
            .find(|s| s.subject == Subject::user("alice"))
            .unwrap();
        assert_eq!((alice.requests, alice.allowed, alice.denied), (2, 1, 1));
        let st: Vec<RuleStatus> = alice.bindings[0].rules.iter().map(|r| r.status).collect();
        assert_eq!(
            st,
            [
                RuleStatus::Used,
                RuleStatus::Unused,
                RuleStatus::Unused,
                RuleStatus::Unknown
            ]
        );
        let get_pods = &alice.bindings[0].rules[0];
        assert_eq!(get_pods.unused_verbs, ["list"]);
        assert_eq!(get_pods.namespaces.iter().collect::<Vec<_>>(), ["dev"]);
        let idle = u
            .subjects
            .iter()
            .find(|s| s.subject == Subject::user("idle"))
            .unwrap();
        assert_eq!(idle.confidence, Confidence::None);
        assert!(idle.bindings[0]
            .rules
            .iter()
            .all(|r| r.status == RuleStatus::NoEvidence));
    }

    #[test]
    fn impersonation_and_create_names() {
        let mut e = Evidence::default();
        let mut x = ev(
            "1",
            "admin",
            &["system:masters"],
            "create",
            json!({"resource": "pods", "namespace": "dev", "name": "p", "apiVersion": "v1"}),
            "allow",
        );
        x["impersonatedUser"] =
            json!({"username": "trent", "groups": ["release", "system:authenticated"]});
        e.add_event(&x).unwrap();
        let reqs = e.requests();
        assert_eq!(reqs.len(), 3);
        assert_eq!(
            reqs[0].request.to_string(),
            "impersonate users trent cluster-wide"
        );
        assert_eq!(
            reqs[1].request.to_string(),
            "impersonate groups release cluster-wide"
        );
        assert_eq!(reqs[2].user.name, "trent");
        // create is authorized without the object's name.
        assert_eq!(reqs[2].request.to_string(), "create pods in namespace dev");
    }

    #[test]
    fn writes_of_bindings_and_roles_add_bind_and_escalate() {
        let mut e = Evidence::default();
        let mut x = ev(
            "1",
            "bob",
            &[],
            "create",
            json!({"resource": "rolebindings", "namespace": "dev", "apiGroup": "rbac.authorization.k8s.io", "name": "rb"}),
            "allow",
        );
        x["requestObject"] = json!({"roleRef": {"kind": "ClusterRole", "name": "edit", "apiGroup": "rbac.authorization.k8s.io"}});
        e.add_event(&x).unwrap();
        e.add_event(&ev(
            "2",
            "bob",
            &[],
            "update",
            json!({"resource": "clusterroles", "apiGroup": "rbac.authorization.k8s.io", "name": "r"}),
            "allow",
        ))
        .unwrap();
        let shown: Vec<String> = e
            .requests()
            .iter()
            .map(|r| format!("{}{}", if r.derived { "+" } else { "" }, r.request))
            .collect();
        assert_eq!(
            shown,
            [
                "+bind clusterroles.rbac.authorization.k8s.io edit in namespace dev",
                "create rolebindings.rbac.authorization.k8s.io in namespace dev",
                "+escalate clusterroles.rbac.authorization.k8s.io r cluster-wide",
                "update clusterroles.rbac.authorization.k8s.io r cluster-wide",
            ]
        );
    }

    #[test]
    fn suggestion_narrows_to_names_a_denial_needs() {
        let mut e = Evidence::default();
        for (i, name) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
            e.add_event(&ev(
                &i.to_string(),
                "bob",
                &[],
                "get",
                json!({"resource": "secrets", "namespace": "ns", "name": name, "apiVersion": "v1"}),
                "allow",
            ))
            .unwrap();
        }
        let s = suggest(&e, &Subject::user("bob"));
        assert!(s.roles[0].rules[0].rule.resource_names.is_empty());
        e.add_event(&ev(
            "9",
            "bob",
            &[],
            "get",
            json!({"resource": "secrets", "namespace": "ns", "name": "z", "apiVersion": "v1"}),
            "forbid",
        ))
        .unwrap();
        let s = suggest(&e, &Subject::user("bob"));
        assert_eq!(s.roles[0].rules[0].rule.resource_names.len(), 6);
        let r = Rbac::from_objects(&s.objects("least"));
        let get = |n: &str| {
            Request::resource("get", "", "secrets")
                .in_namespace("ns")
                .named(n)
        };
        assert!(r.can(&Subject::user("bob"), &get("a")).allowed);
        assert!(!r.can(&Subject::user("bob"), &get("z")).allowed);
    }
}
