//! `palisade rules` and `palisade explain`.

use crate::{emit, Exit};
use anyhow::bail;
use clap::Args;
use palisade_core::compliance::rules_by_control;
use palisade_core::{select, Framework, RuleMeta};
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct RulesArgs {
    /// Output format: table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
    /// Only rules matching these selectors (ids, prefixes, names, tags, references).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// List the rules by control of this framework (cis, nsa, nist, owasp, book).
    #[arg(long, value_name = "FRAMEWORK")]
    framework: Option<String>,
    #[command(flatten)]
    policies: crate::policy::PolicyArgs,
    /// Policy file whose `policies:` list is loaded too (default: ./palisade.yaml when present).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    /// Rule id (POD001) or name (privileged-container); with --policy, a constraint
    /// (`Kind/name`) or a constraint kind (every constraint of that kind).
    rule: String,
    #[command(flatten)]
    policies: crate::policy::PolicyArgs,
    /// Policy file whose `policies:` list is loaded too (default: ./palisade.yaml when present).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
}

/// The catalogue, then the constraints loaded with `--policy` (and the configuration's
/// `policies:`), as the audit of `palisade scan` runs them.
#[allow(clippy::print_stderr)]
fn catalogue_with(
    policies: &crate::policy::PolicyArgs,
    config: Option<&std::path::Path>,
) -> anyhow::Result<Vec<&'static RuleMeta>> {
    let loaded = crate::policy::load(policies, config, &[], palisade_policy::SCAN_POINT)?;
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let mut all = palisade_analyze::catalogue::all().to_vec();
    all.extend(loaded.metas());
    Ok(all)
}

fn level(m: &RuleMeta) -> String {
    m.level.map(|l| l.to_string()).unwrap_or_else(|| "-".into())
}

pub(crate) fn rules(args: RulesArgs) -> anyhow::Result<Exit> {
    let metas: Vec<&RuleMeta> = catalogue_with(&args.policies, args.config.as_deref())?
        .into_iter()
        .filter(|m| args.select.is_empty() || args.select.iter().any(|s| select::matches(s, m)))
        .collect();
    if metas.is_empty() && !args.select.is_empty() {
        bail!("no rule matches {}", args.select.join(", "));
    }
    if let Some(f) = &args.framework {
        let f: Framework = f.parse().map_err(anyhow::Error::msg)?;
        return by_control(f, &metas, &args.format);
    }
    if args.format == "json" {
        let v: Vec<_> = metas
            .iter()
            .map(|m| {
                serde_json::json!({
                    "id": m.id, "name": m.name, "severity": m.severity, "summary": m.summary,
                    "family": m.family(), "level": m.level, "scope": m.scope,
                    "command": m.scope.command(),
                    "references": m.references, "tags": m.tags, "options": m.options,
                })
            })
            .collect();
        emit(&(serde_json::to_string_pretty(&v)? + "\n"))?;
        return Ok(Exit::Clean);
    }
    let mut out = String::new();
    for (command, title) in [
        ("scan", "Rules (palisade scan)"),
        ("node", "Host checks (palisade node)"),
        ("detect", "Detection rules (palisade detect)"),
        ("policy", "Loaded policies (palisade scan --policy)"),
    ] {
        let group: Vec<&&RuleMeta> = metas
            .iter()
            .filter(|m| {
                let loaded = m.id.contains('/');
                if command == "policy" {
                    loaded
                } else {
                    !loaded && m.scope.command() == command
                }
            })
            .collect();
        if group.is_empty() {
            continue;
        }
        let iw = group.iter().map(|m| m.id.len()).max().unwrap_or(2).max(7);
        let nw = group.iter().map(|m| m.name.len()).max().unwrap_or(4);
        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "{title}: {}\n", group.len());
        // Host checks are named by their id (the name column would repeat it) and belong to
        // CP, NODE or VER; only the rules of `palisade scan` have a Pod Security level.
        let row = |id: &str, name: &str, fam: &str, sev: &str, pss: &str, text: &str| match command
        {
            "node" => format!("{id:<iw$} {fam:<6} {sev:<8}  {text}\n"),
            "detect" => format!("{id:<iw$} {name:<nw$}  {sev:<8}  {text}\n"),
            _ => format!("{id:<iw$} {name:<nw$}  {sev:<8}  {pss:<10}  {text}\n"),
        };
        out.push_str(&row(
            "ID",
            "NAME",
            "FAMILY",
            "SEVERITY",
            "PSS LEVEL",
            "SUMMARY",
        ));
        for m in group {
            out.push_str(&row(
                m.id,
                m.name,
                m.family(),
                m.severity.as_str(),
                &level(m),
                m.summary,
            ));
            out.push_str(&row(
                "",
                "",
                "",
                "",
                "",
                &format!("refs: {}", m.references.join(", ")),
            ));
        }
    }
    let _ = writeln!(
        out,
        "\n{} rules. `palisade explain ID` shows a rule's documentation.",
        metas.len()
    );
    emit(&out)?;
    Ok(Exit::Clean)
}

/// `palisade rules --framework F`: the framework's controls, each with its rules.
fn by_control(f: Framework, metas: &[&RuleMeta], format: &str) -> anyhow::Result<Exit> {
    let controls = rules_by_control(f, metas.iter().copied());
    if format == "json" {
        let v: Vec<_> = controls
            .iter()
            .map(|(c, rs)| {
                serde_json::json!({
                    "control": format!("{f}:{c}"),
                    "rules": rs.iter().map(|m| serde_json::json!({
                        "id": m.id, "name": m.name, "severity": m.severity,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        emit(&(serde_json::to_string_pretty(&v)? + "\n"))?;
        return Ok(Exit::Clean);
    }
    let mut out = format!("{} ({f})\n\n", f.title());
    for (c, rs) in &controls {
        let _ = writeln!(out, "{f}:{c}");
        for m in rs {
            let _ = writeln!(
                out,
                "  {:<7} {:<36} {:<8} {}",
                m.id,
                m.name,
                m.severity.as_str(),
                m.summary
            );
        }
    }
    let uncovered: Vec<&str> = metas
        .iter()
        .filter(|m| !f.covers(m))
        .map(|m| m.id)
        .collect();
    let _ = writeln!(
        out,
        "\n{} controls, {} rules mapped{}.",
        controls.len(),
        metas.len() - uncovered.len(),
        if uncovered.is_empty() {
            String::new()
        } else {
            format!("; not mapped to {f}: {}", uncovered.join(", "))
        }
    );
    emit(&out)?;
    Ok(Exit::Clean)
}

pub(crate) fn explain(args: ExplainArgs) -> anyhow::Result<Exit> {
    let all = catalogue_with(&args.policies, args.config.as_deref())?;
    let mut found: Vec<&'static RuleMeta> = all
        .iter()
        .copied()
        .filter(|m| m.id.eq_ignore_ascii_case(&args.rule) || m.name == args.rule)
        .collect();
    if found.is_empty() {
        // A constraint kind: every constraint of that kind.
        found = all
            .iter()
            .copied()
            .filter(|m| m.id.contains('/') && select::matches(&args.rule, m))
            .collect();
        if found.len() > 1 {
            let mut out = String::new();
            for m in &found {
                let _ = writeln!(out, "{}", explain_one(m, &[]));
            }
            emit(&out)?;
            return Ok(Exit::Clean);
        }
    }
    let Some(m) = found.first().copied() else {
        bail!("unknown rule `{}` (see `palisade rules`)", args.rule);
    };
    emit(&explain_one(m, &found[1..]))?;
    Ok(Exit::Clean)
}

fn explain_one(m: &RuleMeta, others: &[&RuleMeta]) -> String {
    let mut out = if m.name == m.id {
        format!("# {}\n\n{}\n\n", m.id, m.summary)
    } else {
        format!("# {} {}\n\n{}\n\n", m.id, m.name, m.summary)
    };
    let _ = writeln!(out, "- Severity: {}", m.severity);
    let _ = writeln!(out, "- Family: {}", m.family());
    if let Some(l) = m.level {
        let _ = writeln!(
            out,
            "- Pod Security Standards level: {l} (runs under the {l} and stricter profiles)"
        );
    }
    let _ = writeln!(out, "- Scope: {}", m.scope.describe());
    if let Some(a) = palisade_analyze::catalogue::admission_needs(m.id) {
        let _ = writeln!(out, "- At admission: {}", a.describe());
    }
    // The references are the generated `## References` section of the doc below.
    if !m.tags.is_empty() {
        let _ = writeln!(out, "- Tags: {}", m.tags.join(", "));
    }
    for o in m.options {
        let _ = writeln!(out, "- Option `{}`: {}", o.name, o.doc);
    }
    for other in others {
        let _ = writeln!(
            out,
            "- Also named `{}`: {} (`palisade explain {}`)",
            m.name, other.id, other.id
        );
    }
    out.push('\n');
    out.push_str(&m.doc_markdown());
    if let Some(fix) = palisade_fix::fix_for(m.id) {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        let _ = write!(out, "\n## Automatic fix\n\n{}", fix.doc());
    }
    out
}
