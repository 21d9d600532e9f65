//! `NODE002`: kubelet flags in static pod manifests, evaluated with a flag table of their own.
//! (The control-plane components use the CIS flag table of `palisade-node`; see `control_plane`.)

pub(crate) mod kubelet_insecure_flags;
use palisade_core::{Container, Context, Object, PodTemplate};
use serde_json::Value;

/// What a flag must satisfy.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Test {
    /// Set to this value (case-insensitive); missing fails.
    Is(&'static str),
    /// Not set to this value; missing passes (the default is safe).
    Not(&'static str),
    /// Set, non-empty; with several flags, all of them.
    Set,
    /// Not set at all.
    Unset,
    /// A comma-separated list that must not contain this item; missing passes.
    Excludes(&'static str),
    /// A `key=value` list (feature gates) where the key must not be `false`.
    GateNotFalse(&'static str),
    /// Cipher suites from the strong set only; missing passes (Go's defaults are strong).
    StrongCiphers,
}

/// One CIS control on a component's flags.
pub(crate) struct FlagCheck {
    /// CIS Kubernetes Benchmark control.
    pub cis: &'static str,
    /// The flags (all of them for [`Test::Set`]).
    pub flags: &'static [&'static str],
    /// The test.
    pub test: Test,
}

const STRONG_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
];

/// The parsed flags of a container: `--name=value`, `--name value`, `--name` (no value).
pub(crate) struct Flags<'a> {
    pub container: Container<'a>,
    items: Vec<(String, Option<String>)>,
}

impl Flags<'_> {
    fn get(&self, flag: &str) -> Option<Option<&str>> {
        self.items
            .iter()
            .rev()
            .find(|(k, _)| k == flag)
            .map(|(_, v)| v.as_deref())
    }
}

fn tokens(c: &Container<'_>) -> Vec<String> {
    ["command", "args"]
        .iter()
        .filter_map(|f| c.get(f).and_then(Value::as_array))
        .flatten()
        .filter_map(Value::as_str)
        .flat_map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// The containers of a Pod or workload that run `component` (`kube-apiserver`, `kubelet`...), with
/// their flags: the binary is the first token of `command` (or `hyperkube <component>`).
pub(crate) fn component<'a>(object: &'a Object, component: &str) -> Vec<Flags<'a>> {
    let Some(pod) = PodTemplate::of(object) else {
        return Vec::new();
    };
    let short = component.trim_start_matches("kube-");
    pod.containers()
        .filter_map(|c| {
            let toks = tokens(&c);
            let first = toks.first()?;
            let bin = first.rsplit('/').next().unwrap_or(first);
            // Only flags (`args` without `command`): the image's entrypoint is the binary,
            // recognised by the image's repository name (`etcd`, `kube-apiserver-amd64`).
            let image = c.image().split('@').next().unwrap_or("");
            let repo = image.rsplit('/').next().unwrap_or(image);
            let repo = repo.split(':').next().unwrap_or(repo);
            let skip = if first.starts_with('-') {
                if repo == component || repo.starts_with(&format!("{component}-")) {
                    0
                } else {
                    return None;
                }
            } else if bin == component {
                1
            } else if bin == "hyperkube"
                && toks.get(1).is_some_and(|t| t == component || t == short)
            {
                2
            } else {
                return None;
            };
            let mut items = Vec::new();
            let mut i = skip;
            while i < toks.len() {
                let t = &toks[i];
                i += 1;
                let Some(name) = t.strip_prefix("--") else {
                    continue;
                };
                match name.split_once('=') {
                    Some((k, v)) => items.push((format!("--{k}"), Some(v.to_owned()))),
                    None => {
                        let v = toks.get(i).filter(|n| !n.starts_with('-')).cloned();
                        if v.is_some() {
                            i += 1;
                        }
                        items.push((format!("--{name}"), v));
                    }
                }
            }
            Some(Flags {
                container: c,
                items,
            })
        })
        .collect()
}

fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// The problem with a check on these flags, if any.
fn problem(flags: &Flags<'_>, check: &FlagCheck) -> Option<String> {
    let flag = check.flags[0];
    let value = flags.get(flag);
    match check.test {
        Test::Is(want) => match value {
            Some(Some(v)) if v.eq_ignore_ascii_case(want) => None,
            // a bare boolean flag means true
            Some(None) if want == "true" => None,
            Some(v) => Some(format!(
                "{flag} is {} (should be {want})",
                v.unwrap_or("set")
            )),
            None => Some(format!("{flag} is not set (should be {want})")),
        },
        Test::Not(bad) => match value {
            Some(Some(v)) if v.eq_ignore_ascii_case(bad) => Some(format!("{flag} is {v}")),
            Some(None) if bad == "true" => Some(format!("{flag} is set")),
            _ => None,
        },
        Test::Set => {
            let missing: Vec<&str> = check
                .flags
                .iter()
                .copied()
                .filter(|f| matches!(flags.get(f), None | Some(Some(""))))
                .collect();
            (!missing.is_empty()).then(|| format!("{} not set", missing.join(" and ")))
        }
        Test::Unset => value.map(|_| format!("{flag} is set")),
        Test::Excludes(item) => {
            let l = list(value.flatten());
            l.iter()
                .any(|x| x.eq_ignore_ascii_case(item))
                .then(|| format!("{flag} includes {item}"))
        }
        Test::GateNotFalse(gate) => list(value.flatten())
            .iter()
            .any(|g| {
                g.split_once('=')
                    .is_some_and(|(k, v)| k == gate && v.eq_ignore_ascii_case("false"))
            })
            .then(|| format!("{flag} sets {gate}=false")),
        Test::StrongCiphers => {
            let weak: Vec<String> = list(value.flatten())
                .into_iter()
                .filter(|c| !STRONG_CIPHERS.contains(&c.as_str()))
                .collect();
            (!weak.is_empty())
                .then(|| format!("{flag} allows weak or unknown suites: {}", weak.join(", ")))
        }
    }
}

/// Runs every check on every container of the object that runs `bin`.
pub(crate) fn check_component(
    object: &Object,
    cx: &mut Context<'_>,
    bin: &str,
    checks: &[FlagCheck],
) {
    for flags in component(object, bin) {
        for check in checks {
            let Some(p) = problem(&flags, check) else {
                continue;
            };
            let c = flags.container;
            let field = if c.get("command").is_some() {
                "/command"
            } else {
                "/args"
            };
            cx.report(c.pointer(field), format!("{bin}: {p} (CIS {})", check.cis))
                .fix(format!("{bin}: {}", fix(check)))
                .property("flag", check.flags.join(","))
                .property("cis", check.cis)
                .property("container", c.name);
        }
    }
}

fn fix(check: &FlagCheck) -> String {
    let f = check.flags.join(" and ");
    match check.test {
        Test::Is(v) => format!("set {f}={v}"),
        Test::Not(v) => format!("remove {f}={v} (the default is safe)"),
        Test::Set => format!("set {f}"),
        Test::Unset => format!("remove {f}"),
        Test::Excludes(i) => format!("remove {i} from {f}"),
        Test::GateNotFalse(g) => format!("remove {g}=false from {f}"),
        Test::StrongCiphers => format!("limit {f} to AEAD suites (AES-GCM, ChaCha20-Poly1305)"),
    }
}
