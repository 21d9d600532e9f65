//! Parsing and evaluating one AdmissionReview: a pure, synchronous function of the request
//! body, the policy and the day, so that it can be unit-tested, fuzzed and run on a blocking
//! thread. Nothing here does I/O.

use crate::cluster_view::{ClusterView, NotReady};
use crate::error::ReviewError;
use jiff::civil::Date;
use kube_core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use kube_core::DynamicObject;
use palisade_analyze::{apply_policy, run_rules, selected_rules, InputSummary, Options};
use palisade_core::{
    AdmissionNeeds, Inventory, Mode, Object, ReportFinding, ReviewRequest, Rule, SpanIndex,
};
use palisade_supply::signatures::SignatureEvidence;
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The key of the audit annotation that lists audit-mode findings. The API server prefixes
/// it with the webhook's name (`validate.palisade.dev/findings` with the installed
/// configuration): a key holding a `/` itself would be rejected as an annotation name.
pub const AUDIT_ANNOTATION: &str = "findings";

/// The key of the audit annotation that records the failures of ValidatingAdmissionPolicy
/// bindings whose `validationActions` contain `Audit`, in the format Kubernetes records under
/// `validation.policy.admission.k8s.io/validation_failure`: a JSON array of objects with
/// `message`, `policy`, `binding`, `expressionIndex` and `validationActions`. The API server
/// prefixes it with the webhook's name (`validate.palisade.dev/validation_failure`).
pub const VALIDATION_FAILURE_ANNOTATION: &str = "validation_failure";

/// The key of the audit annotation that holds the `auditAnnotations` of the
/// ValidatingAdmissionPolicies that matched the request: a JSON object from each key the API
/// server would write (`POLICY/KEY`) to its value (the distinct values of several bindings
/// joined with `, `, as the API server joins them). One key, because a webhook's keys are
/// prefixed with its name and a second `/` would make the API server drop the annotation.
pub const POLICY_ANNOTATIONS_ANNOTATION: &str = "policy-annotations";

/// The API versions of `AdmissionReview` this webhook answers (in the request's version).
pub const REVIEW_API_VERSIONS: &[&str] = &["admission.k8s.io/v1", "admission.k8s.io/v1beta1"];

/// The users the kube-controller-manager acts as: its own identity, or (with
/// `--use-service-account-credentials`, kubeadm's default) one service account per
/// controller in kube-system.
fn is_controller_user(username: &str) -> bool {
    username == "system:kube-controller-manager"
        || username
            .strip_prefix("system:serviceaccount:kube-system:")
            .is_some_and(|sa| sa.ends_with("-controller"))
}

/// The workload kinds whose controllers create the objects they own.
const OWNER_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "ReplicationController",
];

/// The kind of the object's controlling owner, when it is a workload.
fn controlling_workload(obj: &DynamicObject) -> Option<String> {
    obj.metadata
        .owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true) && OWNER_KINDS.contains(&o.kind.as_str()))
        .map(|o| format!("{} {}", o.kind, o.name))
}

/// What the webhook answered, for metrics and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Not evaluated: another kind, a subresource (except a Pod's `ephemeralcontainers`),
    /// CONNECT, DELETE (unless a loaded policy reviews deletions), or no object.
    Skipped,
    /// Evaluated, no active finding.
    Allowed,
    /// Allowed; only audit-mode findings (returned as an audit annotation).
    Audited,
    /// Allowed with warnings.
    Warned,
    /// Rejected: at least one deny-mode finding.
    Denied,
}

impl Verdict {
    /// A lower-case name, used as a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Skipped => "skipped",
            Verdict::Allowed => "allowed",
            Verdict::Audited => "audited",
            Verdict::Warned => "warned",
            Verdict::Denied => "denied",
        }
    }
}

/// One finding as the webhook acted on it.
#[derive(Clone, Debug)]
pub struct Decided {
    /// The finding, as the analysis facade reported it.
    pub finding: ReportFinding,
    /// The mode applied: the policy's, except that on UPDATE a deny-mode violation that the
    /// old object already had is downgraded to a warning when
    /// [`EvaluatorOptions::deny_only_new_on_update`] is set.
    pub mode: Mode,
    /// True when the old object (UPDATE) already had this violation.
    pub preexisting: bool,
    /// The workload whose controller created this object (a ReplicaSet's Pod, a
    /// Deployment's ReplicaSet): its deny-mode findings are warnings, because the workload
    /// itself was the object admitted (see [`Evaluator::review`]).
    pub created_for: Option<String>,
    /// True for a rule that reports something missing elsewhere in the cluster
    /// ([`AdmissionNeeds::ClusterAbsence`]): its deny-mode findings are warnings here.
    pub absence: bool,
}

/// The result of one review.
#[derive(Debug)]
pub struct Outcome {
    /// The response review to send back (`response` set, in the request's apiVersion).
    pub review: AdmissionReview<DynamicObject>,
    /// The verdict.
    pub verdict: Verdict,
    /// The findings acted on (empty when skipped).
    pub findings: Vec<Decided>,
    /// The rules that needed the cluster cache and could not run because it has not synced
    /// (or cannot read) a kind they read; the response says so (see
    /// [`EvaluatorOptions::failure_policy`]).
    pub not_evaluated: Vec<&'static str>,
    /// The request's operation, kind and namespace/name, for logs.
    pub subject: Subject,
}

/// What a review was about, for logs.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    /// The request uid.
    pub uid: String,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: &'static str,
    /// The kind of the object.
    pub kind: String,
    /// The subresource, if any.
    pub sub_resource: Option<String>,
    /// The namespace, if any.
    pub namespace: Option<String>,
    /// The name (may be empty for `generateName`).
    pub name: String,
    /// Whether the request is a dry run.
    pub dry_run: bool,
}

/// Evaluator settings beyond the policy.
#[derive(Clone, Debug)]
pub struct EvaluatorOptions {
    /// On UPDATE, deny only the violations the update introduces: a deny-mode finding the
    /// old object already had is returned as a warning instead (so that scaling or
    /// relabelling an existing workload is not blocked by an older violation).
    pub deny_only_new_on_update: bool,
    /// What to do when a rule in deny mode needs the cluster cache and the cache cannot
    /// answer (not synced yet, or a kind it cannot read): `Fail` denies, as the API server
    /// does when a webhook with `failurePolicy: Fail` cannot answer; `Ignore` admits with a
    /// warning naming the rules not evaluated. Either way the response says so.
    pub failure_policy: FailurePolicy,
}

impl Default for EvaluatorOptions {
    fn default() -> Self {
        EvaluatorOptions {
            deny_only_new_on_update: true,
            failure_policy: FailurePolicy::Fail,
        }
    }
}

/// The webhook's `failurePolicy`, applied by the webhook itself when the cluster cache
/// cannot answer for a rule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailurePolicy {
    /// Deny when a deny-mode rule cannot be evaluated.
    #[default]
    Fail,
    /// Admit, with a warning.
    Ignore,
}

impl std::str::FromStr for FailurePolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "Fail" => Ok(FailurePolicy::Fail),
            "Ignore" => Ok(FailurePolicy::Ignore),
            _ => Err(format!(
                "unknown failure policy `{s}` (expected Fail or Ignore)"
            )),
        }
    }
}

impl std::fmt::Display for FailurePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FailurePolicy::Fail => "Fail",
            FailurePolicy::Ignore => "Ignore",
        })
    }
}

/// Evaluates AdmissionReviews with the analysis facade: the per-object rules the policy
/// selects, then the policy's modes, severities and expiring exceptions.
pub struct Evaluator {
    /// Options for the last day seen (exceptions expire by day).
    options: Mutex<Arc<Options>>,
    rules: Vec<&'static dyn Rule>,
    /// The kinds those rules read (`None`: every kind).
    kinds: Option<HashSet<&'static str>>,
    /// The selected rules that need the rest of the cluster (run only with a view).
    cluster_rules: Vec<&'static dyn Rule>,
    /// The object-local rules that also review DELETE requests
    /// ([`Rule::admission_reviews_delete`]: Gatekeeper constraints, ValidatingAdmissionPolicies).
    delete_rules: Vec<&'static dyn Rule>,
    /// The cluster cache, when the webhook keeps one.
    view: Option<Arc<dyn ClusterView>>,
    settings: EvaluatorOptions,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator")
            .field("rules", &self.rule_ids())
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Evaluator {
    /// An evaluator for these analysis options (their `today` is replaced per request).
    pub fn new(options: Options, settings: EvaluatorOptions) -> Evaluator {
        // Admission sees one object at a time: without a cluster cache, the rules whose
        // verdict depends on that object alone run (every per-object rule, and the inventory
        // rules that report an object for what it says itself); with one
        // ([`Evaluator::with_cluster_view`]), also the rules that read other objects. Facts
        // about the whole cluster are left to `palisade scan`.
        let selected = selected_rules(&options);
        let rules: Vec<&'static dyn Rule> = selected
            .iter()
            .copied()
            .filter(|r| r.admission_needs() == AdmissionNeeds::Object)
            .collect();
        let cluster_rules: Vec<&'static dyn Rule> = selected
            .iter()
            .copied()
            .filter(|r| {
                matches!(
                    r.admission_needs(),
                    AdmissionNeeds::Cluster | AdmissionNeeds::ClusterAbsence
                )
            })
            .collect();
        let delete_rules = rules
            .iter()
            .copied()
            .filter(|r| r.admission_reviews_delete())
            .collect();
        let mut evaluator = Evaluator {
            options: Mutex::new(Arc::new(options)),
            rules,
            delete_rules,
            kinds: None,
            cluster_rules,
            view: None,
            settings,
        };
        evaluator.kinds = evaluator.kinds_read();
        evaluator
    }

    /// Evaluates the rules that need the rest of the cluster too, reading it from `view`
    /// (the webhook's watch cache) with the object under review overlaid.
    pub fn with_cluster_view(mut self, view: Arc<dyn ClusterView>) -> Evaluator {
        self.view = Some(view);
        self.kinds = self.kinds_read();
        self
    }

    /// The rules run at admission.
    fn active_rules(&self) -> impl Iterator<Item = &'static dyn Rule> + '_ {
        let cluster: &[&'static dyn Rule] = if self.view.is_some() {
            &self.cluster_rules
        } else {
            &[]
        };
        self.rules.iter().chain(cluster).copied()
    }

    fn kinds_read(&self) -> Option<HashSet<&'static str>> {
        let mut kinds = HashSet::new();
        for r in self.active_rules() {
            for k in r.meta().kinds {
                if *k == "*" {
                    return None;
                }
                kinds.insert(*k);
            }
        }
        Some(kinds)
    }

    /// The kinds the cluster cache must hold: those the cluster-reading rules read.
    pub fn cluster_kinds(&self) -> HashSet<&'static str> {
        self.cluster_rules
            .iter()
            .flat_map(|r| r.meta().kinds.iter().copied())
            .filter(|k| *k != "*")
            .collect()
    }

    /// The ids of the selected rules that need the rest of the cluster: evaluated only with
    /// a cluster view.
    pub fn cluster_rule_ids(&self) -> Vec<&'static str> {
        self.cluster_rules.iter().map(|r| r.meta().id).collect()
    }

    /// The kinds evaluated at admission, with their API group where Palisade knows it: every
    /// kind a selected rule reads (`None`: every kind).
    pub fn evaluated_kinds(&self) -> Option<Vec<(&'static str, &'static str)>> {
        let kinds = self.kinds.as_ref()?;
        let mut out: Vec<(&'static str, &'static str)> = palisade_core::resources::RESOURCES
            .iter()
            .filter(|r| kinds.contains(r.kind))
            .map(|r| (r.group(), r.kind))
            .collect();
        out.sort();
        Some(out)
    }

    fn evaluates(&self, group: &str, kind: &str) -> bool {
        let Some(kinds) = &self.kinds else {
            return true;
        };
        if !kinds.contains(kind) {
            return false;
        }
        // A known kind is matched with its group (a `Pod` of another API group is not one);
        // a kind name two APIs share (Kubernetes' and Calico's `NetworkPolicy`) is evaluated
        // for each of them.
        let mut known = palisade_core::resources::RESOURCES
            .iter()
            .filter(|r| r.kind == kind)
            .peekable();
        if known.peek().is_none() {
            return true;
        }
        known.any(|r| r.group() == group || legacy(r.group(), group))
    }

    /// The ids of the rules evaluated at admission.
    pub fn rule_ids(&self) -> Vec<&'static str> {
        self.active_rules().map(|r| r.meta().id).collect()
    }

    fn options_for(&self, today: Date) -> Arc<Options> {
        let mut guard = self.options.lock().unwrap_or_else(|e| e.into_inner());
        if guard.today != today {
            let mut o = (**guard).clone();
            o.today = today;
            *guard = Arc::new(o);
        }
        guard.clone()
    }

    /// Parses and evaluates one AdmissionReview body. `Err` only for a body that is not an
    /// AdmissionReview request (the HTTP layer answers 400); every real request gets a
    /// well-formed response that echoes its uid.
    pub fn review(&self, body: &[u8], today: Date) -> Result<Outcome, ReviewError> {
        self.review_with(body, today, None)
    }

    /// [`Evaluator::review`] with the signature verifications of the object's images
    /// (IMG007 reads them; see [`crate::images`]).
    pub fn review_with(
        &self,
        body: &[u8],
        today: Date,
        signatures: Option<&SignatureEvidence>,
    ) -> Result<Outcome, ReviewError> {
        let review: AdmissionReview<DynamicObject> = if mentions_secret(body) {
            // A Secret's values are removed before the request is read any further: nothing
            // after this point (rules, findings, logs, metrics) can see them.
            let mut v: Value = serde_json::from_slice(body).map_err(ReviewError::Json)?;
            redact_secrets_in_review(&mut v);
            serde_json::from_value(v).map_err(ReviewError::Json)?
        } else {
            serde_json::from_slice(body).map_err(ReviewError::Json)?
        };
        if review.types.kind != "AdmissionReview" {
            return Err(ReviewError::NotAReview(review.types.kind));
        }
        if !REVIEW_API_VERSIONS.contains(&review.types.api_version.as_str()) {
            return Err(ReviewError::ApiVersion(review.types.api_version));
        }
        let req: AdmissionRequest<DynamicObject> =
            review.try_into().map_err(|_| ReviewError::NoRequest)?;
        if req.uid.is_empty() {
            return Err(ReviewError::NoUid);
        }
        let subject = Subject {
            uid: req.uid.clone(),
            operation: match req.operation {
                Operation::Create => "CREATE",
                Operation::Update => "UPDATE",
                Operation::Delete => "DELETE",
                Operation::Connect => "CONNECT",
            },
            kind: req.kind.kind.clone(),
            sub_resource: req.sub_resource.clone().filter(|s| !s.is_empty()),
            namespace: req.namespace.clone().filter(|s| !s.is_empty()),
            name: req.name.clone(),
            dry_run: req.dry_run,
        };
        let response = AdmissionResponse::from(&req);
        let skip = |response: AdmissionResponse, subject| Outcome {
            review: response.into_review(),
            verdict: Verdict::Skipped,
            findings: Vec::new(),
            not_evaluated: Vec::new(),
            subject,
        };
        let evaluated_kind = self.evaluates(&req.kind.group, &req.kind.kind);
        // A DELETE is reviewed only by the rules that judge deletions (Gatekeeper constraints
        // and ValidatingAdmissionPolicies), with the object being deleted (`oldObject`) as
        // their object, as Gatekeeper's webhook does; built-in rules never judge one.
        let delete = req.operation == Operation::Delete;
        let reviews_delete = !self.delete_rules.is_empty()
            || (self.view.is_some()
                && self
                    .cluster_rules
                    .iter()
                    .any(|r| r.admission_reviews_delete()));
        let evaluated_op = matches!(req.operation, Operation::Create | Operation::Update)
            || (delete && reviews_delete);
        // Subresources carry other objects (Scale, exec options) or status; the exception
        // is a Pod's ephemeral containers, which are added through their own subresource
        // and carry the whole Pod: a privileged debug container must not slip in there.
        let evaluated_sub = match subject.sub_resource.as_deref() {
            None => true,
            Some(sub) => sub == "ephemeralcontainers" && req.kind.kind == "Pod",
        };
        if !evaluated_kind || !evaluated_op || !evaluated_sub {
            return Ok(skip(response, subject));
        }
        let reviewed = if delete {
            req.old_object.as_ref()
        } else {
            req.object.as_ref()
        };
        let Some(object) = reviewed else {
            return Ok(skip(response, subject));
        };
        let local: &[&'static dyn Rule] = if delete {
            &self.delete_rules
        } else {
            &self.rules
        };
        let opts = self.options_for(today);
        let new_object = to_object(object, &req)?;
        // What rules that read the request (Gatekeeper templates' `input.review`) see.
        let request = review_request(&req);
        // The policies' own audit annotations (`auditAnnotations`), collected beside the
        // findings of the object under review.
        let mut annotations: Vec<(String, String)> = Vec::new();
        let mut new = self.evaluate(
            local,
            &new_object,
            &request,
            &opts,
            Some(&mut annotations),
            signatures,
        );
        // The rules that read the rest of the cluster, from the cache with this object in
        // place of its stored version.
        let cluster: Vec<&'static dyn Rule> = match &self.view {
            Some(_) => self
                .cluster_rules
                .iter()
                .copied()
                .filter(|r| r.applies_to(&new_object) && (!delete || r.admission_reviews_delete()))
                .collect(),
            None => Vec::new(),
        };
        let mut not_ready: Vec<NotReady> = Vec::new();
        let mut cluster_ok = false;
        if !cluster.is_empty() {
            match self.evaluate_cluster(
                &new_object,
                &cluster,
                &request,
                &opts,
                Some(&mut annotations),
            ) {
                Ok(fs) => {
                    new.extend(fs);
                    cluster_ok = true;
                }
                Err(nr) => not_ready = nr,
            }
        }
        // The violations the old object already had (only needed when one would deny).
        let old_keys: HashSet<(&'static str, Option<String>, String)> = match (
            &req.operation,
            &req.old_object,
            self.settings.deny_only_new_on_update,
        ) {
            (Operation::Update, Some(old), true) if new.iter().any(|f| f.mode == Mode::Deny) => {
                match to_object(old, &req) {
                    Ok(old) => {
                        let mut fs =
                            self.evaluate(&self.rules, &old, &request, &opts, None, signatures);
                        if cluster_ok {
                            fs.extend(
                                self.evaluate_cluster(&old, &cluster, &request, &opts, None)
                                    .unwrap_or_default(),
                            );
                        }
                        fs.into_iter()
                            .map(|f| (f.rule_id, f.path, f.message))
                            .collect()
                    }
                    Err(_) => HashSet::new(),
                }
            }
            _ => HashSet::new(),
        };
        // An object a controller creates for its workload (a ReplicaSet's Pods, a
        // Deployment's ReplicaSets, a CronJob's Jobs) follows the workload's verdict: the
        // workload was the object admitted (or it predates the policy), so a deny here would
        // only make the controller fail forever (`FailedCreate`) on scale-up or rollout. Its
        // violations come back as warnings. Only the controllers' own identities get this:
        // anyone else creating an object with an ownerReference is evaluated as usual.
        let created_for = (req.operation == Operation::Create
            && is_controller_user(req.user_info.username.as_deref().unwrap_or("")))
        .then(|| controlling_workload(object))
        .flatten();
        let absence: HashSet<&'static str> = cluster
            .iter()
            .filter(|r| r.admission_needs() == AdmissionNeeds::ClusterAbsence)
            .map(|r| r.meta().id)
            .collect();
        let findings: Vec<Decided> = new
            .into_iter()
            .map(|f| {
                let preexisting =
                    old_keys.contains(&(f.rule_id, f.path.clone(), f.message.clone()));
                let is_absence = absence.contains(f.rule_id);
                // A ValidatingAdmissionPolicy that could not be evaluated under
                // `failurePolicy: Ignore` admits, as the API server would; the error is
                // still returned, as a warning.
                let ignored_error = f.properties.get("evaluationError").map(String::as_str)
                    == Some("true")
                    && f.properties.get("failurePolicy").map(String::as_str) == Some("Ignore");
                let mode = if (preexisting || created_for.is_some() || is_absence || ignored_error)
                    && f.mode == Mode::Deny
                {
                    Mode::Warn
                } else {
                    f.mode
                };
                Decided {
                    finding: f,
                    mode,
                    preexisting,
                    created_for: created_for.clone(),
                    absence: is_absence,
                }
            })
            .collect();
        let unevaluated = Unevaluated::new(&cluster, &not_ready, &new_object, &opts);
        let (response, verdict) = respond(
            response,
            &subject,
            &findings,
            &annotations,
            &unevaluated,
            self.settings.failure_policy,
        );
        Ok(Outcome {
            review: response.into_review(),
            verdict,
            findings,
            not_evaluated: unevaluated.rules.iter().map(|(id, _)| *id).collect(),
            subject,
        })
    }

    /// Runs object-local rules over one object; returns the active (unsuppressed) findings,
    /// and adds the rules' audit annotations to `annotations` when given.
    fn evaluate(
        &self,
        rules: &[&'static dyn Rule],
        object: &Object,
        request: &ReviewRequest,
        opts: &Options,
        annotations: Option<&mut Vec<(String, String)>>,
        signatures: Option<&SignatureEvidence>,
    ) -> Vec<ReportFinding> {
        let inventory = Inventory::new(vec![object.clone()]).with_request(request.clone());
        if let Some(s) = signatures {
            let s = s.clone();
            inventory.derived(move |_| s);
        }
        if let Some(out) = annotations {
            collect_annotations(rules, object, &inventory, out);
        }
        let raw = run_rules(&inventory, rules, opts);
        apply_policy(&inventory, raw, rules, InputSummary::default(), opts).findings
    }

    /// Runs rules that read the rest of the cluster over the cached objects of the kinds
    /// they read, with `object` in place of its stored version; returns the active findings
    /// about `object` (what this request can change), or the kinds the cache cannot answer
    /// for.
    fn evaluate_cluster(
        &self,
        object: &Object,
        rules: &[&'static dyn Rule],
        request: &ReviewRequest,
        opts: &Options,
        mut annotations: Option<&mut Vec<(String, String)>>,
    ) -> Result<Vec<ReportFinding>, Vec<NotReady>> {
        let Some(view) = &self.view else {
            return Ok(Vec::new());
        };
        // The rules that read only the object's namespace get only that namespace (much
        // less to copy and judge in a large cluster); the others get the whole cluster.
        let (scoped, wide): (Vec<&'static dyn Rule>, Vec<&'static dyn Rule>) =
            rules.iter().partition(|r| r.admission_namespace_scoped());
        let namespace = if object.kind == "Namespace" && object.group().is_empty() {
            object.name.clone()
        } else {
            object
                .namespace
                .clone()
                .unwrap_or_else(|| "default".to_owned())
        };
        let mut out = Vec::new();
        let mut not_ready = Vec::new();
        for (rules, ns) in [(scoped, Some(namespace.as_str())), (wide, None)] {
            if rules.is_empty() {
                continue;
            }
            match self.evaluate_over(
                view.as_ref(),
                object,
                &rules,
                ns,
                request,
                opts,
                annotations.as_deref_mut(),
            ) {
                Ok(fs) => out.extend(fs),
                Err(nr) => not_ready.extend(nr),
            }
        }
        if not_ready.is_empty() {
            Ok(out)
        } else {
            not_ready.sort_by(|a, b| a.kind.cmp(&b.kind));
            not_ready.dedup();
            Err(not_ready)
        }
    }

    /// [`Evaluator::evaluate_cluster`] for one group of rules, over one namespace or the
    /// whole cluster.
    #[allow(clippy::too_many_arguments)]
    fn evaluate_over(
        &self,
        view: &dyn ClusterView,
        object: &Object,
        rules: &[&'static dyn Rule],
        namespace: Option<&str>,
        request: &ReviewRequest,
        opts: &Options,
        annotations: Option<&mut Vec<(String, String)>>,
    ) -> Result<Vec<ReportFinding>, Vec<NotReady>> {
        let kinds: HashSet<&'static str> = rules
            .iter()
            .flat_map(|r| r.meta().kinds.iter().copied())
            .filter(|k| *k != "*")
            .collect();
        let mut objects = match namespace {
            Some(ns) => view.objects_in(&kinds, ns)?,
            None => view.objects(&kinds)?,
        };
        // The object takes the place of its stored version (the cache's order is kept: some
        // rules report a namespace-wide finding on the first object they meet there).
        let same = |o: &Object| {
            !object.name.is_empty()
                && o.kind == object.kind
                && o.namespace == object.namespace
                && o.name == object.name
                && o.group() == object.group()
        };
        let at = match objects.iter().position(same) {
            Some(i) => {
                objects[i] = object.clone();
                let mut j = 0;
                objects.retain(|o| {
                    j += 1;
                    j - 1 == i || !same(o)
                });
                i
            }
            None => {
                objects.push(object.clone());
                objects.len() - 1
            }
        };
        let id = palisade_core::ObjectId(at);
        let inventory = Inventory::new(objects).with_request(request.clone());
        if let Some(out) = annotations {
            collect_annotations(rules, object, &inventory, out);
        }
        let raw: Vec<_> = run_rules(&inventory, rules, opts)
            .into_iter()
            .filter(|f| f.object == id)
            .collect();
        Ok(apply_policy(&inventory, raw, rules, InputSummary::default(), opts).findings)
    }
}

/// Adds the audit annotations of the rules that apply to `object` (see
/// [`Rule::admission_audit_annotations`]).
fn collect_annotations(
    rules: &[&'static dyn Rule],
    object: &Object,
    inventory: &Inventory,
    out: &mut Vec<(String, String)>,
) {
    for r in rules.iter().filter(|r| r.applies_to(object)) {
        out.extend(r.admission_audit_annotations(object, inventory));
    }
}

/// The `auditAnnotations` values by key, as the API server publishes them: one value per
/// key, the distinct values of several bindings (or parameter objects) joined with `, `.
fn joined_annotations(annotations: &[(String, String)]) -> serde_json::Map<String, Value> {
    let mut by_key: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (k, v) in annotations {
        let values = by_key.entry(k.as_str()).or_default();
        if !values.contains(&v.as_str()) {
            values.push(v.as_str());
        }
    }
    by_key
        .into_iter()
        .map(|(k, vs)| (k.to_owned(), Value::String(vs.join(", "))))
        .collect()
}

/// The entry Kubernetes records in `validation.policy.admission.k8s.io/validation_failure`
/// for a finding of a ValidatingAdmissionPolicy binding whose `validationActions` contain
/// `Audit`: a violation, or an evaluation error under `failurePolicy: Fail` (under `Ignore`
/// the API server admits and records nothing). `None` for any other finding.
fn validation_failure(f: &ReportFinding) -> Option<Value> {
    let prop = |k: &str| f.properties.get(k).map(String::as_str);
    let (policy, binding, actions) = (
        prop("policy")?,
        prop("binding")?,
        prop("validationActions")?,
    );
    let actions: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
    if !actions.contains(&"Audit") {
        return None;
    }
    let index = if prop("evaluationError") == Some("true") {
        if prop("failurePolicy") != Some("Fail") {
            return None;
        }
        prop("expressionIndex")?
    } else {
        prop("validation")?
    };
    Some(serde_json::json!({
        "message": f.message,
        "policy": policy,
        "binding": binding,
        "expressionIndex": index.parse::<u64>().ok()?,
        "validationActions": actions,
    }))
}

/// The request as rules that read it (Gatekeeper templates' `input.review`) see it.
fn review_request(req: &AdmissionRequest<DynamicObject>) -> ReviewRequest {
    ReviewRequest {
        operation: match req.operation {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
        .to_owned(),
        user_info: serde_json::to_value(&req.user_info).unwrap_or(Value::Null),
        old_object: req
            .old_object
            .as_ref()
            .and_then(|o| serde_json::to_value(o).ok()),
        dry_run: req.dry_run,
        namespace: req.namespace.clone().filter(|n| !n.is_empty()),
    }
}

/// The object of a request as the rules read it.
fn to_object(
    object: &DynamicObject,
    req: &AdmissionRequest<DynamicObject>,
) -> Result<Object, ReviewError> {
    let mut value = serde_json::to_value(object).map_err(ReviewError::Json)?;
    fill_identity(&mut value, req);
    Object::from_value(value, None, SpanIndex::default()).map_err(ReviewError::NotAnObject)
}

/// The rules a review could not evaluate because the cluster cache could not answer, with
/// the mode each has for the object.
struct Unevaluated {
    rules: Vec<(&'static str, Mode)>,
    reason: String,
}

impl Unevaluated {
    fn new(
        rules: &[&'static dyn Rule],
        not_ready: &[NotReady],
        object: &Object,
        opts: &Options,
    ) -> Unevaluated {
        if not_ready.is_empty() {
            return Unevaluated {
                rules: Vec::new(),
                reason: String::new(),
            };
        }
        let ns = object.namespace.as_deref();
        let rules = rules
            .iter()
            .filter(|r| {
                r.meta()
                    .kinds
                    .iter()
                    .any(|k| not_ready.iter().any(|n| n.kind == *k))
            })
            .map(|r| {
                let mode = match opts.policy.mode(r.meta().id, ns) {
                    // A rule that reports something missing never denies at admission.
                    Mode::Deny if r.admission_needs() == AdmissionNeeds::ClusterAbsence => {
                        Mode::Warn
                    }
                    m => m,
                };
                (r.meta().id, mode)
            })
            .collect();
        let reason = not_ready
            .iter()
            .map(|n| format!("{} ({})", n.kind, n.reason))
            .collect::<Vec<_>>()
            .join(", ");
        Unevaluated { rules, reason }
    }

    fn ids(&self, pick: impl Fn(Mode) -> bool) -> Vec<&'static str> {
        self.rules
            .iter()
            .filter(|(_, m)| pick(*m))
            .map(|(id, _)| *id)
            .collect()
    }

    fn describe(&self, ids: &[&str]) -> String {
        format!(
            "{} not evaluated: the webhook's cluster cache cannot answer for {}",
            ids.join(", "),
            self.reason
        )
    }
}

/// True when the body may hold a Secret (a cheap scan before any parsing).
fn mentions_secret(body: &[u8]) -> bool {
    body.windows(8).any(|w| w == b"\"Secret\"")
}

/// Redacts the values of the request's `object` and `oldObject` when they are Secrets.
fn redact_secrets_in_review(review: &mut Value) {
    let Some(req) = review.get_mut("request") else {
        return;
    };
    for field in ["object", "oldObject"] {
        if let Some(obj) = req.get_mut(field) {
            let is_secret = obj.get("kind").and_then(Value::as_str) == Some("Secret")
                && obj.get("apiVersion").and_then(Value::as_str) == Some("v1");
            if is_secret {
                palisade_core::redact_secret(obj);
            }
        }
    }
}

/// `extensions` is the legacy group of the apps kinds.
fn legacy(group: &str, request_group: &str) -> bool {
    // Calico's `crd.projectcalico.org/v1` objects hold the `projectcalico.org/v3` policies in
    // a Kubernetes datastore (the webhook is registered for the v3 API; a request for the CRDs
    // is evaluated alike when a configuration sends one).
    (group == "apps" && request_group == "extensions")
        || (group == "projectcalico.org" && request_group == "crd.projectcalico.org")
}

/// The API server sends objects as stored; fill what a rule or an exception needs that may
/// be missing: type meta (from the request kind) and the namespace (from the request).
fn fill_identity(value: &mut Value, req: &AdmissionRequest<DynamicObject>) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    if !map.get("apiVersion").is_some_and(Value::is_string) {
        let gv = if req.kind.group.is_empty() {
            req.kind.version.clone()
        } else {
            format!("{}/{}", req.kind.group, req.kind.version)
        };
        map.insert("apiVersion".into(), Value::String(gv));
    }
    if !map.get("kind").is_some_and(Value::is_string) {
        map.insert("kind".into(), Value::String(req.kind.kind.clone()));
    }
    if let Some(ns) = req.namespace.as_deref().filter(|s| !s.is_empty()) {
        let meta = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            let missing = meta
                .get("namespace")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty);
            if missing {
                meta.insert("namespace".into(), Value::String(ns.to_owned()));
            }
        }
    }
}

/// One line per finding: `POD001 privileged-container at /spec/...: message Fix: ...`.
pub fn describe(f: &ReportFinding) -> String {
    let mut s = format!("{} {}", f.rule_id, f.rule_name);
    if let Some(path) = &f.path {
        s.push_str(" at ");
        s.push_str(path);
    }
    s.push_str(": ");
    s.push_str(&f.message);
    if let Some(fix) = &f.fix {
        s.push_str(" Fix: ");
        s.push_str(fix);
    }
    s
}

/// The key of the audit annotation that lists the audit-mode rules the cluster cache could
/// not answer for.
pub const NOT_EVALUATED_ANNOTATION: &str = "not-evaluated";

fn respond(
    mut response: AdmissionResponse,
    subject: &Subject,
    findings: &[Decided],
    annotations: &[(String, String)],
    unevaluated: &Unevaluated,
    failure_policy: FailurePolicy,
) -> (AdmissionResponse, Verdict) {
    if !annotations.is_empty() {
        response.audit_annotations.insert(
            POLICY_ANNOTATIONS_ANNOTATION.to_owned(),
            Value::Object(joined_annotations(annotations)).to_string(),
        );
    }
    let failures: Vec<Value> = findings
        .iter()
        .filter_map(|d| validation_failure(&d.finding))
        .collect();
    if !failures.is_empty() {
        response.audit_annotations.insert(
            VALIDATION_FAILURE_ANNOTATION.to_owned(),
            Value::Array(failures).to_string(),
        );
    }
    let denied: Vec<&Decided> = findings.iter().filter(|d| d.mode == Mode::Deny).collect();
    let warned: Vec<&Decided> = findings.iter().filter(|d| d.mode == Mode::Warn).collect();
    let audited: Vec<&Decided> = findings.iter().filter(|d| d.mode == Mode::Audit).collect();
    // Rules the cache could not answer for: a deny-mode one follows the failure policy.
    let fail_closed = if failure_policy == FailurePolicy::Fail {
        unevaluated.ids(|m| m == Mode::Deny)
    } else {
        Vec::new()
    };
    let unevaluated_warn = unevaluated
        .ids(|m| m == Mode::Warn || (m == Mode::Deny && failure_policy == FailurePolicy::Ignore));
    let unevaluated_audit = unevaluated.ids(|m| m == Mode::Audit);
    if !unevaluated_audit.is_empty() {
        response.audit_annotations.insert(
            NOT_EVALUATED_ANNOTATION.to_owned(),
            unevaluated.describe(&unevaluated_audit),
        );
    }
    if !audited.is_empty() {
        let list: Vec<Value> = audited
            .iter()
            .map(|d| {
                serde_json::json!({
                    "rule": d.finding.rule_id,
                    "severity": d.finding.severity.as_str(),
                    "message": d.finding.message,
                })
            })
            .collect();
        response
            .audit_annotations
            .insert(AUDIT_ANNOTATION.to_owned(), Value::Array(list).to_string());
    }
    if !warned.is_empty() || !unevaluated_warn.is_empty() {
        let mut warnings: Vec<String> = warned
            .iter()
            .map(|d| {
                let mut w = format!("palisade: {}", describe(&d.finding));
                if d.preexisting {
                    w.push_str(" (already present before this update; denied for new objects)");
                } else if let (Some(owner), Mode::Deny) = (&d.created_for, d.finding.mode) {
                    w.push_str(&format!(
                        " (created by a controller for {owner}, whose own admission decides)"
                    ));
                } else if d.absence && d.finding.mode == Mode::Deny {
                    w.push_str(
                        " (reports something missing elsewhere in the cluster, which the same apply may create next: a warning at admission, never a denial)",
                    );
                }
                w
            })
            .collect();
        if !unevaluated_warn.is_empty() {
            warnings.push(format!(
                "palisade: {}",
                unevaluated.describe(&unevaluated_warn)
            ));
        }
        response.warnings = Some(warnings);
    }
    if denied.is_empty() && fail_closed.is_empty() {
        let verdict = if !warned.is_empty() || !unevaluated_warn.is_empty() {
            Verdict::Warned
        } else if !audited.is_empty() {
            Verdict::Audited
        } else {
            Verdict::Allowed
        };
        return (response, verdict);
    }
    let target = match &subject.namespace {
        Some(ns) => format!("{} {}/{}", subject.kind, ns, subject.name),
        None => format!("{} {}", subject.kind, subject.name),
    };
    let mut message = if denied.is_empty() {
        format!("palisade denied {target}:")
    } else {
        format!(
            "palisade denied {target}: {} violation{} of rules in deny mode:",
            denied.len(),
            if denied.len() == 1 { "" } else { "s" }
        )
    };
    for d in &denied {
        message.push_str("\n- ");
        message.push_str(&describe(&d.finding));
    }
    if !fail_closed.is_empty() {
        message.push_str("\n- ");
        message.push_str(&unevaluated.describe(&fail_closed));
        message.push_str(" (deny-mode rules; the webhook's failure policy is Fail)");
    }
    let mut response = response.deny(message);
    response.result.code = 403;
    response.result.reason = "Forbidden".to_owned();
    (response, Verdict::Denied)
}

#[cfg(test)]
mod secret_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_in_requests_are_redacted_before_anything_reads_them() {
        let secret = |v: &str| {
            json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "s", "namespace": "a", "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration":
                        json!({"stringData": {"p": v}}).to_string()}},
                "data": {"p": "aHVudGVyMg=="}, "stringData": {"q": v}})
        };
        let mut review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "u", "object": secret("hunter2-new"), "oldObject": secret("hunter2-old")}});
        assert!(mentions_secret(review.to_string().as_bytes()));
        redact_secrets_in_review(&mut review);
        let text = review.to_string();
        for v in ["hunter2", "aHVudGVyMg"] {
            assert!(!text.contains(v), "{text}");
        }
        assert_eq!(
            review["request"]["object"]["data"]["p"],
            palisade_core::REDACTED
        );
        // Other kinds are left as they are.
        let mut cm = json!({"request": {"object": {"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}}}});
        redact_secrets_in_review(&mut cm);
        assert_eq!(cm["request"]["object"]["data"]["k"], "v");
    }
}
