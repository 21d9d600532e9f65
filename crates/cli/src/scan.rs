//! `palisade scan`.

use crate::{config, emit, Exit};
use anyhow::{bail, Context as _};
use clap::Args;
use palisade_analyze::{analyze, InputSummary, Options};
use palisade_core::{select, Inventory, PssLevel, PssVersion, Severity};
use palisade_report::{Format, RenderOptions};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub(crate) struct ScanArgs {
    /// Files or directories to scan (recursively: *.yaml, *.yml, *.json), snapshots
    /// (*.snapshot); `-` reads stdin.
    #[arg(required_unless_present_any = ["cluster", "print_rbac"], value_name = "PATH")]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    cluster: crate::cluster::ClusterArgs,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = crate::values::ReportFormat::Table)]
    format: crate::values::ReportFormat,
    /// Write the report to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// Policy file (default: ./palisade.yaml when present).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity, or `none` to always exit 0 on
    /// findings. Default: the config's failOn, else high.
    #[arg(long, value_name = "SEVERITY", value_enum, ignore_case = true)]
    fail_on: Option<crate::values::FailOn>,
    /// Pod Security Standards profile for POD rules. Default: the config's profile, else
    /// restricted.
    #[arg(long, value_name = "LEVEL", value_enum)]
    profile: Option<crate::values::Profile>,
    /// Pod Security Standards policy version the POD rules evaluate: `latest` (default) or
    /// `v1.N` (v1.0 .. v1.37), as in a namespace's `pod-security.kubernetes.io/enforce-version`.
    #[arg(long, value_name = "VERSION")]
    pss_version: Option<String>,
    /// Kubernetes release an upgrade targets, `v1.N`: VER005 reports objects whose
    /// apiVersion that release no longer serves, VER006 those it deprecates. Default: with
    /// --cluster, the release after the cluster's; otherwise the newest release Palisade
    /// knows.
    #[arg(long, value_name = "VERSION")]
    target_version: Option<String>,
    /// API-server audit logs (JSON lines of audit.k8s.io/v1 events; repeatable): RBAC
    /// findings then say whether their subject used the grant in the window the logs cover.
    #[arg(long = "audit-log", value_name = "FILE")]
    audit_logs: Vec<PathBuf>,
    /// Preview raising every namespace's Pod Security `enforce` label to LEVEL (at
    /// `--pss-version`): lists, per namespace, the workloads that would be rejected.
    #[arg(long, value_name = "LEVEL")]
    preview_enforce: Option<String>,
    /// Preview moving rules to an admission mode (audit, warn, deny): lists, per namespace
    /// and rule, the objects with an active finding, i.e. what admission would reject (deny)
    /// if that rule moved to MODE in that namespace, and each one's mode today (the most
    /// specific setting of `palisade.yaml`).
    #[arg(long, value_name = "MODE")]
    preview_mode: Option<String>,
    /// Rules to run (replaces the config's `select`): ids, prefixes, families, names, tags,
    /// references such as cis:5.2 or book:ops.rbac. Comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    select: Vec<String>,
    /// Only rules mapped to this compliance framework (cis, nsa, nist, owasp, book); the
    /// report then carries a pass/fail summary per control.
    #[arg(long, value_name = "FRAMEWORK")]
    framework: Option<String>,
    /// Rules not to run (added to the config's `ignore`).
    #[arg(long, value_delimiter = ',', value_name = "SELECTOR")]
    ignore: Vec<String>,
    /// Colour in the table output.
    #[arg(long, value_enum, default_value = "auto")]
    color: crate::values::ColorChoice,
    /// The day exceptions are evaluated against (YYYY-MM-DD), default today. For previews
    /// ("what returns when these exceptions expire?") and reproducible reports.
    #[arg(long, value_name = "DATE")]
    today: Option<String>,
    /// Directory of known Kubernetes CVEs (k8s-cves YAML format; `palisade update-db`
    /// writes one): VER004 reports those affecting the running component versions.
    #[arg(long, value_name = "DIR")]
    cve_data: Option<PathBuf>,
    /// Vulnerability reports about the scanned images: Trivy JSON (`trivy image -f json`),
    /// Grype JSON (`grype -o json`) or SARIF image scans. IMG006 joins them with each
    /// container's image (by digest, else by reference) and reports fixable vulnerabilities
    /// past their grace period. Repeat the option or separate files with commas; with
    /// --cluster, the cluster's Trivy Operator VulnerabilityReports are read too.
    #[arg(long, value_name = "FILE", value_delimiter = ',')]
    vuln_report: Vec<PathBuf>,
    /// Verify the workloads' image signatures against the configuration's `imageTrust`
    /// policy at their registries (cosign); IMG007 reports what does not verify.
    #[arg(long)]
    verify_images: bool,
    /// With --verify-images, an image whose registry does not answer: `fail` reports it
    /// (IMG007), `ignore` notes it in the report.
    #[arg(long, value_enum, default_value = "fail", value_name = "POLICY")]
    verify_failure_policy: crate::verify::FailurePolicy,
    /// With --verify-images, seconds each registry request may take.
    #[arg(long, default_value_t = 10, value_name = "SECONDS")]
    verify_timeout: u64,
    #[command(flatten)]
    limits: InputLimitArgs,
    /// Accept a partial cluster scan: when some kinds could not be read (403, timeout), exit
    /// as if the scan were complete (0 or 1) instead of 3. The rules that need those kinds
    /// are still not evaluated, and the report lists them.
    #[arg(long)]
    allow_partial: bool,
    /// What the rules that relate objects to each other take as one cluster when scanning
    /// files: `all` (default: every file scanned together) or `directory` (each top-level
    /// directory under a PATH is its own cluster: `clusters/prod/`, `clusters/dev/`).
    #[arg(long, value_enum, default_value = "all")]
    cluster_boundary: ClusterBoundary,
    #[command(flatten)]
    policies: crate::policy::PolicyArgs,
    /// Also evaluate the ConstraintTemplates, constraints, ValidatingAdmissionPolicies and
    /// bindings found among the scanned manifests as policy, with the objects of the kinds
    /// the policies' paramKinds name as their parameters (never Secrets). The policy objects
    /// are then taken out of the scanned objects (policy is not judged as a workload).
    /// Without this flag they are scanned like any other object and never evaluated as
    /// policy. With --cluster, the cluster's own templates, constraints, policies, bindings
    /// and parameter objects are read and applied (and every kind is read); this needs
    /// get/list on constrainttemplates.templates.gatekeeper.sh, on each constraint kind's
    /// resource in constraints.gatekeeper.sh and on each paramKind's resource, beyond
    /// `--print-rbac`'s role.
    #[arg(long)]
    policy_from_input: bool,
}

/// See [`ScanArgs::cluster_boundary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ClusterBoundary {
    All,
    Directory,
}

/// Groups objects by the top-level directory under the scanned PATH their file is in (files
/// directly under a PATH, and PATHs that are files, form one group per PATH).
fn directory_partitions(paths: &[PathBuf], inventory: &Inventory) -> Vec<Vec<usize>> {
    let mut groups: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    for (i, o) in inventory.objects().iter().enumerate() {
        let file = o
            .source
            .as_ref()
            .map(|s| PathBuf::from(&*s.file))
            .unwrap_or_default();
        let key = paths
            .iter()
            .find_map(|p| {
                let rel = file.strip_prefix(p).ok()?;
                let mut comps = rel.components();
                let first = comps.next()?;
                // A file directly under PATH belongs to PATH's own group.
                Some(if comps.next().is_some() {
                    p.join(first).display().to_string()
                } else {
                    p.display().to_string()
                })
            })
            .unwrap_or_else(|| file.display().to_string());
        groups.entry(key).or_default().push(i);
    }
    groups.into_values().collect()
}

/// Bounds on the input files (`scan`, `rbac`, `net`).
#[derive(Args, Debug, Clone, Copy)]
pub(crate) struct InputLimitArgs {
    /// Largest input file (or standard input) read, in bytes; a larger one is an input error.
    #[arg(long, value_name = "BYTES", default_value_t = palisade_load::InputLimits::DEFAULT_MAX_FILE_BYTES)]
    max_file_bytes: u64,
    /// Longest line read, in bytes; a document holding a longer one is an input error.
    #[arg(long, value_name = "BYTES", default_value_t = palisade_load::InputLimits::DEFAULT_MAX_LINE_BYTES)]
    max_line_bytes: usize,
}

impl InputLimitArgs {
    pub(crate) fn limits(self) -> palisade_load::InputLimits {
        palisade_load::InputLimits {
            max_file_bytes: self.max_file_bytes,
            max_line_bytes: self.max_line_bytes,
        }
    }
}

#[allow(clippy::print_stderr)]
pub(crate) fn run(args: ScanArgs) -> anyhow::Result<Exit> {
    if args.cluster.all_contexts && args.format == crate::values::ReportFormat::Html {
        // Pages one after the other in a file are not a page.
        bail!("--format html writes one page for one cluster: scan one context at a time (--context NAME)");
    }
    let format: Format = args.format.into();
    let from_input: &[PathBuf] = if args.policy_from_input {
        &args.paths
    } else {
        &[]
    };
    let policies = crate::policy::load(
        &args.policies,
        args.config.as_deref(),
        from_input,
        palisade_policy::SCAN_POINT,
    )?;
    let mut policy = match config::load_with(args.config.as_deref(), &policies.metas())? {
        Ok(p) => p,
        Err(errors) => {
            config::print_errors(&errors);
            return Ok(Exit::Error);
        }
    };
    let today = match &args.today {
        Some(d) => d
            .parse()
            .with_context(|| format!("--today `{d}` is not a date (YYYY-MM-DD)"))?,
        None => config::today(),
    };
    policies.apply_modes(&mut policy);
    let mut metas = palisade_analyze::catalogue::scan_rules();
    metas.extend(policies.metas());
    // The cluster's own constraints are known only once it is read: the selectors and the
    // selection are checked then (`check_selection`).
    let cluster_policies = args.policy_from_input && args.cluster.cluster;
    if !cluster_policies {
        check_selectors(&args, &metas)?;
    }
    let profile = args.profile.map(PssLevel::from);
    let pss_version = args
        .pss_version
        .as_deref()
        .map(str::parse::<PssVersion>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    if let Some(PssVersion::Minor(m)) = pss_version {
        // One minor ahead of the newest known version is accepted (a release whose checks
        // did not change); further is a typo, not a policy.
        let newest = palisade_analyze::PSS_NEWEST_MINOR;
        if m > newest + 1 {
            bail!("--pss-version v1.{m} is not a Pod Security Standards version Palisade knows (newest: v1.{newest}; `latest` follows the newest)");
        }
    }
    let target_version = args
        .target_version
        .as_deref()
        .map(parse_target_version)
        .transpose()?;
    let fail_on: Option<Severity> = match args.fail_on {
        Some(f) => f.severity(),
        None => Some(policy.fail_on.unwrap_or(Severity::High)),
    };
    let framework = args
        .framework
        .as_deref()
        .map(str::parse::<palisade_core::Framework>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let opts = Options {
        framework,
        policy,
        profile,
        pss_version,
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        today,
        extra_rules: palisade_analyze::ExtraRules(policies.dyn_rules()),
        target_version,
    };
    if !cluster_policies && !args.cluster.print_rbac {
        check_selection(&opts)?;
    }
    let preview = args
        .preview_enforce
        .as_deref()
        .map(str::parse::<PssLevel>)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    // What a cluster scan lists, and what the loader builds in full.
    let mut keep = palisade_analyze::needed_kinds(&opts);
    let mut full = palisade_analyze::full_kinds(&opts);
    if preview.is_some() {
        // The preview evaluates every workload and reads every Namespace.
        for kinds in [keep.as_mut(), full.as_mut()].into_iter().flatten() {
            kinds.extend(
                palisade_core::podspec::WORKLOAD_KINDS
                    .iter()
                    .map(|k| (*k).to_owned()),
            );
            kinds.insert("Namespace".to_owned());
        }
    }
    // The deprecated-API metric is read (and its `/metrics` permission asked for) when a
    // rule about API versions runs.
    let metrics = palisade_analyze::selected_rules(&opts)
        .iter()
        .any(|r| matches!(r.meta().id, "VER005" | "VER006"));
    if args.cluster.print_rbac {
        emit(&crate::cluster::scan_role(
            keep.as_ref(),
            args.cluster.connect.kubelet_config,
            metrics,
            args.verify_images,
        )?)?;
        return Ok(Exit::Clean);
    }
    if args.policy_from_input && args.cluster.cluster {
        // The cluster's constraints may match any kind: every kind is read.
        keep = None;
    }
    // One source per context, each read only when its turn comes (a fleet is scanned one
    // cluster at a time, and each is freed before the next is read); the files otherwise.
    let contexts = if args.cluster.cluster {
        crate::cluster::scan_contexts(&args.cluster)?
    } else {
        vec![None]
    };
    let count = contexts.len();
    let many = count > 1;
    // Manifest files are checked file by file as they are read, and a cluster's objects page
    // by page, and each object is cut down to what the rules that relate objects need (see
    // `palisade_analyze::Staged`); policy taken from the input and per-directory clusters
    // need the whole objects first, and so do the per-rule evaluation counts of a
    // PolicyReport and a framework's compliance summary (which ask every selected rule
    // whether it applies to every object).
    let staged = (!args.policy_from_input
        && (args.cluster.cluster || args.cluster_boundary == ClusterBoundary::All)
        && format != Format::PolicyReport
        && opts.framework.is_none())
    .then(|| {
        let mut also: Vec<&str> = Vec::new();
        if preview.is_some() || args.verify_images {
            // The preview evaluates every workload and reads every Namespace; image
            // verification reads every workload's images.
            also.extend(palisade_core::podspec::WORKLOAD_KINDS);
            also.push("Namespace");
        }
        if !args.audit_logs.is_empty() {
            // The audit logs are matched against the RBAC objects.
            also.extend([
                "Role",
                "ClusterRole",
                "RoleBinding",
                "ClusterRoleBinding",
                "ServiceAccount",
            ]);
        }
        std::sync::Arc::new(palisade_analyze::Staged::new(&opts, &also))
    });
    let mut exit = Exit::Clean;
    for (i, ctx) in contexts.into_iter().enumerate() {
        let mut early = None;
        let connect = args
            .cluster
            .cluster
            .then(|| crate::cluster::connect_options(&args.cluster, ctx.clone()));
        let source = if let (true, Some(st)) = (args.cluster.cluster, &staged) {
            let (source, findings) = crate::cluster::scan_source_staged(
                &args.cluster,
                ctx,
                keep.as_ref(),
                metrics,
                st,
                &opts,
            )?;
            early = Some(findings);
            source
        } else if args.cluster.cluster {
            crate::cluster::scan_source(
                &args.cluster,
                ctx,
                keep.as_ref(),
                args.policy_from_input,
                metrics,
            )?
        } else {
            let load_opts = palisade_load::LoadOptions {
                keep_kinds: full.clone().map(std::sync::Arc::new),
                limits: args.limits.limits(),
            };
            let loaded = match &staged {
                Some(st) => {
                    let check =
                        |l: &mut palisade_load::Loaded| st.check_file(&mut l.objects, &opts);
                    let (loaded, parts) =
                        palisade_load::load_paths_each(&args.paths, &load_opts, &check);
                    let mut findings = Vec::with_capacity(parts.iter().map(|(_, f)| f.len()).sum());
                    for (offset, part) in parts {
                        findings.extend(part.into_iter().map(|mut f| {
                            f.object.0 += offset;
                            f
                        }));
                    }
                    early = Some(findings);
                    loaded
                }
                None => palisade_load::load_paths_with(&args.paths, &load_opts),
            };
            crate::cluster::ScanSource {
                context: None,
                loaded,
                server_minor: None,
                notes: Vec::new(),
            }
        };
        let crate::cluster::ScanSource {
            context,
            mut loaded,
            server_minor,
            notes,
        } = source;
        // Problems with the policies are input errors of every report (exit 2), while the
        // policies that loaded still run.
        loaded.errors.extend(policies.errors.iter().cloned());
        // A cluster's own ConstraintTemplates and constraints, read with it.
        let cluster_opts;
        let opts = if args.policy_from_input && args.cluster.cluster {
            // With the parameter objects of the cluster's ValidatingAdmissionPolicies.
            let mut set = palisade_policy::PolicySet::default();
            set.add_input(&loaded.objects);
            let rules = palisade_policy::rules_for(
                &set,
                palisade_policy::SCAN_POINT,
                args.policies.eval_options(),
            );
            loaded.errors.extend(set.errors);
            let mut o = opts.clone();
            palisade_policy::apply_modes(&rules, &mut o.policy);
            o.extra_rules
                .0
                .extend(rules.iter().map(|r| *r as &'static dyn palisade_core::Rule));
            let mut metas = palisade_analyze::catalogue::scan_rules();
            metas.extend(rules.iter().map(|r| palisade_core::Rule::meta(*r)));
            metas.extend(policies.metas());
            check_selectors(&args, &metas)?;
            check_selection(&o)?;
            cluster_opts = o;
            &cluster_opts
        } else if let Some(o) = crate::cluster::cluster_options(&opts, server_minor) {
            // Upgrade readiness looks one release ahead of the cluster by default.
            cluster_opts = o;
            &cluster_opts
        } else {
            &opts
        };
        if args.policy_from_input {
            let before = loaded.objects.len();
            loaded
                .objects
                .retain(|o| !palisade_policy::is_policy_object(o));
            loaded.stats.objects -= before - loaded.objects.len();
        }
        let header = (many && format == Format::Table)
            .then(|| format!("== context {} ==\n", context.as_deref().unwrap_or("-")));
        // With several contexts and --output, the reports follow each other in the file.
        let e = finish(
            &args,
            loaded,
            notes,
            opts,
            preview,
            format,
            fail_on,
            header,
            i > 0,
            i + 1 == count,
            staged.as_deref().zip(early),
            connect.as_ref(),
        )?;
        exit = exit.worst(e);
    }
    Ok(exit)
}

/// `--target-version v1.N`: a Kubernetes 1.x minor release from v1.16 (the first release
/// of the removal table) on.
fn parse_target_version(s: &str) -> anyhow::Result<u32> {
    let minor = s
        .strip_prefix("v1.")
        .or_else(|| s.strip_prefix("1."))
        .and_then(|m| m.parse::<u32>().ok())
        .with_context(|| {
            format!(
                "--target-version `{s}` is not a Kubernetes release (expected v1.N, e.g. v1.33)"
            )
        })?;
    if !(16..=99).contains(&minor) {
        bail!("--target-version `{s}`: Palisade's API removal table starts at v1.16");
    }
    Ok(minor)
}

/// Every `--select` and `--ignore` selector must select a rule `palisade scan` runs.
fn check_selectors(args: &ScanArgs, metas: &[&palisade_core::RuleMeta]) -> anyhow::Result<()> {
    for s in args.select.iter().chain(&args.ignore) {
        if !select::is_known(s, metas) {
            if select::is_known(s, palisade_analyze::catalogue::all()) {
                bail!("`{s}` selects no rule that `palisade scan` runs, only host checks (`palisade node`) or detection rules (`palisade detect`)");
            }
            bail!("`{s}` selects no rule (see `palisade rules`)");
        }
    }
    Ok(())
}

/// A configuration shared with `palisade node` and `palisade detect` may select only their
/// rules: nothing checked is an error, never a clean scan.
fn check_selection(opts: &Options) -> anyhow::Result<()> {
    if palisade_analyze::selected_rules(opts).is_empty() {
        bail!(
            "the selection leaves no rule of `palisade scan` to run (select: [{}], profile {})",
            if opts.select.is_empty() {
                opts.policy.select.join(", ")
            } else {
                opts.select.join(", ")
            },
            opts.profile()
        );
    }
    Ok(())
}

#[allow(clippy::print_stderr, clippy::too_many_arguments)]
fn finish(
    args: &ScanArgs,
    loaded: palisade_load::Loaded,
    notes: Vec<String>,
    opts: &Options,
    preview: Option<PssLevel>,
    format: Format,
    fail_on: Option<Severity>,
    header: Option<String>,
    append: bool,
    last: bool,
    staged: Option<(&palisade_analyze::Staged, Vec<palisade_core::Finding>)>,
    cluster: Option<&palisade_cluster::ReadOptions>,
) -> anyhow::Result<Exit> {
    let mut inventory = Inventory::new(loaded.objects);
    let cves = match &args.cve_data {
        Some(dir) => Some(
            palisade_node::cve::CveDatabase::load(dir)
                .with_context(|| format!("--cve-data {}", dir.display()))?,
        ),
        None => None,
    };
    let vulns = match args.vuln_report.as_slice() {
        [] => None,
        files => Some(
            palisade_supply::vuln::read_reports(files, args.limits.limits().max_file_bytes)
                .map_err(|errors| {
                    anyhow::anyhow!(
                        "--vuln-report: {}",
                        errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("\n")
                    )
                })?,
        ),
    };
    let (signatures, mut verify_notes) = if args.verify_images {
        let (e, n) = crate::verify::verify(
            &inventory,
            &opts.policy,
            args.verify_failure_policy,
            std::time::Duration::from_secs(args.verify_timeout.max(1)),
            cluster,
            loaded.running,
        )?;
        (Some(e), n)
    } else {
        (None, Vec::new())
    };
    // VER004 reads the CVE data, IMG006 the vulnerability reports and IMG007 the signature
    // verifications, from the inventory's derived-view cache.
    let prepare = |inv: &Inventory| {
        if let Some(s) = &signatures {
            let s = s.clone();
            inv.derived(move |_| s);
        }
        if let Some(db) = &cves {
            let db = db.clone();
            inv.derived(move |_| db);
        }
        if let Some(v) = &vulns {
            let v = v.clone();
            inv.derived(move |_| v);
        }
    };
    prepare(&inventory);
    let input = InputSummary {
        errors: loaded.errors,
        warnings: loaded.warnings,
        stats: loaded.stats,
        unreadable: loaded.unreadable,
    };
    let mut report = if let Some((st, early)) = staged {
        st.analyze(&mut inventory, early, input, opts)
    } else if args.cluster_boundary == ClusterBoundary::Directory && !args.cluster.cluster {
        let parts = directory_partitions(&args.paths, &inventory);
        palisade_analyze::analyze_partitioned(&inventory, &parts, &prepare, input, opts)
    } else {
        analyze(&inventory, input, opts)
    };
    report.notes.extend(notes);
    report.notes.append(&mut verify_notes);
    if !args.audit_logs.is_empty() {
        let (ev, issues) = crate::access::read_audit_logs(&args.audit_logs, None)?;
        report.errors.extend(issues);
        let objects: Vec<&serde_json::Value> = inventory.values().collect();
        crate::access::annotate_rbac_findings(&mut report, &objects, &ev);
    }
    if format == Format::PolicyReport {
        report.evaluations = Some(palisade_analyze::evaluations(&inventory, opts));
    }
    if let Some(mode) = &args.preview_mode {
        let mode: palisade_core::Mode = mode.parse().map_err(anyhow::Error::msg)?;
        report.mode_preview = Some(palisade_core::ModePreview::of(
            &report.findings,
            mode,
            palisade_analyze::catalogue::admission_needs,
        ));
    }
    if let Some(level) = preview {
        report.rollout = Some(palisade_analyze::rollout::preview(
            &inventory,
            palisade_analyze::rollout::LabelPolicy {
                level,
                version: opts.pss_version(),
            },
        ));
    }
    let color = args.color.enabled(args.output.is_some());
    let render_opts = RenderOptions {
        color,
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    // Code-scanning UIs offer the safe fixes as suggested changes.
    let sarif_fixes = (format == Format::Sarif && !args.cluster.cluster)
        .then(|| crate::fix::sarif_fixes(&report, &inventory));
    // Written as it is serialised (JSON, SARIF), not built as one string first.
    let write = |out: &mut dyn std::io::Write| -> std::io::Result<()> {
        use std::io::Write as _;
        let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
        if let Some(h) = &header {
            out.write_all(h.as_bytes())?;
        }
        match &sarif_fixes {
            Some(fixes) => {
                palisade_report::write_sarif_with_fixes(&report, &render_opts, fixes, &mut out)?
            }
            None => palisade_report::write(&report, format, &render_opts, &mut out)?,
        }
        out.flush()
    };
    match &args.output {
        Some(path) => std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)
            .and_then(|mut f| write(&mut f))
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => match write(&mut std::io::stdout().lock()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            r => r.context("cannot write the report to standard output")?,
        },
    }
    if format != Format::Table && args.output.is_none() {
        // Machine formats keep stdout clean; errors still reach the user.
        for e in &report.errors {
            eprintln!("error: {e}");
        }
        for w in report
            .warnings
            .iter()
            .filter(|w| w.file.starts_with("cluster/"))
        {
            eprintln!("warning: {w}");
        }
    }
    let exit = if !report.errors.is_empty() {
        Exit::Error
    } else if !report.unreadable.is_empty() && !args.allow_partial {
        if format != Format::Table || args.output.is_some() {
            eprintln!(
                "warning: partial scan: {} kind{} could not be read, {} rule{} not evaluated (exit 3; --allow-partial to accept)",
                report.unreadable.len(),
                if report.unreadable.len() == 1 { "" } else { "s" },
                report.skipped_rules.len(),
                if report.skipped_rules.len() == 1 { "" } else { "s" },
            );
        }
        Exit::Partial
    } else if fail_on.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t)) {
        Exit::Findings
    } else {
        Exit::Clean
    };
    if last {
        // The process ends here: freeing every object one by one would only cost time.
        std::mem::forget(inventory);
        std::mem::forget(report);
    }
    Ok(exit)
}

#[cfg(test)]
mod target_version_tests {
    use super::parse_target_version;

    #[test]
    fn target_versions() {
        assert_eq!(parse_target_version("v1.33").unwrap(), 33);
        assert_eq!(parse_target_version("1.25").unwrap(), 25);
        assert!(parse_target_version("v1.15").is_err());
        assert!(parse_target_version("v2.1").is_err());
        assert!(parse_target_version("latest").is_err());
    }
}
