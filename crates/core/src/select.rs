//! Rule selectors, as `--select` / `--ignore` and the configuration take them.
//!
//! A selector is one of:
//! - `ALL`: every rule;
//! - an id or an id prefix: `POD001`, `POD0`, `POD` (a family is its prefix);
//! - a family: `CP`, `NODE` and `VER` also select the host checks of those families;
//! - a dotted id or a prefix of it ending at a dot: `1.2.1`, `1.2` (the host checks of CIS
//!   section 1.2), `tls` (every `tls.*` host check);
//! - a rule name: `privileged-container`;
//! - a reference or a reference prefix: `cis`, `cis:5.2`, `book:ops.rbac`, `owasp:K01`
//!   (prefixes match whole segments: `cis:5.2` matches `cis:5.2.1`, not `cis:5.21`);
//! - a tag, exactly as written (tags are lowercase): `pss`.
//!
//! Matching is case-insensitive for ids and framework names.

use crate::rule::RuleMeta;

/// True when the selector selects the rule.
pub fn matches(selector: &str, rule: &RuleMeta) -> bool {
    let sel = selector.trim();
    if sel.is_empty() {
        return false;
    }
    if sel.eq_ignore_ascii_case("all") {
        return true;
    }
    if let Some((fw, rest)) = sel.split_once(':') {
        return rule.references.iter().any(|r| match r.split_once(':') {
            Some((rfw, rid)) => rfw.eq_ignore_ascii_case(fw) && segment_prefix(rest, rid),
            None => false,
        });
    }
    let upper = sel.to_ascii_uppercase();
    if upper
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && upper.chars().all(|c| c.is_ascii_alphanumeric())
        && rule.id.starts_with(&upper)
    {
        return true;
    }
    if rule
        .family_name
        .is_some_and(|f| f.eq_ignore_ascii_case(sel))
    {
        return true;
    }
    // Dotted host-check ids (`1.2` selects `1.2.1`) and loaded policies named
    // `Kind/name` (`K8sPSPPrivilegedContainer` selects each constraint of that kind).
    if (rule.id.contains('.') || rule.id.contains('/')) && segment_prefix(sel, rule.id) {
        return true;
    }
    if rule.name == sel {
        return true;
    }
    // Tags are lowercase words and match exactly (`RBAC` is the family, `rbac` also the tag).
    if rule.tags.contains(&sel) {
        return true;
    }
    // A bare framework name (`cis`, `nsa`, `book`) selects every rule that cites it.
    rule.references.iter().any(|r| {
        r.split_once(':')
            .is_some_and(|(fw, _)| fw.eq_ignore_ascii_case(sel))
    })
}

/// True when `prefix` equals `id` or is a prefix of it ending at a `.` or `-` boundary.
fn segment_prefix(prefix: &str, id: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    if prefix.eq_ignore_ascii_case(id) {
        return true;
    }
    id.len() > prefix.len()
        && id[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(id.as_bytes()[prefix.len()], b'.' | b'-' | b'/')
}

/// True when the string is a plausible selector for at least one of the rules.
pub fn is_known(selector: &str, rules: &[&RuleMeta]) -> bool {
    rules.iter().any(|r| matches(selector, r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::rule::Scope;

    static META: RuleMeta = RuleMeta {
        id: "POD001",
        name: "privileged-container",
        severity: Severity::Critical,
        summary: "",
        doc: "",
        references: &[
            "cis:5.2.2",
            "nsa:pod-security",
            "book:ops.pod-security-policy",
        ],
        tags: &["pss"],
        level: None,
        scope: Scope::Object,
        kinds: &["Pod"],
        options: &[],
        family_name: None,
    };

    static HOST: RuleMeta = RuleMeta {
        id: "1.2.1",
        name: "1.2.1",
        severity: Severity::High,
        summary: "",
        doc: "",
        references: &["cis:1.2.1"],
        tags: &["host"],
        level: None,
        scope: Scope::Host,
        kinds: &[],
        options: &[],
        family_name: Some("CP"),
    };

    static OWN: RuleMeta = RuleMeta {
        id: "tls.cert-expiry",
        name: "tls.cert-expiry",
        family_name: Some("CP"),
        references: &[],
        ..HOST
    };

    #[test]
    fn host_check_selectors() {
        for s in [
            "1.2.1", "1.2", "1", "cis:1.2", "cis", "CP", "cp", "host", "ALL",
        ] {
            assert!(matches(s, &HOST), "{s} should match");
        }
        for s in ["1.2.10", "1.21", "1.2.1.1", "NODE", "cis:1.2.10", "2", ""] {
            assert!(!matches(s, &HOST), "{s} should not match");
        }
        for s in ["tls", "TLS", "tls.cert-expiry", "tls.cert", "CP"] {
            assert!(matches(s, &OWN), "{s} should match");
        }
        for s in ["tls.certs", "tl", "access", "cis"] {
            assert!(!matches(s, &OWN), "{s} should not match");
        }
        // A family name does not select rules of other families by accident.
        assert!(!matches("CP", &META));
    }

    #[test]
    fn selectors() {
        for s in [
            "ALL",
            "all",
            "POD001",
            "POD0",
            "POD",
            "pod",
            "privileged-container",
            "cis",
            "cis:5",
            "cis:5.2",
            "cis:5.2.2",
            "CIS:5.2",
            "book:ops",
            "book:ops.pod-security-policy",
            "pss",
            "nsa",
        ] {
            assert!(matches(s, &META), "{s} should match");
        }
        for s in [
            "POD002",
            "IMG",
            "cis:5.22",
            "cis:5.2.20",
            "book:ops.rbac",
            "owasp",
            "",
            "privileged",
        ] {
            assert!(!matches(s, &META), "{s} should not match");
        }
    }
}
