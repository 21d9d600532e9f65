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
        #[command(flatten)]
        inputs: Inputs,
    },
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
        RbacCommand::Paths { inputs } => {
            let input = load(&inputs.paths, inputs.limits);
            let rbac = Rbac::from_objects(&input.objects);
            let paths = rbac.escalation_paths();
            if inputs.format == "json" {
                json_out(&paths)?;
                return Ok(input.exit(Exit::Clean));
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
    }
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
