use palisade_core::{Context, Object, Rule};
use serde_json::Value;

declare_rule! {
    /// ## What it checks
    /// Namespaces whose `pod-security.kubernetes.io/enforce` label is absent, set to
    /// `privileged`, or not a valid level (Pod Security Admission then enforces nothing).
    /// Namespaces that audit or warn at a level but do not enforce it are named as such: the
    /// rollout has started and is waiting for its deny step.
    ///
    /// ## Why it matters
    /// Pod Security Admission is the API server's built-in guardrail: without an `enforce`
    /// label any pod, privileged or host-mounting, is admitted into the namespace, whatever the
    /// manifests in git say. The recommended path is audit first, then enforce; this rule
    /// measures how far that path has gone. `palisade scan --preview-enforce restricted` lists
    /// what enforcing would reject before anyone flips the switch.
    ///
    /// ## How to fix
    /// Label the namespace with `pod-security.kubernetes.io/enforce: baseline` (or `restricted`)
    /// and pin `enforce-version`. Give namespaces that must stay privileged (CNI, CSI, node
    /// agents) an exception with an owner and an expiry date.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// kind: Namespace
    /// metadata:
    ///   name: shop
    ///   labels:
    ///     pod-security.kubernetes.io/enforce: restricted
    ///     pod-security.kubernetes.io/enforce-version: v1.33
    /// ```
    pub(crate) struct NamespaceWithoutEnforcement;
    id: "POD020",
    name: "namespace-without-pss-enforcement",
    severity: Medium,
    summary: "Namespace does not enforce a Pod Security Standards level",
    references: ["cis:5.2.1", "nsa:pod-security", "nist:4.3.4", "owasp:K04", "book:ops.pod-security-policy", "book:workload.governance-at-scale"],
    tags: ["pss", "namespace"],
    level: None,
    scope: Object,
    kinds: &["Namespace"],
    options: &[],
}

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

impl Rule for NamespaceWithoutEnforcement {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        if object.kind != "Namespace" || !object.group().is_empty() {
            return;
        }
        let labels = object
            .pointer("/metadata/labels")
            .and_then(Value::as_object);
        let label = |mode: &str| {
            labels
                .and_then(|l| l.get(&format!("pod-security.kubernetes.io/{mode}")))
                .and_then(Value::as_str)
        };
        let staged: Vec<String> = ["audit", "warn"]
            .into_iter()
            .filter_map(|m| {
                label(m)
                    .filter(|l| *l != "privileged")
                    .map(|l| format!("{m}={l}"))
            })
            .collect();
        let staged = if staged.is_empty() {
            String::new()
        } else {
            format!(
                "; it already has {} (enforce it once the findings are fixed)",
                staged.join(", ")
            )
        };
        let (path, problem) = match label("enforce") {
            None => (
                if labels.is_some() {
                    "/metadata/labels"
                } else {
                    "/metadata"
                },
                "has no pod-security.kubernetes.io/enforce label".to_owned(),
            ),
            Some("baseline" | "restricted") => return,
            Some("privileged") => (
                "/metadata/labels/pod-security.kubernetes.io~1enforce",
                "enforces privileged".to_owned(),
            ),
            Some(other) => (
                "/metadata/labels/pod-security.kubernetes.io~1enforce",
                format!("has an invalid enforce level \"{other}\" (treated as privileged)"),
            ),
        };
        cx.report(
            path.to_owned(),
            format!("namespace {} {problem}{staged}", object.name),
        )
        .fix(format!(
            "label the namespace {ENFORCE}=baseline or restricted, with {ENFORCE}-version"
        ));
    }
}
