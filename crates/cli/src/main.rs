//! The `palisade` command: argument parsing and wiring only.

mod access;
mod admission;
mod cluster;
mod config;
mod detect;
mod explain;
mod fix;
mod node;
mod policy;
mod scan;
mod update_db;
mod values;
mod verify;

use clap::{Parser, Subcommand};
use std::io::Write;
use std::process::ExitCode;

/// Kubernetes security from manifest to cluster.
#[derive(Parser, Debug)]
#[command(name = "palisade", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Scan Kubernetes manifests (files, directories, `-` for stdin).
    Scan(Box<scan::ScanArgs>),
    /// Apply the safe fixes to manifest files in place, keeping comments and layout
    /// (`--diff` or `--dry-run` to only show them).
    Fix(fix::FixArgs),
    /// List the rules.
    Rules(explain::RulesArgs),
    /// Show a rule's documentation.
    Explain(explain::ExplainArgs),
    /// Detect threats in Kubernetes audit logs.
    Detect(Box<detect::DetectArgs>),
    /// RBAC queries: who-can, can, risks, escalation paths.
    Rbac(access::RbacArgs),
    /// NetworkPolicy queries: can traffic flow between two endpoints?
    Net(access::NetArgs),
    /// CIS control-plane and node checks on a host: component flags, kubelet config, file
    /// permissions, certificates, encryption at rest, audit, SSH exposure. Exit 1 on a FAIL
    /// at or above --fail-on (default: the config's failOn, else any FAIL).
    Node(Box<node::NodeArgs>),
    /// Convert the Kubernetes CVE feed (JSON Feed, from a file) into the CVE directory that
    /// `--cve-data` reads. Downloading the feed is not implemented: pass the file.
    UpdateDb(update_db::UpdateDbArgs),
    /// Save a cluster's security-relevant state into one file (incident response).
    Snapshot(cluster::SnapshotArgs),
    /// Security-relevant drift between two snapshots.
    Diff(cluster::DiffArgs),
    /// Write a snapshot's objects as apply-able manifests (DIR/<namespace>/<kind>.yaml).
    Export(cluster::ExportArgs),
    /// Print a commented `palisade.yaml` template.
    Init,
    /// The validating admission webhook: `serve` it, or print the manifests to `install` it.
    #[command(subcommand)]
    Admission(admission::AdmissionCommand),
    /// The background audit: keep a watch cache of the cluster, evaluate every rule on an
    /// interval, publish PolicyReports and metrics.
    #[command(subcommand)]
    Audit(admission::AuditCommand),
}

/// Exit codes, mapped in one place: 0 clean, 1 findings at or above the threshold, 3 a
/// partial cluster scan (some kinds could not be read; `--allow-partial` turns it off), 2
/// usage or input error. When several apply (several contexts), [`Exit::worst`] decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Clean = 0,
    Findings = 1,
    Partial = 3,
    Error = 2,
}

impl Exit {
    /// Precedence: an error over a partial scan over findings over clean.
    fn rank(self) -> u8 {
        match self {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Partial => 2,
            Exit::Error => 3,
        }
    }

    /// The one of the two that wins.
    pub(crate) fn worst(self, other: Exit) -> Exit {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }
}

/// Writes to stdout; a closed pipe (`palisade scan | head`) is not an error.
pub(crate) fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scan(args) => scan::run(*args),
        Command::Fix(args) => fix::run(args),
        Command::Rules(args) => explain::rules(args),
        Command::Explain(args) => explain::explain(args),
        Command::Detect(args) => detect::run(*args),
        Command::Rbac(args) => access::rbac(args),
        Command::Net(args) => access::net(args),
        Command::Node(args) => node::run(*args),
        Command::UpdateDb(args) => update_db::run(args),
        Command::Snapshot(args) => cluster::snapshot(args),
        Command::Diff(args) => cluster::diff(args),
        Command::Export(args) => cluster::export(args),
        Command::Init => emit(config::TEMPLATE).map(|_| Exit::Clean),
        Command::Admission(cmd) => admission::run(cmd),
        Command::Audit(cmd) => admission::run_audit(cmd),
    };
    match result {
        Ok(code) => ExitCode::from(code as u8),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(Exit::Error as u8)
        }
    }
}
