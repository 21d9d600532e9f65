//! `palisade fix` end to end: in place, `--diff`, `--dry-run`, templates refused, and a round
//! trip over a sample of real-world manifests.

#![allow(clippy::print_stderr)]

mod common;
use common::{palisade_in, root, stderr, stdout};
use std::path::Path;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn fix_the_insecure_example_diff_then_in_place_then_nothing_left() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("insecure");
    copy_dir(&root().join("examples/insecure"), &ex);
    let before = std::fs::read_to_string(ex.join("backup.yaml")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            ex.join("backup.yaml"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
    }

    // --diff shows, writes nothing, exits 1.
    let o = palisade_in(dir.path(), &["fix", "--diff", "insecure"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let diff = stdout(&o);
    assert!(
        diff.contains("--- a/insecure/backup.yaml\n+++ b/insecure/backup.yaml"),
        "{diff}"
    );
    assert!(
        diff.contains("-              privileged: true\n+              privileged: false\n"),
        "{diff}"
    );
    assert!(
        diff.contains("+          allowPrivilegeEscalation: false\n"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read_to_string(ex.join("backup.yaml")).unwrap(),
        before
    );

    // In place.
    let o = palisade_in(dir.path(), &["fix", "insecure"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("insecure/backup.yaml:2: CronJob/shop/backup fixed POD001: /spec/jobTemplate/spec/template/spec/containers/0/securityContext/privileged"), "{out}");
    assert!(
        out.contains("SEC001 not fixed: the pod runs as service account `api`"),
        "{out}"
    );
    assert!(out.contains("POD021 is now reported"), "{out}");
    let after = std::fs::read_to_string(ex.join("backup.yaml")).unwrap();
    assert!(
        after.starts_with("# Nightly backup to object storage"),
        "comment kept"
    );
    #[cfg(unix)]
    assert_eq!(mode(&ex.join("backup.yaml")), 0o640, "permissions kept");
    // No temporary file left behind.
    assert!(std::fs::read_dir(&ex).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with('.')));

    // Nothing left to fix; the fixed rules are clean on a re-scan.
    let o = palisade_in(dir.path(), &["fix", "--dry-run", "insecure"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("0 fixes would apply in 0 files"),
        "{}",
        stdout(&o)
    );
    let o = palisade_in(
        dir.path(),
        &[
            "scan",
            "insecure",
            "--select",
            "POD001,POD002,POD008,POD016,IMG003",
            "--format",
            "json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
}

#[test]
fn select_unsafe_and_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pod.yaml");
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - {name: app, image: app:1.0}  # the app\n";
    std::fs::write(&f, text).unwrap();
    // Only POD002.
    let o = palisade_in(dir.path(), &["fix", "--select", "POD002", "pod.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - {name: app, image: app:1.0, securityContext: {allowPrivilegeEscalation: false}}  # the app\n"
    );
    // readOnlyRootFilesystem only with --unsafe; the UID is only suggested.
    let o = palisade_in(dir.path(), &["fix", "--dry-run", "pod.yaml"]);
    assert!(!stdout(&o).contains("POD021"), "{}", stdout(&o));
    let o = palisade_in(dir.path(), &["fix", "--dry-run", "--unsafe", "pod.yaml"]);
    let out = stdout(&o);
    assert!(out.contains("would fix POD021"), "{out}");
    assert!(out.contains("POD003 suggestion: set `/spec/securityContext` to `{runAsNonRoot: true, runAsUser: <UID>}`"), "{out}");
    assert!(!std::fs::read_to_string(&f).unwrap().contains("<UID>"));
    // A selector that names no rule is an error.
    let o = palisade_in(dir.path(), &["fix", "--select", "NOPE999", "pod.yaml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn templates_and_stdin_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("deploy.yaml");
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: web\n        image: \"{{ .Values.image }}\"\n";
    std::fs::write(&f, text).unwrap();
    let o = palisade_in(dir.path(), &["fix", "deploy.yaml"]);
    assert!(
        stderr(&o).contains("deploy.yaml: refused: holds template syntax"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
    let o = palisade_in(dir.path(), &["fix", "-"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("standard input"), "{}", stderr(&o));
}

/// Field names the fixes write: a line they change holds one of them (or is JSON that gains
/// the comma before a new member).
const FIX_FIELDS: &[&str] = &[
    "securityContext",
    "privileged",
    "allowPrivilegeEscalation",
    "capabilities",
    "drop",
    "seccompProfile",
    "imagePullPolicy",
    "automountServiceAccountToken",
];

/// A sample of ../shared/corpus/real-manifests (every 20th parseable file, and every JSON
/// file): `fix`, then `fix --dry-run` finds nothing; lines no fix wrote are byte-identical,
/// comments are all kept.
#[test]
fn round_trip_over_real_manifests() {
    let Some(corpus) = palisade_testkit::corpus("real-manifests") else {
        return;
    };
    let index = std::fs::read_to_string(corpus.join("manifest_index.tsv")).unwrap();
    let files: Vec<&str> = index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols.get(3) == Some(&"ok")).then_some(cols[0])
        })
        .enumerate()
        .filter(|(i, f)| i % 20 == 0 || f.ends_with(".json"))
        .map(|(_, f)| f)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("m");
    for f in &files {
        let to = work.join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(corpus.join(f), &to).unwrap();
    }
    let o = palisade_in(dir.path(), &["fix", "m"]);
    assert!(
        o.status.code() == Some(0) || o.status.code() == Some(2),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("re-scan disagrees"), "{}", stderr(&o));
    let summary = stdout(&o);
    eprintln!(
        "{} files: {}",
        files.len(),
        summary.lines().last().unwrap_or("")
    );
    assert!(
        summary.contains(" fixed "),
        "the sample has something to fix"
    );

    let o = palisade_in(dir.path(), &["fix", "--dry-run", "m"]);
    let out = stdout(&o);
    assert!(out.contains("0 fixes would apply in 0 files"), "{out}");
    assert!(!out.contains("would fix"), "{out}");

    let mut changed = 0;
    for f in &files {
        let old = std::fs::read_to_string(corpus.join(f)).unwrap();
        let new = std::fs::read_to_string(work.join(f)).unwrap();
        if old == new {
            continue;
        }
        changed += 1;
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        // The line diff `palisade scan --format sarif` gives as fixes.
        for r in palisade_fix::diff::line_replacements(&old, &new) {
            for line in &old_lines[r.start_line - 1..(r.end_line - 1).min(old_lines.len())] {
                let l = line.trim_end_matches(['\n', '\r']);
                let kept = r.inserted.lines().any(|n| n == l || n == format!("{l},"));
                assert!(
                    kept || FIX_FIELDS.iter().any(|k| l.contains(k)),
                    "{f}: line changed that no fix writes: {l:?}"
                );
            }
        }
        // Every comment survives.
        for c in old.lines().filter(|l| l.trim_start().starts_with('#')) {
            assert!(new.lines().any(|n| n == c), "{f}: comment lost: {c:?}");
        }
    }
    assert!(changed > 10, "only {changed} files changed");
}

/// Two objects of one name in a file, one of them beyond an exact fix; and with `--unsafe`,
/// what a fix uncovers is fixed in the same run.
#[test]
fn same_name_twice_and_uncovered_findings() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pods.yaml");
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  securityContext:\n    runAsUser:65534\n  containers:\n  - {name: a, image: a:1, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: a:1, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}\n";
    std::fs::write(&f, text).unwrap();
    let o = palisade_in(dir.path(), &["fix", "--select", "POD016", "pods.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("pods.yaml:1: Pod/p POD016 not fixed"), "{out}");
    assert!(out.contains("pods.yaml:10: Pod/p fixed POD016"), "{out}");
    let after = std::fs::read_to_string(&f).unwrap();
    assert!(
        after.starts_with(&text[..text.find("---").unwrap()]),
        "{after}"
    );

    let g = dir.path().join("priv.yaml");
    std::fs::write(
        &g,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  containers:\n  - name: a\n    image: a:1\n    securityContext:\n      privileged: true\n",
    )
    .unwrap();
    let o = palisade_in(dir.path(), &["fix", "--unsafe", "priv.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("fixed POD021"), "{}", stdout(&o));
    let o = palisade_in(dir.path(), &["fix", "--unsafe", "--dry-run", "priv.yaml"]);
    assert!(stdout(&o).contains("0 fixes would apply"), "{}", stdout(&o));
}

/// Findings under an exception of `palisade.yaml` are not fixed; `explain` shows the fix.
#[test]
fn exceptions_are_not_fixed_and_explain_shows_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("pod.yaml");
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\nspec:\n  containers:\n  - name: app\n    image: app:1.0\n";
    std::fs::write(&f, text).unwrap();
    std::fs::write(
        dir.path().join("palisade.yaml"),
        "exceptions:\n- rules: [POD002]\n  match: {namespace: a, kind: Pod, name: p}\n  reason: escalation reviewed\n  expires: 2099-01-31\n",
    )
    .unwrap();
    let o = palisade_in(
        dir.path(),
        &["fix", "--select", "POD002,POD008", "pod.yaml"],
    );
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let after = std::fs::read_to_string(&f).unwrap();
    assert!(after.contains("drop:"), "{after}");
    assert!(!after.contains("allowPrivilegeEscalation"), "{after}");

    let o = palisade_in(dir.path(), &["explain", "POD002"]);
    let out = stdout(&o);
    assert!(
        out.contains("## Automatic fix\n\nAdds `securityContext.allowPrivilegeEscalation: false`"),
        "{out}"
    );
    let o = palisade_in(dir.path(), &["explain", "POD005"]);
    assert!(!stdout(&o).contains("## Automatic fix"));
}

/// A fix that would rewrite a line holding a credential written in the clear is not offered
/// in SARIF (its replacement text would quote the credential); fixes elsewhere still are.
#[test]
fn sarif_fixes_never_quote_a_literal_credential() {
    const CANARY: &str = "canary-pw-4c1e9b";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pods.yaml"),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: flow}}\nspec:\n  containers: [{{name: c, image: nginx, env: [{{name: DB_PASSWORD, value: {CANARY}}}]}}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {{name: block}}\nspec:\n  containers:\n  - name: c\n    image: nginx\n"
        ),
    )
    .unwrap();
    let o = palisade_in(
        dir.path(),
        &[
            "scan",
            "pods.yaml",
            "--format",
            "sarif",
            "--fail-on",
            "none",
        ],
    );
    let out = stdout(&o);
    assert!(
        out.contains("literal-secret-in-env") || out.contains("SEC"),
        "{out}"
    );
    assert!(!out.contains(CANARY), "a fix quotes the credential");
    assert!(out.contains("\"fixes\""), "no fix offered at all: {out}");
}

/// `text` with every replacement of a SARIF report's fixes applied (ASCII text: columns are
/// bytes), and how many there were.
fn apply_sarif_fixes(text: &str, sarif: &str) -> (String, usize) {
    let at = |line: u64, column: u64| -> usize {
        let start: usize = text
            .split_inclusive('\n')
            .take(line as usize - 1)
            .map(str::len)
            .sum();
        start + column as usize - 1
    };
    let sarif: serde_json::Value = serde_json::from_str(sarif).unwrap();
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for r in sarif["runs"][0]["results"].as_array().unwrap() {
        for change in r["fixes"][0]["artifactChanges"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for rep in change["replacements"].as_array().unwrap() {
                let d = &rep["deletedRegion"];
                let n = |k: &str| d[k].as_u64().unwrap();
                edits.push((
                    at(n("startLine"), n("startColumn")),
                    at(n("endLine"), n("endColumn")),
                    rep["insertedContent"]["text"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    edits.sort();
    let count = edits.len();
    let mut patched = text.to_owned();
    for (start, end, inserted) in edits.into_iter().rev() {
        patched.replace_range(start..end, &inserted);
    }
    (patched, count)
}

/// The SARIF fixes of a file of several documents, applied together, give the file
/// `palisade fix` writes: each document's fix lands on its own lines, whatever precedes it,
/// with `\r\n` line ends and without a final newline.
#[test]
fn sarif_fixes_of_several_documents_apply_as_the_fix_command_does() {
    let pod = |name: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n")
    };
    let map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n";
    let text = format!("{}---\n{map}---\n{}", pod("first"), pod("last"));
    let files = [
        ("lf.yaml", text.clone()),
        ("crlf.yaml", text.replace('\n', "\r\n")),
        ("open.yaml", text.trim_end().to_owned()),
    ];
    for (name, text) in files {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(name);
        std::fs::write(&f, &text).unwrap();
        let o = palisade_in(
            dir.path(),
            &[
                "scan",
                name,
                "--select",
                "POD002",
                "--format",
                "sarif",
                "--fail-on",
                "none",
            ],
        );
        let (patched, edits) = apply_sarif_fixes(&text, &stdout(&o));
        assert_eq!(edits, 2, "{name}: one fix per Pod");
        let o = palisade_in(dir.path(), &["fix", "--select", "POD002", name]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let fixed = std::fs::read_to_string(&f).unwrap();
        assert_ne!(fixed, text, "{name}: nothing fixed");
        assert_eq!(patched, fixed, "{name}");
    }
}

/// A fix that rewrites the last line of a file replaces that line and its line end: the file
/// keeps one line end (the region used to stop before it, and the fixed file gained a blank
/// line).
#[test]
fn a_sarif_fix_of_the_last_line_keeps_one_line_end() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    securityContext:\n      allowPrivilegeEscalation: true\n";
    for (name, text) in [
        ("lf.yaml", text.to_owned()),
        ("crlf.yaml", text.replace('\n', "\r\n")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join(name);
        std::fs::write(&f, &text).unwrap();
        let o = palisade_in(
            dir.path(),
            &[
                "scan",
                name,
                "--select",
                "POD002",
                "--format",
                "sarif",
                "--fail-on",
                "none",
            ],
        );
        let (patched, edits) = apply_sarif_fixes(&text, &stdout(&o));
        assert_eq!(edits, 1, "{name}");
        let o = palisade_in(dir.path(), &["fix", "--select", "POD002", name]);
        assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
        let fixed = std::fs::read_to_string(&f).unwrap();
        assert!(fixed.contains("allowPrivilegeEscalation: false"), "{fixed}");
        assert_eq!(patched, fixed, "{name}");
    }
}
