//! A watch cache of the cluster, for the rules that need the rest of the cluster at
//! admission (`palisade admission serve --cluster-cache`).
//!
//! One kube-rs [`watcher`](kube::runtime::watcher) per kind: a paginated list, then a watch
//! from its resource version, resumed (and relisted when the version expired) with kube-rs's
//! backoff after any error. Objects are normalized as the cluster reader normalizes them
//! (`apiVersion`/`kind` set, `managedFields` dropped, Secrets as metadata with their
//! embedded values redacted) and kept as Palisade [`Object`]s, so a request reads them
//! without parsing, or, for the background audit, as compressed lines known by a hash of
//! their content ([`Storage::Lines`]). Kinds the server does not serve (a CRD that is not installed) are known
//! to be empty. A kind is *synced* once its first list completed; until then, or while its
//! first list keeps failing (a 403), [`ClusterCache::objects`] names it with the reason,
//! and the webhook falls back per its failure policy. After the first sync, an interrupted
//! watch keeps answering from what it holds while kube-rs resumes it (as informers do).

use crate::{client, normalize, served_resources, Error, ReadOptions, Reader, Resource, RESOURCES};
use futures_util::StreamExt as _;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt as _;
use palisade_core::{Object, SpanIndex};
use palisade_load::cluster::Identity;
use palisade_load::packed::PackedLine;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Duration;

type Key = (Option<String>, String);

/// How the cache keeps each object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Storage {
    /// Parsed [`Object`]s: a review reads them without parsing (the webhook).
    #[default]
    Objects,
    /// Compact JSON lines, LZ4-compressed ([`PackedLine`]), with the hash of their content
    /// and their controlling owner: a few percent of the parsed form's memory; unpacked
    /// only when read (the background audit, which reads an object again only when its
    /// hash changed).
    Lines,
}

#[derive(Clone, Debug)]
enum Stored {
    Object(Object),
    Line {
        line: PackedLine,
        /// The controlling owner `(kind, name)` of an object a cluster scan folds into its
        /// owner (a Pod, ReplicaSet or Job), read once when stored.
        controller: Option<Box<(String, String)>>,
    },
}

impl Stored {
    fn object(&self) -> Option<Object> {
        match self {
            Stored::Object(o) => Some(o.clone()),
            Stored::Line { line, .. } => {
                let v = line.value().ok()?;
                Object::from_value(v, None, SpanIndex::default()).ok()
            }
        }
    }

    fn line(&self) -> PackedLine {
        match self {
            Stored::Object(o) => PackedLine::new(&o.to_json()),
            Stored::Line { line, .. } => line.clone(),
        }
    }

    fn controller(&self) -> Option<(&str, &str)> {
        match self {
            Stored::Object(o) => palisade_load::cluster::controller_of(o.value()),
            Stored::Line { controller, .. } => {
                controller.as_deref().map(|(k, n)| (k.as_str(), n.as_str()))
            }
        }
    }
}

#[derive(Debug, Default)]
struct KindState {
    objects: HashMap<Key, Stored>,
    /// The keys a (re)list in progress has delivered: when it completes, the objects it did
    /// not deliver are dropped. A relist updates the map in place, so it never holds a
    /// second copy of the kind.
    relisted: Option<HashSet<Key>>,
    synced: bool,
    /// The last error of the watch, until the next successful event.
    error: Option<String>,
}

/// One kind's part of the cache.
#[derive(Debug)]
struct KindCache {
    resource: &'static Resource,
    storage: Storage,
    state: RwLock<KindState>,
}

impl KindCache {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, KindState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, KindState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn convert(&self, v: Value) -> Option<(Key, Stored)> {
        let v = normalize(self.resource, v, self.resource.metadata_only, None);
        let o = Object::from_value(v, None, SpanIndex::default()).ok()?;
        let key = (o.namespace.clone(), o.name.clone());
        Some(match self.storage {
            Storage::Objects => (key, Stored::Object(o)),
            // Serialized from the object, after its Secret values were redacted.
            Storage::Lines => {
                let controller = palisade_load::cluster::controller_of(o.value())
                    .map(|(k, n)| Box::new((k.to_owned(), n.to_owned())));
                let line = PackedLine::new(&o.to_json());
                (key, Stored::Line { line, controller })
            }
        })
    }

    fn apply(&self, event: Result<Event<Value>, watcher::Error>) {
        // Converted before the lock is taken: readers are not held up by parsing.
        let (event, item) = match event {
            Ok(Event::Apply(v)) => (Ok(Event::Apply(Value::Null)), self.convert(v)),
            Ok(Event::InitApply(v)) => (Ok(Event::InitApply(Value::Null)), self.convert(v)),
            Ok(Event::Delete(v)) => (Ok(Event::Delete(Value::Null)), self.convert(v)),
            other => (other, None),
        };
        let mut st = self.write();
        match event {
            Err(e) => {
                st.error = Some(describe(&e));
                return;
            }
            Ok(Event::Init) => st.relisted = Some(HashSet::new()),
            Ok(Event::InitApply(_)) => {
                if let Some((k, o)) = item {
                    st.relisted
                        .get_or_insert_with(HashSet::new)
                        .insert(k.clone());
                    st.objects.insert(k, o);
                }
            }
            Ok(Event::InitDone) => {
                let seen = st.relisted.take().unwrap_or_default();
                st.objects.retain(|k, _| seen.contains(k));
                st.objects.shrink_to_fit();
                st.synced = true;
            }
            Ok(Event::Apply(_)) => {
                if let Some((k, o)) = item {
                    if let Some(seen) = st.relisted.as_mut() {
                        seen.insert(k.clone());
                    }
                    st.objects.insert(k, o);
                }
            }
            Ok(Event::Delete(_)) => {
                if let Some((k, _)) = item {
                    if let Some(seen) = st.relisted.as_mut() {
                        seen.remove(&k);
                    }
                    st.objects.remove(&k);
                }
            }
        }
        st.error = None;
    }
}

/// What an error of a watch says, for the webhook's messages and logs.
fn describe(e: &watcher::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

/// The state of one kind, for readiness logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindStatus {
    /// The kind.
    pub kind: &'static str,
    /// `apiVersion`.
    pub api_version: &'static str,
    /// Listed at least once.
    pub synced: bool,
    /// Objects held.
    pub objects: usize,
    /// The last error of the watch, if the latest event was one.
    pub error: Option<String>,
}

/// The watch cache: started with [`ClusterCache::start`] inside a Tokio runtime; its
/// watchers stop when it is dropped.
pub struct ClusterCache {
    kinds: Vec<Arc<KindCache>>,
    client: kube::Client,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The context name.
    pub context: String,
    /// The API server URL.
    pub server: String,
}

impl std::fmt::Debug for ClusterCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterCache")
            .field("context", &self.context)
            .field("server", &self.server)
            .field("kinds", &self.kinds)
            .finish_non_exhaustive()
    }
}

impl Drop for ClusterCache {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl ClusterCache {
    /// Connects (kubeconfig or in-cluster, as in [`ReadOptions`]; its `namespace` restricts
    /// the namespaced kinds), discovers which of `kinds` the server serves and starts one
    /// watcher per served kind. Returns at once; the kinds sync in the background.
    pub async fn start(opts: &ReadOptions, kinds: &HashSet<&str>) -> Result<ClusterCache, Error> {
        Self::start_with(opts, kinds, Storage::Objects).await
    }

    /// [`ClusterCache::start`], keeping the objects as `storage` says.
    pub async fn start_with(
        opts: &ReadOptions,
        kinds: &HashSet<&str>,
        storage: Storage,
    ) -> Result<ClusterCache, Error> {
        let (client, context, server) = client(opts).await?;
        let reader = Reader {
            client: client.clone(),
            timeout: opts.timeout,
            sem: Arc::new(tokio::sync::Semaphore::new(opts.concurrency.max(1))),
        };
        let wanted: Vec<&'static Resource> = RESOURCES
            .iter()
            .filter(|r| kinds.contains(r.kind))
            .collect();
        let served = served_resources(&reader, wanted.clone()).await?;
        let mut cache = ClusterCache {
            kinds: Vec::new(),
            client: client.clone(),
            tasks: Vec::new(),
            context,
            server,
        };
        for r in wanted {
            let is_served = served.iter().any(|s| std::ptr::eq(*s, r));
            let kc = Arc::new(KindCache {
                resource: r,
                storage,
                state: RwLock::new(KindState {
                    // Not served: the cluster has none.
                    synced: !is_served,
                    ..KindState::default()
                }),
            });
            cache.kinds.push(kc.clone());
            if !is_served {
                continue;
            }
            let ns = opts.namespace.clone().filter(|_| r.namespaced);
            let page = opts.page_size;
            let client = client.clone();
            cache.tasks.push(tokio::spawn(async move {
                run(client, kc, ns, page).await;
            }));
        }
        Ok(cache)
    }

    /// Copies of the cached objects of these kinds (owned Pods, ReplicaSets and Jobs folded
    /// into their owners, as a cluster scan reads them), or the kinds among them that are
    /// not synced, with the reason.
    pub fn objects(&self, kinds: &HashSet<&str>) -> Result<Vec<Object>, Vec<(String, String)>> {
        self.collect(kinds, |_| true)
    }

    /// [`ClusterCache::objects`] of one namespace: its namespaced objects (none: `default`)
    /// and the Namespace itself; only those are copied.
    pub fn objects_in(
        &self,
        kinds: &HashSet<&str>,
        namespace: &str,
    ) -> Result<Vec<Object>, Vec<(String, String)>> {
        self.collect(kinds, |o| {
            if o.kind == "Namespace" && o.group().is_empty() {
                o.name == namespace
            } else {
                o.namespace.as_deref().unwrap_or("default") == namespace
            }
        })
    }

    fn collect(
        &self,
        kinds: &HashSet<&str>,
        keep: impl Fn(&Object) -> bool,
    ) -> Result<Vec<Object>, Vec<(String, String)>> {
        let mut out = Vec::new();
        self.each_synced(kinds, |st| {
            out.extend(
                st.objects
                    .values()
                    .filter_map(Stored::object)
                    .filter(|o| keep(o)),
            );
        })?;
        // Owned Pods, ReplicaSets and Jobs are judged through their owners, as in a scan.
        let owned = palisade_load::cluster::owned_object_indexes(&out);
        if !owned.is_empty() {
            let mut i = 0;
            out.retain(|_| {
                i += 1;
                !owned.contains(&(i - 1))
            });
        }
        Ok(out)
    }

    /// The cached objects of these kinds as packed compact JSON lines (shared, not copied,
    /// when the cache keeps lines), owned Pods, ReplicaSets and Jobs folded into their owners
    /// as in [`ClusterCache::objects`] (told from what the cache keeps beside each line,
    /// without unpacking it); or the kinds that are not synced.
    pub fn lines(&self, kinds: &HashSet<&str>) -> Result<Vec<PackedLine>, Vec<(String, String)>> {
        type Head = (
            &'static str,
            Option<String>,
            String,
            Option<(String, String)>,
        );
        let mut out: Vec<PackedLine> = Vec::new();
        let mut heads: Vec<Head> = Vec::new();
        self.each_synced_kind(kinds, |kind, st| {
            for ((ns, name), s) in &st.objects {
                out.push(s.line());
                let controller = s.controller().map(|(k, n)| (k.to_owned(), n.to_owned()));
                heads.push((kind, ns.clone(), name.clone(), controller));
            }
        })?;
        let ids: Vec<Identity<'_>> = heads
            .iter()
            .map(|(kind, ns, name, controller)| Identity {
                kind,
                namespace: ns.as_deref().unwrap_or(""),
                name,
                controller: controller.as_ref().map(|(k, n)| (k.as_str(), n.as_str())),
            })
            .collect();
        let owned = palisade_load::cluster::owned_identity_indexes(&ids);
        if !owned.is_empty() {
            let mut i = 0;
            out.retain(|_| {
                i += 1;
                !owned.contains(&(i - 1))
            });
        }
        Ok(out)
    }

    /// Calls `f` with the state of each kind of `kinds` when all of them are synced;
    /// otherwise names those that are not, with the reason.
    fn each_synced(
        &self,
        kinds: &HashSet<&str>,
        mut f: impl FnMut(&KindState),
    ) -> Result<(), Vec<(String, String)>> {
        self.each_synced_kind(kinds, |_, st| f(st))
    }

    /// [`ClusterCache::each_synced`], with each state's kind.
    fn each_synced_kind(
        &self,
        kinds: &HashSet<&str>,
        mut f: impl FnMut(&'static str, &KindState),
    ) -> Result<(), Vec<(String, String)>> {
        let mut missing = Vec::new();
        for kc in self
            .kinds
            .iter()
            .filter(|k| kinds.contains(k.resource.kind))
        {
            let st = kc.read();
            if !st.synced {
                let reason = match &st.error {
                    Some(e) => e.clone(),
                    None => "not listed yet".to_owned(),
                };
                missing.push((kc.resource.kind.to_owned(), reason));
                continue;
            }
            if missing.is_empty() {
                f(kc.resource.kind, &st);
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing)
        }
    }

    /// The client the cache watches with (the same credentials write reports).
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// The state of each kind.
    pub fn status(&self) -> Vec<KindStatus> {
        self.kinds
            .iter()
            .map(|kc| {
                let st = kc.read();
                KindStatus {
                    kind: kc.resource.kind,
                    api_version: kc.resource.api_version,
                    synced: st.synced,
                    objects: st.objects.len(),
                    error: st.error.clone(),
                }
            })
            .collect()
    }

    /// True when every kind has been listed.
    pub fn synced(&self) -> bool {
        self.kinds.iter().all(|k| k.read().synced)
    }

    /// Waits until every kind has been listed, at most `timeout`; returns [`Self::synced`].
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.synced() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

/// Runs one kind's watcher until the task is aborted.
async fn run(client: kube::Client, kc: Arc<KindCache>, ns: Option<String>, page: u32) {
    let r = kc.resource;
    let (group, version) = match r.api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", r.api_version),
    };
    let ar = ApiResource {
        group: group.to_owned(),
        version: version.to_owned(),
        api_version: r.api_version.to_owned(),
        kind: r.kind.to_owned(),
        plural: r.plural.to_owned(),
    };
    let api: Api<DynamicObject> = match &ns {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    };
    let cfg = watcher::Config::default().page_size(page.max(1));
    if r.metadata_only {
        let mut s = watcher::metadata_watcher(api, cfg)
            .default_backoff()
            .boxed();
        while let Some(ev) = s.next().await {
            kc.apply(ev.map(to_value));
        }
    } else {
        let mut s = watcher::watcher(api, cfg).default_backoff().boxed();
        while let Some(ev) = s.next().await {
            kc.apply(ev.map(to_value));
        }
    }
}

fn to_value<K: serde::Serialize>(ev: Event<K>) -> Event<Value> {
    let v = |k: K| serde_json::to_value(k).unwrap_or(Value::Null);
    match ev {
        Event::Apply(k) => Event::Apply(v(k)),
        Event::Delete(k) => Event::Delete(v(k)),
        Event::Init => Event::Init,
        Event::InitApply(k) => Event::InitApply(v(k)),
        Event::InitDone => Event::InitDone,
    }
}

/// Writes PolicyReports and ClusterPolicyReports (`wgpolicyk8s.io/v1alpha2`) with server-side
/// apply, field manager `palisade`.
#[derive(Clone)]
pub struct ReportWriter {
    client: kube::Client,
}

impl std::fmt::Debug for ReportWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReportWriter").finish_non_exhaustive()
    }
}

/// The field manager of Palisade's server-side applies.
pub const FIELD_MANAGER: &str = "palisade";

impl ReportWriter {
    /// A writer with this client.
    pub fn new(client: kube::Client) -> ReportWriter {
        ReportWriter { client }
    }

    fn api(&self, kind: &str, namespace: Option<&str>) -> Api<DynamicObject> {
        let ar = ApiResource {
            group: "wgpolicyk8s.io".into(),
            version: "v1alpha2".into(),
            api_version: "wgpolicyk8s.io/v1alpha2".into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
        };
        match namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        }
    }

    /// Creates or replaces the report (its kind, namespace and name come from the document).
    pub async fn apply(&self, doc: &Value) -> Result<(), String> {
        let s = |p: &str| doc.pointer(p).and_then(Value::as_str);
        let (Some(kind), Some(name)) = (s("/kind"), s("/metadata/name")) else {
            return Err("the report has no kind or name".into());
        };
        let params = kube::api::PatchParams::apply(FIELD_MANAGER).force();
        self.api(kind, s("/metadata/namespace"))
            .patch(name, &params, &kube::api::Patch::Apply(doc))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Deletes a report; one already gone is not an error.
    pub async fn delete(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), String> {
        match self
            .api(kind, namespace)
            .delete(name, &kube::api::DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(e) => Err(e.to_string()),
        }
    }
}
