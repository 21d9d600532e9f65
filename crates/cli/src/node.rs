//! `palisade node`: CIS control-plane and worker checks on a host.

use crate::{emit, Exit};
use anyhow::{bail, Context as _};
use clap::Args;
use palisade_core::Report;
use palisade_report::{render, Format, RenderOptions};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct NodeArgs {
    /// The host's root directory: `/` on the host, or where a privileged pod mounts it
    /// (`/host`). Process command lines are read from DIR/proc, manifests from
    /// DIR/etc/kubernetes/manifests, the kubelet's units and config under DIR too.
    #[arg(long, value_name = "DIR", default_value = "/")]
    root: PathBuf,
    /// The CIS Kubernetes Benchmark version: cis-1.12 (default), cis-1.11, cis-1.10.
    #[arg(long, value_name = "NAME", default_value = palisade_node::DEFAULT_BENCHMARK)]
    benchmark: String,
    /// Output format: table, json, sarif, junit, markdown.
    #[arg(long, short = 'f', default_value = "table")]
    format: String,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Colour in the table output.
    #[arg(long, value_enum, default_value = "auto")]
    color: crate::scan::ColorChoice,
    /// Evaluate certificate expiry at this instant (RFC 3339, e.g. 2027-01-31T00:00:00Z)
    /// instead of now: "what expires before the next maintenance window?".
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Directory of known Kubernetes CVEs (k8s-cves YAML format; `palisade update-db`
    /// writes one): the versions of the components found (image tags of static pods) are
    /// matched against it.
    #[arg(long, value_name = "DIR")]
    cve_data: Option<PathBuf>,
}

pub(crate) fn run(args: NodeArgs) -> anyhow::Result<Exit> {
    let format: Format = args.format.parse().map_err(anyhow::Error::msg)?;
    if !palisade_node::BENCHMARKS.contains(&args.benchmark.as_str()) {
        bail!(
            "unknown benchmark `{}` (expected one of: {})",
            args.benchmark,
            palisade_node::BENCHMARKS.join(", ")
        );
    }
    if !args.root.is_dir() {
        bail!("--root {} is not a directory", args.root.display());
    }
    let now = match &args.at {
        Some(t) => t
            .parse::<jiff::Timestamp>()
            .with_context(|| format!("--at `{t}` is not an RFC 3339 time"))?,
        None => jiff::Timestamp::now(),
    };
    let node = palisade_node::run(
        &palisade_node::Root::new(&args.root),
        &palisade_node::Options {
            benchmark: args.benchmark.clone(),
            now,
            cves: match &args.cve_data {
                Some(dir) => Some(
                    palisade_node::cve::CveDatabase::load(dir)
                        .with_context(|| format!("--cve-data {}", dir.display()))?,
                ),
                None => None,
            },
        },
    );
    if node.components.is_empty() {
        bail!(
            "no Kubernetes component found under {} (no control-plane or kubelet process, static pod manifest, \
             kubelet configuration or systemd unit): nothing was checked; point --root at a node's root file system",
            args.root.display()
        );
    }
    let failed = node.totals.fail > 0;
    let report = Report {
        node: Some(node),
        ..Report::default()
    };
    let color = match args.color {
        crate::scan::ColorChoice::Always => true,
        crate::scan::ColorChoice::Never => false,
        crate::scan::ColorChoice::Auto => {
            args.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let text = render(
        &report,
        format,
        &RenderOptions {
            color,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
    );
    match &args.output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => emit(&text)?,
    }
    Ok(if failed { Exit::Findings } else { Exit::Clean })
}
