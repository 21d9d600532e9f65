//! Fixing one file: the objects it holds, the rules reported on each, and the text that comes
//! out. Documents are edited one at a time, the way the loader splits them (at `---`), and an
//! object is read again after every rule's edits so the next rule plans on what is written.

use crate::edit::{apply_op, Op};
use crate::rules::{fix_for, Plan, Safety, FIXES};
use crate::tree;
use palisade_core::{Inventory, Object};

/// An object of the file and the rules reported on it.
#[derive(Debug, Clone)]
pub struct Target {
    /// 1-based line of the object, as the loader reported it for the whole file.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
    /// Rule ids with a finding on the object.
    pub rules: Vec<String>,
}

/// What happened to one (object, rule).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The rule.
    pub rule: &'static str,
    /// `Kind/namespace/name` of the object.
    pub object: String,
    /// 1-based line of the object in the original file.
    pub line: u32,
    /// What was done.
    pub result: Resolution,
}

/// The result for one (object, rule).
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The edits were made; the pointers they wrote.
    Fixed(Vec<String>),
    /// Not fixed: why.
    Manual(String),
    /// A suggestion (never applied).
    Suggest(String),
    /// The fix exists but needs `--unsafe`.
    NeedsUnsafe,
}

/// The fixed text of a file and what was done.
#[derive(Debug, Clone)]
pub struct FileFix {
    /// The new text (equal to the input when nothing was fixed).
    pub text: String,
    /// One entry per (object, rule) with a fix.
    pub outcomes: Vec<Outcome>,
}

/// Why a file is not fixed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The file holds template syntax.
    #[error("holds template syntax (`{{{{`): fix the rendered output or the template by hand")]
    Template,
}

/// Options of a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Apply the unsafe fixes too and list the suggestions.
    pub allow_unsafe: bool,
}

fn describe(o: &Object) -> String {
    match &o.namespace {
        Some(ns) => format!("{}/{}/{}", o.kind, ns, o.name),
        None => format!("{}/{}", o.kind, o.name),
    }
}

/// Fixes the findings of `targets` in the file `name` holding `text`. `inventory` is every
/// object scanned (the context some fixes need, such as the bindings of a service account).
pub fn fix_file(
    name: &str,
    text: &str,
    targets: &[Target],
    inventory: Option<&Inventory>,
    opts: Options,
) -> Result<FileFix, FileError> {
    if text.contains("{{") {
        return Err(FileError::Template);
    }
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let crlf = body.contains("\r\n");
    let pieces = palisade_load::split_documents(body);
    let mut outcomes = Vec::new();
    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(bom);
    for (i, (start_line, piece)) in pieces.iter().enumerate() {
        let end_line = pieces.get(i + 1).map_or(u32::MAX, |(l, _)| *l);
        let mine: Vec<&Target> = targets
            .iter()
            .filter(|t| t.line >= *start_line && t.line < end_line)
            .collect();
        if mine.is_empty() {
            out.push_str(piece);
            continue;
        }
        let mut piece = (*piece).to_owned();
        // The objects of the piece, in order: targets are found again by their ordinal.
        let loaded = palisade_load::load_str(name, &piece);
        for t in mine {
            let local = (t.line - start_line + 1, t.column);
            let Some(ordinal) = loaded.objects.iter().position(|o| {
                o.source
                    .as_ref()
                    .is_some_and(|s| (s.line, s.column) == local)
            }) else {
                continue;
            };
            let label = describe(&loaded.objects[ordinal]);
            for fix in FIXES.iter().filter(|f| t.rules.iter().any(|r| r == f.rule)) {
                let record = |result| Outcome {
                    rule: fix.rule,
                    object: label.clone(),
                    line: t.line,
                    result,
                };
                if fix.safety == Safety::Unsafe && !opts.allow_unsafe {
                    outcomes.push(record(Resolution::NeedsUnsafe));
                    continue;
                }
                let now = palisade_load::load_str(name, &piece);
                let Some(object) = now.objects.get(ordinal) else {
                    outcomes.push(record(Resolution::Manual(
                        "the object could not be read again after the previous fixes".into(),
                    )));
                    continue;
                };
                match fix.plan(object, inventory) {
                    Plan::Manual(why) => outcomes.push(record(Resolution::Manual(why))),
                    Plan::Suggest(s) => {
                        if opts.allow_unsafe {
                            outcomes.push(record(Resolution::Suggest(s)));
                        }
                    }
                    Plan::Edits(ops) => match apply_ops(&piece, object, &ops, crlf) {
                        Ok(Some(new)) => {
                            piece = new;
                            outcomes.push(record(Resolution::Fixed(
                                ops.iter().map(Op::pointer).collect(),
                            )));
                        }
                        Ok(None) => outcomes.push(record(Resolution::Manual(
                            "the fix found nothing to change".into(),
                        ))),
                        Err(why) => outcomes.push(record(Resolution::Manual(why))),
                    },
                }
            }
        }
        out.push_str(&piece);
    }
    Ok(FileFix {
        text: out,
        outcomes,
    })
}

/// Applies the operations one after the other (the text is parsed again between two), all
/// or nothing. `None` when nothing had to change.
fn apply_ops(
    piece: &str,
    object: &Object,
    ops: &[Op],
    crlf: bool,
) -> Result<Option<String>, String> {
    let Some(src) = &object.source else {
        return Err("the object has no position in the file".into());
    };
    let (line, column) = (src.line, src.column);
    let mut text = piece.to_owned();
    let mut changed = false;
    for op in ops {
        let docs = tree::parse(&text).map_err(|e| format!("cannot parse the document: {e}"))?;
        let root = tree::object_root(&docs, line, column)
            .ok_or_else(|| "cannot find the object in the document".to_owned())?;
        match apply_op(&text, root, op) {
            Ok(Some(mut edit)) => {
                if crlf {
                    edit.text = edit.text.replace("\r\n", "\n").replace('\n', "\r\n");
                }
                text = edit.apply(&text);
                changed = true;
            }
            Ok(None) => {}
            Err(e) => return Err(format!("cannot edit `{}` exactly: {e}", op.pointer())),
        }
    }
    Ok(changed.then_some(text))
}

/// Whether a rule has a fix `palisade fix` would apply with these options.
pub fn applies(rule: &str, opts: Options) -> bool {
    fix_for(rule).is_some_and(|f| match f.safety {
        Safety::Safe => true,
        Safety::Unsafe => opts.allow_unsafe,
        Safety::Suggestion => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fixes `rules` on every object of `text`.
    fn fix(text: &str, rules: &[&str]) -> FileFix {
        let loaded = palisade_load::load_str("t.yaml", text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let targets: Vec<Target> = loaded
            .objects
            .iter()
            .filter(|o| palisade_core::podspec::WORKLOAD_KINDS.contains(&o.kind.as_str()))
            .map(|o| {
                let s = o.source.as_ref().unwrap();
                Target {
                    line: s.line,
                    column: s.column,
                    rules: rules.iter().map(|r| (*r).to_owned()).collect(),
                }
            })
            .collect();
        fix_file("t.yaml", text, &targets, None, Options::default()).unwrap()
    }

    #[test]
    fn other_documents_and_comments_stay_byte_for_byte() {
        let text = "# head\napiVersion: v1\nkind: ConfigMap   # odd  spacing\nmetadata: {name: c}\ndata: {\"k\": 'v'}\n---\n# the pod\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - name: init\n    image: busybox:1.36\n  containers:\n  - name: app   # main\n    image: app:1.0\n  ephemeralContainers:\n  - name: debug\n    image: busybox:1.36\n...\n";
        let ff = fix(text, &["POD002"]);
        assert_eq!(
            ff.text,
            "# head\napiVersion: v1\nkind: ConfigMap   # odd  spacing\nmetadata: {name: c}\ndata: {\"k\": 'v'}\n---\n# the pod\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  initContainers:\n  - name: init\n    image: busybox:1.36\n    securityContext:\n      allowPrivilegeEscalation: false\n  containers:\n  - name: app   # main\n    image: app:1.0\n    securityContext:\n      allowPrivilegeEscalation: false\n  ephemeralContainers:\n  - name: debug\n    image: busybox:1.36\n    securityContext:\n      allowPrivilegeEscalation: false\n...\n"
        );
        assert_eq!(ff.outcomes.len(), 1);
        assert_eq!(
            ff.outcomes[0].result,
            Resolution::Fixed(vec![
                "/spec/containers/0/securityContext/allowPrivilegeEscalation".into(),
                "/spec/initContainers/0/securityContext/allowPrivilegeEscalation".into(),
                "/spec/ephemeralContainers/0/securityContext/allowPrivilegeEscalation".into(),
            ])
        );
    }

    #[test]
    fn cron_job_template_crlf_and_bom() {
        let text = "\u{feff}apiVersion: batch/v1\r\nkind: CronJob\r\nmetadata: {name: j}\r\nspec:\r\n  schedule: '* * * * *'\r\n  jobTemplate:\r\n    spec:\r\n      template:\r\n        spec:\r\n          restartPolicy: Never\r\n          containers:\r\n          - name: a\r\n            image: a:1\r\n";
        let ff = fix(text, &["POD016", "POD001"]);
        assert_eq!(
            ff.text,
            "\u{feff}apiVersion: batch/v1\r\nkind: CronJob\r\nmetadata: {name: j}\r\nspec:\r\n  schedule: '* * * * *'\r\n  jobTemplate:\r\n    spec:\r\n      template:\r\n        spec:\r\n          restartPolicy: Never\r\n          containers:\r\n          - name: a\r\n            image: a:1\r\n          securityContext:\r\n            seccompProfile:\r\n              type: RuntimeDefault\r\n"
        );
    }

    #[test]
    fn list_items_are_fixed_where_they_are() {
        let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    containers:\n    - name: a\n      image: a:1\n      securityContext: {privileged: true}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n  spec:\n    containers: [{name: b, image: b:1}]\n";
        let ff = fix(text, &["POD001", "POD002"]);
        assert_eq!(
            ff.text,
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n  spec:\n    containers:\n    - name: a\n      image: a:1\n      securityContext: {privileged: false, allowPrivilegeEscalation: false}\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: b}\n  spec:\n    containers: [{name: b, image: b:1, securityContext: {allowPrivilegeEscalation: false}}]\n"
        );
    }

    #[test]
    fn refusals_are_reasons_not_panics() {
        // Template syntax refuses the whole file.
        let t = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: \"{{ .Values.image }}\"\n";
        let targets = [Target {
            line: 1,
            column: 1,
            rules: vec!["POD002".into()],
        }];
        assert_eq!(
            fix_file("t.yaml", t, &targets, None, Options::default()).unwrap_err(),
            FileError::Template
        );
        // A privileged container does not get allowPrivilegeEscalation: false alone.
        let t = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: a:1\n    securityContext: {privileged: true}\n";
        let ff = fix(t, &["POD002"]);
        assert_eq!(ff.text, t);
        assert!(matches!(&ff.outcomes[0].result, Resolution::Manual(m) if m.contains("POD001")));
        // A container written through an alias is not edited.
        let t = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - &c {name: a, image: a:1}\n  initContainers:\n  - *c\n";
        let ff = fix(t, &["POD002"]);
        assert_eq!(ff.text, t);
        assert!(
            matches!(&ff.outcomes[0].result, Resolution::Manual(m) if m.contains("anchored")),
            "{:?}",
            ff.outcomes
        );
        // The unsafe fix needs the option.
        let t = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: a:1}\n";
        let ff = fix(t, &["POD021"]);
        assert_eq!(ff.text, t);
        assert_eq!(ff.outcomes[0].result, Resolution::NeedsUnsafe);
    }
}
