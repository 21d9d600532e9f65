//! Version currency: Kubernetes minor releases and their end of life, version skew between
//! the API server and the kubelets, node OS images and container runtimes past their end of
//! life. Tables in code, dated; no I/O.

use jiff::civil::{date, Date};
use std::cmp::Ordering;
use std::fmt;

/// The day the release table below was last brought up to date.
pub const TABLE_DATE: Date = date(2025, 12, 17);

/// A Kubernetes minor release: `(minor, released, end of life)`. End of life is the end of
/// upstream patch support (the project's published dates; for the newest releases, the date
/// the release policy gives: the 28th of the month, 14 months after release).
pub const RELEASES: &[(u32, Date, Date)] = &[
    (19, date(2020, 8, 26), date(2021, 10, 28)),
    (20, date(2020, 12, 8), date(2022, 2, 28)),
    (21, date(2021, 4, 8), date(2022, 6, 28)),
    (22, date(2021, 8, 4), date(2022, 10, 28)),
    (23, date(2021, 12, 7), date(2023, 2, 28)),
    (24, date(2022, 5, 3), date(2023, 7, 28)),
    (25, date(2022, 8, 23), date(2023, 10, 27)),
    (26, date(2022, 12, 9), date(2024, 2, 28)),
    (27, date(2023, 4, 11), date(2024, 6, 28)),
    (28, date(2023, 8, 15), date(2024, 10, 28)),
    (29, date(2023, 12, 13), date(2025, 2, 28)),
    (30, date(2024, 4, 17), date(2025, 6, 28)),
    (31, date(2024, 8, 13), date(2025, 10, 28)),
    (32, date(2024, 12, 11), date(2026, 2, 28)),
    (33, date(2025, 4, 23), date(2026, 6, 28)),
    (34, date(2025, 8, 27), date(2026, 10, 27)),
    (35, date(2025, 12, 17), date(2027, 2, 28)),
];

/// Releases within this many days of their end of life warn.
pub const EOL_WARN_DAYS: i32 = 60;

/// A semantic version (`v1.24.0`, `1.28.3-eks-1234`, `v1.30.2+k3s1`), with missing parts 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
}

impl Version {
    /// Parses `v1.24.0`, `1.24`, `1.24.0-rc.1`, `v1.30.2+k3s1` (pre-release and build
    /// metadata are ignored).
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let core = s.split(['-', '+', ' ']).next()?;
        let mut parts = core.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        let patch = parts.next().map_or(Some(0), |p| p.parse().ok())?;
        Some(Version {
            major,
            minor,
            patch,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Whether a version satisfies a go-version constraint string (`">= 1.15.0, <= 1.15.4"`,
/// `"< 1.14.8"`, `"1.13.0"`, `"~> 1.2"`): every comma-separated constraint must hold.
pub fn satisfies(v: Version, constraints: &str) -> bool {
    let mut any = false;
    for c in constraints.split(',') {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        any = true;
        let (op, rest) = ["<=", ">=", "!=", "~>", "<", ">", "="]
            .iter()
            .find_map(|op| c.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("=", c));
        let Some(target) = Version::parse(rest) else {
            return false;
        };
        // A pre-release bound (`1.20.0-alpha.2`) sorts just below its release: for a released
        // version, `<= X-pre` is `< X` and `> X-pre` is `>= X`.
        let pre = rest.trim().trim_start_matches('v').contains('-');
        let op = match (op, pre) {
            ("<=", true) => "<",
            (">", true) => ">=",
            ("=", true) => return false,
            (o, _) => o,
        };
        let ord = v.cmp(&target);
        let ok = match op {
            "<" => ord == Ordering::Less,
            "<=" => ord != Ordering::Greater,
            ">" => ord == Ordering::Greater,
            ">=" => ord != Ordering::Less,
            "!=" => ord != Ordering::Equal,
            "~>" => {
                // Pessimistic: >= target, and below the next release of the last given part.
                let segments = rest
                    .trim()
                    .trim_start_matches('v')
                    .split(['-', '+'])
                    .next()
                    .unwrap_or("")
                    .split('.')
                    .count();
                let upper = match segments {
                    0..=2 => Version {
                        major: target.major + 1,
                        minor: 0,
                        patch: 0,
                    },
                    _ => Version {
                        major: target.major,
                        minor: target.minor + 1,
                        patch: 0,
                    },
                };
                ord != Ordering::Less && v < upper
            }
            _ => ord == Ordering::Equal,
        };
        if !ok {
            return false;
        }
    }
    any
}

/// The support status of a Kubernetes version on a day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    /// Supported until the date.
    Supported(Date),
    /// Less than [`EOL_WARN_DAYS`] of support left.
    EndingSoon(Date),
    /// Past its end of life since the date.
    EndOfLife(Date),
    /// Older than the table: long past end of life.
    Ancient,
    /// Newer than the table: assumed supported.
    Newer,
}

/// The support status of a Kubernetes version on `today`.
pub fn support(v: Version, today: Date) -> Support {
    if v.major != 1 {
        return Support::Newer;
    }
    let first = RELEASES[0].0;
    let last = RELEASES[RELEASES.len() - 1].0;
    if v.minor < u64::from(first) {
        return Support::Ancient;
    }
    if v.minor > u64::from(last) {
        return Support::Newer;
    }
    let (_, _, eol) = RELEASES
        .iter()
        .find(|(m, _, _)| u64::from(*m) == v.minor)
        .copied()
        .unwrap_or(RELEASES[0]);
    if today > eol {
        Support::EndOfLife(eol)
    } else if (eol - today).get_days() < EOL_WARN_DAYS {
        Support::EndingSoon(eol)
    } else {
        Support::Supported(eol)
    }
}

/// How many minors a kubelet (or kube-proxy) may be older than the API server.
pub fn allowed_skew(api_minor: u64) -> u64 {
    if api_minor >= 28 {
        3
    } else {
        2
    }
}

/// A version-skew problem between the API server and a node component, if any.
pub fn skew_problem(api: Version, node: Version) -> Option<String> {
    if node.major != api.major {
        return Some(format!(
            "major version {} differs from the API server's {}",
            node.major, api.major
        ));
    }
    if node.minor > api.minor {
        return Some(format!(
            "v{node} is newer than the API server v{api}: unsupported"
        ));
    }
    let allowed = allowed_skew(api.minor);
    if api.minor - node.minor > allowed {
        return Some(format!(
            "v{node} is {} minors older than the API server v{api} (at most {allowed} supported)",
            api.minor - node.minor
        ));
    }
    None
}

/// Node OS images recognised as past their end of life: `(osImage prefix, end of life)`.
/// Conservative: only well-known end dates of the vendors' standard support.
pub const EOL_OS_IMAGES: &[(&str, Date)] = &[
    ("Ubuntu 14.04", date(2019, 4, 30)),
    ("Ubuntu 16.04", date(2021, 4, 30)),
    ("Ubuntu 18.04", date(2023, 5, 31)),
    ("Ubuntu 20.04", date(2025, 5, 31)),
    ("CentOS Linux 7", date(2024, 6, 30)),
    ("CentOS Linux 8", date(2021, 12, 31)),
    ("CentOS Stream 8", date(2024, 5, 31)),
    ("Red Hat Enterprise Linux Server 7", date(2024, 6, 30)),
    ("Debian GNU/Linux 8", date(2018, 6, 17)),
    ("Debian GNU/Linux 9", date(2020, 7, 6)),
    ("Debian GNU/Linux 10", date(2022, 9, 10)),
    ("Amazon Linux AMI", date(2023, 12, 31)),
    ("Amazon Linux 2", date(2026, 6, 30)),
    ("Flatcar Container Linux by Kinvolk 2", date(2021, 12, 31)),
    ("CoreOS", date(2020, 5, 26)),
];

/// The end of life of a node OS image, if it is past on `today`.
pub fn os_image_eol(os_image: &str, today: Date) -> Option<Date> {
    EOL_OS_IMAGES
        .iter()
        .filter(|(prefix, _)| {
            os_image.starts_with(prefix)
                && !os_image[prefix.len()..].starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|(_, d)| *d)
        .find(|d| today > *d)
}

/// A problem with a container runtime version (`containerd://1.4.13`, `docker://20.10.7`).
pub fn runtime_problem(runtime: &str) -> Option<String> {
    let (name, version) = runtime.split_once("://")?;
    let v = Version::parse(version)?;
    match name {
        "docker" => Some(format!(
            "{runtime}: dockershim was removed in Kubernetes 1.24; Docker Engine needs cri-dockerd"
        )),
        "containerd"
            if v < Version {
                major: 1,
                minor: 6,
                patch: 0,
            } =>
        {
            Some(format!(
                "{runtime}: containerd before 1.6 is past its end of life"
            ))
        }
        "cri-o" if v.major == 1 && v.minor < 24 => Some(format!(
            "{runtime}: CRI-O {}.{} is past its end of life",
            v.major, v.minor
        )),
        _ => None,
    }
}

/// A problem with a kernel version (`5.15.0-1057-azure`): conservative, only kernels older
/// than the 4.19 long-term series.
pub fn kernel_problem(kernel: &str) -> Option<String> {
    let v = Version::parse(kernel)?;
    (v < Version {
        major: 4,
        minor: 19,
        patch: 0,
    })
    .then(|| format!("kernel {kernel} is older than every maintained long-term series"))
}
