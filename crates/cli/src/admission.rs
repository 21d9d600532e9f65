//! `palisade admission serve | install`: flag parsing and wiring only; the webhook lives in
//! palisade-admission.

use crate::{config, emit, Exit};
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use palisade_admission::background::{Auditor, BoxFuture, ReportSink};
use palisade_admission::certs::{service_dns_names, CertAuthority, TlsFiles};
use palisade_admission::install::{self, InstallOptions};
use palisade_admission::{
    AppState, ClusterView, Evaluator, EvaluatorOptions, FailurePolicy, Limits, NotReady, Server,
    ServerConfig, SystemClock,
};
use palisade_analyze::Options;
use palisade_cluster::watch::{ClusterCache, ReportWriter};
use palisade_core::Object;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Subcommand, Debug)]
pub(crate) enum AdmissionCommand {
    /// Run the validating admission webhook (HTTPS).
    Serve(Box<ServeArgs>),
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
    /// Keep a watch cache of the cluster (list + watch of the kinds they read, Secrets as
    /// metadata) so that the rules that need the rest of the cluster (RBAC grants and paths,
    /// NetworkPolicy coverage, disruption budgets...) run at admission too. Needs get, list
    /// and watch on those kinds (`admission install --cluster-cache` grants them).
    #[arg(long)]
    cluster_cache: bool,
    /// Kubeconfig for the cluster cache (default: in-cluster, else KUBECONFIG / ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context for the cluster cache.
    #[arg(long)]
    context: Option<String>,
    /// When a deny-mode rule needs the cluster cache and the cache cannot answer (not
    /// synced yet, or a kind it may not read): Fail denies, Ignore admits with a warning.
    /// Match the webhook configuration's failurePolicy.
    #[arg(long, default_value = "Fail", value_parser = ["Fail", "Ignore"])]
    failure_policy: String,
    /// Time allowed to verify the images of one reviewed workload at their registries
    /// (IMG007, when the policy has an `imageTrust` section), in milliseconds; must be below
    /// --timeout-ms. A registry that does not answer in time follows --failure-policy.
    #[arg(
        long,
        default_value_t = 4000,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "MS"
    )]
    verify_timeout_ms: u64,
    /// With image verification (IMG007), log in to registries with the reviewed workload's
    /// image pull Secrets (its own `imagePullSecrets`, else its ServiceAccount's), read
    /// from its namespace with one `get` each and dropped after the review. Needs `get` on
    /// secrets and serviceaccounts (`admission install --image-pull-secrets` grants it).
    #[arg(long)]
    image_pull_secrets: bool,
    /// Also run the background audit every DURATION (`10m`, `1h`): every rule over the
    /// cluster cache, PolicyReports written when they change, violations in /metrics.
    /// Implies --cluster-cache.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    audit_interval: Option<Duration>,
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
    /// Run the webhook with a watch cache of the cluster (`serve --cluster-cache`): adds a
    /// read-only ClusterRole (get, list, watch) and its binding, mounts an API token in the
    /// pod and allows egress to the API server.
    #[arg(long)]
    cluster_cache: bool,
    /// Let the webhook read image pull Secrets for registry logins (`serve
    /// --image-pull-secrets`): adds a ClusterRole with `get` on secrets and serviceaccounts
    /// in every namespace (Secret values: grant it knowingly), mounts an API token in the pod
    /// and allows egress to the API server.
    #[arg(long)]
    image_pull_secrets: bool,
    /// Run the background audit every DURATION (`serve --audit-interval`): implies
    /// --cluster-cache, adds watch on every kind the rules read and write access to
    /// PolicyReports (the wgpolicyk8s.io v1alpha2 CRDs are added unless --no-crds).
    #[arg(long, value_name = "DURATION", value_parser = parse_interval_text)]
    audit_interval: Option<String>,
    /// Write ca.crt, tls.crt and tls.key into DIR (a new CA and a serving certificate for
    /// the Service's DNS names and 127.0.0.1) and use the CA as caBundle.
    #[arg(long, value_name = "DIR")]
    gen_certs: Option<PathBuf>,
    /// Leave out the PolicyReport and ClusterPolicyReport CRDs (wgpolicyk8s.io v1alpha2), for
    /// clusters where Kyverno or Trivy Operator installed them.
    #[arg(long)]
    no_crds: bool,
    /// Gatekeeper ConstraintTemplates and constraints, ValidatingAdmissionPolicies with their
    /// bindings and parameter objects: files or directories (YAML/JSON, recursively),
    /// repeatable. Shipped in a ConfigMap the webhook loads (`serve --policy`), and the
    /// webhook is registered for the kinds they match.
    #[arg(long = "policy", value_name = "PATH")]
    policy: Vec<PathBuf>,
    /// `serve --policy-engine`: the engine of templates with both Rego and CEL blocks.
    #[arg(long = "policy-engine", value_name = "ENGINE", value_parser = ["cel", "rego"], default_value = "cel")]
    policy_engine: String,
}

pub(crate) fn run(cmd: AdmissionCommand) -> anyhow::Result<Exit> {
    match cmd {
        AdmissionCommand::Serve(args) => serve(*args),
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
            config::print_errors(&errors);
            return Ok(Exit::Error);
        }
    };
    init_tracing(&args.log_format)?;
    let today = config::today();
    // The configuration as written, for the background audit's own modes.
    let configured = policy.clone();
    policies.apply_modes(&mut policy);
    let options = Options {
        policy,
        extra_rules: palisade_analyze::ExtraRules(policies.dyn_rules()),
        ..Options::new(today)
    };
    // The background audit runs the constraints enforced at Gatekeeper's audit point, each
    // with its action there, as `palisade scan` does.
    let options_for_audit = if args.audit_interval.is_some() {
        audit_options(&args.policies, args.config.as_deref(), configured, today)?
    } else {
        options.clone()
    };
    let failure_policy = args
        .failure_policy
        .parse::<FailurePolicy>()
        .map_err(anyhow::Error::msg)?;
    // Image signatures (IMG007) verified at admission when the policy has `imageTrust`.
    let image_verification = match &options.policy.image_trust {
        Some(trust) => {
            if args.verify_timeout_ms >= args.timeout_ms {
                bail!(
                    "--verify-timeout-ms ({}) must be below --timeout-ms ({}): image verification runs inside the review's time",
                    args.verify_timeout_ms,
                    args.timeout_ms
                );
            }
            let trusts = palisade_registry::policy::load_trust(
                trust,
                options.policy.file.as_deref().map(std::path::Path::new),
            )?;
            let keychain = match palisade_registry::Keychain::default_docker_config_path() {
                Some(path) => palisade_registry::Keychain::from_docker_config_file(&path)
                    .context("registry credentials")?,
                None => palisade_registry::Keychain::new(),
            };
            let budget = Duration::from_millis(args.verify_timeout_ms);
            Some((trust.clone(), trusts, keychain, budget))
        }
        None => None,
    };
    if args.image_pull_secrets && image_verification.is_none() {
        eprintln!(
            "warning: --image-pull-secrets has no effect: the policy has no `imageTrust` section, so no image is verified"
        );
    }
    let evaluator = Evaluator::new(
        options,
        EvaluatorOptions {
            deny_only_new_on_update: !args.deny_preexisting,
            failure_policy,
        },
    );
    let cache = args.cluster_cache || args.audit_interval.is_some();
    if !cache {
        // Templates that read `data.inventory` need the rest of the cluster: say so rather
        // than let them look enforced.
        let loaded: HashSet<&str> = policies
            .rules
            .iter()
            .map(|r| palisade_core::Rule::meta(*r).id)
            .collect();
        let skipped: Vec<&str> = evaluator
            .cluster_rule_ids()
            .into_iter()
            .filter(|id| loaded.contains(id))
            .collect();
        if !skipped.is_empty() {
            eprintln!(
                "warning: {} read data.inventory (the rest of the cluster) and are evaluated only with --cluster-cache",
                skipped.join(", ")
            );
        }
    }
    if evaluator.rule_ids().is_empty() && (!cache || evaluator.cluster_rule_ids().is_empty()) {
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
    let audit_options = options_for_audit.clone();
    runtime.block_on(async {
        let mut auditor = None;
        let evaluator = if args.cluster_cache || args.audit_interval.is_some() {
            let mut kinds = evaluator.cluster_kinds();
            if args.audit_interval.is_some() {
                kinds.extend(Auditor::kinds_for(&audit_options));
            }
            let opts = palisade_cluster::ReadOptions {
                kubeconfig: args.kubeconfig.clone(),
                context: args.context.clone(),
                ..palisade_cluster::ReadOptions::default()
            };
            let cache = Arc::new(
                ClusterCache::start(&opts, &kinds)
                    .await
                    .context("cannot start the cluster cache")?,
            );
            tracing::info!(
                server = %cache.server,
                kinds = kinds.len(),
                rules = %evaluator.cluster_rule_ids().join(","),
                "cluster cache started; rules that need it follow --failure-policy until it syncs"
            );
            tokio::spawn(log_sync(cache.clone()));
            let view: Arc<dyn ClusterView> = Arc::new(CacheView(cache.clone()));
            if let Some(interval) = args.audit_interval {
                auditor = Some((
                    Auditor::new(
                        audit_options,
                        view.clone(),
                        Arc::new(Reports(ReportWriter::new(cache.client()))),
                    ),
                    interval,
                ));
            }
            evaluator.with_cluster_view(view)
        } else {
            evaluator
        };
        let mut state = AppState::new(evaluator, Arc::new(SystemClock), limits);
        if let Some((trust, trusts, keychain, budget)) = image_verification {
            let registry = palisade_registry::Registry::new(budget)?.with_keychain(keychain);
            let mut iv = palisade_admission::ImageVerification::new(
                trust,
                trusts,
                registry,
                failure_policy,
                budget,
                Duration::from_secs(300),
            );
            if args.image_pull_secrets {
                let opts = palisade_cluster::ReadOptions {
                    kubeconfig: args.kubeconfig.clone(),
                    context: args.context.clone(),
                    timeout: budget,
                    ..palisade_cluster::ReadOptions::default()
                };
                let reader = palisade_cluster::pull_secrets::PullSecretReader::connect(&opts)
                    .await
                    .context("cannot reach the API server to read image pull Secrets")?;
                iv = iv.with_pull_secrets(Arc::new(crate::verify::ClusterPullSecrets(reader)));
            }
            state = state.with_image_verification(iv);
        }
        if let Some((auditor, interval)) = auditor {
            let auditor = Arc::new(auditor.with_metrics(state.metrics.clone()));
            tokio::spawn(auditor.run(interval, config::today, std::future::pending()));
        }
        let server = Server::bind(config, state).await?;
        server
            .run(palisade_admission::shutdown_signal())
            .await
            .map_err(anyhow::Error::from)
    })?;
    Ok(Exit::Clean)
}

/// The webhook's view of the cluster: the watch cache.
#[derive(Debug)]
struct CacheView(Arc<ClusterCache>);

fn not_ready(missing: Vec<(String, String)>) -> Vec<NotReady> {
    missing
        .into_iter()
        .map(|(kind, reason)| NotReady { kind, reason })
        .collect()
}

impl ClusterView for CacheView {
    fn objects(&self, kinds: &HashSet<&'static str>) -> Result<Vec<Object>, Vec<NotReady>> {
        self.0.objects(kinds).map_err(not_ready)
    }

    fn objects_in(
        &self,
        kinds: &HashSet<&'static str>,
        namespace: &str,
    ) -> Result<Vec<Object>, Vec<NotReady>> {
        self.0.objects_in(kinds, namespace).map_err(not_ready)
    }

    fn lines(
        &self,
        kinds: &HashSet<&'static str>,
    ) -> Result<Vec<palisade_load::packed::PackedLine>, Vec<NotReady>> {
        self.0.lines(kinds).map_err(not_ready)
    }
}

/// Logs when the cache has synced, or every minute which kinds it still cannot read.
async fn log_sync(cache: Arc<ClusterCache>) {
    let mut waited = 0u64;
    loop {
        if cache.wait_synced(Duration::from_secs(60)).await {
            let objects: usize = cache.status().iter().map(|s| s.objects).sum();
            tracing::info!(objects, "cluster cache synced");
            return;
        }
        waited += 60;
        for s in cache.status().into_iter().filter(|s| !s.synced) {
            tracing::warn!(
                kind = s.kind,
                api_version = s.api_version,
                error = s.error.as_deref().unwrap_or("still listing"),
                waited_s = waited,
                "cluster cache not synced"
            );
        }
    }
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

#[allow(clippy::print_stderr)]
fn install(args: InstallArgs) -> anyhow::Result<Exit> {
    if args.replicas < 2 {
        bail!("--replicas must be at least 2 for a highly available webhook");
    }
    // The policies are shipped to the server and registered in the webhook: one that would
    // not load there is an error here.
    let policies = if args.policy.is_empty() {
        None
    } else {
        match install::InstallPolicies::load(&args.policy, &args.policy_engine) {
            Ok(p) => Some(p),
            Err(errors) => {
                for e in &errors {
                    eprintln!("error: {e}");
                }
                return Ok(Exit::Error);
            }
        }
    };
    let mut opts = InstallOptions {
        namespace: args.namespace,
        replicas: args.replicas,
        failure_policy: args.failure_policy,
        image: args.image,
        cluster_cache: args.cluster_cache,
        audit_interval: args.audit_interval,
        crds: !args.no_crds,
        policies,
        image_pull_secrets: args.image_pull_secrets,
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
    emit(&install::render(&opts).context("cannot write the manifests as YAML")?)?;
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

/// `10m`, `1h30m`, `45s`: at least one second.
fn parse_interval(s: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("`{s}` is not a duration such as 10m or 1h ({e})"))?;
    let d = Duration::try_from(d).map_err(|_| format!("`{s}` is negative"))?;
    if d < Duration::from_secs(1) {
        return Err(format!("`{s}` is shorter than one second"));
    }
    Ok(d)
}

/// An interval as given, once checked.
fn parse_interval_text(s: &str) -> Result<String, String> {
    parse_interval(s).map(|_| s.to_owned())
}

/// The options of the background audit: the configuration with the constraints enforced at
/// Gatekeeper's audit point (`audit.gatekeeper.sh`) and the ValidatingAdmissionPolicies.
fn audit_options(
    args: &crate::policy::PolicyArgs,
    config: Option<&std::path::Path>,
    policy: palisade_core::Policy,
    today: jiff::civil::Date,
) -> anyhow::Result<Options> {
    let policies = crate::policy::load(
        args,
        config,
        &[],
        palisade_policy::constraint::EnforcementPoint::Audit,
    )?;
    Ok(with_policies(policy, &policies, today))
}

/// Options with the loaded policies as extra rules, each with its action's mode unless the
/// configuration sets one.
fn with_policies(
    mut policy: palisade_core::Policy,
    policies: &crate::policy::Loaded,
    today: jiff::civil::Date,
) -> Options {
    policies.apply_modes(&mut policy);
    Options {
        policy,
        extra_rules: palisade_analyze::ExtraRules(policies.dyn_rules()),
        ..Options::new(today)
    }
}

/// The auditor's sink: PolicyReports written to the cluster.
struct Reports(ReportWriter);

impl ReportSink for Reports {
    fn apply<'a>(&'a self, report: &'a serde_json::Value) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.0.apply(report))
    }

    fn delete<'a>(
        &'a self,
        kind: &'a str,
        namespace: Option<&'a str>,
        name: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(self.0.delete(kind, namespace, name))
    }
}

#[derive(Subcommand, Debug)]
pub(crate) enum AuditCommand {
    /// Run the background audit (for clusters without the webhook): a watch cache of the
    /// cluster, every rule every --interval, PolicyReports written when they change, and
    /// `/metrics`, `/healthz` over plain HTTP.
    Serve(AuditServeArgs),
}

#[derive(Args, Debug)]
pub(crate) struct AuditServeArgs {
    /// Policy file (default: ./palisade.yaml when present).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Kubeconfig (default: in-cluster, else KUBECONFIG / ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context.
    #[arg(long)]
    context: Option<String>,
    /// Time between audit cycles (`10m`, `1h`).
    #[arg(long, default_value = "10m", value_parser = parse_interval)]
    interval: Duration,
    /// Address of the plain-HTTP `/metrics` and `/healthz` endpoints.
    #[arg(long, default_value = "0.0.0.0:9090")]
    metrics_addr: SocketAddr,
    /// Log format: json or text.
    #[arg(long, default_value = "json")]
    log_format: String,
    #[command(flatten)]
    policies: crate::policy::PolicyArgs,
}

pub(crate) fn run_audit(cmd: AuditCommand) -> anyhow::Result<Exit> {
    match cmd {
        AuditCommand::Serve(args) => audit_serve(args),
    }
}

#[allow(clippy::print_stderr)]
fn audit_serve(args: AuditServeArgs) -> anyhow::Result<Exit> {
    let policies = crate::policy::load(
        &args.policies,
        args.config.as_deref(),
        &[],
        palisade_policy::constraint::EnforcementPoint::Audit,
    )?;
    for e in &policies.errors {
        eprintln!("error: {e}");
    }
    let policy = match config::load_with(args.config.as_deref(), &policies.metas())? {
        Ok(p) => p,
        Err(errors) => {
            config::print_errors(&errors);
            return Ok(Exit::Error);
        }
    };
    init_tracing(&args.log_format)?;
    let options = with_policies(policy, &policies, config::today());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let kinds = Auditor::kinds_for(&options);
        let opts = palisade_cluster::ReadOptions {
            kubeconfig: args.kubeconfig.clone(),
            context: args.context.clone(),
            // Smaller list pages than a scan's: a page of Pods, parsed, takes tens of MiB
            // while the cache packs it, and the audit keeps little else at start.
            page_size: 100,
            ..palisade_cluster::ReadOptions::default()
        };
        // Only the audit reads this cache, once per object and cycle: compact lines.
        let cache = Arc::new(
            ClusterCache::start_with(&opts, &kinds, palisade_cluster::watch::Storage::Lines)
                .await
                .context("cannot start the cluster cache")?,
        );
        tracing::info!(server = %cache.server, kinds = kinds.len(), "cluster cache started");
        tokio::spawn(log_sync(cache.clone()));
        let metrics = Arc::new(palisade_admission::metrics::Metrics::new());
        let auditor = Arc::new(
            Auditor::new(
                options,
                Arc::new(CacheView(cache.clone())),
                Arc::new(Reports(ReportWriter::new(cache.client()))),
            )
            .with_metrics(metrics.clone()),
        );
        let listener = tokio::net::TcpListener::bind(args.metrics_addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.metrics_addr))?;
        let shutdown = palisade_admission::shutdown_signal();
        tokio::select! {
            r = palisade_admission::metrics::serve_plain(listener, metrics) => {
                r.context("the metrics server failed")
            }
            _ = auditor.run(args.interval, config::today, shutdown) => Ok(()),
        }
    })?;
    Ok(Exit::Clean)
}
