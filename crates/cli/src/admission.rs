//! `palisade admission serve | install`: flag parsing and wiring only; the webhook lives in
//! palisade-admission.

use crate::{config, emit, Exit};
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use palisade_admission::certs::{service_dns_names, CertAuthority, TlsFiles};
use palisade_admission::install::{self, InstallOptions};
use palisade_admission::{
    AppState, Evaluator, EvaluatorOptions, Limits, Server, ServerConfig, SystemClock,
};
use palisade_analyze::Options;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub(crate) enum AdmissionCommand {
    /// Run the validating admission webhook (HTTPS).
    Serve(ServeArgs),
    /// Print the manifests that deploy the webhook.
    Install(InstallArgs),
}

#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// Policy file (default: ./palisade.yaml when present).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serving certificate chain (PEM); reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    tls_cert: PathBuf,
    /// Serving private key (PEM); reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    tls_key: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    addr: SocketAddr,
    /// Largest request body accepted, in bytes.
    #[arg(long, default_value_t = 3 * 1024 * 1024, value_name = "BYTES")]
    max_body_bytes: usize,
    /// Time allowed to evaluate one request, in milliseconds.
    #[arg(long, default_value_t = 8000, value_name = "MS")]
    timeout_ms: u64,
    /// Evaluations at once (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    max_concurrent: Option<usize>,
    /// Connections served at once; at the limit, new connections wait in the listen backlog
    /// until one closes.
    #[arg(
        long,
        default_value_t = ServerConfig::DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..),
        value_name = "N"
    )]
    max_connections: usize,
    /// Time from accepting a connection to its first complete request head, TLS handshake
    /// included, in milliseconds; a connection that has sent no request by then is closed.
    #[arg(
        long,
        default_value_t = ServerConfig::DEFAULT_HEADER_TIMEOUT.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "MS"
    )]
    header_timeout_ms: u64,
    /// Close a connection after this long without a request starting or finishing, in
    /// milliseconds; keep it above the API server's 90 s keep-alive idle timeout.
    #[arg(
        long,
        default_value_t = ServerConfig::DEFAULT_IDLE_TIMEOUT.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "MS"
    )]
    idle_timeout_ms: u64,
    /// On UPDATE, also deny violations the old object already had (default: those are
    /// returned as warnings; only violations the update introduces are denied).
    #[arg(long)]
    deny_preexisting: bool,
    /// After SIGTERM, keep serving this long (milliseconds) while reporting not ready, so
    /// that the Service stops routing here first; then drain in-flight requests.
    #[arg(long, default_value_t = 3000, value_name = "MS")]
    shutdown_delay_ms: u64,
    /// Log format: json or text.
    #[arg(long, default_value = "json")]
    log_format: String,
    #[command(flatten)]
    policies: crate::policy::PolicyArgs,
}

#[derive(Args, Debug)]
pub(crate) struct InstallArgs {
    /// Namespace of the webhook (excluded from it, as is kube-system).
    #[arg(long, default_value = "palisade-system")]
    namespace: String,
    /// Replicas (at least 2).
    #[arg(long, default_value_t = 2)]
    replicas: u32,
    /// What the API server does when the webhook cannot be reached: Fail or Ignore.
    #[arg(long, default_value = "Fail", value_parser = ["Fail", "Ignore"])]
    failure_policy: String,
    /// Container image (pin a version, ideally a digest).
    #[arg(long, default_value = install::DEFAULT_IMAGE)]
    image: String,
    /// Write ca.crt, tls.crt and tls.key into DIR (a new CA and a serving certificate for
    /// the Service's DNS names and 127.0.0.1) and use the CA as caBundle.
    #[arg(long, value_name = "DIR")]
    gen_certs: Option<PathBuf>,
}

pub(crate) fn run(cmd: AdmissionCommand) -> anyhow::Result<Exit> {
    match cmd {
        AdmissionCommand::Serve(args) => serve(args),
        AdmissionCommand::Install(args) => install(args),
    }
}

#[allow(clippy::print_stderr)]
fn serve(args: ServeArgs) -> anyhow::Result<Exit> {
    // Constraints enforced at Gatekeeper's validation point, each with its
    // enforcementAction as its mode: deny → deny, warn → warn, dryrun → audit.
    let policies = crate::policy::load(
        &args.policies,
        args.config.as_deref(),
        &[],
        palisade_policy::constraint::EnforcementPoint::Validation,
    )?;
    for e in &policies.errors {
        eprintln!("error: {e}");
    }
    let mut policy = match config::load_with(args.config.as_deref(), &policies.metas())? {
        Ok(p) => p,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!("error: the configuration has {} problem(s)", errors.len());
            return Ok(Exit::Error);
        }
    };
    init_tracing(&args.log_format)?;
    let today = jiff::tz::TimeZone::system()
        .to_datetime(jiff::Timestamp::now())
        .date();
    policies.apply_modes(&mut policy);
    let options = Options {
        policy,
        extra_rules: palisade_analyze::ExtraRules(policies.dyn_rules()),
        ..Options::new(today)
    };
    let evaluator = Evaluator::new(
        options,
        EvaluatorOptions {
            deny_only_new_on_update: !args.deny_preexisting,
        },
    );
    if evaluator.rule_ids().is_empty() {
        // A webhook that evaluates nothing would admit everything while looking installed.
        bail!(
            "the policy selects no rule that admission evaluates (host checks, detection rules and \
             rules that need the whole cluster run elsewhere); check `select`/`ignore` in the configuration"
        );
    }
    let mut limits = Limits {
        max_body_bytes: args.max_body_bytes,
        timeout: Duration::from_millis(args.timeout_ms),
        ..Limits::default()
    };
    if let Some(n) = args.max_concurrent {
        limits.max_concurrent = n;
    }
    let state = AppState::new(evaluator, Arc::new(SystemClock), limits);
    let config = ServerConfig {
        shutdown_delay: Duration::from_millis(args.shutdown_delay_ms),
        max_connections: args.max_connections,
        header_timeout: Duration::from_millis(args.header_timeout_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        ..ServerConfig::new(
            args.addr,
            TlsFiles {
                cert: args.tls_cert,
                key: args.tls_key,
            },
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = Server::bind(config, state).await?;
        server.run(palisade_admission::shutdown_signal()).await
    })?;
    Ok(Exit::Clean)
}

fn init_tracing(format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        "json" => builder.json().flatten_event(true).init(),
        "text" => builder.init(),
        other => bail!("unknown --log-format `{other}` (expected json or text)"),
    }
    Ok(())
}

fn install(args: InstallArgs) -> anyhow::Result<Exit> {
    if args.replicas < 2 {
        bail!("--replicas must be at least 2 for a highly available webhook");
    }
    let mut opts = InstallOptions {
        namespace: args.namespace,
        replicas: args.replicas,
        failure_policy: args.failure_policy,
        image: args.image,
        ..InstallOptions::default()
    };
    if let Some(dir) = &args.gen_certs {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let ca = CertAuthority::generate("palisade-admission-ca")?;
        let issued = ca.issue(
            &service_dns_names(install::NAME, &opts.namespace),
            &[IpAddr::V4(Ipv4Addr::LOCALHOST)],
        )?;
        write(dir.join("ca.crt"), &ca.cert_pem(), false)?;
        write(dir.join("tls.crt"), &issued.cert_pem, false)?;
        write(dir.join("tls.key"), &issued.key_pem, true)?;
        opts.ca_pem = Some(ca.cert_pem());
    }
    emit(&install::render(&opts))?;
    Ok(Exit::Clean)
}

fn write(path: PathBuf, text: &str, private: bool) -> anyhow::Result<()> {
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("cannot restrict {}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = private;
    Ok(())
}
