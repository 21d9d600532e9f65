//! Policies users bring, evaluated like Palisade's own rules.
//!
//! Today: Gatekeeper ConstraintTemplates (`templates.gatekeeper.sh` v1, v1beta1) and their
//! constraints (`constraints.gatekeeper.sh/*`). A template's Rego (with its `libs`, in
//! Rego v0 or v1) is compiled once with `regorus` and evaluated per object with the input
//! document Gatekeeper builds (`input.review`, `input.parameters`) and, for referential
//! templates, `data.inventory` built from the scanned set in Gatekeeper's layout.
//!
//! Each constraint becomes a [`palisade_core::Rule`] whose id names it
//! (`K8sPSPPrivilegedContainer/psp-privileged-container`), so its violations are findings in
//! the one report: the same exceptions, selectors, `--fail-on` and output formats.
//!
//! Matching follows Gatekeeper's documented `match`: `kinds`, `scope`, `namespaces` and
//! `excludedNamespaces` (with a `*` glob at the front or end), `labelSelector`,
//! `namespaceSelector` and `name`. A Namespace is matched by its own name and labels;
//! other cluster-scoped objects are never excluded by the namespace matchers. When the
//! Namespace object of a namespaced object is not in the scanned set, `namespaceSelector`
//! is evaluated against a namespace without labels: `matchLabels` then does not select it,
//! `NotIn` and `DoesNotExist` do. Nothing is excluded by default.
//!
//! Engines: a template's engine blocks are kept as [`template::Engine`], both compiled at
//! load. A template with a `K8sNativeValidation` (CEL) block is evaluated with it through
//! `palisade-cel`, as Gatekeeper does by default; its Rego is used when it has no CEL block,
//! or when [`EvalOptions::engine`] is [`PolicyEngine::Rego`] (`--policy-engine rego`,
//! `policyEngine: rego` in palisade.yaml), for a cluster whose Gatekeeper runs Rego only.

pub mod constraint;
pub mod rego;
pub mod rule;
pub mod schema;
pub mod template;
pub mod vap;

use constraint::{Constraint, EnforcementPoint, Subject};
use palisade_core::labels::Labels;
use palisade_core::{Inventory, Object};
use rego::RegoData;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::sync::Arc;
use template::Template;

pub use rule::{apply_modes, rules_for, ConstraintRule};

/// A problem with a policy: the file, line and reason (the loader's issue type).
pub type LoadError = palisade_core::InputIssue;

/// One violation: the template's message and details.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// `msg`.
    pub msg: String,
    /// `details` (null when absent).
    pub details: Value,
}

/// Which engine runs a template that has both a Rego and a CEL block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PolicyEngine {
    /// CEL (`K8sNativeValidation`) when the template has it, Rego otherwise: Gatekeeper's
    /// default.
    #[default]
    Cel,
    /// Rego whenever the template has it (CEL only for CEL-only templates).
    Rego,
}

impl PolicyEngine {
    /// Parses `cel` or `rego`.
    pub fn parse(s: &str) -> Option<PolicyEngine> {
        match s.to_ascii_lowercase().as_str() {
            "cel" => Some(PolicyEngine::Cel),
            "rego" => Some(PolicyEngine::Rego),
            _ => None,
        }
    }
}

/// How to evaluate templates.
#[derive(Clone, Copy, Debug, Default)]
pub struct EvalOptions {
    /// The engine preferred for templates with both a Rego and a CEL block.
    pub engine: PolicyEngine,
}

/// The one Kubernetes CEL environment of the process (building one is not free).
pub fn kube_cel() -> &'static palisade_cel::KubeCel {
    static CEL: std::sync::OnceLock<palisade_cel::KubeCel> = std::sync::OnceLock::new();
    CEL.get_or_init(palisade_cel::KubeCel::new)
}

/// The admission request an object is reviewed in (what `input.review` carries beyond the
/// object). A scan reviews each object as a `CREATE` by no user.
#[derive(Clone, Debug, Default)]
pub struct Request<'a> {
    /// `CREATE`, `UPDATE`, `DELETE`, `CONNECT` (a scan: `CREATE`).
    pub operation: Option<&'a str>,
    /// The previous object (UPDATE, DELETE).
    pub old_object: Option<&'a Value>,
    /// `userInfo`.
    pub user_info: Option<&'a Value>,
    /// `dryRun`.
    pub dry_run: bool,
    /// The request's namespace, when it differs from the object's (admission).
    pub namespace: Option<&'a str>,
}

/// A constraint bound to its template: what is evaluated.
#[derive(Debug)]
pub struct BoundConstraint {
    /// The constraint.
    pub constraint: Constraint,
    /// Its template.
    pub template: Arc<Template>,
}

/// A loaded policy: a Gatekeeper constraint, or a ValidatingAdmissionPolicy binding.
#[derive(Debug)]
pub enum LoadedPolicy {
    /// A Gatekeeper constraint with its template.
    Gatekeeper(Arc<BoundConstraint>),
    /// A ValidatingAdmissionPolicy with one of its bindings.
    Vap(Arc<vap::BoundVap>),
}

impl LoadedPolicy {
    /// The rule id of its findings.
    pub fn id(&self) -> String {
        match self {
            LoadedPolicy::Gatekeeper(b) => b.constraint.id(),
            LoadedPolicy::Vap(v) => v.id(),
        }
    }
}

/// The CEL request of one review: the object's, with the operation, old object, user and
/// namespace of the admission request when there is one.
pub fn cel_request(object: &Value, request: &Request<'_>) -> palisade_cel::Request {
    let mut req = palisade_cel::Request::for_object(object);
    if let Some(op) = request.operation {
        req.operation = op.to_owned();
    }
    if let Some(old) = request.old_object {
        req.old_object = Some(old.clone());
    }
    if let Some(u) = request.user_info {
        req.user_info = u.clone();
    }
    req.dry_run = request.dry_run;
    if let Some(ns) = request.namespace {
        req.namespace = ns.to_owned();
    }
    if req.operation == "DELETE" && request.old_object.is_some() {
        req.object = None;
    }
    req
}

/// What the evaluation of one object needs beyond the object.
pub struct EvalContext<'a> {
    /// The data document (`data.inventory`).
    pub data: &'a RegoData,
    /// The labels of a namespace by name (for `namespaceSelector`).
    pub namespace_labels: &'a dyn Fn(&str) -> Option<Labels>,
    /// The Namespace object by name, when known (CEL's `namespaceObject`).
    pub namespace_object: &'a dyn Fn(&str) -> Option<Value>,
    /// Engine options.
    pub options: EvalOptions,
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// The namespace of the review: the request's, else the object's, never one for a kind the
/// API server keeps cluster-scoped (it clears a namespace written on a ClusterRole).
fn review_namespace<'a>(object: &'a Value, request: &Request<'a>) -> Option<&'a str> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if palisade_core::object::is_cluster_scoped(split_api_version(api_version).0, kind) {
        return None;
    }
    request
        .namespace
        .or_else(|| {
            object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
        })
        .filter(|n| !n.is_empty())
}

impl BoundConstraint {
    /// True when the constraint's `match` selects the object.
    pub fn matches(&self, object: &Value, request: &Request<'_>, cx: &EvalContext<'_>) -> bool {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (group, _) = split_api_version(api_version);
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let namespace = review_namespace(object, request);
        let s = Subject {
            group,
            kind,
            namespace,
            name,
            object,
        };
        self.constraint.matcher.matches(&s, cx.namespace_labels)
    }

    /// Gatekeeper's input document for one object.
    pub fn input(&self, object: &Value, request: &Request<'_>) -> Value {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (group, version) = split_api_version(api_version);
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let mut review = Map::new();
        review.insert(
            "kind".into(),
            json!({"group": group, "version": version, "kind": kind}),
        );
        if let Some(n) = object.pointer("/metadata/name").and_then(Value::as_str) {
            review.insert("name".into(), json!(n));
        }
        if let Some(ns) = review_namespace(object, request) {
            review.insert("namespace".into(), json!(ns));
        }
        review.insert(
            "operation".into(),
            json!(request.operation.unwrap_or("CREATE")),
        );
        if let Some(u) = request.user_info {
            review.insert("userInfo".into(), u.clone());
        }
        review.insert("dryRun".into(), json!(request.dry_run));
        if let Some(old) = request.old_object {
            review.insert("oldObject".into(), old.clone());
        }
        review.insert("object".into(), object.clone());
        json!({"review": Value::Object(review), "parameters": self.constraint.parameters})
    }

    /// True when the engine that runs the template reads `data.inventory` (its Rego does,
    /// and runs: the template has no CEL block, or `--policy-engine rego`).
    pub fn reads_inventory(&self, options: EvalOptions) -> bool {
        let Some(rego) = self.template.rego() else {
            return false;
        };
        let cel_runs = self.template.cel().is_some() && options.engine == PolicyEngine::Cel;
        rego.uses_inventory && !cel_runs
    }

    /// Evaluates the template for one object the constraint matches (the caller checks the
    /// match). Errors are the engine's (a builtin failing, the time limit).
    pub fn evaluate(
        &self,
        object: &Value,
        request: &Request<'_>,
        cx: &EvalContext<'_>,
    ) -> Result<Vec<Violation>, String> {
        let rego = self.template.rego();
        let cel = self.template.cel();
        let use_cel = cel.is_some() && (cx.options.engine == PolicyEngine::Cel || rego.is_none());
        if let (true, Some(code)) = (use_cel, cel) {
            let req = cel_request(object, request);
            let namespace = (cx.namespace_object)(&req.namespace);
            return code
                .compiled
                .evaluate_in(&req, Some(&self.constraint.parameters), namespace.as_ref())
                .map(|vs| {
                    vs.into_iter()
                        .map(|v| Violation {
                            msg: v.message,
                            details: Value::Null,
                        })
                        .collect()
                })
                .map_err(|e| e.to_string());
        }
        match rego {
            Some(program) => program.evaluate(rego::to_rego(self.input(object, request)), cx.data),
            None => Err(format!(
                "template {} has neither Rego nor CEL",
                self.template.name
            )),
        }
    }
}

/// Policies loaded from files and objects, and the problems found while loading them.
#[derive(Debug, Default)]
pub struct PolicySet {
    /// Templates by constraint kind.
    pub templates: Vec<Arc<Template>>,
    /// The loaded policies, in load order.
    pub policies: Vec<LoadedPolicy>,
    /// Problems: each names a file, a line and a reason; the other policies still load.
    pub errors: Vec<LoadError>,
    /// The ValidatingAdmissionPolicies and bindings read so far (loaded again, with the
    /// parameter objects, when more arrive).
    vap_objects: Vec<Object>,
    /// The other objects of the policy files: parameter objects of the policies.
    param_objects: Vec<Object>,
    /// The errors of the last load of the policies and bindings.
    vap_errors: Vec<LoadError>,
}

/// True when the object is a policy object this crate loads (a ConstraintTemplate, a
/// constraint, a ValidatingAdmissionPolicy or a binding of one).
pub fn is_policy_object(o: &Object) -> bool {
    template::is_template(o) || constraint::is_constraint(o) || vap::is_vap_object(o)
}

impl PolicySet {
    /// Loads every ConstraintTemplate and constraint of these files and directories (YAML or
    /// JSON, recursively). Other objects are ignored.
    pub fn load_paths(paths: &[PathBuf]) -> PolicySet {
        let loaded = palisade_load::load_paths(paths);
        let mut set = PolicySet::default();
        set.errors.extend(loaded.errors);
        let found = loaded
            .objects
            .iter()
            .filter(|o| is_policy_object(o))
            .count();
        let params: Vec<Object> = loaded
            .objects
            .iter()
            .filter(|o| !is_policy_object(o))
            .cloned()
            .collect();
        set.param_objects = params;
        set.add_objects(&loaded.objects);
        if found == 0 && set.errors.is_empty() {
            for p in paths {
                set.errors.push(LoadError {
                    file: p.display().to_string(),
                    line: 0,
                    column: 0,
                    message: "holds no ConstraintTemplate, constraint or ValidatingAdmissionPolicy"
                        .into(),
                });
            }
        }
        set
    }

    /// The `paramKind`s of the loaded ValidatingAdmissionPolicies: (apiVersion, kind), each
    /// once.
    pub fn param_kinds(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .vap_objects
            .iter()
            .filter(|o| o.kind == "ValidatingAdmissionPolicy")
            .filter_map(|o| {
                let pk = o.value().pointer("/spec/paramKind")?;
                Some((
                    pk.get("apiVersion")?.as_str()?.to_owned(),
                    pk.get("kind")?.as_str()?.to_owned(),
                ))
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Loads the policy among scanned objects (`--policy-from-input`: the manifests, a
    /// snapshot or the cluster): the ConstraintTemplates, constraints, ValidatingAdmission
    /// Policies and bindings, then, as parameter objects of every loaded policy, the objects
    /// of the kinds their `paramKind`s name (a ConfigMap, a custom resource). Secrets are never
    /// parameters.
    pub fn add_input(&mut self, objects: &[Object]) {
        let policy: Vec<Object> = objects
            .iter()
            .filter(|o| is_policy_object(o))
            .cloned()
            .collect();
        self.add_objects(&policy);
        let kinds = self.param_kinds();
        if kinds.is_empty() {
            return;
        }
        let params: Vec<Object> = objects
            .iter()
            .filter(|o| !(o.kind == "Secret" && o.api_version == "v1"))
            .filter(|o| {
                kinds
                    .iter()
                    .any(|(av, k)| *k == o.kind && *av == o.api_version)
            })
            .cloned()
            .collect();
        if !params.is_empty() {
            self.add_param_objects(&params);
        }
    }

    /// Adds parameter objects for the ValidatingAdmissionPolicies (any object).
    pub fn add_param_objects(&mut self, objects: &[Object]) {
        self.param_objects.extend(objects.iter().cloned());
        if !self.vap_objects.is_empty() {
            self.load_vaps();
        }
    }

    fn load_vaps(&mut self) {
        self.policies.retain(|p| !matches!(p, LoadedPolicy::Vap(_)));
        let old = std::mem::take(&mut self.vap_errors);
        self.errors.retain(|e| !old.contains(e));
        let (bound, errors) = vap::load(&self.vap_objects, &self.param_objects);
        self.errors.extend(errors.iter().cloned());
        self.vap_errors = errors;
        for b in bound {
            self.policies.push(LoadedPolicy::Vap(Arc::new(b)));
        }
    }

    /// The ValidatingAdmissionPolicy bindings, each with its policy.
    pub fn vaps(&self) -> impl Iterator<Item = &Arc<vap::BoundVap>> {
        self.policies.iter().filter_map(|p| match p {
            LoadedPolicy::Vap(v) => Some(v),
            LoadedPolicy::Gatekeeper(_) => None,
        })
    }

    /// Loads the ConstraintTemplates, constraints, ValidatingAdmissionPolicies and their
    /// bindings among already-loaded objects (templates first, so a constraint may come
    /// before its template).
    pub fn add_objects(&mut self, objects: &[Object]) {
        let vaps: Vec<Object> = objects
            .iter()
            .filter(|o| vap::is_vap_object(o))
            .cloned()
            .collect();
        if !vaps.is_empty() {
            self.vap_objects.extend(vaps);
            self.load_vaps();
        }
        for o in objects.iter().filter(|o| template::is_template(o)) {
            match template::parse(o) {
                Ok(t) => {
                    if let Some(prev) = self.templates.iter().find(|p| p.kind == t.kind) {
                        self.errors.push(template::err(
                            o,
                            "/spec/crd/spec/names/kind",
                            format!(
                                "a second ConstraintTemplate for kind {} (the first: {})",
                                t.kind,
                                prev.source
                                    .as_ref()
                                    .map(|s| s.to_string())
                                    .unwrap_or_else(|| prev.name.clone())
                            ),
                        ));
                        continue;
                    }
                    self.templates.push(Arc::new(t))
                }
                Err(e) => self.errors.push(e),
            }
        }
        for o in objects.iter().filter(|o| constraint::is_constraint(o)) {
            let Some(t) = self.templates.iter().find(|t| t.kind == o.kind).cloned() else {
                self.errors.push(template::err(
                    o,
                    "/kind",
                    format!(
                        "constraint {} `{}`: no ConstraintTemplate defines kind {} (load its template with --policy)",
                        o.kind, o.name, o.kind
                    ),
                ));
                continue;
            };
            let c = match constraint::parse(o) {
                Ok(c) => c,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            if let Some(schema) = &t.schema {
                if let Err((path, reason)) = schema::check(schema, &c.parameters, "") {
                    self.errors.push(template::err(
                        o,
                        &format!("/spec/parameters{path}"),
                        format!(
                            "constraint {} `{}`: parameters{} {reason} (schema of template {})",
                            o.kind,
                            o.name,
                            path.replace('/', "."),
                            t.name
                        ),
                    ));
                    continue;
                }
            }
            let id = c.id();
            if self.policies.iter().any(|p| p.id() == id) {
                self.errors.push(template::err(
                    o,
                    "/metadata/name",
                    format!("constraint {id} is defined twice"),
                ));
                continue;
            }
            self.policies
                .push(LoadedPolicy::Gatekeeper(Arc::new(BoundConstraint {
                    constraint: c,
                    template: t,
                })));
        }
    }

    /// The constraints, bound to their templates.
    pub fn constraints(&self) -> impl Iterator<Item = &Arc<BoundConstraint>> {
        self.policies.iter().filter_map(|p| match p {
            LoadedPolicy::Gatekeeper(b) => Some(b),
            LoadedPolicy::Vap(_) => None,
        })
    }

    /// True when nothing was loaded and nothing went wrong.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty() && self.templates.is_empty() && self.errors.is_empty()
    }
}

/// `data.inventory` in Gatekeeper's layout: `cluster[groupVersion][kind][name]` for objects
/// without a namespace, `namespace[ns][groupVersion][kind][name]` for the others.
pub fn inventory_document<'a>(objects: impl Iterator<Item = &'a Value>) -> Value {
    let mut cluster = Map::new();
    let mut namespaced = Map::new();
    for v in objects {
        let (Some(av), Some(kind)) = (
            v.get("apiVersion").and_then(Value::as_str),
            v.get("kind").and_then(Value::as_str),
        ) else {
            continue;
        };
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let ns = v
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| {
                !n.is_empty()
                    && !palisade_core::object::is_cluster_scoped(
                        palisade_core::object::group_of(av),
                        kind,
                    )
            });
        let root = match ns {
            Some(ns) => namespaced
                .entry(ns.to_owned())
                .or_insert_with(|| Value::Object(Map::new())),
            None => {
                // `cluster` itself is the root for cluster-scoped objects.
                let e = cluster
                    .entry(av.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = e {
                    let k = m
                        .entry(kind.to_owned())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(names) = k {
                        names.insert(name.to_owned(), v.clone());
                    }
                }
                continue;
            }
        };
        if let Value::Object(m) = root {
            let g = m
                .entry(av.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(gm) = g {
                let k = gm
                    .entry(kind.to_owned())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(names) = k {
                    names.insert(name.to_owned(), v.clone());
                }
            }
        }
    }
    json!({"inventory": {"cluster": cluster, "namespace": namespaced}})
}

/// The data document of a scan, built once per inventory.
pub struct InventoryData(pub RegoData);

/// `data.inventory` for the objects of an inventory (cached on the inventory).
pub fn inventory_data(inventory: &Inventory) -> Arc<InventoryData> {
    inventory.derived(|inv| InventoryData(RegoData::from_json(inventory_document(inv.values()))))
}

/// The enforcement point of `palisade scan` (Gatekeeper's audit).
pub const SCAN_POINT: EnforcementPoint = EnforcementPoint::Audit;
