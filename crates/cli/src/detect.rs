//! `palisade detect`: threat detection over Kubernetes audit logs.

use crate::{emit, Exit};
use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use palisade_detect::{Alert, Detector, DetectorOptions, RuleSet, Severity};
use serde_json::json;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
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
    /// Output: jsonl (one alert per line, streamed), json, table, sarif.
    #[arg(long, short = 'f', default_value = "jsonl")]
    format: String,
    /// Write the output to this file.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when an alert is at or above this severity (`none`: never).
    #[arg(long, default_value = "high", value_name = "SEVERITY")]
    fail_on: String,
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
}

impl RuleArgs {
    fn detector(&self) -> anyhow::Result<(RuleSet, Detector)> {
        let rules = rule_set(self)?;
        let mut ranges = Vec::new();
        for r in &self.allowed_source_ranges {
            ranges.push(
                r.parse()
                    .with_context(|| format!("`{r}` is not a CIDR range"))?,
            );
        }
        let det = Detector::with_options(
            rules.clone(),
            DetectorOptions {
                allowed_source_ranges: ranges,
                ..DetectorOptions::default()
            },
        );
        Ok((rules, det))
    }
}

#[derive(Subcommand, Debug)]
enum DetectCommand {
    /// Serve an HTTPS audit webhook backend: the API server posts audit events
    /// (`--audit-webhook-config-file`, see `webhook-config`); alerts are printed as JSON lines.
    Serve(ServeArgs),
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
    /// Append alerts to this file instead of printing them.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
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

fn severity_rank(s: &str) -> anyhow::Result<Option<u8>> {
    Ok(match s {
        "none" => None,
        "info" => Some(0),
        "low" => Some(1),
        "medium" => Some(2),
        "high" => Some(3),
        "critical" => Some(4),
        _ => bail!("unknown severity `{s}` (expected critical, high, medium, low, info or none)"),
    })
}

fn rank(s: Severity) -> u8 {
    match s.as_str() {
        "info" => 0,
        "low" => 1,
        "medium" => 2,
        "high" => 3,
        _ => 4,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Jsonl,
    Json,
    Table,
    Sarif,
}

struct Sink {
    format: Format,
    out: Box<dyn Write>,
    alerts: Vec<Alert>,
    worst: Option<u8>,
}

impl Sink {
    fn push(&mut self, alerts: Vec<Alert>) -> anyhow::Result<()> {
        for a in alerts {
            self.worst = self.worst.max(Some(rank(a.severity)));
            if self.format == Format::Jsonl {
                match writeln!(self.out, "{}", a.to_json_line()).and_then(|_| self.out.flush()) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                    r => r?,
                }
            } else {
                self.alerts.push(a);
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
    let format = match args.format.as_str() {
        "jsonl" => Format::Jsonl,
        "json" => Format::Json,
        "table" => Format::Table,
        "sarif" => Format::Sarif,
        other => bail!("unknown format `{other}` (expected jsonl, json, table, sarif)"),
    };
    let fail_on = severity_rank(&args.fail_on)?;
    let (rules, mut det) = args.rules.detector()?;
    let out: Box<dyn Write> = match &args.output {
        Some(p) => {
            Box::new(File::create(p).with_context(|| format!("cannot write {}", p.display()))?)
        }
        None => Box::new(std::io::stdout()),
    };
    let mut sink = Sink {
        format,
        out,
        alerts: Vec::new(),
        worst: None,
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
    let stats = det.stats();
    let text = match format {
        Format::Jsonl => String::new(),
        Format::Json => {
            serde_json::to_string_pretty(&json!({
                "schemaVersion": 1,
                "alerts": sink.alerts,
                "stats": {"events": stats.events, "alerts": stats.alerts, "badLines": stats.bad_lines, "nonEvents": stats.non_events},
            }))? + "\n"
        }
        Format::Table => table(&sink.alerts),
        Format::Sarif => sarif(&sink.alerts, &rules),
    };
    if !text.is_empty() {
        match &args.output {
            Some(p) => std::fs::write(p, text)?,
            None => emit(&text)?,
        }
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "palisade detect: {} events, {} alerts, {} lines not JSON, {} JSON values not audit events",
            stats.events, stats.alerts, stats.bad_lines, stats.non_events
        );
    }
    let failing = fail_on.is_some_and(|t| sink.worst.is_some_and(|w| w >= t));
    Ok(if failing { Exit::Findings } else { Exit::Clean })
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

/// Whether a text is one JSON document (a pretty-printed Event or EventList) rather than
/// JSON lines: its first line is not a complete JSON value.
fn is_single_document(first_line: &str) -> bool {
    let t = first_line.trim();
    !t.is_empty()
        && serde_json::from_str::<serde::de::IgnoredAny>(t).is_err()
        && (t.starts_with('{') || t.starts_with('['))
}

fn read_all(path: &Path, det: &mut Detector, sink: &mut Sink) -> anyhow::Result<()> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        Box::new(BufReader::new(
            File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        ))
    };
    let mut lines = reader.lines();
    let Some(first) = lines.next().transpose()? else {
        return Ok(());
    };
    if is_single_document(&first) {
        let mut doc = first.into_bytes();
        doc.push(b'\n');
        for l in lines {
            doc.extend_from_slice(l?.as_bytes());
            doc.push(b'\n');
        }
        return sink.push(det.feed_document(&doc));
    }
    sink.push(det.feed_line(&first))?;
    let mut buf = Vec::new();
    for l in lines {
        let l = l?;
        det.feed_line_into(&l, &mut buf);
        sink.push(std::mem::take(&mut buf))?;
    }
    Ok(())
}

/// Tails a growing log: reads what is there, then polls for new lines; when the file is
/// replaced (rotation: another inode) or truncated, starts again from its beginning. Runs
/// until interrupted.
fn follow(path: &Path, det: &mut Detector, sink: &mut Sink) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let open = |p: &Path| -> anyhow::Result<(BufReader<File>, u64)> {
        let f = File::open(p).with_context(|| format!("cannot read {}", p.display()))?;
        let ino = f.metadata()?.ino();
        Ok((BufReader::new(f), ino))
    };
    let (mut reader, mut ino) = open(path)?;
    let mut offset = 0u64;
    let mut partial = String::new();
    let mut idle = 0u32;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        if n > 0 && line.ends_with('\n') {
            offset += n as u64;
            partial.push_str(&line);
            sink.push(det.feed_line(partial.trim_end()))?;
            partial.clear();
            idle = 0;
            continue;
        }
        if n > 0 {
            // An incomplete last line: keep it until the writer finishes it.
            offset += n as u64;
            partial.push_str(&line);
        }
        std::thread::sleep(Duration::from_millis(250));
        idle += 1;
        if idle == 8 {
            // Input is idle: evaluate held RequestReceived events.
            sink.push(det.flush())?;
        }
        match std::fs::metadata(path) {
            Ok(m) if m.ino() != ino || m.size() < offset => {
                // Rotated or truncated: finish the old file, then start the new one.
                let mut rest = String::new();
                reader.read_to_string(&mut rest)?;
                for l in rest.lines() {
                    sink.push(det.feed_line(l))?;
                }
                if let Ok((r, i)) = open(path) {
                    reader = r;
                    ino = i;
                    offset = 0;
                    partial.clear();
                }
            }
            Ok(_) => {
                reader.seek(SeekFrom::Start(offset))?;
            }
            Err(_) => {} // between rename and re-creation
        }
    }
}

fn list_rules(args: &RuleArgs) -> anyhow::Result<Exit> {
    let rules = rule_set(args)?;
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
    let (_, det) = args.rules.detector()?;
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
    let sink = Arc::new(move |alerts: &[Alert]| {
        let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
        for a in alerts {
            let _ = writeln!(o, "{}", a.to_json_line());
        }
        let _ = o.flush();
    });
    let mut state = AuditState::new(det, sink);
    state.max_body_bytes = args.max_body_bytes;
    let config = ServerConfig::new(
        args.addr,
        TlsFiles {
            cert: args.tls_cert.clone(),
            key: args.tls_key.clone(),
        },
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        // Held RequestReceived events are evaluated when their request never completes.
        let idle = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                let s = idle.clone();
                let _ = tokio::task::spawn_blocking(move || s.flush()).await;
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
    Ok(Exit::Clean)
}

fn webhook_config(w: &WebhookConfigArgs) -> anyhow::Result<Exit> {
    use base64::Engine as _;
    let ca = match &w.ca {
        Some(p) => {
            let pem = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            format!(
                "\n    certificate-authority-data: {}",
                base64::engine::general_purpose::STANDARD.encode(pem)
            )
        }
        None => String::new(),
    };
    emit(&format!(
        "# Pass this file to kube-apiserver with --audit-webhook-config-file (and an
# --audit-policy-file); the API server then posts EventLists to palisade detect serve.
apiVersion: v1
kind: Config
clusters:
- name: palisade-detect
  cluster:
    server: {}{ca}
contexts:
- name: palisade-detect
  context:
    cluster: palisade-detect
    user: kube-apiserver
current-context: palisade-detect
users:
- name: kube-apiserver
  user: {{}}
",
        w.server
    ))?;
    Ok(Exit::Clean)
}

fn table(alerts: &[Alert]) -> String {
    let mut out = String::new();
    for a in alerts {
        out.push_str(&format!(
            "{}  {:<8} {} {:<30} {:<24} {:<8} {}  {}\n",
            a.time,
            a.severity.as_str().to_uppercase(),
            a.rule_id,
            a.rule_name,
            a.user,
            a.verb,
            a.object.display(),
            a.message
        ));
    }
    let mut by_rule: std::collections::BTreeMap<(&str, &str), usize> =
        std::collections::BTreeMap::new();
    for a in alerts {
        *by_rule.entry((&a.rule_id, &a.rule_name)).or_default() += 1;
    }
    out.push_str(&format!("\n{} alerts\n", alerts.len()));
    for ((id, name), n) in by_rule {
        out.push_str(&format!("  {id} {name}: {n}\n"));
    }
    out
}

fn sarif_level(s: Severity) -> &'static str {
    match rank(s) {
        3 | 4 => "error",
        2 => "warning",
        _ => "note",
    }
}

fn sarif(alerts: &[Alert], rules: &RuleSet) -> String {
    let driver_rules: Vec<_> = rules
        .rules()
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.name,
                "shortDescription": {"text": r.description.lines().next().unwrap_or(&r.name)},
                "fullDescription": {"text": r.description},
                "defaultConfiguration": {"level": sarif_level(r.severity)},
                "properties": {"tags": r.mitre.iter().map(|m| format!("mitre:{m}")).collect::<Vec<_>>()},
            })
        })
        .collect();
    let results: Vec<_> = alerts
        .iter()
        .map(|a| {
            json!({
                "ruleId": a.rule_id,
                "ruleIndex": rules.rules().iter().position(|r| r.id == a.rule_id).unwrap_or(0),
                "level": sarif_level(a.severity),
                "message": {"text": a.message},
                "locations": [{"logicalLocations": [{"fullyQualifiedName": a.object.display(), "kind": "resource"}]}],
                "partialFingerprints": {"auditID/v1": a.audit_id},
                "properties": {"time": a.time, "user": a.user, "groups": a.groups, "sourceIPs": a.source_ips, "verb": a.verb, "mitre": a.mitre, "auditID": a.audit_id},
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "palisade-detect", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://github.com/palisade-dev/palisade", "rules": driver_rules}},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::is_single_document;

    #[test]
    fn document_detection() {
        assert!(is_single_document("{"));
        assert!(is_single_document("{\"kind\": \"EventList\","));
        assert!(!is_single_document("{\"kind\":\"Event\"}"));
        assert!(!is_single_document("not json"));
    }
}
