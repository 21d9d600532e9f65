//! The check tables: data, not code. [`cis`] holds the CIS Kubernetes Benchmark's flag and
//! configuration checks ([`FlagCheck`]) and file checks ([`FileCheck`]); the evaluation of a
//! flag check needs only a command line and a configuration value, so the rule catalogue
//! evaluates the same table on static pod specs.

pub mod cis;
pub mod kubelet;
pub mod own;

use crate::flags::{value_text, Effective, Flags, Origin};
use palisade_core::Severity;
use serde_json::Value;

/// A Kubernetes component whose configuration the checks read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Component {
    /// `kube-apiserver`.
    ApiServer,
    /// `kube-controller-manager`.
    ControllerManager,
    /// `kube-scheduler`.
    Scheduler,
    /// `etcd`.
    Etcd,
    /// `kubelet`.
    Kubelet,
    /// `kube-proxy`.
    Proxy,
}

impl Component {
    /// Every component.
    pub const ALL: [Component; 6] = [
        Component::ApiServer,
        Component::ControllerManager,
        Component::Scheduler,
        Component::Etcd,
        Component::Kubelet,
        Component::Proxy,
    ];

    /// The binary name.
    pub fn name(self) -> &'static str {
        match self {
            Component::ApiServer => "kube-apiserver",
            Component::ControllerManager => "kube-controller-manager",
            Component::Scheduler => "kube-scheduler",
            Component::Etcd => "etcd",
            Component::Kubelet => "kubelet",
            Component::Proxy => "kube-proxy",
        }
    }

    /// The component a binary is (`/usr/local/bin/kube-apiserver` → `ApiServer`).
    pub fn from_binary(path: &str) -> Option<Component> {
        let base = path.rsplit('/').next().unwrap_or(path);
        Component::ALL.into_iter().find(|c| c.name() == base)
    }

    /// The static pod manifest kubeadm writes for it.
    pub fn default_manifest(self) -> Option<&'static str> {
        Some(match self {
            Component::ApiServer => "/etc/kubernetes/manifests/kube-apiserver.yaml",
            Component::ControllerManager => {
                "/etc/kubernetes/manifests/kube-controller-manager.yaml"
            }
            Component::Scheduler => "/etc/kubernetes/manifests/kube-scheduler.yaml",
            Component::Etcd => "/etc/kubernetes/manifests/etcd.yaml",
            Component::Kubelet | Component::Proxy => return None,
        })
    }

    /// Whether it runs on control-plane nodes (CIS §1 and §2).
    pub fn is_control_plane(self) -> bool {
        !matches!(self, Component::Kubelet | Component::Proxy)
    }
}

/// What a setting's effective value must satisfy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    /// Set (to anything).
    Present,
    /// Not set.
    Absent,
    /// Equal (case-insensitive).
    Eq(&'static str),
    /// Not equal (case-insensitive).
    NotEq(&'static str),
    /// A comma-separated list containing the element.
    Has(&'static str),
    /// A comma-separated list without the element.
    NotHas(&'static str),
    /// A number at least this large.
    Gte(i64),
    /// A comma-separated list whose every element is one of these.
    OnlyOf(&'static [&'static str]),
    /// An address bound to the loopback interface.
    Loopback,
    /// A duration other than zero.
    NonZeroDuration,
}

impl Test {
    /// Whether an effective value passes.
    pub fn passes(self, value: Option<&str>) -> bool {
        let elements = |v: &str| -> Vec<String> {
            v.split(',')
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect()
        };
        match (self, value) {
            (Test::Present, v) => v.is_some_and(|v| !v.is_empty()),
            (Test::Absent, v) => v.is_none(),
            (Test::Eq(x), Some(v)) => v.eq_ignore_ascii_case(x),
            (Test::Eq(_), None) => false,
            (Test::NotEq(x), Some(v)) => !v.eq_ignore_ascii_case(x),
            (Test::NotEq(_), None) => true,
            (Test::Has(x), Some(v)) => elements(v).iter().any(|e| e == x),
            (Test::Has(_), None) => false,
            (Test::NotHas(x), Some(v)) => !elements(v).iter().any(|e| e == x),
            (Test::NotHas(_), None) => true,
            (Test::Gte(n), Some(v)) => v.trim().parse::<i64>().is_ok_and(|x| x >= n),
            (Test::Gte(_), None) => false,
            (Test::OnlyOf(set), Some(v)) => {
                let els = elements(v);
                !els.is_empty() && els.iter().all(|e| set.contains(&e.as_str()))
            }
            (Test::OnlyOf(_), None) => false,
            (Test::Loopback, Some(v)) => {
                let v = v.trim();
                if let Ok(ip) = v.parse::<std::net::IpAddr>() {
                    return ip.is_loopback();
                }
                if let Ok(sa) = v.parse::<std::net::SocketAddr>() {
                    return sa.ip().is_loopback();
                }
                let host = v.rsplit_once(':').map_or(v, |(h, _)| h);
                host == "localhost"
            }
            (Test::Loopback, None) => false,
            (Test::NonZeroDuration, Some(v)) => {
                let digits: String = v
                    .chars()
                    .filter(|c| c.is_ascii_digit() && *c != '0')
                    .collect();
                !digits.is_empty()
            }
            (Test::NonZeroDuration, None) => false,
        }
    }

    /// The expectation in words.
    pub fn describe(self) -> String {
        match self {
            Test::Present => "set".to_owned(),
            Test::Absent => "not set".to_owned(),
            Test::Eq(x) => format!("= {x}"),
            Test::NotEq(x) => format!("not {x}"),
            Test::Has(x) => format!("includes {x}"),
            Test::NotHas(x) => format!("does not include {x}"),
            Test::Gte(n) => format!(">= {n}"),
            Test::OnlyOf(set) => format!("only of {}", set.join(",")),
            Test::Loopback => "a loopback address (127.0.0.1)".to_owned(),
            Test::NonZeroDuration => "a non-zero duration".to_owned(),
        }
    }
}

/// One setting: a flag, and where the component's configuration file holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The flag, without dashes (`anonymous-auth`).
    pub flag: &'static str,
    /// JSON pointer in the configuration file (`/authentication/anonymous/enabled`).
    pub config: Option<&'static str>,
    /// The value when neither flag nor file sets it, for a component run with flags only.
    pub default: Option<&'static str>,
    /// The value when a configuration file is used and does not set it (the file's
    /// defaulting differs from the flags' for the kubelet).
    pub config_default: Option<&'static str>,
}

impl Setting {
    /// A flag-only setting without default.
    pub const fn flag(flag: &'static str) -> Setting {
        Setting {
            flag,
            config: None,
            default: None,
            config_default: None,
        }
    }

    /// A flag-only setting with a default.
    pub const fn flag_default(flag: &'static str, default: &'static str) -> Setting {
        Setting {
            flag,
            config: None,
            default: Some(default),
            config_default: Some(default),
        }
    }

    /// The effective value: flag, else configuration file, else default.
    pub fn effective(&self, flags: &Flags, config: Option<&Value>) -> Effective {
        if let Some(v) = flags.get(self.flag) {
            return Effective {
                value: Some(v.to_owned()),
                origin: Origin::Flag,
            };
        }
        if let (Some(ptr), Some(cfg)) = (self.config, config) {
            if let Some(v) = cfg.pointer(ptr).filter(|v| !v.is_null()) {
                return Effective {
                    value: Some(value_text(v)),
                    origin: Origin::Config,
                };
            }
        }
        let default = if config.is_some() && self.config.is_some() {
            self.config_default
        } else {
            self.default
        };
        match default {
            Some(d) => Effective {
                value: Some(d.to_owned()),
                origin: Origin::Default,
            },
            None => Effective {
                value: None,
                origin: Origin::Unset,
            },
        }
    }

    /// Describes an effective value (`--profiling=true (flag)`).
    pub fn describe(&self, e: &Effective) -> String {
        let name = match (e.origin.clone(), self.config) {
            (Origin::Config, Some(ptr)) => format!(
                "{} (config file)",
                ptr.trim_start_matches('/').replace('/', ".")
            ),
            _ => format!("--{}", self.flag),
        };
        match (&e.value, &e.origin) {
            (Some(v), Origin::Flag) | (Some(v), Origin::Config) => format!("{name}={v}"),
            (Some(v), _) => format!("--{} unset (default {v})", self.flag),
            (None, _) => format!("--{} unset", self.flag),
        }
    }
}

/// Which benchmarks a check belongs to, by CIS minor (`cis-1.10` is 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Versions {
    /// First benchmark.
    pub since: u32,
    /// Last benchmark.
    pub until: u32,
}

/// Every benchmark of the table.
pub const ALL_VERSIONS: Versions = Versions {
    since: 10,
    until: 99,
};

/// A check of settings: every setting's effective value must pass the test.
#[derive(Clone, Copy, Debug)]
pub struct FlagCheck {
    /// The CIS id (`1.2.2`).
    pub id: &'static str,
    /// The CIS title, without `(Automated)` / `(Manual)`.
    pub title: &'static str,
    /// The component.
    pub component: Component,
    /// The settings; all must pass.
    pub settings: &'static [Setting],
    /// The test.
    pub test: Test,
    /// Whether CIS marks it manual (MANUAL, never a verdict).
    pub manual: bool,
    /// Severity of a failure.
    pub severity: Severity,
    /// How to fix it.
    pub remediation: &'static str,
    /// Benchmarks it is in.
    pub versions: Versions,
}

/// The outcome of a flag check on one configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlagOutcome {
    /// Whether every setting passes.
    pub pass: bool,
    /// The effective values, described.
    pub observed: String,
    /// The flag of the first failing setting.
    pub failing_flag: Option<&'static str>,
}

impl FlagCheck {
    /// Evaluates the check on a command line and an optional configuration file.
    pub fn evaluate(&self, flags: &Flags, config: Option<&Value>) -> FlagOutcome {
        let mut pass = true;
        let mut observed = Vec::new();
        let mut failing_flag = None;
        for s in self.settings {
            let e = s.effective(flags, config);
            let ok = self.test.passes(e.value.as_deref());
            if !ok && failing_flag.is_none() {
                failing_flag = Some(s.flag);
            }
            pass &= ok;
            observed.push(s.describe(&e));
        }
        FlagOutcome {
            pass,
            observed: observed.join("; "),
            failing_flag,
        }
    }

    /// The expectation in words.
    pub fn expected(&self) -> String {
        let names: Vec<String> = self
            .settings
            .iter()
            .map(|s| format!("--{}", s.flag))
            .collect();
        format!("{} {}", names.join(" and "), self.test.describe())
    }
}

/// Which file (or files) a file check inspects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileTarget {
    /// The static pod manifest of a component.
    Manifest(Component),
    /// `/etc/kubernetes/admin.conf` and `super-admin.conf`.
    AdminConfs,
    /// The scheduler's kubeconfig (`--kubeconfig`, default `/etc/kubernetes/scheduler.conf`).
    SchedulerKubeconfig,
    /// The controller manager's kubeconfig.
    ControllerManagerKubeconfig,
    /// `/etc/kubernetes/pki` and everything in it.
    PkiTree,
    /// `*.crt` under `/etc/kubernetes/pki`.
    PkiCerts,
    /// `*.key` under `/etc/kubernetes/pki`.
    PkiKeys,
    /// etcd's `--data-dir` (default `/var/lib/etcd`).
    EtcdDataDir,
    /// The kubelet's systemd unit and drop-ins.
    KubeletService,
    /// kube-proxy's `--kubeconfig`.
    ProxyKubeconfig,
    /// The kubelet's `--kubeconfig` (default `/etc/kubernetes/kubelet.conf`).
    KubeletKubeconfig,
    /// The kubelet's client CA file (`--client-ca-file` / `authentication.x509.clientCAFile`).
    KubeletClientCa,
    /// The kubelet's `--config` file.
    KubeletConfig,
    /// CNI configuration (`/etc/cni/net.d`) and state (`/var/lib/cni/networks`).
    CniFiles,
}

/// A check of file modes and ownership.
#[derive(Clone, Copy, Debug)]
pub struct FileCheck {
    /// The CIS id.
    pub id: &'static str,
    /// The CIS title.
    pub title: &'static str,
    /// The component whose presence makes the check apply.
    pub component: Component,
    /// The files.
    pub target: FileTarget,
    /// The most permissive mode allowed (`0o600`), if the check is about the mode.
    pub max_mode: Option<u32>,
    /// The owner (`root:root`, `etcd:etcd`), if the check is about ownership.
    pub owner: Option<&'static str>,
    /// Whether CIS marks it manual.
    pub manual: bool,
    /// Benchmarks it is in.
    pub versions: Versions,
}
