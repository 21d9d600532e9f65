//! A replay server: an HTTPS server that answers like the kube-apiserver whose responses were
//! recorded in `shared/corpus/apiserver-recordings/api/`, for Palisade's cluster tests and
//! benchmark. Real clients (kube-rs, kubectl) talk to it through a generated kubeconfig, so
//! their TLS, authentication and pagination code runs for real.
//!
//! Matching: method, path, query (percent-decoded; `continue` tokens verbatim), Accept and
//! the user of the bearer token. When no recording matches, it answers as an API server
//! would: a `limit=N` list without a recording gets the recorded unpaginated list; a
//! collection the recorded discovery lists but that was not recorded is empty (the cluster
//! had none); anything else is a `404 NotFound` Status. On top of that a test can forbid
//! paths (403), delay them, and serve synthesized lists with server-side pagination.
//!
//! Beyond the recordings, it answers from the recorded objects as the API server would:
//! lists with a `fieldSelector` (filtered from the recorded list of the collection, as
//! metadata when asked; a field the kind does not support is the server's 400), single
//! objects (`GET .../NAME`, 404 when absent), and server-side dry-run writes
//! (`kubectl apply --dry-run=server`; see [`dryrun`]). It never stores anything.
//!
//! Watches (`?watch=true`) stream the events a test sends with [`Replay::emit`], as JSON
//! lines, until the request's `timeoutSeconds` or the server stops; lists keep answering
//! from the recordings.

mod dryrun;
mod objects;

use base64::Engine as _;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The bearer token of the user `admin` (system:masters) in generated kubeconfigs.
pub const ADMIN_TOKEN: &str = "replay-admin-token";
/// The bearer token of the user `nobody` (authenticated, no grants).
pub const NOBODY_TOKEN: &str = "replay-nobody-token";

/// Finds `shared/corpus/apiserver-recordings/api` by walking up from `start`.
pub fn find_recordings(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|a| a.join("shared/corpus/apiserver-recordings/api"))
        .find(|p| p.join("index.json").is_file())
}

#[derive(Debug, Clone)]
struct Entry {
    method: String,
    path: String,
    query: String,
    accept: Option<String>,
    user: String,
    status: u16,
    content_type: String,
    file: PathBuf,
    gzip: bool,
    headers: Vec<(String, String)>,
}

/// A list served with server-side pagination (`limit`, `continue` = offset).
#[derive(Clone, Debug)]
pub struct SyntheticList {
    /// `apiVersion` of the list.
    pub api_version: String,
    /// `kind` of the list (`PodList`).
    pub kind: String,
    /// The items.
    pub items: Arc<Vec<Value>>,
}

/// What to serve.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The recordings' `api/` directory.
    pub recordings: PathBuf,
    /// Paths answered with 403 Forbidden (for every user).
    pub forbid: Vec<String>,
    /// Paths answered after a delay.
    pub delays: Vec<(String, Duration)>,
    /// Lists served instead of the recordings, by path.
    pub synthetic: HashMap<String, SyntheticList>,
    /// Paths whose first request with a `continue` token is answered `410 Gone` (the token
    /// expired after an etcd compaction), as the recorded API server did.
    pub expire_once: Vec<String>,
    /// Extra JSON documents served (200) at these paths to every authenticated user, e.g. a
    /// kubelet's `/api/v1/nodes/NAME/proxy/configz`; a JSON string is served as
    /// `text/plain` (the API server's `/metrics`).
    pub routes: HashMap<String, Value>,
    /// Path prefixes under which the server stores what it is sent, as an API server stores
    /// objects: server-side apply (`PATCH` with `application/apply-patch+yaml`), `GET` and
    /// `DELETE` of single objects (e.g. `/apis/wgpolicyk8s.io/` for PolicyReports). Only the
    /// admin may write. See [`Replay::stored`].
    pub writable: Vec<String>,
    /// Custom resources the recorded cluster did not have, made up by a test: their group
    /// is added to `/apis`, their group-version gets a discovery document, and their list
    /// is served from [`CustomKind::items`].
    pub custom: Vec<CustomKind>,
}

/// A made-up custom resource kind (namespaced).
#[derive(Clone, Debug)]
pub struct CustomKind {
    /// API group (`aadpodidentity.k8s.io`).
    pub group: String,
    /// Version (`v1`).
    pub version: String,
    /// Kind (`AzureIdentity`).
    pub kind: String,
    /// Plural (`azureidentities`).
    pub plural: String,
    /// The objects.
    pub items: Vec<Value>,
}

impl CustomKind {
    fn group_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }
}

/// Counters of what the server saw.
#[derive(Debug, Default)]
pub struct Stats {
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    requests: Mutex<Vec<String>>,
    accepts: Mutex<Vec<(String, Option<String>)>>,
    user_agents: Mutex<Vec<Option<String>>>,
}

struct State {
    cfg: Config,
    expired: Mutex<HashSet<String>>,
    entries: Vec<Entry>,
    /// (api prefix, plural) -> (kind, apiVersion) from the recorded discovery documents.
    collections: HashMap<(String, String), (String, String)>,
    /// (api prefix, plural) of the namespaced resources.
    namespaced: HashSet<(String, String)>,
    /// Parsed object lists by cluster-wide collection path.
    lists: Mutex<HashMap<String, Arc<Vec<Value>>>>,
    /// Parsed OpenAPI v3 documents by group-version.
    openapi: Mutex<HashMap<String, Option<Arc<Value>>>>,
    stats: Arc<Stats>,
    /// Watch events sent by [`Replay::emit`]: (cluster-wide collection path, event).
    events: tokio::sync::broadcast::Sender<(String, Arc<Value>)>,
    /// Objects written under [`Config::writable`], by path.
    store: Arc<Mutex<std::collections::BTreeMap<String, Value>>>,
}

/// The largest request body the server reads (a large CRD is about 1 MiB).
const MAX_BODY: usize = 16 << 20;

/// A running replay server. It stops when dropped.
pub struct Replay {
    addr: SocketAddr,
    events: tokio::sync::broadcast::Sender<(String, Arc<Value>)>,
    store: Arc<Mutex<std::collections::BTreeMap<String, Value>>>,
    ca_pem: String,
    stats: Arc<Stats>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn load_index(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let text = std::fs::read_to_string(dir.join("index.json"))?;
    let v: Vec<Value> = serde_json::from_str(&text).map_err(std::io::Error::other)?;
    let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Ok(v.iter()
        .map(|e| Entry {
            method: s(e, "method"),
            path: s(e, "path"),
            query: decode(&s(e, "query")),
            accept: e.get("accept").and_then(Value::as_str).map(str::to_owned),
            user: s(e, "user"),
            status: e.get("status").and_then(Value::as_u64).unwrap_or(200) as u16,
            content_type: s(e, "content_type"),
            file: dir.join(s(e, "file")),
            gzip: e.get("compression").and_then(Value::as_str) == Some("gzip"),
            headers: e
                .get("response_headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(k, _)| !matches!(k.as_str(), "content-type" | "content-length"))
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect(),
        })
        .collect())
}

/// Percent-decodes a query string ('+' stays '+', as Kubernetes tokens are base64).
fn decode(q: &str) -> String {
    let b = q.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&q[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_body(e: &Entry) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(&e.file)?;
    if e.gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

type Collections = (
    HashMap<(String, String), (String, String)>,
    HashSet<(String, String)>,
);

fn discovery_collections(entries: &[Entry]) -> Collections {
    let mut out = HashMap::new();
    let mut namespaced = HashSet::new();
    for e in entries {
        let is_disc = e.user == "admin"
            && e.status == 200
            && e.query.is_empty()
            && e.accept.as_deref() == Some("application/json")
            && (e.path == "/api/v1"
                || (e.path.starts_with("/apis/") && e.path.matches('/').count() == 3));
        if !is_disc {
            continue;
        }
        let Ok(body) = read_body(e) else { continue };
        let Ok(doc) = serde_json::from_slice::<Value>(&body) else {
            continue;
        };
        let gv = doc["groupVersion"].as_str().unwrap_or("v1").to_owned();
        for r in doc["resources"].as_array().into_iter().flatten() {
            let (Some(name), Some(kind)) = (r["name"].as_str(), r["kind"].as_str()) else {
                continue;
            };
            if name.contains('/') {
                continue;
            }
            if r["namespaced"].as_bool() == Some(true) {
                namespaced.insert((e.path.clone(), name.to_owned()));
            }
            out.insert(
                (e.path.clone(), name.to_owned()),
                (kind.to_owned(), gv.clone()),
            );
        }
    }
    (out, namespaced)
}

/// A certificate authority and a server certificate for 127.0.0.1 / localhost.
fn certificates() -> Result<(String, rustls::ServerConfig), Box<dyn std::error::Error>> {
    let ca_key = rcgen::KeyPair::generate()?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "palisade-replay-ca");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = ca_params.self_signed(&ca_key)?;
    let key = rcgen::KeyPair::generate()?;
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "palisade-replay");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.signed_by(&key, &ca, &ca_key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), ca.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )?;
    server.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((ca.pem(), server))
}

impl Replay {
    /// Starts a server on 127.0.0.1 (a free port) in its own thread.
    pub fn start(cfg: Config) -> std::io::Result<Replay> {
        let entries = load_index(&cfg.recordings)?;
        let (collections, namespaced) = discovery_collections(&entries);
        let (ca_pem, tls) = certificates().map_err(|e| std::io::Error::other(e.to_string()))?;
        let stats = Arc::new(Stats::default());
        let (events, _) = tokio::sync::broadcast::channel(1024);
        let store = Arc::new(Mutex::new(std::collections::BTreeMap::new()));
        let state = Arc::new(State {
            events: events.clone(),
            store: store.clone(),
            cfg,
            expired: Mutex::new(HashSet::new()),
            entries,
            collections,
            namespaced,
            lists: Mutex::new(HashMap::new()),
            openapi: Mutex::new(HashMap::new()),
            stats: stats.clone(),
        });
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(_) => return,
            };
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(std_listener) else {
                    return;
                };
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        conn = listener.accept() => {
                            let Ok((tcp, _)) = conn else { continue };
                            let acceptor = acceptor.clone();
                            let state = state.clone();
                            tokio::spawn(async move {
                                let Ok(tls) = acceptor.accept(tcp).await else { return };
                                let svc = hyper::service::service_fn(move |req| {
                                    let state = state.clone();
                                    async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
                                });
                                let _ = hyper::server::conn::http1::Builder::new()
                                    .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                                    .await;
                            });
                        }
                    }
                }
            });
        });
        Ok(Replay {
            addr,
            events,
            store,
            ca_pem,
            stats,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// Sends a watch event (`ADDED`, `MODIFIED`, `DELETED`) about `object` to the watches
    /// open on `collection` (the cluster-wide list path, `/api/v1/namespaces`) or on the
    /// object's namespace within it. An object without `metadata.resourceVersion` gets one
    /// above every recorded version. Returns the number of watches open.
    pub fn emit(&self, collection: &str, event_type: &str, mut object: Value) -> usize {
        static VERSION: AtomicUsize = AtomicUsize::new(1_000_000);
        if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            if !meta.contains_key("resourceVersion") {
                let rv = VERSION.fetch_add(1, Ordering::SeqCst).to_string();
                meta.insert("resourceVersion".into(), Value::String(rv));
            }
        }
        let event = json!({"type": event_type, "object": object});
        self.events
            .send((collection.to_owned(), Arc::new(event)))
            .unwrap_or(0)
    }

    /// The objects stored under [`Config::writable`], by path.
    pub fn stored(&self) -> std::collections::BTreeMap<String, Value> {
        self.store.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA certificate (PEM) that signed the server certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// Most requests in flight at once so far.
    pub fn max_in_flight(&self) -> usize {
        self.stats.max_in_flight.load(Ordering::SeqCst)
    }

    /// The requests seen so far (`GET /path?query`).
    pub fn requests(&self) -> Vec<String> {
        self.stats
            .requests
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The requests seen so far with their Accept header (`GET /path?query`, Accept).
    pub fn requests_with_accept(&self) -> Vec<(String, Option<String>)> {
        self.stats
            .accepts
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The User-Agent header of each request seen so far, in order.
    pub fn user_agents(&self) -> Vec<Option<String>> {
        self.stats
            .user_agents
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// A kubeconfig with the contexts `replay` (user admin) and `replay-nobody` (user nobody),
    /// current context `replay`; serialised as JSON, which kubeconfig readers take as YAML.
    pub fn kubeconfig(&self) -> String {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        let config = serde_json::json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{
                "name": "replay",
                "cluster": { "server": self.url(), "certificate-authority-data": ca },
            }],
            "users": [
                { "name": "admin", "user": { "token": ADMIN_TOKEN } },
                { "name": "nobody", "user": { "token": NOBODY_TOKEN } },
            ],
            "contexts": [
                { "name": "replay", "context": { "cluster": "replay", "user": "admin" } },
                { "name": "replay-nobody", "context": { "cluster": "replay", "user": "nobody" } },
            ],
            "current-context": "replay",
        });
        // `Value`'s Display is its JSON text, and cannot fail.
        format!("{config:#}\n")
    }

    /// Writes [`Replay::kubeconfig`] to a file.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct InFlight(Arc<Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

fn status(code: u16, reason: &str, message: &str) -> (u16, String, Vec<u8>) {
    let body = json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":message,"reason":reason,"details":{},"code":code});
    (
        code,
        "application/json".to_owned(),
        body.to_string().into_bytes(),
    )
}

/// The 403 the API server answers `user` for `method` on `path`, in its words: the verb of the
/// request (`get` of one object, `list` or `watch` of a collection, `create`, `update`,
/// `patch`, `delete`, `deletecollection`), the resource with its subresource, and the
/// namespace or the cluster scope.
fn forbidden(method: &str, path: &str, query: &str, user: &str) -> (u16, String, Vec<u8>) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts.first() {
        Some(&"api") => ("", parts.get(2..).unwrap_or(&[])),
        Some(&"apis") => (
            parts.get(1).copied().unwrap_or(""),
            parts.get(3..).unwrap_or(&[]),
        ),
        _ => ("", &[][..]),
    };
    // As the API server reads a path: a namespace's own subresources (`status`, `finalize`)
    // and the namespace itself are of the resource `namespaces`, in that namespace.
    let (namespace, rest) = match rest {
        ["namespaces", ns, tail @ ..] => match tail.first() {
            Some(&("status" | "finalize")) | None => (Some(*ns), rest),
            Some(_) => (Some(*ns), tail),
        },
        _ => (None, rest),
    };
    let (plural, name, sub) = match rest {
        [p] => (*p, None, None),
        [p, n] => (*p, Some(*n), None),
        [p, n, sub, ..] => (*p, Some(*n), Some(*sub)),
        [] => ("", None, None),
    };
    let watch = query
        .split('&')
        .any(|kv| kv == "watch=true" || kv == "watch=1");
    let verb = match (method, name) {
        ("GET", None) if watch => "watch",
        ("GET", Some(_)) => "get",
        ("GET", None) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", Some(_)) => "delete",
        ("DELETE", None) => "deletecollection",
        (other, _) => {
            return status(
                403,
                "Forbidden",
                &format!(
                    "User \"{user}\" cannot {} path \"{path}\"",
                    other.to_lowercase()
                ),
            )
        }
    };
    let qualified = if group.is_empty() {
        plural.to_owned()
    } else {
        format!("{plural}.{group}")
    };
    let subject = match name {
        Some(n) => format!("{qualified} \"{n}\""),
        None => qualified,
    };
    let resource = match sub {
        Some(sub) => format!("{plural}/{sub}"),
        None => plural.to_owned(),
    };
    let scope = match namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_owned(),
    };
    status(
        403,
        "Forbidden",
        &format!("{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}"),
    )
}

type Body = BoxBody<Bytes, std::convert::Infallible>;

fn full(body: Vec<u8>) -> Body {
    Full::new(Bytes::from(body)).boxed()
}

/// A body fed by a channel: a watch stream.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|o| o.map(|b| Ok(hyper::body::Frame::data(b))))
    }
}

/// The namespace of a namespaced collection path, and its cluster-wide path:
/// `/api/v1/namespaces/a/pods` -> (`a`, `/api/v1/pods`).
fn split_namespace(path: &str) -> Option<(String, String)> {
    let (prefix, rest) = path.split_once("/namespaces/")?;
    let (ns, plural) = rest.split_once('/')?;
    if plural.contains('/') || ns.is_empty() {
        return None;
    }
    Some((ns.to_owned(), format!("{prefix}/{plural}")))
}

/// Answers a watch: the events [`Replay::emit`] sends to this collection, one JSON line
/// each, until `timeoutSeconds` (at most 30 minutes) or shutdown.
fn watch(state: &State, path: &str, params: &HashMap<&str, &str>) -> Response<Body> {
    let (namespace, collection) = match split_namespace(path) {
        Some((ns, c)) => (Some(ns), c),
        None => (None, path.to_owned()),
    };
    let timeout = params
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800)
        .min(1800);
    let mut rx = state.events.subscribe();
    let (tx, body_rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        let deadline = tokio::time::sleep(Duration::from_secs(timeout));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                ev = rx.recv() => {
                    let Ok((c, ev)) = ev else { break };
                    let in_ns = namespace.as_deref().is_none_or(|ns| {
                        ev.pointer("/object/metadata/namespace").and_then(Value::as_str) == Some(ns)
                    });
                    if c != collection || !in_ns {
                        continue;
                    }
                    let mut line = ev.to_string().into_bytes();
                    line.push(b'\n');
                    if tx.send(Bytes::from(line)).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(ChannelBody(body_rx).boxed())
        .unwrap_or_else(|_| Response::new(full(Vec::new())))
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    let stats = state.stats.clone();
    let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(stats.clone());
    let path = req.uri().path().to_owned();
    // kubectl adds its client-side `timeout`; it does not change the answer.
    let query = req
        .uri()
        .query()
        .map(decode)
        .unwrap_or_default()
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("timeout="))
        .collect::<Vec<_>>()
        .join("&");
    let line = format!(
        "{} {}{}{}",
        req.method(),
        path,
        if query.is_empty() { "" } else { "?" },
        query
    );
    let accept = req
        .headers()
        .get(hyper::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Ok(mut r) = stats.requests.lock() {
        r.push(line.clone());
    }
    if let Ok(mut r) = stats.accepts.lock() {
        r.push((line, accept.clone()));
    }
    if let Ok(mut r) = stats.user_agents.lock() {
        r.push(
            req.headers()
                .get(hyper::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        );
    }
    for (p, d) in &state.cfg.delays {
        if *p == path {
            tokio::time::sleep(*d).await;
        }
    }
    let user = match req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        None => "anonymous",
        Some(a) if a == format!("Bearer {ADMIN_TOKEN}") => "admin",
        Some(a) if a == format!("Bearer {NOBODY_TOKEN}") => "nobody",
        Some(_) => "bad-token",
    };
    let method = req.method().as_str().to_owned();
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let request_body = if method == "GET" || method == "HEAD" {
        Vec::new()
    } else {
        match Limited::new(req.into_body(), MAX_BODY).collect().await {
            Ok(b) => b.to_bytes().to_vec(),
            Err(_) => {
                let (code, ctype, body) = status(
                    413,
                    "RequestEntityTooLarge",
                    "the request body is too large or could not be read",
                );
                return Response::builder()
                    .status(code)
                    .header("content-type", ctype)
                    .body(full(body))
                    .unwrap_or_else(|_| Response::new(full(Vec::new())));
            }
        }
    };
    let is_watch = method == "GET"
        && query
            .split('&')
            .any(|kv| kv == "watch=true" || kv == "watch=1");
    if is_watch && user == "nobody" {
        let (code, ctype, body) = forbidden(&method, &path, &query, "nobody");
        return Response::builder()
            .status(code)
            .header("content-type", ctype)
            .body(full(body))
            .unwrap_or_else(|_| Response::new(full(Vec::new())));
    }
    if is_watch && user == "admin" && !state.cfg.forbid.contains(&path) {
        let params: HashMap<&str, &str> = query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .collect();
        return watch(&state, &path, &params);
    }
    let (code, ctype, body, headers) = answer(
        &state,
        &Request_ {
            method: &method,
            path: &path,
            query: &query,
            accept: accept.as_deref(),
            content_type: content_type.as_deref(),
            body: &request_body,
        },
        user,
    );
    let mut resp = Response::builder()
        .status(code)
        .header("content-type", ctype);
    for (k, v) in headers {
        resp = resp.header(k, v);
    }
    resp.body(full(body))
        .unwrap_or_else(|_| Response::new(full(Vec::new())))
}

/// A request under a writable prefix: server-side apply, get and delete of single objects,
/// kept in memory.
fn stored(state: &State, req: &Request_<'_>, user: &str) -> Answer {
    let plain = |(c, t, b): (u16, String, Vec<u8>)| (c, t, b, Vec::new());
    if user != "admin" {
        return plain(forbidden(req.method, req.path, req.query, user));
    }
    let Ok(mut store) = state.store.lock() else {
        return plain(status(500, "InternalError", "store poisoned"));
    };
    let ok = |v: &Value| plain((200, "application/json".into(), v.to_string().into_bytes()));
    match req.method {
        "GET" => match store.get(req.path) {
            Some(v) => ok(v),
            None => plain(status(404, "NotFound", "not found")),
        },
        "DELETE" => match store.remove(req.path) {
            Some(_) => ok(&json!({"kind": "Status", "apiVersion": "v1", "status": "Success"})),
            None => plain(status(404, "NotFound", "not found")),
        },
        "PATCH"
            if req
                .content_type
                .is_some_and(|c| c.starts_with("application/apply-patch")) =>
        {
            let Ok(mut v) = serde_json::from_slice::<Value>(req.body) else {
                return plain(status(400, "BadRequest", "the apply patch is not JSON"));
            };
            static VERSION: AtomicUsize = AtomicUsize::new(2_000_000);
            if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
                let rv = VERSION.fetch_add(1, Ordering::SeqCst).to_string();
                meta.insert("resourceVersion".into(), Value::String(rv));
                meta.entry("uid")
                    .or_insert_with(|| Value::String(format!("uid-{}", req.path.len())));
            }
            store.insert(req.path.to_owned(), v.clone());
            ok(&v)
        }
        _ => plain(status(
            405,
            "MethodNotAllowed",
            "only apply, get and delete are stored",
        )),
    }
}

fn accept_score(entry: Option<&str>, req: Option<&str>) -> u8 {
    let req_s = req.unwrap_or("");
    let ent_s = entry.unwrap_or("");
    if entry == req {
        return 4;
    }
    for marker in [
        "as=PartialObjectMetadataList",
        "as=PartialObjectMetadata;",
        "apidiscovery.k8s.io;v=v2;",
        "as=Table",
        "application/yaml",
    ] {
        if req_s.contains(marker) {
            return if ent_s.contains(marker) { 3 } else { 0 };
        }
    }
    if ent_s.is_empty() || ent_s == "application/json" {
        2
    } else if !ent_s.contains("as=") && !ent_s.contains("yaml") && !ent_s.contains("xml") {
        1
    } else {
        0
    }
}

fn is_discovery(path: &str) -> bool {
    path == "/version"
        || path == "/api"
        || path == "/apis"
        || path.starts_with("/openapi/")
        || path == "/api/v1"
        || (path.starts_with("/apis/") && path.matches('/').count() <= 3)
}

type Answer = (u16, String, Vec<u8>, Vec<(String, String)>);

/// What [`answer`] needs of a request.
struct Request_<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    accept: Option<&'a str>,
    content_type: Option<&'a str>,
    body: &'a [u8],
}

fn answer(state: &State, req: &Request_<'_>, user: &str) -> Answer {
    let Request_ {
        method,
        path,
        query,
        accept,
        ..
    } = *req;
    let plain = |(c, t, b): (u16, String, Vec<u8>)| (c, t, b, Vec::new());
    let params: HashMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    if state.cfg.forbid.iter().any(|p| p == path) {
        return plain(forbidden(method, path, query, user));
    }
    if let Some(doc) = state.cfg.routes.get(path) {
        if user != "anonymous" && user != "bad-token" {
            // A string is served as text, as the API server serves `/metrics`.
            if let Value::String(text) = doc {
                return plain((
                    200,
                    "text/plain; version=0.0.4".into(),
                    text.clone().into_bytes(),
                ));
            }
            return plain((200, "application/json".into(), doc.to_string().into_bytes()));
        }
    }
    if params.contains_key("continue") && state.cfg.expire_once.iter().any(|p| p == path) {
        let first = state
            .expired
            .lock()
            .map(|mut e| e.insert(path.to_owned()))
            .unwrap_or(false);
        if first {
            let gone = state
                .entries
                .iter()
                .find(|e| e.status == 410 && e.query.contains("continue="));
            if let Some(Ok(body)) = gone.map(read_body) {
                return plain((410, "application/json".into(), body));
            }
            return plain(status(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result.",
            ));
        }
    }
    if let Some(list) = state.cfg.synthetic.get(path) {
        if user == "admin" {
            return plain(synthetic_page(list, &params, accept));
        }
    }
    for c in &state.cfg.custom {
        let gv = c.group_version();
        if path == format!("/apis/{gv}") {
            let doc = json!({"kind":"APIResourceList","apiVersion":"v1","groupVersion":gv,
                "resources":[{"name":c.plural,"singularName":c.kind.to_lowercase(),"namespaced":true,
                "kind":c.kind,"verbs":["get","list","watch","create","update","patch","delete"]}]});
            return plain((200, "application/json".into(), doc.to_string().into_bytes()));
        }
        if path == format!("/apis/{gv}/{}", c.plural) && user == "admin" {
            let list = SyntheticList {
                api_version: gv.clone(),
                kind: format!("{}List", c.kind),
                items: Arc::new(c.items.clone()),
            };
            return plain(synthetic_page(&list, &params, accept));
        }
    }
    let users: &[&str] = if user == "admin" || user == "bad-token" || !is_discovery(path) {
        &[user][..]
    } else {
        // Every authenticated user may read discovery (system:discovery).
        &[user, "admin"][..]
    };
    let candidates = |q: &str| -> Option<&Entry> {
        let mut best: Option<(u8, &Entry)> = None;
        for u in users {
            for e in state.entries.iter().filter(|e| {
                e.method == method
                    && e.path == path
                    && e.query == q
                    && e.user == *u
                    && e.status != 304
            }) {
                let s = accept_score(e.accept.as_deref(), accept);
                if s > 0 && best.is_none_or(|(b, _)| s > b) {
                    best = Some((s, e));
                }
            }
            if best.is_some() {
                break;
            }
        }
        best.map(|(_, e)| e)
    };
    let hit = candidates(query).or_else(|| {
        // A page size without a recording: the recorded unpaginated list (no continue).
        let only_limit = params.len() == 1 && params.contains_key("limit");
        if only_limit {
            candidates("")
        } else {
            None
        }
    });
    if let Some(e) = hit {
        return match read_body(e) {
            Ok(b)
                if path == "/apis"
                    && !state.cfg.custom.is_empty()
                    && e.content_type == "application/json" =>
            {
                (
                    e.status,
                    e.content_type.clone(),
                    with_custom_groups(&state.cfg.custom, b),
                    Vec::new(),
                )
            }
            Ok(b) => (e.status, e.content_type.clone(), b, e.headers.clone()),
            Err(err) => plain(status(500, "InternalError", &err.to_string())),
        };
    }
    if state
        .cfg
        .writable
        .iter()
        .any(|p| path.starts_with(p.as_str()))
        && !params.contains_key("dryRun")
    {
        return stored(state, req, user);
    }
    if !matches!(method, "GET" | "HEAD") {
        return dryrun::write(
            state,
            method,
            path,
            &params,
            req.content_type,
            req.body,
            user,
        );
    }
    match user {
        "bad-token" => return plain(status(401, "Unauthorized", "Unauthorized")),
        "admin" => {}
        other if !is_discovery(path) => {
            return plain(forbidden(method, path, query, other));
        }
        _ => {}
    }
    // A list with a field selector: the recorded list, filtered as the API server would.
    if params.contains_key("fieldSelector") {
        if let Some(a) = objects::selected_list(state, path, &params, accept) {
            return plain(a);
        }
    }
    // One object: from the recorded list of its collection.
    if let Some(p) =
        objects::parse_path(path).filter(|p| p.name.is_some() && p.subresource.is_none())
    {
        if collection(state, &p.cluster_collection()).is_some() {
            return match objects::object(state, &p) {
                Some(mut o) if accept.is_some_and(|a| a.contains("as=PartialObjectMetadata")) => {
                    let m = o.get_mut("metadata").map(Value::take).unwrap_or_default();
                    o = json!({"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":m});
                    plain((200, "application/json".into(), o.to_string().into_bytes()))
                }
                Some(o) => plain((200, "application/json".into(), o.to_string().into_bytes())),
                None => {
                    let name = p.name.clone().unwrap_or_default();
                    let group = p
                        .prefix
                        .strip_prefix("/apis/")
                        .and_then(|r| r.split('/').next())
                        .unwrap_or("");
                    let qualified = if group.is_empty() {
                        p.plural.clone()
                    } else {
                        format!("{}.{group}", p.plural)
                    };
                    let body = json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
                        "message":format!("{qualified} \"{name}\" not found"),"reason":"NotFound",
                        "details":{"name":name,"group":group,"kind":p.plural},"code":404});
                    plain((
                        404,
                        "application/json".into(),
                        body.to_string().into_bytes(),
                    ))
                }
            };
        }
    }
    // A collection the server serves but that was not recorded: the cluster had none.
    if method == "GET" && !params.contains_key("continue") {
        if let Some((kind, gv)) = collection(state, path) {
            let meta_only = accept.is_some_and(|a| a.contains("as=PartialObjectMetadataList"));
            let (api_version, list_kind) = if meta_only {
                (
                    "meta.k8s.io/v1".to_owned(),
                    "PartialObjectMetadataList".to_owned(),
                )
            } else {
                (gv, format!("{kind}List"))
            };
            let body = json!({"kind":list_kind,"apiVersion":api_version,"metadata":{"resourceVersion":"1655"},"items":[]});
            return plain((
                200,
                "application/json".into(),
                body.to_string().into_bytes(),
            ));
        }
    }
    let (plural, _) = resource_of(path);
    let name = path.rsplit('/').next().unwrap_or("");
    if collection(state, path.rsplit_once('/').map_or("", |p| p.0)).is_some() {
        return plain(status(
            404,
            "NotFound",
            &format!("{plural} \"{name}\" not found"),
        ));
    }
    plain(status(
        404,
        "NotFound",
        "the server could not find the requested resource",
    ))
}

/// The recorded `/apis` group list with the made-up groups added.
fn with_custom_groups(custom: &[CustomKind], body: Vec<u8>) -> Vec<u8> {
    let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    if doc["kind"] != "APIGroupList" {
        return body;
    }
    if let Some(groups) = doc["groups"].as_array_mut() {
        for c in custom {
            let gv = json!({"groupVersion": c.group_version(), "version": c.version});
            groups.push(json!({"name": c.group, "versions": [gv.clone()], "preferredVersion": gv}));
        }
    }
    doc.to_string().into_bytes()
}

/// `(plural, group)` of a resource path.
fn resource_of(path: &str) -> (String, String) {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (group, rest) = match parts.first() {
        Some(&"api") => (String::new(), &parts[2.min(parts.len())..]),
        Some(&"apis") if parts.len() > 2 => (parts[1].to_owned(), &parts[3..]),
        _ => (String::new(), &parts[..0]),
    };
    let plural = match rest {
        ["namespaces", _, p, ..] => (*p).to_owned(),
        [p, ..] => (*p).to_owned(),
        [] => String::new(),
    };
    (plural, group)
}

/// The (kind, apiVersion) of a collection path from the recorded discovery.
fn collection(state: &State, path: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (prefix, rest) = match parts.first() {
        Some(&"api") if parts.len() >= 2 => (format!("/api/{}", parts[1]), &parts[2..]),
        Some(&"apis") if parts.len() >= 3 => {
            (format!("/apis/{}/{}", parts[1], parts[2]), &parts[3..])
        }
        _ => return None,
    };
    let plural = match rest {
        [p] => *p,
        ["namespaces", _, p] => *p,
        _ => return None,
    };
    state.collections.get(&(prefix, plural.to_owned())).cloned()
}

fn synthetic_page(
    list: &SyntheticList,
    params: &HashMap<&str, &str>,
    accept: Option<&str>,
) -> (u16, String, Vec<u8>) {
    objects::serve_list(list, None, params, accept)
}

/// Reads a recorded unpaginated list (admin, JSON) by path, e.g. `/api/v1/pods`.
pub fn recorded_items(recordings: &Path, path: &str) -> std::io::Result<Vec<Value>> {
    let entries = load_index(recordings)?;
    let e = entries
        .iter()
        .find(|e| {
            e.path == path
                && e.query.is_empty()
                && e.user == "admin"
                && e.status == 200
                && e.accept.as_deref() == Some("application/json")
        })
        .ok_or_else(|| std::io::Error::other(format!("no recording of {path}")))?;
    let v: Value = serde_json::from_slice(&read_body(e)?).map_err(std::io::Error::other)?;
    Ok(v["items"].as_array().cloned().unwrap_or_default())
}

fn clone_named(base: &[Value], k: usize, salt: usize) -> Value {
    let mut v = base[k % base.len()].clone();
    let name = format!("{}-s{k}", v["metadata"]["name"].as_str().unwrap_or("x"));
    v["metadata"]["name"] = json!(name);
    v["metadata"]["uid"] = json!(format!(
        "00000000-0000-4000-8000-{:012}",
        k + salt * 1_000_000
    ));
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("ownerReferences");
    }
    v
}

fn list(gv: &str, kind: &str, items: Vec<Value>) -> SyntheticList {
    SyntheticList {
        api_version: gv.to_owned(),
        kind: kind.to_owned(),
        items: Arc::new(items),
    }
}

/// A synthesized cluster of `pods` Pods and `others` other objects, cloned from the recorded
/// objects with new names, as synthetic lists keyed by path.
///
/// With `owned`, the shape of a real cluster: the other objects are Deployments, their
/// ReplicaSets, Services, ConfigMaps and RoleBindings in equal parts, and every Pod belongs
/// to one of the ReplicaSets (ownerReferences set, same namespace). Without, the worst
/// case: every Pod is standalone (each one scanned in full), and the other objects are
/// Deployments, Services, ConfigMaps, RoleBindings and ServiceAccounts.
pub fn synthesize(
    recordings: &Path,
    pods: usize,
    others: usize,
    owned: bool,
) -> std::io::Result<HashMap<String, SyntheticList>> {
    let rec = |p: &str| recorded_items(recordings, p);
    let mut out = HashMap::new();
    let per = others / 5;
    let deployments: Vec<Value> = {
        let base = rec("/apis/apps/v1/deployments")?;
        (0..per).map(|k| clone_named(&base, k, 1)).collect()
    };
    let mut pod_items: Vec<Value> = {
        let base = rec("/api/v1/pods")?;
        (0..pods).map(|k| clone_named(&base, k, 0)).collect()
    };
    if owned && per > 0 {
        let base = rec("/apis/apps/v1/replicasets")?;
        let rs: Vec<Value> = deployments
            .iter()
            .enumerate()
            .map(|(k, d)| {
                let mut r = clone_named(&base, k, 2);
                let dname = d["metadata"]["name"].as_str().unwrap_or("d");
                r["metadata"]["name"] = json!(format!("{dname}-7d9f8c"));
                r["metadata"]["namespace"] = d["metadata"]["namespace"].clone();
                r["metadata"]["ownerReferences"] = json!([{"apiVersion":"apps/v1","kind":"Deployment",
                    "name":dname,"uid":d["metadata"]["uid"],"controller":true,"blockOwnerDeletion":true}]);
                r
            })
            .collect();
        for (k, p) in pod_items.iter_mut().enumerate() {
            let r = &rs[k % rs.len()];
            let rname = r["metadata"]["name"].as_str().unwrap_or("r");
            p["metadata"]["name"] = json!(format!("{rname}-{k:05}"));
            p["metadata"]["namespace"] = r["metadata"]["namespace"].clone();
            p["metadata"]["ownerReferences"] = json!([{"apiVersion":"apps/v1","kind":"ReplicaSet",
                "name":rname,"uid":r["metadata"]["uid"],"controller":true,"blockOwnerDeletion":true}]);
        }
        out.insert(
            "/apis/apps/v1/replicasets".to_owned(),
            list("apps/v1", "ReplicaSetList", rs),
        );
    } else {
        let base = rec("/api/v1/serviceaccounts")?;
        let sa = (0..per).map(|k| clone_named(&base, k, 2)).collect();
        out.insert(
            "/api/v1/serviceaccounts".to_owned(),
            list("v1", "ServiceAccountList", sa),
        );
    }
    out.insert("/api/v1/pods".to_owned(), list("v1", "PodList", pod_items));
    out.insert(
        "/apis/apps/v1/deployments".to_owned(),
        list("apps/v1", "DeploymentList", deployments),
    );
    for (i, (path, gv, kind)) in [
        ("/api/v1/services", "v1", "ServiceList"),
        ("/api/v1/configmaps", "v1", "ConfigMapList"),
        (
            "/apis/rbac.authorization.k8s.io/v1/rolebindings",
            "rbac.authorization.k8s.io/v1",
            "RoleBindingList",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let base = rec(path)?;
        let items = (0..per).map(|k| clone_named(&base, k, 3 + i)).collect();
        out.insert(path.to_owned(), list(gv, kind, items));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_and_resource_names() {
        assert_eq!(
            decode("limit=50&continue=ab%3D%3D"),
            "limit=50&continue=ab=="
        );
        assert_eq!(
            resource_of("/api/v1/namespaces/a/secrets"),
            ("secrets".into(), "".into())
        );
        assert_eq!(
            resource_of("/apis/apps/v1/deployments"),
            ("deployments".into(), "apps".into())
        );
    }

    #[test]
    fn a_403_names_the_verb_resource_and_scope_as_the_api_server_does() {
        let message = |method: &str, path: &str, query: &str| {
            let (code, _, body) = forbidden(method, path, query, "dev");
            assert_eq!(code, 403);
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["reason"], "Forbidden");
            v["message"].as_str().unwrap().to_owned()
        };
        assert_eq!(
            message("GET", "/api/v1/namespaces/shop/secrets/db", ""),
            r#"secrets "db" is forbidden: User "dev" cannot get resource "secrets" in API group "" in the namespace "shop""#
        );
        assert_eq!(
            message("GET", "/apis/policy/v1/poddisruptionbudgets", "limit=500"),
            r#"poddisruptionbudgets.policy is forbidden: User "dev" cannot list resource "poddisruptionbudgets" in API group "policy" at the cluster scope"#
        );
        assert_eq!(
            message(
                "GET",
                "/apis/apps/v1/namespaces/shop/deployments",
                "watch=true"
            ),
            r#"deployments.apps is forbidden: User "dev" cannot watch resource "deployments" in API group "apps" in the namespace "shop""#
        );
        assert_eq!(
            message("POST", "/api/v1/namespaces/shop/pods/web/exec", ""),
            r#"pods "web" is forbidden: User "dev" cannot create resource "pods/exec" in API group "" in the namespace "shop""#
        );
        assert_eq!(
            message("DELETE", "/api/v1/namespaces/shop", ""),
            r#"namespaces "shop" is forbidden: User "dev" cannot delete resource "namespaces" in API group "" in the namespace "shop""#
        );
        assert_eq!(
            message("PUT", "/api/v1/namespaces/shop/finalize", ""),
            r#"namespaces "shop" is forbidden: User "dev" cannot update resource "namespaces/finalize" in API group "" in the namespace "shop""#
        );
        assert_eq!(
            message(
                "GET",
                "/apis/rbac.authorization.k8s.io/v1/clusterroles/admin",
                ""
            ),
            r#"clusterroles.rbac.authorization.k8s.io "admin" is forbidden: User "dev" cannot get resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope"#
        );
    }
}
