use palisade_core::{Context, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Rules of Roles and ClusterRoles whose `verbs`, `resources` or `apiGroups` contain `*`
    /// (reported as high when both verbs and resources do).
    /// Kubernetes' own roles (`cluster-admin`, `system:*`) are not reported; aggregated ClusterRoles are judged by
    /// their own rules.
    ///
    /// ## Why it matters
    /// A wildcard grants what exists today and everything added later: new resources, API groups, CRDs and subresources such as
    /// `pods/exec` or `secrets` come with it. It makes least privilege unreviewable.
    ///
    /// ## How to fix
    /// List the verbs and resources the subject uses.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    /// - apiGroups: ["*"]
    ///   resources: ["*"]
    ///   verbs: ["*"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// rules:
    /// - apiGroups: ["apps"]
    ///   resources: ["deployments"]
    ///   verbs: ["get", "list", "watch", "patch"]
    /// ```
    pub(crate) struct WildcardRbacRule;
    id: "RBAC002",
    name: "wildcard-rbac-rule",
    severity: Medium,
    summary: "Role or ClusterRole grants `*` verbs, resources or API groups",
    references: ["cis:5.1.3", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac"],
    tags: ["rbac"],
    level: None,
    scope: Object,
    kinds: &["Role", "ClusterRole"],
    options: &[],
}

impl Rule for WildcardRbacRule {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &palisade_core::Object, cx: &mut Context<'_>) {
        if !matches!(object.kind.as_str(), "Role" | "ClusterRole")
            || object.group() != "rbac.authorization.k8s.io"
            || object.name == "cluster-admin"
            || object.name.starts_with("system:")
        {
            return;
        }
        let Some(rules) = object.pointer("/rules").and_then(Value::as_array) else {
            return;
        };
        for (i, r) in rules.iter().enumerate() {
            let has = |field: &str| {
                r.get(field)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("*")))
            };
            let (verbs, resources, groups) = (has("verbs"), has("resources"), has("apiGroups"));
            if !verbs && !resources && !groups {
                continue;
            }
            let mut what = Vec::new();
            if verbs {
                what.push("every verb");
            }
            if resources {
                what.push("every resource");
            }
            if groups {
                what.push("every API group");
            }
            let field = if verbs {
                "verbs"
            } else if resources {
                "resources"
            } else {
                "apiGroups"
            };
            let f = cx
                .report(
                    format!("/rules/{i}/{field}"),
                    format!(
                        "{} {} rule #{i} grants {} (`*`)",
                        object.kind,
                        object.name,
                        what.join(", ")
                    ),
                )
                .fix("list the verbs, resources and API groups the role's subjects use");
            if verbs && resources {
                f.severity(palisade_core::Severity::High);
            }
        }
    }
}
