//! `palisade detect`: threat detection over Kubernetes audit logs.

use crate::{config, emit, Exit};
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use palisade_analyze::detect::{fails, AlertPolicy};
use palisade_analyze::Options;
use palisade_core::{select, ReportFinding, Severity};
use palisade_detect::{Alert, Detector, DetectorOptions, InputError, LineReader, RuleSet};
use palisade_report::RenderOptions;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct DetectArgs {
    #[command(subcommand)]
    command: Option<DetectCommand>,
    /// Audit logs: JSON lines, a single Event or an EventList; `-` reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Keep reading the (last) file as it grows, across log rotation.
    #[arg(long)]
    follow: bool,
    #[command(flatten)]
    rules: RuleArgs,
    /// Output: jsonl (one alert per line, streamed), or a report.
    #[arg(long, short = 'f', value_enum, default_value_t = crate::values::DetectFormat::Jsonl)]
    format: crate::values::DetectFormat,
    /// Write the output to this file.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when an alert is at or above this severity (`none`: never); suppressed alerts
    /// never count. Default: the config's failOn, else high.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    fail_on: Option<crate::values::FailOn>,
    /// The day exceptions are evaluated against (YYYY-MM-DD), default today.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    /// Colour in the table output.
    #[arg(long, value_enum, default_value = "auto")]
    color: crate::values::ColorChoice,
    /// Longest accepted line of a JSON-lines log (`16MiB`, `512KiB`, bytes); longer lines are
    /// skipped without being read into memory and reported as input errors.
    #[arg(long, default_value = "16MiB", value_parser = size_arg, value_name = "SIZE")]
    max_line_bytes: usize,
    /// Largest single JSON document (a pretty-printed Event or EventList) read at once.
    #[arg(long, default_value = "256MiB", value_parser = size_arg, value_name = "SIZE")]
    max_document_bytes: usize,
    #[command(flatten)]
    sink: SinkArgs,
}

/// Where alerts are also POSTed.
#[derive(Args, Debug, Default, Clone)]
struct SinkArgs {
    /// Also POST each alert (after exceptions) as JSON to this http(s) URL, from a bounded
    /// queue, retried with back-off; alerts that cannot be delivered are counted as dropped.
    #[arg(long, value_name = "URL")]
    sink_url: Option<String>,
    /// The JSON sent: palisade (the alert) or falco (Falco's output JSON, for
    /// falcosidekick-style routers).
    #[arg(long, default_value = "palisade", value_parser = ["palisade", "falco"])]
    sink_format: String,
    /// Alerts queued for the sink at most; beyond, new ones are dropped.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    sink_queue: usize,
    /// Retries of a failed POST before the alert is dropped.
    #[arg(long, default_value_t = 5, value_name = "N")]
    sink_retries: u32,
}

impl SinkArgs {
    /// Starts the sink, when asked for (inside a Tokio runtime).
    fn start(&self) -> anyhow::Result<Option<palisade_admission::sink::HttpSink>> {
        let Some(url) = &self.sink_url else {
            return Ok(None);
        };
        let opts = palisade_admission::sink::SinkOptions {
            format: self.sink_format.parse().map_err(anyhow::Error::msg)?,
            queue: self.sink_queue,
            retries: self.sink_retries,
            ..palisade_admission::sink::SinkOptions::new(url.clone())
        };
        Ok(Some(palisade_admission::sink::HttpSink::start(opts)?))
    }
}

/// Waits (at most 10 s) for the sink's queue to empty and says what it delivered.
#[allow(clippy::print_stderr)]
fn finish_sink(rt: &tokio::runtime::Runtime, sink: &palisade_admission::sink::HttpSink) {
    use std::sync::atomic::Ordering;
    rt.block_on(sink.drain(Duration::from_secs(10)));
    let st = sink.stats();
    eprintln!(
        "palisade detect: alert sink: {} sent, {} dropped, {} retried",
        st.sent.load(Ordering::Relaxed),
        st.dropped.load(Ordering::Relaxed),
        st.retried.load(Ordering::Relaxed)
    );
}

fn size_arg(s: &str) -> Result<usize, String> {
    palisade_detect::parse_size(s)
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{s}` is not a size such as 16MiB, 512KiB or 1048576"))
}

/// Which detection rules run, and with what.
#[derive(Args, Debug, Default)]
struct RuleArgs {
    /// Additional rule files (same YAML format as the built-in rules; they can also
    /// disable or override built-in rules).
    #[arg(long = "rules", value_name = "FILE")]
    rule_files: Vec<PathBuf>,
    /// Built-in or added rules to turn off (ids).
    #[arg(long, value_delimiter = ',', value_name = "ID")]
    disable: Vec<String>,
    /// Client address ranges requests may come from (CIDRs); enables DET024.
    #[arg(long, value_delimiter = ',', value_name = "CIDR")]
    allowed_source_ranges: Vec<String>,
    /// Policy file (default: ./palisade.yaml when present): its select, ignore, rules
    /// (enabled, severity) and exceptions apply to alerts; an exception matches the audit
    /// event's object (`match: {namespace: dev, kind: Pod, name: web-*}`).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Detection rules to run (replaces the config's `select`): ids, DET, names, references
    /// such as mitre:T1609. Comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    select: Vec<String>,
    /// Detection rules not to run (added to the config's `ignore`).
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    ignore: Vec<String>,
}

/// The configuration file has problems (printed already): exit 2.
#[derive(Debug)]
struct InvalidConfig;

impl std::fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid configuration")
    }
}

impl std::error::Error for InvalidConfig {}

/// The detection rules, the detector and the policy that turns its alerts into findings.
struct Detection {
    rules: RuleSet,
    detector: Detector,
    policy: AlertPolicy,
}

impl RuleArgs {
    /// The rule set with the policy's selection applied, and the policy.
    fn policy(&self, today: jiff::civil::Date) -> anyhow::Result<(RuleSet, AlertPolicy)> {
        let policy = match config::load(self.config.as_deref())? {
            Ok(p) => p,
            Err(errors) => {
                config::print_errors(&errors);
                return Err(InvalidConfig.into());
            }
        };
        let mut rules = rule_set(self)?;
        let metas = palisade_analyze::catalogue::detection_metas(&rules);
        for s in self.select.iter().chain(&self.ignore) {
            if !select::is_known(s, &metas) {
                bail!("`{s}` selects no detection rule (see `palisade detect rules`)");
            }
        }
        let opts = Options {
            policy,
            select: self.select.clone(),
            ignore: self.ignore.clone(),
            ..Options::new(today)
        };
        let policy = AlertPolicy::new(&rules, opts);
        if policy.select(&mut rules) == 0 {
            bail!("the selection leaves no detection rule to run (--select, --ignore, --disable and the configuration's select, ignore and rules)");
        }
        Ok((rules, policy))
    }

    fn detector(
        &self,
        base: DetectorOptions,
        today: jiff::civil::Date,
    ) -> anyhow::Result<Detection> {
        let (rules, policy) = self.policy(today)?;
        let mut ranges = Vec::new();
        for r in &self.allowed_source_ranges {
            ranges.push(
                r.parse()
                    .with_context(|| format!("`{r}` is not a CIDR range"))?,
            );
        }
        let detector = Detector::with_options(
            rules.clone(),
            DetectorOptions {
                allowed_source_ranges: ranges,
                ..base
            },
        );
        Ok(Detection {
            rules,
            detector,
            policy,
        })
    }
}

/// An alert as a JSON line, as the detector writes it, with the policy's effective severity
/// and, when an exception covers it, its `suppression`.
fn json_line(a: &Alert, f: &ReportFinding) -> Result<String, serde_json::Error> {
    let effective = palisade_analyze::catalogue::detect_severity(f.severity);
    let mut line = if effective == a.severity {
        a.to_json_line()?
    } else {
        Alert {
            severity: effective,
            ..a.clone()
        }
        .to_json_line()?
    };
    if let Some(s) = &f.suppression {
        if line.ends_with('}') {
            line.pop();
            line.push_str(",\"suppression\":");
            line.push_str(&serde_json::to_string(s)?);
            line.push('}');
        }
    }
    Ok(line)
}

#[derive(Subcommand, Debug)]
enum DetectCommand {
    /// Serve an HTTPS audit webhook backend: the API server posts audit events
    /// (`--audit-webhook-config-file`, see `webhook-config`); alerts are printed as JSON lines.
    Serve(Box<ServeArgs>),
    /// List the detection rules.
    Rules,
    /// Print the kubeconfig-format file the API server's `--audit-webhook-config-file` takes,
    /// pointing at `palisade detect serve`.
    WebhookConfig(WebhookConfigArgs),
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// Serving certificate (PEM, leaf first); reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    tls_cert: PathBuf,
    /// Serving key (PEM); reloaded when the file changes.
    #[arg(long, value_name = "FILE")]
    tls_key: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8444")]
    addr: std::net::SocketAddr,
    /// Largest accepted batch of events, in bytes.
    #[arg(long, default_value_t = 32 << 20)]
    max_body_bytes: usize,
    /// Connections served at once; at the limit, new connections wait in the listen backlog
    /// until one closes.
    #[arg(
        long,
        default_value_t = palisade_admission::ServerConfig::DEFAULT_MAX_CONNECTIONS,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..),
        value_name = "N"
    )]
    max_connections: usize,
    /// Time from accepting a connection to its first complete request head, TLS handshake
    /// included, in milliseconds; a connection that has sent no request by then is closed.
    #[arg(
        long,
        default_value_t = palisade_admission::ServerConfig::DEFAULT_HEADER_TIMEOUT.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "MS"
    )]
    header_timeout_ms: u64,
    /// Close a connection after this long without a request starting or finishing, in
    /// milliseconds; keep it above the API server's 90 s keep-alive idle timeout.
    #[arg(
        long,
        default_value_t = palisade_admission::ServerConfig::DEFAULT_IDLE_TIMEOUT.as_millis() as u64,
        value_parser = clap::value_parser!(u64).range(1..),
        value_name = "MS"
    )]
    idle_timeout_ms: u64,
    /// Append alerts to this file instead of printing them.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
    #[command(flatten)]
    sink: SinkArgs,
}

#[derive(Args, Debug)]
struct WebhookConfigArgs {
    /// The URL the API server posts EventLists to.
    #[arg(
        long,
        default_value = "https://palisade-detect.palisade-system.svc:8443/audit"
    )]
    server: String,
    /// PEM CA certificate that signed the server's certificate (embedded as
    /// certificate-authority-data).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    /// One alert per line, streamed.
    Jsonl,
    /// A report, rendered by palisade-report.
    Report(palisade_report::Format),
}

struct Sink {
    format: Format,
    out: Box<dyn Write>,
    policy: AlertPolicy,
    findings: Vec<ReportFinding>,
    fail_on: Option<Severity>,
    failing: bool,
    http: Option<palisade_admission::sink::HttpSink>,
}

impl Sink {
    fn push(&mut self, alerts: Vec<Alert>) -> anyhow::Result<()> {
        for a in alerts {
            let Some(f) = self.policy.apply(&a) else {
                continue;
            };
            self.failing |= fails(&f, self.fail_on);
            if let Some(h) = &self.http {
                h.push(&a);
            }
            if self.format == Format::Jsonl {
                let line = json_line(&a, &f).context("cannot write an alert as JSON")?;
                match writeln!(self.out, "{line}").and_then(|_| self.out.flush()) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                    r => r?,
                }
            } else {
                self.findings.push(f);
            }
        }
        Ok(())
    }
}

pub(crate) fn run(args: DetectArgs) -> anyhow::Result<Exit> {
    match &args.command {
        Some(DetectCommand::Rules) => return list_rules(&args.rules),
        Some(DetectCommand::WebhookConfig(w)) => return webhook_config(w),
        Some(DetectCommand::Serve(a)) => return serve(a),
        None => {}
    }
    let format = match args.format.report() {
        None => Format::Jsonl,
        Some(f) => Format::Report(f),
    };
    let today = match &args.today {
        Some(d) => d
            .parse()
            .with_context(|| format!("--today `{d}` is not a date (YYYY-MM-DD)"))?,
        None => config::today(),
    };
    let Detection {
        rules,
        detector: mut det,
        policy,
    } = match args.rules.detector(
        DetectorOptions {
            max_line_bytes: args.max_line_bytes,
            max_document_bytes: args.max_document_bytes,
            ..DetectorOptions::default()
        },
        today,
    ) {
        Ok(d) => d,
        Err(e) if e.is::<InvalidConfig>() => return Ok(Exit::Error),
        Err(e) => return Err(e),
    };
    let fail_on: Option<Severity> = match args.fail_on {
        Some(f) => f.severity(),
        None => Some(policy.options().policy.fail_on.unwrap_or(Severity::High)),
    };
    let out: Box<dyn Write> = match &args.output {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?)
        }
        None => Box::new(std::io::stdout()),
    };
    // The alert sink's sender runs on its own small runtime.
    let sink_rt = match &args.sink.sink_url {
        Some(_) => Some(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .context("cannot start the async runtime")?,
        ),
        None => None,
    };
    let http = match &sink_rt {
        Some(rt) => {
            let _guard = rt.enter();
            args.sink.start()?
        }
        None => None,
    };
    let mut sink = Sink {
        format,
        out,
        policy,
        findings: Vec::new(),
        fail_on,
        failing: false,
        http,
    };
    if args.files.is_empty() {
        bail!("give an audit log file, or `-` for stdin");
    }
    for (i, f) in args.files.iter().enumerate() {
        let last = i + 1 == args.files.len();
        if args.follow && last {
            follow(f, &mut det, &mut sink)?;
        } else {
            read_all(f, &mut det, &mut sink)?;
        }
    }
    sink.push(det.flush())?;
    if let (Some(rt), Some(h)) = (&sink_rt, &sink.http) {
        finish_sink(rt, h);
    }
    let stats = det.stats();
    let errors = det.take_input_errors();
    if let Format::Report(f) = format {
        let findings = std::mem::take(&mut sink.findings);
        let report = sink.policy.report(&rules, findings, &errors, stats);
        let opts = RenderOptions {
            color: args.color.enabled(args.output.is_some()),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        };
        // Written as it is serialised (JSON, SARIF), not built as one string first.
        let mut out = std::io::BufWriter::with_capacity(1 << 16, &mut sink.out);
        match palisade_report::write(&report, f, &opts, &mut out).and_then(|()| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && args.output.is_none() => {}
            r => r.with_context(|| match &args.output {
                Some(p) => format!("cannot write {}", p.display()),
                None => "cannot write the report to standard output".to_owned(),
            })?,
        }
    }
    report_input_errors(&errors);
    if format == Format::Jsonl {
        report_expired(&sink.policy);
    }
    let total_errors = stats.bad_lines + stats.oversized + stats.bad_items;
    #[allow(clippy::print_stderr)]
    {
        if total_errors > errors.len() as u64 {
            eprintln!(
                "palisade detect: {} more input errors not listed",
                total_errors - errors.len() as u64
            );
        }
        eprintln!(
            "palisade detect: {} events, {} alerts, {} lines not JSON, {} JSON values not audit events, {} lines or documents over the size limit, {} EventList items not audit events",
            stats.events, stats.alerts, stats.bad_lines, stats.non_events, stats.oversized, stats.bad_items
        );
    }
    Ok(if sink.failing {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// The expired exceptions, on stderr (the JSON-lines stream holds alerts only).
fn report_expired(policy: &AlertPolicy) {
    #[allow(clippy::print_stderr)]
    for e in policy.expired() {
        eprintln!(
            "palisade detect: exception #{} ({}, expires {}) has expired: {} alert(s) reported again",
            e.exception.index,
            e.exception.rules.join(", "),
            e.exception
                .expires
                .map(|d| d.to_string())
                .unwrap_or_default(),
            e.findings
        );
    }
}

fn rule_set(args: &RuleArgs) -> anyhow::Result<RuleSet> {
    let mut rules = RuleSet::builtin();
    for f in &args.rule_files {
        rules.load_file(f).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    for id in &args.disable {
        if !rules.set_enabled(id, false) {
            bail!("--disable {id}: no such detection rule");
        }
    }
    Ok(rules)
}

fn report_input_errors(errors: &[InputError]) {
    #[allow(clippy::print_stderr)]
    for e in errors {
        eprintln!("palisade detect: {e}");
    }
}

fn read_all(path: &Path, det: &mut Detector, sink: &mut Sink) -> anyhow::Result<()> {
    let label = path.display().to_string();
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        ))
    };
    det.feed_reader(&label, reader, |alerts| sink.push(alerts))
}

/// Tails a growing log: reads what is there, then polls for new lines; when the file is
/// replaced (rotation: another inode) or truncated, starts again from its beginning. Runs
/// until interrupted. Lines are read with the detector's line limit.
fn follow(path: &Path, det: &mut Detector, sink: &mut Sink) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let label = path.display().to_string();
    let max = det.options().max_line_bytes;
    let open = |p: &Path| -> anyhow::Result<(LineReader<BufReader<File>>, u64)> {
        let f = File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
        let ino = f.metadata()?.ino();
        Ok((LineReader::new(BufReader::new(f), max), ino))
    };
    let (mut reader, mut ino) = open(path)?;
    let mut idle = 0u32;
    let mut out = Vec::new();
    loop {
        let mut got = false;
        while let Some(line) = reader.next_line()? {
            det.feed_read_line(&label, line, &mut out);
            sink.push(std::mem::take(&mut out))?;
            got = true;
        }
        report_input_errors(&det.take_input_errors());
        if got {
            idle = 0;
            continue;
        }
        std::thread::sleep(Duration::from_millis(250));
        idle += 1;
        if idle.is_multiple_of(4) {
            // Each second of idle input: report what is due (held RequestReceived events past
            // their grace, exec attempts without a retry, closed alert groups).
            sink.push(det.tick(jiff::Timestamp::now().as_microsecond()))?;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.ino() != ino || m.size() < reader.consumed() => {
                // Rotated or truncated: finish the old file, then start the new one.
                while let Some(line) = reader.next_line()? {
                    det.feed_read_line(&label, line, &mut out);
                }
                if let Some(line) = reader.finish() {
                    det.feed_read_line(&label, line, &mut out);
                }
                sink.push(std::mem::take(&mut out))?;
                report_input_errors(&det.take_input_errors());
                if let Ok((r, i)) = open(path) {
                    reader = r;
                    ino = i;
                }
            }
            _ => {} // unchanged, or between rename and re-creation
        }
    }
}

fn list_rules(args: &RuleArgs) -> anyhow::Result<Exit> {
    let (rules, _) = match args.policy(config::today()) {
        Ok(r) => r,
        Err(e) if e.is::<InvalidConfig>() => return Ok(Exit::Error),
        Err(e) => return Err(e),
    };
    let mut out = format!(
        "{:<7} {:<36} {:<9} {:<22} {}\n",
        "ID", "NAME", "SEVERITY", "MITRE", "ENABLED"
    );
    for r in rules.rules() {
        out.push_str(&format!(
            "{:<7} {:<36} {:<9} {:<22} {}\n",
            r.id,
            r.name,
            r.severity.as_str(),
            r.mitre.join(","),
            if r.enabled { "yes" } else { "no" }
        ));
    }
    emit(&out)?;
    Ok(Exit::Clean)
}

/// `palisade detect serve`: the audit webhook backend.
fn serve(args: &ServeArgs) -> anyhow::Result<Exit> {
    use palisade_admission::audit::{audit_router, AuditState};
    use palisade_admission::certs::TlsFiles;
    use palisade_admission::{Server, ServerConfig};
    use std::sync::{Arc, Mutex};
    let Detection {
        detector: det,
        policy,
        ..
    } = match args
        .rules
        .detector(DetectorOptions::default(), config::today())
    {
        Ok(d) => d,
        Err(e) if e.is::<InvalidConfig>() => return Ok(Exit::Error),
        Err(e) => return Err(e),
    };
    let policy = std::sync::Mutex::new(policy);
    let out: Box<dyn Write + Send> = match &args.output {
        Some(p) => Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot write {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let out = Arc::new(Mutex::new(out));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let http = {
        let _guard = runtime.enter();
        args.sink.start()?
    };
    let http_in = http.clone();
    let sink = Arc::new(move |alerts: &[Alert]| {
        let mut policy = policy.lock().unwrap_or_else(|e| e.into_inner());
        // Exceptions expire against the day each batch arrives.
        policy.set_today(config::today());
        let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
        for a in alerts {
            if let Some(f) = policy.apply(a) {
                match json_line(a, &f) {
                    Ok(line) => {
                        let _ = writeln!(o, "{line}");
                    }
                    #[allow(clippy::print_stderr)]
                    Err(e) => eprintln!(
                        "palisade detect serve: cannot write the alert of {} as JSON: {e}",
                        a.rule_id
                    ),
                }
                // Queued, never awaited: the API server's POST is answered at once.
                if let Some(h) = &http_in {
                    h.push(a);
                }
            }
        }
        let _ = o.flush();
    });
    let mut state = AuditState::new(det, sink);
    state.max_body_bytes = args.max_body_bytes;
    let config = ServerConfig {
        max_connections: args.max_connections,
        header_timeout: Duration::from_millis(args.header_timeout_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        ..ServerConfig::new(
            args.addr,
            TlsFiles {
                cert: args.tls_cert.clone(),
                key: args.tls_key.clone(),
            },
        )
    };
    runtime.block_on(async {
        // What is due although no later event came (held RequestReceived events, exec
        // attempts without their retry, closed alert groups) is reported each second; the
        // rest stays held until shutdown.
        let idle = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let s = idle.clone();
                let _ = tokio::task::spawn_blocking(move || s.tick()).await;
            }
        });
        let ready = state.ready.clone();
        let server = Server::bind_router(config, audit_router(state.clone()), ready).await?;
        #[allow(clippy::print_stderr)]
        {
            eprintln!(
                "palisade detect serve: listening on {}",
                server.local_addr()?
            );
        }
        server.run(palisade_admission::shutdown_signal()).await?;
        state.flush();
        anyhow::Ok(())
    })?;
    if let Some(h) = &http {
        finish_sink(&runtime, h);
    }
    Ok(Exit::Clean)
}

fn webhook_config(w: &WebhookConfigArgs) -> anyhow::Result<Exit> {
    use base64::Engine as _;
    let mut cluster = serde_json::json!({ "server": w.server });
    if let Some(p) = &w.ca {
        let pem = palisade_admission::certs::read_certificates_pem(p)
            .map_err(|e| anyhow::anyhow!("--ca: {}", palisade_admission::certs::error_chain(&e)))?;
        cluster["certificate-authority-data"] =
            base64::engine::general_purpose::STANDARD.encode(pem).into();
    }
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": "palisade-detect", "cluster": cluster }],
        "contexts": [{
            "name": "palisade-detect",
            "context": { "cluster": "palisade-detect", "user": "kube-apiserver" },
        }],
        "current-context": "palisade-detect",
        "users": [{ "name": "kube-apiserver", "user": {} }],
    });
    let yaml = serde_yaml_ng::to_string(&config).context("cannot write the kubeconfig as YAML")?;
    emit(&format!(
        "# Pass this file to kube-apiserver with --audit-webhook-config-file (and an\n\
         # --audit-policy-file); the API server then posts EventLists to palisade detect serve.\n\
         {yaml}"
    ))?;
    Ok(Exit::Clean)
}
