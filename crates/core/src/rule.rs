//! The rule interface: metadata, per-object and inventory-wide checks, and the context that
//! collects findings.

use crate::finding::{Finding, Severity};
use crate::inventory::{Inventory, ObjectId};
use crate::object::Object;
use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt;
use std::str::FromStr;

/// Pod Security Standards level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PssLevel {
    /// No restriction.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Current pod hardening best practice.
    Restricted,
}

impl fmt::Display for PssLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PssLevel::Privileged => "privileged",
            PssLevel::Baseline => "baseline",
            PssLevel::Restricted => "restricted",
        })
    }
}

impl FromStr for PssLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "privileged" => Ok(PssLevel::Privileged),
            "baseline" => Ok(PssLevel::Baseline),
            "restricted" => Ok(PssLevel::Restricted),
            _ => Err(format!(
                "unknown profile `{s}` (expected one of: privileged, baseline, restricted)"
            )),
        }
    }
}

/// A Pod Security Standards policy version: `latest` or `v1.N`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PssVersion {
    /// `v1.N`.
    Minor(u32),
    /// The newest behaviour.
    #[default]
    Latest,
}

impl fmt::Display for PssVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PssVersion::Latest => f.write_str("latest"),
            PssVersion::Minor(m) => write!(f, "v1.{m}"),
        }
    }
}

impl FromStr for PssVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(PssVersion::Latest);
        }
        s.strip_prefix("v1.")
            .and_then(|m| m.parse::<u32>().ok())
            .filter(|m| s.len() == 3 + m.to_string().len())
            .map(PssVersion::Minor)
            .ok_or_else(|| format!("unknown Pod Security Standards version `{s}` (expected `latest` or `v1.N`, e.g. v1.29)"))
    }
}

impl Serialize for PssVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What a rule looks at: one object at a time or the whole inventory (the rules of
/// `palisade scan`), a host (the checks of `palisade node`), or one audit event at a time
/// (the detection rules of `palisade detect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// [`Rule::check`] runs once per object, in parallel.
    Object,
    /// [`Rule::check_inventory`] runs once per scan, over every object.
    Inventory,
    /// A host check of `palisade node` (files, flags and processes of a node).
    Host,
    /// A detection rule of `palisade detect`, evaluated on audit events.
    Event,
}

impl Scope {
    /// The command that evaluates rules of this scope: `scan`, `node` or `detect`.
    pub fn command(self) -> &'static str {
        match self {
            Scope::Object | Scope::Inventory => "scan",
            Scope::Host => "node",
            Scope::Event => "detect",
        }
    }

    /// How the documentation describes the scope.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Object => "each object",
            Scope::Inventory => "the whole scan (inventory rule)",
            Scope::Host => "a host (palisade node)",
            Scope::Event => "each audit event (palisade detect)",
        }
    }
}

/// The type of a rule option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum OptionKind {
    /// A list of strings.
    StringList,
    /// A boolean.
    Bool,
    /// A non-negative integer.
    Integer,
    /// A severity: `critical`, `high`, `medium`, `low` or `info`.
    Severity,
}

/// An option a rule accepts under `rules.<ID>` in `palisade.yaml`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RuleOption {
    /// The key.
    pub name: &'static str,
    /// The value's type.
    pub kind: OptionKind,
    /// What it does.
    pub doc: &'static str,
}

/// Everything about a rule except its logic.
#[derive(Debug, Serialize)]
pub struct RuleMeta {
    /// Stable id: family prefix and three digits (`POD001`).
    pub id: &'static str,
    /// Kebab-case name of the risky pattern (`privileged-container`).
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line.
    pub summary: &'static str,
    /// The documentation in Markdown (`## What it checks`, `## Why it matters`,
    /// `## How to fix`, `## Example`, `## Use instead`). No `## References`: that section is
    /// generated from [`RuleMeta::references`] ([`RuleMeta::doc_markdown`]).
    #[serde(skip)]
    pub doc: &'static str,
    /// References as `framework:id` (`cis:5.2.2`, `nsa:pod-security`, `nist:4.4.3`,
    /// `owasp:K01`, `pss:privileged`, `book:ops.pod-security-policy`).
    pub references: &'static [&'static str],
    /// Free tags selectable with `--select` (`pss`, `workload`...).
    pub tags: &'static [&'static str],
    /// The Pod Security Standards level the rule belongs to, if it is a pod security control:
    /// rules of the restricted level do not run under the baseline profile.
    pub level: Option<PssLevel>,
    /// Whether the rule is per object or inventory-wide.
    pub scope: Scope,
    /// The kinds whose objects the rule reads, directly or through the inventory (`*`: any).
    /// Objects of kinds no selected rule reads are loaded as metadata only.
    pub kinds: &'static [&'static str],
    /// Options accepted in the configuration.
    pub options: &'static [RuleOption],
    /// The family, when the id does not start with it: host checks are named by their CIS
    /// id or section (`1.2.1`, `tls.cert-expiry`) and belong to `CP`, `NODE` or `VER`.
    /// `None`: the id's letters.
    pub family_name: Option<&'static str>,
}

impl RuleMeta {
    /// Whether the rule reads objects of `kind` (its kinds name it, or `*`).
    pub fn reads_kind(&self, kind: &str) -> bool {
        self.kinds.contains(&"*") || self.kinds.contains(&kind)
    }

    /// The documentation as Markdown (doc-comment indentation removed), followed by the
    /// `## References` section generated from [`RuleMeta::references`].
    pub fn doc_markdown(&self) -> String {
        let mut out = String::with_capacity(self.doc.len());
        for line in self.doc.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        let references = crate::compliance::references_markdown(self);
        if !references.is_empty() {
            while out.ends_with("\n\n") {
                out.pop();
            }
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&references);
        }
        out
    }

    /// The rule family: the id's letters (`POD`), or the family a host check belongs to.
    pub fn family(&self) -> &'static str {
        self.family_name
            .unwrap_or_else(|| self.id.trim_end_matches(|c: char| c.is_ascii_digit()))
    }
}

/// A check. Implementations are unit structs in the rule catalogue; they inspect and report,
/// and never print or decide exit codes.
pub trait Rule: Send + Sync {
    /// The rule's metadata.
    fn meta(&self) -> &'static RuleMeta;

    /// Checks one object (rules of [`Scope::Object`]).
    fn check(&self, _object: &Object, _cx: &mut Context<'_>) {}

    /// Checks the whole inventory (rules of [`Scope::Inventory`]).
    fn check_inventory(&self, _inventory: &Inventory, _cx: &mut Context<'_>) {}

    /// True when [`Rule::check`] reads the inventory (another object, a view derived from
    /// the whole scan, data the front-end attached to it) besides the object it checks. A
    /// per-object rule that does not is evaluated on each object as its file is read, before
    /// the inventory exists; one that does runs once the inventory is complete.
    fn reads_inventory(&self) -> bool {
        !self.object_local()
    }

    /// True when the rule's verdict on an object depends on that object alone (and on what
    /// Kubernetes defines, such as the bootstrap `cluster-admin` role), so that an admission
    /// request, which carries one object, gets the verdict a scan gives. Every per-object
    /// rule is; an inventory rule is when it only ever reports an object for what that object
    /// says itself (a binding to `cluster-admin`, a NetworkPolicy admitting every address),
    /// never for something missing elsewhere in the cluster.
    fn object_local(&self) -> bool {
        self.meta().scope == Scope::Object
    }

    /// What admission needs to evaluate this rule on the one object a request carries: the
    /// object alone (every object-local rule), the rest of the cluster from the webhook's
    /// watch cache, or a whole-cluster scan.
    fn admission_needs(&self) -> AdmissionNeeds {
        if self.object_local() {
            AdmissionNeeds::Object
        } else {
            AdmissionNeeds::ScanOnly
        }
    }

    /// True when, for a rule that needs the cluster at admission, its verdict on an object
    /// depends only on the objects of that object's namespace (and the Namespace itself; a
    /// reviewed Namespace stands for its own namespace): a disruption budget, a
    /// NetworkPolicy, a ServiceAccount of the same namespace. The webhook then reads only
    /// that namespace from its cache. RBAC rules are not: a ClusterRoleBinding grants in
    /// every namespace.
    fn admission_namespace_scoped(&self) -> bool {
        false
    }

    /// True when the rule also reviews DELETE requests at admission, with the object being
    /// deleted (the request's `oldObject`) as its object and the request's operation and
    /// `oldObject` in [`Inventory::request`]: Gatekeeper constraints and
    /// ValidatingAdmissionPolicies, which judge deletions as their webhook and the API server
    /// do. Built-in rules judge what is created or changed, never deletions.
    fn admission_reviews_delete(&self) -> bool {
        false
    }

    /// The audit annotations the rule records for an admission request on `object` (the
    /// request is [`Inventory::request`]), beside its findings: a ValidatingAdmissionPolicy's
    /// `auditAnnotations`, keyed `POLICY/KEY` as the API server writes them. Evaluated at
    /// admission only, and only for rules that apply to the object; empty by default.
    fn admission_audit_annotations(
        &self,
        _object: &Object,
        _inventory: &Inventory,
    ) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The kinds whose objects the rule reads beyond their identity and metadata: what the
    /// loader must build in full for it. The rule's `kinds` by default; a rule that reads only
    /// `apiVersion`, `kind` and `metadata` of the objects it applies to (and the whole of a
    /// few other kinds) narrows it, so that large objects it only names (a
    /// CustomResourceDefinition's schema) are not kept.
    fn full_kinds(&self) -> &'static [&'static str] {
        self.meta().kinds
    }

    /// True when the rule has something to judge in this object: an object of a kind it
    /// reads, by default; a rule about one control-plane component only a Pod running it. A
    /// compliance control none of whose rules applies to any scanned object is *not
    /// evaluated*, not passed.
    fn applies_to(&self, object: &Object) -> bool {
        self.meta().reads_kind(&object.kind)
    }
}

/// What admission needs to give a rule's verdict on one object ([`Rule::admission_needs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AdmissionNeeds {
    /// The object alone.
    Object,
    /// The object and what the cluster holds of the kinds the rule reads (the role a binding
    /// grants, the policies that select a workload): the webhook's watch cache, with the
    /// object under review in place of its stored version.
    Cluster,
    /// Like [`AdmissionNeeds::Cluster`], for a rule that reports an object for something
    /// *missing* elsewhere (a NetworkPolicy, a disruption budget, a ServiceAccount). The
    /// missing object is commonly created by the same `kubectl apply`, right after, so at
    /// admission such a finding warns and never denies.
    ClusterAbsence,
    /// A fact about the whole cluster (its version, whether it runs a policy engine): only a
    /// scan answers it.
    ScanOnly,
}

impl AdmissionNeeds {
    /// How the documentation describes it.
    pub fn describe(self) -> &'static str {
        match self {
            AdmissionNeeds::Object => "the object alone",
            AdmissionNeeds::Cluster => "the object and the webhook's cluster cache (`--cluster-cache`)",
            AdmissionNeeds::ClusterAbsence => {
                "the object and the webhook's cluster cache (`--cluster-cache`); it warns at admission, never denies (it reports something missing, which the same apply may create next)"
            }
            AdmissionNeeds::ScanOnly => "not evaluated at admission (a fact about the whole cluster)",
        }
    }
}

static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();

/// What a rule sees while it runs: its options, the profile, and the sink for findings.
pub struct Context<'a> {
    inventory: Option<&'a Inventory>,
    rule: &'static RuleMeta,
    options: &'a Map<String, Value>,
    profile: PssLevel,
    pss_version: PssVersion,
    object: ObjectId,
    findings: Vec<Finding>,
    today: Option<jiff::civil::Date>,
    target_version: Option<u32>,
}

impl<'a> Context<'a> {
    /// A context for one rule.
    pub fn new(
        rule: &'static RuleMeta,
        options: Option<&'a Map<String, Value>>,
        profile: PssLevel,
    ) -> Context<'a> {
        Context {
            inventory: None,
            rule,
            options: options.unwrap_or_else(|| EMPTY.get_or_init(Map::new)),
            profile,
            pss_version: PssVersion::Latest,
            object: ObjectId(0),
            findings: Vec::new(),
            today: None,
            target_version: None,
        }
    }

    /// Sets the day the scan evaluates dates against (end-of-life checks).
    pub fn with_today(mut self, today: jiff::civil::Date) -> Self {
        self.today = Some(today);
        self
    }

    /// The day the scan evaluates dates against, when the front-end gave one (rules that
    /// need a date fall back to a fixed, documented day so results stay reproducible).
    pub fn today(&self) -> Option<jiff::civil::Date> {
        self.today
    }

    /// Sets the Kubernetes minor version (`1.N`) an upgrade targets: the rules about
    /// deprecated and removed APIs judge the objects' `apiVersion` against it.
    pub fn with_target_version(mut self, minor: Option<u32>) -> Self {
        self.target_version = minor;
        self
    }

    /// The Kubernetes minor version an upgrade targets, when the front-end gave one
    /// (`--target-version`, or the version after the scanned cluster's).
    pub fn target_version(&self) -> Option<u32> {
        self.target_version
    }

    /// Gives per-object rules access to the other objects of the scan, for rules that look at
    /// related objects (a pod's ServiceAccount, say). Admission has no inventory.
    pub fn with_inventory(mut self, inventory: &'a Inventory) -> Self {
        self.inventory = Some(inventory);
        self
    }

    /// The inventory, when the scan has one.
    pub fn inventory(&self) -> Option<&'a Inventory> {
        self.inventory
    }

    /// Sets the object that [`Context::report`] attributes findings to.
    pub fn set_object(&mut self, id: ObjectId) {
        self.object = id;
    }

    /// Sets the Pod Security Standards version POD rules evaluate.
    pub fn with_pss_version(mut self, version: PssVersion) -> Self {
        self.pss_version = version;
        self
    }

    /// The Pod Security Standards version POD rules evaluate.
    pub fn pss_version(&self) -> PssVersion {
        self.pss_version
    }

    /// The profile the scan runs with.
    pub fn profile(&self) -> PssLevel {
        self.profile
    }

    /// A rule option from the configuration.
    pub fn option(&self, name: &str) -> Option<&'a Value> {
        self.options.get(name)
    }

    /// A non-negative integer option, when set.
    pub fn integer(&self, name: &str) -> Option<u64> {
        self.options.get(name).and_then(Value::as_u64)
    }

    /// A severity option, when set (the configuration has validated it).
    pub fn severity(&self, name: &str) -> Option<crate::finding::Severity> {
        self.options
            .get(name)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    }

    /// A string-list option (empty when unset).
    pub fn string_list(&self, name: &str) -> Vec<&'a str> {
        self.options
            .get(name)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// Reports a finding on the current object.
    pub fn report(
        &mut self,
        path: impl Into<Option<String>>,
        message: impl Into<String>,
    ) -> &mut Finding {
        let object = self.object;
        self.report_on(object, path, message)
    }

    /// Reports a finding on any object (inventory rules).
    pub fn report_on(
        &mut self,
        object: ObjectId,
        path: impl Into<Option<String>>,
        message: impl Into<String>,
    ) -> &mut Finding {
        self.findings.push(Finding {
            rule: self.rule.id,
            object,
            path: path.into(),
            message: message.into(),
            fix: None,
            severity: None,
            properties: Default::default(),
            location: None,
        });
        self.findings.last_mut().expect("just pushed")
    }

    /// Takes the findings reported so far, each without the spare capacity its text was built
    /// with ([`Finding::compact`]): a large scan keeps every finding until its report is
    /// written.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        let mut out = std::mem::take(&mut self.findings);
        for f in &mut out {
            f.compact();
        }
        out
    }
}
