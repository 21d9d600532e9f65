//! Showing a fix: a unified diff for people, line replacements for SARIF.

use similar::{ChangeTag, TextDiff};

/// A unified diff of `old` to `new` for `name` (empty when equal). Three lines of context,
/// none when the file holds a Secret: a context line could be one of its values.
pub fn unified(name: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let context = if holds_secret(old) { 0 } else { 3 };
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(context)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// True when a YAML or JSON text may hold a Secret document (`kind: Secret`).
fn holds_secret(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        let kind = l
            .strip_prefix("kind:")
            .or_else(|| l.strip_prefix("\"kind\":"))
            .or_else(|| l.strip_prefix("\"kind\" :"));
        kind.is_some_and(|k| {
            k.trim()
                .trim_end_matches(',')
                .trim_matches(|c| c == '"' || c == '\'')
                .trim()
                == "Secret"
        })
    })
}

/// Whole lines replaced: lines `start_line..end_line` (1-based, end exclusive; equal for an
/// insertion before `start_line`) of the old text become `inserted`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineReplacement {
    /// First replaced line (1-based).
    pub start_line: usize,
    /// Line just after the replaced ones.
    pub end_line: usize,
    /// The text put in their place (whole lines, with their line ends).
    pub inserted: String,
}

/// The changes from `old` to `new` as line replacements, in order.
pub fn line_replacements(old: &str, new: &str) -> Vec<LineReplacement> {
    let diff = TextDiff::from_lines(old, new);
    let mut out: Vec<LineReplacement> = Vec::new();
    let mut old_line = 1usize;
    let mut open: Option<LineReplacement> = None;
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Equal => {
                if let Some(r) = open.take() {
                    out.push(r);
                }
                old_line += 1;
            }
            ChangeTag::Delete => {
                let r = open.get_or_insert(LineReplacement {
                    start_line: old_line,
                    end_line: old_line,
                    inserted: String::new(),
                });
                r.end_line = old_line + 1;
                old_line += 1;
            }
            ChangeTag::Insert => {
                let r = open.get_or_insert(LineReplacement {
                    start_line: old_line,
                    end_line: old_line,
                    inserted: String::new(),
                });
                r.inserted.push_str(change.value());
            }
        }
    }
    if let Some(r) = open.take() {
        out.push(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacements_cover_changed_lines_only() {
        let old = "a\nb\nc\n";
        let new = "a\nB\nc\nd\n";
        assert_eq!(
            line_replacements(old, new),
            vec![
                LineReplacement {
                    start_line: 2,
                    end_line: 3,
                    inserted: "B\n".into()
                },
                LineReplacement {
                    start_line: 4,
                    end_line: 4,
                    inserted: "d\n".into()
                },
            ]
        );
        assert!(unified("f.yaml", old, new).starts_with("--- a/f.yaml\n+++ b/f.yaml\n@@"));
        assert_eq!(unified("f.yaml", old, old), "");
        // No context line of a file holding a Secret: it could be one of its values.
        let old = "kind: Pod\nspec:\n  a: 1\n---\nstringData:\n  k: CANARY\nkind: Secret\n";
        let new = old.replace("a: 1", "a: 2");
        let d = unified("f.yaml", old, &new);
        assert!(d.contains("+  a: 2") && !d.contains("CANARY"), "{d}");
    }
}
