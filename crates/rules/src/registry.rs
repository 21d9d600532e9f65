//! The single table of rules. Ids are stable forever; a retired id is never reused.

use crate::rules::{
    control_plane, images, network, node, platform, pod_security, rbac, reliability, secrets,
    versions,
};
use palisade_core::{Rule, RuleMeta};

/// Every rule, in id order.
pub static RULES: &[&dyn Rule] = &[
    &control_plane::insecure_api_server_flags::InsecureApiServerFlags,
    &control_plane::insecure_controller_manager_flags::InsecureControllerManagerFlags,
    &control_plane::insecure_scheduler_flags::InsecureSchedulerFlags,
    &control_plane::insecure_etcd_flags::InsecureEtcdFlags,
    &images::mutable_image_tag::MutableImageTag,
    &images::unpinned_image_digest::UnpinnedImageDigest,
    &images::pull_policy_not_always::PullPolicyNotAlways,
    &images::registry_not_allowed::RegistryNotAllowed,
    &images::public_registry_image::PublicRegistryImage,
    &images::unpatched_image_vulnerability::UnpatchedImageVulnerability,
    &images::unverified_image_signature::UnverifiedImageSignature,
    &network::missing_default_deny_ingress::MissingDefaultDenyIngress,
    &network::missing_default_deny_egress::MissingDefaultDenyEgress,
    &network::pod_without_network_policy::PodWithoutNetworkPolicy,
    &network::policy_allows_all_namespaces::PolicyAllowsAllNamespaces,
    &network::ingress_from_any_address::IngressFromAnyAddress,
    &network::metadata_endpoint_reachable::MetadataEndpointReachable,
    &network::load_balancer_without_source_ranges::LoadBalancerWithoutSourceRanges,
    &network::node_port_service::NodePortService,
    &network::service_external_ips::ServiceExternalIps,
    &network::ingress_without_tls::IngressWithoutTls,
    &node::node_shell_workload::NodeShellWorkload,
    &node::kubelet_insecure_flags::KubeletInsecureFlags,
    &platform::pod_managed_identity::PodManagedIdentity,
    &platform::no_admission_policy_engine::NoAdmissionPolicyEngine,
    &platform::no_runtime_threat_detection::NoRuntimeThreatDetection,
    &platform::no_node_reboot_daemon::NoNodeRebootDaemon,
    &platform::arc_auto_upgrade_disabled::ArcAutoUpgradeDisabled,
    &pod_security::privileged_container::PrivilegedContainer,
    &pod_security::privilege_escalation::PrivilegeEscalation,
    &pod_security::run_as_root::RunAsRoot,
    &pod_security::host_namespaces::HostNamespaces,
    &pod_security::host_path_volume::HostPathVolume,
    &pod_security::root_user_id::RootUserId,
    &pod_security::added_capabilities::AddedCapabilities,
    &pod_security::capabilities_not_dropped::CapabilitiesNotDropped,
    &pod_security::host_port::HostPort,
    &pod_security::host_probe_or_lifecycle::HostProbeOrLifecycle,
    &pod_security::apparmor_unconfined::AppArmorUnconfined,
    &pod_security::selinux_options_override::SeLinuxOptionsOverride,
    &pod_security::unmasked_proc_mount::UnmaskedProcMount,
    &pod_security::unmasked_proc_mount_restricted::UnmaskedProcMountRestricted,
    &pod_security::seccomp_unconfined::SeccompUnconfined,
    &pod_security::seccomp_profile_not_set::SeccompProfileNotSet,
    &pod_security::unsafe_sysctl::UnsafeSysctl,
    &pod_security::restricted_volume_type::RestrictedVolumeType,
    &pod_security::windows_host_process::WindowsHostProcess,
    &pod_security::namespace_without_enforcement::NamespaceWithoutEnforcement,
    &pod_security::writable_root_filesystem::WritableRootFilesystem,
    &pod_security::root_group_id::RootGroupId,
    &pod_security::writable_host_path::WritableHostPath,
    &pod_security::host_aliases::HostAliases,
    &pod_security::shared_process_namespace::SharedProcessNamespace,
    &pod_security::ssh_port::SshPort,
    &pod_security::privileged_port::PrivilegedPort,
    &pod_security::sysctl_injection::SysctlInjection,
    &pod_security::workload_in_default_namespace::WorkloadInDefaultNamespace,
    &pod_security::workload_in_kube_system::WorkloadInKubeSystem,
    &rbac::cluster_admin_binding::ClusterAdminBinding,
    &rbac::wildcard_rbac_rule::WildcardRbacRule,
    &rbac::cluster_wide_secret_read::ClusterWideSecretRead,
    &rbac::pod_exec_access::PodExecAccess,
    &rbac::privilege_escalation_verbs::PrivilegeEscalationVerbs,
    &rbac::default_service_account_bound::DefaultServiceAccountBound,
    &rbac::anonymous_binding::AnonymousBinding,
    &rbac::binding_to_missing_service_account::BindingToMissingServiceAccount,
    &rbac::sensitive_cluster_access::SensitiveClusterAccess,
    &rbac::privilege_escalation_path::PrivilegeEscalationPath,
    &rbac::unbound_risky_role::UnboundRiskyRole,
    &rbac::system_masters_binding::SystemMastersBinding,
    &reliability::missing_resource_limits::MissingResourceLimits,
    &reliability::missing_probes::MissingProbes,
    &reliability::missing_disruption_budget::MissingDisruptionBudget,
    &reliability::single_replica::SingleReplica,
    &reliability::rollout_takes_all_replicas_down::RolloutTakesAllReplicasDown,
    &reliability::disruption_budget_blocks_eviction::DisruptionBudgetBlocksEviction,
    &reliability::replicas_not_spread::ReplicasNotSpread,
    &reliability::namespace_without_resource_policy::NamespaceWithoutResourcePolicy,
    &secrets::service_account_token_automount::ServiceAccountTokenAutomount,
    &secrets::literal_secret_in_env::LiteralSecretInEnv,
    &secrets::credentials_in_configmap::CredentialsInConfigMap,
    &secrets::secret_in_manifest::SecretInManifest,
    &secrets::secret_in_env_var::SecretInEnvVar,
    &secrets::legacy_service_account_token::LegacyServiceAccountToken,
    &secrets::secret_outside_external_store::SecretOutsideExternalStore,
    &versions::unsupported_kubernetes_version::UnsupportedKubernetesVersion,
    &versions::node_version_skew::NodeVersionSkew,
    &versions::end_of_life_node_software::EndOfLifeNodeSoftware,
    &versions::known_cve::KnownCve,
    &versions::removed_api_version::RemovedApiVersion,
    &versions::deprecated_api_version::DeprecatedApiVersion,
];

/// Every rule.
pub fn all() -> &'static [&'static dyn Rule] {
    RULES
}

/// The metadata of every rule.
pub fn metas() -> Vec<&'static RuleMeta> {
    RULES.iter().map(|r| r.meta()).collect()
}

/// Finds a rule by id (case-insensitive) or name.
pub fn find(id_or_name: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(id_or_name) || r.meta().name == id_or_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_sorted() {
        let ids: Vec<_> = RULES.iter().map(|r| r.meta().id).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted, "ids must be unique and in order");
        for r in RULES {
            let m = r.meta();
            let (fam, num) = m.id.split_at(m.id.len() - 3);
            assert!(
                palisade_core::Family::of_id(m.id).is_some_and(|f| f.prefix == fam)
                    && num.chars().all(|c| c.is_ascii_digit()),
                "{}: an id is a declared family's prefix (palisade_core::FAMILIES) and three digits",
                m.id
            );
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                m.name
            );
        }
        let mut names: Vec<_> = RULES.iter().map(|r| r.meta().name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RULES.len(), "names must be unique");
    }

    /// Each family's rules live in its folder (`palisade_core::FAMILIES`), every folder is a
    /// family's, and every rule file there is in the registry.
    #[test]
    fn rules_live_in_their_family_folder() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut declared = Vec::new();
        for entry in std::fs::read_dir(&root).unwrap() {
            let dir = entry.unwrap().path();
            if !dir.is_dir() {
                continue;
            }
            let folder = dir.file_name().unwrap().to_string_lossy().into_owned();
            let family = palisade_core::FAMILIES
                .iter()
                .find(|f| f.folder == Some(folder.as_str()))
                .unwrap_or_else(|| panic!("src/rules/{folder} is no family's folder"));
            for file in std::fs::read_dir(&dir).unwrap() {
                let file = file.unwrap().path();
                let text = std::fs::read_to_string(&file).unwrap();
                for line in text.lines() {
                    let Some(id) = line
                        .trim()
                        .strip_prefix("id: \"")
                        .and_then(|l| l.strip_suffix("\","))
                    else {
                        continue;
                    };
                    assert_eq!(
                        palisade_core::Family::of_id(id).map(|f| f.prefix),
                        Some(family.prefix),
                        "{id} is declared in {}, the folder of {}",
                        file.display(),
                        family.prefix
                    );
                    declared.push(id.to_owned());
                }
            }
        }
        declared.sort();
        let registered: Vec<_> = RULES.iter().map(|r| r.meta().id.to_owned()).collect();
        assert_eq!(declared, registered, "every rule file is in the registry");
    }

    /// Rules with no CIS Kubernetes Benchmark control: the benchmark has no availability,
    /// runtime-detection or agent-upgrade controls, and an invented mapping would mislead an
    /// auditor. Every other framework is mapped for every rule.
    const NO_CIS_CONTROL: &[&str] = &[
        "PLAT003", "PLAT005", "REL002", "REL003", "REL004", "REL005", "REL006", "REL007",
        // Service and Ingress exposure and dangling bindings: the CIS Kubernetes Benchmark has
        // no control for them (NSA/CISA, NIST and OWASP do).
        "NET007", "NET008", "NET009", "NET010", "RBAC008",
        // Upgrade readiness: CIS has no control for API versions a release removes.
        "VER005", "VER006",
        // Version currency: CIS assumes a supported release and has no control for it.
        "VER001", "VER002", "VER003", "VER004",
    ];

    /// The book's recommendations (DESIGN.md, "the `book` framework").
    const BOOK_IDS: &[&str] = &[
        "platform.patches",
        "platform.node-hardening",
        "platform.control-plane-tls",
        "platform.node-access",
        "ops.control-plane-access",
        "ops.identity",
        "ops.rbac",
        "ops.workload-identity",
        "ops.trusted-registries",
        "ops.build-scanning",
        "ops.pod-security-policy",
        "ops.threat-detection",
        "ops.audit-logging",
        "ops.incident-response",
        "ops.zero-downtime",
        "workload.network-policies",
        "workload.api-authorized-ips",
        "workload.egress",
        "workload.waf",
        "workload.secrets",
        "workload.image-scanning",
        "workload.cert-rotation",
        "workload.governance-at-scale",
        "workload.metadata-api",
    ];

    #[test]
    fn book_references_exist() {
        for r in RULES {
            for b in r
                .meta()
                .references
                .iter()
                .filter_map(|x| x.strip_prefix("book:"))
            {
                assert!(
                    BOOK_IDS.contains(&b),
                    "{}: unknown book id {b}",
                    r.meta().id
                );
            }
        }
    }

    #[test]
    fn every_rule_is_documented_and_referenced() {
        for r in RULES {
            let m = r.meta();
            let doc = m.doc_markdown();
            for heading in [
                "## What it checks",
                "## Why it matters",
                "## How to fix",
                "## Example",
                "## Use instead",
                "## References",
            ] {
                assert!(doc.contains(heading), "{} lacks `{heading}`", m.id);
            }
            // References are written once, in the metadata; the section is generated.
            assert!(
                !m.doc.contains("## References"),
                "{}: its doc comment has a `## References` section; list the references in \
                 `references: [...]` only",
                m.id
            );
            assert!(!m.summary.is_empty(), "{}", m.id);
            assert!(
                m.references.iter().any(|x| x.starts_with("book:")),
                "{} has no book: reference",
                m.id
            );
            for f in palisade_core::Framework::ALL {
                if f == palisade_core::Framework::Cis && NO_CIS_CONTROL.contains(&m.id) {
                    assert!(
                        !f.covers(m),
                        "{} is listed in NO_CIS_CONTROL but maps to CIS",
                        m.id
                    );
                    continue;
                }
                assert!(
                    f.covers(m),
                    "{} maps to no {} control ({})",
                    m.id,
                    f.prefix(),
                    f.title()
                );
            }
        }
    }
}
