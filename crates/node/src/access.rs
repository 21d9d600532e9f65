//! Node access: the SSH daemon's configuration (`/etc/ssh/sshd_config` and the files it
//! includes, first value wins as in sshd; settings under `Match` blocks are not global).

use crate::checks::own;
use crate::root::Root;
use palisade_core::{CheckResult, CheckStatus};
use std::collections::BTreeMap;

/// The sshd configuration file.
pub const SSHD_CONFIG: &str = "/etc/ssh/sshd_config";

/// Global sshd settings (lower-case keyword → value and the file it came from).
pub fn sshd_settings(root: &Root) -> Option<BTreeMap<String, (String, String)>> {
    let text = root.read(SSHD_CONFIG).ok()?;
    let mut out = BTreeMap::new();
    let mut in_match = false;
    read_into(root, SSHD_CONFIG, &text, &mut out, &mut in_match, 0);
    Some(out)
}

fn include_paths(root: &Root, pattern: &str) -> Vec<String> {
    let pattern = if pattern.starts_with('/') {
        pattern.to_owned()
    } else {
        format!("/etc/ssh/{pattern}")
    };
    match pattern.rsplit_once('/') {
        Some((dir, file)) if file.contains('*') => {
            let (prefix, suffix) = file.split_once('*').unwrap_or((file, ""));
            root.list(dir)
                .into_iter()
                .filter(|p| {
                    let name = p.rsplit('/').next().unwrap_or(p);
                    name.starts_with(prefix)
                        && name.ends_with(suffix)
                        && name.len() >= prefix.len() + suffix.len()
                })
                .collect()
        }
        _ => vec![pattern],
    }
}

fn read_into(
    root: &Root,
    file: &str,
    text: &str,
    out: &mut BTreeMap<String, (String, String)>,
    in_match: &mut bool,
    depth: usize,
) {
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.split_once(|c: char| c.is_whitespace() || c == '=') {
            Some((k, v)) => (
                k.to_ascii_lowercase(),
                v.trim().trim_start_matches('=').trim().to_owned(),
            ),
            None => continue,
        };
        if key == "match" {
            *in_match = true;
            continue;
        }
        if *in_match {
            continue;
        }
        if key == "include" {
            if depth < 8 {
                for pattern in value.split_whitespace() {
                    for p in include_paths(root, pattern) {
                        if let Ok(t) = root.read(&p) {
                            read_into(root, &p, &t, out, in_match, depth + 1);
                        }
                    }
                }
            }
            continue;
        }
        if key == "listenaddress" {
            // Repeatable: every address counts.
            let e = out
                .entry(key)
                .or_insert_with(|| (String::new(), file.to_owned()));
            if !e.0.is_empty() {
                e.0.push(' ');
            }
            e.0.push_str(&value);
            continue;
        }
        out.entry(key).or_insert_with(|| (value, file.to_owned()));
    }
}

/// The SSH checks.
pub fn sshd_checks(root: &Root) -> Vec<CheckResult> {
    let Some(settings) = sshd_settings(root) else {
        return vec![own::SSHD_PRESENT.result(
            CheckStatus::Pass,
            None,
            format!("{SSHD_CONFIG} not found: no SSH daemon configured"),
            None,
        )];
    };
    let get = |k: &str| settings.get(k).map(|(v, f)| (v.as_str(), f.clone()));
    let mut out = vec![own::SSHD_PRESENT.result(        CheckStatus::Pass,        None,        format!("{SSHD_CONFIG} present: the node runs an SSH daemon; its settings are checked below (prefer ephemeral access: kubectl debug node, a bastion with short-lived certificates)"),        Some(SSHD_CONFIG.to_owned()),    )];
    let (root_login, file) =
        get("permitrootlogin").map_or(("prohibit-password", None), |(v, f)| (v, Some(f)));
    let rl = root_login.to_ascii_lowercase();
    let status = match rl.as_str() {
        "no" | "prohibit-password" | "without-password" => CheckStatus::Pass,
        "forced-commands-only" => CheckStatus::Warn,
        _ => CheckStatus::Fail,
    };
    out.push(own::SSHD_ROOT_LOGIN.result(
        status,
        None,
        match &file {
            Some(f) => format!("PermitRootLogin {root_login} ({f})"),
            None => "PermitRootLogin unset (default prohibit-password)".to_owned(),
        },
        file.or(Some(SSHD_CONFIG.to_owned())),
    ));
    let (pw, file) = get("passwordauthentication").map_or(("yes", None), |(v, f)| (v, Some(f)));
    out.push(own::SSHD_PASSWORD_AUTH.result(
        if pw.eq_ignore_ascii_case("no") {
            CheckStatus::Pass
        } else {
            CheckStatus::Fail
        },
        None,
        match &file {
            Some(f) => format!("PasswordAuthentication {pw} ({f})"),
            None => "PasswordAuthentication unset (default yes)".to_owned(),
        },
        file.or(Some(SSHD_CONFIG.to_owned())),
    ));
    let listen = get("listenaddress");
    let any = listen.as_ref().is_none_or(|(v, _)| {
        v.split_whitespace().any(|a| {
            let host = a
                .rsplit_once(':')
                .filter(|_| !a.starts_with('['))
                .map_or(a, |(h, _)| h);
            matches!(host, "0.0.0.0" | "::" | "[::]" | "*")
        })
    });
    out.push(own::SSHD_LISTEN_ADDRESS.result(
        if any {
            CheckStatus::Warn
        } else {
            CheckStatus::Pass
        },
        None,
        match &listen {
            Some((v, f)) => format!("ListenAddress {v} ({f})"),
            None => "ListenAddress unset (default: every address)".to_owned(),
        },
        listen.map(|(_, f)| f).or(Some(SSHD_CONFIG.to_owned())),
    ));
    out
}
