//! The single table of rules. Ids are stable forever; a retired id is never reused.

use crate::rules::{
    control_plane, images, network, node_access, pod_security, rbac, reliability, secrets, versions,
};
use palisade_core::{Rule, RuleMeta};

/// Every rule, in id order.
pub static RULES: &[&dyn Rule] = &[
    &control_plane::insecure_api_server_flags::InsecureApiServerFlags,
    &control_plane::insecure_controller_manager_flags::InsecureControllerManagerFlags,
    &control_plane::insecure_scheduler_flags::InsecureSchedulerFlags,
    &control_plane::insecure_etcd_flags::InsecureEtcdFlags,
    &images::mutable_image_tag::MutableImageTag,
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
    &node_access::node_shell_workload::NodeShellWorkload,
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
    &reliability::missing_resource_limits::MissingResourceLimits,
    &reliability::missing_probes::MissingProbes,
    &reliability::missing_disruption_budget::MissingDisruptionBudget,
    &secrets::service_account_token_automount::ServiceAccountTokenAutomount,
    &secrets::literal_secret_in_env::LiteralSecretInEnv,
    &secrets::credentials_in_configmap::CredentialsInConfigMap,
    &versions::unsupported_kubernetes_version::UnsupportedKubernetesVersion,
    &versions::node_version_skew::NodeVersionSkew,
    &versions::end_of_life_node_software::EndOfLifeNodeSoftware,
    &versions::known_cve::KnownCve,
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
                fam.chars().all(|c| c.is_ascii_uppercase())
                    && num.chars().all(|c| c.is_ascii_digit()),
                "{}",
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
            assert!(!m.summary.is_empty(), "{}", m.id);
            assert!(
                m.references.iter().any(|x| x.starts_with("book:")),
                "{} has no book: reference",
                m.id
            );
            assert!(
                m.references.iter().any(|x| x.starts_with("cis:")
                    || x.starts_with("nsa:")
                    || x.starts_with("nist:")
                    || x.starts_with("owasp:")),
                "{} has no compliance reference",
                m.id
            );
        }
    }
}
