//! Pod Security Standards (PSS) evaluator with the semantics of the upstream
//! Kubernetes `k8s.io/pod-security-admission/policy` library.
//!
//! The crate reproduces, for every policy version from `v1.0` to `v1.37` and
//! `latest`, the verdicts (and, as closely as possible, the messages) that the
//! API server's Pod Security Admission gives for a pod:
//!
//! ```
//! use palisade_pss::{evaluate, Level, Version};
//! use serde_json::json;
//!
//! let metadata = json!({"name": "web"});
//! let spec = json!({"containers": [{"name": "app", "image": "nginx"}]});
//! let violations = evaluate(Level::Baseline, Version::Latest, &metadata, &spec);
//! assert!(violations.is_empty());
//!
//! let violations = evaluate(Level::Restricted, "v1.30".parse().unwrap(), &metadata, &spec);
//! assert_eq!(violations[0].check_id, "allowPrivilegeEscalation");
//! assert_eq!(
//!     violations[0].detail,
//!     r#"container "app" must set securityContext.allowPrivilegeEscalation=false"#
//! );
//! ```
//!
//! # Check registry semantics
//!
//! Exactly as upstream's registry: every check has one or more behaviour
//! versions ([`CheckInfo::min_versions`]). At a requested policy version the
//! check uses the behaviour with the greatest minimum version not above it;
//! a check whose first minimum version is above the requested version does not
//! run. `latest` (and any version above the newest minimum version, `v1.37`)
//! uses the newest behaviour. [`Level::Restricted`] runs every baseline check
//! too, except baseline checks overridden by a restricted check at that version
//! (`capabilities_baseline` by `capabilities_restricted`,
//! `seccompProfile_baseline` by `seccompProfile_restricted` and `procMount` by
//! `procMount_restricted`). Checks run, and violations are returned, in
//! upstream order: baseline check ids sorted bytewise, then restricted ids
//! sorted bytewise (see [`checks`]).
//!
//! # Input handling
//!
//! Inputs are untyped JSON. Upstream decodes pods into typed Go structs; this
//! crate reads fields the same way (absent and `null` mean unset) and treats a
//! field holding a value of the wrong JSON type as unset, where Go would have
//! refused to decode the pod at all. Evaluation never panics, whatever the
//! input. One piece of API-server defaulting is applied because admission only
//! ever sees defaulted pods: a volume with no volume source is an `emptyDir`.
//!
//! Feature gates are taken at their defaults: the
//! `UserNamespacesPodSecurityStandards` relaxation (pods with `hostUsers:
//! false`) applies from policy version `v1.35`, where upstream made it part of
//! the versioned policy.

mod checks;
mod view;

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde_json::Value;

use crate::checks::CheckFn;
use crate::view::Pod;

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Unrestricted: every pod is allowed.
    Privileged,
    /// Minimally restrictive: prevents known privilege escalations.
    Baseline,
    /// Heavily restricted: current pod-hardening best practices.
    Restricted,
}

impl Level {
    /// The level's name as used in namespace labels (`"baseline"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error returned when parsing a [`Level`] or a [`Version`] fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    what: &'static str,
    input: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {:?}", self.what, self.input)
    }
}

impl std::error::Error for ParseError {}

impl FromStr for Level {
    type Err = ParseError;

    /// Parses `"privileged"`, `"baseline"` or `"restricted"` (case-sensitive,
    /// like upstream `api.ParseLevel`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            _ => Err(ParseError {
                what: "level",
                input: s.to_owned(),
            }),
        }
    }
}

/// A Pod Security Standards policy version.
///
/// Only Kubernetes `1.x` versions exist. Ordering puts [`Version::Latest`]
/// above every `V(minor)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// The newest policy behaviour (`"latest"`).
    Latest,
    /// Policy version `v1.<minor>`.
    V(u32),
}

impl Version {
    /// The newest minor version at which any check changes behaviour; every
    /// version above it (and `latest`) behaves like it.
    pub const NEWEST_MINOR: u32 = 37;

    /// The minor version whose behaviour applies: `latest` and versions above
    /// [`Version::NEWEST_MINOR`] resolve to `NEWEST_MINOR`.
    pub fn effective_minor(self) -> u32 {
        match self {
            Version::Latest => Self::NEWEST_MINOR,
            Version::V(m) => m.min(Self::NEWEST_MINOR),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match (self, other) {
            (Version::Latest, Version::Latest) => Equal,
            (Version::Latest, Version::V(_)) => Greater,
            (Version::V(_), Version::Latest) => Less,
            (Version::V(a), Version::V(b)) => a.cmp(b),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::V(m) => write!(f, "v1.{m}"),
        }
    }
}

impl FromStr for Version {
    type Err = ParseError;

    /// Parses `"latest"` or `"v1.<minor>"` (no leading zeros, like upstream
    /// `api.ParseVersion`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let err = || ParseError {
            what: "version",
            input: s.to_owned(),
        };
        let minor = s.strip_prefix("v1.").ok_or_else(err)?;
        if minor.is_empty()
            || !minor.bytes().all(|b| b.is_ascii_digit())
            || (minor.len() > 1 && minor.starts_with('0'))
        {
            return Err(err());
        }
        minor.parse().map(Version::V).map_err(|_| err())
    }
}

/// Static description of one upstream check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInfo {
    /// Upstream check id, e.g. `"allowPrivilegeEscalation"`.
    pub id: &'static str,
    /// The level the check belongs to (restricted also runs baseline checks).
    pub level: Level,
    /// The Pod Security Standards control name, e.g. `"Privileged Containers"`.
    pub title: &'static str,
    /// Minor versions at which the check's behaviour starts or changes
    /// (upstream `MinimumVersion`s), ascending.
    pub min_versions: &'static [u32],
}

/// One failed check for a pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Violation {
    /// Id of the failing check (see [`checks`]).
    pub check_id: &'static str,
    /// Upstream's `ForbiddenReason`, e.g. `"allowPrivilegeEscalation != false"`.
    pub reason: String,
    /// Upstream's `ForbiddenDetail`, e.g.
    /// `container "app" must set securityContext.allowPrivilegeEscalation=false`.
    pub detail: String,
    /// JSON pointers (relative to the pod object) of the offending fields. When
    /// the field is absent, the pointer of the place it should be set: the
    /// container for container fields, `/spec/securityContext` for fields that
    /// may be set at pod level. Annotation keys are escaped per RFC 6901.
    pub paths: Vec<String>,
    /// Names of the offending containers (possibly empty for pod-level issues).
    pub containers: Vec<String>,
}

impl Violation {
    /// Upstream's one-line rendering: `reason (detail)`.
    pub fn message(&self) -> String {
        if self.detail.is_empty() {
            self.reason.clone()
        } else {
            format!("{} ({})", self.reason, self.detail)
        }
    }
}

/// Implementation table for one check, parallel to [`CHECKS`].
struct CheckImpl {
    versions: &'static [(u32, CheckFn)],
    /// Baseline check ids this (restricted) check replaces.
    overrides: &'static [&'static str],
}

/// All upstream checks, in upstream evaluation order: baseline ids sorted
/// bytewise, then restricted ids sorted bytewise.
static CHECKS: [CheckInfo; 19] = [
    CheckInfo {
        id: "appArmorProfile",
        level: Level::Baseline,
        title: "AppArmor",
        min_versions: &[0],
    },
    CheckInfo {
        id: "capabilities_baseline",
        level: Level::Baseline,
        title: "Capabilities",
        min_versions: &[0],
    },
    CheckInfo {
        id: "hostNamespaces",
        level: Level::Baseline,
        title: "Host Namespaces",
        min_versions: &[0],
    },
    CheckInfo {
        id: "hostPathVolumes",
        level: Level::Baseline,
        title: "HostPath Volumes",
        min_versions: &[0],
    },
    CheckInfo {
        id: "hostPorts",
        level: Level::Baseline,
        title: "Host Ports",
        min_versions: &[0],
    },
    CheckInfo {
        id: "hostProbesAndHostLifecycle",
        level: Level::Baseline,
        title: "Host Probes / Lifecycle Hooks",
        min_versions: &[34],
    },
    CheckInfo {
        id: "privileged",
        level: Level::Baseline,
        title: "Privileged Containers",
        min_versions: &[0],
    },
    CheckInfo {
        id: "procMount",
        level: Level::Baseline,
        title: "/proc Mount Type",
        min_versions: &[0, 35],
    },
    CheckInfo {
        id: "seLinuxOptions",
        level: Level::Baseline,
        title: "SELinux",
        min_versions: &[0, 31],
    },
    CheckInfo {
        id: "seccompProfile_baseline",
        level: Level::Baseline,
        title: "Seccomp",
        min_versions: &[0, 19],
    },
    CheckInfo {
        id: "sysctls",
        level: Level::Baseline,
        title: "Sysctls",
        min_versions: &[0, 27, 29, 32, 37],
    },
    CheckInfo {
        id: "windowsHostProcess",
        level: Level::Baseline,
        title: "HostProcess",
        min_versions: &[0],
    },
    CheckInfo {
        id: "allowPrivilegeEscalation",
        level: Level::Restricted,
        title: "Privilege Escalation",
        min_versions: &[8, 25],
    },
    CheckInfo {
        id: "capabilities_restricted",
        level: Level::Restricted,
        title: "Capabilities",
        min_versions: &[22, 25],
    },
    CheckInfo {
        id: "procMount_restricted",
        level: Level::Restricted,
        title: "/proc Mount Type",
        min_versions: &[35],
    },
    CheckInfo {
        id: "restrictedVolumes",
        level: Level::Restricted,
        title: "Volume Types",
        min_versions: &[0],
    },
    CheckInfo {
        id: "runAsNonRoot",
        level: Level::Restricted,
        title: "Running as Non-root",
        min_versions: &[0, 35],
    },
    CheckInfo {
        id: "runAsUser",
        level: Level::Restricted,
        title: "Running as Non-root user",
        min_versions: &[23, 35],
    },
    CheckInfo {
        id: "seccompProfile_restricted",
        level: Level::Restricted,
        title: "Seccomp",
        min_versions: &[19, 25],
    },
];

static IMPLS: [CheckImpl; 19] = {
    use crate::checks::*;
    [
        CheckImpl {
            versions: &[(0, app_armor_profile_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, capabilities_baseline_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, host_namespaces_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, host_path_volumes_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, host_ports_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(34, host_probes_and_host_lifecycle_1_34)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, privileged_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, proc_mount_1_0), (35, proc_mount_1_35)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, se_linux_options_1_0), (31, se_linux_options_1_31)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[
                (0, seccomp_profile_baseline_1_0),
                (19, seccomp_profile_baseline_1_19),
            ],
            overrides: &[],
        },
        CheckImpl {
            versions: &[
                (0, sysctls_1_0),
                (27, sysctls_1_27),
                (29, sysctls_1_29),
                (32, sysctls_1_32),
                (37, sysctls_1_37),
            ],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, windows_host_process_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[
                (8, allow_privilege_escalation_1_8),
                (25, allow_privilege_escalation_1_25),
            ],
            overrides: &[],
        },
        CheckImpl {
            versions: &[
                (22, capabilities_restricted_1_22),
                (25, capabilities_restricted_1_25),
            ],
            overrides: &["capabilities_baseline"],
        },
        CheckImpl {
            versions: &[(35, proc_mount_restricted_1_35)],
            overrides: &["procMount"],
        },
        CheckImpl {
            versions: &[(0, restricted_volumes_1_0)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(0, run_as_non_root_1_0), (35, run_as_non_root_1_35)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[(23, run_as_user_1_23), (35, run_as_user_1_35)],
            overrides: &[],
        },
        CheckImpl {
            versions: &[
                (19, seccomp_profile_restricted_1_19),
                (25, seccomp_profile_restricted_1_25),
            ],
            overrides: &["seccompProfile_baseline"],
        },
    ]
};

/// All 19 upstream checks, in upstream evaluation order (baseline ids sorted
/// bytewise, then restricted ids sorted bytewise).
pub fn checks() -> &'static [CheckInfo] {
    &CHECKS
}

/// The behaviour of check `idx` at `minor`, if the check exists at that version.
fn versioned(idx: usize, minor: u32) -> Option<CheckFn> {
    IMPLS[idx]
        .versions
        .iter()
        .rev()
        .find(|(min, _)| *min <= minor)
        .map(|(_, f)| *f)
}

type Table = Vec<(&'static str, CheckFn)>;

/// Per-minor check lists: `[baseline, restricted]` for minors `0..=NEWEST_MINOR`.
fn tables() -> &'static [[Table; 2]] {
    static TABLES: OnceLock<Vec<[Table; 2]>> = OnceLock::new();
    TABLES.get_or_init(|| {
        (0..=Version::NEWEST_MINOR)
            .map(|minor| {
                let overridden: Vec<&str> = CHECKS
                    .iter()
                    .enumerate()
                    .filter(|(i, c)| c.level == Level::Restricted && versioned(*i, minor).is_some())
                    .flat_map(|(i, _)| IMPLS[i].overrides.iter().copied())
                    .collect();
                let mut baseline = Vec::new();
                let mut restricted = Vec::new();
                for (i, c) in CHECKS.iter().enumerate() {
                    let Some(f) = versioned(i, minor) else {
                        continue;
                    };
                    if c.level == Level::Baseline {
                        baseline.push((c.id, f));
                        if !overridden.contains(&c.id) {
                            restricted.push((c.id, f));
                        }
                    } else {
                        restricted.push((c.id, f));
                    }
                }
                [baseline, restricted]
            })
            .collect()
    })
}

fn to_violation(check_id: &'static str, f: checks::Fail) -> Violation {
    Violation {
        check_id,
        reason: f.reason,
        detail: f.detail,
        paths: f.paths,
        containers: f.containers,
    }
}

/// Evaluates a pod against a level at a policy version.
///
/// `metadata` is the pod's (or pod template's) `metadata` object and `spec` its
/// `PodSpec`; either may be `Null` or malformed. Returns one [`Violation`] per
/// failing check, in upstream check order; an empty vector means the pod is
/// allowed. [`Level::Privileged`] allows everything.
pub fn evaluate(level: Level, version: Version, metadata: &Value, spec: &Value) -> Vec<Violation> {
    let which = match level {
        Level::Privileged => return Vec::new(),
        Level::Baseline => 0,
        Level::Restricted => 1,
    };
    let table = &tables()[version.effective_minor() as usize][which];
    let pod = Pod::new(metadata, spec);
    table
        .iter()
        .filter_map(|(id, f)| f(&pod).map(|fail| to_violation(id, fail)))
        .collect()
}

/// True when, at the restricted level and this version, the check `id` is replaced by a
/// restricted check (`capabilities_baseline` by `capabilities_restricted` from v1.22,
/// `seccompProfile_baseline` by `seccompProfile_restricted` from v1.19, `procMount` by
/// `procMount_restricted` from v1.35): upstream then runs only the replacing check.
pub fn is_overridden_in_restricted(id: &str, version: Version) -> bool {
    let minor = version.effective_minor();
    CHECKS
        .iter()
        .enumerate()
        .filter(|(i, c)| c.level == Level::Restricted && versioned(*i, minor).is_some())
        .any(|(i, _)| IMPLS[i].overrides.contains(&id))
}

/// Evaluates a single check (by upstream id, e.g. `"runAsNonRoot"`) at a
/// policy version, regardless of level and of overrides.
///
/// Returns `None` when the pod passes the check, when the check does not exist
/// at that version, or when `id` is unknown.
pub fn evaluate_check(
    id: &str,
    version: Version,
    metadata: &Value,
    spec: &Value,
) -> Option<Violation> {
    let idx = CHECKS.iter().position(|c| c.id == id)?;
    let f = versioned(idx, version.effective_minor())?;
    let pod = Pod::new(metadata, spec);
    f(&pod).map(|fail| to_violation(CHECKS[idx].id, fail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_match_check_info() {
        for (info, imp) in CHECKS.iter().zip(IMPLS.iter()) {
            let mins: Vec<u32> = imp.versions.iter().map(|(m, _)| *m).collect();
            assert_eq!(info.min_versions, mins.as_slice(), "{}", info.id);
        }
        let newest = CHECKS
            .iter()
            .map(|c| *c.min_versions.last().unwrap())
            .max()
            .unwrap();
        assert_eq!(newest, Version::NEWEST_MINOR);
    }

    #[test]
    fn overrides_follow_versions() {
        let v = |m| Version::V(m);
        assert!(!is_overridden_in_restricted("capabilities_baseline", v(21)));
        assert!(is_overridden_in_restricted("capabilities_baseline", v(22)));
        assert!(!is_overridden_in_restricted(
            "seccompProfile_baseline",
            v(18)
        ));
        assert!(is_overridden_in_restricted(
            "seccompProfile_baseline",
            Version::Latest
        ));
        assert!(!is_overridden_in_restricted("procMount", v(34)));
        assert!(is_overridden_in_restricted("procMount", v(35)));
        assert!(!is_overridden_in_restricted("privileged", Version::Latest));
    }

    #[test]
    fn ids_are_sorted_within_level() {
        for level in [Level::Baseline, Level::Restricted] {
            let ids: Vec<&str> = CHECKS
                .iter()
                .filter(|c| c.level == level)
                .map(|c| c.id)
                .collect();
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            assert_eq!(ids, sorted);
        }
    }
}
