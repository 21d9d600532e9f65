//! `palisade admission install`: the manifests that deploy the webhook with high
//! availability (replicas, anti-affinity, a disruption budget) and least privilege (no API
//! token, no RBAC, the restricted Pod Security profile). They pass Palisade's own restricted
//! profile with zero findings.
//!
//! They start with the PolicyReport and ClusterPolicyReport CRDs (`wgpolicyk8s.io/v1alpha2`,
//! their schema derived from the report types; left out with `--no-crds` where Kyverno or
//! Trivy Operator installed them). With `--policy`, the policies are shipped in a ConfigMap
//! that the server loads, and the webhook is also registered for what they match.

use base64::Engine as _;
use palisade_core::{InputIssue, Object, Rule};
use palisade_policy::constraint::{EnforcementPoint, MatchScope};
use palisade_policy::{ConstraintRule, EvalOptions, PolicySet};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The name of every object the installation creates.
pub const NAME: &str = "palisade-admission";
/// The name of the webhook in the ValidatingWebhookConfiguration; the API server prefixes
/// audit annotations with it (`validate.palisade.dev/findings`).
pub const WEBHOOK_NAME: &str = "validate.palisade.dev";
/// The default image.
pub const DEFAULT_IMAGE: &str =
    concat!("ghcr.io/palisade-dev/palisade:", env!("CARGO_PKG_VERSION"));
/// The port the server listens on in the pod.
pub const CONTAINER_PORT: u16 = 8443;

/// Installation settings.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    /// Namespace for the webhook (default `palisade-system`); excluded from the webhook.
    pub namespace: String,
    /// Replicas (at least 2 for a highly available webhook).
    pub replicas: u32,
    /// `Fail` (reject when the webhook is unreachable) or `Ignore`.
    pub failure_policy: String,
    /// The container image, pinned to a version (and ideally a digest).
    pub image: String,
    /// The CA certificate (PEM) that signed the serving certificate, for `caBundle`.
    pub ca_pem: Option<String>,
    /// The webhook's `timeoutSeconds` (1..=30).
    pub timeout_seconds: u32,
    /// Run the webhook with `--cluster-cache`: a read-only ClusterRole (get, list, watch on
    /// the kinds the cluster-reading rules read), an API token in the pod, and egress to the
    /// API server.
    pub cluster_cache: bool,
    /// Run the background audit every interval (`10m`): implies the cluster cache, adds
    /// watch on every kind the rules read and write access to PolicyReports.
    pub audit_interval: Option<String>,
    /// Add the PolicyReport and ClusterPolicyReport CRDs (`false`: `--no-crds`, where another
    /// tool installed them).
    pub crds: bool,
    /// Policies users bring (`--policy`): shipped to the server, and registered in the webhook.
    pub policies: Option<InstallPolicies>,
    /// Run the webhook with `--image-pull-secrets`: image signature verification (IMG007)
    /// logs in to registries with the reviewed workload's image pull Secrets. Adds a
    /// ClusterRole with `get` on secrets and serviceaccounts (reading Secret values, in every
    /// namespace: a privilege to grant knowingly), an API token in the pod, and egress to the
    /// API server.
    pub image_pull_secrets: bool,
}

/// The name of the ConfigMap that holds the policies of `--policy`.
pub const POLICIES_CONFIGMAP: &str = "palisade-admission-policies";
/// The key of the policies in that ConfigMap, and the file the server reads.
pub const POLICIES_FILE: &str = "policies.yaml";
/// Where the ConfigMap is mounted in the pod.
pub const POLICIES_DIR: &str = "/etc/palisade/policies";
/// The largest policy file shipped: a ConfigMap (like every object) must stay under 1 MiB.
pub const MAX_POLICIES_BYTES: usize = 1_000_000;

/// Policies users bring (`admission install --policy`): the ConstraintTemplates, constraints,
/// ValidatingAdmissionPolicies, bindings and parameter objects of the given files, as one
/// YAML stream the server loads with `--policy`, and what the webhook must be registered for.
#[derive(Clone)]
pub struct InstallPolicies {
    /// The objects, as one multi-document YAML stream (the ConfigMap's `policies.yaml`).
    text: String,
    /// `--policy-engine`, when not the default.
    engine: Option<String>,
    /// The rules the server runs at admission (Gatekeeper's validation point).
    validation: Vec<&'static ConstraintRule>,
    /// The rules the background audit runs (Gatekeeper's audit point).
    audit: Vec<&'static ConstraintRule>,
}

impl std::fmt::Debug for InstallPolicies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallPolicies")
            .field("bytes", &self.text.len())
            .field("validation", &self.validation.len())
            .field("audit", &self.audit.len())
            .finish()
    }
}

impl InstallPolicies {
    /// Loads the policy files and directories (as `admission serve --policy` does). `Err`
    /// holds every problem (file, line, reason): a policy that would not load on the server
    /// is not installed.
    pub fn load(paths: &[PathBuf], engine: &str) -> Result<InstallPolicies, Vec<InputIssue>> {
        let set = PolicySet::load_paths(paths);
        if !set.errors.is_empty() {
            return Err(set.errors);
        }
        let loaded = palisade_load::load_paths(paths);
        Self::from_objects(&loaded.objects, engine, &paths_text(paths))
    }

    /// The policies among these objects, with the parameter objects of the
    /// ValidatingAdmissionPolicies (objects of a policy's `paramKind`; never Secrets). Other
    /// objects are not shipped.
    pub fn from_objects(
        objects: &[Object],
        engine: &str,
        origin: &str,
    ) -> Result<InstallPolicies, Vec<InputIssue>> {
        let issue = |message: String| InputIssue {
            file: origin.to_owned(),
            line: 0,
            column: 0,
            message,
        };
        let policies: Vec<Object> = objects
            .iter()
            .filter(|o| palisade_policy::is_policy_object(o))
            .cloned()
            .collect();
        let param_kinds: Vec<(&str, &str)> = policies
            .iter()
            .filter(|o| o.kind == "ValidatingAdmissionPolicy")
            .filter_map(|o| {
                let p = o.value().pointer("/spec/paramKind")?;
                Some((p["apiVersion"].as_str()?, p["kind"].as_str()?))
            })
            .collect();
        let params: Vec<Object> = objects
            .iter()
            .filter(|o| {
                o.kind != "Secret"
                    && !palisade_policy::is_policy_object(o)
                    && param_kinds
                        .iter()
                        .any(|(v, k)| o.api_version == *v && o.kind == *k)
            })
            .cloned()
            .collect();
        let mut set = PolicySet::default();
        set.add_param_objects(&params);
        if policies.is_empty() {
            return Err(vec![issue(
                "holds no ConstraintTemplate, constraint or ValidatingAdmissionPolicy".into(),
            )]);
        }
        set.add_objects(&policies);
        if !set.errors.is_empty() {
            return Err(set.errors);
        }
        let engine_opt = palisade_policy::PolicyEngine::parse(engine)
            .ok_or_else(|| vec![issue(format!("unknown policy engine `{engine}`"))])?;
        let options = EvalOptions { engine: engine_opt };
        let mut text = String::from(
            "# The policies of `palisade admission install --policy`, loaded by the server.\n",
        );
        // Policies first, then their parameter objects, each as one document.
        for o in policies.iter().chain(&params) {
            text.push_str("---\n");
            let yaml = serde_yaml_ng::to_string(o.value()).map_err(|e| {
                let message = format!("{} {}: cannot be written as YAML: {e}", o.kind, o.name);
                vec![match &o.source {
                    Some(at) => InputIssue {
                        file: at.file.to_string(),
                        line: at.line,
                        column: at.column,
                        message,
                    },
                    None => issue(message),
                }]
            })?;
            text.push_str(&yaml);
        }
        if text.len() > MAX_POLICIES_BYTES {
            return Err(vec![issue(format!(
                "the policies take {} bytes, more than a ConfigMap holds ({MAX_POLICIES_BYTES}); \
                 install fewer, or ship them in the image",
                text.len()
            ))]);
        }
        Ok(InstallPolicies {
            text,
            engine: (engine_opt != palisade_policy::PolicyEngine::default())
                .then(|| engine.to_owned()),
            validation: palisade_policy::rules_for(&set, EnforcementPoint::Validation, options),
            audit: palisade_policy::rules_for(&set, EnforcementPoint::Audit, options),
        })
    }

    /// The policy file the server loads.
    pub fn text(&self) -> &str {
        &self.text
    }

    fn dyn_rules(rules: &[&'static ConstraintRule]) -> Vec<&'static dyn Rule> {
        rules.iter().map(|r| *r as &'static dyn Rule).collect()
    }

    /// The webhook rules of what the policies enforced at admission match: a constraint's
    /// `spec.match.kinds` (with its `scope`), a ValidatingAdmissionPolicy's
    /// `spec.matchConstraints.resourceRules`. Only CREATE and UPDATE are registered, and no
    /// subresource but a Pod's `ephemeralcontainers`: the server evaluates nothing else.
    pub fn webhook_rules(&self) -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for r in &self.validation {
            if let Some(b) = r.constraint() {
                out.extend(constraint_webhook_rules(
                    &b.constraint.matcher.kinds,
                    b.constraint.matcher.scope,
                ));
            } else if let Some(v) = r.vap() {
                out.extend(vap_webhook_rules(&v.policy_value));
            }
        }
        let mut seen = std::collections::HashSet::new();
        out.retain(|r| seen.insert(r.to_string()));
        out
    }
}

fn paths_text(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The webhook rules of a Gatekeeper constraint's `match.kinds` (`(apiGroups, kinds)` pairs;
/// none, an empty list or `*` match every kind). A kind Palisade knows is registered by its
/// resource; another (a custom resource, whose plural only discovery tells) by every resource
/// of its API groups.
pub fn constraint_webhook_rules(
    kinds: &[(Vec<String>, Vec<String>)],
    scope: MatchScope,
) -> Vec<Value> {
    let scope = match scope {
        MatchScope::All => "*",
        MatchScope::Cluster => "Cluster",
        MatchScope::Namespaced => "Namespaced",
    };
    let rule = |groups: Vec<String>, resources: Vec<String>| {
        json!({
            "apiGroups": groups,
            "apiVersions": ["*"],
            "operations": ["CREATE", "UPDATE"],
            "resources": resources,
            "scope": scope,
        })
    };
    if kinds.is_empty() {
        return vec![rule(vec!["*".into()], vec!["*".into()])];
    }
    let mut out = Vec::new();
    for (groups, ks) in kinds {
        let groups: Vec<String> = if groups.is_empty() || groups.iter().any(|g| g == "*") {
            vec!["*".into()]
        } else {
            groups.clone()
        };
        if ks.is_empty() || ks.iter().any(|k| k == "*") {
            out.push(rule(groups, vec!["*".into()]));
            continue;
        }
        let mut resources: Vec<String> = Vec::new();
        let mut unknown = false;
        for k in ks {
            let known: Vec<&palisade_core::resources::Resource> =
                palisade_core::resources::RESOURCES
                    .iter()
                    .filter(|r| {
                        r.kind == k && (groups[0] == "*" || groups.iter().any(|g| g == r.group()))
                    })
                    .collect();
            if known.is_empty() {
                unknown = true;
            }
            for r in known {
                resources.push(r.plural.to_owned());
                if r.kind == "Pod" {
                    resources.push("pods/ephemeralcontainers".into());
                }
            }
        }
        if unknown {
            resources = vec!["*".into()];
        }
        resources.sort();
        resources.dedup();
        out.push(rule(groups, resources));
    }
    out
}

/// The webhook rules of a ValidatingAdmissionPolicy's `matchConstraints.resourceRules`: the
/// same groups, versions, resources and scope, with the operations the server evaluates.
pub fn vap_webhook_rules(policy: &Value) -> Vec<Value> {
    let rules = policy
        .pointer("/spec/matchConstraints/resourceRules")
        .and_then(Value::as_array);
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    let mut out = Vec::new();
    for r in rules.into_iter().flatten() {
        let ops: Vec<&str> = strings(&r["operations"])
            .iter()
            .flat_map(|o| match o.as_str() {
                "*" => vec!["CREATE", "UPDATE"],
                "CREATE" => vec!["CREATE"],
                "UPDATE" => vec!["UPDATE"],
                _ => vec![],
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut resources: Vec<String> = Vec::new();
        for res in strings(&r["resources"]) {
            match res.split_once('/') {
                None => resources.push(res),
                // Every subresource: the server evaluates only a Pod's ephemeral containers.
                Some((base, "*")) if base == "*" || base == "pods" => {
                    resources.push("pods/ephemeralcontainers".into())
                }
                Some(("pods", "ephemeralcontainers")) => resources.push(res),
                Some(_) => {}
            }
        }
        resources.sort();
        resources.dedup();
        if ops.is_empty() || resources.is_empty() {
            continue;
        }
        out.push(json!({
            "apiGroups": strings(&r["apiGroups"]),
            "apiVersions": strings(&r["apiVersions"]),
            "operations": ops,
            "resources": resources,
            "scope": r["scope"].as_str().unwrap_or("*"),
        }));
    }
    out
}

impl Default for InstallOptions {
    fn default() -> Self {
        InstallOptions {
            namespace: "palisade-system".into(),
            replicas: 2,
            failure_policy: "Fail".into(),
            image: DEFAULT_IMAGE.into(),
            ca_pem: None,
            timeout_seconds: 10,
            cluster_cache: false,
            audit_interval: None,
            crds: true,
            policies: None,
            image_pull_secrets: false,
        }
    }
}

/// The policy shipped in the ConfigMap: every finding audited, nothing rejected yet (promote
/// rules and namespaces to `warn`, then `deny`).
pub const DEFAULT_POLICY: &str = "# Palisade admission policy: see `palisade init` for every key.
profile: restricted
defaultMode: audit
rules: {}
namespaces: {}
";

fn labels() -> Value {
    json!({
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/part-of": "palisade",
    })
}

/// The manifests as JSON values, in apply order.
pub fn objects(opts: &InstallOptions) -> Vec<Value> {
    let cache = opts.cluster_cache || opts.audit_interval.is_some();
    let opts = &InstallOptions {
        cluster_cache: cache,
        ..opts.clone()
    };
    let ns = opts.namespace.as_str();
    let meta = |name: &str| json!({ "name": name, "namespace": ns, "labels": labels() });
    let selector = json!({ "matchLabels": { "app.kubernetes.io/name": NAME } });
    let namespace = json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": ns,
            "labels": {
                "app.kubernetes.io/part-of": "palisade",
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        },
    });
    let service_account = json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": meta(NAME),
        "automountServiceAccountToken": false,
    });
    let config = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(NAME),
        "data": { "palisade.yaml": DEFAULT_POLICY },
    });
    let probe = |path: &str, period: u32| {
        json!({
            "httpGet": { "path": path, "port": "https", "scheme": "HTTPS" },
            "periodSeconds": period,
            "timeoutSeconds": 2,
            "failureThreshold": 3,
        })
    };
    let mut args: Vec<String> = [
        "admission",
        "serve",
        "--config",
        "/etc/palisade/palisade.yaml",
        "--tls-cert",
        "/etc/palisade/tls/tls.crt",
        "--tls-key",
        "/etc/palisade/tls/tls.key",
    ]
    .map(String::from)
    .into();
    args.push("--addr".into());
    args.push(format!("0.0.0.0:{CONTAINER_PORT}"));
    // The webhook's own fallback, when its cluster cache cannot answer, is the API server's.
    args.push("--failure-policy".into());
    args.push(opts.failure_policy.clone());
    if opts.cluster_cache {
        args.push("--cluster-cache".into());
    }
    if let Some(i) = &opts.audit_interval {
        args.push("--audit-interval".into());
        args.push(i.clone());
    }
    if opts.image_pull_secrets {
        args.push("--image-pull-secrets".into());
    }
    // Whether the webhook calls the API server at all.
    let api_access = opts.cluster_cache || opts.image_pull_secrets;
    let mut volume_mounts = vec![
        json!({ "name": "config", "mountPath": "/etc/palisade", "readOnly": true }),
        json!({ "name": "tls", "mountPath": "/etc/palisade/tls", "readOnly": true }),
    ];
    let mut volumes = vec![
        json!({ "name": "config", "configMap": { "name": NAME } }),
        json!({ "name": "tls", "secret": { "secretName": format!("{NAME}-tls") } }),
    ];
    let policies_config = opts.policies.as_ref().map(|p| {
        args.push("--policy".into());
        args.push(format!("{POLICIES_DIR}/{POLICIES_FILE}"));
        if let Some(e) = &p.engine {
            args.push("--policy-engine".into());
            args.push(e.clone());
        }
        volume_mounts
            .push(json!({ "name": "policies", "mountPath": POLICIES_DIR, "readOnly": true }));
        volumes.push(json!({ "name": "policies", "configMap": { "name": POLICIES_CONFIGMAP } }));
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": meta(POLICIES_CONFIGMAP),
            "data": { POLICIES_FILE: p.text },
        })
    });
    // (request, limit). The background audit holds the cluster's objects packed and what the
    // rules said of each: about 300 MiB at its peak for 10,000 Pods and 2,000 other objects
    // (bench/audit_bench.py); the webhook alone stays well under 256 MiB.
    let memory = if opts.audit_interval.is_some() {
        ("256Mi", "768Mi")
    } else {
        ("64Mi", "256Mi")
    };
    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(NAME),
        "spec": {
            "replicas": opts.replicas.max(2),
            "revisionHistoryLimit": 5,
            "selector": selector,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": { "maxUnavailable": 0, "maxSurge": 1 },
            },
            "template": {
                "metadata": { "labels": labels() },
                "spec": {
                    "serviceAccountName": NAME,
                    // Only the cluster cache and the image pull Secrets' reads talk to the
                    // API server.
                    "automountServiceAccountToken": api_access,
                    "enableServiceLinks": false,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": true,
                        "runAsUser": 65532,
                        "runAsGroup": 65532,
                        "seccompProfile": { "type": "RuntimeDefault" },
                    },
                    "affinity": {
                        "podAntiAffinity": {
                            "preferredDuringSchedulingIgnoredDuringExecution": [{
                                "weight": 100,
                                "podAffinityTerm": {
                                    "labelSelector": selector,
                                    "topologyKey": "kubernetes.io/hostname",
                                },
                            }],
                        },
                    },
                    "topologySpreadConstraints": [{
                        "maxSkew": 1,
                        "topologyKey": "topology.kubernetes.io/zone",
                        "whenUnsatisfiable": "ScheduleAnyway",
                        "labelSelector": selector,
                    }],
                    "containers": [{
                        "name": "webhook",
                        "image": opts.image,
                        // A tag can move: pull it each time; a digest cannot.
                        "imagePullPolicy": if opts.image.contains("@sha256:") { "IfNotPresent" } else { "Always" },
                        "args": args,
                        // glibc gives each thread that allocates its own arena, each holding
                        // on to what it freed: two keep the server's memory near what it
                        // holds (the background audit's peak about 5% lower, measured).
                        "env": [{ "name": "MALLOC_ARENA_MAX", "value": "2" }],
                        "ports": [{ "name": "https", "containerPort": CONTAINER_PORT, "protocol": "TCP" }],
                        "livenessProbe": probe("/healthz", 10),
                        "readinessProbe": probe("/readyz", 5),
                        "resources": {
                            "requests": { "cpu": "100m", "memory": memory.0 },
                            "limits": { "cpu": "1", "memory": memory.1 },
                        },
                        "securityContext": {
                            "allowPrivilegeEscalation": false,
                            "privileged": false,
                            "readOnlyRootFilesystem": true,
                            "runAsNonRoot": true,
                            "capabilities": { "drop": ["ALL"] },
                            "seccompProfile": { "type": "RuntimeDefault" },
                        },
                        "volumeMounts": volume_mounts,
                    }],
                    "volumes": volumes,
                },
            },
        },
    });
    let pdb = json!({
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta(NAME),
        "spec": { "minAvailable": 1, "selector": selector },
    });
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(NAME),
        "spec": {
            "type": "ClusterIP",
            "selector": { "app.kubernetes.io/name": NAME },
            "ports": [{ "name": "https", "port": 443, "targetPort": "https", "protocol": "TCP" }],
        },
    });
    // The webhook takes HTTPS from the API server (whose address depends on the platform) and
    // calls nothing: everything else in its namespace is denied, both directions.
    let network_policy = json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta(NAME),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{ "ports": [{ "protocol": "TCP", "port": "https" }] }],
            // The cluster cache and the image pull Secrets' reads call the API server (443
            // behind the `kubernetes` Service, 6443 on its endpoints).
            "egress": if api_access {
                json!([{ "ports": [{ "protocol": "TCP", "port": 443 }, { "protocol": "TCP", "port": 6443 }] }])
            } else {
                json!([])
            },
        },
    });
    let ca_bundle = opts
        .ca_pem
        .as_deref()
        .map(|pem| base64::engine::general_purpose::STANDARD.encode(pem))
        .unwrap_or_default();
    // Every kind a rule evaluated at admission reads (the default policy's selection),
    // grouped by API group and version; with `matchPolicy: Equivalent` other versions of the
    // same resources are sent converted.
    let mut by_gv: std::collections::BTreeMap<(&str, &str), Vec<String>> = Default::default();
    for r in admission_resources(opts.cluster_cache) {
        let (group, version) = r
            .api_version
            .rsplit_once('/')
            .unwrap_or(("", r.api_version));
        let list = by_gv.entry((group, version)).or_default();
        list.push(r.plural.to_owned());
        if r.kind == "Pod" {
            // Ephemeral containers are added through their own subresource.
            list.push("pods/ephemeralcontainers".to_owned());
        }
    }
    let mut webhook_rules: Vec<Value> = by_gv
        .into_iter()
        .map(|((group, version), resources)| {
            json!({
                "apiGroups": [group],
                "apiVersions": [version],
                "operations": ["CREATE", "UPDATE"],
                "resources": resources,
                "scope": "*",
            })
        })
        .collect();
    if let Some(p) = &opts.policies {
        webhook_rules.extend(p.webhook_rules());
    }
    let webhook = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": { "name": NAME, "labels": labels() },
        "webhooks": [{
            "name": WEBHOOK_NAME,
            "admissionReviewVersions": ["v1"],
            "sideEffects": "None",
            "failurePolicy": opts.failure_policy,
            "matchPolicy": "Equivalent",
            "timeoutSeconds": opts.timeout_seconds.clamp(1, 30),
            "clientConfig": {
                "service": { "name": NAME, "namespace": ns, "path": "/validate", "port": 443 },
                "caBundle": ca_bundle,
            },
            "namespaceSelector": {
                "matchExpressions": [{
                    "key": "kubernetes.io/metadata.name",
                    "operator": "NotIn",
                    "values": ["kube-system", ns],
                }],
            },
            "rules": webhook_rules,
        }],
    });
    let mut out = Vec::new();
    if opts.crds {
        out.extend(palisade_report::policyreport::crd::crds());
    }
    out.extend([namespace, service_account, config]);
    out.extend(policies_config);
    if opts.cluster_cache {
        out.extend(cache_rbac(
            ns,
            opts.audit_interval.is_some(),
            opts.policies.as_ref(),
        ));
    }
    if opts.image_pull_secrets {
        out.extend(pull_secrets_rbac(ns));
    }
    out.extend([deployment, pdb, service, network_policy, webhook]);
    out
}

/// The ClusterRole of `--image-pull-secrets`: `get` (never `list` or `watch`) on Secrets, to
/// read the image pull Secrets a reviewed workload names in its own namespace, and on
/// ServiceAccounts, for a workload that names none (its ServiceAccount's), and its binding.
fn pull_secrets_rbac(ns: &str) -> [Value; 2] {
    let name = format!("{NAME}-pull-secrets");
    [
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": name, "labels": labels() },
            "rules": [{ "apiGroups": [""], "resources": ["secrets", "serviceaccounts"], "verbs": ["get"] }],
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": name, "labels": labels() },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
            "subjects": [{ "kind": "ServiceAccount", "name": NAME, "namespace": ns }],
        }),
    ]
}

/// The read-only ClusterRole of the cluster cache (get, list and watch on exactly the
/// resources the cluster-reading rules read; Secrets are watched as metadata, which the API
/// server still authorizes as `list`/`watch secrets`) and its binding.
fn cache_rbac(ns: &str, audit: bool, policies: Option<&InstallPolicies>) -> [Value; 2] {
    let extra = |audit: bool| {
        palisade_analyze::ExtraRules(
            policies
                .map(|p| InstallPolicies::dyn_rules(if audit { &p.audit } else { &p.validation }))
                .unwrap_or_default(),
        )
    };
    let mut kinds = crate::review::Evaluator::new(
        palisade_analyze::Options {
            extra_rules: extra(false),
            ..palisade_analyze::Options::new(jiff::civil::date(2026, 1, 1))
        },
        crate::review::EvaluatorOptions::default(),
    )
    .with_cluster_view(std::sync::Arc::new(
        crate::cluster_view::StaticView::default(),
    ))
    .cluster_kinds();
    if audit {
        kinds.extend(crate::background::Auditor::kinds_for(
            &palisade_analyze::Options {
                extra_rules: extra(true),
                ..palisade_analyze::Options::new(jiff::civil::date(2026, 1, 1))
            },
        ));
    }
    let mut by_group: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for r in palisade_core::resources::RESOURCES
        .iter()
        .filter(|r| kinds.contains(r.kind))
    {
        by_group.entry(r.group()).or_default().push(r.plural);
    }
    let mut rules: Vec<Value> = by_group
        .into_iter()
        .map(|(group, mut plurals)| {
            plurals.sort_unstable();
            plurals.dedup();
            json!({ "apiGroups": [group], "resources": plurals, "verbs": ["get", "list", "watch"] })
        })
        .collect();
    if audit {
        // The background audit writes its reports (server-side apply creates them).
        rules.push(json!({
            "apiGroups": ["wgpolicyk8s.io"],
            "resources": ["policyreports", "clusterpolicyreports"],
            "verbs": ["get", "create", "patch", "delete"],
        }));
    }
    // Discovery: which of those resources the server serves.
    rules.push(
        json!({ "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*"], "verbs": ["get"] }),
    );
    let name = format!("{NAME}-cache");
    [
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": { "name": name, "labels": labels() },
            "rules": rules,
        }),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": { "name": name, "labels": labels() },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name },
            "subjects": [{ "kind": "ServiceAccount", "name": NAME, "namespace": ns }],
        }),
    ]
}

/// The evaluator of the default policy, with a cluster view (its contents do not matter
/// here: only which rules and kinds it evaluates).
fn cache_evaluator() -> crate::review::Evaluator {
    default_evaluator().with_cluster_view(std::sync::Arc::new(
        crate::cluster_view::StaticView::default(),
    ))
}

fn default_evaluator() -> crate::review::Evaluator {
    crate::review::Evaluator::new(
        palisade_analyze::Options::new(jiff::civil::date(2026, 1, 1)),
        crate::review::EvaluatorOptions::default(),
    )
}

/// The resources the webhook is registered for: those of the kinds the default policy's
/// admission rules read, with the cluster-reading rules' kinds when the webhook keeps a
/// cluster cache (every known resource when a rule reads every kind).
pub fn admission_resources(
    cluster_cache: bool,
) -> Vec<&'static palisade_core::resources::Resource> {
    let evaluator = if cluster_cache {
        cache_evaluator()
    } else {
        default_evaluator()
    };
    let kinds = evaluator.evaluated_kinds();
    palisade_core::resources::RESOURCES
        .iter()
        .filter(|r| {
            kinds
                .as_ref()
                .is_none_or(|k| k.iter().any(|(_, kind)| *kind == r.kind))
        })
        .collect()
}

/// The manifests as one multi-document YAML stream, with comments on what to do next.
pub fn render(opts: &InstallOptions) -> Result<String, serde_yaml_ng::Error> {
    let mut out = String::new();
    out.push_str("# Palisade admission webhook. Apply with `kubectl apply -f -`.\n");
    out.push_str(&format!(
        "# The serving certificate is read from the Secret {NAME}-tls (keys tls.crt, tls.key) in\n\
         # namespace {ns}, e.g.:\n\
         #   kubectl -n {ns} create secret tls {NAME}-tls --cert=DIR/tls.crt --key=DIR/tls.key\n\
         # The certificate must be valid for {NAME}.{ns}.svc; it is reloaded when rotated.\n",
        ns = opts.namespace
    ));
    if opts.ca_pem.is_none() {
        out.push_str(
            "# NOTE: caBundle is empty. Set it to the base64 PEM of the CA that signed the serving\n\
             # certificate (or run with --gen-certs DIR, or let cert-manager's CA injector fill it).\n",
        );
    }
    for obj in objects(opts) {
        out.push_str("---\n");
        out.push_str(&serde_yaml_ng::to_string(&obj)?);
    }
    Ok(out)
}
