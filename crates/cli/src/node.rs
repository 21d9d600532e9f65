//! `palisade node`: CIS control-plane and worker checks on a host.

use crate::{config, emit, Exit};
use anyhow::{bail, Context as _};
use clap::Args;
use palisade_analyze::node::{apply_node_policy, node_fails};
use palisade_analyze::Options;
use palisade_core::{select, Severity};
use palisade_report::{render, Format, RenderOptions};
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
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = crate::values::NodeFormat::Table)]
    format: crate::values::NodeFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Colour in the table output.
    #[arg(long, value_enum, default_value = "auto")]
    color: crate::values::ColorChoice,
    /// Evaluate certificate expiry at this instant (RFC 3339, e.g. 2027-01-31T00:00:00Z)
    /// instead of now: "what expires before the next maintenance window?".
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Directory of known Kubernetes CVEs (k8s-cves YAML format; `palisade update-db`
    /// writes one): the versions of the components found (image tags of static pods) are
    /// matched against it.
    #[arg(long, value_name = "DIR")]
    cve_data: Option<PathBuf>,
    /// Policy file (default: ./palisade.yaml when present): its select, ignore, rules
    /// (enabled, severity) and exceptions apply to host checks; an exception matches the
    /// node as `match: {kind: Node, name: HOST}` (HOST from DIR/etc/hostname, else DIR).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Host checks to run (replaces the config's `select`): ids (1.2.1), sections (1.2,
    /// tls), families (CP, NODE, VER), references (cis:4.2). Comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    select: Vec<String>,
    /// Host checks not to run (added to the config's `ignore`).
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    ignore: Vec<String>,
    /// Exit 1 when a FAIL at or above this severity remains, or `none` to always exit 0 on
    /// FAILs. Default: the config's failOn, else any
    /// FAIL. WARN, MANUAL and suppressed results never fail the run.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    fail_on: Option<crate::values::FailOn>,
    /// The day exceptions are evaluated against (YYYY-MM-DD); default: the day of --at,
    /// else today.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
}

/// The node's name for exceptions: the root's `/etc/hostname` (first line), else the root
/// path as given.
fn host_name(root: &palisade_node::Root, dir: &std::path::Path) -> String {
    root.read_bytes("/etc/hostname")
        .ok()
        .filter(|b| b.len() <= 4096)
        .and_then(|b| {
            String::from_utf8_lossy(&b)
                .lines()
                .next()
                .map(|l| l.trim().to_owned())
        })
        .filter(|h| !h.is_empty() && !h.chars().any(char::is_control))
        .unwrap_or_else(|| dir.display().to_string())
}

pub(crate) fn run(args: NodeArgs) -> anyhow::Result<Exit> {
    let format: Format = args.format.into();
    let policy = match config::load(args.config.as_deref())? {
        Ok(p) => p,
        Err(errors) => {
            config::print_errors(&errors);
            return Ok(Exit::Error);
        }
    };
    let host_checks = palisade_analyze::catalogue::host_checks();
    for s in args.select.iter().chain(&args.ignore) {
        if !select::is_known(s, host_checks) {
            bail!("`{s}` selects no host check of `palisade node` (see `palisade rules --select host`)");
        }
    }
    let fail_on: Option<Severity> = match args.fail_on {
        Some(f) => f.severity(),
        // Without a threshold, any FAIL fails the run.
        None => Some(policy.fail_on.unwrap_or(Severity::Info)),
    };
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
    let today: jiff::civil::Date = match &args.today {
        Some(d) => d
            .parse()
            .with_context(|| format!("--today `{d}` is not a date (YYYY-MM-DD)"))?,
        None if args.at.is_some() => jiff::tz::TimeZone::UTC.to_datetime(now).date(),
        None => jiff::tz::TimeZone::system().to_datetime(now).date(),
    };
    let opts = Options {
        policy,
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        ..Options::new(today)
    };
    if palisade_analyze::node::selected_checks(&opts).is_empty() {
        bail!(
            "the selection leaves no host check to run (the configuration's select: [{}]; --select chooses host checks)",
            opts.policy.select.join(", ")
        );
    }
    let root = palisade_node::Root::new(&args.root);
    let node = palisade_node::run(
        &root,
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
    let report = apply_node_policy(node, &host_name(&root, &args.root), &opts);
    let failed = report.node.as_ref().is_some_and(|n| node_fails(n, fail_on));
    let color = args.color.enabled(args.output.is_some());
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
