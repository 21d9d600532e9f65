//! The one table of fixes: which rules have one, how safe it is, what it does (the text the
//! rule's documentation and `palisade explain` show) and the edits it makes to an object.
//!
//! Each plan mirrors its rule's check, so that the edits clear the finding; where a finding
//! cannot be cleared without information Palisade does not have, or without changing what
//! the workload is allowed to do beyond the rule's point, the plan says so instead.

use crate::edit::Op;
use palisade_core::podspec::Container;
use palisade_core::{Inventory, Object, PodTemplate};
use serde_json::{json, Value};

/// How much a fix can be trusted to apply unattended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Safety {
    /// Applied by `palisade fix`: the setting cannot break a workload that passes its rule's
    /// intent, and it clears the finding.
    Safe,
    /// Applied only with `--unsafe`: it clears the finding but can break some applications.
    Unsafe,
    /// Never applied: needs information Palisade does not have; shown (with `--unsafe`) as a
    /// suggestion with a placeholder.
    Suggestion,
}

impl Safety {
    /// The word the docs and the CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::Unsafe => "unsafe",
            Safety::Suggestion => "suggestion",
        }
    }
}

/// What a fix would do to one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// These edits clear the finding.
    Edits(Vec<Op>),
    /// No exact fix for this object: why, and what to do by hand.
    Manual(String),
    /// A suggestion that needs a value only the user knows (never applied).
    Suggest(String),
}

/// A rule's fix.
pub struct RuleFix {
    /// The rule id.
    pub rule: &'static str,
    /// How safe.
    pub safety: Safety,
    /// What the fix does, in one or two sentences of Markdown (shown in the rule's docs and
    /// by `palisade explain`).
    pub text: &'static str,
    /// When the fix is not applied, and why.
    pub limits: &'static str,
    /// Rules that skip what this fix changes, and so may report the object once it is fixed
    /// (the fix does not create their problem: it stops hiding it).
    pub unmasks: &'static [&'static str],
    plan: fn(&Object, Option<&Inventory>) -> Plan,
}

impl std::fmt::Debug for RuleFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleFix")
            .field("rule", &self.rule)
            .field("safety", &self.safety)
            .finish()
    }
}

impl RuleFix {
    /// The plan for one object the rule reported (the inventory, when known, is the rest of
    /// the scanned objects).
    pub fn plan(&self, object: &Object, inventory: Option<&Inventory>) -> Plan {
        (self.plan)(object, inventory)
    }

    /// The "Automatic fix" section of the rule's documentation (without its heading).
    pub fn doc(&self) -> String {
        let how = match self.safety {
            Safety::Safe => "`palisade fix` applies it (safe)",
            Safety::Unsafe => "`palisade fix --unsafe` applies it (not applied by default: it can break some applications)",
            Safety::Suggestion => "never applied: `palisade fix --unsafe` prints it as a suggestion with a placeholder to fill in",
        };
        format!("{}\n\n{how}. {}\n", self.text, self.limits)
    }
}

/// Every fix, by rule id.
pub static FIXES: &[RuleFix] = &[
    RuleFix {
        rule: "POD001",
        safety: Safety::Safe,
        text: "Sets `securityContext.privileged: false` on every container (regular, init, ephemeral) that sets it to `true`.",
        limits: "Grant the container the capabilities it really needs by hand afterwards. POD021 (writable-root-filesystem) skips privileged containers: once the container is no longer privileged it may report it.",
        unmasks: &["POD021"],
        plan: privileged,
    },
    RuleFix {
        rule: "POD002",
        safety: Safety::Safe,
        text: "Adds `securityContext.allowPrivilegeEscalation: false` to every container (regular, init, ephemeral) that does not set it to `false`, creating the `securityContext` where it is missing.",
        limits: "Not applied to a container that stays privileged or adds `SYS_ADMIN` (the API server rejects `allowPrivilegeEscalation: false` with either).",
        unmasks: &[],
        plan: privilege_escalation,
    },
    RuleFix {
        rule: "POD008",
        safety: Safety::Safe,
        text: "Adds `ALL` to `securityContext.capabilities.drop` of every container that does not drop all capabilities, creating the list where it is missing; capabilities the container adds are kept.",
        limits: "Not applied when a container adds a capability other than `NET_BIND_SERVICE`: removing it is a decision for the workload's owner.",
        unmasks: &[],
        plan: drop_all_capabilities,
    },
    RuleFix {
        rule: "POD016",
        safety: Safety::Safe,
        text: "Sets `securityContext.seccompProfile.type: RuntimeDefault` on the pod (and on a container whose `seccompProfile` has no type).",
        limits: "Not applied when the pod or a container explicitly sets another profile type (such as `Unconfined`): that is a choice to review by hand.",
        unmasks: &[],
        plan: seccomp_runtime_default,
    },
    RuleFix {
        rule: "IMG003",
        safety: Safety::Safe,
        text: "Sets `imagePullPolicy: Always` on every container whose image has a mutable tag and is pulled with another policy.",
        limits: "Pinning the image by digest is the better fix; it needs the digest, which only the registry knows.",
        unmasks: &[],
        plan: pull_always,
    },
    RuleFix {
        rule: "SEC001",
        safety: Safety::Safe,
        text: "Sets `automountServiceAccountToken: false` in the pod spec of a workload that runs as the namespace's `default` service account.",
        limits: "Applied only where nothing suggests the pod talks to the API: not when the pod names its own service account, sets `automountServiceAccountToken: true`, mounts a token (a projected `serviceAccountToken` or the token path), or when a RoleBinding or ClusterRoleBinding in the scanned objects grants the `default` service account anything.",
        unmasks: &[],
        plan: no_token_automount,
    },
    RuleFix {
        rule: "POD021",
        safety: Safety::Unsafe,
        text: "Sets `securityContext.readOnlyRootFilesystem: true` on every non-privileged container that does not set it.",
        limits: "An application that writes outside its volumes fails after this change: mount an `emptyDir` where it writes.",
        unmasks: &[],
        plan: read_only_root,
    },
    RuleFix {
        rule: "POD003",
        safety: Safety::Suggestion,
        text: "Suggests `securityContext.runAsNonRoot: true` with `runAsUser: <UID>` on the pod.",
        limits: "The UID the image runs as is not in the manifest.",
        unmasks: &[],
        plan: run_as_non_root,
    },
    RuleFix {
        rule: "IMG002",
        safety: Safety::Suggestion,
        text: "Suggests pinning each image by digest: `image: NAME@sha256:<DIGEST>`.",
        limits: "The digest is only known to the registry (`crane digest IMAGE` or `docker buildx imagetools inspect IMAGE` prints it).",
        unmasks: &[],
        plan: pin_digest,
    },
];

/// The fix of a rule, if it has one.
pub fn fix_for(rule: &str) -> Option<&'static RuleFix> {
    FIXES.iter().find(|f| f.rule == rule)
}

/// Splits an absolute JSON pointer (`/spec/template`) plus more segments into a path.
fn path(base: &str, rest: &[&str]) -> Vec<String> {
    base.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .chain(rest.iter().map(|s| (*s).to_owned()))
        .collect()
}

fn container_path(c: &Container<'_>, base: &str, rest: &[&str]) -> Vec<String> {
    let index = c.index.to_string();
    let mut segs = vec!["spec", c.kind.field(), index.as_str()];
    segs.extend_from_slice(rest);
    path(base, &segs)
}

fn pod_of(object: &Object) -> Option<PodTemplate<'_>> {
    PodTemplate::of(object)
}

fn privileged(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    let ops: Vec<Op> = pod
        .containers()
        .filter(|c| c.security("privileged").and_then(Value::as_bool) == Some(true))
        .map(|c| Op::Set {
            path: container_path(&c, pod.base, &["securityContext", "privileged"]),
            value: json!(false),
        })
        .collect();
    Plan::Edits(ops)
}

fn adds(c: &Container<'_>) -> Vec<String> {
    c.value
        .pointer("/securityContext/capabilities/add")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn privilege_escalation(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    let mut ops = Vec::new();
    for c in pod.containers() {
        if c.security("allowPrivilegeEscalation")
            .and_then(Value::as_bool)
            == Some(false)
        {
            continue;
        }
        if c.security("privileged").and_then(Value::as_bool) == Some(true) {
            return Plan::Manual(format!(
                "{} is privileged: remove `privileged: true` first (POD001)",
                c.describe()
            ));
        }
        if adds(&c)
            .iter()
            .any(|a| a == "SYS_ADMIN" || a == "CAP_SYS_ADMIN")
        {
            return Plan::Manual(format!(
                "{} adds SYS_ADMIN, which the API server does not allow with allowPrivilegeEscalation: false",
                c.describe()
            ));
        }
        ops.push(Op::Set {
            path: container_path(
                &c,
                pod.base,
                &["securityContext", "allowPrivilegeEscalation"],
            ),
            value: json!(false),
        });
    }
    Plan::Edits(ops)
}

fn drop_all_capabilities(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    let mut ops = Vec::new();
    for c in pod.containers() {
        let forbidden: Vec<String> = adds(&c)
            .into_iter()
            .filter(|a| a != "NET_BIND_SERVICE")
            .collect();
        if !forbidden.is_empty() {
            return Plan::Manual(format!(
                "{} adds {}: remove what it does not need by hand",
                c.describe(),
                forbidden.join(", ")
            ));
        }
        let caps = c.value.pointer("/securityContext/capabilities");
        let drop = caps.and_then(|v| v.get("drop"));
        if drop
            .and_then(Value::as_array)
            .is_some_and(|d| d.iter().any(|v| v.as_str() == Some("ALL")))
        {
            continue;
        }
        let p = container_path(&c, pod.base, &["securityContext", "capabilities", "drop"]);
        ops.push(match drop {
            Some(d) if !d.is_array() && !d.is_null() => Op::Set {
                path: p,
                value: json!(["ALL"]),
            },
            _ => Op::Include {
                path: p,
                item: json!("ALL"),
            },
        });
    }
    Plan::Edits(ops)
}

fn valid_seccomp(t: &str) -> bool {
    t == "RuntimeDefault" || t == "Localhost"
}

fn seccomp_runtime_default(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    let mut ops = Vec::new();
    let type_of = |p: &Value| {
        p.get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    // A profile naming a localhostProfile without a type is meant to be Localhost, which
    // needs the profile on the node: not a change to make blind.
    let localhost = |p: &Value| p.get("localhostProfile").is_some_and(|v| !v.is_null());
    let pod_profile = pod.security_context().get("seccompProfile");
    let pod_set = match pod_profile.filter(|v| !v.is_null()) {
        Some(p) => {
            let t = type_of(p);
            if t.is_empty() && localhost(p) {
                return Plan::Manual(
                    "the pod's seccompProfile names a localhostProfile without a type: set `type: Localhost` by hand".into(),
                );
            }
            if !t.is_empty() && !valid_seccomp(&t) {
                return Plan::Manual(format!(
                    "the pod sets seccompProfile.type {t}: change it by hand"
                ));
            }
            if t.is_empty() {
                ops.push(Op::Set {
                    path: path(
                        pod.base,
                        &["spec", "securityContext", "seccompProfile", "type"],
                    ),
                    value: json!("RuntimeDefault"),
                });
            }
            true
        }
        None => false,
    };
    let mut implicit = false;
    for c in pod.containers() {
        match c.security("seccompProfile").filter(|v| !v.is_null()) {
            Some(p) => {
                let t = type_of(p);
                if t.is_empty() && localhost(p) {
                    return Plan::Manual(format!(
                        "{} names a localhostProfile without a type: set `type: Localhost` by hand",
                        c.describe()
                    ));
                }
                if t.is_empty() {
                    ops.push(Op::Set {
                        path: container_path(
                            &c,
                            pod.base,
                            &["securityContext", "seccompProfile", "type"],
                        ),
                        value: json!("RuntimeDefault"),
                    });
                } else if !valid_seccomp(&t) {
                    return Plan::Manual(format!(
                        "{} sets seccompProfile.type {t}: change it by hand",
                        c.describe()
                    ));
                }
            }
            None => implicit = true,
        }
    }
    if implicit && !pod_set {
        ops.push(Op::Set {
            path: path(
                pod.base,
                &["spec", "securityContext", "seccompProfile", "type"],
            ),
            value: json!("RuntimeDefault"),
        });
    }
    Plan::Edits(ops)
}

fn pull_always(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    let mut ops = Vec::new();
    for c in pod.containers() {
        let image = c.image().trim();
        let Ok(parsed) = palisade_core::ImageRef::parse(image) else {
            continue;
        };
        if parsed.is_pinned() {
            continue;
        }
        match c.get("imagePullPolicy").and_then(Value::as_str) {
            Some("Always") => continue,
            None if parsed.is_latest() => continue,
            _ => {}
        }
        ops.push(Op::Set {
            path: container_path(&c, pod.base, &["imagePullPolicy"]),
            value: json!("Always"),
        });
    }
    Plan::Edits(ops)
}

/// The path kubelet mounts the service account token at.
const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

fn no_token_automount(object: &Object, inventory: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual(
            "set `automountServiceAccountToken: false` on the ServiceAccount by hand".into(),
        );
    };
    if pod
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return Plan::Manual("the pod asks for the token explicitly".into());
    }
    let sa = pod
        .get("serviceAccountName")
        .or_else(|| pod.get("serviceAccount"))
        .and_then(Value::as_str)
        .unwrap_or("default");
    if sa != "default" {
        return Plan::Manual(format!(
            "the pod runs as service account `{sa}`, which may need the API: decide by hand"
        ));
    }
    let projected_token = pod.volumes().any(|(_, v)| {
        v.pointer("/projected/sources")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|s| s.get("serviceAccountToken").is_some()))
    });
    let mounts_token = pod.containers().any(|c| {
        c.get("volumeMounts")
            .and_then(Value::as_array)
            .is_some_and(|m| {
                m.iter().any(|m| {
                    m.get("mountPath")
                        .and_then(Value::as_str)
                        .is_some_and(|p| p.trim_end_matches('/').starts_with(TOKEN_DIR))
                })
            })
    });
    if projected_token || mounts_token {
        return Plan::Manual("the pod mounts a service account token".into());
    }
    let ns = object.namespace.as_deref().unwrap_or("default");
    if let Some(inv) = inventory {
        let bound = ["RoleBinding", "ClusterRoleBinding"].iter().any(|kind| {
            inv.of_kind(kind).any(|(_, b)| {
                (*kind == "ClusterRoleBinding" || b.namespace.as_deref().unwrap_or("default") == ns)
                    && b.value()
                        .get("subjects")
                        .and_then(Value::as_array)
                        .is_some_and(|s| s.iter().any(|s| names_default_sa(s, ns, b)))
            })
        });
        if bound {
            return Plan::Manual(format!(
                "a binding grants the `default` service account of `{ns}` permissions: it may use the API"
            ));
        }
    }
    Plan::Edits(vec![Op::Set {
        path: path(pod.base, &["spec", "automountServiceAccountToken"]),
        value: json!(false),
    }])
}

/// Whether a binding subject covers the `default` service account of `ns`.
fn names_default_sa(s: &Value, ns: &str, binding: &Object) -> bool {
    let kind = s.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = s.get("name").and_then(Value::as_str).unwrap_or("");
    match kind {
        "ServiceAccount" => {
            let sns = s
                .get("namespace")
                .and_then(Value::as_str)
                .or(binding.namespace.as_deref())
                .unwrap_or("default");
            name == "default" && sns == ns
        }
        "Group" => {
            name == "system:serviceaccounts"
                || name == format!("system:serviceaccounts:{ns}")
                || name == "system:authenticated"
        }
        _ => false,
    }
}

fn read_only_root(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    let ops = pod
        .containers()
        .filter(|c| c.security("privileged").and_then(Value::as_bool) != Some(true))
        .filter(|c| c.security("readOnlyRootFilesystem") != Some(&Value::Bool(true)))
        .map(|c| Op::Set {
            path: container_path(&c, pod.base, &["securityContext", "readOnlyRootFilesystem"]),
            value: json!(true),
        })
        .collect();
    Plan::Edits(ops)
}

fn run_as_non_root(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    Plan::Suggest(format!(
        "set `{}` to `{{runAsNonRoot: true, runAsUser: <UID>}}`, with the UID the image runs as, and remove `runAsNonRoot: false` from containers",
        pod.spec_pointer("/securityContext")
    ))
}

fn pin_digest(object: &Object, _: Option<&Inventory>) -> Plan {
    let Some(pod) = pod_of(object) else {
        return Plan::Manual("not a workload".into());
    };
    let images: Vec<String> = pod
        .containers()
        .filter(|c| palisade_core::ImageRef::parse(c.image().trim()).is_ok_and(|i| !i.is_pinned()))
        .map(|c| {
            format!(
                "`{}`: `{}@sha256:<DIGEST>`",
                c.pointer("/image"),
                c.image().trim()
            )
        })
        .collect();
    Plan::Suggest(format!("pin by digest: {}", images.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use palisade_core::SpanIndex;

    fn pod(spec: Value) -> Object {
        Object::from_value(
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}),
            None,
            SpanIndex::default(),
        )
        .unwrap()
    }

    #[test]
    fn seccomp_leaves_explicit_choices_alone() {
        let fix = fix_for("POD016").unwrap();
        let p = pod(
            json!({"containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]}),
        );
        assert!(matches!(fix.plan(&p, None), Plan::Manual(m) if m.contains("Unconfined")));
        let p = pod(
            json!({"securityContext": {"seccompProfile": {"localhostProfile": "x.json"}}, "containers": [{"name": "a"}]}),
        );
        assert!(matches!(fix.plan(&p, None), Plan::Manual(m) if m.contains("localhostProfile")));
        let p = pod(json!({"containers": [{"name": "a"}]}));
        assert_eq!(
            fix.plan(&p, None),
            Plan::Edits(vec![Op::Set {
                path: vec![
                    "spec".into(),
                    "securityContext".into(),
                    "seccompProfile".into(),
                    "type".into()
                ],
                value: json!("RuntimeDefault"),
            }])
        );
    }

    #[test]
    fn token_automount_is_conservative() {
        let fix = fix_for("SEC001").unwrap();
        let p = pod(json!({"containers": [{"name": "a"}]}));
        assert!(matches!(fix.plan(&p, None), Plan::Edits(_)));
        let p = pod(json!({"serviceAccountName": "robot", "containers": [{"name": "a"}]}));
        assert!(matches!(fix.plan(&p, None), Plan::Manual(_)));
        let p = pod(
            json!({"containers": [{"name": "a", "volumeMounts": [{"name": "t", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}]}]}),
        );
        assert!(matches!(fix.plan(&p, None), Plan::Manual(_)));
        // A binding that grants the default service account something.
        let binding = Object::from_value(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "b", "namespace": "default"},
                   "subjects": [{"kind": "ServiceAccount", "name": "default"}],
                   "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"}}),
            None,
            SpanIndex::default(),
        )
        .unwrap();
        let inv = Inventory::new(vec![binding]);
        let p = pod(json!({"containers": [{"name": "a"}]}));
        assert!(matches!(fix.plan(&p, Some(&inv)), Plan::Manual(m) if m.contains("binding")));
    }
}
