//! Multi-hop attack paths: a graph of identities (users, groups, service accounts), pods,
//! nodes and the Secrets of a namespace, whose edges are the escalation paths the
//! Kubernetes documentation lists ("RBAC good practices", *Privilege escalation risks*),
//! each carrying its evidence (binding → role → rule). Shortest paths to a goal
//! (cluster-admin-equivalent power, Secrets, nodes) are found by one breadth-first search
//! backwards from the goal, bounded by [`MAX_HOPS`].
//!
//! Edges (A → B: whoever controls A can act as or read B):
//! * identity → service account `NS/SA`: `create` on pods or on a pod-creating workload
//!   (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, CronJob, ReplicationController),
//!   or `patch`/`update` of such a workload (its pod template), in `NS`: the pod may name
//!   any service account of the namespace and receives its token;
//! * identity → a scanned Pod: `patch`/`update` on pods (a container image can be
//!   replaced), `create`/`get` on `pods/exec` or `pods/attach`;
//! * identity → Secrets of `NS` (or of every namespace, through a ClusterRoleBinding):
//!   `get`, `list` or `watch` on secrets (the docs: list and watch reveal the contents as
//!   get does); creating a pod also reaches them (a pod can mount any Secret of its
//!   namespace);
//! * Secrets of `NS` → service account: a `kubernetes.io/service-account-token` Secret of
//!   that account is among the inputs. When the inputs hold no Secret at all (RBAC
//!   manifests alone), token Secrets cannot be ruled out (clusters before 1.24 created one
//!   per account, and anyone may still create one), so the edge goes to every service
//!   account of the namespace and says it is assumed. `get` restricted by `resourceNames`
//!   reaches the account whose token Secret has one of those names;
//! * identity → service account: `create` on `serviceaccounts/token`, `impersonate` on
//!   `serviceaccounts`; identity → user or group: `impersonate` on `users` / `groups`
//!   (groups only with the right to impersonate some user, as the API server requires a
//!   user with `Impersonate-Group`); `resourceNames` are honoured;
//! * identity → cluster-admin: holding `*` on `*` cluster-wide, membership of
//!   `system:masters`, `bind` on a ClusterRole holding `*` on `*` with the right to write
//!   ClusterRoleBindings, `escalate` with `update`/`patch` on a ClusterRole bound to the
//!   identity cluster-wide, approving a `kube-apiserver-client` CSR, writing a
//!   MutatingWebhookConfiguration; `bind`/`escalate` limited to a namespace give everything
//!   in that namespace: its service accounts and its Secrets;
//! * identity → node: `nodes/proxy` (`get` or `create`; the kubelet API runs commands in
//!   any container of the node); a Pod with a privileged container, `hostPID` or a
//!   `hostPath` volume → the node it is scheduled on (`spec.nodeName`);
//! * node → every scanned Pod scheduled on it; a Pod → its service account, unless the
//!   Pod sets `automountServiceAccountToken: false`. Without any Pod in the inputs, "every
//!   node" (`nodes/proxy` without `resourceNames`) → every service account (a pod of it
//!   may run anywhere), marked as assumed.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

use crate::analysis::Technique;
use crate::authz::{GrantRef, Rbac, UserInfo, SYSTEM_MASTERS};
use crate::model::{meta_str, BindingKind, PolicyRule, RoleKind, Subject, SubjectKind, ALL};

/// The longest path searched, in edges: a path reaching its goal in more hops is not
/// reported. The search itself is one breadth-first pass over the graph (linear in its
/// nodes and edges), which this bound cuts off.
pub const MAX_HOPS: usize = 8;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const CERT_GROUP: &str = "certificates.k8s.io";
const TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
const TOKEN_SA_ANNOTATION: &str = "kubernetes.io/service-account.name";

/// A Pod of the inputs, as the attack graph sees it.
#[derive(Debug, Clone)]
struct PodInfo {
    namespace: String,
    name: String,
    node: Option<String>,
    service_account: String,
    token_mounted: bool,
    /// Why the pod controls its node (privileged, hostPID, hostPath), if it does.
    escape: Option<String>,
}

/// Pods, token Secrets and Nodes of the inputs (the non-RBAC part of the attack graph).
#[derive(Debug, Clone, Default)]
pub(crate) struct Workloads {
    pods: Vec<PodInfo>,
    secrets_seen: bool,
    /// (namespace, service account) → names of its token Secrets.
    token_secrets: BTreeMap<(String, String), Vec<String>>,
    nodes: BTreeSet<String>,
}

impl Workloads {
    pub(crate) fn add(&mut self, kind: &str, o: &Value) -> Result<(), String> {
        let name = meta_str(o, "name").ok_or("missing metadata.name")?;
        let ns = meta_str(o, "namespace").unwrap_or("default");
        match kind {
            "Node" => {
                self.nodes.insert(name.into());
            }
            "Secret" => {
                self.secrets_seen = true;
                if o.get("type").and_then(Value::as_str) == Some(TOKEN_TYPE) {
                    let sa = o
                        .pointer("/metadata/annotations")
                        .and_then(|a| a.get(TOKEN_SA_ANNOTATION))
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty());
                    if let Some(sa) = sa {
                        self.token_secrets
                            .entry((ns.into(), sa.into()))
                            .or_default()
                            .push(name.into());
                    }
                }
            }
            _ => {
                let spec = o.get("spec").unwrap_or(&Value::Null);
                let s = |k: &str| {
                    spec.get(k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                };
                let service_account = s("serviceAccountName")
                    .or_else(|| s("serviceAccount"))
                    .unwrap_or("default")
                    .to_string();
                let token_mounted = spec
                    .get("automountServiceAccountToken")
                    .and_then(Value::as_bool)
                    != Some(false);
                self.pods.push(PodInfo {
                    namespace: ns.into(),
                    name: name.into(),
                    node: s("nodeName").map(str::to_string),
                    service_account,
                    token_mounted,
                    escape: pod_escape(spec),
                });
            }
        }
        Ok(())
    }
}

/// Why a pod spec gives its containers the node: a privileged container, `hostPID`, or a
/// `hostPath` volume.
fn pod_escape(spec: &Value) -> Option<String> {
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        for c in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if c.pointer("/securityContext/privileged")
                .and_then(Value::as_bool)
                == Some(true)
            {
                let n = c.get("name").and_then(Value::as_str).unwrap_or("?");
                return Some(format!("privileged container {n}"));
            }
        }
    }
    if spec.get("hostPID").and_then(Value::as_bool) == Some(true) {
        return Some("hostPID".into());
    }
    for v in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(p) = v.pointer("/hostPath/path").and_then(Value::as_str) {
            return Some(format!("hostPath volume {p}"));
        }
    }
    None
}

/// What a path leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    /// Cluster-admin-equivalent power (`*` on `*` cluster-wide, or `system:masters`).
    ClusterAdmin,
    /// The Secrets of a namespace (or of every namespace).
    Secrets,
    /// A node (its kubelet API or its host).
    Nodes,
}

impl Goal {
    /// Parses `cluster-admin`, `secrets` or `nodes`.
    pub fn parse(s: &str) -> Option<Goal> {
        match s {
            "cluster-admin" => Some(Goal::ClusterAdmin),
            "secrets" => Some(Goal::Secrets),
            "nodes" => Some(Goal::Nodes),
            _ => None,
        }
    }

    fn reached_by(self, n: &PathNode) -> bool {
        matches!(
            (self, n),
            (Goal::ClusterAdmin, PathNode::ClusterAdmin)
                | (Goal::Secrets, PathNode::Secrets { .. })
                | (Goal::Nodes, PathNode::Node { .. })
        )
    }
}

impl std::fmt::Display for Goal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Goal::ClusterAdmin => "cluster-admin-equivalent",
            Goal::Secrets => "secrets",
            Goal::Nodes => "nodes",
        })
    }
}

/// A node of the attack graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum PathNode {
    /// A user, a group (any member of it) or a service account.
    Identity {
        /// Who.
        subject: Subject,
    },
    /// A Pod of the inputs.
    Pod {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// A node; `*` stands for every node.
    Node {
        /// Node name, or `*`.
        name: String,
    },
    /// The Secrets of a namespace; `None` for every namespace.
    Secrets {
        /// Namespace, or `None` for all.
        namespace: Option<String>,
    },
    /// Cluster-admin-equivalent power.
    ClusterAdmin,
}

impl std::fmt::Display for PathNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathNode::Identity { subject } => write!(f, "{subject}"),
            PathNode::Pod { namespace, name } => write!(f, "pod {namespace}/{name}"),
            PathNode::Node { name } if name == "*" => f.write_str("every node"),
            PathNode::Node { name } => write!(f, "node {name}"),
            PathNode::Secrets {
                namespace: Some(ns),
            } => write!(f, "secrets of namespace {ns}"),
            PathNode::Secrets { namespace: None } => f.write_str("secrets of every namespace"),
            PathNode::ClusterAdmin => f.write_str("cluster-admin-equivalent"),
        }
    }
}

/// One edge of a path, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// Where the hop starts.
    pub from: PathNode,
    /// Where it leads.
    pub to: PathNode,
    /// How.
    pub technique: Technique,
    /// A human sentence.
    pub action: String,
    /// The grants (binding → role → rule) that enable the hop; empty for hops that
    /// need none (a pod's own service account, a node running a pod).
    pub grants: Vec<GrantRef>,
    /// The hop rests on an assumption the inputs could not settle (no Secrets or no
    /// Pods among them); `action` says which.
    pub assumed: bool,
}

/// A shortest path from a subject to a goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttackPath {
    /// Who.
    pub subject: Subject,
    /// The goal reached.
    pub goal: Goal,
    /// The hops, in order (at most [`MAX_HOPS`]).
    pub hops: Vec<Hop>,
}

impl AttackPath {
    /// The first grant of the path (the subject's own), if any.
    pub fn first_grant(&self) -> Option<&GrantRef> {
        self.hops.iter().flat_map(|h| h.grants.iter()).next()
    }
}

const NONE: u32 = u32::MAX;

/// A binding: kind, namespace, name.
type BindingKey = (BindingKind, Option<String>, String);

#[derive(Debug, Clone, Copy)]
struct Edge {
    from: u32,
    to: u32,
    technique: Technique,
    grants: [u32; 3],
    /// Index into `texts`: what the hop needs (e.g. `create deployments.apps`), or
    /// NONE.
    detail: u32,
    assumed: bool,
}

#[derive(Default)]
struct Graph {
    nodes: Vec<PathNode>,
    index: HashMap<PathNode, u32>,
    edges: Vec<Edge>,
    grants: Vec<GrantRef>,
    grant_index: HashMap<(usize, usize, usize), u32>,
    texts: Vec<String>,
    text_index: HashMap<String, u32>,
    probe_text: HashMap<[&'static str; 4], u32>,
    /// For each node, the node of the last edge into it ([`Graph::edge`]).
    last_from: Vec<u32>,
    /// The techniques of the edges from `last_from` into it, one bit each.
    last_techniques: Vec<u64>,
}

impl Graph {
    fn node(&mut self, n: PathNode) -> u32 {
        if let Some(&i) = self.index.get(&n) {
            return i;
        }
        let i = self.nodes.len() as u32;
        self.nodes.push(n.clone());
        self.index.insert(n, i);
        i
    }

    fn text(&mut self, t: &str) -> u32 {
        if let Some(&i) = self.text_index.get(t) {
            return i;
        }
        let i = self.texts.len() as u32;
        self.texts.push(t.to_string());
        self.text_index.insert(t.to_string(), i);
        i
    }

    fn probe_text(&mut self, p: [&'static str; 4]) -> u32 {
        if let Some(&i) = self.probe_text.get(&p) {
            return i;
        }
        let i = self.text(&what(p));
        self.probe_text.insert(p, i);
        i
    }

    fn grant(&mut self, rbac: &Rbac, g: (usize, usize, usize)) -> u32 {
        if let Some(&i) = self.grant_index.get(&g) {
            return i;
        }
        let i = self.grants.len() as u32;
        self.grants.push(rbac.grant_ref(g.0, g.1, g.2));
        self.grant_index.insert(g, i);
        i
    }

    /// Adds an edge that one grant allows, certain (not assumed): see [`Graph::edge`].
    fn granted_edge(&mut self, from: u32, to: u32, technique: Technique, grant: u32, detail: u32) {
        self.edge(from, to, technique, [grant, NONE, NONE], detail, false);
    }

    /// Adds an edge, unless one of the same technique already joins the same nodes. The
    /// edges leaving a node are added together, so a duplicate is found by remembering, for
    /// each node, the last node an edge came from and the techniques it used.
    fn edge(
        &mut self,
        from: u32,
        to: u32,
        technique: Technique,
        grants: [u32; 3],
        detail: u32,
        assumed: bool,
    ) {
        if from == to {
            return;
        }
        let t = to as usize;
        if self.last_from.len() <= t {
            self.last_from.resize(self.nodes.len().max(t + 1), NONE);
            self.last_techniques.resize(self.nodes.len().max(t + 1), 0);
        }
        let bit = 1u64 << (technique as u64);
        if self.last_from[t] == from {
            if self.last_techniques[t] & bit != 0 {
                return;
            }
            self.last_techniques[t] |= bit;
        } else {
            self.last_from[t] = from;
            self.last_techniques[t] = bit;
        }
        self.edges.push(Edge {
            from,
            to,
            technique,
            grants,
            detail,
            assumed,
        });
    }
}

/// A probe: what a rule must allow for a capability.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cap {
    CreatePods,
    PatchWorkloads,
    PatchPods,
    ReadSecrets,
    TokenCreate,
    ImpersonateSa,
    ImpersonateUser,
    ImpersonateGroup,
    Exec,
    NodesProxy,
    BindClusterRoles,
    BindRoles,
    EscalateClusterRoles,
    EscalateRoles,
    WriteClusterRoles,
    WriteRoles,
    WriteRoleBindings,
    WriteClusterRoleBindings,
    CsrCreate,
    CsrApprove,
    SignerApprove,
    MutatingWebhook,
}

const WORKLOADS: &[(&str, &str)] = &[
    ("", "replicationcontrollers"),
    ("apps", "deployments"),
    ("apps", "daemonsets"),
    ("apps", "statefulsets"),
    ("apps", "replicasets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
];

/// (capability, verbs, group, resource, subresource, cluster-scoped resource).
fn probes() -> Vec<Probe> {
    use Cap::*;
    let mut p: Vec<Probe> = vec![
        (CreatePods, &["create"], "", "pods", "", false),
        (PatchPods, &["patch", "update"], "", "pods", "", false),
        (
            ReadSecrets,
            &["get", "list", "watch"],
            "",
            "secrets",
            "",
            false,
        ),
        (
            TokenCreate,
            &["create"],
            "",
            "serviceaccounts",
            "token",
            false,
        ),
        (
            ImpersonateSa,
            &["impersonate"],
            "",
            "serviceaccounts",
            "",
            false,
        ),
        (ImpersonateUser, &["impersonate"], "", "users", "", true),
        (ImpersonateGroup, &["impersonate"], "", "groups", "", true),
        (Exec, &["create", "get"], "", "pods", "exec", false),
        (Exec, &["create", "get"], "", "pods", "attach", false),
        (NodesProxy, &["get", "create"], "", "nodes", "proxy", true),
        (
            BindClusterRoles,
            &["bind"],
            RBAC_GROUP,
            "clusterroles",
            "",
            false,
        ),
        (BindRoles, &["bind"], RBAC_GROUP, "roles", "", false),
        (
            EscalateClusterRoles,
            &["escalate"],
            RBAC_GROUP,
            "clusterroles",
            "",
            true,
        ),
        (EscalateRoles, &["escalate"], RBAC_GROUP, "roles", "", false),
        (
            WriteClusterRoles,
            &["update", "patch"],
            RBAC_GROUP,
            "clusterroles",
            "",
            true,
        ),
        (
            WriteRoles,
            &["update", "patch"],
            RBAC_GROUP,
            "roles",
            "",
            false,
        ),
        (
            WriteRoleBindings,
            &["create", "update", "patch"],
            RBAC_GROUP,
            "rolebindings",
            "",
            false,
        ),
        (
            WriteClusterRoleBindings,
            &["create", "update", "patch"],
            RBAC_GROUP,
            "clusterrolebindings",
            "",
            true,
        ),
        (
            CsrCreate,
            &["create"],
            CERT_GROUP,
            "certificatesigningrequests",
            "",
            true,
        ),
        (
            CsrApprove,
            &["update"],
            CERT_GROUP,
            "certificatesigningrequests",
            "approval",
            true,
        ),
        (SignerApprove, &["approve"], CERT_GROUP, "signers", "", true),
        (
            MutatingWebhook,
            &["create", "update", "patch"],
            "admissionregistration.k8s.io",
            "mutatingwebhookconfigurations",
            "",
            true,
        ),
    ];
    for (g, r) in WORKLOADS {
        p.push((CreatePods, &["create"], g, r, "", false));
        p.push((PatchWorkloads, &["patch", "update"], g, r, "", false));
    }
    p
}

/// (capability, verbs, group, resource, subresource, cluster-scoped resource).
type Probe = (
    Cap,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static str,
    bool,
);

/// What one role's rules allow among the probes.
struct RoleCaps {
    /// (rule index, capability, the probe allowed, cluster-scoped).
    caps: Vec<(usize, Cap, [&'static str; 4], bool)>,
    /// The first rule holding `*` on `*`.
    admin_rule: Option<usize>,
}

/// One rule's grant of a capability.
struct Held<'a> {
    cap: Cap,
    /// `None` = every namespace / cluster scope (ClusterRoleBinding).
    scope: Option<&'a str>,
    /// `resourceNames` of the rule (empty = any).
    names: &'a [String],
    grant: (usize, usize, usize),
    /// The probe allowed: verb, group, resource, subresource.
    what: [&'static str; 4],
}

impl Held<'_> {
    fn applies_in(&self, ns: &str) -> bool {
        self.scope.is_none_or(|s| s == ns)
    }
    fn names_allow(&self, name: &str) -> bool {
        self.names.is_empty() || self.names.iter().any(|n| n == name)
    }
}

/// The namespaces a grant of this scope covers.
fn namespaces_in<'x>(scope: Option<&'x str>, all: &'x BTreeSet<String>) -> Vec<&'x str> {
    match scope {
        Some(ns) => vec![ns],
        None => all.iter().map(String::as_str).collect(),
    }
}

fn rule_allows(rule: &PolicyRule, verb: &str, group: &str, resource: &str, sub: &str) -> bool {
    if !rule.verb_matches(verb) || !rule.api_group_matches(group) {
        return false;
    }
    if sub.is_empty() {
        rule.resource_matches(resource, "")
    } else {
        rule.resource_matches(&format!("{resource}/{sub}"), sub)
    }
}

fn what([verb, group, resource, sub]: [&str; 4]) -> String {
    let mut s = format!("{verb} {resource}");
    if !group.is_empty() {
        s.push('.');
        s.push_str(group);
    }
    if !sub.is_empty() {
        s.push('/');
        s.push_str(sub);
    }
    s
}

/// Service accounts, pods and nodes the graph knows, by namespace.
struct Known<'a> {
    /// Service accounts by namespace, with their graph nodes.
    sas: BTreeMap<String, Vec<(String, u32)>>,
    /// The Secrets node of each namespace.
    secrets: HashMap<String, u32>,
    pods_by_ns: BTreeMap<&'a str, Vec<usize>>,
    users: Vec<Subject>,
    groups: Vec<Subject>,
    /// Namespaces for cluster-wide namespaced grants.
    namespaces: BTreeSet<String>,
    admin_cluster_roles: BTreeSet<&'a str>,
    admin_roles: BTreeSet<(&'a str, &'a str)>,
    role_caps: Vec<RoleCaps>,
}

impl Rbac {
    fn known(&self, g: &mut Graph, subjects: &BTreeSet<Subject>) -> Known<'_> {
        let w = &self.workloads;
        let mut sas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for sa in self.service_accounts() {
            sas.entry(sa.namespace.clone())
                .or_default()
                .insert(sa.name.clone());
        }
        for s in subjects {
            if let (SubjectKind::ServiceAccount, Some(ns)) = (s.kind, &s.namespace) {
                sas.entry(ns.clone()).or_default().insert(s.name.clone());
            }
        }
        for p in &w.pods {
            sas.entry(p.namespace.clone())
                .or_default()
                .insert(p.service_account.clone());
        }
        for (ns, sa) in w.token_secrets.keys() {
            sas.entry(ns.clone()).or_default().insert(sa.clone());
        }
        let mut pods_by_ns: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in w.pods.iter().enumerate() {
            pods_by_ns.entry(p.namespace.as_str()).or_default().push(i);
        }
        let mut namespaces: BTreeSet<String> = self.namespaces().clone();
        namespaces.extend(sas.keys().cloned());
        namespaces.extend(pods_by_ns.keys().map(|s| s.to_string()));
        let admin = |r: &PolicyRule| rule_allows(r, ALL, ALL, ALL, "");
        let admin_cluster_roles = self
            .roles()
            .iter()
            .filter(|r| r.kind == RoleKind::ClusterRole && r.rules.iter().any(admin))
            .map(|r| r.name.as_str())
            .collect();
        let admin_roles = self
            .roles()
            .iter()
            .filter(|r| r.kind == RoleKind::Role && r.rules.iter().any(admin))
            .filter_map(|r| Some((r.namespace.as_deref()?, r.name.as_str())))
            .collect();
        let mut groups: Vec<Subject> = subjects
            .iter()
            .filter(|s| s.kind == SubjectKind::Group)
            .cloned()
            .collect();
        let masters = Subject::group(SYSTEM_MASTERS);
        if !groups.contains(&masters) {
            groups.push(masters);
        }
        let secrets = namespaces
            .iter()
            .map(|ns| {
                let id = g.node(PathNode::Secrets {
                    namespace: Some(ns.clone()),
                });
                (ns.clone(), id)
            })
            .collect();
        let sas = sas
            .into_iter()
            .map(|(ns, names)| {
                let ids = names
                    .into_iter()
                    .map(|n| {
                        let id = g.node(PathNode::Identity {
                            subject: Subject::service_account(&ns, &n),
                        });
                        (n, id)
                    })
                    .collect();
                (ns, ids)
            })
            .collect();
        Known {
            role_caps: self.role_caps(&probes()),
            sas,
            secrets,
            pods_by_ns,
            users: subjects
                .iter()
                .filter(|s| s.kind == SubjectKind::User)
                .cloned()
                .collect(),
            groups,
            namespaces,
            admin_cluster_roles,
            admin_roles,
        }
    }

    /// The capabilities the identity's own bindings grant, rule by rule.
    /// What each role's rules allow among the probes (computed once per graph): the
    /// capabilities by rule, and the first rule holding `*` on `*`.
    fn role_caps(&self, probes: &[Probe]) -> Vec<RoleCaps> {
        self.roles()
            .iter()
            .map(|role| {
                let mut caps = Vec::new();
                for (ri, rule) in role.rules.iter().enumerate() {
                    for &(cap, verbs, group, res, sub, cluster) in probes {
                        if let Some(v) =
                            verbs.iter().find(|v| rule_allows(rule, v, group, res, sub))
                        {
                            caps.push((ri, cap, [*v, group, res, sub], cluster));
                        }
                    }
                }
                RoleCaps {
                    caps,
                    admin_rule: role
                        .rules
                        .iter()
                        .position(|r| rule_allows(r, ALL, ALL, ALL, "")),
                }
            })
            .collect()
    }

    /// The capabilities the identity's own bindings grant, rule by rule.
    fn held(&self, hits: &[(usize, usize)], role_caps: &[RoleCaps]) -> Vec<Held<'_>> {
        let mut out = Vec::new();
        for &(bi, si) in hits {
            let b = &self.bindings()[bi];
            let (Some(rix), Some(role)) = (self.binding_role_index(bi), self.binding_role(bi))
            else {
                continue;
            };
            let scope = match b.kind {
                BindingKind::RoleBinding => Some(b.namespace.as_deref().unwrap_or("default")),
                BindingKind::ClusterRoleBinding => None,
            };
            for &(ri, cap, what, cluster) in &role_caps[rix].caps {
                if cluster && scope.is_some() {
                    continue;
                }
                out.push(Held {
                    cap,
                    scope,
                    names: &role.rules[ri].resource_names,
                    grant: (bi, si, ri),
                    what,
                });
            }
        }
        out
    }

    /// The edges leaving one identity.
    #[allow(clippy::too_many_lines)]
    fn identity_edges(&self, g: &mut Graph, from: u32, user: &UserInfo, k: &Known<'_>) {
        use Technique as T;
        let w = &self.workloads;
        let admin_node = g.node(PathNode::ClusterAdmin);
        if user.is_superuser() {
            let t = g.text("member of system:masters");
            g.edge(from, admin_node, T::HoldsAdminRights, [NONE; 3], t, false);
        }
        // `*` on `*` cluster-wide.
        let hits = self.hits_for(user);
        for &(bi, si) in &hits {
            if self.bindings()[bi].kind != BindingKind::ClusterRoleBinding {
                continue;
            }
            let admin_rule = self
                .binding_role_index(bi)
                .and_then(|r| k.role_caps[r].admin_rule);
            if let Some(ri) = admin_rule {
                let gi = g.grant(self, (bi, si, ri));
                g.granted_edge(from, admin_node, T::HoldsAdminRights, gi, NONE);
                break;
            }
        }
        let held = self.held(&hits, &k.role_caps);
        let by = |c: Cap| held.iter().filter(move |h| h.cap == c);
        let sa_node = |g: &mut Graph, ns: &str, sa: &str| {
            g.node(PathNode::Identity {
                subject: Subject::service_account(ns, sa),
            })
        };
        // Pods and workloads: every service account of the namespace, and its Secrets.
        // One grant per scope is enough: a rule allowing several workload kinds, or several
        // rules, would only repeat the same edges.
        let mut covered: Vec<Option<&str>> = Vec::new();
        for h in by(Cap::CreatePods).chain(by(Cap::PatchWorkloads)) {
            if !h.names.is_empty() {
                continue; // create cannot be limited by name; a named patch reaches one workload only
            }
            if covered.contains(&None) || covered.contains(&h.scope) {
                continue;
            }
            covered.push(h.scope);
            let gi = g.grant(self, h.grant);
            let t = g.probe_text(h.what);
            for ns in namespaces_in(h.scope, &k.namespaces) {
                for &(_, to) in k.sas.get(ns).into_iter().flatten() {
                    g.granted_edge(from, to, T::CreatePodAsServiceAccount, gi, t);
                }
                if let (Cap::CreatePods, Some(&to)) = (h.cap, k.secrets.get(ns)) {
                    g.granted_edge(from, to, T::CreatePodAsServiceAccount, gi, t);
                }
            }
        }
        // Existing pods: patch (image), exec, attach.
        for h in by(Cap::PatchPods).chain(by(Cap::Exec)) {
            let tech = if h.cap == Cap::Exec {
                T::ExecIntoPod
            } else {
                T::PatchPodImage
            };
            let gi = g.grant(self, h.grant);
            let t = g.probe_text(h.what);
            for (ns, pods) in &k.pods_by_ns {
                if !h.applies_in(ns) {
                    continue;
                }
                for &pi in pods {
                    let p = &w.pods[pi];
                    if h.names_allow(&p.name) {
                        let to = g.node(PathNode::Pod {
                            namespace: p.namespace.clone(),
                            name: p.name.clone(),
                        });
                        g.granted_edge(from, to, tech, gi, t);
                    }
                }
            }
        }
        // Secrets.
        for h in by(Cap::ReadSecrets) {
            let gi = g.grant(self, h.grant);
            if h.names.is_empty() {
                let t = g.probe_text(h.what);
                let to = g.node(PathNode::Secrets {
                    namespace: h.scope.map(str::to_string),
                });
                g.granted_edge(from, to, T::ReadSecrets, gi, t);
            } else if h.what[0] == "get" {
                for ((ns, sa), names) in &w.token_secrets {
                    if let Some(n) = names.iter().find(|n| h.applies_in(ns) && h.names_allow(n)) {
                        let t = g.text(&format!("get secret {ns}/{n}"));
                        let to = sa_node(g, ns, sa);
                        g.granted_edge(from, to, T::ReadServiceAccountTokenSecret, gi, t);
                    }
                }
            }
        }
        // Tokens and impersonation of service accounts.
        for h in by(Cap::TokenCreate).chain(by(Cap::ImpersonateSa)) {
            let tech = if h.cap == Cap::TokenCreate {
                T::CreateServiceAccountToken
            } else {
                T::Impersonate
            };
            let gi = g.grant(self, h.grant);
            for (ns, sas) in &k.sas {
                if !h.applies_in(ns) {
                    continue;
                }
                for (sa, to) in sas {
                    if h.names_allow(sa) {
                        g.granted_edge(from, *to, tech, gi, NONE);
                    }
                }
            }
        }
        // Impersonating users; groups need some user to impersonate as well.
        let user_imp: Vec<&Held<'_>> = by(Cap::ImpersonateUser).collect();
        for h in &user_imp {
            let gi = g.grant(self, h.grant);
            for u in &k.users {
                if h.names_allow(&u.name) {
                    let to = g.node(PathNode::Identity { subject: u.clone() });
                    g.granted_edge(from, to, T::Impersonate, gi, NONE);
                }
            }
        }
        let some_user = user_imp
            .first()
            .copied()
            .or_else(|| by(Cap::ImpersonateSa).next());
        if let Some(u) = some_user {
            let gu = g.grant(self, u.grant);
            for h in by(Cap::ImpersonateGroup) {
                let gi = g.grant(self, h.grant);
                for grp in &k.groups {
                    if h.names_allow(&grp.name) {
                        let to = g.node(PathNode::Identity {
                            subject: grp.clone(),
                        });
                        g.edge(from, to, T::Impersonate, [gi, gu, NONE], NONE, false);
                    }
                }
            }
        }
        // nodes/proxy.
        for h in by(Cap::NodesProxy) {
            let gi = g.grant(self, h.grant);
            let t = g.probe_text(h.what);
            if h.names.is_empty() {
                let to = g.node(PathNode::Node { name: "*".into() });
                g.granted_edge(from, to, T::NodesProxy, gi, t);
            } else {
                for n in h.names {
                    let to = g.node(PathNode::Node { name: n.clone() });
                    g.granted_edge(from, to, T::NodesProxy, gi, t);
                }
            }
        }
        // bind: a ClusterRoleBinding (cluster-admin) or a RoleBinding (the namespace) to
        // a role holding `*` on `*`.
        let binds: Vec<(&Held<'_>, &str, Option<&str>)> = by(Cap::BindClusterRoles)
            .flat_map(|h| {
                k.admin_cluster_roles
                    .iter()
                    .filter(|r| h.names_allow(r))
                    .map(move |r| (h, *r, None))
            })
            .chain(by(Cap::BindRoles).flat_map(|h| {
                k.admin_roles
                    .iter()
                    .filter(|(ns, r)| h.applies_in(ns) && h.names_allow(r))
                    .map(move |(ns, r)| (h, *r, Some(*ns)))
            }))
            .collect();
        if let Some((hb, role, _)) = binds
            .iter()
            .find(|(h, _, ns)| ns.is_none() && h.scope.is_none())
        {
            if let Some(hw) = by(Cap::WriteClusterRoleBindings).find(|h| h.names.is_empty()) {
                let (gw, gb) = (g.grant(self, hw.grant), g.grant(self, hb.grant));
                let t = g.text(&format!("ClusterRole {role}"));
                g.edge(
                    from,
                    admin_node,
                    T::BindPowerfulRole,
                    [gw, gb, NONE],
                    t,
                    false,
                );
            }
        }
        for hw in by(Cap::WriteRoleBindings) {
            if !hw.names.is_empty() {
                continue;
            }
            for ns in namespaces_in(hw.scope, &k.namespaces) {
                let Some((hb, role, rns)) = binds
                    .iter()
                    .find(|(h, _, rns)| h.applies_in(ns) && rns.is_none_or(|r| r == ns))
                else {
                    continue;
                };
                let (gw, gb) = (g.grant(self, hw.grant), g.grant(self, hb.grant));
                let kind = if rns.is_some() { "Role" } else { "ClusterRole" };
                let t = g.text(&format!("{kind} {role}"));
                self.namespace_admin_edges(g, from, ns, k, T::BindPowerfulRole, [gw, gb, NONE], t);
            }
        }
        // escalate + update on a role already bound to the identity.
        for &(bi, _) in &hits {
            let b = &self.bindings()[bi];
            let name = b.role_ref.name.as_str();
            let (esc, write) = match b.role_ref.kind {
                RoleKind::ClusterRole => (Cap::EscalateClusterRoles, Cap::WriteClusterRoles),
                RoleKind::Role => (Cap::EscalateRoles, Cap::WriteRoles),
            };
            let ns = b.namespace.as_deref();
            let fits = |h: &&Held<'_>| {
                h.names_allow(name)
                    && (b.role_ref.kind == RoleKind::ClusterRole
                        || ns.is_some_and(|n| h.applies_in(n)))
            };
            let (Some(he), Some(hu)) = (by(esc).find(fits), by(write).find(fits)) else {
                continue;
            };
            let (gu, ge) = (g.grant(self, hu.grant), g.grant(self, he.grant));
            let kind = if b.role_ref.kind == RoleKind::Role {
                "Role"
            } else {
                "ClusterRole"
            };
            let t = g.text(&format!("{kind} {name}, bound by {:?} {}", b.kind, b.name));
            match (b.kind, ns) {
                (BindingKind::ClusterRoleBinding, _) => g.edge(
                    from,
                    admin_node,
                    T::EscalateOwnRole,
                    [gu, ge, NONE],
                    t,
                    false,
                ),
                (BindingKind::RoleBinding, Some(ns)) => self.namespace_admin_edges(
                    g,
                    from,
                    ns,
                    k,
                    T::EscalateOwnRole,
                    [gu, ge, NONE],
                    t,
                ),
                _ => {}
            }
        }
        // CSR approval for the kube-apiserver-client signer.
        let signer = by(Cap::SignerApprove).find(|h| {
            h.names_allow("kubernetes.io/kube-apiserver-client") || h.names_allow("kubernetes.io/*")
        });
        if let (Some(c), Some(a), Some(s)) = (
            by(Cap::CsrCreate).next(),
            by(Cap::CsrApprove).next(),
            signer,
        ) {
            let gs = [
                g.grant(self, c.grant),
                g.grant(self, a.grant),
                g.grant(self, s.grant),
            ];
            g.edge(from, admin_node, T::ApproveCsr, gs, NONE, false);
        }
        if let Some(h) = by(Cap::MutatingWebhook).next() {
            let gi = g.grant(self, h.grant);
            g.granted_edge(from, admin_node, T::MutatingWebhook, gi, NONE);
        }
    }

    /// Everything in a namespace: its service accounts and its Secrets.
    #[allow(clippy::too_many_arguments)]
    fn namespace_admin_edges(
        &self,
        g: &mut Graph,
        from: u32,
        ns: &str,
        k: &Known<'_>,
        tech: Technique,
        grants: [u32; 3],
        t: u32,
    ) {
        for &(_, to) in k.sas.get(ns).into_iter().flatten() {
            g.edge(from, to, tech, grants, t, false);
        }
        if let Some(&to) = k.secrets.get(ns) {
            g.edge(from, to, tech, grants, t, false);
        }
    }

    /// Builds the attack graph of the inventory; returns it with the start subjects.
    fn attack_graph(&self) -> (Graph, BTreeSet<Subject>) {
        use Technique as T;
        let subjects = self.subjects();
        let mut g = Graph::default();
        let k = self.known(&mut g, &subjects);
        let w = &self.workloads;
        // Identities: binding subjects, known service accounts, system:masters.
        let mut identities: BTreeSet<Subject> = subjects.clone();
        for (ns, sas) in &k.sas {
            for (sa, _) in sas {
                identities.insert(Subject::service_account(ns, sa));
            }
        }
        identities.insert(Subject::group(SYSTEM_MASTERS));
        for s in &identities {
            let from = g.node(PathNode::Identity { subject: s.clone() });
            self.identity_edges(&mut g, from, &UserInfo::from_subject(s), &k);
        }
        // Secrets → service accounts through token Secrets.
        let secret_nodes: Vec<(u32, Option<String>)> = g
            .nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match n {
                PathNode::Secrets { namespace } => Some((i as u32, namespace.clone())),
                _ => None,
            })
            .collect();
        for (from, ns) in secret_nodes {
            if w.secrets_seen {
                for ((sns, sa), names) in &w.token_secrets {
                    if ns.as_deref().is_none_or(|n| n == sns) {
                        let t = g.text(&names[0]);
                        let to = g.node(PathNode::Identity {
                            subject: Subject::service_account(sns, sa),
                        });
                        g.edge(
                            from,
                            to,
                            T::ReadServiceAccountTokenSecret,
                            [NONE; 3],
                            t,
                            false,
                        );
                    }
                }
            } else {
                for (sns, sas) in &k.sas {
                    if ns.as_deref().is_some_and(|n| n != sns) {
                        continue;
                    }
                    for &(_, to) in sas {
                        g.edge(
                            from,
                            to,
                            T::ReadServiceAccountTokenSecret,
                            [NONE; 3],
                            NONE,
                            true,
                        );
                    }
                }
            }
        }
        // Pods, nodes.
        let every = g.node(PathNode::Node { name: "*".into() });
        for p in &w.pods {
            let pn = g.node(PathNode::Pod {
                namespace: p.namespace.clone(),
                name: p.name.clone(),
            });
            if p.token_mounted {
                let to = g.node(PathNode::Identity {
                    subject: Subject::service_account(&p.namespace, &p.service_account),
                });
                g.edge(pn, to, T::PodServiceAccountToken, [NONE; 3], NONE, false);
            }
            g.edge(every, pn, T::NodeRunsPod, [NONE; 3], NONE, false);
            if let Some(node) = &p.node {
                let nn = g.node(PathNode::Node { name: node.clone() });
                g.edge(nn, pn, T::NodeRunsPod, [NONE; 3], NONE, false);
                if let Some(why) = &p.escape {
                    let t = g.text(why);
                    g.edge(pn, nn, T::EscapeToNode, [NONE; 3], t, false);
                }
            }
        }
        if w.pods.is_empty() {
            for sas in k.sas.values() {
                for &(_, to) in sas {
                    g.edge(every, to, T::NodeRunsPod, [NONE; 3], NONE, true);
                }
            }
        }
        (g, subjects)
    }

    /// Shortest attack paths from every subject named by a binding to `goal`, at most
    /// [`MAX_HOPS`] hops long: for each subject, the shortest path through each distinct
    /// first hop (technique and binding), so that every grant that opens a path is listed.
    /// For [`Goal::ClusterAdmin`], subjects that already hold it are left out. Sorted by
    /// subject, then length. See the module documentation for the edges.
    pub fn attack_paths(&self, goal: Goal) -> Vec<AttackPath> {
        let (g, subjects) = self.attack_graph();
        let n = g.nodes.len();
        // Forward and reverse adjacency (edge indexes).
        let mut out_adj: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut in_adj: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (i, e) in g.edges.iter().enumerate() {
            out_adj[e.from as usize].push(i as u32);
            in_adj[e.to as usize].push(i as u32);
        }
        // Backwards BFS from the goal nodes: distance and the next edge towards a goal.
        let mut dist = vec![usize::MAX; n];
        let mut next = vec![NONE; n];
        let mut queue = VecDeque::new();
        for (i, node) in g.nodes.iter().enumerate() {
            if goal.reached_by(node) {
                dist[i] = 0;
                queue.push_back(i);
            }
        }
        while let Some(v) = queue.pop_front() {
            if dist[v] >= MAX_HOPS {
                continue;
            }
            for &ei in &in_adj[v] {
                let u = g.edges[ei as usize].from as usize;
                if dist[u] == usize::MAX {
                    dist[u] = dist[v] + 1;
                    next[u] = ei;
                    queue.push_back(u);
                }
            }
        }
        let mut result = Vec::new();
        for s in &subjects {
            let Some(&start) = g.index.get(&PathNode::Identity { subject: s.clone() }) else {
                continue;
            };
            let start = start as usize;
            if goal == Goal::ClusterAdmin
                && out_adj[start]
                    .iter()
                    .any(|&ei| g.edges[ei as usize].technique == Technique::HoldsAdminRights)
            {
                continue;
            }
            // Best first hop per (technique, binding of its first grant).
            let mut best: BTreeMap<(Technique, Option<BindingKey>), (usize, u32)> = BTreeMap::new();
            for &ei in &out_adj[start] {
                let e = &g.edges[ei as usize];
                let d = dist[e.to as usize];
                if d == usize::MAX || d + 1 > MAX_HOPS {
                    continue;
                }
                let key_binding = (e.grants[0] != NONE).then(|| {
                    let gr = &g.grants[e.grants[0] as usize];
                    (
                        gr.binding_kind,
                        gr.binding_namespace.clone(),
                        gr.binding_name.clone(),
                    )
                });
                let key = (e.technique, key_binding);
                match best.get(&key) {
                    Some(&(bd, _)) if bd <= d + 1 => {}
                    _ => {
                        best.insert(key, (d + 1, ei));
                    }
                }
            }
            let mut paths: Vec<AttackPath> = Vec::new();
            for (_, (_, ei)) in best {
                let mut edges = vec![ei];
                let mut v = g.edges[ei as usize].to as usize;
                let mut ok = true;
                while dist[v] > 0 {
                    let nx = next[v];
                    v = g.edges[nx as usize].to as usize;
                    if v == start {
                        ok = false;
                        break;
                    }
                    edges.push(nx);
                }
                if !ok {
                    continue;
                }
                paths.push(AttackPath {
                    subject: s.clone(),
                    goal,
                    hops: edges.iter().map(|&e| g.hop(&g.edges[e as usize])).collect(),
                });
            }
            paths.sort_by_key(|p| p.hops.len());
            result.extend(paths);
        }
        result
    }
}

impl Graph {
    fn hop(&self, e: &Edge) -> Hop {
        use Technique as T;
        let from = self.nodes[e.from as usize].clone();
        let to = self.nodes[e.to as usize].clone();
        let grants: Vec<GrantRef> = e
            .grants
            .iter()
            .filter(|&&i| i != NONE)
            .map(|&i| self.grants[i as usize].clone())
            .collect();
        let detail = if e.detail != NONE {
            self.texts[e.detail as usize].as_str()
        } else {
            ""
        };
        let g0 = grants.first().map(ToString::to_string).unwrap_or_default();
        let g1 = grants.get(1).map(ToString::to_string).unwrap_or_default();
        let ns_of = |n: &PathNode| match n {
            PathNode::Identity { subject } => subject.namespace.clone().unwrap_or_default(),
            PathNode::Secrets { namespace } => namespace.clone().unwrap_or_default(),
            PathNode::Pod { namespace, .. } => namespace.clone(),
            _ => String::new(),
        };
        let ns = ns_of(&to);
        let pod_or_secrets = |to: &PathNode| {
            match to {
            PathNode::Identity { subject } => format!(
                "a pod created in namespace {ns} can set serviceAccountName: {} and receives its token",
                subject.name
            ),
            _ => format!("a pod created in namespace {ns} can mount any of its Secrets"),
        }
        };
        let action = match e.technique {
            T::CreatePodAsServiceAccount => {
                format!("{from} can {detail} in namespace {ns} via {g0}; {}", pod_or_secrets(&to))
            }
            T::ReadSecrets => match &to {
                PathNode::Secrets { namespace: Some(n) } => {
                    format!("{from} can {detail} in namespace {n} via {g0}")
                }
                _ => format!("{from} can {detail} in every namespace via {g0}"),
            },
            T::ReadServiceAccountTokenSecret if e.assumed => format!(
                "the inputs hold no Secrets, so a kubernetes.io/service-account-token Secret of {to} may exist among the {from} and hold its bearer token"
            ),
            T::ReadServiceAccountTokenSecret if !grants.is_empty() => format!(
                "{from} can {detail} via {g0}, a kubernetes.io/service-account-token Secret of {to} holding its bearer token"
            ),
            T::ReadServiceAccountTokenSecret => format!(
                "the {from} include {detail}, a kubernetes.io/service-account-token Secret of {to} holding its bearer token"
            ),
            T::CreateServiceAccountToken => format!("{from} can request a token for {to} via {g0}"),
            T::Impersonate if grants.len() > 1 => format!(
                "{from} can impersonate {to} via {g0} (with a user it may impersonate via {g1})"
            ),
            T::Impersonate => format!("{from} can impersonate {to} via {g0}"),
            T::EscalateOwnRole => match &to {
                PathNode::ClusterAdmin => format!(
                    "{from} can update its own {detail} via {g0}, and escalate on it via {g1} skips the escalation check, so a rule `*` on `*` can be added"
                ),
                _ => format!(
                    "{from} can update its own {detail} via {g0}, and escalate on it via {g1} lets it add any rule in namespace {ns}; {}",
                    pod_or_secrets(&to)
                ),
            },
            T::BindPowerfulRole => match &to {
                PathNode::ClusterAdmin => format!(
                    "{from} can write ClusterRoleBindings via {g0}, and bind on {detail} (all verbs on all resources) via {g1} lets it bind that role to itself"
                ),
                _ => format!(
                    "{from} can write RoleBindings in namespace {ns} via {g0}, and bind on {detail} (all verbs on all resources) via {g1} lets it bind that role to itself there; {}",
                    pod_or_secrets(&to)
                ),
            },
            T::NodesProxy => format!(
                "{from} can reach the kubelet API of {to} through nodes/proxy ({detail}) via {g0}; the kubelet API can exec into any container on the node, bypassing pods/exec authorization"
            ),
            T::ExecIntoPod => format!("{from} can {detail} on {to} via {g0}"),
            T::PatchPodImage => format!(
                "{from} can {detail} {to} via {g0} and replace a container image with its own code"
            ),
            T::PodServiceAccountToken => format!("{from} runs as {to} and mounts its token"),
            T::EscapeToNode => format!("{from} has a {detail}, which gives its containers {to}"),
            T::NodeRunsPod if e.assumed => format!(
                "the inputs hold no Pods, so a pod running as {to} may be on any node, where the kubelet can exec into it"
            ),
            T::NodeRunsPod => format!("{to} runs on {from}, which can exec into it and read its token"),
            T::HoldsAdminRights if grants.is_empty() => {
                format!("{from} is a member of {SYSTEM_MASTERS}, which bypasses RBAC")
            }
            T::HoldsAdminRights => {
                format!("{from} holds all verbs on all resources cluster-wide via {g0}")
            }
            T::ApproveCsr => format!(
                "{from} can create a CSR for signer kubernetes.io/kube-apiserver-client with O={SYSTEM_MASTERS} via {g0}, approve it via {g1} and {}; the issued client certificate authenticates as a member of {SYSTEM_MASTERS}, which bypasses RBAC",
                grants.get(2).map(|g| format!("may approve for that signer via {g}")).unwrap_or_default()
            ),
            T::MutatingWebhook => format!(
                "{from} can write MutatingWebhookConfigurations via {g0}; a mutating webhook sees and can rewrite every matching object, e.g. every new pod"
            ),
        };
        Hop {
            from,
            to,
            technique: e.technique,
            action,
            grants,
            assumed: e.assumed,
        }
    }
}
