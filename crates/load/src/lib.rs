//! Reads Kubernetes manifests into Palisade objects.
//!
//! Files, directories (recursively: `*.yaml`, `*.yml`, `*.json`) and standard input (`-`);
//! multi-document YAML, JSON, and `List` kinds (`kind: List` and every `*List`), flattened.
//! Every object keeps its file and the line and column of its document, and a [`SpanIndex`]
//! that resolves field paths to lines.
//!
//! Bad input never stops the load: a malformed document is reported with its file, line and
//! reason, and the other documents of the file and the other files are still read. A file that
//! holds Go/Helm template syntax (`{{ ... }}`) and does not parse is reported once, with the
//! advice to render it first.

pub mod cluster;
pub mod diff;
pub mod export;
pub mod packed;
pub mod snapshot;
pub mod yaml;

use palisade_core::report::InputStats;
use palisade_core::{InputIssue, Object, SourceLoc, SpanIndex};
use rayon::prelude::*;
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a load produced.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The objects, in input order (files sorted by path, documents in file order).
    pub objects: Vec<Object>,
    /// Errors: unreadable files, malformed documents.
    pub errors: Vec<InputIssue>,
    /// Warnings: template files.
    pub warnings: Vec<InputIssue>,
    /// Counts.
    pub stats: InputStats,
    /// Kinds a cluster scan or snapshot could not read.
    pub unreadable: Vec<palisade_core::UnreadableKind>,
    /// What the Pods folded into their workloads run (a cluster read; see [`cluster`]).
    pub running: palisade_core::running::RunningDigests,
}

impl Loaded {
    fn absorb(&mut self, other: Loaded) {
        self.objects.extend(other.objects);
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.stats.files += other.stats.files;
        self.stats.documents += other.stats.documents;
        self.stats.objects += other.stats.objects;
        self.stats.skipped_documents += other.stats.skipped_documents;
        self.stats.template_files += other.stats.template_files;
        self.stats.owned_folded += other.stats.owned_folded;
        self.unreadable.extend(other.unreadable);
        self.running.extend(other.running);
    }
}

/// What to load.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// The kinds whose whole object is needed; objects of other kinds are loaded with their
    /// identity and metadata only (their YAML is still parsed and checked). `None`: every kind.
    pub keep_kinds: Option<std::sync::Arc<std::collections::HashSet<String>>>,
    /// Size limits on the input.
    pub limits: InputLimits,
}

/// Bounds on what one input may cost. A file (or standard input) larger than
/// `max_file_bytes` is refused without being read further; a document holding a line longer
/// than `max_line_bytes` is refused and the file's other documents are still read. Alias
/// expansion and nesting are bounded in every document (see [`yaml`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputLimits {
    /// Largest file accepted, in bytes (default [`InputLimits::DEFAULT_MAX_FILE_BYTES`]).
    pub max_file_bytes: u64,
    /// Longest line accepted, in bytes (default [`InputLimits::DEFAULT_MAX_LINE_BYTES`]).
    pub max_line_bytes: usize,
}

impl InputLimits {
    /// 256 MiB: far above any rendered chart or cluster dump, far below the memory a
    /// parsed file of that size takes.
    pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 << 20;
    /// 16 MiB: a compact JSON line of a large `List` fits; etcd caps one object at 1.5 MiB.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_file_bytes: Self::DEFAULT_MAX_FILE_BYTES,
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// Creates (or truncates) a file only its owner can read and write (0600 on Unix), also when
/// it already existed with wider permissions. Snapshots and exports are written this way: they
/// describe a cluster's security posture, and nothing but their owner needs to read them.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let file = opts.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    opts.open(path)
}

/// Creates a directory (and its parents) that only its owner can enter (0700 on Unix) for
/// the directories it creates; existing ones are left as they are.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Reads a file of at most `max` bytes; a larger one is an error that says so, and what
/// lies past the limit is never read (`/dev/zero` fails fast).
pub fn read_file_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    std::fs::File::open(path).and_then(|f| read_bounded(f, max))
}

/// Reads at most `max` bytes; more is an error that says so (the rest is never read).
fn read_bounded(mut r: impl Read, max: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    (&mut r).take(max.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than the limit of {max} bytes (--max-file-bytes)"),
        ));
    }
    Ok(buf)
}

/// The first line of `text` longer than `max` bytes: its 0-based index and length.
fn overlong_line(text: &str, max: usize) -> Option<(usize, usize)> {
    if text.len() <= max {
        return None;
    }
    text.split('\n')
        .enumerate()
        .find(|(_, l)| l.len() > max)
        .map(|(i, l)| (i, l.len()))
}

impl LoadOptions {
    fn keeps(&self, kind: &str) -> bool {
        self.keep_kinds.as_ref().is_none_or(|k| k.contains(kind))
    }
}

/// The name standard input gets in locations.
pub const STDIN_NAME: &str = "<stdin>";

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json" | "snapshot")
    )
}

/// Expands paths: files are kept as given, directories are walked recursively for manifest
/// files (sorted, hidden directories skipped). Paths that do not exist are errors.
pub fn expand_paths(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<InputIssue>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            files.push(p.clone());
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let walker = walkdir::WalkDir::new(p)
                    .follow_links(true)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| {
                        e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                    });
                for entry in walker {
                    match entry {
                        Ok(e) if e.file_type().is_file() && is_manifest(e.path()) => {
                            files.push(e.into_path())
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(InputIssue {
                            file: e.path().unwrap_or(p).display().to_string(),
                            line: 0,
                            column: 0,
                            message: format!("cannot read: {e}"),
                        }),
                    }
                }
            }
            Ok(_) => files.push(p.clone()),
            Err(e) => errors.push(InputIssue {
                file: p.display().to_string(),
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    (files, errors)
}

/// Loads files and directories (and `-` for standard input) in parallel.
pub fn load_paths(paths: &[PathBuf]) -> Loaded {
    load_paths_with(paths, &LoadOptions::default())
}

/// [`load_paths`] with options.
pub fn load_paths_with(paths: &[PathBuf], opts: &LoadOptions) -> Loaded {
    let (files, errors) = expand_paths(paths);
    let parts: Vec<Loaded> = files.par_iter().map(|f| load_file_with(f, opts)).collect();
    let mut all = Loaded {
        errors,
        ..Loaded::default()
    };
    for p in parts {
        all.absorb(p);
    }
    all
}

/// [`load_paths_with`], with `each` run on every file's objects as soon as the file is read,
/// in parallel, before the files are joined: to check and shrink the objects while only one
/// file's documents are held whole. Returns, beside the joined load, what `each` returned for
/// every file (in file order) with the index of that file's first object among all objects.
pub fn load_paths_each<T: Send>(
    paths: &[PathBuf],
    opts: &LoadOptions,
    each: &(dyn Fn(&mut Loaded) -> T + Sync),
) -> (Loaded, Vec<(usize, T)>) {
    let (files, errors) = expand_paths(paths);
    let parts: Vec<(Loaded, T)> = files
        .par_iter()
        .map(|f| load_file_each(f, opts, each))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    let mut all = Loaded {
        errors,
        ..Loaded::default()
    };
    all.objects
        .reserve_exact(parts.iter().map(|(p, _)| p.objects.len()).sum());
    let mut out = Vec::with_capacity(parts.len());
    for (p, t) in parts {
        out.push((all.objects.len(), t));
        all.absorb(p);
    }
    (all, out)
}

/// How many of a snapshot's objects [`load_paths_each`] parses before it runs `each` on them.
const SNAPSHOT_CHUNK: usize = 512;

/// One file for [`load_paths_each`]: a snapshot in parts of [`SNAPSHOT_CHUNK`] objects (it
/// holds a whole cluster), any other file whole.
fn load_file_each<T>(
    path: &Path,
    opts: &LoadOptions,
    each: &(dyn Fn(&mut Loaded) -> T + Sync),
) -> Vec<(Loaded, T)> {
    if path.as_os_str() != "-" && snapshot::is_snapshot_path(path) {
        return match snapshot::read_lines_with(path, opts.limits) {
            Ok((header, lines)) => cluster::loaded_from_lines_each(
                lines,
                &header.unreadable,
                &snapshot_origin(path),
                SNAPSHOT_CHUNK,
                each,
            ),
            Err(e) => {
                let mut l = snapshot_unreadable(path, e);
                let t = each(&mut l);
                vec![(l, t)]
            }
        };
    }
    let mut l = load_file_with(path, opts);
    let t = each(&mut l);
    vec![(l, t)]
}

/// What the objects of a snapshot are said to come from.
fn snapshot_origin(path: &Path) -> String {
    format!("the cluster when snapshot {} was taken", path.display())
}

/// The input error of a snapshot that cannot be read.
fn snapshot_unreadable(path: &Path, e: snapshot::SnapshotError) -> Loaded {
    Loaded {
        errors: vec![InputIssue {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            message: match e {
                snapshot::SnapshotError::Io { source, .. } => format!("cannot read: {source}"),
                other => other
                    .to_string()
                    .trim_start_matches(&format!("{}: ", path.display()))
                    .to_owned(),
            },
        }],
        stats: InputStats {
            files: 1,
            ..InputStats::default()
        },
        ..Loaded::default()
    }
}

/// Loads one file (`-` reads standard input).
pub fn load_file(path: &Path) -> Loaded {
    load_file_with(path, &LoadOptions::default())
}

/// [`load_file`] with options. A snapshot (`*.snapshot`, or a file starting with the gzip
/// magic number) is read as the cluster it preserves: its digest is verified and its objects
/// are scanned as a live scan would (no source locations, owned Pods collapsed).
pub fn load_file_with(path: &Path, opts: &LoadOptions) -> Loaded {
    if path.as_os_str() != "-" && snapshot::is_snapshot_path(path) {
        return match snapshot::read_lines_with(path, opts.limits) {
            Ok((header, lines)) => {
                cluster::loaded_from_lines(lines, &header.unreadable, &snapshot_origin(path))
            }
            Err(e) => snapshot_unreadable(path, e),
        };
    }
    let max = opts.limits.max_file_bytes;
    let (name, text) = if path.as_os_str() == "-" {
        (
            STDIN_NAME.to_owned(),
            read_bounded(std::io::stdin().lock(), max),
        )
    } else {
        (path.display().to_string(), read_file_bounded(path, max))
    };
    match text {
        Ok(bytes) if bytes.is_empty() && path.as_os_str() == "-" => Loaded {
            // An empty pipe is most often a command that failed upstream (`helm template`
            // with an error): scanning nothing must not pass silently.
            errors: vec![InputIssue {
                file: name,
                line: 1,
                column: 1,
                message: "standard input is empty: nothing to scan (did the command before the pipe fail?)"
                    .to_owned(),
            }],
            stats: InputStats {
                files: 1,
                ..InputStats::default()
            },
            ..Loaded::default()
        },
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => load_str_with(&name, &text, opts),
            Err(e) => Loaded {
                errors: vec![InputIssue {
                    file: name,
                    line: 0,
                    column: 0,
                    message: format!(
                        "not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                }],
                stats: InputStats {
                    files: 1,
                    ..InputStats::default()
                },
                ..Loaded::default()
            },
        },
        Err(e) => Loaded {
            errors: vec![InputIssue {
                file: name,
                line: 0,
                column: 0,
                message: format!("cannot read: {e}"),
            }],
            stats: InputStats {
                files: 1,
                ..InputStats::default()
            },
            ..Loaded::default()
        },
    }
}

/// Splits a YAML stream into documents at `---` lines, returning each piece with the
/// 1-based line it starts on. Parsing the pieces separately lets one malformed document be
/// reported while the others are still read.
pub fn split_documents(text: &str) -> Vec<(u32, &str)> {
    let mut out = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1u32;
    let mut offset = 0usize;
    for (line, l) in (1u32..).zip(text.split_inclusive('\n')) {
        let is_marker = l.starts_with("---")
            && l[3..]
                .chars()
                .next()
                .is_none_or(|c| c == ' ' || c == '\t' || c == '\n' || c == '\r');
        if is_marker && offset > start {
            out.push((start_line, &text[start..offset]));
            start = offset;
            start_line = line;
        }
        offset += l.len();
    }
    if start < text.len() {
        out.push((start_line, &text[start..]));
    }
    out
}

fn looks_templated(text: &str) -> bool {
    text.contains("{{") && text.contains("}}")
}

/// Loads manifests from text; `name` is used in locations.
pub fn load_str(name: &str, text: &str) -> Loaded {
    load_str_with(name, text, &LoadOptions::default())
}

/// [`load_str`] with options.
pub fn load_str_with(name: &str, text: &str, opts: &LoadOptions) -> Loaded {
    let keep = |kind: &str| opts.keeps(kind);
    let filter: Option<&dyn Fn(&str) -> bool> = if opts.keep_kinds.is_some() {
        Some(&keep)
    } else {
        None
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let file: Arc<str> = Arc::from(name);
    let mut out = Loaded {
        stats: InputStats {
            files: 1,
            ..InputStats::default()
        },
        ..Loaded::default()
    };
    let mut errors = Vec::new();
    let mut docs = Vec::new();
    let is_json = name.ends_with(".json");
    if is_json && text.trim().is_empty() {
        out.errors.push(InputIssue {
            file: name.to_owned(),
            line: 1,
            column: 1,
            message: "empty file: not a JSON document".to_owned(),
        });
        return out;
    }
    for (line, piece) in split_documents(text) {
        if let Some((i, len)) = overlong_line(piece, opts.limits.max_line_bytes) {
            errors.push(InputIssue {
                file: name.to_owned(),
                line: line + i as u32,
                column: 1,
                message: format!(
                    "document refused: line of {len} bytes is longer than the limit of {} bytes \
                     (--max-line-bytes)",
                    opts.limits.max_line_bytes
                ),
            });
            continue;
        }
        let parsed = match yaml::parse_documents_filtered(piece, line, true, filter) {
            // Tabs are where the two parser families disagree the other way: Kubernetes'
            // decoder rejects a tab used as indentation or separation.
            Ok(d) if piece.contains('\t') => yaml::parse_documents_compat(piece, line).map(|_| d),
            Ok(d) => Ok(d),
            // A safety limit is not a disagreement between parsers: no second try.
            Err(e) if e.limit => Err(e),
            Err(e) => yaml::parse_documents_compat(piece, line).map_err(|_| e),
        };
        match parsed {
            Ok(d) => docs.extend(d),
            Err(e) => errors.push(InputIssue {
                file: name.to_owned(),
                line: e.line,
                column: e.column,
                message: if e.limit {
                    format!("document refused: {}", e.reason)
                } else {
                    format!("invalid YAML: {}", e.reason)
                },
            }),
        }
    }
    if !errors.is_empty() && looks_templated(text) {
        let first = &errors[0];
        out.warnings.push(InputIssue {
            file: name.to_owned(),
            line: first.line,
            column: first.column,
            message: "skipped: this file holds template syntax ({{ ... }}) and is not valid YAML; \
                      render it first, e.g. `helm template RELEASE CHART | palisade scan -`"
                .to_owned(),
        });
        out.stats.template_files = 1;
        return out;
    }
    out.errors = errors;
    for doc in docs {
        for dup in &doc.duplicate_keys {
            out.warnings.push(InputIssue {
                file: name.to_owned(),
                line: dup.line,
                column: dup.column,
                message: format!(
                    "duplicate key `{}` in one mapping: the last one is used (kubectl's strict \
                     field validation rejects the document)",
                    dup.key
                ),
            });
        }
        if doc.value.is_null() {
            continue;
        }
        out.stats.documents += 1;
        let source = SourceLoc {
            file: file.clone(),
            line: doc.line,
            column: doc.column,
        };
        add_object(&mut out, doc.value, source, doc.spans);
    }
    out
}

fn add_object(out: &mut Loaded, value: Value, source: SourceLoc, spans: SpanIndex) {
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && value.get("apiVersion").and_then(Value::as_str).is_some()
        && value.get("items").is_some_and(Value::is_array);
    if is_list {
        let Value::Object(mut map) = value else {
            return;
        };
        let Some(Value::Array(items)) = map.remove("items") else {
            return;
        };
        // The API server's typed lists (`RoleList`, `PodList`, ...) leave out each item's
        // kind and apiVersion: an item without them is of the list's kind and version.
        let item_kind = map
            .get("kind")
            .and_then(Value::as_str)
            .and_then(|k| k.strip_suffix("List"))
            .filter(|k| !k.is_empty())
            .map(str::to_owned);
        let list_version = map.get("apiVersion").cloned();
        let items: Vec<Value> = items
            .into_iter()
            .map(|mut item| {
                if let (Some(k), Value::Object(m)) = (&item_kind, &mut item) {
                    if !m.contains_key("kind") {
                        m.insert("kind".into(), Value::from(k.as_str()));
                        if let Some(v) = &list_version {
                            m.entry("apiVersion").or_insert_with(|| v.clone());
                        }
                    }
                }
                item
            })
            .collect();
        let items_hash = palisade_core::object::segment_hash(spans.root(), "items");
        let roots: Vec<u64> = (0..items.len())
            .map(|i| palisade_core::object::index_hash(items_hash, i))
            .collect();
        for (item, item_spans) in items.into_iter().zip(spans.split_items(&roots)) {
            let item_source = match item_spans.resolve_root() {
                Some((line, column)) => SourceLoc {
                    file: source.file.clone(),
                    line,
                    column,
                },
                None => source.clone(),
            };
            add_object(out, item, item_source, item_spans);
        }
        return;
    }
    match Object::from_value(value, Some(source), spans) {
        Ok(o) => {
            out.stats.objects += 1;
            out.objects.push(o);
        }
        Err(_) => out.stats.skipped_documents += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_list_items_take_the_list_kind() {
        let t = r#"{"kind":"RoleList","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{},
            "items":[{"metadata":{"name":"r","namespace":"dev"},"rules":[]},
                     {"kind":"Role","apiVersion":"rbac.authorization.k8s.io/v1","metadata":{"name":"s","namespace":"dev"}}]}"#;
        let l = load_str("roles.json", t);
        assert_eq!(l.objects.len(), 2);
        for o in &l.objects {
            assert_eq!(o.value()["kind"], "Role");
            assert_eq!(o.value()["apiVersion"], "rbac.authorization.k8s.io/v1");
        }
        // A generic List keeps the rule: items without a kind are not objects.
        let l = load_str(
            "l.json",
            r#"{"kind":"List","apiVersion":"v1","items":[{"metadata":{"name":"x"}}]}"#,
        );
        assert!(l.objects.is_empty());
    }

    #[test]
    fn splitting_keeps_lines() {
        let t = "a: 1\n---\nb: 2\n--- \nc: 3\n----\n";
        let parts = split_documents(t);
        assert_eq!(parts.iter().map(|p| p.0).collect::<Vec<_>>(), [1, 2, 4]);
        assert_eq!(parts[2].1, "--- \nc: 3\n----\n");
    }

    #[test]
    fn one_bad_document_does_not_hide_the_others() {
        let t = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: [b\n---\napiVersion: v1\nkind: Service\nmetadata: {name: c}\n";
        let l = load_str("f.yaml", t);
        assert_eq!(l.objects.len(), 2);
        assert_eq!(l.errors.len(), 1);
        assert_eq!(l.errors[0].file, "f.yaml");
        assert!(
            l.errors[0].line >= 7 && l.errors[0].line <= 8,
            "{:?}",
            l.errors[0]
        );
        assert_eq!(l.objects[1].source.as_ref().unwrap().line, 9);
    }

    #[test]
    fn lists_are_flattened_with_positions() {
        let t = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n  spec:\n    hostNetwork: true\n- apiVersion: apps/v1\n  kind: DeploymentList\n  items:\n  - apiVersion: apps/v1\n    kind: Deployment\n    metadata: {name: d}\n";
        let l = load_str("l.yaml", t);
        assert_eq!(l.objects.len(), 2);
        let pod = &l.objects[0];
        assert_eq!(pod.source.as_ref().unwrap().line, 4);
        assert_eq!(pod.locate(Some("/spec/hostNetwork")).unwrap().line, 9);
        assert_eq!(l.objects[1].name, "d");
        assert_eq!(l.objects[1].source.as_ref().unwrap().line, 13);
    }

    #[test]
    fn non_objects_are_counted() {
        let l = load_str("k.yaml", "resources:\n- a.yaml\n---\n# only a comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n");
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.stats.skipped_documents, 1);
        assert_eq!(l.stats.documents, 2);
    }

    #[test]
    fn templates_get_advice() {
        let l = load_str("t.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n  labels:\n    {{- include \"x\" . | nindent 4 }}\n");
        assert!(l.errors.is_empty());
        assert_eq!(l.warnings.len(), 1);
        assert!(l.warnings[0].message.contains("helm template"));
        assert!(l.objects.is_empty());
    }

    #[test]
    fn json_files() {
        let l = load_str("p.json", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\n\"metadata\":{\"name\":\"p\"},\n\"spec\":{\"hostPID\":true}}");
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.objects[0].locate(Some("/spec/hostPID")).unwrap().line, 3);
    }

    #[test]
    fn directories_are_walked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub/.git")).unwrap();
        std::fs::write(
            dir.path().join("a.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sub/b.yml"),
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sub/c.json"),
            "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"c\"}}",
        )
        .unwrap();
        std::fs::write(dir.path().join("sub/readme.md"), "# no").unwrap();
        std::fs::write(
            dir.path().join("sub/.git/x.yaml"),
            "apiVersion: v1\nkind: Namespace\nmetadata: {name: hidden}\n",
        )
        .unwrap();
        let l = load_paths(&[dir.path().to_path_buf(), dir.path().join("missing.yaml")]);
        let names: Vec<_> = l.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(l.errors.len(), 1);
        assert!(l.errors[0].file.ends_with("missing.yaml"));
    }

    #[test]
    fn large_lists_keep_each_position_once() {
        let n = 20_000;
        let mut t = String::from("apiVersion: v1\nkind: List\nitems:\n");
        for i in 0..n {
            t.push_str(&format!(
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n  data:\n    k: v\n"
            ));
        }
        let l = load_str("list.yaml", &t);
        assert_eq!(l.objects.len(), n);
        // Each item holds its own positions only: the total is linear in the List, where a
        // copy of the List's positions per item would be n times larger.
        let total: usize = l.objects.iter().map(|o| o.spans.len()).sum();
        assert!(total <= 8 * n, "{total} positions for {n} items");
        let last = &l.objects[n - 1];
        assert_eq!(last.name, format!("c{}", n - 1));
        let first_line = 4 + 6 * (n as u32 - 1);
        assert_eq!(last.source.as_ref().unwrap().line, first_line);
        assert_eq!(last.locate(Some("/data/k")).unwrap().line, first_line + 5);
        assert_eq!(l.objects[0].locate(Some("/metadata/name")).unwrap().line, 7);
    }

    #[test]
    fn alias_bombs_are_input_errors_and_other_documents_survive() {
        let bomb = crate::yaml::limits::alias_bomb();
        let t = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: a}}\n---\n{bomb}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: b}}\n");
        let l = load_str("bomb.yaml", &t);
        assert_eq!(l.objects.len(), 2);
        assert_eq!(l.errors.len(), 1, "{:?}", l.errors);
        assert!(
            l.errors[0].message.contains("excessive aliasing"),
            "{:?}",
            l.errors
        );
        assert!(l.errors[0].line > 4);
    }

    #[test]
    fn oversized_files_and_lines_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("big.yaml");
        std::fs::write(
            &f,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n",
        )
        .unwrap();
        let opts = LoadOptions {
            limits: InputLimits {
                max_file_bytes: 20,
                ..InputLimits::default()
            },
            ..LoadOptions::default()
        };
        let l = load_file_with(&f, &opts);
        assert!(l.objects.is_empty());
        assert!(
            l.errors[0].message.contains("limit of 20 bytes"),
            "{:?}",
            l.errors
        );
        assert_eq!(l.stats.files, 1);

        let long = "x".repeat(100);
        let t = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: a}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: b}}\ndata: {{k: {long}}}\n");
        let opts = LoadOptions {
            limits: InputLimits {
                max_line_bytes: 64,
                ..InputLimits::default()
            },
            ..LoadOptions::default()
        };
        let l = load_str_with("long.yaml", &t, &opts);
        assert_eq!(l.objects.len(), 1);
        assert_eq!((l.errors[0].line, l.errors.len()), (8, 1), "{:?}", l.errors);
        assert!(l.errors[0].message.contains("--max-line-bytes"));
    }

    #[test]
    fn duplicate_keys_are_warnings() {
        let l = load_str("d.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: false\n  hostPID: true\n");
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.objects[0].value()["spec"]["hostPID"], true);
        assert_eq!(l.warnings.len(), 1);
        assert_eq!((l.warnings[0].line, l.warnings[0].column), (6, 3));
        assert!(l.warnings[0].message.contains("duplicate key `hostPID`"));
    }
}
