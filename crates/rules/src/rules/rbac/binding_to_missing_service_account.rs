use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Bindings whose ServiceAccount subject is not among the scanned ServiceAccounts, in namespaces whose
    /// ServiceAccounts the scan includes (a Namespace object or at least one ServiceAccount of that namespace is
    /// scanned; `default` always exists). Scanning one application's manifests does not report the service
    /// accounts of namespaces it does not contain.
    ///
    /// ## Why it matters
    /// A dangling binding waits for its subject: whoever later creates a service account of that name (a new team,
    /// an attacker with `create serviceaccounts`) inherits the permissions.
    ///
    /// ## How to fix
    /// Delete the binding, or create the service account it was meant for.
    ///
    /// ## Example
    /// ```yaml
    /// subjects:
    /// - {kind: ServiceAccount, name: old-deployer, namespace: ci}
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// subjects:
    /// - {kind: ServiceAccount, name: deployer, namespace: ci}
    /// ```
    pub(crate) struct BindingToMissingServiceAccount;
    id: "RBAC008",
    name: "binding-to-missing-service-account",
    severity: Low,
    summary: "Binding names a service account that does not exist",
    references: ["nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for BindingToMissingServiceAccount {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::ClusterAbsence
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        let rbac = rbac(inv);
        let with_accounts: std::collections::HashSet<&str> = inv
            .of_kind("ServiceAccount")
            .filter_map(|(_, o)| o.namespace.as_deref())
            .collect();
        let known =
            |ns: &str| inv.find("Namespace", None, ns).is_some() || with_accounts.contains(ns);
        let dangling: Vec<_> = rbac
            .bindings_to_missing_service_accounts()
            .into_iter()
            .filter(|b| b.subject.namespace.as_deref().is_some_and(known))
            .collect();
        report_binding_subjects(inv, cx, &dangling, |b| {
            format!(
                "{} {} binds {} to missing {}",
                kind_name(b),
                b.binding_name,
                b.role,
                b.subject
            )
        });
    }
}
