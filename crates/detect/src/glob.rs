//! Glob matching of user names, groups, namespaces and user agents: `*` matches any run of
//! characters (including none), `?` exactly one character; everything else matches itself.
//! The matcher is `wildmatch`'s, as in the core crate's exception and registry patterns.

use wildmatch::WildMatch;

/// Returns true when `text` matches the glob `pattern`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    // Most patterns are plain names: no matcher to build for them.
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    WildMatch::new(pattern).matches(text)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match(
            "system:serviceaccount:kube-system:*",
            "system:serviceaccount:kube-system:x"
        ));
        assert!(!glob_match(
            "system:serviceaccount:kube-system:*",
            "system:serviceaccount:ci:x"
        ));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*b*", "abc"));
        assert!(!glob_match("abc", "abcd"));
        assert!(glob_match("system:node:*", "system:node:worker-1"));
        assert!(glob_match("a*b*c", "aXbYbZc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(glob_match("kubectl/*", "kubectl/v1.31.0 (linux/amd64)"));
    }
}
