//! `palisade scan --cluster`, `palisade snapshot`, `palisade diff`, `palisade export`.

use crate::{emit, Exit};
use anyhow::Context as _;
use clap::Args;
use palisade_core::Severity;
use palisade_load::diff::Drift;
use palisade_load::snapshot;
use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

/// Where and how to read a live cluster (shared by `scan` and `snapshot`).
#[derive(Args, Debug, Clone)]
pub(crate) struct ConnectArgs {
    /// Kubeconfig context (default: the current context; in a Pod: its service account).
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Read namespaced kinds in this namespace only (cluster-scoped kinds are still read).
    #[arg(long, short = 'n', value_name = "NS")]
    namespace: Option<String>,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 8, value_name = "N")]
    concurrency: usize,
    /// Objects per list page (`limit`).
    #[arg(long, default_value_t = 500, value_name = "N")]
    page_size: u32,
    /// Time limit of one request, in seconds.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    request_timeout: u64,
    /// Also read each Node's kubelet configuration through the API server's node proxy
    /// (`/api/v1/nodes/NAME/proxy/configz`; needs `get nodes/proxy`).
    #[arg(long)]
    pub(crate) kubelet_config: bool,
}

#[derive(Args, Debug)]
pub(crate) struct ClusterArgs {
    /// Scan the live cluster of the kubeconfig (or the in-cluster service account).
    #[arg(long, conflicts_with = "paths")]
    pub(crate) cluster: bool,
    /// With --cluster: scan every context of the kubeconfig, one report each.
    #[arg(long, requires = "cluster", conflicts_with = "context")]
    pub(crate) all_contexts: bool,
    /// Print the read-only ClusterRole that `scan --cluster` needs, and exit.
    #[arg(long)]
    pub(crate) print_rbac: bool,
    #[command(flatten)]
    pub(crate) connect: ConnectArgs,
}

fn read_options(
    c: &ConnectArgs,
    context: Option<String>,
    kinds: Option<HashSet<String>>,
) -> palisade_cluster::ReadOptions {
    palisade_cluster::ReadOptions {
        kubeconfig: c.kubeconfig.clone(),
        context,
        namespace: c.namespace.clone(),
        kinds,
        page_size: c.page_size.max(1),
        concurrency: c.concurrency.max(1),
        timeout: Duration::from_secs(c.request_timeout.max(1)),
        progress: progress_bar(),
        kubelet_config: c.kubelet_config,
        full_crds: false,
        gatekeeper: false,
        deprecated_api_metrics: false,
    }
}

/// How to reach the cluster of `ctx` for the reads a scan makes besides its lists (the image
/// pull Secrets of `--verify-images`).
pub(crate) fn connect_options(
    args: &ClusterArgs,
    ctx: Option<String>,
) -> palisade_cluster::ReadOptions {
    palisade_cluster::ReadOptions {
        progress: None,
        ..read_options(&args.connect, ctx, None)
    }
}

/// A progress bar on stderr, when stderr is a terminal.
fn progress_bar() -> Option<palisade_cluster::ProgressFn> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading the cluster [{bar:30}] {pos}/{len} kinds {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(std::sync::Arc::new(move |p| match p {
        palisade_cluster::Progress::Start { kinds } => bar.set_length(kinds as u64),
        palisade_cluster::Progress::Done { resource, objects } => {
            bar.set_message(format!("{resource}: {objects}"));
            bar.inc(1);
            if bar.position() >= bar.length().unwrap_or(0) {
                bar.finish_and_clear();
            }
        }
    }))
}

/// The kinds a scan reads: what the rules need, plus the workloads that own Pods (so that
/// owned Pods are reported once, as their owner) and Namespaces.
fn scan_kinds(keep: Option<&HashSet<String>>, kubelet_config: bool) -> Option<HashSet<String>> {
    keep.map(|k| {
        let mut k = k.clone();
        if kubelet_config {
            // The kubelet configurations are read per Node.
            k.insert("Node".to_owned());
        }
        k.extend(
            palisade_core::podspec::WORKLOAD_KINDS
                .iter()
                .map(|s| (*s).to_owned()),
        );
        k.insert("Namespace".to_owned());
        k
    })
}

/// `scan --print-rbac`: the read-only ClusterRole, as commented YAML.
pub(crate) fn scan_role(
    keep: Option<&HashSet<String>>,
    kubelet_config: bool,
    metrics: bool,
    pull_secrets: bool,
) -> anyhow::Result<String> {
    let mut role = palisade_cluster::cluster_role(
        scan_kinds(keep, kubelet_config).as_ref(),
        kubelet_config,
        metrics,
    );
    if pull_secrets {
        // `--verify-images`: the image pull Secrets the workloads name, and their
        // ServiceAccounts' (one `get` each).
        if let Some(rules) = role["rules"].as_array_mut() {
            rules.push(serde_json::json!({"apiGroups": [""], "resources": ["secrets", "serviceaccounts"], "verbs": ["get"]}));
        }
    }
    let yaml = serde_yaml_ng::to_string(&role).context("cannot write the ClusterRole as YAML")?;
    let note = if pull_secrets {
        "# With --verify-images, `get` on secrets reads the image pull Secrets the scanned\n\
         # workloads name (their values: the registry logins), in their own namespaces.\n"
    } else {
        ""
    };
    Ok(format!(
        "# The read-only ClusterRole `palisade scan --cluster` and `palisade snapshot` need.\n\
         # Secrets are listed as metadata only (PartialObjectMetadataList): the API server\n\
         # still authorizes that as `list secrets`, but never sends their values. (They are\n\
         # read in two lists split by a field selector on their type: the same permission.)\n\
         {note}{yaml}"
    ))
}

/// One input of a scan.
pub(crate) struct ScanSource {
    /// The context, for a cluster.
    pub(crate) context: Option<String>,
    /// What was loaded.
    pub(crate) loaded: palisade_load::Loaded,
    /// The API server's minor version, when known.
    pub(crate) server_minor: Option<u32>,
    /// What the cluster's `apiserver_requested_deprecated_apis` metric says, as notes for
    /// the report.
    pub(crate) notes: Vec<String>,
}

/// The contexts `scan --cluster` reads: every context of the kubeconfig with
/// `--all-contexts`, else the one chosen (`None`: the current one).
pub(crate) fn scan_contexts(args: &ClusterArgs) -> anyhow::Result<Vec<Option<String>>> {
    Ok(if args.all_contexts {
        palisade_cluster::contexts(args.connect.kubeconfig.as_deref())?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        vec![args.connect.context.clone()]
    })
}

/// The input error of a context in which no kind could be read: no access at all must not
/// look like a clean cluster.
fn nothing_readable(context: &str) -> palisade_core::InputIssue {
    palisade_core::InputIssue {
        file: format!("context/{context}"),
        line: 0,
        column: 0,
        message: "no kind could be read: check the credentials and the permissions (`palisade scan --print-rbac`)".to_owned(),
    }
}

/// The source of a context that could not be read, in a scan of every context: an input
/// error naming the context, and nothing read.
fn unreachable(ctx: Option<String>, e: palisade_cluster::Error) -> ScanSource {
    let mut loaded = palisade_load::Loaded::default();
    loaded.errors.push(palisade_core::InputIssue {
        file: format!("context/{}", ctx.as_deref().unwrap_or("")),
        line: 0,
        column: 0,
        message: format!("{:#}", anyhow::Error::new(e)),
    });
    ScanSource {
        context: ctx,
        loaded,
        server_minor: None,
        notes: Vec::new(),
    }
}

/// The input of `scan --cluster` for one context, read when asked: with `--all-contexts` the
/// contexts are read one at a time, and each is scanned and freed before the next is read.
pub(crate) fn scan_source(
    args: &ClusterArgs,
    ctx: Option<String>,
    keep: Option<&HashSet<String>>,
    gatekeeper: bool,
    deprecated_api_metrics: bool,
) -> anyhow::Result<ScanSource> {
    let mut opts = read_options(
        &args.connect,
        ctx.clone(),
        scan_kinds(keep, args.connect.kubelet_config),
    );
    opts.gatekeeper = gatekeeper;
    opts.deprecated_api_metrics = deprecated_api_metrics;
    let read = match palisade_cluster::read(&opts) {
        Ok(r) => r,
        // One unreachable cluster does not hide the others.
        Err(e) if args.all_contexts => return Ok(unreachable(ctx, e)),
        Err(e) => return Err(e).context("cannot scan the cluster"),
    };
    let origin = format!("context {}", read.context);
    let nothing_read = read.counts.is_empty() && !read.unreadable.is_empty();
    let context = read.context.clone();
    let minor = read.server_version.as_deref().and_then(server_minor);
    let notes = deprecated_api_notes(&read);
    let mut loaded =
        palisade_load::cluster::loaded_from_lines(read.objects, &read.unreadable, &origin);
    if nothing_read {
        // No access at all must not look like a clean cluster.
        loaded.errors.push(nothing_readable(&context));
    }
    Ok(ScanSource {
        context: Some(context),
        loaded,
        server_minor: minor,
        notes,
    })
}

/// An object of a staged cluster read ([`scan_source_staged`]), as its page arrived.
enum ReadObject {
    /// Judged by the rules that read nothing but their object, then cut down to what the
    /// other rules read; `findings` are the early rules' (object id 0).
    Judged {
        object: palisade_core::Object,
        findings: Vec<palisade_core::Finding>,
    },
    /// Controlled by a workload it is reported through when that workload was read (a Pod
    /// of a ReplicaSet): kept as read until every kind is read and its owner is known to be
    /// there (it is then folded into it, never judged) or not (it is judged then).
    Owned {
        /// Its kind, namespace (empty: none) and name.
        head: (String, String, String),
        /// Its controller's kind and name.
        owner: (String, String),
        line: String,
        /// A Pod's containers and the digests they run, left to the workload it folds into.
        images: Option<palisade_core::running::PodImages>,
    },
    /// Not an object (no kind, say).
    Skipped,
}

/// Judges one object read and cuts it down (see [`palisade_analyze::Staged::check_file`]).
fn judge(
    staged: &palisade_analyze::Staged,
    opts: &palisade_analyze::Options,
    v: serde_json::Value,
) -> ReadObject {
    match palisade_load::cluster::cluster_object(v) {
        Some(object) => {
            let mut one = [object];
            let findings = staged.check_file(&mut one, opts);
            let [object] = one;
            ReadObject::Judged { object, findings }
        }
        None => ReadObject::Skipped,
    }
}

/// The options of a cluster scan once its server's version is known: upgrade readiness
/// looks one release ahead of the cluster unless `--target-version` says otherwise.
pub(crate) fn cluster_options(
    opts: &palisade_analyze::Options,
    server_minor: Option<u32>,
) -> Option<palisade_analyze::Options> {
    match (opts.target_version, server_minor) {
        (None, Some(minor)) => {
            let mut o = opts.clone();
            o.target_version = Some(minor + 1);
            Some(o)
        }
        _ => None,
    }
}

/// [`scan_source`], staged: the rules that read nothing but their object judge each object
/// as its page arrives, and the object is then cut down to what the other rules read, so
/// that the cluster is never held whole (see [`palisade_analyze::Staged`]). Returns the
/// early findings too, their object ids made indexes in the loaded objects. The report
/// [`palisade_analyze::Staged::analyze`] then gives is the one the whole objects give.
pub(crate) fn scan_source_staged(
    args: &ClusterArgs,
    ctx: Option<String>,
    keep: Option<&HashSet<String>>,
    deprecated_api_metrics: bool,
    staged: &std::sync::Arc<palisade_analyze::Staged>,
    opts: &palisade_analyze::Options,
) -> anyhow::Result<(ScanSource, Vec<palisade_core::Finding>)> {
    let mut ropts = read_options(
        &args.connect,
        ctx.clone(),
        scan_kinds(keep, args.connect.kubelet_config),
    );
    ropts.deprecated_api_metrics = deprecated_api_metrics;
    // The options the early rules run with, once the server's version is known (the same
    // `run` uses for the rest).
    let judged_with: std::sync::Arc<std::sync::OnceLock<palisade_analyze::Options>> =
        std::sync::Arc::default();
    let make = |version: Option<&str>| -> palisade_cluster::Convert<ReadObject> {
        let o =
            cluster_options(opts, version.and_then(server_minor)).unwrap_or_else(|| opts.clone());
        let _ = judged_with.set(o.clone());
        let staged = staged.clone();
        std::sync::Arc::new(move |_r, v: serde_json::Value| {
            let kind = v.get("kind").and_then(serde_json::Value::as_str);
            if let Some((ok, on)) = palisade_load::cluster::controller_of(&v) {
                if kind.is_some_and(|k| palisade_load::cluster::folds_into(k, ok)) {
                    let s = |p: &str| {
                        v.pointer(p)
                            .and_then(serde_json::Value::as_str)
                            .unwrap_or("")
                            .to_owned()
                    };
                    return ReadObject::Owned {
                        head: (s("/kind"), s("/metadata/namespace"), s("/metadata/name")),
                        owner: (ok.to_owned(), on.to_owned()),
                        line: v.to_string(),
                        images: (kind == Some("Pod"))
                            .then(|| palisade_core::running::PodImages::of(&v)),
                    };
                }
            }
            judge(&staged, &o, v)
        })
    };
    let read = match palisade_cluster::read_with(&ropts, make) {
        Ok(r) => r,
        // One unreachable cluster does not hide the others.
        Err(e) if args.all_contexts => return Ok((unreachable(ctx, e), Vec::new())),
        Err(e) => return Err(e).context("cannot scan the cluster"),
    };
    let judge_opts = judged_with.get().cloned().unwrap_or_else(|| opts.clone());
    let origin = format!("context {}", read.context);
    let nothing_read = read.counts.is_empty() && !read.unreadable.is_empty();
    let context = read.context.clone();
    let minor = read.server_version.as_deref().and_then(server_minor);
    let notes = deprecated_api_notes(&read);
    // The workloads read, which the objects they control are folded into, and the
    // controllers of the workloads that fold too (a ReplicaSet's Deployment).
    let mut present: HashSet<(String, String, String)> = HashSet::new();
    let mut controllers: std::collections::HashMap<(String, String, String), (String, String)> =
        std::collections::HashMap::new();
    for o in &read.objects {
        match o {
            ReadObject::Judged { object, .. } => {
                present.insert((
                    object.kind.clone(),
                    object.namespace.clone().unwrap_or_default(),
                    object.name.clone(),
                ));
            }
            ReadObject::Owned { head, owner, .. } => {
                present.insert(head.clone());
                if head.0 != "Pod" {
                    controllers.insert(head.clone(), owner.clone());
                }
            }
            ReadObject::Skipped => {}
        }
    }
    let mut loaded = palisade_load::Loaded::default();
    loaded.stats.files = 1;
    let mut early = Vec::new();
    for o in read.objects {
        loaded.stats.documents += 1;
        let o = match o {
            ReadObject::Owned {
                head,
                owner,
                line,
                images,
            } => {
                let mut target = (owner.0, head.1, owner.1);
                if present.contains(&target) {
                    loaded.stats.owned_folded += 1;
                    if let Some(images) = images {
                        // What the Pod runs goes to the workload it is reported as: its
                        // controller, or that one's when it folds too (Pod -> ReplicaSet ->
                        // Deployment), as `palisade_load::cluster` does for a whole read.
                        for _ in 0..4 {
                            match controllers.get(&target) {
                                Some((k, n))
                                    if present.contains(&(
                                        k.clone(),
                                        target.1.clone(),
                                        n.clone(),
                                    )) =>
                                {
                                    target = (k.clone(), target.1, n.clone());
                                }
                                _ => break,
                            }
                        }
                        let ns = (!target.1.is_empty()).then_some(target.1.as_str());
                        let key = palisade_core::running::object_key(&target.0, ns, &target.2);
                        loaded.running.add_pod(&key, &images);
                    }
                    continue;
                }
                match serde_json::from_str(&line) {
                    Ok(v) => judge(staged, &judge_opts, v),
                    Err(_) => ReadObject::Skipped,
                }
            }
            o => o,
        };
        match o {
            ReadObject::Judged { object, findings } => {
                let id = palisade_core::ObjectId(loaded.objects.len());
                early.extend(findings.into_iter().map(|mut f| {
                    f.object = id;
                    f
                }));
                loaded.objects.push(object);
                loaded.stats.objects += 1;
            }
            _ => loaded.stats.skipped_documents += 1,
        }
    }
    let (warnings, unreadable) = palisade_load::cluster::unread_input(&read.unreadable, &origin);
    loaded.warnings = warnings;
    loaded.unreadable = unreadable;
    if nothing_read {
        // No access at all must not look like a clean cluster.
        loaded.errors.push(nothing_readable(&context));
    }
    let source = ScanSource {
        context: Some(context),
        loaded,
        server_minor: minor,
        notes,
    };
    Ok((source, early))
}

/// What `apiserver_requested_deprecated_apis` tells, as report notes: the deprecated API
/// versions clients still call (the objects' own versions are VER005/VER006's), or why the
/// metric could not be read.
fn deprecated_api_notes<T>(read: &palisade_cluster::ClusterRead<T>) -> Vec<String> {
    if let Some(why) = &read.metrics_unreadable {
        let hint = if why.starts_with("HTTP 403") || why.starts_with("HTTP 401") {
            "; reading it needs `get` on the non-resource URL /metrics (`--print-rbac`)"
        } else {
            ""
        };
        return vec![format!(
            "the API server's /metrics could not be read ({why}): the deprecated API versions clients still call (apiserver_requested_deprecated_apis) are not known{hint}"
        )];
    }
    match read.deprecated_api_requests.as_deref() {
        None => Vec::new(),
        Some([]) => vec![
            "apiserver_requested_deprecated_apis: no client has called a deprecated API version since the API server started".to_owned(),
        ],
        Some(calls) => vec![format!(
            "apiserver_requested_deprecated_apis: since the API server started, clients have called {} deprecated API version{}: {}; the audit log names the callers (annotation k8s.io/deprecated)",
            calls.len(),
            if calls.len() == 1 { "" } else { "s" },
            calls.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
        )],
    }
}

/// The minor version of an API server's `gitVersion` (`v1.32.13`, `v1.29.4-eks-036c24b`,
/// `v1.30.2+k3s1` -> 32, 29, 30).
pub(crate) fn server_minor(git_version: &str) -> Option<u32> {
    let rest = git_version.strip_prefix('v').unwrap_or(git_version);
    let mut parts = rest.split('.');
    if parts.next()? != "1" {
        return None;
    }
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    minor.parse().ok()
}

#[derive(Args, Debug)]
pub(crate) struct SnapshotArgs {
    /// The snapshot file to write (conventionally *.snapshot).
    #[arg(long, short = 'o', value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    connect: ConnectArgs,
    /// Also keep the cluster's Gatekeeper ConstraintTemplates and constraints, and the
    /// parameter objects of its ValidatingAdmissionPolicies (custom resources included; never
    /// Secrets), for `palisade scan SNAPSHOT --policy-from-input`. Needs get/list on
    /// constrainttemplates.templates.gatekeeper.sh, on each constraint kind's resource in
    /// constraints.gatekeeper.sh and on each paramKind's resource (beyond `--print-rbac`'s
    /// role).
    #[arg(long)]
    gatekeeper: bool,
}

/// `palisade snapshot`.
#[allow(clippy::print_stderr)]
pub(crate) fn snapshot(args: SnapshotArgs) -> anyhow::Result<Exit> {
    let mut opts = read_options(&args.connect, args.connect.context.clone(), None);
    // An export restores CRDs (and the custom resources that need them) from the snapshot.
    opts.full_crds = true;
    // The cluster's Gatekeeper policy, when asked: `scan SNAPSHOT --policy-from-input`
    // applies it offline.
    opts.gatekeeper = args.gatekeeper;
    let read = palisade_cluster::read(&opts).context("cannot read the cluster")?;
    let header = snapshot::Header {
        format: snapshot::FORMAT.to_owned(),
        context: read.context.clone(),
        server: read.server.clone(),
        server_version: read.server_version.clone(),
        created: jiff::Timestamp::now().to_string(),
        palisade_version: env!("CARGO_PKG_VERSION").to_owned(),
        objects: 0,
        digest: String::new(),
        unreadable: read.unreadable.clone(),
    };
    let header = snapshot::write_lines(&args.output, header, &read.objects)?;
    eprintln!(
        "wrote {}: {} objects from context {} ({}, {}), {}",
        args.output.display(),
        header.objects,
        header.context,
        header.server,
        header
            .server_version
            .as_deref()
            .unwrap_or("unknown version"),
        header.digest
    );
    for u in &read.unreadable {
        eprintln!(
            "warning: {}: not saved: HTTP {}: {}",
            palisade_load::cluster::resource_file(&u.resource),
            u.status,
            u.message
        );
    }
    Ok(Exit::Clean)
}

#[derive(Args, Debug)]
pub(crate) struct DiffArgs {
    /// The earlier snapshot.
    old: PathBuf,
    /// The later snapshot.
    new: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = crate::values::DiffFormat::Table)]
    format: crate::values::DiffFormat,
    /// Exit 1 when a drift item is at or above this severity, `none` never. Default: high.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    fail_on: Option<crate::values::FailOn>,
}

/// `palisade diff`.
pub(crate) fn diff(args: DiffArgs) -> anyhow::Result<Exit> {
    let old = snapshot::read(&args.old)?;
    let new = snapshot::read(&args.new)?;
    // A kind one side could not read is unknown there: not compared, and said so.
    let unknown = |kind: &str| {
        palisade_load::diff::unreadable_kind(&old.header.unreadable, kind)
            || palisade_load::diff::unreadable_kind(&new.header.unreadable, kind)
    };
    // Workload drift is the findings of the Pod Security baseline rules that appear or go.
    let drift = palisade_load::diff::diff_known(
        &old.objects,
        &new.objects,
        &unknown,
        &palisade_analyze::drift::workload_findings,
    );
    let mut not_compared: Vec<String> = old
        .header
        .unreadable
        .iter()
        .chain(&new.header.unreadable)
        .map(|u| {
            if u.kind.is_empty() {
                u.resource.clone()
            } else {
                u.kind.clone()
            }
        })
        .collect();
    not_compared.sort();
    not_compared.dedup();
    let fail_on: Option<Severity> = match args.fail_on {
        Some(f) => f.severity(),
        None => Some(Severity::High),
    };
    let text = match args.format {
        crate::values::DiffFormat::Table => {
            let mut t = diff_table(&old.header, &new.header, &drift);
            if !not_compared.is_empty() {
                t.push_str(&format!(
                    "not compared (could not be read in one of the snapshots): {}\n",
                    not_compared.join(", ")
                ));
            }
            t
        }
        crate::values::DiffFormat::Json => {
            let mut by: std::collections::BTreeMap<&str, usize> =
                Severity::ALL.iter().map(|s| (s.as_str(), 0)).collect();
            for d in &drift {
                *by.entry(d.severity.as_str()).or_default() += 1;
            }
            let v = serde_json::json!({
                "schemaVersion": 1,
                "old": {"file": args.old.display().to_string(), "context": old.header.context, "created": old.header.created, "digest": old.header.digest},
                "new": {"file": args.new.display().to_string(), "context": new.header.context, "created": new.header.created, "digest": new.header.digest},
                "drift": drift,
                "notCompared": not_compared,
                "summary": {"total": drift.len(), "bySeverity": by},
            });
            format!("{}\n", serde_json::to_string_pretty(&v)?)
        }
    };
    emit(&text)?;
    Ok(
        if fail_on.is_some_and(|t| drift.iter().any(|d| d.severity >= t)) {
            Exit::Findings
        } else {
            Exit::Clean
        },
    )
}

fn diff_table(old: &snapshot::Header, new: &snapshot::Header, drift: &[Drift]) -> String {
    let mut out = format!(
        "drift from {} ({}) to {} ({})\n\n",
        old.context, old.created, new.context, new.created
    );
    if drift.is_empty() {
        out.push_str("no security-relevant drift\n");
        return out;
    }
    let rows: Vec<[String; 5]> = drift
        .iter()
        .map(|d| {
            [
                d.severity.to_string(),
                d.category.to_owned(),
                d.change.as_str().to_owned(),
                d.object.to_string(),
                d.detail.clone(),
            ]
        })
        .collect();
    let head = ["SEVERITY", "CATEGORY", "CHANGE", "OBJECT", "DETAIL"];
    let mut w = head.map(str::len);
    for r in &rows {
        for (i, c) in r.iter().enumerate().take(4) {
            w[i] = w[i].max(c.len());
        }
    }
    let line = |r: [&str; 5]| {
        format!(
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        )
    };
    out.push_str(&line(head));
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
    }
    let mut counts = Vec::new();
    for s in Severity::ALL.iter().rev() {
        let n = drift.iter().filter(|d| d.severity == *s).count();
        if n > 0 {
            counts.push(format!("{n} {s}"));
        }
    }
    out.push_str(&format!(
        "\n{} drift item(s): {}\n",
        drift.len(),
        counts.join(", ")
    ));
    out
}

#[derive(Args, Debug)]
pub(crate) struct ExportArgs {
    /// The snapshot.
    snapshot: PathBuf,
    /// The directory to write (DIR/<namespace or _cluster>/<kind>.yaml).
    dir: PathBuf,
}

/// `palisade export`.
pub(crate) fn export(args: ExportArgs) -> anyhow::Result<Exit> {
    let s = snapshot::read(&args.snapshot)?;
    let e = palisade_load::export::export(&s.objects, &args.dir)
        .with_context(|| format!("cannot write {}", args.dir.display()))?;
    let mut text = format!(
        "wrote {} objects in {} files under {}; {} Secrets listed to recreate (their values were never read); {} objects left out (created by controllers or the control plane)\n",
        e.objects,
        e.files.len(),
        args.dir.display(),
        e.secrets,
        e.skipped
    );
    if e.crds_without_spec > 0 {
        text.push_str(&format!(
            "warning: {} CustomResourceDefinitions are in the snapshot without their schemas (read as metadata only) and cannot be applied: they are listed in {} to reinstall from their source; `palisade snapshot` reads them in full\n",
            e.crds_without_spec,
            args.dir.join("_cluster").join("customresourcedefinition.yaml").display()
        ));
    }
    emit(&text)?;
    Ok(Exit::Clean)
}

/// Reads the RBAC objects of the live cluster (`rbac unused --cluster`): Roles,
/// ClusterRoles, their bindings, ServiceAccounts and Namespaces.
pub(crate) fn read_rbac(connect: &ConnectArgs) -> anyhow::Result<palisade_load::Loaded> {
    let kinds: HashSet<String> = [
        "Role",
        "ClusterRole",
        "RoleBinding",
        "ClusterRoleBinding",
        "ServiceAccount",
        "Namespace",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let opts = read_options(connect, connect.context.clone(), Some(kinds));
    let read = palisade_cluster::read(&opts).context("cannot read the cluster")?;
    let origin = format!("context {}", read.context);
    let nothing_read = read.counts.is_empty() && !read.unreadable.is_empty();
    let mut loaded =
        palisade_load::cluster::loaded_from_lines(read.objects, &read.unreadable, &origin);
    if nothing_read {
        loaded.errors.push(palisade_core::InputIssue {
            file: format!("context/{}", read.context),
            line: 0,
            column: 0,
            message: "no RBAC kind could be read: check the credentials and the permissions"
                .to_owned(),
        });
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::server_minor;
    use super::*;
    use palisade_analyze::{InputSummary, Options, Staged};
    use palisade_core::{Inventory, Report};
    use std::sync::Arc;

    fn args(kubeconfig: PathBuf, kubelet_config: bool) -> ClusterArgs {
        ClusterArgs {
            cluster: true,
            all_contexts: false,
            print_rbac: false,
            connect: ConnectArgs {
                context: None,
                kubeconfig: Some(kubeconfig),
                namespace: None,
                concurrency: 4,
                page_size: 50,
                request_timeout: 60,
                kubelet_config,
            },
        }
    }

    fn report(
        source: ScanSource,
        opts: &Options,
        staged: Option<(&Staged, Vec<palisade_core::Finding>)>,
    ) -> Report {
        let opts = cluster_options(opts, source.server_minor).unwrap_or_else(|| opts.clone());
        let l = source.loaded;
        let input = InputSummary {
            errors: l.errors,
            warnings: l.warnings,
            stats: l.stats,
            unreadable: l.unreadable,
        };
        let mut inventory = Inventory::new(l.objects);
        if opts.policy.image_trust.is_some() {
            // `--verify-images`, as `scan` runs it: what the objects and the Pods folded into
            // them run, verified at the registry and handed to IMG007.
            let (evidence, _) = crate::verify::verify(
                &inventory,
                &opts.policy,
                crate::verify::FailurePolicy::Fail,
                Duration::from_secs(5),
                None,
                l.running,
            )
            .unwrap();
            inventory.derived(move |_| evidence);
        }
        match staged {
            Some((st, early)) => st.analyze(&mut inventory, early, input, &opts),
            None => palisade_analyze::analyze(&inventory, input, &opts),
        }
    }

    /// Scans the replay server both ways: the whole objects read, then analysed; and staged
    /// (judged page by page, cut down, then the other rules). The reports must be equal:
    /// same findings in the same order, same suppressions, skipped rules, warnings, counts.
    /// Returns the report and the staged objects.
    fn compare(
        cfg: palisade_replay::Config,
        select: &[&str],
        kubelet_config: bool,
    ) -> (Report, Vec<palisade_core::Object>) {
        let mut opts = Options::new("2026-11-23".parse().unwrap());
        opts.select = select.iter().map(|s| (*s).to_owned()).collect();
        compare_with(cfg, opts, kubelet_config)
    }

    /// [`compare`] with these options; with an `imageTrust` policy, the images are verified
    /// (and the workloads kept whole) as `scan --verify-images` does.
    fn compare_with(
        cfg: palisade_replay::Config,
        opts: Options,
        kubelet_config: bool,
    ) -> (Report, Vec<palisade_core::Object>) {
        let srv = palisade_replay::Replay::start(cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("kubeconfig");
        srv.write_kubeconfig(&kc).unwrap();
        let args = args(kc, kubelet_config);
        let keep = palisade_analyze::needed_kinds(&opts);

        let whole = scan_source(&args, None, keep.as_ref(), false, true).unwrap();
        let expected = report(whole, &opts, None);

        let mut also: Vec<&str> = Vec::new();
        if opts.policy.image_trust.is_some() {
            also.extend(palisade_core::podspec::WORKLOAD_KINDS);
            also.push("Namespace");
        }
        let staged = Arc::new(Staged::new(&opts, &also));
        let (source, early) =
            scan_source_staged(&args, None, keep.as_ref(), true, &staged, &opts).unwrap();
        let objects: Vec<palisade_core::Object> = source.loaded.objects.clone();
        let got = report(source, &opts, Some((&staged, early)));

        assert!(!expected.findings.is_empty());
        assert_eq!(got.findings.len(), expected.findings.len());
        for (g, e) in got.findings.iter().zip(&expected.findings) {
            assert_eq!(g, e);
        }
        assert_eq!(got.suppressed, expected.suppressed);
        assert_eq!(got.skipped_rules, expected.skipped_rules);
        assert_eq!(got.notes, expected.notes);
        assert_eq!(got.warnings, expected.warnings);
        assert_eq!(got.errors, expected.errors);
        assert_eq!(got.unreadable, expected.unreadable);
        assert_eq!(
            serde_json::to_value(&got.stats).unwrap(),
            serde_json::to_value(&expected.stats).unwrap()
        );
        (expected, objects)
    }

    fn recorded() -> Option<PathBuf> {
        let r = palisade_replay::find_recordings(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
        if r.is_none() {
            palisade_testkit::missing("shared/corpus/apiserver-recordings/api (the test corpus)");
        }
        r
    }

    #[test]
    fn the_staged_cluster_scan_gives_the_whole_report() {
        let Some(rec) = recorded() else { return };
        // The recorded cluster, with a kind forbidden (its rules not evaluated) and a list
        // whose continue token expires once (the list starts again).
        let cfg = palisade_replay::Config {
            recordings: rec.clone(),
            forbid: vec!["/apis/policy/v1/poddisruptionbudgets".to_owned()],
            expire_once: vec!["/api/v1/configmaps".to_owned()],
            ..palisade_replay::Config::default()
        };
        let (report, objects) = compare(cfg.clone(), &[], false);
        assert!(!report.skipped_rules.is_empty());
        // The objects were cut down: no Pod kept its status, no Secret more than metadata.
        assert!(objects.iter().any(|o| o.kind == "Pod"));
        assert!(objects
            .iter()
            .filter(|o| o.kind == "Pod")
            .all(|o| o.pointer("/status").is_none()));
        assert!(objects.iter().filter(|o| o.kind == "Secret").all(|o| o
            .value()
            .as_object()
            .unwrap()
            .keys()
            .all(|k| matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "type"))));
        for select in [
            &["POD001"][..],
            &["NET", "RBAC"],
            &["VER", "CP"],
            &["REL", "IMG", "SEC"],
        ] {
            compare(cfg.clone(), select, false);
        }
    }

    #[test]
    fn staged_cluster_scans_of_synthesized_clusters_give_the_whole_report() {
        let Some(rec) = recorded() else { return };
        for owned in [true, false] {
            let cfg = palisade_replay::Config {
                recordings: rec.clone(),
                synthetic: palisade_replay::synthesize(&rec, 300, 100, owned).unwrap(),
                ..palisade_replay::Config::default()
            };
            let (report, _) = compare(cfg, &[], false);
            // Owned Pods are folded into their workloads, standalone ones judged.
            assert_eq!(report.stats.owned_folded > 300, owned, "{:?}", report.stats);
        }
    }

    /// Both scans verify what the Pods folded into their workloads run: a synthesized
    /// cluster (Deployments, their ReplicaSets and Pods) with a Deployment whose Pods run the
    /// unsigned digest of a tag since moved to a signed one, and one caught in a rollout
    /// between the two digests.
    #[test]
    fn staged_cluster_scans_verify_what_folded_pods_run() {
        use palisade_registry::testing::{keypair, push_image, push_signature, start};
        use serde_json::json;
        let Some(rec) = recorded() else { return };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let Some(local) = rt.block_on(start()) else {
            return;
        };
        let reg = local.addr.clone();
        let (key, _, pem) = keypair();
        let (old, new) = rt.block_on(async {
            let r = palisade_registry::Registry::new(Duration::from_secs(5)).unwrap();
            let old = push_image(&r, &reg, "shop/web", "2.0", b"web old").await;
            let new = push_image(&r, &reg, "shop/web", "2.0", b"web signed").await;
            push_signature(&r, &reg, "shop/web", &new, &new, &key, None).await;
            (old, new)
        });
        let mut synthetic = palisade_replay::synthesize(&rec, 120, 50, true).unwrap();
        let image = format!("{reg}/shop/web:2.0");
        let template = json!({"spec": {"containers": [{"name": "web", "image": image}]}});
        let mut add = |path: &str, items: Vec<serde_json::Value>| {
            let list = synthetic.get_mut(path).unwrap();
            let mut all = (*list.items).clone();
            all.extend(items);
            list.items = Arc::new(all);
        };
        let owner = |kind: &str, name: &str| {
            json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "uid": format!("u-{name}"),
                "controller": true}])
        };
        add(
            "/apis/apps/v1/deployments",
            ["web-stale", "web-rollout"]
                .iter()
                .map(|d| {
                    json!({"apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": d, "namespace": "shop", "uid": format!("u-{d}")},
                    "spec": {"selector": {"matchLabels": {"app": d}}, "template": template}})
                })
                .collect(),
        );
        add(
            "/apis/apps/v1/replicasets",
            [
                ("web-stale-1", "web-stale"),
                ("web-rollout-1", "web-rollout"),
                ("web-rollout-2", "web-rollout"),
            ]
            .iter()
            .map(|(r, d)| {
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
                    "metadata": {"name": r, "namespace": "shop", "uid": format!("u-{r}"),
                        "ownerReferences": owner("Deployment", d)},
                    "spec": {"selector": {"matchLabels": {"app": d}}, "template": template}})
            })
            .collect(),
        );
        let repo = format!("{reg}/shop/web");
        add(
            "/api/v1/pods",
            [
                ("web-stale-1-a", "web-stale-1", &old),
                ("web-stale-1-b", "web-stale-1", &old),
                ("web-rollout-1-a", "web-rollout-1", &old),
                ("web-rollout-2-a", "web-rollout-2", &new),
            ]
            .iter()
            .map(|(p, r, d)| {
                json!({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": p, "namespace": "shop", "uid": format!("u-{p}"),
                        "ownerReferences": owner("ReplicaSet", r)},
                    "spec": template["spec"],
                    "status": {"containerStatuses": [{"name": "web", "image": image,
                        "imageID": format!("docker-pullable://{repo}@{d}")}]}})
            })
            .collect(),
        );
        let dir = tempfile::tempdir().unwrap();
        let pub_key = dir.path().join("release.pub");
        std::fs::write(&pub_key, pem).unwrap();
        let yaml = format!(
            "imageTrust:\n  policies:\n    - name: shop-release\n      scopes: [\"{reg}/shop/*\"]\n      cosign: {{ publicKeys: [\"{}\"] }}\n",
            pub_key.display()
        );
        let docs = palisade_load::yaml::parse_documents(&yaml, 1, true).unwrap();
        let metas: Vec<_> = palisade_analyze::catalogue::all().to_vec();
        let mut opts = Options::new("2026-11-23".parse().unwrap());
        opts.policy =
            palisade_core::Policy::from_value(&docs[0].value, &docs[0].spans, "p.yaml", &metas)
                .unwrap();
        opts.select = vec!["IMG007".to_owned()];
        let cfg = palisade_replay::Config {
            recordings: rec,
            synthetic,
            ..palisade_replay::Config::default()
        };
        let (report, _) = compare_with(cfg, opts, false);
        assert!(report.stats.owned_folded > 120, "{:?}", report.stats);
        let messages: Vec<(&str, &str)> = report
            .findings
            .iter()
            .map(|f| (f.object.name.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(messages.len(), 2, "{messages:#?}");
        let moved = format!(
            "tag moved: the digest running is {old}, the digest signed is {new} (where the tag points now)"
        );
        let stale = messages.iter().find(|(n, _)| *n == "web-stale").unwrap().1;
        assert!(
            stale.contains(&format!("at {old}, run by 2 Pods: {moved}")),
            "{stale}"
        );
        let rollout = messages
            .iter()
            .find(|(n, _)| *n == "web-rollout")
            .unwrap()
            .1;
        assert!(rollout.contains("its 2 Pods run 2 digests: "), "{rollout}");
        assert!(
            rollout.contains(&format!("1 Pod at {old}: {moved}")),
            "{rollout}"
        );
        assert!(
            rollout.contains(&format!("1 Pod at {new}: signed with")),
            "{rollout}"
        );
    }

    #[test]
    fn minor_of_server_versions() {
        assert_eq!(server_minor("v1.32.13"), Some(32));
        assert_eq!(server_minor("v1.29.4-eks-036c24b"), Some(29));
        assert_eq!(server_minor("v1.30.2+k3s1"), Some(30));
        assert_eq!(server_minor("v1.28+"), Some(28));
        assert_eq!(server_minor("v2.0.0"), None);
        assert_eq!(server_minor("garbage"), None);
    }
}
