//! Reads a live Kubernetes cluster into Palisade objects.
//!
//! Configuration comes from a kubeconfig (a named context, or the current one) or from the
//! in-cluster service account, through kube-rs with rustls. A read is: `/version`; discovery
//! (`/api/v1`, `/apis` and the group-versions of the kinds Palisade knows); then one paginated
//! list (`limit` + `continue`) per kind, at most [`ReadOptions::concurrency`] requests in
//! flight. Secrets are listed as `PartialObjectMetadataList`, so no Secret value ever leaves
//! the API server. `managedFields` are dropped as objects arrive.
//!
//! A metadata-only Secret has no `type`, and SEC006 needs it. The type is read without the
//! values with field selectors, in two metadata-only lists that together hold every Secret
//! exactly once: `type=kubernetes.io/service-account-token` (those items get
//! `type: kubernetes.io/service-account-token`) and `type!=kubernetes.io/service-account-token`
//! (those items get no `type`: they are known not to be service-account tokens; which other
//! type they have is not read, as no rule needs it). That is one list request more than a
//! plain metadata list, the same `list secrets` permission, and exact: the type of a Secret
//! cannot change, so no Secret can be in both lists. [`SECRET_TYPES_READ`] names the types
//! read this way.
//!
//! CustomResourceDefinitions are listed as metadata (their schemas are large and no rule
//! reads them) unless [`ReadOptions::full_crds`] asks for them in full, as `palisade
//! snapshot` does so that an export can restore them.
//!
//! A kind that cannot be read (403, timeout, error) does not stop the read: it is listed in
//! [`ClusterRead::unreadable`] with the reason, and the report shows it.

pub mod pull_secrets;
pub mod watch;

pub use palisade_core::resources::{Resource, RESOURCES};

use http::header::ACCEPT;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The Accept header that makes the API server answer with metadata only.
pub const METADATA_ACCEPT: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";

/// The Secret types the reader recognises (with a `type=` field selector) and sets on the
/// metadata-only Secrets it returns: the ones a rule reads (SEC006). A Secret without `type`
/// in the result is of none of these.
pub const SECRET_TYPES_READ: &[&str] = &["kubernetes.io/service-account-token"];

/// Why a cluster could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig or in-cluster configuration could not be loaded.
    #[error("cannot load the cluster configuration: {0}")]
    Config(String),
    /// The client could not be built.
    #[error("cannot build the Kubernetes client")]
    Client(#[source] Box<kube::Error>),
    /// The API server could not be reached or refused the credentials.
    #[error("cannot read {what} from the API server")]
    Api {
        /// What was requested.
        what: String,
        /// The cause.
        #[source]
        source: Box<kube::Error>,
    },
    /// A request timed out before the API server answered.
    #[error("{what}: no answer from the API server within {secs} s")]
    Timeout {
        /// What was requested.
        what: String,
        /// The timeout.
        secs: u64,
    },
    /// The async runtime could not start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
}

/// Progress of a read, for a progress bar.
#[derive(Clone, Debug)]
pub enum Progress {
    /// Discovery is done: this many kinds will be listed.
    Start {
        /// Number of kinds.
        kinds: usize,
    },
    /// One kind is done (or failed).
    Done {
        /// The resource (`pods`, `ingresses.networking.k8s.io`).
        resource: String,
        /// Objects read.
        objects: usize,
    },
}

/// A progress callback.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// How to read a cluster.
#[derive(Clone)]
pub struct ReadOptions {
    /// Kubeconfig file; default: `KUBECONFIG`, `~/.kube/config`, then in-cluster.
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context; default: the current context.
    pub context: Option<String>,
    /// Only this namespace (cluster-scoped kinds are still read).
    pub namespace: Option<String>,
    /// Kinds to read (`None`: every kind in [`RESOURCES`]).
    pub kinds: Option<HashSet<String>>,
    /// Page size of list requests (`limit`).
    pub page_size: u32,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Time limit of one request.
    pub timeout: Duration,
    /// Progress callback.
    pub progress: Option<ProgressFn>,
    /// Also read each Node's kubelet configuration through the API server's node proxy
    /// (`/api/v1/nodes/NAME/proxy/configz`, needs `get nodes/proxy`), as
    /// `KubeletConfiguration` objects named after their Node.
    pub kubelet_config: bool,
    /// List CustomResourceDefinitions in full (with their schemas) instead of as metadata:
    /// what a snapshot needs for an export to restore them.
    pub full_crds: bool,
    /// Also read Gatekeeper's ConstraintTemplates (`templates.gatekeeper.sh/v1`) and, for
    /// each, the constraints of the kind it defines (`constraints.gatekeeper.sh`), whose
    /// resource is the lower-case kind, and the parameter objects of the
    /// ValidatingAdmissionPolicies read: the cluster's own policy, for
    /// `--policy-from-input`.
    pub gatekeeper: bool,
    /// Also read the API server's `/metrics` for `apiserver_requested_deprecated_apis`: the
    /// deprecated API versions clients have called since the API server started. Needs
    /// `get` on the non-resource URL `/metrics`; when it cannot be read, the scan says so
    /// and goes on.
    pub deprecated_api_metrics: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            kubeconfig: None,
            context: None,
            namespace: None,
            kinds: None,
            page_size: 500,
            concurrency: 8,
            timeout: Duration::from_secs(60),
            progress: None,
            kubelet_config: false,
            full_crds: false,
            gatekeeper: false,
            deprecated_api_metrics: false,
        }
    }
}

impl std::fmt::Debug for ReadOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOptions")
            .field("context", &self.context)
            .field("namespace", &self.namespace)
            .field("page_size", &self.page_size)
            .field("concurrency", &self.concurrency)
            .finish()
    }
}

/// A kind that could not be read, and why (the snapshot header keeps the same list).
pub use palisade_load::snapshot::Unread as Unreadable;

/// What a read produced: the objects as compact JSON lines by default ([`read`]), or as
/// whatever a [`Convert`] made of each one as its page arrived ([`read_with`]).
#[derive(Debug, Default)]
pub struct ClusterRead<T = String> {
    /// The context name (`in-cluster` for the service-account configuration).
    pub context: String,
    /// The API server URL.
    pub server: String,
    /// `gitVersion` from `/version`.
    pub server_version: Option<String>,
    /// The objects as compact JSON (one line each, ready for a snapshot; about ten times
    /// smaller than parsed values), `apiVersion`/`kind` set, `managedFields` removed;
    /// Secrets as metadata. With [`read_with`], what its [`Convert`] made of each of them.
    /// In the order of [`RESOURCES`], then the server's order within a kind, then what
    /// is read beside the table (constraints, parameter objects, kubelet configurations).
    pub objects: Vec<T>,
    /// Objects read per resource.
    pub counts: BTreeMap<String, usize>,
    /// Kinds that could not be read.
    pub unreadable: Vec<Unreadable>,
    /// The deprecated API versions the API server reports as requested
    /// (`apiserver_requested_deprecated_apis`), when asked for and readable.
    pub deprecated_api_requests: Option<Vec<DeprecatedApiRequest>>,
    /// Why `/metrics` could not be read, when it was asked for and not readable.
    pub metrics_unreadable: Option<String>,
}

/// The context names of a kubeconfig (for `--all-contexts`).
pub fn contexts(kubeconfig: Option<&std::path::Path>) -> Result<Vec<String>, Error> {
    let kc = match kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p),
        None => kube::config::Kubeconfig::read(),
    }
    .map_err(|e| Error::Config(e.to_string()))?;
    Ok(kc.contexts.into_iter().map(|c| c.name).collect())
}

/// Reads the cluster (blocking; runs its own small runtime).
pub fn read(opts: &ReadOptions) -> Result<ClusterRead, Error> {
    read_with(opts, |_| lines())
}

/// What [`read_with`] makes of each object read: called with its resource and the object
/// (normalized: `apiVersion`/`kind` set, `managedFields` removed, Secrets as metadata with
/// their embedded values redacted), on a blocking thread, as each page arrives; the page is
/// freed once its objects are converted.
pub type Convert<T> = Arc<dyn Fn(&'static Resource, Value) -> T + Send + Sync>;

/// The [`Convert`] of [`read`]: each object as a compact JSON line.
pub fn lines() -> Convert<String> {
    Arc::new(|_, v| v.to_string())
}

/// [`read`], converting each object as its page arrives: a scan judges each object and
/// keeps what the rules that look across objects need, so that the whole cluster is never
/// held. `make` is called once the server's `gitVersion` is known (some rules judge an
/// object against the server's release), before any object is read.
pub fn read_with<T: Send + 'static>(
    opts: &ReadOptions,
    make: impl FnOnce(Option<&str>) -> Convert<T>,
) -> Result<ClusterRead<T>, Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    rt.block_on(read_async_with(opts, make))
}

async fn config(opts: &ReadOptions) -> Result<(kube::Config, String), Error> {
    let kc = match &opts.kubeconfig {
        Some(p) => {
            Some(kube::config::Kubeconfig::read_from(p).map_err(|e| Error::Config(e.to_string()))?)
        }
        None => kube::config::Kubeconfig::read().ok(),
    };
    match kc {
        Some(kc) => {
            let name = opts
                .context
                .clone()
                .or_else(|| kc.current_context.clone())
                .unwrap_or_default();
            let options = kube::config::KubeConfigOptions {
                context: opts.context.clone(),
                ..Default::default()
            };
            let cfg = kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| Error::Config(e.to_string()))?;
            Ok((cfg, name))
        }
        None if opts.context.is_some() => Err(Error::Config(
            "no kubeconfig found (KUBECONFIG, ~/.kube/config) to take the context from".into(),
        )),
        None => kube::Config::incluster()
            .map(|c| (c, "in-cluster".to_owned()))
            .map_err(|e| Error::Config(format!("no kubeconfig and not in a cluster: {e}"))),
    }
}

/// The User-Agent of every request the reader sends.
pub const USER_AGENT: &str = concat!("palisade/", env!("CARGO_PKG_VERSION"));

/// A client for the configured cluster, with Palisade's User-Agent; and the context name
/// and server URL.
async fn client(opts: &ReadOptions) -> Result<(kube::Client, String, String), Error> {
    let (mut cfg, context) = config(opts).await?;
    // Our own per-request limit (below) answers first, with a clear message.
    cfg.read_timeout = Some(opts.timeout * 2);
    // Audit logs name the tool (`palisade detect` tells its own reads by it, together
    // with the service account it runs as).
    cfg.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    let server = cfg.cluster_url.to_string();
    let client = kube::Client::try_from(cfg).map_err(|e| Error::Client(Box::new(e)))?;
    Ok((client, context, server))
}

/// Discovery: which of the wanted resources the server serves (`/apis`, then the
/// group-version documents of the wanted ones).
async fn served_resources(
    reader: &Reader,
    wanted: Vec<&'static Resource>,
) -> Result<Vec<&'static Resource>, Error> {
    Ok(discover(reader, wanted).await?.0)
}

/// [`served_resources`], and every group-version the server serves.
async fn discover(
    reader: &Reader,
    wanted: Vec<&'static Resource>,
) -> Result<(Vec<&'static Resource>, HashSet<String>), Error> {
    let apis: Value = reader.get_json("/apis", None, "discovery /apis").await?;
    let mut served_gv: HashSet<String> = HashSet::from(["v1".to_owned()]);
    for g in apis["groups"].as_array().into_iter().flatten() {
        for v in g["versions"].as_array().into_iter().flatten() {
            if let Some(gv) = v["groupVersion"].as_str() {
                served_gv.insert(gv.to_owned());
            }
        }
    }
    let mut gvs: Vec<&str> = wanted
        .iter()
        .map(|r| r.api_version)
        .filter(|gv| served_gv.contains(*gv))
        .collect();
    gvs.sort_unstable();
    gvs.dedup();
    let mut disc = tokio::task::JoinSet::new();
    for gv in gvs {
        let reader = reader.clone();
        disc.spawn(async move {
            let path = if gv == "v1" {
                "/api/v1".to_owned()
            } else {
                format!("/apis/{gv}")
            };
            let doc = reader
                .get_json(&path, None, &format!("discovery {path}"))
                .await;
            (gv, doc)
        });
    }
    let mut served: HashSet<(String, String)> = HashSet::new();
    while let Some(res) = disc.join_next().await {
        let Ok((gv, doc)) = res else { continue };
        let doc = doc?;
        for r in doc["resources"].as_array().into_iter().flatten() {
            if let Some(name) = r["name"].as_str() {
                served.insert((gv.to_owned(), name.to_owned()));
            }
        }
    }
    let resources = wanted
        .into_iter()
        .filter(|r| served.contains(&(r.api_version.to_owned(), r.plural.to_owned())))
        .collect();
    Ok((resources, served_gv))
}

/// Reads the cluster.
pub async fn read_async(opts: &ReadOptions) -> Result<ClusterRead, Error> {
    read_async_with(opts, |_| lines()).await
}

/// What the reader notes of the objects as they pass, for the reads that follow the lists:
/// the Nodes (their kubelet configurations), the kinds the ConstraintTemplates define (their
/// constraints) and the `paramKind`s of the ValidatingAdmissionPolicies (their parameters).
#[derive(Debug, Default)]
struct Noted {
    nodes: Vec<String>,
    constraint_kinds: Vec<String>,
    param_kinds: Vec<(String, String)>,
}

/// A converter that also notes what [`Noted`] keeps.
struct Converter<T> {
    convert: Convert<T>,
    noted: Arc<std::sync::Mutex<Noted>>,
}

impl<T> Clone for Converter<T> {
    fn clone(&self) -> Self {
        Converter {
            convert: self.convert.clone(),
            noted: self.noted.clone(),
        }
    }
}

impl<T: Send + 'static> Converter<T> {
    fn note(&self, r: &Resource, v: &Value) {
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let mut n = self.noted.lock().unwrap_or_else(|e| e.into_inner());
        match (r.api_version, r.kind) {
            ("v1", "Node") => n.nodes.extend(s("/metadata/name")),
            (_, "ConstraintTemplate") if std::ptr::eq(r, &CONSTRAINT_TEMPLATES) => {
                n.constraint_kinds.extend(s("/spec/crd/spec/names/kind"));
            }
            (a, "ValidatingAdmissionPolicy") if a.starts_with("admissionregistration.k8s.io/") => {
                if let (Some(api_version), Some(kind)) =
                    (s("/spec/paramKind/apiVersion"), s("/spec/paramKind/kind"))
                {
                    n.param_kinds.push((api_version, kind));
                }
            }
            _ => {}
        }
    }

    /// Converts one page, off the async threads (judging objects is CPU work).
    async fn page(&self, r: &'static Resource, items: Vec<Value>) -> Result<Vec<T>, String> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            items
                .into_iter()
                .map(|v| {
                    this.note(r, &v);
                    (this.convert)(r, v)
                })
                .collect::<Vec<T>>()
        })
        .await
        .map_err(|e| format!("the objects read could not be processed: {e}"))
    }
}

/// [`read_async`], converting each object as its page arrives (see [`read_with`]).
pub async fn read_async_with<T: Send + 'static>(
    opts: &ReadOptions,
    make: impl FnOnce(Option<&str>) -> Convert<T>,
) -> Result<ClusterRead<T>, Error> {
    let (client, context, server) = client(opts).await?;
    let reader = Reader {
        client,
        timeout: opts.timeout,
        sem: Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1))),
    };
    let version: Value = reader.get_json("/version", None, "/version").await?;
    let server_version = version
        .get("gitVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let conv = Converter {
        convert: make(server_version.as_deref()),
        noted: Arc::default(),
    };

    // Discovery: which of the known resources does this server serve?
    let wanted: Vec<&'static Resource> = RESOURCES
        .iter()
        .filter(|r| opts.kinds.as_ref().is_none_or(|k| k.contains(r.kind)))
        .collect();
    let (to_list, served_gv) = discover(&reader, wanted).await?;
    if let Some(p) = &opts.progress {
        p(Progress::Start {
            kinds: to_list.len(),
        });
    }

    let mut lists = tokio::task::JoinSet::new();
    for r in to_list {
        let reader = reader.clone();
        let page = opts.page_size;
        let ns = if r.namespaced {
            opts.namespace.clone()
        } else {
            None
        };
        let progress = opts.progress.clone();
        let metadata_only =
            r.metadata_only && !(opts.full_crds && r.kind == "CustomResourceDefinition");
        let conv = conv.clone();
        lists.spawn(async move {
            let out = if r.kind == "Secret" && r.api_version == "v1" {
                reader.list_secrets(r, ns.as_deref(), page, &conv).await
            } else {
                let spec = ListSpec {
                    metadata_only,
                    field_selector: None,
                    set_type: None,
                };
                reader.list(r, ns.as_deref(), page, &spec, &conv).await
            };
            if let Some(p) = &progress {
                p(Progress::Done {
                    resource: r.resource_name(),
                    objects: out.as_ref().map(Vec::len).unwrap_or(0),
                });
            }
            (r, out)
        });
    }
    let mut read = ClusterRead {
        context,
        server,
        server_version,
        objects: Vec::new(),
        counts: BTreeMap::new(),
        unreadable: Vec::new(),
        deprecated_api_requests: None,
        metrics_unreadable: None,
    };
    let mut parts = Vec::new();
    while let Some(res) = lists.join_next().await {
        let Ok((r, out)) = res else { continue };
        match out {
            Ok(items) => {
                read.counts.insert(r.resource_name(), items.len());
                parts.push((r, items));
            }
            Err(u) => read.unreadable.push(u),
        }
    }
    // A stable order: the table's order, then the server's order within a kind.
    parts.sort_by_key(|(r, _)| RESOURCES.iter().position(|x| std::ptr::eq(x, *r)));
    for (_, items) in parts {
        read.objects.extend(items);
    }
    if opts.kubelet_config {
        reader.kubelet_configs(&mut read, &conv).await;
    }
    if opts.gatekeeper {
        reader
            .gatekeeper(&served_gv, opts.page_size, &mut read, &conv)
            .await;
        reader
            .vap_params(opts.namespace.as_deref(), opts.page_size, &mut read, &conv)
            .await;
    }
    if opts.deprecated_api_metrics {
        match reader.get_raw("/metrics", Some("text/plain")).await {
            Ok(text) => read.deprecated_api_requests = Some(parse_deprecated_api_metric(&text)),
            Err((Failure::Status(code, m), _)) => {
                read.metrics_unreadable = Some(format!("HTTP {code}: {m}"));
            }
            Err((Failure::Timeout, _)) => {
                read.metrics_unreadable =
                    Some(format!("timed out after {}s", reader.timeout.as_secs()));
            }
            Err((Failure::Other(m), e)) => {
                read.metrics_unreadable = Some(e.map_or(m, |e| e.to_string()));
            }
        }
    }
    read.unreadable.sort_by(|a, b| a.resource.cmp(&b.resource));
    Ok(read)
}

/// A deprecated API version the API server has served since it started: one sample of its
/// `apiserver_requested_deprecated_apis` gauge (set to 1 once a client requests it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeprecatedApiRequest {
    /// API group (`""` for the core group).
    pub group: String,
    /// Version (`v1beta1`).
    pub version: String,
    /// Resource (`cronjobs`).
    pub resource: String,
    /// Subresource, when the request was for one.
    pub subresource: String,
    /// The release that removes it (`1.25`), when the API server knows one.
    pub removed_release: String,
}

impl std::fmt::Display for DeprecatedApiRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            write!(f, "{} {}", self.version, self.resource)?;
        } else {
            write!(f, "{}/{} {}", self.group, self.version, self.resource)?;
        }
        if !self.subresource.is_empty() {
            write!(f, "/{}", self.subresource)?;
        }
        if !self.removed_release.is_empty() {
            write!(f, " (removed in {})", self.removed_release)?;
        }
        Ok(())
    }
}

/// The samples of `apiserver_requested_deprecated_apis` with a non-zero value in a Prometheus
/// text exposition, in order and without duplicates. Lines that do not parse are skipped.
pub fn parse_deprecated_api_metric(text: &str) -> Vec<DeprecatedApiRequest> {
    const NAME: &str = "apiserver_requested_deprecated_apis{";
    let mut out: Vec<DeprecatedApiRequest> = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(NAME) else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once('}') else {
            continue;
        };
        if !value.trim().parse::<f64>().is_ok_and(|v| v > 0.0) {
            continue;
        }
        let mut r = DeprecatedApiRequest {
            group: String::new(),
            version: String::new(),
            resource: String::new(),
            subresource: String::new(),
            removed_release: String::new(),
        };
        // Label values are quoted and never contain `"` here (group, version and resource
        // names are DNS labels; the release is a version number).
        for pair in labels.split("\",") {
            let Some((k, v)) = pair.split_once("=\"") else {
                continue;
            };
            let v = v.trim_end_matches('"').to_owned();
            match k.trim_start_matches(',') {
                "group" => r.group = v,
                "version" => r.version = v,
                "resource" => r.resource = v,
                "subresource" => r.subresource = v,
                "removed_release" => r.removed_release = v,
                _ => {}
            }
        }
        if !r.version.is_empty() && !r.resource.is_empty() && !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// Gatekeeper's ConstraintTemplates.
static CONSTRAINT_TEMPLATES: Resource = Resource {
    kind: "ConstraintTemplate",
    api_version: "templates.gatekeeper.sh/v1",
    plural: "constrainttemplates",
    namespaced: false,
    metadata_only: false,
};

impl Reader {
    /// Lists the ConstraintTemplates, then the constraints of each template's kind. A cluster
    /// without Gatekeeper has neither, and nothing is read; a list that fails is unreadable.
    async fn gatekeeper<T: Send + 'static>(
        &self,
        served_gv: &HashSet<String>,
        page: u32,
        read: &mut ClusterRead<T>,
        conv: &Converter<T>,
    ) {
        if !served_gv.contains(CONSTRAINT_TEMPLATES.api_version) {
            return;
        }
        let spec = ListSpec {
            metadata_only: false,
            field_selector: None,
            set_type: None,
        };
        let templates = match self
            .list(&CONSTRAINT_TEMPLATES, None, page, &spec, conv)
            .await
        {
            Ok(items) => items,
            Err(u) => {
                read.unreadable.push(u);
                return;
            }
        };
        read.counts
            .insert(CONSTRAINT_TEMPLATES.resource_name(), templates.len());
        let mut kinds: Vec<String> = std::mem::take(
            &mut conv
                .noted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .constraint_kinds,
        );
        // A list started again (an expired continue token) notes its templates twice.
        let mut seen = HashSet::new();
        kinds.retain(|k| seen.insert(k.clone()));
        read.objects.extend(templates);
        let Some(gv) = [
            "constraints.gatekeeper.sh/v1beta1",
            "constraints.gatekeeper.sh/v1",
        ]
        .into_iter()
        .find(|gv| served_gv.contains(*gv)) else {
            return;
        };
        for kind in kinds {
            // One Resource per constraint kind, for the rest of the process (as the fixed
            // table's are).
            let r: &'static Resource = Box::leak(Box::new(Resource {
                plural: Box::leak(kind.to_ascii_lowercase().into_boxed_str()),
                kind: Box::leak(kind.into_boxed_str()),
                api_version: gv,
                namespaced: false,
                metadata_only: false,
            }));
            match self.list(r, None, page, &spec, conv).await {
                Ok(items) => {
                    read.counts.insert(r.resource_name(), items.len());
                    read.objects.extend(items);
                }
                Err(u) => read.unreadable.push(u),
            }
        }
    }
}

impl Reader {
    /// Lists the parameter objects of the ValidatingAdmissionPolicies read: each `paramKind`
    /// the fixed table does not already read (a custom resource, found through discovery),
    /// in full. Secrets are never read as parameters: their values never leave the API
    /// server (the policy loader says such a policy cannot be evaluated). A kind the server
    /// does not serve, or a list that fails, is unreadable, and the policy's
    /// `parameterNotFoundAction` applies.
    async fn vap_params<T: Send + 'static>(
        &self,
        namespace: Option<&str>,
        page: u32,
        read: &mut ClusterRead<T>,
        conv: &Converter<T>,
    ) {
        let spec = ListSpec {
            metadata_only: false,
            field_selector: None,
            set_type: None,
        };
        let mut param_kinds = std::mem::take(
            &mut conv
                .noted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .param_kinds,
        );
        param_kinds.sort();
        param_kinds.dedup();
        for (api_version, kind) in param_kinds {
            if kind == "Secret" && api_version == "v1" {
                continue;
            }
            if let Some(r) = RESOURCES
                .iter()
                .find(|r| r.kind == kind && r.api_version == api_version)
            {
                // Already read (or a metadata-only kind, never read in full).
                if read.counts.contains_key(&r.resource_name()) || r.metadata_only {
                    continue;
                }
            }
            let path = if api_version == "v1" {
                "/api/v1".to_owned()
            } else {
                format!("/apis/{api_version}")
            };
            let unreadable = |status: u16, message: String| Unreadable {
                resource: format!("{kind} ({api_version})"),
                kind: kind.clone(),
                status,
                message,
            };
            let doc = match self.get_raw(&path, None).await {
                Ok(text) => serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                Err((f, _)) => {
                    let (status, message) = match f {
                        Failure::Status(s, m) => (s, m),
                        Failure::Timeout => (0, "discovery timed out".to_owned()),
                        Failure::Other(m) => (0, m),
                    };
                    read.unreadable.push(unreadable(
                        status,
                        format!(
                            "paramKind of a ValidatingAdmissionPolicy: discovery {path}: {message}"
                        ),
                    ));
                    continue;
                }
            };
            let found = doc["resources"].as_array().into_iter().flatten().find(|r| {
                r["kind"] == kind.as_str() && r["name"].as_str().is_some_and(|n| !n.contains('/'))
            });
            let Some(found) = found else {
                read.unreadable.push(unreadable(
                    404,
                    format!("paramKind of a ValidatingAdmissionPolicy: the server does not serve kind {kind} in {api_version}"),
                ));
                continue;
            };
            // One Resource per parameter kind, for the rest of the process (as the fixed
            // table's are).
            let r: &'static Resource = Box::leak(Box::new(Resource {
                plural: Box::leak(
                    found["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned()
                        .into_boxed_str(),
                ),
                kind: Box::leak(kind.clone().into_boxed_str()),
                api_version: Box::leak(api_version.clone().into_boxed_str()),
                namespaced: found["namespaced"].as_bool().unwrap_or(false),
                metadata_only: false,
            }));
            match self.list(r, namespace, page, &spec, conv).await {
                Ok(items) => {
                    read.counts.insert(r.resource_name(), items.len());
                    read.objects.extend(items);
                }
                Err(u) => read.unreadable.push(u),
            }
        }
    }
}

/// The resource name under which kubelet configurations that cannot be read are listed.
pub const CONFIGZ_RESOURCE: &str = "nodes/proxy";

/// The kubelet configurations read through the node proxy, as a resource for [`Convert`].
static KUBELET_CONFIGURATION: Resource = Resource {
    kind: "KubeletConfiguration",
    api_version: "kubelet.config.k8s.io/v1beta1",
    plural: "nodes/proxy/configz",
    namespaced: false,
    metadata_only: false,
};

impl Reader {
    /// Reads `/api/v1/nodes/NAME/proxy/configz` for every Node read; the Nodes whose kubelet
    /// cannot be reached or whose proxy is forbidden are listed once, together.
    async fn kubelet_configs<T: Send + 'static>(
        &self,
        read: &mut ClusterRead<T>,
        conv: &Converter<T>,
    ) {
        let mut nodes: Vec<String> = conv
            .noted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .nodes
            .clone();
        // A list started again (an expired continue token) notes its Nodes twice.
        nodes.sort();
        nodes.dedup();
        let mut tasks = tokio::task::JoinSet::new();
        for name in nodes {
            let reader = self.clone();
            tasks.spawn(async move {
                let path = format!("/api/v1/nodes/{name}/proxy/configz");
                (name, reader.get_raw(&path, None).await)
            });
        }
        let mut failed: Vec<(String, u16, String)> = Vec::new();
        let mut got = Vec::new();
        while let Some(res) = tasks.join_next().await {
            let Ok((name, out)) = res else { continue };
            let parsed = out.map_err(|(f, _)| f).and_then(|text| {
                serde_json::from_str::<Value>(&text)
                    .map_err(|e| Failure::Other(format!("not JSON: {e}")))
            });
            match parsed {
                Ok(mut v) => {
                    let mut cfg = match v.get_mut("kubeletconfig").map(Value::take) {
                        Some(Value::Object(m)) => m,
                        _ => serde_json::Map::new(),
                    };
                    cfg.remove("apiVersion");
                    cfg.remove("kind");
                    let mut obj = serde_json::Map::new();
                    obj.insert("apiVersion".into(), "kubelet.config.k8s.io/v1beta1".into());
                    obj.insert("kind".into(), "KubeletConfiguration".into());
                    obj.insert("metadata".into(), serde_json::json!({ "name": name }));
                    obj.append(&mut cfg);
                    got.push((name, Value::Object(obj)));
                }
                Err(Failure::Status(code, m)) => failed.push((name, code, m)),
                Err(Failure::Timeout) => failed.push((
                    name,
                    0,
                    format!("no answer within {} s", self.timeout.as_secs()),
                )),
                Err(Failure::Other(m)) => failed.push((name, 0, m)),
            }
        }
        got.sort_by(|a, b| a.0.cmp(&b.0));
        read.counts
            .insert("nodes/proxy/configz".to_owned(), got.len());
        match conv
            .page(
                &KUBELET_CONFIGURATION,
                got.into_iter().map(|(_, v)| v).collect(),
            )
            .await
        {
            Ok(items) => read.objects.extend(items),
            Err(message) => read.unreadable.push(Unreadable {
                resource: CONFIGZ_RESOURCE.to_owned(),
                kind: "KubeletConfiguration".to_owned(),
                status: 0,
                message,
            }),
        }
        if !failed.is_empty() {
            failed.sort();
            let names: Vec<&str> = failed.iter().map(|f| f.0.as_str()).collect();
            read.unreadable.push(Unreadable {
                resource: CONFIGZ_RESOURCE.to_owned(),
                kind: "KubeletConfiguration".to_owned(),
                status: failed[0].1,
                message: format!(
                    "kubelet configuration of {} node(s) ({}): {}",
                    failed.len(),
                    names.join(", "),
                    failed[0].2
                ),
            });
        }
    }
}

#[derive(Clone)]
struct Reader {
    client: kube::Client,
    timeout: Duration,
    sem: Arc<tokio::sync::Semaphore>,
}

enum Failure {
    Status(u16, String),
    Timeout,
    Other(String),
}

/// How one list is requested and its items completed.
struct ListSpec {
    /// Ask for `PartialObjectMetadataList` and keep only the metadata.
    metadata_only: bool,
    /// A `fieldSelector`.
    field_selector: Option<String>,
    /// The Secret `type` to set on every item (the field selector guarantees it).
    set_type: Option<&'static str>,
}

impl Reader {
    async fn get_raw(
        &self,
        path_and_query: &str,
        accept: Option<&str>,
    ) -> Result<String, (Failure, Option<kube::Error>)> {
        let mut req = http::Request::get(path_and_query);
        req = req.header(ACCEPT, accept.unwrap_or("application/json"));
        let req = req
            .body(Vec::new())
            .map_err(|e| (Failure::Other(e.to_string()), None))?;
        let _permit = self
            .sem
            .acquire()
            .await
            .map_err(|e| (Failure::Other(e.to_string()), None))?;
        match tokio::time::timeout(self.timeout, self.client.request_text(req)).await {
            Err(_) => Err((Failure::Timeout, None)),
            Ok(Ok(text)) => Ok(text),
            Ok(Err(kube::Error::Api(e))) => {
                let msg = if e.message.is_empty() {
                    e.reason.clone()
                } else {
                    e.message.clone()
                };
                Err((Failure::Status(e.code, msg), Some(kube::Error::Api(e))))
            }
            Ok(Err(e)) => Err((Failure::Other(format!("{e}")), Some(e))),
        }
    }

    async fn get_json(&self, path: &str, accept: Option<&str>, what: &str) -> Result<Value, Error> {
        match self.get_raw(path, accept).await {
            Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Api {
                what: what.to_owned(),
                source: Box::new(kube::Error::SerdeError(e)),
            }),
            Err((Failure::Timeout, _)) => Err(Error::Timeout {
                what: what.to_owned(),
                secs: self.timeout.as_secs(),
            }),
            Err((_, Some(e))) => Err(Error::Api {
                what: what.to_owned(),
                source: Box::new(e),
            }),
            Err((Failure::Other(m), None)) | Err((Failure::Status(_, m), None)) => {
                Err(Error::Config(m))
            }
        }
    }

    /// Lists Secrets as metadata, with their type where a rule needs it (see the module
    /// documentation): one list per type in [`SECRET_TYPES_READ`], with `type=T`, and one of
    /// the rest, with `type!=T` for each. Every Secret is in exactly one of them. The result
    /// is in the API server's order (namespace, name).
    async fn list_secrets<T: Send + 'static>(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        page: u32,
        conv: &Converter<T>,
    ) -> Result<Vec<T>, Unreadable> {
        let mut specs: Vec<ListSpec> = SECRET_TYPES_READ
            .iter()
            .map(|t| ListSpec {
                metadata_only: true,
                field_selector: Some(format!("type={t}")),
                set_type: Some(*t),
            })
            .collect();
        specs.push(ListSpec {
            metadata_only: true,
            field_selector: Some(
                SECRET_TYPES_READ
                    .iter()
                    .map(|t| format!("type!={t}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            set_type: None,
        });
        // Each Secret converted with its place: (namespace, name).
        let keyed = Converter {
            convert: {
                let convert = conv.convert.clone();
                Arc::new(move |r: &'static Resource, v: Value| {
                    let s = |p: &str| {
                        v.pointer(p)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned()
                    };
                    let key = (s("/metadata/namespace"), s("/metadata/name"));
                    (key, convert(r, v))
                }) as Convert<((String, String), T)>
            },
            noted: conv.noted.clone(),
        };
        let mut tasks = Vec::new();
        for spec in &specs {
            tasks.push(self.list(r, namespace, page, spec, &keyed));
        }
        let mut all = Vec::new();
        for out in join_all(tasks).await {
            all.extend(out?);
        }
        all.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(all.into_iter().map(|(_, t)| t).collect())
    }

    /// Lists one resource, following `continue` tokens. A 410 (the continue token expired)
    /// starts the list again once.
    async fn list<T: Send + 'static>(
        &self,
        r: &'static Resource,
        namespace: Option<&str>,
        page: u32,
        spec: &ListSpec,
        conv: &Converter<T>,
    ) -> Result<Vec<T>, Unreadable> {
        let mut base = format!("{}?", r.collection_path(namespace));
        if let Some(sel) = &spec.field_selector {
            base.push_str("fieldSelector=");
            base.push_str(&encode_query(sel));
            base.push('&');
        }
        let accept = spec.metadata_only.then_some(METADATA_ACCEPT);
        let mut restarted = false;
        'again: loop {
            let mut items = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut q = format!("{base}limit={page}");
                if let Some(t) = &token {
                    q.push_str("&continue=");
                    q.push_str(&encode_query(t));
                }
                let text = match self.get_raw(&q, accept).await {
                    Ok(t) => t,
                    Err((Failure::Status(410, _), _)) if !restarted => {
                        restarted = true;
                        continue 'again;
                    }
                    Err((f, _)) => {
                        let (status, message) = match f {
                            Failure::Status(s, m) => (s, m),
                            Failure::Timeout => {
                                (0, format!("no answer within {} s", self.timeout.as_secs()))
                            }
                            Failure::Other(m) => (0, m),
                        };
                        return Err(Unreadable {
                            resource: r.resource_name(),
                            kind: r.kind.to_owned(),
                            status,
                            message,
                        });
                    }
                };
                let mut list: Value = serde_json::from_str(&text).map_err(|e| Unreadable {
                    resource: r.resource_name(),
                    kind: r.kind.to_owned(),
                    status: 200,
                    message: format!("the answer is not a JSON list: {e}"),
                })?;
                drop(text);
                if let Some(Value::Array(page_items)) = list.get_mut("items").map(Value::take) {
                    let page_items: Vec<Value> = page_items
                        .into_iter()
                        .map(|i| normalize(r, i, spec.metadata_only, spec.set_type))
                        .collect();
                    let converted =
                        conv.page(r, page_items)
                            .await
                            .map_err(|message| Unreadable {
                                resource: r.resource_name(),
                                kind: r.kind.to_owned(),
                                status: 0,
                                message,
                            })?;
                    items.extend(converted);
                }
                token = list
                    .pointer("/metadata/continue")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
                if token.is_none() {
                    return Ok(items);
                }
            }
        }
    }
}

/// Percent-encodes a continue token for a query string.
fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs futures concurrently (each still waits for the request semaphore) and returns their
/// outputs in order.
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<std::pin::Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Gives a list item its `apiVersion` and `kind` (lists omit them; metadata-only lists say
/// `PartialObjectMetadata`) and drops `managedFields`. A metadata-only item keeps only its
/// metadata, plus `type` when the list's field selector established it (`set_type`).
fn normalize(r: &Resource, mut item: Value, metadata_only: bool, set_type: Option<&str>) -> Value {
    if r.kind == "Secret" {
        // Metadata only, yet annotations can still carry the values (the applied object).
        palisade_core::redact_secret(&mut item);
    }
    if let Value::Object(map) = &mut item {
        if metadata_only {
            // Keep only what a PartialObjectMetadata carries: the metadata.
            map.retain(|k, _| k == "metadata");
        }
        if let Some(t) = set_type {
            map.insert("type".into(), Value::String(t.to_owned()));
        }
        map.insert("apiVersion".into(), Value::String(r.api_version.to_owned()));
        map.insert("kind".into(), Value::String(r.kind.to_owned()));
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.remove("managedFields");
        }
        // Put apiVersion and kind first, as kubectl prints them.
        let mut sorted = serde_json::Map::with_capacity(map.len());
        for k in ["apiVersion", "kind", "metadata"] {
            if let Some(v) = map.remove(k) {
                sorted.insert(k.to_owned(), v);
            }
        }
        sorted.append(map);
        *map = sorted;
    }
    item
}

/// The read-only ClusterRole a scan or snapshot needs: get/list on exactly the resources it
/// reads (and nothing else); `get` on `/metrics` when it reads the deprecated-API metric
/// ([`ReadOptions::deprecated_api_metrics`]). The front-end serialises it.
pub fn cluster_role(kinds: Option<&HashSet<String>>, kubelet_config: bool, metrics: bool) -> Value {
    let mut by_group: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for r in RESOURCES
        .iter()
        .filter(|r| kinds.is_none_or(|k| k.contains(r.kind)))
    {
        by_group.entry(r.group()).or_default().push(r.plural);
    }
    let mut rules: Vec<Value> = by_group
        .into_iter()
        .map(|(group, mut plurals)| {
            plurals.sort_unstable();
            plurals.dedup();
            serde_json::json!({"apiGroups": [group], "resources": plurals, "verbs": ["get", "list"]})
        })
        .collect();
    if kubelet_config {
        rules.push(
            serde_json::json!({"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}),
        );
    }
    let mut urls = vec!["/version", "/api", "/api/*", "/apis", "/apis/*"];
    if metrics {
        urls.push("/metrics");
    }
    rules.push(serde_json::json!({"nonResourceURLs": urls, "verbs": ["get"]}));
    serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "palisade-reader"},
        "rules": rules,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_get_type_meta_and_lose_managed_fields() {
        let pods = RESOURCES.iter().find(|r| r.kind == "Pod").unwrap();
        let v = normalize(
            pods,
            serde_json::json!({"metadata":{"name":"p","managedFields":[{}]},"spec":{}}),
            false,
            None,
        );
        assert_eq!(v["kind"], "Pod");
        assert_eq!(v["apiVersion"], "v1");
        assert!(v["metadata"].get("managedFields").is_none());
        let secrets = RESOURCES.iter().find(|r| r.kind == "Secret").unwrap();
        let s = normalize(
            secrets,
            serde_json::json!({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":{"name":"s"},"data":{"k":"dg=="}}),
            true,
            None,
        );
        assert_eq!(s["kind"], "Secret");
        assert!(s.get("data").is_none() && s.get("type").is_none());
        // A type the field selector established is set; values never are.
        let t = normalize(
            secrets,
            serde_json::json!({"metadata":{"name":"t"},"data":{"token":"dG9rZW4="},"type":"Opaque"}),
            true,
            Some("kubernetes.io/service-account-token"),
        );
        assert_eq!(
            t,
            serde_json::json!({"apiVersion":"v1","kind":"Secret","metadata":{"name":"t"},
                "type":"kubernetes.io/service-account-token"})
        );
    }

    #[test]
    fn cluster_role_lists_exactly_what_is_read() {
        let resources = |role: &Value| -> Vec<String> {
            role["rules"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["resources"].as_array().cloned().unwrap_or_default())
                .map(|v| v.as_str().unwrap().to_owned())
                .collect()
        };
        let urls = |role: &Value| {
            role["rules"].as_array().unwrap().last().unwrap()["nonResourceURLs"].clone()
        };
        let y = cluster_role(None, false, false);
        assert_eq!(y["kind"], "ClusterRole");
        assert_eq!(
            urls(&y),
            serde_json::json!(["/version", "/api", "/api/*", "/apis", "/apis/*"])
        );
        assert_eq!(
            urls(&cluster_role(None, false, true)),
            serde_json::json!(["/version", "/api", "/api/*", "/apis", "/apis/*", "/metrics"])
        );
        let core = &y["rules"][0];
        assert_eq!(core["apiGroups"], serde_json::json!([""]));
        assert_eq!(
            core["resources"].as_array().unwrap()[..5],
            ["configmaps", "limitranges", "namespaces", "nodes", "pods"].map(Value::from)
        );
        let pods_only: HashSet<String> = ["Pod".to_owned()].into();
        let p = cluster_role(Some(&pods_only), true, false);
        assert_eq!(resources(&p), ["pods", "nodes/proxy"]);
        assert_eq!(p["rules"][1]["verbs"], serde_json::json!(["get"]));
        for rule in y["rules"].as_array().unwrap() {
            let verbs = &rule["verbs"];
            assert!(
                *verbs == serde_json::json!(["get", "list"])
                    || *verbs == serde_json::json!(["get"]),
                "{rule}"
            );
        }
        assert!(!resources(&y).iter().any(|r| r.contains('*')));
    }

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(encode_query("a+b/c="), "a%2Bb%2Fc%3D");
    }
}

#[cfg(test)]
mod metric_tests {
    use super::*;

    #[test]
    fn deprecated_api_metric_samples() {
        let text = r#"# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1
apiserver_requested_deprecated_apis{group="",removed_release="",resource="endpoints",subresource="",version="v1"} 1
apiserver_requested_deprecated_apis{group="batch",removed_release="1.25",resource="cronjobs",subresource="status",version="v1beta1"} 0
apiserver_requested_deprecated_apis{group="flowcontrol.apiserver.k8s.io",removed_release="1.32",resource="flowschemas",subresource="",version="v1beta3"} 1
apiserver_request_total{code="200",verb="GET"} 12
apiserver_requested_deprecated_apis{broken
"#;
        let got: Vec<String> = parse_deprecated_api_metric(text)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "flowcontrol.apiserver.k8s.io/v1beta3 flowschemas (removed in 1.32)",
                "v1 endpoints",
            ]
        );
    }
}
