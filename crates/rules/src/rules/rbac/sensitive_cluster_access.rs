use super::*;
use palisade_core::{Context, Inventory, Rule};

declare_rule! {
    /// ## What it checks
    /// Subjects granted `nodes/proxy` (the kubelet API), approval of CertificateSigningRequests (`update` on
    /// `certificatesigningrequests/approval` with `approve` on a signer), write access to validating or mutating
    /// webhook configurations, or `create` on `serviceaccounts/token`.
    ///
    /// ## Why it matters
    /// Each is a known path around RBAC: the kubelet API runs commands in any pod of the node without audit of the
    /// exec; an approved CSR can carry `system:masters`; a webhook sees (and can rewrite or switch off checks for)
    /// every object; minted tokens impersonate service accounts.
    ///
    /// ## How to fix
    /// Keep these permissions to the control plane's own components and the platform team's automation.
    ///
    /// ## Example
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["nodes/proxy"]
    ///   verbs: ["get", "create"]
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// rules:
    /// - apiGroups: [""]
    ///   resources: ["nodes"]
    ///   verbs: ["get", "list"]
    /// ```
    pub(crate) struct SensitiveClusterAccess;
    id: "RBAC009",
    name: "sensitive-cluster-access",
    severity: High,
    summary: "Subject can use nodes/proxy, approve CSRs, write admission webhooks or mint tokens",
    references: ["cis:5.1.10", "cis:5.1.11", "cis:5.1.13", "nsa:authentication-authorization", "nist:4.3.1", "owasp:K03", "book:ops.rbac", "book:ops.control-plane-access"],
    tags: ["rbac"],
    level: None,
    scope: Inventory,
    kinds: RBAC_KINDS,
    options: &[],
}

impl Rule for SensitiveClusterAccess {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn admission_needs(&self) -> palisade_core::AdmissionNeeds {
        palisade_core::AdmissionNeeds::Cluster
    }

    fn check_inventory(&self, inv: &Inventory, cx: &mut Context<'_>) {
        report_risks(
            inv,
            cx,
            &[
                RiskKind::NodesProxy,
                RiskKind::CsrApprove,
                RiskKind::WebhookConfigWrite,
                RiskKind::ServiceAccountTokenCreate,
            ],
        );
    }
}
