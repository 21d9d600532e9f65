//! Finds the Kubernetes components on a host and how they are configured: process command
//! lines (`/proc/*/cmdline`), static pod manifests (`/etc/kubernetes/manifests`), the
//! kubelet's systemd unit and drop-ins (`KUBELET_*ARGS`, `EnvironmentFile`s) and the
//! configuration files they name (`--config`).

use crate::checks::Component;
use crate::flags::{split_words, Flags};
use crate::root::Root;
use palisade_core::object::string_list;
use serde_json::Value;

/// The kubelet's systemd drop-in directory.
pub const KUBELET_DROPIN_DIR: &str = "/etc/systemd/system/kubelet.service.d";
/// Where the kubelet's unit can be.
pub const KUBELET_UNITS: &[&str] = &[
    "/etc/systemd/system/kubelet.service",
    "/lib/systemd/system/kubelet.service",
    "/usr/lib/systemd/system/kubelet.service",
];
/// The kubelet's default configuration file.
pub const KUBELET_DEFAULT_CONFIG: &str = "/var/lib/kubelet/config.yaml";
/// The static pod directory.
pub const MANIFEST_DIR: &str = "/etc/kubernetes/manifests";

/// A component found on the host.
#[derive(Clone, Debug, Default)]
pub struct Found {
    /// Its flags (process command line first; else manifest; else systemd).
    pub flags: Flags,
    /// Where they were read.
    pub sources: Vec<String>,
    /// Its static pod manifest, when it has one.
    pub manifest: Option<String>,
    /// The container image of its static pod (gives the version).
    pub image: Option<String>,
    /// Its configuration file (`--config`), when it exists.
    pub config_path: Option<String>,
    /// The configuration file, parsed.
    pub config: Option<Value>,
    /// Problems reading it.
    pub problems: Vec<String>,
}

impl Found {
    /// The version from the image tag (`registry.k8s.io/kube-apiserver:v1.30.2` → `1.30.2`).
    pub fn version(&self) -> Option<String> {
        let image = self.image.as_deref()?;
        let image = image.split('@').next()?;
        let (_, tag) = image.rsplit_once(':')?;
        if tag.contains('/') {
            return None;
        }
        let v = tag.trim_start_matches('v');
        v.chars()
            .next()
            .filter(char::is_ascii_digit)
            .map(|_| v.to_owned())
    }
}

/// What discovery found.
#[derive(Clone, Debug, Default)]
pub struct Discovery {
    /// Components by kind.
    pub components: Vec<(Component, Found)>,
}

impl Discovery {
    /// A component, if present.
    pub fn get(&self, c: Component) -> Option<&Found> {
        self.components
            .iter()
            .find(|(k, _)| *k == c)
            .map(|(_, f)| f)
    }
}

/// The component a container runs and its flags, from a pod spec container
/// (`command` + `args`; the image name when `command` is empty).
pub fn container_component(container: &Value) -> Option<(Component, Flags)> {
    let words = |key: &str| string_list(container.get(key));
    let command = words("command");
    let args = words("args");
    let component = match command.first() {
        Some(bin) => Component::from_binary(bin)?,
        None => {
            let image = container.get("image").and_then(Value::as_str)?;
            let name = image.rsplit('/').next()?.split([':', '@']).next()?;
            Component::from_binary(name)?
        }
    };
    let mut all: Vec<String> = command.into_iter().skip(1).collect();
    all.extend(args);
    Some((component, Flags::parse(&all)))
}

fn parse_yaml(text: &str) -> Result<Value, String> {
    serde_yaml_ng::from_str::<Value>(text).map_err(|e| e.to_string())
}

/// Discovers the components under a root.
pub fn discover(root: &Root) -> Discovery {
    let mut found: Vec<(Component, Found)> = Vec::new();
    let entry = |found: &mut Vec<(Component, Found)>, c: Component| -> usize {
        match found.iter().position(|(k, _)| *k == c) {
            Some(i) => i,
            None => {
                found.push((c, Found::default()));
                found.len() - 1
            }
        }
    };
    // Static pod manifests.
    for path in root.list(MANIFEST_DIR) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json")) {
            continue;
        }
        let Ok(text) = root.read(&path) else { continue };
        let Ok(pod) = parse_yaml(&text) else { continue };
        let containers = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for c in &containers {
            if let Some((component, flags)) = container_component(c) {
                let i = entry(&mut found, component);
                let f = &mut found[i].1;
                f.manifest.get_or_insert_with(|| path.clone());
                f.image = c.get("image").and_then(Value::as_str).map(str::to_owned);
                if f.flags.is_empty() {
                    f.flags = flags;
                }
                f.sources.push(format!("manifest {path}"));
            }
        }
    }
    // Processes: the running command line wins over the manifest.
    let mut procs: Vec<(u64, String)> = root
        .list("/proc")
        .into_iter()
        .filter_map(|p| {
            let pid = p.rsplit('/').next()?.parse::<u64>().ok()?;
            Some((pid, p))
        })
        .collect();
    procs.sort();
    for (pid, dir) in procs {
        let Ok(raw) = root.read_bytes(&format!("{dir}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let Some(bin) = args.first() else { continue };
        let Some(component) = Component::from_binary(bin) else {
            continue;
        };
        let i = entry(&mut found, component);
        let f = &mut found[i].1;
        f.flags = Flags::parse(&args[1..]);
        f.sources.insert(0, format!("process {pid}"));
    }
    // The kubelet's systemd unit and drop-ins, when no process shows its command line.
    let units = kubelet_unit_files(root);
    if !units.is_empty() {
        let i = entry(&mut found, Component::Kubelet);
        let f = &mut found[i].1;
        if !f.sources.iter().any(|s| s.starts_with("process")) {
            f.flags = kubelet_systemd_flags(root, &units);
            for u in &units {
                f.sources.push(format!("systemd {u}"));
            }
        }
    } else if root.exists(KUBELET_DEFAULT_CONFIG) {
        let i = entry(&mut found, Component::Kubelet);
        found[i]
            .1
            .sources
            .push(format!("config {KUBELET_DEFAULT_CONFIG}"));
    }
    // Configuration files.
    for (c, f) in &mut found {
        let path = match (c, f.flags.get("config")) {
            (_, Some(p)) => Some(p.to_owned()),
            (Component::Kubelet, None) => Some(KUBELET_DEFAULT_CONFIG.to_owned()),
            _ => None,
        };
        if let Some(path) = path {
            match root.read(&path) {
                Ok(text) => match parse_yaml(&text) {
                    Ok(v) => {
                        f.config = Some(v);
                        f.config_path = Some(path);
                    }
                    Err(e) => f.problems.push(format!("{path}: {e}")),
                },
                Err(e) => f.problems.push(format!("{path}: {e}")),
            }
        }
    }
    found.sort_by_key(|(c, _)| *c);
    Discovery { components: found }
}

/// The kubelet's unit file and drop-ins that exist.
pub fn kubelet_unit_files(root: &Root) -> Vec<String> {
    let mut out: Vec<String> = KUBELET_UNITS
        .iter()
        .filter(|u| root.exists(u))
        .map(|u| (*u).to_owned())
        .collect();
    for dir in [
        KUBELET_DROPIN_DIR,
        "/usr/lib/systemd/system/kubelet.service.d",
        "/lib/systemd/system/kubelet.service.d",
    ] {
        out.extend(root.list(dir).into_iter().filter(|p| p.ends_with(".conf")));
    }
    out
}

/// The kubelet flags its systemd units give: `Environment="KUBELET_*ARGS=..."`, the
/// `EnvironmentFile`s they name, and the flags written on `ExecStart`.
pub fn kubelet_systemd_flags(root: &Root, units: &[String]) -> Flags {
    let mut flags = Flags::default();
    for unit in units {
        let Ok(text) = root.read(unit) else { continue };
        for line in text.lines() {
            let line = line.trim();
            if let Some(env) = line.strip_prefix("Environment=") {
                for word in split_words(env) {
                    if let Some((k, v)) = word.split_once('=') {
                        if k.starts_with("KUBELET_") && k.ends_with("ARGS") {
                            flags.extend(Flags::parse_line(v));
                        }
                    }
                }
            } else if let Some(file) = line.strip_prefix("EnvironmentFile=") {
                let file = file.trim_start_matches('-');
                if let Ok(env) = root.read(file) {
                    for l in env.lines() {
                        if let Some((k, v)) = l.trim().split_once('=') {
                            if k.starts_with("KUBELET_") && k.ends_with("ARGS") {
                                let v = v.trim().trim_matches('"').trim_matches('\'');
                                flags.extend(Flags::parse_line(v));
                            }
                        }
                    }
                }
            } else if let Some(exec) = line.strip_prefix("ExecStart=") {
                let words: Vec<String> = split_words(exec)
                    .into_iter()
                    .filter(|w| !w.starts_with('$'))
                    .collect();
                if words.first().and_then(|b| Component::from_binary(b)) == Some(Component::Kubelet)
                {
                    flags.extend(Flags::parse(&words[1..]));
                }
            }
        }
    }
    flags
}
