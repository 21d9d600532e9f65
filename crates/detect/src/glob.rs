//! Minimal glob matching: `*` matches any run of characters (including none),
//! `?` matches exactly one character; everything else matches itself.

/// Returns true when `text` matches the glob `pattern`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return pattern == text;
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
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
    }
}
