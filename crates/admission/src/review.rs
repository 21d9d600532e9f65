//! Parsing and evaluating one AdmissionReview: a pure, synchronous function of the request
//! body, the policy and the day, so that it can be unit-tested, fuzzed and run on a blocking
//! thread. Nothing here does I/O.

use crate::error::ReviewError;
use jiff::civil::Date;
use kube_core::admission::{AdmissionRequest, AdmissionResponse, AdmissionReview, Operation};
use kube_core::DynamicObject;
use palisade_analyze::{apply_policy, run_rules, selected_rules, InputSummary, Options};
use palisade_core::{Inventory, Mode, Object, ReportFinding, ReviewRequest, Rule, SpanIndex};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// The key of the audit annotation that lists audit-mode findings. The API server prefixes
/// it with the webhook's name (`validate.palisade.dev/findings` with the installed
/// configuration): a key holding a `/` itself would be rejected as an annotation name.
pub const AUDIT_ANNOTATION: &str = "findings";

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
    /// DELETE or CONNECT, or no object.
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
}

impl Default for EvaluatorOptions {
    fn default() -> Self {
        EvaluatorOptions {
            deny_only_new_on_update: true,
        }
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
        // Admission sees one object at a time: the rules whose verdict depends on that
        // object alone run (every per-object rule, and the inventory rules that report an
        // object for what it says itself); the rules that need the rest of the cluster (an
        // absent NetworkPolicy or disruption budget, RBAC escalation paths) are left to
        // `palisade scan`.
        let rules: Vec<&'static dyn Rule> = selected_rules(&options)
            .into_iter()
            .filter(|r| r.object_local())
            .collect();
        let kinds = if rules.iter().any(|r| r.meta().kinds.contains(&"*")) {
            None
        } else {
            Some(
                rules
                    .iter()
                    .flat_map(|r| r.meta().kinds.iter().copied())
                    .collect(),
            )
        };
        Evaluator {
            options: Mutex::new(Arc::new(options)),
            rules,
            kinds,
            settings,
        }
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
        // A known kind is matched with its group (a `Pod` of another API group is not one).
        match palisade_core::resources::RESOURCES
            .iter()
            .find(|r| r.kind == kind)
        {
            Some(r) => r.group() == group || legacy(r.group(), group),
            None => true,
        }
    }

    /// The ids of the rules evaluated at admission.
    pub fn rule_ids(&self) -> Vec<&'static str> {
        self.rules.iter().map(|r| r.meta().id).collect()
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
            subject,
        };
        let evaluated_kind = self.evaluates(&req.kind.group, &req.kind.kind);
        let evaluated_op = matches!(req.operation, Operation::Create | Operation::Update);
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
        let Some(object) = req.object.as_ref() else {
            return Ok(skip(response, subject));
        };
        let opts = self.options_for(today);
        let new = self.evaluate(object, &req, &opts)?;
        let old_keys: HashSet<(&'static str, Option<String>, String)> = match (
            &req.operation,
            &req.old_object,
            self.settings.deny_only_new_on_update,
        ) {
            (Operation::Update, Some(old), true) => self
                .evaluate(old, &req, &opts)
                .map(|fs| {
                    fs.into_iter()
                        .map(|f| (f.rule_id, f.path, f.message))
                        .collect()
                })
                .unwrap_or_default(),
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
        let findings: Vec<Decided> = new
            .into_iter()
            .map(|f| {
                let preexisting =
                    old_keys.contains(&(f.rule_id, f.path.clone(), f.message.clone()));
                let mode = if (preexisting || created_for.is_some()) && f.mode == Mode::Deny {
                    Mode::Warn
                } else {
                    f.mode
                };
                Decided {
                    finding: f,
                    mode,
                    preexisting,
                    created_for: created_for.clone(),
                }
            })
            .collect();
        let (response, verdict) = respond(response, &subject, &findings);
        Ok(Outcome {
            review: response.into_review(),
            verdict,
            findings,
            subject,
        })
    }

    /// Runs the facade over one object; returns the active (unsuppressed) findings.
    fn evaluate(
        &self,
        object: &DynamicObject,
        req: &AdmissionRequest<DynamicObject>,
        opts: &Options,
    ) -> Result<Vec<ReportFinding>, ReviewError> {
        let mut value = serde_json::to_value(object).map_err(ReviewError::Json)?;
        fill_identity(&mut value, req);
        let object = Object::from_value(value, None, SpanIndex::default())
            .map_err(ReviewError::NotAnObject)?;
        // What rules that read the request (Gatekeeper templates' `input.review`) see.
        let request = ReviewRequest {
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
        };
        let inventory = Inventory::new(vec![object]).with_request(request);
        let raw = run_rules(&inventory, &self.rules, opts);
        let report = apply_policy(&inventory, raw, &self.rules, InputSummary::default(), opts);
        Ok(report.findings)
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
    group == "apps" && request_group == "extensions"
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

fn respond(
    mut response: AdmissionResponse,
    subject: &Subject,
    findings: &[Decided],
) -> (AdmissionResponse, Verdict) {
    let denied: Vec<&Decided> = findings.iter().filter(|d| d.mode == Mode::Deny).collect();
    let warned: Vec<&Decided> = findings.iter().filter(|d| d.mode == Mode::Warn).collect();
    let audited: Vec<&Decided> = findings.iter().filter(|d| d.mode == Mode::Audit).collect();
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
    if !warned.is_empty() {
        response.warnings = Some(
            warned
                .iter()
                .map(|d| {
                    let mut w = format!("palisade: {}", describe(&d.finding));
                    if d.preexisting {
                        w.push_str(" (already present before this update; denied for new objects)");
                    } else if let (Some(owner), Mode::Deny) = (&d.created_for, d.finding.mode) {
                        w.push_str(&format!(
                            " (created by a controller for {owner}, whose own admission decides)"
                        ));
                    }
                    w
                })
                .collect(),
        );
    }
    if denied.is_empty() {
        let verdict = if !warned.is_empty() {
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
    let mut message = format!(
        "palisade denied {target}: {} violation{} of rules in deny mode:",
        denied.len(),
        if denied.len() == 1 { "" } else { "s" }
    );
    for d in &denied {
        message.push_str("\n- ");
        message.push_str(&describe(&d.finding));
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
