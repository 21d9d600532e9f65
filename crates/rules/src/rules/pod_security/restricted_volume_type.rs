use super::pss_check;
use palisade_core::{Context, Object, PssLevel, Rule};

declare_rule! {
    /// ## What it checks
    /// Pods with volumes other than `configMap`, `csi`, `downwardAPI`, `emptyDir`, `ephemeral`,
    /// `persistentVolumeClaim`, `projected` and `secret` (for example `nfs`, `iscsi`, `rbd`, `hostPath`, `gitRepo`).
    ///
    /// Same semantics as the upstream Pod Security Admission check `restrictedVolumes` at the scan's policy
    /// version (`--pss-version`, default `latest`); the finding carries the check id and PSA's message.
    ///
    /// ## Why it matters
    /// Other volume types are mounted by the node with the node's credentials and network access, outside the
    /// controls that PersistentVolumeClaims give administrators.
    ///
    /// ## How to fix
    /// Use a PersistentVolumeClaim backed by a StorageClass, or a CSI volume.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    /// - name: data
    ///   nfs: { server: 10.0.0.4, path: /exports }
    /// ```
    ///
    /// ## Use instead
    /// ```yaml
    /// volumes:
    /// - name: data
    ///   persistentVolumeClaim: { claimName: data }
    /// ```
    pub(crate) struct RestrictedVolumeType;
    id: "POD018",
    name: "restricted-volume-type",
    severity: Medium,
    summary: "Pod uses a volume type outside the restricted set",
    references: ["cis:5.7.3", "nsa:pod-security", "nist:4.4.3", "owasp:K01", "pss:restrictedVolumes", "book:ops.pod-security-policy"],
    tags: ["pss", "restricted"],
    level: Some(PssLevel::Restricted),
    scope: Object,
    kinds: palisade_core::podspec::WORKLOAD_KINDS,
    options: &[],
}

impl Rule for RestrictedVolumeType {
    fn meta(&self) -> &'static palisade_core::RuleMeta {
        &Self::META
    }

    fn check(&self, object: &Object, cx: &mut Context<'_>) {
        pss_check("restrictedVolumes", "use persistentVolumeClaim, configMap, secret, projected, emptyDir, csi, downwardAPI or ephemeral volumes", object, cx);
    }
}
