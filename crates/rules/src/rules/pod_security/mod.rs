//! `POD`: pod and container security. Each Pod Security Standards check of the upstream
//! pod-security-admission library is one rule here, evaluated by `palisade-pss` at the scan's
//! policy version, so a finding and the API server's verdict always agree.

pub(crate) mod added_capabilities;
pub(crate) mod apparmor_unconfined;
pub(crate) mod capabilities_not_dropped;
pub(crate) mod host_aliases;
pub(crate) mod host_namespaces;
pub(crate) mod host_path_volume;
pub(crate) mod host_port;
pub(crate) mod host_probe_or_lifecycle;
pub(crate) mod namespace_without_enforcement;
pub(crate) mod privilege_escalation;
pub(crate) mod privileged_container;
pub(crate) mod privileged_port;
pub(crate) mod restricted_volume_type;
pub(crate) mod root_group_id;
pub(crate) mod root_user_id;
pub(crate) mod run_as_root;
pub(crate) mod seccomp_profile_not_set;
pub(crate) mod seccomp_unconfined;
pub(crate) mod selinux_options_override;
pub(crate) mod shared_process_namespace;
pub(crate) mod ssh_port;
pub(crate) mod sysctl_injection;
pub(crate) mod unmasked_proc_mount;
pub(crate) mod unmasked_proc_mount_restricted;
pub(crate) mod unsafe_sysctl;
pub(crate) mod windows_host_process;
pub(crate) mod workload_in_default_namespace;
pub(crate) mod workload_in_kube_system;
pub(crate) mod writable_host_path;
pub(crate) mod writable_root_filesystem;

use palisade_core::{Context, Finding, Object, PodTemplate, PssLevel, PssVersion};

/// The `palisade-pss` version for a scan's version.
pub(crate) fn pss_version(v: PssVersion) -> palisade_pss::Version {
    match v {
        PssVersion::Latest => palisade_pss::Version::Latest,
        PssVersion::Minor(m) => palisade_pss::Version::V(m),
    }
}

/// Runs one upstream check on the object's pod template and reports its violation: one
/// finding per object and check, PSA's message followed by `[pss:<check id>]` (so every
/// output format names the upstream check), the first offending field as the path, the
/// check id, containers and every offending field as properties.
///
/// Under the restricted profile a baseline check that upstream replaces at this version by a
/// restricted one does not report (the restricted rule does).
pub(crate) fn pss_check<'c>(
    check: &'static str,
    fix: &'static str,
    object: &Object,
    cx: &'c mut Context<'_>,
) -> Option<&'c mut Finding> {
    let pod = PodTemplate::of(object)?;
    let version = pss_version(cx.pss_version());
    if cx.profile() == PssLevel::Restricted
        && palisade_pss::is_overridden_in_restricted(check, version)
    {
        return None;
    }
    let v = palisade_pss::evaluate_check(check, version, pod.metadata, pod.spec)?;
    let paths: Vec<String> = v
        .paths
        .iter()
        .map(|p| format!("{}{}", pod.base, p))
        .collect();
    let f = cx
        .report(
            paths.first().cloned(),
            format!("{} [pss:{check}]", v.message()),
        )
        .fix(fix)
        .property("pssCheck", check)
        .property("pssVersion", version.to_string());
    if !v.containers.is_empty() {
        f.property("containers", v.containers.join(","));
    }
    if paths.len() > 1 {
        f.property("paths", paths.join(" "));
    }
    Some(f)
}

/// A container's effective security-context field: the container's own setting, else the
/// pod's (`runAsUser`, `runAsGroup`, `runAsNonRoot`), with the pointer of the field that sets
/// it.
pub(crate) fn effective<'a>(
    pod: &PodTemplate<'a>,
    c: &palisade_core::podspec::Container<'a>,
    field: &str,
) -> Option<(&'a serde_json::Value, String)> {
    if let Some(v) = c.security(field).filter(|v| !v.is_null()) {
        return Some((v, c.pointer(&format!("/securityContext/{field}"))));
    }
    pod.security_context()
        .get(field)
        .filter(|v| !v.is_null())
        .map(|v| (v, pod.spec_pointer(&format!("/securityContext/{field}"))))
}

/// Reports one finding per object for the offending places of a pod template: the first
/// place's pointer as the path, every place described in the message.
pub(crate) fn report_places<'c>(
    cx: &'c mut Context<'_>,
    what: &str,
    places: &[(String, String)],
    fix: &'static str,
) -> Option<&'c mut Finding> {
    let (first, _) = places.first()?;
    let clauses: Vec<&str> = places.iter().map(|(_, d)| d.as_str()).collect();
    let f = cx
        .report(
            Some(first.clone()),
            format!("{what}: {}", clauses.join("; ")),
        )
        .fix(fix);
    if places.len() > 1 {
        let paths: Vec<&str> = places.iter().map(|(p, _)| p.as_str()).collect();
        f.property("paths", paths.join(" "));
    }
    Some(f)
}
