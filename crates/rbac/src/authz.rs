//! The RBAC inventory, its indexes, aggregation, and the `can` / `who_can` queries.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::Value;

use crate::model::{
    describe, meta_str, parse_binding, parse_role, Binding, BindingKind, PolicyRule, Role,
    RoleKind, ServiceAccountRef, Subject, SubjectKind,
};
use crate::request::Request;

/// The group whose members bypass RBAC (`user.SystemPrivilegedGroup`): the API server's
/// privileged-group authorizer allows them before RBAC is consulted.
pub const SYSTEM_MASTERS: &str = "system:masters";
/// Group of every authenticated user.
pub const SYSTEM_AUTHENTICATED: &str = "system:authenticated";
/// Group of the anonymous user.
pub const SYSTEM_UNAUTHENTICATED: &str = "system:unauthenticated";
/// The anonymous user's name.
pub const SYSTEM_ANONYMOUS: &str = "system:anonymous";
/// Group of every service account.
pub const SYSTEM_SERVICEACCOUNTS: &str = "system:serviceaccounts";

/// The authenticated identity making a request (`user.Info`, name + groups).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserInfo {
    /// User name (empty when asking about a group alone).
    pub name: String,
    /// Groups, including the implicit ones added by [`UserInfo::new`].
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with explicit groups plus the groups the authenticators add:
    /// `system:authenticated` for everyone but `system:anonymous` (who gets
    /// `system:unauthenticated`), and `system:serviceaccounts` +
    /// `system:serviceaccounts:NS` for `system:serviceaccount:NS:NAME`.
    pub fn new(name: &str, groups: &[&str]) -> Self {
        let mut g: Vec<String> = groups.iter().map(|s| s.to_string()).collect();
        if name == SYSTEM_ANONYMOUS {
            g.push(SYSTEM_UNAUTHENTICATED.into());
        } else {
            g.push(SYSTEM_AUTHENTICATED.into());
        }
        if let Some(rest) = name.strip_prefix("system:serviceaccount:") {
            if let Some((ns, sa)) = rest.split_once(':') {
                if !ns.is_empty() && !sa.is_empty() {
                    g.push(SYSTEM_SERVICEACCOUNTS.into());
                    g.push(format!("{SYSTEM_SERVICEACCOUNTS}:{ns}"));
                }
            }
        }
        g.sort();
        g.dedup();
        UserInfo {
            name: name.into(),
            groups: g,
        }
    }

    /// Exactly this name and these groups, no implicit groups.
    pub fn exact(name: &str, groups: &[&str]) -> Self {
        UserInfo {
            name: name.into(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The identity a subject stands for. A user or service account gets its implicit
    /// groups; a group subject stands for "any member of that group" (no user name),
    /// which also means `system:authenticated` unless the group is
    /// `system:unauthenticated`.
    pub fn from_subject(s: &Subject) -> Self {
        match s.kind {
            SubjectKind::User => UserInfo::new(&s.name, &[]),
            SubjectKind::ServiceAccount => match s.service_account_username() {
                Some(u) => UserInfo::new(&u, &[]),
                None => UserInfo::exact("", &[]),
            },
            SubjectKind::Group => {
                let mut g = vec![s.name.clone()];
                if s.name != SYSTEM_UNAUTHENTICATED && s.name != SYSTEM_AUTHENTICATED {
                    g.push(SYSTEM_AUTHENTICATED.into());
                }
                UserInfo {
                    name: String::new(),
                    groups: g,
                }
            }
        }
    }

    /// Whether the identity is in `system:masters`.
    pub fn is_superuser(&self) -> bool {
        self.groups.iter().any(|g| g == SYSTEM_MASTERS)
    }
}

/// Where a grant comes from: binding → role → rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct GrantRef {
    /// RoleBinding or ClusterRoleBinding.
    pub binding_kind: BindingKind,
    /// Namespace of a RoleBinding.
    pub binding_namespace: Option<String>,
    /// Binding name.
    pub binding_name: String,
    /// Role or ClusterRole.
    pub role_kind: RoleKind,
    /// Namespace of a Role.
    pub role_namespace: Option<String>,
    /// Role name.
    pub role_name: String,
    /// Index of the rule in the role's effective rules (aggregated; for a bootstrap role,
    /// reconciled: the manifest's rules first, then the bootstrap rules added back).
    pub rule_index: usize,
    /// The binding's subject that matched, as [`Binding::resolved_subject`] resolves it
    /// (service-account namespace defaulted).
    pub subject: Subject,
}

impl GrantRef {
    /// The namespace the grant is limited to (`None` = cluster-wide, via a
    /// ClusterRoleBinding).
    pub fn scope(&self) -> Option<&str> {
        self.binding_namespace.as_deref()
    }
}

impl std::fmt::Display for GrantRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.binding_namespace {
            Some(ns) => write!(f, "{:?} {ns}/{}", self.binding_kind, self.binding_name)?,
            None => write!(f, "{:?} {}", self.binding_kind, self.binding_name)?,
        }
        match &self.role_namespace {
            Some(ns) => write!(f, " -> {:?} {ns}/{}", self.role_kind, self.role_name)?,
            None => write!(f, " -> {:?} {}", self.role_kind, self.role_name)?,
        }
        write!(f, " rule #{}", self.rule_index)
    }
}

/// Why a request is or is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Reason {
    /// The identity is in `system:masters`, which bypasses RBAC entirely.
    SuperuserGroup,
    /// One or more RBAC rules allow it (see `via`).
    RbacGrant,
    /// No RBAC rule allows it (RBAC has no deny; the request is denied).
    NoMatchingRule,
}

/// Result of [`Rbac::can`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// Every RBAC grant that allows the request (the authorizer stops at the first; all
    /// are listed here). May be non-empty also for a superuser.
    pub via: Vec<GrantRef>,
}

/// One subject allowed to perform a request, with every path that allows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectGrant {
    /// The subject (service-account namespace defaulted).
    pub subject: Subject,
    /// True for `system:masters`, allowed without any RBAC grant.
    pub superuser: bool,
    /// Binding → role → rule paths.
    pub via: Vec<GrantRef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct SubjectHit {
    binding: usize,
    subject: usize,
}

/// An RBAC inventory with indexes built once. Build it with [`Rbac::from_objects`].
#[derive(Debug, Clone, Default)]
pub struct Rbac {
    roles: Vec<Role>,
    bindings: Vec<Binding>,
    service_accounts: BTreeSet<ServiceAccountRef>,
    namespaces: BTreeSet<String>,
    /// Objects that were recognised but malformed (or duplicates), with the reason.
    pub skipped: Vec<String>,
    role_index: HashMap<(RoleKind, Option<String>, String), usize>,
    binding_role: Vec<Option<usize>>,
    cluster_bindings: Vec<usize>,
    ns_bindings: HashMap<String, Vec<usize>>,
    by_user: HashMap<String, Vec<SubjectHit>>,
    by_group: HashMap<String, Vec<SubjectHit>>,
    aggregation_converged: bool,
    pub(crate) workloads: crate::graph::Workloads,
}

impl Rbac {
    /// Builds the inventory from Kubernetes objects. Picks Role, ClusterRole,
    /// RoleBinding, ClusterRoleBinding, ServiceAccount and Namespace (also inside
    /// `kind: List` / `*List` `items`); ignores other kinds; malformed objects go to
    /// [`Rbac::skipped`]. ClusterRole aggregation is computed as the aggregation
    /// controller would (until it converges). Namespaced objects without
    /// `metadata.namespace` are placed in `default` (as `kubectl apply` would with a
    /// default context). The bootstrap ClusterRole `cluster-admin` is added when the
    /// objects do not define it, as every API server has it; when they do, its effective
    /// rules are those the API server reconciles it to at start-up: the manifest's rules
    /// plus the bootstrap rules they do not cover, unless the role is annotated
    /// `rbac.authorization.kubernetes.io/autoupdate: "false"` (then the manifest's alone).
    pub fn from_objects<'a>(objs: impl IntoIterator<Item = &'a Value>) -> Self {
        let mut rbac = Rbac::default();
        for o in objs {
            rbac.add(o, 0);
        }
        rbac.finish()
    }

    /// [`Rbac::from_objects`] of a scan's objects, reading only the objects of the kinds the
    /// model is built from ([`Rbac::reads_kind`]), each without keeping the tree of a packed
    /// one ([`palisade_core::Object::with_value`]).
    pub fn from_inventory<'a>(objs: impl IntoIterator<Item = &'a palisade_core::Object>) -> Self {
        let mut rbac = Rbac::default();
        for o in objs.into_iter().filter(|o| Rbac::reads_kind(&o.kind)) {
            o.with_value(|v| rbac.add(v, 0));
        }
        rbac.finish()
    }

    /// Whether the model reads objects of `kind` (an object of another kind adds nothing to
    /// it): roles, bindings, service accounts, Namespaces, the Pods, Secrets and Nodes of
    /// the attack paths, and lists.
    pub fn reads_kind(kind: &str) -> bool {
        matches!(
            kind,
            "Role"
                | "ClusterRole"
                | "RoleBinding"
                | "ClusterRoleBinding"
                | "ServiceAccount"
                | "Pod"
                | "Secret"
                | "Node"
                | "Namespace"
        ) || kind.ends_with("List")
    }

    /// Adds the built-in roles, aggregates and indexes: the model once every object is added.
    fn finish(self) -> Self {
        let mut rbac = self;
        let mut defined = Vec::new();
        for builtin in crate::bootstrap::cluster_roles() {
            let Ok(expected) = parse_role(&builtin, RoleKind::ClusterRole) else {
                continue;
            };
            let key = (RoleKind::ClusterRole, None, expected.name.clone());
            match rbac.role_index.get(&key) {
                Some(&i) => defined.push((i, expected)),
                None => rbac.add(&builtin, 0),
            }
        }
        rbac.aggregate();
        // Reconciliation runs on the stored role, whose rules the aggregation controller
        // has already written when it is aggregated; roles that aggregate a reconciled one
        // then see its new rules.
        let mut changed = false;
        for (i, expected) in &defined {
            changed |= crate::bootstrap::reconcile(&mut rbac.roles[*i], expected);
        }
        if changed {
            rbac.aggregate();
        }
        rbac.index();
        rbac
    }

    fn add(&mut self, o: &Value, depth: usize) {
        let Some(kind) = o.get("kind").and_then(Value::as_str) else {
            return;
        };
        let res: Result<(), String> = match kind {
            "Role" | "ClusterRole" => {
                let rk = if kind == "Role" {
                    RoleKind::Role
                } else {
                    RoleKind::ClusterRole
                };
                parse_role(o, rk).and_then(|r| {
                    let key = (r.kind, r.namespace.clone(), r.name.clone());
                    if self.role_index.contains_key(&key) {
                        return Err("duplicate, first definition kept".into());
                    }
                    self.role_index.insert(key, self.roles.len());
                    self.roles.push(r);
                    Ok(())
                })
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let bk = if kind == "RoleBinding" {
                    BindingKind::RoleBinding
                } else {
                    BindingKind::ClusterRoleBinding
                };
                parse_binding(o, bk).map(|b| self.bindings.push(b))
            }
            "ServiceAccount" => match meta_str(o, "name") {
                Some(name) => {
                    let ns = meta_str(o, "namespace").unwrap_or("default").to_string();
                    self.namespaces.insert(ns.clone());
                    self.service_accounts.insert(ServiceAccountRef {
                        namespace: ns,
                        name: name.into(),
                    });
                    Ok(())
                }
                None => Err("missing metadata.name".into()),
            },
            "Pod" | "Secret" | "Node"
                if o.get("apiVersion").and_then(Value::as_str) == Some("v1") =>
            {
                self.workloads.add(kind, o)
            }
            "Namespace" => match meta_str(o, "name") {
                Some(name) => {
                    self.namespaces.insert(name.into());
                    Ok(())
                }
                None => Err("missing metadata.name".into()),
            },
            k if k == "List" || k.ends_with("List") => {
                if depth > 4 {
                    return;
                }
                // The API server's list responses (`RoleList`, ...) leave out each item's
                // kind: an item without one is of the list's kind.
                let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
                if let Some(items) = o.get("items").and_then(Value::as_array) {
                    for it in items {
                        match (item_kind, it.get("kind")) {
                            (Some(k), None) if it.is_object() => {
                                let mut it = it.clone();
                                it["kind"] = Value::from(k);
                                self.add(&it, depth + 1);
                            }
                            _ => self.add(it, depth + 1),
                        }
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        };
        if let Err(e) = res {
            self.skipped.push(format!("{}: {e}", describe(o)));
        }
    }

    /// Computes aggregated ClusterRoles like the clusterrole-aggregation controller:
    /// for each selector in order, the selected ClusterRoles sorted by name (excluding
    /// the role itself) contribute their rules, skipping rules already present; the
    /// result replaces the role's rules. Repeated until nothing changes.
    fn aggregate(&mut self) {
        let mut cluster_roles: Vec<usize> = (0..self.roles.len())
            .filter(|&i| self.roles[i].kind == RoleKind::ClusterRole)
            .collect();
        cluster_roles.sort_by(|&a, &b| self.roles[a].name.cmp(&self.roles[b].name));
        let aggregating: Vec<usize> = cluster_roles
            .iter()
            .copied()
            .filter(|&i| self.roles[i].aggregation.is_some())
            .collect();
        self.aggregation_converged = true;
        if aggregating.is_empty() {
            return;
        }
        let max_rounds = aggregating.len() + 2;
        for round in 0..=max_rounds {
            let mut changed = false;
            for &i in &aggregating {
                let sels = self.roles[i].aggregation.clone().unwrap_or_default();
                let mut new_rules: Vec<PolicyRule> = Vec::new();
                for sel in &sels {
                    for &j in &cluster_roles {
                        if self.roles[j].name == self.roles[i].name
                            || !sel.matches(&self.roles[j].labels)
                        {
                            continue;
                        }
                        for r in &self.roles[j].rules {
                            if !new_rules.contains(r) {
                                new_rules.push(r.clone());
                            }
                        }
                    }
                }
                if new_rules != self.roles[i].rules {
                    self.roles[i].rules = new_rules;
                    changed = true;
                }
            }
            if !changed {
                return;
            }
            if round == max_rounds {
                self.aggregation_converged = false;
                self.skipped.push(
                    "ClusterRole aggregation did not converge (selector cycle); rules may be partial"
                        .into(),
                );
            }
        }
    }

    fn index(&mut self) {
        self.binding_role = self
            .bindings
            .iter()
            .map(|b| {
                let ns = match b.role_ref.kind {
                    RoleKind::Role => b.namespace.clone(),
                    RoleKind::ClusterRole => None,
                };
                self.role_index
                    .get(&(b.role_ref.kind, ns, b.role_ref.name.clone()))
                    .copied()
            })
            .collect();
        for (bi, b) in self.bindings.iter().enumerate() {
            match (&b.kind, &b.namespace) {
                (BindingKind::RoleBinding, Some(ns)) => {
                    self.namespaces.insert(ns.clone());
                    self.ns_bindings.entry(ns.clone()).or_default().push(bi);
                }
                _ => self.cluster_bindings.push(bi),
            }
            for (si, s) in b.subjects.iter().enumerate() {
                let hit = SubjectHit {
                    binding: bi,
                    subject: si,
                };
                match s.kind {
                    SubjectKind::User => self.by_user.entry(s.name.clone()).or_default().push(hit),
                    SubjectKind::Group => {
                        self.by_group.entry(s.name.clone()).or_default().push(hit)
                    }
                    SubjectKind::ServiceAccount => {
                        if let Some(ns) = b.subject_namespace(s) {
                            self.namespaces.insert(ns.to_string());
                            self.by_user
                                .entry(format!("system:serviceaccount:{ns}:{}", s.name))
                                .or_default()
                                .push(hit);
                        }
                    }
                }
            }
        }
        for r in &self.roles {
            if let Some(ns) = &r.namespace {
                self.namespaces.insert(ns.clone());
            }
        }
    }

    /// All roles (ClusterRole rules are the aggregated ones).
    pub fn roles(&self) -> &[Role] {
        &self.roles
    }

    /// All bindings.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// ServiceAccount objects of the inventory.
    pub fn service_accounts(&self) -> &BTreeSet<ServiceAccountRef> {
        &self.service_accounts
    }

    /// Namespaces known from Namespace objects or referenced by namespaced objects.
    pub fn namespaces(&self) -> &BTreeSet<String> {
        &self.namespaces
    }

    /// Looks up a role; `namespace` is ignored for ClusterRoles.
    pub fn role(&self, kind: RoleKind, namespace: Option<&str>, name: &str) -> Option<&Role> {
        let ns = match kind {
            RoleKind::Role => namespace.map(str::to_string),
            RoleKind::ClusterRole => None,
        };
        self.role_index
            .get(&(kind, ns, name.to_string()))
            .map(|&i| &self.roles[i])
    }

    /// The role a binding refers to, if it exists in the inventory.
    pub fn binding_role(&self, binding_index: usize) -> Option<&Role> {
        self.binding_role
            .get(binding_index)
            .copied()
            .flatten()
            .map(|i| &self.roles[i])
    }

    /// Index (in [`Rbac::roles`]) of the role a binding refers to.
    pub(crate) fn binding_role_index(&self, binding_index: usize) -> Option<usize> {
        self.binding_role.get(binding_index).copied().flatten()
    }

    pub(crate) fn grant_ref(&self, bi: usize, si: usize, rule_index: usize) -> GrantRef {
        let b = &self.bindings[bi];
        let role_ns = match b.role_ref.kind {
            RoleKind::Role => b.namespace.clone(),
            RoleKind::ClusterRole => None,
        };
        GrantRef {
            binding_kind: b.kind,
            binding_namespace: b.namespace.clone(),
            binding_name: b.name.clone(),
            role_kind: b.role_ref.kind,
            role_namespace: role_ns,
            role_name: b.role_ref.name.clone(),
            rule_index,
            subject: b.resolved_subject(&b.subjects[si]),
        }
    }

    /// Bindings (with the matching subject index) that apply to an identity, in any
    /// namespace.
    pub(crate) fn hits_for(&self, user: &UserInfo) -> Vec<(usize, usize)> {
        let mut out: Vec<(usize, usize)> = Vec::new();
        if !user.name.is_empty() {
            if let Some(h) = self.by_user.get(&user.name) {
                out.extend(h.iter().map(|h| (h.binding, h.subject)));
            }
        }
        for g in &user.groups {
            if let Some(h) = self.by_group.get(g) {
                out.extend(h.iter().map(|h| (h.binding, h.subject)));
            }
        }
        out.sort_unstable();
        out
    }

    /// Whether the binding takes effect for a request in `ns` (`None` = cluster scope):
    /// ClusterRoleBindings always, RoleBindings only in their namespace.
    fn binding_applies(&self, bi: usize, ns: Option<&str>) -> bool {
        let b = &self.bindings[bi];
        match b.kind {
            BindingKind::ClusterRoleBinding => true,
            BindingKind::RoleBinding => ns.is_some() && b.namespace.as_deref() == ns,
        }
    }

    /// Authorizes `request` for `user` (RBAC authorizer, preceded by the API server's
    /// `system:masters` bypass).
    pub fn authorize(&self, user: &UserInfo, request: &Request) -> Decision {
        let ns = request.namespace();
        let mut via = Vec::new();
        let mut seen = BTreeSet::new();
        for (bi, si) in self.hits_for(user) {
            if !self.binding_applies(bi, ns) {
                continue;
            }
            let Some(role) = self.binding_role(bi) else {
                continue;
            };
            for (ri, rule) in role.rules.iter().enumerate() {
                if request.allowed_by(rule) {
                    let g = self.grant_ref(bi, si, ri);
                    if seen.insert(g.clone()) {
                        via.push(g);
                    }
                }
            }
        }
        let (allowed, reason) = if user.is_superuser() {
            (true, Reason::SuperuserGroup)
        } else if via.is_empty() {
            (false, Reason::NoMatchingRule)
        } else {
            (true, Reason::RbacGrant)
        };
        Decision {
            allowed,
            reason,
            via,
        }
    }

    /// Whether `subject` may perform `request`; see [`UserInfo::from_subject`] for the
    /// identity a subject stands for.
    pub fn can(&self, subject: &Subject, request: &Request) -> Decision {
        self.authorize(&UserInfo::from_subject(subject), request)
    }

    /// Every subject allowed to perform `request`, with the binding → role → rule paths.
    /// Each subject appears once (see [`Binding::resolved_subject`]: a service account
    /// written as a `User` named `system:serviceaccount:NS:NAME` is that service account),
    /// with every distinct path. Group subjects are listed as groups (not expanded).
    /// `system:masters` is always listed first as a superuser. Sorted by subject.
    pub fn who_can(&self, request: &Request) -> Vec<SubjectGrant> {
        let ns = request.namespace();
        let mut role_cache: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut result: BTreeMap<Subject, Vec<GrantRef>> = BTreeMap::new();
        let ns_list = ns.and_then(|n| self.ns_bindings.get(n));
        let candidates = self
            .cluster_bindings
            .iter()
            .chain(ns_list.into_iter().flatten());
        for &bi in candidates {
            let Some(ri) = self.binding_role.get(bi).copied().flatten() else {
                continue;
            };
            let rules = role_cache.entry(ri).or_insert_with(|| {
                self.roles[ri]
                    .rules
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| request.allowed_by(r))
                    .map(|(i, _)| i)
                    .collect()
            });
            if rules.is_empty() {
                continue;
            }
            let b = &self.bindings[bi];
            for (si, s) in b.subjects.iter().enumerate() {
                if s.kind == SubjectKind::ServiceAccount && b.subject_namespace(s).is_none() {
                    continue; // can never match a user
                }
                let entry = result.entry(b.resolved_subject(s)).or_default();
                for &rule_i in rules.iter() {
                    entry.push(self.grant_ref(bi, si, rule_i));
                }
            }
        }
        // One entry per subject (the map's key: kind, name, and namespace for service
        // accounts), every distinct path listed under it.
        for via in result.values_mut() {
            via.sort();
            via.dedup();
        }
        let masters = Subject::group(SYSTEM_MASTERS);
        let masters_via = result.remove(&masters).unwrap_or_default();
        let mut out = vec![SubjectGrant {
            subject: masters,
            superuser: true,
            via: masters_via,
        }];
        out.extend(result.into_iter().map(|(subject, via)| SubjectGrant {
            subject,
            superuser: false,
            via,
        }));
        out
    }

    /// Every distinct subject named by a binding (service-account namespace defaulted;
    /// service accounts without a resolvable namespace are left out).
    pub fn subjects(&self) -> BTreeSet<Subject> {
        let mut out = BTreeSet::new();
        for b in &self.bindings {
            for s in &b.subjects {
                if s.kind == SubjectKind::ServiceAccount && b.subject_namespace(s).is_none() {
                    continue;
                }
                out.insert(b.resolved_subject(s));
            }
        }
        out
    }

    /// False if ClusterRole aggregation hit a selector cycle that did not settle.
    pub fn aggregation_converged(&self) -> bool {
        self.aggregation_converged
    }
}
