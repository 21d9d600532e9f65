//! Runs the checks on a host root and builds the [`NodeReport`].

use crate::checks::cis::{self, FILE_CHECKS, FLAG_CHECKS, MANUAL_ONLY, SECTIONS};
use crate::checks::{own, Component, FileCheck, FileTarget, FlagCheck};
use crate::discover::{discover, kubelet_unit_files, Discovery, Found};
use crate::flags::Flags;
use crate::root::Root;
use crate::{access, tls};
use palisade_core::node::{NodeComponent, NodeSection};
use palisade_core::{CheckResult, CheckStatus, NodeReport, Severity};
use serde_json::Value;

/// How to run the host checks.
#[derive(Clone, Debug)]
pub struct Options {
    /// The benchmark (`cis-1.12`).
    pub benchmark: String,
    /// The current time (certificate expiry, end of life).
    pub now: jiff::Timestamp,
    /// Known CVEs to match the components' versions against.
    pub cves: Option<crate::cve::CveDatabase>,
}

/// Builds a result.
#[allow(clippy::too_many_arguments)]
pub(crate) fn result(
    id: &str,
    family: &'static str,
    title: &str,
    status: CheckStatus,
    severity: Severity,
    component: Option<Component>,
    observed: String,
    expected: Option<String>,
    file: Option<String>,
    remediation: Option<&str>,
    automated: bool,
) -> CheckResult {
    CheckResult {
        id: id.to_owned(),
        section: section_of_check(id).to_owned(),
        family,
        title: title.to_owned(),
        status,
        severity,
        component: component.map(|c| c.name().to_owned()),
        observed,
        expected,
        file,
        remediation: remediation.map(str::to_owned),
        automated,
        suppression: None,
    }
}

/// The section a check id is reported under: its CIS section (`1.2.3` → `1.2`), or the
/// part before the first dot (`tls.cert-expiry` → `tls`).
pub fn section_of_check(id: &str) -> &str {
    if id.contains('.') && id.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        cis::section_of(id)
    } else {
        id.split('.').next().unwrap_or(id)
    }
}

fn family(c: Component) -> &'static str {
    if c.is_control_plane() {
        "CP"
    } else {
        "NODE"
    }
}

/// Evaluates one flag check into a result (the component's flags and configuration file).
pub fn flag_result(check: &FlagCheck, flags: &Flags, config: Option<&Value>) -> CheckResult {
    let out = check.evaluate(flags, config);
    let status = if check.manual {
        CheckStatus::Manual
    } else if out.pass {
        CheckStatus::Pass
    } else {
        CheckStatus::Fail
    };
    let observed = if check.manual {
        format!(
            "{} (CIS marks this check manual: observed only)",
            out.observed
        )
    } else {
        out.observed
    };
    result(
        check.id,
        family(check.component),
        check.title,
        status,
        check.severity,
        Some(check.component),
        observed,
        Some(check.expected()),
        None,
        Some(check.remediation),
        !check.manual,
    )
}

/// Runs every check.
pub fn run(root: &Root, opts: &Options) -> NodeReport {
    let minor = cis::benchmark_minor(&opts.benchmark).unwrap_or(12);
    let d = discover(root);
    let mut results = Vec::new();
    for check in FLAG_CHECKS
        .iter()
        .filter(|c| c.versions.since <= minor && minor <= c.versions.until)
    {
        match d.get(check.component) {
            Some(found) => results.push(flag_result(check, &found.flags, found.config.as_ref())),
            None => results.push(skip(check.id, check.title, check.component, !check.manual)),
        }
    }
    for (id, title, c) in MANUAL_ONLY {
        if d.get(*c).is_some() {
            results.push(result(
                id,
                family(*c),
                title,
                CheckStatus::Manual,
                Severity::Low,
                Some(*c),
                "nothing to observe on the host: review by hand".to_owned(),
                None,
                None,
                None,
                false,
            ));
        }
    }
    for check in FILE_CHECKS
        .iter()
        .filter(|c| c.versions.since <= minor && minor <= c.versions.until)
    {
        results.extend(file_results(root, &d, check));
    }
    if let Some(api) = d.get(Component::ApiServer) {
        results.push(tls::encryption_manual(root, api));
    }
    results.extend(tls::checks(root, &d, opts.now));
    results.extend(access::sshd_checks(root));
    results.extend(version_checks(&d, opts));
    let mut report = NodeReport {
        benchmark: opts.benchmark.clone(),
        root: root.base().display().to_string(),
        host: String::new(),
        components: d
            .components
            .iter()
            .map(|(c, f)| NodeComponent {
                name: c.name().to_owned(),
                sources: f.sources.clone(),
                version: f.version(),
            })
            .collect(),
        sections: SECTIONS
            .iter()
            .map(|(id, title)| NodeSection {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
                counts: Default::default(),
            })
            .collect(),
        results,
        totals: Default::default(),
    };
    sort_results(&mut report.results);
    report.recount();
    report
}

/// Sorts check ids numerically by segment (`1.2.9` before `1.2.10`).
pub(crate) fn id_key(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

fn sort_results(results: &mut [CheckResult]) {
    results.sort_by_key(|a| id_key(&a.id));
}

fn skip(id: &str, title: &str, c: Component, automated: bool) -> CheckResult {
    result(
        id,
        family(c),
        title,
        CheckStatus::Skip,
        Severity::Info,
        Some(c),
        format!("{} not found on this host", c.name()),
        None,
        None,
        None,
        automated,
    )
}

/// The files a file check inspects (host paths), and whether their absence is expected.
fn targets(root: &Root, d: &Discovery, target: FileTarget) -> (Vec<String>, bool) {
    let flag =
        |c: Component, name: &str| d.get(c).and_then(|f| f.flags.get(name)).map(str::to_owned);
    let or = |v: Option<String>, default: &str| vec![v.unwrap_or_else(|| default.to_owned())];
    match target {
        FileTarget::Manifest(c) => (
            or(
                d.get(c).and_then(|f| f.manifest.clone()),
                c.default_manifest().unwrap_or_default(),
            ),
            false,
        ),
        FileTarget::AdminConfs => (
            [
                "/etc/kubernetes/admin.conf",
                "/etc/kubernetes/super-admin.conf",
            ]
            .iter()
            .filter(|p| root.exists(p))
            .map(|p| (*p).to_owned())
            .collect(),
            false,
        ),
        FileTarget::SchedulerKubeconfig => (
            or(
                flag(Component::Scheduler, "kubeconfig"),
                "/etc/kubernetes/scheduler.conf",
            ),
            false,
        ),
        FileTarget::ControllerManagerKubeconfig => (
            or(
                flag(Component::ControllerManager, "kubeconfig"),
                "/etc/kubernetes/controller-manager.conf",
            ),
            false,
        ),
        FileTarget::PkiTree => (root.walk("/etc/kubernetes/pki"), false),
        FileTarget::PkiCerts => (
            root.walk("/etc/kubernetes/pki")
                .into_iter()
                .filter(|p| p.ends_with(".crt"))
                .collect(),
            true,
        ),
        FileTarget::PkiKeys => (
            root.walk("/etc/kubernetes/pki")
                .into_iter()
                .filter(|p| p.ends_with(".key"))
                .collect(),
            true,
        ),
        FileTarget::EtcdDataDir => (
            or(flag(Component::Etcd, "data-dir"), "/var/lib/etcd"),
            false,
        ),
        FileTarget::KubeletService => (kubelet_unit_files(root), false),
        FileTarget::ProxyKubeconfig => (
            flag(Component::Proxy, "kubeconfig").into_iter().collect(),
            true,
        ),
        FileTarget::KubeletKubeconfig => (
            or(
                flag(Component::Kubelet, "kubeconfig"),
                "/etc/kubernetes/kubelet.conf",
            ),
            false,
        ),
        FileTarget::KubeletClientCa => {
            let k = d.get(Component::Kubelet);
            let ca = k
                .and_then(|f| f.flags.get("client-ca-file").map(str::to_owned))
                .or_else(|| {
                    k.and_then(|f| f.config.as_ref())
                        .and_then(|c| c.pointer("/authentication/x509/clientCAFile"))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
            (ca.into_iter().collect(), true)
        }
        FileTarget::KubeletConfig => (
            d.get(Component::Kubelet)
                .and_then(|f| f.config_path.clone())
                .into_iter()
                .collect(),
            true,
        ),
        FileTarget::CniFiles => {
            let dir = flag(Component::Kubelet, "cni-conf-dir")
                .unwrap_or_else(|| "/etc/cni/net.d".to_owned());
            let mut files: Vec<String> = root.walk(&dir).into_iter().skip(1).collect();
            files.extend(root.walk("/var/lib/cni/networks").into_iter().skip(1));
            files.retain(|p| root.stat(p).is_ok_and(|s| !s.is_dir));
            (files, true)
        }
    }
}

fn file_results(root: &Root, d: &Discovery, check: &FileCheck) -> Vec<CheckResult> {
    let component: Option<&Found> = d.get(check.component);
    if component.is_none() {
        return vec![skip(check.id, check.title, check.component, !check.manual)];
    }
    let (files, absence_ok) = targets(root, d, check.target);
    let fam = family(check.component);
    let expected = match (check.max_mode, check.owner) {
        (Some(m), _) => format!("mode {m:o} or more restrictive"),
        (None, Some(o)) => format!("owned by {o}"),
        (None, None) => String::new(),
    };
    let base_status = |ok: bool| {
        if check.manual {
            CheckStatus::Manual
        } else if ok {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        }
    };
    let mut observed = Vec::new();
    let mut all_ok = true;
    let mut missing = Vec::new();
    let mut offending = None;
    for path in &files {
        match root.stat(path) {
            Ok(st) => {
                let mut ok = true;
                if let Some(max) = check.max_mode {
                    ok &= st.mode & !max == 0;
                }
                if let Some(owner) = check.owner {
                    let (u, g) = owner.split_once(':').unwrap_or((owner, owner));
                    ok &= root.uid_of(u) == Some(st.uid) && root.gid_of(g) == Some(st.gid);
                }
                if !ok {
                    all_ok = false;
                    offending.get_or_insert_with(|| path.clone());
                }
                let fact = match check.max_mode {
                    Some(_) => format!("{:o}", st.mode),
                    None => root.owner_text(st.uid, st.gid),
                };
                if !ok || files.len() <= 4 {
                    observed.push(format!("{path}: {fact}"));
                }
            }
            Err(_) => missing.push(path.clone()),
        }
    }
    let file = offending.or_else(|| (files.len() == 1).then(|| files[0].clone()));
    let remediation = match (check.max_mode, check.owner) {
        (Some(m), _) => format!("chmod {m:o} {}", file.as_deref().unwrap_or("<file>")),
        (None, Some(o)) => format!("chown {o} {}", file.as_deref().unwrap_or("<file>")),
        _ => String::new(),
    };
    let (status, text) = if files.is_empty() || missing.len() == files.len() {
        if absence_ok || files.is_empty() && check.target == FileTarget::AdminConfs {
            (
                if check.manual {
                    CheckStatus::Manual
                } else {
                    CheckStatus::Pass
                },
                "no such file on this host".to_owned(),
            )
        } else {
            let what = if files.is_empty() {
                "no file found".to_owned()
            } else {
                format!("{} not found", missing.join(", "))
            };
            (
                if check.manual {
                    CheckStatus::Manual
                } else {
                    CheckStatus::Warn
                },
                what,
            )
        }
    } else {
        let n_ok = files.len() - missing.len();
        let mut text = if all_ok && files.len() > 4 {
            format!(
                "{n_ok} files checked, all {}",
                if check.max_mode.is_some() {
                    "within the mode"
                } else {
                    "owned as expected"
                }
            )
        } else {
            observed.join("; ")
        };
        if !missing.is_empty() {
            text.push_str(&format!("; not found: {}", missing.join(", ")));
        }
        (base_status(all_ok), text)
    };
    let text = if check.manual {
        format!("{text} (CIS marks this check manual: observed only)")
    } else {
        text
    };
    vec![result(
        check.id,
        fam,
        check.title,
        status,
        Severity::Medium,
        Some(check.component),
        text,
        Some(expected),
        file,
        Some(&remediation),
        !check.manual,
    )]
}

/// Version currency of the components whose version is known (image tags of static pods),
/// and known CVEs when data is given.
fn version_checks(d: &Discovery, opts: &Options) -> Vec<CheckResult> {
    use crate::version::{support, Support, Version};
    let today = jiff::tz::TimeZone::UTC.to_datetime(opts.now).date();
    let mut out = Vec::new();
    let mut running = Vec::new();
    for (c, f) in &d.components {
        let Some(v) = f.version().and_then(|v| Version::parse(&v)) else {
            continue;
        };
        if *c == Component::Etcd {
            continue;
        }
        running.push(crate::cve::Running {
            component: c.name().to_owned(),
            version: v,
        });
        let (status, text) = match support(v, today) {
            Support::Supported(eol) => (CheckStatus::Pass, format!("v{v}: supported until {eol}")),
            Support::Newer => (
                CheckStatus::Pass,
                format!(
                    "v{v}: newer than the release table of {}",
                    crate::version::TABLE_DATE
                ),
            ),
            Support::EndingSoon(eol) => (CheckStatus::Warn, format!("v{v}: end of life on {eol}")),
            Support::EndOfLife(eol) => {
                (CheckStatus::Fail, format!("v{v}: end of life since {eol}"))
            }
            Support::Ancient => (
                CheckStatus::Fail,
                format!("v{v}: older than every release in the table"),
            ),
        };
        out.push(own::SUPPORTED_RELEASE.result(status, Some(*c), text, f.manifest.clone()));
    }
    if let Some(db) = &opts.cves {
        let matches = db.matching(&running);
        for r in &running {
            let hits: Vec<String> = matches
                .iter()
                .filter(|m| m.running == *r)
                .map(|m| match &m.affected.fixed_by {
                    Some(f) => format!("{} (fixed in {f})", m.cve.cve),
                    None => m.cve.cve.clone(),
                })
                .collect();
            let c = Component::from_binary(&r.component);
            out.push(own::KNOWN_CVES.result(
                if hits.is_empty() {
                    CheckStatus::Pass
                } else {
                    CheckStatus::Fail
                },
                c,
                if hits.is_empty() {
                    format!(
                        "{} v{}: no known CVE ({} in the data)",
                        r.component,
                        r.version,
                        db.cves.len()
                    )
                } else {
                    format!("{} v{}: {}", r.component, r.version, hits.join(", "))
                },
                None,
            ));
        }
    }
    out
}
