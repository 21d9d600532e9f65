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
    /// Attack paths: the shortest ways, of one or several hops through service accounts, pods
    /// and nodes, from each subject to cluster-admin-equivalent power, Secrets or nodes, each
    /// hop with the grant (binding, role, rule) that opens it.
    Paths {
        /// Only the paths of this subject: a user name, `group:NAME` or
        /// `system:serviceaccount:NS:NAME`.
        #[arg(long, value_name = "SUBJECT")]
        from: Option<String>,
        /// The goal: cluster-admin (cluster-admin-equivalent power), secrets (the Secrets of a
        /// namespace) or nodes (a node's kubelet or host).
        #[arg(long, value_name = "GOAL", default_value = "cluster-admin", value_parser = ["cluster-admin", "secrets", "nodes"])]
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
        objects: loaded.objects.into_iter().map(|o| o.into_value()).collect(),
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
            to,
            paths,
            format,
            limits,
        } => {
            let goal = palisade_rbac::Goal::parse(&to).ok_or_else(|| {
                anyhow::anyhow!("--to {to:?}: expected cluster-admin, secrets or nodes")
            })?;
            let input = load(&paths, limits);
            let rbac = Rbac::from_objects(&input.objects);
            let mut paths = rbac.attack_paths(goal);
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
            emit(&paths_table(&paths))?;
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
                    objects: loaded.objects.into_iter().map(|o| o.into_value()).collect(),
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

/// The attack paths as a table: each path, then its hops with their grants.
fn paths_table(paths: &[palisade_rbac::AttackPath]) -> String {
    let mut out = String::new();
    for (i, p) in paths.iter().enumerate() {
        let last = p.hops.last().map(|h| h.to.to_string()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{}. {} -> {last} in {} hop{} ({:?})",
            i + 1,
            p.subject,
            p.hops.len(),
            if p.hops.len() == 1 { "" } else { "s" },
            p.hops[0].technique,
        );
        for (j, h) in p.hops.iter().enumerate() {
            let _ = write!(out, "   {}. {}", j + 1, h.action);
            if h.assumed {
                out.push_str("  (assumed)");
            }
            out.push('\n');
        }
    }
    let _ = writeln!(
        out,
        "{} attack path{}",
        paths.len(),
        if paths.len() == 1 { "" } else { "s" }
    );
    out
}

/// The attack paths as a graph: subjects, service accounts, pods, nodes, Secrets and the goal
/// are nodes; each edge is labelled with its technique and the grants (binding -> role ->
/// rule) that enable it. Graphviz DOT or a Mermaid flowchart.
fn paths_graph(paths: &[palisade_rbac::AttackPath], dot: bool) -> String {
    use palisade_rbac::PathNode;
    let mut nodes: Vec<String> = Vec::new();
    let mut goals: std::collections::BTreeSet<usize> = Default::default();
    let mut edges: std::collections::BTreeSet<(usize, usize, String)> = Default::default();
    let id = |n: String, nodes: &mut Vec<String>| match nodes.iter().position(|x| *x == n) {
        Some(i) => i,
        None => {
            nodes.push(n);
            nodes.len() - 1
        }
    };
    for p in paths {
        for (i, h) in p.hops.iter().enumerate() {
            let a = id(h.from.to_string(), &mut nodes);
            let b = id(h.to.to_string(), &mut nodes);
            if i + 1 == p.hops.len() || matches!(h.to, PathNode::ClusterAdmin) {
                goals.insert(b);
            }
            let mut label = format!("{:?}", h.technique);
            for g in &h.grants {
                let _ = write!(label, " via {g}");
            }
            if h.assumed {
                label.push_str(" (assumed)");
            }
            edges.insert((a, b, label));
        }
    }
    let mut out = String::new();
    if dot {
        let q = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("digraph attack_paths {\n  rankdir=LR;\n  node [shape=box];\n");
        for (i, n) in nodes.iter().enumerate() {
            let extra = if goals.contains(&i) {
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
    let since = match &audit.since {
        Some(s) => Some(since_micros(s, jiff::Timestamp::now().as_microsecond())?),
        None => None,
    };
    let (ev, issues) = read_audit_logs(&audit.audit_logs, since)?;
    for e in &issues {
        eprintln!("error: {}:{}: {}", e.file, e.line, e.message);
    }
    Ok((ev, issues.len()))
}

/// Reads audit logs (JSON lines of `audit.k8s.io/v1` events, `-` for stdin) into evidence;
/// a line that is not an audit event is skipped and returned as an input issue
/// (`FILE:LINE: reason`). An unreadable file is an error.
pub(crate) fn read_audit_logs(
    paths: &[PathBuf],
    since: Option<i64>,
) -> anyhow::Result<(
    palisade_rbac::Evidence,
    Vec<palisade_core::report::InputIssue>,
)> {
    use std::io::BufRead;
    let mut ev = palisade_rbac::Evidence::since(since);
    let mut issues = Vec::new();
    for path in paths {
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
            let issue = |number: u64, message: String| palisade_core::report::InputIssue {
                file: label.clone(),
                line: u32::try_from(number).unwrap_or(u32::MAX),
                column: 0,
                message,
            };
            let (number, text) = match line {
                palisade_detect::Line::Text { number, text } => (number, text),
                palisade_detect::Line::TooLong { number, bytes } => {
                    issues.push(issue(
                        number,
                        format!("line of {bytes} bytes is over the limit, skipped"),
                    ));
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
                issues.push(issue(number, e));
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
    Ok((ev, issues))
}

/// A duration in words: `30 days`, `5 hours`, `12 minutes`, `40 seconds`.
fn span_text(seconds: i64) -> String {
    let (n, unit) = if seconds >= 86_400 {
        ((seconds + 43_200) / 86_400, "day")
    } else if seconds >= 3_600 {
        ((seconds + 1_800) / 3_600, "hour")
    } else if seconds >= 60 {
        ((seconds + 30) / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// What one used rule was used for: `create on deployments.apps in 4 namespaces`.
fn used_rule_text(r: &palisade_rbac::RuleUsage) -> String {
    let verbs: Vec<&str> = r
        .rule
        .verbs
        .iter()
        .filter(|v| !r.unused_verbs.contains(v))
        .map(String::as_str)
        .collect();
    let what = if r.rule.non_resource_urls.is_empty() {
        let groups: Vec<&str> = r
            .rule
            .api_groups
            .iter()
            .filter(|g| !g.is_empty())
            .map(String::as_str)
            .collect();
        let mut res = r.rule.resources.join(",");
        if !groups.is_empty() {
            res = format!("{res} [{}]", groups.join(","));
        }
        res
    } else {
        r.rule.non_resource_urls.join(",")
    };
    let namespaces: Vec<&String> = r.namespaces.iter().filter(|n| !n.is_empty()).collect();
    let scope = match namespaces.as_slice() {
        [] => " cluster-wide".to_owned(),
        [one] => format!(" in namespace {one}"),
        many => format!(" in {} namespaces", many.len()),
    };
    format!("{} on {what}{scope}", verbs.join(","))
}

/// The audit evidence of one RBAC finding: did the subject use the grant of this binding in
/// the window (and the risky rules, when the finding names a risk)? `None` when the finding
/// names no subject.
fn finding_evidence(
    f: &palisade_core::report::ReportFinding,
    rbac: &Rbac,
    usage: &std::collections::HashMap<String, &palisade_rbac::SubjectUsage>,
    span: &str,
) -> Option<(String, usize)> {
    use palisade_rbac::RuleStatus;
    let subject = f.properties.get("subject")?;
    let Some(u) = usage.get(subject.as_str()) else {
        return Some((
            format!("{subject} made no request in the audit window ({span}): no evidence of use"),
            0,
        ));
    };
    if u.requests == 0 {
        return Some((
            format!("{subject} made no request in the audit window ({span}): no evidence of use"),
            0,
        ));
    }
    let binding = u.bindings.iter().find(|b| {
        let kind = match b.binding_kind {
            palisade_rbac::BindingKind::RoleBinding => "RoleBinding",
            palisade_rbac::BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
        };
        f.object.kind == kind
            && f.object.name == b.binding_name
            && (b.binding_kind == palisade_rbac::BindingKind::ClusterRoleBinding
                || f.object.namespace.as_deref().unwrap_or("default")
                    == b.binding_namespace.as_deref().unwrap_or("default"))
    });
    let Some(b) = binding else {
        return Some((
            format!(
                "{subject} made {} requests in {span}, none through this binding's rules",
                u.requests
            ),
            0,
        ));
    };
    let role = format!("{:?} {}", b.role_kind, b.role_name);
    let used: Vec<&palisade_rbac::RuleUsage> = b
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::Used)
        .collect();
    let unknown = b
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::Unknown)
        .count();
    let mut text = if used.is_empty() {
        format!(
            "{role} bound to {subject}; used 0 of its {} rules in {span} ({} requests seen)",
            b.rules.len(),
            u.requests
        )
    } else {
        const SHOWN: usize = 3;
        let mut parts: Vec<String> = used.iter().take(SHOWN).map(|r| used_rule_text(r)).collect();
        if used.len() > SHOWN {
            parts.push(format!("{} more rules", used.len() - SHOWN));
        }
        format!(
            "{role} bound to {subject}; used {} of its {} rules in {span}: {}",
            used.len(),
            b.rules.len(),
            parts.join("; ")
        )
    };
    if unknown > 0 {
        let _ = write!(
            text,
            "; {unknown} rule{} unknown (the log shows no event of {})",
            if unknown == 1 { "" } else { "s" },
            if unknown == 1 {
                "its API groups"
            } else {
                "their API groups"
            }
        );
    }
    // The risky rules of the finding, when it names a risk.
    if let (Some(risk), Some(r)) = (
        f.properties.get("risk"),
        rbac.role(b.role_kind, b.binding_namespace.as_deref(), &b.role_name),
    ) {
        let risky: Vec<usize> = rbac
            .role_risks(r)
            .into_iter()
            .filter(|x| format!("{:?}", x.kind) == *risk)
            .flat_map(|x| x.rules)
            .collect();
        if !risky.is_empty() {
            let risky_used = b
                .rules
                .iter()
                .any(|r| risky.contains(&r.rule_index) && r.status == RuleStatus::Used);
            let _ = write!(
                text,
                "; the risky grant ({risk}) was {}used",
                if risky_used { "" } else { "not " }
            );
        }
    }
    Some((text, used.len()))
}

/// `scan --audit-log`: each RBAC finding that names a subject says whether the subject used
/// the grant in the audit window, in its message and in the `audit` and `auditUsedRules`
/// properties (which JSON and SARIF carry).
pub(crate) fn annotate_rbac_findings(
    report: &mut palisade_core::report::Report,
    objects: &[&Value],
    ev: &palisade_rbac::Evidence,
) {
    if !report
        .findings
        .iter()
        .chain(&report.suppressed)
        .any(|f| f.rule_id.starts_with("RBAC") && f.properties.contains_key("subject"))
    {
        return;
    }
    let rbac = Rbac::from_objects(objects.iter().copied());
    let usage_report = rbac.usage(ev);
    let usage: std::collections::HashMap<String, &palisade_rbac::SubjectUsage> = usage_report
        .subjects
        .iter()
        .map(|u| (u.subject.to_string(), u))
        .collect();
    let span = span_text(usage_report.window.covered_seconds);
    for f in report
        .findings
        .iter_mut()
        .chain(report.suppressed.iter_mut())
    {
        if !f.rule_id.starts_with("RBAC") {
            continue;
        }
        if let Some((text, used)) = finding_evidence(f, &rbac, &usage, &span) {
            let _ = write!(f.message, " [audit: {text}]");
            f.properties.insert("audit".into(), text);
            f.properties
                .insert("auditUsedRules".into(), used.to_string());
        }
    }
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

/// A rule of a `net can` answer: `ns/name ingress rule #0` for a NetworkPolicy, the kind
/// and the rule's place in the object for Cilium and Calico policies.
fn rule_label(r: &palisade_netpol::RuleRef, side: &str) -> String {
    match &r.path {
        Some(path) => format!("{} rule {path}", r.policy),
        None => format!("{} {side} rule #{}", r.policy, r.rule_index),
    }
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

/// `net can` reads its inputs as [`load`] does, and also warns (file:line) about each
/// policy it could not read, since leaving one out changes the answer.
#[allow(clippy::print_stderr)]
pub(crate) fn net(args: NetArgs) -> anyhow::Result<Exit> {
    match args.command {
        NetCommand::Can {
            from,
            to,
            port,
            inputs,
        } => {
            let opts = palisade_load::LoadOptions {
                limits: inputs.limits.limits(),
                ..palisade_load::LoadOptions::default()
            };
            let loaded = palisade_load::load_paths_with(&inputs.paths, &opts);
            for e in &loaded.errors {
                eprintln!("error: {e}");
            }
            let values: Vec<&Value> = loaded.objects.iter().map(|o| o.value()).collect();
            let np = Netpol::from_objects(values.iter().copied());
            // A policy that cannot be read would silently change the answer: name it.
            for (msg, &i) in np.skipped.iter().zip(&np.skipped_inputs) {
                match loaded.objects.get(i).and_then(|o| o.source.as_ref()) {
                    Some(at) => eprintln!("warning: {at}: {msg}; ignored"),
                    None => eprintln!("warning: {msg}; ignored"),
                }
            }
            let input = Input {
                objects: Vec::new(),
                errors: loaded.errors.len(),
            };
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
                    } else if d.allowed && d.admitted_by.is_empty() {
                        let _ = writeln!(
                            out,
                            "  {side}: allowed (every policy tier passed it on to the namespace profile)"
                        );
                    } else if d.allowed {
                        let by: Vec<String> =
                            d.admitted_by.iter().map(|r| rule_label(r, &side)).collect();
                        let _ = writeln!(out, "  {side}: allowed by {}", by.join(", "));
                    } else if !d.denied_by.is_empty() {
                        let by: Vec<String> =
                            d.denied_by.iter().map(|r| rule_label(r, &side)).collect();
                        let _ = writeln!(out, "  {side}: denied by {}", by.join(", "));
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
        let p = palisade_rbac::AttackPath {
            subject: Subject::user("a\"b|c"),
            goal: palisade_rbac::Goal::ClusterAdmin,
            hops: vec![palisade_rbac::Hop {
                from: palisade_rbac::PathNode::Identity {
                    subject: Subject::user("a\"b|c"),
                },
                to: palisade_rbac::PathNode::ClusterAdmin,
                technique: palisade_rbac::Technique::Impersonate,
                action: String::new(),
                grants: Vec::new(),
                assumed: false,
            }],
        };
        let dot = paths_graph(std::slice::from_ref(&p), true);
        assert!(dot.contains(r#"label="user a\"b|c""#), "{dot}");
        let mermaid = paths_graph(&[p], false);
        assert!(mermaid.contains(r#"n0["user a#quot;b/c"]"#), "{mermaid}");
    }
}
