//! Known CVEs of Kubernetes components: a directory of YAML files (one per CVE, the format of
//! the k8s-cves project: `cve`, `components`, `affected: [{range, fixedBy}]`), matched against
//! running component versions; and the conversion of the Kubernetes project's official CVE
//! JSON Feed into that directory format.

use crate::version::{satisfies, Version};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// An affected version range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    /// go-version constraints (`">= 1.15.0, <= 1.15.4"`).
    pub range: String,
    /// The first fixed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<String>,
}

/// One CVE.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cve {
    /// `CVE-2023-5528`.
    pub cve: String,
    /// Link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The Kubernetes issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_url: Option<String>,
    /// Publication date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Affected components (`kube-apiserver`, `kubelet`...).
    #[serde(default)]
    pub components: Vec<String>,
    /// CVSS scores, kept as read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<serde_json::Value>,
    /// Affected ranges.
    #[serde(default)]
    pub affected: Vec<Affected>,
}

impl Cve {
    /// The affected range containing `v`, if any.
    pub fn affects(&self, v: Version) -> Option<&Affected> {
        self.affected.iter().find(|a| satisfies(v, &a.range))
    }

    /// The highest CVSS v3 score given (Kubernetes' own, else NVD's).
    pub fn score(&self) -> Option<f64> {
        let c = self.cvss.as_ref()?;
        c.pointer("/kubernetes/scoreV3")
            .or_else(|| c.pointer("/nvd/scoreV3"))
            .and_then(serde_json::Value::as_f64)
    }
}

/// Errors reading CVE data.
#[derive(Debug, thiserror::Error)]
pub enum CveError {
    /// The directory holds no CVE record: a wrong path would otherwise report no CVE.
    #[error("{path} holds no CVE record (CVE-*.yaml, as `palisade update-db` writes)")]
    Empty {
        /// The directory.
        path: String,
    },
    /// A file or directory could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a CVE record.
    #[error("{path}: not a CVE record")]
    Parse {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// The feed is not a JSON Feed.
    #[error("not a JSON Feed")]
    Feed(#[source] serde_json::Error),
}

/// A set of CVEs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CveDatabase {
    /// The CVEs, sorted by id.
    pub cves: Vec<Cve>,
}

/// A component version running in a cluster.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Running {
    /// `kube-apiserver`, `kubelet`, `kube-proxy`...
    pub component: String,
    /// Its version.
    pub version: Version,
}

/// A CVE that affects a running component.
#[derive(Clone, Debug, PartialEq)]
pub struct CveMatch<'a> {
    /// The CVE.
    pub cve: &'a Cve,
    /// The component and version it affects.
    pub running: Running,
    /// The range that contains it.
    pub affected: &'a Affected,
}

impl CveDatabase {
    /// Reads every `*.yaml` / `*.yml` file of a directory.
    pub fn load(dir: &Path) -> Result<CveDatabase, CveError> {
        let io = |e| CveError::Io {
            path: dir.display().to_string(),
            source: e,
        };
        let mut cves = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io)? {
            let path = entry.map_err(io)?.path();
            if !matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                continue;
            }
            let text = std::fs::read_to_string(&path).map_err(|e| CveError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            let cve: Cve = serde_yaml_ng::from_str(&text).map_err(|e| CveError::Parse {
                path: path.display().to_string(),
                source: e,
            })?;
            cves.push(cve);
        }
        if cves.is_empty() {
            return Err(CveError::Empty {
                path: dir.display().to_string(),
            });
        }
        cves.sort_by(|a, b| a.cve.cmp(&b.cve));
        Ok(CveDatabase { cves })
    }

    /// Every (CVE, running component) pair whose affected ranges contain the version. A CVE
    /// applies to a running component it lists; `kube-proxy` matches the kubelet's nodes too
    /// when given separately.
    pub fn matching(&self, running: &[Running]) -> Vec<CveMatch<'_>> {
        let mut out = Vec::new();
        for cve in &self.cves {
            for r in running {
                if !cve.components.contains(&r.component) {
                    continue;
                }
                if let Some(a) = cve.affects(r.version) {
                    out.push(CveMatch {
                        cve,
                        running: r.clone(),
                        affected: a,
                    });
                }
            }
        }
        out
    }
}

/// Converts the official Kubernetes CVE feed (JSON Feed 1.1, `items[]` with `id`, `url`,
/// `external_url`, `summary`, `content_text`, `date_published`) to CVE records. Components
/// and affected ranges are read from the announcement text's "Affected Versions" and "Fixed
/// Versions" lists (`- kubelet v1.28.0 - v1.28.3`, `- kube-apiserver <= v1.25.15`,
/// `- kubelet v1.28.4`); a CVE whose text has none keeps empty ranges (matches nothing).
pub fn from_json_feed(text: &str) -> Result<Vec<Cve>, CveError> {
    let feed: serde_json::Value = serde_json::from_str(text).map_err(CveError::Feed)?;
    let items = feed
        .get("items")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Vec::new();
    for item in items {
        let s = |k: &str| {
            item.get(k)
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        let Some(id) = s("id") else { continue };
        let content = s("content_text").unwrap_or_default();
        let (components, affected) = parse_affected(&content);
        out.push(Cve {
            cve: id,
            url: s("url"),
            issue_url: s("external_url"),
            published: s("date_published"),
            description: s("summary")
                .unwrap_or_else(|| content.lines().next().unwrap_or("").to_owned()),
            components,
            cvss: None,
            affected,
        });
    }
    out.sort_by(|a, b| a.cve.cmp(&b.cve));
    Ok(out)
}

const COMPONENTS: &[&str] = &[
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "kubectl",
    "client-go",
];

fn parse_affected(text: &str) -> (Vec<String>, Vec<Affected>) {
    let mut components: Vec<String> = Vec::new();
    let mut ranges: Vec<(String, String)> = Vec::new();
    let mut fixes: Vec<(String, Version)> = Vec::new();
    let mut section = "";
    for line in text.lines() {
        let l = line.trim();
        let lower = l.to_ascii_lowercase();
        if lower
            .trim_start_matches('#')
            .trim()
            .starts_with("affected versions")
        {
            section = "affected";
            continue;
        }
        if lower
            .trim_start_matches('#')
            .trim()
            .starts_with("fixed versions")
        {
            section = "fixed";
            continue;
        }
        if l.starts_with('#') {
            section = "";
            continue;
        }
        let Some(item) = l.strip_prefix("- ").or_else(|| l.strip_prefix("* ")) else {
            continue;
        };
        let words: Vec<&str> = item.split_whitespace().collect();
        let Some(component) = words.first().filter(|w| COMPONENTS.contains(w)) else {
            continue;
        };
        let rest = &words[1..];
        match section {
            "affected" => {
                let range = match rest {
                    [a, "-", b, ..] => Version::parse(a)
                        .zip(Version::parse(b))
                        .map(|(a, b)| format!(">= {a}, <= {b}")),
                    [op, v, ..] if ["<=", "<", ">=", ">"].contains(op) => {
                        Version::parse(v).map(|v| format!("{op} {v}"))
                    }
                    [v, ..] => Version::parse(v).map(|v| format!("= {v}")),
                    [] => None,
                };
                if let Some(r) = range {
                    if !components.iter().any(|c| c == component) {
                        components.push((*component).to_owned());
                    }
                    ranges.push(((*component).to_owned(), r));
                }
            }
            "fixed" => {
                if let Some(v) = rest.first().and_then(|v| Version::parse(v)) {
                    fixes.push(((*component).to_owned(), v));
                }
            }
            _ => {}
        }
    }
    let mut affected: Vec<Affected> = Vec::new();
    for (component, range) in ranges {
        // The fix of the same component and minor as the range's upper bound.
        let upper = range.rsplit(' ').next().and_then(Version::parse);
        let fixed_by = upper.and_then(|u| {
            fixes
                .iter()
                .filter(|(c, f)| {
                    *c == component && f.major == u.major && f.minor == u.minor && *f > u
                })
                .map(|(_, f)| f.to_string())
                .min()
        });
        if !affected.iter().any(|a| a.range == range) {
            affected.push(Affected { range, fixed_by });
        }
    }
    (components, affected)
}

/// Writes CVE records as `DIR/<id>.yaml`, returning how many were written.
pub fn write_dir(cves: &[Cve], dir: &Path) -> Result<usize, CveError> {
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |e| CveError::Io { path, source: e }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for c in cves {
        let path = dir.join(format!("{}.yaml", c.cve));
        let text = serde_yaml_ng::to_string(c).unwrap_or_default();
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    Ok(cves.len())
}
