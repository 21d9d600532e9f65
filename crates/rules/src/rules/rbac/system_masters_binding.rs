use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// RoleBindings and ClusterRoleBindings with the group `system:masters` among their
    /// subjects. Kubernetes' own `cluster-admin` ClusterRoleBinding (which binds that group
    /// to `cluster-admin` by design) and bindings named `system:*` are not reported.
    ///
    /// ## Why it matters
    /// Members of `system:masters` bypass authorization entirely: no binding, RBAC rule or
    /// authorization webhook applies to them, and their credentials (client certificates
    /// with `O=system:masters`) cannot be revoked short of rotating the cluster's CA. A
    /// binding that names the group grants nothing more; it shows that someone treats it as
    /// an ordinary group to put people or automation in, which is the problem. kubeadm
    /// (1.29+) and managed platforms issue admin credentials in a group bound to
    /// `cluster-admin` instead, so access can be withdrawn by deleting a binding.
    ///
    /// ## How to fix
    /// Bind a group of your own (`platform-admins`) to the role, issue credentials in that
    /// group, and keep `system:masters` for break-glass credentials only.
    ///
    /// ## Example
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops }
    /// subjects:
    /// - { kind: Group, apiGroup: rbac.authorization.k8s.io, name: "system:masters" }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: ClusterRoleBinding
    /// roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops }
    /// subjects:
    /// - { kind: Group, apiGroup: rbac.authorization.k8s.io, name: platform-admins }
    /// ```
    pub(crate) struct SystemMastersBinding;
    id: "RBAC012",
    name: "system-masters-binding",
    severity: Medium,
    summary: "Binding names the system:masters group",
    references: ["cis:5.1.7", "cis:5.1.1", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.identity", "book:ops.rbac"],
    tags: ["rbac"],
    level: None,
    scope: Object,
    kinds: &["RoleBinding", "ClusterRoleBinding"],
    options: &[],
}

impl Rule for SystemMastersBinding {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if !matches!(object.kind.as_str(), "RoleBinding" | "ClusterRoleBinding")
            || object.group() != "rbac.authorization.k8s.io"
            || object.name.starts_with("system:")
        {
            return;
        }
        let role = object
            .pointer("/roleRef/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        if object.kind == "ClusterRoleBinding"
            && object.name == "cluster-admin"
            && role == "cluster-admin"
        {
            return;
        }
        let Some(subjects) = object.pointer("/subjects").and_then(Value::as_array) else {
            return;
        };
        for (i, s) in subjects.iter().enumerate() {
            if s.get("kind").and_then(Value::as_str) == Some("Group")
                && s.get("name").and_then(Value::as_str) == Some("system:masters")
            {
                cx.report(
                    format!("/subjects/{i}"),
                    format!(
                        "{} {} binds the group system:masters (to {role}), whose members bypass authorization and cannot be revoked",
                        object.kind, object.name
                    ),
                )
                .fix("bind a group of your own and issue credentials in it; keep system:masters for break-glass only");
            }
        }
    }
}
