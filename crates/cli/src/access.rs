//! `palisade rbac ...` and `palisade net ...`: what RBAC and NetworkPolicies actually allow,
//! over the same inputs as `scan`.

use crate::{emit, Exit};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use palisade_netpol::{Endpoint, Netpol, PortSpec};
use palisade_rbac::{Decision, Rbac, Reason, Request, Subject, SubjectKind, UserInfo};
use serde_json::Value;
use std::fmt::Write;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct RbacArgs {
    #[command(subcommand)]
    command: RbacCommand,
}

#[derive(Args, Debug)]
struct Inputs {
    /// Manifests to read (files, directories, `-` for stdin), as for `scan`.
    #[arg(value_name = "PATH", required = true, last = false)]
    paths: Vec<PathBuf>,
    /// Output format: table or json.
    #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
    format: String,
    #[command(flatten)]
    limits: crate::scan::InputLimitArgs,
}

#[derive(Args, Debug)]
struct RequestArgs {
    /// Namespace of the request (omit for cluster-wide).
    #[arg(long, short = 'n', value_name = "NS")]
    namespace: Option<String>,
    /// Name of the object.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Subresource (`exec`, `scale`...); also accepted as `pods/exec`.
    #[arg(long, value_name = "SUB")]
    subresource: Option<String>,
}

#[derive(Subcommand, Debug)]
enum RbacCommand {
    /// Who can VERB RESOURCE (`pods`, `pods/exec`, `deployments.apps`, `/metrics`)?
    WhoCan {
        /// The verb (get, list, create, update, patch, delete, escalate, bind, impersonate...).
        verb: String,
        /// The resource, in kubectl's forms, or a non-resource URL.
        resource: String,
        #[command(flatten)]
        request: RequestArgs,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Can SUBJECT VERB RESOURCE? Prints yes or no; exits 0 for yes, 1 for no.
    Can {
        /// A user name, `group:NAME`, or `system:serviceaccount:NS:NAME`.
        subject: String,
        /// The verb.
        verb: String,
        /// The resource, in kubectl's forms, or a non-resource URL.
        resource: String,
        /// Groups the user is in (as `kubectl auth can-i --as-group`); repeatable.
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        #[command(flatten)]
        request: RequestArgs,
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Subjects with risky grants.
    Risks {
        #[command(flatten)]
        inputs: Inputs,
    },
    /// Privilege-escalation paths to cluster-admin-equivalent power, step by step.
    Paths {
        /// Only the paths of this subject: a user name, `group:NAME` or
        /// `system:serviceaccount:NS:NAME`.
        #[arg(long, value_name = "SUBJECT")]
        from: Option<String>,
        /// The goal of the paths (only cluster-admin-equivalent power is searched).
        #[arg(long, value_name = "GOAL", default_value = "cluster-admin", value_parser = ["cluster-admin"])]
        to: String,
        /// Manifests to read (files, directories, `-` for stdin) or a snapshot.
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        /// Output format: table, json, or a graph: dot (Graphviz) or mermaid.
        #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json", "dot", "mermaid"])]
        format: String,
        #[command(flatten)]
        limits: crate::scan::InputLimitArgs,
    },
    /// Granted rules that no audited request exercised, per subject, with the window the
    /// audit logs cover, the requests seen and how confident the answer is.
    Unused {
        #[command(flatten)]
        audit: AuditArgs,
        /// Only this subject: a user name, `group:NAME` or `system:serviceaccount:NS:NAME`.
        #[arg(long, value_name = "SUBJECT")]
        subject: Option<String>,
        /// Also list the rules that were used with all their verbs (rules used with some
        /// verbs never used are always listed), with their request counts.
        #[arg(long)]
        all: bool,
        /// RBAC objects: manifests (files, directories, `-`) or a snapshot.
        #[arg(value_name = "PATH", required_unless_present = "cluster")]
        paths: Vec<PathBuf>,
        /// Read the RBAC objects from the live cluster of the kubeconfig instead.
        #[arg(long, conflicts_with = "paths")]
        cluster: bool,
        #[command(flatten)]
        connect: crate::cluster::ConnectArgs,
        /// Output format: table or json.
        #[arg(long, short = 'f', default_value = "table", value_parser = ["table", "json"])]
        format: String,
        #[command(flatten)]
        limits: crate::scan::InputLimitArgs,
    },
    /// A minimal Role/ClusterRole and binding(s) covering exactly the requests SUBJECT made
    /// in the audit logs, as apply-able YAML with the requests behind each rule.
    Suggest {
        /// A user name, `group:NAME` or `system:serviceaccount:NS:NAME`.
        subject: String,
        #[command(flatten)]
        audit: AuditArgs,
        /// Name of the roles and bindings (default: `palisade-suggested-<subject>`).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Output format: yaml or json.
        #[arg(long, short = 'f', default_value = "yaml", value_parser = ["yaml", "json"])]
        format: String,
    },
}

#[derive(Args, Debug)]
struct AuditArgs {
    /// An audit log: JSON lines of `audit.k8s.io/v1` events, as the API server's log backend
    /// writes them (`-` for stdin). Repeat for several files.
    #[arg(long = "audit-log", value_name = "FILE", required = true)]
    audit_logs: Vec<PathBuf>,
    /// Only events received after this: a duration before now (`30d`, `12h`, `45m`, `2w`,
    /// `90s`) or an RFC 3339 time.
    #[arg(long, value_name = "DURATION|TIME")]
    since: Option<String>,
}

#[derive(Args, Debug)]
pub(crate) struct NetArgs {
    #[command(subcommand)]
    command: NetCommand,
}

#[derive(Subcommand, Debug)]
enum NetCommand {
    /// Is traffic from FROM to TO allowed, and why? Exits 0 when allowed, 1 when denied.
    Can {
        /// `namespace/name` of a pod or workload (`namespace/Kind/name` to disambiguate), or an IP.
        from: String,
        /// `namespace/name` of a pod or workload, or an IP (egress to the outside).
        to: String,
        /// Destination port: `8080`, `53/UDP` or a named port.
        #[arg(long, value_name = "PORT")]
        port: Option<String>,
        #[command(flatten)]
        inputs: Inputs,
    },
}

/// The objects that could be read, and how many input errors there were.
struct Input {
    objects: Vec<Value>,
    errors: usize,
}

impl Input {
    /// The exit code of an answer: an input error (2) wins over the answer's own code, as
    /// in `scan`; the answer is printed all the same, with a warning.
    #[allow(clippy::print_stderr)]
    fn exit(&self, answer: Exit) -> Exit {
        if self.errors == 0 {
            return answer;
        }
        eprintln!(
            "warning: {} input error{} (listed above): the answer covers only the documents that could be read",
            self.errors,
            if self.errors == 1 { "" } else { "s" }
        );
        Exit::Error
    }
}

/// Reads the inputs as `scan` does: a malformed document or unreadable file is reported on
/// stderr (`error: FILE:LINE:COLUMN: reason`) and the rest is still evaluated.
#[allow(clippy::print_stderr)]
fn load(paths: &[PathBuf], limits: crate::scan::InputLimitArgs) -> Input {
    let opts = palisade_load::LoadOptions {
        limits: limits.limits(),
        ..palisade_load::LoadOptions::default()
    };
    let loaded = palisade_load::load_paths_with(paths, &opts);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    Input {
        objects: loaded.objects.into_iter().map(|o| o.value).collect(),
        errors: loaded.errors.len(),
    }
}

fn request(verb: &str, resource: &str, r: &RequestArgs) -> anyhow::Result<Request> {
    let mut req = Request::parse(verb, resource).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(ns) = &r.namespace {
        req = req.in_namespace(ns);
    }
    if let Some(n) = &r.name {
        req = req.named(n);
    }
    if let Some(s) = &r.subresource {
        req = req.with_subresource(s);
    }
    Ok(req)
}

fn json_out(v: &impl serde::Serialize) -> anyhow::Result<()> {
    emit(&(serde_json::to_string_pretty(v)? + "\n"))
}

pub(crate) fn rbac(args: RbacArgs) -> anyhow::Result<Exit> {
    match args.command {
        RbacCommand::WhoCan {
            verb,
            resource,
            request: r,
            inputs,
        } => {
            let req = request(&verb, &resource, &r)?;
            let input = load(&inputs.paths, inputs.limits);
            let rbac = Rbac::from_objects(&input.objects);
            let grants = rbac.who_can(&req);
            if inputs.format == "json" {
                json_out(&grants)?;
                return Ok(input.exit(Exit::Clean));
            }
            // One entry per subject (the engine lists each once), its paths below it.
            let mut out = format!("Subjects that can {req}:\n");
            for g in &grants {
                if g.superuser {
                    let _ = writeln!(
                        out,
                        "  {}  (bypasses RBAC: members of system:masters are always allowed)",
                        g.subject
                    );
                } else {
                    let _ = writeln!(out, "  {}", g.subject);
                }
                for v in &g.via {
                    let _ = writeln!(out, "      via {v}");
                }
            }
            let distinct: std::collections::BTreeSet<&Subject> =
                grants.iter().map(|g| &g.subject).collect();
            let _ = writeln!(
                out,
                "{} subject{}",
                distinct.len(),
                if distinct.len() == 1 { "" } else { "s" }
            );
            emit(&out)?;
            Ok(input.exit(Exit::Clean))
        }
        RbacCommand::Can {
            subject,
            verb,
            resource,
            groups,
            request: r,
            inputs,
        } => {
            let req = request(&verb, &resource, &r)?;
            let input = load(&inputs.paths, inputs.limits);
            let rbac = Rbac::from_objects(&input.objects);
            let s = Subject::parse(&subject);
            let decision: Decision = match s.kind {
                SubjectKind::Group => rbac.can(&s, &req),
                _ => {
                    let name = s
                        .service_account_username()
                        .unwrap_or_else(|| s.name.clone());
                    let gs: Vec<&str> = groups.iter().map(String::as_str).collect();
                    rbac.authorize(&UserInfo::new(&name, &gs), &req)
                }
            };
            if inputs.format == "json" {
                json_out(&decision)?;
            } else {
                let mut out = String::from(if decision.allowed { "yes\n" } else { "no\n" });
                if decision.reason == Reason::SuperuserGroup {
                    out.push_str("  system:masters: a real API server allows members of this group everything, bypassing RBAC\n");
                }
                for v in &decision.via {
                    let _ = writeln!(out, "  via {v}");
                }
                emit(&out)?;
            }
            Ok(input.exit(if decision.allowed {
                Exit::Clean
            } else {
                Exit::Findings
            }))
        }
        RbacCommand::Risks { inputs } => {
            let input = load(&inputs.paths, inputs.limits);
            let rbac = Rbac::from_objects(&input.objects);
            let risks = rbac.risks();
            if inputs.format == "json" {
                json_out(&risks)?;
                return Ok(input.exit(Exit::Clean));
            }
            let mut out = String::new();
            for r in &risks {
                let scope = r
                    .namespace
                    .as_deref()
                    .map(|n| format!("in namespace {n}"))
                    .unwrap_or_else(|| "cluster-wide".into());
                let _ = writeln!(
                    out,
                    "{:<26} {:<36} {:<22} {}",
                    format!("{:?}", r.kind),
                    r.subject.to_string(),
                    scope,
                    r.detail
                );
                for g in &r.grants {
                    let _ = writeln!(out, "{:<26}   via {g}", "");
                }
            }
            let _ = writeln!(
                out,
                "{} risky grant{}",
                risks.len(),
                if risks.len() == 1 { "" } else { "s" }
            );
            emit(&out)?;
            Ok(input.exit(Exit::Clean))
        }
        RbacCommand::Paths {
            from,
            to: _,
            paths,
            format,
            limits,
        } => {
            let input = load(&paths, limits);
            let rbac = Rbac::from_objects(&input.objects);
            let mut paths = rbac.escalation_paths();
            if let Some(from) = &from {
                let s = Subject::parse(from);
                paths.retain(|p| p.subject == s);
            }
            match format.as_str() {
                "json" => {
                    json_out(&paths)?;
                    return Ok(input.exit(Exit::Clean));
                }
                "dot" | "mermaid" => {
                    emit(&paths_graph(&paths, format == "dot"))?;
                    return Ok(input.exit(Exit::Clean));
                }
                _ => {}
            }
            let mut out = String::new();
            for (i, p) in paths.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}. {} -> cluster-admin-equivalent ({:?}{})",
                    i + 1,
                    p.subject,
                    p.technique,
                    p.target
                        .as_ref()
                        .map(|t| format!(", as {t}"))
                        .unwrap_or_default()
                );
                for (j, s) in p.steps.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "   {}. {}{}",
                        j + 1,
                        s.action,
                        s.grant
                            .as_ref()
                            .map(|g| format!("  [{g}]"))
                            .unwrap_or_default()
                    );
                }
            }
            let _ = writeln!(
                out,
                "{} escalation path{}",
                paths.len(),
                if paths.len() == 1 { "" } else { "s" }
            );
            emit(&out)?;
            Ok(input.exit(Exit::Clean))
        }
        RbacCommand::Unused {
            audit,
            subject,
            all,
            paths,
            cluster,
            connect,
            format,
            limits,
        } => {
            let (ev, audit_errors) = read_audit(&audit)?;
            let mut input = if cluster {
                let loaded = crate::cluster::read_rbac(&connect)?;
                report_loaded_errors(&loaded);
                Input {
                    errors: loaded.errors.len(),
                    objects: loaded.objects.into_iter().map(|o| o.value).collect(),
                }
            } else {
                load(&paths, limits)
            };
            input.errors += audit_errors;
            let rbac = Rbac::from_objects(&input.objects);
            let mut report = rbac.usage(&ev);
            if let Some(s) = &subject {
                let s = Subject::parse(s);
                report.subjects.retain(|u| u.subject == s);
            }
            if format == "json" {
                json_out(&report)?;
            } else {
                emit(&unused_table(&report, all))?;
            }
            Ok(input.exit(Exit::Clean))
        }
        RbacCommand::Suggest {
            subject,
            audit,
            name,
            format,
        } => {
            let (ev, audit_errors) = read_audit(&audit)?;
            let input = Input {
                objects: Vec::new(),
                errors: audit_errors,
            };
            let s = Subject::parse(&subject);
            let suggestion = palisade_rbac::suggest(&ev, &s);
            let name = name.unwrap_or_else(|| default_role_name(&s));
            let objects = suggestion.objects(&name);
            if suggestion.allowed_requests == 0 {
                anyhow::bail!(
                    "{s} made no allowed request in the audit window: there is nothing to suggest"
                );
            }
            if format == "json" {
                json_out(&serde_json::json!({
                    "window": ev.window(),
                    "suggestion": suggestion,
                    "objects": objects,
                }))?;
            } else {
                emit(&suggestion_yaml(&suggestion, &objects, &ev.window())?)?;
            }
            Ok(input.exit(Exit::Clean))
        }
    }
}

#[allow(clippy::print_stderr)]
fn report_loaded_errors(loaded: &palisade_load::Loaded) {
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
}

/// The escalation paths as a graph: subjects and the identities they reach are nodes,
/// `cluster-admin` the goal; each edge is labelled with its technique and the grant
/// (binding -> role -> rule) that enables it. Graphviz DOT or a Mermaid flowchart.
fn paths_graph(paths: &[palisade_rbac::EscalationPath], dot: bool) -> String {
    const GOAL: &str = "cluster-admin-equivalent";
    let mut nodes: Vec<String> = Vec::new();
    let mut edges: std::collections::BTreeSet<(usize, usize, String)> = Default::default();
    let id = |n: String, nodes: &mut Vec<String>| match nodes.iter().position(|x| *x == n) {
        Some(i) => i,
        None => {
            nodes.push(n);
            nodes.len() - 1
        }
    };
    for p in paths {
        let from = id(p.subject.to_string(), &mut nodes);
        let goal = id(GOAL.to_owned(), &mut nodes);
        // The subject's own grant: the first step that has one (the last step of a path
        // through another identity is that identity's grant).
        let own = match &p.target {
            Some(_) => &p.steps[..p.steps.len().saturating_sub(1)],
            None => &p.steps[..],
        };
        let first = own
            .iter()
            .find_map(|s| s.grant.as_ref())
            .map(|g| format!("{:?} via {g}", p.technique))
            .unwrap_or_else(|| format!("{:?}", p.technique));
        match &p.target {
            Some(t) => {
                let mid = id(t.to_string(), &mut nodes);
                edges.insert((from, mid, first));
                let last = p
                    .steps
                    .last()
                    .and_then(|s| s.grant.as_ref())
                    .map(|g| format!("holds * on * via {g}"))
                    .unwrap_or_else(|| "holds * on *".to_owned());
                edges.insert((mid, goal, last));
            }
            None => {
                edges.insert((from, goal, first));
            }
        }
    }
    let mut out = String::new();
    if dot {
        let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("digraph escalation {\n  rankdir=LR;\n  node [shape=box];\n");
        for (i, n) in nodes.iter().enumerate() {
            let extra = if n == GOAL {
                ", style=filled, fillcolor=\"#f4cccc\""
            } else {
                ""
            };
            let _ = writeln!(out, "  n{i} [label=\"{}\"{extra}];", q(n));
        }
        for (a, b, l) in &edges {
            let _ = writeln!(out, "  n{a} -> n{b} [label=\"{}\"];", q(l));
        }
        out.push_str("}\n");
    } else {
        // Mermaid labels: quotes as entities, no `|` (it ends an edge label).
        let q = |s: &str| s.replace('"', "#quot;").replace('|', "/");
        out.push_str("flowchart LR\n");
        for (i, n) in nodes.iter().enumerate() {
            let _ = writeln!(out, "  n{i}[\"{}\"]", q(n));
        }
        for (a, b, l) in &edges {
            let _ = writeln!(out, "  n{a} -->|\"{}\"| n{b}", q(l));
        }
    }
    out
}

/// `--since`: a duration before now or an RFC 3339 time, as microseconds since the epoch.
fn since_micros(s: &str, now_micros: i64) -> anyhow::Result<i64> {
    if let Some(t) = palisade_rbac::parse_time_micros(s) {
        return Ok(t);
    }
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: i64 = num.parse().map_err(|_| {
        anyhow::anyhow!(
            "--since {s:?}: expected a duration such as 30d, 12h, 45m, 2w, or an RFC 3339 time"
        )
    })?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => anyhow::bail!("--since {s:?}: unknown unit {unit:?} (use s, m, h, d or w)"),
    };
    n.checked_mul(secs * 1_000_000)
        .map(|d| now_micros - d)
        .ok_or_else(|| anyhow::anyhow!("--since {s:?}: too large"))
}

/// Reads audit logs into evidence. A line that is not an audit event is reported on stderr
/// as `error: FILE:LINE: reason` and skipped; returns the number of such errors.
#[allow(clippy::print_stderr)]
fn read_audit(audit: &AuditArgs) -> anyhow::Result<(palisade_rbac::Evidence, usize)> {
    use std::io::BufRead;
    let since = match &audit.since {
        Some(s) => Some(since_micros(s, jiff::Timestamp::now().as_microsecond())?),
        None => None,
    };
    let mut ev = palisade_rbac::Evidence::since(since);
    let mut errors = 0usize;
    for path in &audit.audit_logs {
        let label = path.display().to_string();
        let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
            Box::new(std::io::BufReader::new(std::io::stdin()))
        } else {
            Box::new(std::io::BufReader::new(
                std::fs::File::open(path).with_context(|| format!("cannot read {label}"))?,
            ))
        };
        let mut lines =
            palisade_detect::LineReader::new(reader, palisade_detect::DEFAULT_MAX_LINE_BYTES);
        let mut handle = |line: palisade_detect::Line<'_>, ev: &mut palisade_rbac::Evidence| {
            let (number, text) = match line {
                palisade_detect::Line::Text { number, text } => (number, text),
                palisade_detect::Line::TooLong { number, bytes } => {
                    eprintln!(
                        "error: {label}:{number}: line of {bytes} bytes is over the limit, skipped"
                    );
                    errors += 1;
                    return;
                }
            };
            if text.iter().all(u8::is_ascii_whitespace) {
                return;
            }
            let res = serde_json::from_slice::<Value>(text)
                .map_err(|e| format!("not a JSON audit event ({e})"))
                .and_then(|v| ev.add_event(&v));
            if let Err(e) = res {
                eprintln!("error: {label}:{number}: {e}");
                errors += 1;
            }
        };
        while let Some(line) = lines
            .next_line()
            .with_context(|| format!("cannot read {label}"))?
        {
            handle(line, &mut ev);
        }
        if let Some(line) = lines.finish() {
            handle(line, &mut ev);
        }
    }
    Ok((ev, errors))
}

fn rule_text(r: &palisade_rbac::PolicyRule) -> String {
    let mut s = r.verbs.join(",");
    if !r.non_resource_urls.is_empty() {
        let _ = write!(s, " {}", r.non_resource_urls.join(","));
        return s;
    }
    let groups: Vec<&str> = r
        .api_groups
        .iter()
        .map(|g| if g.is_empty() { "core" } else { g.as_str() })
        .collect();
    let _ = write!(s, " {} [{}]", r.resources.join(","), groups.join(","));
    if !r.resource_names.is_empty() {
        let _ = write!(s, " names {}", r.resource_names.join(","));
    }
    s
}

fn window_text(w: &palisade_rbac::Window) -> String {
    let span = w.covered_seconds;
    let mut out = format!(
        "Audit window: {} .. {} ({}d {}h {}m {}s), {} events, {} requests",
        w.first.as_deref().unwrap_or("-"),
        w.last.as_deref().unwrap_or("-"),
        span / 86_400,
        span % 86_400 / 3_600,
        span % 3_600 / 60,
        span % 60,
        w.events,
        w.requests
    );
    if let Some(s) = &w.since {
        let _ = write!(
            out,
            "; asked for events since {s} ({} older events left out)",
            w.outside_window
        );
    }
    out.push('\n');
    out
}

fn unused_table(report: &palisade_rbac::UsageReport, all: bool) -> String {
    use palisade_rbac::RuleStatus;
    let mut out = window_text(&report.window);
    for s in &report.subjects {
        if s.bindings.is_empty() {
            continue;
        }
        if s.requests == 0 {
            let _ = writeln!(
                out,
                "{}: no requests in the window: nothing can be said about its {} binding{}",
                s.subject,
                s.bindings.len(),
                if s.bindings.len() == 1 { "" } else { "s" }
            );
            continue;
        }
        let _ = writeln!(
            out,
            "{}: {} requests ({} allowed, {} denied), {} .. {}, confidence {:?}; {} unused rule{}, {} unknown",
            s.subject,
            s.requests,
            s.allowed,
            s.denied,
            s.first_seen.as_deref().unwrap_or("-"),
            s.last_seen.as_deref().unwrap_or("-"),
            s.confidence,
            s.unused_rules,
            if s.unused_rules == 1 { "" } else { "s" },
            s.unknown_rules
        )
        .map(|_| ());
        if s.superuser_requests > 0 {
            let _ = writeln!(
                out,
                "  {} requests as a member of system:masters (RBAC not consulted)",
                s.superuser_requests
            );
        }
        if s.unexplained > 0 {
            let _ = writeln!(
                out,
                "  {} allowed requests no grant of these RBAC objects explains",
                s.unexplained
            );
        }
        for b in &s.bindings {
            let shown: Vec<_> = b
                .rules
                .iter()
                .filter(|r| all || r.status != RuleStatus::Used || !r.unused_verbs.is_empty())
                .collect();
            if shown.is_empty() && !b.role_missing {
                continue;
            }
            let _ = writeln!(
                out,
                "  {:?} {}{} -> {:?} {}{}",
                b.binding_kind,
                b.binding_namespace
                    .as_deref()
                    .map(|n| format!("{n}/"))
                    .unwrap_or_default(),
                b.binding_name,
                b.role_kind,
                b.role_name,
                if b.role_missing {
                    " (role not found)"
                } else {
                    ""
                }
            );
            for r in shown {
                let status = match r.status {
                    RuleStatus::Used => format!("used x{}", r.requests),
                    RuleStatus::Unused => "unused".into(),
                    RuleStatus::Unknown => "unknown".into(),
                    RuleStatus::NoEvidence => "no evidence".into(),
                };
                let _ = write!(
                    out,
                    "    {status:<10} #{} {}",
                    r.rule_index,
                    rule_text(&r.rule)
                );
                if let Some(why) = &r.reason {
                    let _ = write!(out, "  ({why})");
                }
                if !r.unused_verbs.is_empty() {
                    let _ = write!(out, "  (verbs never used: {})", r.unused_verbs.join(","));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// A comment line's text: one line, printable.
fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The suggestion as YAML documents: each object serialized with serde_yaml_ng, then each
/// rule preceded by a comment naming the requests that need it.
fn suggestion_yaml(
    s: &palisade_rbac::Suggestion,
    objects: &[Value],
    window: &palisade_rbac::Window,
) -> anyhow::Result<String> {
    let mut out = format!(
        "# Least-privilege roles for {} from {} allowed requests ({} denied) in the audit window {} .. {}\n",
        comment_text(&s.subject.to_string()),
        s.allowed_requests,
        s.denied_requests,
        window.first.as_deref().unwrap_or("-"),
        window.last.as_deref().unwrap_or("-"),
    );
    for d in &s.denied_yet_allowed {
        let _ = writeln!(
            out,
            "# note: the log shows {} denied, and these roles allow it (the same or a broader request was allowed)",
            comment_text(d)
        );
    }
    let mut roles = s.roles.iter();
    for (i, obj) in objects.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let yaml = serde_yaml_ng::to_string(obj)?;
        let is_role = matches!(
            obj.get("kind").and_then(Value::as_str),
            Some("Role" | "ClusterRole")
        );
        let mut rules = if is_role {
            roles.next().map(|r| r.rules.iter())
        } else {
            None
        };
        let mut in_rules = false;
        for line in yaml.lines() {
            if !line.starts_with(' ') && !line.starts_with('-') {
                in_rules = line == "rules:";
            } else if in_rules && line.starts_with("- ") {
                if let Some(r) = rules.as_mut().and_then(Iterator::next) {
                    const SHOWN: usize = 8;
                    let mut needed = r.needed_by[..r.needed_by.len().min(SHOWN)].join(", ");
                    if r.needed_by.len() > SHOWN {
                        let _ = write!(needed, " and {} more", r.needed_by.len() - SHOWN);
                    }
                    let _ = writeln!(out, "# needed by: {}", comment_text(&needed));
                }
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}

fn default_role_name(s: &Subject) -> String {
    let raw = match &s.namespace {
        Some(ns) => format!("{ns}-{}", s.name),
        None => s.name.clone(),
    };
    let mut name: String = raw
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches(|c| c == '-' || c == '.').to_string();
    format!("palisade-suggested-{name}")
}

pub(crate) fn net(args: NetArgs) -> anyhow::Result<Exit> {
    match args.command {
        NetCommand::Can {
            from,
            to,
            port,
            inputs,
        } => {
            let input = load(&inputs.paths, inputs.limits);
            let np = Netpol::from_objects(&input.objects);
            let from = Endpoint::parse(&from).map_err(|e| anyhow::anyhow!("{e}"))?;
            let to = Endpoint::parse(&to).map_err(|e| anyhow::anyhow!("{e}"))?;
            let port = port
                .map(|p| PortSpec::parse(&p))
                .transpose()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let v = np
                .can(&from, &to, port.as_ref())
                .map_err(|e| anyhow::anyhow!("{e}"))
                .context(if input.errors > 0 {
                    "cannot answer (some input could not be read: see the errors above)"
                } else {
                    "cannot answer"
                })?;
            if inputs.format == "json" {
                json_out(&v)?;
            } else {
                let mut out = String::from(if v.allowed { "allowed\n" } else { "denied\n" });
                for d in [&v.egress, &v.ingress] {
                    let side = format!("{:?}", d.direction).to_lowercase();
                    if !d.applies {
                        let _ = writeln!(out, "  {side}: not subject to network policies (an address outside the cluster)");
                    } else if d.isolating.is_empty() {
                        let _ = writeln!(
                            out,
                            "  {side}: allowed (no policy isolates the pod for {side})"
                        );
                    } else if d.allowed {
                        let by: Vec<String> = d
                            .admitted_by
                            .iter()
                            .map(|r| format!("{} {side} rule #{}", r.policy, r.rule_index))
                            .collect();
                        let _ = writeln!(out, "  {side}: allowed by {}", by.join(", "));
                    } else {
                        let iso: Vec<String> =
                            d.isolating.iter().map(ToString::to_string).collect();
                        let _ = writeln!(
                            out,
                            "  {side}: denied (isolated by {}; no rule admits it)",
                            iso.join(", ")
                        );
                    }
                }
                for n in &v.notes {
                    let _ = writeln!(out, "  note: {n}");
                }
                emit(&out)?;
            }
            Ok(input.exit(if v.allowed {
                Exit::Clean
            } else {
                Exit::Findings
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_forms() {
        let now = 1_000_000_000_000_000;
        assert_eq!(since_micros("90s", now).unwrap(), now - 90_000_000);
        assert_eq!(
            since_micros("2w", now).unwrap(),
            now - 14 * 86_400 * 1_000_000
        );
        assert_eq!(
            since_micros("2026-11-23T15:30:00Z", now).unwrap(),
            1_795_447_800_000_000
        );
        assert!(since_micros("3x", now).is_err());
        assert!(since_micros("d", now).is_err());
        assert!(since_micros("99999999999999999d", now).is_err());
    }

    #[test]
    fn role_names_are_valid() {
        assert_eq!(
            default_role_name(&Subject::parse("system:serviceaccount:ci:runner")),
            "palisade-suggested-ci-runner"
        );
        assert_eq!(
            default_role_name(&Subject::parse("Jane@Example.com")),
            "palisade-suggested-jane-example.com"
        );
    }

    #[test]
    fn graph_labels_are_escaped() {
        let p = palisade_rbac::EscalationPath {
            subject: Subject::user("a\"b|c"),
            technique: palisade_rbac::Technique::Impersonate,
            target: None,
            steps: Vec::new(),
        };
        let dot = paths_graph(std::slice::from_ref(&p), true);
        assert!(dot.contains(r#"label="user a\"b|c""#), "{dot}");
        let mermaid = paths_graph(&[p], false);
        assert!(mermaid.contains(r#"n0["user a#quot;b/c"]"#), "{mermaid}");
    }
}
