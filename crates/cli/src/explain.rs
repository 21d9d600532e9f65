//! `palisade rules` and `palisade explain`.

use crate::{emit, Exit};
use anyhow::bail;
use clap::Args;
use palisade_core::compliance::rules_by_control;
use palisade_core::{select, Framework, RuleMeta};
use std::fmt::Write;

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
}

#[derive(Args, Debug)]
pub(crate) struct ExplainArgs {
    /// Rule id (POD001) or name (privileged-container).
    rule: String,
}

fn level(m: &RuleMeta) -> String {
    m.level.map(|l| l.to_string()).unwrap_or_else(|| "-".into())
}

pub(crate) fn rules(args: RulesArgs) -> anyhow::Result<Exit> {
    let metas: Vec<&RuleMeta> = palisade_rules::registry::metas()
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
                    "references": m.references, "tags": m.tags, "options": m.options,
                })
            })
            .collect();
        emit(&(serde_json::to_string_pretty(&v)? + "\n"))?;
        return Ok(Exit::Clean);
    }
    let nw = metas.iter().map(|m| m.name.len()).max().unwrap_or(4);
    let mut out = format!(
        "{:<7} {:<nw$}  {:<8}  {:<10}  SUMMARY\n",
        "ID", "NAME", "SEVERITY", "PSS LEVEL"
    );
    for m in &metas {
        let _ = writeln!(
            out,
            "{:<7} {:<nw$}  {:<8}  {:<10}  {}",
            m.id,
            m.name,
            m.severity.as_str(),
            level(m),
            m.summary
        );
        let _ = writeln!(
            out,
            "{:<7} {:<nw$}  {:<8}  {:<10}  refs: {}",
            "",
            "",
            "",
            "",
            m.references.join(", ")
        );
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
    let Some(rule) = palisade_rules::find(&args.rule) else {
        bail!("unknown rule `{}` (see `palisade rules`)", args.rule);
    };
    let m = rule.meta();
    let mut out = format!("# {} {}\n\n{}\n\n", m.id, m.name, m.summary);
    let _ = writeln!(out, "- Severity: {}", m.severity);
    if let Some(l) = m.level {
        let _ = writeln!(
            out,
            "- Pod Security Standards level: {l} (runs under the {l} and stricter profiles)"
        );
    }
    let _ = writeln!(
        out,
        "- Scope: {}",
        match m.scope {
            palisade_core::Scope::Object => "each object",
            palisade_core::Scope::Inventory => "the whole scan (inventory rule)",
        }
    );
    let _ = writeln!(out, "- References: {}", m.references.join(", "));
    if !m.tags.is_empty() {
        let _ = writeln!(out, "- Tags: {}", m.tags.join(", "));
    }
    for o in m.options {
        let _ = writeln!(out, "- Option `{}`: {}", o.name, o.doc);
    }
    out.push('\n');
    out.push_str(&m.doc_markdown());
    emit(&out)?;
    Ok(Exit::Clean)
}
