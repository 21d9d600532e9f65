//! `palisade fix`: applies the safe fixes to manifest files in place (or shows them), keeping
//! every byte the fixes do not touch, and checks the result by scanning it again.

use crate::{config, emit, Exit};
use anyhow::{bail, Context as _};
use clap::Args;
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{select, Inventory, PssLevel, Report, ReportFinding};
use palisade_fix::{engine, Resolution, Safety};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub(crate) struct FixArgs {
    /// Files or directories to fix (recursively: *.yaml, *.yml, *.json).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Only the fixes of these rules: ids, prefixes, families, names, tags or references
    /// (as `scan --select`). Comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    select: Vec<String>,
    /// List what would be fixed without writing; exit 1 when something would be.
    #[arg(long, conflicts_with = "diff")]
    dry_run: bool,
    /// Print a unified diff of the fixes without writing; exit 1 when there is one.
    #[arg(long)]
    diff: bool,
    /// Also apply the fixes that can break an application (readOnlyRootFilesystem), and list
    /// the suggestions that need a value only you know (a UID, an image digest).
    #[arg(long = "unsafe")]
    allow_unsafe: bool,
    /// Policy file (default: ./palisade.yaml when present): its exceptions are not fixed.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Pod Security Standards profile the POD rules use.
    #[arg(long, value_name = "LEVEL", value_enum)]
    profile: Option<crate::values::Profile>,
}

/// One file read for fixing.
struct Source {
    path: PathBuf,
    name: String,
    text: String,
}

/// Identity of a finding for the before/after comparison.
type Key = (String, &'static str, String);

fn key(f: &ReportFinding) -> Key {
    (
        f.location
            .as_ref()
            .map(|l| l.file.to_string())
            .unwrap_or_default(),
        f.rule_id,
        object_label(&f.object),
    )
}

fn object_label(o: &palisade_core::ObjectRef) -> String {
    match &o.namespace {
        Some(ns) => format!("{}/{}/{}", o.kind, ns, o.name),
        None => format!("{}/{}", o.kind, o.name),
    }
}

fn scan(sources: &[(String, String)], opts: &Options) -> (Inventory, Report) {
    let mut objects = Vec::new();
    let mut input = InputSummary::default();
    for (name, text) in sources {
        let loaded = palisade_load::load_str(name, text);
        objects.extend(loaded.objects);
        input.errors.extend(loaded.errors);
        input.warnings.extend(loaded.warnings);
    }
    let inventory = Inventory::new(objects);
    let report = analyze(&inventory, input, opts);
    (inventory, report)
}

/// Where each object starts in its file, by file and identity: [`Starts::of`] answers for a
/// finding in one lookup (a scan's findings are many, and so are its objects).
struct Starts<'a> {
    by_object: HashMap<(&'a str, palisade_core::ObjectRef), Vec<(u32, u32)>>,
}

impl<'a> Starts<'a> {
    fn new(inventory: &'a Inventory) -> Starts<'a> {
        let mut by_object: HashMap<_, Vec<(u32, u32)>> = HashMap::new();
        for o in inventory.objects() {
            if let Some(src) = &o.source {
                by_object
                    .entry((&*src.file, o.reference()))
                    .or_default()
                    .push((src.line, src.column));
            }
        }
        Starts { by_object }
    }

    /// Where the object of a finding starts in its file: the object of that name in that
    /// file; of several (one name written twice), the one the finding's line falls in.
    fn of(&self, f: &ReportFinding) -> Option<(u32, u32)> {
        let loc = f.location.as_ref()?;
        let candidates = self
            .by_object
            .get(&(&*loc.file, (*f.object).clone()))?
            .iter()
            .copied();
        candidates
            .clone()
            .filter(|(l, _)| *l <= loc.line)
            .max()
            .or_else(|| candidates.min())
    }
}

/// The targets of each file: the objects with a finding whose rule has a fix in `wanted`.
fn targets(
    report: &Report,
    inventory: &Inventory,
    wanted: &dyn Fn(&str) -> bool,
) -> BTreeMap<String, Vec<engine::Target>> {
    let mut by_file: BTreeMap<String, BTreeMap<(u32, u32), Vec<String>>> = BTreeMap::new();
    let starts = Starts::new(inventory);
    for f in report.findings.iter().filter(|f| wanted(f.rule_id)) {
        let Some(file) = f.location.as_ref().map(|l| l.file.clone()) else {
            continue;
        };
        if let Some(at) = starts.of(f) {
            let rules = by_file
                .entry(file.to_string())
                .or_default()
                .entry(at)
                .or_default();
            if !rules.iter().any(|r| r == f.rule_id) {
                rules.push(f.rule_id.to_owned());
            }
        }
    }
    by_file
        .into_iter()
        .map(|(file, objects)| {
            let t = objects
                .into_iter()
                .map(|((line, column), rules)| engine::Target {
                    line,
                    column,
                    rules,
                })
                .collect();
            (file, t)
        })
        .collect()
}

/// Writes `text` to `path` atomically (a temporary file beside it, then a rename), keeping
/// the file's permissions; a symbolic link is followed, not replaced.
fn write_atomic(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let real = std::fs::canonicalize(path)
        .with_context(|| format!("cannot resolve {}", path.display()))?;
    let meta =
        std::fs::metadata(&real).with_context(|| format!("cannot stat {}", real.display()))?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let file_name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.palisade-fix.{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.set_permissions(meta.permissions())?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, &real)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot write {}", real.display()));
    }
    Ok(())
}

#[allow(clippy::print_stderr)]
pub(crate) fn run(args: FixArgs) -> anyhow::Result<Exit> {
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        bail!("`palisade fix` edits files in place: `-` (standard input) is not a file");
    }
    let policy = match config::load_with(args.config.as_deref(), &[])? {
        Ok(p) => p,
        Err(errors) => {
            config::print_errors(&errors);
            return Ok(Exit::Error);
        }
    };
    let metas = palisade_analyze::catalogue::scan_rules();
    for s in &args.select {
        if !select::is_known(s, &metas) {
            bail!("`{s}` selects no rule (see `palisade rules`)");
        }
    }
    let profile = args.profile.map(PssLevel::from);
    let mut opts = Options::new(config::today());
    opts.policy = policy;
    opts.profile = profile;
    let fix_opts = engine::Options {
        allow_unsafe: args.allow_unsafe,
    };
    let selected = |rule: &str| {
        args.select.is_empty()
            || metas
                .iter()
                .any(|m| m.id == rule && args.select.iter().any(|s| select::matches(s, m)))
    };
    let wanted = |rule: &str| {
        selected(rule)
            && palisade_fix::fix_for(rule)
                .is_some_and(|f| f.safety == Safety::Safe || args.allow_unsafe)
    };

    // Read every file; refuse the templated ones.
    let (files, issues) = palisade_load::expand_paths(&args.paths);
    let mut failed = !issues.is_empty();
    for i in &issues {
        eprintln!("error: {i}");
    }
    let mut sources = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let bytes = match palisade_load::read_file_bounded(
            &path,
            palisade_load::InputLimits::DEFAULT_MAX_FILE_BYTES,
        ) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {name}: cannot read: {e}");
                failed = true;
                continue;
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            eprintln!("error: {name}: not UTF-8 text");
            failed = true;
            continue;
        };
        sources.push(Source { path, name, text });
    }
    let pairs: Vec<(String, String)> = sources
        .iter()
        .map(|s| (s.name.clone(), s.text.clone()))
        .collect();
    let (inventory, report) = scan(&pairs, &opts);
    for e in &report.errors {
        eprintln!("error: {e}");
        failed = true;
    }
    let by_file = targets(&report, &inventory, &wanted);
    // Template syntax: a file that holds `{{` is never edited. It is named when it has
    // something to fix, or when it is a template that does not even parse as YAML (a
    // PrometheusRule quoting `{{ $labels }}` in a string, with nothing to fix, is not noise).
    let template_skipped: std::collections::HashSet<&str> = report
        .warnings
        .iter()
        .filter(|w| w.message.contains("template syntax"))
        .map(|w| w.file.as_str())
        .collect();
    for src in sources.iter().filter(|s| s.text.contains("{{")) {
        if by_file.contains_key(&src.name) || template_skipped.contains(src.name.as_str()) {
            eprintln!(
                "{}: refused: holds template syntax (`{{{{`); fix the template by hand, or fix its rendered output",
                src.name
            );
        }
    }

    // Fix each file in memory, in rounds: a fix can let a rule see what it skipped before
    // (POD021 once a container is no longer privileged), and that finding has a fix too.
    let count = |r: &Report| {
        let mut m: HashMap<Key, usize> = HashMap::new();
        for f in &r.findings {
            *m.entry(key(f)).or_default() += 1;
        }
        m
    };
    let before_n = count(&report);
    let mut texts: Vec<String> = sources.iter().map(|s| s.text.clone()).collect();
    let mut outcomes: BTreeMap<usize, Vec<palisade_fix::Outcome>> = BTreeMap::new();
    let mut by_file = by_file;
    let mut current: Option<(Inventory, Report)> = None;
    for round in 0..3 {
        let mut changed = false;
        for (i, src) in sources.iter().enumerate() {
            let Some(t) = by_file.get(&src.name) else {
                continue;
            };
            let inv = current.as_ref().map_or(&inventory, |(inv, _)| inv);
            match palisade_fix::fix_file(&src.name, &texts[i], t, Some(inv), fix_opts) {
                Ok(ff) => {
                    changed |= ff.text != texts[i];
                    texts[i] = ff.text;
                    outcomes.entry(i).or_default().extend(ff.outcomes);
                }
                // Named above.
                Err(palisade_fix::FileError::Template) => {}
            }
        }
        let pairs: Vec<(String, String)> = sources
            .iter()
            .zip(&texts)
            .map(|(s, t)| (s.name.clone(), t.clone()))
            .collect();
        let (inv, rep) = scan(&pairs, &opts);
        current = Some((inv, rep));
        if !changed || round == 2 {
            break;
        }
        // The next round: only findings the first scan did not have.
        let (inv, rep) = current.as_ref().expect("scanned above");
        by_file = targets(rep, inv, &|rule: &str| wanted(rule));
        let fresh = |f: &ReportFinding| !before_n.contains_key(&key(f));
        let new_keys: std::collections::HashSet<Key> =
            rep.findings.iter().filter(|f| fresh(f)).map(key).collect();
        for (file, targets) in by_file.iter_mut() {
            for t in targets.iter_mut() {
                t.rules
                    .retain(|r| new_keys.iter().any(|k| &k.0 == file && k.1 == r.as_str()));
            }
            targets.retain(|t| !t.rules.is_empty());
        }
        by_file.retain(|_, t| !t.is_empty());
        if by_file.is_empty() {
            break;
        }
    }
    let after = current.map(|(_, r)| r).unwrap_or_default();
    let fixed: Vec<(usize, palisade_fix::FileFix)> = outcomes
        .into_iter()
        .map(|(i, outcomes)| {
            (
                i,
                palisade_fix::FileFix {
                    text: texts[i].clone(),
                    outcomes,
                },
            )
        })
        .collect();

    // Check the result against the first scan. A file whose fixes leave a finding they claim
    // to clear, or bring a new one, is not written. Counted per (file, rule, object), so that
    // objects of one name written twice in a file are told apart by number.
    let after_n = count(&after);
    let mut rejected: HashMap<usize, Vec<String>> = HashMap::new();
    let mut notes: HashMap<usize, Vec<String>> = HashMap::new();
    for (i, ff) in &fixed {
        let name = &sources[*i].name;
        let mut problems = Vec::new();
        let mut claimed: HashMap<Key, usize> = HashMap::new();
        for o in &ff.outcomes {
            if matches!(o.result, Resolution::Fixed(_)) {
                *claimed
                    .entry((name.clone(), o.rule, o.object.clone()))
                    .or_default() += 1;
            }
        }
        for (k, n) in &claimed {
            let left = before_n.get(k).copied().unwrap_or(0).saturating_sub(*n);
            if after_n.get(k).copied().unwrap_or(0) > left {
                problems.push(format!("{} {}: still reported after the fix", k.1, k.2));
            }
        }
        for (k, n) in &after_n {
            if &k.0 == name && before_n.get(k).copied().unwrap_or(0) < *n {
                // A rule that skipped what a fix of this object changed may now see it.
                let unmasked = ff.outcomes.iter().any(|o| {
                    o.object == k.2
                        && matches!(o.result, Resolution::Fixed(_))
                        && palisade_fix::fix_for(o.rule).is_some_and(|f| f.unmasks.contains(&k.1))
                });
                if unmasked {
                    notes.entry(*i).or_default().push(format!(
                        "{}: {} {} is now reported: the fixed setting hid it",
                        name, k.2, k.1
                    ));
                } else {
                    problems.push(format!(
                        "{} {}: reported after the fix, not before",
                        k.1, k.2
                    ));
                }
            }
        }
        if !problems.is_empty() {
            rejected.insert(*i, problems);
        }
    }

    // Report and write.
    let mut out = String::new();
    let mut applied = 0usize;
    let mut files_changed = 0usize;
    let mut manual = 0usize;
    for (i, ff) in &fixed {
        let src = &sources[*i];
        if let Some(problems) = rejected.get(i) {
            failed = true;
            eprintln!(
                "error: {}: the fixes were not written, the re-scan disagrees: {}",
                src.name,
                problems.join("; ")
            );
            continue;
        }
        for o in &ff.outcomes {
            let loc = format!("{}:{}", src.name, o.line);
            match &o.result {
                Resolution::Fixed(paths) => {
                    applied += 1;
                    if !args.diff {
                        let verb = if args.dry_run { "would fix" } else { "fixed" };
                        out.push_str(&format!(
                            "{loc}: {} {verb} {}: {}\n",
                            o.object,
                            o.rule,
                            paths.join(", ")
                        ));
                    }
                }
                Resolution::Manual(why) => {
                    manual += 1;
                    if !args.diff {
                        out.push_str(&format!(
                            "{loc}: {} {} not fixed: {why}\n",
                            o.object, o.rule
                        ));
                    }
                }
                Resolution::Suggest(s) => {
                    if !args.diff {
                        out.push_str(&format!("{loc}: {} {} suggestion: {s}\n", o.object, o.rule));
                    }
                }
                Resolution::NeedsUnsafe => {}
            }
        }
        if ff.text == src.text {
            continue;
        }
        for n in notes.get(i).into_iter().flatten() {
            if !args.diff {
                out.push_str(&format!("{n}\n"));
            }
        }
        files_changed += 1;
        if args.diff {
            out.push_str(&palisade_fix::diff::unified(&src.name, &src.text, &ff.text));
        } else if !args.dry_run {
            write_atomic(&src.path, &ff.text)?;
        }
    }
    if !args.diff {
        let verb = if args.dry_run {
            "would apply"
        } else {
            "applied"
        };
        out.push_str(&format!(
            "{applied} fix{} {verb} in {files_changed} file{}",
            if applied == 1 { "" } else { "es" },
            if files_changed == 1 { "" } else { "s" },
        ));
        if manual > 0 {
            out.push_str(&format!(
                "; {manual} finding{} to fix by hand",
                if manual == 1 { "" } else { "s" }
            ));
        }
        out.push('\n');
    }
    emit(&out)?;
    Ok(if failed {
        Exit::Error
    } else if (args.dry_run || args.diff) && files_changed > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// The rules whose findings point at a credential written in the clear in a manifest.
const CREDENTIAL_RULES: &[&str] = &[
    "literal-secret-in-env",
    "credentials-in-configmap",
    "secret-in-manifest",
];

/// SARIF `fixes` for the findings of a scan that have a safe fix: per finding index, the
/// edits that clear it, computed on the files as they are on disk.
pub(crate) fn sarif_fixes(
    report: &Report,
    inventory: &Inventory,
) -> HashMap<usize, palisade_report::ArtifactFix> {
    let mut out = HashMap::new();
    // The findings are in the order of their files: one file is read at a time.
    let mut current: Option<(String, Option<FileText>)> = None;
    let starts = Starts::new(inventory);
    // Lines where a credential is written in the clear: a fix that rewrites one would quote
    // it in the report, so none is offered there (`palisade fix` still applies it locally).
    let credentials: std::collections::HashSet<(&str, usize)> = report
        .findings
        .iter()
        .chain(&report.suppressed)
        .filter(|f| CREDENTIAL_RULES.contains(&f.rule_name))
        .filter_map(|f| {
            let l = f.location.as_ref()?;
            Some((&*l.file, l.line as usize))
        })
        .collect();
    for (i, f) in report.findings.iter().enumerate() {
        let Some(fix) = palisade_fix::fix_for(f.rule_id).filter(|x| x.safety == Safety::Safe)
        else {
            continue;
        };
        let Some(loc) = &f.location else { continue };
        let file = loc.file.to_string();
        if current.as_ref().is_none_or(|(name, _)| *name != file) {
            let text = std::fs::read_to_string(&file).ok().map(FileText::new);
            current = Some((file.clone(), text));
        }
        let Some(text) = current.as_ref().and_then(|(_, t)| t.as_ref()) else {
            continue;
        };
        let Some((line, column)) = starts.of(f) else {
            continue;
        };
        let Some(replacements) = text.fix(&file, line, column, f.rule_id, inventory) else {
            continue;
        };
        let quotes_credential = replacements.iter().any(|r| {
            (r.start_line..r.end_line.max(r.start_line + 1))
                .any(|l| credentials.contains(&(file.as_str(), l)))
        });
        if quotes_credential {
            continue;
        }
        out.insert(
            i,
            palisade_report::ArtifactFix {
                description: fix.text.to_owned(),
                file,
                replacements,
            },
        );
    }
    out
}

/// A file read for [`sarif_fixes`], split once into its documents: a finding's fix is
/// computed on its own document (each fix read and diffed the whole file before, which made
/// a large file's fixes cost its size times its findings).
struct FileText {
    text: String,
    /// The number of lines.
    lines: usize,
    /// The end of the file as a line and a column (after the last line's line end, if it has
    /// one): where a replacement of the lines past the last one starts or ends.
    end: (usize, usize),
    /// The documents: first line and byte range, as the fix engine splits the file.
    documents: Vec<(u32, std::ops::Range<usize>)>,
    /// Whether the engine would edit the file at all and write its line ends as `\r\n`.
    templated: bool,
    crlf: bool,
}

impl FileText {
    fn new(text: String) -> FileText {
        let lines = text.split_inclusive('\n').count();
        let last = text.split_inclusive('\n').next_back().unwrap_or("");
        let end = (lines.max(1), last.encode_utf16().count() + 1);
        let bom = if text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        let body = &text[bom..];
        // The documents follow each other and cover the body.
        let mut start = bom;
        let documents = palisade_load::split_documents(body)
            .into_iter()
            .map(|(line, piece)| {
                start += piece.len();
                (line, start - piece.len()..start)
            })
            .collect();
        FileText {
            templated: text.contains("{{"),
            crlf: body.contains("\r\n"),
            lines,
            end,
            documents,
            text,
        }
    }

    /// The line replacements of `rule`'s fix of the object that starts at `line`, `column`
    /// (`None`: no change, or no fix).
    fn fix(
        &self,
        file: &str,
        line: u32,
        column: u32,
        rule: &str,
        inventory: &Inventory,
    ) -> Option<Vec<palisade_report::Replacement>> {
        if self.templated {
            return None;
        }
        let (first, range) = self
            .documents
            .iter()
            .rev()
            .find(|(first, _)| *first <= line)?;
        let piece = &self.text[range.clone()];
        // The engine takes `\r\n` line ends from the text it is given: a document of a file
        // that mixes line ends is fixed within the whole file, as the engine would.
        let (old, offset, target_line) = if piece.contains("\r\n") == self.crlf {
            (piece, first - 1, line - first + 1)
        } else {
            (self.text.as_str(), 0, line)
        };
        let target = engine::Target {
            line: target_line,
            column,
            rules: vec![rule.to_owned()],
        };
        let ff = palisade_fix::fix_file(
            file,
            old,
            &[target],
            Some(inventory),
            engine::Options::default(),
        )
        .ok()?;
        if ff.text == old {
            return None;
        }
        let position = |line: usize| {
            if line > self.lines {
                self.end
            } else {
                (line, 1)
            }
        };
        let offset = offset as usize;
        Some(
            palisade_fix::diff::line_replacements(old, &ff.text)
                .into_iter()
                .map(|r| {
                    let (start_line, start_column) = position(r.start_line + offset);
                    let (end_line, end_column) = position(r.end_line + offset);
                    palisade_report::Replacement {
                        start_line,
                        start_column,
                        end_line,
                        end_column,
                        inserted: r.inserted,
                    }
                })
                .collect(),
        )
    }
}
