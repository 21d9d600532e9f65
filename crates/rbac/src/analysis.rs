//! Risk analysis: risky grants, privilege-escalation paths and binding hygiene.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::authz::{
    GrantRef, Rbac, UserInfo, SYSTEM_ANONYMOUS, SYSTEM_MASTERS, SYSTEM_UNAUTHENTICATED,
};
use crate::model::{BindingKind, PolicyRule, Role, RoleKind, Subject, SubjectKind, ALL};
use crate::request::Request;

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const CERT_GROUP: &str = "certificates.k8s.io";
const ADMISSION_GROUP: &str = "admissionregistration.k8s.io";

/// A kind of risky grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum RiskKind {
    /// All verbs on all resources in all groups (`*`/`*`/`*`): cluster-admin-equivalent
    /// when cluster-wide, namespace-admin (incl. secrets, pods/exec) through a RoleBinding.
    /// Other kinds are not repeated for the same subject and scope.
    ClusterAdmin,
    /// A rule with `*` verbs.
    WildcardVerbs,
    /// A rule with `*` resources.
    WildcardResources,
    /// get/list/watch on secrets.
    SecretRead,
    /// `pods/exec` (create, or get for the older streaming path).
    PodExec,
    /// `pods/attach` (create or get).
    PodAttach,
    /// create on pods or on workload controllers that create pods.
    WorkloadCreate,
    /// `escalate` on roles/clusterroles.
    Escalate,
    /// `bind` on roles/clusterroles.
    Bind,
    /// `impersonate` on users, groups, service accounts, uids or user extras.
    Impersonate,
    /// patch/update on Roles, ClusterRoles, RoleBindings or ClusterRoleBindings.
    RbacModify,
    /// `nodes/proxy` (kubelet API).
    NodesProxy,
    /// update `certificatesigningrequests/approval` together with `approve` on `signers`.
    CsrApprove,
    /// create/update/patch of validating or mutating webhook configurations.
    WebhookConfigWrite,
    /// create `serviceaccounts/token`.
    ServiceAccountTokenCreate,
}

/// A subject holding a risky grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// What is risky.
    pub kind: RiskKind,
    /// Who holds it (a binding subject, service-account namespace defaulted).
    pub subject: Subject,
    /// `None` = cluster-wide (ClusterRoleBinding), else the RoleBinding's namespace.
    pub namespace: Option<String>,
    /// The bindings/roles/rules that grant it.
    pub grants: Vec<GrantRef>,
    /// A short human explanation.
    pub detail: String,
}

/// A risky grant of one role's rules ([`Rbac::role_risks`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRisk {
    /// What is risky.
    pub kind: RiskKind,
    /// Indexes of the role's (effective) rules that grant it.
    pub rules: Vec<usize>,
    /// A short human explanation.
    pub detail: &'static str,
}

/// Technique of an escalation path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Technique {
    /// Create a pod (directly or via a workload controller) running as a powerful
    /// service account.
    CreatePodAsServiceAccount,
    /// Read a powerful service account's token secret.
    ReadServiceAccountTokenSecret,
    /// Request a token for a powerful service account (`serviceaccounts/token`).
    CreateServiceAccountToken,
    /// Impersonate a powerful user, group or service account.
    Impersonate,
    /// Edit one's own ClusterRole with `escalate`.
    EscalateOwnRole,
    /// Bind oneself to a powerful ClusterRole with `bind`.
    BindPowerfulRole,
    /// Use the kubelet API through `nodes/proxy`.
    NodesProxy,
    /// Issue and approve a client certificate for `system:masters`.
    ApproveCsr,
    /// Register a mutating admission webhook.
    MutatingWebhook,
    /// Hold `*` on `*` cluster-wide, or be a member of `system:masters` (the last hop
    /// of an attack path to cluster-admin).
    HoldsAdminRights,
    /// Read the Secrets of a namespace (get, list or watch).
    ReadSecrets,
    /// Run commands in a running pod (`pods/exec`, `pods/attach`).
    ExecIntoPod,
    /// Replace a running pod's container image (patch/update on pods).
    PatchPodImage,
    /// A pod's service-account token, mounted in its containers.
    PodServiceAccountToken,
    /// A privileged, hostPID or hostPath pod controls its node.
    EscapeToNode,
    /// A node (its kubelet or its host) controls every pod scheduled on it.
    NodeRunsPod,
}

/// One step of an escalation path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// A human sentence.
    pub action: String,
    /// The grant that enables the step, when one does.
    pub grant: Option<GrantRef>,
}

/// A path from a subject to cluster-admin-equivalent power.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationPath {
    /// Who can escalate.
    pub subject: Subject,
    /// How.
    pub technique: Technique,
    /// The powerful identity reached, when there is one (e.g. a service account).
    pub target: Option<Subject>,
    /// Steps in order.
    pub steps: Vec<Step>,
}

/// A binding subject singled out by a hygiene check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingSubject {
    /// RoleBinding or ClusterRoleBinding.
    pub binding_kind: BindingKind,
    /// Namespace of a RoleBinding.
    pub binding_namespace: Option<String>,
    /// Binding name.
    pub binding_name: String,
    /// Referenced role's kind and name, e.g. `ClusterRole/view`.
    pub role: String,
    /// The subject (service-account namespace defaulted).
    pub subject: Subject,
}

/// How a risk kind is detected.
enum Detector {
    /// Any of these requests is allowed by the rule; `cluster_only` for cluster-scoped
    /// resources (RoleBindings cannot grant them).
    Probes(Vec<Request>, bool),
    /// Inspect the rule itself.
    Inspect(fn(&PolicyRule) -> bool),
    /// All groups of probes must be allowed (possibly by different rules/bindings).
    All(Vec<Vec<Request>>, bool),
}

fn req(verb: &str, group: &str, res: &str) -> Request {
    Request::resource(verb, group, res)
}

fn sub(verb: &str, group: &str, res: &str, s: &str) -> Request {
    Request::resource(verb, group, res).with_subresource(s)
}

fn cross(verbs: &[&str], group: &str, resources: &[&str]) -> Vec<Request> {
    let mut out = Vec::new();
    for r in resources {
        for v in verbs {
            out.push(req(v, group, r));
        }
    }
    out
}

fn detectors() -> Vec<(RiskKind, Detector, &'static str)> {
    use Detector::*;
    let mut workload = vec![
        req("create", "", "pods"),
        req("create", "", "replicationcontrollers"),
    ];
    workload.extend(cross(
        &["create"],
        "apps",
        &["deployments", "daemonsets", "statefulsets", "replicasets"],
    ));
    workload.extend(cross(&["create"], "batch", &["jobs", "cronjobs"]));
    let mut imp = cross(
        &["impersonate"],
        "",
        &["users", "groups", "serviceaccounts"],
    );
    imp.extend(cross(
        &["impersonate"],
        "authentication.k8s.io",
        &["uids", "userextras/scopes"],
    ));
    vec![
        (
            RiskKind::ClusterAdmin,
            Probes(vec![req(ALL, ALL, ALL)], false),
            "all verbs on all resources in all API groups",
        ),
        (
            RiskKind::WildcardVerbs,
            Inspect(|r| r.verbs.iter().any(|v| v == ALL)),
            "a rule grants every verb (`*`)",
        ),
        (
            RiskKind::WildcardResources,
            Inspect(|r| r.resources.iter().any(|v| v == ALL)),
            "a rule grants every resource (`*`)",
        ),
        (
            RiskKind::SecretRead,
            Probes(cross(&["get", "list", "watch"], "", &["secrets"]), false),
            "can read secrets, including service-account tokens",
        ),
        (
            RiskKind::PodExec,
            Probes(
                vec![sub("create", "", "pods", "exec"), sub("get", "", "pods", "exec")],
                false,
            ),
            "can run commands in running containers (pods/exec)",
        ),
        (
            RiskKind::PodAttach,
            Probes(
                vec![sub("create", "", "pods", "attach"), sub("get", "", "pods", "attach")],
                false,
            ),
            "can attach to running containers (pods/attach)",
        ),
        (
            RiskKind::WorkloadCreate,
            Probes(workload, false),
            "can create pods or workloads, and so run as any service account of the namespace and mount its secrets",
        ),
        (
            RiskKind::Escalate,
            Probes(cross(&["escalate"], RBAC_GROUP, &["roles", "clusterroles"]), false),
            "can write roles with permissions it does not hold (escalate)",
        ),
        (
            RiskKind::Bind,
            Probes(cross(&["bind"], RBAC_GROUP, &["roles", "clusterroles"]), false),
            "can bind roles with permissions it does not hold (bind)",
        ),
        (
            RiskKind::Impersonate,
            Probes(imp, false),
            "can impersonate other users, groups or service accounts",
        ),
        (
            RiskKind::RbacModify,
            Probes(
                cross(
                    &["patch", "update"],
                    RBAC_GROUP,
                    &["roles", "clusterroles", "rolebindings", "clusterrolebindings"],
                ),
                false,
            ),
            "can patch/update RBAC roles or bindings",
        ),
        (
            RiskKind::NodesProxy,
            Probes(
                vec![sub("get", "", "nodes", "proxy"), sub("create", "", "nodes", "proxy")],
                true,
            ),
            "can use the kubelet API through nodes/proxy (exec into any pod on the node)",
        ),
        (
            RiskKind::CsrApprove,
            All(
                vec![
                    vec![sub("update", CERT_GROUP, "certificatesigningrequests", "approval")],
                    vec![req("approve", CERT_GROUP, "signers")],
                ],
                true,
            ),
            "can approve certificate signing requests (and so issue client certificates)",
        ),
        (
            RiskKind::WebhookConfigWrite,
            Probes(
                cross(
                    &["create", "update", "patch"],
                    ADMISSION_GROUP,
                    &[
                        "mutatingwebhookconfigurations",
                        "validatingwebhookconfigurations",
                    ],
                ),
                true,
            ),
            "can register admission webhooks that see or mutate every matching object",
        ),
        (
            RiskKind::ServiceAccountTokenCreate,
            Probes(vec![sub("create", "", "serviceaccounts", "token")], false),
            "can mint tokens for service accounts",
        ),
    ]
}

impl Rbac {
    /// Grants (binding → role → rule) of the given binding hits that allow `request`,
    /// restricted to bindings that are effective for the request's scope: for
    /// `cluster_only`, ClusterRoleBindings only.
    fn grants_matching(
        &self,
        hits: &[(usize, usize)],
        pred: &dyn Fn(&PolicyRule) -> bool,
        cluster_only: bool,
    ) -> Vec<GrantRef> {
        let mut out = Vec::new();
        for &(bi, si) in hits {
            if cluster_only && self.bindings()[bi].kind != BindingKind::ClusterRoleBinding {
                continue;
            }
            let Some(role) = self.binding_role(bi) else {
                continue;
            };
            for (ri, r) in role.rules.iter().enumerate() {
                if pred(r) {
                    out.push(self.grant_ref(bi, si, ri));
                }
            }
        }
        out
    }

    /// Subjects with risky grants: one entry per (kind, subject, scope), with the grants.
    /// Only the subject's own bindings count (grants through groups such as
    /// `system:authenticated` are reported on the group). A namespace-scoped risk is
    /// omitted when the subject has the same risk cluster-wide; when a scope has
    /// [`RiskKind::ClusterAdmin`], other kinds are omitted for that scope.
    pub fn risks(&self) -> Vec<Risk> {
        let dets = detectors();
        let mut out = Vec::new();
        for subject in self.subjects() {
            // Bindings naming exactly this subject, grouped by scope.
            let hits = self.hits_for(&exact_identity(&subject));
            let hits: Vec<(usize, usize)> = hits
                .into_iter()
                .filter(|&(bi, si)| {
                    let b = &self.bindings()[bi];
                    b.resolved_subject(&b.subjects[si]) == subject
                })
                .collect();
            let mut by_scope: BTreeMap<Option<String>, Vec<(usize, usize)>> = BTreeMap::new();
            for &(bi, si) in &hits {
                by_scope
                    .entry(self.bindings()[bi].namespace.clone())
                    .or_default()
                    .push((bi, si));
            }
            let mut cluster_kinds: BTreeSet<RiskKind> = BTreeSet::new();
            // `None` sorts first: cluster scope is handled before namespaces.
            for (scope, scope_hits) in &by_scope {
                let mut found: Vec<(RiskKind, Vec<GrantRef>, &str)> = Vec::new();
                for (kind, det, detail) in &dets {
                    if scope.is_some() && cluster_kinds.contains(kind) {
                        continue;
                    }
                    let grants = match det {
                        Detector::Probes(probes, cluster_only) => self.grants_matching(
                            scope_hits,
                            &|r| probes.iter().any(|p| p.allowed_by(&without_names(r))),
                            *cluster_only,
                        ),
                        Detector::Inspect(f) => self.grants_matching(scope_hits, f, false),
                        Detector::All(groups, cluster_only) => {
                            let mut all = Vec::new();
                            let mut ok = true;
                            for g in groups {
                                let gs = self.grants_matching(
                                    scope_hits,
                                    &|r| g.iter().any(|p| p.allowed_by(&without_names(r))),
                                    *cluster_only,
                                );
                                if gs.is_empty() {
                                    ok = false;
                                    break;
                                }
                                all.extend(gs);
                            }
                            if ok {
                                all
                            } else {
                                Vec::new()
                            }
                        }
                    };
                    if !grants.is_empty() {
                        found.push((*kind, grants, detail));
                    }
                }
                let admin = found.iter().any(|(k, _, _)| *k == RiskKind::ClusterAdmin);
                for (kind, grants, detail) in found {
                    if admin && kind != RiskKind::ClusterAdmin {
                        continue;
                    }
                    if scope.is_none() {
                        cluster_kinds.insert(kind);
                    }
                    out.push(Risk {
                        kind,
                        subject: subject.clone(),
                        namespace: scope.clone(),
                        grants,
                        detail: detail.to_string(),
                    });
                }
                if admin && scope.is_none() {
                    // Everything is implied cluster-wide.
                    for (k, _, _) in &dets {
                        cluster_kinds.insert(*k);
                    }
                }
            }
        }
        out
    }

    /// What one role's own rules grant, whoever holds it: the risky kinds with the indexes
    /// of the rules that grant each (after aggregation, for an aggregated ClusterRole). A
    /// namespaced Role cannot grant cluster-scoped resources (`nodes/proxy`, CSR approval,
    /// webhook configurations), so those kinds are not reported for it. When the role grants
    /// everything ([`RiskKind::ClusterAdmin`]), only that kind is returned.
    pub fn role_risks(&self, role: &Role) -> Vec<RoleRisk> {
        let namespaced = role.kind == RoleKind::Role;
        let rules_matching = |pred: &dyn Fn(&PolicyRule) -> bool| -> Vec<usize> {
            role.rules
                .iter()
                .enumerate()
                .filter(|(_, r)| pred(r))
                .map(|(i, _)| i)
                .collect()
        };
        let mut out = Vec::new();
        for (kind, det, detail) in detectors() {
            let rules = match &det {
                Detector::Probes(_, true) | Detector::All(_, true) if namespaced => Vec::new(),
                Detector::Probes(probes, _) => {
                    rules_matching(&|r| probes.iter().any(|p| p.allowed_by(&without_names(r))))
                }
                Detector::Inspect(f) => rules_matching(f),
                Detector::All(groups, _) => {
                    let per_group: Vec<Vec<usize>> = groups
                        .iter()
                        .map(|g| {
                            rules_matching(&|r| g.iter().any(|p| p.allowed_by(&without_names(r))))
                        })
                        .collect();
                    if per_group.iter().any(Vec::is_empty) {
                        Vec::new()
                    } else {
                        let mut all: Vec<usize> = per_group.into_iter().flatten().collect();
                        all.sort_unstable();
                        all.dedup();
                        all
                    }
                }
            };
            if !rules.is_empty() {
                out.push(RoleRisk {
                    kind,
                    rules,
                    detail,
                });
            }
        }
        if out.iter().any(|r| r.kind == RiskKind::ClusterAdmin) {
            out.retain(|r| r.kind == RiskKind::ClusterAdmin);
        }
        out
    }

    /// First grant allowing `request` for `user` (respecting namespace scope).
    fn first_grant(&self, user: &UserInfo, request: &Request) -> Option<GrantRef> {
        let d = self.authorize(user, request);
        d.via.into_iter().next()
    }

    /// Whether the identity holds `*` on `*` in `*` cluster-wide through RBAC (or is in
    /// `system:masters`).
    pub fn is_admin_equivalent(&self, user: &UserInfo) -> bool {
        self.authorize(user, &req(ALL, ALL, ALL)).allowed
    }

    /// Step-by-step paths from subjects to cluster-admin-equivalent power. Subjects
    /// considered are the ones named by bindings (users and service accounts with their
    /// implicit groups; groups as "any member"); subjects that already are
    /// admin-equivalent are skipped.
    pub fn escalation_paths(&self) -> Vec<EscalationPath> {
        let subjects = self.subjects();
        let admin_req = req(ALL, ALL, ALL);
        // Powerful service accounts, with the grant that makes them powerful.
        let mut admin_sas: Vec<(Subject, GrantRef)> = Vec::new();
        for s in &subjects {
            if s.kind == SubjectKind::ServiceAccount {
                if let Some(g) = self.first_grant(&UserInfo::from_subject(s), &admin_req) {
                    admin_sas.push((s.clone(), g));
                }
            }
        }
        // Powerful ClusterRoles (for bind).
        let admin_roles: Vec<&str> = self
            .roles()
            .iter()
            .filter(|r| {
                r.kind == crate::model::RoleKind::ClusterRole
                    && r.rules.iter().any(|x| admin_req.allowed_by(x))
            })
            .map(|r| r.name.as_str())
            .collect();
        let mut out = Vec::new();
        for s in &subjects {
            let user = UserInfo::from_subject(s);
            if self.is_admin_equivalent(&user) {
                continue;
            }
            let step = |action: String, grant: Option<GrantRef>| Step { action, grant };
            let admin_step = |t: &Subject, g: &GrantRef| {
                step(
                    format!("{t} holds all verbs on all resources cluster-wide via {g}"),
                    Some(g.clone()),
                )
            };
            // Pod creation / token secrets / token requests in the SA's namespace.
            for (t, tg) in &admin_sas {
                let ns = t.namespace.clone().unwrap_or_default();
                let creators: Vec<Request> = detectors()
                    .into_iter()
                    .find(|(k, _, _)| *k == RiskKind::WorkloadCreate)
                    .and_then(|(_, d, _)| match d {
                        Detector::Probes(p, _) => Some(p),
                        _ => None,
                    })
                    .unwrap_or_default();
                for c in creators {
                    let c = c.in_namespace(&ns);
                    if let Some(g) = self.first_grant(&user, &c) {
                        out.push(EscalationPath {
                            subject: s.clone(),
                            technique: Technique::CreatePodAsServiceAccount,
                            target: Some(t.clone()),
                            steps: vec![
                                step(format!("{s} can {c} via {g}"), Some(g)),
                                step(
                                    format!(
                                        "a pod created in namespace {ns} can set serviceAccountName: {} and receives its token",
                                        t.name
                                    ),
                                    None,
                                ),
                                admin_step(t, tg),
                            ],
                        });
                        break;
                    }
                }
                let read = [
                    req("get", "", "secrets").in_namespace(&ns),
                    req("list", "", "secrets").in_namespace(&ns),
                ];
                if let Some(g) = read.iter().find_map(|r| self.first_grant(&user, r)) {
                    out.push(EscalationPath {
                        subject: s.clone(),
                        technique: Technique::ReadServiceAccountTokenSecret,
                        target: Some(t.clone()),
                        steps: vec![
                            step(format!("{s} can read secrets in namespace {ns} via {g}"), Some(g)),
                            step(
                                format!(
                                    "a kubernetes.io/service-account-token secret of {t} holds its bearer token"
                                ),
                                None,
                            ),
                            admin_step(t, tg),
                        ],
                    });
                }
                let tok = sub("create", "", "serviceaccounts", "token")
                    .in_namespace(&ns)
                    .named(&t.name);
                if let Some(g) = self.first_grant(&user, &tok) {
                    out.push(EscalationPath {
                        subject: s.clone(),
                        technique: Technique::CreateServiceAccountToken,
                        target: Some(t.clone()),
                        steps: vec![
                            step(format!("{s} can request a token for {t} via {g}"), Some(g)),
                            admin_step(t, tg),
                        ],
                    });
                }
                let imp = req("impersonate", "", "serviceaccounts")
                    .in_namespace(&ns)
                    .named(&t.name);
                if let Some(g) = self.first_grant(&user, &imp) {
                    out.push(EscalationPath {
                        subject: s.clone(),
                        technique: Technique::Impersonate,
                        target: Some(t.clone()),
                        steps: vec![
                            step(format!("{s} can impersonate {t} via {g}"), Some(g)),
                            admin_step(t, tg),
                        ],
                    });
                }
            }
            // Impersonate system:masters.
            let imp_group = req("impersonate", "", "groups").named(SYSTEM_MASTERS);
            if let Some(g) = self.first_grant(&user, &imp_group) {
                out.push(EscalationPath {
                    subject: s.clone(),
                    technique: Technique::Impersonate,
                    target: Some(Subject::group(SYSTEM_MASTERS)),
                    steps: vec![
                        step(
                            format!("{s} can impersonate group {SYSTEM_MASTERS} via {g}"),
                            Some(g),
                        ),
                        step(format!("members of {SYSTEM_MASTERS} bypass RBAC"), None),
                    ],
                });
            }
            // Escalate: edit a ClusterRole bound to the subject.
            for (bi, _) in self.hits_for(&user) {
                let b = &self.bindings()[bi];
                if b.kind != BindingKind::ClusterRoleBinding
                    || b.role_ref.kind != crate::model::RoleKind::ClusterRole
                {
                    continue;
                }
                let name = &b.role_ref.name;
                let esc = req("escalate", RBAC_GROUP, "clusterroles").named(name);
                let Some(ge) = self.first_grant(&user, &esc) else {
                    continue;
                };
                let upd = ["update", "patch"].iter().find_map(|v| {
                    self.first_grant(&user, &req(v, RBAC_GROUP, "clusterroles").named(name))
                });
                if let Some(gu) = upd {
                    out.push(EscalationPath {
                        subject: s.clone(),
                        technique: Technique::EscalateOwnRole,
                        target: None,
                        steps: vec![
                            step(format!("{s} is bound to ClusterRole {name} by ClusterRoleBinding {}", b.name), None),
                            step(format!("{s} can update ClusterRole {name} via {gu}"), Some(gu)),
                            step(
                                format!("escalate on ClusterRole {name} via {ge} skips the escalation check, so a rule `*` on `*` can be added"),
                                Some(ge),
                            ),
                        ],
                    });
                    break;
                }
            }
            // Bind: bind oneself to a powerful ClusterRole.
            for role in &admin_roles {
                let bind = req("bind", RBAC_GROUP, "clusterroles").named(role);
                let Some(gb) = self.first_grant(&user, &bind) else {
                    continue;
                };
                let write = ["create", "update", "patch"].iter().find_map(|v| {
                    self.first_grant(&user, &req(v, RBAC_GROUP, "clusterrolebindings"))
                });
                if let Some(gw) = write {
                    out.push(EscalationPath {
                        subject: s.clone(),
                        technique: Technique::BindPowerfulRole,
                        target: None,
                        steps: vec![
                            step(format!("{s} can write ClusterRoleBindings via {gw}"), Some(gw)),
                            step(
                                format!("bind on ClusterRole {role} via {gb} lets it bind that role to itself"),
                                Some(gb),
                            ),
                            step(format!("ClusterRole {role} holds all verbs on all resources"), None),
                        ],
                    });
                    break;
                }
            }
            // nodes/proxy.
            let np = ["get", "create"]
                .iter()
                .find_map(|v| self.first_grant(&user, &sub(v, "", "nodes", "proxy")));
            if let Some(g) = np {
                let mut steps = vec![
                    step(format!("{s} can reach the kubelet API through nodes/proxy via {g}"), Some(g)),
                    step(
                        "the kubelet API can exec into any container on the node, bypassing pods/exec authorization"
                            .into(),
                        None,
                    ),
                ];
                let target = admin_sas.first().map(|(t, tg)| {
                    steps.push(step(
                        format!("exec into a pod running as {t} and use its token"),
                        None,
                    ));
                    steps.push(admin_step(t, tg));
                    t.clone()
                });
                out.push(EscalationPath {
                    subject: s.clone(),
                    technique: Technique::NodesProxy,
                    target,
                    steps,
                });
            }
            // CSR approval.
            let create_csr = self.first_grant(
                &user,
                &req("create", CERT_GROUP, "certificatesigningrequests"),
            );
            let approve_csr = self.first_grant(
                &user,
                &sub(
                    "update",
                    CERT_GROUP,
                    "certificatesigningrequests",
                    "approval",
                ),
            );
            let signer = ["kubernetes.io/kube-apiserver-client", "kubernetes.io/*"]
                .iter()
                .find_map(|n| {
                    self.first_grant(&user, &req("approve", CERT_GROUP, "signers").named(n))
                });
            if let (Some(gc), Some(ga), Some(gs)) = (create_csr, approve_csr, signer) {
                out.push(EscalationPath {
                    subject: s.clone(),
                    technique: Technique::ApproveCsr,
                    target: Some(Subject::group(SYSTEM_MASTERS)),
                    steps: vec![
                        step(
                            format!("{s} can create a CSR for signer kubernetes.io/kube-apiserver-client with O={SYSTEM_MASTERS} via {gc}"),
                            Some(gc),
                        ),
                        step(format!("{s} can approve it via {ga}"), Some(ga)),
                        step(format!("{s} may approve for the kube-apiserver-client signer via {gs}"), Some(gs)),
                        step(format!("the issued client certificate authenticates as a member of {SYSTEM_MASTERS}, which bypasses RBAC"), None),
                    ],
                });
            }
            // Mutating webhook.
            let wh = ["create", "update", "patch"].iter().find_map(|v| {
                self.first_grant(
                    &user,
                    &req(v, ADMISSION_GROUP, "mutatingwebhookconfigurations"),
                )
            });
            if let Some(g) = wh {
                let mut steps = vec![
                    step(format!("{s} can write MutatingWebhookConfigurations via {g}"), Some(g)),
                    step("a mutating webhook sees and can rewrite every matching object, e.g. every new pod".into(), None),
                ];
                let target = admin_sas.first().map(|(t, tg)| {
                    steps.push(step(format!("it can rewrite new pods to run as {t}"), None));
                    steps.push(admin_step(t, tg));
                    t.clone()
                });
                out.push(EscalationPath {
                    subject: s.clone(),
                    technique: Technique::MutatingWebhook,
                    target,
                    steps,
                });
            }
        }
        out
    }

    /// Service-account subjects whose ServiceAccount object is not in the inventory.
    /// `default` is assumed to exist in every namespace (the controller creates it).
    pub fn bindings_to_missing_service_accounts(&self) -> Vec<BindingSubject> {
        let known: std::collections::HashSet<(&str, &str)> = self
            .service_accounts()
            .iter()
            .map(|sa| (sa.namespace.as_str(), sa.name.as_str()))
            .collect();
        self.binding_subjects(|_, s| {
            s.kind == SubjectKind::ServiceAccount
                && s.name != "default"
                && !s
                    .namespace
                    .as_deref()
                    .is_some_and(|ns| known.contains(&(ns, s.name.as_str())))
        })
    }

    /// Bindings to `system:anonymous` or `system:unauthenticated`.
    pub fn anonymous_bindings(&self) -> Vec<BindingSubject> {
        self.binding_subjects(|_, s| {
            (s.kind == SubjectKind::User && s.name == SYSTEM_ANONYMOUS)
                || (s.kind == SubjectKind::Group && s.name == SYSTEM_UNAUTHENTICATED)
        })
    }

    /// Bindings whose subject is a namespace's `default` service account.
    pub fn default_service_account_bindings(&self) -> Vec<BindingSubject> {
        self.binding_subjects(|_, s| s.kind == SubjectKind::ServiceAccount && s.name == "default")
    }

    fn binding_subjects(&self, pred: impl Fn(&Rbac, &Subject) -> bool) -> Vec<BindingSubject> {
        let mut out = Vec::new();
        for b in self.bindings() {
            for s in &b.subjects {
                let rs = b.resolved_subject(s);
                if pred(self, &rs) {
                    out.push(BindingSubject {
                        binding_kind: b.kind,
                        binding_namespace: b.namespace.clone(),
                        binding_name: b.name.clone(),
                        role: format!("{:?}/{}", b.role_ref.kind, b.role_ref.name),
                        subject: rs,
                    });
                }
            }
        }
        out
    }
}

/// Risk detection counts rules restricted by `resourceNames` too (a grant on one
/// named secret is still a secret read).
fn without_names(r: &PolicyRule) -> std::borrow::Cow<'_, PolicyRule> {
    if r.resource_names.is_empty() {
        std::borrow::Cow::Borrowed(r)
    } else {
        let mut c = r.clone();
        c.resource_names.clear();
        std::borrow::Cow::Owned(c)
    }
}

/// The identity of exactly one subject, without implicit groups.
fn exact_identity(s: &Subject) -> UserInfo {
    match s.kind {
        SubjectKind::User => UserInfo::exact(&s.name, &[]),
        SubjectKind::Group => UserInfo::exact("", &[s.name.as_str()]),
        SubjectKind::ServiceAccount => {
            UserInfo::exact(&s.service_account_username().unwrap_or_default(), &[])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn role_risks(role: serde_json::Value) -> Vec<RiskKind> {
        let rbac = Rbac::from_objects([&role]);
        let r = &rbac.roles()[0];
        rbac.role_risks(r).into_iter().map(|x| x.kind).collect()
    }

    #[test]
    fn a_role_is_judged_by_its_own_rules() {
        let cr = json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"x"},
            "rules":[{"apiGroups":[""],"resources":["secrets"],"resourceNames":["one"],"verbs":["get"]},
                     {"apiGroups":[""],"resources":["nodes/proxy"],"verbs":["get"]},
                     {"apiGroups":["certificates.k8s.io"],"resources":["certificatesigningrequests/approval"],"verbs":["update"]}]});
        // A named grant is still a grant; CSR approval needs `approve` on a signer too.
        assert_eq!(
            role_risks(cr),
            vec![RiskKind::SecretRead, RiskKind::NodesProxy]
        );
        // A namespaced Role cannot grant cluster-scoped resources.
        let role = json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"x","namespace":"a"},
            "rules":[{"apiGroups":[""],"resources":["nodes/proxy"],"verbs":["get"]},
                     {"apiGroups":[""],"resources":["pods/exec"],"verbs":["create"]}]});
        assert_eq!(role_risks(role), vec![RiskKind::PodExec]);
        // Everything: only ClusterAdmin.
        let admin = json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"x"},
            "rules":[{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}]});
        assert_eq!(role_risks(admin), vec![RiskKind::ClusterAdmin]);
        // Every resource of groups that hold no pods grants no exec, attach or secrets.
        let apps = json!({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"x"},
            "rules":[{"apiGroups":["apps","batch"],"resources":["*"],"verbs":["*"]}]});
        let risks = role_risks(apps);
        assert!(
            !risks.contains(&RiskKind::PodExec)
                && !risks.contains(&RiskKind::PodAttach)
                && !risks.contains(&RiskKind::SecretRead),
            "{risks:?}"
        );
    }
}
