//! The analysis facade every front-end calls: select the rules, run them over an inventory
//! (per-object rules in parallel, inventory rules once), and apply the policy: severity
//! overrides, admission modes, expiring exceptions and annotation exceptions. The result is a
//! [`Report`]; nothing here prints or decides exit codes.

use jiff::civil::Date;
use palisade_core::config::Exception;
use palisade_core::report::{ExpiredException, InputStats, Suppression};
use palisade_core::{
    select, ComplianceSummary, Context, Finding, Framework, InputIssue, Inventory, ObjectId,
    Policy, PssLevel, PssVersion, Report, ReportFinding, Rule, RuleMeta, Scope, SkippedRule,
    UnreadableKind,
};
use rayon::prelude::*;

pub mod catalogue;
pub mod detect;
pub mod drift;
pub mod node;
pub mod rollout;

/// The newest Pod Security Standards minor version whose checks the evaluator knows.
pub const PSS_NEWEST_MINOR: u32 = palisade_pss::Version::NEWEST_MINOR;

/// The annotation with which an object's owner can ask to ignore rules, honoured only when
/// the policy sets `allowAnnotationExceptions: true`. Its value is a comma-separated list of
/// selectors (`POD001, IMG`) or `all`.
pub const IGNORE_ANNOTATION: &str = "palisade.dev/ignore";
/// The annotation that gives the reason for [`IGNORE_ANNOTATION`].
pub const IGNORE_REASON_ANNOTATION: &str = "palisade.dev/ignore-reason";

/// How to run an analysis.
#[derive(Clone, Debug)]
pub struct Options {
    /// The policy (from `palisade.yaml`, or the default).
    pub policy: Policy,
    /// Profile from the command line; overrides the policy's.
    pub profile: Option<PssLevel>,
    /// Pod Security Standards version from the command line; overrides the policy's.
    pub pss_version: Option<PssVersion>,
    /// Selectors from the command line; when non-empty they replace the policy's `select`.
    pub select: Vec<String>,
    /// Selectors from the command line, added to the policy's `ignore`.
    pub ignore: Vec<String>,
    /// The day against which exceptions expire.
    pub today: Date,
    /// Restricts the scan to rules mapped to this framework, and adds its per-control
    /// compliance summary to the report.
    pub framework: Option<Framework>,
    /// Rules loaded at run time beside the built-in ones (Gatekeeper constraints loaded with
    /// `--policy`): selected, run and reported exactly like them.
    pub extra_rules: ExtraRules,
    /// The Kubernetes minor version (`1.N`) an upgrade targets, for the rules about
    /// deprecated and removed APIs (`--target-version`; a cluster scan defaults it to the
    /// version after the cluster's). `None`: the newest release the table knows.
    pub target_version: Option<u32>,
}

/// Rules loaded at run time (see [`Options::extra_rules`]).
#[derive(Clone, Default)]
pub struct ExtraRules(pub Vec<&'static dyn Rule>);

impl std::fmt::Debug for ExtraRules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|r| r.meta().id))
            .finish()
    }
}

impl Options {
    /// Options with the default policy.
    pub fn new(today: Date) -> Options {
        Options {
            policy: Policy::default(),
            profile: None,
            pss_version: None,
            select: Vec::new(),
            ignore: Vec::new(),
            today,
            framework: None,
            extra_rules: ExtraRules::default(),
            target_version: None,
        }
    }

    /// The effective Pod Security Standards version: command line, then policy, then latest.
    pub fn pss_version(&self) -> PssVersion {
        self.pss_version
            .or(self.policy.pss_version)
            .unwrap_or_default()
    }

    /// The effective profile: command line, then policy, then `restricted`.
    pub fn profile(&self) -> PssLevel {
        self.profile
            .or(self.policy.profile)
            .unwrap_or(PssLevel::Restricted)
    }
}

/// What was read, besides the objects.
#[derive(Clone, Debug, Default)]
pub struct InputSummary {
    /// Input errors.
    pub errors: Vec<InputIssue>,
    /// Input warnings.
    pub warnings: Vec<InputIssue>,
    /// Input counts.
    pub stats: InputStats,
    /// Kinds that could not be read (cluster scans, snapshots).
    pub unreadable: Vec<UnreadableKind>,
}

/// The selected rules that cannot give a trustworthy answer because a kind they read could
/// not be read. Inventory rules look across objects, often for something *missing* (a
/// namespace without a NetworkPolicy, a cluster without a policy engine): with that kind
/// unread they would report what they cannot see. Per-object rules still run: each of their
/// findings is about an object that was read. An unreadable entry whose kind is unknown (a
/// snapshot that did not record it) counts against every inventory rule.
pub fn skipped_rules(
    rules: &[&'static dyn Rule],
    unreadable: &[UnreadableKind],
) -> Vec<SkippedRule> {
    if unreadable.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for r in rules {
        let m = r.meta();
        if m.scope != Scope::Inventory {
            continue;
        }
        let mut missing: Vec<String> = Vec::new();
        for u in unreadable {
            let hit = u.kind.is_empty() || m.kinds.iter().any(|k| *k == "*" || *k == u.kind);
            if hit {
                let name = if u.kind.is_empty() {
                    u.resource.clone()
                } else {
                    u.kind.clone()
                };
                if !missing.contains(&name) {
                    missing.push(name);
                }
            }
        }
        if !missing.is_empty() {
            out.push(SkippedRule {
                rule_id: m.id,
                rule_name: m.name,
                reason: format!(
                    "not evaluated: it needs {}, which could not be read",
                    missing.join(", ")
                ),
                unreadable_kinds: missing,
            });
        }
    }
    out
}

/// The rules the options select, in registry order, then the rules loaded at run time.
pub fn selected_rules(opts: &Options) -> Vec<&'static dyn Rule> {
    palisade_rules::all()
        .iter()
        .copied()
        .chain(opts.extra_rules.0.iter().copied())
        .filter(|r| is_selected(r.meta(), opts))
        .collect()
}

/// Whether the options select a rule, host check or detection rule: chosen by `--select`
/// (else the policy's `select`; nothing given: every rule), not ignored by the policy or
/// `--ignore`, not `enabled: false`, within the profile and the framework.
pub fn is_selected(m: &RuleMeta, opts: &Options) -> bool {
    let profile = opts.profile();
    let select: &[String] = if opts.select.is_empty() {
        &opts.policy.select
    } else {
        &opts.select
    };
    let chosen = select.is_empty() || select.iter().any(|s| select::matches(s, m));
    let ignored = opts
        .policy
        .ignore
        .iter()
        .chain(&opts.ignore)
        .any(|s| select::matches(s, m));
    let enabled = opts.policy.rule(m.id).and_then(|c| c.enabled) != Some(false);
    let in_profile = match m.level {
        None => true,
        Some(level) => level <= profile && profile != PssLevel::Privileged,
    };
    let in_framework = opts.framework.is_none_or(|f| f.covers(m));
    chosen && !ignored && enabled && in_profile && in_framework
}

/// The kinds the selected rules read (`None` when one of them reads every kind): what a
/// cluster scan lists.
pub fn needed_kinds(opts: &Options) -> Option<std::collections::HashSet<String>> {
    kinds_of(opts, |r| r.meta().kinds)
}

/// The kinds the selected rules read beyond identity and metadata ([`Rule::full_kinds`];
/// `None` when one of them reads every kind): what the loader must build in full. Objects of
/// the other kinds are kept with their identity and metadata only.
pub fn full_kinds(opts: &Options) -> Option<std::collections::HashSet<String>> {
    kinds_of(opts, |r| r.full_kinds())
}

fn kinds_of(
    opts: &Options,
    of: impl Fn(&dyn Rule) -> &'static [&'static str],
) -> Option<std::collections::HashSet<String>> {
    let mut kinds = std::collections::HashSet::new();
    for r in selected_rules(opts) {
        for k in of(r) {
            if *k == "*" {
                return None;
            }
            kinds.insert((*k).to_owned());
        }
    }
    Some(kinds)
}

/// Runs the selected rules over the inventory and applies the policy.
pub fn analyze(inventory: &Inventory, input: InputSummary, opts: &Options) -> Report {
    let rules = selected_rules(opts);
    let (runnable, skipped) = runnable_rules(&rules, &input.unreadable);
    let findings = run_rules(inventory, &runnable, opts);
    let mut report = apply_policy(inventory, findings, &rules, input, opts);
    report.skipped_rules = skipped;
    report
}

/// A file scan in two stages: the per-object rules that read nothing but their object run on
/// each object as its file is read ([`Staged::check_file`]), and the object is then cut down to
/// what the remaining rules read (its identity and metadata, unless its kind is one some
/// remaining rule reads in full); the remaining rules (inventory rules, per-object rules that
/// read the inventory, rules loaded at run time) run once every file is read
/// ([`Staged::analyze`]). The report is the one [`analyze`] gives on the whole objects: same
/// findings, same order, same locations.
pub struct Staged {
    early: Vec<&'static dyn Rule>,
    keep_full: Option<std::collections::HashSet<String>>,
    compact_workloads: bool,
    spread_kinds: &'static [&'static str],
}

/// The fields of a container the rules that run once every file is read look at: identity
/// and image (images, threat-detection agents), ports (NetworkPolicy reachability), the
/// sidecar marker, the Secrets its environment names (external secret stores) and whether it
/// is privileged (RBAC attack paths).
const KEPT_CONTAINER_FIELDS: &[&str] = &[
    "name",
    "image",
    "ports",
    "restartPolicy",
    "env",
    "envFrom",
    "securityContext",
];

/// Cuts an environment variable down to the Secret it names (`valueFrom.secretKeyRef`), the
/// only part the rules that run once every object is read look at; one that names no
/// Secret becomes `null`, keeping the place of the others (a variable is one mapping, and a
/// workload can have a hundred).
fn compact_env_var(e: &mut serde_json::Value) {
    let secret = e
        .pointer_mut("/valueFrom/secretKeyRef")
        .map(serde_json::Value::take);
    *e = match secret {
        Some(r) => serde_json::json!({ "valueFrom": { "secretKeyRef": r } }),
        None => serde_json::Value::Null,
    };
}

/// What a Pod's containers keep beyond [`KEPT_CONTAINER_FIELDS`]: the version rules tell a
/// control-plane component's Pod (a kubeadm mirror pod) by its command and arguments.
const KEPT_POD_CONTAINER_FIELDS: &[&str] = &["command", "args"];

/// The volume sources of a pod spec the rules that run once every object is read look at
/// (RBAC attack paths read `hostPath`, the external-store rule `secret`); a volume of another
/// source becomes `null`, keeping the place of the others (every Pod read from a cluster has a
/// projected service-account token volume, a dozen small mappings that would otherwise be its
/// largest part).
const KEPT_POD_VOLUME_SOURCES: &[&str] = &["hostPath", "secret"];

/// The fields of a pod spec the rules that run once every object is read look at:
/// containers (cut to [`KEPT_CONTAINER_FIELDS`]), volumes (cut to
/// [`KEPT_POD_VOLUME_SOURCES`]), the host namespaces (NetworkPolicy reachability, RBAC attack
/// paths), the service account and its token (RBAC, token automount), anti-affinity and
/// spread constraints (replica spread, of the kinds it judges: [`spread_kinds`]), the node
/// (RBAC attack paths), the restart policy (sidecars) and the image pull Secrets (image
/// verification).
const KEPT_POD_SPEC_FIELDS: &[&str] = &[
    "containers",
    "initContainers",
    "ephemeralContainers",
    "volumes",
    "hostNetwork",
    "hostPID",
    "hostIPC",
    "serviceAccountName",
    "serviceAccount",
    "automountServiceAccountToken",
    "affinity",
    "topologySpreadConstraints",
    "nodeName",
    "restartPolicy",
    "imagePullSecrets",
];

/// Cuts a workload's pod spec (a Pod's own, or its template's) down to what the rules that run
/// once every object is read look at: [`KEPT_POD_SPEC_FIELDS`], its containers to
/// [`KEPT_CONTAINER_FIELDS`] (a Pod's also to [`KEPT_POD_CONTAINER_FIELDS`]), each environment
/// variable to the Secret it names ([`compact_env_var`]), a security context to `privileged`,
/// its volumes of other sources than [`KEPT_POD_VOLUME_SOURCES`] to `null` (keeping the
/// places of the others) and its affinity to `podAntiAffinity`; a Pod's `status` is dropped (a
/// Node's status is read, a Pod's is not).
fn compact_pod_template(obj: &mut palisade_core::Object, spread_kinds: &[&str]) {
    let Some(base) = palisade_core::podspec::template_base(obj.group(), &obj.kind) else {
        return;
    };
    let is_pod = base.is_empty();
    if is_pod {
        if let Some(map) = obj.value_mut().as_object_mut() {
            map.remove("status");
        }
    }
    let extra: &[&str] = if is_pod {
        KEPT_POD_CONTAINER_FIELDS
    } else {
        &[]
    };
    // Anti-affinity and spread constraints are read of the kinds replicas-not-spread judges
    // only (a standalone Pod's, a DaemonSet's or a Job's are not).
    let spread = spread_kinds.contains(&obj.kind.as_str());
    let Some(spec) = obj
        .value_mut()
        .pointer_mut(&format!("{base}/spec"))
        .and_then(serde_json::Value::as_object_mut)
    else {
        return;
    };
    spec.retain(|k, _| {
        KEPT_POD_SPEC_FIELDS.contains(&k.as_str())
            && (spread || !matches!(k.as_str(), "affinity" | "topologySpreadConstraints"))
    });
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let Some(cs) = spec.get_mut(list).and_then(serde_json::Value::as_array_mut) else {
            continue;
        };
        for c in cs.iter_mut().filter_map(serde_json::Value::as_object_mut) {
            c.retain(|k, _| {
                KEPT_CONTAINER_FIELDS.contains(&k.as_str()) || extra.contains(&k.as_str())
            });
            if let Some(env) = c.get_mut("env").and_then(serde_json::Value::as_array_mut) {
                for e in env.iter_mut() {
                    compact_env_var(e);
                }
            }
            if let Some(sc) = c
                .get_mut("securityContext")
                .and_then(serde_json::Value::as_object_mut)
            {
                sc.retain(|k, _| k == "privileged");
            }
            // A list left with no place worth keeping, and a security context left empty, go
            // whole (what reads them finds nothing either way).
            drop_if(c, "env", all_null);
            drop_if(c, "securityContext", empty_mapping);
        }
    }
    if let Some(volumes) = spec
        .get_mut("volumes")
        .and_then(serde_json::Value::as_array_mut)
    {
        for v in volumes.iter_mut() {
            let kept = v.as_object().is_some_and(|m| {
                m.keys()
                    .any(|k| KEPT_POD_VOLUME_SOURCES.contains(&k.as_str()))
            });
            if !kept {
                *v = serde_json::Value::Null;
            } else if let Some(secret) = v
                .get_mut("secret")
                .and_then(serde_json::Value::as_object_mut)
            {
                // Of a Secret volume, the Secret it names (not its items and modes).
                secret.retain(|k, _| k == "secretName");
            }
        }
    }
    drop_if(spec, "volumes", all_null);
    if let Some(affinity) = spec
        .get_mut("affinity")
        .and_then(serde_json::Value::as_object_mut)
    {
        affinity.retain(|k, _| k == "podAntiAffinity");
    }
    drop_if(spec, "affinity", empty_mapping);
}

/// Removes `key` from `map` when its value is `unneeded`.
fn drop_if(
    map: &mut serde_json::Map<String, serde_json::Value>,
    key: &str,
    unneeded: fn(&serde_json::Value) -> bool,
) {
    if map.get(key).is_some_and(unneeded) {
        map.shift_remove(key);
    }
}

/// A list whose every entry is `null` (the places [`compact_pod_template`] keeps).
fn all_null(v: &serde_json::Value) -> bool {
    v.as_array()
        .is_some_and(|a| a.iter().all(serde_json::Value::is_null))
}

/// A mapping with no entries.
fn empty_mapping(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(serde_json::Map::is_empty)
}

/// The kinds whose anti-affinity and topology spread constraints a later rule reads: those
/// replicas-not-spread (REL007) judges.
fn spread_kinds() -> &'static [&'static str] {
    palisade_rules::find("REL007").map_or(&[], |r| r.meta().kinds)
}

/// Whether a later rule or the policy can read an annotation: Palisade's own (exceptions) and
/// those Kubernetes defines (keys under `kubernetes.io/` and `k8s.io/`, such as RBAC's
/// `autoupdate` and the applied configuration, which [`compact_last_applied`] cuts down).
/// Tools' and teams' annotations (descriptions, checksums, chart bookkeeping) are not read
/// once the early rules ran.
fn kept_annotation(key: &str) -> bool {
    let prefix = key.split_once('/').map_or("", |(p, _)| p);
    prefix == "palisade.dev"
        || ["kubernetes.io", "k8s.io"]
            .iter()
            .any(|d| prefix == *d || prefix.ends_with(&format!(".{d}")))
}

/// Drops the annotations no later rule reads ([`kept_annotation`]; a Secret keeps all of its
/// own): descriptions, checksums and tool bookkeeping are often the largest part of what is
/// left of an object once cut.
fn compact_annotations(obj: &mut palisade_core::Object) {
    if obj.kind == "Secret" {
        return;
    }
    if let Some(a) = obj
        .value_mut()
        .pointer_mut("/metadata/annotations")
        .and_then(serde_json::Value::as_object_mut)
    {
        a.retain(|k, _| kept_annotation(k));
    }
}

/// Cuts the `last-applied-configuration` annotation (a second copy of the object, on every
/// object `kubectl apply` wrote) down to the one field a later rule reads of it: the
/// `apiVersion` the client applied (the version rules). The annotation stays where it was
/// written, so a finding on it resolves as on the whole object.
fn compact_last_applied(obj: &mut palisade_core::Object) {
    let Some(v) = obj
        .value_mut()
        .pointer_mut("/metadata/annotations")
        .and_then(serde_json::Value::as_object_mut)
        .and_then(|a| a.get_mut(palisade_core::LAST_APPLIED))
    else {
        return;
    };
    let version = v
        .as_str()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .and_then(|applied| {
            applied
                .get("apiVersion")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        });
    *v = match version {
        Some(version) => {
            serde_json::Value::String(serde_json::json!({ "apiVersion": version }).to_string())
        }
        None => serde_json::Value::String(String::new()),
    };
}

impl Staged {
    /// The stages for the selected rules. `also_full`: kinds to keep whole beyond what the
    /// remaining rules read (a rollout preview evaluates every workload and Namespace).
    pub fn new(opts: &Options, also_full: &[&str]) -> Staged {
        let early: Vec<&'static dyn Rule> = palisade_rules::all()
            .iter()
            .copied()
            .filter(|r| is_selected(r.meta(), opts) && is_early(*r))
            .collect();
        let mut keep_full = Some(std::collections::HashSet::new());
        for r in selected_rules(opts) {
            if early.iter().any(|e| e.meta().id == r.meta().id) {
                continue;
            }
            for k in r.full_kinds() {
                if *k == "*" {
                    keep_full = None;
                } else if let Some(set) = keep_full.as_mut() {
                    set.insert((*k).to_owned());
                }
            }
        }
        if let Some(set) = keep_full.as_mut() {
            set.extend(also_full.iter().map(|k| (*k).to_owned()));
        }
        // What the built-in rules read of a workload is known; what a previewer, a verifier
        // or a rule loaded at run time reads is not.
        let compact_workloads = keep_full.is_some()
            && also_full.is_empty()
            && !selected_rules(opts).iter().any(|r| {
                opts.extra_rules
                    .0
                    .iter()
                    .any(|e| e.meta().id == r.meta().id)
            });
        Staged {
            early,
            keep_full,
            compact_workloads,
            spread_kinds: spread_kinds(),
        }
    }

    /// The rules run on each object as its file is read.
    pub fn early_rules(&self) -> &[&'static dyn Rule] {
        &self.early
    }

    /// Runs the early rules on the objects of one file (their ids are their indexes in
    /// `objects`; [`Staged::analyze`] is given them with the file's offset added), resolves
    /// each finding's location while the whole document is at hand, and cuts down the objects
    /// no remaining rule reads in full to their identity and metadata.
    pub fn check_file(
        &self,
        objects: &mut [palisade_core::Object],
        opts: &Options,
    ) -> Vec<Finding> {
        let profile = opts.profile();
        let version = opts.pss_version();
        let mut out = Vec::new();
        for (i, obj) in objects.iter_mut().enumerate() {
            for r in &self.early {
                let options = opts.policy.rule(r.meta().id).map(|c| &c.options);
                let mut cx = Context::new(r.meta(), options, profile)
                    .with_pss_version(version)
                    .with_today(opts.today)
                    .with_target_version(opts.target_version);
                cx.set_object(ObjectId(i));
                r.check(obj, &mut cx);
                for mut f in cx.take_findings() {
                    f.location = obj.locate(f.path.as_deref());
                    out.push(f);
                }
            }
            self.cut(obj);
        }
        out
    }

    /// Cuts an object down to what the remaining rules read (once the early rules judged
    /// it): its identity and metadata, unless some remaining rule reads its kind in full; a
    /// workload's containers to the fields those rules read.
    pub fn cut(&self, obj: &mut palisade_core::Object) {
        if self
            .keep_full
            .as_ref()
            .is_some_and(|k| !k.contains(&obj.kind))
        {
            obj.keep_metadata_only();
        } else if self.compact_workloads {
            compact_pod_template(obj, self.spread_kinds);
        }
        if self.compact_workloads {
            compact_annotations(obj);
            compact_last_applied(obj);
            // The positions of what was cut go too.
            obj.retain_spans();
        }
        // What is kept lives until the end of the scan, as its text: the rules that read it
        // parse the part they read again, one part at a time.
        obj.pack();
    }

    /// Runs the remaining rules over the inventory and applies the policy to their findings
    /// and to the early ones (`early`: [`Staged::check_file`]'s findings, their object ids
    /// made indexes in the inventory).
    pub fn analyze(
        &self,
        inventory: &mut Inventory,
        early: Vec<Finding>,
        input: InputSummary,
        opts: &Options,
    ) -> Report {
        let rules = selected_rules(opts);
        let (runnable, skipped) = runnable_rules(&rules, &input.unreadable);
        let rest: Vec<&'static dyn Rule> = runnable
            .into_iter()
            .filter(|r| !self.early.iter().any(|e| e.meta().id == r.meta().id))
            .collect();
        // A packed object is read by the rules that judge each object for them alone, and
        // the rules that relate objects read the workloads (the larger part of what is kept)
        // one at a time; what they keep unpacked (the smaller kinds they look up) is given back
        // once they ran.
        let late = run_rules(inventory, &rest, opts);
        inventory.release_values();
        let mut findings = early;
        findings.reserve_exact(late.len());
        findings.extend(late);
        let mut report = apply_policy(inventory, findings, &rules, input, opts);
        report.skipped_rules = skipped;
        report
    }
}

/// A built-in per-object rule whose verdict needs nothing but the object.
fn is_early(r: &dyn Rule) -> bool {
    r.meta().scope == Scope::Object && !r.reads_inventory()
}

/// The rules that can run, and those skipped because a kind they need was not read.
fn runnable_rules(
    rules: &[&'static dyn Rule],
    unreadable: &[UnreadableKind],
) -> (Vec<&'static dyn Rule>, Vec<SkippedRule>) {
    let skipped = skipped_rules(rules, unreadable);
    let runnable = rules
        .iter()
        .copied()
        .filter(|r| !skipped.iter().any(|s| s.rule_id == r.meta().id))
        .collect();
    (runnable, skipped)
}

/// [`analyze`], with the rules that relate objects to each other (inventory rules) run on each
/// partition of the inventory on its own: each partition (a list of object indexes) is taken
/// as one cluster, as `--cluster-boundary directory` takes each top-level directory. Per-object
/// rules, the policy and the report are as in [`analyze`].
pub fn analyze_partitioned(
    inventory: &Inventory,
    partitions: &[Vec<usize>],
    prepare: &dyn Fn(&Inventory),
    input: InputSummary,
    opts: &Options,
) -> Report {
    let rules = selected_rules(opts);
    let (runnable, skipped) = runnable_rules(&rules, &input.unreadable);
    let (object_rules, inventory_rules): (Vec<_>, Vec<_>) = runnable
        .iter()
        .copied()
        .partition(|r| r.meta().scope == Scope::Object);
    let mut findings = run_rules(inventory, &object_rules, opts);
    for part in partitions {
        let objects: Vec<palisade_core::Object> = part
            .iter()
            .map(|&i| inventory.objects()[i].clone())
            .collect();
        let sub = Inventory::new(objects);
        prepare(&sub);
        for mut f in run_rules(&sub, &inventory_rules, opts) {
            // Back to the object's place in the whole inventory.
            f.object = ObjectId(part[f.object.0]);
            findings.push(f);
        }
    }
    let mut report = apply_policy(inventory, findings, &rules, input, opts);
    report.skipped_rules = skipped;
    if report.notes.iter().any(|n| n.contains("whole cluster")) {
        let ids: Vec<&str> = inventory_rules.iter().map(|r| r.meta().id).collect();
        report.notes = vec![format!(
            "each of the {} top-level directories was taken as its own whole cluster by the rules that relate objects to each other ({}) (--cluster-boundary directory): objects in different directories are never related, and objects a cluster holds beyond its directory are not seen",
            partitions.len(),
            id_ranges(&ids)
        )];
    }
    report
}

/// The (rule, object) pairs the selected rules evaluate, per namespace (`None`: cluster-scoped
/// objects): the pairs a PolicyReport's summary counts, passing or not.
pub fn evaluations(
    inventory: &Inventory,
    opts: &Options,
) -> std::collections::BTreeMap<Option<String>, usize> {
    let rules = selected_rules(opts);
    let mut out = std::collections::BTreeMap::new();
    for o in inventory.objects() {
        let n = rules.iter().filter(|r| r.applies_to(o)).count();
        if n > 0 {
            // As a PolicyReport files it: a namespaced object without a namespace is in
            // `default`.
            let ns = match &o.namespace {
                Some(ns) => Some(ns.clone()),
                None if palisade_core::object::is_cluster_scoped(o.group(), &o.kind) => None,
                None => Some("default".to_owned()),
            };
            *out.entry(ns).or_insert(0) += n;
        }
    }
    out
}

/// Runs rules and returns their raw findings (no policy applied).
pub fn run_rules(
    inventory: &Inventory,
    rules: &[&'static dyn Rule],
    opts: &Options,
) -> Vec<Finding> {
    let profile = opts.profile();
    let version = opts.pss_version();
    let object_rules: Vec<_> = rules
        .iter()
        .filter(|r| r.meta().scope == Scope::Object)
        .collect();
    let options = |r: &dyn Rule| opts.policy.rule(r.meta().id).map(|c| &c.options);
    // A packed object of a kind the rules read is unpacked for them alone (then given back),
    // not kept unpacked in the inventory: the rules judge each object once.
    let check_object = |(i, obj): (usize, &palisade_core::Object)| {
        let mut out = Vec::new();
        let read = object_rules.iter().any(|r| r.meta().reads_kind(&obj.kind));
        let mut judge = |obj: &palisade_core::Object| {
            for r in &object_rules {
                let mut cx = Context::new(r.meta(), options(**r), profile)
                    .with_inventory(inventory)
                    .with_pss_version(version)
                    .with_today(opts.today)
                    .with_target_version(opts.target_version);
                cx.set_object(ObjectId(i));
                r.check(obj, &mut cx);
                out.extend(cx.take_findings());
            }
        };
        if read {
            obj.with_unpacked(judge);
        } else {
            judge(obj);
        }
        out
    };
    let inventory_rules: Vec<_> = rules
        .iter()
        .filter(|r| r.meta().scope == Scope::Inventory)
        .collect();
    let check_inventory = |r: &&&'static dyn Rule| {
        let mut cx = Context::new(r.meta(), options(**r), profile)
            .with_inventory(inventory)
            .with_pss_version(version)
            .with_today(opts.today)
            .with_target_version(opts.target_version);
        r.check_inventory(inventory, &mut cx);
        cx.take_findings()
    };
    // One object (an admission request): no hop to the thread pool and back.
    if inventory.len() <= 1 {
        let mut findings: Vec<Finding> = inventory
            .objects()
            .iter()
            .enumerate()
            .flat_map(check_object)
            .collect();
        findings.extend(inventory_rules.iter().flat_map(check_inventory));
        return findings;
    }
    // The inventory rules are independent of each other and of the per-object rules: they
    // run beside them, each on one thread. Findings keep their order: per-object findings
    // in object order, then each inventory rule's in rule order.
    let (mut findings, per_rule): (Vec<Finding>, Vec<Vec<Finding>>) = rayon::join(
        || {
            inventory
                .objects()
                .par_iter()
                .enumerate()
                .flat_map_iter(check_object)
                .collect()
        },
        || inventory_rules.par_iter().map(check_inventory).collect(),
    );
    findings.reserve(per_rule.iter().map(Vec::len).sum());
    findings.extend(per_rule.into_iter().flatten());
    findings
}

fn annotation_ignores(obj: &palisade_core::Object, rule: &palisade_core::RuleMeta) -> bool {
    obj.read_annotation(IGNORE_ANNOTATION).is_some_and(|v| {
        v.split(',')
            .map(str::trim)
            .any(|s| s.eq_ignore_ascii_case("all") || select::matches(s, rule))
    })
}

/// Applies severities, modes and exceptions to raw findings and builds the report.
pub fn apply_policy(
    inventory: &Inventory,
    mut findings: Vec<Finding>,
    rules: &[&'static dyn Rule],
    input: InputSummary,
    opts: &Options,
) -> Report {
    let policy = &opts.policy;
    let metas: Vec<_> = rules.iter().map(|r| r.meta()).collect();
    let mut expired_hits = vec![0usize; policy.exceptions.len()];
    // The same finding twice (an inventory rule reaching one object through two routes, or two
    // copies of an object in different files) is reported once.
    dedup_findings(&mut findings);
    let mut active = Vec::with_capacity(findings.len());
    let mut suppressed = Vec::new();
    // One identity per object, shared by its findings.
    let mut refs: Vec<Option<std::sync::Arc<palisade_core::ObjectRef>>> =
        vec![None; inventory.len()];
    // Taken from the back of the reversed list, so that the raw findings' memory is given back
    // as the report's grows (both at once would be the scan's peak).
    findings.reverse();
    while let Some(f) = findings.pop() {
        if findings.capacity() > 4096 && findings.len() < findings.capacity() / 8 * 7 {
            findings.shrink_to_fit();
        }
        let Some(meta) = metas.iter().find(|m| m.id == f.rule).copied() else {
            continue;
        };
        let obj = inventory.get(f.object);
        let ns = obj.namespace.as_deref();
        let severity = policy
            .rule(meta.id)
            .and_then(|c| c.severity)
            .or(f.severity)
            .unwrap_or(meta.severity);
        let mut suppression = exception_for(
            policy,
            meta,
            ns,
            &obj.kind,
            &obj.name,
            opts.today,
            &mut expired_hits,
        );
        if suppression.is_none()
            && policy.allow_annotation_exceptions
            && annotation_ignores(obj, meta)
        {
            suppression = Some(Suppression::Annotation {
                reason: obj.read_annotation(IGNORE_REASON_ANNOTATION),
            });
        }
        let rf = ReportFinding {
            rule_id: meta.id,
            rule_name: meta.name,
            severity,
            message: f.message,
            object: match refs.get_mut(f.object.0) {
                Some(slot) => slot
                    .get_or_insert_with(|| std::sync::Arc::new(obj.reference()))
                    .clone(),
                None => std::sync::Arc::new(obj.reference()),
            },
            location: f.location.or_else(|| obj.locate(f.path.as_deref())),
            path: f.path,
            fix: f.fix,
            mode: policy.mode(meta.id, ns),
            properties: f.properties,
            suppression: suppression.map(Box::new),
        };
        if rf.suppression.is_some() {
            suppressed.push(rf);
        } else {
            active.push(rf);
        }
    }
    let order = |a: &ReportFinding, b: &ReportFinding| {
        /// A finding's place in the report: where it is written, its object, its rule.
        type Key<'a> = (
            Option<(&'a std::sync::Arc<str>, u32, u32)>,
            &'a palisade_core::ObjectRef,
            &'a str,
        );
        fn key(f: &ReportFinding) -> Key<'_> {
            (
                f.location.as_ref().map(|l| (&l.file, l.line, l.column)),
                &f.object,
                f.rule_id,
            )
        }
        key(a).cmp(&key(b))
    };
    sort_in_place(&mut active, order);
    sort_in_place(&mut suppressed, order);
    let expired_exceptions = expired_exceptions(policy, opts.today, &expired_hits);
    let compliance = opts.framework.map(|f| {
        // A rule evaluated something when an object it applies to was scanned (and it was
        // not skipped for an unreadable kind).
        let evaluated = |id: &str| {
            rules
                .iter()
                .any(|r| r.meta().id == id && inventory.objects().iter().any(|o| r.applies_to(o)))
        };
        ComplianceSummary::compute(f, &metas, &active, &evaluated)
    });
    let notes = one_cluster_note(inventory, &metas).into_iter().collect();
    Report {
        findings: active,
        suppressed,
        expired_exceptions,
        errors: input.errors,
        warnings: input.warnings,
        stats: input.stats,
        notes,
        rules: metas,
        profile: Some(opts.profile()),
        pss_version: Some(opts.pss_version()),
        rollout: None,
        mode_preview: None,
        evaluations: None,
        compliance,
        node: None,
        unreadable: input.unreadable,
        skipped_rules: Vec::new(),
        events: None,
    }
}

/// Removes the findings equal to an earlier one (same rule, object, path and message), keeping
/// the first. The table holds indexes into `findings`, not copies or references of their keys
/// (a finding's path and message again, or four words of references per finding, would add
/// to the scan's peak).
fn dedup_findings(findings: &mut Vec<Finding>) {
    use std::hash::BuildHasher;
    type Key<'a> = (&'a str, ObjectId, Option<&'a str>, &'a str);
    fn key(f: &Finding) -> Key<'_> {
        (f.rule, f.object, f.path.as_deref(), f.message.as_str())
    }
    let hasher = std::collections::hash_map::RandomState::new();
    let mut seen: hashbrown::HashTable<usize> = hashbrown::HashTable::with_capacity(findings.len());
    let first: Vec<bool> = (0..findings.len())
        .map(|i| {
            let k = key(&findings[i]);
            let hash = hasher.hash_one(k);
            match seen.entry(
                hash,
                |&j| key(&findings[j]) == k,
                |&j| hasher.hash_one(key(&findings[j])),
            ) {
                hashbrown::hash_table::Entry::Occupied(_) => false,
                hashbrown::hash_table::Entry::Vacant(v) => {
                    v.insert(i);
                    true
                }
            }
        })
        .collect();
    drop(seen);
    let mut first = first.into_iter();
    findings.retain(|_| first.next().unwrap_or(true));
}

/// Sorts `items` by `order`, stably (equal items keep their order), without the scratch copy
/// of the items a stable sort allocates: their indexes are sorted (in parallel, the index the
/// last key), then the items are moved to their places along the permutation's cycles. At the
/// end of a large scan the findings are the largest thing alive, and a second copy of them
/// was the scan's peak.
fn sort_in_place<T: Sync>(items: &mut [T], order: impl Fn(&T, &T) -> std::cmp::Ordering + Sync) {
    let mut to: Vec<usize> = (0..items.len()).collect();
    to.par_sort_unstable_by(|&a, &b| order(&items[a], &items[b]).then(a.cmp(&b)));
    // `to[i]`: the index of the item that belongs at `i`. Each cycle is followed once, and
    // every place visited is marked done (`to[i] == i`).
    for start in 0..items.len() {
        let mut i = start;
        while to[i] != start {
            let from = to[i];
            items.swap(i, from);
            to[i] = i;
            i = from;
        }
        to[i] = i;
    }
}

/// The assumption the rules that relate objects to each other (inventory-scope rules: RBAC
/// bindings to roles and service accounts, NetworkPolicies to pods, workloads to
/// disruption budgets, the cluster's admission and node set-up...) make about manifest
/// files: that together they are the whole cluster. Objects read from a cluster or a
/// snapshot have no source file and need no such note.
fn one_cluster_note(
    inventory: &Inventory,
    metas: &[&'static palisade_core::RuleMeta],
) -> Option<String> {
    let files: std::collections::BTreeSet<&str> = inventory
        .objects()
        .iter()
        .filter_map(|o| o.source.as_ref().map(|s| &*s.file))
        .collect();
    let ids: Vec<&str> = metas
        .iter()
        .filter(|m| m.scope == Scope::Inventory)
        .map(|m| m.id)
        .collect();
    if files.is_empty() || ids.is_empty() {
        return None;
    }
    let rules = id_ranges(&ids);
    Some(if files.len() == 1 {
        format!(
            "the scanned file was taken as a whole cluster by the rules that relate objects to each other ({rules}): objects the cluster holds beyond this file are not seen; scan the cluster (--cluster) or a snapshot to judge a real cluster"
        )
    } else {
        format!(
            "the {} scanned files were taken as one whole cluster by the rules that relate objects to each other ({rules}): objects in different files are assumed to share a cluster, and objects the cluster holds beyond these files are not seen; scan the cluster (--cluster) or a snapshot to judge a real cluster",
            files.len()
        )
    })
}

/// Rule ids with runs of consecutive numbers shortened: `RBAC003-RBAC005, NET001`.
fn id_ranges(ids: &[&str]) -> String {
    let split = |id: &str| {
        let at = id.find(|c: char| c.is_ascii_digit()).unwrap_or(id.len());
        (id[..at].to_owned(), id[at..].parse::<u32>().ok())
    };
    let mut sorted: Vec<&str> = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut out: Vec<String> = Vec::new();
    let mut run: Option<(&str, &str, String, u32)> = None; // first, last, prefix, last number
    let close = |run: Option<(&str, &str, String, u32)>, out: &mut Vec<String>| {
        if let Some((first, last, _, _)) = run {
            out.push(if first == last {
                first.to_owned()
            } else {
                format!("{first}-{last}")
            });
        }
    };
    for id in sorted {
        let (prefix, n) = split(id);
        match (&mut run, n) {
            (Some((_, last, p, ln)), Some(n)) if *p == prefix && n == *ln + 1 => {
                *last = id;
                *ln = n;
            }
            (_, Some(n)) => {
                close(run.take(), &mut out);
                run = Some((id, id, prefix, n));
            }
            (_, None) => {
                close(run.take(), &mut out);
                out.push(id.to_owned());
            }
        }
    }
    close(run, &mut out);
    out.join(", ")
}

/// The first unexpired exception of the policy that covers this rule and object, as a
/// suppression; expired exceptions that would have covered it are counted in `expired_hits`
/// (indexed like `policy.exceptions`). Shared by scan findings, host checks and alerts.
pub(crate) fn exception_for(
    policy: &Policy,
    meta: &palisade_core::RuleMeta,
    namespace: Option<&str>,
    kind: &str,
    name: &str,
    today: Date,
    expired_hits: &mut [usize],
) -> Option<Suppression> {
    for ex in &policy.exceptions {
        if !ex.covers(meta, namespace, kind, name) {
            continue;
        }
        if ex.expired(today) {
            expired_hits[ex.index] += 1;
            continue;
        }
        return Some(exception_suppression(ex));
    }
    None
}

/// The policy's exceptions expired on `today`, with the findings each would have covered.
pub(crate) fn expired_exceptions(
    policy: &Policy,
    today: Date,
    expired_hits: &[usize],
) -> Vec<ExpiredException> {
    policy
        .exceptions
        .iter()
        .filter(|e| e.expired(today))
        .map(|e| ExpiredException {
            exception: e.clone(),
            findings: expired_hits[e.index],
        })
        .collect()
}

pub(crate) fn exception_suppression(ex: &Exception) -> Suppression {
    Suppression::Exception {
        index: ex.index,
        reason: ex.reason.clone(),
        owner: ex.owner.clone(),
        ticket: ex.ticket.clone(),
        expires: ex.expires.map(|d| d.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The in-place sort gives the order of the standard library's stable sort.
        #[test]
        fn sort_in_place_is_a_stable_sort(items in proptest::collection::vec((0u8..6, 0u16..1000), 0..300)) {
            let mut ours = items.clone();
            sort_in_place(&mut ours, |a, b| a.0.cmp(&b.0));
            let mut std_sorted = items;
            std_sorted.sort_by_key(|a| a.0);
            proptest::prop_assert_eq!(ours, std_sorted);
        }
    }

    fn finding(rule: &'static str, object: usize, path: &str, message: &str) -> Finding {
        Finding {
            rule,
            object: ObjectId(object),
            path: Some(path.to_owned()),
            message: message.to_owned(),
            fix: None,
            severity: None,
            properties: Default::default(),
            location: None,
        }
    }

    #[test]
    fn duplicate_findings_are_dropped_and_the_first_is_kept() {
        let mut f = vec![
            finding("A", 0, "/x", "m"),
            finding("A", 1, "/x", "m"),
            finding("A", 0, "/x", "m"),
            finding("B", 0, "/x", "m"),
            finding("A", 0, "/y", "m"),
            finding("A", 0, "/x", "other"),
            finding("A", 0, "/x", "m"),
        ];
        f[0].severity = Some(palisade_core::Severity::High);
        dedup_findings(&mut f);
        let keys: Vec<_> = f
            .iter()
            .map(|f| {
                (
                    f.rule,
                    f.object.0,
                    f.path.as_deref().unwrap(),
                    f.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("A", 0, "/x", "m"),
                ("A", 1, "/x", "m"),
                ("B", 0, "/x", "m"),
                ("A", 0, "/y", "m"),
                ("A", 0, "/x", "other"),
            ]
        );
        assert_eq!(f[0].severity, Some(palisade_core::Severity::High));
    }

    #[test]
    fn rule_id_ranges() {
        assert_eq!(
            id_ranges(&["RBAC004", "NET001", "RBAC003", "RBAC005", "RBAC010", "NET002", "SEC007"]),
            "NET001-NET002, RBAC003-RBAC005, RBAC010, SEC007"
        );
        assert_eq!(id_ranges(&["X"]), "X");
    }

    #[test]
    fn files_are_noted_as_one_cluster() {
        let opts = Options::new(today("2027-01-31"));
        let inv = inventory(PRIVILEGED);
        let r = analyze(&inv, InputSummary::default(), &opts);
        assert_eq!(r.notes.len(), 1, "{:?}", r.notes);
        assert!(r.notes[0].contains("RBAC011") && r.notes[0].contains("NET001"));
        // Objects read from a cluster or a snapshot carry no source file: no note.
        let from_cluster = Inventory::new(
            inv.into_objects()
                .into_iter()
                .map(|mut o| {
                    o.source = None;
                    o
                })
                .collect(),
        );
        assert!(analyze(&from_cluster, InputSummary::default(), &opts)
            .notes
            .is_empty());
        // Nor when no rule relates objects.
        let mut per_object = Options::new(today("2027-01-31"));
        per_object.select = vec!["POD001".into()];
        let inv = inventory(PRIVILEGED);
        assert!(analyze(&inv, InputSummary::default(), &per_object)
            .notes
            .is_empty());
    }
    use palisade_core::SpanIndex;

    fn policy(yaml: &str) -> Policy {
        let docs = palisade_load::yaml::parse_documents(yaml, 1, true).unwrap();
        let metas = palisade_rules::registry::metas();
        Policy::from_value(&docs[0].value, &docs[0].spans, "palisade.yaml", &metas).unwrap()
    }

    fn inventory(yaml: &str) -> Inventory {
        let l = palisade_load::load_str("t.yaml", yaml);
        assert!(l.errors.is_empty());
        Inventory::new(l.objects)
    }

    const PRIVILEGED: &str = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: node-exporter\n  namespace: monitoring\n  annotations: {palisade.dev/ignore: \"POD001\"}\nspec:\n  template:\n    spec:\n      containers:\n      - name: e\n        image: e:1.0\n        securityContext: {privileged: true}\n";

    fn today(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn policy_errors(yaml: &str) -> Vec<String> {
        let docs = palisade_load::yaml::parse_documents(yaml, 1, true).unwrap();
        match Policy::from_value(&docs[0].value, &docs[0].spans, "p.yaml", catalogue::all()) {
            Ok(_) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn policy_names_host_checks_and_detection_rules() {
        let ok = "select: [ALL]\nignore: [DET011, \"1.2\", tls.kubelet]\nrules:\n  1.2.1: {severity: low}\n  DET001: {severity: critical, enabled: true}\n  tls.cert-expiry: {enabled: false}\nexceptions:\n- rules: [\"4.2.1\", DET002, \"cis:1.1\"]\n  match: {kind: Node, name: cp-*}\n  reason: hardened by the image\n";
        assert_eq!(policy_errors(ok), Vec::<String>::new());
        let bad = "ignore: [1.2, DET999]\nrules:\n  9.9.9: {severity: low}\n";
        let errors = policy_errors(bad);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("in quotes (\"1.2\")"), "{errors:?}");
        assert!(errors[1].contains("unknown rule id `9.9.9`"), "{errors:?}");
        let errors = policy_errors("ignore: [DET999]\n");
        assert!(
            errors[0].contains("`DET999` in ignore selects no rule"),
            "{errors:?}"
        );
    }

    #[test]
    fn exceptions_expire() {
        let inv = inventory(PRIVILEGED);
        let mut opts = Options::new(today("2027-01-31"));
        opts.select = vec!["POD001".into()];
        opts.policy = policy("exceptions:\n- rules: [POD001]\n  match: {namespace: monitoring, kind: DaemonSet, name: node-*}\n  reason: needs host access\n  owner: team-observability\n  expires: 2027-01-31\n");
        let r = analyze(&inv, InputSummary::default(), &opts);
        assert_eq!(
            (
                r.findings.len(),
                r.suppressed.len(),
                r.expired_exceptions.len()
            ),
            (0, 1, 0)
        );
        opts.today = today("2027-02-01");
        let r = analyze(&inv, InputSummary::default(), &opts);
        assert_eq!(
            (
                r.findings.len(),
                r.suppressed.len(),
                r.expired_exceptions.len()
            ),
            (1, 0, 1)
        );
        assert_eq!(r.expired_exceptions[0].findings, 1);
    }

    #[test]
    fn annotations_count_only_when_allowed() {
        let inv = inventory(PRIVILEGED);
        let mut opts = Options::new(today("2026-01-01"));
        opts.select = vec!["POD001".into()];
        let r = analyze(&inv, InputSummary::default(), &opts);
        assert_eq!((r.findings.len(), r.suppressed.len()), (1, 0));
        opts.policy = policy("allowAnnotationExceptions: true\n");
        let r = analyze(&inv, InputSummary::default(), &opts);
        assert_eq!((r.findings.len(), r.suppressed.len()), (0, 1));
        assert_eq!(r.summary().suppressed_by_annotation, 1);
    }

    #[test]
    fn the_most_specific_mode_wins() {
        // (rule, namespace) > rule > namespace > default.
        let p = policy(
            "defaultMode: audit\nrules:\n  POD001: {mode: warn}\nnamespaces:\n  team-a:\n    mode: warn\n    rules:\n      POD001: deny\n      POD004: {mode: audit}\n  team-b: {mode: deny}\n",
        );
        assert_eq!(p.mode("POD001", Some("team-a")), palisade_core::Mode::Deny);
        assert_eq!(p.mode("POD001", Some("team-b")), palisade_core::Mode::Warn);
        assert_eq!(p.mode("POD004", Some("team-a")), palisade_core::Mode::Audit);
        assert_eq!(p.mode("POD002", Some("team-a")), palisade_core::Mode::Warn);
        assert_eq!(p.mode("POD002", Some("team-b")), palisade_core::Mode::Deny);
        assert_eq!(p.mode("POD002", None), palisade_core::Mode::Audit);
        // Unknown rule ids and bad modes are errors with their line.
        let docs = palisade_load::yaml::parse_documents(
            "namespaces:\n  a:\n    rules:\n      NOPE001: deny\n      POD001: forbid\n",
            1,
            true,
        )
        .unwrap();
        let metas = palisade_rules::registry::metas();
        let errs =
            Policy::from_value(&docs[0].value, &docs[0].spans, "p.yaml", &metas).unwrap_err();
        let text: Vec<String> = errs
            .iter()
            .map(|e| format!("{}: {}", e.line, e.message))
            .collect();
        assert!(
            text.iter()
                .any(|e| e.starts_with("4:") && e.contains("NOPE001")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|e| e.starts_with("5:") && e.contains("forbid")),
            "{text:?}"
        );
    }

    #[test]
    fn selection_profile_and_overrides() {
        let inv = inventory(PRIVILEGED);
        let mut opts = Options::new(today("2026-01-01"));
        opts.policy = policy("profile: baseline\nrules:\n  POD001: {severity: low, mode: deny}\nnamespaces:\n  monitoring: {mode: warn}\n");
        let ids: Vec<_> = selected_rules(&opts).iter().map(|r| r.meta().id).collect();
        assert!(
            ids.contains(&"POD001") && !ids.contains(&"POD002"),
            "{ids:?}"
        );
        let r = analyze(&inv, InputSummary::default(), &opts);
        let f = r.findings.iter().find(|f| f.rule_id == "POD001").unwrap();
        assert_eq!(f.severity, palisade_core::Severity::Low);
        assert_eq!(f.mode, palisade_core::Mode::Deny);
        let other = r.findings.iter().find(|f| f.rule_id != "POD001").unwrap();
        assert_eq!(other.mode, palisade_core::Mode::Warn);
        assert_eq!(f.location.as_ref().unwrap().line, 13);
        opts.ignore = vec!["pod".into()];
        assert!(selected_rules(&opts)
            .iter()
            .all(|r| r.meta().family() != "POD"));
        opts.policy.rules.get_mut("POD001").unwrap().enabled = Some(false);
        opts.ignore.clear();
        assert!(selected_rules(&opts)
            .iter()
            .all(|r| r.meta().id != "POD001"));
        let _ = SpanIndex::default();
    }
}
